/* SPDX-License-Identifier: GPL-2.0-or-later */
/* corrald as a whole: exit statuses, reaping, start failures that leave
 * the rest running, signals at awkward moments, the subtree lock, leftovers
 * of an earlier run, the command line. Real corrald, real processes. */

#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"
#include "macro.h"
#include "syscall.h"
#include "test-util.h"

#define TIMEOUT (30 * USEC_PER_SEC)

static TestDaemon daemon_, other_;

static int teardown(void **state) {
        test_daemon_cleanup(&other_);
        test_daemon_cleanup(&daemon_);
        return 0;
}

static char *forker(void) {
        return test_helper_path("test-forker");
}

/* The main process's exit status and signal reach the log, and decide
 * between stopped and failed. */
static void test_exit_status(void **state) {
        _cleanup_free_ char *f = forker(), *body = NULL;

        assert_true(asprintf(&body,
                             "[program:three]\ncommand = %s exit 3\nrestart = never\n"
                             "[program:zero]\ncommand = %s exit 0\nrestart = never\n"
                             "[program:killed]\ncommand = %s signal 9\nrestart = never\n"
                             "[program:segv]\ncommand = %s signal 11\nrestart = never\n",
                             f, f, f, f) > 0);
        assert_int_equal(test_daemon_start(&daemon_, "exit", body), 0);
        assert_true(test_daemon_wait_log(&daemon_, "three: failed (exit-code)", 1, TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "zero: stopped", 1, TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "killed: failed (signal)", 1, TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "segv: failed (", 1, TIMEOUT));
        assert_int_equal(test_daemon_log_count(&daemon_, "exited, status=3"), 1);
        assert_int_equal(test_daemon_log_count(&daemon_, "exited, status=0"), 1);
        assert_int_equal(test_daemon_log_count(&daemon_, "killed by signal SIGKILL"), 1);
        assert_int_equal(test_daemon_log_count(&daemon_, "killed by signal SIGSEGV"), 1);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* restart = on-failure restarts a failing main process after the delay;
 * restart = always restarts one that exited with 0. */
static void test_restart(void **state) {
        _cleanup_free_ char *f = forker(), *body = NULL;

        assert_true(asprintf(&body,
                             "[program:fails]\ncommand = %s exit 1\nrestart = on-failure\nrestart_delay = 50ms\n"
                             "restart_delay_max = 50ms\n"
                             "[program:always]\ncommand = %s exit 0\nrestart = always\nrestart_delay = 50ms\n"
                             "restart_delay_max = 50ms\n",
                             f, f) > 0);
        assert_int_equal(test_daemon_start(&daemon_, "restart", body), 0);
        assert_true(test_daemon_wait_log(&daemon_, "fails: started", 3, TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "always: started", 3, TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "always: restarting in 50ms (restart=always, result success)", 2,
                                         TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "fails: restarting in 50ms (restart=on-failure, result exit-code)",
                                         2, TIMEOUT));
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

typedef struct ZombieWait {
        pid_t parent;
        const char *marker;
} ZombieWait;

static bool orphans_gone(void *userdata) {
        const ZombieWait *w = userdata;
        /* only the main process is left, and no zombie of corrald's */
        return test_count_marker(w->marker) == 1 && test_count_zombie_children(w->parent) == 0;
}

/* corrald is a subreaper: orphaned grandchildren are reaped when they
 * exit, and no zombie stays. */
static void test_no_zombies(void **state) {
        _cleanup_free_ char *f = forker(), *marker = test_marker_new("zombies"), *body = NULL;

        assert_true(asprintf(&body, "[program:orphans]\ncommand = %s orphans 50\nenvironment = CORRAL_TEST_MARKER=%s\n",
                             f, marker) > 0);
        assert_int_equal(test_daemon_start(&daemon_, "zombies", body), 0);
        assert_true(test_daemon_wait_log(&daemon_, "orphans: made 50", 1, TIMEOUT));
        ZombieWait w = { daemon_.pid, marker };
        assert_true(test_wait_for(orphans_gone, &w, TIMEOUT));
        assert_true(test_daemon_alive(&daemon_));
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* A service that cannot start fails at once with a clear message and is
 * not restarted; corrald and the other services go on. */
static void test_start_failures(void **state) {
        _cleanup_free_ char *f = forker(), *marker = test_marker_new("good"), *body = NULL;

        assert_true(asprintf(&body,
                             "[program:good]\ncommand = %s tree 2\nenvironment = CORRAL_TEST_MARKER=%s\n"
                             "[program:web]\ncommand = /nonexistent\nrestart = always\nrestart_delay = 10ms\n"
                             "[program:nopath]\ncommand = no-such-program-anywhere\n"
                             "[program:nodir]\ncommand = %s exit 0\ndirectory = /nonexistent-dir\n"
                             "[program:nouser]\ncommand = %s exit 0\nuser = corral-no-such-user\n",
                             f, marker, f, f) > 0);
        assert_int_equal(test_daemon_start(&daemon_, "failures", body), 0);
        assert_true(test_daemon_wait_log(&daemon_, "web: exec /nonexistent: No such file or directory", 1, TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "nopath: exec no-such-program-anywhere: No such file or directory",
                                         1, TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "nodir: chdir /nonexistent-dir: No such file or directory", 1,
                                         TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "nouser: user corral-no-such-user: no such user", 1, TIMEOUT));
        assert_true(test_wait_marker(marker, 3, 3, TIMEOUT));

        /* No hot loop: a while later, each failure is still reported once. */
        usleep(500 * 1000);
        assert_int_equal(test_daemon_log_count(&daemon_, "exec /nonexistent"), 1);
        assert_int_equal(test_daemon_log_count(&daemon_, "web: started"), 0);
        assert_true(test_daemon_alive(&daemon_));
        assert_int_equal(test_count_marker(marker), 3);
        assert_true(test_daemon_stop_cleanly(&daemon_));
        assert_int_equal(test_count_marker(marker), 0);
}

/* SIGINT while many services are still being started: everything that was
 * started is stopped, nothing is left. */
static void test_sigint_during_start(void **state) {
        _cleanup_free_ char *marker = test_marker_new("many");
        size_t size = 0;
        char *body = NULL;
        FILE *f = open_memstream(&body, &size);

        assert_non_null(f);
        for (int i = 0; i < 200; i++)
                fprintf(f, "[program:s%d]\ncommand = sleep 1000\nenvironment = CORRAL_TEST_MARKER=%s\n", i, marker);
        fclose(f);
        assert_int_equal(test_daemon_start(&daemon_, "sigint", body), 0);
        free(body);
        assert_true(test_daemon_wait_log(&daemon_, ": started, main PID", 1, TIMEOUT));
        assert_int_equal(test_daemon_signal(&daemon_, SIGINT), 0);
        assert_true(test_daemon_wait(&daemon_, 60 * USEC_PER_SEC));
        assert_int_equal(daemon_.exit_status, 0);
        assert_int_equal(test_count_marker(marker), 0);
        assert_false(test_cgroup_exists(daemon_.cgroup));
}

/* A second SIGTERM during a slow stop changes nothing: the stop goes on
 * with its grace period and ends with every process gone. */
static void test_second_sigterm(void **state) {
        _cleanup_free_ char *f = forker(), *marker = test_marker_new("slow"), *body = NULL;

        assert_true(asprintf(&body,
                             "[program:slow]\ncommand = %s tree 5 ignore\nstop_timeout = 2s\n"
                             "environment = CORRAL_TEST_MARKER=%s\n",
                             f, marker) > 0);
        assert_int_equal(test_daemon_start(&daemon_, "sigterm2", body), 0);
        assert_true(test_wait_marker(marker, 6, 6, TIMEOUT));
        assert_int_equal(test_daemon_signal(&daemon_, SIGTERM), 0);
        assert_true(test_daemon_wait_log(&daemon_, "slow: stopping", 1, TIMEOUT));
        assert_int_equal(test_daemon_signal(&daemon_, SIGTERM), 0);
        assert_true(test_daemon_wait_log(&daemon_, "received SIGTERM while stopping already, ignoring", 1, TIMEOUT));
        assert_int_equal(test_count_marker(marker), 6);
        assert_true(test_daemon_wait(&daemon_, 60 * USEC_PER_SEC));
        assert_int_equal(daemon_.exit_status, 0);
        assert_int_equal(test_daemon_log_count(&daemon_, "slow: stop timeout, killing every process"), 1);
        assert_int_equal(test_count_marker(marker), 0);
        assert_false(test_cgroup_exists(daemon_.cgroup));
}

/* One subtree, one corrald: a second one names the first and exits. */
static void test_lock(void **state) {
        _cleanup_free_ char *pid = NULL;

        assert_int_equal(test_daemon_start(&daemon_, "lock", "[program:s]\ncommand = sleep 1000\n"), 0);
        assert_true(test_daemon_wait_log(&daemon_, "s: started", 1, TIMEOUT));
        assert_int_equal(test_daemon_start_cgroup(&other_, daemon_.cgroup, "[program:s]\ncommand = sleep 1000\n"), 0);
        assert_true(test_daemon_wait(&other_, TIMEOUT));
        assert_int_equal(other_.exit_status, 1);
        assert_true(asprintf(&pid, "is owned by another corrald (PID %d)", daemon_.pid) > 0);
        assert_int_equal(test_daemon_log_count(&other_, pid), 1);
        free(other_.cgroup); /* not its cgroup: do not destroy it */
        other_.cgroup = NULL;
        assert_true(test_daemon_alive(&daemon_));
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* Puts a process tree marked with marker into the cgroup path/name, as a
 * corrald that crashed would have left it. */
static void make_leftover(const char *path, const char *name, const char *marker) {
        _cleanup_free_ char *fs = test_cgroup_fs_path(path), *unit = NULL, *f = forker(), *env = NULL;

        assert_true(asprintf(&unit, "%s/%s", fs, name) > 0);
        assert_true(asprintf(&env, "CORRAL_TEST_MARKER=%s", marker) > 0);
        assert_true(mkdir(fs, 0755) >= 0 || errno == EEXIST);
        assert_int_equal(mkdir(unit, 0755), 0);
        int fd = open(unit, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        struct corral_clone_args args = { .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD, .cgroup = (uint64_t) fd };
        pid_t pid = sys_clone3(&args);
        assert_true(pid >= 0);
        if (pid == 0) {
                /* a daemon: the test does not stay its parent */
                if (fork() == 0) {
                        setsid();
                        char *argv[] = { f, (char *) "tree", (char *) "3", NULL }, *envp[] = { env, NULL };
                        execve(f, argv, envp);
                }
                _exit(0);
        }
        close(fd);
        assert_int_equal(waitpid(pid, NULL, 0), pid);
}

/* What an earlier corrald left is stopped, never forgotten: a cgroup of a
 * service no longer configured is emptied and removed; one of a configured
 * service is emptied, and the service starts afresh. */
static void test_leftovers(void **state) {
        _cleanup_free_ char *path = test_cgroup_path("leftover"), *m1 = test_marker_new("gone"),
                            *m2 = test_marker_new("kept"), *m3 = test_marker_new("fresh"), *body = NULL, *f = forker();

        make_leftover(path, "gone", m1);
        make_leftover(path, "kept", m2);
        assert_true(test_wait_marker(m1, 4, 4, TIMEOUT));
        assert_true(test_wait_marker(m2, 4, 4, TIMEOUT));
        assert_true(asprintf(&body, "[program:kept]\ncommand = %s tree 1\nenvironment = CORRAL_TEST_MARKER=%s\n", f,
                             m3) > 0);
        assert_int_equal(test_daemon_start_cgroup(&daemon_, path, body), 0);
        assert_true(test_daemon_wait_log(&daemon_, "kept: started", 1, TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "gone: stopped", 1, TIMEOUT));
        assert_int_equal(test_daemon_log_count(&daemon_, "found a cgroup left by an earlier run"), 2);
        assert_int_equal(test_count_marker(m1), 0);
        assert_int_equal(test_count_marker(m2), 0);
        assert_true(test_wait_marker(m3, 2, 2, TIMEOUT));
        _cleanup_free_ char *gone = NULL;
        assert_true(asprintf(&gone, "%s/gone", path) > 0);
        assert_true(test_wait_cgroup_gone(gone, TIMEOUT));
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* Runs corrald with args, its output to a file; returns the exit status
 * and the output in *ret_out. */
static int run_corrald(const char *args, char **ret_out) {
        _cleanup_free_ char *cmd = NULL;
        char out[] = "/tmp/corral-test-out-XXXXXX";
        int fd = mkstemp(out), status;

        assert_true(fd >= 0);
        close(fd);
        assert_true(asprintf(&cmd, "'%s' %s >%s 2>&1", getenv("CORRALD"), args, out) > 0);
        status = system(cmd);
        assert_int_equal(read_full_file_at(AT_FDCWD, out, 1 << 20, ret_out, NULL), 0);
        unlink(out);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void test_command_line(void **state) {
        char dir[] = "/tmp/corral-test-cli-XXXXXX";
        _cleanup_free_ char *good = NULL, *bad = NULL, *args = NULL, *out = NULL;

        assert_non_null(mkdtemp(dir));
        assert_true(asprintf(&good, "%s/good.conf", dir) > 0);
        assert_true(asprintf(&bad, "%s/bad.conf", dir) > 0);
        assert_int_equal(test_write_file(good, "[program:a]\ncommand = sleep 1\n[program:b]\ncommand = sleep 2\n"), 0);
        assert_int_equal(test_write_file(bad, "[program:a]\ncommand = sleep 1\nstop_timeout = soon\n"), 0);

        assert_true(asprintf(&args, "--check-config --config %s", good) > 0);
        assert_int_equal(run_corrald(args, &out), 0);
        assert_non_null(strstr(out, "configuration OK: 2 services"));
        args = mfree(args), out = mfree(out);

        assert_true(asprintf(&args, "--check-config --config %s", bad) > 0);
        assert_int_equal(run_corrald(args, &out), 6); /* LSB "not configured", as a start */
        _cleanup_free_ char *where = NULL;
        assert_true(asprintf(&where, "%s:3: ", bad) > 0);
        assert_non_null(strstr(out, where));
        args = mfree(args), out = mfree(out);

        /* a bad configuration never gets as far as the cgroups */
        assert_true(asprintf(&args, "--config %s", bad) > 0);
        assert_int_equal(run_corrald(args, &out), 6); /* LSB "not configured" */
        assert_null(strstr(out, "owning cgroup"));
        args = mfree(args), out = mfree(out);

        assert_int_equal(run_corrald("--help", &out), 0);
        assert_non_null(strstr(out, "--check-config"));
        out = mfree(out);
        assert_int_equal(run_corrald("--version", &out), 0);
        assert_non_null(strstr(out, "corrald "));
        out = mfree(out);
        assert_int_equal(run_corrald("--no-such-option", &out), 1);

        unlink(good);
        unlink(bad);
        rmdir(dir);
}

/* A subtree whose parent does not exist is one clear error. */
static void test_bad_cgroup(void **state) {
        _cleanup_free_ char *path = test_cgroup_path("noparent"), *sub = NULL;

        assert_true(asprintf(&sub, "%s/sub", path) > 0);
        assert_int_equal(test_daemon_start_cgroup(&daemon_, sub, "[program:s]\ncommand = sleep 1000\n"), 0);
        assert_true(test_daemon_wait(&daemon_, TIMEOUT));
        assert_int_equal(daemon_.exit_status, 1);
        assert_int_equal(test_daemon_log_count(&daemon_, "its parent does not exist"), 1);
        assert_false(test_cgroup_exists(path));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_exit_status, teardown),
                cmocka_unit_test_teardown(test_restart, teardown),
                cmocka_unit_test_teardown(test_no_zombies, teardown),
                cmocka_unit_test_teardown(test_start_failures, teardown),
                cmocka_unit_test_teardown(test_sigint_during_start, teardown),
                cmocka_unit_test_teardown(test_second_sigterm, teardown),
                cmocka_unit_test_teardown(test_lock, teardown),
                cmocka_unit_test_teardown(test_leftovers, teardown),
                cmocka_unit_test_teardown(test_command_line, teardown),
                cmocka_unit_test_teardown(test_bad_cgroup, teardown),
        };

        test_require_cgroup2_root();
        return cmocka_run_group_tests_name("daemon", tests, NULL, NULL);
}
