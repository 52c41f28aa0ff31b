/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <time.h>

typedef uint64_t usec_t;

#define USEC_INFINITY ((usec_t) UINT64_MAX)
#define NSEC_PER_USEC ((uint64_t) 1000ULL)
#define USEC_PER_MSEC ((usec_t) 1000ULL)
#define USEC_PER_SEC ((usec_t) 1000000ULL)
#define USEC_PER_MINUTE ((usec_t) (60ULL * USEC_PER_SEC))
#define USEC_PER_HOUR ((usec_t) (60ULL * USEC_PER_MINUTE))
#define USEC_PER_DAY ((usec_t) (24ULL * USEC_PER_HOUR))

/* The current time of clock in microseconds. */
usec_t now(clockid_t clock);

/* Writes a time span like "1min 30s", "250ms" or "0" into buf (at most
 * size bytes, always terminated) and returns buf. */
char *format_timespan(char *buf, size_t size, usec_t t);
#define FORMAT_TIMESPAN_MAX 64
