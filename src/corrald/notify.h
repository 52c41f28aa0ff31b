/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The sd_notify protocol from children to corrald: one datagram socket
 * (abstract, "@corral-notify-<pid>"), given to units as NOTIFY_SOCKET, whose
 * datagrams carry SCM_CREDENTIALS. Messages are size-bounded and parsed by
 * a pure function; what they mean for a unit is the manager's business. */

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "macro.h"
#include "time-util.h"

/* The largest datagram accepted; larger ones are dropped whole. */
#define NOTIFY_DATAGRAM_MAX 4096
#define NOTIFY_STATUS_MAX 256

typedef struct NotifyMessage {
        bool ready;          /* READY=1 */
        bool stopping;       /* STOPPING=1 */
        bool watchdog;       /* WATCHDOG=1 */
        bool watchdog_trigger; /* WATCHDOG=trigger */
        char *status;        /* STATUS=…, at most NOTIFY_STATUS_MAX bytes; NULL if absent */
        usec_t watchdog_usec; /* WATCHDOG_USEC=; 0 if absent */
        pid_t main_pid;      /* MAINPID=; 0 if absent */
        usec_t extend_timeout_usec; /* EXTEND_TIMEOUT_USEC=; 0 if absent */
} NotifyMessage;

void notify_message_done(NotifyMessage *m);

/* Parses one datagram: newline-separated KEY=VALUE assignments, as
 * sd_notify(3) writes them. Unknown keys are ignored (as systemd does);
 * a known key with a bad value, a NUL byte, or a line without '=' makes the
 * whole datagram invalid. Returns 0 with *ret filled, -EBADMSG, -ENOMEM. */
int notify_parse(const char *buf, size_t len, NotifyMessage *ret);

typedef struct NotifySocket NotifySocket;

/* Called for each valid datagram with the sender's credentials. */
typedef void (*NotifyHandler)(const struct ucred *sender, const NotifyMessage *msg, void *userdata);

/* Binds the socket under the abstract name (without '@'; at most 60
 * bytes), or "corral-notify-<pid>" when name is NULL, and watches it on
 * event. A stable name lets units adopted by a restarted corrald keep
 * notifying. Returns 0, -EADDRINUSE when the name is taken, -errno. */
int notify_socket_open(sd_event *event, const char *name, NotifyHandler handler, void *userdata,
                       NotifySocket **ret);

/* The value for NOTIFY_SOCKET ("@corral-notify-1234"). */
const char *notify_socket_address(const NotifySocket *s);

NotifySocket *notify_socket_free(NotifySocket *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(NotifySocket *, notify_socket_free);
