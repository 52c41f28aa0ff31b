/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests of the configuration parser: a full file field by field, the
 * defaults, a table of invalid files with their exact FILE:LINE: prefix, and
 * several real files read by config_load(). */

#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include <cmocka.h>

#include "config-parse.h"
#include "config.h"
#include "strv.h"

#define NAME_64 "a123456789b123456789c123456789d123456789e123456789f123456789g123"
#define NAME_65 NAME_64 "h"

static void assert_strv_equal(char **l, const char *const *expected) {
        size_t n = 0;

        while (expected[n])
                n++;
        assert_int_equal(strv_length(l), n);
        for (size_t i = 0; i < n; i++)
                assert_string_equal(l[i], expected[i]);
}

static int load_string(const char *text, Config **ret, char **ret_error) {
        return config_load_buffer("test.conf", text, strlen(text), ret, ret_error);
}

static void test_full(_unused_ void **state) {
        static const char text[] =
                "# A comment\n"
                "; another comment\n"
                "\n"
                "[corral]\n"
                "cgroup = /corral.slice/corral\n"
                "control_socket = /run/test/control.sock\n"
                "log_target = stderr\n"
                "log_level = debug\n"
                "\n"
                "[program:web]\n"
                "command = /usr/bin/python3 -m http.server \"8000\" 'a b'\n"
                "directory = /srv/www\n"
                "environment = A=1 B=\"two words\"\n"
                "environment = C=3 A=4\n"
                "environment =\n"
                "user = www-data\n"
                "group = 33\n"
                "umask = 027\n"
                "autostart = no\n"
                "stop_signal = SIGINT\n"
                "stop_timeout = 1min 30s\n"
                "kill_mode = mixed\n"
                "restart = always\n"
                "restart_delay = 1.5s\n"
                "\n"
                "  [program:worker-2_b]  \n"
                "command=sh -c \"a ; b # c\"\n"
                "stop_signal = 1\n"
                "stop_timeout = 0\n"
                "restart = never\n";
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *error = NULL;
        ServiceConfig *s;

        assert_int_equal(load_string(text, &c, &error), 0);
        assert_null(error);

        assert_string_equal(c->cgroup, "/corral.slice/corral");
        assert_string_equal(c->control_socket, "/run/test/control.sock");
        assert_int_equal(c->log_target, LOG_TARGET_STDERR);
        assert_int_equal(c->log_level, LOG_DEBUG);
        assert_int_equal(c->n_services, 2);

        s = c->services[0];
        assert_ptr_equal(config_find_service(c, "web"), s);
        assert_string_equal(s->name, "web");
        assert_string_equal(s->file, "test.conf");
        assert_int_equal(s->line, 10);
        assert_strv_equal(s->command,
                          (const char *const[]) { "/usr/bin/python3", "-m", "http.server", "8000", "a b", NULL });
        assert_string_equal(s->directory, "/srv/www");
        assert_strv_equal(s->environment, (const char *const[]) { "A=4", "B=two words", "C=3", NULL });
        /* a loaded service's lists are packed: each one allocation, its
         * words inside it (ASan checks that freeing them frees just that) */
        assert_true(s->packed);
        assert_ptr_equal(s->command[0], (char *) (s->command + 6));
        assert_ptr_equal(s->environment[2], s->environment[1] + strlen("B=two words") + 1);
        assert_string_equal(s->user, "www-data");
        assert_string_equal(s->group, "33");
        assert_int_equal(s->umask, 027);
        assert_false(s->autostart);
        assert_int_equal(s->stop_signal, SIGINT);
        assert_int_equal(s->stop_timeout, 90 * USEC_PER_SEC);
        assert_int_equal(s->kill_mode, KILL_MODE_MIXED);
        assert_int_equal(s->restart, RESTART_ALWAYS);
        assert_int_equal(service_config_tuning(s)->restart_delay, 1500 * USEC_PER_MSEC);

        s = c->services[1];
        assert_ptr_equal(config_find_service(c, "worker-2_b"), s);
        assert_int_equal(s->line, 26);
        assert_strv_equal(s->command, (const char *const[]) { "sh", "-c", "a ; b # c", NULL });
        assert_int_equal(s->stop_signal, SIGHUP);
        assert_int_equal(s->stop_timeout, 0);
        assert_int_equal(s->restart, RESTART_NEVER);

        assert_null(config_find_service(c, "nope"));
}

static void test_defaults(_unused_ void **state) {
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *error = NULL;
        ServiceConfig *s;

        assert_int_equal(load_string("[program:a]\ncommand = /bin/true\n", &c, &error), 0);
        assert_null(c->cgroup);
        assert_string_equal(c->control_socket, CONFIG_DEFAULT_CONTROL_SOCKET);
        assert_int_equal(c->log_target, LOG_TARGET_AUTO);
        assert_int_equal(c->log_level, LOG_INFO);
        assert_int_equal(c->n_services, 1);

        s = c->services[0];
        assert_strv_equal(s->command, (const char *const[]) { "/bin/true", NULL });
        assert_null(s->directory);
        assert_int_equal(strv_length(s->environment), 0);
        assert_null(s->user);
        assert_null(s->group);
        assert_int_equal(s->umask, 0022);
        assert_true(s->autostart);
        assert_int_equal(s->stop_signal, SIGTERM);
        assert_int_equal(s->stop_timeout, 10 * USEC_PER_SEC);
        assert_int_equal(s->kill_mode, KILL_MODE_CONTROL_GROUP);
        assert_int_equal(s->restart, RESTART_ON_FAILURE);
        assert_int_equal(service_config_tuning(s)->restart_delay, 100 * USEC_PER_MSEC);
}

static void test_empty(_unused_ void **state) {
        static const char *const texts[] = { "", "\n\n", "# nothing\n", "[corral]\n", "\xEF\xBB\xBF" };

        for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
                _cleanup_(config_freep) Config *c = NULL;
                _cleanup_free_ char *error = NULL;

                assert_int_equal(load_string(texts[i], &c, &error), 0);
                assert_int_equal(c->n_services, 0);
        }
}

static void test_invalid(_unused_ void **state) {
        static const struct {
                const char *text;
                const char *prefix;  /* the exact start of the message */
                const char *message; /* a part of the rest */
        } cases[] = {
                /* keys and sections */
                { "[program:web]\ncommand = x\ncomand = y\n",
                  "test.conf:3: ", "unknown key 'comand' in [program:web]" },
                { "[corral]\nfoo = 1\n", "test.conf:2: ", "unknown key 'foo' in [corral]" },
                { "[program:web]\ncommand = x\ncgroup = /a\n",
                  "test.conf:3: ", "unknown key 'cgroup' in [program:web]" },
                { "[program:web]\ncommand = x\nCommand = y\n", "test.conf:3: ", "unknown key 'Command'" },
                { "[program:web]\ncommand = x\n= y\n", "test.conf:3: ", "unknown key ''" },
                { "\n[foo]\n", "test.conf:2: ", "unknown section [foo]" },
                { "[program]\ncommand = x\n", "test.conf:1: ", "unknown section [program]" },
                { "[]\n", "test.conf:1: ", "unknown section []" },
                { "[ corral ]\n", "test.conf:1: ", "unknown section [ corral ]" },
                { "command = x\n[program:a]\ncommand = x\n", "test.conf:1: ", "key 'command' before any section" },
                /* service names */
                { "[program:supervisor]\ncommand = x\n", "test.conf:1: ", "service name 'supervisor' is reserved" },
                { "[program:we.b]\ncommand = x\n",
                  "test.conf:1: ", "invalid service name 'we.b': use letters, digits, '_' and '-', at most 64" },
                { "[program:" NAME_65 "]\ncommand = x\n", "test.conf:1: ", "invalid service name '" NAME_65 "'" },
                { "[program:]\ncommand = x\n", "test.conf:1: ", "invalid service name ''" },
                { "[program:a b]\ncommand = x\n", "test.conf:1: ", "invalid service name 'a b'" },
                { "[program:a/b]\ncommand = x\n", "test.conf:1: ", "invalid service name 'a/b'" },
                /* duplicates */
                { "[program:web]\ncommand = a\n\n[program:web]\ncommand = b\n",
                  "test.conf:4: ", "duplicate section [program:web] (first at test.conf:1)" },
                { "[corral]\n# x\n[corral]\n", "test.conf:3: ", "duplicate section [corral] (first at test.conf:1)" },
                { "[program:web]\ncommand = a\ndirectory = /\ncommand = b\n",
                  "test.conf:4: ", "duplicate key 'command' (first at line 2)" },
                { "[program:web]\ncommand = a\nrestart = never\nrestart = never\n",
                  "test.conf:4: ", "duplicate key 'restart'" },
                { "[corral]\nlog_level = info\nlog_level = debug\n", "test.conf:3: ", "duplicate key 'log_level'" },
                /* command */
                { "[corral]\n\n[program:web]\nuser = x\n", "test.conf:3: ", "[program:web] has no command" },
                { "[program:a]\nuser = x\n[program:b]\ncommand = y\n", "test.conf:1: ", "[program:a] has no command" },
                { "[program:a]\n", "test.conf:1: ", "[program:a] has no command" },
                { "[program:a]\ncommand =\n", "test.conf:2: ", "empty value for 'command'" },
                { "[program:a]\ncommand = ''\n", "test.conf:2: ", "empty command" },
                { "[program:a]\ncommand = \"\" x\n", "test.conf:2: ", "empty command" },
                { "[program:a]\ncommand = sh -c \"echo\n",
                  "test.conf:2: ", "invalid command: unterminated double quote" },
                { "[program:a]\ncommand = sh -c 'echo\n",
                  "test.conf:2: ", "invalid command: unterminated single quote" },
                { "[program:a]\ncommand = echo \\\n", "test.conf:2: ", "invalid command: trailing backslash" },
                /* values */
                { "[program:a]\ncommand = x\nstop_timeout = fast\n",
                  "test.conf:3: ", "invalid time span 'fast' for stop_timeout" },
                { "[program:a]\ncommand = x\nrestart_delay = 10x\n",
                  "test.conf:3: ", "invalid time span '10x' for restart_delay" },
                { "[program:a]\ncommand = x\nrestart_delay = 99999999999999999999d\n",
                  "test.conf:3: ", "time span '99999999999999999999d' for restart_delay is too large" },
                { "[program:a]\ncommand = x\nstop_signal = SIGFOO\n",
                  "test.conf:3: ", "invalid signal 'SIGFOO' for stop_signal" },
                { "[program:a]\ncommand = x\nstop_signal = 0\n",
                  "test.conf:3: ", "invalid signal '0' for stop_signal" },
                { "[program:a]\ncommand = x\nkill_mode = process\n",
                  "test.conf:3: ", "invalid kill_mode 'process': use control-group or mixed" },
                { "[program:a]\ncommand = x\nrestart = sometimes\n",
                  "test.conf:3: ", "invalid restart 'sometimes': use always, on-failure or never" },
                { "[program:a]\ncommand = x\numask = 0888\n", "test.conf:3: ", "invalid umask '0888'" },
                { "[program:a]\ncommand = x\numask = 01000\n", "test.conf:3: ", "invalid umask '01000'" },
                { "[program:a]\ncommand = x\nautostart = maybe\n",
                  "test.conf:3: ", "invalid boolean 'maybe' for autostart" },
                { "[program:a]\ncommand = x\nenvironment = A=1 FOO\n",
                  "test.conf:3: ", "invalid environment entry 'FOO': expected KEY=VALUE" },
                { "[program:a]\ncommand = x\nenvironment = 1A=x\n",
                  "test.conf:3: ", "invalid environment variable name '1A'" },
                { "[program:a]\ncommand = x\nenvironment = A-B=x\n",
                  "test.conf:3: ", "invalid environment variable name 'A-B'" },
                { "[program:a]\ncommand = x\nenvironment = =x\n",
                  "test.conf:3: ", "invalid environment variable name ''" },
                { "[program:a]\ncommand = x\nenvironment = \"A=1\n",
                  "test.conf:3: ", "invalid environment: unterminated double quote" },
                { "[program:a]\ncommand = x\ndirectory = srv/www\n",
                  "test.conf:3: ", "directory 'srv/www' is not an absolute path" },
                { "[program:a]\ncommand = x\nuser = a b\n", "test.conf:3: ", "invalid user 'a b'" },
                { "[program:a]\ncommand = x\ngroup = a:b\n", "test.conf:3: ", "invalid group 'a:b'" },
                { "[program:a]\ncommand = x\nuser = ../x\n", "test.conf:3: ", "invalid user '../x'" },
                { "[program:a]\ncommand = x\nuser =\n", "test.conf:3: ", "empty value for 'user'" },
                { "[corral]\ncgroup = corral\n", "test.conf:2: ", "invalid cgroup path 'corral'" },
                { "[corral]\ncgroup = /a/../b\n", "test.conf:2: ", "invalid cgroup path '/a/../b'" },
                { "[corral]\ncgroup = /..\n", "test.conf:2: ", "invalid cgroup path '/..'" },
                { "[corral]\ncgroup = /a/./b\n", "test.conf:2: ", "invalid cgroup path '/a/./b'" },
                { "[corral]\ncgroup = /a//b\n", "test.conf:2: ", "invalid cgroup path '/a//b'" },
                { "[corral]\ncgroup = /\n", "test.conf:2: ", "invalid cgroup path '/'" },
                { "[corral]\ncgroup = /a/\n", "test.conf:2: ", "invalid cgroup path '/a/'" },
                { "[corral]\ncontrol_socket = run/x.sock\n",
                  "test.conf:2: ", "control_socket 'run/x.sock' is not an absolute path" },
                /* state_dir was never used, and is gone */
                { "[corral]\nstate_dir = /var/lib/corral\n", "test.conf:2: ", "unknown key 'state_dir' in [corral]" },
                { "[corral]\nlog_level = verbose\n", "test.conf:2: ", "invalid log_level 'verbose'" },
                { "[corral]\nlog_level = LOG_INFO\n", "test.conf:2: ", "invalid log_level 'LOG_INFO'" },
                /* syntax */
                { "[program:a]\ncommand = x\njust some words\n",
                  "test.conf:3: ", "syntax error, expected 'key = value' or '[section]'" },
                { "[program:a\ncommand = x\n", "test.conf:1: ", "syntax error" },
                { "[program:a] trailing\ncommand = x\n", "test.conf:1: ", "unexpected text after ']'" },
                { "# c\r\n\r\n[program:a]\r\ncommand = x\r\nrestart = no\r\n",
                  "test.conf:5: ", "invalid restart 'no'" },
                { "\xEF\xBB\xBF[program:a]\ncommand = x\nfoo = 1\n", "test.conf:3: ", "unknown key 'foo'" },
                /* dependencies: names, then whether they exist (at the key's line), cycles */
                { "[program:a]\ncommand = x\nafter = b@\n", "test.conf:3: ", "invalid name 'b@' in after" },
                { "[program:a]\ncommand = x\nafter = b@01\n", "test.conf:3: ", "invalid name 'b@01'" },
                { "[program:a]\ncommand = x\nrequires = b.c\n", "test.conf:3: ", "invalid name 'b.c' in requires" },
                { "[program:a]\ncommand = x\n\nafter = b\n",
                  "test.conf:4: ", "[program:a]: after = b: no such service or instance" },
                { "[program:b]\ncommand = x\ninstances = 2\n[program:a]\ncommand = x\nrequires = b b@2\n",
                  "test.conf:6: ", "requires = b@2: no such service or instance" },
                { "[program:b]\ncommand = x\n[program:a]\ncommand = x\nrequires = b@0\n",
                  "test.conf:5: ", "requires = b@0: no such service or instance" },
                { "[program:a]\ncommand = x\nafter = b\n[program:b]\ncommand = x\nrequires = c\n"
                  "[program:c]\ncommand = x\nafter = a\n",
                  "test.conf:3: ", "[program:a]: a dependency cycle: a → b → c → a" },
                { "[program:a]\ncommand = x\nrequires = a\n", "test.conf:3: ", "a dependency cycle: a → a" },
                /* oneshot */
                { "[program:a]\ncommand = x\ntype = forking\n",
                  "test.conf:3: ", "invalid type 'forking': use simple, oneshot" },
                { "[program:a]\ncommand = x\ntype = oneshot\nrestart = always\n",
                  "test.conf:1: ", "type = oneshot, which takes no restart = always" },
                { "[program:a]\ncommand = x\ntype = oneshot\nready = notify\n",
                  "test.conf:1: ", "takes no ready other than exec" },
                { "[program:a]\ncommand = x\ntype = oneshot\nhealth_url = http://127.0.0.1/\n",
                  "test.conf:1: ", "takes no health_url" },
                { "[program:a]\ncommand = x\ntype = oneshot\nexit_type = cgroup\n",
                  "test.conf:1: ", "takes no exit_type = cgroup" },
                /* environment files */
                { "[program:a]\ncommand = x\nenvironment_file = app.env\n",
                  "test.conf:3: ", "invalid environment_file 'app.env': an absolute path" },
                { "[program:a]\ncommand = x\nenvironment_file = -\n", "test.conf:3: ", "invalid environment_file '-'" },
                { "[program:a]\ncommand = x\nenvironment_file = '/a\n", "test.conf:3: ", "invalid environment_file" },
                /* only the first error is reported */
                { "[program:a]\nfoo = 1\nbar = 2\n[x]\n", "test.conf:2: ", "unknown key 'foo'" },
                { "[program:a]\nnonsense\nbar = 2\n", "test.conf:2: ", "syntax error" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Config *c = (Config *) &cases; /* must stay untouched */
                _cleanup_free_ char *error = NULL;
                int r;

                r = load_string(cases[i].text, &c, &error);
                if (r != -EINVAL || !error || !strneq(error, cases[i].prefix, strlen(cases[i].prefix)) ||
                    !strstr(error, cases[i].message))
                        print_error("case %zu: got %d \"%s\", expected \"%s…%s\"\n", i, r, error ?: "(null)",
                                    cases[i].prefix, cases[i].message);
                assert_int_equal(r, -EINVAL);
                assert_ptr_equal(c, &cases);
                assert_non_null(error);
                assert_true(strneq(error, cases[i].prefix, strlen(cases[i].prefix)));
                assert_non_null(strstr(error, cases[i].message));
        }
}

/* after, requires, type, environment_file; a oneshot's defaults. */
static void test_stack_keys(_unused_ void **state) {
        static const char text[] =
                "[program:db]\ncommand = x\ninstances = 2\n"
                "[program:migrate]\ncommand = x\ntype = oneshot\nafter = db\n"
                "[program:retry]\ncommand = x\ntype = oneshot\nrestart = on-failure\n"
                "start_timeout = 5min\n"
                "[program:api]\ncommand = x\ninstances = 2\nrequires = db\nrequires = migrate\n"
                "after = db@0 'migrate'\n"
                "environment_file = /etc/app.env \"-/etc/app local.env\"\n"
                "environment_file = /etc/more.env\n";
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *error = NULL;
        const ServiceConfig *db, *migrate, *retry, *api;

        if (load_string(text, &c, &error) < 0)
                print_error("%s\n", error);
        assert_non_null(c);
        db = config_find_service(c, "db");
        migrate = config_find_service(c, "migrate");
        retry = config_find_service(c, "retry");
        api = config_find_service(c, "api");
        assert_int_equal(db->type, SERVICE_TYPE_SIMPLE);
        assert_null(service_config_extras(db)->after);
        assert_int_equal(service_config_restart(db), RESTART_ON_FAILURE);
        assert_int_equal(service_config_start_timeout(db), 90 * USEC_PER_SEC);
        assert_int_equal(migrate->type, SERVICE_TYPE_ONESHOT);
        assert_strv_equal(service_config_extras(migrate)->after, (const char *const[]) { "db", NULL });
        assert_int_equal(service_config_restart(migrate), RESTART_NEVER);
        assert_int_equal(service_config_start_timeout(migrate), 0);
        assert_int_equal(service_config_restart(retry), RESTART_ON_FAILURE);
        assert_int_equal(service_config_start_timeout(retry), 5 * 60 * USEC_PER_SEC);
        assert_strv_equal(service_config_extras(api)->requires, (const char *const[]) { "db", "migrate", NULL });
        assert_strv_equal(service_config_extras(api)->after, (const char *const[]) { "db@0", "migrate", NULL });
        assert_int_equal(service_config_after_line(api), 18);
        assert_int_equal(service_config_requires_line(api), 17);
        assert_strv_equal(service_config_extras(api)->environment_files,
                          (const char *const[]) { "/etc/app.env", "-/etc/app local.env", "/etc/more.env", NULL });
        assert_string_equal(service_type_to_string(SERVICE_TYPE_ONESHOT), "oneshot");

        /* the graph of the configuration */
        _cleanup_(dep_graph_freep) DepGraph *g = NULL;
        assert_int_equal(config_dep_graph(c, &g, /* ret_error= */ NULL), 0);
        assert_int_equal(dep_graph_n_units(g), 6);
        assert_string_equal(dep_graph_unit_name(g, 5), "api@1");
}

/* The extras block (output, environment sources, order): a service
 * without those keys has none, and reads the defaults; one with after =
 * has it. */
static void test_extras_block(_unused_ void **state) {
        static const char text[] =
                "[program:plain]\ncommand = x\n"
                "[program:ordered]\ncommand = x\nafter = plain\n";
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *error = NULL;
        const ServiceConfig *plain, *ordered;

        if (load_string(text, &c, &error) < 0)
                print_error("%s\n", error);
        assert_non_null(c);
        plain = config_find_service(c, "plain");
        ordered = config_find_service(c, "ordered");

        assert_null(plain->extras);
        assert_int_equal(service_config_extras(plain)->output, OUTPUT_AUTO);
        assert_null(service_config_extras(plain)->output_path);
        assert_null(service_config_extras(plain)->output_stderr_path);
        assert_true(service_config_extras(plain)->output_max_size == CONFIG_OUTPUT_MAX_SIZE_DEFAULT);
        assert_int_equal(service_config_extras(plain)->output_max_files, CONFIG_OUTPUT_MAX_FILES_DEFAULT);
        assert_int_equal(service_config_extras(plain)->output_max_files, 5);
        assert_null(service_config_extras(plain)->environment_inherit);
        assert_null(service_config_extras(plain)->environment_files);
        assert_null(service_config_extras(plain)->after);
        assert_null(service_config_extras(plain)->requires);
        assert_int_equal(service_config_after_line(plain), plain->line);
        assert_int_equal(service_config_requires_line(plain), plain->line);

        assert_non_null(ordered->extras);
        assert_strv_equal(ordered->extras->after, (const char *const[]) { "plain", NULL });
        assert_int_equal(service_config_after_line(ordered), 5);
        assert_int_equal(service_config_requires_line(ordered), ordered->line);
        /* what after = did not set keeps its default */
        assert_int_equal(ordered->extras->output_max_files, CONFIG_OUTPUT_MAX_FILES_DEFAULT);
        assert_true(ordered->extras->output_max_size == CONFIG_OUTPUT_MAX_SIZE_DEFAULT);
}

static const ConfigKey *program_key(const char *key) {
        for (size_t i = 0; i < config_n_program_keys; i++)
                if (streq(config_program_keys[i].key, key))
                        return &config_program_keys[i];
        fail_msg("no key %s", key);
        return NULL;
}

/* A reload sees a change of keys of the extras: output_max_files
 * restarts the service; after (the order of starts to come) differs but
 * restarts nothing, as its class says. */
static void test_extras_diff(_unused_ void **state) {
        static const char *const texts[] = {
                "[program:db]\ncommand = x\n[program:web]\ncommand = x\n",
                "[program:db]\ncommand = x\n[program:web]\ncommand = x\noutput_max_files = 5\n",
                "[program:db]\ncommand = x\n[program:web]\ncommand = x\noutput_max_files = 7\n",
                "[program:db]\ncommand = x\n[program:web]\ncommand = x\nafter = db\n",
                "[program:db]\ncommand = x\n[program:web]\ncommand = x\nafter = db db\n",
        };
        Config *c[ELEMENTSOF(texts)] = {};
        const ServiceConfig *w[ELEMENTSOF(texts)];
        const ConfigKey *files = program_key("output_max_files"), *after = program_key("after");
        ConfigPlan plan = {};

        for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
                _cleanup_free_ char *error = NULL;

                if (load_string(texts[i], &c[i], &error) < 0)
                        print_error("%s\n", error);
                assert_non_null(c[i]);
                w[i] = config_find_service(c[i], "web");
        }

        /* the default written out: a block, the same configuration */
        assert_null(w[0]->extras);
        assert_non_null(w[1]->extras);
        assert_true(config_key_equal(files, w[0], w[1]));
        assert_int_equal(service_config_compare(w[0], w[1]), SERVICE_UNCHANGED);
        assert_true(service_config_hash(w[0]) == service_config_hash(w[1]));

        /* output_max_files changed: the service restarts */
        assert_false(config_key_equal(files, w[0], w[2]));
        assert_false(config_key_equal(files, w[1], w[2]));
        assert_int_equal(service_config_compare(w[0], w[2]), SERVICE_CHANGED);
        assert_int_equal(service_config_compare(w[1], w[2]), SERVICE_CHANGED);
        assert_false(service_config_hash(w[0]) == service_config_hash(w[2]));
        assert_int_equal(config_diff(c[0], c[2], &plan), 0);
        assert_int_equal(plan.changed, 1);
        assert_int_equal(plan.unchanged, 1);
        config_plan_done(&plan);

        /* after changed: seen, and nothing restarts */
        assert_false(config_key_equal(after, w[0], w[3]));
        assert_false(config_key_equal(after, w[3], w[4]));
        assert_true(config_key_equal(after, w[3], w[3]));
        assert_true(config_key_equal(after, w[0], w[2]));
        assert_int_equal(service_config_compare(w[0], w[3]), SERVICE_UNCHANGED);
        assert_int_equal(service_config_compare(w[3], w[4]), SERVICE_UNCHANGED);
        assert_int_equal(config_diff(c[3], c[4], &plan), 0);
        assert_int_equal(plan.changed, 0);
        assert_int_equal(plan.unchanged, 2);
        config_plan_done(&plan);

        for (size_t i = 0; i < ELEMENTSOF(texts); i++)
                config_free(c[i]);
}

/* An unknown key names the key it is closest to, when one is close, or the
 * section it belongs in. The whole message, to catch a suggestion too many. */
static void test_unknown_key(_unused_ void **state) {
        static const struct {
                const char *text;
                const char *error;
        } cases[] = {
                { "[program:web]\ncommand = x\ncomand = y\n",
                  "test.conf:3: unknown key 'comand' in [program:web]; did you mean 'command'?" },
                { "[program:web]\ncommand = x\nCommand = y\n",
                  "test.conf:3: unknown key 'Command' in [program:web]; did you mean 'command'?" },
                { "[program:web]\ncommand = x\nhelath_url = http://x/\n",
                  "test.conf:3: unknown key 'helath_url' in [program:web]; did you mean 'health_url'?" },
                { "[program:web]\ncommand = x\nmemory_maxx = 1G\n",
                  "test.conf:3: unknown key 'memory_maxx' in [program:web]; did you mean 'memory_max'?" },
                { "[program:web]\ncommand = x\nusr = a\n",
                  "test.conf:3: unknown key 'usr' in [program:web]; did you mean 'user'?" },
                { "[corral]\nlog_levle = info\n",
                  "test.conf:2: unknown key 'log_levle' in [corral]; did you mean 'log_level'?" },
                { "[program:web]\ncommand = x\ncgroup = /a\n",
                  "test.conf:3: unknown key 'cgroup' in [program:web]; it belongs in [corral]" },
                { "[corral]\nrestart = always\n",
                  "test.conf:2: unknown key 'restart' in [corral]; it belongs in [program:NAME]" },
                /* nothing close enough */
                { "[corral]\nfoo = 1\n", "test.conf:2: unknown key 'foo' in [corral]" },
                { "[corral]\nstate_dir = /var/lib/corral\n", "test.conf:2: unknown key 'state_dir' in [corral]" },
                { "[program:web]\ncommand = x\nuid = 0\n", "test.conf:3: unknown key 'uid' in [program:web]" },
                { "[program:web]\ncommand = x\nstop_sig = TERM\n",
                  "test.conf:3: unknown key 'stop_sig' in [program:web]" },
                { "[program:web]\ncommand = x\n= y\n", "test.conf:3: unknown key '' in [program:web]" },
                { "[program:web]\ncommand = x\n"
                  "command_command_command_command_command_command = y\n",
                  "test.conf:3: unknown key 'command_command_command_command_command_command' in [program:web]" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *error = NULL;
                Config *c = NULL;

                assert_int_equal(load_string(cases[i].text, &c, &error), -EINVAL);
                assert_null(c);
                if (!streq(error, cases[i].error))
                        print_error("case %zu: got \"%s\", expected \"%s\"\n", i, error, cases[i].error);
                assert_string_equal(error, cases[i].error);
        }
}

/* A NUL byte cannot be passed through a C string. */
static void test_nul_byte(_unused_ void **state) {
        static const char text[] = "[program:a]\ncommand = x\nuser = a\0b\n";
        Config *c = NULL;
        _cleanup_free_ char *error = NULL;

        assert_int_equal(config_load_buffer("n.conf", text, sizeof(text) - 1, &c, &error), -EINVAL);
        assert_null(c);
        assert_string_equal(error, "n.conf:3: NUL byte in line");
}

static char *make_long_command(size_t n_words, size_t *ret_len) {
        size_t size = 64 + n_words * 8, len;
        char *text = malloc(size);

        assert_non_null(text);
        len = (size_t) snprintf(text, size, "[program:long]\ncommand = /bin/echo");
        for (size_t i = 0; i < n_words; i++)
                len += (size_t) snprintf(text + len, size - len, " w%05zu", i);
        len += (size_t) snprintf(text + len, size - len, "\nrestart = never\n");
        *ret_len = len;
        return text;
}

static void test_long_lines(_unused_ void **state) {
        static const size_t counts[] = { 200, 9000 }; /* > 1000 bytes; near CONFIG_LINE_MAX */

        for (size_t i = 0; i < ELEMENTSOF(counts); i++) {
                _cleanup_(config_freep) Config *c = NULL;
                _cleanup_free_ char *error = NULL, *text = NULL;
                ServiceConfig *s;
                char last[16];
                size_t len;

                text = make_long_command(counts[i], &len);
                assert_int_equal(config_load_buffer("l.conf", text, len, &c, &error), 0);
                s = c->services[0];
                assert_int_equal(strv_length(s->command), counts[i] + 1);
                snprintf(last, sizeof(last), "w%05zu", counts[i] - 1);
                assert_string_equal(s->command[counts[i]], last);
                assert_int_equal(s->restart, RESTART_NEVER);
        }
}

/* A line inih could not hold is refused, and the line numbers after a long
 * line that fits stay right. */
static void test_too_long_line(_unused_ void **state) {
        _cleanup_free_ char *text = NULL, *error = NULL;
        Config *c = NULL;
        size_t len;

        text = make_long_command(9400, &len); /* 9400 * 7 bytes > 65532 */
        assert_int_equal(config_load_buffer("l.conf", text, len, &c, &error), -EINVAL);
        assert_null(c);
        assert_true(strneq(error, "l.conf:2: line too long", strlen("l.conf:2: line too long")));
        free(error);
        error = NULL;

        free(text);
        text = make_long_command(9000, &len);
        text[len - strlen("never\n")] = 'X'; /* "restart = Xever" on line 3 */
        assert_int_equal(config_load_buffer("l.conf", text, len, &c, &error), -EINVAL);
        assert_string_equal(error, "l.conf:3: invalid restart 'Xever': use always, on-failure or never");
}

static void test_name_is_valid(_unused_ void **state) {
        static const struct {
                const char *name;
                bool valid;
        } cases[] = {
                { "web", true },    { "a", true },    { "A-b_9", true }, { NAME_64, true },
                { NAME_65, false }, { "", false },    { "we.b", false }, { "a b", false },
                { "a/b", false },   { "a:b", false }, { "ä", false },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                assert_int_equal(config_name_is_valid(cases[i].name), cases[i].valid);
        assert_false(config_name_is_valid(NULL));
}

/* inih cuts section names at 49 bytes; the parser must not. */
static void test_long_name(_unused_ void **state) {
        static const char text[] = "[program:" NAME_64
                                   "]\ncommand = x\n"
                                   "[program:" NAME_64 "x]\ncommand = y\n";
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *error = NULL;

        assert_int_equal(load_string("[program:" NAME_64 "]\ncommand = x\n", &c, &error), 0);
        assert_string_equal(c->services[0]->name, NAME_64);

        assert_int_equal(load_string(text, &c, &error), -EINVAL);
        assert_non_null(strstr(error, "test.conf:3: invalid service name"));
}

static void test_string_tables(_unused_ void **state) {
        for (KillMode m = 0; m < _KILL_MODE_MAX; m++)
                assert_int_equal(kill_mode_from_string(kill_mode_to_string(m)), m);
        for (RestartPolicy p = 0; p < _RESTART_POLICY_MAX; p++)
                assert_int_equal(restart_policy_from_string(restart_policy_to_string(p)), p);

        assert_string_equal(kill_mode_to_string(KILL_MODE_CONTROL_GROUP), "control-group");
        assert_string_equal(restart_policy_to_string(RESTART_ON_FAILURE), "on-failure");
        assert_null(kill_mode_to_string(_KILL_MODE_MAX));
        assert_null(kill_mode_to_string(_KILL_MODE_INVALID));
        assert_null(restart_policy_to_string(_RESTART_POLICY_MAX));
        assert_int_equal(kill_mode_from_string("process"), _KILL_MODE_INVALID);
        assert_int_equal(kill_mode_from_string(NULL), _KILL_MODE_INVALID);
        assert_int_equal(restart_policy_from_string("Always"), _RESTART_POLICY_INVALID);
}

/* ---- real files ---- */

static int setup_dir(void **state) {
        char *dir = strdup("/tmp/test-config-XXXXXX");

        if (!dir || !mkdtemp(dir)) {
                free(dir);
                return -1;
        }
        *state = dir;
        return 0;
}

/* Removes the directory and everything in it (one level deep). */
static int teardown_dir(void **state) {
        _cleanup_free_ char *dir = *state;
        DIR *d;

        d = opendir(dir);
        if (d) {
                struct dirent *de;

                while ((de = readdir(d)))
                        if (!streq(de->d_name, ".") && !streq(de->d_name, "..") &&
                            unlinkat(dirfd(d), de->d_name, 0) < 0)
                                (void) unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR);
                closedir(d);
        }
        return rmdir(dir) < 0 ? -1 : 0;
}

static char *write_file(const char *dir, const char *name, const char *text) {
        char *path = NULL;
        FILE *f;

        assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
        f = fopen(path, "we");
        assert_non_null(f);
        assert_int_equal(fputs(text, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
        return path;
}

static void test_files_duplicate_service(void **state) {
        _cleanup_free_ char *a = NULL, *b = NULL, *error = NULL, *expected = NULL;
        Config *c = NULL;

        a = write_file(*state, "a.conf", "[program:web]\ncommand = x\n");
        b = write_file(*state, "b.conf", "# b\n[program:other]\ncommand = y\n[program:web]\ncommand = z\n");

        assert_int_equal(config_load((char *const[]) { a, b, NULL }, &c, &error), -EINVAL);
        assert_null(c);
        assert_true(asprintf(&expected, "%s:4: duplicate section [program:web] (first at %s:1)", b, a) > 0);
        assert_string_equal(error, expected);
}

static void test_files_merge(void **state) {
        _cleanup_free_ char *a = NULL, *b = NULL, *error = NULL;
        _cleanup_(config_freep) Config *c = NULL;

        a = write_file(*state, "a.conf",
                       "[corral]\nlog_level = debug\ncontrol_socket = /a\n[program:one]\ncommand = 1\n");
        b = write_file(*state, "b.conf", "[program:two]\ncommand = 2\n[corral]\ncontrol_socket = /b\ncgroup = /x\n");

        assert_int_equal(config_load((char *const[]) { a, b, NULL }, &c, &error), 0);
        assert_null(error);
        assert_string_equal(c->control_socket, "/b");
        assert_int_equal(c->log_level, LOG_DEBUG);
        assert_string_equal(c->cgroup, "/x");
        assert_int_equal(c->log_target, LOG_TARGET_AUTO);
        assert_int_equal(c->n_services, 2);
        assert_string_equal(c->services[0]->name, "one");
        assert_string_equal(c->services[0]->file, a);
        assert_string_equal(c->services[1]->name, "two");
        assert_string_equal(c->services[1]->file, b);
        assert_int_equal(c->services[1]->line, 1);
}

static void test_files_errors(void **state) {
        _cleanup_free_ char *a = NULL, *missing = NULL, *big = NULL, *error = NULL, *expected = NULL;
        Config *c = NULL;
        int fd;

        a = write_file(*state, "a.conf", "[program:one]\ncommand = 1\n");
        assert_true(asprintf(&missing, "%s/missing.conf", (char *) *state) > 0);

        assert_int_equal(config_load((char *const[]) { a, missing, NULL }, &c, &error), -ENOENT);
        assert_null(c);
        assert_true(asprintf(&expected, "%s: %s", missing, strerror(ENOENT)) > 0);
        assert_string_equal(error, expected);
        free(error);
        error = NULL;

        assert_int_equal(config_load((char *const[]) { *state, NULL }, &c, &error), -EISDIR);
        assert_non_null(strstr(error, strerror(EISDIR)));
        free(error);
        error = NULL;

        /* a sparse file just past the limit */
        assert_true(asprintf(&big, "%s/big.conf", (char *) *state) > 0);
        fd = open(big, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, CONFIG_FILE_SIZE_MAX + 1), 0);
        close(fd);
        assert_int_equal(config_load((char *const[]) { big, NULL }, &c, &error), -EFBIG);
        assert_non_null(strstr(error, "file too large"));
        free(error);
        error = NULL;

        /* an error in a later file names that file */
        free(missing);
        missing = write_file(*state, "c.conf", "[corral]\n\nlog_level = loud\n");
        assert_int_equal(config_load((char *const[]) { a, missing, NULL }, &c, &error), -EINVAL);
        free(expected);
        assert_true(asprintf(&expected, "%s:3: invalid log_level 'loud'", missing) > 0);
        assert_true(strneq(error, expected, strlen(expected)));
}

/* Without /etc/corral/corral.conf the default load fails and says why. */
static void test_default_files(_unused_ void **state) {
        _cleanup_free_ char *error = NULL;
        Config *c = NULL;

        if (access(CONFIG_DEFAULT_FILE, F_OK) >= 0 || errno != ENOENT)
                skip();
        assert_int_equal(config_load(/* files= */ NULL, &c, &error), -ENOENT);
        assert_null(c);
        assert_string_equal(error, CONFIG_DEFAULT_FILE ": No such file or directory");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_full),
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_empty),
                cmocka_unit_test(test_invalid),
                cmocka_unit_test(test_stack_keys),
                cmocka_unit_test(test_extras_block),
                cmocka_unit_test(test_extras_diff),
                cmocka_unit_test(test_unknown_key),
                cmocka_unit_test(test_nul_byte),
                cmocka_unit_test(test_long_lines),
                cmocka_unit_test(test_too_long_line),
                cmocka_unit_test(test_name_is_valid),
                cmocka_unit_test(test_long_name),
                cmocka_unit_test(test_string_tables),
                cmocka_unit_test_setup_teardown(test_files_duplicate_service, setup_dir, teardown_dir),
                cmocka_unit_test_setup_teardown(test_files_merge, setup_dir, teardown_dir),
                cmocka_unit_test_setup_teardown(test_files_errors, setup_dir, teardown_dir),
                cmocka_unit_test(test_default_files),
        };

        return cmocka_run_group_tests(tests, /* group_setup= */ NULL, /* group_teardown= */ NULL);
}
