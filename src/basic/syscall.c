/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "syscall.h"

#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

pid_t sys_clone3(struct corral_clone_args *args) {
        long r = syscall(SYS_clone3, args, sizeof(*args));
        return r < 0 ? -errno : (pid_t) r;
}

int sys_pidfd_open(pid_t pid) {
        long r = syscall(SYS_pidfd_open, pid, 0);
        return r < 0 ? -errno : (int) r;
}

int sys_pidfd_send_signal(int pidfd, int sig) {
        long r = syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
        return r < 0 ? -errno : 0;
}

int sys_close_range(unsigned first, unsigned last, unsigned flags) {
        long r = syscall(SYS_close_range, first, last, flags);
        return r < 0 ? -errno : 0;
}

int sys_waitid_pidfd(int pidfd, siginfo_t *ret_si, int options) {
        *ret_si = (siginfo_t) {};
        if (waitid((idtype_t) P_PIDFD, (id_t) pidfd, ret_si, options) < 0)
                return -errno;
        return 0;
}
