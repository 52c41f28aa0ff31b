/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The control socket (docs/PROTOCOL.md): JSON lines over a Unix stream
 * socket, peers authenticated by SO_PEERCRED, many clients at once without
 * ever blocking the loop. */

#include "macro.h"
#include "manager.h"

typedef struct ControlServer ControlServer;

/* The largest request line, and how far a client may fall behind on
 * replies and events before it is dropped (the pages of a long reply do
 * not count: each is made only once the client has read the last). */
#define CONTROL_REQUEST_MAX (64U * 1024U)
#define CONTROL_OUTPUT_MAX (1024U * 1024U)
#define CONTROL_CLIENTS_MAX 512U
#define CONTROL_CLIENTS_PER_UID_MAX 64U
/* How many of the units a status names come with their processes (each
 * list bounded: UNIT_STATUS_PROCESSES_MAX, CONTROL_JSON_PROCESSES_MAX). */
#define CONTROL_DETAILED_MAX 32U
/* At most CONTROL_LOG_BURST lines about refused connections per UID in
 * CONTROL_LOG_INTERVAL; then one line says how many were held back. */
#define CONTROL_LOG_INTERVAL (10 * USEC_PER_SEC)
#define CONTROL_LOG_BURST 10U
/* At most AUDIT_REFUSED_BURST refused requests logged per UID in
 * AUDIT_REFUSED_INTERVAL, then one line of how many were not. */
#define AUDIT_REFUSED_BURST 20U
#define AUDIT_REFUSED_INTERVAL (10 * USEC_PER_SEC)
/* How long corrald stops accepting when it is out of file descriptors
 * (unless a client goes first). */
#define CONTROL_ACCEPT_PAUSE (250 * USEC_PER_MSEC)

/* Binds m->config->control_socket (creating its directory), mode 0660,
 * group control_group, and serves it on m->event. Returns 0, -EADDRINUSE
 * when another process listens there, -errno. */
int control_open(Manager *m, ControlServer **ret);

/* Closes every client and the socket, and removes the socket file.
 * Accepts NULL; returns NULL. */
ControlServer *control_free(ControlServer *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(ControlServer *, control_free);

/* What the metrics need of the control socket, set by main.c (each may
 * be NULL): the text of the "metrics" method, and a count of every
 * request by method and outcome ("ok", "refused", "error"; the strings
 * are static). */
typedef struct ControlHooks {
        int (*metrics)(void *userdata, char **ret_text, size_t *ret_len);
        void (*request_done)(const char *method, const char *outcome, void *userdata);
        void *userdata;
} ControlHooks;

void control_set_hooks(ControlServer *s, const ControlHooks *hooks);

/* The manager's subscriber (wired in main.c): tells subscribed clients of
 * a unit's state change, answers waiters of a job that has ended, and
 * forgets a unit that is about to be freed. userdata is the server. */
void control_on_manager_event(const ManagerEvent *ev, void *userdata);

/* The manager's output subscriber (wired in main.c): sends the line to the
 * clients that follow its unit (logs with follow). userdata is the server. */
void control_on_output_line(const char *unit, const OutputLine *l, void *userdata);
