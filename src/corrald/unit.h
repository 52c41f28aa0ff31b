/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* One unit: a running copy of a service, owning exactly one cgroup. Its
 * life is a state and one transition function (unit_dispatch): every event
 * — a request, the exec report, the main process's exit, a change of
 * cgroup.events, a timer, adoption — enters there, through a
 * [state][event] table of actions (unit.c). A unit does not know the
 * manager: it gets a UnitContext (the loop, the cgroup tree, ports,
 * notify, health, /dev/null, the system calls it makes) and reports back
 * through the context's callbacks. */

#include <stdbool.h>
#include <systemd/sd-event.h>

#include <signal.h>

#include "cgroup.h"
#include "config.h"
#include "health.h"
#include "notify.h"
#include "output-ring.h"
#include "pidref.h"
#include "ports.h"
#include "spawn.h"
#include "time-util.h"

typedef struct Unit Unit;
typedef struct UnitContext UnitContext;

typedef enum UnitState {
        UNIT_INACTIVE,
        UNIT_STARTING,
        UNIT_RUNNING,
        UNIT_STOPPING,
        UNIT_BACKOFF, /* waiting for the restart delay */
        UNIT_FAILED,
        UNIT_EXITED, /* a oneshot that ran to completion with status 0: ready, nothing runs */
        _UNIT_STATE_MAX,
        _UNIT_STATE_INVALID = -EINVAL,
} UnitState;

typedef enum UnitResult {
        UNIT_SUCCESS,
        UNIT_FAILURE_RESOURCES, /* cgroup or credentials could not be set up */
        UNIT_FAILURE_SPAWN,     /* a step before or at execve() failed */
        UNIT_FAILURE_EXIT_CODE,
        UNIT_FAILURE_SIGNAL,
        UNIT_FAILURE_CORE_DUMP,
        UNIT_FAILURE_TIMEOUT,      /* never became ready within start_timeout */
        UNIT_FAILURE_WATCHDOG,     /* stopped pinging the watchdog */
        UNIT_FAILURE_START_LIMIT,  /* started too often within start_limit_interval */
        UNIT_FAILURE_UNHEALTHY,    /* health_threshold failed health checks in a row */
        UNIT_FAILURE_OOM_KILL,     /* killed by its memory limit (memory.events oom_kill) */
        UNIT_FAILURE_EXIT_UNKNOWN, /* an adopted main process ended and the kernel could not say how */
        UNIT_FAILURE_CANCELLED,    /* a job stopped by a cancel */
        _UNIT_RESULT_MAX,
        _UNIT_RESULT_INVALID = -EINVAL,
} UnitResult;

typedef enum UnitEvent {
        UNIT_EVENT_START,       /* request */
        UNIT_EVENT_STOP,        /* request */
        UNIT_EVENT_RESTART,     /* request: stop, then start (failure counters reset) */
        UNIT_EVENT_EXEC_OK,     /* the main process has exec'd */
        UNIT_EVENT_EXEC_FAILED, /* a step before execve() failed (exec_step, exec_error) */
        UNIT_EVENT_MAIN_EXITED, /* the main process was reaped */
        UNIT_EVENT_CGROUP,      /* cgroup.events changed */
        UNIT_EVENT_TIMER,       /* start timeout, runtime_max, stop timeout or restart delay elapsed */
        UNIT_EVENT_READY,       /* READY=1 on the notify socket */
        UNIT_EVENT_WATCHDOG,    /* the watchdog was not pinged in time */
        UNIT_EVENT_HEALTHY,     /* a health check passed */
        UNIT_EVENT_UNHEALTHY,   /* health_threshold checks failed in a row */
        UNIT_EVENT_ADOPT,       /* take over the unit's cgroup left by an earlier corrald */
        UNIT_EVENT_LEFTOVER,    /* stop what an earlier corrald left in the unit's cgroup */
        _UNIT_EVENT_MAX,
        _UNIT_EVENT_INVALID = -EINVAL,
} UnitEvent;

/* The system calls a unit makes on its cgroup and its main process, so
 * that the state table can be driven without root (tests/test-unit.c);
 * unit_ops_default are the real ones (cgroup.c, spawn.c, pidref.c). */
typedef struct UnitOps {
        int (*cgroup_create)(UnitContext *c, const char *name, int *ret_fd);
        int (*cgroup_open)(UnitContext *c, const char *name, int *ret_fd);
        /* wd: the watch of cgroup_watch() on it (-1: none), dropped with
         * it (now, or when a queued removal runs) */
        int (*cgroup_remove)(UnitContext *c, const char *name, int wd);
        int (*cgroup_watch)(UnitContext *c, const char *name, int *ret_wd);
        void (*cgroup_unwatch)(UnitContext *c, int wd);
        int (*cgroup_populated)(UnitContext *c, const char *name); /* 1, 0, -errno */
        /* main: the unit's main process (NULL: none), signalled first */
        int (*cgroup_signal)(UnitContext *c, const char *name, int sig, bool also_cont, const PidRef *main);
        /* This takes the unit's cgroup opened by the caller (unit_cgroup_open()). */
        int (*cgroup_kill)(int fd);
        int (*spawn)(const SpawnParams *p, PidRef *ret, int *ret_report_fd);
        int (*read_report)(int fd, SpawnStep *ret_step);
        /* Reaps the main process: 0 with its status; -ENODATA when it is
         * not our child and the kernel does not know (yet) how it ended. */
        int (*reap)(PidRef *main, siginfo_t *ret);
        int (*signal_main)(const PidRef *p, int sig);
} UnitOps;

extern const UnitOps unit_ops_default;

typedef struct CgroupRemovals CgroupRemovals;

/* What a unit may use of the world around it; owned by the manager (or a
 * test). */
struct UnitContext {
        sd_event *event;
        CgroupTree *cgroup; /* NULL in tests that fake the ops */
        PortAllocator *ports;
        NotifySocket *notify;     /* may be NULL: no NOTIFY_SOCKET */
        struct FdStore *fd_store; /* systemd's fd store for output pipes; may be NULL */
        HealthChecker *health;    /* may be NULL until a unit needs it */
        struct Poller *pidfds;    /* the main processes' pidfds (NULL: found by the reaper's walk) */
        int devnull_fd;           /* children's stdin */
        bool shutting_down;       /* no start, no restart */
        /* CLOCK_MONOTONIC when a live unit cgroup was last seen without
         * memory.current (no memory controller for the units; 0: never):
         * a status skips the file for a second after (unit-status.c) */
        usec_t memory_current_missing;
        const UnitOps *ops;
        /* after each state change (from old_state to u->state) */
        void (*state_changed)(Unit *u, UnitState old_state, void *userdata);
        /* the unit gave its port back */
        void (*port_released)(Unit *u, void *userdata);
        /* a health check ended (may be NULL) */
        void (*health_checked)(Unit *u, bool ok, void *userdata);
        /* corrald's own stdout/stderr for output = inherit (NULL: nowhere) */
        struct OutputTerminal *terminal;
        /* each line a unit wrote, once it is in the unit's buffer (for followers) */
        void (*output_line)(Unit *u, const OutputLine *l, void *userdata);
        void *userdata;
        CgroupRemovals *removals;   /* unit_ops_default's: cgroups of ended units, removed when idle */
        unsigned n_stopping;        /* units in UNIT_STOPPING (unit-ops.c) */
        unsigned n_exec;            /* starts in flight: cloned, their exec report not in yet */
        struct UnitFdGate *fd_gate; /* starts waiting for file descriptors (unit-fdgate.c); NULL: none so far */
        /* Each cgroup.events watch and its unit, by watch descriptor
         * (unit-ops.c): an inotify event names only the descriptor. */
        struct UnitWatch *watches;
        size_t n_watches, n_watches_dead; /* (grown by ARRAY_GROW) */
};

/* The unit whose cgroup.events watch is wd; NULL: none. */
Unit *unit_context_find_watch(const UnitContext *c, int wd);

/* Removes the cgroups still waiting for corrald to be idle (unit-ops.c):
 * before corrald removes its subtree. */
void unit_context_flush(UnitContext *c);
/* The same, and frees what the context allocated itself; after the last
 * unit. */
void unit_context_done(UnitContext *c);

/* The health checks of a unit with a health_url, allocated when the first
 * is scheduled (unit-health.c): most units have none. */
typedef struct UnitHealthState {
        sd_event_source *timer;
        HealthCheck *check; /* in flight */
        usec_t latency;     /* of the last check */
        usec_t last;        /* CLOCK_MONOTONIC of the last check's end; 0: none yet */
        char *error;        /* why the last check failed */
        char *url;          /* health_url expanded (the variables of unit_variables()) */
        char *url_template; /* the health_url that url was expanded from */
        long http_status;   /* of the last check */
        unsigned failures;  /* in a row */
        unsigned checks;    /* done since corrald started */
        uint16_t url_port;  /* the port that url was expanded with */
        bool ok;            /* the last check passed */
} UnitHealthState;

/* What a start holds from the clone until the exec report is in (its
 * child has exec'd, or said which step failed): most units hold none. */
typedef struct UnitExec {
        sd_event_source *source; /* the report pipe, in the loop */
        char *path, *directory;  /* what it is exec'ing, for an error message */
        /* waiting: no clone yet, the start waits for file descriptors in
         * the context's queue (unit-fdgate.c) */
        struct UnitExec *wait_prev, *wait_next;
        Unit *unit;
        int report_fd;
        bool in_flight; /* cloned, counted in the context's n_exec */
        bool waiting;
} UnitExec;

#define UNIT_DEP_NONE UINT32_MAX

struct Unit {
        UnitContext *ctx;
        char *name;            /* NAME, or NAME@INSTANCE (a refstr: NAME is the service's) */
        ServiceConfig *config; /* a reference; NULL for a leftover cgroup of an earlier run */
        int instance;          /* -1 for a service without instances */
        uid_t owner_uid;       /* who submitted the job (0 for services) */
        int stdio[3];          /* a job's caller's stdin/stdout/stderr until it is spawned; -EBADF: none */

        UnitState state;
        UnitResult result;
        PidRef main;       /* set from spawn until reaped */
        int exit_code;     /* CLD_EXITED, CLD_KILLED, CLD_DUMPED; 0 if none yet */
        int exit_status;   /* exit status or signal */
        int main_watch_fd; /* main.fd while it is in ctx->pidfds */

        UnitExec *exec;              /* from the clone until the exec report is in; NULL: none */
        SpawnStep exec_step;         /* UNIT_EVENT_EXEC_FAILED: which step */
        int exec_error;              /* UNIT_EVENT_EXEC_FAILED: errno (positive) */
        sd_event_source *exit_retry; /* asks again how an adopted main process ended (exit_retries times so far) */

        int watch_wd; /* inotify watch of its cgroup.events */
        /* The manager's, for the order between units (manager-deps.c). */
        uint32_t dep_index;     /* in the manager's dependency graph; UNIT_DEP_NONE: not in it */
        sd_event_source *timer; /* of the state: start, stop timeout, restart delay (unit_timer_deadline()) */
        sd_event_source *watchdog;
        usec_t watchdog_usec;      /* effective: watchdog_timeout, or WATCHDOG_USEC= */
        struct UnitOutput *output; /* its pipes and last lines, when corrald reads its output (unit-output.c) */
        char *status_text;         /* the last STATUS= */
        char *error_text;          /* why the last start or run failed, as logged */

        usec_t started_at;              /* CLOCK_MONOTONIC of the last start, for health_grace */
        uint64_t persisted_since;       /* CLOCK_REALTIME µs of the last start, kept with the cgroup */
        struct UnitHealthState *health; /* from the first check scheduled (health_url); NULL: none yet */

        unsigned n_restarts;    /* automatic restarts since corrald started it by request */
        unsigned backoff_step;  /* restarts since the unit last stayed up restart_reset */
        usec_t running_since;   /* CLOCK_MONOTONIC when it last became running */
        usec_t *start_times;    /* ring of the last start_limit_burst starts, from the second start on */
        usec_t first_start;     /* the only start so far, until start_times is made */
        usec_t state_timestamp; /* CLOCK_REALTIME of the last state change, for status "since" */

        /* Why it last restarted or failed: its result, exit code and status
         * then (reason _UNIT_RESULT_INVALID: never). */
        UnitResult reason;
        int reason_exit_code, reason_exit_status;

        unsigned n_start_times; /* in start_times (or first_start) */

        /* (the small members last, where they leave no holes) */
        uint16_t port;          /* held from the first start until the unit is removed; 0: none */
        uint8_t exit_retries;   /* (see exit_retry) */
        bool removed;           /* dropped by a reload: freed once inactive */
        bool is_job;            /* submitted at run time: never restarted, kept a while when done */
        bool has_cgroup;        /* the unit's cgroup exists (created or taken over); opened on demand */
        bool port_starved;      /* failed for want of a port: started again when one is freed */
        bool stop_requested;    /* this stop was asked for: no restart after it */
        bool start_pending;     /* start again once the current stop is done */
        bool killed;            /* cgroup.kill was written during this stop */
        bool transient_failure; /* the last start failed for want of fds or memory: worth a restart */
        /* (bits: three bytes would make the Unit a malloc chunk larger) */
        bool may_be_frozen : 1; /* frozen by request or taken over: a stop thaws it first */
        bool frozen_known : 1;  /* frozen holds cgroup.events' as a status read it; no watch event since */
        bool frozen : 1;        /* (unit-status.c) */
        /* the manager's (manager-deps.c) */
        bool start_waiting;  /* a start held back until its dependencies are ready */
        bool stop_waiting;   /* a stop held back until its dependents have stopped */
        bool start_refused;  /* the last start was refused: a unit it requires is gone */
        bool status_waiting; /* status_text says what the held back start waits for */
};

/* Creates an inactive unit in ctx (which must outlive it), taking a
 * reference on config (which may be NULL: a leftover). instance is -1
 * without instances. Returns NULL only when out of memory. */
Unit *unit_new(UnitContext *ctx, const char *name, ServiceConfig *config, int instance);

/* Gives the unit a new configuration (a reload): takes a reference on
 * config and drops the old one. Whatever runs is not touched. */
void unit_set_config(Unit *u, ServiceConfig *config);

/* Applies one notify message from sender, a process inside the unit's
 * cgroup. */
void unit_notify(Unit *u, const struct ucred *sender, const NotifyMessage *msg);

/* Forgets the start limit and backoff: a start by request or reload. */
void unit_reset_failure_counters(Unit *u);

/* Writes the configured cgroup limits to the unit's cgroup, enabling their
 * controllers in the subtree first; a limit whose controller the kernel
 * does not offer is a warning naming controller and key — or, with
 * limits_required, an error. Returns 0 or -errno (only with
 * limits_required, or when the cgroup is gone). */
int unit_apply_limits(Unit *u);

/* Sends sig to every process of the unit. Returns how many, -ESRCH when
 * it has no cgroup (not running), -errno. */
int unit_kill(Unit *u, int sig);

/* Freezes or thaws every process of the unit (cgroup.freeze). -ESRCH when
 * not running. */
int unit_freeze(Unit *u, bool freeze);

/* Whether the unit's output goes to the journal (output = journal, or
 * auto when corrald logs there): then corrald keeps none of it. */
bool unit_output_in_journal(const Unit *u);

/* Opens the unit's output files again (SIGUSR1, after logrotate moved
 * them); warns when it cannot. */
void unit_output_reopen_files(Unit *u);

/* What the logs method needs of a unit (borrowed from it). */
typedef struct UnitOutputView {
        const char *name;
        const OutputRing *ring; /* its last lines; NULL when corrald has kept none */
        bool journal;           /* its output goes to the journal */
        bool listed;            /* not a removed unit on its way out: "every unit" includes it */
} UnitOutputView;

void unit_output_view(const Unit *u, UnitOutputView *ret);

/* A start held back by the manager (its dependencies are not ready):
 * why, as its status text ("waiting for db (starting)"), logged when it
 * changes; NULL: no longer held back. */
void unit_set_waiting(Unit *u, const char *reason);

/* A start the manager refused, or a stop it made, because a unit this one
 * requires is gone: message is logged (a warning) and kept as the unit's
 * error for its status; the unit is not started (or is being stopped). */
void unit_refuse_start(Unit *u, const char *message);

/* Frees the unit; the caller makes sure it is inactive or failed (its
 * processes gone). Accepts NULL; returns NULL. */
Unit *unit_free(Unit *u);

/* Feeds one event into the state machine: the only way a unit changes
 * state. UNIT_EVENT_ADOPT takes over a cgroup of this unit's name that an
 * earlier corrald left: when the very same main process is still there
 * and the configuration unchanged the unit is running (or starting, if it
 * was not ready yet), its processes untouched; otherwise what runs there
 * is stopped (stop signal, grace, cgroup.kill) as UNIT_EVENT_LEFTOVER
 * does, and the unit is inactive once the cgroup is empty and removed. */
void unit_dispatch(Unit *u, UnitEvent event);

/* The watch of u's cgroup.events fired (populated or frozen changed):
 * forgets the frozen a status read, and dispatches UNIT_EVENT_CGROUP. */
void unit_cgroup_changed(Unit *u);

/* What is kept with a running unit's cgroup (one extended attribute,
 * "user.corral", so that systemd-cgls shows one line for it) for a
 * corrald that restarts after a crash:
 *     main=812:343497 hash=5ad1bbf7aa1eb49d port=30000 restarts=2 since=1795410750885305
 * (main PID and its start time in clock ticks, configuration hash, port,
 * restarts, CLOCK_REALTIME µs of the start). */
typedef struct UnitPersisted {
        pid_t main_pid;
        uint64_t main_start;
        uint64_t hash;
        unsigned port;
        unsigned restarts;
        uint64_t since;
        uint64_t
                start_deadline; /* "starting=": not ready yet; CLOCK_REALTIME µs of its start_timeout, or 1 for none. 0: ready */
        uint64_t pipes[2]; /* "pipes=OUT:ERR": inodes of the stdout and stderr pipes corrald reads; 0: none */
} UnitPersisted;

/* Pure. Unknown keys are ignored (later versions may add some); a missing
 * or malformed known key is -EBADMSG. */
int unit_persisted_parse(const char *s, UnitPersisted *ret);
int unit_persisted_format(const UnitPersisted *p, char *buf, size_t size);

/* Reaps the main process through its pidfd after the reaper saw it exit,
 * records how it ended and dispatches UNIT_EVENT_MAIN_EXITED. */
/* The handler of UnitContext.pidfds: the main process (userdata: its Unit) exited. */
void unit_on_main_pidfd(void *userdata, uint32_t events);
void unit_main_exited(Unit *u);

/* Nothing of the unit runs: inactive, failed, or a oneshot that exited. */
static inline bool unit_is_inactive(const Unit *u) {
        return u->state == UNIT_INACTIVE || u->state == UNIT_FAILED || u->state == UNIT_EXITED;
}

const char *unit_state_to_string(UnitState s);
const char *unit_result_to_string(UnitResult r);
const char *unit_event_to_string(UnitEvent e);
