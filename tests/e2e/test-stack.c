/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Stacks in a real corrald (issue 16): a health-checked db, a oneshot
 * migrate after it, an api requiring both, a worker after the api —
 * started in that order and stopped the other way, from corrald's own log
 * timestamps and the order of its log lines; a migrate that fails leaves
 * the api not started, with the reason in its status; a stop of db stops
 * what requires it first; cycles are refused at start and at reload, and
 * a refused reload changes nothing; a reload that adds a service after
 * another starts it in order; environment files are read at each start,
 * with errors that name file and line. */

#include <fcntl.h>
#include <jansson.h>
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

#include "macro.h"
#include "test-util.h"

#define TIMEOUT (30 * USEC_PER_SEC)

static TestDaemon daemon_;
static unsigned range_base;

static int teardown(void **state) {
        test_daemon_cleanup(&daemon_);
        return 0;
}

static json_t *status(void) {
        json_t *s = test_daemon_request(&daemon_, "status", NULL, NULL);
        assert_non_null(s);
        return s;
}

static const char *unit_string(json_t *st, const char *unit, const char *key) {
        json_t *u = test_status_unit(st, unit);
        assert_non_null(u);
        return json_string_value(json_object_get(u, key));
}

static long long unit_main_pid(json_t *st, const char *unit) {
        json_t *u = test_status_unit(st, unit);
        assert_non_null(u);
        return json_integer_value(json_object_get(u, "main_pid"));
}

static usec_t log_time(const char *needle) {
        usec_t t = 0;
        if (test_daemon_log_times(&daemon_, needle, &t, 1) != 1)
                fail_msg("no log line with \"%s\"", needle);
        return t;
}

/* Where needle first is in the log: lines are written in the order of the
 * events, a finer order than millisecond stamps. */
static size_t log_pos(const char *log, const char *needle) {
        const char *p = strstr(log, needle);
        if (!p)
                fail_msg("no log line with \"%s\"", needle);
        return (size_t) (p - log);
}

static void assert_before(const char *log, const char *first, const char *then) {
        usec_t a = log_time(first), b = log_time(then);
        print_message("%s (%llu) before %s (%llu, %+lld ms)\n", first, (unsigned long long) a, then,
                      (unsigned long long) b, (long long) (b - a) / 1000);
        assert_true(a <= b);
        assert_true(log_pos(log, first) < log_pos(log, then));
}

/* db: the demo service, ready at its first passing health check, about a
 * second after its start; migrate (oneshot) after it; api (2 instances)
 * requiring both; worker after api. */
static char *stack_body(const char *migrate_command) {
        char *body = NULL;
        unsigned port = range_base;

        range_base += 10;
        assert_true(asprintf(&body,
                             "[corral]\nport_range = %u-%u\n"
                             "[program:db]\n"
                             "command = sh -c 'sleep 1; exec %s -dbPath db -port ${PORT}'\n"
                             "port = auto\nready = health\nhealth_url = http://127.0.0.1:${PORT}/api/status\n"
                             "[program:migrate]\ntype = oneshot\nafter = db\ncommand = %s\n"
                             "[program:api]\nrequires = db migrate\ninstances = 2\ncommand = sleep 1000\n"
                             "[program:worker]\nafter = api\ncommand = sleep 1000\n",
                             port, port + 9, getenv("CORRAL_DEMO_SERVICE"), migrate_command) > 0);
        return body;
}

static void test_stack_order(void **state) {
        _cleanup_free_ char *body = stack_body("sh -c 'echo migrating; sleep 0.3; echo migrated'"), *log = NULL;
        json_t *st;

        assert_int_equal(test_daemon_start(&daemon_, "stack", body), 0);
        assert_true(test_daemon_wait_log(&daemon_, "worker: started", 1, TIMEOUT));
        log = test_daemon_log(&daemon_);

        /* db is ready about a second after its start, at its first passing check */
        usec_t db_started = log_time("db: started"), db_ready = log_time("db: ready (health check passed)");
        assert_true(db_ready - db_started >= 900 * USEC_PER_MSEC);
        /* migrate runs once db is ready; api once migrate exited 0; worker after both api */
        assert_before(log, "db: ready (health check passed)", "migrate: started");
        assert_before(log, "migrate: started", "migrate: main process");
        assert_non_null(strstr(log, "exited, status=0"));
        assert_before(log, "migrate: main process", "api@0: started");
        assert_before(log, "migrate: main process", "api@1: started");
        assert_true(log_time("migrate: main process") - log_time("migrate: started") >= 250 * USEC_PER_MSEC);
        assert_before(log, "api@0: started", "worker: started");
        assert_before(log, "api@1: started", "worker: started");
        /* waiting was said, with what for */
        assert_non_null(strstr(log, "api@0: waiting for "));

        st = status();
        assert_string_equal(unit_string(st, "migrate", "state"), "exited");
        assert_string_equal(unit_string(st, "migrate", "result"), "success");
        assert_string_equal(unit_string(st, "api@1", "state"), "running");
        json_decref(st);
        /* a oneshot is not restarted */
        assert_int_equal(test_daemon_log_count(&daemon_, "migrate: restarting"), 0);

        /* the shutdown: worker, then api, then db */
        assert_true(test_daemon_stop_cleanly(&daemon_));
        free(log);
        log = test_daemon_log(&daemon_);
        const char *stop = strstr(log, "stopping every unit");
        assert_non_null(stop);
        assert_before(stop, "worker: stopped", "api@0: stopping");
        assert_before(stop, "worker: stopped", "api@1: stopping");
        assert_before(stop, "api@0: stopped", "db: stopping");
        assert_before(stop, "api@1: stopped", "db: stopping");
}

static void test_migrate_fails(void **state) {
        _cleanup_free_ char *body = stack_body("sh -c 'echo migration failed; exit 1'");
        json_t *st;

        assert_int_equal(test_daemon_start(&daemon_, "stackfail", body), 0);
        assert_true(test_daemon_wait_log(&daemon_, "api@1: not started: requires migrate, which failed (exit-code)", 1,
                                         TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "api@0: not started: requires migrate", 1, TIMEOUT));
        /* worker is only after api: it starts */
        assert_true(test_daemon_wait_log(&daemon_, "worker: started", 1, TIMEOUT));
        usleep(300 * 1000);
        assert_int_equal(test_daemon_log_count(&daemon_, "api@0: started"), 0);
        assert_int_equal(test_daemon_log_count(&daemon_, "migrate: restarting"), 0);

        st = status();
        assert_string_equal(unit_string(st, "migrate", "state"), "failed");
        assert_string_equal(unit_string(st, "api@0", "state"), "inactive");
        assert_non_null(strstr(unit_string(st, "api@0", "error") ?: "", "requires migrate, which failed"));
        assert_string_equal(unit_string(st, "db", "state"), "running");
        json_decref(st);

        /* a start asked for is refused the same way while migrate is failed */
        json_t *r = test_daemon_request(&daemon_, "start", "{\"units\":[\"api@0\"]}", NULL);
        json_decref(r);
        assert_true(test_daemon_wait_log(&daemon_, "api@0: not started: requires migrate", 2, TIMEOUT));
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* A stop of db stops what requires it (api) first; worker, only after
 * api, stays. */
static void test_stop_required(void **state) {
        _cleanup_free_ char *body = stack_body("true"), *log = NULL;
        json_t *st, *r;

        assert_int_equal(test_daemon_start(&daemon_, "stackstop", body), 0);
        assert_true(test_daemon_wait_log(&daemon_, "worker: started", 1, TIMEOUT));
        r = test_daemon_request(&daemon_, "stop", "{\"units\":[\"db\"]}", NULL);
        assert_non_null(r);
        json_decref(r);
        assert_true(test_daemon_wait_log(&daemon_, "db: stopped", 1, TIMEOUT));
        log = test_daemon_log(&daemon_);
        assert_non_null(strstr(log, "api@0: will stop: requires db, which is being stopped"));
        assert_before(log, "api@0: stopped", "db: stopping");
        assert_before(log, "api@1: stopped", "db: stopping");
        st = status();
        assert_string_equal(unit_string(st, "worker", "state"), "running");
        assert_string_equal(unit_string(st, "api@0", "state"), "inactive");
        json_decref(st);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* A required unit that fails for good stops what requires it; one that
 * crashes and is restarted does not. */
static void test_required_fails(void **state) {
        json_t *st;

        assert_int_equal(test_daemon_start(&daemon_, "reqfail",
                                           "[program:db]\ncommand = sh -c 'sleep 1; exit 3'\nrestart = never\n"
                                           "[program:cache]\ncommand = sh -c 'sleep 0.5; exit 1'\nrestart_delay = "
                                           "10ms\n"
                                           "start_limit_burst = 1000\n"
                                           "[program:api]\ncommand = sleep 1000\nrequires = db cache\n"),
                         0);
        assert_true(test_daemon_wait_log(&daemon_, "api: started", 1, TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "cache: restarting", 1, TIMEOUT));
        assert_int_equal(test_daemon_log_count(&daemon_, "api: stopping"), 0);
        assert_true(test_daemon_wait_log(&daemon_, "api: will stop: requires db, which failed (exit-code)", 1,
                                         TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "api: stopped", 1, TIMEOUT));
        st = status();
        assert_string_equal(unit_string(st, "api", "state"), "inactive");
        assert_non_null(strstr(unit_string(st, "api", "error") ?: "", "requires db, which failed"));
        json_decref(st);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* A stop of every unit asked for (what corralctl stop --all sends), named
 * in the worst order: the order of a shutdown, and corrald runs on. */
static void test_stop_all(void **state) {
        _cleanup_free_ char *body = stack_body("true"), *log = NULL;
        json_t *st;

        assert_int_equal(test_daemon_start(&daemon_, "stackstopall", body), 0);
        assert_true(test_daemon_wait_log(&daemon_, "worker: started", 1, TIMEOUT));
        json_t *r = test_daemon_request(&daemon_, "stop",
                                        "{\"units\":[\"db\",\"migrate\",\"api@0\",\"api@1\",\"worker\"]}", NULL);
        assert_non_null(r);
        json_decref(r);
        assert_true(test_daemon_wait_log(&daemon_, "db: stopped", 1, TIMEOUT));
        log = test_daemon_log(&daemon_);
        assert_before(log, "worker: stopped", "api@0: stopping");
        assert_before(log, "worker: stopped", "api@1: stopping");
        assert_before(log, "api@0: stopped", "db: stopping");
        assert_before(log, "api@1: stopped", "db: stopping");
        st = status();
        assert_string_equal(unit_string(st, "worker", "state"), "inactive");
        assert_string_equal(unit_string(st, "db", "state"), "inactive");
        json_decref(st);
        assert_true(test_daemon_alive(&daemon_));
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

static void test_cycle_at_start(void **state) {
        assert_int_equal(test_daemon_start(&daemon_, "cycle",
                                           "[program:a]\ncommand = sleep 1000\nafter = b\n"
                                           "[program:b]\ncommand = sleep 1000\nrequires = c\n"
                                           "[program:c]\ncommand = sleep 1000\nafter = a\n"),
                         0);
        assert_true(test_daemon_wait(&daemon_, TIMEOUT));
        assert_int_not_equal(daemon_.exit_status, 0);
        _cleanup_free_ char *log = test_daemon_log(&daemon_);
        print_message("%s", log);
        assert_non_null(strstr(log, "a → b → c → a"));
        assert_int_equal(test_daemon_log_count(&daemon_, ": started"), 0);
}

static void write_config(const char *body) {
        _cleanup_free_ char *conf = NULL;
        assert_true(asprintf(&conf, "[corral]\ncgroup = %s\ncontrol_socket = %s\n%s", daemon_.cgroup, daemon_.socket,
                             body) > 0);
        assert_int_equal(test_write_file(daemon_.config, conf), 0);
}

static void test_cycle_at_reload(void **state) {
        static const char good[] =
                "[program:a]\ncommand = sleep 1000\nafter = b\n"
                "[program:b]\ncommand = sleep 1000\n";
        long long a, b;
        json_t *st, *r;
        const char *err = NULL;

        assert_int_equal(test_daemon_start(&daemon_, "cyclereload", good), 0);
        assert_true(test_daemon_wait_log(&daemon_, "a: started", 1, TIMEOUT));
        st = status();
        a = unit_main_pid(st, "a");
        b = unit_main_pid(st, "b");
        json_decref(st);

        /* a cycle, and a new service that would start: nothing changes */
        write_config(
                "[program:a]\ncommand = sleep 1001\nafter = b\n"
                "[program:b]\ncommand = sleep 1000\nrequires = a\n"
                "[program:new]\ncommand = sleep 1000\n");
        r = test_daemon_request(&daemon_, "reload", NULL, &err);
        assert_null(r);
        assert_non_null(err);
        assert_true(test_daemon_wait_log(&daemon_, "a → b → a", 1, TIMEOUT));
        st = status();
        assert_int_equal(unit_main_pid(st, "a"), a);
        assert_int_equal(unit_main_pid(st, "b"), b);
        assert_null(test_status_unit(st, "new"));
        json_t *d = json_object_get(st, "daemon");
        assert_non_null(strstr(json_string_value(json_object_get(d, "reload_error")) ?: "", "a → b → a"));
        json_decref(st);

        /* an unknown name is refused the same way, with file and line */
        write_config("[program:a]\ncommand = sleep 1000\nafter = b nope\n[program:b]\ncommand = sleep 1000\n");
        r = test_daemon_request(&daemon_, "reload", NULL, &err);
        assert_null(r);
        assert_true(test_daemon_wait_log(&daemon_, "after = nope: no such service or instance", 1, TIMEOUT));
        assert_int_equal(test_daemon_log_count(&daemon_, "a: stopping"), 0);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* A reload that adds db2 and svc after it: svc starts once db2 is ready. */
static void test_reload_order(void **state) {
        _cleanup_free_ char *body = NULL, *log = NULL, *notifier = test_helper_path("test-notifier");

        assert_int_equal(test_daemon_start(&daemon_, "reloadorder", "[program:x]\ncommand = sleep 1000\n"), 0);
        assert_true(test_daemon_wait_log(&daemon_, "x: started", 1, TIMEOUT));
        assert_true(asprintf(&body,
                             "[program:x]\ncommand = sleep 1000\n"
                             "[program:svc]\ncommand = sleep 1000\nafter = db2\n"
                             "[program:db2]\ncommand = %s ready 700\nready = notify\n",
                             notifier) > 0);
        write_config(body);
        json_decref(test_daemon_request(&daemon_, "reload", NULL, NULL));
        assert_true(test_daemon_wait_log(&daemon_, "svc: started", 1, TIMEOUT));
        log = test_daemon_log(&daemon_);
        assert_before(log, "db2: ready", "svc: started");
        assert_true(log_time("svc: started") - log_time("db2: started") >= 600 * USEC_PER_MSEC);
        assert_int_equal(test_daemon_log_count(&daemon_, "x: stopping"), 0);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

static void test_environment_file(void **state) {
        _cleanup_free_ char *body = NULL, *env = NULL, *err = NULL;
        json_t *st, *r;

        assert_int_equal(test_daemon_start(&daemon_, "envfile", "[program:placeholder]\ncommand = sleep 1000\n"), 0);
        assert_true(test_daemon_wait_log(&daemon_, "placeholder: started", 1, TIMEOUT));
        assert_true(asprintf(&env, "%s/app.env", daemon_.dir) > 0);
        assert_int_equal(test_write_file(env, "# app\nA=1\nB=\"two words\"\n"), 0);
        assert_true(asprintf(&body,
                             "[program:app]\n"
                             "command = sh -c 'echo \"app: A is $A, B is $B, C is $C\"; exec sleep 1000'\n"
                             "environment_file = %s -%s/missing.env\nenvironment = C=3\n",
                             env, daemon_.dir) > 0);
        write_config(body);
        json_decref(test_daemon_request(&daemon_, "reload", NULL, NULL));
        assert_true(test_daemon_wait_log(&daemon_, "app: A is 1, B is two words, C is 3", 1, TIMEOUT));

        /* read again at each start */
        assert_int_equal(test_write_file(env, "A=2\nC=from-file\n"), 0);
        json_decref(test_daemon_request(&daemon_, "restart", "{\"units\":[\"app\"]}", NULL));
        /* the files come after environment =, as systemd's EnvironmentFile= after Environment= */
        assert_true(test_daemon_wait_log(&daemon_, "app: A is 2, B is , C is from-file", 1, TIMEOUT));

        /* an error names file and line, and fails the start */
        assert_int_equal(test_write_file(env, "A=3\n\nB=\"open\n"), 0);
        json_decref(test_daemon_request(&daemon_, "restart", "{\"units\":[\"app\"]}", NULL));
        assert_true(asprintf(&err, "%s:3: unterminated double quote", env) > 0);
        assert_true(test_daemon_wait_log(&daemon_, err, 1, TIMEOUT));
        st = status();
        assert_string_equal(unit_string(st, "app", "state"), "failed");
        assert_non_null(strstr(unit_string(st, "app", "error") ?: "", err));
        json_decref(st);

        /* a missing file that is not optional */
        assert_int_equal(unlink(env), 0);
        r = test_daemon_request(&daemon_, "start", "{\"units\":[\"app\"]}", NULL);
        json_decref(r);
        free(err);
        assert_true(asprintf(&err, "%s: No such file or directory", env) > 0);
        assert_true(test_daemon_wait_log(&daemon_, err, 1, TIMEOUT));
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

static char test_user[32];

static int run_command(const char *cmd) {
        int r = system(cmd);
        return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

static int user_teardown(void **state) {
        char cmd[96];

        teardown(state);
        if (!test_user[0])
                return 0;
        snprintf(cmd, sizeof(cmd), "userdel '%s'", test_user);
        test_user[0] = '\0';
        return run_command(cmd) == 0 ? 0 : -1;
}

/* A unit with user = reads its environment file with that user's
 * permissions: root's own file is refused, a readable one is read. */
static void test_environment_file_user(void **state) {
        _cleanup_free_ char *body = NULL, *secret = NULL, *shared = NULL, *err = NULL;
        char cmd[128];

        snprintf(test_user, sizeof(test_user), "crltstk%d", (int) getpid() % 100000);
        snprintf(cmd, sizeof(cmd), "useradd --no-create-home --shell /usr/sbin/nologin '%s'", test_user);
        assert_int_equal(run_command(cmd), 0);
        assert_int_equal(test_daemon_start(&daemon_, "envuser", "[program:placeholder]\ncommand = sleep 1000\n"), 0);
        assert_true(test_daemon_wait_log(&daemon_, "placeholder: started", 1, TIMEOUT));
        assert_int_equal(chmod(daemon_.dir, 0755), 0);
        assert_true(asprintf(&secret, "%s/secret.env", daemon_.dir) > 0);
        assert_true(asprintf(&shared, "%s/shared.env", daemon_.dir) > 0);
        assert_int_equal(test_write_file(secret, "SECRET=root-only\n"), 0);
        assert_int_equal(chmod(secret, 0600), 0);
        assert_int_equal(test_write_file(shared, "SHARED=yes\n"), 0);
        assert_int_equal(chmod(shared, 0644), 0);
        assert_true(asprintf(&body,
                             "[program:placeholder]\ncommand = sleep 1000\n"
                             "[program:reader]\nuser = %s\nrestart = never\nenvironment_file = %s\n"
                             "command = sh -c 'echo \"reader: SECRET is $SECRET\"; exec sleep 1000'\n"
                             "[program:sharer]\nuser = %s\nenvironment_file = %s\n"
                             "command = sh -c 'echo \"sharer: SHARED is $SHARED, as $(id -un)\"; exec sleep 1000'\n",
                             test_user, secret, test_user, shared) > 0);
        write_config(body);
        json_decref(test_daemon_request(&daemon_, "reload", NULL, NULL));
        assert_true(asprintf(&err, "reader: %s: Permission denied", secret) > 0);
        assert_true(test_daemon_wait_log(&daemon_, err, 1, TIMEOUT));
        free(err);
        assert_true(asprintf(&err, "sharer: SHARED is yes, as %s", test_user) > 0);
        assert_true(test_daemon_wait_log(&daemon_, err, 1, TIMEOUT));
        assert_int_equal(test_daemon_log_count(&daemon_, "root-only"), 0);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_stack_order, teardown),
                cmocka_unit_test_teardown(test_migrate_fails, teardown),
                cmocka_unit_test_teardown(test_stop_required, teardown),
                cmocka_unit_test_teardown(test_required_fails, teardown),
                cmocka_unit_test_teardown(test_stop_all, teardown),
                cmocka_unit_test_teardown(test_cycle_at_start, teardown),
                cmocka_unit_test_teardown(test_cycle_at_reload, teardown),
                cmocka_unit_test_teardown(test_reload_order, teardown),
                cmocka_unit_test_teardown(test_environment_file, teardown),
                cmocka_unit_test_teardown(test_environment_file_user, user_teardown),
        };

        test_require_cgroup2_root();
        if (!getenv("CORRAL_DEMO_SERVICE")) {
                fprintf(stderr, "SKIP: $CORRAL_DEMO_SERVICE is not set: run the tests through meson\n");
                return 77;
        }
        range_base = 21000 + (unsigned) (getpid() % 30) * 100;
        return cmocka_run_group_tests_name("stack", tests, NULL, NULL);
}
