/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Starting a child straight inside its cgroup with clone3() (5.3) and
 * CLONE_INTO_CGROUP (5.7) | CLONE_PIDFD. Everything the child needs is
 * prepared by the parent beforehand; between clone and execve() the child
 * runs only on a copy of its parameters, with raw system calls (on x86_64
 * it shares corrald's memory until its execve(): spawn-internal.h), and a
 * failing step comes back to the parent as (step, errno) over a
 * close-on-exec pipe.
 *
 * The child's steps, in order. With corrald's credentials: signal
 * dispositions and mask, setsid(), stdio, umask, resource limits (the
 * soft limit of open files back to 1024 — corrald raised its own — then
 * those configured; a hard limit may be raised only by root). Then supplementary groups, gid, uid.
 * With the target's credentials: the working directory (so that a user
 * cannot enter, or probe, what only root may), no_new_privs, closing every
 * other descriptor, execve(). */

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "macro.h"
#include "pidref.h"

typedef enum SpawnStep {
        SPAWN_STEP_CLONE,
        SPAWN_STEP_SIGNALS,
        SPAWN_STEP_SETSID,
        SPAWN_STEP_STDIO,
        SPAWN_STEP_CHDIR,
        SPAWN_STEP_UMASK,
        SPAWN_STEP_GROUPS,
        SPAWN_STEP_GID,
        SPAWN_STEP_UID,
        SPAWN_STEP_RLIMIT,
        SPAWN_STEP_NO_NEW_PRIVS,
        SPAWN_STEP_FDS,
        SPAWN_STEP_EXEC,
        _SPAWN_STEP_MAX,
        _SPAWN_STEP_INVALID = -EINVAL,
} SpawnStep;

/* "exec", "chdir", … for messages such as "exec /bin/x: No such file". */
const char *spawn_step_to_string(SpawnStep s);

/* A resolved user: what the child switches to. */
typedef struct SpawnCredentials {
        bool set; /* false: keep corrald's own credentials */
        uid_t uid;
        gid_t gid;
        gid_t *groups; /* supplementary groups */
        size_t n_groups;
        char *home, *shell, *name;
} SpawnCredentials;

void spawn_credentials_done(SpawnCredentials *c);

/* Resolves user (name or numeric id; NULL keeps corrald's credentials) and
 * group (NULL: the user's primary group) through NSS, with the user's
 * supplementary groups. Returns 0, -ESRCH for an unknown user, -ENXIO for
 * an unknown group, -errno. */
int spawn_credentials_resolve(const char *user, const char *group, SpawnCredentials *ret);

/* Finds the program to execute: name itself when it holds a '/', otherwise
 * the first executable regular file of that name in search_path (a
 * ':'-separated list). Returns 0 with a malloc'd path, -ENOENT, -ENOMEM. */
int spawn_find_executable(const char *name, const char *search_path, char **ret_path);

typedef struct SpawnParams {
        const char *path; /* the program, from spawn_find_executable() */
        char *const *argv;
        char *const *envp;
        const char *directory; /* NULL: "/"; entered with the target's credentials */
        mode_t umask;
        const SpawnCredentials *credentials; /* NULL: keep corrald's */
        int stdin_fd, stdout_fd, stderr_fd;  /* become 0, 1, 2 */
        int cgroup_fd;                       /* the unit's cgroup directory */
        const struct rlimit *rlimits;        /* RLIMIT_NLIMITS entries, or NULL */
        const bool *rlimits_set;
        bool no_new_privs;
} SpawnParams;

/* Starts the child. Returns 0 once execve() has succeeded, with the child in
 * *ret (the caller now owns it and must reap it). On failure the child (if
 * any) has been reaped; returns the -errno of the step that failed and, if
 * ret_step is not NULL, the step in *ret_step. Blocks until the exec. */
int spawn_child(const SpawnParams *p, PidRef *ret, SpawnStep *ret_step);

/* The same without waiting for the exec: returns 0 right after the clone
 * with the child in *ret and the read end of its report pipe (O_CLOEXEC,
 * O_NONBLOCK) in *ret_report_fd, for the event loop; only a failed clone
 * is an error here (step SPAWN_STEP_CLONE). The caller owns both. */
int spawn_child_async(const SpawnParams *p, PidRef *ret, int *ret_report_fd);

/* Reads the outcome from a report pipe: 0 when the child has exec'd (the
 * pipe closed empty), the -errno of the step that failed (with the step in
 * *ret_step), or -EAGAIN while there is nothing to read yet. */
int spawn_read_report(int fd, SpawnStep *ret_step);

/* Frees what children that have exec'd or exited no longer need (their
 * copied parameters and stacks: spawn-internal.h). Called by each spawn
 * and each report read; returns the number of children still before
 * their exec. */
size_t spawn_reclaim(void);

/* How the children were started: on corrald's memory until their exec,
 * or forked (spawn-internal.h). */
typedef struct SpawnCounters {
        uint64_t shared, forked;
} SpawnCounters;
const SpawnCounters *spawn_counters(void);

/* Whether a child may run on corrald's memory until its exec: not where
 * that memory would be open to the user it becomes (changes_ids: it
 * changes its uid or gid; fs.suid_dumpable 1). */
bool spawn_may_share_memory(bool changes_ids);

/* Reserves the descriptor slots of spawn-internal.h, as low in the table
 * as they are free: corrald calls it first thing (each spawn would, the
 * first time). */
void spawn_reserve_fds(void);
