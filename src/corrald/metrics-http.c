/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "metrics-http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "listen-address.h"
#include "metrics-mhd.h"

#define METRICS_HTTP_TIMEOUT_SEC 10U
#define METRICS_HTTP_CONNECTIONS 16U
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct MetricsHttp {
        sd_event *event;
        struct MHD_Daemon *daemon;
        sd_event_source *io;    /* MHD's epoll fd */
        sd_event_source *timer; /* MHD's timeout, enabled only while it has one */
        int fd;                 /* the listening socket until MHD has started: then MHD owns it */
        int listen_fd;          /* the listening socket, not owned */
        char path[sizeof(((struct sockaddr_un *) NULL)->sun_path)];
        MetricsRender render;
        void *userdata;
};

/* ---- the socket ---- */

static int listen_socket(const ListenAddress *where, int *ret_fd) {
        int family = where->addr.ss_family, one = 1;
        _cleanup_close_ int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

        if (fd < 0)
                return -errno;
        if (family != AF_UNIX && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
                return -errno;
        if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
                return -errno;
        if (family == AF_UNIX && unlink(where->path) < 0 && errno != ENOENT)
                return -errno;
        if (bind(fd, (const struct sockaddr *) &where->addr, where->addr_len) < 0)
                return -errno;
        if (family == AF_UNIX && chmod(where->path, 0666) < 0)
                return -errno;
        if (listen(fd, SOMAXCONN) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* ---- MHD on sd-event ---- */

/* After every sym_MHD_run(): the timer follows MHD's timeout, off when there
 * is none (no connection open), so that an idle server never wakes up. */
static int rearm(MetricsHttp *h) {
        MHD_UNSIGNED_LONG_LONG ms = 0;

        if (sym_MHD_get_timeout(h->daemon, &ms) != MHD_YES)
                return sd_event_source_set_enabled(h->timer, SD_EVENT_OFF);
        int r = sd_event_source_set_time_relative(h->timer, (uint64_t) ms * 1000U);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(h->timer, SD_EVENT_ONESHOT);
}

static int run(MetricsHttp *h) {
        if (sym_MHD_run(h->daemon) != MHD_YES)
                log_debug("metrics: sym_MHD_run() failed, ignoring");
        int r = rearm(h);
        if (r < 0)
                log_warning_errno(r, "metrics: cannot arm the HTTP timer, ignoring: %m");
        return 0;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        return run(userdata);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        return run(userdata);
}

static enum MHD_Result respond(struct MHD_Connection *connection, unsigned status, char *body, size_t len,
                               const char *type) {
        struct MHD_Response *response = sym_MHD_create_response_from_buffer_with_free_callback(len, body, free);
        enum MHD_Result ret;

        if (!response) {
                free(body);
                return MHD_NO;
        }
        (void) sym_MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
        ret = sym_MHD_queue_response(connection, status, response);
        sym_MHD_destroy_response(response);
        return ret;
}

static enum MHD_Result respond_text(struct MHD_Connection *connection, unsigned status, const char *text) {
        char *body = strdup(text);

        if (!body)
                return MHD_NO;
        return respond(connection, status, body, strlen(body), "text/plain; charset=utf-8");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
        MetricsHttp *h = cls;
        char *text = NULL;
        size_t len = 0;
        int r;

        if (!streq(url, "/metrics"))
                return respond_text(connection, MHD_HTTP_NOT_FOUND, "Not found: the metrics are at /metrics\n");
        if (!streq(method, MHD_HTTP_METHOD_GET) && !streq(method, MHD_HTTP_METHOD_HEAD))
                return respond_text(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "Only GET\n");
        r = h->render(h->userdata, &text, &len);
        if (r < 0) {
                log_warning_errno(r, "metrics: cannot render the metrics: %m");
                return respond_text(connection, MHD_HTTP_INTERNAL_SERVER_ERROR, "Cannot render the metrics\n");
        }
        return respond(connection, MHD_HTTP_OK, text, len, METRICS_CONTENT_TYPE);
}

static int start_daemon(MetricsHttp *h) {
        const union MHD_DaemonInfo *info;

        /* MHD_USE_EPOLL without MHD_USE_INTERNAL_POLLING_THREAD: no
         * thread; we call sym_MHD_run(). No MHD_USE_ITC: no eventfd either. */
        h->daemon = sym_MHD_start_daemon(MHD_USE_EPOLL, /* port= */ 0, /* apc= */ NULL, /* apc_cls= */ NULL, on_request,
                                         h, MHD_OPTION_LISTEN_SOCKET, (MHD_socket) h->fd, MHD_OPTION_CONNECTION_TIMEOUT,
                                         METRICS_HTTP_TIMEOUT_SEC, MHD_OPTION_CONNECTION_LIMIT,
                                         METRICS_HTTP_CONNECTIONS, MHD_OPTION_END);
        if (!h->daemon)
                return -EIO; /* h->fd is still ours (or MHD closed it already: EBADF, harmless) */
        /* sym_MHD_stop_daemon() closes the listening socket, and panics when
         * that close fails: it is MHD's now. */
        h->listen_fd = TAKE_FD(h->fd);
        info = sym_MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_EPOLL_FD);
        if (!info)
                return -EIO;
        int r = sd_event_add_io(h->event, &h->io, info->epoll_fd, EPOLLIN, on_io, h);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(h->io, "metrics-http");
        r = sd_event_add_time_relative(h->event, &h->timer, CLOCK_MONOTONIC, /* usec= */ 0,
                                       /* accuracy= */ 0, on_timer, h);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(h->timer, "metrics-http-timer");
        return rearm(h);
}

int metrics_http_new(sd_event *event, const ListenAddress *where, MetricsRender render, void *userdata,
                     MetricsHttp **ret) {
        _cleanup_(metrics_http_freep) MetricsHttp *h = NULL;
        const char *error = NULL;
        int r;

        r = mhd_dlopen(&error);
        if (r < 0) {
                log_error("metrics: cannot load libmicrohttpd: %s", error ?: "?");
                return r;
        }
        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->fd = h->listen_fd = -EBADF;
        h->event = sd_event_ref(event);
        h->render = render;
        h->userdata = userdata;
        r = listen_socket(where, &h->fd);
        if (r < 0)
                return r;
        memcpy(h->path, where->path, sizeof(h->path));
        r = start_daemon(h);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(h);
        return 0;
}

MetricsHttp *metrics_http_free(MetricsHttp *h) {
        if (!h)
                return NULL;
        sd_event_source_disable_unref(h->io);
        sd_event_source_disable_unref(h->timer);
        if (h->daemon)
                sym_MHD_stop_daemon(h->daemon);
        safe_close(h->fd);
        if (h->path[0])
                (void) unlink(h->path);
        sd_event_unref(h->event);
        return mfree(h);
}

int metrics_http_port(const MetricsHttp *h) {
        struct sockaddr_storage sa;
        socklen_t len = sizeof(sa);

        if (getsockname(h->listen_fd, (struct sockaddr *) &sa, &len) < 0)
                return -errno;
        if (sa.ss_family == AF_INET)
                return ntohs(((struct sockaddr_in *) &sa)->sin_port);
        if (sa.ss_family == AF_INET6)
                return ntohs(((struct sockaddr_in6 *) &sa)->sin6_port);
        return 0;
}

bool metrics_http_has_timeout(const MetricsHttp *h) {
        int enabled = SD_EVENT_OFF;

        return sd_event_source_get_enabled(h->timer, &enabled) >= 0 && enabled != SD_EVENT_OFF;
}
