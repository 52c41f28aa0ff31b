/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Everything corrald reads and writes in the cgroup2 hierarchy: finding it,
 * the owned subtree, unit cgroups (through directory fds), cgroup.kill,
 * cgroup.events, cgroup.procs. Helpers here log at debug level at most. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"
#include "pidref.h"

#define CGROUP_SUPERVISOR "supervisor"
#define CGROUP_NAME_MAX 64
/* Bounds on what is read from kernel files, so a runaway unit cannot make
 * corrald allocate without end. */
#define CGROUP_PROCS_MAX (16U * 1024U * 1024U)
#define CGROUP_SMALL_FILE_MAX (64U * 1024U)

typedef struct CgroupEvents {
        bool populated;
        bool frozen;
} CgroupEvents;

/* ---- Pure parsers (no I/O; bounds enforced) ---- */

/* Finds the first cgroup2 mount in the text of /proc/self/mountinfo.
 * Returns 0 with a malloc'd mount point (octal escapes decoded), -ENOENT
 * when there is none, -EBADMSG for a malformed line, -ENOMEM. */
int cgroup_parse_mountinfo(const char *buf, char **ret_mount);

/* Finds the unified ("0::") entry in the text of /proc/PID/cgroup.
 * Returns 0 with a malloc'd path like "/system.slice/corral.service",
 * -ENOENT when there is none, -ENOMEM. */
int cgroup_parse_proc_cgroup(const char *buf, char **ret_path);

/* Parses cgroup.events ("populated 1\nfrozen 0\n"). Unknown keys are
 * ignored (newer kernels add some). Returns 0, or -EBADMSG when a line is
 * malformed or "populated" is missing. */
int cgroup_parse_events(const char *buf, CgroupEvents *ret);

/* Parses cgroup.procs (one decimal PID a line). Returns 0 with a malloc'd
 * array (NULL when empty) and its length, -EBADMSG, -ENOMEM. */
int cgroup_parse_procs(const char *buf, pid_t **ret_pids, size_t *ret_n);

/* Letters, digits, '_', '-', '@'; never '.'; 1..CGROUP_NAME_MAX; not
 * CGROUP_SUPERVISOR. */
bool cgroup_name_is_valid(const char *name);

/* A cgroup path as /proc/self/cgroup writes it: absolute, no "." or ".."
 * components, no empty components. "/" is valid. */
bool cgroup_path_is_valid(const char *path);

/* ---- The hierarchy ---- */

/* The cgroup2 mount point, from /proc/self/mountinfo. -ENOENT: none. */
int cgroup_find_mount(char **ret_mount);

/* corrald's own cgroup path, from /proc/self/cgroup. */
int cgroup_get_own(char **ret_path);

/* ---- The owned subtree ---- */

typedef struct CgroupTree {
        char *mount;    /* the cgroup2 mount point */
        char *path;     /* the subtree, as a cgroup path ("/corral") */
        char *fs_path;  /* mount + path */
        char *origin;   /* corrald's cgroup before it entered the subtree */
        bool delegated; /* the subtree is the cgroup we were started in
                           * (systemd's Delegate=yes): never removed */
        bool created;   /* we created the subtree's directory */
        int root_fd;    /* the subtree's directory */
        int lock_fd;    /* its cgroup.threads, with corrald's record lock (F_SETLK) */
        int supervisor_fd;
        int inotify_fd; /* watches of units' cgroup.events */
} CgroupTree;

CgroupTree *cgroup_tree_free(CgroupTree *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(CgroupTree *, cgroup_tree_free);

/* Opens (creating it if needed) the subtree at cgroup path `path` under
 * the cgroup2 mount `mount`, and takes an exclusive lock on it for the
 * life of the CgroupTree: a POSIX record lock on its cgroup.threads, which
 * belongs to the calling process alone (children do not inherit it) and
 * goes with it. delegated: the subtree is our own cgroup.
 * Returns 0 with the tree in *ret, or:
 *   -EBUSY       another process holds the lock; *ret_owner is its PID
 *                (from F_GETLK, else the supervisor leaf; 0 when unknown)
 *   -EOPNOTSUPP  no cgroup.kill: the kernel is older than 5.14
 *   -EROFS, -EACCES, -EPERM  the hierarchy cannot be written
 *   -ENOENT      a parent of the subtree does not exist
 * ret_owner may be NULL. */
int cgroup_tree_open(const char *mount, const char *path, bool delegated, CgroupTree **ret, pid_t *ret_owner);

/* Creates the supervisor leaf and moves the calling process into it.
 * Returns 0 or -errno. */
int cgroup_tree_enter_supervisor(CgroupTree *t);

/* Moves the calling process back to where it came from, removes the
 * supervisor leaf and, unless delegated, the subtree itself. Returns 0,
 * -EBUSY when unit cgroups are still there (nothing is removed then),
 * -errno. */
int cgroup_tree_release(CgroupTree *t);

/* Names of the cgroups in the subtree other than the supervisor leaf and
 * those starting with '.' (systemd's .control). Returns 0 with a malloc'd
 * NULL-terminated vector, or -errno. */
int cgroup_tree_list(CgroupTree *t, char ***ret_names);

/* The unit a process belongs to: the name of the cgroup directly below the
 * subtree that holds it (from /proc/PID/cgroup). Returns 0 with a malloc'd
 * name, -ENOENT when the process is outside the subtree or in the
 * supervisor leaf, -ESRCH when it is gone, -errno. */
int cgroup_pid_get_unit(CgroupTree *t, pid_t pid, char **ret_name);

/* ---- Unit cgroups ---- */

/* Creates the unit cgroup `name` (an empty leftover of the same name is
 * reused) and returns an O_DIRECTORY fd to it, fit for CLONE_INTO_CGROUP.
 * Returns 0, 1 when it was there already (an empty leftover), -EINVAL for
 * an invalid name, -EBUSY when it exists and is populated, -errno. */
int cgroup_unit_create(CgroupTree *t, const char *name, int *ret_fd);

/* Opens an existing unit cgroup. -ENOENT when it does not exist. */
int cgroup_unit_open(CgroupTree *t, const char *name, int *ret_fd);

/* Removes the unit cgroup and any cgroups below it. Returns 0 (also when
 * it was already gone), -EBUSY when processes remain, -errno. */
int cgroup_unit_remove(CgroupTree *t, const char *name);

/* Starts watching the unit's cgroup.events; the watch descriptor is what
 * cgroup_tree_read_watches() reports. Returns 0 or -errno. */
int cgroup_unit_watch(CgroupTree *t, const char *name, int *ret_wd);
void cgroup_unit_unwatch(CgroupTree *t, int wd);

/* Reads the pending inotify events and calls cb(wd, userdata) for each
 * (a watch may be named more than once); wd is -1 when the kernel's queue
 * overflowed and events were lost: then every watch must be re-checked.
 * Returns 0 or -errno. */
int cgroup_tree_read_watches(CgroupTree *t, void (*cb)(int wd, void *userdata), void *userdata);

/* Reads and parses cgroup.events of the cgroup at fd. */
int cgroup_read_events(int fd, CgroupEvents *ret);
/* The same of the unit cgroup name, by path from the tree's fd (no
 * directory opened: two system calls fewer at each exit). */
int cgroup_unit_read_events(CgroupTree *t, const char *name, CgroupEvents *ret);

/* Reads cgroup.procs of the cgroup at fd (not of cgroups below it). */
int cgroup_read_procs(int fd, pid_t **ret_pids, size_t *ret_n);

/* Writes "1" to cgroup.kill (5.14): SIGKILL to every process of the cgroup
 * and of the cgroups below it, at once, however they forked. The caller
 * guarantees corrald itself is not inside. Returns 0 or -errno. */
int cgroup_kill(int fd);

/* Whether controller is offered to the subtree's children: listed in the
 * subtree root's cgroup.controllers. Enables it in cgroup.subtree_control
 * when it is not yet (systemd may reset that, so this is checked before
 * each start). Returns 0, -EOPNOTSUPP when the hierarchy does not offer
 * the controller, -errno. */
int cgroup_tree_enable_controller(CgroupTree *t, const char *controller);

/* Writes value to the interface file `file` of the cgroup at fd.
 * -EOPNOTSUPP when the file does not exist (its controller is not
 * enabled). */
int cgroup_write_attribute(int fd, const char *file, const char *value);

/* The oom_kill count from memory.events. -EOPNOTSUPP without the memory
 * controller. */
int cgroup_read_oom_kills(int fd, uint64_t *ret);

/* Pure: whether word is one of the blank-separated words of list. */
bool cgroup_list_contains(const char *list, const char *word);

/* Extended attributes on a unit's cgroup directory ("user.corral.*"), where
 * what must survive a crash of corrald is kept, as systemd keeps its
 * invocation id (user xattrs on cgroupfs: 5.7). get returns -ENODATA when
 * unset; values are bounded (CGROUP_XATTR_MAX). */
#define CGROUP_XATTR_MAX 256
int cgroup_set_xattr(int fd, const char *name, const char *value);
int cgroup_get_xattr(int fd, const char *name, char **ret);

/* Writes cgroup.freeze (5.2): 1 freezes every process of the cgroup, 0
 * thaws them. Returns 0 or -errno. */
int cgroup_freeze(int fd, bool freeze);

/* Statistics of the cgroup at fd: cpu.stat's usage_usec (always there in
 * cgroup2); memory.current, or -EOPNOTSUPP without the memory controller
 * (then cgroup_pids_rss() of cgroup_list_pids() is the fallback). */
int cgroup_read_cpu_usage(int fd, uint64_t *ret_usec);
int cgroup_read_memory_current(int fd, uint64_t *ret_bytes);
/* The resident memory of the given processes, summed from /proc (those
 * gone meanwhile count 0): the fallback without a memory controller. */
uint64_t cgroup_pids_rss(const pid_t *pids, size_t n);

/* The PIDs of the processes in the cgroup at fd and below it, sorted.
 * Returns 0 with a malloc'd array (NULL when empty), or -errno. */
int cgroup_list_pids(int fd, pid_t **ret, size_t *ret_n);

/* Pure: usage_usec from the text of cpu.stat. -EBADMSG when missing. */
int cgroup_parse_cpu_stat(const char *buf, uint64_t *ret_usec);

/* Sends sig (followed by SIGCONT when also_cont, so that stopped processes
 * can act on it) once to every process of the cgroup and of the cgroups
 * below it, through pidfds, re-reading cgroup.procs until a pass finds no
 * process that was not signalled yet (bounded: a fork storm is left to
 * cgroup_kill()). Returns the number of processes signalled, or -errno. */
int cgroup_signal_all(int fd, int sig, bool also_cont);

/* The same, but skip (> 0: a process signalled already, not again).
 * Returns how many were signalled, or -errno. */
int cgroup_signal_others(int fd, int sig, bool also_cont, pid_t skip);

/* Signals first through its pidfd (and SIGCONT when also_cont): whether
 * it was signalled (false: none given, or gone). */
bool cgroup_signal_first(const PidRef *first, int sig, bool also_cont);

/* Calls cb(fd, sub, name, userdata) for each cgroup right below the one
 * at fd (none when the link count says it has no children), with sub
 * opened for the call, or -errno when it cannot be (-ENOENT: gone
 * meanwhile). Stops at cb's first negative return and returns it; else 0,
 * or -errno when fd's directory cannot be read. */
int cgroup_for_each_child(int fd, int (*cb)(int fd, int sub, const char *name, void *userdata), void *userdata);

/* The same, first is signalled first, through its pidfd (the unit's main
 * process, which the caller holds: its PID cannot have been reused), and
 * not again if listed; when first cannot be signalled (gone), the
 * listing decides as for the others. */
int cgroup_signal_all_first(int fd, int sig, bool also_cont, const PidRef *first);

/* cgroup_signal_all_first() on the unit cgroup name. When first is
 * signalled and the cgroup, read by path, holds no other process and no
 * cgroup below it (the usual unit), no directory is opened: a read of
 * cgroup.procs and a stat, instead of an open of the directory, two stats,
 * the read and two closes. Returns the number signalled, or -errno. */
int cgroup_unit_signal(CgroupTree *t, const char *name, int sig, bool also_cont, const PidRef *first);
