/* SPDX-License-Identifier: GPL-2.0-or-later */
/* poller.h on real pipes in a real sd-event loop: many ready fds taken in
 * one wake-up, each handed out once; a handler that removes and frees
 * what later entries of the same batch point to (AddressSanitizer would
 * see a use after free); a handler that frees the poller. No root. */

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cmocka.h>

#include "macro.h"
#include "poller.h"

#define N_PIPES 80

typedef struct Watched {
        int fd[2];
        unsigned calls;
} Watched;

typedef struct Case {
        Poller *poller;
        Watched *w[N_PIPES];
        unsigned calls;
        unsigned remove_others; /* the first handler removes and frees every other watched pipe */
        bool free_poller;       /* the first handler frees the poller */
} Case;

static Case c;

static void on_ready(void *userdata, uint32_t events) {
        Watched *w = userdata;

        assert_true(events & EPOLLIN);
        w->calls++;
        c.calls++;
        if (c.remove_others && c.calls == 1)
                for (unsigned i = 0; i < N_PIPES; i++) {
                        if (!c.w[i] || c.w[i] == w)
                                continue;
                        poller_remove(c.poller, c.w[i]->fd[0], c.w[i]);
                        close(c.w[i]->fd[0]);
                        close(c.w[i]->fd[1]);
                        c.w[i] = mfree(c.w[i]);
                }
        if (c.free_poller && c.calls == 1)
                c.poller = poller_free(c.poller);
        /* edge-triggered: no need to drain the pipe */
}

static sd_event *setup(void) {
        sd_event *e = NULL;

        c = (Case) {};
        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(poller_new(e, 0, 32, "test", on_ready, &c.poller), 0);
        for (unsigned i = 0; i < N_PIPES; i++) {
                c.w[i] = calloc(1, sizeof(Watched));
                assert_non_null(c.w[i]);
                assert_int_equal(pipe2(c.w[i]->fd, O_CLOEXEC | O_NONBLOCK), 0);
                assert_int_equal(poller_add(c.poller, c.w[i]->fd[0], EPOLLIN | EPOLLET, c.w[i]), 0);
                assert_int_equal(write(c.w[i]->fd[1], "x", 1), 1);
        }
        return e;
}

static void teardown(sd_event *e) {
        for (unsigned i = 0; i < N_PIPES; i++) {
                if (!c.w[i])
                        continue;
                poller_remove(c.poller, c.w[i]->fd[0], c.w[i]);
                close(c.w[i]->fd[0]);
                close(c.w[i]->fd[1]);
                free(c.w[i]);
        }
        poller_free(c.poller);
        sd_event_unref(e);
}

static void run_until_idle(sd_event *e, unsigned *iterations) {
        int r;

        *iterations = 0;
        while ((r = sd_event_run(e, 0)) > 0)
                (*iterations)++;
        assert_int_equal(r, 0);
}

/* Every ready pipe is handed out once, in fewer wake-ups than pipes. */
static void test_batch(void **state) {
        sd_event *e = setup();
        unsigned iterations;

        run_until_idle(e, &iterations);
        assert_int_equal(c.calls, N_PIPES);
        for (unsigned i = 0; i < N_PIPES; i++)
                assert_int_equal(c.w[i]->calls, 1);
        assert_true(iterations > 1);           /* more than one batch */
        assert_true(iterations < N_PIPES / 2); /* not one fd per wake-up */
        /* ready again: handed out again */
        assert_int_equal(write(c.w[7]->fd[1], "y", 1), 1);
        run_until_idle(e, &iterations);
        assert_int_equal(c.w[7]->calls, 2);
        assert_int_equal(c.calls, N_PIPES + 1);
        teardown(e);
}

/* The first handler removes and frees every other pipe, also those of its
 * own batch that are ready and not handed out yet: none is called. */
static void test_remove_within_batch(void **state) {
        sd_event *e = setup();
        unsigned iterations, left = 0;

        c.remove_others = true;
        run_until_idle(e, &iterations);
        assert_int_equal(c.calls, 1);
        for (unsigned i = 0; i < N_PIPES; i++)
                if (c.w[i]) {
                        left++;
                        assert_int_equal(c.w[i]->calls, 1);
                }
        assert_int_equal(left, 1);
        teardown(e);
}

/* A handler that frees the poller ends the batch; the poller is gone at
 * the end of it (AddressSanitizer: no leak, no use after free). */
static void test_free_from_handler(void **state) {
        sd_event *e = setup();
        unsigned iterations;

        c.free_poller = true;
        run_until_idle(e, &iterations);
        assert_int_equal(c.calls, 1);
        assert_null(c.poller);
        teardown(e);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_batch),
                cmocka_unit_test(test_remove_within_batch),
                cmocka_unit_test(test_free_from_handler),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
