/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The logs method of the control protocol (docs/PROTOCOL.md, "Output"):
 * its params, its result, and the messages its followers get. The server
 * keeps a ControlFollow per client and queues what these functions make. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control-request.h"
#include "manager.h"
#include "output-ring.h"

/* {"lines": [...], "journal": [...], "omitted": n} for the units, lines
 * and since of req (a logs request). Returns 0 with the object in *ret,
 * -ENOENT with the unknown name in *ret_missing (a pointer into req),
 * -ENOMEM. */
int control_logs_result(Manager *m, const ControlRequest *req, json_t **ret, const char **ret_missing);

/* What a follower follows. */
typedef struct ControlFollow {
        bool on;
        char **units;     /* NULL: every unit, those added later too */
        uint64_t dropped; /* lines left out since the last one sent */
} ControlFollow;

/* Starts following units (taken; NULL: every unit). */
void control_follow_start(ControlFollow *f, char **units);
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
