/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The control protocol's objects as JSON (docs/PROTOCOL.md): units, events,
 * the daemon, replies. Pure: a function of a UnitStatus or of plain values,
 * with no Manager, Unit or event loop, so that fuzz-control links it as it
 * is. */

#include <jansson.h>

#include "time-util.h"
#include "unit-status.h"

/* The symbolic name of the errno value e ("ENOENT"), "EIO" for one the
 * protocol does not name. */
const char *control_errno_name(int e);

/* s as a JSON string, or null for NULL; bytes that are not UTF-8 become
 * U+FFFD (a string that jansson refuses would make the whole object fail:
 * a unit vanishing from a status). Returns a new reference, or NULL when
 * out of memory. Every string of the objects below goes through it. */
json_t *control_json_string(const char *s);

/* The Unit object of docs/PROTOCOL.md: the statistics when s has them,
 * "processes" when s has them. Returns a new reference, or NULL. */
json_t *control_json_unit(const UnitStatus *s);

/* An event line's object: {"event": {"unit", "state", "result",
 * "main_pid", "timestamp_usec"}}. Returns a new reference, or NULL. */
json_t *control_json_event(const UnitStatus *s, usec_t timestamp);

/* The Daemon object. Returns a new reference, or NULL. */
json_t *control_json_daemon(const char *version, pid_t pid, const char *cgroup, const char *reload_error);

/* Formats a message as one line, newline included. Returns 0 with the
 * malloc'd text in *ret and its length in *ret_len, or -ENOMEM. */
int control_json_line(json_t *msg, char **ret, size_t *ret_len);

/* {"ok": true, "result": result}; takes result, which may be NULL (out of
 * memory: -ENOMEM). Returns a new reference in *ret, or -ENOMEM. */
int control_json_reply(json_t *result, json_t **ret);

/* {"ok": false, "error": {"errno", "code", "message"}}, the message
 * strerror()'s when NULL. Returns a new reference in *ret, or -ENOMEM. */
int control_json_error(int error, const char *message, json_t **ret);
