/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Requests that wait: start, stop or restart a set of units and be told,
 * unit by unit, when each has reached its goal — started: running (ready
 * by its ready =) or failed; stopped: inactive, its cgroup gone;
 * restarted: down and up again — from the events of the manager's queue,
 * never by polling. A restart of several instances of one service rolls:
 * restart_parallel at a time, each waiting until the restarted instance
 * is ready before the next; if one fails, the roll stops there and the
 * rest keep running. Names as people use them (a service for all its
 * instances, shell globs, everything) are resolved here too, all of them
 * before anything is done. */

#include <stdbool.h>
#include <stddef.h>

#include "manager-event.h"
#include "unit.h"

typedef struct Manager Manager;
typedef struct ManagerRequest ManagerRequest;

typedef enum UnitRequest {
        UNIT_REQUEST_START,
        UNIT_REQUEST_STOP,
        UNIT_REQUEST_RESTART,
        _UNIT_REQUEST_MAX,
        _UNIT_REQUEST_INVALID = -EINVAL,
} UnitRequest;

const char *unit_request_to_string(UnitRequest r);
UnitRequest unit_request_from_string(const char *s);

#define MANAGER_REQUEST_ALL_AT_ONCE (1 << 0) /* no rolling restart */

typedef struct RequestOutcome {
        const char *unit;   /* its name */
        bool ok;            /* the goal was reached */
        usec_t duration;    /* from the request to the goal */
        const char *state;  /* the unit's state at the end */
        const char *reason; /* why not ok (the unit's error, "start-limit", …); NULL when ok */
} RequestOutcome;

/* Called once per unit, as it reaches its goal or fails to, and then once
 * more with o == NULL when every unit is done; never from inside a
 * transition. The request is freed after that last call. */
typedef void (*RequestHandler)(ManagerRequest *req, const RequestOutcome *o, void *userdata);

/* Resolves patterns into units: a unit's name; a service's name, for all
 * its instances; a shell glob (fnmatch) over unit and service names.
 * all: every unit (then patterns must be empty). Every pattern must match
 * at least one unit. Returns 0 with a NULL-terminated, duplicate-free
 * array in *ret (the caller frees the array, not the units), -ENOENT with
 * the first pattern that matches nothing in *ret_bad (borrowed from
 * patterns), -EINVAL when neither patterns nor all, -ENOMEM. */
int manager_resolve_units(Manager *m, char *const *patterns, bool all, Unit ***ret, const char **ret_bad);

/* Whether req may be done to u: -EINVAL (with *ret_why) for a start or
 * restart of a job (a job runs once: submit another), -ENOENT for a unit
 * that is being removed, -ESHUTDOWN while corrald stops, else 0. */
int manager_request_check(Manager *m, Unit *u, UnitRequest req, const char **ret_why);

/* Does req to units (checked with manager_request_check() first: one that
 * may not be done, and nothing is done) and reports through handler (may
 * be NULL: nobody waits). flags: MANAGER_REQUEST_*. Returns 0 with the
 * request in *ret (may be NULL) — valid until its last handler call or
 * manager_request_cancel() — or -errno (then nothing was done; *ret_bad
 * names the unit that could not be, when that was why). */
int manager_request_new(Manager *m, Unit **units, UnitRequest req, unsigned flags, RequestHandler handler,
                        void *userdata, ManagerRequest **ret, const char **ret_bad);

/* Waits, without acting, for units[i] to reach goals[i] as something
 * else brings them there (a reload's starts, stops and rolling restarts):
 * as manager_request_new(), but nothing is checked or dispatched. A
 * restart that nothing carries out any more (a roll that stopped before
 * the unit) ends not ok. Returns 0 with the request in *ret (may be NULL),
 * -ENOMEM. */
int manager_request_observe(Manager *m, Unit **units, const UnitRequest *goals, RequestHandler handler, void *userdata,
                            ManagerRequest **ret);

/* Nobody waits any more (the client left): the handler is not called
 * again. What was asked goes on; a roll continues. */
void manager_request_cancel(ManagerRequest *r);

/* For the manager: looks at every pending request after an event is
 * delivered, and (ev == NULL) once the queue is empty; and frees them all. */
void manager_requests_process(Manager *m, const ManagerEvent *ev);
void manager_requests_free(Manager *m);
