/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "deps.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Dependencies are kept per service, not per unit: every unit of a
 * service has the same ones, and a service of 1000 instances after
 * another of 1000 would otherwise be a million edges. A target is a
 * service (every unit) or one of its units. */
typedef struct DepTarget {
        size_t service;
        size_t unit; /* SIZE_MAX: every unit of the service */
        DepKind kind;
} DepTarget;

typedef struct DepService {
        char *name;
        size_t first, n_units; /* its units: first … first + n_units - 1 */
        DepTarget *targets;    /* what its units depend on */
        size_t n_targets;
        DepTarget *dependents; /* who depends on its units: .service the dependent, .unit which of ours (or all) */
        size_t n_dependents;
} DepService;

struct DepGraph {
        DepService *services;
        size_t n_services;
        size_t n_units;
        size_t *unit_service; /* by unit */
        char **unit_names;    /* by unit */
        size_t *by_name;      /* units sorted by name */
};

static const char *const dep_unit_state_table[_DEP_UNIT_STATE_MAX] = {
        [DEP_UNIT_IDLE] = "idle",   [DEP_UNIT_WAITING] = "waiting", [DEP_UNIT_STARTING] = "starting",
        [DEP_UNIT_READY] = "ready", [DEP_UNIT_FAILED] = "failed",   [DEP_UNIT_STOPPING] = "stopping",
};

static const char *const dep_verdict_table[_DEP_VERDICT_MAX] = {
        [DEP_VERDICT_NONE] = "none",       [DEP_VERDICT_START] = "start", [DEP_VERDICT_WAIT] = "wait",
        [DEP_VERDICT_BLOCKED] = "blocked", [DEP_VERDICT_STOP] = "stop",
};

static const char *const dep_kind_table[_DEP_KIND_MAX] = {
        [DEP_AFTER] = "after",
        [DEP_REQUIRES] = "requires",
};

const char *dep_unit_state_to_string(DepUnitState s) {
        return s >= 0 && s < _DEP_UNIT_STATE_MAX ? dep_unit_state_table[s] : NULL;
}

const char *dep_verdict_to_string(DepVerdict v) {
        return v >= 0 && v < _DEP_VERDICT_MAX ? dep_verdict_table[v] : NULL;
}

const char *dep_kind_to_string(DepKind k) {
        return k >= 0 && k < _DEP_KIND_MAX ? dep_kind_table[k] : NULL;
}

void dep_error_done(DepError *e) {
        if (!e)
                return;
        e->name = mfree(e->name);
        e->cycle = mfree(e->cycle);
}

DepGraph *dep_graph_free(DepGraph *g) {
        if (!g)
                return NULL;
        for (size_t i = 0; i < g->n_services; i++) {
                free(g->services[i].name);
                free(g->services[i].targets);
                free(g->services[i].dependents);
        }
        for (size_t i = 0; i < g->n_units && g->unit_names; i++)
                free(g->unit_names[i]);
        free(g->services);
        free(g->unit_service);
        free(g->unit_names);
        free(g->by_name);
        free(g);
        return NULL;
}

size_t dep_graph_n_units(const DepGraph *g) {
        return g->n_units;
}

const char *dep_graph_unit_name(const DepGraph *g, size_t unit) {
        return unit < g->n_units ? g->unit_names[unit] : NULL;
}

/* ---- Building ---- */

static int cmp_unit_name(const void *a, const void *b, void *userdata) {
        char **names = userdata;
        return strcmp(names[*(const size_t *) a], names[*(const size_t *) b]);
}

int dep_graph_find_unit(const DepGraph *g, const char *name, size_t *ret) {
        size_t lo = 0, hi = g->n_units;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(name, g->unit_names[g->by_name[mid]]);
                if (c == 0) {
                        *ret = g->by_name[mid];
                        return 0;
                }
                if (c < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return -ENOENT;
}

/* Creates the services and their units' names. */
static int graph_add_units(DepGraph *g, const DepServiceSpec *specs, size_t n) {
        for (size_t i = 0; i < n; i++) {
                g->services[i] = (DepService) { .first = g->n_units, .n_units = MAX(specs[i].instances, 1U) };
                g->n_units += g->services[i].n_units;
                g->services[i].name = strdup(specs[i].name);
                if (!g->services[i].name)
                        return -ENOMEM;
        }
        g->n_services = n;
        g->unit_service = calloc(g->n_units ?: 1, sizeof(size_t));
        g->unit_names = calloc(g->n_units ?: 1, sizeof(char *));
        g->by_name = calloc(g->n_units ?: 1, sizeof(size_t));
        if (!g->unit_service || !g->unit_names || !g->by_name)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < g->services[i].n_units; k++) {
                        size_t u = g->services[i].first + k;
                        int r = specs[i].instances == 0 ? asprintf(&g->unit_names[u], "%s", specs[i].name)
                                                        : asprintf(&g->unit_names[u], "%s@%zu", specs[i].name, k);
                        if (r < 0) {
                                g->unit_names[u] = NULL;
                                return -ENOMEM;
                        }
                        g->unit_service[u] = i;
                        g->by_name[u] = u;
                }
        qsort_r(g->by_name, g->n_units, sizeof(size_t), cmp_unit_name, g->unit_names);
        for (size_t i = 1; i < g->n_units; i++)
                if (streq(g->unit_names[g->by_name[i - 1]], g->unit_names[g->by_name[i]]))
                        return -EINVAL; /* a service given twice, or "a@0" both a service and an instance */
        return 0;
}

/* A name: a service (every unit), or a unit of a service with instances. */
static int graph_resolve(const DepGraph *g, const char *name, DepTarget *ret) {
        size_t u;

        for (size_t i = 0; i < g->n_services; i++)
                if (streq(g->services[i].name, name)) {
                        *ret = (DepTarget) { .service = i, .unit = SIZE_MAX };
                        return 0;
                }
        if (!strchr(name, '@') || dep_graph_find_unit(g, name, &u) < 0)
                return -ENOENT;
        *ret = (DepTarget) { .service = g->unit_service[u], .unit = u };
        return 0;
}

static int target_append(DepTarget **l, size_t *n, DepTarget t) {
        DepTarget *p = reallocarray(*l, *n + 1, sizeof(DepTarget));

        if (!p)
                return -ENOMEM;
        p[(*n)++] = t;
        *l = p;
        return 0;
}

static int graph_add_names(DepGraph *g, size_t service, char *const *names, DepKind kind, DepError *e) {
        for (char *const *n = names; n && *n; n++) {
                DepTarget t;
                int r = graph_resolve(g, *n, &t);
                if (r < 0) {
                        *e = (DepError) { .service = service, .kind = kind, .name = strdup(*n) };
                        return e->name ? r : -ENOMEM;
                }
                t.kind = kind;
                r = target_append(&g->services[service].targets, &g->services[service].n_targets, t);
                if (r >= 0)
                        r = target_append(&g->services[t.service].dependents, &g->services[t.service].n_dependents,
                                          (DepTarget) { .service = service, .unit = t.unit, .kind = kind });
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The units a target stands for: first … *ret_end - 1. */
static size_t target_first(const DepGraph *g, const DepTarget *t, size_t *ret_end) {
        if (t->unit != SIZE_MAX) {
                *ret_end = t->unit + 1;
                return t->unit;
        }
        *ret_end = g->services[t->service].first + g->services[t->service].n_units;
        return g->services[t->service].first;
}

/* The units a dependent entry of unit's service stands for, if it names
 * unit (or all of the service); false when it names another unit. */
static bool dependent_covers(const DepGraph *g, const DepTarget *d, size_t unit, size_t *ret_first, size_t *ret_end) {
        if (d->unit != SIZE_MAX && d->unit != unit)
                return false;
        *ret_first = g->services[d->service].first;
        *ret_end = *ret_first + g->services[d->service].n_units;
        return true;
}

/* ---- Cycles: depth first over units, without recursion ---- */

typedef struct DfsFrame {
        size_t unit;
        size_t target; /* the next target of its service to follow */
        size_t next;   /* the next unit of that target */
} DfsFrame;

typedef struct Dfs {
        const DepGraph *g;
        uint8_t *colour; /* 0 new, 1 on the stack, 2 done */
        DfsFrame *stack;
        size_t depth;
} Dfs;

/* The next unit that frame's unit depends on, or SIZE_MAX when none is left. */
static size_t dfs_next(Dfs *d, DfsFrame *f) {
        const DepService *s = &d->g->services[d->g->unit_service[f->unit]];

        while (f->target < s->n_targets) {
                size_t end, first = target_first(d->g, &s->targets[f->target], &end);
                if (f->next < first)
                        f->next = first;
                if (f->next < end)
                        return f->next++;
                f->target++;
                f->next = 0;
        }
        return SIZE_MAX;
}

/* "a → b → c → a": the stack from the unit at depth `from`, and back to it. */
static int dfs_cycle_text(const Dfs *d, size_t from, char **ret) {
        size_t len = 1;
        char *s, *p;

        for (size_t i = from; i < d->depth; i++)
                len += strlen(d->g->unit_names[d->stack[i].unit]) + strlen(" → ");
        len += strlen(d->g->unit_names[d->stack[from].unit]);
        s = p = malloc(len);
        if (!s)
                return -ENOMEM;
        for (size_t i = from; i < d->depth; i++)
                p = stpcpy(stpcpy(p, d->g->unit_names[d->stack[i].unit]), " → ");
        stpcpy(p, d->g->unit_names[d->stack[from].unit]);
        *ret = s;
        return 0;
}

/* Walks from root; -ELOOP with the cycle in *e when one is found. */
static int dfs_walk(Dfs *d, size_t root, DepError *e) {
        d->stack[0] = (DfsFrame) { .unit = root };
        d->depth = 1;
        d->colour[root] = 1;
        while (d->depth > 0) {
                DfsFrame *f = &d->stack[d->depth - 1];
                size_t v = dfs_next(d, f);
                if (v == SIZE_MAX) {
                        d->colour[f->unit] = 2;
                        d->depth--;
                        continue;
                }
                if (d->colour[v] == 2)
                        continue;
                if (d->colour[v] == 1) {
                        size_t from = 0;
                        while (d->stack[from].unit != v)
                                from++;
                        *e = (DepError) { .service = d->g->unit_service[v] };
                        return dfs_cycle_text(d, from, &e->cycle) < 0 ? -ENOMEM : -ELOOP;
                }
                d->colour[v] = 1;
                d->stack[d->depth++] = (DfsFrame) { .unit = v };
        }
        return 0;
}

static int graph_check_cycles(const DepGraph *g, DepError *e) {
        _cleanup_free_ uint8_t *colour = calloc(g->n_units ?: 1, 1);
        _cleanup_free_ DfsFrame *stack = calloc(g->n_units ?: 1, sizeof(DfsFrame));
        Dfs d = { .g = g, .colour = colour, .stack = stack };
        int r;

        if (!colour || !stack)
                return -ENOMEM;
        for (size_t u = 0; u < g->n_units; u++)
                if (colour[u] == 0 && (r = dfs_walk(&d, u, e)) < 0)
                        return r;
        return 0;
}

int dep_graph_new(const DepServiceSpec *specs, size_t n, DepGraph **ret, DepError *ret_error) {
        _cleanup_(dep_graph_freep) DepGraph *g = calloc(1, sizeof(DepGraph));
        DepError e = {};
        int r;

        if (!g || !(g->services = calloc(n ?: 1, sizeof(DepService))))
                return -ENOMEM;
        r = graph_add_units(g, specs, n);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                r = graph_add_names(g, i, specs[i].after, DEP_AFTER, &e);
                if (r >= 0)
                        r = graph_add_names(g, i, specs[i].requires, DEP_REQUIRES, &e);
        }
        if (r >= 0)
                r = graph_check_cycles(g, &e);
        if (r < 0) {
                if (ret_error)
                        *ret_error = e;
                else
                        dep_error_done(&e);
                return r;
        }
        *ret = TAKE_PTR(g);
        return 0;
}

bool dep_graph_has_dependencies(const DepGraph *g, size_t unit) {
        return unit < g->n_units && g->services[g->unit_service[unit]].n_targets > 0;
}

bool dep_graph_has_dependents(const DepGraph *g, size_t unit) {
        if (unit >= g->n_units)
                return false;
        const DepService *s = &g->services[g->unit_service[unit]];
        for (size_t i = 0; i < s->n_dependents; i++)
                if (s->dependents[i].unit == SIZE_MAX || s->dependents[i].unit == unit)
                        return true;
        return false;
}

/* ---- Starting ---- */

static bool state_is_on_its_way(DepUnitState s) {
        return s == DEP_UNIT_WAITING || s == DEP_UNIT_STARTING;
}

static bool state_is_gone(DepUnitState s) {
        return s == DEP_UNIT_IDLE || s == DEP_UNIT_FAILED || s == DEP_UNIT_STOPPING;
}

/* For a waiting unit: blocked beats waiting beats starting. */
static DepDecision decide_waiting(const DepGraph *g, size_t unit, const DepUnitState *states) {
        const DepService *s = &g->services[g->unit_service[unit]];
        DepDecision d = { .verdict = DEP_VERDICT_START, .blocker = SIZE_MAX };

        for (size_t i = 0; i < s->n_targets; i++) {
                size_t end, v = target_first(g, &s->targets[i], &end);
                for (; v < end; v++) {
                        if (s->targets[i].kind == DEP_REQUIRES && state_is_gone(states[v]))
                                return (DepDecision) { .verdict = DEP_VERDICT_BLOCKED, .blocker = v };
                        if (state_is_on_its_way(states[v]) && d.verdict == DEP_VERDICT_START)
                                d = (DepDecision) { .verdict = DEP_VERDICT_WAIT, .blocker = v };
                }
        }
        return d;
}

/* For a started unit: whether a unit it requires is gone. */
static DepDecision decide_started(const DepGraph *g, size_t unit, const DepUnitState *states) {
        const DepService *s = &g->services[g->unit_service[unit]];

        for (size_t i = 0; i < s->n_targets; i++) {
                if (s->targets[i].kind != DEP_REQUIRES)
                        continue;
                size_t end, v = target_first(g, &s->targets[i], &end);
                for (; v < end; v++)
                        if (state_is_gone(states[v]))
                                return (DepDecision) { .verdict = DEP_VERDICT_STOP, .blocker = v };
        }
        return (DepDecision) { .verdict = DEP_VERDICT_NONE, .blocker = SIZE_MAX };
}

/* Blocked units count as idle for their dependents: repeat until no new
 * one is found (at most as many passes as the longest chain). */
void dep_graph_evaluate(const DepGraph *g, const DepUnitState *states, DepDecision *ret) {
        _cleanup_free_ DepUnitState *s = malloc((g->n_units ?: 1) * sizeof(DepUnitState));
        const DepUnitState *view = s ?: states;
        bool again = true;

        if (s)
                memcpy(s, states, g->n_units * sizeof(DepUnitState));
        while (again) {
                again = false;
                for (size_t u = 0; u < g->n_units; u++) {
                        if (s && s[u] != states[u])
                                continue; /* blocked in an earlier pass: its decision stands */
                        if (view[u] == DEP_UNIT_WAITING)
                                ret[u] = decide_waiting(g, u, view);
                        else if (view[u] == DEP_UNIT_STARTING || view[u] == DEP_UNIT_READY)
                                ret[u] = decide_started(g, u, view);
                        else
                                ret[u] = (DepDecision) { .verdict = DEP_VERDICT_NONE, .blocker = SIZE_MAX };
                        if (ret[u].verdict == DEP_VERDICT_BLOCKED && s) {
                                s[u] = DEP_UNIT_IDLE;
                                again = true;
                        }
                }
        }
}

/* ---- Stopping ---- */

static bool state_has_processes(DepUnitState s) {
        return s == DEP_UNIT_STARTING || s == DEP_UNIT_READY || s == DEP_UNIT_STOPPING;
}

bool dep_graph_stop_waits(const DepGraph *g, size_t unit, const DepUnitState *states, const bool *stop_wanted,
                          size_t *ret_blocker) {
        if (unit >= g->n_units)
                return false;
        const DepService *s = &g->services[g->unit_service[unit]];

        for (size_t i = 0; i < s->n_dependents; i++) {
                size_t first, end;
                if (!dependent_covers(g, &s->dependents[i], unit, &first, &end))
                        continue;
                for (size_t d = first; d < end; d++)
                        if ((!stop_wanted || stop_wanted[d]) && state_has_processes(states[d])) {
                                if (ret_blocker)
                                        *ret_blocker = d;
                                return true;
                        }
        }
        return false;
}

/* Appends every unit that requires unit to queue (unless marked). */
static void mark_direct_requirers(const DepGraph *g, size_t unit, bool *set, size_t *queue, size_t *n) {
        const DepService *s = &g->services[g->unit_service[unit]];

        for (size_t i = 0; i < s->n_dependents; i++) {
                size_t first, end;
                if (s->dependents[i].kind != DEP_REQUIRES ||
                    !dependent_covers(g, &s->dependents[i], unit, &first, &end))
                        continue;
                for (size_t d = first; d < end; d++)
                        if (!set[d]) {
                                set[d] = true;
                                queue[(*n)++] = d;
                        }
        }
}

int dep_graph_mark_requirers(const DepGraph *g, size_t unit, bool *set) {
        _cleanup_free_ size_t *queue = NULL;
        size_t n = 0;

        if (unit >= g->n_units)
                return -EINVAL;
        queue = malloc(g->n_units * sizeof(size_t)); /* each unit is queued once at most */
        if (!queue)
                return -ENOMEM;
        mark_direct_requirers(g, unit, set, queue, &n);
        for (size_t i = 0; i < n; i++)
                mark_direct_requirers(g, queue[i], set, queue, &n);
        return 0;
}

/* Kahn's algorithm on the dependents: a unit is next once every unit that
 * depends on it has been placed. */
int dep_graph_stop_order(const DepGraph *g, size_t **ret) {
        _cleanup_free_ size_t *left = calloc(g->n_units ?: 1, sizeof(size_t)); /* dependents not yet placed */
        _cleanup_free_ size_t *order = calloc(g->n_units ?: 1, sizeof(size_t));
        size_t n = 0;

        if (!left || !order)
                return -ENOMEM;
        for (size_t u = 0; u < g->n_units; u++) {
                const DepService *s = &g->services[g->unit_service[u]];
                for (size_t i = 0; i < s->n_targets; i++) {
                        size_t end, v = target_first(g, &s->targets[i], &end);
                        for (; v < end; v++)
                                left[v]++;
                }
        }
        for (size_t u = 0; u < g->n_units; u++)
                if (left[u] == 0)
                        order[n++] = u;
        for (size_t k = 0; k < n; k++) {
                const DepService *s = &g->services[g->unit_service[order[k]]];
                for (size_t i = 0; i < s->n_targets; i++) {
                        size_t end, v = target_first(g, &s->targets[i], &end);
                        for (; v < end; v++)
                                if (--left[v] == 0)
                                        order[n++] = v;
                }
        }
        if (n != g->n_units)
                return -ELOOP; /* cannot happen: dep_graph_new() refuses cycles */
        *ret = TAKE_PTR(order);
        return 0;
}

size_t dep_graph_stop_rounds(const DepGraph *g) {
        _cleanup_free_ size_t *order = NULL, *level = NULL;
        size_t rounds = 0;

        if (g->n_units == 0)
                return 0;
        level = calloc(g->n_units, sizeof(size_t));
        if (!level || dep_graph_stop_order(g, &order) < 0)
                return g->n_units; /* out of memory: the most it can be */
        for (size_t k = 0; k < g->n_units; k++) {
                size_t u = order[k];
                const DepService *s = &g->services[g->unit_service[u]];
                level[u] = MAX(level[u], (size_t) 1);
                rounds = MAX(rounds, level[u]);
                for (size_t i = 0; i < s->n_targets; i++) {
                        size_t end, v = target_first(g, &s->targets[i], &end);
                        for (; v < end; v++)
                                level[v] = MAX(level[v], level[u] + 1);
                }
        }
        return rounds;
}
