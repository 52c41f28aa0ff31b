/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The lines units wrote: the "logs" method, following, and the line
 * objects. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "libcorral-internal.h"
#include "logs-internal.h"
#include "macro.h"

struct corral_log_line {
        json_t *obj;
        char *json;
};

struct corral_logs {
        corral_log_line **lines;
        size_t n, allocated;
        char **journal; /* NULL-terminated */
        size_t omitted;
};

/* ---- lines ---- */

corral_log_line *corral_log_line_free(corral_log_line *l) {
        if (!l)
                return NULL;
        json_decref(l->obj);
        free(l->json);
        return mfree(l);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(corral_log_line *, corral_log_line_free);

int log_line_new(json_t *obj, corral_log_line **ret) {
        corral_log_line *l;

        if (!json_is_string(json_object_get(obj, "unit")) || !json_is_string(json_object_get(obj, "text")))
                return -EBADMSG;
        l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        l->obj = json_incref(obj);
        l->json = json_dumps(obj, JSON_COMPACT);
        if (!l->json) {
                corral_log_line_free(l);
                return -ENOMEM;
        }
        *ret = l;
        return 0;
}

const char *corral_log_line_unit(const corral_log_line *l) {
        return l ? json_string_value(json_object_get(l->obj, "unit")) : NULL;
}

const char *corral_log_line_stream(const corral_log_line *l) {
        const char *s = l ? json_string_value(json_object_get(l->obj, "stream")) : NULL;
        return s ?: "stdout";
}

int corral_log_line_is_stderr(const corral_log_line *l) {
        return streq(corral_log_line_stream(l), "stderr");
}

uint64_t corral_log_line_timestamp_usec(const corral_log_line *l) {
        json_t *v = l ? json_object_get(l->obj, "timestamp_usec") : NULL;
        return json_is_integer(v) && json_integer_value(v) >= 0 ? (uint64_t) json_integer_value(v) : UINT64_MAX;
}

const char *corral_log_line_text(const corral_log_line *l) {
        return l ? json_string_value(json_object_get(l->obj, "text")) : NULL;
}

int corral_log_line_split(const corral_log_line *l) {
        return l && json_is_true(json_object_get(l->obj, "split"));
}

int corral_log_line_partial(const corral_log_line *l) {
        return l && json_is_true(json_object_get(l->obj, "partial"));
}

const char *corral_log_line_json(const corral_log_line *l) {
        return l ? l->json : NULL;
}

/* ---- lists ---- */

corral_logs *corral_logs_free(corral_logs *l) {
        if (!l)
                return NULL;
        for (size_t i = 0; i < l->n; i++)
                corral_log_line_free(l->lines[i]);
        free(l->lines);
        for (char **p = l->journal; p && *p; p++)
                free(*p);
        free(l->journal);
        return mfree(l);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(corral_logs *, corral_logs_free);

int logs_new(corral_logs **ret) {
        corral_logs *l = calloc(1, sizeof(*l));

        if (!l)
                return -ENOMEM;
        l->journal = calloc(1, sizeof(char *));
        if (!l->journal) {
                corral_logs_free(l);
                return -ENOMEM;
        }
        *ret = l;
        return 0;
}

static int logs_reserve(corral_logs *l, size_t n) {
        corral_log_line **p;
        size_t want;

        if (n <= l->allocated)
                return 0;
        want = MAX(n, l->allocated * 2);
        p = realloc(l->lines, want * sizeof(*p));
        if (!p)
                return -ENOMEM;
        l->lines = p;
        l->allocated = want;
        return 0;
}

int logs_append(corral_logs *l, corral_log_line *line) {
        if (logs_reserve(l, l->n + 1) < 0) {
                corral_log_line_free(line);
                return -ENOMEM;
        }
        l->lines[l->n++] = line;
        return 0;
}

size_t corral_logs_count(const corral_logs *l) {
        return l ? l->n : 0;
}

const corral_log_line *corral_logs_get(const corral_logs *l, size_t i) {
        return l && i < l->n ? l->lines[i] : NULL;
}

size_t corral_logs_omitted(const corral_logs *l) {
        return l ? l->omitted : 0;
}

const char *const *corral_logs_journal_units(const corral_logs *l) {
        return l ? (const char *const *) l->journal : NULL;
}

void logs_reverse(corral_logs *l) {
        for (size_t i = 0; i < l->n / 2; i++) {
                corral_log_line *t = l->lines[i];
                l->lines[i] = l->lines[l->n - 1 - i];
                l->lines[l->n - 1 - i] = t;
        }
}

/* Keeps the last max lines. */
static void logs_keep_last(corral_logs *l, uint32_t max) {
        size_t drop;

        if (max == CORRAL_LOGS_ALL || l->n <= max)
                return;
        drop = l->n - max;
        for (size_t i = 0; i < drop; i++)
                corral_log_line_free(l->lines[i]);
        memmove(l->lines, l->lines + drop, max * sizeof(*l->lines));
        l->n = max;
}

int corral_logs_merge(corral_logs *into, corral_logs *from, uint32_t max) {
        _cleanup_(corral_logs_freep) corral_logs *f = from;
        corral_log_line **merged;
        size_t i = 0, j = 0, k = 0;

        if (!into)
                return -EINVAL;
        merged = malloc(MAX(into->n + (f ? f->n : 0), (size_t) 1) * sizeof(*merged));
        if (!merged)
                return -ENOMEM;
        while (i < into->n || (f && j < f->n)) {
                bool take_from = f && j < f->n &&
                                 (i >= into->n || corral_log_line_timestamp_usec(f->lines[j]) <
                                                          corral_log_line_timestamp_usec(into->lines[i]));
                merged[k++] = take_from ? f->lines[j++] : into->lines[i++];
        }
        if (f)
                f->n = 0; /* its lines are into's now */
        free(into->lines);
        into->lines = merged;
        into->n = into->allocated = k;
        logs_keep_last(into, max);
        return 0;
}

/* ---- the method ---- */

static int logs_params(const corral_logs_query *q, json_t **ret) {
        json_auto_t *params = json_pack("{s:I,s:b}", "lines", (json_int_t) q->lines, "follow", q->follow != 0);
        json_t *units;
        int r;

        if (!params)
                return -ENOMEM;
        if (q->since_usec > 0 &&
            json_object_set_new(params, "since_usec", json_integer((json_int_t) q->since_usec)) < 0)
                return -ENOMEM;
        if (q->units && q->units[0]) {
                r = json_string_array(q->units, &units);
                if (r < 0)
                        return r;
                if (json_object_set_new(params, "units", units) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(params);
        return 0;
}

static int logs_from_result(json_t *result, corral_logs **ret) {
        _cleanup_(corral_logs_freep) corral_logs *l = NULL;
        json_t *lines = json_object_get(result, "lines"), *journal = json_object_get(result, "journal"), *v,
               *omitted = json_object_get(result, "omitted");
        size_t i, n = 0;
        int r;

        if (!json_is_array(lines) || (journal && !json_is_array(journal)))
                return -EBADMSG;
        r = logs_new(&l);
        if (r < 0)
                return r;
        if (json_is_integer(omitted) && json_integer_value(omitted) > 0)
                l->omitted = (size_t) json_integer_value(omitted);
        r = logs_reserve(l, json_array_size(lines));
        json_array_foreach(lines, i, v) {
                corral_log_line *line;
                if (r >= 0)
                        r = log_line_new(v, &line);
                if (r >= 0)
                        r = logs_append(l, line);
        }
        if (r < 0)
                return r;
        free(l->journal);
        l->journal = calloc(json_array_size(journal) + 1, sizeof(char *));
        if (!l->journal)
                return -ENOMEM;
        json_array_foreach(journal, i, v) {
                if (!json_is_string(v))
                        return -EBADMSG;
                l->journal[n] = strdup(json_string_value(v));
                if (!l->journal[n++])
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int corral_read_logs(corral *c, const corral_logs_query *q, corral_logs **ret) {
        json_auto_t *result = NULL;
        json_t *params = NULL;
        int r;

        if (!c || !q || !ret)
                return -EINVAL;
        c->last_error = mfree(c->last_error);
        r = logs_params(q, &params);
        if (r < 0)
                return r;
        r = request_call(c, "logs", params, &result);
        if (r < 0)
                return r;
        r = logs_from_result(result, ret);
        if (r >= 0 && q->follow)
                c->subscribed = true;
        return r;
}

/* {"line": {…}} → 0 with the line; {"dropped": {"lines": n}} → n (at
 * least 1); anything else -ENOMSG (skipped). Takes text. */
static int follow_message(char *text, corral_log_line **ret) {
        _cleanup_free_ char *t = text;
        json_auto_t *msg = json_loads(t, /* flags= */ 0, /* error= */ NULL);
        json_t *line, *dropped;

        if (!json_is_object(msg))
                return -EBADMSG;
        line = json_object_get(msg, "line");
        if (line)
                return json_is_object(line) ? log_line_new(line, ret) : -EBADMSG;
        dropped = json_object_get(json_object_get(msg, "dropped"), "lines");
        if (json_is_integer(dropped))
                return (int) MIN(MAX(json_integer_value(dropped), (json_int_t) 1), (json_int_t) INT_MAX);
        return -ENOMSG;
}

int corral_next_log_line(corral *c, int timeout_ms, corral_log_line **ret) {
        int64_t deadline = conn_deadline(timeout_ms);

        if (!c || !ret || !c->subscribed)
                return -EINVAL;
        c->last_error = mfree(c->last_error);
        if (c->broken)
                return -ENOTCONN;
        for (;;) {
                char *text;
                int r = conn_read_line(c, deadline, &text);

                if (r < 0)
                        return r;
                r = follow_message(text, ret);
                if (r != -ENOMSG)
                        return r;
        }
}
