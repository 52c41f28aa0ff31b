/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The set of units, the event sources they share (the one SIGCHLD reaper,
 * the inotify watches of cgroup.events, the termination signals), and the
 * life of corrald around them: start-up and shutdown. */

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "cgroup.h"
#include "config.h"
#include "notify.h"
#include "unit.h"

struct Manager {
        sd_event *event;
        Config *config;
        char **config_files;  /* what --config named; NULL: the default files */
        CgroupTree *cgroup;
        NotifySocket *notify;

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

        int devnull_fd; /* children's stdin */
        bool started;       /* every autostart unit has been started once */
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
 * and kept in reload_error. Returns 0, or -errno when nothing changed. */
int manager_reload(Manager *m);

/* Called by a unit after each state change. */
void manager_unit_changed(Manager *m, Unit *u);

Unit *manager_find_unit(Manager *m, const char *name);
