/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The real system calls behind UnitOps, and the requests (kill, freeze)
 * that act on a unit's cgroup through them. */
#include "unit-internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "log.h"

/* ---- Removing cgroups once corrald is idle ----
 *
 * A unit's cgroup is removed once its last process is gone, but not at
 * once: an rmdir of a cgroup is among the dearest system calls of a stop
 * (a sixth of corrald's CPU in a stop of 500: the kernel takes the css
 * offline and frees it through RCU), and a `corralctl stop` waits for the
 * units, not for their empty directories. The names wait here while any
 * unit is stopping (for at most REMOVALS_WAIT_MAX), then go at idle
 * priority, a batch at a time, whenever nothing else is pending. A start
 * that finds its cgroup still there (mkdir: EEXIST) removes every waiting
 * one first, so a unit never starts in the directory of its last run and
 * no removal can touch a cgroup made after it was queued; corrald's exit
 * removes what is left (unit_context_flush()). */

#define REMOVALS_BATCH 32U
#define REMOVALS_WAIT_MAX (1 * USEC_PER_SEC)

/* A cgroup to remove, and the watch on its cgroup.events (-1: none),
 * dropped with it: an inotify_rm_watch() was a twentieth of corrald's CPU
 * in a stop of 500, on the way to the answer. (The rmdir does not drop
 * it: a watch holds the kernfs file's inode, which its removal from the
 * tree does not delete.) Until then its events find no unit. */
typedef struct CgroupRemoval {
        char *name;
        int wd;
} CgroupRemoval;

struct CgroupRemovals {
        sd_event_source *idle;  /* enabled: removing, a batch per idle moment */
        sd_event_source *timer; /* enabled: waiting for the stops, until then */
        CgroupRemoval *items;   /* items[head..n) wait */
        size_t head, n;
};

static bool removals_waiting(const CgroupRemovals *q) {
        return q && q->head < q->n;
}

/* Drops the watch, then removes the cgroup. */
static int remove_now(UnitContext *c, const char *name, int wd) {
        cgroup_unit_unwatch(c->cgroup, wd);
        return cgroup_unit_remove(c->cgroup, name);
}

static void removals_run(UnitContext *c, size_t max) {
        CgroupRemovals *q = c->removals;

        for (; q->head < q->n && max > 0; max--) {
                CgroupRemoval *it = &q->items[q->head++];
                _cleanup_free_ char *name = it->name;
                int r = remove_now(c, name, it->wd);
                if (r < 0)
                        log_unit_warning_errno(name, LOG_EVENT_NONE, r, "cannot remove cgroup: %m, ignoring");
        }
        if (q->head == q->n) {
                q->head = q->n = 0;
                (void) sd_event_source_set_enabled(q->idle, SD_EVENT_OFF);
                (void) sd_event_source_set_enabled(q->timer, SD_EVENT_OFF);
        }
}

static int on_removals_idle(_unused_ sd_event_source *s, void *userdata) {
        removals_run(userdata, REMOVALS_BATCH);
        return 0;
}

static int on_removals_timer(_unused_ sd_event_source *s, _unused_ uint64_t usec, void *userdata) {
        UnitContext *c = userdata;

        /* stops went on too long: no more waiting for them */
        return sd_event_source_set_enabled(c->removals->idle, SD_EVENT_ON);
}

/* Removing now, or waiting (for the stops, with the timer as the limit). */
static void removals_schedule(UnitContext *c) {
        CgroupRemovals *q = c->removals;
        int enabled = SD_EVENT_OFF;

        if (!removals_waiting(q))
                return;
        if (c->n_stopping == 0 || (sd_event_source_get_enabled(q->idle, &enabled) >= 0 && enabled))
                goto now;
        if (sd_event_source_get_enabled(q->timer, &enabled) >= 0 && enabled)
                return;
        if (sd_event_source_set_time_relative(q->timer, REMOVALS_WAIT_MAX) >= 0 &&
            sd_event_source_set_enabled(q->timer, SD_EVENT_ONESHOT) >= 0)
                return;
now:
        (void) sd_event_source_set_enabled(q->timer, SD_EVENT_OFF);
        (void) sd_event_source_set_enabled(q->idle, SD_EVENT_ON);
}

static CgroupRemovals *removals_get(UnitContext *c) {
        CgroupRemovals *q = c->removals;
        int r;

        if (q)
                return q;
        if (!c->event)
                return NULL;
        q = calloc(1, sizeof(*q));
        if (!q)
                return NULL;
        r = sd_event_add_defer(c->event, &q->idle, on_removals_idle, c);
        if (r >= 0)
                r = sd_event_source_set_priority(q->idle, SD_EVENT_PRIORITY_IDLE);
        if (r >= 0)
                r = sd_event_source_set_enabled(q->idle, SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_add_time_relative(c->event, &q->timer, CLOCK_MONOTONIC, REMOVALS_WAIT_MAX,
                                               100 * USEC_PER_MSEC, on_removals_timer, c);
        if (r >= 0)
                r = sd_event_source_set_enabled(q->timer, SD_EVENT_OFF);
        if (r < 0) {
                sd_event_source_disable_unref(q->idle);
                sd_event_source_disable_unref(q->timer);
                free(q);
                return NULL;
        }
        return c->removals = q;
}

static int removals_queue(UnitContext *c, const char *name, int wd) {
        CgroupRemovals *q = removals_get(c);

        if (!q)
                return -ENOMEM;
        if (!ARRAY_GROW(q->items, q->n))
                return -ENOMEM;
        q->items[q->n] = (CgroupRemoval) { .name = strdup(name), .wd = wd };
        if (!q->items[q->n].name)
                return -ENOMEM;
        q->n++;
        removals_schedule(c);
        return 0;
}

void unit_context_count_stopping(UnitContext *c, UnitState old_state, UnitState new_state) {
        if ((old_state == UNIT_STOPPING) == (new_state == UNIT_STOPPING))
                return;
        if (new_state == UNIT_STOPPING)
                c->n_stopping++;
        else if (c->n_stopping > 0 && --c->n_stopping == 0)
                removals_schedule(c);
}

void unit_context_flush(UnitContext *c) {
        if (c->removals)
                removals_run(c, SIZE_MAX);
}

void unit_context_done(UnitContext *c) {
        CgroupRemovals *q = c->removals;

        c->watches = mfree(c->watches);
        c->n_watches = c->n_watches_dead = 0;
        unit_fd_gate_free(c);
        if (!q)
                return;
        removals_run(c, SIZE_MAX);
        sd_event_source_disable_unref(q->idle);
        sd_event_source_disable_unref(q->timer);
        free(q->items);
        c->removals = mfree(q);
}

static int op_cgroup_create(UnitContext *c, const char *name, int *ret_fd) {
        int r = cgroup_unit_create(c->cgroup, name, ret_fd);

        if (r > 0 && removals_waiting(c->removals)) {
                /* maybe its own last one, waiting: every waiting one now */
                *ret_fd = safe_close(*ret_fd);
                removals_run(c, SIZE_MAX);
                r = cgroup_unit_create(c->cgroup, name, ret_fd);
        }
        if (r > 0)
                /* a leftover of a crashed corrald, maybe frozen: the child would be too */
                (void) cgroup_freeze(*ret_fd, false);
        return r < 0 ? r : 0;
}

static int op_cgroup_open(UnitContext *c, const char *name, int *ret_fd) {
        return cgroup_unit_open(c->cgroup, name, ret_fd);
}

static int op_cgroup_remove(UnitContext *c, const char *name, int wd) {
        /* at once when it cannot wait (no loop, or out of memory) */
        if (removals_queue(c, name, wd) < 0)
                return remove_now(c, name, wd);
        return 0;
}

static int op_cgroup_watch(UnitContext *c, const char *name, int *ret_wd) {
        return cgroup_unit_watch(c->cgroup, name, ret_wd);
}

static void op_cgroup_unwatch(UnitContext *c, int wd) {
        if (c->cgroup)
                cgroup_unit_unwatch(c->cgroup, wd);
}

static int op_cgroup_populated(UnitContext *c, const char *name) {
        CgroupEvents ev;
        int r = cgroup_unit_read_events(c->cgroup, name, &ev);

        return r < 0 ? r : ev.populated;
}

static int op_cgroup_signal(UnitContext *c, const char *name, int sig, bool also_cont, const PidRef *main) {
        return cgroup_unit_signal(c->cgroup, name, sig, also_cont, main);
}

/* Our child is reaped through its pidfd; one that is not (adopted, or
 * MAINPID=) has its status from the kernel once its parent reaped it
 * (PIDFD_GET_INFO, 6.15). */
static int op_reap(PidRef *main, siginfo_t *ret) {
        siginfo_t si = {};
        int status, r;

        r = pidref_wait(main, &si, WEXITED | WNOHANG);
        if (r >= 0 && si.si_pid != 0) {
                *ret = si;
                return 0;
        }
        if (r < 0 && r != -ECHILD)
                return r;
        if (pidref_get_exit_status(main, &status) < 0)
                return -ENODATA;
        *ret = (siginfo_t) { .si_pid = main->pid };
        ret->si_code = WIFEXITED(status) ? CLD_EXITED : WCOREDUMP(status) ? CLD_DUMPED : CLD_KILLED;
        ret->si_status = WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status);
        return 0;
}

const UnitOps unit_ops_default = {
        .cgroup_create = op_cgroup_create,
        .cgroup_open = op_cgroup_open,
        .cgroup_remove = op_cgroup_remove,
        .cgroup_watch = op_cgroup_watch,
        .cgroup_unwatch = op_cgroup_unwatch,
        .cgroup_populated = op_cgroup_populated,
        .cgroup_kill = cgroup_kill,
        .cgroup_signal = op_cgroup_signal,
        .spawn = spawn_child_async,
        .read_report = spawn_read_report,
        .reap = op_reap,
        .signal_main = pidref_kill,
};

/* ---- Watches, by descriptor ----
 *
 * Sorted by descriptor: the kernel hands them out in increasing order
 * (cyclically, from 1), so a new one mostly goes at the end. A removed one
 * stays as a tombstone (unit NULL) until they are half of the array. */

typedef struct UnitWatch {
        int wd;
        Unit *unit; /* NULL: removed */
} UnitWatch;

/* The first index whose wd is not below wd. */
static size_t watches_lower_bound(const UnitContext *c, int wd) {
        size_t lo = 0, hi = c->n_watches;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (c->watches[mid].wd < wd)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

static int watches_add(UnitContext *c, int wd, Unit *u) {
        size_t i = watches_lower_bound(c, wd);

        if (i < c->n_watches && c->watches[i].wd == wd) {
                if (!c->watches[i].unit)
                        c->n_watches_dead--;
                c->watches[i].unit = u;
                return 0;
        }
        if (!ARRAY_GROW(c->watches, c->n_watches))
                return -ENOMEM;
        memmove(c->watches + i + 1, c->watches + i, (c->n_watches - i) * sizeof(UnitWatch));
        c->watches[i] = (UnitWatch) { .wd = wd, .unit = u };
        c->n_watches++;
        return 0;
}

static void watches_remove(UnitContext *c, int wd) {
        size_t i = watches_lower_bound(c, wd), k = 0;

        if (i >= c->n_watches || c->watches[i].wd != wd || !c->watches[i].unit)
                return;
        c->watches[i].unit = NULL;
        if (++c->n_watches_dead <= c->n_watches / 2)
                return;
        for (size_t j = 0; j < c->n_watches; j++)
                if (c->watches[j].unit)
                        c->watches[k++] = c->watches[j];
        c->n_watches = k;
        c->n_watches_dead = 0;
}

Unit *unit_context_find_watch(const UnitContext *c, int wd) {
        size_t i = watches_lower_bound(c, wd);

        return i < c->n_watches && c->watches[i].wd == wd ? c->watches[i].unit : NULL;
}

/* ---- The unit's cgroup, through the ops ---- */

int unit_cgroup_attach(Unit *u) {
        int r = u->ctx->ops->cgroup_watch(u->ctx, u->name, &u->watch_wd);

        u->frozen_known = false; /* another cgroup */
        if (r < 0)
                return r;
        r = watches_add(u->ctx, u->watch_wd, u);
        if (r < 0) {
                unit_cgroup_unwatch(u);
                return r;
        }
        u->has_cgroup = true;
        return 0;
}

/* Takes the unit's watch out of the context's map: its descriptor (-1:
 * none), which the caller drops. */
static int unit_cgroup_forget_watch(Unit *u) {
        int wd = u->watch_wd;

        if (wd >= 0)
                watches_remove(u->ctx, wd);
        u->watch_wd = -1;
        return wd;
}

void unit_cgroup_unwatch(Unit *u) {
        int wd = unit_cgroup_forget_watch(u);

        if (wd >= 0)
                u->ctx->ops->cgroup_unwatch(u->ctx, wd);
}

int unit_cgroup_open(const Unit *u) {
        int fd = -EBADF, r;

        if (!u->has_cgroup)
                return -ENOENT;
        r = u->ctx->ops->cgroup_open(u->ctx, u->name, &fd);
        return r < 0 ? r : fd;
}

void unit_cgroup_release(Unit *u) {
        int r;

        if (!u->has_cgroup)
                return unit_cgroup_unwatch(u);
        u->has_cgroup = false;
        /* its watch is dropped with the directory, later */
        r = u->ctx->ops->cgroup_remove(u->ctx, u->name, unit_cgroup_forget_watch(u));
        if (r < 0)
                log_unit_warning_errno(u->name, LOG_EVENT_NONE, r, "cannot remove cgroup: %m, ignoring");
}

bool unit_cgroup_populated(Unit *u) {
        int r;

        if (!u->has_cgroup)
                return false;
        r = u->ctx->ops->cgroup_populated(u->ctx, u->name);
        if (r < 0) {
                /* Gone or unreadable: nothing can be waited for there. */
                log_unit_warning_errno(u->name, LOG_EVENT_NONE, r, "cannot read cgroup.events: %m");
                return false;
        }
        return r > 0;
}

/* ---- Requests on a unit's cgroup (kill, freeze), through the ops ---- */

int unit_kill(Unit *u, int sig) {
        if (!u->has_cgroup)
                return -ESRCH;
        return u->ctx->ops->cgroup_signal(u->ctx, u->name, sig, /* also_cont= */ false, /* main= */ NULL);
}

void unit_cgroup_changed(Unit *u) {
        u->frozen_known = false;
        unit_dispatch(u, UNIT_EVENT_CGROUP);
}

int unit_freeze(Unit *u, bool freeze) {
        _cleanup_close_ int fd = unit_cgroup_open(u);
        int r;

        if (!u->has_cgroup)
                return -ESRCH;
        if (fd < 0)
                return fd;
        r = cgroup_freeze(fd, freeze);
        if (freeze || r < 0)
                u->may_be_frozen = true; /* its stop thaws it first */
        else
                u->may_be_frozen = false;
        u->frozen_known = false; /* the reply reads it again */
        if (r >= 0)
                log_unit_info(u->name, LOG_EVENT_NONE, "%s", freeze ? "frozen" : "thawed");
        return r;
}
