/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control request parser (control-request.c), pure: a table of run,
 * cancel, wait, subscribe and status requests with what they parse to, or
 * the params problem they are; and the pages of a reply of units
 * (control-json.c): their size bounds and limits. No root, no daemon. */

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "control-json.h"
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

static void check_bare(const ControlRequest *r) {
        assert_true(r->bare);
        assert_true(r->no_stats);
}

static void check_stats(const ControlRequest *r) {
        assert_false(r->no_stats);
        assert_false(r->bare);
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
        { "{\"method\":\"status\",\"params\":{\"bare\":true,\"stats\":false}}", NULL, check_bare },
        { "{\"method\":\"status\",\"params\":{\"bare\":false}}", NULL, check_stats },
        { "{\"method\":\"status\",\"params\":{\"bare\":\"yes\"}}", "bare", NULL },
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

/* control_json_size_bound() is never below the compact JSON's length:
 * escapes (control bytes, quotes, backslashes), UTF-8, the longest
 * numbers, nesting, empty containers. */
static void test_size_bound(void **state) {
        static const char *const texts[] = { "", "plain", "\x01\x02\x1f\x7f", "\"\\\"\\", "é€😀", "a\nb\tc\r" };

        for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
                json_auto_t *o = json_pack("{s:s, s:I, s:I, s:b, s:n, s:f, s:[s, {}, []], s:{s:s}}", texts[i], texts[i],
                                           "min", (json_int_t) INT64_MIN, "max", (json_int_t) INT64_MAX, "t", 1, "n",
                                           "real", -1.2345678901234567e-300, texts[i], texts[i], "o", texts[i],
                                           texts[i]);

                json_auto_t *a = json_pack("[s, s, s]", texts[i], texts[i], texts[i]);

                assert_non_null(o);
                assert_non_null(a);
                assert_true(control_json_size_bound(o) >= json_dumpb(o, NULL, 0, JSON_COMPACT));
                /* where the strings are all: no slack of keys or numbers */
                assert_true(control_json_size_bound(a) >= json_dumpb(a, NULL, 0, JSON_COMPACT));
        }
}

/* Pages of many units: every line within CONTROL_PAGE_MAX, a JSON object
 * with "more" on all but the last, and every unit once, in order. A unit
 * with a long escaped text (its bound six times its JSON) still pages. */
static void test_pages(void **state) {
        _cleanup_(control_pager_done) ControlPager p = {};
        _cleanup_free_ char *text = malloc(4097);
        size_t next = 0, lines = 0;

        assert_non_null(text);
        memset(text, '\x01', 4096);
        text[4096] = '\0';
        for (size_t i = 0; i <= 5000; i++) {
                _cleanup_free_ char *line = NULL;
                size_t len = 0;
                int r;

                if (i < 5000) {
                        json_t *o = json_pack("{s:I, s:s, s:I}", "i", (json_int_t) i, "status_text",
                                              i % 100 == 7 ? text : "ok", "cpu_usec", (json_int_t) INT64_MAX);
                        r = control_pager_add(&p, o, &line, &len);
                } else
                        r = control_pager_finish(&p, json_pack("{s:s}", "extra", "x"), &line, &len);
                assert_true(r >= 0);
                if (!line)
                        continue;
                lines++;
                assert_true(len <= CONTROL_PAGE_MAX);
                assert_int_equal(line[len - 1], '\n');
                json_auto_t *msg = json_loadb(line, len - 1, 0, NULL);
                json_t *units = json_object_get(json_object_get(msg, "result"), "units"), *u;
                size_t k;

                assert_true(json_is_array(units));
                assert_int_equal(json_is_true(json_object_get(msg, "more")), i < 5000);
                json_array_foreach(units, k, u) assert_int_equal(json_integer_value(json_object_get(u, "i")), next++);
        }
        assert_int_equal(next, 5000);
        assert_true(lines > 1);
}

/* A bare pager: every line but the last a bare array of units, within
 * CONTROL_PAGE_MAX, the units once each and in order, flushed before the
 * last line, which is the result alone; no units: that line alone. */
static void test_pages_bare(void **state) {
        char text[301];

        memset(text, 'x', 300); /* 3000 units: some 1 MB, pages of 256 KiB */
        text[300] = '\0';
        for (size_t total = 0; total <= 3000; total += 3000) {
                _cleanup_(control_pager_done) ControlPager p = { .bare = true };
                size_t next = 0, arrays = 0;
                bool ended = false;

                for (size_t i = 0; i <= total + 1; i++) {
                        _cleanup_free_ char *line = NULL;
                        size_t len = 0;
                        int r;

                        assert_false(ended);
                        if (i < total)
                                r = control_pager_add(&p, json_pack("{s:I, s:s}", "i", (json_int_t) i, "t", text),
                                                      &line, &len);
                        else if (i == total) {
                                r = control_pager_flush(&p, &line, &len);
                                assert_int_equal(r, total > 0);
                        } else {
                                r = control_pager_finish(&p, json_pack("{s:s}", "extra", "x"), &line, &len);
                                ended = true;
                        }
                        assert_true(r >= 0);
                        if (!line)
                                continue;
                        assert_true(len <= CONTROL_PAGE_MAX);
                        assert_int_equal(line[len - 1], '\n');
                        json_auto_t *msg = json_loadb(line, len - 1, 0, NULL);
                        json_t *u;
                        size_t k;

                        if (!ended) {
                                assert_true(json_is_array(msg));
                                assert_true(json_array_size(msg) > 0);
                                arrays++;
                                json_array_foreach(msg, k, u)
                                        assert_int_equal(json_integer_value(json_object_get(u, "i")), next++);
                                continue;
                        }
                        assert_true(json_is_true(json_object_get(msg, "ok")));
                        assert_null(json_object_get(msg, "more"));
                        assert_null(json_object_get(json_object_get(msg, "result"), "units"));
                        assert_string_equal(json_string_value(json_object_get(json_object_get(msg, "result"), "extra")),
                                            "x");
                }
                assert_true(ended);
                assert_int_equal(next, total);
                assert_true(total == 0 ? arrays == 0 : arrays > 1);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cases),
                cmocka_unit_test(test_size_bound),
                cmocka_unit_test(test_pages),
                cmocka_unit_test(test_pages_bare),
        };

        return cmocka_run_group_tests_name("control-request", tests, NULL, NULL);
}
