/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "libcorral-internal.h"
#include "macro.h"

struct corral_unit {
        json_t *obj;
        char *json; /* made on first use: lazy_json() */
};

struct corral_units {
        json_t *array;
        size_t n;
        corral_unit *units;
        char *json;
};

struct corral_event {
        json_t *root;
        json_t *event; /* root's "event" object */
        char *line;
};

/* ---- fields, with the absent values of corral.h ---- */

static const char *field_string(const json_t *o, const char *key) {
        return json_string_value(json_object_get(o, key));
}

/* A non-negative integer no larger than max, or -1. */
static long long field_int(const json_t *o, const char *key, long long max) {
        json_t *v = json_object_get(o, key);

        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
                return -1;
        return json_integer_value(v);
}

static uint64_t field_u64(const json_t *o, const char *key) {
        long long v = field_int(o, key, LLONG_MAX);
        return v < 0 ? UINT64_MAX : (uint64_t) v;
}

static pid_t field_pid(const json_t *o, const char *key) {
        long long v = field_int(o, key, INT_MAX);
        return v <= 0 ? 0 : (pid_t) v;
}

/* ---- units ---- */

corral_units *corral_units_free(corral_units *u) {
        if (!u)
                return NULL;
        for (size_t i = 0; i < u->n; i++)
                free(u->units[i].json);
        free(u->units);
        free(u->json);
        json_decref(u->array);
        return mfree(u);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(corral_units *, corral_units_free);

int units_new(json_t *array, corral_units **ret) {
        _cleanup_(corral_units_freep) corral_units *u = NULL;
        size_t n = json_array_size(array);

        if (!json_is_array(array))
                return -EBADMSG;
        u = calloc(1, sizeof(*u));
        if (!u)
                return -ENOMEM;
        u->array = json_incref(array);
        u->units = calloc(MAX(n, (size_t) 1), sizeof(corral_unit));
        if (!u->units)
                return -ENOMEM;
        for (; u->n < n; u->n++) {
                corral_unit *unit = &u->units[u->n];

                unit->obj = json_array_get(array, u->n);
                if (!field_string(unit->obj, "name"))
                        return -EBADMSG;
        }
        *ret = TAKE_PTR(u);
        return 0;
}

size_t corral_units_count(const corral_units *u) {
        return u ? u->n : 0;
}

const corral_unit *corral_units_get(const corral_units *u, size_t i) {
        return u && i < u->n ? &u->units[i] : NULL;
}

/* obj as text, made the first time it is asked for: a program that
 * only reads fields (`corralctl status` of 10,000 units) does not pay
 * for a dump of every unit. Several threads may ask at once: the first
 * text stored is kept, the others freed. NULL when out of memory. */
static const char *lazy_json(char **slot, const json_t *obj) {
        char *have = __atomic_load_n(slot, __ATOMIC_ACQUIRE), *text;

        if (have)
                return have;
        text = json_dumps(obj, JSON_COMPACT);
        if (!text)
                return NULL;
        if (__atomic_compare_exchange_n(slot, &have, text, /* weak= */ false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
                return text;
        free(text);
        return have;
}

const char *corral_units_json(const corral_units *u) {
        return u ? lazy_json((char **) &u->json, u->array) : NULL;
}

#define UNIT_OBJ(u) ((u) ? (u)->obj : NULL)

const char *corral_unit_name(const corral_unit *u) {
        return field_string(UNIT_OBJ(u), "name");
}

const char *corral_unit_kind(const corral_unit *u) {
        return field_string(UNIT_OBJ(u), "kind");
}

const char *corral_unit_state(const corral_unit *u) {
        return field_string(UNIT_OBJ(u), "state");
}

const char *corral_unit_result(const corral_unit *u) {
        return field_string(UNIT_OBJ(u), "result");
}

pid_t corral_unit_main_pid(const corral_unit *u) {
        return field_pid(UNIT_OBJ(u), "main_pid");
}

uint64_t corral_unit_uptime_usec(const corral_unit *u) {
        return field_u64(UNIT_OBJ(u), "uptime_usec");
}

uint64_t corral_unit_restarts(const corral_unit *u) {
        return field_u64(UNIT_OBJ(u), "restarts");
}

const char *corral_unit_exit_code(const corral_unit *u) {
        return field_string(UNIT_OBJ(u), "exit_code");
}

int corral_unit_exit_status(const corral_unit *u) {
        /* corrald sends exit_status 0 before the first exit too: only
         * exit_code tells whether there was one. */
        if (!corral_unit_exit_code(u))
                return -1;
        return (int) field_int(UNIT_OBJ(u), "exit_status", INT_MAX);
}

const char *corral_unit_status_text(const corral_unit *u) {
        return field_string(UNIT_OBJ(u), "status_text");
}

uint64_t corral_unit_cpu_usec(const corral_unit *u) {
        return field_u64(UNIT_OBJ(u), "cpu_usec");
}

uint64_t corral_unit_memory_bytes(const corral_unit *u) {
        return field_u64(UNIT_OBJ(u), "memory_bytes");
}

const char *corral_unit_memory_source(const corral_unit *u) {
        return field_string(UNIT_OBJ(u), "memory_source");
}

uint64_t corral_unit_tasks(const corral_unit *u) {
        return field_u64(UNIT_OBJ(u), "tasks");
}

int corral_unit_frozen(const corral_unit *u) {
        return json_is_true(json_object_get(UNIT_OBJ(u), "frozen"));
}

uid_t corral_unit_owner_uid(const corral_unit *u) {
        /* (uid_t) -1 is never a user: the absent value. */
        long long v = field_int(UNIT_OBJ(u), "owner_uid", (long long) (uid_t) -2);
        return v < 0 ? (uid_t) -1 : (uid_t) v;
}

const char *corral_unit_error(const corral_unit *u) {
        return field_string(UNIT_OBJ(u), "error");
}

size_t corral_unit_process_count(const corral_unit *u) {
        return json_array_size(json_object_get(UNIT_OBJ(u), "processes"));
}

pid_t corral_unit_process_pid(const corral_unit *u, size_t i) {
        return field_pid(json_array_get(json_object_get(UNIT_OBJ(u), "processes"), i), "pid");
}

pid_t corral_unit_process_ppid(const corral_unit *u, size_t i) {
        return field_pid(json_array_get(json_object_get(UNIT_OBJ(u), "processes"), i), "ppid");
}

const char *corral_unit_process_cmdline(const corral_unit *u, size_t i) {
        return field_string(json_array_get(json_object_get(UNIT_OBJ(u), "processes"), i), "cmdline");
}

const char *corral_unit_json(const corral_unit *u) {
        return u ? lazy_json((char **) &u->json, u->obj) : NULL;
}

int corral_unit_port(const corral_unit *u) {
        long long v = field_int(UNIT_OBJ(u), "port", 65535);
        return v < 0 ? 0 : (int) v;
}

uint64_t corral_unit_since_usec(const corral_unit *u) {
        return field_u64(UNIT_OBJ(u), "since_usec");
}

const char *corral_unit_reason(const corral_unit *u) {
        return field_string(UNIT_OBJ(u), "reason");
}

#define HEALTH_OBJ(u) json_object_get(UNIT_OBJ(u), "health")

int corral_unit_health_ok(const corral_unit *u) {
        json_t *ok = json_object_get(HEALTH_OBJ(u), "ok");

        /* Before the first check has ended corrald sends ok false with no
         * checks counted: that is "unknown", not "failed". */
        if (!json_is_boolean(ok) || field_int(HEALTH_OBJ(u), "checks", INT_MAX) <= 0)
                return -1;
        return json_is_true(ok);
}

int corral_unit_health_http_status(const corral_unit *u) {
        return (int) field_int(HEALTH_OBJ(u), "http_status", 999);
}

uint64_t corral_unit_health_latency_usec(const corral_unit *u) {
        return field_u64(HEALTH_OBJ(u), "latency_usec");
}

uint64_t corral_unit_health_failures(const corral_unit *u) {
        return field_u64(HEALTH_OBJ(u), "failures");
}

uint64_t corral_unit_health_age_usec(const corral_unit *u) {
        return field_u64(HEALTH_OBJ(u), "age_usec");
}

const char *corral_unit_health_error(const corral_unit *u) {
        return field_string(HEALTH_OBJ(u), "error");
}

/* ---- events ---- */

corral_event *corral_event_free(corral_event *e) {
        if (!e)
                return NULL;
        json_decref(e->root);
        free(e->line);
        return mfree(e);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(corral_event *, corral_event_free);

int event_new(char *line, corral_event **ret) {
        _cleanup_(corral_event_freep) corral_event *e = calloc(1, sizeof(*e));

        if (!e) {
                free(line);
                return -ENOMEM;
        }
        e->line = line;
        e->root = json_loads(line, /* flags= */ 0, /* error= */ NULL);
        if (!json_is_object(e->root))
                return -EBADMSG;
        e->event = json_object_get(e->root, "event");
        if (!e->event)
                return -ENOMSG; /* something newer corrald may send: skip it */
        if (!field_string(e->event, "unit"))
                return -EBADMSG;
        *ret = TAKE_PTR(e);
        return 0;
}

#define EVENT_OBJ(e) ((e) ? (e)->event : NULL)

const char *corral_event_unit(const corral_event *e) {
        return field_string(EVENT_OBJ(e), "unit");
}

const char *corral_event_state(const corral_event *e) {
        return field_string(EVENT_OBJ(e), "state");
}

const char *corral_event_result(const corral_event *e) {
        return field_string(EVENT_OBJ(e), "result");
}

pid_t corral_event_main_pid(const corral_event *e) {
        return field_pid(EVENT_OBJ(e), "main_pid");
}

uint64_t corral_event_timestamp_usec(const corral_event *e) {
        return field_u64(EVENT_OBJ(e), "timestamp_usec");
}

const char *corral_event_kind(const corral_event *e) {
        return field_string(EVENT_OBJ(e), "kind");
}

const char *corral_event_exit_code(const corral_event *e) {
        return field_string(EVENT_OBJ(e), "exit_code");
}

int corral_event_exit_status(const corral_event *e) {
        if (!corral_event_exit_code(e))
                return -1;
        return (int) field_int(EVENT_OBJ(e), "exit_status", INT_MAX);
}

const char *corral_event_error(const corral_event *e) {
        return field_string(EVENT_OBJ(e), "error");
}

const char *corral_event_json(const corral_event *e) {
        return e ? e->line : NULL;
}
