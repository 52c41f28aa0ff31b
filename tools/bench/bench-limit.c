/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bench-limit: the physical limit of a cgroup supervisor, for the
 * benchmarks. It makes only the system calls that no supervisor of this
 * kind can avoid, and nothing else: no configuration, no logging, no exec
 * error pipe, no status, no reaping (SIGCHLD is ignored, so the kernel
 * reaps).
 *
 *     bench-limit CGROUP_DIR N MARKER PROGRAM [ARG...]
 *
 * start: mkdir CGROUP_DIR, and for each of N units mkdir CGROUP_DIR/uI,
 *        open it, clone3(CLONE_INTO_CGROUP | CLONE_PIDFD), execve(PROGRAM)
 *        with the environment PATH and CORRAL_TEST_MARKER=MARKER;
 * stop:  at SIGTERM, write "1" to every unit's cgroup.kill, wait until
 *        every cgroup.events says "populated 0" (poll, no timer), remove
 *        the cgroups and exit 0.
 *
 * CGROUP_DIR is a filesystem path (under the cgroup2 mount). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "syscall.h"

typedef struct LimitUnit {
        int dir_fd;
        int pidfd;
        int events_fd;
        char name[32];
} LimitUnit;

static void die(const char *what) {
        fprintf(stderr, "bench-limit: %s: %s\n", what, strerror(errno));
        exit(1);
}

static void start_unit(int root_fd, LimitUnit *u, unsigned i, char **argv, char **envp) {
        snprintf(u->name, sizeof(u->name), "u%u", i);
        if (mkdirat(root_fd, u->name, 0755) < 0)
                die("mkdir");
        u->dir_fd = openat(root_fd, u->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (u->dir_fd < 0)
                die("open cgroup");
        struct corral_clone_args args = {
                .flags = CLONE_INTO_CGROUP | CLONE_PIDFD,
                .pidfd = (uint64_t) (uintptr_t) &u->pidfd,
                .exit_signal = SIGCHLD,
                .cgroup = (uint64_t) u->dir_fd,
        };
        pid_t pid = sys_clone3(&args);
        if (pid < 0) {
                errno = -pid;
                die("clone3");
        }
        if (pid == 0) {
                sigset_t none;
                /* what the child must not inherit: the blocked SIGTERM
                 * and the ignored SIGCHLD survive execve() */
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                signal(SIGCHLD, SIG_DFL);
                execve(argv[0], argv, envp);
                _exit(127);
        }
}

static bool populated(int fd) {
        char buf[256];
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

        if (n < 0)
                return false;
        buf[n] = '\0';
        return !strstr(buf, "populated 0");
}

/* cgroup.kill (5.14) on every unit, then poll() on every cgroup.events
 * that still says populated: kernfs reports a change as POLLPRI. */
static void stop_all(LimitUnit *units, unsigned n) {
        struct pollfd *p = calloc(n, sizeof(*p));
        unsigned left = n;

        for (unsigned i = 0; i < n; i++) {
                int fd = openat(units[i].dir_fd, "cgroup.kill", O_WRONLY | O_CLOEXEC);
                if (fd < 0 || write(fd, "1", 1) != 1)
                        die("cgroup.kill");
                close(fd);
        }
        for (unsigned i = 0; i < n; i++) {
                units[i].events_fd = openat(units[i].dir_fd, "cgroup.events", O_RDONLY | O_CLOEXEC);
                if (units[i].events_fd < 0)
                        die("open cgroup.events");
        }
        while (left > 0) {
                unsigned k = 0;
                for (unsigned i = 0; i < n; i++)
                        if (units[i].events_fd >= 0) {
                                if (!populated(units[i].events_fd)) {
                                        close(units[i].events_fd);
                                        units[i].events_fd = -1;
                                        left--;
                                        continue;
                                }
                                p[k++] = (struct pollfd) { .fd = units[i].events_fd, .events = POLLPRI };
                        }
                if (k > 0 && poll(p, k, -1) < 0 && errno != EINTR)
                        die("poll");
        }
        free(p);
}

int main(int argc, char *argv[]) {
        char *marker, *envp[3];
        unsigned n;
        sigset_t mask;
        int sig, root_fd;

        if (argc < 5) {
                fprintf(stderr, "usage: bench-limit CGROUP_DIR N MARKER PROGRAM [ARG...]\n");
                return 2;
        }
        n = (unsigned) strtoul(argv[2], NULL, 10);
        if (asprintf(&marker, "CORRAL_TEST_MARKER=%s", argv[3]) < 0)
                return 1;
        envp[0] = (char *) "PATH=/usr/local/bin:/usr/bin:/bin";
        envp[1] = marker;
        envp[2] = NULL;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGCHLD, SIG_IGN); /* the kernel reaps */

        if (mkdir(argv[1], 0755) < 0)
                die("mkdir");
        root_fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                die("open");
        LimitUnit *units = calloc(n, sizeof(*units));
        if (!units)
                die("calloc");
        for (unsigned i = 0; i < n; i++)
                start_unit(root_fd, &units[i], i, argv + 4, envp);

        sigwait(&mask, &sig);
        stop_all(units, n);
        for (unsigned i = 0; i < n; i++) {
                close(units[i].pidfd);
                close(units[i].dir_fd);
                (void) unlinkat(root_fd, units[i].name, AT_REMOVEDIR);
        }
        close(root_fd);
        (void) rmdir(argv[1]);
        return 0;
}
