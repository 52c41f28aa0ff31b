/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The pure text of runtime services, as tables: corralctl's quoting of
 * "add … -- CMD" (given back word for word by the configuration's word
 * splitting), its reading of "apply FILE", and the protocol's keys object
 * turned into a section's body. No root needed. */

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "control-request.h"
#include "macro.h"
#include "runtime-text.h"
#include "strv.h"

static void test_command_quote(void **state) {
        static const char *const cases[][6] = {
                { "/bin/echo", "hello", NULL },
                { "/bin/sh", "-c", "echo 'it''s' \"a b\"; exit 3", NULL },
                { "app", "--port", "${PORT}", "$$", NULL },
                { "x", "", "back\\slash", "tab\there", NULL },
                { "it's", "'", "''", NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_strv_free_ char **words = NULL;
                _cleanup_free_ char *q = command_quote((char *const *) cases[i]);
                const char *error = NULL;

                assert_non_null(q);
                assert_int_equal(strv_split_words(q, &words, &error), 0);
                assert_int_equal(strv_length(words), strv_length((char *const *) cases[i]));
                for (size_t k = 0; cases[i][k]; k++)
                        assert_string_equal(words[k], cases[i][k]);
        }
}

static void test_apply_file_parse(void **state) {
        static const struct {
                const char *text;
                int r;
                unsigned line;     /* of the error */
                size_t n;          /* sections */
                const char *body1; /* of the second section */
        } cases[] = {
                { "", 0, 0, 0, NULL },
                { "# only a comment\n\n; another\n", 0, 0, 0, NULL },
                { "[program:a]\ncommand = sleep 1\n[program:b]\ncommand = sleep 2\nrestart = always\n", 0, 0, 2,
                  "command = sleep 2\nrestart = always\n" },
                { "# fleet\n  [program:a]\ncommand = x\n\n[program:b]\n", 0, 0, 2, "" },
                { "command = sleep 1\n[program:a]\n", -EINVAL, 1, 0, NULL },
                { "[program:a]\ncommand = x\n[corral]\ncgroup = /x\n", -EINVAL, 3, 0, NULL },
                { "[program:]\n", -EINVAL, 1, 0, NULL },
                { "[program:a\n", -EINVAL, 1, 0, NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_strv_free_ char **names = NULL, **bodies = NULL;
                unsigned line = 0;
                int r = apply_file_parse(cases[i].text, &names, &bodies, &line);

                assert_int_equal(r, cases[i].r);
                if (r < 0) {
                        assert_int_equal(line, cases[i].line);
                        continue;
                }
                assert_int_equal(strv_length(names), cases[i].n);
                assert_int_equal(strv_length(bodies), cases[i].n);
                if (cases[i].n >= 2) {
                        assert_string_equal(names[0], "a");
                        assert_string_equal(names[1], "b");
                        assert_string_equal(bodies[1], cases[i].body1);
                }
        }
}

static void test_keys_to_ini(void **state) {
        static const struct {
                const char *json;
                int r;
                const char *ini;
        } cases[] = {
                { "{}", 0, "" },
                { "{\"command\": \"sleep 1\"}", 0, "command = sleep 1\n" },
                { "{\"instances\": 3, \"autostart\": false}", 0, "instances = 3\nautostart = false\n" },
                { "{\"environment\": [\"A=1\", \"B=2\"]}", 0, "environment = A=1\nenvironment = B=2\n" },
                { "{\"command\": \"a\\nrestart = always\"}", -EINVAL, NULL },
                { "{\"bad key\": \"x\"}", -EINVAL, NULL },
                { "{\"k=v\": \"x\"}", -EINVAL, NULL },
                { "{\"\": \"x\"}", -EINVAL, NULL },
                { "{\"command\": null}", -EINVAL, NULL },
                { "{\"command\": 1.5}", -EINVAL, NULL },
                { "{\"environment\": [\"A=1\", {}]}", -EINVAL, NULL },
                { "[\"command\"]", -EINVAL, NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                json_t *keys = json_loads(cases[i].json, 0, NULL);
                _cleanup_free_ char *ini = NULL;
                const char *error = NULL;

                assert_non_null(keys);
                assert_int_equal(control_request_keys_to_ini(keys, &ini, &error), cases[i].r);
                if (cases[i].r == 0)
                        assert_string_equal(ini, cases[i].ini);
                else
                        assert_non_null(error);
                json_decref(keys);
        }
}

/* The new params as the parser takes and refuses them. */
static void test_request_params(void **state) {
        static const struct {
                const char *line;
                int params_error;
        } cases[] = {
                { "{\"method\":\"stop\",\"params\":{\"all\":true,\"wait\":true}}", 0 },
                { "{\"method\":\"stop\",\"params\":{\"all\":true,\"units\":[\"a\"]}}", -EINVAL },
                { "{\"method\":\"stop\",\"params\":{\"wait\":1,\"units\":[\"a\"]}}", -EINVAL },
                { "{\"method\":\"stop\"}", -EINVAL },
                { "{\"method\":\"restart\",\"params\":{\"units\":[\"web\"],\"all_at_once\":true}}", 0 },
                { "{\"method\":\"add\",\"params\":{\"name\":\"w\",\"ini\":\"command = x\"}}", 0 },
                { "{\"method\":\"add\",\"params\":{\"name\":\"w\",\"keys\":{\"command\":\"x\"}}}", 0 },
                { "{\"method\":\"add\",\"params\":{\"name\":\"w\"}}", -EINVAL },
                { "{\"method\":\"add\",\"params\":{\"name\":\"w\",\"ini\":\"a\",\"keys\":{}}}", -EINVAL },
                { "{\"method\":\"scale\",\"params\":{\"name\":\"w\",\"instances\":3}}", 0 },
                { "{\"method\":\"scale\",\"params\":{\"name\":\"w\",\"instances\":-1}}", -EINVAL },
                { "{\"method\":\"scale\",\"params\":{\"name\":\"w\"}}", -EINVAL },
                { "{\"method\":\"remove\",\"params\":{}}", -EINVAL },
                { "{\"method\":\"apply\",\"params\":{\"services\":[]}}", 0 },
                { "{\"method\":\"apply\",\"params\":{\"services\":[{\"name\":\"a\",\"ini\":\"\"},{\"name\":1}]}}",
                  -EINVAL },
                { "{\"method\":\"apply\",\"params\":{}}", -EINVAL },
                { "{\"method\":\"cat\",\"params\":{\"name\":\"w\"}}", 0 },
                { "{\"method\":\"reload\",\"params\":{\"wait\":true}}", 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(control_request_done) ControlRequest req = {};
                assert_int_equal(control_request_parse(cases[i].line, strlen(cases[i].line), &req, NULL), 0);
                if (req.params_error != cases[i].params_error)
                        print_message("case %zu: %s\n", i, cases[i].line);
                assert_int_equal(req.params_error, cases[i].params_error);
        }

        _cleanup_(control_request_done) ControlRequest req = {};
        const char *l =
                "{\"method\":\"apply\",\"params\":{\"services\":[{\"name\":\"a\",\"keys\":{\"command\":\"x\"}},"
                "{\"name\":\"b\",\"ini\":\"command = y\\n\"}],\"wait\":true}}";
        assert_int_equal(control_request_parse(l, strlen(l), &req, NULL), 0);
        assert_int_equal(req.params_error, 0);
        assert_true(req.wait);
        assert_int_equal(req.n_services, 2);
        assert_string_equal(req.service_names[1], "b");
        assert_string_equal(req.service_bodies[0], "command = x\n");
        assert_string_equal(req.service_bodies[1], "command = y\n");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_command_quote),
                cmocka_unit_test(test_apply_file_parse),
                cmocka_unit_test(test_keys_to_ini),
                cmocka_unit_test(test_request_params),
        };
        return cmocka_run_group_tests_name("runtime-text", tests, NULL, NULL);
}
