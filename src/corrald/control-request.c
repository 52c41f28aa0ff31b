/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "control-request.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "strv.h"

static const char *const method_table[_CONTROL_METHOD_MAX] = {
        [CONTROL_METHOD_STATUS] = "status",   [CONTROL_METHOD_START] = "start",
        [CONTROL_METHOD_STOP] = "stop",       [CONTROL_METHOD_RESTART] = "restart",
        [CONTROL_METHOD_KILL] = "kill",       [CONTROL_METHOD_FREEZE] = "freeze",
        [CONTROL_METHOD_THAW] = "thaw",       [CONTROL_METHOD_RELOAD] = "reload",
        [CONTROL_METHOD_RUN] = "run",         [CONTROL_METHOD_CANCEL] = "cancel",
        [CONTROL_METHOD_WAIT] = "wait",       [CONTROL_METHOD_SUBSCRIBE] = "subscribe",
        [CONTROL_METHOD_METRICS] = "metrics", [CONTROL_METHOD_LOGS] = "logs",
        [CONTROL_METHOD_ADD] = "add",         [CONTROL_METHOD_REMOVE] = "remove",
        [CONTROL_METHOD_SCALE] = "scale",     [CONTROL_METHOD_APPLY] = "apply",
        [CONTROL_METHOD_CAT] = "cat",
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

static int compare_names(const void *a, const void *b, void *userdata) {
        char **l = userdata;
        size_t i = *(const size_t *) a, j = *(const size_t *) b;
        int r = strcmp(l[i], l[j]);

        return r != 0 ? r : (i > j) - (i < j);
}

/* Drops the names l repeats, keeping each first one in its place; the
 * result has *ret_n names. O(n log n): a 64 KiB request holds some 16,000
 * names. Returns 0 or -ENOMEM. */
static int names_uniq(char **l, size_t *ret_n) {
        size_t n = strv_length(l), k = 0;
        _cleanup_free_ size_t *order = NULL;
        _cleanup_free_ bool *repeated = NULL;

        if (n < 2) {
                *ret_n = n;
                return 0;
        }
        order = calloc(n, sizeof(size_t));
        repeated = calloc(n, sizeof(bool));
        if (!order || !repeated)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                order[i] = i;
        qsort_r(order, n, sizeof(size_t), compare_names, l);
        for (size_t i = 1; i < n; i++)
                repeated[order[i]] = streq(l[order[i]], l[order[i - 1]]);
        for (size_t i = 0; i < n; i++) {
                if (repeated[i])
                        free(l[i]);
                else
                        l[k++] = l[i];
        }
        l[k] = NULL;
        *ret_n = k;
        return 0;
}

/* The methods that take params.units, and whether they need it. */
static bool method_takes_units(ControlMethod m, bool *ret_required) {
        switch (m) {
        case CONTROL_METHOD_STATUS:
        case CONTROL_METHOD_LOGS:
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

static int parse_wait_flags(ControlRequest *req, json_t *params);

static int parse_units(ControlRequest *req, json_t *params) {
        json_t *names = params ? json_object_get(params, "units") : NULL;
        bool required;
        int r;

        if (!method_takes_units(req->method, &required))
                return 0;
        r = parse_wait_flags(req, params);
        if (r < 0 || req->params_error < 0)
                return r;
        if (req->all && names && json_array_size(names) > 0)
                return params_invalid(req, "units and all exclude each other");
        if (req->all)
                return 0;
        if (!names)
                return required ? params_invalid(req, "no units named") : 0;
        r = json_strv(names, &req->units);
        if (r == -EINVAL)
                return params_invalid(req, "units must be an array of names");
        if (r < 0)
                return r;
        return names_uniq(req->units, &req->n_units);
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

static int parse_logs(ControlRequest *req, json_t *params) {
        json_t *lines = params ? json_object_get(params, "lines") : NULL,
               *since = params ? json_object_get(params, "since_usec") : NULL,
               *follow = params ? json_object_get(params, "follow") : NULL;

        if ((lines && (!json_is_integer(lines) || json_integer_value(lines) < 0)) ||
            (since && (!json_is_integer(since) || json_integer_value(since) < 0)) ||
            (follow && !json_is_boolean(follow)))
                return params_invalid(req, "lines and since_usec must be numbers, follow a boolean");
        req->lines = lines ? MIN((uint64_t) json_integer_value(lines), CONTROL_LOGS_LINES_MAX)
                           : CONTROL_LOGS_LINES_DEFAULT;
        req->since = since ? (usec_t) json_integer_value(since) : 0;
        req->follow = json_is_true(follow);
        return 0;
}

static int parse_status(ControlRequest *req, json_t *params) {
        json_t *stats = params ? json_object_get(params, "stats") : NULL,
               *bare = params ? json_object_get(params, "bare") : NULL;

        if ((stats && !json_is_boolean(stats)) || (bare && !json_is_boolean(bare)))
                return params_invalid(req, "stats and bare must be true or false");
        req->no_stats = json_is_false(stats);
        req->bare = json_is_true(bare);
        return 0;
}
static int parse_runtime(ControlRequest *req, json_t *params);

static int parse_params(ControlRequest *req, json_t *params) {
        int r = parse_units(req, params);

        if (r < 0 || req->params_error < 0)
                return r;
        switch (req->method) {
        case CONTROL_METHOD_STATUS:
                return parse_status(req, params);
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
        case CONTROL_METHOD_LOGS:
                return parse_logs(req, params);
        case CONTROL_METHOD_RELOAD:
                return parse_wait_flags(req, params);
        case CONTROL_METHOD_ADD:
        case CONTROL_METHOD_REMOVE:
        case CONTROL_METHOD_SCALE:
        case CONTROL_METHOD_APPLY:
        case CONTROL_METHOD_CAT:
                return parse_runtime(req, params);
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
        free(r->service);
        free(r->body);
        strv_free(r->service_names);
        strv_free(r->service_bodies);
        free(r->kill_mode);
        strv_free(r->limits);
        *r = (ControlRequest) {};
}

/* ---- Runtime: requests that wait, runtime services ---- */

/* An optional boolean param: -EINVAL when present and not a boolean. */
static int json_bool_opt(json_t *params, const char *key, bool *ret) {
        json_t *v = params ? json_object_get(params, key) : NULL;

        if (v && !json_is_boolean(v))
                return -EINVAL;
        *ret = v && json_is_true(v);
        return 0;
}

/* wait (every method that changes units, and runtime services), all
 * (the units methods), all_at_once (restart). */
static int parse_wait_flags(ControlRequest *req, json_t *params) {
        if (json_bool_opt(params, "wait", &req->wait) < 0 || json_bool_opt(params, "all", &req->all) < 0 ||
            json_bool_opt(params, "all_at_once", &req->all_at_once) < 0)
                return params_invalid(req, "wait, all and all_at_once must be booleans");
        return 0;
}

static bool ini_key_is_valid(const char *k) {
        if (!*k || strlen(k) > 64)
                return false;
        for (const char *p = k; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
                        return false;
        return true;
}

/* One value as text: a string as it is, a number, a boolean. */
static int ini_value(FILE *f, const char *key, json_t *v) {
        if (json_is_string(v)) {
                if (strpbrk(json_string_value(v), "\n\r"))
                        return -EINVAL;
                fprintf(f, "%s = %s\n", key, json_string_value(v));
        } else if (json_is_integer(v))
                fprintf(f, "%s = %" JSON_INTEGER_FORMAT "\n", key, json_integer_value(v));
        else if (json_is_boolean(v))
                fprintf(f, "%s = %s\n", key, json_is_true(v) ? "true" : "false");
        else
                return -EINVAL;
        return 0;
}

int control_request_keys_to_ini(json_t *keys, char **ret, const char **ret_error) {
        _cleanup_free_ char *out = NULL;
        size_t n = 0, i;
        const char *key;
        json_t *v, *e;
        int r = 0;
        FILE *f;

        if (!json_is_object(keys))
                goto invalid;
        f = open_memstream(&out, &n);
        if (!f)
                return -ENOMEM;
        json_object_foreach(keys, key, v) {
                if (!ini_key_is_valid(key))
                        r = -EINVAL;
                else if (!json_is_array(v))
                        r = ini_value(f, key, v);
                else
                        json_array_foreach(v, i, e) {
                                r = ini_value(f, key, e);
                                if (r < 0)
                                        break;
                        }
                if (r < 0)
                        break;
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        if (r < 0)
                goto invalid;
        *ret = TAKE_PTR(out);
        return 0;
invalid:
        if (ret_error)
                *ret_error =
                        "keys must be an object of words to strings, numbers, booleans or arrays of them, "
                        "without newlines";
        return -EINVAL;
}

/* A service's body: params "ini" (a string) or "keys" (an object), one of
 * them. */
static int parse_body(ControlRequest *req, json_t *o, char **ret) {
        json_t *ini = json_object_get(o, "ini"), *keys = json_object_get(o, "keys");
        const char *error = NULL;
        int r;

        if (!!ini == !!keys || (ini && !json_is_string(ini)))
                return params_invalid(req, "a service needs either ini (a string) or keys (an object)");
        if (ini) {
                *ret = strdup(json_string_value(ini));
                return *ret ? 0 : -ENOMEM;
        }
        r = control_request_keys_to_ini(keys, ret, &error);
        return r == -EINVAL ? params_invalid(req, error) : r;
}

static int parse_apply(ControlRequest *req, json_t *params) {
        json_t *list = json_object_get(params, "services"), *s;
        size_t i;
        int r = 0;

        if (!json_is_array(list))
                return params_invalid(req, "apply needs services: an array of {name, ini or keys}");
        req->service_names = calloc(json_array_size(list) + 1, sizeof(char *));
        req->service_bodies = calloc(json_array_size(list) + 1, sizeof(char *));
        if (!req->service_names || !req->service_bodies)
                return -ENOMEM;
        json_array_foreach(list, i, s) {
                if (!json_is_object(s) || !json_is_string(json_object_get(s, "name")))
                        return params_invalid(req, "every service of apply needs a name (a string)");
                r = parse_body(req, s, &req->service_bodies[i]);
                if (r < 0 || req->params_error < 0)
                        return r;
                if (!(req->service_names[i] = strdup(json_string_value(json_object_get(s, "name")))))
                        return -ENOMEM;
                req->n_services = i + 1;
        }
        return 0;
}

/* add {name, ini | keys}, remove {name}, scale {name, instances}, apply
 * {services}, cat {name}; wait for the changing ones. */
static int parse_runtime(ControlRequest *req, json_t *params) {
        json_t *name = params ? json_object_get(params, "name") : NULL;
        json_t *n = params ? json_object_get(params, "instances") : NULL;
        int r = parse_wait_flags(req, params);

        if (r < 0 || req->params_error < 0)
                return r;
        if (req->method == CONTROL_METHOD_APPLY)
                return parse_apply(req, params);
        if (!json_is_string(name))
                return params_invalid(req, "name must be a string");
        if (!(req->service = strdup(json_string_value(name))))
                return -ENOMEM;
        if (req->method == CONTROL_METHOD_ADD)
                return parse_body(req, params, &req->body);
        if (req->method != CONTROL_METHOD_SCALE)
                return 0;
        if (!json_is_integer(n) || json_integer_value(n) < 0 || json_integer_value(n) > 10000)
                return params_invalid(req, "instances must be a number from 0 to 10000");
        req->instances = (unsigned) json_integer_value(n);
        return 0;
}
