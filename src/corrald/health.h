/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* HTTP health checks on libcurl's multi interface, driven by sd-event
 * (CURLMOPT_SOCKETFUNCTION / CURLMOPT_TIMERFUNCTION /
 * curl_multi_socket_action): many checks in flight from the one thread,
 * no polling. This module runs single checks; when to check and what a
 * run of failures means is the unit's business. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "macro.h"
#include "time-util.h"

/* The most of a response body that is read (and thrown away); a larger
 * body fails the check. */
#define HEALTH_BODY_MAX (64U * 1024U)

/* Accepted HTTP status codes: a bitset of 100..599. */
typedef struct HealthStatusSet {
        uint64_t bits[10];
} HealthStatusSet;

/* "200-299" (the default), "200 204 301-302": ranges and single codes
 * separated by blanks or commas, each within 100..599. Returns 0 or
 * -EINVAL. Pure. */
int health_status_parse(const char *s, HealthStatusSet *ret);
bool health_status_contains(const HealthStatusSet *set, long code);

typedef struct HealthResult {
        bool ok;           /* status accepted and body within bounds */
        long http_status;  /* 0 when no response */
        usec_t latency;    /* from the start of the check to its end */
        const char *error; /* why it failed (static or curl's message; valid during the callback) */
} HealthResult;

typedef void (*HealthHandler)(const HealthResult *result, void *userdata);

typedef struct HealthChecker HealthChecker;
typedef struct HealthCheck HealthCheck;

/* One per corrald: the curl multi handle on event. Returns 0 or -errno. */
int health_checker_new(sd_event *event, HealthChecker **ret);

/* Cancels every check in flight (their handlers are not called). Accepts
 * NULL; returns NULL. */
HealthChecker *health_checker_free(HealthChecker *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(HealthChecker *, health_checker_free);

/* Why health checks cannot run (libcurl could not be loaded: the
 * dlerror() text), or NULL when they can. Loads libcurl if needed. */
const char *health_unavailable_reason(void);

/* Starts one GET of url (http or https; redirects are not followed; the
 * connection is reused where it can be), which ends within timeout. The
 * handler is called exactly once, from the event loop, unless the check is
 * cancelled first. Returns 0 with a handle in *ret (owned by the checker;
 * valid until the handler runs or health_check_cancel()), -EINVAL for a
 * bad URL, -EOPNOTSUPP when libcurl cannot be loaded (libcurl is mapped
 * by the first check: see health_unavailable_reason()), -ENOMEM. */
int health_check_start(HealthChecker *h, const char *url, usec_t timeout, const HealthStatusSet *accept,
                       HealthHandler handler, void *userdata, HealthCheck **ret);

/* As health_check_start(), but the check starts at when (CLOCK_MONOTONIC)
 * or up to accuracy later: the checks that fall due together start in one
 * wake-up, from one timer for all. The URL is checked now; a check that
 * cannot start when due (no memory) ends then with a failed result.
 * health_check_cancel() cancels it while it waits too. */
int health_check_start_at(HealthChecker *h, usec_t when, usec_t accuracy, const char *url, usec_t timeout,
                          const HealthStatusSet *accept, HealthHandler handler, void *userdata, HealthCheck **ret);

/* Cancels a check in flight cleanly; its handler is not called. */
void health_check_cancel(HealthCheck *c);

/* How many checks are in flight, not counting those that wait for their
 * time (for tests and status). */
unsigned health_checker_in_flight(const HealthChecker *h);
