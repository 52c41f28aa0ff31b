/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pidref.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "fileio.h"
#include "macro.h"
#include "parse-util.h"
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

int pidfd_fdinfo_parse_pid(const char *buf, pid_t *ret) {
        const char *p;
        uint64_t v;
        size_t n;

        if (strneq(buf, "Pid:", 4))
                p = buf;
        else {
                p = strstr(buf, "\nPid:");
                if (!p)
                        return -ENOTTY;
                p++;
        }
        p += 4;
        p += strspn(p, " \t");
        n = strcspn(p, " \t\n");
        if (n == 2 && strneq(p, "-1", 2))
                return -ESRCH;
        if (safe_atou64_n(p, n, 10, &v) < 0 || v > INT_MAX)
                return -EBADMSG;
        if (v == 0)
                return -EREMOTE;
        *ret = (pid_t) v;
        return 0;
}

int pidref_verify(const PidRef *p) {
        _cleanup_free_ char *buf = NULL;
        char path[64];
        pid_t pid;
        int r;

        if (!pidref_is_set(p))
                return -ESRCH;
        snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", p->fd);
        r = read_full_file_at(AT_FDCWD, path, 4096, &buf, NULL);
        if (r == -ENOENT)
                return -EBADF;
        if (r < 0)
                return r;
        r = pidfd_fdinfo_parse_pid(buf, &pid);
        if (r < 0)
                return r;
        return pid == p->pid ? 0 : -ESRCH;
}

/* PIDFD_GET_INFO asking for mask: 0 with what the kernel had in *info
 * (its mask says which), -EOPNOTSUPP before 6.13, -ESRCH, -errno. */
static int pidref_get_info(const PidRef *p, uint64_t mask, struct corral_pidfd_info *info) {
        *info = (struct corral_pidfd_info) { .mask = mask };
        if (!pidref_is_set(p))
                return -ESRCH;
        if (ioctl(p->fd, CORRAL_PIDFD_GET_INFO, info) < 0)
                return errno == ENOTTY || errno == EINVAL ? -EOPNOTSUPP : -errno;
        return 0;
}

int pidref_get_cgroup_id(const PidRef *p, uint64_t *ret) {
        struct corral_pidfd_info info;
        int r = pidref_get_info(p, CORRAL_PIDFD_INFO_CGROUPID, &info);

        if (r < 0)
                return r;
        if (!(info.mask & CORRAL_PIDFD_INFO_CGROUPID))
                return -EOPNOTSUPP;
        *ret = info.cgroupid;
        return 0;
}

int pidref_get_exit_status(const PidRef *p, int *ret_status) {
        struct corral_pidfd_info info;
        int r = pidref_get_info(p, CORRAL_PIDFD_INFO_EXIT, &info);

        if (r < 0)
                return r;
        if (!(info.mask & CORRAL_PIDFD_INFO_EXIT))
                return -EAGAIN;
        *ret_status = info.exit_code;
        return 0;
}
