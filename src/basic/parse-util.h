/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Pure parsers of configuration values. Each returns 0 and writes *ret on
 * success, or -EINVAL (-ERANGE where the value is out of range) and leaves
 * *ret alone. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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

/* A decimal unsigned integer without sign or blanks: safe_atou() under its
 * older name. */
int parse_unsigned(const char *s, unsigned *ret);

/* Checked unsigned integers: the one parser for them (no strtoul() and its
 * leading blanks, signs, "0x" prefixes and silent wrap-around).
 *
 * The text is digits of the base and nothing else: no blanks before or
 * after, no sign, no prefix ("0x", "0"), no empty string. Base is 10, 16
 * (digits 0-9, a-f, A-F) or 8; leading zeros are fine ("007"). Returns 0
 * and writes *ret; -EINVAL when the text is not such a number (or s is
 * NULL, or base is another one); -ERANGE when it is one but does not fit
 * the type. *ret is left alone on failure. A text that is both too long
 * and not a number ("99999999999999999999x") is -EINVAL. */

/* The n bytes at s (which need no NUL and are not read beyond n): a field
 * inside a buffer, like the start time in /proc/PID/stat or a "key=value"
 * of persisted state, parsed without copying it out. n == 0 is -EINVAL. */
int safe_atou64_n(const char *s, size_t n, unsigned base, uint64_t *ret);

/* The NUL-terminated string s in base. */
int safe_atou64_full(const char *s, unsigned base, uint64_t *ret);

/* Decimal, into a uint64_t, an unsigned or a uint16_t (ports). */
int safe_atou64(const char *s, uint64_t *ret);
int safe_atou(const char *s, unsigned *ret);
int safe_atou16(const char *s, uint16_t *ret);
