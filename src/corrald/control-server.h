/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Inside the control module: the server and its clients, as the methods
 * (control-methods.c) see them. Not for other modules: they use control.h
 * (and only main.c does). */

#include <jansson.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>

#include "control-logs.h"
#include "control-request.h"
#include "control-ratelimit.h"
#include "control-stream.h"
#include "control.h"
#include "manager.h"
#include "manager-request.h"

typedef enum ControlPermission {
        CONTROL_PERM_READ,   /* status_public, or a changer */
        CONTROL_PERM_CHANGE, /* root or control_group */
        CONTROL_PERM_JOB,    /* a changer or job_group */
        CONTROL_PERM_OWNER,  /* a reader, or a member of job_group (for its own jobs: checked by the method) */
} ControlPermission;

typedef struct ControlClient ControlClient;

struct ControlClient {
        ControlServer *server;
        int fd;
        struct ucred cred;
        sd_event_source *io;
        sd_event_source *timer; /* a whole request must arrive within control_timeout */
        char *in;
        size_t n_in;
        char *out;
        size_t n_out;
        bool subscribed;
        bool processing;      /* in client_process(): what ends a reply must not start it again */
        ControlFollow follow; /* logs with follow: the new lines of these units */
        /* Dropped: its fd and sources are gone, and a deferred source frees
         * it, so that no walk of the client list touches freed memory. */
        bool dead;
        char *waiting_for; /* a job whose end answers the pending "wait" */
        char comm[32];     /* the peer's command name at connect time, for the audit trail ("" unknown) */
        int last_error;    /* of the reply to the request being handled: 0, or the error sent */
        char last_message[160];
        ManagerRequest *request;     /* a request with "wait" (control-runtime.c) whose end answers it */
        json_t *pending;             /* the result that answer completes */
        sd_event_source *wait_timer; /* the "wait"'s timeout_usec, when it has one */
        bool jobs_only;              /* subscribed to the events of jobs */
        bool owner_only;             /* … of its own jobs (a job_group member who may not read) */
        /* Descriptors (SCM_RIGHTS) that came with the first byte of the
         * request in progress; closed once it is answered. fds_error is
         * -EBADF when descriptors came wrong (too many, in the middle of a
         * request): that request fails. */
        int fds[CONTROL_FDS_MAX];
        size_t n_fds;
        int fds_error;
        ControlStream *stream; /* a reply of units being made, page by page */
        sd_event_source *fill; /* makes the next step of it */
        ControlClient *next;
};

struct ControlServer {
        Manager *manager;
        int fd;
        char *path;
        int dir_fd; /* the socket's directory (O_PATH), to remove it from */
        sd_event_source *io;
        sd_event_source *gc; /* frees dead clients */
        gid_t control_gid, job_gid;
        bool have_control_gid, have_job_gid;
        ControlClient *clients; /* the dead ones too, until gc runs */
        unsigned n_clients;     /* the live ones */
        ControlHooks hooks;
        ControlRateLimit audit_refusals; /* refused requests logged, per UID (AUDIT_REFUSED_*) */
        ControlRateLimit refusals;       /* log lines about refused connections, per UID */
        sd_event_source *refusals_timer; /* sums up what that held back */
        bool accept_paused;              /* out of descriptors: io is off until a client goes */
        sd_event_source *accept_timer;   /* … or until CONTROL_ACCEPT_PAUSE has passed */
        usec_t accept_logged;            /* when the pause was last logged */
};

/* Whether the client's peer may use methods needing p. */
bool control_client_may(ControlClient *c, ControlPermission p);

/* Queues {"ok": true, "result": result} (takes result; NULL means out of
 * memory and is answered with ENOMEM). A client too far behind is
 * dropped. Returns 0, or -ENOBUFS when the client was dropped, -ENOMEM. */
int control_client_reply(ControlClient *c, json_t *result);

/* Queues an error reply; message NULL: strerror()'s. Returns as above. */
int control_client_reply_error(ControlClient *c, int error, const char *message);

/* Answers with the n units (a malloc'd array, taken), each with flags,
 * the first n_detailed also with their processes, and the members of
 * extra (taken, may be NULL) in the result: in pages made as the client
 * reads them (control-stream.h), further requests held back meanwhile;
 * bare: pages of bare arrays (status "bare"). Returns 0, -ENOBUFS when
 * the client was dropped, -ENOMEM. */
int control_client_reply_units(ControlClient *c, Unit **units, size_t n, UnitStatusFlags flags, size_t n_detailed,
                               bool bare, json_t *extra);

/* Holds back the client's further requests until the job name has ended
 * (control_on_manager_event() then answers), or until timeout has passed
 * (USEC_INFINITY: never; then the answer is ETIMEDOUT). Returns 0 or
 * -ENOMEM. */
int control_client_wait_for(ControlClient *c, const char *name, usec_t timeout);

/* Holds back the client's further requests until req has ended; the
 * answer will be pending (taken), completed by the request's handler.
 * Returns 0 or -ENOBUFS (the client was dropped). */
int control_client_wait_request(ControlClient *c, ManagerRequest *req, json_t *pending);

/* After the answer of a wait: handles the requests that came meanwhile.
 * Returns 0 or -ENOBUFS when the client was dropped. */
int control_client_resume(ControlClient *c);

/* Turns the connection into an event stream (after the reply to
 * subscribe): of every unit, of jobs only, or of the client's own jobs. */
void control_client_subscribe(ControlClient *c, bool jobs_only, bool owner_only);

/* Turns the connection into a stream of the new lines of units (a copy
 * is taken; NULL: every unit), after the reply to logs with follow.
 * Returns 0 or -ENOMEM (after an error reply). */
int control_client_follow(ControlClient *c, char *const *units);
