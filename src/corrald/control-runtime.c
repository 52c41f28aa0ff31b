/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "control-runtime.h"

#include <stdio.h>
#include <string.h>

#include "control-methods.h"
#include "log.h"
#include "manager-request.h"
#include "manager-runtime.h"
#include "manager-snapshot.h"
#include "unit-status.h"

/* ---- Waiting ---- */

static json_t *outcome_json(const RequestOutcome *o) {
        return json_pack("{s:s, s:b, s:I, s:s?, s:s?}", "unit", o->unit, "ok", o->ok, "duration_usec",
                         (json_int_t) o->duration, "state", o->state, "reason", o->reason);
}

/* Collects the outcomes into the pending answer; sends it after the last. */
static void on_outcome(ManagerRequest *req, const RequestOutcome *o, void *userdata) {
        ControlClient *c = userdata;
        json_t *result;

        if (o) {
                json_t *j = outcome_json(o);
                if (!j || json_array_append_new(json_object_get(c->pending, "outcomes"), j) < 0)
                        (void) json_object_set_new(c->pending, "incomplete", json_true());
                if (!o->ok)
                        (void) json_object_set_new(c->pending, "ok", json_false());
                return;
        }
        c->request = NULL;
        result = TAKE_PTR(c->pending);
        if (control_client_reply(c, result) >= 0)
                (void) control_client_resume(c);
}

/* result (taken) plus "outcomes": [] and "ok": true, to be completed by
 * on_outcome(); NULL when out of memory. */
static json_t *pending_new(json_t *result) {
        if (result && json_object_set_new(result, "outcomes", json_array()) >= 0 &&
            json_object_set_new(result, "ok", json_true()) >= 0)
                return result;
        json_decref(result);
        return NULL;
}

/* ---- start, stop, restart ---- */

static UnitRequest method_request(ControlMethod m) {
        return m == CONTROL_METHOD_START  ? UNIT_REQUEST_START
               : m == CONTROL_METHOD_STOP ? UNIT_REQUEST_STOP
                                          : UNIT_REQUEST_RESTART;
}

/* The units of req, or NULL after replying why not. */
static Unit **resolve(ControlClient *c, const ControlRequest *req) {
        const char *bad = NULL;
        Unit **units = NULL;
        char msg[128];
        int r;

        r = manager_resolve_units(c->server->manager, req->units, req->all, &units, &bad);
        if (r >= 0)
                return units;
        if (r == -ENOENT)
                snprintf(msg, sizeof(msg), "no such unit: %.64s", bad);
        (void) control_client_reply_error(c, r, r == -ENOENT ? msg : r == -EINVAL ? "no units named" : NULL);
        return NULL;
}

/* Whether req may be done to every unit; else replies why (nothing done). */
static bool check(ControlClient *c, Unit **units, UnitRequest kind) {
        char msg[192];

        for (Unit **u = units; *u; u++) {
                const char *why = NULL;
                int r = manager_request_check(c->server->manager, *u, kind, &why);
                if (r == -ESHUTDOWN)
                        return control_client_reply_error(c, r, "corrald is stopping"), false;
                if (r < 0) {
                        snprintf(msg, sizeof(msg), "%.64s %s; nothing was done", unit_status_name(*u),
                                 why ?: "may not be");
                        return control_client_reply_error(c, r, msg), false;
                }
        }
        return true;
}

/* Removes from the NULL-terminated units the jobs (a job runs once) and
 * the units a reload dropped that are still stopping (they are on their
 * way out: "every unit" to start does not mean them, and naming them
 * would refuse the whole request). */
static void drop_unstartable(Unit **units) {
        Unit **to = units;

        for (Unit **u = units; *u; u++)
                if (!unit_status_is_job(*u) && !unit_status_is_removed(*u))
                        *to++ = *u;
        *to = NULL;
}

int control_runtime_units(ControlClient *c, const ControlRequest *req) {
        _cleanup_free_ Unit **units = resolve(c, req);
        UnitRequest kind = method_request(req->method);
        unsigned flags = req->all_at_once ? MANAGER_REQUEST_ALL_AT_ONCE : 0;
        ManagerRequest *mr = NULL;
        json_t *pending = NULL;
        int r;

        if (!units)
                return 0;
        if (req->all && kind != UNIT_REQUEST_STOP)
                drop_unstartable(units); /* "every unit" to start: every service that stays */
        if (!check(c, units, kind))
                return 0;
        if (req->wait && !(pending = pending_new(json_object())))
                return control_client_reply_error(c, -ENOMEM, /* message= */ NULL);
        r = manager_request_new(c->server->manager, units, kind, flags, req->wait ? on_outcome : NULL, c, &mr,
                                /* ret_bad= */ NULL);
        if (r < 0) {
                json_decref(pending);
                return control_client_reply_error(c, r, /* message= */ NULL);
        }
        if (req->wait)
                return control_client_wait_request(c, mr, pending);
        return control_client_reply(c, json_pack("{s:o}", "units", control_methods_units_json(units)));
}

/* ---- Runtime services ---- */

static json_t *counts_json(const ReloadCounts *n) {
        return json_pack("{s:i, s:i, s:i, s:i}", "added", n->added, "removed", n->removed, "changed", n->changed,
                         "unchanged", n->unchanged);
}

static int runtime_apply(Manager *m, const ControlRequest *req, ReloadCounts *counts, char **error) {
        _cleanup_free_ RuntimeService *list = calloc(req->n_services + 1, sizeof(RuntimeService));

        if (!list)
                return -ENOMEM;
        for (size_t i = 0; i < req->n_services; i++)
                list[i] = (RuntimeService) { .name = req->service_names[i], .body = req->service_bodies[i] };
        return manager_runtime_apply(m, list, req->n_services, counts, error);
}

static int runtime_change(Manager *m, const ControlRequest *req, ReloadCounts *counts, char **error) {
        switch (req->method) {
        case CONTROL_METHOD_ADD:
                return manager_runtime_add(m, req->service, req->body, counts, error);
        case CONTROL_METHOD_REMOVE:
                return manager_runtime_remove(m, req->service, counts, error);
        case CONTROL_METHOD_SCALE:
                return manager_runtime_scale(m, req->service, req->instances, counts, error);
        case CONTROL_METHOD_APPLY:
                return runtime_apply(m, req, counts, error);
        default: {
                int r = manager_reload(m, counts);
                if (r < 0 && m->reload_error && !(*error = strdup(m->reload_error)))
                        return -ENOMEM;
                return r;
        }
        }
}

static int method_cat(ControlClient *c, const ControlRequest *req) {
        _cleanup_free_ char *file = NULL, *text = NULL;
        unsigned line = 0;
        bool runtime = false;
        char msg[128];
        int r;

        r = manager_service_source(c->server->manager, req->service, &file, &line, &runtime, &text);
        if (r == -ENOENT) {
                snprintf(msg, sizeof(msg), "no such service: %.64s", req->service);
                return control_client_reply_error(c, r, msg);
        }
        if (r < 0)
                return control_client_reply_error(c, r, /* message= */ NULL);
        return control_client_reply(c, json_pack("{s:s, s:I, s:b, s:s}", "file", file, "line", (json_int_t) line,
                                                 "runtime", runtime, "text", text));
}

/* Replies with the counts at once, or (wait) once what the change
 * started, stopped and restarted since before is done. */
static int runtime_reply(ControlClient *c, const ControlRequest *req, const ReloadCounts *counts,
                         const ManagerSnapshot *before) {
        ManagerRequest *mr = NULL;
        json_t *pending;

        if (!req->wait)
                return control_client_reply(c, counts_json(counts));
        pending = pending_new(counts_json(counts));
        if (!pending || manager_snapshot_wait(c->server->manager, before, on_outcome, c, &mr) < 0) {
                json_decref(pending);
                return control_client_reply_error(c, -ENOMEM, "done, but cannot wait for it");
        }
        return control_client_wait_request(c, mr, pending);
}

int control_runtime_method(ControlClient *c, const ControlRequest *req) {
        _cleanup_(manager_snapshot_done) ManagerSnapshot before = {};
        _cleanup_free_ char *error = NULL;
        Manager *m = c->server->manager;
        ReloadCounts counts = {};
        int r;

        if (req->method == CONTROL_METHOD_CAT)
                return method_cat(c, req);
        if (m->shutting_down)
                return control_client_reply_error(c, -ESHUTDOWN, "corrald is stopping");
        if (req->wait && manager_snapshot_take(m, &before) < 0)
                return control_client_reply_error(c, -ENOMEM, /* message= */ NULL);
        r = runtime_change(m, req, &counts, &error);
        if (r < 0)
                return control_client_reply_error(c, r, error);
        log_info("control: %s%s%s by UID %u: %u added, %u removed, %u changed", control_method_to_string(req->method),
                 req->service ? " " : "", req->service ?: "", (unsigned) c->cred.uid, counts.added, counts.removed,
                 counts.changed);
        return runtime_reply(c, req, &counts, &before);
}
