/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pidref.h"

#include <errno.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "fileio.h"
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

int proc_stat_parse_start_time(const char *buf, uint64_t *ret) {
        const char *p = strrchr(buf, ')'); /* comm may hold anything but not end the line early */

        if (!p)
                return -EBADMSG;
        p++;
        /* after comm: field 3 (state) … field 22 (starttime) */
        for (int field = 3; field < 22; field++) {
                p = strchr(p + 1, ' ');
                if (!p)
                        return -EBADMSG;
        }
        char *end;
        errno = 0;
        unsigned long long v = strtoull(p + 1, &end, 10);
        if (errno != 0 || end == p + 1 || (*end != ' ' && *end != '\n' && *end != '\0'))
                return -EBADMSG;
        *ret = v;
        return 0;
}

int pid_get_start_time(pid_t pid, uint64_t *ret) {
        _cleanup_free_ char *buf = NULL;
        char path[64];
        int r;

        snprintf(path, sizeof(path), "/proc/%d/stat", pid);
        r = read_full_file_at(AT_FDCWD, path, 4096, &buf, NULL);
        if (r == -ENOENT)
                return -ESRCH;
        if (r < 0)
                return r;
        return proc_stat_parse_start_time(buf, ret);
}

int pidref_get_exit_status(const PidRef *p, int *ret_status) {
        struct corral_pidfd_info info = { .mask = CORRAL_PIDFD_INFO_EXIT };

        if (!pidref_is_set(p))
                return -ESRCH;
        if (ioctl(p->fd, CORRAL_PIDFD_GET_INFO, &info) < 0)
                return errno == ENOTTY || errno == EINVAL ? -EOPNOTSUPP : -errno;
        if (!(info.mask & CORRAL_PIDFD_INFO_EXIT))
                return -EAGAIN;
        *ret_status = info.exit_code;
        return 0;
}
