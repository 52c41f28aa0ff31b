/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The set of units, the event sources they share (the one SIGCHLD reaper,
 * the inotify watches of cgroup.events, the termination signals), and the
 * life of corrald around them: start-up and shutdown. */

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "cgroup.h"
#include "config.h"
#include "deps.h"
#include "health.h"
#include "manager-event.h"
#include "name-index.h"
#include "notify.h"
#include "ports.h"
#include "unit.h"

typedef struct ReloadCounts {
        unsigned added, removed, changed, unchanged;
} ReloadCounts;

typedef struct Manager Manager;

/* Gets each line a unit writes, right after it is in the unit's buffer,
 * possibly inside a unit's transition (its last lines when it ends): it
 * may only look (and queue what it sends), never call the manager. */
typedef void (*ManagerOutputSubscriber)(const char *unit, const OutputLine *l, void *userdata);

struct Manager {
        sd_event *event;
        Config *config;
        char **config_files; /* what --config named; NULL: the default files */
        CgroupTree *cgroup;
        NotifySocket *notify;
        HealthChecker *health;
        PortAllocator *ports;

        UnitContext unit_ctx; /* what every unit gets of the manager */
        Unit **units;         /* in the order created */
        size_t n_units;
        NameIndex by_name; /* the same units, found by name */
        Unit **jobs;       /* the jobs among them, in the order created */
        size_t n_jobs;

        sd_event_source *sigchld_source;
        sd_event_source *reap_source; /* the walk of every child that SIGCHLD arms */
        struct Poller *pidfds;        /* the main processes' pidfds (UnitContext.pidfds) */
        sd_event_source *sigterm_source;
        sd_event_source *sigint_source;
        sd_event_source *sighup_source;
        sd_event_source *sigusr1_source; /* reopens output files */
        struct OutputTerminal *terminal; /* output = inherit: corrald's stdout and stderr */
        ManagerOutputSubscriber output_subscriber;
        void *output_userdata;
        sd_event_source *inotify_source;
        sd_event_source *status_source;   /* STATUS= to systemd, once things settle */
        bool notify_systemd;              /* NOTIFY_SOCKET was set at start */
        sd_event_source *gc_source;       /* frees units a reload dropped */
        sd_event_source *watchdog_source; /* corrald's own WATCHDOG=1 */
        uint64_t watchdog_usec;           /* WATCHDOG_USEC systemd gave us; 0: none */
        char *reload_error;               /* the last failed reload's message */

        ManagerEvent *queue;             /* state changes not yet delivered */
        uint64_t event_seq;              /* the number of the last event queued */
        struct ManagerRequest *requests; /* requests that wait (manager-request.c) */
        size_t n_queue;
        sd_event_source *queue_source; /* delivers the queue */
        struct {
                ManagerSubscriber cb;
                void *userdata;
        } * subscribers;
        size_t n_subscribers;

        DepGraph *deps;               /* after = and requires = between units; NULL: none configured */
        sd_event_source *deps_source; /* looks at held back starts and stops (manager-deps.c) */

        size_t n_starting;        /* units in UNIT_STARTING (manager-heap.c) */
        size_t starts_since_trim; /* starts since the heap was last trimmed */

        int devnull_fd;     /* children's stdin */
        bool started;       /* every autostart unit has been started once */
        bool port_released; /* since the last deferred clean-up */
        bool shutting_down;
};

/* Creates the manager on event, taking config and tree on success;
 * config_files (copied) is what a reload reads again. The caller has
 * blocked SIGCHLD, SIGTERM, SIGINT, SIGHUP and SIGUSR1. Returns 0 or -errno. */
int manager_new(sd_event *event, Config *config, char *const *config_files, CgroupTree *tree, Manager **ret);

/* Frees the manager and its units; accepts NULL; returns NULL. */
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* Creates a unit per configured service, stops what earlier runs left in
 * the subtree, and starts every autostart unit. Returns 0 or -errno. */
int manager_startup(Manager *m);

/* Stops every unit, in parallel but for the order of after = and
 * requires = (dependents first); the event loop exits with 0 once every
 * unit's cgroup is empty and removed. Idempotent. */
void manager_shutdown(Manager *m);

/* Reads the configuration files again and applies the difference: new
 * units start, removed ones stop, changed ones restart, the others are not
 * touched. An invalid configuration changes nothing; its error is logged
 * and kept in reload_error. Returns 0 with the counts in *ret_counts (may
 * be NULL), or -errno when nothing changed. */
int manager_reload(Manager *m, ReloadCounts *ret_counts);

/* A one-off job: argv in a cgroup of its own, never restarted. */
typedef struct JobSpec {
        char **argv;      /* required */
        const char *name; /* NULL: "job-" and 8 hex digits */
        char **env;       /* "K=V" entries, may be NULL */
        const char *cwd;  /* absolute; NULL: "/" */
        usec_t timeout;   /* 0: none; then the job is stopped, result timeout */
        uid_t uid;        /* runs as this user (and that user's groups) unless 0 */
        /* The caller's stdin, stdout and stderr (SCM_RIGHTS), written to
         * directly by the job's processes; -EBADF: /dev/null for stdin,
         * the job's output goes where a unit's output goes. Taken by
         * manager_run_job() on success, left to the caller on failure. */
        int stdio[3];
        int stop_signal;     /* 0: SIGTERM */
        usec_t stop_timeout; /* the grace of a stop or cancel; USEC_INFINITY: job_stop_timeout */
        KillMode kill_mode;  /* _KILL_MODE_INVALID: control-group */
        /* Cgroup limits, as the values of the service keys (already
         * checked with config_parse_limit_value()); NULL: not set. */
        const char *limit[_LIMIT_MAX];
} JobSpec;

#define JOB_SPEC_INIT                                     \
        ((JobSpec) { .stdio = { -EBADF, -EBADF, -EBADF }, \
                     .stop_timeout = USEC_INFINITY,       \
                     .kill_mode = _KILL_MODE_INVALID })

/* Starts a job. Returns 0 with the unit in *ret, -EINVAL for a bad spec
 * (name, environment entry, relative cwd, empty argv, signal), -EEXIST
 * when the name is taken, -EAGAIN when job_max jobs run, or (for a uid
 * other than 0) job_max_per_user jobs of that uid, -ESHUTDOWN while
 * stopping, -ENOMEM. A job that cannot be started (exec error) is still
 * returned, failed (result spawn-failed), so its result can be read. */
int manager_run_job(Manager *m, const JobSpec *spec, Unit **ret);

/* Cancels a job: sig (0: the job's stop signal) to its processes, then
 * after grace (USEC_INFINITY: the job's stop timeout) cgroup.kill; its
 * result is cancelled unless it had ended already. Returns 0, -EINVAL
 * for a unit that is not a job or a bad signal. */
int manager_cancel_job(Manager *m, Unit *u, int sig, usec_t grace);

/* Requests on units by name: start (resets the failure counters; held
 * back until the unit's dependencies are ready), stop (the units that
 * require it first), restart. -ENOENT: no such unit. */
int manager_start_unit(Manager *m, Unit *u);
int manager_stop_unit(Manager *m, Unit *u);
int manager_restart_unit(Manager *m, Unit *u);

/* Has the queue delivered (and requests looked at) in the next pass even
 * when nothing is queued. */
void manager_kick(Manager *m);

/* Adds a subscriber to every queued event (manager-event.h). Returns 0 or
 * -ENOMEM. */
int manager_subscribe(Manager *m, ManagerSubscriber cb, void *userdata);

/* Sets the one subscriber to the units' output lines (control). */
void manager_subscribe_output(Manager *m, ManagerOutputSubscriber cb, void *userdata);

Unit *manager_find_unit(Manager *m, const char *name);
