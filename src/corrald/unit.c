/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "unit.h"

#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>

#include "cgroup.h"
#include "log.h"
#include "manager.h"
#include "parse-util.h"
#include "ports.h"
#include "spawn.h"
#include "strv.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* Used to stop a leftover cgroup whose service is no longer configured. */
#define LEFTOVER_STOP_TIMEOUT (10 * USEC_PER_SEC)
/* Restart delays vary by up to this many percent either way. */
#define RESTART_JITTER_PERCENT 10

static const char *const unit_state_table[_UNIT_STATE_MAX] = {
        [UNIT_INACTIVE] = "inactive", [UNIT_STARTING] = "starting", [UNIT_RUNNING] = "running",
        [UNIT_STOPPING] = "stopping", [UNIT_BACKOFF] = "backoff",   [UNIT_FAILED] = "failed",
};

static const char *const unit_result_table[_UNIT_RESULT_MAX] = {
        [UNIT_SUCCESS] = "success",         [UNIT_FAILURE_RESOURCES] = "resources",
        [UNIT_FAILURE_SPAWN] = "spawn",     [UNIT_FAILURE_EXIT_CODE] = "exit-code",
        [UNIT_FAILURE_SIGNAL] = "signal",   [UNIT_FAILURE_CORE_DUMP] = "core-dump",
        [UNIT_FAILURE_TIMEOUT] = "timeout", [UNIT_FAILURE_WATCHDOG] = "watchdog",
        [UNIT_FAILURE_START_LIMIT] = "start-limit", [UNIT_FAILURE_UNHEALTHY] = "unhealthy",
        [UNIT_FAILURE_OOM_KILL] = "oom-kill",
};

const char *unit_state_to_string(UnitState s) {
        return s >= 0 && s < _UNIT_STATE_MAX ? unit_state_table[s] : NULL;
}

const char *unit_result_to_string(UnitResult r) {
        return r >= 0 && r < _UNIT_RESULT_MAX ? unit_result_table[r] : NULL;
}

Unit *unit_new(Manager *m, const char *name, ServiceConfig *config, int instance) {
        Unit *u = calloc(1, sizeof(Unit));

        if (!u)
                return NULL;
        *u = (Unit) {
                .manager = m,
                .instance = instance,
                .state = UNIT_INACTIVE,
                .main = PIDREF_NULL,
                .cgroup_fd = -EBADF,
                .exec_report_fd = -EBADF,
                .watch_wd = -1,
                .state_timestamp = now(CLOCK_MONOTONIC),
        };
        u->name = strdup(name);
        if (!u->name) {
                free(u);
                return NULL;
        }
        if (config)
                unit_set_config(u, config);
        return u;
}

Unit *unit_free(Unit *u) {
        if (!u)
                return NULL;
        sd_event_source_disable_unref(u->timer);
        sd_event_source_disable_unref(u->watchdog);
        sd_event_source_disable_unref(u->main_source);
        sd_event_source_disable_unref(u->exec_source);
        safe_close(u->exec_report_fd);
        free(u->exec_path);
        free(u->exec_directory);
        sd_event_source_disable_unref(u->health_timer);
        if (u->health_check)
                health_check_cancel(u->health_check);
        if (u->port > 0 && u->manager->ports)
                ports_release(u->manager->ports, u->port); /* the manager is being freed, or it is a removed unit */
        free(u->health_error);
        if (u->manager && u->manager->cgroup)
                cgroup_unit_unwatch(u->manager->cgroup, u->watch_wd);
        safe_close(u->cgroup_fd);
        pidref_done(&u->main);
        service_config_unref(u->config);
        free(u->start_times);
        free(u->status_text);
        free(u->error_text);
        free(u->name);
        free(u);
        return NULL;
}

void unit_set_config(Unit *u, ServiceConfig *config) {
        ServiceConfig *old = u->config;

        u->config = service_config_ref(config);
        service_config_unref(old);
        if (!old || old->start_limit_burst != config->start_limit_burst) {
                free(u->start_times);
                u->start_times = calloc(config->start_limit_burst, sizeof(usec_t));
                u->n_start_times = 0;
        }
}

void unit_reset_failure_counters(Unit *u) {
        u->n_start_times = 0;
        u->backoff_step = 0;
        u->n_restarts = 0;
}

/* Logs why the unit failed and keeps the message for status ("error").
 * Returns -abs(error). */
_printf_(3, 4) static int unit_fail_message(Unit *u, int error, const char *format, ...) {
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

static int stop_signal(const Unit *u) {
        return u->config ? u->config->stop_signal : SIGTERM;
}

static usec_t stop_timeout(const Unit *u) {
        return u->config ? u->config->stop_timeout : LEFTOVER_STOP_TIMEOUT;
}

static LogFields unit_fields(const Unit *u) {
        LogFields f = LOG_FIELDS_NONE;

        f.pid = u->main.pid;
        f.restarts = (int) u->n_restarts;
        return f;
}

static void unit_set_state(Unit *u, UnitState state) {
        UnitState old = u->state;

        if (old == state)
                return;
        log_unit_debug(u->name, "%s -> %s", unit_state_to_string(old), unit_state_to_string(state));
        u->state = state;
        u->state_timestamp = now(CLOCK_MONOTONIC);
        manager_unit_changed(u->manager, u, old);
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
        u->timer_deadline = 0;
}

/* accuracy: how late the timer may fire, so that sd-event can wake once
 * for several; 1µs where precision matters (stop timeouts, restart
 * delays: sd-event's default slack of 250ms would blur them). */
static int arm_at_accuracy(Unit *u, sd_event_source **s, usec_t deadline, usec_t accuracy,
                           sd_event_time_handler_t cb) {
        *s = sd_event_source_disable_unref(*s);
        return sd_event_add_time(u->manager->event, s, CLOCK_MONOTONIC, deadline, accuracy, cb, u);
}

static int arm_at(Unit *u, sd_event_source **s, usec_t deadline, sd_event_time_handler_t cb) {
        return arm_at_accuracy(u, s, deadline, /* accuracy= */ 1, cb);
}

static int unit_arm_timer(Unit *u, usec_t delay) {
        u->timer_deadline = now(CLOCK_MONOTONIC) + delay;
        return arm_at(u, &u->timer, u->timer_deadline, on_timer);
}

static void unit_arm_watchdog(Unit *u) {
        int r;

        if (u->watchdog_usec == 0 || u->state != UNIT_RUNNING) {
                u->watchdog = sd_event_source_disable_unref(u->watchdog);
                return;
        }
        r = arm_at(u, &u->watchdog, now(CLOCK_MONOTONIC) + u->watchdog_usec, on_watchdog);
        if (r < 0)
                log_unit_warning_errno(u->name, LOG_EVENT_NONE, r, "cannot arm the watchdog: %m, ignoring");
}

/* ---- Health checks ---- */

/* While a unit with ready = health waits for its first pass, it is checked
 * this often (or every health_interval, if that is shorter). */
#define HEALTH_STARTING_INTERVAL (500 * USEC_PER_MSEC)

static void unit_health_run(Unit *u);

static int on_health_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        unit_health_run(userdata);
        return 0;
}

static void unit_health_stop(Unit *u) {
        u->health_timer = sd_event_source_disable_unref(u->health_timer);
        if (u->health_check)
                health_check_cancel(u->health_check);
        u->health_check = NULL;
}

static void unit_health_schedule(Unit *u) {
        usec_t delay = u->config->health_interval;
        int r;

        if (u->state == UNIT_STARTING && u->config->ready == READY_HEALTH)
                delay = MIN(delay, HEALTH_STARTING_INTERVAL);
        /* 1/16 of the interval (at most 100ms) of slack: checks of many units
         * fall due together and are started in one wake-up */
        r = arm_at_accuracy(u, &u->health_timer, now(CLOCK_MONOTONIC) + delay, MIN(delay / 16, 100 * USEC_PER_MSEC) ?: 1,
                            on_health_timer);
        if (r < 0)
                log_unit_warning_errno(u->name, LOG_EVENT_NONE, r, "cannot schedule health check: %m, ignoring");
}

static void on_health_result(const HealthResult *res, void *userdata) {
        Unit *u = userdata;
        bool in_grace = now(CLOCK_MONOTONIC) - u->started_at < u->config->health_grace;

        u->health_check = NULL;
        u->health_checks++;
        u->health_ok = res->ok;
        u->health_http_status = res->http_status;
        u->health_latency = res->latency;
        u->health_last = now(CLOCK_MONOTONIC);
        free(u->health_error);
        u->health_error = res->ok ? NULL : strdup(res->error ?: "failed");
        if (res->ok) {
                u->health_failures = 0;
                unit_dispatch(u, UNIT_EVENT_HEALTHY);
        } else if (in_grace || u->state == UNIT_STARTING)
                log_unit_debug(u->name, "health check failed (%s), not counted yet", res->error ?: "?");
        else {
                u->health_failures++;
                log_unit_warning(u->name, LOG_EVENT_NONE, "health check failed: %s (%u of %u in a row)",
                                 res->error ?: "?", u->health_failures, u->config->health_threshold);
                if (u->health_failures >= u->config->health_threshold)
                        return unit_dispatch(u, UNIT_EVENT_UNHEALTHY);
        }
        if (u->state == UNIT_STARTING || u->state == UNIT_RUNNING)
                unit_health_schedule(u);
}

static int unit_variables(const Unit *u, char ***ret);

static void unit_health_run(Unit *u) {
        _cleanup_strv_free_ char **vars = NULL;
        _cleanup_free_ char *url = NULL;
        int r;

        r = unit_variables(u, &vars);
        if (r >= 0)
                r = strv_env_expand(u->config->health_url, vars, &url, /* ret_bad= */ NULL);
        if (r >= 0)
                r = health_check_start(u->manager->health, url, u->config->health_timeout, &u->config->health_status,
                                       on_health_result, u, &u->health_check);
        if (r < 0) {
                log_unit_warning_errno(u->name, LOG_EVENT_NONE, r, "cannot start health check of %s: %m",
                                       url ?: u->config->health_url);
                unit_health_schedule(u);
        }
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

/* NAME, INSTANCE and PORT (when the unit has one): expanded in command,
 * directory, environment and health_url, and set in the environment. */
static int unit_variables(const Unit *u, char ***ret) {
        _cleanup_strv_free_ char **vars = NULL;
        char *e;

        if (asprintf(&e, "NAME=%s", u->config->name) < 0 || strv_consume(&vars, e) < 0)
                return -ENOMEM;
        if (u->instance >= 0) {
                if (asprintf(&e, "INSTANCE=%d", u->instance) < 0 || strv_consume(&vars, e) < 0)
                        return -ENOMEM;
        } else if (strv_extend(&vars, "INSTANCE=") < 0)
                return -ENOMEM;
        if (u->port > 0 && (asprintf(&e, "PORT=%u", u->port) < 0 || strv_consume(&vars, e) < 0))
                return -ENOMEM;
        *ret = TAKE_PTR(vars);
        return 0;
}

static int env_set_pair(char ***env, const char *key, const char *value) {
        _cleanup_free_ char *e = NULL;

        if (asprintf(&e, "%s=%s", key, value) < 0)
                return -ENOMEM;
        return strv_env_set(env, e);
}

static int unit_build_env(const Unit *u, char **vars, const SpawnCredentials *c, char ***ret) {
        _cleanup_strv_free_ char **env = NULL;
        char buf[32];
        int r = 0;

        if (strv_extend(&env, "PATH=" DEFAULT_PATH) < 0)
                return -ENOMEM;
        if (u->config->user && ((r = env_set_pair(&env, "HOME", c->home)) < 0 || (r = env_set_pair(&env, "USER", c->name)) < 0 ||
                       (r = env_set_pair(&env, "LOGNAME", c->name)) < 0 ||
                       (r = env_set_pair(&env, "SHELL", c->shell)) < 0))
                return r;
        for (char **v = vars; *v; v++)
                if ((r = strv_env_set(&env, *v)) < 0)
                        return r;
        if ((r = env_set_pair(&env, "CORRAL_UNIT", u->name)) < 0)
                return r;
        if (u->config->ready == READY_NOTIFY || u->config->watchdog_timeout > 0)
                if ((r = env_set_pair(&env, "NOTIFY_SOCKET", notify_socket_address(u->manager->notify))) < 0)
                        return r;
        if (u->config->watchdog_timeout > 0) {
                snprintf(buf, sizeof(buf), "%llu", (unsigned long long) u->config->watchdog_timeout);
                if ((r = env_set_pair(&env, "WATCHDOG_USEC", buf)) < 0)
                        return r;
        }
        for (char **n = u->config->environment_inherit; n && *n; n++) {
                const char *v = getenv(*n);
                if (v && (r = env_set_pair(&env, *n, v)) < 0)
                        return r;
        }
        for (char **p = u->config->environment; p && *p; p++) {
                _cleanup_free_ char *x = NULL;
                if ((r = strv_env_expand(*p, vars, &x, /* ret_bad= */ NULL)) < 0 || (r = strv_env_set(&env, x)) < 0)
                        return r;
        }
        *ret = TAKE_PTR(env);
        return 0;
}

static int unit_build_argv(const Unit *u, char **vars, char ***ret) {
        _cleanup_strv_free_ char **argv = NULL;
        int r;

        for (char **p = u->config->command; *p; p++) {
                char *x;
                if ((r = strv_env_expand(*p, vars, &x, /* ret_bad= */ NULL)) < 0)
                        return r;
                if ((r = strv_consume(&argv, x)) < 0) {
                        free(x);
                        return r;
                }
        }
        *ret = TAKE_PTR(argv);
        return 0;
}

static const char *env_path(char **env) {
        int i = strv_env_find(env, "PATH", 4);
        return i >= 0 ? env[i] + 5 : DEFAULT_PATH;
}

/* Everything a start needs, resolved before the clone. */
typedef struct StartContext {
        struct rlimit rlimits[RLIMIT_NLIMITS];
        bool rlimits_set[RLIMIT_NLIMITS];
        SpawnCredentials creds;
        char **vars, **env, **argv;
        char *path, *directory;
        int output_fd;
} StartContext;

static void start_context_done(StartContext *c) {
        spawn_credentials_done(&c->creds);
        strv_free(c->vars);
        strv_free(c->env);
        strv_free(c->argv);
        free(c->path);
        free(c->directory);
        safe_close(c->output_fd);
}

/* The unit's port: the one it had when that is still free (sticky across
 * restarts), else a new one; a fixed port is held as configured. */
static int unit_take_port(Unit *u) {
        const ServiceConfig *s = u->config;
        PortAllocator *a = u->manager->ports;
        uint16_t port = 0;
        int r;

        if (s->port_mode == PORT_NONE || (s->port_mode == PORT_FIXED && u->port == s->port))
                return 0;
        if (s->port_mode == PORT_AUTO && u->port > 0 && ports_bindable(u->port))
                return 0;
        if (u->port > 0) {
                ports_release(a, u->port);
                port = u->port;
                u->port = 0;
        }
        if (s->port_mode == PORT_FIXED) {
                r = ports_reserve(a, s->port);
                if (r < 0)
                        return unit_fail_message(u, r, "port %u is held by another unit",
                                                    s->port);
                u->port = s->port;
                return 0;
        }
        r = ports_allocate(a, port, &u->port);
        u->port_starved = r == -EADDRNOTAVAIL;
        if (r < 0)
                return unit_fail_message(u, r,
                                            "no free port in port_range %u-%u (it starts when one is freed)",
                                            u->manager->config->port_min, u->manager->config->port_max);
        return 0;
}

int unit_apply_limits(Unit *u) {
        const ServiceConfig *s = u->config;

        if (u->cgroup_fd < 0)
                return -ESRCH;
        for (CgroupLimit l = 0; l < _LIMIT_MAX; l++) {
                const char *ctrl = cgroup_limit_controller(l), *key = cgroup_limit_key(l);
                int r;

                if (!s->limit[l])
                        continue;
                r = cgroup_tree_enable_controller(u->manager->cgroup, ctrl);
                if (r >= 0)
                        r = cgroup_write_attribute(u->cgroup_fd, cgroup_limit_file(l), s->limit[l]);
                if (r >= 0) {
                        log_unit_debug(u->name, "%s = %s written to %s", key, s->limit[l], cgroup_limit_file(l));
                        continue;
                }
                if (s->limits_required) {
                        if (r == -EOPNOTSUPP)
                                return unit_fail_message(u, r,
                                                         "%s needs the %s controller, which this cgroup2 hierarchy "
                                                         "does not offer (limits_required = yes)",
                                                         key, ctrl);
                        return unit_fail_message(u, r, "cannot apply %s = %s: %m (limits_required = yes)", key,
                                                 s->limit[l]);
                }
                if (r == -EOPNOTSUPP)
                        log_unit_warning(u->name, LOG_EVENT_NONE,
                                         "%s needs the %s controller, which this cgroup2 hierarchy does not offer; "
                                         "running without it",
                                         key, ctrl);
                else
                        log_unit_warning_errno(u->name, LOG_EVENT_NONE, r, "cannot apply %s = %s: %m, ignoring", key,
                                               s->limit[l]);
        }
        return 0;
}

/* Resolves what the child needs; logs the problem. */
static int unit_prepare(Unit *u, StartContext *c) {
        const ServiceConfig *s = u->config;
        int r;

        r = unit_take_port(u);
        if (r < 0)
                return r;

        r = spawn_credentials_resolve(s->user, s->group, &c->creds);
        /* Unprivileged, "switching" to ourselves is no switch (and setgroups()
         * would fail). */
        if (r >= 0 && geteuid() != 0 && c->creds.uid == geteuid() && c->creds.gid == getegid())
                c->creds.set = false;
        if (r == -ESRCH)
                return unit_fail_message(u, r, "user %s: no such user", s->user);
        if (r == -ENXIO)
                return unit_fail_message(u, r, "group %s: no such group", s->group);
        if (r < 0)
                return unit_fail_message(u, r, "cannot resolve user %s: %m",
                                            s->user ?: s->group);
        r = unit_variables(u, &c->vars);
        if (r >= 0)
                r = unit_build_env(u, c->vars, &c->creds, &c->env);
        if (r >= 0)
                r = unit_build_argv(u, c->vars, &c->argv);
        if (r >= 0 && s->directory)
                r = strv_env_expand(s->directory, c->vars, &c->directory, /* ret_bad= */ NULL);
        if (r < 0)
                return unit_fail_message(u, r, "cannot build command and environment: %m");
        r = log_unit_output(u->name, s->output, s->output_path, &c->output_fd);
        if (r == -EBADFD || r == -ELOOP)
                return unit_fail_message(u, r, "output file %s is %s, refusing it", s->output_path,
                                         r == -ELOOP ? "a symbolic link" : "not a regular file");
        if (r < 0)
                return unit_fail_message(u, r, "cannot open output (%s%s%s): %m",
                                            output_kind_to_string(s->output), s->output_path ? ":" : "",
                                            s->output_path ?: "");
        r = spawn_find_executable(c->argv[0], env_path(c->env), &c->path);
        if (r < 0)
                return unit_fail_message(u, r, "exec %s: %m", c->argv[0]);
        for (int i = 0; i < RLIMIT_NLIMITS && i < CONFIG_RLIMIT_MAX; i++) {
                c->rlimits_set[i] = s->rlimit[i].set;
                c->rlimits[i] = (struct rlimit) { .rlim_cur = s->rlimit[i].soft, .rlim_max = s->rlimit[i].hard };
        }
        return 0;
}

/* ---- What survives a crash of corrald ---- */

#define XATTR_STATE "user.corral"

int unit_persisted_format(const UnitPersisted *p, char *buf, size_t size) {
        int n = snprintf(buf, size, "main=%d:%llu hash=%016llx port=%u restarts=%u since=%llu", (int) p->main_pid,
                         (unsigned long long) p->main_start, (unsigned long long) p->hash, p->port, p->restarts,
                         (unsigned long long) p->since);
        return n < 0 || (size_t) n >= size ? -ENOBUFS : 0;
}

static int parse_u64(const char *s, size_t n, int base, uint64_t *ret) {
        char buf[32], *end;

        if (n == 0 || n >= sizeof(buf))
                return -EBADMSG;
        memcpy(buf, s, n);
        buf[n] = '\0';
        if (buf[0] == '-' || buf[0] == '+' || buf[0] == ' ')
                return -EBADMSG;
        errno = 0;
        unsigned long long v = strtoull(buf, &end, base);
        if (errno != 0 || *end != '\0')
                return -EBADMSG;
        *ret = v;
        return 0;
}

int unit_persisted_parse(const char *s, UnitPersisted *ret) {
        UnitPersisted p = {};
        unsigned seen = 0;
        uint64_t v;

        for (const char *w = s; *w;) {
                size_t n = strcspn(w, " ");
                const char *eq = memchr(w, '=', n);
                if (n == 0) {
                        w++;
                        continue;
                }
                if (!eq)
                        return -EBADMSG;
                size_t klen = (size_t) (eq - w), vlen = n - klen - 1;
                const char *val = eq + 1;
                if (klen == 4 && strneq(w, "main", 4)) {
                        const char *colon = memchr(val, ':', vlen);
                        if (!colon || parse_u64(val, (size_t) (colon - val), 10, &v) < 0 || v == 0 || v > INT_MAX ||
                            parse_u64(colon + 1, vlen - (size_t) (colon - val) - 1, 10, &p.main_start) < 0)
                                return -EBADMSG;
                        p.main_pid = (pid_t) v;
                        seen |= 1;
                } else if (klen == 4 && strneq(w, "hash", 4)) {
                        if (parse_u64(val, vlen, 16, &p.hash) < 0)
                                return -EBADMSG;
                        seen |= 2;
                } else if (klen == 4 && strneq(w, "port", 4)) {
                        if (parse_u64(val, vlen, 10, &v) < 0 || v > 65535)
                                return -EBADMSG;
                        p.port = (unsigned) v;
                        seen |= 4;
                } else if (klen == 8 && strneq(w, "restarts", 8)) {
                        if (parse_u64(val, vlen, 10, &v) < 0 || v > UINT_MAX)
                                return -EBADMSG;
                        p.restarts = (unsigned) v;
                        seen |= 8;
                } else if (klen == 5 && strneq(w, "since", 5)) {
                        if (parse_u64(val, vlen, 10, &p.since) < 0)
                                return -EBADMSG;
                        seen |= 16;
                }
                w += n;
        }
        if (seen != 31)
                return -EBADMSG;
        *ret = p;
        return 0;
}

static void unit_persist(Unit *u) {
        UnitPersisted p = {
                .main_pid = u->main.pid,
                .hash = service_config_hash(u->config),
                .port = u->port,
                .restarts = u->n_restarts,
                .since = u->persisted_since,
        };
        char buf[CGROUP_XATTR_MAX];

        if (!pidref_is_set(&u->main) || pid_get_start_time(u->main.pid, &p.main_start) < 0)
                return;
        if (unit_persisted_format(&p, buf, sizeof(buf)) < 0 || cgroup_set_xattr(u->cgroup_fd, XATTR_STATE, buf) < 0)
                log_unit_warning(u->name, LOG_EVENT_NONE,
                                 "cannot keep state with the cgroup (user xattrs); a restarted corrald will restart "
                                 "this unit instead of adopting it");
}

/* What an earlier corrald kept, if it still describes this unit: the same
 * configuration and the very same main process (PID and start time),
 * inside this unit's cgroup. */
static int unit_read_persisted(Unit *u, UnitPersisted *ret, PidRef *ret_main) {
        _cleanup_free_ char *v = NULL, *owner = NULL;
        UnitPersisted p;
        PidRef ref = PIDREF_NULL;
        uint64_t start = 0;
        int r;

        if (cgroup_get_xattr(u->cgroup_fd, XATTR_STATE, &v) < 0 || unit_persisted_parse(v, &p) < 0)
                return -ENOENT;
        if (p.hash != service_config_hash(u->config))
                return -ESTALE;
        r = pidref_set_pid(&ref, p.main_pid);
        /* pidfd first, then the checks: a PID recycled meanwhile fails them */
        if (r >= 0 && (pid_get_start_time(p.main_pid, &start) < 0 || start != p.main_start ||
                       cgroup_pid_get_unit(u->manager->cgroup, p.main_pid, &owner) < 0 || !streq(owner, u->name))) {
                pidref_done(&ref);
                r = -ESRCH;
        }
        *ret = p;
        *ret_main = ref;
        return r < 0 ? -ESRCH : 0;
}

static int on_main_pidfd(sd_event_source *s, int fd, uint32_t revents, void *userdata);
static void unit_enter_running(Unit *u);

int unit_adopt(Unit *u) {
        PidRef main = PIDREF_NULL;
        UnitPersisted p = {};
        CgroupEvents ev;
        int fd = -EBADF, r;

        if (!u->config)
                return 0;
        r = cgroup_unit_open(u->manager->cgroup, u->name, &fd);
        if (r < 0)
                return r;
        u->cgroup_fd = fd;
        if (cgroup_read_events(fd, &ev) < 0 || !ev.populated)
                r = -ENOENT;
        else
                r = unit_read_persisted(u, &p, &main);
        if (r == -ESTALE)
                log_unit_notice(u->name, LOG_EVENT_NONE, "its configuration changed while corrald was away: restarting");
        else if (r == -ESRCH && u->config->exit_type == EXIT_TYPE_CGROUP)
                r = 0; /* a daemonized unit lives on in its cgroup */
        else if (r == -ESRCH)
                log_unit_notice(u->name, LOG_EVENT_NONE, "its main process is gone: restarting");
        u->cgroup_fd = -EBADF;
        if (r < 0) {
                safe_close(fd);
                return 0;
        }
        r = unit_cgroup_attach(u, fd);
        if (r < 0) {
                pidref_done(&main);
                return r;
        }
        u->main = main;
        if (pidref_is_set(&u->main) &&
            sd_event_add_io(u->manager->event, &u->main_source, u->main.fd, EPOLLIN, on_main_pidfd, u) < 0)
                log_unit_warning(u->name, LOG_EVENT_NONE, "cannot watch the adopted main process, ignoring");
        if (p.port > 0 && ports_reserve(u->manager->ports, (uint16_t) p.port) >= 0)
                u->port = (uint16_t) p.port;
        u->n_restarts = p.restarts;
        u->persisted_since = p.since;
        usec_t real = now(CLOCK_REALTIME), mono = now(CLOCK_MONOTONIC);
        u->started_at = p.since > 0 && p.since <= real && real - p.since < mono ? mono - (real - p.since) : mono;
        u->result = UNIT_SUCCESS;
        u->watchdog_usec = u->config->watchdog_timeout; /* its pings reach the same (stable) notify socket */
        log_unit_info(u->name, LOG_EVENT_START, "adopted from an earlier corrald: main PID %d, %u restarts",
                      u->main.pid, u->n_restarts);
        unit_enter_running(u);
        u->running_since = u->started_at;
        if (u->config->health_url)
                unit_health_schedule(u);
        return 1;
}

static void unit_enter_failed_start(Unit *u, UnitResult result) {
        unit_health_stop(u);
        if (u->cgroup_fd >= 0)
                unit_cgroup_release(u);
        u->result = result;
        unit_set_state(u, UNIT_FAILED);
}

static void unit_record_start(Unit *u) {
        size_t burst = u->config->start_limit_burst;

        if (!u->start_times)
                return;
        if (u->n_start_times == burst) {
                memmove(u->start_times, u->start_times + 1, (burst - 1) * sizeof(usec_t));
                u->n_start_times--;
        }
        u->start_times[u->n_start_times++] = now(CLOCK_MONOTONIC);
}

static void unit_enter_running(Unit *u) {
        int r;

        u->running_since = now(CLOCK_MONOTONIC);
        unit_disarm_timer(u);
        unit_set_state(u, UNIT_RUNNING);
        unit_arm_watchdog(u);
        if (u->config->runtime_max > 0 && (r = unit_arm_timer(u, u->config->runtime_max)) < 0)
                log_unit_warning_errno(u->name, LOG_EVENT_NONE, r, "cannot arm runtime_max timer: %m, ignoring");
}

static int on_exec_report(sd_event_source *s, int fd, uint32_t revents, void *userdata);

static void unit_exec_done(Unit *u) {
        u->exec_source = sd_event_source_disable_unref(u->exec_source);
        u->exec_report_fd = safe_close(u->exec_report_fd);
        u->exec_path = mfree(u->exec_path);
        u->exec_directory = mfree(u->exec_directory);
}

static void unit_enter_start(Unit *u) {
        _cleanup_(start_context_done) StartContext c = { .output_fd = -EBADF };
        int fd = -EBADF, r;

        if (!u->config || u->removed || u->manager->shutting_down)
                return;
        unit_disarm_timer(u);
        u->result = UNIT_SUCCESS;
        u->exit_code = u->exit_status = 0;
        u->stop_requested = u->start_pending = false;
        u->watchdog_usec = u->config->watchdog_timeout;
        u->status_text = mfree(u->status_text);
        u->error_text = mfree(u->error_text);
        unit_record_start(u);

        r = cgroup_unit_create(u->manager->cgroup, u->name, &fd);
        if (r >= 0)
                r = unit_cgroup_attach(u, fd);
        if (r < 0) {
                unit_fail_message(u, r, "cannot create cgroup: %m");
                return unit_enter_failed_start(u, UNIT_FAILURE_RESOURCES);
        }
        if (unit_prepare(u, &c) < 0 || unit_apply_limits(u) < 0)
                return unit_enter_failed_start(u, UNIT_FAILURE_RESOURCES);

        SpawnParams p = {
                .path = c.path,
                .argv = c.argv,
                .envp = c.env,
                .directory = c.directory,
                .umask = u->config->umask,
                .credentials = &c.creds,
                .stdin_fd = u->manager->devnull_fd,
                .stdout_fd = c.output_fd >= 0 ? c.output_fd : STDOUT_FILENO,
                .stderr_fd = c.output_fd >= 0 ? c.output_fd : STDERR_FILENO,
                .cgroup_fd = u->cgroup_fd,
                .rlimits = c.rlimits,
                .rlimits_set = c.rlimits_set,
                .no_new_privs = u->config->no_new_privs,
        };
        /* Not waiting for the exec here: the report comes through the
         * loop, so that corrald starts the next unit meanwhile. */
        r = spawn_child_async(&p, &u->main, &u->exec_report_fd);
        if (r == -ENOSYS) {
                unit_fail_message(u, r, "clone3() is not available (Linux 5.7+, and not filtered by seccomp, e.g. "
                                        "systemd's RestrictNamespaces=): %m");
                return unit_enter_failed_start(u, UNIT_FAILURE_SPAWN);
        }
        if (r >= 0)
                r = sd_event_add_io(u->manager->event, &u->exec_source, u->exec_report_fd, EPOLLIN, on_exec_report, u);
        if (r < 0) {
                unit_fail_message(u, r, "clone %s: %m", u->name);
                unit_exec_done(u);
                pidref_done_sigkill_wait(&u->main);
                return unit_enter_failed_start(u, UNIT_FAILURE_SPAWN);
        }
        u->exec_path = TAKE_PTR(c.path);
        u->exec_directory = TAKE_PTR(c.directory);
        unit_set_state(u, UNIT_STARTING);
}

/* The main process has exec'd: the unit has started. */
static void unit_exec_succeeded(Unit *u) {
        int r;

        LogFields f = unit_fields(u);
        log_unit_fields(u->name, LOG_INFO, LOG_EVENT_START, &f, "started, main PID %d", u->main.pid);
        u->started_at = now(CLOCK_MONOTONIC);
        u->persisted_since = now(CLOCK_REALTIME);
        unit_persist(u);
        u->health_failures = 0;
        if (u->config->ready == READY_EXEC)
                unit_enter_running(u);
        if (u->config->health_url)
                unit_health_schedule(u);
        if (u->config->ready == READY_EXEC)
                return;
        if (u->config->start_timeout > 0 && (r = unit_arm_timer(u, u->config->start_timeout)) < 0)
                log_unit_warning_errno(u->name, LOG_EVENT_NONE, r, "cannot arm start timer: %m, ignoring");
}

/* A step before execve() failed: the child has exited (127); reap it. */
static void unit_exec_failed(Unit *u, int error, SpawnStep step) {
        const char *object;

        switch (step) {
        case SPAWN_STEP_EXEC:
                object = u->exec_path ?: u->config->command[0];
                break;
        case SPAWN_STEP_CHDIR:
                object = u->exec_directory ?: "/";
                break;
        case SPAWN_STEP_GROUPS:
        case SPAWN_STEP_GID:
        case SPAWN_STEP_UID:
                object = u->config->user ?: u->config->group;
                break;
        default:
                object = u->name;
        }
        unit_fail_message(u, error, "%s %s: %m", spawn_step_to_string(step), object);
        pidref_done_sigkill_wait(&u->main);
        unit_enter_failed_start(u, UNIT_FAILURE_SPAWN);
}

/* Reads the exec report. Returns true once it is in (and handled). */
static bool unit_exec_check(Unit *u) {
        SpawnStep step = SPAWN_STEP_EXEC;
        int r;

        if (u->exec_report_fd < 0)
                return true;
        r = spawn_read_report(u->exec_report_fd, &step);
        if (r == -EAGAIN)
                return false;
        if (u->state == UNIT_STARTING && r < 0)
                unit_exec_failed(u, r, step); /* names what it exec'd: before unit_exec_done() */
        else if (u->state == UNIT_STARTING)
                unit_exec_succeeded(u);
        /* else a stop came first: it deals with the process */
        unit_exec_done(u);
        return true;
}

static int on_exec_report(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        (void) unit_exec_check(userdata);
        return 0;
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
        if (!u->config || u->stop_requested || u->removed || u->manager->shutting_down)
                return false;
        if (service_config_prevents_restart(u->config, u->exit_code, u->exit_status))
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

/* The start_limit_burst-th start within start_limit_interval? */
static bool unit_start_limit_hit(const Unit *u) {
        size_t burst = u->config->start_limit_burst;

        return u->start_times && u->n_start_times >= burst &&
               now(CLOCK_MONOTONIC) - u->start_times[u->n_start_times - burst] < u->config->start_limit_interval;
}

static uint64_t random_u64(void) {
        uint64_t v = 0;

        if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v))
                v = now(CLOCK_MONOTONIC) * 6364136223846793005ULL; /* good enough for jitter */
        return v;
}

/* restart_delay doubled per consecutive restart, capped at
 * restart_delay_max, varied by ±RESTART_JITTER_PERCENT and kept within
 * [restart_delay, restart_delay_max]. */
static usec_t unit_next_delay(Unit *u) {
        const ServiceConfig *c = u->config;
        usec_t d = c->restart_delay, lo = c->restart_delay, hi = MAX(c->restart_delay_max, c->restart_delay);

        for (unsigned i = 0; i < u->backoff_step && d < hi; i++)
                d = d > hi / 2 ? hi : d * 2;
        d = MIN(d, hi);
        if (d > 0) {
                usec_t band = d * RESTART_JITTER_PERCENT / 100;
                if (band > 0)
                        d = d - band + random_u64() % (2 * band + 1);
        }
        return MIN(MAX(d, lo), hi);
}

static void unit_enter_restart(Unit *u) {
        char buf[FORMAT_TIMESPAN_MAX];
        int r;

        if (unit_start_limit_hit(u)) {
                char ibuf[FORMAT_TIMESPAN_MAX];
                u->result = UNIT_FAILURE_START_LIMIT;
                unit_fail_message(u, 0,
                                     "failed: started %u times within %s (start_limit_burst, start_limit_interval), "
                                     "not restarting",
                                     u->config->start_limit_burst,
                                     format_timespan(ibuf, sizeof(ibuf), u->config->start_limit_interval));
                return unit_set_state(u, UNIT_FAILED);
        }
        u->last_delay = unit_next_delay(u);
        r = unit_arm_timer(u, u->last_delay);
        if (r < 0) {
                unit_fail_message(u, r, "cannot arm restart timer: %m");
                return unit_set_state(u, UNIT_FAILED);
        }
        u->backoff_step++;
        u->n_restarts++;
        LogFields f = unit_fields(u);
        log_unit_fields(u->name, LOG_INFO, LOG_EVENT_RESTART, &f, "restarting in %s (restart=%s, result %s)",
                        format_timespan(buf, sizeof(buf), u->last_delay),
                        restart_policy_to_string(u->config->restart), unit_result_to_string(u->result));
        unit_set_state(u, UNIT_BACKOFF);
}

static void unit_release_port(Unit *u) {
        if (u->port == 0)
                return;
        ports_release(u->manager->ports, u->port);
        u->port = 0;
        manager_port_released(u->manager);
}

static void unit_enter_dead(Unit *u) {
        unit_exec_done(u);
        unit_disarm_timer(u);
        unit_health_stop(u);
        u->watchdog = sd_event_source_disable_unref(u->watchdog);
        unit_cgroup_release(u);
        if (u->removed) /* never starts again: its port is free once its processes are gone */
                unit_release_port(u);
        if (u->start_pending && !u->manager->shutting_down && !u->removed)
                return unit_enter_start(u);
        if (unit_restart_wanted(u))
                return unit_enter_restart(u);
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

        (void) cgroup_freeze(u->cgroup_fd, false); /* a frozen process cannot act on a signal */
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
}

/* requested: asked for (no restart afterwards); otherwise the unit ended
 * by itself (main exit, timeout, watchdog) and the restart policy decides. */
static void unit_enter_stopping(Unit *u, bool requested) {
        usec_t timeout = stop_timeout(u);
        int r;

        u->stop_requested = requested;
        u->killed = false;
        u->watchdog = sd_event_source_disable_unref(u->watchdog);
        unit_health_stop(u);
        unit_disarm_timer(u);
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
        uint64_t ooms = 0;
        if (si->si_status == SIGKILL && u->cgroup_fd >= 0 && cgroup_read_oom_kills(u->cgroup_fd, &ooms) >= 0 &&
            ooms > 0 && u->result == UNIT_SUCCESS) {
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

void unit_main_exited(Unit *u) {
        siginfo_t si;
        int r;

        if (!pidref_is_set(&u->main))
                return;
        /* It wrote its report before it exited: a failed step is a failed
         * start (not an exit to restart after); a good one started it. */
        if (u->exec_report_fd >= 0 && u->state == UNIT_STARTING) {
                (void) unit_exec_check(u);
                if (!pidref_is_set(&u->main))
                        return; /* failed start: reaped already */
        }
        u->main_source = sd_event_source_disable_unref(u->main_source);
        r = pidref_wait(&u->main, &si, WEXITED | WNOHANG);
        int status;
        if ((r == -ECHILD || (r >= 0 && si.si_pid == 0)) && pidref_get_exit_status(&u->main, &status) >= 0) {
                /* not our child (adopted, or MAINPID=): the kernel still knows (6.15) */
                si = (siginfo_t) { .si_pid = u->main.pid };
                si.si_code = WIFEXITED(status) ? CLD_EXITED : WCOREDUMP(status) ? CLD_DUMPED : CLD_KILLED;
                si.si_status = WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status);
                unit_record_exit(u, &si);
        } else if (r == -ECHILD || (r >= 0 && si.si_pid == 0))
                /* not our child, and the kernel cannot tell: its parent knows */
                log_unit_info(u->name, LOG_EVENT_EXIT, "main process %d exited (status unknown: not our child)",
                              u->main.pid);
        else if (r < 0) {
                log_unit_warning_errno(u->name, LOG_EVENT_EXIT, r, "cannot reap main process: %m");
                (void) waitid(P_PID, (id_t) u->main.pid, &si, WEXITED | WNOHANG);
        } else
                unit_record_exit(u, &si);
        pidref_done(&u->main);
        unit_dispatch(u, UNIT_EVENT_MAIN_EXITED);
}

static int on_main_pidfd(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        unit_main_exited(userdata);
        return 0;
}

/* MAINPID=: only a process inside this unit's cgroup. */
static void unit_set_main_pid(Unit *u, pid_t pid) {
        _cleanup_free_ char *owner = NULL;
        PidRef ref = PIDREF_NULL;
        int r;

        if (pid == u->main.pid)
                return;
        r = cgroup_pid_get_unit(u->manager->cgroup, pid, &owner);
        if (r < 0 || !streq(owner, u->name)) {
                log_unit_warning(u->name, LOG_EVENT_NONE, "MAINPID=%d is not a process of this unit, ignoring", pid);
                return;
        }
        r = pidref_set_pid(&ref, pid);
        if (r < 0)
                return (void) log_unit_warning_errno(u->name, LOG_EVENT_NONE, r, "MAINPID=%d: %m, ignoring", pid);
        u->main_source = sd_event_source_disable_unref(u->main_source);
        r = sd_event_add_io(u->manager->event, &u->main_source, ref.fd, EPOLLIN, on_main_pidfd, u);
        if (r < 0) {
                pidref_done(&ref);
                return (void) log_unit_warning_errno(u->name, LOG_EVENT_NONE, r, "MAINPID=%d: %m, ignoring", pid);
        }
        log_unit_info(u->name, LOG_EVENT_NONE, "main process is now %d (MAINPID=)", pid);
        pidref_done(&u->main); /* the old one, if alive, is now one process among others */
        u->main = ref;
        unit_persist(u);
}

int unit_kill(Unit *u, int sig) {
        if (u->cgroup_fd < 0)
                return -ESRCH;
        return cgroup_signal_all(u->cgroup_fd, sig, /* also_cont= */ false);
}

int unit_freeze(Unit *u, bool freeze) {
        int r;

        if (u->cgroup_fd < 0)
                return -ESRCH;
        r = cgroup_freeze(u->cgroup_fd, freeze);
        if (r >= 0)
                log_unit_info(u->name, LOG_EVENT_NONE, "%s", freeze ? "frozen" : "thawed");
        return r;
}

/* ---- Notify ---- */

static void unit_extend_timeout(Unit *u, usec_t usec) {
        usec_t deadline = now(CLOCK_MONOTONIC) + usec;

        if (!u->timer || deadline <= u->timer_deadline || (u->state != UNIT_STARTING && u->state != UNIT_STOPPING))
                return;
        u->timer_deadline = deadline;
        if (sd_event_source_set_time(u->timer, deadline) < 0)
                log_unit_warning(u->name, LOG_EVENT_NONE, "cannot extend the timeout, ignoring");
}

static bool unit_exec_check(Unit *u);

void unit_notify(Unit *u, const struct ucred *sender, const NotifyMessage *msg) {
        if (u->exec_report_fd >= 0 && !unit_exec_check(u))
                return; /* not exec'd yet: too early to listen */
        if (!u->config || (u->state != UNIT_STARTING && u->state != UNIT_RUNNING && u->state != UNIT_STOPPING))
                return;
        if (msg->status) {
                free(u->status_text);
                u->status_text = strdup(msg->status);
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

/* ---- The transition function ---- */

static void unit_fail_running(Unit *u, UnitResult result, const char *why) {
        u->result = result;
        unit_fail_message(u, 0, "%s", why);
        unit_enter_stopping(u, /* requested= */ false);
}

static void unit_main_exited_running(Unit *u) {
        if (u->config && u->config->exit_type == EXIT_TYPE_CGROUP && unit_cgroup_populated(u)) {
                log_unit_info(u->name, LOG_EVENT_NONE, "stays up while its cgroup is populated (exit_type=cgroup)");
                return;
        }
        /* The restart delay starts over once the unit has stayed up. */
        if (u->state == UNIT_RUNNING && now(CLOCK_MONOTONIC) - u->running_since >= u->config->restart_reset)
                u->backoff_step = 0;
        unit_enter_stopping(u, /* requested= */ false);
}

static void unit_dispatch_active(Unit *u, UnitEvent event) {
        switch (event) {
        case UNIT_EVENT_STOP:
                return unit_enter_stopping(u, /* requested= */ true);
        case UNIT_EVENT_MAIN_EXITED:
                return unit_main_exited_running(u);
        case UNIT_EVENT_CGROUP:
                /* exit_type=cgroup: the unit ends with its last process */
                if (!pidref_is_set(&u->main) && !unit_cgroup_populated(u))
                        unit_enter_stopping(u, /* requested= */ false);
                return;
        case UNIT_EVENT_READY:
                if (u->state == UNIT_STARTING) {
                        log_unit_info(u->name, LOG_EVENT_READY, "ready");
                        unit_enter_running(u);
                }
                return;
        case UNIT_EVENT_TIMER:
                if (u->state == UNIT_STARTING)
                        unit_fail_running(u, UNIT_FAILURE_TIMEOUT, "did not become ready within start_timeout");
                else
                        unit_fail_running(u, UNIT_FAILURE_TIMEOUT, "ran longer than runtime_max");
                return;
        case UNIT_EVENT_WATCHDOG:
                if (u->state == UNIT_RUNNING)
                        unit_fail_running(u, UNIT_FAILURE_WATCHDOG, "watchdog timeout: no WATCHDOG=1 in time");
                return;
        case UNIT_EVENT_HEALTHY:
                if (u->state == UNIT_STARTING && u->config->ready == READY_HEALTH) {
                        log_unit_info(u->name, LOG_EVENT_READY, "ready (health check passed)");
                        unit_enter_running(u);
                }
                return;
        case UNIT_EVENT_UNHEALTHY:
                unit_fail_running(u, UNIT_FAILURE_UNHEALTHY, "unhealthy: health_threshold checks failed in a row");
                return;
        default:
                return;
        }
}

static void unit_dispatch_stopping(Unit *u, UnitEvent event) {
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
                /* kill_mode=mixed: once the main process is gone, the rest
                 * is killed, as with systemd's KillMode=mixed. */
                if (u->stop_requested && !u->killed && u->config && u->config->kill_mode == KILL_MODE_MIXED &&
                    unit_cgroup_populated(u))
                        unit_kill_all(u, "main process gone (kill_mode=mixed)");
                unit_check_stopped(u);
                break;
        case UNIT_EVENT_CGROUP:
                unit_check_stopped(u);
                break;
        default:
                break;
        }
}

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
                unit_dispatch_active(u, event);
                break;
        case UNIT_STOPPING:
                unit_dispatch_stopping(u, event);
                break;
        default:
                break;
        }
}
