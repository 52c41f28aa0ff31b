/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Containment: each case runs as a service of a real corrald, which then
 * stops it (SIGTERM to corrald, or the main process exiting on its own).
 * Survivors are counted by the marker in the processes' environment, never
 * by name or PID: after the stop there must be none, and no cgroup. Every
 * case runs with a grace period and again with stop_timeout = 0. */

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "macro.h"
#include "test-util.h"

typedef struct Case {
        const char *name;
        const char *args;  /* arguments after the program */
        bool shell;        /* args is a shell command line, run by /bin/sh -c */
        int min_procs;     /* processes to see before stopping */
        bool main_exits;   /* the main process exits by itself */
        const char *extra; /* more configuration lines */
        const char *stop_timeout;
} Case;

static TestDaemon daemon_;

static int teardown(void **state) {
        test_daemon_cleanup(&daemon_);
        return 0;
}

static char *case_command(const Case *c) {
        _cleanup_free_ char *forker = test_helper_path("test-forker");
        char *cmd;

        if (c->shell) {
                if (asprintf(&cmd, "/bin/sh -c '%s'", c->args) < 0)
                        abort();
        } else if (asprintf(&cmd, "%s %s", forker, c->args) < 0)
                abort();
        return cmd;
}

static void run_case(void **state) {
        const Case *c = *state;
        _cleanup_free_ char *marker = test_marker_new(c->name), *cmd = case_command(c), *body = NULL;

        assert_true(asprintf(&body,
                             "[program:%s]\n"
                             "command = %s\n"
                             "environment = CORRAL_TEST_MARKER=%s\n"
                             "stop_timeout = %s\n"
                             "restart = never\n"
                             "%s\n",
                             c->name, cmd, marker, c->stop_timeout, c->extra) > 0);
        assert_int_equal(test_daemon_start(&daemon_, c->name, body), 0);

        assert_true(test_wait_marker(marker, c->min_procs, 1 << 30, 30 * USEC_PER_SEC));
        assert_true(test_cgroup_exists(daemon_.cgroup));

        if (c->main_exits) {
                /* corrald stops what the main process left behind, while it
                 * keeps running itself. */
                assert_true(test_daemon_wait_log(&daemon_, "stopping the processes its main process left", 1,
                                                 30 * USEC_PER_SEC));
                assert_true(test_wait_marker(marker, 0, 0, 30 * USEC_PER_SEC));
                assert_false(test_daemon_wait(&daemon_, 0));
        }

        assert_int_equal(test_daemon_signal(&daemon_, SIGTERM), 0);
        assert_true(test_daemon_wait(&daemon_, 60 * USEC_PER_SEC));
        assert_int_equal(daemon_.exit_status, 0);

        /* corrald has exited: whatever is left now has escaped. */
        assert_int_equal(test_count_marker(marker), 0);
        assert_false(test_cgroup_exists(daemon_.cgroup));
        assert_true(test_daemon_wait_log(&daemon_, "every unit is stopped", 1, 0));
}

#define CASES(timeout, suffix)                                                                          \
        { "daemon" suffix, "daemon", false, 2, false, "", timeout },                                    \
                { "setsid" suffix, "setsid sleep 1000 & sleep 2; exit 0", true, 2, true, "", timeout }, \
                { "ignoreterm" suffix, "tree 20 ignore", false, 21, false, "", timeout },               \
                { "storm" suffix, "tree 300", false, 301, false, "", timeout },                         \
                { "stopped" suffix, "stopped", false, 2, false, "", timeout },                          \
                { "rename" suffix, "rename", false, 2, false, "", timeout },                            \
                { "forever" suffix, "forever", false, 20, false, "", timeout }, {                       \
                "mixed" suffix, "tree 5 ignore", false, 6, false, "kill_mode = mixed", timeout          \
        }

static const Case cases[] = {
        CASES("2s", ""),
        CASES("0", "-t0"),
};

int main(void) {
        struct CMUnitTest tests[ELEMENTSOF(cases)];

        test_require_cgroup2_root();
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                tests[i] = (struct CMUnitTest) {
                        .name = cases[i].name,
                        .test_func = run_case,
                        .teardown_func = teardown,
                        .initial_state = (void *) &cases[i],
                };
        return cmocka_run_group_tests_name("containment", tests, NULL, NULL);
}
