/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "unit-restart.h"

#include <string.h>

bool restart_policy_wants(RestartPolicy p, bool success) {
        switch (p) {
        case RESTART_ALWAYS:
                return true;
        case RESTART_ON_FAILURE:
                return !success;
        default:
                return false;
        }
}

usec_t restart_delay(usec_t base, usec_t max, unsigned step, uint64_t rnd) {
        usec_t d = base, hi = MAX(max, base);

        for (unsigned i = 0; i < step && d < hi; i++)
                d = d > hi / 2 ? hi : d * 2;
        d = MIN(d, hi);
        if (d > 0) {
                usec_t band = d * RESTART_JITTER_PERCENT / 100;
                if (band > 0)
                        d = d - band + rnd % (2 * band + 1);
        }
        return MIN(MAX(d, base), hi);
}

void start_limit_record(usec_t *times, size_t *n, size_t burst, usec_t t) {
        if (!times || burst == 0)
                return;
        if (*n >= burst) {
                memmove(times, times + 1, (burst - 1) * sizeof(usec_t));
                *n = burst - 1;
        }
        times[(*n)++] = t;
}

bool start_limit_hit(const usec_t *times, size_t n, size_t burst, usec_t interval, usec_t t) {
        return times && burst > 0 && n >= burst && t - times[n - burst] < interval;
}
