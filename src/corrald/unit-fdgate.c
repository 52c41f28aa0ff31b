/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Starts that wait for file descriptors.
 *
 * A start in flight holds a descriptor more than a started unit (the read
 * end of its exec report pipe, until the child has exec'd), and a mass
 * start has hundreds in flight at once: with a limit that holds every
 * unit once started, the last starts of the batch would fail with EMFILE
 * only because the reports of the first ones are not in yet. So while
 * starts are in flight and the descriptor table is nearly full, a start
 * waits, in order, shown as starting ("waiting for a file descriptor"),
 * and goes on once reports have come in (the defer source below, armed
 * when a start in flight ends). With nothing in flight nothing would free
 * a descriptor: the start goes ahead, and EMFILE is a transient failure
 * for the restart policy, as before.
 *
 * The table is probed, not counted (nothing counts it but a walk of
 * /proc/self/fd): the kernel gives the lowest free number, so the
 * descriptor limit - FD_GATE_RESERVE is taken only once every one below it
 * was; while it is in use, at most FD_GATE_RESERVE are left, and those
 * corrald keeps for its clients, health checks and the cgroup files it
 * opens. (The lowest free number says less: each start opens and closes
 * its cgroup, a hole at the bottom of the table.) The waiting start holds
 * only its UnitExec (no process, no cgroup); a stop, a removal or a
 * shutdown takes it out of the queue (unit_set_state() releases the
 * exec of a unit leaving starting). */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "log.h"
#include "unit-internal.h"

#define FD_GATE_RESERVE 64
#define FD_GATE_REASON "waiting for a file descriptor"

struct UnitFdGate {
        sd_event_source *retry; /* defer: starts go on (armed once a start in flight ends) */
        UnitExec *head, *tail;  /* the waiting starts, oldest first */
        unsigned n_waiting;
        unsigned n_waited; /* since the queue was last empty, for the log */
};

/* Whether the table is nearly full: whether the descriptor numbered
 * limit - FD_GATE_RESERVE is in use. *ret_limit: the soft limit. */
static bool fd_table_nearly_full(const UnitContext *c, rlim_t *ret_limit) {
        struct rlimit rl;
        int fd;

        *ret_limit = 0;
        if (c->devnull_fd < 0 || getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= INT_MAX)
                return false;
        *ret_limit = rl.rlim_cur;
        if (rl.rlim_cur <= FD_GATE_RESERVE)
                return true;
        /* the lowest free one at or above it: itself, when it is free */
        int mark = (int) rl.rlim_cur - FD_GATE_RESERVE;
        fd = fcntl(c->devnull_fd, F_DUPFD_CLOEXEC, mark);
        if (fd < 0)
                return errno == EMFILE;
        close(fd);
        return fd != mark;
}

/* A start must wait for the ones in flight: the table is nearly full. */
static bool fd_gate_must_wait(const UnitContext *c, rlim_t *ret_limit) {
        *ret_limit = 0;
        return c->n_exec > 0 && fd_table_nearly_full(c, ret_limit);
}

static int on_retry(sd_event_source *s, void *userdata) {
        UnitContext *c = userdata;
        UnitFdGate *g = c->fd_gate;
        rlim_t limit;

        while (g->head && !fd_gate_must_wait(c, &limit))
                unit_start_spawn(g->head->unit); /* takes it out of the queue */
        if (!g->head && g->n_waited > 0) {
                log_info("starts go on: %u waited for file descriptors", g->n_waited);
                g->n_waited = 0;
        }
        return 0;
}

static UnitFdGate *fd_gate_get(UnitContext *c) {
        UnitFdGate *g = c->fd_gate;
        int r;

        if (g)
                return g;
        if (!c->event)
                return NULL;
        g = calloc(1, sizeof(*g));
        if (!g)
                return NULL;
        r = sd_event_add_defer(c->event, &g->retry, on_retry, c);
        if (r >= 0)
                r = sd_event_source_set_enabled(g->retry, SD_EVENT_OFF);
        if (r < 0) {
                sd_event_source_disable_unref(g->retry);
                free(g);
                return NULL;
        }
        return c->fd_gate = g;
}

bool unit_fd_gate_wait(Unit *u) {
        UnitContext *c = u->ctx;
        UnitFdGate *g = c->fd_gate;
        rlim_t limit = 0;
        UnitExec *x;

        /* behind the ones already waiting, in order */
        if (!(g && g->head) && !fd_gate_must_wait(c, &limit))
                return false;
        g = fd_gate_get(c);
        x = g ? calloc(1, sizeof(*x)) : NULL;
        if (!x)
                return false; /* out of memory: the start tries now */
        *x = (UnitExec) { .report_fd = -EBADF, .waiting = true, .unit = u, .wait_prev = g->tail };
        if (g->tail)
                g->tail->wait_next = x;
        else {
                g->head = x;
                log_notice(
                        "starts wait for file descriptors: %u in flight, fewer than %d of a limit of %llu left "
                        "(kept for corrald's own use); raise LimitNOFILE= for as many units at once",
                        c->n_exec, FD_GATE_RESERVE, (unsigned long long) limit);
        }
        g->tail = x;
        g->n_waiting++;
        g->n_waited++;
        unit_set_state(u, UNIT_STARTING);
        u->exec = x;
        free(u->status_text);
        u->status_text = strdup(FD_GATE_REASON);
        u->status_waiting = !!u->status_text;
        return true;
}

void unit_fd_gate_leave(UnitContext *c, UnitExec *x) {
        UnitFdGate *g = c->fd_gate;

        if (!x->waiting || !g)
                return;
        if (x->wait_prev)
                x->wait_prev->wait_next = x->wait_next;
        else
                g->head = x->wait_next;
        if (x->wait_next)
                x->wait_next->wait_prev = x->wait_prev;
        else
                g->tail = x->wait_prev;
        x->wait_prev = x->wait_next = NULL;
        x->waiting = false;
        g->n_waiting--;
}

void unit_fd_gate_exec_ended(UnitContext *c) {
        if (c->n_exec > 0)
                c->n_exec--;
        if (c->fd_gate && c->fd_gate->head)
                (void) sd_event_source_set_enabled(c->fd_gate->retry, SD_EVENT_ONESHOT);
}

void unit_fd_gate_free(UnitContext *c) {
        UnitFdGate *g = c->fd_gate;

        if (!g)
                return;
        /* the units are freed first: nothing waits any more */
        sd_event_source_disable_unref(g->retry);
        c->fd_gate = mfree(g);
}
