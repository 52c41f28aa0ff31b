/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "control-server.h"

#include <assert.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "control-json.h"
#include "control-methods.h"
#include "control-ratelimit.h"
#include "control-request.h"
#include "control-socket.h"
#include "log.h"
#include "parse-util.h"
#include "pidref.h"
#include "process-util.h"
#include "strv.h"
#include "user-util.h"
#include "unit-status.h"

/* ---- Clients ---- */

static void client_close_fds(ControlClient *c) {
        for (size_t i = 0; i < c->n_fds; i++)
                c->fds[i] = safe_close(c->fds[i]);
        c->n_fds = 0;
        c->fds_error = 0;
}

static void client_free(ControlClient *c) {
        manager_request_cancel(c->request);
        json_decref(c->pending);
        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->timer);
        sd_event_source_disable_unref(c->wait_timer);
        client_close_fds(c);
        sd_event_source_disable_unref(c->fill);
        control_stream_free(c->stream);
        safe_close(c->fd);
        free(c->in);
        free(c->out);
        free(c->waiting_for);
        control_follow_done(&c->follow);
        free(c);
}

static void server_resume_accept(ControlServer *s);

/* Closes the connection at once; the memory goes in the deferred clean-up
 * (on_gc), so that a caller walking the client list may go on. */
static void client_drop(ControlClient *c, const char *why) {
        if (c->dead)
                return;
        log_debug("control: dropping client PID %d: %s", c->cred.pid, why);
        c->dead = true;
        manager_request_cancel(c->request); /* what was asked goes on; nobody is told */
        c->request = NULL;
        c->io = sd_event_source_disable_unref(c->io);
        c->timer = sd_event_source_disable_unref(c->timer);
        c->wait_timer = sd_event_source_disable_unref(c->wait_timer);
        client_close_fds(c);
        c->fill = sd_event_source_disable_unref(c->fill);
        c->stream = control_stream_free(c->stream);
        c->fd = safe_close(c->fd);
        c->server->n_clients--;
        (void) sd_event_source_set_enabled(c->server->gc, SD_EVENT_ONESHOT);
        server_resume_accept(c->server); /* a descriptor is free again */
}

static int on_gc(sd_event_source *s, void *userdata) {
        ControlServer *server = userdata;

        for (ControlClient **p = &server->clients; *p;) {
                ControlClient *c = *p;
                if (!c->dead) {
                        p = &c->next;
                        continue;
                }
                *p = c->next;
                client_free(c);
        }
        return 0;
}

static int client_update_events(ControlClient *c) {
        uint32_t events = (c->n_out > 0 ? EPOLLOUT : 0) | (c->waiting_for || c->stream || c->request ? 0 : EPOLLIN);

        if (c->dead)
                return -ENOBUFS;
        return sd_event_source_set_io_events(c->io, events);
}

/* Queues text (len bytes, one or more whole lines); a client too far
 * behind is dropped (-ENOBUFS). A page of a reply being made does not
 * count (bounded): it is made only once the client has read the last. */
static int client_queue_full(ControlClient *c, const char *text, size_t len, bool bounded) {
        if (c->dead)
                return -ENOBUFS;
        if (bounded && c->n_out + len > CONTROL_OUTPUT_MAX) {
                client_drop(c, "too far behind");
                return -ENOBUFS;
        }
        char *p = realloc(c->out, c->n_out + len);
        if (!p)
                return -ENOMEM;
        c->out = p;
        memcpy(c->out + c->n_out, text, len);
        c->n_out += len;
        return client_update_events(c);
}

static int client_queue(ControlClient *c, const char *text, size_t len) {
        return client_queue_full(c, text, len, /* bounded= */ true);
}

/* Queues msg as one line; takes msg. */
static int client_send(ControlClient *c, json_t *msg) {
        _cleanup_free_ char *text = NULL;
        size_t n;
        int r;

        r = control_json_line(msg, &text, &n);
        json_decref(msg);
        if (r < 0)
                return r;
        return client_queue(c, text, n);
}

int control_client_reply_error(ControlClient *c, int error, const char *message) {
        json_t *msg = NULL;
        int r = control_json_error(error, message, &msg);

        c->last_error = error;
        snprintf(c->last_message, sizeof(c->last_message), "%s", message ?: strerror(ERRNO_VALUE(error)));
        return r < 0 ? r : client_send(c, msg);
}

int control_client_reply(ControlClient *c, json_t *result) {
        json_t *msg = NULL;

        if (!result || control_json_reply(result, &msg) < 0)
                return control_client_reply_error(c, -ENOMEM, /* message= */ NULL);
        return client_send(c, msg);
}

static int client_process(ControlClient *c);

/* The end of a wait: the job has ended, is gone, or the timeout passed. */
static void client_wait_done(ControlClient *c) {
        c->waiting_for = mfree(c->waiting_for);
        (void) sd_event_source_set_enabled(c->wait_timer, SD_EVENT_OFF);
}

static int on_wait_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        ControlClient *c = userdata;
        char msg[128];

        if (!c->waiting_for)
                return 0;
        snprintf(msg, sizeof(msg), "%.64s is still running", c->waiting_for);
        client_wait_done(c);
        if (control_client_reply_error(c, -ETIMEDOUT, msg) >= 0)
                (void) client_process(c);
        return 0;
}

static int client_arm_wait_timer(ControlClient *c, usec_t timeout) {
        if (!c->wait_timer)
                return sd_event_add_time_relative(c->server->manager->event, &c->wait_timer, CLOCK_MONOTONIC, timeout,
                                                  USEC_PER_MSEC, on_wait_timeout, c);
        int r = sd_event_source_set_time_relative(c->wait_timer, timeout);
        return r < 0 ? r : sd_event_source_set_enabled(c->wait_timer, SD_EVENT_ONESHOT);
}

/* The end of a reply of units; the requests held back meanwhile go on. */
static void client_stream_end(ControlClient *c) {
        bool large = control_stream_units(c->stream) > 100;

        c->stream = control_stream_free(c->stream);
        /* A large reply's JSON leaves the heap fragmented; hand the freed
         * pages back (found by the benchmark: +1.9 MB after one status of
         * 1000 units). */
        if (large)
                malloc_trim(0);
        /* ended within a request's handling (a short reply), the loop
         * there goes on with the next request; not here, not nested */
        if (client_update_events(c) >= 0 && !c->processing)
                (void) client_process(c);
}

/* One step of the reply of units being made, and the next one scheduled
 * while the client has less than a page to read. */
static void client_fill(ControlClient *c) {
        _cleanup_free_ char *line = NULL;
        size_t len = 0;
        int r;

        if (c->dead || !c->stream || c->n_out >= CONTROL_PAGE_SIZE)
                return;
        r = control_stream_step(c->stream, &line, &len);
        if (r < 0) {
                /* pages may be out already: an error line ends the reply */
                if (control_client_reply_error(c, r, /* message= */ NULL) >= 0)
                        client_stream_end(c);
                return;
        }
        if (line && client_queue_full(c, line, len, /* bounded= */ false) < 0) {
                client_drop(c, "out of memory"); /* a page lost: the rest would not be the reply */
                return;
        }
        if (r == 1)
                client_stream_end(c);
        else if (c->n_out < CONTROL_PAGE_SIZE)
                (void) sd_event_source_set_enabled(c->fill, SD_EVENT_ONESHOT);
}

static int on_client_fill(sd_event_source *s, void *userdata) {
        client_fill(userdata);
        return 0;
}

int control_client_reply_units(ControlClient *c, Unit **units, size_t n, UnitStatusFlags flags, size_t n_detailed,
                               bool bare, json_t *extra) {
        int r;

        assert(!c->stream);
        r = control_stream_new(units, n, flags, n_detailed, bare, extra, &c->stream);
        if (r < 0)
                return control_client_reply_error(c, r, /* message= */ NULL);
        r = client_update_events(c); /* no more requests until it is out */
        if (r < 0)
                return r;
        client_fill(c);
        return c->dead ? -ENOBUFS : 0;
}

int control_client_wait_for(ControlClient *c, const char *name, usec_t timeout) {
        c->waiting_for = strdup(name);
        if (!c->waiting_for)
                return control_client_reply_error(c, -ENOMEM, /* message= */ NULL);
        if (timeout != USEC_INFINITY && client_arm_wait_timer(c, timeout) < 0) {
                c->waiting_for = mfree(c->waiting_for);
                return control_client_reply_error(c, -ENOMEM, /* message= */ NULL);
        }
        return client_update_events(c); /* no more requests until it ends */
}

int control_client_wait_request(ControlClient *c, ManagerRequest *req, json_t *pending) {
        json_decref(c->pending);
        c->pending = pending;
        c->request = req;
        return client_update_events(c); /* no more requests until it ends */
}

void control_client_subscribe(ControlClient *c, bool jobs_only, bool owner_only) {
        c->subscribed = true;
        c->jobs_only = jobs_only;
        c->owner_only = owner_only;
}

int control_client_follow(ControlClient *c, char *const *units) {
        char **copy = NULL;

        if (units && !(copy = strv_copy(units)))
                return control_client_reply_error(c, -ENOMEM, /* message= */ NULL);
        control_follow_start(&c->follow, copy);
        return 0;
}

/* Queues a follower's line unless it is too far behind: then the line is
 * counted, and said once there is room again. */
static void follower_queue(ControlClient *c, const char *text, size_t len) {
        _cleanup_free_ char *dropped = NULL;
        size_t n = 0;

        if (c->n_out + len > CONTROL_FOLLOW_BEHIND_MAX) {
                c->follow.dropped++;
                return;
        }
        if (c->follow.dropped > 0 && control_logs_dropped_text(c->follow.dropped, &dropped, &n) >= 0 &&
            client_queue(c, dropped, n) < 0)
                return;
        if (client_queue(c, text, len) >= 0)
                c->follow.dropped = 0;
}

void control_on_output_line(const char *unit, const OutputLine *l, void *userdata) {
        ControlServer *s = userdata;
        _cleanup_free_ char *text = NULL;
        size_t len = 0;

        for (ControlClient *c = s->clients; c; c = c->next) {
                if (c->dead || !control_follow_wants(&c->follow, unit))
                        continue;
                /* made once, for the first follower that wants it */
                if (!text && control_logs_line_text(unit, l, &text, &len) < 0) {
                        log_warning("control: out of memory, a line of %s is not sent", unit);
                        return;
                }
                follower_queue(c, text, len);
        }
}

/* ---- Permissions ---- */

static bool in_group(uid_t uid, gid_t primary, gid_t group) {
        return uid_in_group(uid, primary, group) > 0;
}

bool control_client_may(ControlClient *c, ControlPermission p) {
        ControlServer *s = c->server;
        bool changer = c->cred.uid == 0 || (s->have_control_gid && in_group(c->cred.uid, c->cred.gid, s->control_gid));

        switch (p) {
        case CONTROL_PERM_CHANGE:
                return changer;
        case CONTROL_PERM_JOB:
                return changer || (s->have_job_gid && in_group(c->cred.uid, c->cred.gid, s->job_gid));
        case CONTROL_PERM_OWNER:
                return changer || s->manager->config->status_public ||
                       (s->have_job_gid && in_group(c->cred.uid, c->cred.gid, s->job_gid));
        default:
                return changer || s->manager->config->status_public;
        }
}

/* ---- Requests ---- */

static int client_handle_line(ControlClient *c, const char *line, size_t len) {
        _cleanup_(control_request_done) ControlRequest req = {};
        const char *error = NULL;
        int r;

        r = control_request_parse(line, len, &req, &error);
        if (r >= 0 && (c->n_fds > 0 || c->fds_error < 0) && req.method != CONTROL_METHOD_RUN)
                r = -EBADF, error = "descriptors come only with run";
        if (r < 0) {
                if (c->server->hooks.request_done)
                        c->server->hooks.request_done(/* method= */ NULL, "error", c->server->hooks.userdata);
                r = control_client_reply_error(c, r, error);
        } else {
                c->last_error = 0;
                r = control_methods_dispatch(c, &req);
                control_methods_audit(c, &req);
        }
        /* What came with the request is answered with it: never kept. */
        client_close_fds(c);
        return r;
}

void control_set_hooks(ControlServer *s, const ControlHooks *hooks) {
        s->hooks = *hooks;
}

/* A client must send a whole request within control_timeout of
 * connecting, or of its request's first byte; between requests, and while
 * it waits for a job or reads events, it need not hurry. */
static int client_arm_timer(ControlClient *c) {
        int r = sd_event_source_set_time_relative(c->timer, c->server->manager->config->control_timeout);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
}

/* Handles the complete lines in the input buffer, unless a wait is
 * pending. Returns -ENOBUFS when the client was dropped. */
static int client_process(ControlClient *c) {
        bool answered = false;

        assert(!c->processing);
        c->processing = true;
        while (!c->dead && !c->waiting_for && !c->request && !c->subscribed && !c->stream && !c->follow.on) {
                char *nl = c->in ? memchr(c->in, '\n', c->n_in) : NULL;
                if (!nl)
                        break;
                size_t len = (size_t) (nl - c->in);
                (void) client_handle_line(c, c->in, len);
                memmove(c->in, nl + 1, c->n_in - len - 1);
                c->n_in -= len + 1;
                answered = true;
        }
        c->processing = false;
        if (c->dead)
                return -ENOBUFS;
        if (c->waiting_for || c->request || c->subscribed || c->stream || c->follow.on || (answered && c->n_in == 0))
                return sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
        return 0;
}

/* Keeps the descriptors of mh for the request that begins with this read;
 * closes them, failing that request, when there were more than
 * CONTROL_FDS_MAX (more than the buffer holds are closed by the kernel:
 * MSG_CTRUNC) or the read does not begin a request. */
static void client_take_fds(ControlClient *c, struct msghdr *mh) {
        bool wrong = (mh->msg_flags & MSG_CTRUNC) || c->n_in > 0 || c->n_fds > 0 || c->subscribed || c->follow.on;
        bool any = mh->msg_flags & MSG_CTRUNC;

        for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
                if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < n; i++) {
                        int fd;
                        memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
                        any = true;
                        if (wrong || c->n_fds >= CONTROL_FDS_MAX) {
                                safe_close(fd);
                                wrong = true; /* one too many */
                        } else
                                c->fds[c->n_fds++] = fd;
                }
        }
        if (any && wrong) {
                client_close_fds(c);
                c->fds_error = -EBADF;
        }
}

/* recvmsg() with room for CONTROL_FDS_MAX descriptors (MSG_CMSG_CLOEXEC:
 * they are never inherited by what corrald starts). */
static ssize_t client_recv(ControlClient *c) {
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * CONTROL_FDS_MAX)];
        } control;
        struct iovec iov = { .iov_base = c->in + c->n_in, .iov_len = CONTROL_REQUEST_MAX - c->n_in };
        struct msghdr mh = { .msg_iov = &iov,
                             .msg_iovlen = 1,
                             .msg_control = &control,
                             .msg_controllen = sizeof(control) };
        ssize_t n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

        if (n >= 0 && (mh.msg_controllen > 0 || (mh.msg_flags & MSG_CTRUNC)))
                client_take_fds(c, &mh);
        return n;
}

static int client_read(ControlClient *c) {
        if (!c->in && !(c->in = malloc(CONTROL_REQUEST_MAX)))
                return -ENOMEM;
        ssize_t n = client_recv(c);
        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        if (n == 0)
                return -ECONNRESET;
        if (c->n_in == 0 && !c->subscribed && !c->follow.on && !c->waiting_for && !c->request) {
                int r = client_arm_timer(c); /* a new request begins */
                if (r < 0)
                        return r;
        }
        c->n_in += (size_t) n;
        if (c->n_in == CONTROL_REQUEST_MAX && !memchr(c->in, '\n', c->n_in)) {
                (void) control_client_reply_error(c, -E2BIG, "request too large");
                return -E2BIG;
        }
        return 1;
}

int control_client_resume(ControlClient *c) {
        int r = client_update_events(c);

        return r < 0 ? r : client_process(c);
}

static int client_write(ControlClient *c) {
        ssize_t n = send(c->fd, c->out, c->n_out, MSG_DONTWAIT | MSG_NOSIGNAL);

        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        memmove(c->out, c->out + n, c->n_out - (size_t) n);
        c->n_out -= (size_t) n;
        if (c->stream && c->n_out < CONTROL_PAGE_SIZE)
                (void) sd_event_source_set_enabled(c->fill, SD_EVENT_ONESHOT);
        return client_update_events(c);
}

static int on_client_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        ControlClient *c = userdata;
        int r = 0;

        if (revents & EPOLLOUT) {
                r = client_write(c);
                if (r < 0)
                        return client_drop(c, "write failed"), 0;
        }
        if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                r = client_read(c);
                if (r == -E2BIG) {
                        /* answer, then close once the answer is out */
                        (void) client_write(c);
                        return client_drop(c, "request too large"), 0;
                }
                if (r < 0)
                        return client_drop(c, "closed"), 0;
                (void) client_process(c);
        }
        return 0;
}

static int on_client_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        client_drop(userdata, "no complete request within control_timeout");
        return 0;
}

static void log_refusals_held_back(uid_t uid, unsigned suppressed, void *userdata) {
        char buf[FORMAT_TIMESPAN_MAX];

        log_warning("control: %u more connections of UID %u refused, not logged (at most %u in %s)", suppressed,
                    (unsigned) uid, CONTROL_LOG_BURST, format_timespan(buf, sizeof(buf), CONTROL_LOG_INTERVAL));
}

static int on_refusals_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        ControlServer *server = userdata;
        usec_t next = control_ratelimit_flush(&server->refusals, now(CLOCK_MONOTONIC), log_refusals_held_back, server);

        if (next != USEC_INFINITY && sd_event_source_set_time(s, next) >= 0)
                (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        return 0;
}

/* Logs a refused connection, at most CONTROL_LOG_BURST per UID in
 * CONTROL_LOG_INTERVAL; the timer sums up what it held back. */
static void log_refusal(ControlServer *server, const struct ucred *cred, unsigned mine) {
        usec_t n = now(CLOCK_MONOTONIC);

        if (control_ratelimit_test(&server->refusals, cred->uid, n, log_refusals_held_back, server)) {
                log_warning("control: refusing a connection of UID %u (%u of its own, %u in all)", (unsigned) cred->uid,
                            mine, server->n_clients);
                return;
        }
        int enabled = SD_EVENT_OFF;
        if (sd_event_source_get_enabled(server->refusals_timer, &enabled) >= 0 && enabled == SD_EVENT_OFF &&
            sd_event_source_set_time(server->refusals_timer, n + CONTROL_LOG_INTERVAL) >= 0)
                (void) sd_event_source_set_enabled(server->refusals_timer, SD_EVENT_ONESHOT);
}

/* Root is never locked out; others share the table, and no user may hold
 * more than its part of it. */
static bool server_admits(ControlServer *server, const struct ucred *cred) {
        unsigned mine = 0;

        if (cred->uid == 0)
                return true;
        for (ControlClient *o = server->clients; o; o = o->next)
                mine += !o->dead && o->cred.uid == cred->uid;
        if (server->n_clients < CONTROL_CLIENTS_MAX && mine < CONTROL_CLIENTS_PER_UID_MAX)
                return true;
        log_refusal(server, cred, mine);
        return false;
}

/* The peer's command name, through a pidfd verified after the read. */
static void client_read_comm(ControlClient *c) {
        _cleanup_(pidref_done) PidRef p = PIDREF_NULL;
        _cleanup_free_ char *comm = NULL;

        if (pidref_set_pid(&p, c->cred.pid) >= 0 && pidref_get_comm(&p, &comm) >= 0)
                snprintf(c->comm, sizeof(c->comm), "%s", comm);
}

static int client_new(ControlServer *server, int fd, const struct ucred *cred) {
        ControlClient *c = calloc(1, sizeof(ControlClient));
        int r;

        if (!c)
                return -ENOMEM;
        c->server = server;
        c->fd = fd;
        for (size_t i = 0; i < CONTROL_FDS_MAX; i++)
                c->fds[i] = -EBADF;
        c->cred = *cred;
        client_read_comm(c);
        c->next = server->clients;
        server->clients = c;
        server->n_clients++;
        r = sd_event_add_io(server->manager->event, &c->io, fd, EPOLLIN, on_client_io, c);
        if (r >= 0)
                r = sd_event_add_time_relative(server->manager->event, &c->timer, CLOCK_MONOTONIC,
                                               server->manager->config->control_timeout, USEC_PER_MSEC,
                                               on_client_timeout, c);
        if (r >= 0)
                r = sd_event_add_defer(server->manager->event, &c->fill, on_client_fill, c);
        if (r >= 0)
                r = sd_event_source_set_enabled(c->fill, SD_EVENT_OFF);
        if (r < 0)
                client_drop(c, "cannot set up");
        return 0;
}

static void server_resume_accept(ControlServer *s) {
        if (!s->accept_paused)
                return;
        s->accept_paused = false;
        (void) sd_event_source_set_enabled(s->accept_timer, SD_EVENT_OFF);
        (void) sd_event_source_set_enabled(s->io, SD_EVENT_ON);
}

static int on_accept_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        server_resume_accept(userdata);
        return 0;
}

/* Out of descriptors (or kernel memory), accept() fails while the
 * connection stays in the backlog, and the socket stays readable: rather
 * than spin on it, stop accepting until a client goes or for
 * CONTROL_ACCEPT_PAUSE. */
static void server_pause_accept(ControlServer *s, int error) {
        usec_t n = now(CLOCK_MONOTONIC);

        if (!s->accept_logged || n - s->accept_logged >= CONTROL_LOG_INTERVAL) {
                log_warning_errno(error, "control: cannot accept connections: %m; pausing");
                s->accept_logged = n;
        }
        s->accept_paused = true;
        (void) sd_event_source_set_enabled(s->io, SD_EVENT_OFF);
        if (sd_event_source_set_time(s->accept_timer, n + CONTROL_ACCEPT_PAUSE) >= 0)
                (void) sd_event_source_set_enabled(s->accept_timer, SD_EVENT_ONESHOT);
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        ControlServer *server = userdata;
        struct ucred cred = {};
        socklen_t clen = sizeof(cred);
        int cfd;

        cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (cfd < 0) {
                if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                        server_pause_accept(server, errno);
                return 0;
        }
        if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 || !server_admits(server, &cred) ||
            client_new(server, cfd, &cred) < 0)
                safe_close(cfd);
        return 0;
}

/* ---- Events ---- */

/* An event line of u having entered state, formatted once for every
 * subscriber. */
static int event_line(const ManagerEvent *e, char **ret, size_t *ret_len) {
        _cleanup_(unit_status_done) UnitStatus s = {};
        json_t *ev;
        int r;

        r = unit_status_get(e->unit, /* flags= */ 0, &s);
        if (r < 0)
                return r;
        s.state = e->new_state;
        ev = control_json_event(&s, now(CLOCK_REALTIME));
        if (!ev)
                return -ENOMEM;
        r = control_json_line(ev, ret, ret_len);
        json_decref(ev);
        return r;
}

static bool client_wants_event(const ControlClient *c, const Unit *u) {
        if (c->jobs_only && !unit_status_is_job(u))
                return false;
        return !c->owner_only || unit_status_owner(u) == c->cred.uid;
}

static void control_unit_changed(ControlServer *s, const ManagerEvent *e) {
        _cleanup_free_ char *line = NULL;
        size_t len = 0;
        bool made = false;

        for (ControlClient *c = s->clients; c; c = c->next) {
                if (c->dead)
                        continue;
                if (c->subscribed) {
                        if (!client_wants_event(c, e->unit))
                                continue;
                        /* made for the first client that wants it: with no
                         * watcher, a start or stop of many units makes none */
                        if (!made && event_line(e, &line, &len) < 0)
                                log_warning("control: out of memory, an event of %s is not sent", e->name);
                        made = true;
                        if (line)
                                (void) client_queue(c, line, len);
                } else if (c->waiting_for && streq(c->waiting_for, e->name) && unit_status_is_inactive(e->unit)) {
                        client_wait_done(c);
                        if (control_client_reply(c, control_methods_unit_result(e->unit)) >= 0)
                                (void) client_process(c);
                }
        }
}

static void control_unit_removed(ControlServer *s, const ManagerEvent *e) {
        for (ControlClient *c = s->clients; c; c = c->next) {
                if (!c->dead && c->stream)
                        control_stream_forget(c->stream, e->unit);
                if (!c->dead && c->waiting_for && streq(c->waiting_for, e->name)) {
                        client_wait_done(c);
                        if (control_client_reply_error(c, -ENOENT, "the job is gone") >= 0)
                                (void) client_process(c);
                }
        }
}

void control_on_manager_event(const ManagerEvent *ev, void *userdata) {
        ControlServer *s = userdata;

        if (ev->type == MANAGER_EVENT_UNIT_CHANGED)
                control_unit_changed(s, ev);
        else if (ev->type == MANAGER_EVENT_UNIT_REMOVED)
                control_unit_removed(s, ev);
}

/* ---- The socket ---- */

/* Who may do what is decided per request by SO_PEERCRED; the socket's
 * mode only keeps out those who may do nothing at all. */
static int control_bind(ControlServer *s) {
        mode_t mode = s->manager->config->status_public || s->have_job_gid ? 0666 : 0660;
        gid_t gid = geteuid() != 0 ? (gid_t) -1 : s->have_control_gid ? s->control_gid : 0;

        return control_socket_open(s->path, mode, gid, &s->fd, &s->dir_fd);
}

static int control_add_sources(ControlServer *s) {
        int r = sd_event_add_io(s->manager->event, &s->io, s->fd, EPOLLIN, on_accept, s);

        if (r >= 0)
                r = sd_event_add_defer(s->manager->event, &s->gc, on_gc, s);
        if (r >= 0)
                r = sd_event_source_set_enabled(s->gc, SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_add_time(s->manager->event, &s->refusals_timer, CLOCK_MONOTONIC, USEC_INFINITY,
                                      USEC_PER_SEC, on_refusals_timer, s);
        if (r >= 0)
                r = sd_event_source_set_enabled(s->refusals_timer, SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_add_time(s->manager->event, &s->accept_timer, CLOCK_MONOTONIC, USEC_INFINITY,
                                      10 * USEC_PER_MSEC, on_accept_timer, s);
        if (r >= 0)
                r = sd_event_source_set_enabled(s->accept_timer, SD_EVENT_OFF);
        return r;
}

int control_open(Manager *m, ControlServer **ret) {
        ControlServer *s = calloc(1, sizeof(ControlServer));
        const Config *c = m->config;
        int r;

        if (!s)
                return -ENOMEM;
        s->manager = m;
        s->fd = s->dir_fd = -EBADF;
        s->refusals = (ControlRateLimit) { .interval = CONTROL_LOG_INTERVAL, .burst = CONTROL_LOG_BURST };
        s->audit_refusals = (ControlRateLimit) { .interval = AUDIT_REFUSED_INTERVAL, .burst = AUDIT_REFUSED_BURST };
        s->path = strdup(c->control_socket);
        if (!s->path) {
                free(s);
                return -ENOMEM;
        }
        if (c->control_group && !(s->have_control_gid = group_lookup(c->control_group, &s->control_gid) >= 0))
                log_warning("control_group %s: no such group, ignoring", c->control_group);
        if (c->job_group && !(s->have_job_gid = group_lookup(c->job_group, &s->job_gid) >= 0))
                log_warning("job_group %s: no such group, ignoring", c->job_group);
        r = control_bind(s);
        if (r >= 0)
                r = control_add_sources(s);
        if (r < 0) {
                control_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

ControlServer *control_free(ControlServer *s) {
        if (!s)
                return NULL;
        while (s->clients) {
                ControlClient *c = s->clients;
                /* a last try to hand out what is queued (the final events) */
                if (!c->dead && c->n_out > 0)
                        (void) !send(c->fd, c->out, c->n_out, MSG_DONTWAIT | MSG_NOSIGNAL);
                s->clients = c->next;
                client_free(c);
        }
        sd_event_source_disable_unref(s->io);
        sd_event_source_disable_unref(s->gc);
        sd_event_source_disable_unref(s->refusals_timer);
        sd_event_source_disable_unref(s->accept_timer);
        /* what the rate limit held back is told before corrald goes */
        (void) control_ratelimit_flush(&s->refusals, USEC_INFINITY, log_refusals_held_back, s);
        (void) control_ratelimit_flush(&s->audit_refusals, USEC_INFINITY, control_methods_log_refused_held_back,
                                       /* userdata= */ NULL);
        if (s->fd >= 0) {
                safe_close(s->fd);
                control_socket_remove(s->dir_fd, s->path);
        }
        safe_close(s->dir_fd);
        free(s->path);
        free(s);
        return NULL;
}
