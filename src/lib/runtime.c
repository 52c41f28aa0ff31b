/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Requests that wait and runtime services: corral_request(), the
 * outcomes, corral_add/remove/scale/apply/cat(). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libcorral-internal.h"
#include "macro.h"

struct corral_outcomes {
        json_t *array; /* the reply's "outcomes" (an array, maybe empty) */
        bool ok;
        bool has_counts; /* the reply had a reload's counts */
        corral_counts counts;
};

/* ---- outcomes ---- */

/* The outcomes of result (a new list, empty when it has none) in *ret when
 * ret is not NULL. Returns 0 when every unit reached its goal, 1 when not,
 * -EBADMSG, -ENOMEM. */
static int outcomes_new(json_t *result, corral_outcomes **ret) {
        json_t *a = json_object_get(result, "outcomes"), *ok = json_object_get(result, "ok");
        corral_outcomes *o;

        if ((a && !json_is_array(a)) || (ok && !json_is_boolean(ok)))
                return -EBADMSG;
        bool all_ok = !ok || json_is_true(ok);
        if (!ret)
                return all_ok ? 0 : 1;
        o = calloc(1, sizeof(*o));
        if (!o || !(o->array = a ? json_incref(a) : json_array())) {
                free(o);
                return -ENOMEM;
        }
        o->ok = all_ok;
        o->has_counts = json_is_integer(json_object_get(result, "added"));
        o->counts = (corral_counts) {
                .added = (unsigned) json_integer_value(json_object_get(result, "added")),
                .removed = (unsigned) json_integer_value(json_object_get(result, "removed")),
                .changed = (unsigned) json_integer_value(json_object_get(result, "changed")),
                .unchanged = (unsigned) json_integer_value(json_object_get(result, "unchanged")),
        };
        *ret = o;
        return all_ok ? 0 : 1;
}

size_t corral_outcomes_count(const corral_outcomes *o) {
        return o ? json_array_size(o->array) : 0;
}

int corral_outcomes_ok(const corral_outcomes *o) {
        return o ? o->ok : 0;
}

int corral_outcomes_counts(const corral_outcomes *o, corral_counts *ret) {
        if (!o || !ret)
                return -EINVAL;
        if (!o->has_counts)
                return -ENODATA;
        *ret = o->counts;
        return 0;
}

static json_t *outcome_get(const corral_outcomes *o, size_t i, const char *key) {
        return o ? json_object_get(json_array_get(o->array, i), key) : NULL;
}

const char *corral_outcome_unit(const corral_outcomes *o, size_t i) {
        return json_string_value(outcome_get(o, i, "unit"));
}

int corral_outcome_ok(const corral_outcomes *o, size_t i) {
        json_t *v = outcome_get(o, i, "ok");
        return json_is_boolean(v) ? json_is_true(v) : -1;
}

uint64_t corral_outcome_duration_usec(const corral_outcomes *o, size_t i) {
        json_t *v = outcome_get(o, i, "duration_usec");
        return json_is_integer(v) && json_integer_value(v) >= 0 ? (uint64_t) json_integer_value(v) : UINT64_MAX;
}

const char *corral_outcome_state(const corral_outcomes *o, size_t i) {
        return json_string_value(outcome_get(o, i, "state"));
}

const char *corral_outcome_reason(const corral_outcomes *o, size_t i) {
        return json_string_value(outcome_get(o, i, "reason"));
}

corral_outcomes *corral_outcomes_free(corral_outcomes *o) {
        if (o) {
                json_decref(o->array);
                free(o);
        }
        return NULL;
}

/* ---- requests ---- */

/* Adds wait, all, all_at_once to params as flags says. */
static int params_flags(json_t *params, unsigned flags) {
        if ((flags & CORRAL_WAIT) && json_object_set_new(params, "wait", json_true()) < 0)
                return -ENOMEM;
        if ((flags & CORRAL_ALL) && json_object_set_new(params, "all", json_true()) < 0)
                return -ENOMEM;
        if ((flags & CORRAL_ALL_AT_ONCE) && json_object_set_new(params, "all_at_once", json_true()) < 0)
                return -ENOMEM;
        return 0;
}

/* Sends method with params (taken) and flags; the result's counts and
 * outcomes. */
static int call_counted(corral *c, const char *method, json_t *params, unsigned flags, corral_counts *ret_counts,
                        corral_outcomes **ret) {
        json_auto_t *result = NULL;
        int r;

        if (!c) {
                json_decref(params);
                return -EINVAL;
        }
        free(c->last_error);
        c->last_error = NULL;
        if (!params || params_flags(params, flags) < 0) {
                json_decref(params);
                return -ENOMEM;
        }
        r = request_call(c, method, params, &result);
        if (r < 0)
                return r;
        r = outcomes_new(result, ret);
        if (r >= 0 && ret_counts)
                *ret_counts = (corral_counts) {
                        .added = (unsigned) json_integer_value(json_object_get(result, "added")),
                        .removed = (unsigned) json_integer_value(json_object_get(result, "removed")),
                        .changed = (unsigned) json_integer_value(json_object_get(result, "changed")),
                        .unchanged = (unsigned) json_integer_value(json_object_get(result, "unchanged")),
                };
        return r;
}

int corral_request(corral *c, const char *method, const char *const *names, unsigned flags, corral_outcomes **ret) {
        bool reload = method && strcmp(method, "reload") == 0;
        bool any = names && names[0];
        json_t *params, *array = NULL;
        int r;

        if (!method ||
            (!reload && strcmp(method, "start") != 0 && strcmp(method, "stop") != 0 && strcmp(method, "restart") != 0))
                return -EINVAL;
        if (reload ? any || (flags & (CORRAL_ALL | CORRAL_ALL_AT_ONCE)) : any == !!(flags & CORRAL_ALL))
                return -EINVAL;
        if (reload)
                return call_counted(c, method, json_object(), flags, /* ret_counts= */ NULL, ret);
        r = json_string_array(names, &array);
        if (r < 0)
                return r;
        params = json_pack("{s:o}", "units", array);
        return call_counted(c, method, params, flags, /* ret_counts= */ NULL, ret);
}

/* ---- runtime services ---- */

static bool name_ok(const char *name) {
        return name && name[0];
}

int corral_add(corral *c, const char *name, const char *ini, unsigned flags, corral_counts *ret_counts,
               corral_outcomes **ret) {
        if (!name_ok(name) || !ini)
                return -EINVAL;
        json_t *params = json_pack("{s:s, s:s}", "name", name, "ini", ini);
        if (!params)
                return -EINVAL; /* invalid UTF-8 (or out of memory) */
        return call_counted(c, "add", params, flags & CORRAL_WAIT, ret_counts, ret);
}

int corral_remove(corral *c, const char *name, unsigned flags, corral_counts *ret_counts, corral_outcomes **ret) {
        if (!name_ok(name))
                return -EINVAL;
        json_t *params = json_pack("{s:s}", "name", name);
        if (!params)
                return -EINVAL;
        return call_counted(c, "remove", params, flags & CORRAL_WAIT, ret_counts, ret);
}

int corral_scale(corral *c, const char *name, unsigned instances, unsigned flags, corral_counts *ret_counts,
                 corral_outcomes **ret) {
        if (!name_ok(name))
                return -EINVAL;
        json_t *params = json_pack("{s:s, s:I}", "name", name, "instances", (json_int_t) instances);
        if (!params)
                return -EINVAL;
        return call_counted(c, "scale", params, flags & CORRAL_WAIT, ret_counts, ret);
}

int corral_apply(corral *c, const corral_service *services, size_t n, unsigned flags, corral_counts *ret_counts,
                 corral_outcomes **ret) {
        json_t *list = json_array();

        if (!list)
                return -ENOMEM;
        if (n > 0 && !services) {
                json_decref(list);
                return -EINVAL;
        }
        for (size_t i = 0; i < n; i++) {
                json_t *s = name_ok(services[i].name) && services[i].ini
                                    ? json_pack("{s:s, s:s}", "name", services[i].name, "ini", services[i].ini)
                                    : NULL;
                if (json_array_append_new(list, s) < 0) {
                        json_decref(list);
                        return -EINVAL;
                }
        }
        return call_counted(c, "apply", json_pack("{s:o}", "services", list), flags & CORRAL_WAIT, ret_counts, ret);
}

static int dup_out(const char *s, char **ret) {
        if (!ret)
                return 0;
        if (!s)
                return -EBADMSG;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

int corral_cat(corral *c, const char *name, char **ret_file, unsigned *ret_line, int *ret_runtime, char **ret_text) {
        _cleanup_free_ char *file = NULL, *text = NULL;
        json_auto_t *result = NULL;
        int r;

        if (!c || !name_ok(name))
                return -EINVAL;
        free(c->last_error);
        c->last_error = NULL;
        json_t *params = json_pack("{s:s}", "name", name);
        if (!params)
                return -EINVAL;
        r = request_call(c, "cat", params, &result);
        if (r < 0)
                return r;
        r = dup_out(json_string_value(json_object_get(result, "file")), ret_file ? &file : NULL);
        if (r >= 0)
                r = dup_out(json_string_value(json_object_get(result, "text")), ret_text ? &text : NULL);
        if (r < 0)
                return r;
        if (ret_file)
                *ret_file = TAKE_PTR(file);
        if (ret_text)
                *ret_text = TAKE_PTR(text);
        if (ret_line)
                *ret_line = (unsigned) json_integer_value(json_object_get(result, "line"));
        if (ret_runtime)
                *ret_runtime = json_is_true(json_object_get(result, "runtime"));
        return 0;
}
