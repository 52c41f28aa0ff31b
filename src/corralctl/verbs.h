/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The commands of corralctl, on an open connection. Each returns the exit
 * status of corralctl, having said on stderr what went wrong. */

#include <stdbool.h>
#include <stdint.h>

#include "corral/corral.h"

enum {
        EXIT_OK = 0,
        EXIT_FAIL = 1,
        EXIT_USAGE = 2,
        EXIT_NOT_RUNNING = 3,    /* status UNIT: LSB "program is not running" */
        EXIT_NO_UNIT = 4,        /* the daemon said ENOENT */
        EXIT_SPAWN_FAILED = 127, /* run --wait, wait: the job could not be started (as sh says) */
};

/* The command line, parsed. */
typedef struct Args {
        const char *socket; /* --socket, or NULL */
        bool json;          /* --json */
        int signal;         /* kill, cancel -s; 0: not given (kill: SIGTERM, cancel: the job's) */
        const char *name;   /* run --name */
        uint64_t timeout;   /* run --timeout, µs; 0: none */
        bool wait;          /* run --wait */
        bool no_pipe;       /* run --no-pipe: the job's output stays with corrald */
        char **properties;  /* run -p KEY=VALUE…, NULL-terminated (owned) */
        uint64_t grace;     /* cancel --grace, µs */
        bool grace_set;
        char **env;          /* run --env K=V…, NULL-terminated (owned) */
        const char *cwd;     /* run --cwd */
        char **states;       /* status, list, top --state STATE…, NULL-terminated (owned); NULL: any */
        const char *kind;    /* --kind service|job, or NULL */
        uint64_t interval;   /* top --interval, µs */
        unsigned iterations; /* top --iterations; 0: until interrupted */
        char **args;         /* the command's positional arguments, NULL-terminated (not owned) */
        bool follow;         /* logs -f */
        uint32_t lines;      /* logs -n; 10 by default */
        uint64_t since;      /* logs --since, CLOCK_REALTIME µs; 0: none */
        bool no_block;       /* --no-block: do not wait for the units (verbs-runtime.c) */
        bool no_stats;       /* status --no-stats: no cgroup statistics */
        bool all;            /* --all: every unit */
        bool all_at_once;    /* restart --all-at-once: no rolling restart */
} Args;

/* Whether u passes the --state and --kind filters of a. */
bool unit_matches(const corral_unit *u, const Args *a);

/* The units that pass a's filters, sorted (services before jobs, then by
 * name in natural order) when sort. Returns a malloc'd array of *ret_n
 * pointers into units, NULL when out of memory. */
const corral_unit **units_select(const corral_units *units, const Args *a, bool sort, size_t *ret_n);

int verb_status(corral *c, const Args *a);
int verb_list(corral *c, const Args *a);
int verb_kill(corral *c, const Args *a);
int verb_freeze(corral *c, const Args *a);
int verb_thaw(corral *c, const Args *a);
int verb_run(corral *c, const Args *a);
int verb_cancel(corral *c, const Args *a);
int verb_wait(corral *c, const Args *a);
int verb_events(corral *c, const Args *a);
int verb_metrics(corral *c, const Args *a);
/* In top.c. */
int verb_top(corral *c, const Args *a);

/* verbs-runtime.c: verbs that wait, runtime services */
int verb_start(corral *c, const Args *a);
int verb_stop(corral *c, const Args *a);
int verb_restart(corral *c, const Args *a);
int verb_reload(corral *c, const Args *a);
int verb_add(corral *c, const Args *a);
int verb_remove(corral *c, const Args *a);
int verb_scale(corral *c, const Args *a);
int verb_apply(corral *c, const Args *a);
int verb_cat(corral *c, const Args *a);
