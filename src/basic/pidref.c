/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pidref.h"

#include <errno.h>

#include "macro.h"
#include "syscall.h"

int pidref_set_pid(PidRef *p, pid_t pid) {
        int fd;

        if (pid <= 0)
                return -ESRCH;
        fd = sys_pidfd_open(pid);
        if (fd < 0)
                return fd;
        pidref_done(p);
        pidref_take(p, pid, fd);
        return 0;
}

void pidref_take(PidRef *p, pid_t pid, int pidfd) {
        *p = (PidRef) { .pid = pid, .fd = pidfd };
}

void pidref_done(PidRef *p) {
        if (!p)
                return;
        safe_close(p->fd);
        *p = PIDREF_NULL;
}

int pidref_kill(const PidRef *p, int sig) {
        if (!pidref_is_set(p))
                return -ESRCH;
        return sys_pidfd_send_signal(p->fd, sig);
}

int pidref_wait(const PidRef *p, siginfo_t *ret_si, int options) {
        siginfo_t si;
        int r;

        if (!pidref_is_set(p))
                return -ECHILD;
        do
                r = sys_waitid_pidfd(p->fd, &si, options);
        while (r == -EINTR);
        if (r < 0)
                return r;
        *ret_si = si;
        return 0;
}

void pidref_done_sigkill_wait(PidRef *p) {
        siginfo_t si;

        if (!pidref_is_set(p))
                return;
        (void) pidref_kill(p, SIGKILL);
        (void) pidref_wait(p, &si, WEXITED);
        pidref_done(p);
}
