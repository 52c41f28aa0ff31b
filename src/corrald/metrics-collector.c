/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "metrics-collector.h"

#include <stdlib.h>
#include <string.h>

#include "time-util.h"
#include "unit-status.h"

/* Methods × outcomes of the control socket: a small, bounded set. */
#define METRICS_REQUEST_KINDS_MAX 128

typedef struct UnitEntry {
        char *name;
        MetricsUnitCounters counters;
} UnitEntry;

struct MetricsCollector {
        UnitEntry *units; /* sorted by name */
        size_t n_units;
        uint64_t jobs[_UNIT_RESULT_MAX];
        MetricsCount job_counts[_UNIT_RESULT_MAX]; /* for metrics_collector_fill() */
        MetricsRequestCount requests[METRICS_REQUEST_KINDS_MAX];
        size_t n_requests;
        uint64_t reloads, reload_failures, last_reload_usec;
        MetricsHistogram start_latency;
};

MetricsCollector *metrics_collector_new(void) {
        return calloc(1, sizeof(MetricsCollector));
}

MetricsCollector *metrics_collector_free(MetricsCollector *m) {
        if (!m)
                return NULL;
        for (size_t i = 0; i < m->n_units; i++)
                free(m->units[i].name);
        free(m->units);
        return mfree(m);
}

/* The index of name in m->units, or where it would go (with *found false). */
static size_t unit_index(const MetricsCollector *m, const char *name, bool *found) {
        size_t lo = 0, hi = m->n_units;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(m->units[mid].name, name);

                if (c == 0) {
                        *found = true;
                        return mid;
                }
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *found = false;
        return lo;
}

/* The entry of name, made when missing; NULL when out of memory. */
static MetricsUnitCounters *unit_counters(MetricsCollector *m, const char *name) {
        bool found;
        size_t i = unit_index(m, name, &found);
        UnitEntry *l;
        char *copy;

        if (found)
                return &m->units[i].counters;
        copy = strdup(name);
        l = copy ? reallocarray(m->units, m->n_units + 1, sizeof(UnitEntry)) : NULL;
        if (!l) {
                free(copy);
                return NULL;
        }
        m->units = l;
        memmove(&l[i + 1], &l[i], (m->n_units - i) * sizeof(UnitEntry));
        l[i] = (UnitEntry) { .name = copy };
        m->n_units++;
        return &l[i].counters;
}

static void unit_forget(MetricsCollector *m, const char *name) {
        bool found;
        size_t i = unit_index(m, name, &found);

        if (!found)
                return;
        free(m->units[i].name);
        memmove(&m->units[i], &m->units[i + 1], (m->n_units - i - 1) * sizeof(UnitEntry));
        m->n_units--;
}

const MetricsUnitCounters *metrics_collector_unit(const MetricsCollector *m, const char *unit) {
        bool found;
        size_t i = unit_index(m, unit, &found);

        return found ? &m->units[i].counters : NULL;
}

static bool state_is_dead(UnitState s) {
        return s == UNIT_INACTIVE || s == UNIT_FAILED;
}

/* The states and result are those of the event, as queued: by delivery
 * the unit may be on its way again. */
static void unit_changed(MetricsCollector *m, const ManagerEvent *ev) {
        const Unit *u = ev->unit;
        bool valid = ev->result >= 0 && ev->result < _UNIT_RESULT_MAX;
        MetricsUnitCounters *c;

        if (ev->new_state == UNIT_BACKOFF && valid) {
                c = unit_counters(m, ev->name);
                if (c)
                        c->restarts[ev->result]++;
        }
        if (ev->new_state == UNIT_RUNNING && ev->old_state == UNIT_STARTING && u->started_at > 0)
                metrics_histogram_observe(&m->start_latency, now(CLOCK_MONOTONIC) - u->started_at);
        if (u->is_job && valid && state_is_dead(ev->new_state) && !state_is_dead(ev->old_state))
                m->jobs[ev->result]++;
}

void metrics_collector_on_event(const ManagerEvent *ev, void *userdata) {
        MetricsCollector *m = userdata;

        switch (ev->type) {
        case MANAGER_EVENT_UNIT_CHANGED:
                unit_changed(m, ev);
                break;
        case MANAGER_EVENT_UNIT_REMOVED:
                unit_forget(m, ev->name);
                break;
        case MANAGER_EVENT_HEALTH_CHECKED:
                metrics_collector_count_health(m, ev->name, ev->ok);
                break;
        case MANAGER_EVENT_RELOADED:
                metrics_collector_count_reload(m, ev->ok, now(CLOCK_REALTIME));
                break;
        default:
                break;
        }
}

void metrics_collector_count_health(MetricsCollector *m, const char *unit, bool ok) {
        MetricsUnitCounters *c = unit_counters(m, unit);

        if (!c)
                return;
        c->health_checks++;
        c->health_failures += !ok;
}

void metrics_collector_count_reload(MetricsCollector *m, bool ok, uint64_t realtime_usec) {
        m->reloads++;
        if (!ok)
                m->reload_failures++;
        else
                m->last_reload_usec = realtime_usec;
}

void metrics_collector_count_request(MetricsCollector *m, const char *method, const char *outcome) {
        method = method ?: "invalid";
        for (size_t i = 0; i < m->n_requests; i++)
                if (streq(m->requests[i].method, method) && streq(m->requests[i].outcome, outcome)) {
                        m->requests[i].value++;
                        return;
                }
        if (m->n_requests < METRICS_REQUEST_KINDS_MAX)
                m->requests[m->n_requests++] = (MetricsRequestCount) { method, outcome, 1 };
}

void metrics_collector_set_loaded(MetricsCollector *m, uint64_t realtime_usec) {
        m->last_reload_usec = realtime_usec;
}

void metrics_collector_fill(MetricsCollector *m, MetricsSnapshot *s) {
        size_t n = 0;

        for (UnitResult r = 0; r < _UNIT_RESULT_MAX; r++)
                if (m->jobs[r] > 0)
                        m->job_counts[n++] = (MetricsCount) { unit_result_to_string(r), m->jobs[r] };
        s->jobs_by_result = m->job_counts;
        s->n_jobs_by_result = n;
        s->requests = m->requests;
        s->n_requests = m->n_requests;
        s->reloads = m->reloads;
        s->reload_failures = m->reload_failures;
        s->last_reload_usec = m->last_reload_usec;
        s->start_latency = m->start_latency;
}

/* ---- rendering ---- */

static const char *const metrics_states[] = {
        "inactive", "starting", "running", "stopping", "backoff", "failed", NULL
};

/* One unit's row from its status and counters; its restart counts go to
 * counts (room for _UNIT_RESULT_MAX). */
static int unit_row(const MetricsCollector *m, const Unit *u, MetricsUnit *row, MetricsCount *counts) {
        _cleanup_(unit_status_done) UnitStatus s = {};
        const MetricsUnitCounters *c = metrics_collector_unit(m, unit_status_name(u));
        int r = unit_status_get(u, UNIT_STATUS_STATS, &s);

        if (r < 0)
                return r;
        *row = (MetricsUnit) {
                .name = unit_status_name(u),
                .kind = s.is_job ? "job" : "service",
                .state = unit_state_to_string(s.state),
                .restarts = counts,
                .has_health = s.has_health,
                .healthy = s.has_health && s.health.checks > 0 && s.health.ok,
                .health_checks = c ? c->health_checks : 0,
                .health_failures = c ? c->health_failures : 0,
                .cpu_usec = s.has_cpu ? s.cpu_usec : UINT64_MAX,
                .memory_bytes = s.memory_source != UNIT_MEMORY_NONE ? s.memory_bytes : UINT64_MAX,
                .tasks = s.has_tasks ? s.tasks : UINT64_MAX,
        };
        for (UnitResult res = 0; c && res < _UNIT_RESULT_MAX; res++)
                if (c->restarts[res] > 0)
                        counts[row->n_restarts++] = (MetricsCount) { unit_result_to_string(res), c->restarts[res] };
        return 0;
}

int metrics_collector_render(MetricsCollector *m, Manager *manager, char **ret_text, size_t *ret_len) {
        _cleanup_free_ MetricsUnit *rows = calloc(MAX(manager->n_units, (size_t) 1), sizeof(MetricsUnit));
        _cleanup_free_ MetricsCount *counts =
                calloc(MAX(manager->n_units, (size_t) 1) * _UNIT_RESULT_MAX, sizeof(MetricsCount));
        MetricsSnapshot s = { .version = CORRAL_VERSION, .states = metrics_states };
        size_t n = 0;
        int r;

        if (!rows || !counts)
                return -ENOMEM;
        for (size_t i = 0; i < manager->n_units; i++) {
                if (!unit_status_is_listed(manager->units[i]))
                        continue;
                r = unit_row(m, manager->units[i], &rows[n], &counts[n * _UNIT_RESULT_MAX]);
                if (r < 0)
                        return r;
                n++;
        }
        s.units = rows;
        s.n_units = n;
        metrics_collector_fill(m, &s);
        return metrics_format(&s, ret_text, ret_len);
}
