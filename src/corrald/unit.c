/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "unit.h"

#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>

#include "log.h"
#include "output.h"
#include "parse-util.h"
#include "poller.h"
#include "refstr.h"
#include "unit-restart.h"
#include "string-table.h"
#include "strv.h"
#include "unit-internal.h"

/* Used to stop a leftover cgroup whose service is no longer configured. */
#define LEFTOVER_STOP_TIMEOUT (10 * USEC_PER_SEC)
/* An adopted main process (not our child) that ended is asked how, again
 * and again, until its old parent has reaped it and the kernel knows
 * (PIDFD_GET_INFO, 6.15): first after this long, doubling up to
 * EXIT_RETRY_MAX_DELAY, at most EXIT_RETRIES times (about 10 s). */
#define EXIT_RETRY_DELAY (10 * USEC_PER_MSEC)
#define EXIT_RETRY_MAX_DELAY (500 * USEC_PER_MSEC)
#define EXIT_RETRIES 26
_Static_assert(EXIT_RETRIES <= UINT8_MAX, "Unit.exit_retries is a uint8_t");

static const char *const unit_state_table[_UNIT_STATE_MAX] = {
        [UNIT_INACTIVE] = "inactive", [UNIT_STARTING] = "starting", [UNIT_RUNNING] = "running",
        [UNIT_STOPPING] = "stopping", [UNIT_BACKOFF] = "backoff",   [UNIT_FAILED] = "failed",
        [UNIT_EXITED] = "exited",
};

static const char *const unit_result_table[_UNIT_RESULT_MAX] = {
        [UNIT_SUCCESS] = "success",
        [UNIT_FAILURE_RESOURCES] = "resources",
        [UNIT_FAILURE_SPAWN] = "spawn-failed",
        [UNIT_FAILURE_EXIT_CODE] = "exit-code",
        [UNIT_FAILURE_SIGNAL] = "signal",
        [UNIT_FAILURE_CORE_DUMP] = "core-dump",
        [UNIT_FAILURE_TIMEOUT] = "timeout",
        [UNIT_FAILURE_WATCHDOG] = "watchdog",
        [UNIT_FAILURE_START_LIMIT] = "start-limit",
        [UNIT_FAILURE_UNHEALTHY] = "unhealthy",
        [UNIT_FAILURE_OOM_KILL] = "oom-kill",
        [UNIT_FAILURE_EXIT_UNKNOWN] = "exit-unknown",
        [UNIT_FAILURE_CANCELLED] = "cancelled",
};

static const char *const unit_event_table[_UNIT_EVENT_MAX] = {
        [UNIT_EVENT_START] = "start",
        [UNIT_EVENT_STOP] = "stop",
        [UNIT_EVENT_RESTART] = "restart",
        [UNIT_EVENT_EXEC_OK] = "exec-ok",
        [UNIT_EVENT_EXEC_FAILED] = "exec-failed",
        [UNIT_EVENT_MAIN_EXITED] = "main-exited",
        [UNIT_EVENT_CGROUP] = "cgroup",
        [UNIT_EVENT_TIMER] = "timer",
        [UNIT_EVENT_READY] = "ready",
        [UNIT_EVENT_WATCHDOG] = "watchdog",
        [UNIT_EVENT_HEALTHY] = "healthy",
        [UNIT_EVENT_UNHEALTHY] = "unhealthy",
        [UNIT_EVENT_ADOPT] = "adopt",
        [UNIT_EVENT_LEFTOVER] = "leftover",
};

DEFINE_STRING_TABLE_LOOKUP_TO_STRING(unit_state, UnitState);
DEFINE_STRING_TABLE_LOOKUP_TO_STRING(unit_result, UnitResult);
DEFINE_STRING_TABLE_LOOKUP_TO_STRING(unit_event, UnitEvent);

Unit *unit_new(UnitContext *ctx, const char *name, ServiceConfig *config, int instance) {
        Unit *u = calloc(1, sizeof(Unit));

        if (!u)
                return NULL;
        *u = (Unit) {
                .ctx = ctx,
                .instance = instance,
                .state = UNIT_INACTIVE,
                .main = PIDREF_NULL,
                .main_watch_fd = -EBADF,
                .watch_wd = -1,
                .dep_index = UNIT_DEP_NONE,
                .stdio = { -EBADF, -EBADF, -EBADF },
                .state_timestamp = now(CLOCK_REALTIME),
                .reason = _UNIT_RESULT_INVALID,
        };
        /* a service's only unit shares its name (a refstr) */
        u->name = config && streq(config->name, name) ? refstr_ref(config->name) : refstr_new(name);
        if (!u->name) {
                free(u);
                return NULL;
        }
        if (config)
                unit_set_config(u, config);
        unit_output_prealloc(u);
        return u;
}

static void unit_exec_done(Unit *u);

Unit *unit_free(Unit *u) {
        if (!u)
                return NULL;
        sd_event_source_disable_unref(u->timer);
        sd_event_source_disable_unref(u->watchdog);
        unit_unwatch_main(u);
        sd_event_source_disable_unref(u->exit_retry);
        unit_exec_done(u);
        for (size_t i = 0; i < ELEMENTSOF(u->stdio); i++)
                safe_close(u->stdio[i]);
        unit_health_free(u);
        if (u->port > 0 && u->ctx->ports)
                ports_release(u->ctx->ports, u->port); /* the manager is being freed, or it is a removed unit */
        unit_cgroup_unwatch(u);
        unit_context_count_stopping(u->ctx, u->state, UNIT_INACTIVE);
        pidref_done(&u->main);
        service_config_unref(u->config);
        free(u->start_times);
        unit_output_free(u->output);
        free(u->status_text);
        free(u->error_text);
        refstr_unref(u->name);
        free(u);
        return NULL;
}

void unit_set_config(Unit *u, ServiceConfig *config) {
        ServiceConfig *old = u->config;

        if (!old || service_config_tuning(old)->start_limit_burst != service_config_tuning(config)->start_limit_burst) {
                u->start_times = mfree(u->start_times);
                u->n_start_times = 0;
        }
        u->config = service_config_ref(config);
        service_config_unref(old); /* last: old may go with it */
}

/* Records a start for the start limit. The ring is made at the second
 * start: one start alone cannot reach a burst of 2 or more, and most
 * units start once. */
static void unit_record_start(Unit *u, usec_t t) {
        size_t burst = service_config_tuning(u->config)->start_limit_burst, n = u->n_start_times;

        if (burst == 0)
                return;
        if (!u->start_times && (burst == 1 || n == 1)) {
                u->start_times = calloc(burst, sizeof(usec_t));
                if (!u->start_times) {
                        u->n_start_times = 0; /* out of memory: the limit starts over */
                        return;
                }
                u->start_times[0] = u->first_start;
        }
        if (!u->start_times) {
                u->first_start = t;
                u->n_start_times = 1;
                return;
        }
        start_limit_record(u->start_times, &n, burst, t);
        u->n_start_times = (unsigned) n;
}

void unit_set_waiting(Unit *u, const char *reason) {
        if ((!reason && !u->status_waiting) || (reason && u->status_waiting && streq_ptr(u->status_text, reason)))
                return;
        if (reason)
                log_unit_info(u->name, LOG_EVENT_NONE, "%s", reason);
        free(u->status_text);
        u->status_text = reason ? strdup(reason) : NULL;
        u->status_waiting = reason && u->status_text;
}

void unit_refuse_start(Unit *u, const char *message) {
        log_unit_warning(u->name, LOG_EVENT_FAILED, "%s", message);
        free(u->error_text);
        u->error_text = strdup(message);
        u->start_refused = true;
}

void unit_reset_failure_counters(Unit *u) {
        u->n_start_times = 0;
        u->backoff_step = 0;
        u->n_restarts = 0;
}

int unit_fail_message(Unit *u, int error, const char *format, ...) {
        char *msg = NULL;
        va_list ap;

        errno = ERRNO_VALUE(error);
        va_start(ap, format);
        if (vasprintf(&msg, format, ap) < 0)
                msg = NULL;
        va_end(ap);
        free(u->error_text);
        u->error_text = msg;
        return log_unit_error_errno(u->name, LOG_EVENT_FAILED, error, "%s", msg ?: "failed");
}

/* (a job's cancel sets its own: manager_cancel_job()) */
static int stop_signal(const Unit *u) {
        return u->config ? u->config->stop_signal : SIGTERM;
}

static usec_t stop_timeout(const Unit *u) {
        return u->config ? u->config->stop_timeout : LEFTOVER_STOP_TIMEOUT;
}

/* A job's caller's descriptors go to the job alone: corrald lets go of
 * them once it is spawned (or cannot be). */
static void unit_close_stdio(Unit *u) {
        for (size_t i = 0; i < ELEMENTSOF(u->stdio); i++)
                u->stdio[i] = safe_close(u->stdio[i]);
}

static LogFields unit_fields(const Unit *u) {
        LogFields f = LOG_FIELDS_NONE;

        f.pid = u->main.pid;
        f.restarts = (int) u->n_restarts;
        return f;
}

/* ---- Timers ---- */

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        unit_dispatch(userdata, UNIT_EVENT_TIMER);
        return 0;
}

static int on_watchdog(sd_event_source *s, uint64_t usec, void *userdata) {
        unit_dispatch(userdata, UNIT_EVENT_WATCHDOG);
        return 0;
}

static void unit_disarm_timer(Unit *u) {
        u->timer = sd_event_source_disable_unref(u->timer);
}

int unit_arm_at(Unit *u, sd_event_source **s, usec_t deadline, usec_t accuracy, sd_event_time_handler_t cb) {
        *s = sd_event_source_disable_unref(*s);
        return sd_event_add_time(u->ctx->event, s, CLOCK_MONOTONIC, deadline, accuracy, cb, u);
}

usec_t unit_timer_deadline(const Unit *u) {
        uint64_t t;

        return u->timer && sd_event_source_get_time(u->timer, &t) >= 0 ? t : 0;
}

/* The state's timer (start timeout, runtime_max, stop timeout, restart
 * delay), to the µs: sd-event's default slack of 250ms would blur them. */
int unit_arm_timer(Unit *u, usec_t delay) {
        return unit_arm_at(u, &u->timer, now(CLOCK_MONOTONIC) + delay, /* accuracy= */ 1, on_timer);
}

void unit_arm_watchdog(Unit *u) {
        int r;

        if (u->watchdog_usec == 0 || u->state != UNIT_RUNNING) {
                u->watchdog = sd_event_source_disable_unref(u->watchdog);
                return;
        }
        r = unit_arm_at(u, &u->watchdog, now(CLOCK_MONOTONIC) + u->watchdog_usec, /* accuracy= */ 1, on_watchdog);
        if (r < 0)
                log_unit_warning_errno(u->name, LOG_EVENT_NONE, r, "cannot arm the watchdog: %m, ignoring");
}

static void unit_exec_done(Unit *u) {
        UnitExec *x = u->exec;

        if (!x)
                return;
        unit_fd_gate_leave(u->ctx, x);
        sd_event_source_disable_unref(x->source);
        safe_close(x->report_fd);
        if (x->in_flight)
                unit_fd_gate_exec_ended(u->ctx);
        free(x->path);
        free(x->directory);
        u->exec = mfree(x);
}

/* The one place a unit changes state. What the new state does not allow
 * is released here (systemd's service_set_state()), so that no
 * transition forgets a timer: the state timer always (the new state's
 * entry arms its own after this), the watchdog outside running, health
 * checks outside starting and running, the exec report outside starting,
 * the retry of an adopted exit and the MAINPID= watch once nothing runs. */
void unit_set_state(Unit *u, UnitState state) {
        UnitState old = u->state;

        if (old == state)
                return;
        log_unit_debug(u->name, "%s -> %s", unit_state_to_string(old), unit_state_to_string(state));
        u->state = state;
        unit_context_count_stopping(u->ctx, old, state);
        u->state_timestamp = now(CLOCK_REALTIME);
        if (state == UNIT_BACKOFF || state == UNIT_FAILED) {
                u->reason = u->result;
                u->reason_exit_code = u->exit_code;
                u->reason_exit_status = u->exit_status;
        }
        unit_disarm_timer(u);
        if (state != UNIT_RUNNING)
                u->watchdog = sd_event_source_disable_unref(u->watchdog);
        if (state != UNIT_STARTING && state != UNIT_RUNNING)
                unit_health_stop(u);
        if (state != UNIT_STARTING)
                unit_exec_done(u);
        if (state != UNIT_STARTING && state != UNIT_RUNNING && state != UNIT_STOPPING) {
                unit_unwatch_main(u);
                u->exit_retry = sd_event_source_disable_unref(u->exit_retry);
        }
        if (u->ctx->state_changed)
                u->ctx->state_changed(u, old, u->ctx->userdata);
}

/* ---- Actions of the state table ---- */

static int on_exec_report(sd_event_source *s, int fd, uint32_t revents, void *userdata);
static void unit_enter_start(Unit *u);

/* A start that failed before any process ran: cgroup removed, failed. A
 * failure for want of a file descriptor or memory is worth another try,
 * so the restart policy decides on it as on any other failure. */
static void unit_enter_failed_start(Unit *u, UnitResult result, int error) {
        unit_cgroup_release(u);
        u->result = result;
        bool transient = error == -EMFILE || error == -ENFILE || error == -ENOMEM || error == -EAGAIN;

        if (transient && u->config && !u->is_job && !u->ctx->shutting_down &&
            restart_policy_wants(service_config_restart(u->config), /* success= */ false)) {
                u->transient_failure = true;
                return unit_enter_stopping(u, /* requested= */ false); /* empty: straight to the restart */
        }
        unit_set_state(u, UNIT_FAILED);
}

void unit_enter_running(Unit *u) {
        int r;

        u->running_since = now(CLOCK_MONOTONIC);
        unit_set_state(u, UNIT_RUNNING);
        unit_arm_watchdog(u);
        usec_t runtime_max = service_config_tuning(u->config)->runtime_max;
        if (runtime_max > 0 && (r = unit_arm_timer(u, runtime_max)) < 0)
                log_unit_warning_errno(u->name, LOG_EVENT_NONE, r, "cannot arm runtime_max timer: %m, ignoring");
        if (u->config->health_url && (!u->health || (!u->health->timer && !u->health->check)))
                unit_health_schedule(u);
}

static void unit_enter_start(Unit *u) {
        if (!u->config || u->removed || u->ctx->shutting_down)
                return;
        unit_disarm_timer(u);
        u->result = UNIT_SUCCESS;
        u->exit_code = u->exit_status = 0;
        u->stop_requested = u->start_pending = u->transient_failure = u->start_refused = false;
        u->watchdog_usec = service_config_tuning(u->config)->watchdog_timeout;
        u->status_text = mfree(u->status_text);
        u->status_waiting = false;
        u->error_text = mfree(u->error_text);
        unit_record_start(u, now(CLOCK_MONOTONIC));
        if (!unit_fd_gate_wait(u))
                unit_start_spawn(u);
}

void unit_start_spawn(Unit *u) {
        _cleanup_(start_context_done) StartContext c = START_CONTEXT_NULL;
        _cleanup_close_ int fd = -EBADF; /* the new cgroup, for the clone only */
        int r;

        if (u->exec) { /* it waited for file descriptors */
                unit_exec_done(u);
                unit_set_waiting(u, NULL);
        }
        r = u->ctx->ops->cgroup_create(u->ctx, u->name, &fd);
        if (r >= 0)
                r = unit_cgroup_attach(u);
        if (r < 0) {
                unit_fail_message(u, r, "cannot create cgroup: %m");
                unit_close_stdio(u);
                return unit_enter_failed_start(u, UNIT_FAILURE_RESOURCES, r);
        }
        r = unit_prepare(u, &c);
        if (r >= 0)
                r = unit_apply_limits(u);
        if (r < 0) {
                unit_close_stdio(u);
                return unit_enter_failed_start(u, UNIT_FAILURE_RESOURCES, r);
        }

        SpawnParams p = {
                .path = c.path,
                .argv = c.argv,
                .envp = c.env,
                .directory = c.directory,
                .umask = u->config->umask,
                .credentials = &c.creds,
                .stdin_fd = u->stdio[0] >= 0 ? u->stdio[0] : u->ctx->devnull_fd,
                .stdout_fd = u->stdio[1] >= 0 ? u->stdio[1] : c.stdout_fd,
                .stderr_fd = u->stdio[2] >= 0 ? u->stdio[2] : c.stderr_fd,
                .cgroup_fd = fd,
                .rlimits = c.rlimits,
                .rlimits_set = c.rlimits_set,
                .no_new_privs = u->config->no_new_privs,
        };
        /* Not waiting for the exec here: the report comes through the
         * loop, so that corrald starts the next unit meanwhile. */
        UnitExec *x = u->exec = calloc(1, sizeof(UnitExec));
        if (!x) {
                unit_close_stdio(u);
                unit_fail_message(u, -ENOMEM, "cannot start %s: %m", u->name);
                return unit_enter_failed_start(u, UNIT_FAILURE_RESOURCES, -ENOMEM);
        }
        x->report_fd = -EBADF;
        r = u->ctx->ops->spawn(&p, &u->main, &x->report_fd);
        fd = safe_close(fd);
        unit_close_stdio(u);
        if (r < 0)
                unit_exec_done(u);
        if (r == -ENOSYS) {
                unit_fail_message(u, r,
                                  "clone3() is not available (Linux 5.7+, and not filtered by seccomp, e.g. "
                                  "systemd's RestrictNamespaces=): %m");
                return unit_enter_failed_start(u, UNIT_FAILURE_SPAWN, r);
        }
        if (r < 0) {
                unit_fail_message(u, r, "clone %s: %m", u->name);
                return unit_enter_failed_start(u, UNIT_FAILURE_SPAWN, r);
        }
        x->path = TAKE_PTR(c.path);
        x->directory = TAKE_PTR(c.directory);
        x->in_flight = true;
        u->ctx->n_exec++;
        unit_set_state(u, UNIT_STARTING);
        /* its exit, as it happens, through the pidfd (manager-reap.c) */
        r = unit_watch_main(u, &u->main);
        if (r < 0)
                log_unit_debug(u->name, "cannot watch the main process's pidfd (%s), the reaper's walk will find it",
                               strerror(-r));
        /* edge-triggered, as the pidfd (unit_watch_main): a start of 1,000
         * has hundreds of reports ready at once */
        r = sd_event_add_io(u->ctx->event, &x->source, x->report_fd, EPOLLIN | EPOLLET, on_exec_report, u);
        if (r < 0) {
                /* The child waits for nothing: without its report it is
                 * stopped like any other, reaped by the reaper. */
                unit_fail_message(u, r, "cannot watch the exec report of %s: %m", u->name);
                u->result = UNIT_FAILURE_SPAWN;
                unit_enter_stopping(u, /* requested= */ false);
        }
}

/* The main process has exec'd: the unit has started. */
static void unit_exec_succeeded(Unit *u) {
        int r;

        LogFields f = unit_fields(u);
        log_unit_fields(u->name, LOG_INFO, LOG_EVENT_START, &f, "started, main PID %d", u->main.pid);
        u->started_at = now(CLOCK_MONOTONIC);
        u->persisted_since = now(CLOCK_REALTIME);
        if (u->health)
                u->health->failures = 0;
        unit_exec_done(u);
        /* a oneshot is ready when it exits 0, and stays starting until then */
        if (u->config->ready == READY_EXEC && u->config->type != SERVICE_TYPE_ONESHOT)
                unit_enter_running(u);
        else {
                usec_t timeout = service_config_start_timeout(u->config);
                if (timeout > 0 && (r = unit_arm_timer(u, timeout)) < 0)
                        log_unit_warning_errno(u->name, LOG_EVENT_NONE, r, "cannot arm start timer: %m, ignoring");
                if (u->config->health_url)
                        unit_health_schedule(u);
        }
        unit_persist(u);
}

/* A step before execve() failed: the child exits 127 at once and the
 * reaper brings its exit; the unit waits for it in stopping, and ends
 * failed, not restarted. */
static void unit_exec_failed(Unit *u) {
        const char *object;

        switch (u->exec_step) {
        case SPAWN_STEP_EXEC:
                object = u->exec && u->exec->path ? u->exec->path : u->config->command[0];
                break;
        case SPAWN_STEP_CHDIR:
                object = u->exec && u->exec->directory ? u->exec->directory : "/";
                break;
        case SPAWN_STEP_GROUPS:
        case SPAWN_STEP_GID:
        case SPAWN_STEP_UID:
                object = u->config->user ?: u->config->group;
                break;
        default:
                object = u->name;
        }
        unit_fail_message(u, -u->exec_error, "%s %s: %m", spawn_step_to_string(u->exec_step), object);
        u->result = UNIT_FAILURE_SPAWN;
        unit_enter_stopping(u, /* requested= */ false);
}

/* Reads the exec report and dispatches what it says. Returns true once
 * it is in. */
/* A process of the unit spoke on the notify socket: only the program
 * speaks, so the main process has exec'd, whatever its report pipe says
 * yet (for a moment, its write end may still be held by another unit's
 * child that has not exec'd: children are cloned with corrald's
 * descriptors). Without this, a MAINPID= or READY=1 that came then was
 * dropped (found by the soak, tools/bench/soak). */
void unit_exec_proven(Unit *u) {
        if (!u->exec || u->exec->waiting || unit_exec_check(u))
                return;
        unit_dispatch(u, UNIT_EVENT_EXEC_OK);
        unit_exec_done(u);
}

bool unit_exec_check(Unit *u) {
        SpawnStep step = SPAWN_STEP_EXEC;
        int r;

        if (!u->exec)
                return true;
        if (u->exec->waiting)
                return false;
        r = u->ctx->ops->read_report(u->exec->report_fd, &step);
        if (r == -EAGAIN)
                return false;
        if (r < 0) {
                u->exec_step = step;
                u->exec_error = -r;
                unit_dispatch(u, UNIT_EVENT_EXEC_FAILED);
        } else
                unit_dispatch(u, UNIT_EVENT_EXEC_OK);
        unit_exec_done(u); /* whatever the state: a stop that came first deals with the process */
        return true;
}

static int on_exec_report(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        (void) unit_exec_check(userdata);
        return 0;
}

static void unit_kill_all(Unit *u, const char *why) {
        _cleanup_close_ int fd = unit_cgroup_open(u);
        int r = fd < 0 ? fd : u->ctx->ops->cgroup_kill(fd);

        u->killed = r >= 0;
        if (r < 0)
                log_unit_error_errno(u->name, LOG_EVENT_KILL, r, "cannot write cgroup.kill: %m");
        else
                log_unit_notice(u->name, LOG_EVENT_KILL, "%s, killing every process (cgroup.kill)", why);
}

static bool unit_restart_wanted(const Unit *u) {
        if (!u->config || u->stop_requested || u->removed || u->is_job || u->ctx->shutting_down)
                return false;
        if ((u->result == UNIT_FAILURE_SPAWN || u->result == UNIT_FAILURE_RESOURCES) && !u->transient_failure)
                return false; /* a failed start: trying again cannot help */
        if (service_config_prevents_restart(u->config, u->exit_code, u->exit_status))
                return false;
        return restart_policy_wants(service_config_restart(u->config), u->result == UNIT_SUCCESS);
}

static uint64_t random_u64(void) {
        uint64_t v = 0;

        if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v))
                v = now(CLOCK_MONOTONIC) * 6364136223846793005ULL; /* good enough for jitter */
        return v;
}

static void unit_enter_restart(Unit *u) {
        char buf[FORMAT_TIMESPAN_MAX];
        const ServiceTuning *c = service_config_tuning(u->config);
        int r;

        if (start_limit_hit(u->start_times, u->n_start_times, c->start_limit_burst, c->start_limit_interval,
                            now(CLOCK_MONOTONIC))) {
                char ibuf[FORMAT_TIMESPAN_MAX];
                u->result = UNIT_FAILURE_START_LIMIT;
                unit_fail_message(u, 0,
                                  "failed: started %u times within %s (start_limit_burst, start_limit_interval), "
                                  "not restarting",
                                  c->start_limit_burst, format_timespan(ibuf, sizeof(ibuf), c->start_limit_interval));
                return unit_set_state(u, UNIT_FAILED);
        }
        usec_t delay = restart_delay(c->restart_delay, c->restart_delay_max, u->backoff_step, random_u64());
        u->backoff_step++;
        u->n_restarts++;
        unit_set_state(u, UNIT_BACKOFF);
        r = unit_arm_timer(u, delay);
        if (r < 0) {
                unit_fail_message(u, r, "cannot arm restart timer: %m");
                return unit_set_state(u, UNIT_FAILED);
        }
        LogFields f = unit_fields(u);
        log_unit_fields(u->name, LOG_INFO, LOG_EVENT_RESTART, &f, "restarting in %s (restart=%s, result %s)",
                        format_timespan(buf, sizeof(buf), delay),
                        restart_policy_to_string(service_config_restart(u->config)), unit_result_to_string(u->result));
}

static void unit_release_port(Unit *u) {
        if (u->port == 0)
                return;
        ports_release(u->ctx->ports, u->port);
        u->port = 0;
        if (u->ctx->port_released)
                u->ctx->port_released(u, u->ctx->userdata);
}

/* Nothing runs any more: the cgroup goes, and the unit starts again (a
 * start came during the stop), restarts by policy, or rests. */
static void unit_enter_dead(Unit *u) {
        unit_output_ended(u);
        unit_cgroup_release(u);
        if (u->removed) /* never starts again: its port is free once its processes are gone */
                unit_release_port(u);
        if (u->start_pending && !u->ctx->shutting_down && !u->removed)
                return unit_enter_start(u);
        if (unit_restart_wanted(u))
                return unit_enter_restart(u);
        if (u->result != UNIT_SUCCESS && !u->stop_requested) {
                log_unit_warning(u->name, LOG_EVENT_FAILED, "failed (%s)", unit_result_to_string(u->result));
                return unit_set_state(u, UNIT_FAILED);
        }
        if (u->config && u->config->type == SERVICE_TYPE_ONESHOT && !u->stop_requested && u->exit_code == CLD_EXITED) {
                log_unit_info(u->name, LOG_EVENT_READY, "exited (success): ready");
                return unit_set_state(u, UNIT_EXITED);
        }
        log_unit_info(u->name, LOG_EVENT_STOP, "stopped");
        unit_set_state(u, UNIT_INACTIVE);
}

static void unit_check_stopped(Unit *u) {
        if (pidref_is_set(&u->main) || unit_cgroup_populated(u))
                return;
        unit_enter_dead(u);
}

/* Signals what runs: the main process only for a requested stop with
 * kill_mode=mixed, every process of the cgroup otherwise. */
static void unit_send_stop_signal(Unit *u) {
        int sig = stop_signal(u), r;

        /* a frozen process cannot act on a signal */
        if (u->may_be_frozen) {
                _cleanup_close_ int fd = unit_cgroup_open(u);
                if (fd >= 0 && cgroup_freeze(fd, false) >= 0)
                        u->may_be_frozen = false;
        }
        if (u->stop_requested && u->config && u->config->kill_mode == KILL_MODE_MIXED && pidref_is_set(&u->main)) {
                r = u->ctx->ops->signal_main(&u->main, sig);
                if (r >= 0)
                        (void) u->ctx->ops->signal_main(&u->main, SIGCONT);
        } else if (!u->has_cgroup)
                r = -ENOENT;
        else
                r = u->ctx->ops->cgroup_signal(u->ctx, u->name, sig, /* also_cont= */ true, &u->main);
        if (r < 0 && r != -ESRCH)
                log_unit_warning_errno(u->name, LOG_EVENT_STOP, r, "cannot send %s: %m, ignoring",
                                       signal_to_string(sig));
}

/* requested: asked for (no restart afterwards); otherwise the unit ended
 * by itself (main exit, timeout, watchdog, failed exec) and the restart
 * policy decides. */
void unit_enter_stopping(Unit *u, bool requested) {
        usec_t timeout = stop_timeout(u);
        int r;

        u->stop_requested = requested;
        u->killed = false;
        unit_set_state(u, UNIT_STOPPING);
        if (!pidref_is_set(&u->main) && !unit_cgroup_populated(u))
                return unit_enter_dead(u);
        if (requested || pidref_is_set(&u->main))
                log_unit_info(u->name, LOG_EVENT_STOP, "stopping");
        else
                log_unit_info(u->name, LOG_EVENT_STOP, "stopping the processes its main process left");

        if (timeout == 0)
                return unit_kill_all(u, "stop_timeout is 0");
        unit_send_stop_signal(u);
        r = unit_arm_timer(u, timeout);
        if (r < 0) {
                log_unit_error_errno(u->name, LOG_EVENT_KILL, r, "cannot arm stop timer: %m");
                return unit_kill_all(u, "no stop timer");
        }
        unit_check_stopped(u);
}

void unit_fail_running(Unit *u, UnitResult result, const char *why) {
        u->result = result;
        unit_fail_message(u, 0, "%s", why);
        unit_enter_stopping(u, /* requested= */ false);
}

/* ---- The main process ---- */

static void unit_record_exit(Unit *u, const siginfo_t *si) {
        LogFields f = unit_fields(u);

        f.pid = si->si_pid;
        u->exit_code = si->si_code;
        u->exit_status = si->si_status;
        if (si->si_code == CLD_EXITED) {
                if (si->si_status != 0 && u->result == UNIT_SUCCESS)
                        u->result = UNIT_FAILURE_EXIT_CODE;
                f.exit_code = si->si_status;
                log_unit_fields(u->name, si->si_status == 0 ? LOG_INFO : LOG_NOTICE, LOG_EVENT_EXIT, &f,
                                "main process %d exited, status=%d", si->si_pid, si->si_status);
                return;
        }
        _cleanup_close_ int fd = si->si_status == SIGKILL ? unit_cgroup_open(u) : -EBADF;
        uint64_t ooms = 0;
        if (fd >= 0 && cgroup_read_oom_kills(fd, &ooms) >= 0 && ooms > 0 && u->result == UNIT_SUCCESS) {
                u->result = UNIT_FAILURE_OOM_KILL;
                log_unit_warning(u->name, LOG_EVENT_NONE, "killed by its memory limit (memory.events oom_kill %llu)",
                                 (unsigned long long) ooms);
        }
        /* A requested stop that ends in the stop signal is a clean stop. */
        bool clean = u->stop_requested && si->si_code == CLD_KILLED &&
                     (si->si_status == stop_signal(u) || si->si_status == SIGKILL);
        if (!clean && u->result == UNIT_SUCCESS)
                u->result = si->si_code == CLD_DUMPED ? UNIT_FAILURE_CORE_DUMP : UNIT_FAILURE_SIGNAL;
        f.exit_signal = si->si_status;
        log_unit_fields(u->name, clean ? LOG_INFO : LOG_NOTICE, LOG_EVENT_EXIT, &f,
                        "main process %d killed by signal %s%s", si->si_pid, signal_to_string(si->si_status) ?: "?",
                        si->si_code == CLD_DUMPED ? " (core dumped)" : "");
}

static int on_exit_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        unit_main_exited(userdata);
        return 0;
}

/* An adopted main process ended but its old parent has not reaped it
 * yet, so the kernel cannot say how: ask again a little later. Returns
 * false once the retries are used up. */
static bool unit_retry_exit(Unit *u) {
        usec_t delay = EXIT_RETRY_DELAY;

        if (u->exit_retries >= EXIT_RETRIES)
                return false;
        for (unsigned i = 0; i < u->exit_retries && delay < EXIT_RETRY_MAX_DELAY; i++)
                delay = MIN(delay * 2, EXIT_RETRY_MAX_DELAY);
        u->exit_retries++;
        return unit_arm_at(u, &u->exit_retry, now(CLOCK_MONOTONIC) + delay, /* accuracy= */ 1, on_exit_retry) >= 0;
}

void unit_main_exited(Unit *u) {
        siginfo_t si = {};
        int r;

        if (!pidref_is_set(&u->main))
                return;
        /* It wrote its report before it exited: a failed step is a failed
         * start (not an exit to restart after); a good one started it. */
        if (u->exec && u->state == UNIT_STARTING)
                (void) unit_exec_check(u);
        unit_unwatch_main(u);
        u->exit_retry = sd_event_source_disable_unref(u->exit_retry);
        r = u->ctx->ops->reap(&u->main, &si);
        if (r == -ENODATA && unit_retry_exit(u))
                return;
        if (r == -ENODATA) {
                log_unit_notice(u->name, LOG_EVENT_EXIT,
                                "main process %d exited (status unknown: not our child, and the kernel cannot tell)",
                                u->main.pid);
                if (u->result == UNIT_SUCCESS && !u->stop_requested)
                        u->result = UNIT_FAILURE_EXIT_UNKNOWN;
        } else if (r < 0) {
                log_unit_warning_errno(u->name, LOG_EVENT_EXIT, r, "cannot reap main process: %m");
                (void) waitid(P_PID, (id_t) u->main.pid, &si, WEXITED | WNOHANG);
        } else if (u->result == UNIT_FAILURE_SPAWN)
                /* exited 127 before it could exec: no exit status of the program's */
                log_unit_debug(u->name, "main process %d ended after a failed start", u->main.pid);
        else
                unit_record_exit(u, &si);
        u->exit_retries = 0;
        pidref_done(&u->main);
        unit_dispatch(u, UNIT_EVENT_MAIN_EXITED);
}

void unit_on_main_pidfd(void *userdata, uint32_t events) {
        unit_main_exited(userdata);
}

/* Through the context's poller (manager-reap.c: one epoll for every main
 * pidfd, at the reaper's priority, above the cgroup's inotify watch: in one
 * iteration of the loop, a unit learns of its main process's exit before
 * it acts on an empty cgroup). No source of its own: a few hundred bytes
 * per unit less. Edge-triggered: the exit is one event, and the watch is
 * dropped once it is seen. */
int unit_watch_main(Unit *u, const PidRef *main) {
        int r;

        unit_unwatch_main(u);
        if (!u->ctx->pidfds)
                return -EOPNOTSUPP;
        r = poller_add(u->ctx->pidfds, main->fd, EPOLLIN | EPOLLET, u);
        if (r >= 0)
                u->main_watch_fd = main->fd;
        return r;
}

void unit_unwatch_main(Unit *u) {
        if (u->main_watch_fd < 0)
                return;
        poller_remove(u->ctx->pidfds, u->main_watch_fd, u);
        u->main_watch_fd = -EBADF;
}

/* ---- The state table ---- */

typedef void (*UnitAction)(Unit *u);

static void a_nop(Unit *u) {
}

static void a_start(Unit *u) {
        unit_enter_start(u);
}

static void a_restart_inactive(Unit *u) {
        unit_reset_failure_counters(u);
        unit_enter_start(u);
}

static void a_stop(Unit *u) {
        unit_enter_stopping(u, /* requested= */ true);
}

/* A stop, and a start once it is done. */
static void a_restart_active(Unit *u) {
        unit_reset_failure_counters(u);
        unit_enter_stopping(u, /* requested= */ true);
        if (u->state == UNIT_STOPPING)
                u->start_pending = true;
        else if (u->state == UNIT_INACTIVE)
                unit_enter_start(u);
}

/* A oneshot that exited is forgotten: units that require it stop. */
static void a_stop_exited(Unit *u) {
        log_unit_info(u->name, LOG_EVENT_STOP, "stopped (it had exited)");
        unit_set_state(u, UNIT_INACTIVE);
}

static void a_cancel_backoff(Unit *u) {
        log_unit_info(u->name, LOG_EVENT_STOP, "restart cancelled");
        unit_set_state(u, UNIT_INACTIVE);
}

static void a_exec_ok(Unit *u) {
        unit_exec_succeeded(u);
}

static void a_exec_failed(Unit *u) {
        unit_exec_failed(u);
}

/* The main process exited while the unit was up. */
static void a_main_exited(Unit *u) {
        if (u->config && service_config_tuning(u->config)->exit_type == EXIT_TYPE_CGROUP && unit_cgroup_populated(u)) {
                log_unit_info(u->name, LOG_EVENT_NONE, "stays up while its cgroup is populated (exit_type=cgroup)");
                return;
        }
        /* The restart delay starts over once the unit has stayed up. */
        if (u->state == UNIT_RUNNING &&
            now(CLOCK_MONOTONIC) - u->running_since >= service_config_tuning(u->config)->restart_reset)
                u->backoff_step = 0;
        unit_enter_stopping(u, /* requested= */ false);
}

/* exit_type = cgroup: the unit ends with its last process. */
static void a_cgroup_active(Unit *u) {
        if (!pidref_is_set(&u->main) && !unit_cgroup_populated(u))
                unit_enter_stopping(u, /* requested= */ false);
}

static void a_start_timeout(Unit *u) {
        unit_fail_running(u, UNIT_FAILURE_TIMEOUT, "did not become ready within start_timeout");
}

static void a_runtime_max(Unit *u) {
        unit_fail_running(u, UNIT_FAILURE_TIMEOUT,
                          u->is_job ? "ran longer than its timeout" : "ran longer than runtime_max");
}

static void a_ready(Unit *u) {
        log_unit_info(u->name, LOG_EVENT_READY, "ready");
        unit_enter_running(u);
        unit_persist(u); /* no longer starting, for a corrald that adopts it */
}

static void a_healthy_starting(Unit *u) {
        if (u->config->ready != READY_HEALTH)
                return;
        log_unit_info(u->name, LOG_EVENT_READY, "ready (health check passed)");
        unit_enter_running(u);
        unit_persist(u);
}

static void a_watchdog(Unit *u) {
        unit_fail_running(u, UNIT_FAILURE_WATCHDOG, "watchdog timeout: no WATCHDOG=1 in time");
}

static void a_unhealthy(Unit *u) {
        unit_fail_running(u, UNIT_FAILURE_UNHEALTHY, "unhealthy: health_threshold checks failed in a row");
}

static void a_adopt(Unit *u) {
        unit_adopt(u);
}

static void a_leftover(Unit *u) {
        unit_stop_leftover(u);
}

static void a_stopping_start(Unit *u) {
        u->start_pending = true;
}

static void a_stopping_stop(Unit *u) {
        u->stop_requested = true;
        u->start_pending = false;
}

static void a_stopping_restart(Unit *u) {
        unit_reset_failure_counters(u);
        u->stop_requested = true;
        u->start_pending = true;
}

static void a_stop_timeout(Unit *u) {
        unit_kill_all(u, "stop timeout");
}

/* kill_mode=mixed: once the main process is gone, the rest is killed, as
 * with systemd's KillMode=mixed. */
static void a_stopping_main_exited(Unit *u) {
        if (u->stop_requested && !u->killed && u->config && u->config->kill_mode == KILL_MODE_MIXED &&
            unit_cgroup_populated(u))
                unit_kill_all(u, "main process gone (kill_mode=mixed)");
        unit_check_stopped(u);
}

static void a_check_stopped(Unit *u) {
        unit_check_stopped(u);
}

/* Every (state, event) pair, no-ops written out, as s6-supervise's
 * actions[][]. Events that cannot happen in a state (an exec report
 * while inactive) are no-ops too: a late one changes nothing. */
static const UnitAction unit_actions[_UNIT_STATE_MAX][_UNIT_EVENT_MAX] = {
        /*                  START              STOP            RESTART              EXEC_OK    EXEC_FAILED    MAIN_EXITED             CGROUP           TIMER            READY    WATCHDOG    HEALTHY             UNHEALTHY    ADOPT    LEFTOVER */
        [UNIT_INACTIVE] = { a_start, a_nop, a_restart_inactive, a_nop, a_nop, a_nop, a_nop, a_nop, a_nop, a_nop, a_nop,
                            a_nop, a_adopt, a_leftover },
        [UNIT_STARTING] = { a_nop, a_stop, a_restart_active, a_exec_ok, a_exec_failed, a_main_exited, a_cgroup_active,
                            a_start_timeout, a_ready, a_nop, a_healthy_starting, a_unhealthy, a_nop, a_nop },
        [UNIT_RUNNING] = { a_nop, a_stop, a_restart_active, a_nop, a_nop, a_main_exited, a_cgroup_active, a_runtime_max,
                           a_nop, a_watchdog, a_nop, a_unhealthy, a_nop, a_nop },
        [UNIT_STOPPING] = { a_stopping_start, a_stopping_stop, a_stopping_restart, a_nop, a_nop, a_stopping_main_exited,
                            a_check_stopped, a_stop_timeout, a_nop, a_nop, a_nop, a_nop, a_nop, a_nop },
        [UNIT_BACKOFF] = { a_start, a_cancel_backoff, a_restart_inactive, a_nop, a_nop, a_nop, a_nop, a_start, a_nop,
                           a_nop, a_nop, a_nop, a_nop, a_nop },
        [UNIT_FAILED] = { a_start, a_nop, a_restart_inactive, a_nop, a_nop, a_nop, a_nop, a_nop, a_nop, a_nop, a_nop,
                          a_nop, a_nop, a_nop },
        [UNIT_EXITED] = { a_start, a_stop_exited, a_restart_inactive, a_nop, a_nop, a_nop, a_nop, a_nop, a_nop, a_nop,
                          a_nop, a_nop, a_nop, a_nop },
};

void unit_dispatch(Unit *u, UnitEvent event) {
        if (u->state < 0 || u->state >= _UNIT_STATE_MAX || event < 0 || event >= _UNIT_EVENT_MAX)
                return;
        log_unit_debug(u->name, "event %s in state %s", unit_event_to_string(event), unit_state_to_string(u->state));
        unit_actions[u->state][event](u);
}
