/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "time-util.h"

#include <stdio.h>

#include "macro.h"

usec_t now(clockid_t clock) {
        struct timespec ts;

        if (clock_gettime(clock, &ts) < 0)
                abort(); /* only with a bad clock id: a programming error */
        return (usec_t) ts.tv_sec * USEC_PER_SEC + (usec_t) ts.tv_nsec / NSEC_PER_USEC;
}

char *format_timespan(char *buf, size_t size, usec_t t) {
        static const struct {
                const char *suffix;
                usec_t usec;
        } table[] = {
                { "d", USEC_PER_DAY }, { "h", USEC_PER_HOUR },  { "min", USEC_PER_MINUTE },
                { "s", USEC_PER_SEC }, { "ms", USEC_PER_MSEC }, { "us", 1 },
        };
        size_t n = 0;

        if (size == 0)
                return buf;
        buf[0] = '\0';
        if (t == USEC_INFINITY) {
                snprintf(buf, size, "infinity");
                return buf;
        }
        if (t == 0) {
                snprintf(buf, size, "0");
                return buf;
        }
        for (size_t i = 0; i < ELEMENTSOF(table) && t > 0 && n < size; i++) {
                usec_t k = t / table[i].usec;
                if (k == 0)
                        continue;
                int w = snprintf(buf + n, size - n, "%s%llu%s", n > 0 ? " " : "", (unsigned long long) k,
                                 table[i].suffix);
                if (w < 0)
                        break;
                n += (size_t) w;
                t -= k * table[i].usec;
        }
        return buf;
}
