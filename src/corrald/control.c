/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "control.h"

#include <fcntl.h>
#include <grp.h>
#include <malloc.h>
#include <jansson.h>
#include <pwd.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "cgroup.h"
#include "fileio.h"
#include "log.h"
#include "manager.h"
#include "parse-util.h"
#include "strv.h"
#include "unit.h"
#include "control-logs.h"

typedef enum Permission {
        PERM_READ,   /* status_public, or a changer */
        PERM_CHANGE, /* root or control_group */
        PERM_JOB,    /* a changer or job_group */
        PERM_OWNER,  /* a reader, or a member of job_group (for its own jobs: checked by the method) */
} Permission;

typedef struct Client {
        ControlServer *server;
        int fd;
        struct ucred cred;
        sd_event_source *io;
        sd_event_source *timer; /* a whole request must arrive within control_timeout */
        char *in;
        size_t n_in;
        char *out;
        size_t n_out;
        bool subscribed;
        ControlFollow follow; /* logs with follow: the lines of these units */
        char *waiting_for; /* a job whose end answers the pending "wait" */
        struct Client *next;
} Client;

struct ControlServer {
        Manager *manager;
        int fd;
        char *path;
        sd_event_source *io;
        gid_t control_gid, job_gid;
        bool have_control_gid, have_job_gid;
        Client *clients;
        unsigned n_clients;
};

/* ---- Clients ---- */

static void client_free(Client *c) {
        ControlServer *s = c->server;

        for (Client **p = &s->clients; *p; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        break;
                }
        s->n_clients--;
        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->timer);
        safe_close(c->fd);
        free(c->in);
        free(c->out);
        free(c->waiting_for);
        control_follow_done(&c->follow);
        free(c);
}

static void client_drop(Client *c, const char *why) {
        log_debug("control: dropping client PID %d: %s", c->cred.pid, why);
        client_free(c);
}

static int client_update_events(Client *c) {
        uint32_t events = (c->n_out > 0 ? EPOLLOUT : 0) | (c->waiting_for ? 0 : EPOLLIN);
        return sd_event_source_set_io_events(c->io, events);
}

/* Queues one JSON line; a client too far behind is dropped (returns
 * -ENOBUFS, c is gone then). */
static int client_send(Client *c, json_t *msg) {
        _cleanup_free_ char *text = json_dumps(msg, JSON_COMPACT);
        size_t n;

        if (!text)
                return -ENOMEM;
        n = strlen(text);
        if (c->n_out + n + 1 > CONTROL_OUTPUT_MAX) {
                client_drop(c, "too far behind");
                return -ENOBUFS;
        }
        char *p = realloc(c->out, c->n_out + n + 1);
        if (!p)
                return -ENOMEM;
        c->out = p;
        memcpy(c->out + c->n_out, text, n);
        c->out[c->n_out + n] = '\n';
        c->n_out += n + 1;
        return client_update_events(c);
}

static const char *errno_name(int e) {
        static const struct {
                int e;
                const char *name;
        } table[] = {
                { EINVAL, "EINVAL" }, { E2BIG, "E2BIG" },   { ENOENT, "ENOENT" },       { EPERM, "EPERM" },
                { EBUSY, "EBUSY" },   { EEXIST, "EEXIST" }, { ESHUTDOWN, "ESHUTDOWN" }, { EOPNOTSUPP, "EOPNOTSUPP" },
                { ESRCH, "ESRCH" },   { ENOMEM, "ENOMEM" }, { EACCES, "EACCES" },
                { ETIMEDOUT, "ETIMEDOUT" },
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (table[i].e == e)
                        return table[i].name;
        return "EIO";
}

static int client_reply_error(Client *c, int error, const char *message) {
        int e = ERRNO_VALUE(error);
        json_t *msg = json_pack("{s:b, s:{s:s, s:i, s:s}}", "ok", 0, "error", "errno", errno_name(e), "code", e,
                                "message", message ?: strerror(e));
        int r = msg ? client_send(c, msg) : -ENOMEM;
        json_decref(msg);
        return r;
}

/* Takes result. */
static int client_reply(Client *c, json_t *result) {
        json_t *msg;
        int r;

        if (!result)
                return client_reply_error(c, -ENOMEM, /* message= */ NULL);
        msg = json_pack("{s:b, s:o}", "ok", 1, "result", result);
        r = msg ? client_send(c, msg) : -ENOMEM;
        json_decref(msg);
        return r;
}

/* ---- Units as JSON ---- */

static json_t *json_string_or_null(const char *s) {
        return s ? json_string(s) : json_null();
}

static const char *exit_code_name(int code) {
        switch (code) {
        case CLD_EXITED:
                return "exited";
        case CLD_KILLED:
                return "killed";
        case CLD_DUMPED:
                return "dumped";
        default:
                return NULL;
        }
}

static void unit_add_stats(Unit *u, json_t *o) {
        _cleanup_free_ pid_t *pids = NULL;
        uint64_t cpu = 0, mem = 0;
        size_t n = 0;
        CgroupEvents ev = {};
        const char *source = "memory.current";

        if (u->cgroup_fd < 0)
                return;
        if (cgroup_read_cpu_usage(u->cgroup_fd, &cpu) >= 0)
                json_object_set_new(o, "cpu_usec", json_integer((json_int_t) cpu));
        /* cgroup.procs once: the task count, and the RSS fallback */
        bool have_pids = cgroup_list_pids(u->cgroup_fd, &pids, &n) >= 0;
        if (have_pids)
                json_object_set_new(o, "tasks", json_integer((json_int_t) n));
        if (cgroup_read_memory_current(u->cgroup_fd, &mem) < 0) {
                source = have_pids ? "rss" : NULL; /* no memory controller in cgroup2 here */
                mem = cgroup_pids_rss(pids, n);
        }
        if (source) {
                json_object_set_new(o, "memory_bytes", json_integer((json_int_t) mem));
                json_object_set_new(o, "memory_source", json_string(source));
        }
        if (cgroup_read_events(u->cgroup_fd, &ev) >= 0)
                json_object_set_new(o, "frozen", json_boolean(ev.frozen));
}

/* The processes of the unit with their parents and command lines, for
 * `corralctl status UNIT`'s tree. */
static json_t *unit_processes_json(Unit *u) {
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        json_t *a = json_array();

        if (!a || u->cgroup_fd < 0 || cgroup_list_pids(u->cgroup_fd, &pids, &n) < 0)
                return a;
        for (size_t i = 0; i < n && i < CONTROL_PROCESSES_MAX; i++) {
                _cleanup_free_ char *cmdline = NULL, *stat = NULL;
                char path[64];
                size_t len = 0;
                int ppid = 0;

                snprintf(path, sizeof(path), "/proc/%d/cmdline", pids[i]);
                if (read_full_file_at(AT_FDCWD, path, 4096, &cmdline, &len) == -EFBIG)
                        len = 0;
                for (size_t k = 0; cmdline && k + 1 < len; k++)
                        if (cmdline[k] == '\0')
                                cmdline[k] = ' ';
                snprintf(path, sizeof(path), "/proc/%d/stat", pids[i]);
                if (read_full_file_at(AT_FDCWD, path, 4096, &stat, NULL) >= 0) {
                        const char *p = strrchr(stat, ')');
                        if (p && strlen(p) > 4)
                                ppid = atoi(p + 4); /* ") S PPID" */
                }
                json_array_append_new(a, json_pack("{s:i, s:i, s:s}", "pid", (int) pids[i], "ppid", ppid, "cmdline",
                                                   cmdline && len > 0 ? cmdline : "?"));
        }
        return a;
}

static json_t *unit_to_json(Unit *u, bool stats) {
        usec_t n = now(CLOCK_MONOTONIC);
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:i, s:o, s:i, s:o, s:I}", "name", u->name, "kind",
                              u->is_job ? "job" : "service", "state", unit_state_to_string(u->state), "result",
                              unit_result_to_string(u->result), "main_pid", (json_int_t) u->main.pid, "restarts",
                              (int) u->n_restarts, "exit_code", json_string_or_null(exit_code_name(u->exit_code)),
                              "exit_status", u->exit_status, "status_text", json_string_or_null(u->status_text),
                              "owner_uid", (json_int_t) u->owner_uid);
        if (!o)
                return NULL;
        json_object_set_new(o, "uptime_usec",
                            json_integer(u->state == UNIT_RUNNING ? (json_int_t) (n - u->running_since) : 0));
        if (u->error_text)
                json_object_set_new(o, "error", json_string(u->error_text));
        if (u->port > 0)
                json_object_set_new(o, "port", json_integer(u->port));
        if (u->config && u->config->health_url)
                json_object_set_new(o, "health",
                                    json_pack("{s:b, s:i, s:I, s:i, s:i, s:I, s:o}", "ok", u->health_ok, "http_status",
                                              (int) u->health_http_status, "latency_usec",
                                              (json_int_t) u->health_latency, "failures", (int) u->health_failures,
                                              "checks", (int) u->health_checks, "age_usec",
                                              (json_int_t) (u->health_last ? n - u->health_last : 0), "error",
                                              json_string_or_null(u->health_error)));
        if (stats)
                unit_add_stats(u, o);
        return o;
}

/* ---- Requests ---- */

static bool uid_in_group(uid_t uid, gid_t primary, gid_t group) {
        struct passwd pw, *res = NULL;
        char buf[4096];
        gid_t groups[256];
        int n = (int) ELEMENTSOF(groups);

        if (primary == group)
                return true;
        if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || !res)
                return false;
        if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) < 0)
                return false;
        for (int i = 0; i < n; i++)
                if (groups[i] == group)
                        return true;
        return false;
}

static bool client_may(Client *c, Permission p) {
        ControlServer *s = c->server;
        bool changer = c->cred.uid == 0 ||
                       (s->have_control_gid && uid_in_group(c->cred.uid, c->cred.gid, s->control_gid));

        switch (p) {
        case PERM_CHANGE:
                return changer;
        case PERM_JOB:
                return changer || (s->have_job_gid && uid_in_group(c->cred.uid, c->cred.gid, s->job_gid));
        case PERM_OWNER:
                return changer || s->manager->config->status_public ||
                       (s->have_job_gid && uid_in_group(c->cred.uid, c->cred.gid, s->job_gid));
        default:
                return changer || s->manager->config->status_public;
        }
}

/* The units named in params.units (all when absent and all_by_default).
 * Returns a malloc'd NULL-terminated array, or NULL after replying with
 * the error. */
static Unit **request_units(Client *c, json_t *params, bool all_by_default) {
        Manager *m = c->server->manager;
        json_t *names = params ? json_object_get(params, "units") : NULL;
        size_t n = names ? json_array_size(names) : 0, k = 0;
        Unit **units;

        if (names && !json_is_array(names)) {
                client_reply_error(c, -EINVAL, "units must be an array of names");
                return NULL;
        }
        if (!names && !all_by_default) {
                client_reply_error(c, -EINVAL, "no units named");
                return NULL;
        }
        units = calloc((names ? n : m->n_units) + 1, sizeof(Unit *));
        if (!units) {
                client_reply_error(c, -ENOMEM, /* message= */ NULL);
                return NULL;
        }
        if (!names) {
                for (size_t i = 0; i < m->n_units; i++)
                        if (!m->units[i]->removed || !unit_is_inactive(m->units[i]))
                                units[k++] = m->units[i];
                return units;
        }
        for (size_t i = 0; i < n; i++) {
                const char *name = json_string_value(json_array_get(names, i));
                Unit *u = name ? manager_find_unit(m, name) : NULL;
                if (!u) {
                        char msg[128];
                        snprintf(msg, sizeof(msg), "no such unit: %.64s", name ?: "(not a string)");
                        client_reply_error(c, name ? -ENOENT : -EINVAL, msg);
                        free(units);
                        return NULL;
                }
                units[k++] = u;
        }
        return units;
}

static json_t *units_to_json(Unit **units, bool stats) {
        json_t *a = json_array();

        for (Unit **u = units; a && *u; u++)
                json_array_append_new(a, unit_to_json(*u, stats));
        return a;
}

/* status of named units: with each unit's processes */
static json_t *units_to_json_detailed(Unit **units) {
        json_t *a = units_to_json(units, /* stats= */ true);
        size_t i = 0;

        for (Unit **u = units; a && *u; u++, i++)
                json_object_set_new(json_array_get(a, i), "processes", unit_processes_json(*u));
        return a;
}

static int handle_status(Client *c, json_t *params) {
        _cleanup_free_ Unit **units = request_units(c, params, /* all_by_default= */ true);
        Manager *m = c->server->manager;

        if (!units)
                return 0;
        bool named = params && json_object_get(params, "units");
        size_t n = 0;
        for (Unit **u = units; *u; u++)
                n++;
        int r = client_reply(c, json_pack("{s:o, s:{s:s, s:i, s:s, s:o}}", "units",
                                         named ? units_to_json_detailed(units) : units_to_json(units, /* stats= */ true),
                                         "daemon", "version", CORRAL_VERSION,
                                         "pid", (int) getpid(), "cgroup", m->cgroup->path, "reload_error",
                                         json_string_or_null(m->reload_error)));
        /* A large reply's JSON tree leaves the heap fragmented; hand the
         * freed pages back (found by the benchmark: +1.9 MB after one
         * status of 1000 units). */
        if (n > 100)
                malloc_trim(0);
        return r;
}

typedef int (*UnitAction)(Manager *m, Unit *u);

static int handle_unit_action(Client *c, json_t *params, UnitAction action) {
        _cleanup_free_ Unit **units = request_units(c, params, /* all_by_default= */ false);

        if (!units)
                return 0;
        for (Unit **u = units; *u; u++) {
                int r = action(c->server->manager, *u);
                if (r < 0)
                        return client_reply_error(c, r, /* message= */ NULL);
        }
        return client_reply(c, json_pack("{s:o}", "units", units_to_json(units, /* stats= */ false)));
}

static int handle_start(Client *c, json_t *params) {
        return handle_unit_action(c, params, manager_start_unit);
}

static int handle_stop(Client *c, json_t *params) {
        return handle_unit_action(c, params, manager_stop_unit);
}

static int handle_restart(Client *c, json_t *params) {
        return handle_unit_action(c, params, manager_restart_unit);
}

static int handle_kill(Client *c, json_t *params) {
        _cleanup_free_ Unit **units = request_units(c, params, /* all_by_default= */ false);
        json_t *sig = params ? json_object_get(params, "signal") : NULL;
        int signo = SIGTERM, count = 0;

        if (!units)
                return 0;
        if (sig) {
                if (!json_is_integer(sig) || json_integer_value(sig) < 1 || json_integer_value(sig) > SIGRTMAX)
                        return client_reply_error(c, -EINVAL, "signal must be a signal number");
                signo = (int) json_integer_value(sig);
        }
        for (Unit **u = units; *u; u++) {
                int r = unit_kill(*u, signo);
                if (r == -ESRCH)
                        continue; /* not running: nothing to signal */
                if (r < 0)
                        return client_reply_error(c, r, /* message= */ NULL);
                count += r;
        }
        return client_reply(
                c, json_pack("{s:o, s:i}", "units", units_to_json(units, /* stats= */ false), "signalled", count));
}

static int handle_freeze_thaw(Client *c, json_t *params, bool freeze) {
        _cleanup_free_ Unit **units = request_units(c, params, /* all_by_default= */ false);

        if (!units)
                return 0;
        for (Unit **u = units; *u; u++) {
                int r = unit_freeze(*u, freeze);
                if (r == -ESRCH) {
                        char msg[128];
                        snprintf(msg, sizeof(msg), "%s is not running", (*u)->name);
                        return client_reply_error(c, r, msg);
                }
                if (r < 0)
                        return client_reply_error(c, r, /* message= */ NULL);
        }
        return client_reply(c, json_pack("{s:o}", "units", units_to_json(units, /* stats= */ true)));
}

static int handle_freeze(Client *c, json_t *params) {
        return handle_freeze_thaw(c, params, true);
}

static int handle_thaw(Client *c, json_t *params) {
        return handle_freeze_thaw(c, params, false);
}

static int handle_reload(Client *c, json_t *params) {
        Manager *m = c->server->manager;
        ReloadCounts counts = {};
        int r;

        if (m->shutting_down)
                return client_reply_error(c, -ESHUTDOWN, "corrald is stopping");
        r = manager_reload(m, &counts);
        if (r < 0)
                return client_reply_error(c, r, m->reload_error);
        return client_reply(c, json_pack("{s:i, s:i, s:i, s:i}", "added", counts.added, "removed", counts.removed,
                                         "changed", counts.changed, "unchanged", counts.unchanged));
}

/* A JSON array of strings as a strv; NULL member → -EINVAL. */
static int json_strv(json_t *a, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        size_t i;
        json_t *v;

        if (!a) {
                *ret = NULL;
                return 0;
        }
        if (!json_is_array(a))
                return -EINVAL;
        json_array_foreach(a, i, v) {
                if (!json_is_string(v))
                        return -EINVAL;
                if (strv_extend(&l, json_string_value(v)) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int handle_run(Client *c, json_t *params) {
        _cleanup_strv_free_ char **argv = NULL, **env = NULL;
        json_t *name, *cwd, *timeout;
        JobSpec spec = JOB_SPEC_INIT;
        Unit *u = NULL;
        int r;

        if (!params || json_strv(json_object_get(params, "argv"), &argv) < 0 || !argv || !argv[0] ||
            json_strv(json_object_get(params, "env"), &env) < 0)
                return client_reply_error(c, -EINVAL, "run needs argv: a non-empty array of strings");
        name = json_object_get(params, "name");
        cwd = json_object_get(params, "cwd");
        timeout = json_object_get(params, "timeout_usec");
        if ((name && !json_is_string(name)) || (cwd && !json_is_string(cwd)) ||
            (timeout && (!json_is_integer(timeout) || json_integer_value(timeout) < 0)))
                return client_reply_error(c, -EINVAL, "name and cwd must be strings, timeout_usec a number");
        spec.uid = c->cred.uid;
        spec.argv = argv;
        spec.env = env;
        spec.name = name ? json_string_value(name) : NULL;
        spec.cwd = cwd ? json_string_value(cwd) : NULL;
        spec.timeout = timeout ? (usec_t) json_integer_value(timeout) : 0;

        r = manager_run_job(c->server->manager, &spec, &u);
        if (r == -EEXIST)
                return client_reply_error(c, r, "a unit of that name exists");
        if (r == -EAGAIN)
                return client_reply_error(c, r, "too many jobs running (job_max, job_max_per_user)");
        if (r == -EINVAL)
                return client_reply_error(c, r, "invalid job: check name, env (K=V) and cwd (absolute)");
        if (r < 0)
                return client_reply_error(c, r, /* message= */ NULL);
        log_unit_info(u->name, LOG_EVENT_NONE, "job submitted by UID %u (PID %d)", (unsigned) c->cred.uid,
                      c->cred.pid);
        return client_reply(c, json_pack("{s:s, s:o}", "id", u->name, "unit", unit_to_json(u, /* stats= */ false)));
}

static Unit *request_job(Client *c, json_t *params) {
        json_t *id = params ? json_object_get(params, "id") : NULL;
        Unit *u;

        if (!json_is_string(id)) {
                client_reply_error(c, -EINVAL, "id must be a string");
                return NULL;
        }
        u = manager_find_unit(c->server->manager, json_string_value(id));
        if (!u || !u->is_job) {
                client_reply_error(c, -ENOENT, "no such job");
                return NULL;
        }
        return u;
}

static int handle_cancel(Client *c, json_t *params) {
        Unit *u = request_job(c, params);

        if (!u)
                return 0;
        if (!client_may(c, PERM_CHANGE) && u->owner_uid != c->cred.uid)
                return client_reply_error(c, -EPERM, "only root, control_group and the job's owner may cancel it");
        (void) manager_cancel_job(c->server->manager, u, /* sig= */ 0, USEC_INFINITY);
        return client_reply(c, json_pack("{s:o}", "unit", unit_to_json(u, /* stats= */ false)));
}

static int handle_wait(Client *c, json_t *params) {
        Unit *u = request_job(c, params);

        if (!u)
                return 0;
        if (!client_may(c, PERM_READ) && u->owner_uid != c->cred.uid)
                return client_reply_error(c, -EPERM, "only readers and the job's owner may wait for it");
        if (unit_is_inactive(u))
                return client_reply(c, json_pack("{s:o}", "unit", unit_to_json(u, /* stats= */ false)));
        c->waiting_for = strdup(u->name);
        if (!c->waiting_for)
                return client_reply_error(c, -ENOMEM, /* message= */ NULL);
        return client_update_events(c); /* no more requests until it ends */
}

static int handle_logs(Client *c, json_t *params) {
        _cleanup_(control_logs_params_done) ControlLogsParams p = {};
        const char *error = NULL, *missing = NULL;
        json_t *result = NULL;
        int r;

        r = control_logs_params_parse(params, &p, &error);
        if (r < 0)
                return client_reply_error(c, r, error);
        r = control_logs_result(c->server->manager, &p, &result, &missing);
        if (r == -ENOENT) {
                char msg[128];
                snprintf(msg, sizeof(msg), "no such unit: %.64s", missing);
                return client_reply_error(c, r, msg);
        }
        if (r < 0)
                return client_reply_error(c, r, /* message= */ NULL);
        r = client_reply(c, result);
        if (r >= 0 && p.follow)
                control_follow_start(&c->follow, &p);
        return r;
}

static int handle_subscribe(Client *c, json_t *params) {
        c->subscribed = true;
        return client_reply(c, json_object());
}

static const struct {
        const char *name;
        int (*handler)(Client *c, json_t *params);
        Permission permission;
} methods[] = {
        { "status", handle_status, PERM_READ },     { "start", handle_start, PERM_CHANGE },
        { "stop", handle_stop, PERM_CHANGE },       { "restart", handle_restart, PERM_CHANGE },
        { "kill", handle_kill, PERM_CHANGE },       { "freeze", handle_freeze, PERM_CHANGE },
        { "thaw", handle_thaw, PERM_CHANGE },       { "reload", handle_reload, PERM_CHANGE },
        { "run", handle_run, PERM_JOB },            { "cancel", handle_cancel, PERM_JOB },
        { "wait", handle_wait, PERM_OWNER },         { "subscribe", handle_subscribe, PERM_READ },
        { "logs", handle_logs, PERM_READ },
};

static int client_handle_line(Client *c, const char *line, size_t len) {
        json_error_t error;
        json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &error), *params;
        const char *method;
        int r = 0;

        if (!req || !json_is_object(req)) {
                json_decref(req);
                return client_reply_error(c, -EINVAL, "a request is one JSON object on one line");
        }
        method = json_string_value(json_object_get(req, "method"));
        params = json_object_get(req, "params");
        if (!method || (params && !json_is_object(params))) {
                r = client_reply_error(c, -EINVAL, "a request needs \"method\" (a string) and optional \"params\" (an object)");
                goto finish;
        }
        for (size_t i = 0; i < ELEMENTSOF(methods); i++) {
                if (!streq(methods[i].name, method))
                        continue;
                if (!client_may(c, methods[i].permission)) {
                        r = client_reply_error(c, -EPERM, "permission denied");
                        goto finish;
                }
                r = methods[i].handler(c, params);
                goto finish;
        }
        r = client_reply_error(c, -EOPNOTSUPP, "unknown method");
finish:
        json_decref(req);
        return r;
}

/* A client must send a whole request within control_timeout of
 * connecting, or of its request's first byte; between requests, and while
 * it waits for a job or reads events, it need not hurry. */
static int client_arm_timer(Client *c) {
        int r = sd_event_source_set_time_relative(c->timer, c->server->manager->config->control_timeout);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
}

/* Handles the complete lines in the input buffer, unless a wait is
 * pending. Returns -ENOBUFS when the client was dropped. */
static int client_process(Client *c) {
        bool answered = false;

        while (!c->waiting_for && !c->subscribed && !c->follow.on) {
                char *nl = c->in ? memchr(c->in, '\n', c->n_in) : NULL;
                if (!nl)
                        break;
                size_t len = (size_t) (nl - c->in);
                int r = client_handle_line(c, c->in, len);
                if (r == -ENOBUFS)
                        return r;
                memmove(c->in, nl + 1, c->n_in - len - 1);
                c->n_in -= len + 1;
                answered = true;
        }
        if (c->waiting_for || c->subscribed || c->follow.on || (answered && c->n_in == 0))
                return sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
        return 0;
}

static int client_read(Client *c) {
        if (!c->in && !(c->in = malloc(CONTROL_REQUEST_MAX)))
                return -ENOMEM;
        ssize_t n = read(c->fd, c->in + c->n_in, CONTROL_REQUEST_MAX - c->n_in);
        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        if (n == 0)
                return -ECONNRESET;
        if (c->n_in == 0 && !c->subscribed && !c->follow.on && !c->waiting_for) {
                int r = client_arm_timer(c); /* a new request begins */
                if (r < 0)
                        return r;
        }
        c->n_in += (size_t) n;
        if (c->n_in == CONTROL_REQUEST_MAX && !memchr(c->in, '\n', c->n_in)) {
                (void) client_reply_error(c, -E2BIG, "request too large");
                return -E2BIG;
        }
        return 1;
}

static int client_write(Client *c) {
        ssize_t n = send(c->fd, c->out, c->n_out, MSG_DONTWAIT | MSG_NOSIGNAL);

        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        memmove(c->out, c->out + n, c->n_out - (size_t) n);
        c->n_out -= (size_t) n;
        return client_update_events(c);
}

static int on_client_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Client *c = userdata;
        int r = 0;

        if (revents & EPOLLOUT) {
                r = client_write(c);
                if (r < 0)
                        return client_drop(c, "write failed"), 0;
        }
        if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                r = client_read(c);
                if (r == -E2BIG) {
                        /* answer, then close once the answer is out */
                        (void) client_write(c);
                        return client_drop(c, "request too large"), 0;
                }
                if (r < 0)
                        return client_drop(c, "closed"), 0;
                if (client_process(c) == -ENOBUFS)
                        return 0;
        }
        return 0;
}

static int on_client_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        client_drop(userdata, "no complete request within control_timeout");
        return 0;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        ControlServer *server = userdata;
        Client *c;
        int cfd, r;

        cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (cfd < 0)
                return 0;
        struct ucred cred = {};
        socklen_t clen = sizeof(cred);
        if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0) {
                safe_close(cfd);
                return 0;
        }
        /* Root is never locked out; others share the table, and no user
         * may hold more than its part of it. */
        unsigned mine = 0;
        for (Client *o = server->clients; o; o = o->next)
                mine += o->cred.uid == cred.uid;
        if (cred.uid != 0 && (server->n_clients >= CONTROL_CLIENTS_MAX || mine >= CONTROL_CLIENTS_PER_UID_MAX)) {
                log_warning("control: refusing a connection of UID %u (%u of its own, %u in all)", (unsigned) cred.uid,
                            mine, server->n_clients);
                safe_close(cfd);
                return 0;
        }
        c = calloc(1, sizeof(Client));
        if (!c) {
                safe_close(cfd);
                return 0;
        }
        c->server = server;
        c->fd = cfd;
        c->next = server->clients;
        server->clients = c;
        server->n_clients++;
        c->cred = cred;
        r = sd_event_add_io(server->manager->event, &c->io, cfd, EPOLLIN, on_client_io, c);
        if (r >= 0)
                r = sd_event_add_time_relative(server->manager->event, &c->timer, CLOCK_MONOTONIC,
                                               server->manager->config->control_timeout, USEC_PER_MSEC,
                                               on_client_timeout, c);
        if (r < 0)
                client_drop(c, "cannot set up");
        return 0;
}

/* ---- Events ---- */

static void control_unit_changed(ControlServer *s, const ManagerEvent *e) {
        Unit *u = e->unit;
        Client *next;

        for (Client *c = s->clients; c; c = next) {
                next = c->next;
                if (c->subscribed) {
                        json_t *ev = json_pack("{s:{s:s, s:s, s:s, s:I, s:I}}", "event", "unit", u->name, "state",
                                               unit_state_to_string(e->new_state), "result",
                                               unit_result_to_string(u->result), "main_pid", (json_int_t) u->main.pid,
                                               "timestamp_usec", (json_int_t) now(CLOCK_REALTIME));
                        if (ev)
                                (void) client_send(c, ev);
                        json_decref(ev);
                } else if (c->waiting_for && streq(c->waiting_for, u->name) && unit_is_inactive(u)) {
                        c->waiting_for = mfree(c->waiting_for);
                        if (client_reply(c, json_pack("{s:o}", "unit", unit_to_json(u, /* stats= */ false))) !=
                            -ENOBUFS)
                                (void) client_process(c);
                }
        }
}

static void control_unit_removed(ControlServer *s, Unit *u) {
        for (Client *c = s->clients; c; c = c->next)
                if (c->waiting_for && streq(c->waiting_for, u->name)) {
                        c->waiting_for = mfree(c->waiting_for);
                        (void) client_reply_error(c, -ENOENT, "the job is gone");
                }
}

/* Queues text for a follower unless it is too far behind; then the line
 * is counted, and said once there is room again. */
static void follower_queue(Client *c, const char *text, size_t len) {
        _cleanup_free_ char *dropped = NULL;
        size_t n = 0;

        if (c->n_out + len > CONTROL_FOLLOW_BEHIND_MAX) {
                c->follow.dropped++;
                return;
        }
        if (c->follow.dropped > 0 && control_logs_dropped_text(c->follow.dropped, &dropped, &n) < 0)
                return;
        char *p = realloc(c->out, c->n_out + n + len);
        if (!p)
                return;
        c->out = p;
        if (dropped)
                memcpy(c->out + c->n_out, dropped, n);
        memcpy(c->out + c->n_out + n, text, len);
        c->n_out += n + len;
        c->follow.dropped = 0;
        (void) client_update_events(c);
}

void control_on_output_line(const char *unit, const OutputLine *l, void *userdata) {
        ControlServer *s = userdata;
        _cleanup_free_ char *text = NULL;
        size_t len = 0;

        for (Client *c = s->clients; c; c = c->next) {
                if (!control_follow_wants(&c->follow, unit))
                        continue;
                if (!text && control_logs_line_text(unit, l, &text, &len) < 0)
                        return;
                follower_queue(c, text, len);
        }
}

void control_on_manager_event(const ManagerEvent *ev, void *userdata) {
        ControlServer *s = userdata;

        if (ev->type == MANAGER_EVENT_UNIT_CHANGED)
                control_unit_changed(s, ev);
        else if (ev->type == MANAGER_EVENT_UNIT_REMOVED)
                control_unit_removed(s, ev->unit);
}

/* ---- The socket ---- */

static int resolve_group(const char *name, gid_t *ret) {
        struct group gr, *res = NULL;
        char buf[4096];
        unsigned id;

        if (parse_unsigned(name, &id) >= 0) {
                *ret = (gid_t) id;
                return 0;
        }
        if (getgrnam_r(name, &gr, buf, sizeof(buf), &res) != 0 || !res)
                return -ENOENT;
        *ret = gr.gr_gid;
        return 0;
}

static int mkdir_parents(const char *path) {
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
                *s = '\0';
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        return 0;
}

/* Refuses to take over a socket that someone still listens on. */
static int socket_in_use(const struct sockaddr_un *sa) {
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -errno;
        return connect(fd, (const struct sockaddr *) sa, sizeof(*sa)) >= 0;
}

static int control_bind(ControlServer *s, gid_t gid) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int r;

        if (strlen(s->path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, s->path);
        r = mkdir_parents(s->path);
        if (r < 0)
                return r;
        if (socket_in_use(&sa) > 0)
                return -EADDRINUSE;
        (void) unlink(s->path);
        s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (s->fd < 0)
                return -errno;
        if (bind(s->fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        /* Who may do what is decided per request by SO_PEERCRED; the mode
         * only keeps out those who may do nothing at all. */
        mode_t mode = s->manager->config->status_public || s->have_job_gid ? 0666 : 0660;
        if (chmod(s->path, mode) < 0 || (geteuid() == 0 && chown(s->path, 0, gid) < 0))
                return -errno;
        if (listen(s->fd, SOMAXCONN) < 0)
                return -errno;
        return 0;
}

int control_open(Manager *m, ControlServer **ret) {
        ControlServer *s = calloc(1, sizeof(ControlServer));
        const Config *c = m->config;
        int r;

        if (!s)
                return -ENOMEM;
        s->manager = m;
        s->fd = -EBADF;
        s->path = strdup(c->control_socket);
        if (!s->path) {
                free(s);
                return -ENOMEM;
        }
        if (c->control_group && !(s->have_control_gid = resolve_group(c->control_group, &s->control_gid) >= 0))
                log_warning("control_group %s: no such group, ignoring", c->control_group);
        if (c->job_group && !(s->have_job_gid = resolve_group(c->job_group, &s->job_gid) >= 0))
                log_warning("job_group %s: no such group, ignoring", c->job_group);
        r = control_bind(s, s->have_control_gid ? s->control_gid : 0);
        if (r >= 0)
                r = sd_event_add_io(m->event, &s->io, s->fd, EPOLLIN, on_accept, s);
        if (r < 0) {
                control_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

ControlServer *control_free(ControlServer *s) {
        if (!s)
                return NULL;
        while (s->clients) {
                /* a last try to hand out what is queued (the final events) */
                if (s->clients->n_out > 0)
                        (void) !send(s->clients->fd, s->clients->out, s->clients->n_out, MSG_DONTWAIT | MSG_NOSIGNAL);
                client_free(s->clients);
        }
        sd_event_source_disable_unref(s->io);
        if (s->fd >= 0) {
                safe_close(s->fd);
                (void) unlink(s->path);
        }
        free(s->path);
        free(s);
        return NULL;
}
