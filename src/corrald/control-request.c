/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "control-request.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "strv.h"

static const char *const method_table[_CONTROL_METHOD_MAX] = {
        [CONTROL_METHOD_STATUS] = "status", [CONTROL_METHOD_START] = "start",
        [CONTROL_METHOD_STOP] = "stop",     [CONTROL_METHOD_RESTART] = "restart",
        [CONTROL_METHOD_KILL] = "kill",     [CONTROL_METHOD_FREEZE] = "freeze",
        [CONTROL_METHOD_THAW] = "thaw",     [CONTROL_METHOD_RELOAD] = "reload",
        [CONTROL_METHOD_RUN] = "run",       [CONTROL_METHOD_CANCEL] = "cancel",
        [CONTROL_METHOD_WAIT] = "wait",     [CONTROL_METHOD_SUBSCRIBE] = "subscribe",
        [CONTROL_METHOD_METRICS] = "metrics",
};

const char *control_method_to_string(ControlMethod m) {
        return m >= 0 && m < _CONTROL_METHOD_MAX ? method_table[m] : NULL;
}

ControlMethod control_method_from_string(const char *s) {
        for (size_t i = 0; s && i < ELEMENTSOF(method_table); i++)
                if (streq(method_table[i], s))
                        return (ControlMethod) i;
        return _CONTROL_METHOD_INVALID;
}

/* A JSON array of strings as a strv (absent: NULL). -EINVAL for another
 * type or a member that is not a string. */
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
        if (!l && !(l = calloc(1, sizeof(char *))))
                return -ENOMEM; /* an empty array is not an absent one */
        *ret = TAKE_PTR(l);
        return 0;
}

static int json_string_dup(json_t *v, char **ret) {
        if (!v) {
                *ret = NULL;
                return 0;
        }
        if (!json_is_string(v))
                return -EINVAL;
        *ret = strdup(json_string_value(v));
        return *ret ? 0 : -ENOMEM;
}

/* The methods that take params.units, and whether they need it. */
static bool method_takes_units(ControlMethod m, bool *ret_required) {
        switch (m) {
        case CONTROL_METHOD_STATUS:
                *ret_required = false;
                return true;
        case CONTROL_METHOD_START:
        case CONTROL_METHOD_STOP:
        case CONTROL_METHOD_RESTART:
        case CONTROL_METHOD_KILL:
        case CONTROL_METHOD_FREEZE:
        case CONTROL_METHOD_THAW:
                *ret_required = true;
                return true;
        default:
                return false;
        }
}

/* Sets a params problem: returns 0, so that parsing goes on to succeed. */
static int params_invalid(ControlRequest *req, const char *message) {
        req->params_error = -EINVAL;
        req->params_error_message = message;
        return 0;
}

static int parse_units(ControlRequest *req, json_t *params) {
        json_t *names = params ? json_object_get(params, "units") : NULL;
        bool required;
        int r;

        if (!method_takes_units(req->method, &required))
                return 0;
        if (!names)
                return required ? params_invalid(req, "no units named") : 0;
        r = json_strv(names, &req->units);
        if (r == -EINVAL)
                return params_invalid(req, "units must be an array of names");
        if (r < 0)
                return r;
        req->n_units = strv_length(req->units);
        return 0;
}

static int parse_signal(ControlRequest *req, json_t *params) {
        json_t *sig = params ? json_object_get(params, "signal") : NULL;

        req->signal = SIGTERM;
        if (!sig)
                return 0;
        if (!json_is_integer(sig) || json_integer_value(sig) < 1 || json_integer_value(sig) > SIGRTMAX)
                return params_invalid(req, "signal must be a signal number");
        req->signal = (int) json_integer_value(sig);
        return 0;
}

/* A non-negative integer (µs) up to INT64_MAX as usec_t; absent: dflt. */
static int json_usec(json_t *v, usec_t dflt, usec_t *ret) {
        if (!v) {
                *ret = dflt;
                return 0;
        }
        if (!json_is_integer(v) || json_integer_value(v) < 0)
                return -EINVAL;
        *ret = (usec_t) json_integer_value(v);
        return 0;
}

/* A signal number 1..SIGRTMAX; absent: 0. */
static int json_signal(json_t *v, int *ret) {
        if (!v) {
                *ret = 0;
                return 0;
        }
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > SIGRTMAX)
                return -EINVAL;
        *ret = (int) json_integer_value(v);
        return 0;
}

/* "stdio": [3 × index of a passed descriptor, or null]. */
static int parse_stdio(ControlRequest *req, json_t *stdio) {
        json_t *v;
        size_t i;

        req->stdio[0] = req->stdio[1] = req->stdio[2] = -1;
        if (!stdio)
                return 0;
        if (!json_is_array(stdio) || json_array_size(stdio) != 3)
                return -EINVAL;
        json_array_foreach(stdio, i, v) {
                if (json_is_null(v))
                        continue;
                if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= CONTROL_FDS_MAX)
                        return -EINVAL;
                req->stdio[i] = (int) json_integer_value(v);
        }
        req->has_stdio = true;
        return 0;
}

/* "limits": {"KEY": "VALUE", …} as "KEY=VALUE" entries. */
static int parse_limits(ControlRequest *req, json_t *limits) {
        const char *key;
        json_t *v;

        if (!limits)
                return 0;
        if (!json_is_object(limits))
                return -EINVAL;
        json_object_foreach(limits, key, v) {
                _cleanup_free_ char *e = NULL;

                if (!json_is_string(v) || !*key || strchr(key, '='))
                        return -EINVAL;
                if (asprintf(&e, "%s=%s", key, json_string_value(v)) < 0 || strv_consume(&req->limits, TAKE_PTR(e)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* What run takes beyond argv, env, name, cwd and timeout. */
static int parse_run_options(ControlRequest *req, json_t *params) {
        int r;

        if (parse_stdio(req, json_object_get(params, "stdio")) < 0)
                return params_invalid(req, "stdio must be 3 descriptor indices (0 to 2) or nulls");
        if (json_signal(json_object_get(params, "stop_signal"), &req->stop_signal) < 0)
                return params_invalid(req, "stop_signal must be a signal number");
        if (json_usec(json_object_get(params, "stop_timeout_usec"), USEC_INFINITY, &req->stop_timeout) < 0)
                return params_invalid(req, "stop_timeout_usec must be a number");
        r = json_string_dup(json_object_get(params, "kill_mode"), &req->kill_mode);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return params_invalid(req, "kill_mode must be a string");
        r = parse_limits(req, json_object_get(params, "limits"));
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return params_invalid(req, "limits must be an object of strings");
        return 0;
}

static int parse_cancel(ControlRequest *req, json_t *params) {
        if (json_signal(json_object_get(params, "signal"), &req->cancel_signal) < 0)
                return params_invalid(req, "signal must be a signal number");
        if (json_usec(json_object_get(params, "grace_usec"), USEC_INFINITY, &req->grace) < 0)
                return params_invalid(req, "grace_usec must be a number");
        return 0;
}

static int parse_wait(ControlRequest *req, json_t *params) {
        if (json_usec(json_object_get(params, "timeout_usec"), USEC_INFINITY, &req->wait_timeout) < 0)
                return params_invalid(req, "timeout_usec must be a number");
        return 0;
}

static int parse_subscribe(ControlRequest *req, json_t *params) {
        json_t *jobs = params ? json_object_get(params, "jobs") : NULL;

        if (jobs && !json_is_boolean(jobs))
                return params_invalid(req, "jobs must be true or false");
        req->jobs = json_is_true(jobs);
        return 0;
}

static int parse_run(ControlRequest *req, json_t *params) {
        json_t *timeout = params ? json_object_get(params, "timeout_usec") : NULL;
        int r;

        r = params ? json_strv(json_object_get(params, "argv"), &req->argv) : 0;
        if (r >= 0 && params)
                r = json_strv(json_object_get(params, "env"), &req->env);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || !req->argv || !req->argv[0])
                return params_invalid(req, "run needs argv: a non-empty array of strings");
        r = json_string_dup(json_object_get(params, "name"), &req->name);
        if (r >= 0)
                r = json_string_dup(json_object_get(params, "cwd"), &req->cwd);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || (timeout && (!json_is_integer(timeout) || json_integer_value(timeout) < 0)))
                return params_invalid(req, "name and cwd must be strings, timeout_usec a number");
        req->timeout = timeout ? (usec_t) json_integer_value(timeout) : 0;
        return parse_run_options(req, params);
}

static int parse_id(ControlRequest *req, json_t *params) {
        json_t *id = params ? json_object_get(params, "id") : NULL;

        if (!json_is_string(id))
                return params_invalid(req, "id must be a string");
        req->id = strdup(json_string_value(id));
        return req->id ? 0 : -ENOMEM;
}

static int parse_params(ControlRequest *req, json_t *params) {
        int r = parse_units(req, params);

        if (r < 0 || req->params_error < 0)
                return r;
        switch (req->method) {
        case CONTROL_METHOD_KILL:
                return parse_signal(req, params);
        case CONTROL_METHOD_RUN:
                return parse_run(req, params);
        case CONTROL_METHOD_CANCEL:
                r = parse_id(req, params);
                return r < 0 || req->params_error < 0 ? r : parse_cancel(req, params);
        case CONTROL_METHOD_WAIT:
                r = parse_id(req, params);
                return r < 0 || req->params_error < 0 ? r : parse_wait(req, params);
        case CONTROL_METHOD_SUBSCRIBE:
                return parse_subscribe(req, params);
        default:
                return 0;
        }
}

int control_request_parse(const char *line, size_t len, ControlRequest *ret, const char **ret_error) {
        json_auto_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES, /* error= */ NULL);
        _cleanup_(control_request_done) ControlRequest r = {};
        const char *method;
        json_t *params;
        int k;

        if (!json_is_object(req)) {
                if (ret_error)
                        *ret_error = "a request is one JSON object on one line";
                return -EINVAL;
        }
        method = json_string_value(json_object_get(req, "method"));
        params = json_object_get(req, "params");
        if (!method || (params && !json_is_object(params))) {
                if (ret_error)
                        *ret_error = "a request needs \"method\" (a string) and optional \"params\" (an object)";
                return -EINVAL;
        }
        r.method = control_method_from_string(method);
        if (r.method < 0) {
                if (ret_error)
                        *ret_error = "unknown method";
                return -EOPNOTSUPP;
        }
        k = parse_params(&r, params);
        if (k < 0)
                return k;
        *ret = r;
        r = (ControlRequest) {};
        return 0;
}

void control_request_done(ControlRequest *r) {
        strv_free(r->units);
        free(r->id);
        strv_free(r->argv);
        strv_free(r->env);
        free(r->name);
        free(r->cwd);
        free(r->kill_mode);
        strv_free(r->limits);
        *r = (ControlRequest) {};
}
