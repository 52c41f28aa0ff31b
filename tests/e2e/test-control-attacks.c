/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control socket under attack, end to end with the real corrald and
 * corralctl: what a unit or an unprivileged user (made with useradd, under
 * setpriv) can do to the daemon through it — text that is not UTF-8, a
 * flood of connections, requests that ask for much — and the socket's own
 * file. Each test here failed on the code before its fix. */

#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "control-util.h"
#include "fileio.h"
#include "macro.h"
#include "test-util.h"

#define TEST_USER "corral-test-atk"
#define FFFD "\xef\xbf\xbd"

static TestDaemon daemon_;
static bool user_created;

static int teardown(void **state) {
        test_daemon_cleanup(&daemon_);
        return 0;
}

/* The value after "needle" up to the end of its line in the daemon's log
 * (the unit's own output goes there). Caller frees. */
static char *log_value(const TestDaemon *d, const char *needle) {
        _cleanup_free_ char *log = test_daemon_log(d);
        const char *p = strstr(log, needle);

        assert_non_null(p);
        p += strlen(needle);
        return strndup(p, strcspn(p, "\n"));
}

static json_t *status_json(const TestDaemon *d, const char *const *names) {
        const char *argv[16] = { "status", "--json" };
        size_t n = 2;
        Ctl c;

        for (; names && *names && n < ELEMENTSOF(argv) - 1; names++)
                argv[n++] = *names;
        c = ctl_argv(d, /* user= */ NULL, argv);
        assert_int_equal(c.status, 0);
        json_t *j = parse_json(c.out);
        ctl_done(&c);
        return j;
}

/* Whether pid is among the unit object's "processes". */
static bool unit_has_process(json_t *u, pid_t pid) {
        json_t *p;
        size_t i;

        json_array_foreach(json_object_get(u, "processes"), i, p)
                if (json_integer_value(json_object_get(p, "pid")) == pid)
                        return true;
        return false;
}

/* ---- text that is not UTF-8 ---- */

/* STATUS= with bytes that are not UTF-8 (a lone 0xff 0xfe, a cut
 * sequence), an exec error naming a path that is not UTF-8, a job doing
 * the same: every unit stays in status, list and status NAME, with U+FFFD
 * for each bad byte; the processes of a multi-unit status stay with their
 * units; run --wait of such a job gives its exit status. */
static void test_invalid_utf8(void **state) {
        _cleanup_free_ char *tn = test_helper_path("test-notifier"), *body = NULL, *out = NULL, *sock = NULL,
                            *env = NULL;
        pid_t bad_pid, good_pid;
        json_t *j, *u;

        assert_true(asprintf(&body,
                             "[program:bad]\nready = notify\n"
                             "command = sh -c 'echo notify-socket=$NOTIFY_SOCKET; "
                             "exec %s status \"bad \\xff\\xfe \\xc3 end\" 0'\n"
                             "[program:good]\ncommand = sleep 1000\n"
                             "[program:badexec]\ncommand = /nonexistent/\xff\xfe-prog\n",
                             tn) > 0);
        start_daemon(&daemon_, "utf8", body);
        wait_state(&daemon_, "bad", "running");
        wait_state(&daemon_, "good", "running");
        wait_state(&daemon_, "badexec", "failed");
        bad_pid = unit_main_pid(&daemon_, "bad");
        good_pid = unit_main_pid(&daemon_, "good");

        /* every unit, with the bad bytes replaced */
        j = status_json(&daemon_, /* names= */ NULL);
        u = json_units_find(j, "bad");
        assert_non_null(u);
        print_message("status_text: %s\n", json_string_value(json_object_get(u, "status_text")));
        assert_string_equal(json_string_value(json_object_get(u, "status_text")), "bad " FFFD FFFD " " FFFD " end");
        assert_non_null(json_units_find(j, "good"));
        u = json_units_find(j, "badexec");
        assert_non_null(u);
        print_message("error: %s\n", json_string_value(json_object_get(u, "error")));
        assert_non_null(strstr(json_string_value(json_object_get(u, "error")), "/nonexistent/" FFFD FFFD "-prog"));
        json_decref(j);

        out = CTL_OK(&daemon_, NULL, 0, "list");
        assert_string_equal(out, "bad\ngood\nbadexec\n");
        out = mfree(out);
        out = CTL_OK(&daemon_, NULL, 0, "status", "bad");
        assert_non_null(strstr(out, "Status: \"bad " FFFD FFFD " " FFFD " end\""));
        out = mfree(out);
        out = CTL_OK(&daemon_, NULL, 3, "status", "badexec");
        assert_non_null(strstr(out, "Error: exec /nonexistent/" FFFD FFFD "-prog"));
        out = mfree(out);

        /* in one status of several units, each keeps its own processes */
        j = status_json(&daemon_, (const char *const[]) { "bad", "good", NULL });
        assert_true(unit_has_process(json_units_find(j, "bad"), bad_pid));
        assert_true(unit_has_process(json_units_find(j, "good"), good_pid));
        assert_false(unit_has_process(json_units_find(j, "good"), bad_pid));
        json_decref(j);

        /* a job that sends such a STATUS= (through the notify socket it is
         * given) and exits 0 */
        sock = log_value(&daemon_, "notify-socket=");
        assert_true(asprintf(&env, "NOTIFY_SOCKET=%s", sock) > 0);
        out = CTL_OK(&daemon_, NULL, 0, "run", "--wait", "--name", "badjob", "--env", env, "--", tn, "status",
                     "job \\xff", "500");
        out = mfree(out);
        out = CTL_OK(&daemon_, NULL, 0, "wait", "--json", "badjob");
        j = parse_json(out);
        assert_string_equal(json_string_value(json_object_get(j, "status_text")), "job " FFFD);
        json_decref(j);

        assert_true(test_daemon_alive(&daemon_));
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* ---- the socket's file ---- */

/* corrald with control_socket in a directory made with that mode and
 * owner (and dir/sub, 0755 root, when sub): refused, saying why, or
 * served. */
static void socket_dir_case(mode_t mode, uid_t owner, gid_t group, bool sub, bool refused) {
        char dir[] = "/tmp/corral-test-sockdir-XXXXXX";
        _cleanup_free_ char *body = NULL, *sockdir = NULL, *sock = NULL;
        TestDaemon *d = &daemon_; /* the teardown cleans up after a failure */

        assert_non_null(mkdtemp(dir));
        assert_int_equal(chmod(dir, mode), 0);
        assert_int_equal(chown(dir, owner, group), 0);
        assert_true(asprintf(&sockdir, "%s%s", dir, sub ? "/sub" : "") > 0);
        if (sub)
                assert_int_equal(mkdir(sockdir, 0755), 0);
        assert_true(asprintf(&sock, "%s/control.sock", sockdir) > 0);
        assert_true(asprintf(&body, "[corral]\ncontrol_socket = %s\n[program:a]\ncommand = sleep 1000\n", sock) > 0);
        print_message("socket directory %s: mode %04o, owner %u:%u%s\n", sockdir, (unsigned) mode, (unsigned) owner,
                      (unsigned) group, sub ? " (its parent)" : "");
        assert_int_equal(test_daemon_start(d, "sockdir", body), 0);
        if (refused) {
                assert_true(test_daemon_wait(d, TIMEOUT));
                print_message("corrald exited %d\n", d->exit_status);
                assert_int_not_equal(d->exit_status, 0);
                assert_int_equal(test_daemon_log_count(d, "may be changed by other users"), 1);
                assert_int_equal(access(sock, F_OK), -1);
        } else {
                assert_true(test_daemon_wait_log(d, "a: started", 1, TIMEOUT));
                _cleanup_close_ int fd = -EBADF;
                d->socket = mfree(d->socket);
                d->socket = strdup(sock);
                fd = raw_connect(d);
                assert_status_ok(fd);
                assert_true(test_daemon_stop_cleanly(d));
                assert_int_equal(access(sock, F_OK), -1); /* removed at exit */
        }
        test_daemon_cleanup(d);
        test_remove_notify_dir(sockdir); /* made beside the socket before the socket was refused */
        if (sub)
                assert_int_equal(rmdir(sockdir), 0);
        assert_int_equal(rmdir(dir), 0);
}

/* A control socket in a directory that someone else may change — where
 * the socket can be swapped for a symlink or a socket of theirs — is
 * refused with a clear message; /tmp-like (sticky, root's) is fine. */
static void test_socket_dir_refused(void **state) {
        uid_t uid;
        gid_t gid;

        socket_dir_case(0777, 0, 0, /* sub= */ false, /* refused= */ true);
        socket_dir_case(0777, 0, 0, /* sub= */ true, /* refused= */ true);
        socket_dir_case(01777, 0, 0, /* sub= */ false, /* refused= */ false);
        socket_dir_case(0755, 0, 0, /* sub= */ false, /* refused= */ false);
        if (!user_ids(TEST_USER, &uid, &gid)) {
                print_message("SKIP: no user %s (useradd failed)\n", TEST_USER);
                skip();
        }
        socket_dir_case(0770, 0, gid, /* sub= */ false, /* refused= */ true);
        socket_dir_case(0755, uid, gid, /* sub= */ false, /* refused= */ true);
        socket_dir_case(01777, uid, gid, /* sub= */ false, /* refused= */ true); /* sticky, but not root's */
}

/* The line of the bind probe's file for what ("bind", "listen") of the
 * socket; caller frees. */
static char *probe_line(const char *file, const char *what, const char *name) {
        _cleanup_free_ char *buf = NULL;

        assert_int_equal(read_full_file_at(AT_FDCWD, file, 65536, &buf, NULL), 0);
        for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
                if (strneq(line, what, strlen(what)) && line[strlen(what)] == ' ' && strstr(line, name))
                        return strdup(line);
        print_message("no %s of %s in:\n%s\n", what, name, buf);
        fail();
        return NULL;
}

/* Starts corrald with the bind probe preloaded and umask 022 (so that a
 * socket made before its mode is set would be 0755; the configuration
 * file must not be writable by others). */
static void start_daemon_probed(TestDaemon *d, const char *body, const char *probe) {
        _cleanup_free_ char *lib = test_helper_path("libbind-probe.so"), *asan = NULL;
        const char *old_asan = getenv("ASAN_OPTIONS");
        mode_t old_umask;

        /* the probe is loaded before the sanitizer runtime of a sanitized corrald */
        assert_true(asprintf(&asan, "%s%sverify_asan_link_order=0", old_asan ?: "", old_asan ? ":" : "") > 0);
        _cleanup_free_ char *saved_asan = old_asan ? strdup(old_asan) : NULL;
        assert_int_equal(setenv("LD_PRELOAD", lib, 1), 0);
        assert_int_equal(setenv("CORRAL_TEST_BIND_PROBE", probe, 1), 0);
        assert_int_equal(setenv("ASAN_OPTIONS", asan, 1), 0);
        old_umask = umask(022);
        start_daemon(d, "sockmode", body);
        umask(old_umask);
        assert_int_equal(unsetenv("LD_PRELOAD"), 0);
        assert_int_equal(unsetenv("CORRAL_TEST_BIND_PROBE"), 0);
        if (saved_asan)
                assert_int_equal(setenv("ASAN_OPTIONS", saved_asan, 1), 0);
        else
                assert_int_equal(unsetenv("ASAN_OPTIONS"), 0);
}

/* The socket file has its final mode from the moment bind() makes it,
 * and its final owner (root:control_group) before listen(): there is no
 * moment when it has another mode or owner. corrald runs with umask 022;
 * the probe (an LD_PRELOAD library) stats the file right after bind() and
 * right before listen(). */
static void test_socket_mode_without_window(void **state) {
        static const struct {
                const char *config;
                mode_t mode;
        } cases[] = {
                { "[corral]\ncontrol_group = " TEST_USER "\n", 0660 },
                { "[corral]\ncontrol_group = " TEST_USER "\nstatus_public = yes\n", 0666 },
        };
        uid_t uid;
        gid_t gid;

        if (!user_ids(TEST_USER, &uid, &gid)) {
                print_message("SKIP: no user %s (useradd failed)\n", TEST_USER);
                skip();
        }
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *probe = NULL, *bound = NULL, *listening = NULL, *want = NULL;
                struct stat st;

                assert_true(asprintf(&probe, "/tmp/corral-test-probe-%d-%zu", (int) getpid(), i) > 0);
                (void) unlink(probe);
                start_daemon_probed(&daemon_, cases[i].config, probe);
                bound = probe_line(probe, "bind", "/control.sock");
                listening = probe_line(probe, "listen", "/control.sock");
                print_message("%s\n%s\n", bound, listening);
                assert_true(asprintf(&want, " mode=%04o uid=0 ", (unsigned) cases[i].mode) > 0);
                assert_non_null(strstr(bound, want));
                want = mfree(want);
                assert_true(asprintf(&want, " mode=%04o uid=0 gid=%u", (unsigned) cases[i].mode, (unsigned) gid) > 0);
                assert_non_null(strstr(listening, want));
                assert_int_equal(stat(daemon_.socket, &st), 0);
                assert_int_equal(st.st_mode & 07777, cases[i].mode);
                assert_int_equal(st.st_uid, 0);
                assert_int_equal(st.st_gid, gid);
                assert_true(test_daemon_stop_cleanly(&daemon_));
                test_daemon_cleanup(&daemon_);
                assert_int_equal(unlink(probe), 0);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_invalid_utf8, teardown),
                cmocka_unit_test_teardown(test_socket_dir_refused, teardown),
                cmocka_unit_test_teardown(test_socket_mode_without_window, teardown),
        };
        int r;

        test_require_cgroup2_root();
        (void) corralctl_path();
        user_created = ensure_user(TEST_USER);
        r = cmocka_run_group_tests_name("control-attacks", tests, NULL, NULL);
        remove_user(TEST_USER, user_created);
        return r;
}
