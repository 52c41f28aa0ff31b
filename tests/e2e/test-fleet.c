/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Health checks and ports in a real corrald against the real demo
 * service: restarts after exactly health_threshold failures, timeouts,
 * grace, ready = health, ports unique/sticky/released/skipped/exhausted,
 * and 200 units checked every second. */

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"
#include "macro.h"
#include "test-util.h"

#define TIMEOUT (30 * USEC_PER_SEC)

static TestDaemon daemon_;
static unsigned range_base;

static int teardown(void **state) {
        test_daemon_cleanup(&daemon_);
        return 0;
}

/* A port range of our own for each test, from a base that depends on the PID. */
static void next_range(unsigned *lo, unsigned *hi, unsigned size) {
        *lo = range_base;
        *hi = range_base + size - 1;
        range_base += size;
}

static json_t *status(void) {
        json_t *s = test_daemon_request(&daemon_, "status", NULL, NULL);
        assert_non_null(s);
        return s;
}

static int unit_port(json_t *st, const char *name) {
        json_t *u = test_status_unit(st, name);
        assert_non_null(u);
        return (int) json_integer_value(json_object_get(u, "port"));
}

/* GET path on 127.0.0.1:port with a plain socket (the test's own client). */
static void http_get(int port, const char *path) {
        struct sockaddr_in sa = { .sin_family = AF_INET,
                                  .sin_port = htons((uint16_t) port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        char req[256], buf[256];
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        assert_int_equal(connect(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
        assert_true(write(fd, req, strlen(req)) > 0);
        (void) !read(fd, buf, sizeof(buf));
        close(fd);
}

static char *web_body(const char *extra, unsigned instances) {
        unsigned lo, hi;
        char *body;

        next_range(&lo, &hi, 20);
        _cleanup_free_ char *inst = NULL;
        if (instances > 1)
                assert_true(asprintf(&inst, "instances = %u\n", instances) > 0);
        assert_true(asprintf(&body,
                             "[corral]\nport_range = %u-%u\n"
                             "[program:web]\ncommand = %s -port ${PORT}\n%sport = auto\n"
                             "health_url = http://127.0.0.1:${PORT}/api/status\nhealth_interval = 200ms\n"
                             "health_timeout = 300ms\nhealth_threshold = 3\nrestart_delay = 100ms\noutput = null\n%s",
                             lo, hi, getenv("CORRAL_DEMO_SERVICE"), inst ?: "", extra) > 0);
        return body;
}

static bool maps_libcurl(pid_t pid) {
        _cleanup_free_ char *path = NULL, *maps = NULL;

        assert_true(asprintf(&path, "/proc/%d/maps", (int) pid) > 0);
        assert_int_equal(read_full_file_at(AT_FDCWD, path, 16 * 1024 * 1024, &maps, NULL), 0);
        return strstr(maps, "libcurl") != NULL;
}

/* libcurl (and the ~28 libraries only it pulls in) is mapped by the first
 * health check, not before: a corrald without health checks does without
 * it (issue 17). */
static void test_libcurl_only_when_needed(void **state) {
        _cleanup_free_ char *body = web_body("ready = health\n", 1);
        const char *plain = "[program:plain]\ncommand = sleep 1000\noutput = null\n";

        assert_int_equal(test_daemon_start(&daemon_, "nocurl", plain), 0);
        assert_true(test_daemon_wait_log(&daemon_, "plain: started", 1, TIMEOUT));
        assert_false(maps_libcurl(daemon_.pid));
        assert_true(test_daemon_stop_cleanly(&daemon_));
        test_daemon_cleanup(&daemon_);

        assert_int_equal(test_daemon_start(&daemon_, "curl", body), 0);
        assert_true(test_daemon_wait_log(&daemon_, "web: ready (health check passed)", 1, TIMEOUT));
        assert_true(maps_libcurl(daemon_.pid));
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* Whether 127.0.0.1:port answers GET /api/status with 200 right now. */
static bool answers(int port) {
        struct sockaddr_in sa = { .sin_family = AF_INET,
                                  .sin_port = htons((uint16_t) port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        const char req[] = "GET /api/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        struct timeval tv = { .tv_sec = 1 };
        char buf[64] = {};
        _cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || write(fd, req, sizeof(req) - 1) < 0)
                return false;
        return read(fd, buf, sizeof(buf) - 1) > 0 && strstr(buf, " 200 ");
}

/* A changed service with three health-checked instances restarts them one
 * at a time (restart_parallel = 1), each waiting until the restarted one
 * passes its check: at least two answer at every moment (issue 14). */
static void test_rolling_restart(void **state) {
        _cleanup_free_ char *body = web_body("ready = health\n", 3), *v2 = NULL, *conf = NULL;
        int ports[3];

        assert_int_equal(test_daemon_start(&daemon_, "roll", body), 0);
        for (int i = 0; i < 3; i++) {
                char what[64];
                snprintf(what, sizeof(what), "web@%d: ready (health check passed)", i);
                assert_true(test_daemon_wait_log(&daemon_, what, 1, TIMEOUT));
        }
        json_t *st = status();
        for (int i = 0; i < 3; i++) {
                char name[16];
                snprintf(name, sizeof(name), "web@%d", i);
                ports[i] = unit_port(st, name);
        }
        json_decref(st);

        /* the same service with one more environment entry: changed */
        assert_true(asprintf(&v2, "%senvironment = ROLL=2\n", body + strlen("[corral]\n")) > 0);
        assert_true(asprintf(&conf, "[corral]\ncgroup = %s\ncontrol_socket = %s\n%s", daemon_.cgroup, daemon_.socket,
                             v2) > 0);
        assert_int_equal(test_write_file(daemon_.config, conf), 0);
        assert_int_equal(test_daemon_signal(&daemon_, SIGHUP), 0);

        int fewest = 3;
        usec_t deadline = now(CLOCK_MONOTONIC) + TIMEOUT;
        while (test_daemon_log_count(&daemon_, "(health check passed)") < 6 && now(CLOCK_MONOTONIC) < deadline) {
                int n = 0;
                for (int i = 0; i < 3; i++)
                        n += answers(ports[i]);
                fewest = MIN(fewest, n);
                usleep(20 * 1000);
        }
        assert_int_equal(test_daemon_log_count(&daemon_, "(health check passed)"), 6);
        print_message("fewest instances answering during the roll: %d\n", fewest);
        assert_true(fewest >= 2);
        /* one at a time: each stop comes after the previous one is ready again */
        usec_t ready[6], stop[3];
        assert_int_equal(test_daemon_log_times(&daemon_, "(health check passed)", ready, 6), 6);
        assert_int_equal(test_daemon_log_times(&daemon_, ": stopping", stop, 3), 3);
        assert_true(stop[1] >= ready[3] && stop[2] >= ready[4]);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* Switched to 500s, a unit is restarted after exactly health_threshold
 * failed checks, as unhealthy; its neighbour is untouched. */
static void test_unhealthy_restart(void **state) {
        _cleanup_free_ char *body = web_body("ready = health\n", 2);

        assert_int_equal(test_daemon_start(&daemon_, "unhealthy", body), 0);
        assert_true(test_daemon_wait_log(&daemon_, "web@0: ready (health check passed)", 1, TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "web@1: ready (health check passed)", 1, TIMEOUT));
        json_t *st = status();
        int port = unit_port(st, "web@0");
        json_decref(st);
        http_get(port, "/api/fail");
        assert_true(test_daemon_wait_log(&daemon_, "web@0: restarting in", 1, TIMEOUT));
        assert_int_equal(test_daemon_log_count(&daemon_, "web@0: health check failed: HTTP 500"), 3);
        assert_int_equal(test_daemon_log_count(&daemon_, "(3 of 3 in a row)"), 1);
        assert_int_equal(test_daemon_log_count(&daemon_, "result unhealthy"), 1);
        assert_true(test_daemon_wait_log(&daemon_, "web@0: ready (health check passed)", 2, TIMEOUT));
        /* sticky port: the restarted instance got its port back */
        st = status();
        assert_int_equal(unit_port(st, "web@0"), port);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(test_status_unit(st, "web@0"), "health"),
                                                            "failures")),
                         0);
        json_decref(st);
        assert_int_equal(test_daemon_log_count(&daemon_, "web@1: started"), 1);
}

/* A service that hangs fails its checks by health_timeout. */
static void test_hang(void **state) {
        _cleanup_free_ char *body = web_body("", 1);

        assert_int_equal(test_daemon_start(&daemon_, "hang", body), 0);
        assert_true(test_daemon_wait_log(&daemon_, "web: started", 1, TIMEOUT));
        usleep(300 * 1000);
        json_t *st = status();
        int port = unit_port(st, "web");
        json_decref(st);
        http_get(port, "/api/hang");
        assert_true(test_daemon_wait_log(&daemon_, "web: restarting in", 1, TIMEOUT));
        assert_true(test_daemon_log_count(&daemon_, "web: health check failed: Operation timed out") +
                            test_daemon_log_count(&daemon_, "web: health check failed: Timeout") >=
                    3);
}

/* health_grace: failures right after a start do not count. */
static void test_grace(void **state) {
        _cleanup_free_ char *body = web_body("health_grace = 2s\n", 1);
        usec_t started, restart;

        /* the demo service answers 500 from its first request */
        char *p = strstr(body, "-port ${PORT}");
        assert_non_null(p);
        _cleanup_free_ char *b2 = NULL;
        assert_true(asprintf(&b2, "%.*s--fail-after 1 %s", (int) (p - body), body, p) > 0);
        assert_int_equal(test_daemon_start(&daemon_, "grace", b2), 0);
        assert_true(test_daemon_wait_log(&daemon_, "web: restarting in", 1, TIMEOUT));
        assert_int_equal(test_daemon_log_times(&daemon_, "web: started", &started, 1), 1);
        assert_int_equal(test_daemon_log_times(&daemon_, "web: restarting in", &restart, 1), 1);
        /* not before the grace is over, then threshold × interval */
        assert_true(restart - started >= 2 * USEC_PER_SEC);
}

/* ready = health: starting until the first check passes. */
static void test_ready_health(void **state) {
        _cleanup_free_ char *body = web_body("ready = health\n", 1);

        assert_int_equal(test_daemon_start(&daemon_, "readyhealth", body), 0);
        assert_true(test_daemon_wait_log(&daemon_, "web: started", 1, TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "web: ready (health check passed)", 1, TIMEOUT));
        usec_t started, ready;
        assert_int_equal(test_daemon_log_times(&daemon_, "web: started", &started, 1), 1);
        assert_int_equal(test_daemon_log_times(&daemon_, "web: ready (health", &ready, 1), 1);
        assert_true(ready > started); /* a check happened in between */
        json_t *st = status();
        assert_string_equal(json_string_value(json_object_get(test_status_unit(st, "web"), "state")), "running");
        json_decref(st);
}

/* Ports: unique across instances; one taken by somebody else is skipped;
 * released when the unit is removed; a range that runs out is an error for
 * the unit that could not get one, not for the others. */
static void test_ports(void **state) {
        unsigned lo, hi;
        _cleanup_free_ char *body = NULL, *body2 = NULL;
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

        next_range(&lo, &hi, 4);
        /* we hold the first port of the range */
        sa.sin_port = htons((uint16_t) lo);
        assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(listen(fd, 1), 0);
        assert_true(asprintf(&body,
                             "[corral]\nport_range = %u-%u\n"
                             "[program:s]\ncommand = sh -c 'echo port=$PORT; exec sleep 1000'\ninstances = 4\n"
                             "port = auto\n",
                             lo, hi) > 0);
        assert_int_equal(test_daemon_start(&daemon_, "ports", body), 0);
        assert_true(test_daemon_wait_log(&daemon_, "s@2: started", 1, TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "s@3: no free port in port_range", 1, TIMEOUT));
        json_t *st = status();
        int p0 = unit_port(st, "s@0"), p1 = unit_port(st, "s@1"), p2 = unit_port(st, "s@2");
        assert_string_equal(json_string_value(json_object_get(test_status_unit(st, "s@3"), "state")), "failed");
        json_decref(st);
        assert_true(p0 != p1 && p1 != p2 && p0 != p2);
        assert_true(p0 != (int) lo && p1 != (int) lo && p2 != (int) lo);
        char line[32];
        snprintf(line, sizeof(line), "port=%d", p1);
        assert_true(test_daemon_wait_log(&daemon_, line, 1, TIMEOUT));

        /* shrink to one instance: the ports of s@1, s@2 are released; the
         * freed ports go to a new service */
        assert_true(asprintf(&body2,
                             "[corral]\ncgroup = %s\ncontrol_socket = %s\nport_range = %u-%u\n"
                             "[program:s]\ncommand = sh -c 'echo port=$PORT; exec sleep 1000'\ninstances = 1\n"
                             "port = auto\n[program:t]\ncommand = sleep 1000\ninstances = 2\nport = auto\n",
                             daemon_.cgroup, daemon_.socket, lo, hi) > 0);
        assert_int_equal(test_write_file(daemon_.config, body2), 0);
        assert_int_equal(test_daemon_signal(&daemon_, SIGHUP), 0);
        assert_true(test_daemon_wait_log(&daemon_, "t@1: started", 1, TIMEOUT));
        st = status();
        int t0 = unit_port(st, "t@0"), t1 = unit_port(st, "t@1");
        assert_int_equal(unit_port(st, "s@0"), p0);
        json_decref(st);
        assert_true((t0 == p1 || t0 == p2) && (t1 == p1 || t1 == p2) && t0 != t1);
        close(fd);
}

static unsigned count_fds(pid_t pid) {
        char path[64];
        unsigned n = 0;
        snprintf(path, sizeof(path), "/proc/%d/fd", pid);
        DIR *d = opendir(path);
        assert_non_null(d);
        for (struct dirent *de; (de = readdir(d));)
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}

static uint64_t cpu_ticks(pid_t pid) {
        char path[64];
        _cleanup_free_ char *buf = NULL;
        unsigned long long utime = 0, stime = 0;
        snprintf(path, sizeof(path), "/proc/%d/stat", pid);
        assert_int_equal(read_full_file_at(AT_FDCWD, path, 4096, &buf, NULL), 0);
        const char *p = strrchr(buf, ')');
        assert_non_null(p);
        /* fields after comm: state(3) … utime(14) stime(15) */
        assert_int_equal(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime), 2);
        return utime + stime;
}

/* 200 units checked every second for (a shortened) 10 s: every check
 * accounted for, no descriptor leak; corrald's CPU time is printed. */
static void test_many(void **state) {
        unsigned lo, hi;
        _cleanup_free_ char *body = NULL;
        const usec_t run = 10 * USEC_PER_SEC;

        next_range(&lo, &hi, 220);
        assert_true(asprintf(&body,
                             "[corral]\nport_range = %u-%u\n"
                             "[program:w]\ncommand = %s -port ${PORT}\ninstances = 200\nport = auto\n"
                             "health_url = http://127.0.0.1:${PORT}/api/status\nhealth_interval = 1s\n"
                             "health_timeout = 2s\nready = health\noutput = null\nstart_timeout = 60s\n",
                             lo, hi, getenv("CORRAL_DEMO_SERVICE")) > 0);
        assert_int_equal(test_daemon_start(&daemon_, "many", body), 0);
        assert_true(test_daemon_wait_log(&daemon_, ": ready (health check passed)", 200, 120 * USEC_PER_SEC));
        unsigned fds_before = count_fds(daemon_.pid);
        uint64_t ticks_before = cpu_ticks(daemon_.pid);
        json_t *st = status();
        long checks_before = 0;
        size_t i;
        json_t *u;
        json_array_foreach(json_object_get(st, "units"), i, u)
                checks_before += json_integer_value(json_object_get(json_object_get(u, "health"), "checks"));
        json_decref(st);

        usleep(run);

        st = status();
        long checks_after = 0, failures = 0;
        json_array_foreach(json_object_get(st, "units"), i, u) {
                checks_after += json_integer_value(json_object_get(json_object_get(u, "health"), "checks"));
                failures += json_integer_value(json_object_get(json_object_get(u, "health"), "failures"));
        }
        json_decref(st);
        uint64_t ticks = cpu_ticks(daemon_.pid) - ticks_before;
        long done = checks_after - checks_before;
        print_message(
                "200 units, 1 check/s each, %llu s: %ld checks, %ld failing, corrald CPU %.2f s (%.1f%% of a core)\n",
                (unsigned long long) (run / USEC_PER_SEC), done, failures,
                (double) ticks / (double) sysconf(_SC_CLK_TCK),
                100.0 * (double) ticks / (double) sysconf(_SC_CLK_TCK) / (double) (run / USEC_PER_SEC));
        /* every unit checked about once a second (generous bounds) */
        assert_in_range(done, 200 * 8, 200 * 12);
        assert_int_equal(failures, 0);
        /* connections are reused, nothing leaks */
        assert_in_range(count_fds(daemon_.pid), 0, fds_before + 5);
        assert_int_equal(test_daemon_log_count(&daemon_, "health check failed"), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_libcurl_only_when_needed, teardown),
                cmocka_unit_test_teardown(test_rolling_restart, teardown),
                cmocka_unit_test_teardown(test_unhealthy_restart, teardown),
                cmocka_unit_test_teardown(test_hang, teardown),
                cmocka_unit_test_teardown(test_grace, teardown),
                cmocka_unit_test_teardown(test_ready_health, teardown),
                cmocka_unit_test_teardown(test_ports, teardown),
                cmocka_unit_test_teardown(test_many, teardown),
        };

        test_require_cgroup2_root();
        if (!getenv("CORRAL_DEMO_SERVICE")) {
                fprintf(stderr, "SKIP: $CORRAL_DEMO_SERVICE is not set: run the tests through meson\n");
                return 77;
        }
        /* below the ephemeral ports (32768+), where outgoing connections could hold one */
        range_base = 20000 + (unsigned) (getpid() % 30) * 400;
        return cmocka_run_group_tests_name("fleet", tests, NULL, NULL);
}
