/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* One request line of the control protocol (docs/PROTOCOL.md) as a struct:
 * the method by a string table, its params checked for type and bounds.
 * Pure: no Manager, Unit or event loop; fuzz-control links it as it is. */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "time-util.h"

typedef enum ControlMethod {
        CONTROL_METHOD_STATUS,
        CONTROL_METHOD_START,
        CONTROL_METHOD_STOP,
        CONTROL_METHOD_RESTART,
        CONTROL_METHOD_KILL,
        CONTROL_METHOD_FREEZE,
        CONTROL_METHOD_THAW,
        CONTROL_METHOD_RELOAD,
        CONTROL_METHOD_RUN,
        CONTROL_METHOD_CANCEL,
        CONTROL_METHOD_WAIT,
        CONTROL_METHOD_SUBSCRIBE,
        CONTROL_METHOD_METRICS,
        CONTROL_METHOD_LOGS,
        CONTROL_METHOD_ADD, /* runtime services: add … cat */
        CONTROL_METHOD_REMOVE,
        CONTROL_METHOD_SCALE,
        CONTROL_METHOD_APPLY,
        CONTROL_METHOD_CAT,
        _CONTROL_METHOD_MAX,
        _CONTROL_METHOD_INVALID = -EINVAL,
} ControlMethod;

const char *control_method_to_string(ControlMethod m);
ControlMethod control_method_from_string(const char *s);

typedef struct ControlRequest {
        ControlMethod method;
        /* A problem with params for this method: -EINVAL and a static
         * message; 0 when they are fine. Kept apart so that the caller
         * checks the permission for the method first. */
        int params_error;
        const char *params_error_message;

        char **units; /* params.units (status, start, …), each name once, in the order first
                             * given: NULL when absent */
        size_t n_units;
        int signal;     /* kill: 1..SIGRTMAX, SIGTERM when absent */
        char *id;       /* cancel, wait */
        char **argv;    /* run: not empty */
        char **env;     /* run: NULL when absent */
        char *name;     /* run: NULL when absent */
        char *cwd;      /* run: NULL when absent */
        usec_t timeout; /* run: 0 when absent */
        /* run: for the job's fd 0, 1, 2 the index of its descriptor among
         * those that came with the request (0..CONTROL_FDS_MAX-1), -1 for
         * none; has_stdio when "stdio" was given. */
        int stdio[3];
        bool has_stdio;
        int stop_signal;     /* run: 0 when absent */
        usec_t stop_timeout; /* run: USEC_INFINITY when absent */
        char *kill_mode;     /* run: NULL when absent (checked by the methods) */
        char **limits;       /* run: "KEY=VALUE" entries of params.limits, NULL when absent (checked by the methods) */
        int cancel_signal;   /* cancel: 0 when absent (the job's stop signal) */
        usec_t grace;        /* cancel: USEC_INFINITY when absent (the job's stop timeout) */
        usec_t wait_timeout; /* wait: USEC_INFINITY when absent */
        bool jobs;           /* subscribe: only job events */
        uint64_t lines;      /* logs: CONTROL_LOGS_LINES_DEFAULT when absent */
        usec_t since;        /* logs: since_usec, 0 when absent */
        bool follow;         /* logs */
        bool no_stats;       /* status: params.stats false, no statistics from the cgroups */
        bool bare;           /* status: params.bare true, pages as bare arrays of Unit objects */

        /* Requests that wait, runtime services (control-request.c, "Runtime") */
        bool all;              /* params.all (units methods): every unit; then no units */
        bool wait;             /* params.wait: answer once every unit reached its goal */
        bool all_at_once;      /* restart: params.all_at_once, no rolling restart */
        char *service;         /* add, remove, scale, cat: params.name */
        char *body;            /* add: params.ini, or params.keys as "key = value" lines */
        unsigned instances;    /* scale */
        char **service_names;  /* apply: params.services[].name … */
        char **service_bodies; /* … and their bodies, as body */
        size_t n_services;
} ControlRequest;

/* docs/PROTOCOL.md: a request carries at most 3 descriptors. */
#define CONTROL_FDS_MAX 3

/* logs: the lines when the request says nothing, and the most it may ask
 * for (more is cut to this; a reply holds what fits anyway). */
#define CONTROL_LOGS_LINES_DEFAULT 10U
#define CONTROL_LOGS_LINES_MAX ((uint64_t) UINT32_MAX)

/* Parses the request line (len bytes, without its newline). Returns 0 with
 * *ret filled (a params problem is 0 with ret->params_error set), -EINVAL
 * when the line is not one JSON object with a string "method" and an
 * optional object "params", -EOPNOTSUPP for an unknown method, -ENOMEM; on
 * -EINVAL and -EOPNOTSUPP *ret_error (if not NULL) points at a static
 * message. *ret is emptied with control_request_done(). */
int control_request_parse(const char *line, size_t len, ControlRequest *ret, const char **ret_error);

/* params.keys of add or apply ({"key": value or [values…]}: strings,
 * numbers, booleans) as the body of a section, one "key = value" line per
 * value. -EINVAL (with a static message) for another type, a key that is
 * not a plain word or a value holding a newline; -ENOMEM. */
int control_request_keys_to_ini(json_t *keys, char **ret, const char **ret_error);

/* Frees what r holds and zeroes it; accepts a zeroed struct. */
void control_request_done(ControlRequest *r);
