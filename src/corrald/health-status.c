/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The accepted HTTP status codes of a health check (health.h). */
#include <errno.h>
#include <string.h>

#include "health.h"

#define HEALTH_STATUS_MIN 100
#define HEALTH_STATUS_MAX 599

static void status_set_add_range(HealthStatusSet *set, unsigned lo, unsigned hi) {
        for (unsigned code = lo; code <= hi; code++) {
                unsigned i = code - HEALTH_STATUS_MIN;

                set->bits[i / 64] |= UINT64_C(1) << (i % 64);
        }
}

/* Exactly three digits, 100..599. Returns the number of characters read. */
static int parse_status_code(const char *s, unsigned *ret) {
        unsigned code = 0;

        for (size_t i = 0; i < 3; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                code = code * 10 + (unsigned) (s[i] - '0');
        }
        if (code < HEALTH_STATUS_MIN || code > HEALTH_STATUS_MAX)
                return -EINVAL;
        *ret = code;
        return 3;
}

/* One "200" or "200-299" token at s, ending at a separator or the end.
 * Returns the number of characters read. */
static int parse_status_token(const char *s, HealthStatusSet *set) {
        unsigned lo, hi;
        int n, m;

        n = parse_status_code(s, &lo);
        if (n < 0)
                return n;
        hi = lo;
        if (s[n] == '-') {
                m = parse_status_code(s + n + 1, &hi);
                if (m < 0 || hi < lo)
                        return -EINVAL;
                n += 1 + m;
        }
        if (s[n] != '\0' && !strchr(" \t,", s[n]))
                return -EINVAL;
        status_set_add_range(set, lo, hi);
        return n;
}

int health_status_parse(const char *s, HealthStatusSet *ret) {
        HealthStatusSet set = {};
        bool any = false;

        if (!s || !ret)
                return -EINVAL;
        for (;;) {
                int n;

                s += strspn(s, " \t,");
                if (*s == '\0')
                        break;
                n = parse_status_token(s, &set);
                if (n < 0)
                        return n;
                s += n;
                any = true;
        }
        if (!any)
                return -EINVAL;
        *ret = set;
        return 0;
}

bool health_status_contains(const HealthStatusSet *set, long code) {
        unsigned i;

        if (!set || code < HEALTH_STATUS_MIN || code > HEALTH_STATUS_MAX)
                return false;
        i = (unsigned) (code - HEALTH_STATUS_MIN);
        return set->bits[i / 64] & (UINT64_C(1) << (i % 64));
}
