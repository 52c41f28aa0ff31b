/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The supervisors that the benchmarks compare, behind one interface:
 * corrald, supervisord (Debian package supervisor) and bench-limit (the
 * physical limit). Each runs in a cgroup below the benchmark's own root
 * cgroup, so that whatever happens, one cgroup.kill of that root ends
 * every process the benchmarks started. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "test-util.h"

typedef enum PeerKind {
        PEER_CORRAL,
        PEER_SUPERVISORD,
        PEER_LIMIT,
        _PEER_MAX,
} PeerKind;

const char *peer_name(PeerKind p);

/* Whether the peer can run here (supervisord may be missing). */
bool peer_available(PeerKind p);

typedef enum Workload {
        WORK_SLEEP,   /* n services "sleep 100000" */
        WORK_TREE,    /* one service "tree": test-forker tree n-1 ignore, stop timeout 0 */
        WORK_RESTART, /* one service "r": sleep 0.005, restarted at once, forever */
        WORK_HEALTH,  /* n demo services with port = auto, health checks every interval */
} Workload;

typedef struct Spec {
        Workload work;
        unsigned n;
        const char *marker;
        unsigned health_interval_ms;
        bool raw_output; /* corral: output = inherit-raw (no pipes, as the limit and supervisord's NONE) */
} Spec;

typedef struct Peer {
        PeerKind kind;
        pid_t pid; /* the supervisor */
        int pidfd;
        TestDaemon daemon; /* corrald */
        char *dir;         /* supervisord's and bench-limit's files */
        char *socket;      /* supervisord's XML-RPC socket */
        char *cgroup;      /* the cgroup path of supervisord, or of bench-limit's units */
        int pending_fd;    /* a request whose reply is read later */
} Peer;

/* Sets the root cgroup path below which every peer runs (created by the
 * caller). */
void peer_set_root(const char *cgroup_path);

/* Writes the configuration for spec and starts the supervisor; *ret_t0 is
 * CLOCK_MONOTONIC (ns) just before the supervisor's process is created.
 * Returns 0 or -errno. */
int peer_start(Peer *p, PeerKind kind, const Spec *spec, uint64_t *ret_t0);

/* Whether the supervisor reports all n services running (corralctl status
 * --json; supervisord's getAllProcessInfo over XML-RPC). -EOPNOTSUPP for
 * bench-limit, which reports nothing. */
int peer_all_running(Peer *p, unsigned n);

/* Asks to stop everything: SIGTERM to the supervisor. */
int peer_stop_all(Peer *p);

/* Stops every unit and returns when they are gone: `corralctl stop --all`
 * (which waits), the supervisor left running; *ret_done_ns is
 * CLOCK_MONOTONIC when the command returned. Other peers: peer_stop_all()
 * and *ret_done_ns = 0. */
int peer_ctl_stop_all(Peer *p, uint64_t *ret_done_ns);

/* Asks to stop the one service named name (over the control socket,
 * XML-RPC; bench-limit: SIGTERM). The request is written and its reply
 * read later (peer_cleanup), so that only the stop is timed. */
int peer_stop_unit(Peer *p, const char *name);

/* Waits for the supervisor to exit. */
bool peer_wait(Peer *p, uint64_t timeout_ns);

/* Kills the supervisor if it still runs (by its pidfd), removes its
 * cgroups and files. Safe to call twice. */
void peer_cleanup(Peer *p);

/* corralctl's path ($CORRALCTL; else looked up in $PATH). */
const char *peer_corralctl(void);

/* Starts argv[0] (a path, or a name looked up in $PATH) with stdout on
 * stdout_fd (-1: /dev/null) and stderr on /dev/null. Returns its PID, for
 * waitpid(), or -errno. */
pid_t bench_spawn(char **argv, int stdout_fd);
