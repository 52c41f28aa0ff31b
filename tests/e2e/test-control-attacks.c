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

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_invalid_utf8, teardown),
        };
        int r;

        test_require_cgroup2_root();
        (void) corralctl_path();
        user_created = ensure_user(TEST_USER);
        r = cmocka_run_group_tests_name("control-attacks", tests, NULL, NULL);
        remove_user(TEST_USER, user_created);
        return r;
}
