/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The Prometheus formatter: snapshots on a table, each output read back by
 * the real parser of Debian's python3-prometheus-client
 * (prometheus_client.parser.text_string_to_metric_families), which
 * prints every sample as "name{k=v,…} value" with sorted labels and every
 * family as "TYPE name type". Needs no root; skips (77) without the
 * parser. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"
#include "metrics-collector.h"
#include "metrics.h"

#define PYTHON "/usr/bin/python3"

static const char parser_script[] =
        "import sys\n"
        "from prometheus_client.parser import text_string_to_metric_families\n"
        "for fam in text_string_to_metric_families(open(sys.argv[1]).read()):\n"
        "    print('TYPE %s %s' % (fam.name, fam.type))\n"
        "    for s in fam.samples:\n"
        "        labels = ','.join('%s=%s' % (k, s.labels[k]) for k in sorted(s.labels))\n"
        "        print('%s{%s} %r' % (s.name, labels, s.value))\n";

/* Runs the parser on text. Returns its stdout (malloc'd), or NULL when it
 * failed (its stderr is the test's). */
static char *parse(const char *text) {
        char path[] = "/tmp/test-metrics-XXXXXX";
        _cleanup_free_ char *cmd = NULL, *out = NULL;
        size_t size = 0;
        int fd = mkstemp(path), status;
        FILE *p;

        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
        close(fd);
        assert_true(asprintf(&cmd, PYTHON " -c \"$CORRAL_TEST_PARSER\" %s", path) > 0);
        setenv("CORRAL_TEST_PARSER", parser_script, /* overwrite= */ 1);
        p = popen(cmd, "r");
        assert_non_null(p);
        FILE *m = open_memstream(&out, &size);
        for (int c; (c = fgetc(p)) != EOF;)
                fputc(c, m);
        fclose(m);
        status = pclose(p);
        unlink(path);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return NULL;
        return TAKE_PTR(out);
}

/* Whether the parser's output holds the line exactly. */
static bool has_line(const char *out, const char *line) {
        size_t n = strlen(line);

        for (const char *p = out; (p = strstr(p, line)); p++)
                if ((p == out || p[-1] == '\n') && p[n] == '\n')
                        return true;
        return false;
}

static char *format(const MetricsSnapshot *s) {
        char *text = NULL;
        size_t len = 0;

        assert_int_equal(metrics_format(s, &text, &len), 0);
        assert_int_equal(len, strlen(text));
        return text;
}

static const char *const states[] = { "inactive", "starting", "running", "stopping", "backoff", "failed", NULL };

static void test_empty(_unused_ void **state) {
        MetricsSnapshot s = { .version = "0.1.0", .states = states };
        _cleanup_free_ char *text = format(&s), *out = parse(text);

        assert_non_null(out);
        print_message("%s", out);
        assert_true(has_line(out, "TYPE corral_build_info gauge"));
        assert_true(has_line(out, "corral_build_info{version=0.1.0} 1.0"));
        assert_true(has_line(out, "corral_units{kind=service,state=running} 0.0"));
        assert_true(has_line(out, "corral_units{kind=job,state=failed} 0.0"));
        assert_true(has_line(out, "corral_units_unhealthy{} 0.0"));
        assert_true(has_line(out, "TYPE corral_reloads counter")); /* the parser drops _total */
        assert_true(has_line(out, "corral_reloads_total{} 0.0"));
        assert_true(has_line(out, "TYPE corral_start_latency_seconds histogram"));
        assert_true(has_line(out, "corral_start_latency_seconds_bucket{le=+Inf} 0.0"));
        assert_true(has_line(out, "corral_start_latency_seconds_count{} 0.0"));
        /* No reload yet: no timestamp. */
        assert_null(strstr(out, "corral_last_reload_timestamp_seconds"));
}

static void test_units(_unused_ void **state) {
        static const MetricsCount web0_restarts[] = { { "unhealthy", 2 }, { "exit-code", 1 } };
        static const MetricsCount jobs[] = { { "success", 7 }, { "signal", 1 } };
        static const MetricsRequestCount requests[] = { { "stop", "refused", 3 }, { "status", "ok", 12 } };
        const MetricsUnit units[] = {
                { .name = "web@0",
                  .kind = "service",
                  .state = "running",
                  .restarts = web0_restarts,
                  .n_restarts = ELEMENTSOF(web0_restarts),
                  .has_health = true,
                  .healthy = false,
                  .health_checks = 40,
                  .health_failures = 3,
                  .cpu_usec = 1500000,
                  .memory_bytes = 4096000,
                  .tasks = 2 },
                { .name = "web@1",
                  .kind = "service",
                  .state = "running",
                  .has_health = true,
                  .healthy = true,
                  .health_checks = 41,
                  .cpu_usec = 250,
                  .memory_bytes = UINT64_MAX,
                  .tasks = UINT64_MAX },
                { .name = "job-1",
                  .kind = "job",
                  .state = "failed",
                  .cpu_usec = UINT64_MAX,
                  .memory_bytes = UINT64_MAX,
                  .tasks = UINT64_MAX },
        };
        MetricsSnapshot s = {
                .version = "0.1.0",
                .states = states,
                .units = units,
                .n_units = ELEMENTSOF(units),
                .jobs_by_result = jobs,
                .n_jobs_by_result = ELEMENTSOF(jobs),
                .requests = requests,
                .n_requests = ELEMENTSOF(requests),
                .reloads = 4,
                .reload_failures = 1,
                .last_reload_usec = UINT64_C(1764650000250000),
        };
        _cleanup_free_ char *text = format(&s), *out = parse(text);
        static const char *const expected[] = {
                "corral_units{kind=service,state=running} 2.0",
                "corral_units{kind=job,state=failed} 1.0",
                "corral_units{kind=service,state=failed} 0.0",
                "corral_units_unhealthy{} 1.0",
                "corral_unit_state{kind=service,state=running,unit=web@0} 1.0",
                "corral_unit_state{kind=job,state=failed,unit=job-1} 1.0",
                "corral_unit_restarts_total{reason=unhealthy,unit=web@0} 2.0",
                "corral_unit_restarts_total{reason=exit-code,unit=web@0} 1.0",
                "corral_unit_health_checks_total{unit=web@0} 40.0",
                "corral_unit_health_check_failures_total{unit=web@0} 3.0",
                "corral_unit_health_check_failures_total{unit=web@1} 0.0",
                "corral_unit_healthy{unit=web@0} 0.0",
                "corral_unit_healthy{unit=web@1} 1.0",
                "corral_unit_cpu_seconds_total{unit=web@0} 1.5",
                "corral_unit_cpu_seconds_total{unit=web@1} 0.00025",
                "corral_unit_memory_bytes{unit=web@0} 4096000.0",
                "corral_unit_tasks{unit=web@0} 2.0",
                "corral_jobs_finished_total{result=success} 7.0",
                "corral_control_requests_total{method=stop,outcome=refused} 3.0",
                "corral_control_requests_total{method=status,outcome=ok} 12.0",
                "corral_reloads_total{} 4.0",
                "corral_reload_failures_total{} 1.0",
                "corral_last_reload_timestamp_seconds{} 1764650000.25",
                "TYPE corral_unit_cpu_seconds counter",
                "TYPE corral_unit_memory_bytes gauge",
        };

        assert_non_null(out);
        print_message("%s", out);
        for (size_t i = 0; i < ELEMENTSOF(expected); i++) {
                print_message("expect %s\n", expected[i]);
                assert_true(has_line(out, expected[i]));
        }
        /* Absent values leave their samples out; no health, no health samples. */
        assert_null(strstr(out, "corral_unit_memory_bytes{unit=web@1}"));
        assert_null(strstr(out, "corral_unit_cpu_seconds_total{unit=job-1}"));
        assert_null(strstr(out, "corral_unit_healthy{unit=job-1}"));
}

/* Label values with a backslash, a double quote and a newline come back
 * as they went in. */
static void test_label_escaping(_unused_ void **state) {
        static const MetricsCount jobs[] = { { "a\"b\\c\nd", 1 } };
        MetricsSnapshot s = { .states = states, .jobs_by_result = jobs, .n_jobs_by_result = 1 };
        _cleanup_free_ char *text = format(&s), *out = NULL;

        assert_non_null(strstr(text, "corral_jobs_finished_total{result=\"a\\\"b\\\\c\\nd\"} 1\n"));
        out = parse(text);
        assert_non_null(out);
        assert_true(has_line(out, "corral_jobs_finished_total{result=a\"b\\c"));
        assert_true(has_line(out, "d} 1.0"));
}

static void test_histogram(_unused_ void **state) {
        static const struct {
                uint64_t usec;
                const char *bucket; /* the smallest bucket that counts it */
        } cases[] = {
                { 0, "0.005" },     { 5000, "0.005" },    { 5001, "0.01" },
                { 999999, "1" },    { 1000000, "1" },     { 2500000, "2.5" },
                { 30000000, "30" }, { 30000001, "+Inf" }, { UINT64_C(3600000000), "+Inf" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                MetricsSnapshot s = { .states = states };
                char line[128];

                metrics_histogram_observe(&s.start_latency, cases[i].usec);
                _cleanup_free_ char *text = format(&s), *out = parse(text);
                assert_non_null(out);
                print_message("%" PRIu64 " µs -> le=%s\n", cases[i].usec, cases[i].bucket);
                snprintf(line, sizeof(line), "corral_start_latency_seconds_bucket{le=%s} 1.0", cases[i].bucket);
                assert_true(has_line(out, line));
                assert_true(has_line(out, "corral_start_latency_seconds_bucket{le=+Inf} 1.0"));
                assert_true(has_line(out, "corral_start_latency_seconds_count{} 1.0"));
        }
}

/* Many observations: the buckets are cumulative and the sum exact. */
static void test_histogram_sum(_unused_ void **state) {
        MetricsSnapshot s = { .states = states };

        for (int i = 0; i < 10; i++)
                metrics_histogram_observe(&s.start_latency, 20000); /* 20 ms */
        metrics_histogram_observe(&s.start_latency, 3000000);       /* 3 s */
        _cleanup_free_ char *text = format(&s), *out = parse(text);
        assert_non_null(out);
        assert_true(has_line(out, "corral_start_latency_seconds_bucket{le=0.01} 0.0"));
        assert_true(has_line(out, "corral_start_latency_seconds_bucket{le=0.025} 10.0"));
        assert_true(has_line(out, "corral_start_latency_seconds_bucket{le=2.5} 10.0"));
        assert_true(has_line(out, "corral_start_latency_seconds_bucket{le=5} 11.0"));
        assert_true(has_line(out, "corral_start_latency_seconds_sum{} 3.2"));
        assert_true(has_line(out, "corral_start_latency_seconds_count{} 11.0"));
}

static void test_invalid(_unused_ void **state) {
        const MetricsUnit units[] = { { .name = "web", .state = "running" } };
        MetricsSnapshot s = { .states = states, .units = units, .n_units = 1 };
        char *text = NULL;

        assert_int_equal(metrics_format(&s, &text, /* ret_len= */ NULL), -EINVAL);
        assert_null(text);
}

/* ---- the collector, fed fake units and events ---- */

static void deliver(MetricsCollector *m, Unit *u, UnitState old_state) {
        ManagerEvent ev = { .type = MANAGER_EVENT_UNIT_CHANGED,
                            .unit = u,
                            .name = u->name,
                            .old_state = old_state,
                            .new_state = u->state,
                            .result = u->result };
        metrics_collector_on_event(&ev, m);
}

static void test_collector(_unused_ void **state) {
        _cleanup_(metrics_collector_freep) MetricsCollector *m = metrics_collector_new();
        Unit web = { .name = (char *) "web@0", .state = UNIT_STARTING };
        Unit job = { .name = (char *) "job-1", .is_job = true, .state = UNIT_RUNNING };
        const MetricsUnitCounters *c;
        MetricsSnapshot s = { .states = states };

        assert_non_null(m);
        assert_null(metrics_collector_unit(m, "web@0"));
        /* started 30 ms ago, running now: one latency in the 0.05 bucket */
        web.started_at = now(CLOCK_MONOTONIC) - 30 * USEC_PER_MSEC;
        web.state = UNIT_RUNNING;
        deliver(m, &web, UNIT_STARTING);
        /* two unhealthy restarts and one exit-code */
        for (int i = 0; i < 3; i++) {
                web.result = i < 2 ? UNIT_FAILURE_UNHEALTHY : UNIT_FAILURE_EXIT_CODE;
                web.state = UNIT_STOPPING;
                deliver(m, &web, UNIT_RUNNING);
                web.state = UNIT_BACKOFF;
                deliver(m, &web, UNIT_STOPPING);
        }
        metrics_collector_count_health(m, "web@0", true);
        metrics_collector_count_health(m, "web@0", false);
        metrics_collector_count_health(m, "web@0", false);
        c = metrics_collector_unit(m, "web@0");
        assert_non_null(c);
        assert_int_equal(c->restarts[UNIT_FAILURE_UNHEALTHY], 2);
        assert_int_equal(c->restarts[UNIT_FAILURE_EXIT_CODE], 1);
        assert_int_equal(c->restarts[UNIT_SUCCESS], 0);
        assert_int_equal(c->health_checks, 3);
        assert_int_equal(c->health_failures, 2);

        /* a job ends: counted once, by its result */
        job.result = UNIT_FAILURE_SIGNAL;
        job.state = UNIT_FAILED;
        deliver(m, &job, UNIT_STOPPING);
        deliver(m, &job, UNIT_FAILED); /* no change of state: not counted again */

        metrics_collector_count_request(m, "stop", "refused");
        metrics_collector_count_request(m, "stop", "refused");
        metrics_collector_count_request(m, "status", "ok");
        metrics_collector_count_request(m, /* method= */ NULL, "error");
        metrics_collector_set_loaded(m, UINT64_C(1764650000000000));
        metrics_collector_count_reload(m, /* ok= */ false, UINT64_C(1764650001000000));
        metrics_collector_count_reload(m, /* ok= */ true, UINT64_C(1764650002500000));

        metrics_collector_fill(m, &s);
        _cleanup_free_ char *text = format(&s), *out = parse(text);
        assert_non_null(out);
        print_message("%s", out);
        assert_true(has_line(out, "corral_jobs_finished_total{result=signal} 1.0"));
        assert_true(has_line(out, "corral_control_requests_total{method=stop,outcome=refused} 2.0"));
        assert_true(has_line(out, "corral_control_requests_total{method=status,outcome=ok} 1.0"));
        assert_true(has_line(out, "corral_control_requests_total{method=invalid,outcome=error} 1.0"));
        assert_true(has_line(out, "corral_reloads_total{} 2.0"));
        assert_true(has_line(out, "corral_reload_failures_total{} 1.0"));
        assert_true(has_line(out, "corral_last_reload_timestamp_seconds{} 1764650002.5"));
        assert_true(has_line(out, "corral_start_latency_seconds_bucket{le=0.025} 0.0"));
        assert_true(has_line(out, "corral_start_latency_seconds_bucket{le=0.05} 1.0"));
        assert_true(has_line(out, "corral_start_latency_seconds_count{} 1.0"));

        /* a removed unit's counters go with it */
        ManagerEvent removed = { .type = MANAGER_EVENT_UNIT_REMOVED, .unit = &web, .name = web.name };
        metrics_collector_on_event(&removed, m);
        assert_null(metrics_collector_unit(m, "web@0"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_empty),          cmocka_unit_test(test_units),
                cmocka_unit_test(test_label_escaping), cmocka_unit_test(test_histogram),
                cmocka_unit_test(test_histogram_sum),  cmocka_unit_test(test_invalid),
                cmocka_unit_test(test_collector),
        };

        if (system(PYTHON " -c 'import prometheus_client.parser' 2>/dev/null") != 0) {
                fprintf(stderr, "skipped: " PYTHON
                                " has no prometheus_client (Debian package "
                                "python3-prometheus-client; tools/setup installs it)\n");
                return 77;
        }
        return cmocka_run_group_tests(tests, /* setup= */ NULL, /* teardown= */ NULL);
}
