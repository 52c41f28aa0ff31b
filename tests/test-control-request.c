/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control request parser (control-request.c), pure: a table of run,
 * cancel, wait and subscribe requests with what they parse to, or the
 * params problem they are. No root, no daemon. */

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "control-request.h"
#include "macro.h"
#include "strv.h"

#define RUN(params) "{\"method\":\"run\",\"params\":{\"argv\":[\"true\"]" params "}}"

typedef struct Case {
        const char *line;
        const char *error; /* a params problem (substring of its message), or NULL */
        void (*check)(const ControlRequest *r);
} Case;

static void check_run_defaults(const ControlRequest *r) {
        assert_false(r->has_stdio);
        assert_int_equal(r->stdio[0], -1);
        assert_int_equal(r->stdio[2], -1);
        assert_int_equal(r->stop_signal, 0);
        assert_true(r->stop_timeout == USEC_INFINITY);
        assert_null(r->kill_mode);
        assert_null(r->limits);
}

static void check_run_stdio(const ControlRequest *r) {
        assert_true(r->has_stdio);
        assert_int_equal(r->stdio[0], -1);
        assert_int_equal(r->stdio[1], 0);
        assert_int_equal(r->stdio[2], 1);
}

static void check_run_options(const ControlRequest *r) {
        assert_int_equal(r->stop_signal, SIGINT);
        assert_true(r->stop_timeout == 1500000);
        assert_string_equal(r->kill_mode, "mixed");
        assert_int_equal(strv_length(r->limits), 2);
        /* jansson keeps an object's keys in insertion order */
        assert_string_equal(r->limits[0], "memory_max=1G");
        assert_string_equal(r->limits[1], "pids_max=100");
}

static void check_cancel(const ControlRequest *r) {
        assert_string_equal(r->id, "job-1");
        assert_int_equal(r->cancel_signal, SIGKILL);
        assert_true(r->grace == 0);
}

static void check_cancel_defaults(const ControlRequest *r) {
        assert_int_equal(r->cancel_signal, 0);
        assert_true(r->grace == USEC_INFINITY);
}

static void check_wait(const ControlRequest *r) {
        assert_true(r->wait_timeout == 250000);
}

static void check_wait_defaults(const ControlRequest *r) {
        assert_true(r->wait_timeout == USEC_INFINITY);
}

static void check_jobs(const ControlRequest *r) {
        assert_true(r->jobs);
}

static void check_all_events(const ControlRequest *r) {
        assert_false(r->jobs);
}

static void check_no_stats(const ControlRequest *r) {
        assert_true(r->no_stats);
        assert_non_null(r->units);
        assert_string_equal(r->units[0], "web");
}

static void check_stats(const ControlRequest *r) {
        assert_false(r->no_stats);
}

static const Case cases[] = {
        { RUN(""), NULL, check_run_defaults },
        { RUN(",\"stdio\":[null,0,1]"), NULL, check_run_stdio },
        { RUN(",\"stdio\":[0,1]"), "stdio", NULL },
        { RUN(",\"stdio\":[0,1,3]"), "stdio", NULL },
        { RUN(",\"stdio\":[0,1,-1]"), "stdio", NULL },
        { RUN(",\"stdio\":{\"0\":0}"), "stdio", NULL },
        { RUN(",\"stdio\":[0,\"1\",2]"), "stdio", NULL },
        { RUN(",\"stop_signal\":2,\"stop_timeout_usec\":1500000,\"kill_mode\":\"mixed\","
              "\"limits\":{\"memory_max\":\"1G\",\"pids_max\":\"100\"}"),
          NULL, check_run_options },
        { RUN(",\"stop_signal\":0"), "stop_signal", NULL },
        { RUN(",\"stop_signal\":1000"), "stop_signal", NULL },
        { RUN(",\"stop_timeout_usec\":-1"), "stop_timeout_usec", NULL },
        { RUN(",\"stop_timeout_usec\":\"1s\""), "stop_timeout_usec", NULL },
        { RUN(",\"kill_mode\":3"), "kill_mode", NULL },
        { RUN(",\"limits\":[\"memory_max=1G\"]"), "limits", NULL },
        { RUN(",\"limits\":{\"memory_max\":1}"), "limits", NULL },
        { RUN(",\"limits\":{\"a=b\":\"1\"}"), "limits", NULL },
        { "{\"method\":\"cancel\",\"params\":{\"id\":\"job-1\",\"signal\":9,\"grace_usec\":0}}", NULL, check_cancel },
        { "{\"method\":\"cancel\",\"params\":{\"id\":\"job-1\"}}", NULL, check_cancel_defaults },
        { "{\"method\":\"cancel\",\"params\":{\"id\":\"job-1\",\"signal\":0}}", "signal", NULL },
        { "{\"method\":\"cancel\",\"params\":{\"id\":\"job-1\",\"grace_usec\":-5}}", "grace_usec", NULL },
        { "{\"method\":\"cancel\",\"params\":{\"signal\":9}}", "id", NULL },
        { "{\"method\":\"wait\",\"params\":{\"id\":\"job-1\",\"timeout_usec\":250000}}", NULL, check_wait },
        { "{\"method\":\"wait\",\"params\":{\"id\":\"job-1\"}}", NULL, check_wait_defaults },
        { "{\"method\":\"wait\",\"params\":{\"id\":\"job-1\",\"timeout_usec\":1.5}}", "timeout_usec", NULL },
        { "{\"method\":\"subscribe\",\"params\":{\"jobs\":true}}", NULL, check_jobs },
        { "{\"method\":\"subscribe\"}", NULL, check_all_events },
        { "{\"method\":\"subscribe\",\"params\":{\"jobs\":1}}", "jobs", NULL },
        { "{\"method\":\"status\",\"params\":{\"units\":[\"web\"],\"stats\":false}}", NULL, check_no_stats },
        { "{\"method\":\"status\",\"params\":{\"stats\":true}}", NULL, check_stats },
        { "{\"method\":\"status\"}", NULL, check_stats },
        { "{\"method\":\"status\",\"params\":{\"stats\":0}}", "stats", NULL },
};

static void test_cases(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(control_request_done) ControlRequest r = {};
                const char *error = NULL;

                print_message("%s\n", cases[i].line);
                assert_int_equal(control_request_parse(cases[i].line, strlen(cases[i].line), &r, &error), 0);
                if (cases[i].error) {
                        assert_int_equal(r.params_error, -EINVAL);
                        assert_non_null(strstr(r.params_error_message, cases[i].error));
                        continue;
                }
                assert_int_equal(r.params_error, 0);
                cases[i].check(&r);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cases),
        };

        return cmocka_run_group_tests_name("control-request", tests, NULL, NULL);
}
