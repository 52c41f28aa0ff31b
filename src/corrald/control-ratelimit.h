/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A rate limit per user for what the control socket logs about peers
 * (refused connections): at most burst messages per interval for each
 * UID, as journald's RateLimitIntervalSec=/RateLimitBurst= per service;
 * what it holds back is counted and handed out once the interval is over,
 * for one summary line. Pure: the time is an argument. */

#include <stdbool.h>
#include <sys/types.h>

#include "time-util.h"

/* UIDs followed at once; a new one takes the place of the one whose
 * interval began first (its count is handed out then). */
#define CONTROL_RATELIMIT_UIDS 64U

typedef struct ControlRateLimitEntry {
        bool used;
        uid_t uid;
        usec_t begin;        /* of its interval */
        unsigned logged;     /* in this interval */
        unsigned suppressed; /* in this interval */
} ControlRateLimitEntry;

typedef struct ControlRateLimit {
        usec_t interval;
        unsigned burst;
        ControlRateLimitEntry entries[CONTROL_RATELIMIT_UIDS];
} ControlRateLimit;

/* Called with the number of messages held back for uid. */
typedef void (*ControlRateLimitFlush)(uid_t uid, unsigned suppressed, void *userdata);

/* Whether a message about uid may be logged at time now (counted as held
 * back otherwise). An interval of uid that is over, or an entry taken for
 * another UID, first hands its count to flush. */
bool control_ratelimit_test(ControlRateLimit *rl, uid_t uid, usec_t now, ControlRateLimitFlush flush, void *userdata);

/* Hands out the counts of the intervals over by now, and forgets those
 * entries. Returns when the next interval with a count ends, or
 * USEC_INFINITY when there is none. */
usec_t control_ratelimit_flush(ControlRateLimit *rl, usec_t now, ControlRateLimitFlush flush, void *userdata);
