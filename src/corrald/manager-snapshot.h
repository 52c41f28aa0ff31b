/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What a reload changed, to wait for it: the units and their
 * configurations taken before (manager_snapshot_take()), compared after
 * (manager_snapshot_wait()) into a request that watches the reload's own
 * starts, stops and rolling restarts, unit by unit, until they are done. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "manager-request.h"

typedef struct SnapshotUnit {
        Unit *unit;
        uint64_t hash; /* service_config_hash() of its configuration; 0 without one */
        bool active;
        bool removed;
} SnapshotUnit;

typedef struct ManagerSnapshot {
        SnapshotUnit *items;
        size_t n;
} ManagerSnapshot;

/* Records every unit but jobs. Returns 0 or -ENOMEM; empty it with
 * manager_snapshot_done(). Valid only within the same pass of the event
 * loop (units are freed by a deferred clean-up). */
int manager_snapshot_take(Manager *m, ManagerSnapshot *ret);
void manager_snapshot_done(ManagerSnapshot *s);

/* The goals since before: a new unit that starts by itself (autostart) is
 * to be running, a newly removed one stopped, a changed one that ran
 * restarted (a changed one that did not, and starts by itself, running);
 * the others are not waited for. Makes a request that watches them
 * (manager_request_observe()), reporting through handler. Returns 0 with
 * the request in *ret, -ENOMEM. */
int manager_snapshot_wait(Manager *m, const ManagerSnapshot *before, RequestHandler handler, void *userdata,
                          ManagerRequest **ret);
