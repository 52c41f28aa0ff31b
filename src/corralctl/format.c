/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "format.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define US_MSEC UINT64_C(1000)
#define US_SEC (1000 * US_MSEC)
#define US_MIN (60 * US_SEC)
#define US_HOUR (60 * US_MIN)
#define US_DAY (24 * US_HOUR)

/* usec rounded to the nearest multiple of unit, without overflow. */
static uint64_t round_to(uint64_t usec, uint64_t unit) {
        uint64_t q = usec / unit;
        return usec % unit >= unit / 2 ? q + 1 : q;
}

/* Two units, big and small (small divides big): "1min 0s". Returns
 * whether the rounded value still fits below limit of bigs. */
static int two_units(char *buf, size_t size, uint64_t usec, uint64_t big, const char *big_name, uint64_t small,
                     const char *small_name, uint64_t limit) {
        uint64_t n = round_to(usec, small), per = big / small;

        if (n / per >= limit)
                return 0;
        snprintf(buf, size, "%" PRIu64 "%s %" PRIu64 "%s", n / per, big_name, n % per, small_name);
        return 1;
}

/* "34.6s", "5s": tenths of a second, the ".0" left out. */
static void tenths(char *buf, size_t size, uint64_t n) {
        if (n % 10 == 0)
                snprintf(buf, size, "%" PRIu64 "s", n / 10);
        else
                snprintf(buf, size, "%" PRIu64 ".%" PRIu64 "s", n / 10, n % 10);
}

char *format_duration(char *buf, size_t size, uint64_t usec) {
        uint64_t n;

        /* Each step rounds to its precision; a value that rounds up to
         * the next unit ("59.96s") goes on to the next step ("1min 0s"). */
        if (usec == UINT64_MAX || usec == 0)
                snprintf(buf, size, usec == 0 ? "0" : "-");
        else if (usec < US_MSEC)
                snprintf(buf, size, "%" PRIu64 "us", usec);
        else if (usec < US_SEC && (n = round_to(usec, US_MSEC)) < 1000)
                snprintf(buf, size, "%" PRIu64 "ms", n);
        else if (usec < US_MIN && (n = round_to(usec, US_SEC / 10)) < 600)
                tenths(buf, size, n);
        else if (!(usec < US_HOUR && two_units(buf, size, usec, US_MIN, "min", US_SEC, "s", 60)) &&
                 !(usec < US_DAY && two_units(buf, size, usec, US_HOUR, "h", US_MIN, "min", 24)))
                two_units(buf, size, usec, US_DAY, "d", US_HOUR, "h", UINT64_MAX);
        return buf;
}

char *format_bytes(char *buf, size_t size, uint64_t bytes) {
        static const char suffixes[] = "KMGTPE";
        double v = (double) bytes;
        size_t i = 0;

        if (bytes == UINT64_MAX)
                snprintf(buf, size, "-");
        else if (bytes < 1024)
                snprintf(buf, size, "%" PRIu64 "B", bytes);
        else {
                for (v /= 1024; v >= 1024 && i + 1 < strlen(suffixes); i++)
                        v /= 1024;
                snprintf(buf, size, "%.1f%c", v, suffixes[i]);
        }
        return buf;
}

char *format_time_of_day(char *buf, size_t size, uint64_t usec) {
        time_t sec = (time_t) (usec / US_SEC);
        struct tm tm;

        if (usec == UINT64_MAX || usec == 0 || !localtime_r(&sec, &tm) ||
            strftime(buf, size, "%a %Y-%m-%d %H:%M:%S %Z", &tm) == 0)
                snprintf(buf, size, "-");
        return buf;
}

char *format_cpu_percent(char *buf, size_t size, uint64_t cpu_before, uint64_t cpu_after, uint64_t wall_usec) {
        if (cpu_before == UINT64_MAX || cpu_after == UINT64_MAX || wall_usec == 0 || cpu_after < cpu_before)
                snprintf(buf, size, "-");
        else
                snprintf(buf, size, "%.1f%%", 100.0 * (double) (cpu_after - cpu_before) / (double) wall_usec);
        return buf;
}
