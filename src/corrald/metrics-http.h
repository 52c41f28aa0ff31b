/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* GET /metrics over HTTP, served from the event loop by libmicrohttpd in
 * its external epoll mode (MHD_USE_EPOLL without an internal thread):
 * MHD's epoll fd is an sd-event io source, MHD_run() is called when it is
 * readable, and MHD_get_timeout() arms a timer only while MHD has one (an
 * open connection): idle, the server costs no wake-up. The listening
 * socket is ours (TCP on an IP address, or a Unix stream socket), handed
 * to MHD with MHD_OPTION_LISTEN_SOCKET. The text comes from a callback
 * at each request; this module knows nothing of what it says. */

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-event.h>

#include "listen-address.h"
#include "macro.h"

/* Renders the metrics: returns 0 with a malloc'd text (taken by the
 * server) and its length, or -errno (the client gets a 500). */
typedef int (*MetricsRender)(void *userdata, char **ret_text, size_t *ret_len);

typedef struct MetricsHttp MetricsHttp;

/* Binds and listens on where (a Unix socket's stale file is replaced; it
 * gets mode 0666, as any local user can reach a loopback port too) and
 * serves GET /metrics (HEAD too; 404 elsewhere, 405 for other methods)
 * on event. A client that sends nothing for 10s is dropped; at most 16
 * connections at once. Returns 0 with the server in *ret, -errno of
 * socket(2)/bind(2)/listen(2) (-EADDRINUSE), -EOPNOTSUPP when
 * libmicrohttpd cannot be loaded (it is mapped here, on first use:
 * metrics-mhd.h), -EIO when MHD refused to start, -ENOMEM. */
int metrics_http_new(sd_event *event, const ListenAddress *where, MetricsRender render, void *userdata,
                     MetricsHttp **ret);

/* Stops the server, closes its connections and its socket, and removes a
 * Unix socket's file. Accepts NULL; returns NULL. */
MetricsHttp *metrics_http_free(MetricsHttp *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(MetricsHttp *, metrics_http_free);

/* The port it listens on (useful when where asked for port 0 in tests), 0
 * for a Unix socket, or -errno. */
int metrics_http_port(const MetricsHttp *h);

/* Whether the server's timer is armed: MHD has a timeout because a
 * connection is open. False when idle. */
bool metrics_http_has_timeout(const MetricsHttp *h);
