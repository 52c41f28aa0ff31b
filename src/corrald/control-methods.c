/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "control-methods.h"

#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config-value.h"
#include "control-json.h"
#include "control-logs.h"
#include "control-runtime.h"
#include "log.h"
#include "unit-status.h"

/* The unit u as a Unit object; NULL when out of memory. */
static json_t *unit_json(const Unit *u, UnitStatusFlags flags) {
        _cleanup_(unit_status_done) UnitStatus s = {};

        if (unit_status_get(u, flags, &s) < 0)
                return NULL;
        return control_json_unit(&s);
}

json_t *control_methods_unit_result(const Unit *u) {
        return json_pack("{s:o}", "unit", unit_json(u, /* flags= */ 0));
}

/* The units as an array of Unit objects, NULL when out of memory: one
 * that cannot be made fails the whole, never leaves a gap that shifts
 * the others. */
static json_t *units_json(Unit **units, UnitStatusFlags flags) {
        json_t *a = json_array();

        for (Unit **u = units; a && *u; u++)
                if (json_array_append_new(a, unit_json(*u, flags)) < 0)
                        a = (json_decref(a), NULL);
        return a;
}

json_t *control_methods_units_json(Unit **units) {
        return units_json(units, /* flags= */ 0);
}

/* The units req names — names, service names, globs, all resolved before
 * anything is done — or every listed unit when it names none (a status).
 * Returns a malloc'd NULL-terminated array with its length in *ret_n, or
 * NULL after replying with the error. */
static Unit **request_units(ControlClient *c, const ControlRequest *req, size_t *ret_n) {
        Manager *m = c->server->manager;
        const char *bad = NULL;
        size_t k = 0;
        Unit **units = NULL;
        int r;

        if (req->units) {
                r = manager_resolve_units(m, req->units, /* all= */ false, &units, &bad);
                if (r < 0) {
                        char msg[128];
                        snprintf(msg, sizeof(msg), "no such unit: %.64s", bad ?: "");
                        control_client_reply_error(c, r, r == -ENOENT ? msg : NULL);
                        return NULL;
                }
                while (units[k])
                        k++;
                *ret_n = k;
                return units;
        }
        units = calloc(m->n_units + 1, sizeof(Unit *));
        if (!units) {
                control_client_reply_error(c, -ENOMEM, /* message= */ NULL);
                return NULL;
        }
        for (size_t i = 0; i < m->n_units; i++)
                if (unit_status_is_listed(m->units[i]))
                        units[k++] = m->units[i];
        *ret_n = k;
        return units;
}

/* status: the first CONTROL_DETAILED_MAX units asked for by name come
 * with their processes. */
static int method_status(ControlClient *c, const ControlRequest *req) {
        Manager *m = c->server->manager;
        size_t n = 0;
        _cleanup_free_ Unit **units = request_units(c, req, &n);
        json_t *extra;

        if (!units)
                return 0;
        extra = json_pack("{s:o}", "daemon",
                          control_json_daemon(CORRAL_VERSION, getpid(), m->cgroup->path, m->reload_error));
        if (!extra)
                return control_client_reply_error(c, -ENOMEM, /* message= */ NULL);
        return control_client_reply_units(c, TAKE_PTR(units), n, req->no_stats ? 0 : UNIT_STATUS_STATS,
                                          req->units ? CONTROL_DETAILED_MAX : 0, req->bare, extra);
}

static int method_kill(ControlClient *c, const ControlRequest *req) {
        size_t n = 0;
        _cleanup_free_ Unit **units = request_units(c, req, &n);
        int count = 0;

        if (!units)
                return 0;
        for (Unit **u = units; *u; u++) {
                int r = unit_kill(*u, req->signal);
                if (r == -ESRCH)
                        continue; /* not running: nothing to signal */
                if (r < 0)
                        return control_client_reply_error(c, r, /* message= */ NULL);
                count += r;
        }
        return control_client_reply_units(c, TAKE_PTR(units), n, /* flags= */ 0, /* n_detailed= */ 0,
                                          /* bare= */ false, json_pack("{s:i}", "signalled", count));
}

static int method_freeze_thaw(ControlClient *c, const ControlRequest *req, bool freeze) {
        size_t n = 0;
        _cleanup_free_ Unit **units = request_units(c, req, &n);

        if (!units)
                return 0;
        for (Unit **u = units; *u; u++) {
                int r = unit_freeze(*u, freeze);
                if (r == -ESRCH) {
                        char msg[128];
                        snprintf(msg, sizeof(msg), "%s is not running", unit_status_name(*u));
                        return control_client_reply_error(c, r, msg);
                }
                if (r < 0)
                        return control_client_reply_error(c, r, /* message= */ NULL);
        }
        return control_client_reply_units(c, TAKE_PTR(units), n, UNIT_STATUS_STATS, /* n_detailed= */ 0,
                                          /* bare= */ false, /* extra= */ NULL);
}

static int method_reload(ControlClient *c, const ControlRequest *req) {
        Manager *m = c->server->manager;
        ReloadCounts counts = {};
        int r;

        if (req->wait)
                return control_runtime_method(c, req);
        if (m->shutting_down)
                return control_client_reply_error(c, -ESHUTDOWN, "corrald is stopping");
        r = manager_reload(m, &counts);
        if (r < 0)
                return control_client_reply_error(c, r, m->reload_error);
        return control_client_reply(c,
                                    json_pack("{s:i, s:i, s:i, s:i}", "added", counts.added, "removed", counts.removed,
                                              "changed", counts.changed, "unchanged", counts.unchanged));
}

/* Checks req's limits as a service's keys are checked, into spec (the
 * values borrowed from values, which the caller frees). Returns 0, or
 * -EINVAL with the message in *ret_message (the caller frees it). */
static int run_limits(const ControlRequest *req, JobSpec *spec, char *values[_LIMIT_MAX], char **ret_message) {
        for (char **e = req->limits; e && *e; e++) {
                _cleanup_free_ char *key = strndup(*e, strcspn(*e, "="));
                CgroupLimit l = _LIMIT_INVALID;

                if (!key)
                        return -ENOMEM;
                for (CgroupLimit i = 0; i < _LIMIT_MAX; i++)
                        if (streq(key, cgroup_limit_key(i)))
                                l = i;
                if (l < 0)
                        return asprintf(ret_message, "unknown limit %.64s", key) < 0 ? -ENOMEM : -EINVAL;
                int r = config_parse_limit(key, *e + strlen(key) + 1, &values[l], ret_message);
                if (r < 0)
                        return r;
                spec->limit[l] = values[l];
        }
        return 0;
}

/* The descriptors of the request as the job's stdio: a duplicate of each
 * (so that one serving twice is two, each taken by manager_run_job()).
 * Returns 0, or -EBADF/-EINVAL with a static message. */
static int run_stdio(ControlClient *c, const ControlRequest *req, JobSpec *spec, const char **ret_message) {
        bool used[CONTROL_FDS_MAX] = {};

        if (c->fds_error < 0)
                return *ret_message = "at most 3 descriptors, with the first byte of the request", -EBADF;
        if (c->n_fds > 0 && !req->has_stdio)
                return *ret_message = "descriptors came without stdio to say which is which", -EBADF;
        for (size_t i = 0; req->has_stdio && i < 3; i++) {
                if (req->stdio[i] < 0)
                        continue;
                if ((size_t) req->stdio[i] >= c->n_fds)
                        return *ret_message = "stdio names a descriptor that did not come", -EINVAL;
                used[req->stdio[i]] = true;
                spec->stdio[i] = fcntl(c->fds[req->stdio[i]], F_DUPFD_CLOEXEC, 3);
                if (spec->stdio[i] < 0)
                        return *ret_message = "cannot duplicate a descriptor", -errno;
        }
        for (size_t i = 0; i < c->n_fds; i++)
                if (!used[i])
                        return *ret_message = "a descriptor came that stdio does not name", -EBADF;
        return 0;
}

/* What run says when manager_run_job() refuses. */
static const char *run_error_message(int r) {
        switch (r) {
        case -EEXIST:
                return "a unit of that name exists";
        case -EAGAIN:
                return "too many jobs running (job_max_per_user or job_max): nothing was started";
        case -EINVAL:
                return "invalid job: check name, env (K=V), cwd (absolute) and stop_signal";
        default:
                return NULL;
        }
}

static int method_run_spec(ControlClient *c, const ControlRequest *req, JobSpec *spec, Unit **ret) {
        char *values[_LIMIT_MAX] = {};
        _cleanup_free_ char *message = NULL;
        const char *static_message = NULL;
        int r;

        spec->kill_mode = req->kill_mode ? kill_mode_from_string(req->kill_mode) : _KILL_MODE_INVALID;
        if (req->kill_mode && spec->kill_mode < 0)
                r = control_client_reply_error(c, -EINVAL, "kill_mode must be control-group or mixed");
        else if ((r = run_limits(req, spec, values, &message)) < 0)
                r = control_client_reply_error(c, r, message);
        else if ((r = run_stdio(c, req, spec, &static_message)) < 0)
                r = control_client_reply_error(c, r, static_message);
        else if ((r = manager_run_job(c->server->manager, spec, ret)) < 0)
                r = control_client_reply_error(c, r, run_error_message(r));
        else
                r = 1;
        for (CgroupLimit l = 0; l < _LIMIT_MAX; l++)
                free(values[l]);
        return r;
}

static int method_run(ControlClient *c, const ControlRequest *req) {
        JobSpec spec = JOB_SPEC_INIT;
        Unit *u = NULL;
        int r;

        spec.argv = req->argv;
        spec.env = req->env;
        spec.name = req->name;
        spec.cwd = req->cwd;
        spec.timeout = req->timeout;
        spec.uid = c->cred.uid;
        spec.stop_signal = req->stop_signal;
        spec.stop_timeout = req->stop_timeout;
        r = method_run_spec(c, req, &spec, &u);
        if (r <= 0) {
                /* refused: the duplicates are ours to close (taken on success) */
                for (size_t i = 0; i < ELEMENTSOF(spec.stdio); i++)
                        safe_close(spec.stdio[i]);
                return r;
        }
        log_unit_info(unit_status_name(u), LOG_EVENT_NONE, "job submitted by UID %u (PID %d)%s", (unsigned) c->cred.uid,
                      c->cred.pid, c->n_fds > 0 ? ", with the caller's stdio" : "");
        return control_client_reply(c, json_pack("{s:s, s:o}", "id", unit_status_name(u), "unit",
                                                 unit_json(u, /* flags= */ 0)));
}

/* The job req->id, or NULL after replying ENOENT. */
static Unit *request_job(ControlClient *c, const ControlRequest *req) {
        Unit *u = manager_find_unit(c->server->manager, req->id);

        if (!u || !unit_status_is_job(u)) {
                control_client_reply_error(c, -ENOENT, "no such job");
                return NULL;
        }
        return u;
}

static int method_cancel(ControlClient *c, const ControlRequest *req) {
        Unit *u = request_job(c, req);
        int r;

        if (!u)
                return 0;
        if (!control_client_may(c, CONTROL_PERM_CHANGE) && unit_status_owner(u) != c->cred.uid)
                return control_client_reply_error(c, -EPERM,
                                                  "only root, control_group and the job's owner may cancel it");
        r = manager_cancel_job(c->server->manager, u, req->cancel_signal, req->grace);
        if (r < 0)
                return control_client_reply_error(c, r, /* message= */ NULL);
        return control_client_reply(c, control_methods_unit_result(u));
}

static int method_wait(ControlClient *c, const ControlRequest *req) {
        Unit *u = request_job(c, req);

        if (!u)
                return 0;
        if (!control_client_may(c, CONTROL_PERM_READ) && unit_status_owner(u) != c->cred.uid)
                return control_client_reply_error(c, -EPERM, "only readers and the job's owner may wait for it");
        if (unit_status_is_inactive(u))
                return control_client_reply(c, control_methods_unit_result(u));
        if (req->wait_timeout == 0) {
                char msg[128];
                snprintf(msg, sizeof(msg), "%.64s is still running", unit_status_name(u));
                return control_client_reply_error(c, -ETIMEDOUT, msg);
        }
        return control_client_wait_for(c, unit_status_name(u), req->wait_timeout);
}

/* Every event for readers; with "jobs", those of jobs — a job_group
 * member who may not read gets those of its own. */
static int method_subscribe(ControlClient *c, const ControlRequest *req) {
        int r = control_client_reply(c, json_object());

        if (r >= 0)
                control_client_subscribe(c, req->jobs, !control_client_may(c, CONTROL_PERM_READ));
        return r;
}

/* logs: the last lines, then (follow) every new one (control-logs.c). */
static int method_logs(ControlClient *c, const ControlRequest *req) {
        const char *missing = NULL;
        json_t *result = NULL;
        int r;

        r = control_logs_result(c->server->manager, req, &result, &missing);
        if (r == -ENOENT) {
                char msg[128];
                snprintf(msg, sizeof(msg), "no such unit: %.64s", missing);
                return control_client_reply_error(c, r, msg);
        }
        if (r < 0)
                return control_client_reply_error(c, r, /* message= */ NULL);
        r = control_client_reply(c, result);
        if (r >= 0 && req->follow)
                r = control_client_follow(c, req->units);
        return r;
}

static int method_run_unit_action(ControlClient *c, const ControlRequest *req) {
        switch (req->method) {
        case CONTROL_METHOD_START:
        case CONTROL_METHOD_STOP:
        case CONTROL_METHOD_RESTART:
                return control_runtime_units(c, req);
        case CONTROL_METHOD_FREEZE:
                return method_freeze_thaw(c, req, /* freeze= */ true);
        case CONTROL_METHOD_THAW:
                return method_freeze_thaw(c, req, /* freeze= */ false);
        default:
                return method_kill(c, req);
        }
}

/* metrics: the Prometheus text, as metrics_listen serves it. */
static int method_metrics(ControlClient *c, const ControlRequest *req) {
        const ControlHooks *h = &c->server->hooks;
        _cleanup_free_ char *text = NULL;
        int r;

        if (!h->metrics)
                return control_client_reply_error(c, -EOPNOTSUPP, "no metrics in this corrald");
        r = h->metrics(h->userdata, &text, /* ret_len= */ NULL);
        if (r < 0)
                return control_client_reply_error(c, r, "cannot render the metrics");
        return control_client_reply(c, json_pack("{s:s}", "text", text));
}

static const ControlPermission method_permission[_CONTROL_METHOD_MAX] = {
        [CONTROL_METHOD_STATUS] = CONTROL_PERM_READ,  [CONTROL_METHOD_START] = CONTROL_PERM_CHANGE,
        [CONTROL_METHOD_STOP] = CONTROL_PERM_CHANGE,  [CONTROL_METHOD_RESTART] = CONTROL_PERM_CHANGE,
        [CONTROL_METHOD_KILL] = CONTROL_PERM_CHANGE,  [CONTROL_METHOD_FREEZE] = CONTROL_PERM_CHANGE,
        [CONTROL_METHOD_THAW] = CONTROL_PERM_CHANGE,  [CONTROL_METHOD_RELOAD] = CONTROL_PERM_CHANGE,
        [CONTROL_METHOD_RUN] = CONTROL_PERM_JOB,      [CONTROL_METHOD_CANCEL] = CONTROL_PERM_JOB,
        [CONTROL_METHOD_WAIT] = CONTROL_PERM_OWNER,   [CONTROL_METHOD_SUBSCRIBE] = CONTROL_PERM_READ,
        [CONTROL_METHOD_METRICS] = CONTROL_PERM_READ, [CONTROL_METHOD_LOGS] = CONTROL_PERM_READ,
        [CONTROL_METHOD_ADD] = CONTROL_PERM_CHANGE,   [CONTROL_METHOD_REMOVE] = CONTROL_PERM_CHANGE,
        [CONTROL_METHOD_SCALE] = CONTROL_PERM_CHANGE, [CONTROL_METHOD_APPLY] = CONTROL_PERM_CHANGE,
        [CONTROL_METHOD_CAT] = CONTROL_PERM_READ,
};

int control_methods_dispatch(ControlClient *c, const ControlRequest *req) {
        bool job_events = req->method == CONTROL_METHOD_SUBSCRIBE && req->jobs;

        if (!control_client_may(c, job_events ? CONTROL_PERM_OWNER : method_permission[req->method]))
                return control_client_reply_error(c, -EPERM, "permission denied");
        if (req->params_error < 0)
                return control_client_reply_error(c, req->params_error, req->params_error_message);

        switch (req->method) {
        case CONTROL_METHOD_STATUS:
                return method_status(c, req);
        case CONTROL_METHOD_RELOAD:
                return method_reload(c, req);
        case CONTROL_METHOD_RUN:
                return method_run(c, req);
        case CONTROL_METHOD_CANCEL:
                return method_cancel(c, req);
        case CONTROL_METHOD_WAIT:
                return method_wait(c, req);
        case CONTROL_METHOD_SUBSCRIBE:
                return method_subscribe(c, req);
        case CONTROL_METHOD_METRICS:
                return method_metrics(c, req);
        case CONTROL_METHOD_LOGS:
                return method_logs(c, req);
        case CONTROL_METHOD_ADD:
        case CONTROL_METHOD_REMOVE:
        case CONTROL_METHOD_SCALE:
        case CONTROL_METHOD_APPLY:
        case CONTROL_METHOD_CAT:
                return control_runtime_method(c, req);
        default:
                return method_run_unit_action(c, req);
        }
}

/* ---- the audit trail ---- */

static bool method_changes(ControlMethod m) {
        return m != CONTROL_METHOD_STATUS && m != CONTROL_METHOD_WAIT && m != CONTROL_METHOD_SUBSCRIBE &&
               m != CONTROL_METHOD_METRICS;
}

/* "stop web@0 web@1", "kill -s 10 web@0", "run /bin/sleep", "cancel job-1". */
static void request_text(const ControlRequest *req, char *buf, size_t size) {
        size_t n = (size_t) snprintf(buf, size, "%s", control_method_to_string(req->method));

        if (req->method == CONTROL_METHOD_KILL && n < size)
                n += (size_t) snprintf(buf + n, size - n, " -s %d", req->signal);
        for (size_t i = 0; req->units && i < req->n_units && n < size; i++)
                n += (size_t) snprintf(buf + n, size - n, " %.64s", req->units[i]);
        if (req->argv && req->argv[0] && n < size)
                n += (size_t) snprintf(buf + n, size - n, " %.128s", req->argv[0]);
        if (req->id && n < size)
                (void) snprintf(buf + n, size - n, " %.64s", req->id);
}

void control_methods_log_refused_held_back(uid_t uid, unsigned suppressed, void *userdata) {
        log_notice("control: %u more refused requests of UID %u were not logged", suppressed, (unsigned) uid);
}

/* Whether a refused request may be logged now: at most
 * AUDIT_REFUSED_BURST per UID in AUDIT_REFUSED_INTERVAL; one summary line
 * for those held back once their interval is over. */
static bool audit_refusal_allowed(ControlServer *s, uid_t uid) {
        return control_ratelimit_test(&s->audit_refusals, uid, now(CLOCK_MONOTONIC),
                                      control_methods_log_refused_held_back,
                                      /* userdata= */ NULL);
}

void control_methods_audit(ControlClient *c, const ControlRequest *req) {
        const ControlHooks *h = &c->server->hooks;
        const char *outcome = c->last_error == 0 ? "ok" : c->last_error == -EPERM ? "refused" : "error";
        char text[512];

        if (h->request_done)
                h->request_done(control_method_to_string(req->method), outcome, h->userdata);
        if (!method_changes(req->method) && c->last_error != -EPERM)
                return;
        if (c->last_error == -EPERM && !audit_refusal_allowed(c->server, c->cred.uid))
                return;
        request_text(req, text, sizeof(text));
        log_audit(c->last_error == 0 ? LOG_INFO : LOG_NOTICE,
                  &(LogAudit) { .uid = c->cred.uid,
                                .gid = c->cred.gid,
                                .pid = c->cred.pid,
                                .comm = c->comm[0] ? c->comm : NULL,
                                .request = text,
                                .outcome = outcome,
                                .detail = c->last_error == 0 ? NULL : c->last_message });
}
