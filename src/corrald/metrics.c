/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

#define USEC_PER_SEC_U64 UINT64_C(1000000)
#define USEC_PER_MSEC_U64 UINT64_C(1000)

const uint64_t metrics_latency_bounds_usec[METRICS_LATENCY_BUCKETS] = {
        5 * USEC_PER_MSEC_U64,    10 * USEC_PER_MSEC_U64,  25 * USEC_PER_MSEC_U64,  50 * USEC_PER_MSEC_U64,
        100 * USEC_PER_MSEC_U64,  250 * USEC_PER_MSEC_U64, 500 * USEC_PER_MSEC_U64, 1 * USEC_PER_SEC_U64,
        2500 * USEC_PER_MSEC_U64, 5 * USEC_PER_SEC_U64,    10 * USEC_PER_SEC_U64,   30 * USEC_PER_SEC_U64,
};

void metrics_histogram_observe(MetricsHistogram *h, uint64_t usec) {
        size_t i = 0;

        while (i < METRICS_LATENCY_BUCKETS && usec > metrics_latency_bounds_usec[i])
                i++;
        h->counts[i]++;
        h->sum_usec = usec > UINT64_MAX - h->sum_usec ? UINT64_MAX : h->sum_usec + usec;
        h->count++;
}

int metrics_write_label_value(FILE *f, const char *v) {
        fputc('"', f);
        for (; *v; v++)
                switch (*v) {
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '"':
                        fputs("\\\"", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                default:
                        fputc(*v, f);
                }
        fputc('"', f);
        return ferror(f) ? -ENOMEM : 0;
}

#define SECONDS_MAX 32

/* µs as decimal seconds, exactly, without trailing zeros: "0.25", "3",
 * "1.000001". Returns buf. */
static char *format_seconds(char buf[static SECONDS_MAX], uint64_t usec) {
        int n = snprintf(buf, SECONDS_MAX, "%" PRIu64 ".%06" PRIu64, usec / USEC_PER_SEC_U64, usec % USEC_PER_SEC_U64);

        while (n > 0 && buf[n - 1] == '0')
                buf[--n] = '\0';
        if (n > 0 && buf[n - 1] == '.')
                buf[n - 1] = '\0';
        return buf;
}

static void write_family(FILE *f, const char *name, const char *type, const char *help) {
        fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{key="value",…} — labels come as key, value pairs, NULL-terminated. */
static void write_name_labels(FILE *f, const char *name, const char *const *labels) {
        fputs(name, f);
        if (!labels || !labels[0])
                return;
        fputc('{', f);
        for (size_t i = 0; labels[i]; i += 2) {
                fprintf(f, "%s%s=", i > 0 ? "," : "", labels[i]);
                metrics_write_label_value(f, labels[i + 1] ?: "");
        }
        fputc('}', f);
}

static void write_u64(FILE *f, const char *name, const char *const *labels, uint64_t v) {
        write_name_labels(f, name, labels);
        fprintf(f, " %" PRIu64 "\n", v);
}

static void write_secs(FILE *f, const char *name, const char *const *labels, uint64_t usec) {
        char buf[SECONDS_MAX];

        write_name_labels(f, name, labels);
        fprintf(f, " %s\n", format_seconds(buf, usec));
}

#define LABELS(...) ((const char *const[]) { __VA_ARGS__, NULL })

static void write_build_info(FILE *f, const MetricsSnapshot *s) {
        write_family(f, "corral_build_info", "gauge", "Always 1; the version of corrald in a label.");
        write_u64(f, "corral_build_info", LABELS("version", s->version ?: "unknown"), 1);
}

/* corral_units{kind,state}: every kind × state, zeros included, so that a
 * query for a state that no unit is in finds 0 rather than nothing. */
static void write_units_by_state(FILE *f, const MetricsSnapshot *s) {
        static const char *const kinds[] = { "service", "job" };

        write_family(f, "corral_units", "gauge", "Units by kind and state.");
        for (size_t k = 0; k < ELEMENTSOF(kinds); k++)
                for (const char *const *st = s->states; st && *st; st++) {
                        uint64_t n = 0;

                        for (size_t i = 0; i < s->n_units; i++)
                                n += streq(s->units[i].kind, kinds[k]) && streq(s->units[i].state, *st);
                        write_u64(f, "corral_units", LABELS("kind", kinds[k], "state", *st), n);
                }
}

static void write_unhealthy(FILE *f, const MetricsSnapshot *s) {
        uint64_t n = 0;

        for (size_t i = 0; i < s->n_units; i++)
                n += s->units[i].has_health && !s->units[i].healthy;
        write_family(f, "corral_units_unhealthy", "gauge", "Units whose last health check failed.");
        write_u64(f, "corral_units_unhealthy", /* labels= */ NULL, n);
}

static void write_unit_states(FILE *f, const MetricsSnapshot *s) {
        write_family(f, "corral_unit_state", "gauge", "1 for the state each unit is in.");
        for (size_t i = 0; i < s->n_units; i++) {
                const MetricsUnit *u = &s->units[i];
                write_u64(f, "corral_unit_state", LABELS("unit", u->name, "kind", u->kind, "state", u->state), 1);
        }
}

static void write_restarts(FILE *f, const MetricsSnapshot *s) {
        write_family(f, "corral_unit_restarts_total", "counter", "Restarts of each unit by reason.");
        for (size_t i = 0; i < s->n_units; i++)
                for (size_t k = 0; k < s->units[i].n_restarts; k++)
                        write_u64(f, "corral_unit_restarts_total",
                                  LABELS("unit", s->units[i].name, "reason", s->units[i].restarts[k].label),
                                  s->units[i].restarts[k].value);
}

static void write_health(FILE *f, const MetricsSnapshot *s) {
        static const struct {
                const char *name, *type, *help;
        } families[] = {
                { "corral_unit_health_checks_total", "counter", "Health checks of each unit." },
                { "corral_unit_health_check_failures_total", "counter", "Failed health checks of each unit." },
                { "corral_unit_healthy", "gauge", "1 when the last health check of the unit passed." },
        };

        for (size_t k = 0; k < ELEMENTSOF(families); k++) {
                write_family(f, families[k].name, families[k].type, families[k].help);
                for (size_t i = 0; i < s->n_units; i++) {
                        const MetricsUnit *u = &s->units[i];
                        uint64_t v = k == 0 ? u->health_checks : k == 1 ? u->health_failures : u->healthy;

                        if (u->has_health)
                                write_u64(f, families[k].name, LABELS("unit", u->name), v);
                }
        }
}

static void write_resources(FILE *f, const MetricsSnapshot *s) {
        write_family(f, "corral_unit_cpu_seconds_total", "counter", "CPU time used by the processes of each unit.");
        for (size_t i = 0; i < s->n_units; i++)
                if (s->units[i].cpu_usec != UINT64_MAX)
                        write_secs(f, "corral_unit_cpu_seconds_total", LABELS("unit", s->units[i].name),
                                   s->units[i].cpu_usec);
        write_family(f, "corral_unit_memory_bytes", "gauge", "Memory used by each unit.");
        for (size_t i = 0; i < s->n_units; i++)
                if (s->units[i].memory_bytes != UINT64_MAX)
                        write_u64(f, "corral_unit_memory_bytes", LABELS("unit", s->units[i].name),
                                  s->units[i].memory_bytes);
        write_family(f, "corral_unit_tasks", "gauge", "Tasks (threads) in the cgroup of each unit.");
        for (size_t i = 0; i < s->n_units; i++)
                if (s->units[i].tasks != UINT64_MAX)
                        write_u64(f, "corral_unit_tasks", LABELS("unit", s->units[i].name), s->units[i].tasks);
}

static void write_jobs_and_requests(FILE *f, const MetricsSnapshot *s) {
        write_family(f, "corral_jobs_finished_total", "counter", "Jobs that ended, by result.");
        for (size_t i = 0; i < s->n_jobs_by_result; i++)
                write_u64(f, "corral_jobs_finished_total", LABELS("result", s->jobs_by_result[i].label),
                          s->jobs_by_result[i].value);
        write_family(f, "corral_control_requests_total", "counter", "Control socket requests by method and outcome.");
        for (size_t i = 0; i < s->n_requests; i++)
                write_u64(f, "corral_control_requests_total",
                          LABELS("method", s->requests[i].method, "outcome", s->requests[i].outcome),
                          s->requests[i].value);
}

static void write_reloads(FILE *f, const MetricsSnapshot *s) {
        write_family(f, "corral_reloads_total", "counter", "Configuration reloads, failed ones included.");
        write_u64(f, "corral_reloads_total", /* labels= */ NULL, s->reloads);
        write_family(f, "corral_reload_failures_total", "counter", "Reloads refused for an invalid configuration.");
        write_u64(f, "corral_reload_failures_total", /* labels= */ NULL, s->reload_failures);
        if (s->last_reload_usec == 0)
                return;
        write_family(f, "corral_last_reload_timestamp_seconds", "gauge",
                     "When the configuration was last loaded, in seconds since the epoch.");
        write_secs(f, "corral_last_reload_timestamp_seconds", /* labels= */ NULL, s->last_reload_usec);
}

static void write_latency(FILE *f, const MetricsHistogram *h) {
        char le[SECONDS_MAX];
        uint64_t cumulative = 0;

        write_family(f, "corral_start_latency_seconds", "histogram",
                     "Time from the start of a unit to its being ready.");
        for (size_t i = 0; i <= METRICS_LATENCY_BUCKETS; i++) {
                cumulative += h->counts[i];
                if (i == METRICS_LATENCY_BUCKETS)
                        snprintf(le, sizeof(le), "+Inf");
                else
                        format_seconds(le, metrics_latency_bounds_usec[i]);
                write_u64(f, "corral_start_latency_seconds_bucket", LABELS("le", le), cumulative);
        }
        write_secs(f, "corral_start_latency_seconds_sum", /* labels= */ NULL, h->sum_usec);
        write_u64(f, "corral_start_latency_seconds_count", /* labels= */ NULL, h->count);
}

static int snapshot_valid(const MetricsSnapshot *s) {
        for (size_t i = 0; i < s->n_units; i++)
                if (!s->units[i].name || !s->units[i].kind || !s->units[i].state)
                        return -EINVAL;
        return 0;
}

int metrics_format(const MetricsSnapshot *s, char **ret_text, size_t *ret_len) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f;
        int r;

        r = snapshot_valid(s);
        if (r < 0)
                return r;
        f = open_memstream(&text, &len);
        if (!f)
                return -ENOMEM;
        write_build_info(f, s);
        write_units_by_state(f, s);
        write_unhealthy(f, s);
        write_unit_states(f, s);
        write_restarts(f, s);
        write_health(f, s);
        write_resources(f, s);
        write_jobs_and_requests(f, s);
        write_reloads(f, s);
        write_latency(f, &s->start_latency);
        r = ferror(f) ? -ENOMEM : 0;
        if (fclose(f) != 0 || r < 0)
                return -ENOMEM;
        if (ret_len)
                *ret_len = len;
        *ret_text = TAKE_PTR(text);
        return 0;
}
