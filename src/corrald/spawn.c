/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "spawn.h"

#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "parse-util.h"
#include "rlimit-util.h"
#include "syscall.h"
#include "user-util.h"

static const char *const spawn_step_table[_SPAWN_STEP_MAX] = {
        [SPAWN_STEP_CLONE] = "clone",      [SPAWN_STEP_SIGNALS] = "signals",
        [SPAWN_STEP_SETSID] = "setsid",    [SPAWN_STEP_STDIO] = "stdio",
        [SPAWN_STEP_CHDIR] = "chdir",      [SPAWN_STEP_UMASK] = "umask",
        [SPAWN_STEP_GROUPS] = "setgroups", [SPAWN_STEP_GID] = "setgid",
        [SPAWN_STEP_UID] = "setuid",       [SPAWN_STEP_FDS] = "close fds",
        [SPAWN_STEP_RLIMIT] = "setrlimit", [SPAWN_STEP_NO_NEW_PRIVS] = "no_new_privs",
        [SPAWN_STEP_EXEC] = "exec",
};

const char *spawn_step_to_string(SpawnStep s) {
        if (s < 0 || s >= _SPAWN_STEP_MAX)
                return NULL;
        return spawn_step_table[s];
}

void spawn_credentials_done(SpawnCredentials *c) {
        free(c->groups);
        free(c->home);
        free(c->shell);
        free(c->name);
        *c = (SpawnCredentials) {};
}

int spawn_credentials_resolve(const char *user, const char *group, SpawnCredentials *ret) {
        _cleanup_(spawn_credentials_done) SpawnCredentials c = {};
        _cleanup_(user_record_done) UserRecord u = {};
        int r;

        if (!user && !group) {
                *ret = (SpawnCredentials) {};
                return 0;
        }
        /* only a group: keep our own user */
        r = user ? user_lookup(user, &u) : user_lookup_uid(geteuid(), &u);
        if (r < 0)
                return r;
        c.set = true;
        c.uid = u.uid;
        c.gid = u.gid;
        if (group && (r = group_lookup(group, &c.gid)) < 0)
                return r;
        r = user_get_groups(u.name, c.gid, &c.groups, &c.n_groups);
        if (r < 0)
                return r;
        c.name = TAKE_PTR(u.name);
        c.home = TAKE_PTR(u.home);
        c.shell = TAKE_PTR(u.shell);
        *ret = c;
        c = (SpawnCredentials) {};
        return 0;
}

static bool is_executable_file(const char *path) {
        struct stat st;

        return stat(path, &st) >= 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111) && access(path, X_OK) >= 0;
}

int spawn_find_executable(const char *name, const char *search_path, char **ret_path) {
        char *p;

        if (strchr(name, '/')) {
                p = strdup(name);
                if (!p)
                        return -ENOMEM;
                *ret_path = p;
                return 0;
        }
        for (const char *dir = search_path; dir && *dir;) {
                size_t n = strcspn(dir, ":");
                if (n > 0) {
                        if (asprintf(&p, "%.*s/%s", (int) n, dir, name) < 0)
                                return -ENOMEM;
                        if (is_executable_file(p)) {
                                *ret_path = p;
                                return 0;
                        }
                        free(p);
                }
                dir += n + (dir[n] == ':');
        }
        return -ENOENT;
}

typedef struct SpawnReport {
        int step;
        int error;
} SpawnReport;

_noreturn_ static void child_fail(int fd, SpawnStep step, int error) {
        SpawnReport rep = { .step = step, .error = error };

        (void) !write(fd, &rep, sizeof(rep));
        _exit(127);
}

static int child_stdio(const SpawnParams *p) {
        int from[3] = { p->stdin_fd, p->stdout_fd, p->stderr_fd };

        /* A source that is itself 0..2 but not its own target moves up
         * first, so that no dup2() overwrites a source still to be used. */
        for (int i = 0; i < 3; i++)
                if (from[i] >= 0 && from[i] < 3 && from[i] != i && (from[i] = fcntl(from[i], F_DUPFD_CLOEXEC, 3)) < 0)
                        return -errno;

        for (int i = 0; i < 3; i++) {
                if (from[i] == i) {
                        if (fcntl(i, F_SETFD, 0) < 0)
                                return -errno;
                } else if (dup2(from[i], i) < 0)
                        return -errno;
        }
        return 0;
}

/* The child side. Only async-signal-safe calls from here to execve(). */
_noreturn_ static void child_run(const SpawnParams *p, int report_fd) {
        const SpawnCredentials *c = p->credentials;
        struct sigaction sa = { .sa_handler = SIG_DFL };
        sigset_t none;
        int r;

        for (int sig = 1; sig < _NSIG; sig++)
                (void) sigaction(sig, &sa, NULL); /* SIGKILL, SIGSTOP and glibc's own fail: fine */
        sigemptyset(&none);
        if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
                child_fail(report_fd, SPAWN_STEP_SIGNALS, errno);
        if (setsid() < 0)
                child_fail(report_fd, SPAWN_STEP_SETSID, errno);
        if (child_stdio(p) < 0)
                child_fail(report_fd, SPAWN_STEP_STDIO, errno);
        umask(p->umask);
        /* corrald raised its own soft limit of open files (main.c); the
         * program gets what it would have had, unless limit_nofile says. */
        r = rlimit_nofile_safe();
        if (r < 0)
                child_fail(report_fd, SPAWN_STEP_RLIMIT, -r);
        /* Before giving up root: a hard limit may be raised only by root. */
        for (int i = 0; p->rlimits && i < RLIMIT_NLIMITS; i++)
                if (p->rlimits_set[i] && setrlimit(i, &p->rlimits[i]) < 0)
                        child_fail(report_fd, SPAWN_STEP_RLIMIT, errno);
        if (c && c->set) {
                if (setgroups(c->n_groups, c->groups) < 0)
                        child_fail(report_fd, SPAWN_STEP_GROUPS, errno);
                if (setresgid(c->gid, c->gid, c->gid) < 0)
                        child_fail(report_fd, SPAWN_STEP_GID, errno);
                if (setresuid(c->uid, c->uid, c->uid) < 0)
                        child_fail(report_fd, SPAWN_STEP_UID, errno);
        }
        /* As the target user (as systemd enters WorkingDirectory=): root
         * would enter directories the user may not, and the outcome would
         * tell the user which paths exist below them. */
        if (chdir(p->directory ?: "/") < 0)
                child_fail(report_fd, SPAWN_STEP_CHDIR, errno);
        if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                child_fail(report_fd, SPAWN_STEP_NO_NEW_PRIVS, errno);
        /* Every descriptor but stdio closes at exec; the report pipe stays
         * open until then (5.11). */
        if (sys_close_range(3, UINT_MAX, CLOSE_RANGE_CLOEXEC) < 0)
                child_fail(report_fd, SPAWN_STEP_FDS, errno);
        execve(p->path, p->argv, p->envp);
        child_fail(report_fd, SPAWN_STEP_EXEC, errno);
}

static int read_report(int fd, SpawnReport *ret) {
        ssize_t n;

        do
                n = read(fd, ret, sizeof(*ret));
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        if (n == 0)
                return 0;
        if ((size_t) n != sizeof(*ret))
                return -EIO;
        return 1;
}

int spawn_read_report(int fd, SpawnStep *ret_step) {
        SpawnReport rep;
        int r = read_report(fd, &rep);

        if (r <= 0)
                return r; /* 0: exec'd; -EAGAIN: not yet */
        if (ret_step)
                *ret_step = rep.step >= 0 && rep.step < _SPAWN_STEP_MAX ? rep.step : SPAWN_STEP_EXEC;
        return rep.error > 0 ? -rep.error : -EIO;
}

/* Clones the child; the parent keeps the report pipe's read end. */
static int spawn_clone(const SpawnParams *p, PidRef *ret, int *ret_report_fd, int pipe_flags) {
        _cleanup_close_ int pipe_r = -EBADF, pipe_w = -EBADF;
        int pipefd[2], pidfd = -EBADF;
        pid_t pid;

        if (pipe2(pipefd, O_CLOEXEC | pipe_flags) < 0)
                return -errno;
        pipe_r = pipefd[0];
        pipe_w = pipefd[1];
        /* Never on 0..2 (when corrald's own were closed): the child's
         * dup2()s would overwrite it and a failure would read as success. */
        if (pipe_w < 3) {
                int fd = fcntl(pipe_w, F_DUPFD_CLOEXEC, 3);
                if (fd < 0)
                        return -errno;
                safe_close(pipe_w);
                pipe_w = fd;
        }

        struct corral_clone_args args = {
                .flags = CLONE_PIDFD | CLONE_INTO_CGROUP,
                .pidfd = (uint64_t) (uintptr_t) &pidfd,
                .exit_signal = SIGCHLD,
                .cgroup = (uint64_t) p->cgroup_fd,
        };
        pid = sys_clone3(&args);
        if (pid < 0)
                return pid;
        if (pid == 0)
                child_run(p, pipe_w);
        pidref_take(ret, pid, pidfd);
        *ret_report_fd = TAKE_FD(pipe_r);
        return 0;
}

int spawn_child_async(const SpawnParams *p, PidRef *ret, int *ret_report_fd) {
        return spawn_clone(p, ret, ret_report_fd, O_NONBLOCK);
}

int spawn_child(const SpawnParams *p, PidRef *ret, SpawnStep *ret_step) {
        _cleanup_(pidref_done_sigkill_wait) PidRef child = PIDREF_NULL;
        _cleanup_close_ int report = -EBADF;
        SpawnStep step = SPAWN_STEP_CLONE;
        int r;

        r = spawn_clone(p, &child, &report, /* pipe_flags= */ 0);
        if (r >= 0)
                r = spawn_read_report(report, &step);
        if (r < 0) {
                if (ret_step)
                        *ret_step = step;
                return r; /* the cleanup reaps the child */
        }
        *ret = child;
        child = PIDREF_NULL;
        return 0;
}
