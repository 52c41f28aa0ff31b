/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "libcorral-internal.h"
#include "macro.h"

/* ---- connection ---- */

int corral_open(const char *socket_path, corral **ret) {
        corral *c;
        int r;

        if (!ret)
                return -EINVAL;
        if (!socket_path) {
                /* secure_getenv(): a set-uid program linking us is not
                 * pointed at another socket by its caller. */
                socket_path = secure_getenv("CORRAL_SOCKET");
                if (!socket_path || !*socket_path)
                        socket_path = CORRAL_DEFAULT_SOCKET;
        }

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->fd = -EBADF;
        r = conn_connect(socket_path, &c->fd);
        if (r < 0) {
                free(c);
                return r;
        }
        *ret = c;
        return 0;
}

corral *corral_close(corral *c) {
        if (!c)
                return NULL;
        safe_close(c->fd);
        free(c->buf);
        free(c->last_error);
        return mfree(c);
}

int corral_fd(const corral *c) {
        return c ? c->fd : -EINVAL;
}

const char *corral_last_error(const corral *c) {
        return c ? c->last_error : NULL;
}

/* Every call starts afresh: corral_last_error() tells about this call. */
int call_begin(corral *c) {
        if (!c)
                return -EINVAL;
        c->last_error = mfree(c->last_error);
        return 0;
}

/* ---- units ---- */

/* {"units": [names…]}, with at least one name unless allow_empty. */
static int units_params(const char *const *names, bool allow_empty, json_t **ret) {
        json_t *array;
        int r;

        if (!allow_empty && (!names || !names[0]))
                return -EINVAL;
        r = json_string_array(names, &array);
        if (r < 0)
                return r;
        *ret = json_pack("{s:o}", "units", array); /* "o" takes array, even on failure */
        return *ret ? 0 : -ENOMEM;
}

int corral_status(corral *c, const char *const *names, corral_units **ret) {
        return corral_status_flags(c, names, /* flags= */ 0, ret);
}

/* A status call begun on c: the params of the names (none: every unit)
 * and the flags; -EINVAL also when the caller gave no place for what comes
 * back (has_out false). */
static int status_begin(corral *c, bool has_out, const char *const *names, unsigned flags, json_t **ret) {
        json_t *params = NULL;
        int r = call_begin(c);

        *ret = NULL;
        if (r < 0)
                return r;
        if (!has_out || (flags & ~CORRAL_STATUS_NO_STATS))
                return -EINVAL;
        if (names && names[0]) {
                r = units_params(names, /* allow_empty= */ false, &params);
                if (r < 0)
                        return r;
        }
        if (flags & CORRAL_STATUS_NO_STATS) {
                if (!params && !(params = json_object()))
                        return -ENOMEM;
                if (json_object_set_new(params, "stats", json_false()) < 0) {
                        json_decref(params);
                        return -ENOMEM;
                }
        }
        *ret = params;
        return 0;
}

int corral_status_flags(corral *c, const char *const *names, unsigned flags, corral_units **ret) {
        json_auto_t *result = NULL;
        json_t *params;
        int r = status_begin(c, ret != NULL, names, flags, &params);

        if (r < 0)
                return r;
        r = request_call(c, "status", params, &result);
        if (r < 0)
                return r;
        return units_new(json_object_get(result, "units"), ret);
}

typedef struct StatusPages {
        corral_units_handler handler;
        void *userdata;
} StatusPages;

static int on_status_page(json_t *page, void *userdata) {
        corral_units *units = NULL;
        StatusPages *p = userdata;
        int r = units_new(json_object_get(page, "units"), &units);

        if (r < 0)
                return r;
        r = corral_units_count(units) > 0 ? p->handler(units, p->userdata) : 0;
        corral_units_free(units);
        return r;
}

int corral_status_pages(corral *c, const char *const *names, unsigned flags, corral_units_handler handler,
                        void *userdata) {
        StatusPages p = { handler, userdata };
        json_t *params;
        int r = status_begin(c, handler != NULL, names, flags, &params);

        if (r < 0)
                return r;
        return request_call_pages(c, "status", params, on_status_page, /* on_bare= */ NULL, &p);
}

typedef struct JsonPages {
        corral_json_handler handler;
        void *userdata;
} JsonPages;

static int on_json_bare(const char *json, size_t len, void *userdata) {
        JsonPages *p = userdata;
        return len > 2 ? p->handler(json, len, p->userdata) : 0; /* "[]": none */
}

/* A page in an object ({"units": […]}): from a corrald that knows no
 * "bare", or the last line, which has none. */
static int on_json_page(json_t *page, void *userdata) {
        json_t *units = json_object_get(page, "units");
        _cleanup_free_ char *text = NULL;

        if (!units)
                return 0;
        if (!json_is_array(units))
                return -EBADMSG;
        text = json_dumps(units, JSON_COMPACT);
        if (!text)
                return -ENOMEM;
        return on_json_bare(text, strlen(text), userdata);
}

int corral_status_json_pages(corral *c, const char *const *names, unsigned flags, corral_json_handler handler,
                             void *userdata) {
        JsonPages p = { handler, userdata };
        json_t *params = NULL;
        int r = status_begin(c, handler != NULL, names, flags, &params);

        if (r >= 0 && !params && !(params = json_object()))
                r = -ENOMEM;
        if (r >= 0 && json_object_set_new(params, "bare", json_true()) < 0)
                r = -ENOMEM;
        if (r < 0) {
                json_decref(params);
                return r;
        }
        return request_call_pages(c, "status", params, on_json_page, on_json_bare, &p);
}

/* Sends method with {"units": names} plus extra's fields (extra may be
 * NULL; it is taken in any case). */
static int change_units(corral *c, const char *method, const char *const *names, json_t *extra, json_t **ret) {
        json_t *params = NULL;
        int r = call_begin(c);

        if (r >= 0)
                r = units_params(names, /* allow_empty= */ false, &params);
        if (r >= 0 && extra && json_object_update(params, extra) < 0)
                r = -ENOMEM;
        json_decref(extra);
        if (r < 0) {
                json_decref(params);
                return r;
        }
        return request_call(c, method, params, ret);
}

int corral_start(corral *c, const char *const *names) {
        return change_units(c, "start", names, /* extra= */ NULL, /* ret= */ NULL);
}

int corral_stop(corral *c, const char *const *names) {
        return change_units(c, "stop", names, /* extra= */ NULL, /* ret= */ NULL);
}

int corral_restart(corral *c, const char *const *names) {
        return change_units(c, "restart", names, /* extra= */ NULL, /* ret= */ NULL);
}

int corral_freeze(corral *c, const char *const *names) {
        return change_units(c, "freeze", names, /* extra= */ NULL, /* ret= */ NULL);
}

int corral_thaw(corral *c, const char *const *names) {
        return change_units(c, "thaw", names, /* extra= */ NULL, /* ret= */ NULL);
}

int corral_kill(corral *c, const char *const *names, int sig) {
        json_auto_t *result = NULL;
        json_t *extra, *n;
        int r = call_begin(c);

        if (r < 0)
                return r;
        if (sig <= 0 || sig > SIGRTMAX)
                return -EINVAL;
        extra = json_pack("{s:i}", "signal", sig);
        if (!extra)
                return -ENOMEM;
        r = change_units(c, "kill", names, extra, &result);
        if (r < 0)
                return r;
        n = json_object_get(result, "signalled");
        if (!json_is_integer(n) || json_integer_value(n) < 0)
                return 0;
        return (int) MIN(json_integer_value(n), (json_int_t) INT_MAX);
}

int corral_reload(corral *c) {
        return corral_reload_counted(c, /* ret= */ NULL);
}

/* A count of a reply: a non-negative integer, 0 when absent. */
static unsigned result_count(const json_t *result, const char *key) {
        json_t *v = json_object_get(result, key);

        if (!json_is_integer(v) || json_integer_value(v) < 0)
                return 0;
        return (unsigned) MIN(json_integer_value(v), (json_int_t) UINT_MAX);
}

int corral_reload_counted(corral *c, corral_reload_counts *ret) {
        json_auto_t *result = NULL;
        int r = call_begin(c);

        if (r < 0)
                return r;
        r = request_call(c, "reload", /* params= */ NULL, &result);
        if (r < 0)
                return r;
        if (ret)
                *ret = (corral_reload_counts) {
                        .added = result_count(result, "added"),
                        .removed = result_count(result, "removed"),
                        .changed = result_count(result, "changed"),
                        .unchanged = result_count(result, "unchanged"),
                };
        return 0;
}

/* ---- metrics ---- */

int corral_metrics(corral *c, char **ret_text) {
        json_auto_t *result = NULL;
        const char *text;
        int r = call_begin(c);

        if (r < 0)
                return r;
        if (!ret_text)
                return -EINVAL;
        r = request_call(c, "metrics", /* params= */ NULL, &result);
        if (r < 0)
                return r;
        text = json_string_value(json_object_get(result, "text"));
        if (!text)
                return -EBADMSG;
        *ret_text = strdup(text);
        return *ret_text ? 0 : -ENOMEM;
}

/* ---- jobs ---- */

static int env_valid(const char *const *env) {
        for (; env && *env; env++) {
                const char *eq = strchr(*env, '=');
                if (!eq || eq == *env)
                        return -EINVAL;
        }
        return 0;
}

/* Sets key to a JSON array of l's strings, unless l is NULL. */
static int params_set_array(json_t *params, const char *key, const char *const *l) {
        json_t *a;
        int r;

        if (!l)
                return 0;
        r = json_string_array(l, &a);
        if (r < 0)
                return r;
        return json_object_set_new(params, key, a) < 0 ? -ENOMEM : 0;
}

/* Sets key to the string s, unless s is NULL. */
static int params_set_string(json_t *params, const char *key, const char *s) {
        if (!s)
                return 0;
        /* json_string() refuses invalid UTF-8 (and fails on OOM). */
        return json_object_set_new(params, key, json_string(s)) < 0 ? -EINVAL : 0;
}

int run_params(const corral_job_spec *spec, json_t **ret) {
        json_auto_t *params = NULL;
        int r;

        if (!spec || !spec->argv || !spec->argv[0] || !spec->argv[0][0] || spec->timeout_usec > INT64_MAX ||
            (spec->name && !spec->name[0]) || (spec->cwd && !spec->cwd[0]))
                return -EINVAL;
        r = env_valid(spec->env);
        if (r < 0)
                return r;
        params = json_pack("{s:I}", "timeout_usec", (json_int_t) spec->timeout_usec);
        if (!params)
                return -ENOMEM;
        r = params_set_array(params, "argv", spec->argv);
        if (r >= 0)
                r = params_set_array(params, "env", spec->env);
        if (r >= 0)
                r = params_set_string(params, "name", spec->name);
        if (r >= 0)
                r = params_set_string(params, "cwd", spec->cwd);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(params);
        return 0;
}

int corral_run(corral *c, const corral_job_spec *spec, char **ret_id) {
        json_auto_t *result = NULL;
        json_t *params;
        const char *id;
        int r = call_begin(c);

        if (r < 0)
                return r;
        r = run_params(spec, &params);
        if (r < 0)
                return r;
        r = request_call(c, "run", params, &result);
        if (r < 0)
                return r;
        id = json_string_value(json_object_get(result, "id"));
        if (!id)
                return -EBADMSG;
        if (ret_id) {
                *ret_id = strdup(id);
                if (!*ret_id)
                        return -ENOMEM;
        }
        return 0;
}

int job_call(corral *c, const char *method, const char *id, json_t *extra, corral_units **ret) {
        json_auto_t *result = NULL, *array = NULL, *more = extra;
        json_t *params;
        int r = call_begin(c);

        if (r < 0)
                return r;
        if (!id || !id[0])
                return -EINVAL;
        params = json_object();
        if (!params)
                return -ENOMEM;
        r = params_set_string(params, "id", id);
        if (r >= 0 && more && json_object_update(params, more) < 0)
                r = -ENOMEM;
        if (r < 0) {
                json_decref(params);
                return r;
        }
        r = request_call(c, method, params, &result);
        if (r < 0 || !ret)
                return r;
        if (!json_is_object(json_object_get(result, "unit")))
                return -EBADMSG;
        array = json_pack("[O]", json_object_get(result, "unit"));
        if (!array)
                return -ENOMEM;
        return units_new(array, ret);
}

int corral_cancel(corral *c, const char *id) {
        return job_call(c, "cancel", id, /* extra= */ NULL, /* ret= */ NULL);
}

int corral_wait(corral *c, const char *id, corral_units **ret) {
        return job_call(c, "wait", id, /* extra= */ NULL, ret);
}

/* ---- events ---- */

int subscribe_with(corral *c, json_t *params) {
        int r = call_begin(c);

        if (r < 0) {
                json_decref(params);
                return r;
        }
        r = request_call(c, "subscribe", params, /* ret= */ NULL);
        if (r < 0)
                return r;
        c->subscribed = true;
        return 0;
}

int corral_subscribe(corral *c) {
        return subscribe_with(c, /* params= */ NULL);
}

int corral_next_event(corral *c, int timeout_ms, corral_event **ret) {
        int64_t deadline = conn_deadline(timeout_ms);
        int r = call_begin(c);

        if (r < 0)
                return r;
        if (!ret || !c->subscribed)
                return -EINVAL;
        if (c->broken)
                return -ENOTCONN;

        /* Objects that are not events (none yet) are skipped. */
        for (;;) {
                char *line;

                r = conn_read_line(c, deadline, &line);
                if (r < 0)
                        return r;
                r = event_new(line, ret);
                if (r != -ENOMSG)
                        return r;
        }
}
