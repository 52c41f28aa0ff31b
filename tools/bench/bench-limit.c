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
 *        open it, clone3(CLONE_INTO_CGROUP | CLONE_PIDFD | CLONE_FILES),
 *        close_range(3, ~0, CLOSE_RANGE_UNSHARE) in the child (a table of
 *        its own with only 0..2, instead of a copy of ours), execve(PROGRAM)
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

/* A unit keeps its pidfd, as corrald's do; its cgroup is opened when
 * needed (10,000 units must fit in 20,000 descriptors). */
typedef struct LimitUnit {
        int pidfd;
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
        int dir_fd = openat(root_fd, u->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                die("open cgroup");
        struct corral_clone_args args = {
                /* on our descriptor table until its first step: a copy
                 * of it (one pidfd per unit), closed again at the exec,
                 * made each start cost more than the last */
                .flags = CLONE_INTO_CGROUP | CLONE_PIDFD | CLONE_FILES,
                .pidfd = (uint64_t) (uintptr_t) &u->pidfd,
                .exit_signal = SIGCHLD,
                .cgroup = (uint64_t) dir_fd,
        };
        pid_t pid = sys_clone3(&args);
        if (pid < 0) {
                errno = -pid;
                die("clone3");
        }
        if (pid == 0) {
                sigset_t none;
                /* a table of its own with only 0..2 (5.9) */
                if (sys_close_range(3, ~0U, CLOSE_RANGE_UNSHARE) < 0)
                        _exit(127);
                /* what the child must not inherit: the blocked SIGTERM
                 * and the ignored SIGCHLD survive execve() */
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                signal(SIGCHLD, SIG_DFL);
                execve(argv[0], argv, envp);
                _exit(127);
        }
        close(dir_fd);
}

static bool populated(int fd) {
        char buf[256];
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

        if (n < 0)
                return false;
        buf[n] = '\0';
        return !strstr(buf, "populated 0");
}

static int open_in(int root_fd, const LimitUnit *u, const char *file, int flags) {
        char path[64];

        snprintf(path, sizeof(path), "%s/%s", u->name, file);
        return openat(root_fd, path, flags | O_CLOEXEC);
}

/* cgroup.kill (5.14) on every unit, then, one unit after the other, poll()
 * on its cgroup.events until it says populated 0 (kernfs reports a change
 * as POLLPRI): all were killed at once, so waiting in turn ends when the
 * last is gone. */
static void stop_all(int root_fd, LimitUnit *units, unsigned n) {
        for (unsigned i = 0; i < n; i++) {
                int fd = open_in(root_fd, &units[i], "cgroup.kill", O_WRONLY);
                if (fd < 0 || write(fd, "1", 1) != 1)
                        die("cgroup.kill");
                close(fd);
        }
        for (unsigned i = 0; i < n; i++) {
                int fd = open_in(root_fd, &units[i], "cgroup.events", O_RDONLY);
                if (fd < 0)
                        die("open cgroup.events");
                while (populated(fd)) {
                        struct pollfd p = { .fd = fd, .events = POLLPRI };
                        if (poll(&p, 1, -1) < 0 && errno != EINTR)
                                die("poll");
                }
                close(fd);
        }
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
        stop_all(root_fd, units, n);
        for (unsigned i = 0; i < n; i++) {
                close(units[i].pidfd);
                (void) unlinkat(root_fd, units[i].name, AT_REMOVEDIR);
        }
        close(root_fd);
        (void) rmdir(argv[1]);
        return 0;
}
