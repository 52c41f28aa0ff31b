/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "parse-util.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "macro.h"

static bool char_is_digit(char c) {
        return c >= '0' && c <= '9';
}

static bool char_is_alpha(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static const char *skip_blanks(const char *p) {
        return p + strspn(p, " \t\n\r");
}

/* Units are matched exactly and case-sensitively, as systemd does. */
static int timespan_unit(const char *s, size_t n, usec_t *ret) {
        static const struct {
                const char *suffix;
                usec_t usec;
        } table[] = {
                { "us", 1 },
                { "usec", 1 },
                { "ms", USEC_PER_MSEC },
                { "msec", USEC_PER_MSEC },
                { "s", USEC_PER_SEC },
                { "sec", USEC_PER_SEC },
                { "second", USEC_PER_SEC },
                { "seconds", USEC_PER_SEC },
                { "m", USEC_PER_MINUTE },
                { "min", USEC_PER_MINUTE },
                { "minute", USEC_PER_MINUTE },
                { "minutes", USEC_PER_MINUTE },
                { "h", USEC_PER_HOUR },
                { "hr", USEC_PER_HOUR },
                { "hour", USEC_PER_HOUR },
                { "hours", USEC_PER_HOUR },
                { "d", USEC_PER_DAY },
                { "day", USEC_PER_DAY },
                { "days", USEC_PER_DAY },
        };

        if (n == 0) {
                *ret = USEC_PER_SEC;
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (strlen(table[i].suffix) == n && strneq(table[i].suffix, s, n)) {
                        *ret = table[i].usec;
                        return 0;
                }
        return -EINVAL;
}

/* Reads the decimal digits at *p into *ret. */
static int parse_digits(const char **p, uint64_t *ret) {
        const char *q = *p;
        uint64_t v = 0;

        if (!char_is_digit(*q))
                return -EINVAL;
        for (; char_is_digit(*q); q++) {
                unsigned d = (unsigned) (*q - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
        }
        *p = q;
        *ret = v;
        return 0;
}

/* The fraction digits at frac (n of them) of one unit, rounded down. */
static usec_t timespan_fraction(const char *frac, size_t n, usec_t unit) {
        usec_t r = 0;

        for (size_t i = 0; i < n && unit > 0; i++) {
                unit /= 10;
                r += (usec_t) (frac[i] - '0') * unit;
        }
        return r;
}

/* One "NUMBER[.FRACTION] [UNIT]" at *p, followed by optional blanks. */
static int parse_timespan_component(const char **p, usec_t *ret) {
        const char *q = *p, *frac = NULL, *unit_start;
        size_t n_frac = 0;
        uint64_t whole;
        usec_t unit, v;
        int r;

        r = parse_digits(&q, &whole);
        if (r < 0)
                return r;
        if (*q == '.') {
                frac = ++q;
                n_frac = strspn(q, "0123456789");
                if (n_frac == 0)
                        return -EINVAL;
                q += n_frac;
        }

        q = skip_blanks(q);
        for (unit_start = q; char_is_alpha(*q); q++)
                ;
        r = timespan_unit(unit_start, (size_t) (q - unit_start), &unit);
        if (r < 0)
                return r;

        if (whole > UINT64_MAX / unit)
                return -ERANGE;
        v = whole * unit;
        if (frac) {
                usec_t f = timespan_fraction(frac, n_frac, unit);
                if (v > UINT64_MAX - f)
                        return -ERANGE;
                v += f;
        }

        *p = skip_blanks(q);
        *ret = v;
        return 0;
}

int parse_timespan(const char *s, usec_t *ret) {
        const char *p = skip_blanks(s);
        usec_t sum = 0;
        int r;

        if (*p == '\0')
                return -EINVAL;

        while (*p) {
                usec_t v;

                r = parse_timespan_component(&p, &v);
                if (r < 0)
                        return r;
                if (sum > UINT64_MAX - v)
                        return -ERANGE;
                sum += v;
        }
        if (sum == USEC_INFINITY)
                return -ERANGE;

        *ret = sum;
        return 0;
}

int parse_boolean(const char *s, bool *ret) {
        static const char *const yes[] = { "yes", "true", "on", "1" };
        static const char *const no[] = { "no", "false", "off", "0" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(s, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
                if (strcasecmp(s, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        }
        return -EINVAL;
}

/* The "+n" or "-n" after "RTMIN" or "RTMAX" (none: 0), at most the number
 * of real-time signals. */
static int parse_signal_offset(const char *s, char sign, unsigned *ret) {
        unsigned n = 0;
        int r;

        if (*s != '\0') {
                if (*s != sign)
                        return -EINVAL;
                r = parse_unsigned(s + 1, &n);
                if (r < 0)
                        return r;
        }
        if (n > (unsigned) (SIGRTMAX - SIGRTMIN))
                return -ERANGE;
        *ret = n;
        return 0;
}

/* "RTMIN", "RTMIN+n", "RTMAX", "RTMAX-n", already without "SIG". */
static int parse_signal_realtime(const char *s, int *ret) {
        bool min = strncasecmp(s, "RTMIN", 5) == 0;
        unsigned n;
        int r;

        if (!min && strncasecmp(s, "RTMAX", 5) != 0)
                return -EINVAL;
        r = parse_signal_offset(s + 5, min ? '+' : '-', &n);
        if (r < 0)
                return r;
        *ret = min ? SIGRTMIN + (int) n : SIGRTMAX - (int) n;
        return 0;
}

static int parse_signal_name(const char *s, int *ret) {
        if (strncasecmp(s, "SIG", 3) == 0)
                s += 3;
        if (*s == '\0')
                return -EINVAL;

        for (int sig = 1; sig < _NSIG; sig++) {
                const char *abbrev = sigabbrev_np(sig);

                if (abbrev && strcasecmp(s, abbrev) == 0) {
                        *ret = sig;
                        return 0;
                }
        }
        return parse_signal_realtime(s, ret);
}

int parse_signal(const char *s, int *ret) {
        unsigned u;
        int r;

        if (!char_is_digit(*s))
                return parse_signal_name(s, ret);

        r = parse_unsigned(s, &u);
        if (r < 0)
                return r;
        if (u < 1 || u > (unsigned) SIGRTMAX)
                return -ERANGE;
        *ret = (int) u;
        return 0;
}

const char *signal_to_string(int sig) {
        static char names[_NSIG][sizeof("SIGRTMIN+") + 11];
        const char *abbrev;

        if (sig <= 0 || sig > SIGRTMAX || sig >= _NSIG)
                return NULL;
        if (names[sig][0] != '\0')
                return names[sig];

        abbrev = sigabbrev_np(sig);
        if (abbrev)
                snprintf(names[sig], sizeof(names[sig]), "SIG%s", abbrev);
        else if (sig == SIGRTMIN)
                snprintf(names[sig], sizeof(names[sig]), "SIGRTMIN");
        else if (sig > SIGRTMIN)
                snprintf(names[sig], sizeof(names[sig]), "SIGRTMIN+%d", sig - SIGRTMIN);
        else
                return NULL; /* reserved by the C library (32, 33 with glibc) */
        return names[sig];
}

int parse_mode(const char *s, mode_t *ret) {
        size_t n = strlen(s);
        mode_t m = 0;

        if (n == 0 || strspn(s, "01234567") != n)
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                m = m * 8 + (mode_t) (*p - '0');
                if (m > 0777)
                        return -ERANGE;
        }
        *ret = m;
        return 0;
}

int parse_unsigned(const char *s, unsigned *ret) {
        return safe_atou(s, ret);
}

/* The value of digit c in base, or -EINVAL. */
static int digit_value(char c, unsigned base) {
        unsigned d;

        if (c >= '0' && c <= '9')
                d = (unsigned) (c - '0');
        else if (c >= 'a' && c <= 'f')
                d = (unsigned) (c - 'a') + 10;
        else if (c >= 'A' && c <= 'F')
                d = (unsigned) (c - 'A') + 10;
        else
                return -EINVAL;
        return d < base ? (int) d : -EINVAL;
}

int safe_atou64_n(const char *s, size_t n, unsigned base, uint64_t *ret) {
        uint64_t v = 0;

        if (!s || n == 0 || (base != 8 && base != 10 && base != 16))
                return -EINVAL;
        /* Every byte a digit first, so that junk is -EINVAL even after an overflow. */
        for (size_t i = 0; i < n; i++)
                if (digit_value(s[i], base) < 0)
                        return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                unsigned d = (unsigned) digit_value(s[i], base);

                if (v > (UINT64_MAX - d) / base)
                        return -ERANGE;
                v = v * base + d;
        }
        *ret = v;
        return 0;
}

int safe_atou64_full(const char *s, unsigned base, uint64_t *ret) {
        if (!s)
                return -EINVAL;
        return safe_atou64_n(s, strlen(s), base, ret);
}

int safe_atou64(const char *s, uint64_t *ret) {
        return safe_atou64_full(s, 10, ret);
}

/* safe_atou64() with an upper bound: -ERANGE above max. */
static int safe_atou64_max(const char *s, uint64_t max, uint64_t *ret) {
        uint64_t v;
        int r;

        r = safe_atou64(s, &v);
        if (r < 0)
                return r;
        if (v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

int safe_atou(const char *s, unsigned *ret) {
        uint64_t v;
        int r;

        r = safe_atou64_max(s, UINT_MAX, &v);
        if (r < 0)
                return r;
        *ret = (unsigned) v;
        return 0;
}

int safe_atou16(const char *s, uint16_t *ret) {
        uint64_t v;
        int r;

        r = safe_atou64_max(s, UINT16_MAX, &v);
        if (r < 0)
                return r;
        *ret = (uint16_t) v;
        return 0;
}
