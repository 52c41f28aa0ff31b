/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The real system calls behind UnitOps, and the requests (kill, freeze)
 * that act on a unit's cgroup through them. */
#include "unit-internal.h"

#include <sys/wait.h>

#include "log.h"

static int op_cgroup_create(UnitContext *c, const char *name, int *ret_fd) {
        return cgroup_unit_create(c->cgroup, name, ret_fd);
}

static int op_cgroup_open(UnitContext *c, const char *name, int *ret_fd) {
        return cgroup_unit_open(c->cgroup, name, ret_fd);
}

static int op_cgroup_remove(UnitContext *c, const char *name) {
        return cgroup_unit_remove(c->cgroup, name);
}

static int op_cgroup_watch(UnitContext *c, const char *name, int *ret_wd) {
        return cgroup_unit_watch(c->cgroup, name, ret_wd);
}

static void op_cgroup_unwatch(UnitContext *c, int wd) {
        if (c->cgroup)
                cgroup_unit_unwatch(c->cgroup, wd);
}

static int op_cgroup_populated(int fd) {
        CgroupEvents ev;
        int r = cgroup_read_events(fd, &ev);

        return r < 0 ? r : ev.populated;
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
        .cgroup_signal = cgroup_signal_all,
        .spawn = spawn_child_async,
        .read_report = spawn_read_report,
        .reap = op_reap,
        .signal_main = pidref_kill,
};

/* ---- Requests on a unit's cgroup (kill, freeze), through the ops ---- */

int unit_kill(Unit *u, int sig) {
        _cleanup_close_ int fd = unit_cgroup_open(u);

        if (!u->has_cgroup)
                return -ESRCH;
        if (fd < 0)
                return fd;
        return u->ctx->ops->cgroup_signal(fd, sig, /* also_cont= */ false);
}

int unit_freeze(Unit *u, bool freeze) {
        _cleanup_close_ int fd = unit_cgroup_open(u);
        int r;

        if (!u->has_cgroup)
                return -ESRCH;
        if (fd < 0)
                return fd;
        r = cgroup_freeze(fd, freeze);
        if (r >= 0)
                log_unit_info(u->name, LOG_EVENT_NONE, "%s", freeze ? "frozen" : "thawed");
        return r;
}
