/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The newer system calls that corral needs, wrapped once. Each wrapper
 * returns the kernel's result, or -errno on failure (-ENOSYS where the
 * kernel does not know the call). There is no fallback below the kernel
 * baseline (5.14): callers refuse with a clear message. */

#include <linux/ioctl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/wait.h>

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000 /* 5.2 */
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL /* 5.7 */
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2) /* 5.11 */
#endif
#ifndef P_PIDFD
#define P_PIDFD 3 /* waitid(P_PIDFD, ...), 5.4 */
#endif

/* The clone_args layout up to CLONE_INTO_CGROUP (CLONE_ARGS_SIZE_VER2, 5.7). */
struct corral_clone_args {
        uint64_t flags;
        uint64_t pidfd;
        uint64_t child_tid;
        uint64_t parent_tid;
        uint64_t exit_signal;
        uint64_t stack;
        uint64_t stack_size;
        uint64_t tls;
        uint64_t set_tid;
        uint64_t set_tid_size;
        uint64_t cgroup;
};

/* PIDFD_GET_INFO (6.15): what a pidfd knows of its process, including its
 * exit status once it has exited — for processes that are not our
 * children. The first version of the struct (PIDFD_INFO_SIZE_VER0, 64
 * bytes). */
struct corral_pidfd_info {
        uint64_t mask;
        uint64_t cgroupid;
        uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
        int32_t exit_code;
};
#define CORRAL_PIDFD_INFO_CGROUPID (1ULL << 2) /* 6.13 */
#define CORRAL_PIDFD_INFO_EXIT (1ULL << 3)
#define CORRAL_PIDFD_GET_INFO _IOWR(0xFF, 11, struct corral_pidfd_info)

/* clone3() (5.3; CLONE_INTO_CGROUP 5.7). Returns 0 in the child, the
 * child's PID in the parent, -errno on failure. Without CLONE_VM it
 * behaves like fork(): the child runs on a copy of the parent's stack. */
pid_t sys_clone3(struct corral_clone_args *args);

/* pidfd_open() (5.3). Returns a new O_CLOEXEC pidfd, or -errno: -ESRCH when
 * no such process exists. */
int sys_pidfd_open(pid_t pid);

/* pidfd_send_signal() (5.1). Returns 0, or -errno: -ESRCH when the process
 * has exited. */
int sys_pidfd_send_signal(int pidfd, int sig);

/* close_range() (5.9; CLOSE_RANGE_CLOEXEC 5.11). Async-signal-safe. */
int sys_close_range(unsigned first, unsigned last, unsigned flags);

/* waitid(P_PIDFD, pidfd, ...) (5.4). Returns 0 with *ret_si filled (si_pid
 * 0 with WNOHANG when the process has not changed state), or -errno. */
int sys_waitid_pidfd(int pidfd, siginfo_t *ret_si, int options);
