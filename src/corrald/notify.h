/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The sd_notify protocol from children to corrald: one datagram socket,
 * given to units as NOTIFY_SOCKET, whose datagrams carry SCM_CREDENTIALS.
 * It is a socket file in a directory that only corrald's user can write
 * (as systemd's /run/systemd/notify): units of every user may send to it,
 * nobody else can take its name — an abstract name can be bound first by
 * anyone. Messages are size-bounded and parsed by a pure function; what
 * they mean for a unit is the manager's business. */

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
        bool ready;                 /* READY=1 */
        bool stopping;              /* STOPPING=1 */
        bool watchdog;              /* WATCHDOG=1 */
        bool watchdog_trigger;      /* WATCHDOG=trigger */
        char *status;               /* STATUS=…, at most NOTIFY_STATUS_MAX bytes; NULL if absent */
        usec_t watchdog_usec;       /* WATCHDOG_USEC=; 0 if absent */
        pid_t main_pid;             /* MAINPID=; 0 if absent */
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

/* The directory "notify" beside the control socket, holding corrald's
 * notify socket, and the socket's name there: 16 hexadecimal digits of a
 * hash of the subtree's cgroup path. The same configuration gives the same
 * path, so that units adopted by a restarted corrald (which keep their
 * NOTIFY_SOCKET) still reach it; corralds on other subtrees may share the
 * directory. Pure. Returns 0 with two malloc'd strings, -EINVAL for a
 * relative path, -ENAMETOOLONG when DIR/NAME does not fit a socket
 * address, -ENOMEM. */
#define NOTIFY_DIR_NAME "notify"
int notify_socket_path(const char *control_socket, const char *subtree, char **ret_dir, char **ret_name);

/* Binds the socket at dir/name and watches it on event. dir is created
 * (with its parents, 0755) when missing; it must be a directory (not a
 * symbolic link) owned by the effective UID and not writable by group or
 * others, and is made 0755. Whatever is at dir/name is replaced (what a
 * killed corrald left: the caller owns the name, e.g. through the subtree
 * lock), and the socket is made 0666. Returns 0, or -EPERM (not ours, or
 * writable by others) or -ENOTDIR (a symbolic link, not a directory) for a
 * directory refused (logged, with the reason), -EINVAL for a name with '/'
 * or a path too long, -errno. */
int notify_socket_open(sd_event *event, const char *dir, const char *name, NotifyHandler handler, void *userdata,
                       NotifySocket **ret);

/* corrald's own: notify_socket_path() of its control socket and subtree,
 * then notify_socket_open(). Returns what those return (a path too long is
 * logged). */
int notify_socket_open_supervisor(sd_event *event, const char *control_socket, const char *subtree,
                                  NotifyHandler handler, void *userdata, NotifySocket **ret);

/* The value for NOTIFY_SOCKET: the socket's path ("/run/corral/notify/…"). */
const char *notify_socket_address(const NotifySocket *s);

/* Closes the socket and removes its file. */
NotifySocket *notify_socket_free(NotifySocket *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(NotifySocket *, notify_socket_free);
