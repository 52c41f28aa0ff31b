/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A crash of corrald: SIGKILL it, start it again, and it carries on. Units
 * still configured the same keep their very processes (PID and start
 * time); changed ones restart; removed ones stop. Then a storm: corrald
 * killed at random moments while units start, stop, restart and reload —
 * no unit ever runs twice, no process escapes its unit, no cgroup leaks. */

#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sys/wait.h>

#include "fileio.h"
#include "macro.h"
#include "pidref.h"
#include "test-util.h"

#define TIMEOUT (30 * USEC_PER_SEC)

static TestDaemon daemon_;

static int teardown(void **state) {
        test_daemon_cleanup(&daemon_);
        return 0;
}

static void kill_daemon(TestDaemon *d) {
        assert_int_equal(test_daemon_signal(d, SIGKILL), 0);
        assert_true(test_daemon_wait(d, TIMEOUT));
}

/* Starts a new corrald on the same cgroup and configuration text; the old
 * TestDaemon's files are kept for the log. */
static void restart_daemon(TestDaemon *d, const char *body) {
        _cleanup_free_ char *cgroup = strdup(d->cgroup);
        TestDaemon old = *d;

        free(old.cgroup);
        old.cgroup = NULL; /* do not destroy it: the new one takes it over */
        test_daemon_cleanup(&old);
        assert_int_equal(test_daemon_start_cgroup(d, cgroup, body), 0);
}

static pid_t unit_main(const TestDaemon *d, const char *unit) {
        _cleanup_free_ char *fs = test_cgroup_fs_path(d->cgroup), *p = NULL, *buf = NULL;

        assert_true(asprintf(&p, "%s/%s/cgroup.procs", fs, unit) > 0);
        if (read_full_file_at(AT_FDCWD, p, 65536, &buf, NULL) < 0)
                return 0;
        return (pid_t) atoi(buf);
}

static void test_adopt(void **state) {
        _cleanup_free_ char *mk = test_marker_new("adopt"), *v1 = NULL, *v2 = NULL;
        uint64_t start_before = 0, start_after = 0;

        assert_true(asprintf(&v1,
                             "[program:keep]\ncommand = sleep 1000\nenvironment = CORRAL_TEST_MARKER=%s\n"
                             "[program:change]\ncommand = sleep 1000\n"
                             "[program:gone]\ncommand = sleep 1000\nenvironment = CORRAL_TEST_MARKER=%s\n",
                             mk, mk) > 0);
        assert_int_equal(test_daemon_start(&daemon_, "adopt", v1), 0);
        assert_true(test_daemon_wait_log(&daemon_, "gone: started", 1, TIMEOUT));
        pid_t keep = unit_main(&daemon_, "keep"), change = unit_main(&daemon_, "change");
        assert_true(keep > 0 && change > 0);
        assert_int_equal(pid_get_start_time(keep, &start_before), 0);

        kill_daemon(&daemon_);
        /* corrald is gone; its units are not */
        assert_int_equal(test_count_marker(mk), 2);

        assert_true(asprintf(&v2,
                             "[program:keep]\ncommand = sleep 1000\nenvironment = CORRAL_TEST_MARKER=%s\n"
                             "[program:change]\ncommand = sleep 1001\n",
                             mk) > 0);
        restart_daemon(&daemon_, v2);
        assert_true(test_daemon_wait_log(&daemon_, "keep: adopted from an earlier corrald: main PID", 1, TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "gone: stopped", 1, TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "change: started", 1, TIMEOUT));
        assert_int_equal(test_daemon_log_count(&daemon_, "keep: started"), 0);
        /* the very same process: PID and start time */
        assert_int_equal(unit_main(&daemon_, "keep"), keep);
        assert_int_equal(pid_get_start_time(keep, &start_after), 0);
        assert_true(start_after == start_before);
        assert_true(unit_main(&daemon_, "change") != change);
        assert_int_equal(test_count_marker(mk), 1);
        _cleanup_free_ char *gone = NULL;
        assert_true(asprintf(&gone, "%s/gone", daemon_.cgroup) > 0);
        assert_true(test_wait_cgroup_gone(gone, TIMEOUT));

        assert_int_equal(test_daemon_signal(&daemon_, SIGTERM), 0);
        assert_true(test_daemon_wait(&daemon_, TIMEOUT));
        assert_int_equal(daemon_.exit_status, 0);
        assert_int_equal(test_count_marker(mk), 0);
        assert_false(test_cgroup_exists(daemon_.cgroup));
}

/* An adopted main process that crashes is a failure, also when the kernel
 * can tell how it ended only after its old parent (here PID 1, late) has
 * reaped it: restarted under restart = on-failure. (Issue 18, item 9: it
 * was logged "status unknown", counted as success and not restarted.) */
static void test_adopted_crash_restarts(void **state) {
        _cleanup_free_ char *mk = test_marker_new("adoptseg"), *conf = NULL;

        assert_true(asprintf(&conf,
                             "[program:seg]\ncommand = sleep 1000\nrestart = on-failure\nrestart_delay = 0\n"
                             "environment = CORRAL_TEST_MARKER=%s\n",
                             mk) > 0);
        assert_int_equal(test_daemon_start(&daemon_, "adoptseg", conf), 0);
        assert_true(test_daemon_wait_log(&daemon_, "seg: started", 1, TIMEOUT));
        pid_t main = unit_main(&daemon_, "seg");
        assert_true(main > 0);
        kill_daemon(&daemon_);
        restart_daemon(&daemon_, conf);
        assert_true(test_daemon_wait_log(&daemon_, "seg: adopted from an earlier corrald", 1, TIMEOUT));
        assert_int_equal(kill(main, SIGSEGV), 0);
        assert_true(test_daemon_wait_log(&daemon_, "seg: restarting in", 1, TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "seg: started", 1, TIMEOUT));
        assert_true(unit_main(&daemon_, "seg") != main);
        assert_true(test_daemon_stop_cleanly(&daemon_));
        assert_int_equal(test_count_marker(mk), 0);
}

/* A ready = notify unit that had not sent READY=1 when corrald died comes
 * back starting, with the start_timeout it had left — not running with no
 * timeout at all (issue 18, item 9). */
static void test_adopted_starting_keeps_timeout(void **state) {
        _cleanup_free_ char *mk = test_marker_new("adoptstart"), *conf = NULL;

        assert_true(asprintf(&conf,
                             "[program:slow]\ncommand = sleep 1000\nready = notify\nstart_timeout = 4s\n"
                             "restart = never\nenvironment = CORRAL_TEST_MARKER=%s\n",
                             mk) > 0);
        assert_int_equal(test_daemon_start(&daemon_, "adoptstart", conf), 0);
        assert_true(test_daemon_wait_log(&daemon_, "slow: started", 1, TIMEOUT));
        kill_daemon(&daemon_);
        restart_daemon(&daemon_, conf);
        assert_true(test_daemon_wait_log(&daemon_, "slow: adopted from an earlier corrald", 1, TIMEOUT));
        assert_true(test_daemon_log_count(&daemon_, "not ready yet") == 1);
        json_t *st = test_daemon_request(&daemon_, "status", /* params= */ NULL, /* ret_errno= */ NULL);
        assert_non_null(st);
        json_t *u = test_status_unit(st, "slow");
        assert_non_null(u);
        assert_string_equal(json_string_value(json_object_get(u, "state")), "starting");
        json_decref(st);
        /* the 4 s run out in the new corrald */
        assert_true(test_daemon_wait_log(&daemon_, "slow: did not become ready within start_timeout", 1, TIMEOUT));
        assert_true(test_wait_marker(mk, 0, 0, TIMEOUT));
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

typedef struct StormCheck {
        unsigned duplicates, escapes, samples;
} StormCheck;

/* Every marked process must sit in a unit cgroup of the subtree, and no
 * unit may hold more than its one process. */
static void storm_sample(const TestDaemon *d, const char *marker, StormCheck *c) {
        _cleanup_free_ char *entry = NULL, *prefix = NULL;
        DIR *dir = opendir("/proc");
        char seen[64][80];
        size_t n_seen = 0;

        assert_non_null(dir);
        assert_true(asprintf(&entry, "CORRAL_TEST_MARKER=%s", marker) > 0);
        assert_true(asprintf(&prefix, "0::%s/", d->cgroup) > 0);
        for (struct dirent *de; (de = readdir(dir));) {
                char path[300];
                _cleanup_free_ char *env = NULL, *cg = NULL;
                size_t n = 0;

                if (de->d_name[0] < '1' || de->d_name[0] > '9')
                        continue;
                snprintf(path, sizeof(path), "/proc/%s/environ", de->d_name);
                if (read_full_file_at(AT_FDCWD, path, 1 << 20, &env, &n) < 0)
                        continue;
                bool marked = false;
                for (size_t i = 0; i < n; i += strlen(env + i) + 1)
                        if (streq(env + i, entry))
                                marked = true;
                if (!marked)
                        continue;
                snprintf(path, sizeof(path), "/proc/%s/cgroup", de->d_name);
                if (read_full_file_at(AT_FDCWD, path, 4096, &cg, NULL) < 0)
                        continue; /* gone meanwhile */
                char *line = strstr(cg, "0::");
                if (!line || !strneq(line, prefix, strlen(prefix))) {
                        c->escapes++;
                        continue;
                }
                char unit[80];
                snprintf(unit, sizeof(unit), "%.*s", (int) strcspn(line + strlen(prefix), "/\n"),
                         line + strlen(prefix));
                for (size_t i = 0; i < n_seen; i++)
                        if (streq(seen[i], unit))
                                c->duplicates++;
                if (n_seen < ELEMENTSOF(seen))
                        strcpy(seen[n_seen++], unit);
        }
        closedir(dir);
        c->samples++;
}

static void test_crash_storm(void **state) {
        _cleanup_free_ char *mk = test_marker_new("storm");
        char *bodies[2] = {};
        StormCheck check = {};
        const unsigned rounds = 60;
        unsigned adopted = 0;

        for (int v = 0; v < 2; v++)
                assert_true(asprintf(&bodies[v],
                                     "[program:a]\ncommand = sleep 1000\nenvironment = CORRAL_TEST_MARKER=%s\n"
                                     "[program:b]\ncommand = sleep %d\nenvironment = CORRAL_TEST_MARKER=%s\n"
                                     "instances = %d\n"
                                     "[program:c]\ncommand = sh -c 'exec sleep 0.%d'\nenvironment = "
                                     "CORRAL_TEST_MARKER=%s\nrestart = always\nrestart_delay = 10ms\n"
                                     "restart_delay_max = 10ms\nstart_limit_burst = 1000000\n",
                                     mk, 1000 + v, mk, 3 + v, 2 + v, mk) > 0);
        assert_int_equal(test_daemon_start(&daemon_, "storm", bodies[0]), 0);
        srand((unsigned) getpid());
        for (unsigned round = 0; round < rounds; round++) {
                usec_t until = now(CLOCK_MONOTONIC) + (usec_t) (rand() % 300) * USEC_PER_MSEC;
                while (now(CLOCK_MONOTONIC) < until) {
                        /* churn: stop/start/restart through the control socket, or a reload */
                        static const char *const methods[] = { "stop", "start", "restart" };
                        static const char *const units[] = { "a", "b@0", "b@1", "b@2", "c" };
                        char params[64];
                        snprintf(params, sizeof(params), "{\"units\":[\"%s\"]}", units[rand() % 5]);
                        if (access(daemon_.socket, F_OK) >= 0) {
                                /* the daemon may be mid-start; a refused connection is fine */
                                pid_t child = fork();
                                if (child == 0) {
                                        json_t *r = test_daemon_request(&daemon_, methods[rand() % 3], params, NULL);
                                        (void) r;
                                        _exit(0);
                                }
                                (void) waitpid(child, NULL, 0);
                        }
                        if (rand() % 4 == 0) {
                                _cleanup_free_ char *conf = NULL;
                                assert_true(asprintf(&conf, "[corral]\ncgroup = %s\ncontrol_socket = %s\n%s",
                                                     daemon_.cgroup, daemon_.socket, bodies[rand() % 2]) > 0);
                                assert_int_equal(test_write_file(daemon_.config, conf), 0);
                                (void) test_daemon_signal(&daemon_, SIGHUP);
                        }
                        storm_sample(&daemon_, mk, &check);
                        usleep(5 * 1000);
                }
                kill_daemon(&daemon_);
                storm_sample(&daemon_, mk, &check);
                adopted += test_daemon_log_count(&daemon_, "adopted from an earlier corrald");
                restart_daemon(&daemon_, bodies[rand() % 2]);
        }
        /* the last one reaches the desired state, then stops everything */
        assert_true(test_daemon_wait_log(&daemon_, "a: ", 1, TIMEOUT));
        usleep(500 * 1000);
        storm_sample(&daemon_, mk, &check);
        assert_int_equal(test_daemon_signal(&daemon_, SIGTERM), 0);
        assert_true(test_daemon_wait(&daemon_, 60 * USEC_PER_SEC));
        assert_int_equal(daemon_.exit_status, 0);
        print_message("crash storm: %u rounds, %u samples, %u adoptions, %u duplicates, %u escapes, %d left\n", rounds,
                      check.samples, adopted, check.duplicates, check.escapes, test_count_marker(mk));
        assert_int_equal(check.duplicates, 0);
        assert_int_equal(check.escapes, 0);
        assert_int_equal(test_count_marker(mk), 0);
        assert_false(test_cgroup_exists(daemon_.cgroup));
        free(bodies[0]);
        free(bodies[1]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_adopt, teardown),
                cmocka_unit_test_teardown(test_adopted_crash_restarts, teardown),
                cmocka_unit_test_teardown(test_adopted_starting_keeps_timeout, teardown),
                cmocka_unit_test_teardown(test_crash_storm, teardown),
        };

        test_require_cgroup2_root();
        return cmocka_run_group_tests_name("adoption", tests, NULL, NULL);
}
