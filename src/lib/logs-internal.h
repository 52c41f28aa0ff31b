/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What logs.c and journal-logs.c share (nothing here is exported). */

#include <jansson.h>

#include "corral/corral.h"

/* A line from a line object of docs/PROTOCOL.md ({"unit", "stream",
 * "timestamp_usec", "text", …}; a reference is taken). Returns 0, -EBADMSG
 * when "unit" or "text" is not a string, -ENOMEM. */
int log_line_new(json_t *obj, corral_log_line **ret);

/* An empty list. Returns 0 or -ENOMEM. */
int logs_new(corral_logs **ret);

/* Appends line (taken in any case). Returns 0 or -ENOMEM. */
int logs_append(corral_logs *l, corral_log_line *line);

/* Reverses the order of the lines. */
void logs_reverse(corral_logs *l);
