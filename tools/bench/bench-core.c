/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Figures for the core: how long corrald takes to start N services, and to
 * stop a tree of N processes that ignore SIGTERM with stop_timeout = 0.
 * Prints "name value unit" lines (medians of several runs); asserts
 * nothing. Needs root and cgroup2; run through meson:
 *     meson test -C build --benchmark --verbose  (or: ninja -C build && build/tools/bench/bench-core)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "test-util.h"

#define RUNS 5

static int cmp_usec(const void *a, const void *b) {
        usec_t x = *(const usec_t *) a, y = *(const usec_t *) b;
        return (x > y) - (x < y);
}

static double median_ms(usec_t *v, size_t n) {
        qsort(v, n, sizeof(usec_t), cmp_usec);
        return (double) v[n / 2] / 1000.0;
}

typedef struct Count {
        const char *marker;
        int n;
} Count;

static bool count_reached(void *userdata) {
        const Count *c = userdata;
        return test_count_marker(c->marker) >= c->n;
}

static bool count_zero(void *userdata) {
        const Count *c = userdata;
        return test_count_marker(c->marker) == 0;
}

/* Start n services of "sleep": time until every one has exec'd (counted by
 * the marker in their environment), then the stop of all of them. */
static int bench_start(int n, usec_t *ret_start, usec_t *ret_stop) {
        _cleanup_free_ char *marker = test_marker_new("bench-start");
        TestDaemon d;
        size_t size = 0;
        char *body = NULL;
        FILE *f = open_memstream(&body, &size);

        for (int i = 0; i < n; i++)
                fprintf(f, "[program:s%d]\ncommand = sleep 100000\nenvironment = CORRAL_TEST_MARKER=%s\n", i,
                        marker);
        fclose(f);
        usec_t t0 = now(CLOCK_MONOTONIC);
        if (test_daemon_start(&d, "bench-start", body) < 0)
                abort();
        free(body);
        Count c = { marker, n };
        if (!test_wait_for(count_reached, &c, 120 * USEC_PER_SEC))
                return -ETIMEDOUT;
        *ret_start = now(CLOCK_MONOTONIC) - t0;

        t0 = now(CLOCK_MONOTONIC);
        test_daemon_signal(&d, SIGTERM);
        if (!test_wait_for(count_zero, &c, 120 * USEC_PER_SEC))
                return -ETIMEDOUT;
        *ret_stop = now(CLOCK_MONOTONIC) - t0;
        test_daemon_wait(&d, 60 * USEC_PER_SEC);
        test_daemon_cleanup(&d);
        return 0;
}

/* One unit whose tree holds n processes that ignore SIGTERM; stop_timeout
 * = 0: time from SIGTERM to corrald until corrald, having seen the cgroup
 * empty and removed it, has exited. */
static int bench_stop_tree(int n, usec_t *ret) {
        _cleanup_free_ char *marker = test_marker_new("bench-tree"), *forker = test_helper_path("test-forker"),
                            *body = NULL;
        TestDaemon d;

        if (asprintf(&body,
                     "[program:tree]\ncommand = %s tree %d ignore\nstop_timeout = 0\n"
                     "environment = CORRAL_TEST_MARKER=%s\n",
                     forker, n - 1, marker) < 0)
                abort();
        if (test_daemon_start(&d, "bench-tree", body) < 0)
                abort();
        Count c = { marker, n };
        if (!test_wait_for(count_reached, &c, 120 * USEC_PER_SEC))
                return -ETIMEDOUT;
        usec_t t0 = now(CLOCK_MONOTONIC);
        test_daemon_signal(&d, SIGTERM);
        if (!test_daemon_wait(&d, 60 * USEC_PER_SEC))
                return -ETIMEDOUT;
        *ret = now(CLOCK_MONOTONIC) - t0;
        if (test_count_marker(marker) != 0)
                fprintf(stderr, "warning: survivors after the stop\n");
        test_daemon_cleanup(&d);
        return 0;
}

int main(int argc, char *argv[]) {
        usec_t start[RUNS], stop[RUNS], tree[RUNS];
        int n_services = argc > 1 ? atoi(argv[1]) : 200, n_tree = argc > 2 ? atoi(argv[2]) : 500;

        test_require_cgroup2_root();
        /* the daemons' logs go to stderr only on failure */
        for (int i = 0; i < RUNS; i++) {
                if (bench_start(n_services, &start[i], &stop[i]) < 0 || bench_stop_tree(n_tree, &tree[i]) < 0) {
                        fprintf(stderr, "a run timed out\n");
                        return 1;
                }
        }
        printf("start_%d_services %.1f ms\n", n_services, median_ms(start, RUNS));
        printf("stop_%d_services %.1f ms\n", n_services, median_ms(stop, RUNS));
        printf("stop_tree_%d_ignoring_sigterm_timeout_0 %.1f ms\n", n_tree, median_ms(tree, RUNS));
        return 0;
}
