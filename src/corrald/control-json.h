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

/* The most bytes of JSON that a unit's "processes" take: past that, as
 * past UNIT_STATUS_PROCESSES_MAX processes, the list is cut and the unit
 * says "processes_truncated": true. */
#define CONTROL_JSON_PROCESSES_MAX (512U * 1024U)

/* The Unit object of docs/PROTOCOL.md: the statistics when s has them,
 * "processes" when s has them. Returns a new reference, or NULL. */
json_t *control_json_unit(const UnitStatus *s);

/* An event line's object: {"event": {"unit", "state", "result",
 * "main_pid", "timestamp_usec"}}. Returns a new reference, or NULL. */
json_t *control_json_event(const UnitStatus *s, usec_t timestamp);

/* The longest cgroup path and reload error in the Daemon object. */
#define CONTROL_JSON_TEXT_MAX 4096U

/* The Daemon object, its cgroup and reload_error cut at
 * CONTROL_JSON_TEXT_MAX bytes. Returns a new reference, or NULL. */
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

/* At least the length of v's compact JSON (json_dumpb()), found without
 * formatting it. */
size_t control_json_size_bound(const json_t *v);

/* A reply that carries units may take several lines (pages): each but the
 * last is {"ok": true, "more": true, "result": {"units": […]}}, the last
 * {"ok": true, "result": {"units": […], …}} with the reply's other
 * members. A page is closed once its units take CONTROL_PAGE_SIZE bytes,
 * and before a unit would take it past CONTROL_PAGE_MAX — bytes counted
 * by control_json_size_bound() (the exact size for a unit whose bound
 * passes CONTROL_PAGE_SIZE), so that pages are smaller than the figures
 * and never larger; a unit takes at
 * most CONTROL_JSON_PROCESSES_MAX plus its texts (UNIT_STATUS_TEXT_MAX
 * each, six bytes of JSON a byte at worst), so that every line stays
 * within the 1 MiB that a client reads. */
#define CONTROL_PAGE_SIZE (256U * 1024U)
#define CONTROL_PAGE_MAX (1024U * 1024U - 128U * 1024U)

typedef struct ControlPager {
        json_t *units; /* of the page being filled; NULL: none yet */
        size_t bytes;  /* their JSON's size bounds, a comma each */
        bool bare;     /* pages as bare arrays: [Unit…] lines, then the reply object without "units" */
} ControlPager;

/* Adds the Unit object o (taken) to the page. Returns 1 with a closed
 * page's line (newline included, malloc'd) in *ret and its length in
 * *ret_len, 0 when the page is not full yet, -ENOMEM. */
int control_pager_add(ControlPager *p, json_t *o, char **ret, size_t *ret_len);

/* The last line: the units left and the members of extra (taken; NULL:
 * none) as the result. Returns 0 with the line in *ret, or -ENOMEM. A
 * bare pager's last line has no units: control_pager_flush() first. */
int control_pager_finish(ControlPager *p, json_t *extra, char **ret, size_t *ret_len);

/* A bare pager's units not yet sent as a line: returns 1 with it in *ret,
 * 0 when there are none (or the pager is not bare), -ENOMEM. */
int control_pager_flush(ControlPager *p, char **ret, size_t *ret_len);

/* Frees what p holds; accepts a zeroed struct. */
void control_pager_done(ControlPager *p);
