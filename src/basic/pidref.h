/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A process as a value: its PID (for logs and persisted state) next to the
 * pidfd that proves its identity. Signals and waits go through the pidfd,
 * so a recycled PID can never be hit. */

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct PidRef {
        pid_t pid;
        int fd;
} PidRef;

#define PIDREF_NULL ((PidRef) { .pid = 0, .fd = -EBADF })

static inline bool pidref_is_set(const PidRef *p) {
        return p && p->pid > 0 && p->fd >= 0;
}

/* Opens a pidfd for pid (pidfd_open, 5.3). Returns 0, -ESRCH when the
 * process is gone, -errno otherwise. */
int pidref_set_pid(PidRef *p, pid_t pid);

/* Takes pid and pidfd (from clone3's CLONE_PIDFD). Never fails. */
void pidref_take(PidRef *p, pid_t pid, int pidfd);

/* Closes the pidfd and resets *p. Accepts a reset PidRef. */
void pidref_done(PidRef *p);

/* pidfd_send_signal(). Returns 0, -ESRCH when it has exited, -errno. */
int pidref_kill(const PidRef *p, int sig);

/* waitid(P_PIDFD). Returns 0 with *ret_si (si_pid 0 if options has WNOHANG
 * and the process has not exited), -ECHILD when it is not our child or
 * already reaped, -errno. */
int pidref_wait(const PidRef *p, siginfo_t *ret_si, int options);

/* For _cleanup_(): a child that was cloned but not yet handed to an owner
 * is killed with SIGKILL, reaped, and its pidfd closed. */
void pidref_done_sigkill_wait(PidRef *p);

/* Whether p still refers to the process it was opened for: the pidfd's
 * "Pid:" in /proc/self/fdinfo is p->pid while the process lives (a zombie
 * too) and -1 once it has been reaped, after which its PID may be reused.
 * Call it after reading /proc/PID/...: when it returns 0, what was read
 * came from p's process. Returns 0; -ESRCH when p is unset or its process
 * has been reaped; -EREMOTE when the process is in a PID namespace we
 * cannot see; -EBADF when p->fd is not open; -ENOTTY when it is not a
 * pidfd; -errno. */
int pidref_verify(const PidRef *p);

/* Parses the text of /proc/self/fdinfo/FD of a pidfd for its "Pid:" line.
 * Pure. Returns 0 with the PID; -ESRCH for "-1" (reaped); -EREMOTE for
 * "0" (in a PID namespace we cannot see); -ENOTTY when there is no "Pid:"
 * line (not a pidfd); -EBADMSG. */
int pidfd_fdinfo_parse_pid(const char *buf, pid_t *ret);

/* Moved to process-util.h (defined in process-util.c), declared here too
 * until their callers include process-util.h. New code: the verified
 * pidref_get_start_time(). */
int pid_get_start_time(pid_t pid, uint64_t *ret);
int proc_stat_parse_start_time(const char *buf, uint64_t *ret);

/* The wait status of an exited process through PIDFD_GET_INFO (6.15),
 * which works for processes that are not our children. Returns 0,
 * -EOPNOTSUPP on older kernels, -EAGAIN when it has not exited or been
 * reaped yet. */
int pidref_get_exit_status(const PidRef *p, int *ret_status);

/* The id of the cgroup (v2) the process is in, through PIDFD_GET_INFO
 * (6.13): on 64-bit the inode number of the cgroup's directory. Returns
 * 0, -EOPNOTSUPP on older kernels, -ESRCH when it has exited. */
int pidref_get_cgroup_id(const PidRef *p, uint64_t *ret);
