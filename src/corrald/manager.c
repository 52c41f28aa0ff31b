/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "manager.h"

#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "strv.h"

static int manager_add_unit(Manager *m, const char *name, const ServiceConfig *config, Unit **ret) {
        Unit **units = reallocarray(m->units, m->n_units + 1, sizeof(Unit *));
        if (!units)
                return -ENOMEM;
        m->units = units;
        Unit *u = unit_new(m, name, config);
        if (!u)
                return -ENOMEM;
        m->units[m->n_units++] = u;
        if (ret)
                *ret = u;
        return 0;
}

Unit *manager_find_unit(Manager *m, const char *name) {
        for (size_t i = 0; i < m->n_units; i++)
                if (streq(m->units[i]->name, name))
                        return m->units[i];
        return NULL;
}

static Unit *manager_find_unit_by_main_pid(Manager *m, pid_t pid) {
        for (size_t i = 0; i < m->n_units; i++)
                if (pidref_is_set(&m->units[i]->main) && m->units[i]->main.pid == pid)
                        return m->units[i];
        return NULL;
}

static Unit *manager_find_unit_by_watch(Manager *m, int wd) {
        for (size_t i = 0; i < m->n_units; i++)
                if (m->units[i]->watch_wd == wd)
                        return m->units[i];
        return NULL;
}

/* The one reaper (DESIGN.md): peek at any zombie without reaping it; a
 * unit's main process is reaped by its unit through the pidfd, so that
 * its status reaches the unit; anything else is an adopted orphan (we are
 * a subreaper) and is reaped here and now. */
static int on_sigchld(sd_event_source *s, const struct signalfd_siginfo *ssi, void *userdata) {
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
                Unit *u = manager_find_unit_by_main_pid(m, si.si_pid);
                if (u) {
                        unit_main_exited(u);
                        continue;
                }
                log_debug("reaped process %d (exit code %d, status %d)", si.si_pid, si.si_code, si.si_status);
                (void) waitid(P_PID, (id_t) si.si_pid, &si, WEXITED);
        }
        return 0;
}

static void on_watch(int wd, void *userdata) {
        Unit *u = manager_find_unit_by_watch(userdata, wd);

        if (u)
                unit_dispatch(u, UNIT_EVENT_CGROUP);
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

        if (m->shutting_down) {
                log_notice("received %s while stopping already, ignoring",
                           ssi->ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
                return 0;
        }
        log_info("received %s, stopping every unit", ssi->ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
        manager_shutdown(m);
        return 0;
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *ssi, void *userdata) {
        log_warning("received SIGHUP, but reloading the configuration is not supported yet, ignoring");
        return 0;
}

static int manager_add_sources(Manager *m) {
        int r;

        r = sd_event_add_signal(m->event, &m->sigchld_source, SIGCHLD, on_sigchld, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, &m->sigterm_source, SIGTERM, on_terminate, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, &m->sigint_source, SIGINT, on_terminate, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, &m->sighup_source, SIGHUP, on_sighup, m);
        if (r >= 0)
                r = sd_event_add_io(m->event, &m->inotify_source, m->cgroup->inotify_fd, EPOLLIN, on_inotify, m);
        if (r < 0)
                return r;
        /* Reap before anything else runs in an iteration, so that a unit
         * learns of its main process's exit before it acts on, say, an
         * empty cgroup. */
        return sd_event_source_set_priority(m->sigchld_source, SD_EVENT_PRIORITY_IMPORTANT);
}

int manager_new(sd_event *event, Config *config, CgroupTree *tree, Manager **ret) {
        _cleanup_(manager_freep) Manager *m = NULL;
        int r;

        m = calloc(1, sizeof(Manager));
        if (!m)
                return -ENOMEM;
        m->event = sd_event_ref(event);
        m->devnull_fd = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (m->devnull_fd < 0)
                return -errno;
        m->cgroup = tree;
        r = manager_add_sources(m);
        if (r < 0) {
                m->cgroup = NULL; /* not taken on failure */
                return r;
        }
        m->config = config;
        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        for (size_t i = 0; i < m->n_units; i++)
                unit_free(m->units[i]);
        free(m->units);
        sd_event_source_disable_unref(m->sigchld_source);
        sd_event_source_disable_unref(m->sigterm_source);
        sd_event_source_disable_unref(m->sigint_source);
        sd_event_source_disable_unref(m->sighup_source);
        sd_event_source_disable_unref(m->inotify_source);
        safe_close(m->devnull_fd);
        cgroup_tree_free(m->cgroup);
        config_free(m->config);
        sd_event_unref(m->event);
        free(m);
        return NULL;
}

/* Stops what an earlier corrald left in the subtree; a configured unit of
 * the same name starts once its old cgroup is empty and gone. */
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
                if (!u && (r = manager_add_unit(m, *n, /* config= */ NULL, &u)) < 0)
                        return log_error_errno(r, "cannot track %s: %m", *n);
                r = unit_stop_leftover(u);
                if (r < 0)
                        log_warning_errno(r, "%s: cannot stop leftover cgroup: %m, ignoring", *n);
        }
        return 0;
}

/* STATUS= for systemd (a no-op without NOTIFY_SOCKET): one line of counts. */
static void manager_notify_status(Manager *m) {
        unsigned count[_UNIT_STATE_MAX] = {};

        for (size_t i = 0; i < m->n_units; i++)
                if (m->units[i]->config)
                        count[m->units[i]->state]++;
        (void) sd_notifyf(/* unset_environment= */ 0, "STATUS=%u running, %u failed, %u starting, %u stopping",
                          count[UNIT_RUNNING], count[UNIT_FAILED], count[UNIT_STARTING] + count[UNIT_BACKOFF],
                          count[UNIT_STOPPING]);
}

int manager_startup(Manager *m) {
        int r;

        for (size_t i = 0; i < m->config->n_services; i++) {
                ServiceConfig *s = m->config->services[i];
                r = manager_add_unit(m, s->name, s, NULL);
                if (r < 0)
                        return log_error_errno(r, "cannot create unit %s: %m", s->name);
        }
        r = manager_stop_leftovers(m);
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->n_units; i++) {
                Unit *u = m->units[i];
                if (!u->config || !u->config->autostart)
                        continue;
                unit_dispatch(u, UNIT_EVENT_START); /* a stopping leftover starts once empty */
        }
        m->started = true;
        manager_notify_status(m);
        (void) sd_notify(/* unset_environment= */ 0, "READY=1");
        return 0;
}

static void manager_check_shutdown(Manager *m) {
        if (!m->shutting_down)
                return;
        for (size_t i = 0; i < m->n_units; i++)
                if (!unit_is_inactive(m->units[i]))
                        return;
        log_info("every unit is stopped");
        manager_notify_status(m);
        (void) sd_event_exit(m->event, 0);
}

void manager_shutdown(Manager *m) {
        if (m->shutting_down)
                return;
        m->shutting_down = true;
        (void) sd_notify(/* unset_environment= */ 0, "STOPPING=1");
        for (size_t i = 0; i < m->n_units; i++)
                unit_dispatch(m->units[i], UNIT_EVENT_STOP);
        manager_check_shutdown(m);
}

void manager_unit_changed(Manager *m, Unit *u) {
        if (m->started)
                manager_notify_status(m);
        if (unit_is_inactive(u))
                manager_check_shutdown(m);
}
