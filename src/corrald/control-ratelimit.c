/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "control-ratelimit.h"

#include "macro.h"

static void entry_flush(ControlRateLimitEntry *e, ControlRateLimitFlush flush, void *userdata) {
        if (e->used && e->suppressed > 0)
                flush(e->uid, e->suppressed, userdata);
        *e = (ControlRateLimitEntry) {};
}

/* uid's entry, or the one it may take: a free one, else the one whose
 * interval began first. */
static ControlRateLimitEntry *entry_find(ControlRateLimit *rl, uid_t uid) {
        ControlRateLimitEntry *free_one = NULL, *oldest = NULL;

        for (size_t i = 0; i < ELEMENTSOF(rl->entries); i++) {
                ControlRateLimitEntry *e = &rl->entries[i];
                if (e->used && e->uid == uid)
                        return e;
                if (!e->used && !free_one)
                        free_one = e;
                if (e->used && (!oldest || e->begin < oldest->begin))
                        oldest = e;
        }
        return free_one ?: oldest;
}

bool control_ratelimit_test(ControlRateLimit *rl, uid_t uid, usec_t now, ControlRateLimitFlush flush, void *userdata) {
        ControlRateLimitEntry *e = entry_find(rl, uid);

        if (e->used && (e->uid != uid || now - e->begin >= rl->interval))
                entry_flush(e, flush, userdata);
        if (!e->used)
                *e = (ControlRateLimitEntry) { .used = true, .uid = uid, .begin = now };
        if (e->logged < rl->burst) {
                e->logged++;
                return true;
        }
        e->suppressed++;
        return false;
}

usec_t control_ratelimit_flush(ControlRateLimit *rl, usec_t now, ControlRateLimitFlush flush, void *userdata) {
        usec_t next = USEC_INFINITY;

        for (size_t i = 0; i < ELEMENTSOF(rl->entries); i++) {
                ControlRateLimitEntry *e = &rl->entries[i];
                if (!e->used)
                        continue;
                if (now - e->begin >= rl->interval)
                        entry_flush(e, flush, userdata);
                else if (e->suppressed > 0)
                        next = MIN(next, e->begin + rl->interval);
        }
        return next;
}
