/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "manager-deps.h"

#include <stdint.h>
#include <string.h>

#include "log.h"
#include "manager.h"

static bool unit_in_graph(const Manager *m, const Unit *u) {
        return m->deps && u->dep_index != UNIT_DEP_NONE;
}

/* What the graph is told of a unit. A stop that was not asked for (the
 * main process ended) may be followed by a restart: on its way, until it
 * lands in failed or inactive. */
static DepUnitState unit_dep_state(const Unit *u) {
        if (u->start_waiting && unit_is_inactive(u))
                return DEP_UNIT_WAITING;
        switch (u->state) {
        case UNIT_INACTIVE:
                return DEP_UNIT_IDLE;
        case UNIT_FAILED:
                return DEP_UNIT_FAILED;
        case UNIT_RUNNING:
        case UNIT_EXITED:
                return DEP_UNIT_READY;
        case UNIT_STOPPING:
                return u->stop_requested && !u->start_pending ? DEP_UNIT_STOPPING : DEP_UNIT_STARTING;
        default:
                return DEP_UNIT_STARTING;
        }
}

static void manager_deps_schedule(Manager *m) {
        (void) sd_event_source_set_enabled(m->deps_source, SD_EVENT_ONESHOT);
}

static void manager_deps_pass(Manager *m);

static int on_deps(sd_event_source *s, void *userdata) {
        manager_deps_pass(userdata);
        return 0;
}

int manager_deps_setup(Manager *m) {
        int r = sd_event_add_defer(m->event, &m->deps_source, on_deps, m);

        if (r >= 0)
                r = sd_event_source_set_enabled(m->deps_source, SD_EVENT_OFF);
        return r;
}

void manager_deps_done(Manager *m) {
        m->deps_source = sd_event_source_disable_unref(m->deps_source);
        m->deps = dep_graph_free(m->deps);
}

void manager_deps_add_unit(Manager *m, Unit *u) {
        size_t i;

        u->dep_index = UNIT_DEP_NONE;
        if (m->deps && u->config && !u->removed && !u->is_job && dep_graph_find_unit(m->deps, u->name, &i) >= 0 &&
            i < UNIT_DEP_NONE)
                u->dep_index = (uint32_t) i;
}

static bool config_has_dependencies(const Config *c) {
        for (size_t i = 0; i < c->n_services; i++)
                if (service_config_has_dependencies(c->services[i]))
                        return true;
        return false;
}

int manager_deps_load(Manager *m, const Config *config) {
        DepGraph *g = NULL;
        DepError e = {};
        int r;

        if (config_has_dependencies(config)) {
                r = config_dep_graph(config, &g, &e);
                dep_error_done(&e);
                if (r < 0)
                        return r;
        }
        dep_graph_free(m->deps);
        m->deps = g;
        for (size_t i = 0; i < m->n_units; i++)
                manager_deps_add_unit(m, m->units[i]);
        manager_deps_schedule(m); /* what waited may go now, or wait for something else */
        return 0;
}

size_t manager_deps_stop_rounds(const Manager *m) {
        return m->deps ? MAX(dep_graph_stop_rounds(m->deps), (size_t) 1) : 1;
}

/* ---- Messages ---- */

static Unit *manager_deps_unit(Manager *m, size_t index) {
        const char *name = dep_graph_unit_name(m->deps, index);

        return name ? manager_find_unit(m, name) : NULL;
}

/* "failed (exit-code)", "is not started", "is stopping", "is waiting". */
static void describe(const Unit *b, char *buf, size_t size) {
        if (!b)
                snprintf(buf, size, "does not exist");
        else if (b->start_waiting && unit_is_inactive(b))
                snprintf(buf, size, "is waiting");
        else if (b->state == UNIT_FAILED)
                snprintf(buf, size, "failed (%s)", unit_result_to_string(b->result));
        else if (b->state == UNIT_INACTIVE)
                snprintf(buf, size, "is not started");
        else
                snprintf(buf, size, "is %s", unit_state_to_string(b->state));
}

static void manager_deps_message(Manager *m, const char *what, size_t blocker, char *buf, size_t size) {
        Unit *b = manager_deps_unit(m, blocker);
        char why[64];

        describe(b, why, sizeof(why));
        snprintf(buf, size, "%s %s, which %s", what, dep_graph_unit_name(m->deps, blocker), why);
}

/* ---- Starting ---- */

static void unit_start_now(Unit *u) {
        if (u->start_waiting) {
                u->start_waiting = false;
                unit_set_waiting(u, /* reason= */ NULL);
        }
        unit_dispatch(u, UNIT_EVENT_START);
}

void manager_deps_start(Manager *m, Unit *u) {
        u->stop_waiting = false;
        if (!unit_is_inactive(u) || !unit_in_graph(m, u) || !dep_graph_has_dependencies(m->deps, u->dep_index))
                return unit_start_now(u);
        u->start_waiting = true;
        manager_deps_schedule(m); /* once every start of this pass is known */
}

static void manager_deps_apply_start(Manager *m, Unit *u, const DepDecision *d) {
        char buf[CONFIG_NAME_MAX * 2 + 128];

        if (!unit_is_inactive(u)) { /* started meanwhile, by its restart policy */
                u->start_waiting = false;
                return;
        }
        if (!d || d->verdict == DEP_VERDICT_START)
                return unit_start_now(u);
        if (d->verdict == DEP_VERDICT_WAIT) {
                Unit *b = manager_deps_unit(m, d->blocker);
                snprintf(buf, sizeof(buf), "waiting for %s (%s)", dep_graph_unit_name(m->deps, d->blocker),
                         b && b->start_waiting ? "waiting"
                         : b                   ? unit_state_to_string(b->state)
                                               : "?");
                return unit_set_waiting(u, buf);
        }
        u->start_waiting = false;
        unit_set_waiting(u, /* reason= */ NULL);
        manager_deps_message(m, "not started: requires", d->blocker, buf, sizeof(buf));
        unit_refuse_start(u, buf);
        manager_kick(m); /* a request that waits for this start learns that it failed */
}

/* ---- Stopping ---- */

/* Marks u (and those requiring it) to stop once their dependents have. */
static void manager_deps_mark_stop(Manager *m, Unit *u, bool with_requirers) {
        _cleanup_free_ bool *set = NULL;

        u->stop_waiting = true;
        u->start_waiting = false;
        if (!with_requirers || !unit_in_graph(m, u))
                return;
        set = calloc(dep_graph_n_units(m->deps) ?: 1, sizeof(bool));
        if (!set || dep_graph_mark_requirers(m->deps, u->dep_index, set) < 0) {
                log_unit_warning(u->name, LOG_EVENT_STOP, "out of memory: the units requiring it are not stopped");
                return;
        }
        for (size_t i = 0; i < m->n_units; i++) {
                Unit *d = m->units[i];
                if (unit_in_graph(m, d) && set[d->dep_index] && (!unit_is_inactive(d) || d->start_waiting)) {
                        d->start_waiting = false;
                        d->stop_waiting = true;
                        log_unit_info(d->name, LOG_EVENT_STOP, "will stop: requires %s, which is being stopped",
                                      u->name);
                }
        }
}

static void manager_deps_try_stop(Manager *m, Unit *u, const DepUnitState *states, const bool *stop_wanted) {
        size_t b;

        if (unit_in_graph(m, u) && dep_graph_stop_waits(m->deps, u->dep_index, states, stop_wanted, &b)) {
                log_unit_debug(u->name, "stops once %s has stopped", dep_graph_unit_name(m->deps, b));
                return;
        }
        u->stop_waiting = false;
        unit_set_waiting(u, /* reason= */ NULL);
        unit_dispatch(u, UNIT_EVENT_STOP);
}

/* A started unit whose required unit is gone: it stops, and what
 * requires it before it. */
static void manager_deps_apply_stop(Manager *m, Unit *u, const DepDecision *d) {
        char buf[CONFIG_NAME_MAX * 2 + 128];

        manager_deps_message(m, "will stop: requires", d->blocker, buf, sizeof(buf));
        unit_refuse_start(u, buf);
        manager_deps_mark_stop(m, u, /* with_requirers= */ true);
        manager_deps_schedule(m);
}

/* A unit nothing depends on stops at once; the others in the next pass,
 * once every stop asked for together (one request naming several units)
 * is marked. */
void manager_deps_stop(Manager *m, Unit *u, bool with_requirers) {
        if (!unit_in_graph(m, u) || !dep_graph_has_dependents(m->deps, u->dep_index)) {
                u->start_waiting = u->stop_waiting = false;
                unit_set_waiting(u, /* reason= */ NULL);
                return unit_dispatch(u, UNIT_EVENT_STOP);
        }
        manager_deps_mark_stop(m, u, with_requirers);
        manager_deps_schedule(m);
}

void manager_deps_stop_all(Manager *m) {
        for (size_t i = 0; i < m->n_units; i++)
                manager_deps_mark_stop(m, m->units[i], /* with_requirers= */ false);
        manager_deps_pass(m);
}

/* ---- The pass ---- */

/* Started units whose required unit is gone are marked to stop. Returns
 * whether any was. */
static bool manager_deps_apply_stops(Manager *m, const DepDecision *d) {
        bool any = false;

        for (size_t i = 0; i < m->n_units && !m->shutting_down; i++) {
                Unit *u = m->units[i];
                if (unit_in_graph(m, u) && !u->stop_waiting && d[u->dep_index].verdict == DEP_VERDICT_STOP) {
                        manager_deps_apply_stop(m, u, &d[u->dep_index]);
                        any = true;
                }
        }
        return any;
}

/* One look at every unit: started units whose required unit is gone are
 * marked to stop; held back stops go once their dependents have stopped;
 * held back starts go, wait on or are refused. What a dispatch changes is
 * seen by the next pass, which its state change schedules. */
static void manager_deps_pass(Manager *m) {
        size_t n = m->deps ? dep_graph_n_units(m->deps) : 0;
        _cleanup_free_ DepUnitState *states = calloc(n ?: 1, sizeof(DepUnitState));
        _cleanup_free_ DepDecision *d = calloc(n ?: 1, sizeof(DepDecision));
        _cleanup_free_ bool *stop_wanted = calloc(n ?: 1, sizeof(bool));

        if (!states || !d || !stop_wanted) {
                log_error("out of memory: units waiting for others are looked at again with the next change");
                return;
        }
        for (size_t i = 0; i < m->n_units; i++) {
                Unit *u = m->units[i];
                if (!unit_in_graph(m, u))
                        continue;
                states[u->dep_index] = unit_dep_state(u);
                stop_wanted[u->dep_index] = m->shutting_down || u->stop_waiting ||
                                            (u->state == UNIT_STOPPING && u->stop_requested);
        }
        if (m->deps)
                dep_graph_evaluate(m->deps, states, d);
        if (manager_deps_apply_stops(m, d))
                return; /* the next pass sees who is to stop now */
        for (size_t i = 0; i < m->n_units; i++) {
                Unit *u = m->units[i];
                if (u->stop_waiting)
                        manager_deps_try_stop(m, u, states, stop_wanted);
                else if (u->start_waiting)
                        manager_deps_apply_start(m, u, unit_in_graph(m, u) ? &d[u->dep_index] : NULL);
        }
}

void manager_deps_unit_changed(Manager *m, Unit *u) {
        if (m->deps || u->start_waiting || u->stop_waiting)
                manager_deps_schedule(m);
}
