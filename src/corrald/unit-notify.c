/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a unit's processes say on the notify socket (READY=1, STATUS=,
 * MAINPID=, WATCHDOG=1, EXTEND_TIMEOUT_USEC=, …), and what it means for
 * the unit: events into unit_dispatch(), timers moved. */
#include "unit-internal.h"

#include <string.h>

#include "log.h"

/* MAINPID=: only a process inside this unit's cgroup. The pidfd is opened
 * first and the cgroup checked after, so a PID recycled meanwhile fails
 * the check instead of being taken. */
static void unit_set_main_pid(Unit *u, pid_t pid) {
        _cleanup_free_ char *owner = NULL;
        PidRef ref = PIDREF_NULL;
        int r;

        if (pid == u->main.pid)
                return;
        r = pidref_set_pid(&ref, pid);
        if (r < 0)
                return (void) log_unit_warning_errno(u->name, LOG_EVENT_NONE, r, "MAINPID=%d: %m, ignoring", pid);
        r = cgroup_pid_get_unit(u->ctx->cgroup, pid, &owner);
        if (r < 0 || !streq(owner, u->name) || pidref_kill(&ref, 0) < 0) {
                pidref_done(&ref);
                log_unit_warning(u->name, LOG_EVENT_NONE, "MAINPID=%d is not a process of this unit, ignoring", pid);
                return;
        }
        r = unit_watch_main(u, &ref);
        if (r < 0) {
                pidref_done(&ref);
                return (void) log_unit_warning_errno(u->name, LOG_EVENT_NONE, r, "MAINPID=%d: %m, ignoring", pid);
        }
        log_unit_info(u->name, LOG_EVENT_NONE, "main process is now %d (MAINPID=)", pid);
        pidref_done(&u->main); /* the old one, if alive, is now one process among others */
        u->main = ref;
        unit_persist(u);
}

static void unit_extend_timeout(Unit *u, usec_t usec) {
        usec_t deadline = now(CLOCK_MONOTONIC) + usec;

        if (!u->timer || deadline <= unit_timer_deadline(u) || (u->state != UNIT_STARTING && u->state != UNIT_STOPPING))
                return;
        if (sd_event_source_set_time(u->timer, deadline) < 0)
                log_unit_warning(u->name, LOG_EVENT_NONE, "cannot extend the timeout, ignoring");
}

void unit_notify(Unit *u, const struct ucred *sender, const NotifyMessage *msg) {
        unit_exec_proven(u);
        if (!u->config || (u->state != UNIT_STARTING && u->state != UNIT_RUNNING && u->state != UNIT_STOPPING))
                return;
        if (msg->status) {
                free(u->status_text);
                u->status_text = strdup(msg->status);
                u->status_waiting = false;
        }
        if (msg->main_pid > 0)
                unit_set_main_pid(u, msg->main_pid);
        if (msg->extend_timeout_usec > 0)
                unit_extend_timeout(u, msg->extend_timeout_usec);
        if (msg->watchdog_usec > 0) {
                u->watchdog_usec = msg->watchdog_usec;
                unit_arm_watchdog(u);
        }
        if (msg->stopping)
                log_unit_info(u->name, LOG_EVENT_NONE, "says it is stopping");
        if (msg->ready)
                unit_dispatch(u, UNIT_EVENT_READY);
        if (msg->watchdog)
                unit_arm_watchdog(u);
        if (msg->watchdog_trigger)
                unit_dispatch(u, UNIT_EVENT_WATCHDOG);
}
