/* SPDX-License-Identifier: GPL-2.0-or-later */
/* control-ratelimit: which messages about a UID are logged and what is
 * counted for the summary, as tables of steps on a made-up clock. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "control-ratelimit.h"
#include "macro.h"

typedef struct Flushed {
        uid_t uid[128];
        unsigned n[128];
        size_t count;
} Flushed;

static void on_flush(uid_t uid, unsigned suppressed, void *userdata) {
        Flushed *f = userdata;

        assert_true(f->count < ELEMENTSOF(f->uid));
        f->uid[f->count] = uid;
        f->n[f->count++] = suppressed;
}

/* One message (test) or a timer (flush, uid ignored) at a time. */
typedef struct Step {
        bool flush;
        uid_t uid;
        usec_t now;
        bool logged;    /* test: what it returns */
        usec_t next;    /* flush: what it returns */
        size_t flushed; /* how many summaries so far */
        uid_t last_uid; /* the last summary's */
        unsigned last_n;
} Step;

static void run_steps(const Step *steps, size_t n) {
        ControlRateLimit rl = { .interval = 10, .burst = 3 };
        Flushed f = {};

        for (size_t i = 0; i < n; i++) {
                const Step *s = &steps[i];
                if (s->flush)
                        assert_int_equal(control_ratelimit_flush(&rl, s->now, on_flush, &f), s->next);
                else if (control_ratelimit_test(&rl, s->uid, s->now, on_flush, &f) != s->logged) {
                        print_message("step %zu: expected %s\n", i, s->logged ? "logged" : "held back");
                        fail();
                }
                assert_int_equal(f.count, s->flushed);
                if (s->flushed > 0) {
                        assert_int_equal(f.uid[f.count - 1], s->last_uid);
                        assert_int_equal(f.n[f.count - 1], s->last_n);
                }
        }
}

#define T(u, t, l, fl, lu, ln) \
        { .uid = u, .now = t, .logged = l, .flushed = fl, .last_uid = lu, .last_n = ln }
#define F(t, nx, fl, lu, ln) \
        { .flush = true, .now = t, .next = nx, .flushed = fl, .last_uid = lu, .last_n = ln }

static void test_burst_then_summary(void **state) {
        static const Step steps[] = {
                T(1000, 0, true, 0, 0, 0),        T(1000, 1, true, 0, 0, 0),
                T(1000, 2, true, 0, 0, 0),        T(1000, 3, false, 0, 0, 0),
                T(1000, 4, false, 0, 0, 0),       F(9, 10, 0, 0, 0), /* the interval is not over */
                F(10, USEC_INFINITY, 1, 1000, 2),                    /* over: 2 held back */
                T(1000, 11, true, 1, 1000, 2),                       /* a new interval */
                F(30, USEC_INFINITY, 1, 1000, 2),                    /* nothing held back: no summary */
        };
        run_steps(steps, ELEMENTSOF(steps));
}

static void test_uids_apart(void **state) {
        static const Step steps[] = {
                T(1000, 0, true, 0, 0, 0),  T(1000, 0, true, 0, 0, 0),  T(1000, 0, true, 0, 0, 0),
                T(1000, 0, false, 0, 0, 0), T(2000, 5, true, 0, 0, 0),  T(2000, 5, true, 0, 0, 0),
                T(2000, 5, true, 0, 0, 0),  T(2000, 6, false, 0, 0, 0), T(2000, 6, false, 0, 0, 0),
                F(7, 10, 0, 0, 0),          F(12, 15, 1, 1000, 1),      F(15, USEC_INFINITY, 2, 2000, 2),
        };
        run_steps(steps, ELEMENTSOF(steps));
}

/* A message after the interval is over hands the count out itself, even
 * when no timer did. */
static void test_summary_on_next_message(void **state) {
        static const Step steps[] = {
                T(1000, 0, true, 0, 0, 0),  T(1000, 0, true, 0, 0, 0),     T(1000, 0, true, 0, 0, 0),
                T(1000, 5, false, 0, 0, 0), T(1000, 15, true, 1, 1000, 1), T(1000, 15, true, 1, 1000, 1),
        };
        run_steps(steps, ELEMENTSOF(steps));
}

/* More UIDs than the table holds: the one whose interval began first
 * gives its place, and its count. */
static void test_table_full(void **state) {
        ControlRateLimit rl = { .interval = 1000, .burst = 1 };
        Flushed f = {};

        for (uid_t u = 0; u < CONTROL_RATELIMIT_UIDS; u++) {
                assert_true(control_ratelimit_test(&rl, 5000 + u, u, on_flush, &f));
                assert_false(control_ratelimit_test(&rl, 5000 + u, u, on_flush, &f));
        }
        assert_int_equal(f.count, 0);
        assert_true(control_ratelimit_test(&rl, 9999, 100, on_flush, &f));
        assert_int_equal(f.count, 1);
        assert_int_equal(f.uid[0], 5000);
        assert_int_equal(f.n[0], 1);
        /* 5000 starts afresh, taking 5001's place */
        assert_true(control_ratelimit_test(&rl, 5000, 101, on_flush, &f));
        assert_int_equal(f.count, 2);
        assert_int_equal(f.uid[1], 5001);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_burst_then_summary),
                cmocka_unit_test(test_uids_apart),
                cmocka_unit_test(test_summary_on_next_message),
                cmocka_unit_test(test_table_full),
        };

        return cmocka_run_group_tests_name("control-ratelimit", tests, NULL, NULL);
}
