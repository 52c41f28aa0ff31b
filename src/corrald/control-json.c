/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "control-json.h"

#include <assert.h>
#include <string.h>
#include <sys/wait.h>

#include "macro.h"
#include "utf8.h"

const char *control_errno_name(int e) {
        static const struct {
                int e;
                const char *name;
        } table[] = {
                { EINVAL, "EINVAL" }, { E2BIG, "E2BIG" },   { ENOENT, "ENOENT" },       { EPERM, "EPERM" },
                { EBUSY, "EBUSY" },   { EEXIST, "EEXIST" }, { ESHUTDOWN, "ESHUTDOWN" }, { EOPNOTSUPP, "EOPNOTSUPP" },
                { ESRCH, "ESRCH" },   { ENOMEM, "ENOMEM" }, { EACCES, "EACCES" },       { ETIMEDOUT, "ETIMEDOUT" },
                { EAGAIN, "EAGAIN" }, { EBADF, "EBADF" },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (table[i].e == e)
                        return table[i].name;
        return "EIO";
}

json_t *control_json_string(const char *s) {
        _cleanup_free_ char *valid = NULL;

        if (!s)
                return json_null();
        if (utf8_is_valid(s))
                return json_string(s);
        /* a file's or a peer's bytes (a reload error, a cgroup path): what
         * json_string() would refuse, made valid as unit-status.c does */
        valid = utf8_make_valid(s);
        return valid ? json_string(valid) : NULL;
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

static const char *memory_source_name(UnitMemorySource source) {
        return source == UNIT_MEMORY_CURRENT ? "memory.current" : source == UNIT_MEMORY_RSS ? "rss" : NULL;
}

static json_t *health_json(const UnitHealthStatus *h) {
        return json_pack("{s:b, s:i, s:I, s:i, s:i, s:I, s:o}", "ok", h->ok, "http_status", (int) h->http_status,
                         "latency_usec", (json_int_t) h->latency, "failures", (int) h->failures, "checks",
                         (int) h->checks, "age_usec", (json_int_t) h->age, "error", control_json_string(h->error));
}

/* A member with a key of ours, which needs no check of its UTF-8; NULL
 * (out of memory) fails it. */
static int set_member(json_t *o, const char *key, json_t *v) {
        return json_object_set_new_nocheck(o, key, v);
}

/* One of our names (a state, a result): ASCII, no check; NULL as null. */
static json_t *name_json(const char *name) {
        return name ? json_string_nocheck(name) : json_null();
}

/* Sets what can fail separately; a NULL value makes json_object_set_new()
 * fail, which the caller sees as a missing member. */
static int unit_json_add_stats(json_t *o, const UnitStatus *s) {
        int r = 0;

        if (s->has_cpu)
                r |= set_member(o, "cpu_usec", json_integer((json_int_t) s->cpu_usec));
        if (s->has_tasks)
                r |= set_member(o, "tasks", json_integer((json_int_t) s->tasks));
        if (s->memory_source != UNIT_MEMORY_NONE) {
                r |= set_member(o, "memory_bytes", json_integer((json_int_t) s->memory_bytes));
                r |= set_member(o, "memory_source", name_json(memory_source_name(s->memory_source)));
        }
        if (s->has_frozen)
                r |= set_member(o, "frozen", json_boolean(s->frozen));
        return r < 0 ? -ENOMEM : 0;
}

/* The processes, as many as fit in CONTROL_JSON_PROCESSES_MAX bytes;
 * *ret_cut tells whether some were left out for that. */
static json_t *processes_json(const UnitStatus *s, bool *ret_cut) {
        json_t *a = json_array();
        size_t bytes = 0;

        *ret_cut = false;
        for (size_t i = 0; a && i < s->n_processes; i++) {
                const UnitProcess *p = &s->processes[i];
                json_t *o = json_pack("{s:i, s:i, s:o}", "pid", (int) p->pid, "ppid", (int) p->ppid, "cmdline",
                                      control_json_string(p->cmdline ?: "?"));
                size_t n = o ? json_dumpb(o, NULL, 0, JSON_COMPACT) + 1 : 0;

                if (o && bytes + n > CONTROL_JSON_PROCESSES_MAX) {
                        json_decref(o);
                        *ret_cut = true;
                        break;
                }
                bytes += n;
                if (json_array_append_new(a, o) < 0)
                        a = (json_decref(a), NULL);
        }
        return a;
}

static int unit_json_add_processes(json_t *o, const UnitStatus *s) {
        bool cut = false;
        json_t *a = processes_json(s, &cut);
        int r = json_object_set_new(o, "processes", a);

        if (r >= 0 && (cut || s->processes_truncated))
                r = json_object_set_new(o, "processes_truncated", json_true());
        return r < 0 ? -ENOMEM : 0;
}

/* Built member by member, not with json_pack(): that parses its format for
 * every unit and checks every key (10,000 units: 13 against 7 ms). */
json_t *control_json_unit(const UnitStatus *s) {
        json_t *o = json_object();
        char reason[64];
        int r = 0;

        if (!o)
                return NULL;
        r |= set_member(o, "name", control_json_string(s->name));
        r |= set_member(o, "kind", name_json(s->is_job ? "job" : "service"));
        r |= set_member(o, "state", name_json(unit_state_to_string(s->state)));
        r |= set_member(o, "result", name_json(unit_result_to_string(s->result)));
        r |= set_member(o, "main_pid", json_integer((json_int_t) s->main_pid));
        r |= set_member(o, "restarts", json_integer((json_int_t) s->restarts));
        r |= set_member(o, "exit_code", name_json(exit_code_name(s->exit_code)));
        r |= set_member(o, "exit_status", json_integer(s->exit_status));
        r |= set_member(o, "status_text", control_json_string(s->status_text));
        r |= set_member(o, "owner_uid", json_integer((json_int_t) s->owner_uid));
        r |= set_member(o, "uptime_usec", json_integer((json_int_t) s->uptime));
        if (s->error_text)
                r |= set_member(o, "error", control_json_string(s->error_text));
        if (s->port > 0)
                r |= set_member(o, "port", json_integer(s->port));
        if (s->since > 0)
                r |= set_member(o, "since_usec", json_integer((json_int_t) s->since));
        if (unit_status_reason(s, reason, sizeof(reason)))
                r |= set_member(o, "reason", json_string(reason));
        if (s->has_health)
                r |= set_member(o, "health", health_json(&s->health));
        r |= unit_json_add_stats(o, s);
        if (s->has_processes)
                r |= unit_json_add_processes(o, s);
        if (r < 0) {
                json_decref(o);
                return NULL;
        }
        return o;
}

json_t *control_json_event(const UnitStatus *s, usec_t timestamp) {
        json_t *msg = json_pack("{s:{s:o, s:s, s:s, s:s, s:I, s:I}}", "event", "unit", control_json_string(s->name),
                                "kind", s->is_job ? "job" : "service", "state", unit_state_to_string(s->state),
                                "result", unit_result_to_string(s->result), "main_pid", (json_int_t) s->main_pid,
                                "timestamp_usec", (json_int_t) timestamp);
        json_t *ev = json_object_get(msg, "event");
        int r = 0;

        /* How the main process ended, once it has: a program driving its
         * jobs from the event stream need not ask. */
        if (ev && exit_code_name(s->exit_code)) {
                r |= json_object_set_new(ev, "exit_code", json_string(exit_code_name(s->exit_code)));
                r |= json_object_set_new(ev, "exit_status", json_integer(s->exit_status));
        }
        if (ev && s->error_text)
                r |= json_object_set_new(ev, "error", control_json_string(s->error_text));
        if (r < 0) {
                json_decref(msg);
                return NULL;
        }
        return msg;
}

/* s as a JSON string of at most max bytes (cut at a character), or null. */
static json_t *json_text_max(const char *s, size_t max) {
        _cleanup_free_ char *cut = NULL;

        if (!s || strlen(s) <= max)
                return control_json_string(s);
        cut = utf8_make_valid_max(s, max);
        return cut ? json_string(cut) : NULL;
}

json_t *control_json_daemon(const char *version, pid_t pid, const char *cgroup, const char *reload_error) {
        return json_pack("{s:o, s:i, s:o, s:o}", "version", control_json_string(version), "pid", (int) pid, "cgroup",
                         json_text_max(cgroup, CONTROL_JSON_TEXT_MAX), "reload_error",
                         json_text_max(reload_error, CONTROL_JSON_TEXT_MAX));
}

int control_json_line(json_t *msg, char **ret, size_t *ret_len) {
        char *text = json_dumps(msg, JSON_COMPACT);
        size_t n;

        if (!text)
                return -ENOMEM;
        n = strlen(text);
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

int control_json_reply(json_t *result, json_t **ret) {
        json_t *msg;

        if (!result)
                return -ENOMEM;
        msg = json_pack("{s:b, s:o}", "ok", 1, "result", result);
        if (!msg)
                return -ENOMEM;
        *ret = msg;
        return 0;
}

int control_json_error(int error, const char *message, json_t **ret) {
        int e = ERRNO_VALUE(error);
        json_t *msg = json_pack("{s:b, s:{s:s, s:i, s:o}}", "ok", 0, "error", "errno", control_errno_name(e), "code", e,
                                "message", control_json_string(message ?: strerror(e)));

        if (!msg)
                return -ENOMEM;
        *ret = msg;
        return 0;
}

/* A string's length in JSON at most: its bytes and quotes, and five more
 * for each byte an encoder may escape ("\u001f"; '/' and any byte of a
 * non-ASCII character too, for every flag of jansson's). */
static size_t string_bound(const char *s, size_t len) {
        size_t n = len + 2;

        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char) s[i];
                if (c < 0x20 || c == '"' || c == '\\' || c == '/' || c >= 0x80)
                        n += 5;
        }
        return n;
}

static size_t integer_length(json_int_t v) {
        uint64_t m = v < 0 ? (uint64_t) - (v + 1) + 1 : (uint64_t) v;
        size_t n = 1 + (v < 0);

        for (; m >= 10; m /= 10)
                n++;
        return n;
}

/* At least the length of v's compact JSON, without formatting it: counted,
 * not written (close to exact for the units: pages keep their size). For
 * the pages, where the exact size (json_dumpb() without a buffer) was a
 * fourth of corrald's time of a status without statistics: it formats
 * every number twice. */
size_t control_json_size_bound(const json_t *v) {
        const char *key;
        json_t *x;
        size_t n = 2, i;

        switch (json_typeof(v)) {
        case JSON_OBJECT:
                json_object_foreach((json_t *) v, key, x)
                        n += string_bound(key, strlen(key)) + 1 + control_json_size_bound(x) + 1;
                return n;
        case JSON_ARRAY:
                json_array_foreach(v, i, x) n += control_json_size_bound(x) + 1;
                return n;
        case JSON_STRING:
                return string_bound(json_string_value(v), json_string_length(v));
        case JSON_INTEGER:
                return integer_length(json_integer_value(v));
        case JSON_REAL:
                return 32; /* "%.17g" */
        default:
                return 5; /* true, false, null */
        }
}

/* msg as a line in a buffer of its size bound, made once: no growing
 * buffer, no copy to add the newline. */
static int line_bounded(json_t *msg, size_t bound, char **ret, size_t *ret_len) {
        char *buf = malloc(bound + 2);
        size_t n;

        if (!buf)
                return -ENOMEM;
        n = json_dumpb(msg, buf, bound, JSON_COMPACT);
        if (n == 0 || n > bound) { /* failed, or (never) past the bound */
                free(buf);
                return n == 0 ? -ENOMEM : control_json_line(msg, ret, ret_len);
        }
        buf[n] = '\n';
        buf[n + 1] = '\0';
        *ret = buf;
        *ret_len = n + 1;
        return 0;
}

enum {
        PAGE_MORE = 1 << 0,     /* "more": true, a page that others follow */
        PAGE_NO_UNITS = 1 << 1, /* the end of a bare reply: its units went before, as arrays */
};

/* {"ok": true, ["more": true,] "result": {["units": units,] …extra}} as
 * a line; takes units and extra. units_bound: a size bound of units' JSON. */
static int page_line(json_t *units, size_t units_bound, json_t *extra, unsigned flags, char **ret, size_t *ret_len) {
        json_t *result = extra ?: json_object(), *msg;
        size_t bound = (extra ? control_json_size_bound(extra) : 2) + units_bound + 128;
        bool more = flags & PAGE_MORE;
        int r;

        if (!result || (!(flags & PAGE_NO_UNITS) && json_object_set_new(result, "units", units ?: json_array()) < 0)) {
                json_decref(result);
                return -ENOMEM;
        }
        msg = more ? json_pack("{s:b, s:b, s:o}", "ok", 1, "more", 1, "result", result)
                   : json_pack("{s:b, s:o}", "ok", 1, "result", result);
        if (!msg)
                return -ENOMEM;
        r = line_bounded(msg, bound, ret, ret_len);
        json_decref(msg);
        return r;
}

/* Appends o (taken) to the page being filled. */
static int pager_append(ControlPager *p, json_t *o, size_t n) {
        if (!p->units && !(p->units = json_array())) {
                json_decref(o);
                return -ENOMEM;
        }
        if (json_array_append_new(p->units, o) < 0)
                return -ENOMEM;
        p->bytes += n;
        return 0;
}

static int pager_close(ControlPager *p, char **ret, size_t *ret_len) {
        size_t bytes = p->bytes + 2;
        json_t *units = TAKE_PTR(p->units);
        int r;

        p->bytes = 0;
        if (!p->bare)
                return page_line(units, bytes, /* extra= */ NULL, PAGE_MORE, ret, ret_len);
        r = line_bounded(units, bytes, ret, ret_len); /* the array alone, for a copy unparsed */
        json_decref(units);
        return r;
}

int control_pager_flush(ControlPager *p, char **ret, size_t *ret_len) {
        if (!p->bare || !p->units)
                return 0;
        int r = pager_close(p, ret, ret_len);
        return r < 0 ? r : 1;
}

int control_pager_add(ControlPager *p, json_t *o, char **ret, size_t *ret_len) {
        _cleanup_free_ char *line = NULL;
        size_t n, len = 0;
        int r;

        if (!o)
                return -ENOMEM;
        /* the bound of a unit of the table (its JSON's size, give or take
         * a comma); the exact size of one with many processes or texts of
         * escaped bytes, whose bound could pass the page's limit when the
         * JSON does not */
        n = control_json_size_bound(o);
        if (n > CONTROL_PAGE_SIZE)
                n = json_dumpb(o, NULL, 0, JSON_COMPACT);
        n++;
        if (p->units && p->bytes + n > CONTROL_PAGE_MAX) {
                /* o would take the page too far: it begins the next one */
                r = pager_close(p, &line, &len);
                if (r < 0) {
                        json_decref(o);
                        return r;
                }
                r = pager_append(p, o, n);
                if (r < 0)
                        return r;
                *ret = TAKE_PTR(line);
                *ret_len = len;
                return 1;
        }
        r = pager_append(p, o, n);
        if (r < 0)
                return r;
        if (p->bytes < CONTROL_PAGE_SIZE)
                return 0;
        r = pager_close(p, ret, ret_len);
        return r < 0 ? r : 1;
}

int control_pager_finish(ControlPager *p, json_t *extra, char **ret, size_t *ret_len) {
        size_t bytes = p->bytes + 2;

        p->bytes = 0;
        assert(!p->bare || !p->units);
        return page_line(TAKE_PTR(p->units), bytes, extra, p->bare ? PAGE_NO_UNITS : 0, ret, ret_len);
}

void control_pager_done(ControlPager *p) {
        json_decref(p->units);
        *p = (ControlPager) {};
}
