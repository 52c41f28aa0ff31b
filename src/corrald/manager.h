/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The set of units, the event sources they share (the one SIGCHLD reaper,
 * the inotify watches of cgroup.events, the termination signals), and the
 * life of corrald around them: start-up and shutdown. */

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "cgroup.h"
#include "config.h"
#include "health.h"
#include "manager-event.h"
#include "notify.h"
#include "ports.h"
#include "unit.h"

typedef struct ReloadCounts {
        unsigned added, removed, changed, unchanged;
} ReloadCounts;

typedef struct Manager Manager;

struct Manager {
        sd_event *event;
        Config *config;
        char **config_files;  /* what --config named; NULL: the default files */
        CgroupTree *cgroup;
        NotifySocket *notify;
        HealthChecker *health;
        PortAllocator *ports;

        UnitContext unit_ctx; /* what every unit gets of the manager */
        Unit **units;
        size_t n_units;

        sd_event_source *sigchld_source;
        sd_event_source *sigterm_source;
        sd_event_source *sigint_source;
        sd_event_source *sighup_source;
        sd_event_source *inotify_source;
        sd_event_source *gc_source;       /* frees units a reload dropped */
        sd_event_source *watchdog_source; /* corrald's own WATCHDOG=1 */
        uint64_t watchdog_usec;           /* WATCHDOG_USEC systemd gave us; 0: none */
        char *reload_error;               /* the last failed reload's message */

        ManagerEvent *queue;              /* state changes not yet delivered */
        size_t n_queue;
        sd_event_source *queue_source;    /* delivers the queue */
        struct {
                ManagerSubscriber cb;
                void *userdata;
        } *subscribers;
        size_t n_subscribers;

        int devnull_fd; /* children's stdin */
        bool started;       /* every autostart unit has been started once */
        bool port_released; /* since the last deferred clean-up */
        bool shutting_down;
};

/* Creates the manager on event, taking config and tree on success;
 * config_files (copied) is what a reload reads again. The caller has
 * blocked SIGCHLD, SIGTERM, SIGINT and SIGHUP. Returns 0 or -errno. */
int manager_new(sd_event *event, Config *config, char * const *config_files, CgroupTree *tree, Manager **ret);

/* Frees the manager and its units; accepts NULL; returns NULL. */
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* Creates a unit per configured service, stops what earlier runs left in
 * the subtree, and starts every autostart unit. Returns 0 or -errno. */
int manager_startup(Manager *m);

/* Stops every unit in parallel; the event loop exits with 0 once every
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
        char **argv;        /* required */
        const char *name;   /* NULL: "job-" and 8 hex digits */
        char **env;         /* "K=V" entries, may be NULL */
        const char *cwd;    /* absolute; NULL: "/" */
        usec_t timeout;     /* 0: none; then the job is stopped as failed (timeout) */
        uid_t uid;          /* runs as this user (and that user's groups) unless 0 */
} JobSpec;

/* Starts a job. Returns 0 with the unit in *ret, -EINVAL for a bad spec
 * (name, environment entry, relative cwd, empty argv), -EEXIST when the
 * name is taken, -ESHUTDOWN while stopping, -ENOMEM. A job that cannot be
 * started (exec error) is still returned, failed, so its result can be
 * read. */
int manager_run_job(Manager *m, const JobSpec *spec, Unit **ret);

/* Requests on units by name: start (resets the failure counters), stop,
 * restart. -ENOENT: no such unit. */
int manager_start_unit(Manager *m, Unit *u);
int manager_stop_unit(Manager *m, Unit *u);
int manager_restart_unit(Manager *m, Unit *u);

/* Adds a subscriber to every queued event (manager-event.h). Returns 0 or
 * -ENOMEM. */
int manager_subscribe(Manager *m, ManagerSubscriber cb, void *userdata);

Unit *manager_find_unit(Manager *m, const char *name);
