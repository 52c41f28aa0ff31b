/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Ordering between units (after =, requires =): the manager's side of the
 * pure graph of deps.h. A start that the manager asks for (start-up, a
 * reload, a request) is held back while what the unit depends on is on its
 * way — the unit stays inactive, "waiting for db (starting)" in its
 * status — and refused when a unit it requires failed, is inactive or
 * stopping ("not started: requires migrate, which failed (exit-code)",
 * logged and kept as its error). A started unit whose required unit
 * fails for good or is stopped is stopped. A stop waits for the
 * dependents that stop too: a shutdown stops the stack from its top down.
 * Restarts by policy (after a crash) and restarts asked for are not held
 * back.
 *
 * Nothing of this runs inside a transition: a unit's state change arms a
 * deferred event source that looks at the waiting units once the
 * transition is complete. A configuration without dependencies builds no
 * graph and arms nothing: every start goes straight to its unit, as
 * before. */

#include <stdbool.h>

#include "deps.h"

typedef struct Manager Manager;
typedef struct Unit Unit;
typedef struct Config Config;

/* Creates the deferred event source. Returns 0 or -errno. */
int manager_deps_setup(Manager *m);

/* Frees the graph and the event source. */
void manager_deps_done(Manager *m);

/* Builds the graph of config's services (validated: no unknown name, no
 * cycle), replaces the manager's and gives every unit its place in it.
 * Returns 0, or -errno (the old graph then stays). */
int manager_deps_load(Manager *m, const Config *config);

/* Gives u its place in the graph (a unit just added). */
void manager_deps_add_unit(Manager *m, Unit *u);

/* A start asked for (the failure counters are the caller's business): at
 * once for a unit without dependencies or one already on its way; held
 * back until its dependencies are ready otherwise. */
void manager_deps_start(Manager *m, Unit *u);

/* A stop asked for: u, and with with_requirers every unit that requires
 * it (directly or through others), each once the dependents that stop too
 * have stopped — at once for a unit nothing depends on, otherwise from a
 * deferred pass, so that the stops of one request (several units) are
 * ordered together. A held back start of theirs is forgotten. */
void manager_deps_stop(Manager *m, Unit *u, bool with_requirers);

/* Stops every unit, dependents first (the shutdown). */
void manager_deps_stop_all(Manager *m);

/* How many units the longest chain of dependencies holds (1 without any):
 * how many stop timeouts a shutdown may take one after the other. */
size_t manager_deps_stop_rounds(const Manager *m);

/* After a unit's state change (from the unit's state_changed callback,
 * inside the transition): schedules a look at the held back starts and
 * stops, delivered once the transition is complete. */
void manager_deps_unit_changed(Manager *m, Unit *u);
