/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "unit.h"

#include <string.h>
#include <sys/wait.h>

#include "cgroup.h"
#include "log.h"
#include "manager.h"
#include "parse-util.h"
#include "spawn.h"
#include "strv.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* Used to stop a leftover cgroup whose service is no longer configured. */
#define LEFTOVER_STOP_TIMEOUT (10 * USEC_PER_SEC)

static const char *const unit_state_table[_UNIT_STATE_MAX] = {
        [UNIT_INACTIVE] = "inactive", [UNIT_STARTING] = "starting", [UNIT_RUNNING] = "running",
        [UNIT_STOPPING] = "stopping", [UNIT_BACKOFF] = "backoff",   [UNIT_FAILED] = "failed",
};

static const char *const unit_result_table[_UNIT_RESULT_MAX] = {
        [UNIT_SUCCESS] = "success",         [UNIT_FAILURE_RESOURCES] = "resources",
        [UNIT_FAILURE_SPAWN] = "spawn",     [UNIT_FAILURE_EXIT_CODE] = "exit-code",
        [UNIT_FAILURE_SIGNAL] = "signal",   [UNIT_FAILURE_CORE_DUMP] = "core-dump",
};

const char *unit_state_to_string(UnitState s) {
        return s >= 0 && s < _UNIT_STATE_MAX ? unit_state_table[s] : NULL;
}

const char *unit_result_to_string(UnitResult r) {
        return r >= 0 && r < _UNIT_RESULT_MAX ? unit_result_table[r] : NULL;
}

Unit *unit_new(Manager *m, const char *name, const ServiceConfig *config) {
        Unit *u = calloc(1, sizeof(Unit));

        if (!u)
                return NULL;
        *u = (Unit) {
                .manager = m,
                .config = config,
                .state = UNIT_INACTIVE,
                .main = PIDREF_NULL,
                .cgroup_fd = -EBADF,
                .watch_wd = -1,
                .state_timestamp = now(CLOCK_MONOTONIC),
        };
        u->name = strdup(name);
        if (!u->name) {
                free(u);
                return NULL;
        }
        return u;
}

Unit *unit_free(Unit *u) {
        if (!u)
                return NULL;
        sd_event_source_disable_unref(u->timer);
        if (u->manager && u->manager->cgroup)
                cgroup_unit_unwatch(u->manager->cgroup, u->watch_wd);
        safe_close(u->cgroup_fd);
        pidref_done(&u->main);
        free(u->name);
        free(u);
        return NULL;
}

static int stop_signal(const Unit *u) {
        return u->config ? u->config->stop_signal : SIGTERM;
}

static usec_t stop_timeout(const Unit *u) {
        return u->config ? u->config->stop_timeout : LEFTOVER_STOP_TIMEOUT;
}

static void unit_set_state(Unit *u, UnitState state) {
        if (u->state == state)
                return;
        log_unit_debug(u->name, "%s -> %s", unit_state_to_string(u->state), unit_state_to_string(state));
        u->state = state;
        u->state_timestamp = now(CLOCK_MONOTONIC);
        manager_unit_changed(u->manager, u);
}

/* ---- Timers ---- */

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        unit_dispatch(userdata, UNIT_EVENT_TIMER);
        return 0;
}

static void unit_disarm_timer(Unit *u) {
        u->timer = sd_event_source_disable_unref(u->timer);
}

static int unit_arm_timer(Unit *u, usec_t delay) {
        unit_disarm_timer(u);
        /* Accuracy 1µs: sd-event's default slack (250ms) would blur stop
         * timeouts and restart delays. */
        return sd_event_add_time_relative(u->manager->event, &u->timer, CLOCK_MONOTONIC, delay,
                                          /* accuracy= */ 1, on_timer, u);
}

/* ---- The cgroup ---- */

static int unit_cgroup_attach(Unit *u, int fd) {
        int r = cgroup_unit_watch(u->manager->cgroup, u->name, &u->watch_wd);
        if (r < 0) {
                safe_close(fd);
                return r;
        }
        u->cgroup_fd = fd;
        return 0;
}

static void unit_cgroup_release(Unit *u) {
        int r;

        cgroup_unit_unwatch(u->manager->cgroup, u->watch_wd);
        u->watch_wd = -1;
        u->cgroup_fd = safe_close(u->cgroup_fd);
        r = cgroup_unit_remove(u->manager->cgroup, u->name);
        if (r < 0)
                log_unit_warning_errno(u->name, LOG_EVENT_NONE, r, "cannot remove cgroup: %m, ignoring");
}

static bool unit_cgroup_populated(Unit *u) {
        CgroupEvents ev;
        int r;

        if (u->cgroup_fd < 0)
                return false;
        r = cgroup_read_events(u->cgroup_fd, &ev);
        if (r < 0) {
                /* Gone or unreadable: nothing can be waited for there. */
                log_unit_warning_errno(u->name, LOG_EVENT_NONE, r, "cannot read cgroup.events: %m");
                return false;
        }
        return ev.populated;
}

/* ---- Starting ---- */

static int unit_build_env(const Unit *u, const SpawnCredentials *c, char ***ret) {
        _cleanup_strv_free_ char **env = NULL;
        char *e;
        int r;

        if (strv_extend(&env, "PATH=" DEFAULT_PATH) < 0)
                return -ENOMEM;
        if (c->set) {
                const char *pairs[][2] = { { "HOME", c->home }, { "USER", c->name },
                                           { "LOGNAME", c->name }, { "SHELL", c->shell } };
                for (size_t i = 0; i < ELEMENTSOF(pairs); i++) {
                        if (asprintf(&e, "%s=%s", pairs[i][0], pairs[i][1]) < 0)
                                return -ENOMEM;
                        r = strv_env_set(&env, e);
                        free(e);
                        if (r < 0)
                                return r;
                }
        }
        for (char **p = u->config->environment; p && *p; p++)
                if ((r = strv_env_set(&env, *p)) < 0)
                        return r;
        if (asprintf(&e, "CORRAL_UNIT=%s", u->name) < 0)
                return -ENOMEM;
        r = strv_env_set(&env, e);
        free(e);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(env);
        return 0;
}

static const char *env_path(char **env) {
        int i = strv_env_find(env, "PATH", 4);
        return i >= 0 ? env[i] + 5 : DEFAULT_PATH;
}

/* The object a failed step acted on, for "STEP OBJECT: error". */
static const char *spawn_step_object(const Unit *u, SpawnStep step, const char *path) {
        switch (step) {
        case SPAWN_STEP_EXEC:
                return path ?: u->config->command[0];
        case SPAWN_STEP_CHDIR:
                return u->config->directory ?: "/";
        case SPAWN_STEP_GROUPS:
        case SPAWN_STEP_GID:
        case SPAWN_STEP_UID:
                return u->config->user ?: u->config->group;
        default:
                return u->name;
        }
}

static void unit_enter_failed_start(Unit *u, UnitResult result) {
        if (u->cgroup_fd >= 0)
                unit_cgroup_release(u);
        u->result = result;
        unit_set_state(u, UNIT_FAILED);
}

/* Resolves what the child needs; logs the problem. */
static int unit_prepare(Unit *u, SpawnCredentials *creds, char ***env, char **path) {
        const ServiceConfig *c = u->config;
        int r;

        r = spawn_credentials_resolve(c->user, c->group, creds);
        if (r == -ESRCH)
                return log_unit_error_errno(u->name, LOG_EVENT_FAILED, r, "user %s: no such user", c->user);
        if (r == -ENXIO)
                return log_unit_error_errno(u->name, LOG_EVENT_FAILED, r, "group %s: no such group", c->group);
        if (r < 0)
                return log_unit_error_errno(u->name, LOG_EVENT_FAILED, r, "cannot resolve user %s: %m",
                                            c->user ?: c->group);
        r = unit_build_env(u, creds, env);
        if (r < 0)
                return log_unit_error_errno(u->name, LOG_EVENT_FAILED, r, "cannot build environment: %m");
        r = spawn_find_executable(c->command[0], env_path(*env), path);
        if (r < 0)
                return log_unit_error_errno(u->name, LOG_EVENT_FAILED, r, "exec %s: %m", c->command[0]);
        return 0;
}

static void unit_enter_start(Unit *u) {
        _cleanup_(spawn_credentials_done) SpawnCredentials creds = {};
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_free_ char *path = NULL;
        SpawnStep step;
        int fd = -EBADF, r;

        if (!u->config || u->manager->shutting_down)
                return;
        unit_disarm_timer(u);
        u->result = UNIT_SUCCESS;
        u->exit_code = u->exit_status = 0;
        u->stop_requested = u->start_pending = false;

        r = cgroup_unit_create(u->manager->cgroup, u->name, &fd);
        if (r >= 0)
                r = unit_cgroup_attach(u, fd);
        if (r < 0) {
                log_unit_error_errno(u->name, LOG_EVENT_FAILED, r, "cannot create cgroup: %m");
                return unit_enter_failed_start(u, UNIT_FAILURE_RESOURCES);
        }
        if (unit_prepare(u, &creds, &env, &path) < 0)
                return unit_enter_failed_start(u, UNIT_FAILURE_RESOURCES);

        SpawnParams p = {
                .path = path,
                .argv = u->config->command,
                .envp = env,
                .directory = u->config->directory,
                .umask = u->config->umask,
                .credentials = &creds,
                .stdin_fd = u->manager->devnull_fd,
                .stdout_fd = STDOUT_FILENO,
                .stderr_fd = STDERR_FILENO,
                .cgroup_fd = u->cgroup_fd,
        };
        r = spawn_child(&p, &u->main, &step);
        if (r < 0) {
                log_unit_error_errno(u->name, LOG_EVENT_FAILED, r, "%s %s: %m", spawn_step_to_string(step),
                                     spawn_step_object(u, step, path));
                return unit_enter_failed_start(u, UNIT_FAILURE_SPAWN);
        }
        log_unit_info(u->name, LOG_EVENT_START, "started, main PID %d", u->main.pid);
        unit_set_state(u, UNIT_RUNNING);
}

/* ---- Stopping ---- */

static void unit_kill_all(Unit *u, const char *why) {
        int r = cgroup_kill(u->cgroup_fd);

        u->killed = r >= 0;
        if (r < 0)
                log_unit_error_errno(u->name, LOG_EVENT_KILL, r, "cannot write cgroup.kill: %m");
        else
                log_unit_notice(u->name, LOG_EVENT_KILL, "%s, killing every process (cgroup.kill)", why);
}

static bool unit_restart_wanted(const Unit *u) {
        if (!u->config || u->stop_requested || u->manager->shutting_down)
                return false;
        switch (u->config->restart) {
        case RESTART_ALWAYS:
                return true;
        case RESTART_ON_FAILURE:
                return u->result != UNIT_SUCCESS;
        default:
                return false;
        }
}

static void unit_enter_dead(Unit *u) {
        char buf[FORMAT_TIMESPAN_MAX];

        unit_disarm_timer(u);
        unit_cgroup_release(u);
        if (u->start_pending && !u->manager->shutting_down)
                return unit_enter_start(u);
        if (unit_restart_wanted(u)) {
                int r = unit_arm_timer(u, u->config->restart_delay);
                if (r >= 0) {
                        u->n_restarts++;
                        log_unit_info(u->name, LOG_EVENT_RESTART, "restarting in %s (restart=%s)",
                                      format_timespan(buf, sizeof(buf), u->config->restart_delay),
                                      restart_policy_to_string(u->config->restart));
                        return unit_set_state(u, UNIT_BACKOFF);
                }
                log_unit_error_errno(u->name, LOG_EVENT_FAILED, r, "cannot arm restart timer: %m");
        }
        if (u->result != UNIT_SUCCESS && !u->stop_requested) {
                log_unit_warning(u->name, LOG_EVENT_FAILED, "failed (%s)", unit_result_to_string(u->result));
                return unit_set_state(u, UNIT_FAILED);
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

        if (u->stop_requested && u->config && u->config->kill_mode == KILL_MODE_MIXED &&
            pidref_is_set(&u->main)) {
                r = pidref_kill(&u->main, sig);
                if (r >= 0)
                        (void) pidref_kill(&u->main, SIGCONT);
        } else
                r = cgroup_signal_all(u->cgroup_fd, sig, /* also_cont= */ true);
        if (r < 0 && r != -ESRCH)
                log_unit_warning_errno(u->name, LOG_EVENT_STOP, r, "cannot send %s: %m, ignoring",
                                       signal_to_string(sig));
        else
                log_unit_debug(u->name, "sent %s to %s", signal_to_string(sig),
                               r > 0 ? "its processes" : "the main process");
}

static void unit_enter_stopping(Unit *u, bool requested) {
        char buf[FORMAT_TIMESPAN_MAX];
        usec_t timeout = stop_timeout(u);
        int r;

        u->stop_requested = requested;
        u->killed = false;
        unit_set_state(u, UNIT_STOPPING);
        if (!pidref_is_set(&u->main) && !unit_cgroup_populated(u))
                return unit_enter_dead(u);
        if (requested)
                log_unit_info(u->name, LOG_EVENT_STOP, "stopping");
        else
                log_unit_info(u->name, LOG_EVENT_STOP, "stopping the processes its main process left");

        if (timeout == 0)
                return unit_kill_all(u, "stop_timeout is 0");
        unit_send_stop_signal(u);
        r = unit_arm_timer(u, timeout);
        if (r < 0) {
                log_unit_error_errno(u->name, LOG_EVENT_KILL, r, "cannot arm stop timer: %m");
                unit_kill_all(u, "no stop timer");
                return;
        }
        log_unit_debug(u->name, "stop timeout in %s", format_timespan(buf, sizeof(buf), timeout));
        unit_check_stopped(u);
}

int unit_stop_leftover(Unit *u) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = cgroup_unit_open(u->manager->cgroup, u->name, &fd);
        if (r < 0)
                return r;
        r = unit_cgroup_attach(u, TAKE_FD(fd));
        if (r < 0)
                return r;
        log_unit_notice(u->name, LOG_EVENT_STOP, "found a cgroup left by an earlier run, stopping it");
        unit_enter_stopping(u, /* requested= */ true);
        return 0;
}

/* ---- The main process ---- */

static void unit_record_exit(Unit *u, const siginfo_t *si) {
        u->exit_code = si->si_code;
        u->exit_status = si->si_status;
        if (si->si_code == CLD_EXITED) {
                if (si->si_status != 0 && u->result == UNIT_SUCCESS)
                        u->result = UNIT_FAILURE_EXIT_CODE;
                log_unit_full_errno(u->name, si->si_status == 0 ? LOG_INFO : LOG_NOTICE, LOG_EVENT_EXIT, 0,
                                    "main process %d exited, status=%d", si->si_pid, si->si_status);
                return;
        }
        /* A requested stop that ends in the stop signal is a clean stop. */
        bool clean = u->stop_requested && si->si_code == CLD_KILLED &&
                     (si->si_status == stop_signal(u) || si->si_status == SIGKILL);
        if (!clean && u->result == UNIT_SUCCESS)
                u->result = si->si_code == CLD_DUMPED ? UNIT_FAILURE_CORE_DUMP : UNIT_FAILURE_SIGNAL;
        log_unit_full_errno(u->name, clean ? LOG_INFO : LOG_NOTICE, LOG_EVENT_EXIT, 0,
                            "main process %d killed by signal %s%s", si->si_pid,
                            signal_to_string(si->si_status) ?: "?",
                            si->si_code == CLD_DUMPED ? " (core dumped)" : "");
}

void unit_main_exited(Unit *u) {
        siginfo_t si;
        int r;

        r = pidref_wait(&u->main, &si, WEXITED);
        if (r < 0) {
                /* Cannot happen for our own child; never leave a zombie. */
                log_unit_warning_errno(u->name, LOG_EVENT_EXIT, r, "cannot reap main process: %m");
                (void) waitid(P_PID, (id_t) u->main.pid, &si, WEXITED);
                si.si_code = 0;
        }
        pidref_done(&u->main);
        if (r >= 0)
                unit_record_exit(u, &si);
        unit_dispatch(u, UNIT_EVENT_MAIN_EXITED);
}

/* ---- The transition function ---- */

void unit_dispatch(Unit *u, UnitEvent event) {
        switch (u->state) {
        case UNIT_INACTIVE:
        case UNIT_FAILED:
                if (event == UNIT_EVENT_START)
                        unit_enter_start(u);
                break;
        case UNIT_BACKOFF:
                if (event == UNIT_EVENT_START || event == UNIT_EVENT_TIMER)
                        unit_enter_start(u);
                else if (event == UNIT_EVENT_STOP) {
                        unit_disarm_timer(u);
                        log_unit_info(u->name, LOG_EVENT_STOP, "restart cancelled");
                        unit_set_state(u, UNIT_INACTIVE);
                }
                break;
        case UNIT_STARTING:
        case UNIT_RUNNING:
                if (event == UNIT_EVENT_STOP)
                        unit_enter_stopping(u, /* requested= */ true);
                else if (event == UNIT_EVENT_MAIN_EXITED)
                        unit_enter_stopping(u, /* requested= */ false);
                break;
        case UNIT_STOPPING:
                switch (event) {
                case UNIT_EVENT_START:
                        u->start_pending = true;
                        break;
                case UNIT_EVENT_STOP:
                        u->stop_requested = true;
                        u->start_pending = false;
                        break;
                case UNIT_EVENT_TIMER:
                        unit_kill_all(u, "stop timeout");
                        break;
                case UNIT_EVENT_MAIN_EXITED:
                        /* kill_mode=mixed: once the main process is gone,
                         * the rest is killed, as systemd's KillMode=mixed. */
                        if (u->stop_requested && !u->killed && u->config &&
                            u->config->kill_mode == KILL_MODE_MIXED && unit_cgroup_populated(u))
                                unit_kill_all(u, "main process gone (kill_mode=mixed)");
                        unit_check_stopped(u);
                        break;
                case UNIT_EVENT_CGROUP:
                        unit_check_stopped(u);
                        break;
                default:
                        break;
                }
                break;
        default:
                break;
        }
}
