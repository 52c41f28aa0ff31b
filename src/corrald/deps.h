/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Dependencies between units (after =, requires =), pure: the graph is
 * built from the services' names, instance counts and dependency names;
 * it knows no Unit, no config and no clock. The manager asks it, with the
 * state of every unit, which waiting units may start now, which must not
 * start (or must stop) because a unit they require failed or was stopped,
 * and whether a unit that is to stop must wait for its dependents.
 *
 * Units are numbered in the order of the services given, each service's
 * instances in order: a service without instances is one unit named like
 * it, one with N instances is NAME@0 … NAME@N-1. A dependency names a
 * service (every one of its units) or one instance ("db@0").
 *
 * Semantics, as systemd's After=/Requires= where corral has the same
 * notion (systemd.unit(5)):
 *   - after: a unit that is to start waits while a unit it is after is on
 *     its way (waiting itself, or starting); one that is ready, inactive or
 *     failed does not hold it. Stopping goes the other way: of two units
 *     that are both to stop, the one that is after the other stops first.
 *   - requires: the same ordering, and the required unit must be ready: a
 *     unit waiting for one that is inactive (not started, or stopped),
 *     failed or stopping is not started (blocked); a started one is
 *     stopped. A unit that is blocked counts as not started for its own
 *     dependents, so a chain is blocked at once.
 *   - a oneshot unit is ready once it has exited successfully (the
 *     manager says DEP_UNIT_READY for it). */

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

typedef struct DepGraph DepGraph;

typedef enum DepKind {
        DEP_AFTER,
        DEP_REQUIRES,
        _DEP_KIND_MAX,
        _DEP_KIND_INVALID = -EINVAL,
} DepKind;

/* What the graph is built from: one service. */
typedef struct DepServiceSpec {
        const char *name;      /* NAME */
        unsigned instances;    /* 0: one unit named NAME; N: NAME@0 … NAME@N-1 */
        char *const *after;    /* names of services or units; may be NULL */
        char *const *requires; /* likewise */
} DepServiceSpec;

/* Why a graph could not be built. */
typedef struct DepError {
        size_t service; /* the index (in the specs) of the service whose key is wrong */
        DepKind kind;   /* which key: after or requires (for -ENOENT) */
        char *name;     /* -ENOENT: the name that is neither a service nor an instance */
        char *cycle;    /* -ELOOP: the cycle written out, "a → b → c → a" (unit names) */
} DepError;

/* Frees what *e holds (not e itself). */
void dep_error_done(DepError *e);

/* Builds the graph of n services. Returns 0 with a new graph in *ret;
 * -ENOENT for a dependency that names nothing (*ret_error: service, kind,
 * name); -ELOOP for a cycle (*ret_error: service = the service of a unit
 * on the cycle, cycle = its text); -EINVAL for a service name that is
 * given twice or invalid in a unit name; -ENOMEM. ret_error may be NULL;
 * the caller frees it with dep_error_done(). */
int dep_graph_new(const DepServiceSpec *services, size_t n, DepGraph **ret, DepError *ret_error);

/* Frees the graph; accepts NULL; returns NULL. */
DepGraph *dep_graph_free(DepGraph *g);
DEFINE_TRIVIAL_CLEANUP_FUNC(DepGraph *, dep_graph_free);

size_t dep_graph_n_units(const DepGraph *g);

/* The name of unit i (owned by the graph). */
const char *dep_graph_unit_name(const DepGraph *g, size_t unit);

/* Finds a unit by name. Returns 0 with its index in *ret, or -ENOENT. */
int dep_graph_find_unit(const DepGraph *g, const char *name, size_t *ret);

/* Whether unit has dependencies of its own (it may then have to wait). */
bool dep_graph_has_dependencies(const DepGraph *g, size_t unit);

/* Whether some unit depends on unit (its stop may then have to wait). */
bool dep_graph_has_dependents(const DepGraph *g, size_t unit);

/* What the manager tells the graph of a unit. */
typedef enum DepUnitState {
        DEP_UNIT_IDLE,     /* inactive, and not to start */
        DEP_UNIT_WAITING,  /* to start, once its dependencies allow */
        DEP_UNIT_STARTING, /* on its way to ready: starting, or between a crash and its restart */
        DEP_UNIT_READY,    /* running and ready; a oneshot that exited successfully */
        DEP_UNIT_FAILED,   /* failed to start, or failed for good */
        DEP_UNIT_STOPPING, /* stopping, and not to start again */
        _DEP_UNIT_STATE_MAX,
        _DEP_UNIT_STATE_INVALID = -EINVAL,
} DepUnitState;

typedef enum DepVerdict {
        DEP_VERDICT_NONE,    /* nothing to do */
        DEP_VERDICT_START,   /* waiting, and may start now */
        DEP_VERDICT_WAIT,    /* waiting, and must wait on (for blocker) */
        DEP_VERDICT_BLOCKED, /* waiting, and must not start: blocker, which it requires, is not there */
        DEP_VERDICT_STOP,    /* started, and must stop: blocker, which it requires, is gone */
        _DEP_VERDICT_MAX,
        _DEP_VERDICT_INVALID = -EINVAL,
} DepVerdict;

typedef struct DepDecision {
        DepVerdict verdict;
        size_t blocker; /* WAIT, BLOCKED, STOP: the unit why; SIZE_MAX otherwise */
} DepDecision;

/* Decides for every unit, given states (dep_graph_n_units() long): a
 * WAITING unit gets START, WAIT or BLOCKED; a STARTING or READY one STOP
 * when a unit it requires is IDLE, FAILED or STOPPING (or blocked), NONE
 * otherwise; every other unit NONE. ret is dep_graph_n_units() long. */
void dep_graph_evaluate(const DepGraph *g, const DepUnitState *states, DepDecision *ret);

/* Whether unit, which is to stop, must wait first for one of its
 * dependents (a unit after it or requiring it) that is to stop too
 * (stop_wanted[d], or every unit when stop_wanted is NULL) and still has
 * processes (STARTING, READY or STOPPING); the first such is in
 * *ret_blocker (may be NULL). */
bool dep_graph_stop_waits(const DepGraph *g, size_t unit, const DepUnitState *states, const bool *stop_wanted,
                          size_t *ret_blocker);

/* Sets set[d] for every unit d that requires unit, directly or through
 * other units (not unit itself). set is dep_graph_n_units() long.
 * Returns 0, -EINVAL for a unit out of range, -ENOMEM. */
int dep_graph_mark_requirers(const DepGraph *g, size_t unit, bool *set);

/* Every unit in an order to stop them one by one: each unit before every
 * unit it is after or requires. Returns 0 with a malloc'd array of
 * dep_graph_n_units() indices in *ret, or -ENOMEM. */
int dep_graph_stop_order(const DepGraph *g, size_t **ret);

/* How many units the longest chain of dependencies holds: the number of
 * rounds of a stop of everything, each waiting for the one before (1
 * without dependencies, 0 for no units). */
size_t dep_graph_stop_rounds(const DepGraph *g);

const char *dep_unit_state_to_string(DepUnitState s);
const char *dep_verdict_to_string(DepVerdict v);
const char *dep_kind_to_string(DepKind k);
