/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The counters behind corrald's metrics, kept here rather than in Unit:
 * restarts by unit and reason, health checks and their failures by unit,
 * jobs by result, control requests by method and outcome, reloads, start
 * latency. It learns of state changes as a manager subscriber
 * (metrics_collector_on_event(), wired in main.c) and of the rest through
 * the metrics_collector_count_*() calls made where those things happen.
 * metrics_collector_render() turns the counters and the units' present
 * state into Prometheus text (metrics.h). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"
#include "manager-event.h"
#include "manager.h"
#include "metrics.h"

typedef struct MetricsCollector MetricsCollector;

/* What is counted of one unit. */
typedef struct MetricsUnitCounters {
        uint64_t restarts[_UNIT_RESULT_MAX]; /* automatic restarts, by the result that caused them */
        uint64_t health_checks;
        uint64_t health_failures;
} MetricsUnitCounters;

/* Returns a new, empty collector, or NULL when out of memory. */
MetricsCollector *metrics_collector_new(void);

/* Accepts NULL; returns NULL. */
MetricsCollector *metrics_collector_free(MetricsCollector *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(MetricsCollector *, metrics_collector_free);

/* A ManagerSubscriber (userdata: the collector): counts a restart when a
 * unit enters backoff (by its result), a job's end by its result, the
 * time from starting to running; forgets a removed unit's counters. */
void metrics_collector_on_event(const ManagerEvent *ev, void *userdata);

/* One health check of unit ended, passed or failed. */
void metrics_collector_count_health(MetricsCollector *m, const char *unit, bool ok);

/* A reload was tried; at realtime_usec (CLOCK_REALTIME) when it worked. */
void metrics_collector_count_reload(MetricsCollector *m, bool ok, uint64_t realtime_usec);

/* The configuration was first loaded at realtime_usec (not a reload). */
void metrics_collector_set_loaded(MetricsCollector *m, uint64_t realtime_usec);

/* One control request of method (NULL or unknown: "invalid") ended with
 * outcome ("ok", "refused", "error"). Methods and outcomes are bounded
 * sets: the strings must be static. */
void metrics_collector_count_request(MetricsCollector *m, const char *method, const char *outcome);

/* The counters of unit, or NULL when nothing was counted of it. Owned by
 * m; valid until its next change. */
const MetricsUnitCounters *metrics_collector_unit(const MetricsCollector *m, const char *unit);

/* The counters that are not per unit, in s (jobs_by_result, requests,
 * reloads, start latency); s's strings and arrays belong to m and stay
 * valid until its next change. */
void metrics_collector_fill(MetricsCollector *m, MetricsSnapshot *s);

/* Every listed unit of manager (its state, health, statistics read from
 * its cgroup now) with m's counters, as Prometheus text. Returns 0 with a
 * malloc'd text in *ret_text and its length in *ret_len (when not NULL),
 * or -ENOMEM. */
int metrics_collector_render(MetricsCollector *m, Manager *manager, char **ret_text, size_t *ret_len);
