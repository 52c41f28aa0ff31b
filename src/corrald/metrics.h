/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Metrics in the Prometheus text exposition format, version 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/): a pure
 * formatter from a plain snapshot of counters, gauges and per-unit rows to
 * text. It knows nothing of Unit or Manager: the caller fills a
 * MetricsSnapshot, metrics_format() writes every family with its HELP and
 * TYPE lines, names prefixed "corral_", values in base units (seconds,
 * bytes), counters ending in "_total". */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Upper bounds of the start latency histogram, in µs (the +Inf bucket is
 * implicit). */
#define METRICS_LATENCY_BUCKETS 12
extern const uint64_t metrics_latency_bounds_usec[METRICS_LATENCY_BUCKETS];

/* A histogram of durations: counts[i] are the observations ≤ bound i and
 * > bound i-1 (not cumulative), counts[METRICS_LATENCY_BUCKETS] those above
 * the last bound. */
typedef struct MetricsHistogram {
        uint64_t counts[METRICS_LATENCY_BUCKETS + 1];
        uint64_t sum_usec;
        uint64_t count;
} MetricsHistogram;

/* Adds one observation of usec to h. */
void metrics_histogram_observe(MetricsHistogram *h, uint64_t usec);

/* One labelled count: a restart reason, a job result. */
typedef struct MetricsCount {
        const char *label;
        uint64_t value;
} MetricsCount;

/* Control requests of one method with one outcome ("ok", "refused",
 * "error"). */
typedef struct MetricsRequestCount {
        const char *method;
        const char *outcome;
        uint64_t value;
} MetricsRequestCount;

/* One unit. A uint64_t of UINT64_MAX is absent: its sample is left out. */
typedef struct MetricsUnit {
        const char *name;
        const char *kind;             /* "service" or "job" */
        const char *state;            /* one of MetricsSnapshot.states */
        const MetricsCount *restarts; /* restarts by reason */
        size_t n_restarts;
        bool has_health; /* the unit has health checks: the three below count */
        bool healthy;    /* its last check passed */
        uint64_t health_checks;
        uint64_t health_failures;
        uint64_t cpu_usec;
        uint64_t memory_bytes;
        uint64_t tasks;
} MetricsUnit;

typedef struct MetricsSnapshot {
        const char *version;       /* corral_build_info{version=…} */
        const char *const *states; /* every state name, NULL-terminated: corral_units counts each one */
        const MetricsUnit *units;
        size_t n_units;
        const MetricsCount *jobs_by_result; /* finished jobs by result */
        size_t n_jobs_by_result;
        const MetricsRequestCount *requests;
        size_t n_requests;
        uint64_t reloads;
        uint64_t reload_failures;
        uint64_t last_reload_usec; /* CLOCK_REALTIME of the last successful reload (or of the start); 0: none */
        MetricsHistogram start_latency;
} MetricsSnapshot;

/* Writes s as Prometheus text. Returns 0 with a malloc'd NUL-terminated
 * text in *ret_text (the caller frees it) and its length in *ret_len
 * (when not NULL). Errors: -EINVAL for a unit without name, kind or
 * state, -ENOMEM. */
int metrics_format(const MetricsSnapshot *s, char **ret_text, size_t *ret_len);

/* Writes v as a label value between double quotes, with \, " and newline
 * escaped as the format wants. Returns 0, or -errno of the stream. */
int metrics_write_label_value(FILE *f, const char *v);
