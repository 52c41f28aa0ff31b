/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Pure parsers of configuration values. Each returns 0 and writes *ret on
 * success, or -EINVAL (-ERANGE where the value is out of range) and leaves
 * *ret alone. */

#include <stdbool.h>
#include <sys/types.h>

#include "time-util.h"

/* A time span as systemd writes them: "500ms", "10s", "2min", "1h",
 * "1min 30s", "1.5s"; a number without a unit is seconds. Units: us usec,
 * ms msec, s sec second seconds, m min minute minutes, h hr hour hours,
 * d day days. Leading/trailing blanks are ignored; empty is -EINVAL. */
int parse_timespan(const char *s, usec_t *ret);

/* yes/no, true/false, on/off, 1/0 (case-insensitive). */
int parse_boolean(const char *s, bool *ret);

/* A signal by name ("SIGTERM", "TERM", case-insensitive) or number
 * (1..SIGRTMAX). */
int parse_signal(const char *s, int *ret);

/* "SIGTERM" for 15; "SIGRTMIN+n" for real-time signals; NULL when out of
 * range. The result is static. */
const char *signal_to_string(int sig);

/* An octal file-mode mask ("022", "0027"), at most 0777. */
int parse_mode(const char *s, mode_t *ret);

/* A decimal unsigned integer without sign or blanks. */
int parse_unsigned(const char *s, unsigned *ret);
