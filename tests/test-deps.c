/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The dependency graph (src/corrald/deps.c), without root: names that
 * resolve and names that do not, cycles with their text, decisions for
 * tables of unit states (start, wait, blocked, stop), whether a stop waits
 * for dependents, who requires whom, and the stop order. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "deps.h"
#include "strv.h"

#define L(...) ((char *[]) { __VA_ARGS__, NULL })

/* db (health-checked) → migrate (oneshot) → api@0, api@1 → worker */
static char *const l_db[] = { (char *) "db", NULL };
static char *const l_db_migrate[] = { (char *) "db", (char *) "migrate", NULL };
static char *const l_api[] = { (char *) "api", NULL };
static const DepServiceSpec stack[] = {
        { .name = "db" },
        { .name = "migrate", .after = l_db },
        { .name = "api", .instances = 2, .requires = l_db_migrate },
        { .name = "worker", .after = l_api },
};
enum { DB, MIGRATE, API0, API1, WORKER, N_STACK };

static DepGraph *build(const DepServiceSpec *specs, size_t n) {
        DepGraph *g = NULL;
        DepError e = {};

        assert_int_equal(dep_graph_new(specs, n, &g, &e), 0);
        assert_null(e.name);
        assert_null(e.cycle);
        return g;
}

static void test_units(_unused_ void **state) {
        _cleanup_(dep_graph_freep) DepGraph *g = build(stack, ELEMENTSOF(stack));
        static const char *const names[N_STACK] = { "db", "migrate", "api@0", "api@1", "worker" };
        size_t u;

        assert_int_equal(dep_graph_n_units(g), N_STACK);
        for (size_t i = 0; i < N_STACK; i++) {
                assert_string_equal(dep_graph_unit_name(g, i), names[i]);
                assert_int_equal(dep_graph_find_unit(g, names[i], &u), 0);
                assert_int_equal(u, i);
        }
        assert_null(dep_graph_unit_name(g, N_STACK));
        assert_int_equal(dep_graph_find_unit(g, "api", &u), -ENOENT); /* a service, not a unit */
        assert_int_equal(dep_graph_find_unit(g, "api@2", &u), -ENOENT);
        assert_int_equal(dep_graph_find_unit(g, "nope", &u), -ENOENT);

        assert_false(dep_graph_has_dependencies(g, DB));
        assert_true(dep_graph_has_dependencies(g, MIGRATE));
        assert_true(dep_graph_has_dependencies(g, API1));
        assert_true(dep_graph_has_dependents(g, DB));
        assert_true(dep_graph_has_dependents(g, API0));
        assert_false(dep_graph_has_dependents(g, WORKER));
}

static void test_bad_names(_unused_ void **state) {
        const struct {
                DepServiceSpec specs[3];
                int ret;
                size_t service;
                DepKind kind;
                const char *name;
        } cases[] = {
                { { { .name = "a", .after = L("b") } }, -ENOENT, 0, DEP_AFTER, "b" },
                { { { .name = "a" }, { .name = "b", .after = L("a"), .requires = L("c") } },
                  -ENOENT,
                  1,
                  DEP_REQUIRES,
                  "c" },
                /* an instance of a service without instances */
                { { { .name = "db" }, { .name = "a", .after = L("db@0") } }, -ENOENT, 1, DEP_AFTER, "db@0" },
                /* past the last instance, or not written as corral names it */
                { { { .name = "db", .instances = 2 }, { .name = "a", .requires = L("db@2") } },
                  -ENOENT,
                  1,
                  DEP_REQUIRES,
                  "db@2" },
                { { { .name = "db", .instances = 2 }, { .name = "a", .requires = L("db@01") } },
                  -ENOENT,
                  1,
                  DEP_REQUIRES,
                  "db@01" },
                { { { .name = "db", .instances = 2 }, { .name = "a", .requires = L("db@") } },
                  -ENOENT,
                  1,
                  DEP_REQUIRES,
                  "db@" },
                { { { .name = "a", .after = L("") } }, -ENOENT, 0, DEP_AFTER, "" },
                /* the same service twice */
                { { { .name = "a" }, { .name = "a" } }, -EINVAL, 0, DEP_AFTER, NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                DepGraph *g = NULL;
                DepError e = {};
                size_t n = 0;
                while (n < ELEMENTSOF(cases[i].specs) && cases[i].specs[n].name)
                        n++;
                print_message("case %zu\n", i);
                assert_int_equal(dep_graph_new(cases[i].specs, n, &g, &e), cases[i].ret);
                assert_null(g);
                if (cases[i].name) {
                        assert_string_equal(e.name, cases[i].name);
                        assert_int_equal(e.service, cases[i].service);
                        assert_int_equal(e.kind, cases[i].kind);
                } else
                        assert_null(e.name);
                assert_null(e.cycle);
                dep_error_done(&e);
        }
        /* ret_error may be NULL */
        DepGraph *g = NULL;
        assert_int_equal(dep_graph_new(cases[0].specs, 1, &g, /* ret_error= */ NULL), -ENOENT);
}

static void test_cycles(_unused_ void **state) {
        const struct {
                DepServiceSpec specs[4];
                const char *cycle; /* NULL: none */
                size_t service;
        } cases[] = {
                { { { .name = "a", .after = L("b") },
                    { .name = "b", .after = L("c") },
                    { .name = "c", .after = L("a") } },
                  "a → b → c → a",
                  0 },
                { { { .name = "a", .requires = L("a") } }, "a → a", 0 },
                { { { .name = "x" }, { .name = "a", .after = L("x", "b") }, { .name = "b", .requires = L("a") } },
                  "a → b → a",
                  1 },
                /* through instances */
                { { { .name = "db", .instances = 2, .after = L("api") }, { .name = "api", .requires = L("db@1") } },
                  "api → db@1 → api",
                  1 },
                { { { .name = "w", .instances = 3, .after = L("w@2") } }, "w@2 → w@2", 0 },
                /* after and requires mix */
                { { { .name = "a", .after = L("b") }, { .name = "b", .requires = L("a") } }, "a → b → a", 0 },
                /* no cycle: diamonds, repeated names, instances of one another */
                { { { .name = "a", .after = L("b", "c") },
                    { .name = "b", .after = L("d") },
                    { .name = "c", .requires = L("d", "d") },
                    { .name = "d" } },
                  NULL,
                  0 },
                { { { .name = "x", .after = L("y@0") },
                    { .name = "y", .instances = 2, .after = L("z") },
                    { .name = "z" } },
                  NULL,
                  0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                DepGraph *g = NULL;
                DepError e = {};
                size_t n = 0;
                while (n < ELEMENTSOF(cases[i].specs) && cases[i].specs[n].name)
                        n++;
                print_message("case %zu\n", i);
                int r = dep_graph_new(cases[i].specs, n, &g, &e);
                if (!cases[i].cycle) {
                        assert_int_equal(r, 0);
                        assert_null(e.cycle);
                        dep_graph_free(g);
                        continue;
                }
                assert_int_equal(r, -ELOOP);
                assert_null(g);
                assert_non_null(e.cycle);
                print_message("  %s\n", e.cycle);
                assert_string_equal(e.cycle, cases[i].cycle);
                assert_int_equal(e.service, cases[i].service);
                dep_error_done(&e);
        }
}

/* Every unit in the stack, its state, and the decision expected. */
typedef struct Row {
        DepUnitState states[N_STACK];
        DepVerdict verdicts[N_STACK];
        size_t blockers[N_STACK]; /* for WAIT, BLOCKED, STOP */
} Row;

#define I DEP_UNIT_IDLE
#define W DEP_UNIT_WAITING
#define S DEP_UNIT_STARTING
#define R DEP_UNIT_READY
#define F DEP_UNIT_FAILED
#define T DEP_UNIT_STOPPING
#define none DEP_VERDICT_NONE
#define start DEP_VERDICT_START
#define wait DEP_VERDICT_WAIT
#define blocked DEP_VERDICT_BLOCKED
#define stop DEP_VERDICT_STOP
#define X SIZE_MAX

static void test_evaluate(_unused_ void **state) {
        const Row rows[] = {
                /* start-up: everything waits for what comes before it */
                { { W, W, W, W, W }, { start, wait, wait, wait, wait }, { X, DB, DB, DB, API0 } },
                { { S, W, W, W, W }, { none, wait, wait, wait, wait }, { X, DB, DB, DB, API0 } },
                { { R, W, W, W, W }, { none, start, wait, wait, wait }, { X, X, MIGRATE, MIGRATE, API0 } },
                { { R, S, W, W, W }, { none, none, wait, wait, wait }, { X, X, MIGRATE, MIGRATE, API0 } },
                { { R, R, W, W, W }, { none, none, start, start, wait }, { X, X, X, X, API0 } },
                /* one instance ready, the other still on its way */
                { { R, R, R, S, W }, { none, none, none, none, wait }, { X, X, X, X, API1 } },
                { { R, R, R, R, W }, { none, none, none, none, start }, { X, X, X, X, X } },
                /* the oneshot failed: api is not started; the worker (after only) starts */
                { { R, F, W, W, W }, { none, none, blocked, blocked, start }, { X, X, MIGRATE, MIGRATE, X } },
                /* db failed: migrate is only after it and runs; api requires it */
                { { F, W, W, W, W }, { none, start, blocked, blocked, start }, { X, X, DB, DB, X } },
                /* not started at all (autostart = no): the same for requires */
                { { I, W, W, W, W }, { none, start, blocked, blocked, start }, { X, X, DB, DB, X } },
                /* a required unit is stopping: blocked, and the started ones stop */
                { { T, R, W, R, R }, { none, none, blocked, stop, none }, { X, X, DB, DB, X } },
                { { R, R, R, R, R }, { none, none, none, none, none }, { X, X, X, X, X } },
                { { F, R, R, S, R }, { none, none, stop, stop, none }, { X, X, DB, DB, X } },
                /* a crash of db on its way back (backoff: starting) does not stop api */
                { { S, R, R, R, R }, { none, none, none, none, none }, { X, X, X, X, X } },
                /* after a stopped unit: no wait */
                { { R, R, I, I, W }, { none, none, none, none, start }, { X, X, X, X, X } },
        };

        _cleanup_(dep_graph_freep) DepGraph *g = build(stack, ELEMENTSOF(stack));
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                DepDecision d[N_STACK];
                print_message("row %zu\n", i);
                dep_graph_evaluate(g, rows[i].states, d);
                for (size_t u = 0; u < N_STACK; u++) {
                        if (d[u].verdict != rows[i].verdicts[u] || d[u].blocker != rows[i].blockers[u])
                                print_message("  %s: %s (%zu), expected %s (%zu)\n", dep_graph_unit_name(g, u),
                                              dep_verdict_to_string(d[u].verdict), d[u].blocker,
                                              dep_verdict_to_string(rows[i].verdicts[u]), rows[i].blockers[u]);
                        assert_int_equal(d[u].verdict, rows[i].verdicts[u]);
                        assert_int_equal(d[u].blocker, rows[i].blockers[u]);
                }
        }
}

/* A chain of requires is blocked at once, in whatever order the units
 * are numbered; an instance counts alone. */
static void test_evaluate_chain(_unused_ void **state) {
        const DepServiceSpec specs[] = {
                { .name = "a", .requires = L("b") },   { .name = "b", .requires = L("c") }, { .name = "c" },
                { .name = "d", .requires = L("e@1") }, { .name = "e", .instances = 2 },
        };
        _cleanup_(dep_graph_freep) DepGraph *g = build(specs, ELEMENTSOF(specs));
        DepUnitState states[] = { W, W, F, W, F, R };
        DepDecision d[6];

        dep_graph_evaluate(g, states, d);
        assert_int_equal(d[0].verdict, blocked);
        assert_int_equal(d[0].blocker, 1);
        assert_int_equal(d[1].verdict, blocked);
        assert_int_equal(d[1].blocker, 2);
        assert_int_equal(d[3].verdict, start); /* e@0 failed; d requires only e@1 */
        /* the states given are not changed */
        assert_int_equal(states[0], W);
        assert_int_equal(states[1], W);
}

static void test_stop_waits(_unused_ void **state) {
        _cleanup_(dep_graph_freep) DepGraph *g = build(stack, ELEMENTSOF(stack));
        DepUnitState all_ready[N_STACK] = { R, R, R, R, R };
        DepUnitState api_gone[N_STACK] = { R, R, I, F, R };
        DepUnitState api_stopping[N_STACK] = { R, I, T, I, I };
        bool only_db[N_STACK] = { [DB] = true };
        bool db_and_api[N_STACK] = { [DB] = true, [API0] = true, [API1] = true };
        size_t b = X;

        /* stopping everything: dependents first */
        assert_true(dep_graph_stop_waits(g, DB, all_ready, /* stop_wanted= */ NULL, &b));
        assert_int_equal(b, MIGRATE);
        assert_true(dep_graph_stop_waits(g, MIGRATE, all_ready, /* stop_wanted= */ NULL, &b));
        assert_int_equal(b, API0);
        assert_true(dep_graph_stop_waits(g, API1, all_ready, /* stop_wanted= */ NULL, &b));
        assert_int_equal(b, WORKER);
        assert_false(dep_graph_stop_waits(g, WORKER, all_ready, /* stop_wanted= */ NULL, &b));
        /* only what is to stop counts */
        assert_false(dep_graph_stop_waits(g, DB, all_ready, only_db, &b));
        assert_true(dep_graph_stop_waits(g, DB, all_ready, db_and_api, &b));
        assert_int_equal(b, API0);
        assert_false(dep_graph_stop_waits(g, DB, api_gone, db_and_api, /* ret_blocker= */ NULL));
        assert_true(dep_graph_stop_waits(g, DB, api_stopping, db_and_api, &b));
        assert_int_equal(b, API0);
}

static void test_mark_requirers(_unused_ void **state) {
        const DepServiceSpec specs[] = {
                { .name = "a", .requires = L("b") },      { .name = "b", .requires = L("c@0") },
                { .name = "c", .instances = 2 },          { .name = "d", .after = L("c") },
                { .name = "e", .requires = L("a", "b") },
        };
        _cleanup_(dep_graph_freep) DepGraph *g = build(specs, ELEMENTSOF(specs));
        bool set[6] = {};

        assert_int_equal(dep_graph_mark_requirers(g, 2 /* c@0 */, set), 0);
        assert_true(set[0] && set[1] && set[5]);
        assert_false(set[2] || set[3] || set[4]);
        memset(set, 0, sizeof(set));
        assert_int_equal(dep_graph_mark_requirers(g, 3 /* c@1 */, set), 0);
        for (size_t i = 0; i < ELEMENTSOF(set); i++)
                assert_false(set[i]);
        assert_int_equal(dep_graph_mark_requirers(g, 6, set), -EINVAL);
}

static void assert_stops_before(const size_t *order, size_t n, size_t first, size_t then) {
        size_t pf = SIZE_MAX, pt = SIZE_MAX;

        for (size_t i = 0; i < n; i++) {
                if (order[i] == first)
                        pf = i;
                if (order[i] == then)
                        pt = i;
        }
        assert_true(pf < n && pt < n);
        assert_true(pf < pt);
}

static void test_stop_order(_unused_ void **state) {
        _cleanup_(dep_graph_freep) DepGraph *g = build(stack, ELEMENTSOF(stack));
        _cleanup_free_ size_t *order = NULL;

        assert_int_equal(dep_graph_stop_order(g, &order), 0);
        assert_stops_before(order, N_STACK, WORKER, API0);
        assert_stops_before(order, N_STACK, WORKER, API1);
        assert_stops_before(order, N_STACK, API0, MIGRATE);
        assert_stops_before(order, N_STACK, API1, MIGRATE);
        assert_stops_before(order, N_STACK, API0, DB);
        assert_stops_before(order, N_STACK, MIGRATE, DB);
        static const size_t expected[N_STACK] = { WORKER, API0, API1, MIGRATE, DB };
        assert_memory_equal(order, expected, sizeof(expected));
        /* worker → api → migrate → db */
        assert_int_equal(dep_graph_stop_rounds(g), 4);
}

/* Many independent services: every one may start at once; and two
 * services of 1000 instances, one after the other, are cheap (kept per
 * service, not as a million edges). */
static void test_large(_unused_ void **state) {
        DepServiceSpec specs[500];
        char names[500][16];

        for (size_t i = 0; i < ELEMENTSOF(specs); i++) {
                snprintf(names[i], sizeof(names[i]), "s%zu", i);
                specs[i] = (DepServiceSpec) { .name = names[i] };
        }
        _cleanup_(dep_graph_freep) DepGraph *g = build(specs, ELEMENTSOF(specs));
        _cleanup_free_ DepUnitState *states = calloc(500, sizeof(DepUnitState));
        _cleanup_free_ DepDecision *d = calloc(500, sizeof(DepDecision));
        assert_non_null(states);
        assert_non_null(d);
        for (size_t i = 0; i < 500; i++)
                states[i] = W;
        dep_graph_evaluate(g, states, d);
        for (size_t i = 0; i < 500; i++) {
                assert_int_equal(d[i].verdict, start);
                assert_false(dep_graph_has_dependencies(g, i));
        }
        assert_int_equal(dep_graph_stop_rounds(g), 1);

        const DepServiceSpec big[] = {
                { .name = "web", .instances = 1000, .after = L("cache") },
                { .name = "cache", .instances = 1000 },
        };
        _cleanup_(dep_graph_freep) DepGraph *h = build(big, ELEMENTSOF(big));
        _cleanup_free_ size_t *order = NULL;
        assert_int_equal(dep_graph_n_units(h), 2000);
        assert_int_equal(dep_graph_stop_order(h, &order), 0);
        assert_stops_before(order, 2000, 999, 1000); /* web@999 before cache@0 */
        assert_int_equal(dep_graph_stop_rounds(h), 2);
}

static void test_strings(_unused_ void **state) {
        assert_string_equal(dep_kind_to_string(DEP_REQUIRES), "requires");
        assert_string_equal(dep_verdict_to_string(DEP_VERDICT_BLOCKED), "blocked");
        assert_string_equal(dep_unit_state_to_string(DEP_UNIT_READY), "ready");
        assert_null(dep_kind_to_string(_DEP_KIND_MAX));
        assert_null(dep_verdict_to_string(-1));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_units),          cmocka_unit_test(test_bad_names),
                cmocka_unit_test(test_cycles),         cmocka_unit_test(test_evaluate),
                cmocka_unit_test(test_evaluate_chain), cmocka_unit_test(test_stop_waits),
                cmocka_unit_test(test_mark_requirers), cmocka_unit_test(test_stop_order),
                cmocka_unit_test(test_large),          cmocka_unit_test(test_strings),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
