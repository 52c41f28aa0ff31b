/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Process events from the kernel's proc connector (CONFIG_PROC_EVENTS,
 * netlink NETLINK_CONNECTOR), read by a thread of its own. Each event
 * carries the kernel's CLOCK_MONOTONIC time of the fork, exec or exit, so
 * the figures do not depend on how fast anybody looks at /proc: polling
 * would add its own period and its own load to every figure.
 *
 * Two ways to follow processes, both at once:
 *  - by marker: a process whose environment (read at its exec event) holds
 *    CORRAL_TEST_MARKER=<marker> is followed, and so is every process
 *    forked by a followed one (a tree of forks without exec);
 *  - by parent: a process forked by the given parent that then execs is a
 *    "main process"; the time from the exit of one main process to the
 *    exec of the next is a restart latency. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct ProcWatch ProcWatch;

/* Opens the connector and starts the reading thread. Returns 0, or -errno:
 * -EPROTONOSUPPORT/-ENOENT without CONFIG_PROC_EVENTS, -EPERM when not
 * root. */
int procwatch_start(ProcWatch **ret);

/* Stops the thread and frees everything. Accepts NULL. */
void procwatch_free(ProcWatch *w);

/* Forgets what was followed and starts following processes that carry
 * marker (NULL: none) and the main processes of parent (0: none). */
void procwatch_reset(ProcWatch *w, const char *marker, pid_t parent);

/* A snapshot of the counters. Times are CLOCK_MONOTONIC in ns. */
typedef struct ProcCounts {
        unsigned alive;        /* followed processes alive now */
        unsigned execs;        /* exec events of marked processes */
        uint64_t last_exec_ns; /* time of the latest such exec */
        uint64_t last_exit_ns; /* time of the latest exit of a followed process */
        size_t restarts;       /* restart latencies recorded */
        bool overflow;         /* events were lost: the figures are void */
} ProcCounts;

void procwatch_counts(ProcWatch *w, ProcCounts *ret);

/* Waits until cond(counts, userdata) holds or timeout_ns passes (a
 * CLOCK_MONOTONIC deadline computed from now). Returns whether it held. */
bool procwatch_wait(ProcWatch *w, bool (*cond)(const ProcCounts *c, void *userdata), void *userdata,
                    uint64_t timeout_ns);

/* Copies up to max restart latencies (ns), in order, into v; returns how
 * many were copied. */
size_t procwatch_restarts(ProcWatch *w, uint64_t *v, size_t max);

/* CLOCK_MONOTONIC now, in ns. */
uint64_t mono_ns(void);
