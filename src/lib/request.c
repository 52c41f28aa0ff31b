/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libcorral-internal.h"
#include "macro.h"

/* The errno names of docs/PROTOCOL.md and a few more, for an error reply
 * whose "code" is missing or out of range. */
static int errno_from_name(const char *name) {
        static const struct {
                const char *name;
                int code;
        } table[] = {
                { "EINVAL", EINVAL }, { "E2BIG", E2BIG },         { "ENOENT", ENOENT },
                { "EPERM", EPERM },   { "EACCES", EACCES },       { "EBUSY", EBUSY },
                { "EEXIST", EEXIST }, { "ESHUTDOWN", ESHUTDOWN }, { "EOPNOTSUPP", EOPNOTSUPP },
                { "ENOMEM", ENOMEM }, { "ETIMEDOUT", ETIMEDOUT }, { "EIO", EIO },
                { "EAGAIN", EAGAIN }, { "EBADF", EBADF },         { "ESRCH", ESRCH },
        };

        for (size_t i = 0; name && i < ELEMENTSOF(table); i++)
                if (streq(table[i].name, name))
                        return table[i].code;
        return EIO;
}

/* {"errno": "ENOENT", "code": 2, "message": "…"} → -ENOENT, with the
 * message kept for corral_last_error(). */
static int reply_error(corral *c, json_t *error) {
        json_t *code;
        const char *message, *name;
        int r;

        if (!json_is_object(error))
                return -EBADMSG;
        code = json_object_get(error, "code");
        message = json_string_value(json_object_get(error, "message"));
        name = json_string_value(json_object_get(error, "errno"));
        if (json_is_integer(code) && json_integer_value(code) > 0 && json_integer_value(code) < 4096)
                r = (int) json_integer_value(code);
        else
                r = errno_from_name(name);

        c->last_error = strdup(message ?: name ?: "unknown error");
        if (!c->last_error)
                return -ENOMEM;
        return -r;
}

/* One line of a reply: the "result" of an ok one, with whether more
 * lines of it follow ("more": true: a reply in pages), or the error. */
int request_reply_parse(corral *c, const char *line, json_t **ret, bool *ret_more) {
        json_auto_t *reply = json_loads(line, /* flags= */ 0, /* error= */ NULL);
        json_t *ok = json_object_get(reply, "ok"), *result;

        if (!json_is_boolean(ok))
                return -EBADMSG;
        if (json_is_false(ok))
                return reply_error(c, json_object_get(reply, "error"));

        result = json_object_get(reply, "result");
        if (!result)
                result = json_object(); /* {"ok": true} alone: an empty result */
        else if (json_is_object(result))
                json_incref(result);
        else
                return -EBADMSG;
        if (!result)
                return -ENOMEM;
        *ret_more = json_is_true(json_object_get(reply, "more"));
        if (ret)
                *ret = result;
        else
                json_decref(result);
        return 0;
}

/* (libcorral-internal.h) Adds a page's result to the reply so far: its arrays ("units") are
 * appended to those of the pages before, its other members replace
 * theirs. */
int request_result_merge(json_t *reply, json_t *page) {
        const char *key;
        json_t *v;

        json_object_foreach(page, key, v) {
                json_t *have = json_object_get(reply, key);
                if (json_is_array(have) && json_is_array(v)) {
                        if (json_array_extend(have, v) < 0)
                                return -ENOMEM;
                } else if (json_object_set(reply, key, v) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* Reads the reply to the request just sent: one line, or the pages of a
 * long one, joined — or, with a page callback, each page's result given to
 * it as it comes and then dropped (*ret is then not set), so that the
 * reply is never held whole: no CORRAL_REPLY_TOTAL_MAX then. A callback's
 * error ends the calls but not the reading: the rest of the reply is read
 * and dropped, and the connection stays usable. An error line ends it,
 * pages before or not. */
static int reply_read(corral *c, request_page_handler on_page, request_bare_handler on_bare, void *userdata,
                      json_t **ret) {
        json_auto_t *reply = NULL;
        size_t total = 0, n_pages = 0;
        int failed = 0;

        for (;;) {
                _cleanup_free_ char *line = NULL;
                json_t *page = NULL;
                bool more = false;
                int r = conn_read_line(c, /* deadline= */ -1, &line);

                if (r < 0)
                        return r;
                size_t len = strlen(line);
                total += len + 1;
                if (line[0] == '[') { /* a bare page (status "bare"), handed on unparsed */
                        if (!on_bare)
                                return (c->broken = true), -EBADMSG; /* not asked for: the rest is unknown */
                        n_pages++;
                        if (failed == 0 && (r = on_bare(line, len, userdata)) < 0)
                                failed = r;
                        continue;
                }
                r = request_reply_parse(c, line, &page, &more);
                if (r < 0)
                        return r == -EBADMSG && n_pages > 0 ? (c->broken = true, r) : r;
                n_pages++;
                if (on_page) {
                        if (failed == 0 && (r = on_page(page, userdata)) < 0)
                                failed = r;
                        json_decref(page);
                } else if (!reply)
                        reply = page;
                else {
                        r = request_result_merge(reply, page);
                        json_decref(page);
                        if (r < 0)
                                return (c->broken = more), r;
                }
                if (!more)
                        break;
                if (!on_page && total > CORRAL_REPLY_TOTAL_MAX) {
                        c->broken = true; /* the rest of it is still coming */
                        return -E2BIG;
                }
        }
        if (failed < 0)
                return failed;
        if (ret)
                *ret = TAKE_PTR(reply);
        return 0;
}

/* The request as one line, newline included, within CORRAL_REQUEST_MAX. */
static int request_format(const char *method, json_t *params, char **ret, size_t *ret_len) {
        json_auto_t *req = json_pack("{s:s}", "method", method);
        char *text;
        size_t n;

        if (!req) {
                json_decref(params);
                return -ENOMEM;
        }
        if (params && json_object_set_new(req, "params", params) < 0)
                return -ENOMEM;
        text = json_dumps(req, JSON_COMPACT);
        if (!text)
                return -ENOMEM;
        n = strlen(text);
        if (n + 1 > CORRAL_REQUEST_MAX) {
                free(text);
                return -E2BIG;
        }

        char *p = realloc(text, n + 2);
        if (!p) {
                free(text);
                return -ENOMEM;
        }
        p[n] = '\n';
        p[n + 1] = '\0';
        *ret = p;
        *ret_len = n + 1;
        return 0;
}

int request_call(corral *c, const char *method, json_t *params, json_t **ret) {
        return request_call_fds(c, method, params, /* fds= */ NULL, /* n_fds= */ 0, ret);
}

static int request_send(corral *c, const char *method, json_t *params, const int *fds, size_t n_fds) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        if (c->broken || c->subscribed) {
                json_decref(params);
                return c->broken ? -ENOTCONN : -EBUSY;
        }
        r = request_format(method, params, &text, &len);
        if (r < 0)
                return r;
        return n_fds > 0 ? conn_send_fds(c, text, len, fds, n_fds) : conn_send(c, text, len);
}

/* One request at a time: the lines after it are its reply. */
int request_call_fds(corral *c, const char *method, json_t *params, const int *fds, size_t n_fds, json_t **ret) {
        int r = request_send(c, method, params, fds, n_fds);
        return r < 0 ? r : reply_read(c, /* on_page= */ NULL, /* on_bare= */ NULL, /* userdata= */ NULL, ret);
}

int request_call_pages(corral *c, const char *method, json_t *params, request_page_handler on_page,
                       request_bare_handler on_bare, void *userdata) {
        int r = request_send(c, method, params, /* fds= */ NULL, /* n_fds= */ 0);
        return r < 0 ? r : reply_read(c, on_page, on_bare, userdata, /* ret= */ NULL);
}

int json_string_array(const char *const *l, json_t **ret) {
        json_auto_t *a = json_array();

        if (!a)
                return -ENOMEM;
        for (; l && *l; l++)
                /* json_string() refuses invalid UTF-8 (and fails on OOM,
                 * which it does not tell apart). */
                if (json_array_append_new(a, json_string(*l)) < 0)
                        return -EINVAL;
        *ret = TAKE_PTR(a);
        return 0;
}
