/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* One unit: a running copy of a service, owning exactly one cgroup. Its
 * life is a state and one transition function (unit_dispatch): every event
 * — a request, the main process's exit, a change of cgroup.events, a timer
 * — enters there. */

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "health.h"
#include "notify.h"
#include "pidref.h"
#include "time-util.h"

typedef struct Manager Manager;

typedef enum UnitState {
        UNIT_INACTIVE,
        UNIT_STARTING,
        UNIT_RUNNING,
        UNIT_STOPPING,
        UNIT_BACKOFF, /* waiting for the restart delay */
        UNIT_FAILED,
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
        UNIT_FAILURE_TIMEOUT,     /* never became ready within start_timeout */
        UNIT_FAILURE_WATCHDOG,    /* stopped pinging the watchdog */
        UNIT_FAILURE_START_LIMIT, /* started too often within start_limit_interval */
        UNIT_FAILURE_UNHEALTHY,   /* health_threshold failed health checks in a row */
        UNIT_FAILURE_OOM_KILL,    /* killed by its memory limit (memory.events oom_kill) */
        _UNIT_RESULT_MAX,
        _UNIT_RESULT_INVALID = -EINVAL,
} UnitResult;

typedef enum UnitEvent {
        UNIT_EVENT_START,       /* request */
        UNIT_EVENT_STOP,        /* request */
        UNIT_EVENT_MAIN_EXITED, /* the main process was reaped */
        UNIT_EVENT_CGROUP,      /* cgroup.events changed */
        UNIT_EVENT_TIMER,       /* start timeout, stop timeout or restart delay elapsed */
        UNIT_EVENT_READY,       /* READY=1 on the notify socket */
        UNIT_EVENT_WATCHDOG,    /* the watchdog was not pinged in time */
        UNIT_EVENT_HEALTHY,     /* a health check passed */
        UNIT_EVENT_UNHEALTHY,   /* health_threshold checks failed in a row */
        _UNIT_EVENT_MAX,
} UnitEvent;

typedef struct Unit {
        Manager *manager;
        char *name;           /* NAME, or NAME@INSTANCE */
        ServiceConfig *config; /* a reference; NULL for a leftover cgroup of an earlier run */
        int instance;         /* -1 for a service without instances */
        bool removed;         /* dropped by a reload: freed once inactive */
        bool is_job;          /* submitted at run time: never restarted, kept a while when done */
        uid_t owner_uid;      /* who submitted the job (0 for services) */

        UnitState state;
        UnitResult result;
        PidRef main;          /* set from spawn until reaped */
        int exit_code;        /* CLD_EXITED, CLD_KILLED, CLD_DUMPED; 0 if none yet */
        int exit_status;      /* exit status or signal */

        sd_event_source *main_source; /* exit of a MAINPID= process that is not our child */
        sd_event_source *exec_source; /* the exec report of a main process not yet exec'd */
        int exec_report_fd;
        char *exec_path, *exec_directory; /* what it is exec'ing, for an error message */

        int cgroup_fd;        /* the unit's cgroup while it exists */
        int watch_wd;         /* inotify watch of its cgroup.events */
        sd_event_source *timer; /* of the state: start, stop timeout, restart delay */
        usec_t timer_deadline;  /* CLOCK_MONOTONIC, for EXTEND_TIMEOUT_USEC= */
        sd_event_source *watchdog;
        usec_t watchdog_usec; /* effective: watchdog_timeout, or WATCHDOG_USEC= */
        char *status_text;    /* the last STATUS= */
        char *error_text;     /* why the last start or run failed, as logged */

        uint16_t port;        /* held from the first start until the unit is removed; 0: none */
        bool port_starved;    /* failed for want of a port: started again when one is freed */
        usec_t started_at;    /* CLOCK_MONOTONIC of the last start, for health_grace */
        uint64_t persisted_since; /* CLOCK_REALTIME µs of the last start, kept with the cgroup */
        sd_event_source *health_timer;
        HealthCheck *health_check; /* in flight */
        unsigned health_failures;  /* in a row */
        unsigned health_checks;    /* done since corrald started */
        bool health_ok;            /* the last check passed */
        long health_http_status;   /* of the last check */
        usec_t health_latency;     /* of the last check */
        usec_t health_last;        /* CLOCK_MONOTONIC of the last check's end; 0: none yet */
        char *health_error;        /* why the last check failed */

        bool stop_requested;  /* this stop was asked for: no restart after it */
        bool start_pending;   /* start again once the current stop is done */
        bool killed;          /* cgroup.kill was written during this stop */
        unsigned n_restarts;  /* automatic restarts since corrald started it by request */
        unsigned backoff_step; /* restarts since the unit last stayed up restart_reset */
        usec_t last_delay;    /* the last restart delay, jitter included */
        usec_t running_since; /* CLOCK_MONOTONIC when it last became running */
        usec_t *start_times;  /* ring of the last start_limit_burst starts */
        size_t n_start_times;
        usec_t state_timestamp; /* CLOCK_MONOTONIC of the last state change */
} Unit;

/* Creates an inactive unit, taking a reference on config (which may be
 * NULL: a leftover). instance is -1 without instances. Returns NULL only
 * when out of memory. */
Unit *unit_new(Manager *m, const char *name, ServiceConfig *config, int instance);

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

/* Frees the unit; the caller makes sure it is inactive or failed (its
 * processes gone). Accepts NULL; returns NULL. */
Unit *unit_free(Unit *u);

/* Feeds one event into the state machine. */
void unit_dispatch(Unit *u, UnitEvent event);

/* Takes over a cgroup of this unit's name that an earlier corrald left,
 * and stops what runs in it (stop signal, grace, cgroup.kill); the unit is
 * inactive once it is empty and removed. Returns 0 or -errno. */
int unit_stop_leftover(Unit *u);

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
} UnitPersisted;

/* Pure. Unknown keys are ignored (later versions may add some); a missing
 * or malformed known key is -EBADMSG. */
int unit_persisted_parse(const char *s, UnitPersisted *ret);
int unit_persisted_format(const UnitPersisted *p, char *buf, size_t size);

/* Takes over a unit that an earlier corrald left running in its cgroup,
 * from what it kept there (main PID and start time, configuration hash,
 * port, restarts, start time): returns 1 when the very same main process
 * is still there, inside the cgroup, and the configuration is unchanged —
 * the unit is then running, its processes untouched; 0 when it cannot be
 * adopted (the caller stops what is left and starts afresh); -errno. */
int unit_adopt(Unit *u);

/* Reaps the main process through its pidfd after the reaper saw it exit,
 * records how it ended and dispatches UNIT_EVENT_MAIN_EXITED. */
void unit_main_exited(Unit *u);

static inline bool unit_is_inactive(const Unit *u) {
        return u->state == UNIT_INACTIVE || u->state == UNIT_FAILED;
}

const char *unit_state_to_string(UnitState s);
const char *unit_result_to_string(UnitResult r);
