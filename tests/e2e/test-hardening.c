/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Limits and hardening in a real corrald: cgroup limits where the kernel
 * cannot apply them (on these machines cgroup2 has no memory, pids, cpu or
 * io controller — what corrald reports is checked), limits_required,
 * in-place limit changes on reload, resource limits, no_new_privs against a
 * real setuid binary, environment_inherit, and configuration files with
 * bad ownership or mode. */

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "fileio.h"
#include "macro.h"
#include "test-util.h"

#define TIMEOUT (30 * USEC_PER_SEC)

static TestDaemon daemon_;

static int teardown(void **state) {
        test_daemon_cleanup(&daemon_);
        return 0;
}

static bool controller_offered(const char *cgroup, const char *controller) {
        _cleanup_free_ char *fs = test_cgroup_fs_path(cgroup), *path = NULL, *buf = NULL;

        assert_true(asprintf(&path, "%s/cgroup.controllers", fs) > 0);
        if (read_full_file_at(AT_FDCWD, path, 4096, &buf, NULL) < 0)
                return false;
        return strstr(buf, controller) != NULL;
}

/* A limit whose controller is missing: a warning naming controller and
 * key, and the unit runs; with limits_required it fails with the reason.
 * Where the controller exists, the file holds the kernel value. */
static void test_limits(void **state) {
        assert_int_equal(test_daemon_start(&daemon_, "limits",
                                           "[program:soft]\ncommand = sleep 1000\nmemory_max = 512M\ncpu_max = 50%\n"
                                           "pids_max = 64\nio_weight = 200\n"
                                           "[program:hard]\ncommand = sleep 1000\npids_max = 100\n"
                                           "limits_required = yes\nrestart = never\n"),
                         0);
        assert_true(test_daemon_wait_log(&daemon_, "soft: started", 1, TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "hard: ", 1, TIMEOUT));
        static const struct {
                const char *key, *controller, *file, *value;
        } limits[] = {
                { "memory_max", "memory", "memory.max", "536870912" },
                { "cpu_max", "cpu", "cpu.max", "50000 100000" },
                { "pids_max", "pids", "pids.max", "64" },
                { "io_weight", "io", "io.weight", "200" },
        };
        for (size_t i = 0; i < ELEMENTSOF(limits); i++) {
                _cleanup_free_ char *msg = NULL;
                assert_true(asprintf(&msg,
                                     "soft: %s needs the %s controller, which this cgroup2 hierarchy does not "
                                     "offer; running without it",
                                     limits[i].key, limits[i].controller) > 0);
                if (controller_offered(daemon_.cgroup, limits[i].controller)) {
                        /* a real controller: the value must be in the file */
                        _cleanup_free_ char *fs = test_cgroup_fs_path(daemon_.cgroup), *p = NULL, *buf = NULL;
                        assert_true(asprintf(&p, "%s/soft/%s", fs, limits[i].file) > 0);
                        assert_int_equal(read_full_file_at(AT_FDCWD, p, 4096, &buf, NULL), 0);
                        assert_non_null(strstr(buf, limits[i].value));
                        assert_int_equal(test_daemon_log_count(&daemon_, msg), 0);
                } else
                        assert_int_equal(test_daemon_log_count(&daemon_, msg), 1);
        }
        if (!controller_offered(daemon_.cgroup, "pids")) {
                assert_true(test_daemon_wait_log(&daemon_,
                                                 "hard: pids_max needs the pids controller, which this cgroup2 "
                                                 "hierarchy does not offer (limits_required = yes)",
                                                 1, TIMEOUT));
                assert_int_equal(test_daemon_log_count(&daemon_, "hard: started"), 0);
                json_t *st = test_daemon_request(&daemon_, "status", "{\"units\":[\"hard\"]}", NULL);
                assert_non_null(st);
                json_decref(st);
        }

        /* a changed limit is applied in place on reload: no restart */
        _cleanup_free_ char *conf = NULL;
        assert_true(asprintf(&conf,
                             "[corral]\ncgroup = %s\ncontrol_socket = %s\n"
                             "[program:soft]\ncommand = sleep 1000\nmemory_max = 1G\ncpu_max = 50%%\n"
                             "pids_max = 64\nio_weight = 200\n",
                             daemon_.cgroup, daemon_.socket) > 0);
        assert_int_equal(test_write_file(daemon_.config, conf), 0);
        assert_int_equal(test_daemon_signal(&daemon_, SIGHUP), 0);
        assert_true(test_daemon_wait_log(&daemon_, "soft: limits changed, applied in place", 1, TIMEOUT));
        assert_int_equal(test_daemon_log_count(&daemon_, "soft: started"), 1);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* Resource limits reach the child; environment_inherit passes named
 * variables on, and nothing else leaks from corrald's environment. */
static void test_rlimits_and_environment(void **state) {
        assert_int_equal(setenv("CORRAL_TEST_INHERITED", "yes-inherited", 1), 0);
        assert_int_equal(setenv("CORRAL_TEST_NOT_INHERITED", "leaked", 1), 0);
        assert_int_equal(test_daemon_start(&daemon_, "rlimit",
                                           "[program:r]\ncommand = sh -c 'echo \"nofile=$(ulimit -Sn)/$(ulimit -Hn) "
                                           "core=$(ulimit -c) inh=$CORRAL_TEST_INHERITED "
                                           "not=$CORRAL_TEST_NOT_INHERITED.\"; exec sleep 1000'\n"
                                           "limit_nofile = 1234:4096\nlimit_core = 0\n"
                                           "environment_inherit = CORRAL_TEST_INHERITED\n"),
                         0);
        unsetenv("CORRAL_TEST_INHERITED");
        unsetenv("CORRAL_TEST_NOT_INHERITED");
        assert_true(test_daemon_wait_log(&daemon_, "nofile=1234/4096 core=0 inh=yes-inherited not=.", 1, TIMEOUT));
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* no_new_privs: a setuid-root binary run by nobody keeps nobody's UID. */
static void test_no_new_privs(void **state) {
        char dir[] = "/var/tmp/corral-test-suid-XXXXXX";
        _cleanup_free_ char *id = NULL, *body = NULL;

        assert_non_null(mkdtemp(dir));
        assert_int_equal(chmod(dir, 0755), 0);
        assert_true(asprintf(&id, "%s/id", dir) > 0);
        _cleanup_free_ char *cmd = NULL;
        assert_true(asprintf(&cmd, "cp /usr/bin/id %s && chown root:root %s && chmod 4755 %s", id, id, id) > 0);
        assert_int_equal(system(cmd), 0);
        assert_true(asprintf(&body,
                             "[program:plain]\ncommand = sh -c 'echo plain-euid=$(%s -u)'\nuser = nobody\n"
                             "restart = never\n"
                             "[program:nnp]\ncommand = sh -c 'echo nnp-euid=$(%s -u)'\nuser = nobody\n"
                             "no_new_privs = yes\nrestart = never\n",
                             id, id) > 0);
        assert_int_equal(test_daemon_start(&daemon_, "nnp", body), 0);
        bool plain = test_daemon_wait_log(&daemon_, "plain-euid=", 1, TIMEOUT);
        bool nnp = test_daemon_wait_log(&daemon_, "nnp-euid=", 1, TIMEOUT);
        unlink(id);
        rmdir(dir);
        assert_true(plain && nnp);
        /* without it the setuid bit works (proving the test can fail)… */
        assert_int_equal(test_daemon_log_count(&daemon_, "plain-euid=0"), 1);
        /* … with it, it does not */
        assert_int_equal(test_daemon_log_count(&daemon_, "nnp-euid=65534"), 1);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* As root, corrald refuses configuration files that others could write. */
static void test_config_ownership(void **state) {
        char dir[] = "/tmp/corral-test-own-XXXXXX";
        _cleanup_free_ char *conf = NULL, *cmd = NULL, *out = NULL, *outp = NULL;

        assert_non_null(mkdtemp(dir));
        assert_true(asprintf(&conf, "%s/c.conf", dir) > 0);
        assert_true(asprintf(&outp, "%s/out", dir) > 0);
        assert_int_equal(test_write_file(conf, "[program:a]\ncommand = sleep 1\n"), 0);

        static const struct {
                const char *setup, *expect;
        } cases[] = {
                { "chmod 0666", "with mode 0666: it must be owned by root and not writable by group or others" },
                { "chmod 0620", "with mode 0620" },
                { "chmod 0644; chown nobody", "owned by UID 65534" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                cmd = mfree(cmd);
                out = mfree(out);
                assert_true(asprintf(&cmd, "chown root %s; %s %s; '%s' --check-config --config %s >%s 2>&1", conf,
                                     cases[i].setup, conf, getenv("CORRALD"), conf, outp) > 0);
                int status = system(cmd);
                assert_true(WIFEXITED(status));
                assert_int_equal(WEXITSTATUS(status), 6); /* not configured, as a start */
                assert_int_equal(read_full_file_at(AT_FDCWD, outp, 65536, &out, NULL), 0);
                assert_non_null(strstr(out, cases[i].expect));
                assert_non_null(strstr(out, "refusing a configuration"));
        }
        /* root-owned, 0644: accepted */
        cmd = mfree(cmd);
        assert_true(asprintf(&cmd, "chown root %s; chmod 0644 %s; '%s' --check-config --config %s >/dev/null 2>&1",
                             conf, conf, getenv("CORRALD"), conf) > 0);
        assert_int_equal(system(cmd), 0);
        unlink(conf);
        unlink(outp);
        rmdir(dir);
}

/* An unprivileged corrald (UID 65534, nobody) in a cgroup subtree
 * delegated to it (chowned, as systemd's Delegate=yes does): it runs,
 * stops and contains a service, which runs as nobody, and hears READY=1 on
 * the notify socket it makes beside its control socket. */
static void test_unprivileged(void **state) {
        _cleanup_free_ char *cg = test_cgroup_path("unpriv"), *fs = test_cgroup_fs_path(cg), *start = NULL,
                            *conf = NULL, *log = NULL, *body = NULL, *cmd = NULL, *sock = NULL,
                            *mk = test_marker_new("unpriv"), *f = test_helper_path("test-forker"),
                            *n = test_helper_path("test-notifier");
        char dir[] = "/tmp/corral-test-unpriv-XXXXXX";
        int status;

        assert_non_null(mkdtemp(dir));
        assert_int_equal(chmod(dir, 0755), 0);
        assert_true(asprintf(&start, "%s/start", fs) > 0);
        assert_true(asprintf(&conf, "%s/c.conf", dir) > 0);
        assert_true(asprintf(&log, "%s/log", dir) > 0);
        assert_true(asprintf(&sock, "%s/control.sock", dir) > 0);
        assert_true(asprintf(&body,
                             "[corral]\ncgroup = %s\ncontrol_socket = %s\n"
                             "[program:s]\ncommand = sh -c 'echo unit-uid=$(id -u); exec %s tree 3'\n"
                             "environment = CORRAL_TEST_MARKER=%s\n"
                             "[program:n]\ncommand = %s ready 100\nready = notify\n",
                             cg, sock, f, mk, n) > 0);
        assert_int_equal(test_write_file(conf, body), 0);
        /* the delegation: the subtree and its interface files belong to nobody */
        assert_int_equal(mkdir(fs, 0755), 0);
        assert_int_equal(mkdir(start, 0755), 0);
        assert_true(asprintf(&cmd, "chown -R 65534:65534 %s %s", fs, dir) > 0);
        assert_int_equal(system(cmd), 0);

        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                /* as root, put ourselves inside the delegated subtree; then
                 * become nobody and run corrald */
                char self[16];
                snprintf(self, sizeof(self), "%d", getpid());
                _cleanup_free_ char *procs = NULL;
                if (asprintf(&procs, "%s/cgroup.procs", start) < 0 || test_write_file(procs, self) < 0)
                        _exit(90);
                int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
                if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
                        _exit(91);
                if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
                        _exit(92);
                execl(getenv("CORRALD"), "corrald", "--config", conf, (char *) NULL);
                _exit(93);
        }
        TestDaemon d = { .pid = pid, .pidfd = -EBADF, .log = strdup(log) };
        assert_true(test_daemon_wait_log(&d, "s: started", 1, TIMEOUT));
        assert_true(test_daemon_wait_log(&d, "running unprivileged as UID 65534", 1, 0));
        assert_true(test_daemon_wait_log(&d, "unit-uid=65534", 1, TIMEOUT));
        /* its notify socket, beside its control socket, works */
        assert_true(test_daemon_wait_log(&d, "n: ready", 1, TIMEOUT));
        /* main and its three children, all as nobody, all in the unit's cgroup */
        assert_true(test_wait_marker(mk, 4, 1 << 30, TIMEOUT));
        assert_int_equal(kill(pid, SIGTERM), 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_int_equal(test_count_marker(mk), 0);
        _cleanup_free_ char *unit = NULL;
        assert_true(asprintf(&unit, "%s/s", cg) > 0);
        assert_false(test_cgroup_exists(unit));
        free(d.log);
        assert_int_equal(test_cgroup_destroy(cg), 0);
        unlink(conf);
        unlink(log);
        test_remove_notify_dir(dir);
        rmdir(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_limits, teardown),
                cmocka_unit_test_teardown(test_rlimits_and_environment, teardown),
                cmocka_unit_test_teardown(test_no_new_privs, teardown),
                cmocka_unit_test_teardown(test_config_ownership, teardown),
                cmocka_unit_test_teardown(test_unprivileged, teardown),
        };

        test_require_cgroup2_root();
        return cmocka_run_group_tests_name("hardening", tests, NULL, NULL);
}
