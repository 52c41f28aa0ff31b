/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Between spawn.c (the parent's side) and spawn-child.c (the child's, from
 * clone3() to execve()).
 *
 * On x86_64 the child is cloned with CLONE_VM: it runs in corrald's own
 * address space, on a stack of its own, until its execve() replaces that
 * space — no page tables copied, no copy-on-write faults afterwards (a
 * fork's cost grows with corrald's memory, so a start of N was
 * quadratic). Unlike vfork(), corrald goes on meanwhile (a child stuck in
 * chdir() or execve() on a hung file system blocks only itself), so the
 * child must not read anything corrald may change or free: everything it
 * reads is an image copied beforehand, and it writes nothing but its own
 * stack (raw system calls: not even errno, which is corrald's). The
 * kernel tells when the child is done with the image and the stack: it
 * clears SpawnImage.busy (CLONE_CHILD_CLEARTID) when the child's hold on
 * the address space ends, at its execve() or its exit.
 *
 * Elsewhere the child is forked (a copy of everything) and runs the same
 * steps on the same image — and so is, on x86_64 too, a child that
 * changes its uid or gid where fs.suid_dumpable is 1: after its
 * setresuid() its new user could ptrace it and so read corrald's memory
 * (spawn_may_share_memory()). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "macro.h"
#include "spawn.h"
#include "syscall.h"

#if defined(__x86_64__)
#define SPAWN_SHARED_VM 1
#else
#define SPAWN_SHARED_VM 0
#endif

typedef struct SpawnReport {
        int step;
        int error;
} SpawnReport;

typedef struct SpawnLimit {
        int resource;
        struct rlimit rl;
} SpawnLimit;

typedef struct SpawnStack SpawnStack;

/* With SPAWN_SHARED_VM the child also starts on corrald's descriptor table
 * (CLONE_FILES), not a copy of it: copying, and closing at the exec, one
 * descriptor per running unit made each start cost more than the last
 * (10,000 units: most of the CPU of a start went to do_close_on_exec).
 * Its first step takes a table of its own with only the descriptors below
 * SpawnImage.unshare_below (close_range(CLOSE_RANGE_UNSHARE), 5.9): four
 * slots reserved low in corrald's table at its start, into which corrald
 * duplicates the child's stdin, stdout, stderr and report pipe just
 * before the clone, and which it empties again (back to /dev/null) once
 * the child has said, through SpawnImage.busy and a futex, that it has
 * its own table. */
#define SPAWN_N_SLOTS 4
#define SPAWN_BUSY_SHARED_FDS 1U /* on corrald's table still */
#define SPAWN_BUSY 2U            /* on its own table, not yet exec'd */

typedef struct SpawnImage {
        struct SpawnImage *next; /* in flight, oldest first */
        uint32_t busy;           /* non-zero until the child has exec'd or exited (see above) */
        int unshare_below;       /* > 0: on corrald's descriptor table, see above */
        SpawnStack *stack;
        bool changes_ids; /* changes uid/gid on corrald's memory: corrald's dumpable flag is restored after it */

        /* What the child reads, and nothing else; the strings and arrays
         * live in data[] below. */
        const char *path;
        char *const *argv;
        char *const *envp;
        const char *directory;
        mode_t umask;
        int stdio[3];
        int report_fd;
        bool lower_nofile;
        struct rlimit nofile;
        bool set_ids;
        uid_t uid;
        gid_t gid;
        size_t n_groups;
        const gid_t *groups;
        size_t n_limits;
        const SpawnLimit *limits;
        bool no_new_privs;
        max_align_t data[];
} SpawnImage;

/* The child: the steps of spawn.h's header on the image, then execve();
 * a failing step writes its report and exits 127. */
_noreturn_ void spawn_child_main(void *image);

#if SPAWN_SHARED_VM
/* clone3() with args (CLONE_VM and a stack among its flags): in the child,
 * spawn_child_main(image) on the new stack. Returns the child's PID or
 * -errno. */
pid_t spawn_clone3_shared_vm(struct corral_clone_args *args, void *image);
#endif
