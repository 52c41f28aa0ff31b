/* SPDX-License-Identifier: GPL-2.0-or-later */
/* An LD_PRELOAD library for test-attacks' MAINPID= race: it recycles a
 * PID while corrald is looking at it. When corrald has read
 * /proc/PID/cgroup of the process named "corral-target" (test-notifier
 * mainpid-target's child) and closes the file, the probe kills that
 * process, waits until its parent has reaped it, and makes a new process
 * with the very same PID (clone3() with set_tid; needs root), a child of
 * corrald's that is in corrald's cgroup, not the unit's, and is named
 * "corral-recycled". Then corrald goes on. A corrald that checks the
 * cgroup and only then opens the pidfd now opens the new process and
 * takes it for the unit's main process; one that opened the pidfd first
 * finds its process gone. Once only; what it did goes, as one line, to
 * the file named by $CORRAL_TEST_RECYCLE_LOG:
 *
 *     recycled 4242
 *     failed 4242 clone3: Device or resource busy
 */
/* open and open64 are two symbols here, not one name for the other */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int open(const char *path, int flags, ...);
int open64(const char *path, int flags, ...);
int openat(int dirfd, const char *path, int flags, ...);
int openat64(int dirfd, const char *path, int flags, ...);
int close(int fd);

static int target_fd = -1;
static pid_t target_pid;
static int done;

static void say(const char *fmt, ...) {
        const char *out = getenv("CORRAL_TEST_RECYCLE_LOG");
        char line[256];
        va_list ap;
        int n, o;

        if (!out)
                return;
        va_start(ap, fmt);
        n = vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        o = (int) syscall(SYS_openat, AT_FDCWD, out, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (o < 0)
                return;
        if (n > 0)
                (void) !write(o, line, (size_t) n < sizeof(line) ? (size_t) n : sizeof(line) - 1);
        (void) syscall(SYS_close, o);
}

/* /proc/PID/cgroup of the process named corral-target: its PID, or 0 */
static pid_t target_of(const char *path) {
        char comm[64], rest[16];
        int pid, fd;
        ssize_t n;

        if (done || !path || sscanf(path, "/proc/%d/%15s", &pid, rest) != 2 || strcmp(rest, "cgroup") != 0 || pid <= 0)
                return 0;
        snprintf(comm, sizeof(comm), "/proc/%d/comm", pid);
        fd = (int) syscall(SYS_openat, AT_FDCWD, comm, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        n = read(fd, comm, sizeof(comm) - 1);
        (void) syscall(SYS_close, fd);
        if (n <= 0)
                return 0;
        comm[n] = '\0';
        return strcmp(comm, "corral-target\n") == 0 ? (pid_t) pid : 0;
}

static void opened(int fd, const char *path) {
        pid_t pid;

        if (fd < 0)
                return;
        pid = target_of(path);
        if (pid > 0) {
                target_fd = fd;
                target_pid = pid;
        }
}

static void sleep_ms(long ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static void recycle(pid_t pid) {
        struct clone_args args = {
                .exit_signal = SIGCHLD,
                .set_tid = (uint64_t) (uintptr_t) &pid,
                .set_tid_size = 1,
        };
        int pidfd, i;
        long r;

        done = 1;
        pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        if (pidfd < 0)
                return say("failed %d pidfd_open: %s\n", (int) pid, strerror(errno));
        (void) syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
        (void) syscall(SYS_close, pidfd);
        /* its parent (test-notifier) reaps it at once; a zombie still
         * answers kill(0) */
        for (i = 0; i < 10000 && (kill(pid, 0) == 0 || errno != ESRCH); i++)
                sleep_ms(1);
        r = syscall(SYS_clone3, &args, sizeof(args));
        if (r == 0) {
                (void) syscall(SYS_close_range, 3, ~0U, 0);
                (void) prctl(PR_SET_NAME, "corral-recycled");
                for (;;)
                        (void) syscall(SYS_pause);
        }
        if (r < 0)
                return say("failed %d clone3: %s\n", (int) pid, strerror(errno));
        say("recycled %d\n", (int) r);
}

#define OPEN_LIKE(name)                                                                   \
        int name(const char *path, int flags, ...) {                                      \
                static int (*real)(const char *, int, ...);                               \
                mode_t mode = 0;                                                          \
                if (flags & (O_CREAT | __O_TMPFILE)) {                                    \
                        va_list ap;                                                       \
                        va_start(ap, flags);                                              \
                        mode = va_arg(ap, mode_t);                                        \
                        va_end(ap);                                                       \
                }                                                                         \
                if (!real)                                                                \
                        real = (int (*)(const char *, int, ...)) dlsym(RTLD_NEXT, #name); \
                int fd = real(path, flags, mode);                                         \
                int saved = errno;                                                        \
                opened(fd, path);                                                         \
                errno = saved;                                                            \
                return fd;                                                                \
        }
OPEN_LIKE(open)
OPEN_LIKE(open64)

#define OPENAT_LIKE(name)                                                                      \
        int name(int dirfd, const char *path, int flags, ...) {                                \
                static int (*real)(int, const char *, int, ...);                               \
                mode_t mode = 0;                                                               \
                if (flags & (O_CREAT | __O_TMPFILE)) {                                         \
                        va_list ap;                                                            \
                        va_start(ap, flags);                                                   \
                        mode = va_arg(ap, mode_t);                                             \
                        va_end(ap);                                                            \
                }                                                                              \
                if (!real)                                                                     \
                        real = (int (*)(int, const char *, int, ...)) dlsym(RTLD_NEXT, #name); \
                int fd = real(dirfd, path, flags, mode);                                       \
                int saved = errno;                                                             \
                if (dirfd == AT_FDCWD)                                                         \
                        opened(fd, path);                                                      \
                errno = saved;                                                                 \
                return fd;                                                                     \
        }
OPENAT_LIKE(openat)
OPENAT_LIKE(openat64)

int close(int fd) {
        static int (*real)(int);
        int r, saved;

        if (!real)
                real = (int (*)(int)) dlsym(RTLD_NEXT, "close");
        r = real(fd);
        saved = errno;
        if (fd >= 0 && fd == target_fd) {
                target_fd = -1;
                recycle(target_pid);
        }
        errno = saved;
        return r;
}
