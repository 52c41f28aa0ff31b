/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The logs method of the control protocol (docs/PROTOCOL.md, "Output"):
 * its params, its result, and the messages its followers get. The server
 * keeps a ControlFollow per client and queues what these functions make. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "manager.h"
#include "output-ring.h"

/* The lines of a logs request when it says nothing, and the most it may
 * ask for (more would not fit in a reply anyway). */
#define CONTROL_LOGS_LINES_DEFAULT 10U
#define CONTROL_LOGS_LINES_MAX UINT32_MAX

typedef struct ControlLogsParams {
        char **units;     /* NULL: every unit */
        uint64_t lines;
        usec_t since;     /* CLOCK_REALTIME µs; 0: no bound */
        bool follow;
} ControlLogsParams;

/* Parses the params object of logs (NULL: none). Pure. Returns 0, or
 * -EINVAL with a static message in *ret_error, -ENOMEM. */
int control_logs_params_parse(json_t *params, ControlLogsParams *ret, const char **ret_error);
void control_logs_params_done(ControlLogsParams *p);

/* {"lines": [...], "journal": [...], "omitted": n} for p. Returns 0 with
 * the object in *ret, -ENOENT with the unknown name in *ret_missing (a
 * pointer into p), -ENOMEM. */
int control_logs_result(Manager *m, const ControlLogsParams *p, json_t **ret, const char **ret_missing);

/* What a follower follows. */
typedef struct ControlFollow {
        bool on;
        char **units;     /* NULL: every unit, those added later too */
        uint64_t dropped; /* lines left out since the last one sent */
} ControlFollow;

/* Starts following p's units (taken from p). */
void control_follow_start(ControlFollow *f, ControlLogsParams *p);
void control_follow_done(ControlFollow *f);
bool control_follow_wants(const ControlFollow *f, const char *unit);

/* A follower with more than this unsent loses lines, counted in dropped
 * and told with a "dropped" message once there is room again: what units
 * write can outrun any reader, and a follower is not dropped for it. */
#define CONTROL_FOLLOW_BEHIND_MAX ((size_t) 512 * 1024)

/* "{"line": {…}}\n" for a line of unit. Returns 0 with the malloc'd text
 * and its length, -ENOMEM. */
int control_logs_line_text(const char *unit, const OutputLine *l, char **ret, size_t *ret_len);

/* "{"dropped": {"lines": n}}\n". */
int control_logs_dropped_text(uint64_t n, char **ret, size_t *ret_len);
