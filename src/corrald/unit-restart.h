/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The restart policy as pure functions: whether to restart, how long to
 * wait, and the start limit. No unit, no clock read, no randomness of
 * their own: callers pass the time and the random number, so that tests
 * can table them. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "time-util.h"

/* Restart delays vary by up to this many percent either way. */
#define RESTART_JITTER_PERCENT 10

/* Whether policy p restarts a unit that ended with success (or not). */
bool restart_policy_wants(RestartPolicy p, bool success);

/* The delay before restart number step+1: base doubled step times,
 * capped at max (max < base counts as base), varied by
 * ±RESTART_JITTER_PERCENT with rnd and kept within [base, max]. */
usec_t restart_delay(usec_t base, usec_t max, unsigned step, uint64_t rnd);

/* Records a start at t in the ring times[burst] holding *n entries,
 * dropping the oldest when full. */
void start_limit_record(usec_t *times, size_t *n, size_t burst, usec_t t);

/* Whether the burst-th last start (of the n recorded) lies within
 * interval of t: the start limit is hit. */
bool start_limit_hit(const usec_t *times, size_t n, size_t burst, usec_t interval, usec_t t);
