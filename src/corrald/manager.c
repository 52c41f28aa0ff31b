/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "manager.h"

#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>

#include "config-value.h"
#include "log.h"
#include "manager-deps.h"
#include "manager-heap.h"
#include "manager-reap.h"
#include "manager-request.h"
#include "name-index.h"
#include "output.h"
#include "poller.h"
#include "strv.h"

/* Margin added to the longest stop_timeout when asking systemd for time. */
#define SHUTDOWN_EXTEND_MARGIN (5 * USEC_PER_SEC)

static int manager_add_unit(Manager *m, const char *name, ServiceConfig *config, int instance, Unit **ret) {
        if (!ARRAY_GROW(m->units, m->n_units))
                return -ENOMEM;
        Unit *u = unit_new(&m->unit_ctx, name, config, instance);
        if (!u)
                return -ENOMEM;
        if (name_index_add(&m->by_name, u->name, u) < 0) {
                unit_free(u);
                return -ENOMEM;
        }
        m->units[m->n_units++] = u;
        manager_deps_add_unit(m, u);
        if (ret)
                *ret = u;
        return 0;
}

/* A unit that a reload or the job trimming dropped is found only while
 * nothing else has its name. */
Unit *manager_find_unit(Manager *m, const char *name) {
        Unit *dropped = NULL;
        NameIndexIter it;

        for (Unit *u = name_index_first(&m->by_name, name, &it); u; u = name_index_next(&m->by_name, &it)) {
                if (!u->removed)
                        return u;
                dropped = u;
        }
        return dropped;
}

/* "NAME" for a service without instances, "NAME@i" otherwise. */
static int unit_name_for(const ServiceConfig *s, int instance, char *buf, size_t size) {
        int n = instance < 0 ? snprintf(buf, size, "%s", s->name) : snprintf(buf, size, "%s@%d", s->name, instance);
        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

static void manager_schedule_gc(Manager *m) {
        (void) sd_event_source_set_enabled(m->gc_source, SD_EVENT_ONESHOT);
}

/* A unit gave its port back: units that failed for want of one are
 * started again (deferred to the next loop iteration). */
static void on_port_released(Unit *u, void *userdata) {
        Manager *m = userdata;

        m->port_released = true;
        manager_schedule_gc(m);
}

static void on_unit_changed(Unit *u, UnitState old_state, void *userdata);
static void manager_notify_status(Manager *m);

static int on_status(sd_event_source *s, void *userdata) {
        manager_notify_status(userdata);
        return 0;
}

/* ---- Event sources ---- */

static void on_watch(int wd, void *userdata) {
        Manager *m = userdata;
        Unit *u;

        if (wd < 0) { /* the inotify queue overflowed: look at every unit */
                for (size_t i = 0; i < m->n_units; i++)
                        unit_cgroup_changed(m->units[i]);
                return;
        }
        u = unit_context_find_watch(&m->unit_ctx, wd);
        if (u)
                unit_cgroup_changed(u);
}

static int on_inotify(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;
        int r = cgroup_tree_read_watches(m->cgroup, on_watch, m);

        if (r < 0)
                log_warning_errno(r, "cannot read inotify events: %m, ignoring");
        return 0;
}

static int on_terminate(sd_event_source *s, const struct signalfd_siginfo *ssi, void *userdata) {
        Manager *m = userdata;
        const char *sig = ssi->ssi_signo == SIGINT ? "SIGINT" : "SIGTERM";

        if (m->shutting_down) {
                log_notice("received %s while stopping already, ignoring", sig);
                return 0;
        }
        log_info("received %s, stopping every unit", sig);
        manager_shutdown(m);
        return 0;
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *ssi, void *userdata) {
        log_info("received SIGHUP, reloading the configuration");
        (void) manager_reload(userdata, /* ret_counts= */ NULL);
        return 0;
}

/* logrotate's postrotate: every output file is opened again by its path. */
static int on_sigusr1(sd_event_source *s, const struct signalfd_siginfo *ssi, void *userdata) {
        Manager *m = userdata;

        log_info("received SIGUSR1, reopening output files");
        for (size_t i = 0; i < m->n_units; i++)
                unit_output_reopen_files(m->units[i]);
        return 0;
}

static void on_output_line(Unit *u, const OutputLine *l, void *userdata) {
        Manager *m = userdata;

        if (m->output_subscriber)
                m->output_subscriber(u->name, l, m->output_userdata);
}

void manager_subscribe_output(Manager *m, ManagerOutputSubscriber cb, void *userdata) {
        m->output_subscriber = cb;
        m->output_userdata = userdata;
}

/* A datagram on the notify socket: it counts for the unit whose cgroup
 * holds the sender, and for nothing else. */
static void on_notify(const struct ucred *sender, const NotifyMessage *msg, void *userdata) {
        _cleanup_free_ char *name = NULL;
        Manager *m = userdata;
        Unit *u = NULL;

        if (cgroup_pid_get_unit(m->cgroup, sender->pid, &name) >= 0)
                u = manager_find_unit(m, name);
        if (!u) {
                log_debug("notify message from PID %d, which is in no unit, ignoring", sender->pid);
                return;
        }
        unit_notify(u, sender, msg);
}

/* ---- Events for subscribers ---- */

/* One event to every subscriber, and to the requests that wait. */
static void manager_deliver(Manager *m, const ManagerEvent *ev) {
        for (size_t k = 0; k < m->n_subscribers; k++)
                m->subscribers[k].cb(ev, m->subscribers[k].userdata);
        if (ev->type == MANAGER_EVENT_UNIT_CHANGED || ev->type == MANAGER_EVENT_UNIT_REMOVED)
                manager_requests_process(m, ev);
}

/* Queues an event; a unit whose removal is queued is no longer among
 * m->units and is freed once the event is delivered. On ENOMEM the event
 * is lost (logged) — except a removal, whose unit is then freed at once. */
static void manager_queue_event(Manager *m, ManagerEventType type, Unit *u, UnitState old_state) {
        ManagerEvent *q = ARRAY_GROW(m->queue, m->n_queue);

        if (!q && type == MANAGER_EVENT_UNIT_REMOVED) {
                /* Out of memory: a removal is delivered here and now (from
                 * the clean-up, not from a transition), for subscribers may
                 * hold the unit until they hear of it. */
                ManagerEvent ev = { .type = type,
                                    .unit = u,
                                    .name = u->name,
                                    .old_state = old_state,
                                    .new_state = u->state,
                                    .seq = ++m->event_seq };
                manager_deliver(m, &ev);
                unit_free(u);
                return;
        }
        if (!q) {
                log_warning("out of memory: an event of %s is lost", u->name);
                return;
        }
        m->queue[m->n_queue++] = (ManagerEvent) {
                .type = type,
                .unit = u,
                .name = u->name,
                .old_state = old_state,
                .new_state = u->state,
                .seq = ++m->event_seq,
                .result = u->result,
        };
        (void) sd_event_source_set_enabled(m->queue_source, SD_EVENT_ONESHOT);
}

/* Queues a health check's end or a reload (u NULL), for the metrics. */
static void manager_queue_outcome(Manager *m, ManagerEventType type, Unit *u, bool ok) {
        ManagerEvent *q = ARRAY_GROW(m->queue, m->n_queue);

        if (!q)
                return; /* a count is lost, nothing else */
        m->queue[m->n_queue++] = (ManagerEvent) {
                .type = type,
                .unit = u,
                .name = u ? u->name : NULL,
                .old_state = u ? u->state : UNIT_INACTIVE,
                .new_state = u ? u->state : UNIT_INACTIVE,
                .seq = ++m->event_seq,
                .ok = ok,
        };
        (void) sd_event_source_set_enabled(m->queue_source, SD_EVENT_ONESHOT);
}

static void on_health_checked(Unit *u, bool ok, void *userdata) {
        manager_queue_outcome(userdata, MANAGER_EVENT_HEALTH_CHECKED, u, ok);
}

/* Delivers what is queued now; what subscribers cause is queued anew and
 * delivered in the next pass (Redis ae.c's maxId: a handler cannot add
 * work to the pass that is running). */
static int on_queue(sd_event_source *s, void *userdata) {
        Manager *m = userdata;
        _cleanup_free_ ManagerEvent *q = TAKE_PTR(m->queue);
        size_t n = m->n_queue;

        m->n_queue = 0;
        for (size_t i = 0; i < n; i++) {
                manager_deliver(m, &q[i]);
                if (q[i].type == MANAGER_EVENT_UNIT_REMOVED)
                        unit_free(q[i].unit);
        }
        if (m->n_queue == 0)
                manager_requests_process(m, /* ev= */ NULL);
        return 0;
}

void manager_kick(Manager *m) {
        (void) sd_event_source_set_enabled(m->queue_source, SD_EVENT_ONESHOT);
}

int manager_subscribe(Manager *m, ManagerSubscriber cb, void *userdata) {
        void *l = reallocarray(m->subscribers, m->n_subscribers + 1, sizeof(*m->subscribers));

        if (!l)
                return -ENOMEM;
        m->subscribers = l;
        m->subscribers[m->n_subscribers].cb = cb;
        m->subscribers[m->n_subscribers++].userdata = userdata;
        return 0;
}

static bool unit_is_collected(void *value, _unused_ void *userdata) {
        Unit *u = value;
        return u->removed && unit_is_inactive(u);
}

static int on_gc(sd_event_source *s, void *userdata) {
        Manager *m = userdata;
        size_t k = 0, n_jobs = 0;

        name_index_filter(&m->by_name, unit_is_collected, NULL);
        for (size_t i = 0; i < m->n_jobs; i++)
                if (!unit_is_collected(m->jobs[i], NULL))
                        m->jobs[n_jobs++] = m->jobs[i];
        m->n_jobs = n_jobs;
        for (size_t i = 0; i < m->n_units; i++) {
                Unit *u = m->units[i];
                if (unit_is_collected(u, NULL))
                        manager_queue_event(m, MANAGER_EVENT_UNIT_REMOVED, u, u->state);
                else
                        m->units[k++] = u;
        }
        m->n_units = k;
        if (m->port_released && !m->shutting_down) {
                m->port_released = false;
                for (size_t i = 0; i < m->n_units; i++) {
                        Unit *u = m->units[i];
                        if (u->state == UNIT_FAILED && u->port_starved && u->config && u->config->autostart &&
                            !u->removed)
                                unit_dispatch(u, UNIT_EVENT_START);
                }
        }
        return 0;
}

static int on_own_watchdog(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        (void) sd_notify(/* unset_environment= */ 0, "WATCHDOG=1");
        (void) sd_event_source_set_time_relative(s, m->watchdog_usec / 2);
        (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        return 0;
}

/* WATCHDOG=1 at half of WATCHDOG_USEC when systemd asks for a watchdog. */
static int manager_setup_own_watchdog(Manager *m) {
        if (sd_watchdog_enabled(/* unset_environment= */ 0, &m->watchdog_usec) <= 0 || m->watchdog_usec == 0)
                return 0;
        return sd_event_add_time_relative(m->event, &m->watchdog_source, CLOCK_MONOTONIC, m->watchdog_usec / 2,
                                          /* accuracy= */ 1, on_own_watchdog, m);
}

/* Beside the control socket, named after the subtree (notify.c): units
 * adopted after a crash of corrald still reach it. */
static int manager_open_notify(Manager *m) {
        return notify_socket_open_supervisor(m->event, m->config->control_socket, m->cgroup->path, on_notify, m,
                                             &m->notify);
}

static int manager_add_sources(Manager *m) {
        int r;

        r = manager_reaper_setup(m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, &m->sigterm_source, SIGTERM, on_terminate, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, &m->sigint_source, SIGINT, on_terminate, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, &m->sighup_source, SIGHUP, on_sighup, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, &m->sigusr1_source, SIGUSR1, on_sigusr1, m);
        if (r >= 0)
                r = sd_event_add_io(m->event, &m->inotify_source, m->cgroup->inotify_fd, EPOLLIN, on_inotify, m);
        if (r >= 0)
                r = sd_event_add_defer(m->event, &m->status_source, on_status, m);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->status_source, SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_source_set_priority(m->status_source, SD_EVENT_PRIORITY_IDLE);
        if (r >= 0)
                r = sd_event_add_defer(m->event, &m->gc_source, on_gc, m);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->gc_source, SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_add_defer(m->event, &m->queue_source, on_queue, m);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->queue_source, SD_EVENT_OFF);
        if (r >= 0)
                r = manager_deps_setup(m);
        if (r >= 0)
                r = manager_open_notify(m);
        if (r >= 0)
                r = manager_setup_own_watchdog(m);
        if (r < 0)
                return r;
        return 0;
}

int manager_new(sd_event *event, Config *config, char *const *config_files, CgroupTree *tree, Manager **ret) {
        _cleanup_(manager_freep) Manager *m = NULL;
        int r;

        m = calloc(1, sizeof(Manager));
        if (!m)
                return -ENOMEM;
        m->event = sd_event_ref(event);
        m->notify_systemd = getenv("NOTIFY_SOCKET") != NULL;
        m->devnull_fd = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (m->devnull_fd < 0)
                return -errno;
        if (config_files && !(m->config_files = strv_copy(config_files)))
                return -ENOMEM;
        r = health_checker_new(event, &m->health);
        if (r < 0)
                return r;
        r = ports_new(config->port_min, config->port_max, &m->ports);
        if (r < 0)
                return r;
        /* output = inherit: with the time when corrald's own lines carry it */
        r = output_terminal_new(STDOUT_FILENO, STDERR_FILENO, /* timestamps= */ !log_target_is_journal(), &m->terminal);
        if (r < 0)
                return r;
        m->cgroup = tree;
        m->config = config;
        r = manager_add_sources(m);
        if (r < 0) {
                m->cgroup = NULL; /* not taken on failure */
                m->config = NULL;
                return r;
        }
        m->unit_ctx = (UnitContext) {
                .event = m->event,
                .cgroup = m->cgroup,
                .ports = m->ports,
                .notify = m->notify,
                .health = m->health,
                .pidfds = m->pidfds,
                .devnull_fd = m->devnull_fd,
                .ops = &unit_ops_default,
                .state_changed = on_unit_changed,
                .port_released = on_port_released,
                .health_checked = on_health_checked,
                .terminal = m->terminal,
                .output_line = on_output_line,
                .userdata = m,
        };
        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        manager_requests_free(m);
        for (size_t i = 0; i < m->n_units; i++)
                unit_free(m->units[i]);
        free(m->units);
        free(m->jobs);
        name_index_done(&m->by_name);
        manager_deps_done(m);
        for (size_t i = 0; i < m->n_queue; i++)
                if (m->queue[i].type == MANAGER_EVENT_UNIT_REMOVED)
                        unit_free(m->queue[i].unit);
        free(m->queue);
        free(m->subscribers);
        sd_event_source_disable_unref(m->queue_source);
        health_checker_free(m->health);
        ports_free(m->ports);
        sd_event_source_disable_unref(m->sigchld_source);
        sd_event_source_disable_unref(m->reap_source);
        poller_free(m->pidfds); /* after the units, which leave it */
        sd_event_source_disable_unref(m->sigterm_source);
        sd_event_source_disable_unref(m->sigint_source);
        sd_event_source_disable_unref(m->sighup_source);
        sd_event_source_disable_unref(m->sigusr1_source);
        sd_event_source_disable_unref(m->inotify_source);
        sd_event_source_disable_unref(m->gc_source);
        sd_event_source_disable_unref(m->status_source);
        sd_event_source_disable_unref(m->watchdog_source);
        notify_socket_free(m->notify);
        output_terminal_free(m->terminal); /* after the units: it writes what they left */
        safe_close(m->devnull_fd);
        unit_context_done(&m->unit_ctx); /* after the units: their last cgroups */
        cgroup_tree_free(m->cgroup);
        config_free(m->config);
        strv_free(m->config_files);
        free(m->reload_error);
        sd_event_unref(m->event);
        free(m);
        return NULL;
}

/* ---- Start-up ---- */

static int manager_add_service(Manager *m, ServiceConfig *s) {
        char name[CONFIG_NAME_MAX + 16];
        int r;

        for (int i = s->instances > 0 ? 0 : -1; i < (int) s->instances; i++) {
                r = unit_name_for(s, i, name, sizeof(name));
                if (r >= 0)
                        r = manager_add_unit(m, name, s, i, NULL);
                if (r < 0)
                        return log_error_errno(r, "cannot create unit %s: %m", name);
        }
        return 0;
}

/* Takes over what an earlier corrald left in the subtree: a unit still
 * configured the same, with its very main process, is adopted untouched;
 * anything else is stopped (a configured unit of the same name starts
 * afresh once its old cgroup is empty and gone). */
static int manager_stop_leftovers(Manager *m) {
        _cleanup_strv_free_ char **names = NULL;
        int r;

        r = cgroup_tree_list(m->cgroup, &names);
        if (r < 0)
                return log_error_errno(r, "cannot list %s: %m", m->cgroup->fs_path);
        for (char **n = names; *n; n++) {
                Unit *u = manager_find_unit(m, *n);
                if (!cgroup_name_is_valid(*n)) {
                        log_warning("%s/%s is not a corral unit, leaving it alone", m->cgroup->path, *n);
                        continue;
                }
                if (!u) {
                        r = manager_add_unit(m, *n, /* config= */ NULL, /* instance= */ -1, &u);
                        if (r < 0)
                                return log_error_errno(r, "cannot track %s: %m", *n);
                        u->removed = true; /* forgotten once stopped */
                }
                unit_dispatch(u, UNIT_EVENT_ADOPT); /* adopted, or stopped as a leftover */
        }
        return 0;
}

/* STATUS= for systemd (a no-op without NOTIFY_SOCKET): one line of counts. */
static void manager_notify_status(Manager *m) {
        unsigned count[_UNIT_STATE_MAX] = {};

        if (!m->notify_systemd)
                return;
        for (size_t i = 0; i < m->n_units; i++)
                if (m->units[i]->config && !m->units[i]->removed)
                        count[m->units[i]->state]++;
        (void) sd_notifyf(/* unset_environment= */ 0, "STATUS=%u running, %u failed, %u starting, %u stopping%s%s",
                          count[UNIT_RUNNING], count[UNIT_FAILED], count[UNIT_STARTING] + count[UNIT_BACKOFF],
                          count[UNIT_STOPPING], m->reload_error ? "; reload failed: " : "", m->reload_error ?: "");
}

int manager_startup(Manager *m) {
        int r;

        r = manager_deps_load(m, m->config);
        if (r < 0)
                return log_error_errno(r, "cannot order the units: %m");
        for (size_t i = 0; i < m->config->n_services; i++)
                if ((r = manager_add_service(m, m->config->services[i])) < 0)
                        return r;
        r = manager_stop_leftovers(m);
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->n_units; i++) {
                Unit *u = m->units[i];
                if (u->config && u->config->autostart)
                        manager_deps_start(m, u); /* a stopping leftover starts once empty */
        }
        m->started = true;
        manager_notify_status(m);
        (void) sd_notify(/* unset_environment= */ 0, "READY=1");
        return 0;
}

/* ---- Reload ---- */

int manager_start_unit(Manager *m, Unit *u) {
        if (m->shutting_down)
                return -ESHUTDOWN;
        if (!u->config || u->removed)
                return -ENOENT;
        if (u->is_job)
                return -EINVAL; /* a job runs once: submit another */
        unit_reset_failure_counters(u);
        manager_deps_start(m, u);
        return 0;
}

int manager_stop_unit(Manager *m, Unit *u) {
        manager_deps_stop(m, u, /* with_requirers= */ true);
        return 0;
}

int manager_restart_unit(Manager *m, Unit *u) {
        if (m->shutting_down)
                return -ESHUTDOWN;
        if (!u->config || u->removed)
                return -ENOENT;
        if (u->is_job)
                return -EINVAL;
        unit_dispatch(u, UNIT_EVENT_RESTART);
        return 0;
}

/* ---- Jobs ---- */

/* Finished jobs are kept so that their result can be read, up to this
 * many; the oldest go first. */
#define JOBS_FINISHED_MAX 1000

static int job_config(Manager *m, const JobSpec *spec, const char *name, ServiceConfig **ret) {
        ServiceConfig *s = service_config_new(name, "<job>", 0);
        int r = 0;

        if (!s)
                return -ENOMEM;
        s->autostart = false;
        s->restart = RESTART_NEVER;
        if (spec->timeout > 0 && !service_config_block(s, CONFIG_BLOCK_TUNING))
                r = -ENOMEM;
        else if (spec->timeout > 0)
                s->tuning->runtime_max = spec->timeout;
        s->stop_signal = spec->stop_signal > 0 ? spec->stop_signal : SIGTERM;
        s->stop_timeout = spec->stop_timeout != USEC_INFINITY ? spec->stop_timeout : m->config->job_stop_timeout;
        s->kill_mode = spec->kill_mode >= 0 ? spec->kill_mode : KILL_MODE_CONTROL_GROUP;
        for (CgroupLimit l = 0; r >= 0 && l < _LIMIT_MAX; l++)
                if (spec->limit[l])
                        r = service_config_set_limit(s, l, spec->limit[l]);
        /* A job's words are taken as they are: no ${…} expansion. */
        for (char **a = spec->argv; r >= 0 && *a; a++)
                r = config_value_escape_append(&s->command, *a);
        for (char **e = spec->env; r >= 0 && e && *e; e++) {
                _cleanup_free_ char *x = config_value_escape(*e);
                r = x ? strv_env_set(&s->environment, x) : -ENOMEM;
        }
        if (r >= 0 && spec->cwd && !(s->directory = strdup(spec->cwd)))
                r = -ENOMEM;
        if (r >= 0 && spec->uid != 0 && asprintf(&s->user, "%u", (unsigned) spec->uid) < 0)
                r = -ENOMEM;
        if (r >= 0)
                r = service_config_pack(s);
        if (r < 0) {
                service_config_unref(s);
                return r;
        }
        *ret = s;
        return 0;
}

static int job_name(Manager *m, const JobSpec *spec, char *buf, size_t size) {
        if (spec->name) {
                if (!config_name_is_valid(spec->name) || streq(spec->name, CONFIG_RESERVED_NAME))
                        return -EINVAL;
                snprintf(buf, size, "%s", spec->name);
                return manager_find_unit(m, buf) ? -EEXIST : 0;
        }
        for (int tries = 0; tries < 16; tries++) {
                uint32_t v = (uint32_t) (now(CLOCK_MONOTONIC) * 2654435761U) ^ (uint32_t) random();
                snprintf(buf, size, "job-%08x", v);
                if (!manager_find_unit(m, buf))
                        return 0;
        }
        return -EEXIST;
}

static int manager_check_job_bounds(Manager *m, uid_t uid);

int manager_run_job(Manager *m, const JobSpec *spec, Unit **ret) {
        char name[CONFIG_NAME_MAX + 1];
        ServiceConfig *s = NULL;
        Unit *u;
        int r;

        if (m->shutting_down)
                return -ESHUTDOWN;
        if (!spec->argv || !spec->argv[0] || (spec->cwd && spec->cwd[0] != '/'))
                return -EINVAL;
        for (char **e = spec->env; e && *e; e++)
                if (!strchr(*e, '=') || **e == '=')
                        return -EINVAL;
        if (spec->stop_signal < 0 || spec->stop_signal >= _NSIG)
                return -EINVAL;
        r = manager_check_job_bounds(m, spec->uid);
        if (r < 0)
                return r;
        r = job_name(m, spec, name, sizeof(name));
        if (r < 0)
                return r;
        if (!ARRAY_GROW(m->jobs, m->n_jobs))
                return -ENOMEM;
        r = job_config(m, spec, name, &s);
        if (r < 0)
                return r;
        r = manager_add_unit(m, name, s, /* instance= */ -1, &u);
        service_config_unref(s); /* the unit holds it now */
        if (r < 0)
                return r;
        u->is_job = true;
        m->jobs[m->n_jobs++] = u;
        u->owner_uid = spec->uid;
        for (size_t i = 0; i < ELEMENTSOF(u->stdio); i++)
                u->stdio[i] = spec->stdio[i] >= 0 ? fcntl(spec->stdio[i], F_DUPFD_CLOEXEC, 3) : -EBADF;
        for (size_t i = 0; i < ELEMENTSOF(u->stdio); i++)
                if (spec->stdio[i] >= 0 && u->stdio[i] < 0) {
                        r = -errno;
                        u->removed = true; /* never started: dropped with the next clean-up */
                        manager_schedule_gc(m);
                        return r;
                }
        for (size_t i = 0; i < ELEMENTSOF(u->stdio); i++)
                safe_close(spec->stdio[i]); /* taken */
        unit_dispatch(u, UNIT_EVENT_START);
        *ret = u;
        return 0;
}

/* job_max running jobs in all, job_max_per_user per uid but root's. */
static int manager_check_job_bounds(Manager *m, uid_t uid) {
        unsigned all = 0, mine = 0;

        for (size_t i = 0; i < m->n_jobs; i++) {
                const Unit *u = m->jobs[i];
                if (unit_is_inactive(u))
                        continue;
                all++;
                if (u->owner_uid == uid)
                        mine++;
        }
        if (all >= m->config->job_max || (uid != 0 && mine >= m->config->job_max_per_user))
                return -EAGAIN;
        return 0;
}

int manager_cancel_job(Manager *m, Unit *u, int sig, usec_t grace) {
        if (!u->is_job)
                return -EINVAL;
        if (sig < 0 || sig >= _NSIG)
                return -EINVAL;
        if (unit_is_inactive(u))
                return 0;
        /* A job already stopping keeps its grace running, but no grace at
         * all ends its processes now (the stop timer still ends with
         * cgroup.kill). */
        if (u->state == UNIT_STOPPING && grace == 0) {
                log_unit_info(u->name, LOG_EVENT_STOP, "cancelled again, without grace: SIGKILL");
                int r = unit_kill(u, SIGKILL);
                return r == -ESRCH ? 0 : MIN(r, 0);
        }
        /* a job's configuration is its own (job_config()), and it stops once */
        if (sig > 0 && u->config)
                u->config->stop_signal = sig;
        if (grace != USEC_INFINITY && u->config)
                u->config->stop_timeout = grace;
        if (u->result == UNIT_SUCCESS)
                u->result = UNIT_FAILURE_CANCELLED;
        log_unit_info(u->name, LOG_EVENT_STOP, "cancelled");
        unit_dispatch(u, UNIT_EVENT_STOP);
        return 0;
}

/* Keeps at most JOBS_FINISHED_MAX finished jobs. */
static void manager_trim_jobs(Manager *m) {
        size_t finished = 0, trimmed = 0;

        for (size_t i = 0; i < m->n_jobs; i++)
                if (unit_is_inactive(m->jobs[i]) && !m->jobs[i]->removed)
                        finished++;
        for (size_t i = 0; i < m->n_jobs && finished > JOBS_FINISHED_MAX; i++) {
                Unit *u = m->jobs[i]; /* jobs are kept in creation order: oldest first */
                if (unit_is_inactive(u) && !u->removed) {
                        u->removed = true;
                        finished--;
                        trimmed++;
                }
        }
        if (trimmed > 0)
                manager_schedule_gc(m);
}

/* The unit of a service's instance (or of the service without
 * instances) that is not a job and not being removed. */
static Unit *manager_find_service_unit(Manager *m, const char *name) {
        NameIndexIter it;

        for (Unit *u = name_index_first(&m->by_name, name, &it); u; u = name_index_next(&m->by_name, &it))
                if (!u->removed && !u->is_job)
                        return u;
        return NULL;
}

/* A unit a reload removed (or a leftover no service claimed) that is still
 * stopping: when its name comes back it starts once stopped — a second
 * unit could not create the cgroup it still populates. */
static Unit *manager_find_leaving_unit(Manager *m, const char *name) {
        NameIndexIter it;

        for (Unit *u = name_index_first(&m->by_name, name, &it); u; u = name_index_next(&m->by_name, &it))
                if (u->removed && !u->is_job && !unit_is_inactive(u))
                        return u;
        return NULL;
}

/* An ended job of that name makes way for the service; a running one
 * keeps its name (the service starts at a later reload). Returns true
 * when the name is free. */
static bool manager_claim_name(Manager *m, const ServiceConfig *s, const char *name) {
        Unit *job = manager_find_unit(m, name);

        if (!job || !job->is_job || job->removed)
                return true;
        if (!unit_is_inactive(job)) {
                log_error(
                        "[program:%s]: a job named %s is running; the service does not start until it has ended "
                        "and corrald reloads again",
                        s->name, name);
                return false;
        }
        job->removed = true;
        manager_schedule_gc(m);
        return true;
}

typedef struct ReloadWork {
        ReloadCounts counts;
        Unit **restart; /* changed units that run: restarted as one request (rolling per service) */
        size_t n_restart;
} ReloadWork;

static int reload_restart_later(ReloadWork *w, Unit *u) {
        Unit **l = reallocarray(w->restart, w->n_restart + 2, sizeof(Unit *));

        if (!l)
                return -ENOMEM;
        w->restart = l;
        w->restart[w->n_restart++] = u;
        w->restart[w->n_restart] = NULL;
        return 0;
}

/* One instance of a service the plan keeps (changed or not). */
static int manager_reload_instance(Manager *m, ServiceConfig *s, int instance, ReloadWork *w) {
        char name[CONFIG_NAME_MAX + 16];
        Unit *u;
        int r;

        r = unit_name_for(s, instance, name, sizeof(name));
        if (r < 0)
                return r;
        u = manager_find_service_unit(m, name);
        if (!u && (u = manager_find_leaving_unit(m, name))) {
                u->removed = false;
                u->instance = instance;
                unit_set_config(u, s);
                manager_deps_add_unit(m, u);
                w->counts.added++;
                if (s->autostart)
                        manager_deps_start(m, u); /* stopping: a start once it has stopped */
                return 0;
        }
        if (!u) {
                if (!manager_claim_name(m, s, name))
                        return 0;
                r = manager_add_unit(m, name, s, instance, &u);
                if (r < 0)
                        return r;
                w->counts.added++;
                if (s->autostart)
                        manager_deps_start(m, u);
                return 0;
        }
        ServiceChange change = u->config ? service_config_compare(u->config, s) : SERVICE_CHANGED;
        bool active = !unit_is_inactive(u);
        unit_set_config(u, s);
        if (change != SERVICE_CHANGED) {
                w->counts.unchanged++;
                if (change == SERVICE_LIMITS_CHANGED && active && unit_apply_limits(u) >= 0)
                        log_unit_info(u->name, LOG_EVENT_RELOAD, "limits changed, applied in place");
                if (u->state == UNIT_FAILED && s->autostart) {
                        unit_reset_failure_counters(u);
                        manager_deps_start(m, u);
                }
                return 0;
        }
        w->counts.changed++;
        if (active)
                return reload_restart_later(w, u);
        if (s->autostart) {
                unit_reset_failure_counters(u);
                manager_deps_start(m, u);
        }
        return 0;
}

static void manager_remove_unit(Manager *m, Unit *u, ReloadWork *w) {
        u->removed = true;
        w->counts.removed++;
        unit_dispatch(u, UNIT_EVENT_STOP);
}

/* Units of a service that is gone, or instances past a smaller count. */
static void manager_remove_instances(Manager *m, const char *service, unsigned keep, bool all, ReloadWork *w) {
        for (size_t i = 0; i < m->n_units; i++) {
                Unit *u = m->units[i];
                if (u->removed || u->is_job || !u->config || !streq(u->config->name, service))
                        continue;
                if (all || u->instance >= (int) keep || (keep > 0 && u->instance < 0) ||
                    (keep == 0 && u->instance >= 0))
                        manager_remove_unit(m, u, w);
        }
}

/* Applies the plan of config_diff(): added services start, removed ones
 * stop, changed ones restart (several instances of one roll,
 * restart_parallel at a time), limits change in place, the rest is not
 * touched; instances grow and shrink from the top. */
static int manager_apply(Manager *m, Config *new, ReloadCounts *c) {
        _cleanup_(config_plan_done) ConfigPlan plan = {};
        ReloadWork w = {};
        int r;

        r = config_diff(m->config, new, &plan);
        if (r < 0)
                return r;
        for (size_t i = 0; i < plan.n && r >= 0; i++) {
                const ServiceDiff *d = &plan.items[i];
                if (d->change == SERVICE_REMOVED) {
                        manager_remove_instances(m, d->old->name, /* keep= */ 0, /* all= */ true, &w);
                        continue;
                }
                manager_remove_instances(m, d->new->name, d->new->instances, /* all= */ false, &w);
                for (int k = d->new->instances > 0 ? 0 : -1; r >= 0 && k < (int) d->new->instances; k++)
                        r = manager_reload_instance(m, d->new, k, &w);
        }
        /* leftover units whose service is configured again were handled by
         * name above; leftovers of no service stay removed */
        if (r >= 0 && w.restart)
                r = manager_request_new(m, w.restart, UNIT_REQUEST_RESTART, /* flags= */ 0, /* handler= */ NULL,
                                        /* userdata= */ NULL, /* ret= */ NULL, /* ret_bad= */ NULL);
        free(w.restart);
        manager_schedule_gc(m);
        *c = w.counts;
        return r;
}

int manager_reload(Manager *m, ReloadCounts *ret_counts) {
        _cleanup_(config_freep) Config *new = NULL;
        _cleanup_free_ char *error = NULL;
        ReloadCounts c = {};
        int r;

        if (m->shutting_down) {
                log_notice("not reloading: corrald is stopping");
                return -ESHUTDOWN;
        }
        (void) sd_notifyf(/* unset_environment= */ 0, "RELOADING=1\nMONOTONIC_USEC=%llu",
                          (unsigned long long) now(CLOCK_MONOTONIC));
        r = config_load(m->config_files, &new, &error);
        if (r < 0) {
                log_internal(LOG_ERR, r, /* unit= */ NULL, LOG_EVENT_RELOAD, "reload failed, nothing changed: %s",
                             error ?: "cannot load the configuration");
                free(m->reload_error);
                m->reload_error = TAKE_PTR(error);
        } else {
                if (!streq_ptr(new->cgroup, m->config->cgroup))
                        log_warning("a change of [corral] cgroup takes effect only when corrald starts, ignoring");
                log_set_max_level(new->log_level);
                m->reload_error = mfree(m->reload_error);
                if (manager_deps_load(m, new) < 0)
                        log_error("out of memory: the order of the new configuration is not applied");
                r = manager_apply(m, new, &c);
                if (r < 0)
                        log_error_errno(r, "reload applied partly: %m");
                config_free(m->config);
                m->config = TAKE_PTR(new);
                log_internal(LOG_INFO, 0, /* unit= */ NULL, LOG_EVENT_RELOAD,
                             "reloaded: %u added, %u removed, %u changed, %u unchanged", c.added, c.removed, c.changed,
                             c.unchanged);
        }
        manager_notify_status(m);
        (void) sd_notify(/* unset_environment= */ 0, "READY=1");
        manager_queue_outcome(m, MANAGER_EVENT_RELOADED, /* u= */ NULL, r >= 0);
        if (r >= 0 && ret_counts)
                *ret_counts = c;
        return r;
}

/* ---- Shutdown ---- */

static void manager_check_shutdown(Manager *m) {
        if (!m->shutting_down)
                return;
        for (size_t i = 0; i < m->n_units; i++)
                if (!unit_is_inactive(m->units[i]))
                        return;
        log_info("every unit is stopped");
        manager_notify_status(m);
        unit_context_flush(&m->unit_ctx); /* their cgroups, before the subtree goes */
        (void) sd_event_exit(m->event, 0);
}

void manager_shutdown(Manager *m) {
        usec_t longest = 0;

        if (m->shutting_down)
                return;
        m->shutting_down = m->unit_ctx.shutting_down = true;
        for (size_t i = 0; i < m->n_units; i++)
                if (m->units[i]->config)
                        longest = MAX(longest, m->units[i]->config->stop_timeout);
        /* units that depend on others stop first: one stop after another */
        (void) sd_notifyf(/* unset_environment= */ 0, "STOPPING=1\nEXTEND_TIMEOUT_USEC=%llu",
                          (unsigned long long) (longest * manager_deps_stop_rounds(m) + SHUTDOWN_EXTEND_MARGIN));
        manager_deps_stop_all(m);
        manager_check_shutdown(m);
}

/* After each state change of a unit: queues the change for the
 * subscribers (delivered once the transition is complete). */
static void on_unit_changed(Unit *u, UnitState old_state, void *userdata) {
        Manager *m = userdata;

        manager_heap_unit_changed(m, old_state, u->state);
        if (m->started && m->notify_systemd)
                /* once the loop has nothing more urgent: the counts walk every unit */
                (void) sd_event_source_set_enabled(m->status_source, SD_EVENT_ONESHOT);
        manager_queue_event(m, MANAGER_EVENT_UNIT_CHANGED, u, old_state);
        manager_deps_unit_changed(m, u);
        if (!unit_is_inactive(u))
                return;
        if (u->removed)
                manager_schedule_gc(m);
        if (u->is_job)
                manager_trim_jobs(m);
        manager_check_shutdown(m);
}
