/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The life of units in a real corrald: restart backoff with jitter and its
 * cap, the start limit, the reset after a long run, readiness by sd_notify,
 * start and watchdog timeouts, MAINPID=, exit_type=cgroup, instances, and
 * reload by difference. Timing is checked from corrald's own log
 * timestamps, with generous bounds. */

#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <systemd/sd-daemon.h>

#include "fileio.h"
#include "macro.h"
#include "test-util.h"

#define TIMEOUT (30 * USEC_PER_SEC)

static TestDaemon daemon_;

static int teardown(void **state) {
        test_daemon_cleanup(&daemon_);
        return 0;
}

static char *helper(const char *name) {
        return test_helper_path(name);
}

/* A crash loop: each delay doubles from restart_delay up to
 * restart_delay_max, within ±10% jitter; the logged delay is what the
 * timestamps show (plus scheduling slack); the start limit ends it. */
static void test_crash_loop(void **state) {
        _cleanup_free_ char *f = helper("test-forker"), *body = NULL;
        usec_t spans[16], exits[16], starts[16];
        const usec_t expect[] = { 100, 200, 400, 800, 800, 800 }; /* ms */

        assert_true(asprintf(&body,
                             "[program:crash]\ncommand = %s exit 1\nrestart_delay = 100ms\nrestart_delay_max = 800ms\n"
                             "start_limit_burst = 7\nstart_limit_interval = 1min\n",
                             f) > 0);
        assert_int_equal(test_daemon_start(&daemon_, "crash", body), 0);
        assert_true(test_daemon_wait_log(&daemon_, "crash: failed: started 7 times within 1min", 1, TIMEOUT));

        assert_int_equal(test_daemon_log_spans(&daemon_, "crash: restarting in ", spans, 16), 6);
        assert_int_equal(test_daemon_log_times(&daemon_, "crash: main process", exits, 16), 7);
        assert_int_equal(test_daemon_log_times(&daemon_, "crash: started", starts, 16), 7);
        for (size_t i = 0; i < ELEMENTSOF(expect); i++) {
                usec_t d = expect[i] * USEC_PER_MSEC, lo = d - d / 10, hi = d + d / 10;
                if (i == 0)
                        lo = d; /* never below restart_delay */
                if (expect[i] == 800)
                        hi = d; /* never above restart_delay_max */
                print_message("restart %zu: delay %llu us (band %llu-%llu), observed %llu us\n", i,
                              (unsigned long long) spans[i], (unsigned long long) lo, (unsigned long long) hi,
                              (unsigned long long) (starts[i + 1] - exits[i]));
                assert_in_range(spans[i], lo, hi);
                /* the log has millisecond stamps; allow 200ms of scheduling slack */
                assert_in_range(starts[i + 1] - exits[i], spans[i] - USEC_PER_MSEC, spans[i] + 200 * USEC_PER_MSEC);
        }
        /* failed is final: no start follows */
        usleep(1200 * 1000);
        assert_int_equal(test_daemon_log_count(&daemon_, "crash: started"), 7);
        assert_int_equal(test_daemon_log_count(&daemon_, "crash: failed: started"), 1);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* A unit that stays up restart_reset before it crashes restarts each time
 * after the first delay again. */
static void test_backoff_reset(void **state) {
        usec_t spans[8];

        assert_int_equal(test_daemon_start(&daemon_, "reset",
                                           "[program:slow]\ncommand = sh -c 'sleep 0.4; exit 1'\n"
                                           "restart_delay = 100ms\nrestart_reset = 300ms\nstart_limit_burst = 100\n"),
                         0);
        assert_true(test_daemon_wait_log(&daemon_, "slow: restarting in ", 4, TIMEOUT));
        assert_int_equal(test_daemon_log_spans(&daemon_, "slow: restarting in ", spans, 4), 4);
        for (size_t i = 0; i < 4; i++)
                assert_in_range(spans[i], 100 * USEC_PER_MSEC, 110 * USEC_PER_MSEC);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* restart_prevent_exit_status: a listed code is final even with
 * restart = always. */
static void test_prevent_exit_status(void **state) {
        _cleanup_free_ char *f = helper("test-forker"), *body = NULL;

        assert_true(asprintf(&body,
                             "[program:p]\ncommand = %s exit 42\nrestart = always\nrestart_prevent_exit_status = 1 "
                             "42\n",
                             f) > 0);
        assert_int_equal(test_daemon_start(&daemon_, "prevent", body), 0);
        assert_true(test_daemon_wait_log(&daemon_, "p: failed (exit-code)", 1, TIMEOUT));
        assert_int_equal(test_daemon_log_count(&daemon_, "p: restarting"), 0);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* ready = notify: starting until READY=1 (sent after 500ms), then ready. */
static void test_notify_ready(void **state) {
        _cleanup_free_ char *n = helper("test-notifier"), *body = NULL;
        usec_t started, ready;

        assert_true(asprintf(&body, "[program:svc]\ncommand = %s ready 500\nready = notify\n", n) > 0);
        assert_int_equal(test_daemon_start(&daemon_, "notify", body), 0);
        assert_true(test_daemon_wait_log(&daemon_, "svc: ready", 1, TIMEOUT));
        assert_int_equal(test_daemon_log_times(&daemon_, "svc: started", &started, 1), 1);
        assert_int_equal(test_daemon_log_times(&daemon_, "svc: ready", &ready, 1), 1);
        assert_true(ready - started >= 450 * USEC_PER_MSEC);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* EXTEND_TIMEOUT_USEC= moves the start_timeout out: a unit that says it
 * needs 3 s and is ready after 1.5 s is ready, not failed at 1 s. */
static void test_extend_timeout(void **state) {
        _cleanup_free_ char *n = helper("test-notifier"), *body = NULL;

        assert_true(asprintf(&body, "[program:svc]\ncommand = %s extend 3000\nready = notify\nstart_timeout = 1s\n",
                             n) > 0);
        assert_int_equal(test_daemon_start(&daemon_, "extend", body), 0);
        assert_true(test_daemon_wait_log(&daemon_, "svc: ready", 1, TIMEOUT));
        assert_int_equal(test_daemon_log_count(&daemon_, "did not become ready"), 0);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* start_timeout fails a unit that never says READY=1; a READY=1 from a
 * process outside every unit changes nothing. */
static void test_start_timeout_and_outsider(void **state) {
        _cleanup_free_ char *n = helper("test-notifier"), *body = NULL, *sock = NULL;

        assert_true(asprintf(&body,
                             "[corral]\nlog_level = debug\n"
                             "[program:silent]\ncommand = %s silent\nready = notify\nstart_timeout = 1500ms\n"
                             "restart = never\n",
                             n) > 0);
        assert_int_equal(test_daemon_start(&daemon_, "silent", body), 0);
        assert_true(test_daemon_wait_log(&daemon_, "silent: started", 1, TIMEOUT));
        /* We are in no unit: our READY=1 must be ignored. */
        {
                _cleanup_free_ char *log = test_daemon_log(&daemon_);
                char *p = strstr(log, "notify socket /");
                assert_non_null(p);
                p += strlen("notify socket ");
                sock = strndup(p, strcspn(p, "\n"));
        }
        assert_int_equal(setenv("NOTIFY_SOCKET", sock, 1), 0);
        assert_true(sd_notify(0, "READY=1") > 0);
        unsetenv("NOTIFY_SOCKET");
        assert_true(test_daemon_wait_log(&daemon_, "which is in no unit, ignoring", 1, TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "silent: did not become ready within start_timeout", 1, TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "silent: failed (timeout)", 1, TIMEOUT));
        assert_int_equal(test_daemon_log_count(&daemon_, "silent: ready"), 0);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* A unit that stops pinging its watchdog is restarted. */
static void test_watchdog(void **state) {
        _cleanup_free_ char *n = helper("test-notifier"), *body = NULL;

        assert_true(asprintf(&body,
                             "[program:dog]\ncommand = %s watchdog 100 5\nready = notify\nwatchdog_timeout = 600ms\n"
                             "restart_delay = 100ms\n",
                             n) > 0);
        assert_int_equal(test_daemon_start(&daemon_, "watchdog", body), 0);
        assert_true(test_daemon_wait_log(&daemon_, "dog: watchdog timeout", 1, TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "dog: restarting in", 1, TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "dog: started", 2, TIMEOUT));
        /* pings kept it alive while they came: the first run lasted > 400ms */
        usec_t starts[1], timeouts[1];
        assert_int_equal(test_daemon_log_times(&daemon_, "dog: started", starts, 1), 1);
        assert_int_equal(test_daemon_log_times(&daemon_, "dog: watchdog timeout", timeouts, 1), 1);
        assert_true(timeouts[0] - starts[0] >= 1000 * USEC_PER_MSEC);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* MAINPID= naming a process outside the unit is refused; one naming a
 * child inside it is taken: the unit follows that process. */
static void test_mainpid(void **state) {
        _cleanup_free_ char *n = helper("test-notifier"), *body = NULL;

        assert_true(asprintf(&body,
                             "[program:outside]\ncommand = %s mainpid-outside\nready = notify\n"
                             "[program:child]\ncommand = %s mainpid-child\nready = notify\n",
                             n, n) > 0);
        assert_int_equal(test_daemon_start(&daemon_, "mainpid", body), 0);
        assert_true(test_daemon_wait_log(&daemon_, "outside: MAINPID=1 is not a process of this unit, ignoring", 1,
                                         TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "outside: ready", 1, TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "child: main process is now", 1, TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "child: ready", 1, TIMEOUT));
        /* the notifier itself exits 0; the unit stays up with its new main process */
        usleep(500 * 1000);
        assert_int_equal(test_daemon_log_count(&daemon_, "child: stopping"), 0);
        assert_int_equal(test_daemon_log_count(&daemon_, "child: stopped"), 0);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* exit_type = cgroup: a program that daemonizes and exits 0 keeps its unit
 * running until the daemon it left exits. */
static void test_exit_type_cgroup(void **state) {
        usec_t started, stopped;

        assert_int_equal(test_daemon_start(&daemon_, "exittype",
                                           "[program:d]\ncommand = sh -c 'setsid sleep 1.5 & exit 0'\n"
                                           "exit_type = cgroup\nrestart = never\n"),
                         0);
        assert_true(test_daemon_wait_log(&daemon_, "d: stays up while its cgroup is populated", 1, TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "d: stopped", 1, TIMEOUT));
        assert_int_equal(test_daemon_log_times(&daemon_, "d: started", &started, 1), 1);
        assert_int_equal(test_daemon_log_times(&daemon_, "d: stopped", &stopped, 1), 1);
        assert_true(stopped - started >= 1400 * USEC_PER_MSEC);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

static int count_instances(const char *cgroup, const char *prefix) {
        _cleanup_free_ char *fs = test_cgroup_fs_path(cgroup);
        int n = 0;

        for (int i = 0; i < 16; i++) {
                _cleanup_free_ char *p = NULL;
                assert_true(asprintf(&p, "%s/%s@%d", fs, prefix, i) > 0);
                if (access(p, F_OK) >= 0)
                        n++;
        }
        return n;
}

static void rewrite_config(const TestDaemon *d, const char *body) {
        _cleanup_free_ char *conf = NULL;

        assert_true(asprintf(&conf, "[corral]\ncgroup = %s\n%s", d->cgroup, body) > 0);
        assert_int_equal(test_write_file(d->config, conf), 0);
}

static void reload(const TestDaemon *d, unsigned n) {
        assert_int_equal(test_daemon_signal(d, SIGHUP), 0);
        assert_true(test_daemon_wait_log(d, "received SIGHUP", n, TIMEOUT));
        assert_true(test_daemon_wait_log(d, "reload", n * 2, TIMEOUT)); /* "reloading" + the outcome */
}

typedef struct InstanceWait {
        const TestDaemon *d;
        int n;
} InstanceWait;

static bool instances_are(void *userdata) {
        const InstanceWait *w = userdata;
        return count_instances(w->d->cgroup, "inst") == w->n;
}

/* Reload by difference: keep one, change one, remove one, add one; an
 * invalid edit changes nothing; instances 3 → 5 → 2. */
static void test_reload(void **state) {
        _cleanup_free_ char *mk = test_marker_new("keep");
        _cleanup_free_ char *v1 = NULL, *v2 = NULL, *gone = NULL;

        assert_true(asprintf(&v1,
                             "[program:keep]\ncommand = sleep 1000\nenvironment = CORRAL_TEST_MARKER=%s\n"
                             "[program:change]\ncommand = sleep 1000\n"
                             "[program:gone]\ncommand = sleep 1000\n"
                             "[program:inst]\ncommand = sleep 1000\ninstances = 3\n",
                             mk) > 0);
        assert_int_equal(test_daemon_start(&daemon_, "reload", v1), 0);
        assert_true(test_daemon_wait_log(&daemon_, "inst@2: started", 1, TIMEOUT));
        assert_int_equal(count_instances(daemon_.cgroup, "inst"), 3);

        assert_true(asprintf(&v2,
                             "[program:keep]\ncommand = sleep 1000\nenvironment = CORRAL_TEST_MARKER=%s\n"
                             "[program:change]\ncommand = sleep 1001\n"
                             "[program:added]\ncommand = sleep 1000\n"
                             "[program:inst]\ncommand = sleep 1000\ninstances = 5\n",
                             mk) > 0);
        rewrite_config(&daemon_, v2);
        reload(&daemon_, 1);
        assert_true(test_daemon_wait_log(&daemon_, "reloaded: 3 added, 1 removed, 1 changed, 4 unchanged", 1, TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "added: started", 1, TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "change: started", 2, TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "gone: stopped", 1, TIMEOUT));
        InstanceWait five = { &daemon_, 5 };
        assert_true(test_wait_for(instances_are, &five, TIMEOUT));
        assert_true(asprintf(&gone, "%s/gone", daemon_.cgroup) > 0);
        assert_true(test_wait_cgroup_gone(gone, TIMEOUT));
        /* the kept unit and the first instances were not touched */
        assert_int_equal(test_daemon_log_count(&daemon_, "keep: started"), 1);
        assert_int_equal(test_daemon_log_count(&daemon_, "inst@0: started"), 1);
        assert_int_equal(test_count_marker(mk), 1);

        /* an invalid edit: nothing changes, the error names file and line */
        rewrite_config(&daemon_, "[program:keep]\ncommand = sleep 1000\nbogus = 1\n");
        reload(&daemon_, 2);
        assert_true(test_daemon_wait_log(&daemon_, "reload failed, nothing changed:", 1, TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "corral.conf:5: unknown key 'bogus'", 1, TIMEOUT));
        assert_int_equal(test_daemon_log_count(&daemon_, "stopping"), 2); /* change and gone, before */

        /* shrink from the top */
        rewrite_config(&daemon_, "[program:inst]\ncommand = sleep 1000\ninstances = 2\n");
        reload(&daemon_, 3);
        InstanceWait two = { &daemon_, 2 };
        assert_true(test_wait_for(instances_are, &two, TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "inst@4: stopped", 1, TIMEOUT));
        assert_int_equal(test_daemon_log_count(&daemon_, "inst@0: started"), 1);
        assert_true(test_daemon_alive(&daemon_));
        assert_true(test_daemon_stop_cleanly(&daemon_));
        assert_int_equal(test_count_marker(mk), 0);
}

/* Variables: ${NAME} and ${INSTANCE} expand in command and environment and
 * are set in the environment. */
static void test_variables(void **state) {
        assert_int_equal(test_daemon_start(&daemon_, "vars",
                                           "[program:v]\ncommand = sh -c 'echo \"arg=${NAME}/${INSTANCE} "
                                           "env=$NAME/$INSTANCE x=$X p=$P\"; exec sleep 1000'\n"
                                           "instances = 2\nenvironment = X=x-${INSTANCE} P=a$$b\n"),
                         0);
        assert_true(test_daemon_wait_log(&daemon_, "arg=v/0 env=v/0 x=x-0 p=a$b", 1, TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "arg=v/1 env=v/1 x=x-1 p=a$b", 1, TIMEOUT));
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* output = file:PATH appends both stdout and stderr; output = null drops. */
static void test_output(void **state) {
        char path[] = "/tmp/corral-test-output-XXXXXX";
        _cleanup_free_ char *body = NULL, *content = NULL;
        int fd = mkstemp(path);

        assert_true(fd >= 0);
        close(fd);
        assert_true(asprintf(&body,
                             "[program:f]\ncommand = sh -c 'echo to-stdout; echo to-stderr >&2; exec sleep 1000'\n"
                             "output = file:%s\n"
                             "[program:n]\ncommand = sh -c 'echo should-not-appear; exec sleep 1000'\noutput = null\n",
                             path) > 0);
        assert_int_equal(test_daemon_start(&daemon_, "output", body), 0);
        assert_true(test_daemon_wait_log(&daemon_, "n: started", 1, TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "f: started", 1, TIMEOUT));
        for (int i = 0; i < 300; i++) {
                content = mfree(content);
                int r = read_full_file_at(AT_FDCWD, path, 4096, &content, NULL);
                assert_int_equal(r, 0);
                if (strstr(content, "to-stderr"))
                        break;
                usleep(10 * 1000);
        }
        assert_non_null(strstr(content, "to-stdout\n"));
        assert_non_null(strstr(content, "to-stderr\n"));
        assert_int_equal(test_daemon_log_count(&daemon_, "should-not-appear"), 0);
        assert_true(test_daemon_stop_cleanly(&daemon_));
        unlink(path);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_crash_loop, teardown),
                cmocka_unit_test_teardown(test_backoff_reset, teardown),
                cmocka_unit_test_teardown(test_prevent_exit_status, teardown),
                cmocka_unit_test_teardown(test_notify_ready, teardown),
                cmocka_unit_test_teardown(test_extend_timeout, teardown),
                cmocka_unit_test_teardown(test_start_timeout_and_outsider, teardown),
                cmocka_unit_test_teardown(test_watchdog, teardown),
                cmocka_unit_test_teardown(test_mainpid, teardown),
                cmocka_unit_test_teardown(test_exit_type_cgroup, teardown),
                cmocka_unit_test_teardown(test_reload, teardown),
                cmocka_unit_test_teardown(test_variables, teardown),
                cmocka_unit_test_teardown(test_output, teardown),
        };

        test_require_cgroup2_root();
        return cmocka_run_group_tests_name("lifecycle", tests, NULL, NULL);
}
