/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* corralctl logs: the last lines units wrote, from corrald's buffers and,
 * for units whose output goes to the journal, from the journal. */

#include <stdint.h>

#include "corral/corral.h"
#include "verbs.h"

/* The time of --since: "now", "today", "yesterday", "@SECONDS",
 * "YYYY-MM-DD[ HH:MM[:SS]]" (also with 'T'; local time, or UTC with a
 * trailing 'Z'), "HH:MM[:SS]" (today), or a time span back from now
 * ("-5min", "1h ago", "90s ago"). now_usec is the present (CLOCK_REALTIME,
 * µs). Returns 0 with the time in *ret, or -EINVAL. */
int parse_since(const char *s, uint64_t now_usec, uint64_t *ret);

int verb_logs(corral *c, const Args *a);

/* Prints lines as logs does (on a terminal with colour), the unit column as
 * wide as the widest name among them. */
void logs_print(const corral_logs *logs);
