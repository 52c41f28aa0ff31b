/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one reaper (DESIGN.md): SIGCHLD, and the walk of corrald's children
 * that reaps what no unit reaps through its pidfd. */
#include "manager-reap.h"

#include <errno.h>
#include <sys/wait.h>

#include "log.h"
#include "manager.h"
#include "poller.h"
#include "unit.h"

/* how long after a SIGCHLD the orphans are reaped (on_sigchld) */
#define REAP_DELAY (20 * USEC_PER_MSEC)

static Unit *find_unit_by_main_pid(Manager *m, pid_t pid) {
        for (size_t i = 0; i < m->n_units; i++)
                if (pidref_is_set(&m->units[i]->main) && m->units[i]->main.pid == pid)
                        return m->units[i];
        return NULL;
}

/* The one reaper (DESIGN.md): peek at any zombie without reaping it; a
 * unit's main process is reaped by its unit through the pidfd, so that
 * its status reaches the unit; anything else is an adopted orphan (we are
 * a subreaper) and is reaped here. */
static int on_reap(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        for (;;) {
                siginfo_t si = {};

                if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != ECHILD)
                                log_warning_errno(errno, "waitid() failed: %m, ignoring");
                        break;
                }
                if (si.si_pid == 0)
                        break;
                Unit *u = find_unit_by_main_pid(m, si.si_pid);
                if (u) {
                        unit_main_exited(u);
                        continue;
                }
                log_debug("reaped process %d (exit code %d, status %d)", si.si_pid, si.si_code, si.si_status);
                (void) waitid(P_PID, (id_t) si.si_pid, &si, WEXITED);
        }
        return 0;
}

/* Main processes are reaped as they exit, through their pidfds (sources
 * of SD_EVENT_PRIORITY_IMPORTANT). What SIGCHLD adds is orphans, and one
 * look at every child costs the kernel a walk of all of corrald's
 * children: with 1,000 units stopping at once, a walk per exit made the
 * stop quadratic. So SIGCHLD only arms a walk, REAP_DELAY later and at
 * normal priority (after every pidfd that is ready), that reaps whatever
 * else has died meanwhile. */
static int on_sigchld(sd_event_source *s, const struct signalfd_siginfo *ssi, void *userdata) {
        Manager *m = userdata;
        int enabled = SD_EVENT_OFF, r;

        if (sd_event_source_get_enabled(m->reap_source, &enabled) >= 0 && enabled != SD_EVENT_OFF)
                return 0; /* a walk is coming */
        r = sd_event_source_set_time_relative(m->reap_source, REAP_DELAY);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->reap_source, SD_EVENT_ONESHOT);
        if (r < 0) {
                log_warning_errno(r, "cannot arm the reaper: %m; reaping now");
                return on_reap(NULL, 0, m);
        }
        return 0;
}

int manager_reaper_setup(Manager *m) {
        int r;

        /* every main process's pidfd, at the reaper's priority; 32 exits
         * per wake-up (500 units that stop together are reaped in 16
         * iterations of the loop, not 500), each a few system calls */
        r = poller_new(m->event, SD_EVENT_PRIORITY_IMPORTANT, 32, "main-pidfds", unit_on_main_pidfd, &m->pidfds);
        if (r >= 0)
                r = sd_event_add_signal(m->event, &m->sigchld_source, SIGCHLD, on_sigchld, m);
        if (r >= 0)
                r = sd_event_add_time_relative(m->event, &m->reap_source, CLOCK_MONOTONIC, REAP_DELAY, REAP_DELAY / 2,
                                               on_reap, m);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->reap_source, SD_EVENT_OFF);
        if (r < 0)
                return r;
        /* before anything else runs in an iteration: a unit hears of its
         * main process's exit before it acts on, say, an empty cgroup */
        return sd_event_source_set_priority(m->sigchld_source, SD_EVENT_PRIORITY_IMPORTANT);
}
