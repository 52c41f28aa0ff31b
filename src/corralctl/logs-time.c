/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The time of corralctl logs --since (a pure function of the string and
 * the present; tested in tests/test-output.c). */
#include "logs.h"

#include <string.h>
#include <time.h>

#include "macro.h"
#include "parse-util.h"

/* Local midnight of the day of t, days_back days earlier. */
static int midnight(uint64_t now_usec, int days_back, uint64_t *ret) {
        time_t t = (time_t) (now_usec / USEC_PER_SEC);
        struct tm tm;
        time_t m;

        if (!localtime_r(&t, &tm))
                return -EINVAL;
        tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
        tm.tm_mday -= days_back;
        tm.tm_isdst = -1;
        m = mktime(&tm);
        if (m < 0)
                return -EINVAL;
        *ret = (uint64_t) m * USEC_PER_SEC;
        return 0;
}

/* "-SPAN" or "SPAN ago". */
static int parse_ago(const char *s, uint64_t now_usec, uint64_t *ret) {
        _cleanup_free_ char *span = NULL;
        size_t n = strlen(s);
        usec_t u;

        if (s[0] == '-')
                span = strdup(s + 1);
        else if (n > 4 && streq(s + n - 4, " ago"))
                span = strndup(s, n - 4);
        else
                return -EINVAL;
        if (!span || parse_timespan(span, &u) < 0)
                return -EINVAL;
        *ret = u >= now_usec ? 0 : now_usec - u;
        return 0;
}

/* "@SECONDS[.FRACTION]". */
static int parse_epoch(const char *s, uint64_t *ret) {
        usec_t u;

        if (s[0] != '@' || s[1] < '0' || s[1] > '9' || parse_timespan(s + 1, &u) < 0 || strpbrk(s + 1, " \t"))
                return -EINVAL;
        for (const char *p = s + 1; *p; p++)
                if ((*p < '0' || *p > '9') && *p != '.')
                        return -EINVAL;
        *ret = u;
        return 0;
}

/* A calendar time in one of formats; a trailing 'Z' means UTC. */
static int parse_calendar(const char *s, uint64_t now_usec, uint64_t *ret) {
        static const char *const dated[] = { "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M",
                                             "%Y-%m-%dT%H:%M", "%Y-%m-%d" };
        static const char *const timed[] = { "%H:%M:%S", "%H:%M" };
        _cleanup_free_ char *copy = strdup(s);
        size_t n = copy ? strlen(copy) : 0;
        bool utc = n > 0 && copy[n - 1] == 'Z';
        time_t t = (time_t) (now_usec / USEC_PER_SEC);
        struct tm tm;

        if (!copy)
                return -ENOMEM;
        if (utc)
                copy[n - 1] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(dated) + ELEMENTSOF(timed); i++) {
                bool has_date = i < ELEMENTSOF(dated);
                const char *fmt = has_date ? dated[i] : timed[i - ELEMENTSOF(dated)];
                const char *end;

                if (!(utc ? gmtime_r(&t, &tm) : localtime_r(&t, &tm)))
                        return -EINVAL;
                tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
                end = strptime(copy, fmt, &tm);
                if (!end || *end)
                        continue;
                tm.tm_isdst = -1;
                time_t m = utc ? timegm(&tm) : mktime(&tm);
                if (m < 0)
                        return -EINVAL;
                *ret = (uint64_t) m * USEC_PER_SEC;
                return 0;
        }
        return -EINVAL;
}

int parse_since(const char *s, uint64_t now_usec, uint64_t *ret) {
        if (!s || !*s)
                return -EINVAL;
        if (streq(s, "now")) {
                *ret = now_usec;
                return 0;
        }
        if (streq(s, "today"))
                return midnight(now_usec, 0, ret);
        if (streq(s, "yesterday"))
                return midnight(now_usec, 1, ret);
        if (s[0] == '@')
                return parse_epoch(s, ret);
        if (s[0] == '-' || strstr(s, " ago"))
                return parse_ago(s, now_usec, ret);
        return parse_calendar(s, now_usec, ret);
}
