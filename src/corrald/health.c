/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "health.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "health-curl.h"
#include "log.h"

/* Idle connections kept for reuse, over all hosts. */
#define HEALTH_MAX_CONNECTS 1024L
/* Easy handles kept for the next checks, each with the URL and timeout it
 * was last set up for: a check of the same URL takes its handle back as it
 * is (no curl_easy_reset() and no options set again, a service is checked
 * with the same URL every time); another takes a new handle, or the one
 * idle longest, reset. Enough for one per unit with a check up to here. */
#define HEALTH_POOL_MAX 256
/* Curl's timeouts are in milliseconds: coalescing wakeups by more than that
 * (sd-event's default accuracy is 250 ms) would stretch every timeout. */
#define HEALTH_TIMER_ACCURACY USEC_PER_MSEC

#define HEALTH_STATUS_DEFAULT "200-299"

typedef struct HealthSocket HealthSocket;

/* An idle easy handle and what it is set up for. */
typedef struct HealthPooled {
        CURL *easy;
        char *url;
        uint64_t hash; /* of url */
        long timeout_ms;
} HealthPooled;

struct HealthChecker {
        sd_event *event;
        CURLM *multi;
        sd_event_source *timer;
        HealthCheck *checks;   /* in flight */
        HealthSocket *sockets; /* one per socket that curl asked us to watch or opened */
        HealthSocket **opened; /* by fd: the connections' sockets, from on_open_socket() to on_close_socket() */
        unsigned n_opened;
        unsigned n_checks;
        HealthPooled *pool; /* idle easy handles, the longest idle first */
        unsigned n_pool;
        /* Checks waiting for their time (health_check_start_at): a heap by
         * the latest time each may start, on one timer. */
        sd_event_source *queue_timer;
        HealthCheck **queue;
        unsigned n_queue, n_queue_alloc;
        usec_t accuracy_max;  /* the largest accuracy of a check queued so far */
        HealthCheck *failed;  /* taken from the queue, could not start: their results are due */
        unsigned dispatching; /* > 0 while handlers are being called */
        bool free_requested;  /* health_checker_free() from a handler */
};

struct HealthCheck {
        HealthChecker *checker;
        HealthChecker *pool; /* where its easy handle goes back to */
        HealthCheck *prev, *next;
        CURL *easy;
        char *url; /* what easy is set up for */
        uint64_t hash;
        long timeout_ms;
        HealthStatusSet accept;
        HealthHandler handler;
        void *userdata;
        /* while queued: */
        char *queued_url;
        usec_t due, latest;
        unsigned queue_idx;
        bool queued;
        bool failed; /* in the failed list, its start's error in start_error */
        int start_error;
        usec_t started;
        size_t body_size;
        bool body_too_large;
        bool delivering; /* finished, detached, its handler running */
        char error[CURL_ERROR_SIZE];
};

/* The record curl keeps for one of its sockets (curl_multi_assign). A
 * connection's socket (opened through on_open_socket()) keeps it, and
 * stays in the epoll set, while the connection waits in curl's cache: the
 * next check of the connection changes nothing there (no epoll_ctl). */
struct HealthSocket {
        HealthChecker *checker;
        HealthSocket *prev, *next;
        sd_event_source *source; /* NULL until curl first asks */
        curl_socket_t fd;
        bool opened; /* by on_open_socket(): closed by on_close_socket() */
        bool idle;   /* curl does not watch it (CURL_POLL_REMOVE) */
};

/* ---- Sockets and the timer, as curl asks for them ---- */

static HealthSocket *health_socket_free(HealthSocket *s) {
        if (!s)
                return NULL;
        if (s->opened && (unsigned) s->fd < s->checker->n_opened)
                s->checker->opened[s->fd] = NULL;
        if (s->prev)
                s->prev->next = s->next;
        else
                s->checker->sockets = s->next;
        if (s->next)
                s->next->prev = s->prev;
        sd_event_source_disable_unref(s->source);
        return mfree(s);
}

/* Runs curl on what happened and hands out the results. */
static void checker_drive(HealthChecker *h, curl_socket_t fd, int flags);

static int on_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        HealthSocket *s = userdata;
        HealthChecker *h = s->checker;
        int flags = 0;

        /* An idle connection closed by the server, or talking out of turn:
         * out of the epoll set until curl wants it again (and finds it dead). */
        if (s->idle)
                return sd_event_source_set_enabled(source, SD_EVENT_OFF);
        if (revents & EPOLLIN)
                flags |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                flags |= CURL_CSELECT_OUT;
        if (revents & (EPOLLERR | EPOLLHUP))
                flags |= CURL_CSELECT_ERR;
        checker_drive(h, fd, flags);
        return 0;
}

static int on_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        checker_drive(userdata, CURL_SOCKET_TIMEOUT, /* flags= */ 0);
        return 0;
}

static uint32_t poll_to_epoll(int what) {
        switch (what) {
        case CURL_POLL_IN:
                return EPOLLIN;
        case CURL_POLL_OUT:
                return EPOLLOUT;
        case CURL_POLL_INOUT:
                return EPOLLIN | EPOLLOUT;
        default:
                return 0;
        }
}

static HealthSocket *socket_new(HealthChecker *h, curl_socket_t fd) {
        HealthSocket *s = calloc(1, sizeof(*s));

        if (!s)
                return NULL;
        s->checker = h;
        s->fd = fd;
        s->next = h->sockets;
        if (s->next)
                s->next->prev = s;
        h->sockets = s;
        return s;
}

/* curl watches fd for events: its record, made now unless the socket is
 * one of the connections' (whose record lives as long as the socket). */
static int socket_watch(HealthChecker *h, HealthSocket *s, curl_socket_t fd, uint32_t events) {
        int r;

        if (!s && (unsigned) fd < h->n_opened)
                s = h->opened[fd];
        if (!s && !(s = socket_new(h, fd)))
                return -ENOMEM;
        if (!s->source) {
                r = sd_event_add_io(h->event, &s->source, fd, events, on_io, s);
                if (r < 0) {
                        if (!s->opened)
                                health_socket_free(s);
                        return r;
                }
                (void) sd_event_source_set_description(s->source, "health-socket");
        } else if ((r = sd_event_source_set_io_events(s->source, events)) < 0 ||
                   (r = sd_event_source_set_enabled(s->source, SD_EVENT_ON)) < 0)
                return r;
        if (s->idle || !s->opened) {
                if (sym_curl_multi_assign(h->multi, fd, s) != CURLM_OK)
                        return -ENOMEM;
        }
        s->idle = false;
        return 0;
}

/* CURLMOPT_SOCKETFUNCTION: what curl wants to hear about the socket fd. */
static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
        HealthChecker *h = userp;
        HealthSocket *s = socketp;

        if (what == CURL_POLL_REMOVE) {
                if (!s || !s->opened) {
                        health_socket_free(s);
                        return 0;
                }
                /* a connection back in the cache: watched for its end only */
                s->idle = true;
                return sd_event_source_set_io_events(s->source, EPOLLIN) < 0 ? -1 : 0;
        }
        if (s && !s->idle)
                return sd_event_source_set_io_events(s->source, poll_to_epoll(what)) < 0 ? -1 : 0;
        return socket_watch(h, s, fd, poll_to_epoll(what)) < 0 ? -1 : 0;
}

/* CURLOPT_OPENSOCKETFUNCTION: a connection's socket (close-on-exec: the
 * units' processes get none of them), recorded until it is closed. */
static curl_socket_t on_open_socket(void *userp, curlsocktype purpose, struct curl_sockaddr *a) {
        HealthChecker *h = userp;
        HealthSocket *s;
        int fd;

        fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
        if (fd < 0)
                return CURL_SOCKET_BAD;
        if ((unsigned) fd >= h->n_opened) {
                unsigned n = MAX((unsigned) fd + 1, h->n_opened * 2);
                HealthSocket **o = reallocarray(h->opened, n, sizeof(*o));

                if (!o)
                        goto fail;
                memset(o + h->n_opened, 0, (n - h->n_opened) * sizeof(*o));
                h->opened = o;
                h->n_opened = n;
        }
        /* a record left for this number: its socket was closed without us */
        health_socket_free(h->opened[fd]);
        s = socket_new(h, fd);
        if (!s)
                goto fail;
        s->opened = true;
        s->idle = true; /* not watched yet */
        h->opened[fd] = s;
        return fd;
fail:
        close(fd);
        return CURL_SOCKET_BAD;
}

/* CURLOPT_CLOSESOCKETFUNCTION: the record and the source go first. */
static int on_close_socket(void *userp, curl_socket_t fd) {
        HealthChecker *h = userp;

        if ((unsigned) fd < h->n_opened)
                health_socket_free(h->opened[fd]);
        return close(fd);
}

/* CURLMOPT_TIMERFUNCTION: one timer, re-armed, never run from here (curl
 * does not allow calls into the multi handle from its callbacks). */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp) {
        HealthChecker *h = userp;
        usec_t base;

        if (timeout_ms < 0)
                return sd_event_source_set_enabled(h->timer, SD_EVENT_OFF) < 0 ? -1 : 0;
        /* 0 ("as soon as possible") gives a time already past: due at the
         * next iteration of the loop. */
        if (sd_event_now(h->event, CLOCK_MONOTONIC, &base) < 0)
                return -1;
        if (sd_event_source_set_time(h->timer, base + (usec_t) timeout_ms * USEC_PER_MSEC) < 0)
                return -1;
        return sd_event_source_set_enabled(h->timer, SD_EVENT_ONESHOT) < 0 ? -1 : 0;
}

/* ---- Checks in flight ---- */

static void check_link(HealthChecker *h, HealthCheck *c) {
        c->checker = h;
        c->next = h->checks;
        if (c->next)
                c->next->prev = c;
        h->checks = c;
        h->n_checks++;
}

/* Takes the check out of the multi handle and the list of checks in flight.
 * Idempotent. */
static void check_detach(HealthCheck *c) {
        HealthChecker *h = c->checker;

        if (!h)
                return;
        if (c->easy)
                (void) sym_curl_multi_remove_handle(h->multi, c->easy);
        if (c->prev)
                c->prev->next = c->next;
        else
                h->checks = c->next;
        if (c->next)
                c->next->prev = c->prev;
        c->prev = c->next = NULL;
        c->checker = NULL;
        h->n_checks--;
}

/* ---- Idle easy handles ---- */

/* FNV-1a: pool_find() compares URLs only where their hashes match. */
static uint64_t url_hash(const char *s) {
        uint64_t x = UINT64_C(14695981039346656037);

        for (; *s; s++)
                x = (x ^ (uint8_t) *s) * UINT64_C(1099511628211);
        return x;
}

static void pooled_done(HealthPooled *p) {
        sym_curl_easy_cleanup(p->easy);
        free(p->url);
}

/* Takes the idle handle at i out of the pool. */
static HealthPooled pool_take(HealthChecker *h, unsigned i) {
        HealthPooled p = h->pool[i];

        memmove(h->pool + i, h->pool + i + 1, (h->n_pool - i - 1) * sizeof(*h->pool));
        h->n_pool--;
        return p;
}

/* The most recently idle handle set up for url and timeout_ms, or -1. */
static int pool_find(const HealthChecker *h, const char *url, uint64_t hash, long timeout_ms) {
        for (unsigned i = h->n_pool; i-- > 0;) {
                const HealthPooled *p = h->pool + i;

                if (p->hash == hash && p->timeout_ms == timeout_ms && p->url && streq(p->url, url))
                        return (int) i;
        }
        return -1;
}

/* c's easy handle goes back as it is set up, the longest idle one out if
 * the pool is full. Nothing of c stays in it (curl reads CURLOPT_PRIVATE
 * and CURLOPT_ERRORBUFFER only during a transfer; cleared anyway). */
static void pool_put(HealthChecker *h, HealthCheck *c) {
        if (h->n_pool == HEALTH_POOL_MAX) {
                HealthPooled old = pool_take(h, 0);
                pooled_done(&old);
        }
        (void) sym_curl_easy_setopt(c->easy, CURLOPT_PRIVATE, NULL);
        (void) sym_curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, NULL);
        h->pool[h->n_pool++] = (HealthPooled) {
                .easy = TAKE_PTR(c->easy),
                .url = TAKE_PTR(c->url),
                .hash = c->hash,
                .timeout_ms = c->timeout_ms,
        };
}

/* ---- Checks waiting for their time ---- */

static usec_t sat_add(usec_t a, usec_t b) {
        return a > USEC_INFINITY - b ? USEC_INFINITY : a + b;
}

static void queue_set(HealthChecker *h, unsigned i, HealthCheck *c) {
        h->queue[i] = c;
        c->queue_idx = i;
}

static void queue_up(HealthChecker *h, unsigned i) {
        HealthCheck *c = h->queue[i];

        while (i > 0 && c->latest < h->queue[(i - 1) / 2]->latest) {
                queue_set(h, i, h->queue[(i - 1) / 2]);
                i = (i - 1) / 2;
        }
        queue_set(h, i, c);
}

static void queue_down(HealthChecker *h, unsigned i) {
        HealthCheck *c = h->queue[i];

        for (;;) {
                unsigned m = 2 * i + 1;

                if (m >= h->n_queue)
                        break;
                if (m + 1 < h->n_queue && h->queue[m + 1]->latest < h->queue[m]->latest)
                        m++;
                if (h->queue[m]->latest >= c->latest)
                        break;
                queue_set(h, i, h->queue[m]);
                i = m;
        }
        queue_set(h, i, c);
}

/* The timer at the first latest time; errors are the loop's (checks then
 * start late, when the next is queued). */
static void queue_arm(HealthChecker *h) {
        if (h->n_queue == 0) {
                (void) sd_event_source_set_enabled(h->queue_timer, SD_EVENT_OFF);
                return;
        }
        (void) sd_event_source_set_time(h->queue_timer, h->queue[0]->latest);
        (void) sd_event_source_set_enabled(h->queue_timer, SD_EVENT_ONESHOT);
}

static int queue_push(HealthChecker *h, HealthCheck *c) {
        if (h->n_queue == h->n_queue_alloc) {
                unsigned n = MAX(h->n_queue_alloc * 2, 16u);
                HealthCheck **q = reallocarray(h->queue, n, sizeof(*q));

                if (!q)
                        return -ENOMEM;
                h->queue = q;
                h->n_queue_alloc = n;
        }
        queue_set(h, h->n_queue++, c);
        queue_up(h, c->queue_idx);
        c->queued = true;
        if (h->queue[0] == c)
                queue_arm(h);
        return 0;
}

static void queue_remove(HealthChecker *h, HealthCheck *c) {
        unsigned i = c->queue_idx;
        HealthCheck *last = h->queue[--h->n_queue];

        c->queued = false;
        if (i < h->n_queue) {
                queue_set(h, i, last);
                queue_up(h, i);
                queue_down(h, last->queue_idx);
        }
        if (i == 0)
                queue_arm(h);
}

static void failed_unlink(HealthChecker *h, HealthCheck *c) {
        if (c->prev)
                c->prev->next = c->next;
        else
                h->failed = c->next;
        if (c->next)
                c->next->prev = c->prev;
        c->prev = c->next = NULL;
        c->failed = false;
}

static void failed_add(HealthChecker *h, HealthCheck *c, int error) {
        c->start_error = error;
        c->failed = true;
        c->prev = NULL;
        c->next = h->failed;
        if (c->next)
                c->next->prev = c;
        h->failed = c;
}

/* ---- Checks ---- */

static HealthCheck *check_free(HealthCheck *c) {
        HealthChecker *h;

        if (!c)
                return NULL;
        h = c->pool;
        check_detach(c);
        if (c->queued)
                queue_remove(h, c);
        if (c->failed)
                failed_unlink(h, c);
        free(c->queued_url);
        if (c->easy && h && h->pool && !h->free_requested)
                pool_put(h, c);
        else if (c->easy)
                sym_curl_easy_cleanup(c->easy);
        free(c->url);
        return mfree(c);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(HealthCheck *, check_free);

/* CURLOPT_WRITEFUNCTION: the body is counted and dropped; a short count
 * past HEALTH_BODY_MAX makes curl fail the transfer (CURLE_WRITE_ERROR). */
static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata) {
        HealthCheck *c = userdata;
        size_t n = size * nmemb;

        if (n > HEALTH_BODY_MAX - c->body_size) {
                c->body_too_large = true;
                return 0;
        }
        c->body_size += n;
        return n;
}

/* Only http and https, with a host; checked here so that a bad URL is an
 * error at once rather than a failed check later. */
static void url_free(CURLU *u) {
        sym_curl_url_cleanup(u);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(CURLU *, url_free);

static int url_validate(const char *url) {
        _cleanup_(url_freep) CURLU *u = NULL;
        char *scheme = NULL;
        bool good;

        if (!url || !*url)
                return -EINVAL;
        u = sym_curl_url();
        if (!u)
                return -ENOMEM;
        if (sym_curl_url_set(u, CURLUPART_URL, url, /* flags= */ 0) != CURLUE_OK)
                return -EINVAL;
        if (sym_curl_url_get(u, CURLUPART_SCHEME, &scheme, /* flags= */ 0) != CURLUE_OK)
                return -EINVAL;
        good = strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0;
        sym_curl_free(scheme);
        return good ? 0 : -EINVAL;
}

static int curl_code_to_errno(CURLcode e) {
        return e == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
}

/* What to fetch and how: a plain GET, no redirects, no proxy (a health
 * check is about the service itself, not about whatever http_proxy the
 * environment names). */
static int check_set_request(HealthCheck *c, const char *url, long timeout_ms) {
        CURLcode e;

        if ((e = sym_curl_easy_setopt(c->easy, CURLOPT_URL, url)) != CURLE_OK ||
            (e = sym_curl_easy_setopt(c->easy, CURLOPT_PROTOCOLS_STR, "http,https")) != CURLE_OK ||
            (e = sym_curl_easy_setopt(c->easy, CURLOPT_FOLLOWLOCATION, 0L)) != CURLE_OK ||
            (e = sym_curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, timeout_ms)) != CURLE_OK ||
            (e = sym_curl_easy_setopt(c->easy, CURLOPT_PROXY, "")) != CURLE_OK ||
            (e = sym_curl_easy_setopt(c->easy, CURLOPT_USERAGENT, "corral/" CORRAL_VERSION)) != CURLE_OK)
                return curl_code_to_errno(e);
        return 0;
}

/* How the answer comes back. CURLOPT_MAXFILESIZE fails a response whose
 * Content-Length is too large before its body is read; on_body() catches
 * the others. */
static int check_set_callbacks(HealthCheck *c) {
        CURLcode e;

        if ((e = sym_curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L)) != CURLE_OK ||
            (e = sym_curl_easy_setopt(c->easy, CURLOPT_OPENSOCKETFUNCTION, on_open_socket)) != CURLE_OK ||
            (e = sym_curl_easy_setopt(c->easy, CURLOPT_OPENSOCKETDATA, c->pool)) != CURLE_OK ||
            (e = sym_curl_easy_setopt(c->easy, CURLOPT_CLOSESOCKETFUNCTION, on_close_socket)) != CURLE_OK ||
            (e = sym_curl_easy_setopt(c->easy, CURLOPT_CLOSESOCKETDATA, c->pool)) != CURLE_OK ||
            (e = sym_curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_body)) != CURLE_OK ||
            (e = sym_curl_easy_setopt(c->easy, CURLOPT_MAXFILESIZE, (long) HEALTH_BODY_MAX)) != CURLE_OK)
                return curl_code_to_errno(e);
        return 0;
}

/* What of the handle's setup is this check's own. */
static int check_set_self(HealthCheck *c) {
        CURLcode e;

        if ((e = sym_curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c)) != CURLE_OK ||
            (e = sym_curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, c->error)) != CURLE_OK ||
            (e = sym_curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c)) != CURLE_OK)
                return curl_code_to_errno(e);
        return 0;
}

/* A handle for url: an idle one set up for it, or one set up now (new,
 * or the longest idle, reset, when the pool is full). */
static int check_set_easy(HealthChecker *h, HealthCheck *c, const char *url, long timeout_ms) {
        int i, r;

        c->hash = url_hash(url);
        c->timeout_ms = timeout_ms;
        i = pool_find(h, url, c->hash, timeout_ms);
        if (i >= 0) {
                HealthPooled p = pool_take(h, (unsigned) i);

                c->easy = p.easy;
                c->url = p.url;
                return 0;
        }
        /* a URL seen before was valid then */
        r = url_validate(url);
        if (r < 0)
                return r;
        if (h->n_pool == HEALTH_POOL_MAX) {
                HealthPooled p = pool_take(h, 0);

                free(p.url);
                c->easy = p.easy;
                sym_curl_easy_reset(c->easy);
        } else
                c->easy = sym_curl_easy_init();
        if (!c->easy)
                return -ENOMEM;
        r = check_set_request(c, url, timeout_ms);
        if (r < 0)
                return r;
        r = check_set_callbacks(c);
        if (r < 0)
                return r;
        c->url = strdup(url);
        return c->url ? 0 : -ENOMEM;
}

static long timeout_to_ms(usec_t timeout) {
        return timeout / USEC_PER_MSEC >= (usec_t) LONG_MAX ? LONG_MAX
                                                            : (long) ((timeout + USEC_PER_MSEC - 1) / USEC_PER_MSEC);
}

static HealthCheck *check_alloc(HealthChecker *h, usec_t timeout, const HealthStatusSet *accept, HealthHandler handler,
                                void *userdata) {
        HealthCheck *c = calloc(1, sizeof(*c));

        if (!c)
                return NULL;
        c->pool = h;
        c->timeout_ms = timeout_to_ms(timeout);
        if (accept)
                c->accept = *accept;
        else
                (void) health_status_parse(HEALTH_STATUS_DEFAULT, &c->accept);
        c->handler = handler;
        c->userdata = userdata;
        return c;
}

/* Into the multi handle: curl arms its timer at 0 through on_curl_timer()
 * and the transfer begins on the next iteration of the loop. */
static int check_begin(HealthChecker *h, HealthCheck *c, const char *url) {
        int r;

        r = check_set_easy(h, c, url, c->timeout_ms);
        if (r < 0)
                return r;
        r = check_set_self(c);
        if (r < 0)
                return r;
        c->started = now(CLOCK_MONOTONIC);
        if (sym_curl_multi_add_handle(h->multi, c->easy) != CURLM_OK)
                return -ENOMEM;
        check_link(h, c);
        return 0;
}

static int checker_set_multi(HealthChecker *h);

/* libcurl is mapped, and the multi handle made, by the first check. */
static int checker_load(HealthChecker *h) {
        int r;

        if (h->multi)
                return 0;
        r = curl_dlopen(/* ret_error= */ NULL);
        if (r < 0)
                return r;
        return checker_set_multi(h);
}

const char *health_unavailable_reason(void) {
        const char *e = NULL;

        return curl_dlopen(&e) < 0 ? e : NULL;
}

int health_check_start(HealthChecker *h, const char *url, usec_t timeout, const HealthStatusSet *accept,
                       HealthHandler handler, void *userdata, HealthCheck **ret) {
        _cleanup_(check_freep) HealthCheck *c = NULL;
        int r;

        if (!h || !handler || timeout == 0 || h->free_requested)
                return -EINVAL;
        r = checker_load(h);
        if (r < 0)
                return r;
        if (!url)
                return -EINVAL;
        c = check_alloc(h, timeout, accept, handler, userdata);
        if (!c)
                return -ENOMEM;
        r = check_begin(h, c, url);
        if (r < 0)
                return r;
        if (ret)
                *ret = c;
        TAKE_PTR(c);
        return 0;
}

int health_check_start_at(HealthChecker *h, usec_t when, usec_t accuracy, const char *url, usec_t timeout,
                          const HealthStatusSet *accept, HealthHandler handler, void *userdata, HealthCheck **ret) {
        _cleanup_(check_freep) HealthCheck *c = NULL;
        int r;

        if (!h || !handler || timeout == 0 || h->free_requested)
                return -EINVAL;
        r = checker_load(h);
        if (r < 0)
                return r;
        if (!url)
                return -EINVAL;
        /* errors in the URL now, not when it is due (a URL with an idle
         * handle was valid when the handle was set up) */
        if (pool_find(h, url, url_hash(url), timeout_to_ms(timeout)) < 0 && (r = url_validate(url)) < 0)
                return r;
        c = check_alloc(h, timeout, accept, handler, userdata);
        if (!c)
                return -ENOMEM;
        c->queued_url = strdup(url);
        if (!c->queued_url)
                return -ENOMEM;
        c->due = when;
        c->latest = sat_add(when, accuracy);
        r = queue_push(h, c);
        if (r < 0)
                return r;
        h->accuracy_max = MAX(h->accuracy_max, accuracy);
        if (ret)
                *ret = c;
        TAKE_PTR(c);
        return 0;
}

void health_check_cancel(HealthCheck *c) {
        /* A check whose handler is running is freed when it returns. */
        if (!c || c->delivering)
                return;
        check_free(c);
}

/* ---- Results ---- */

/* NULL when the check passed; otherwise why not, valid while c lives. */
static const char *check_error(HealthCheck *c, CURLcode code, long status) {
        if (c->body_too_large || code == CURLE_FILESIZE_EXCEEDED) {
                (void) snprintf(c->error, sizeof(c->error), "response body larger than %u bytes", HEALTH_BODY_MAX);
                return c->error;
        }
        if (code != CURLE_OK)
                return c->error[0] ? c->error : sym_curl_easy_strerror(code);
        if (!health_status_contains(&c->accept, status)) {
                (void) snprintf(c->error, sizeof(c->error), "HTTP %ld", status);
                return c->error;
        }
        return NULL;
}

/* Hands the result to the handler and frees the check afterwards. The
 * handler may start or cancel other checks and free its userdata: the
 * check is out of the multi handle and the list before it runs, and
 * nothing but the free touches it afterwards. */
static void check_deliver(HealthCheck *c, CURLcode code) {
        _cleanup_(check_freep) HealthCheck *owned = c;
        HealthResult result = {};
        long status = 0;

        (void) sym_curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
        result.http_status = status;
        result.latency = MAX(now(CLOCK_MONOTONIC) - c->started, (usec_t) 1);
        result.error = check_error(c, code, status);
        result.ok = !result.error;
        check_detach(c);
        /* the handle idle before the handler, which may queue the next
         * check of the same URL (health_check_start_at() finds it valid) */
        if (c->pool && c->pool->pool && !c->pool->free_requested)
                pool_put(c->pool, c);
        c->delivering = true;
        c->handler(&result, c->userdata);
}

/* Reads curl's messages one at a time and delivers each before reading
 * the next: a handler that cancels a finished check whose message is still
 * queued removes that message with it (curl_multi_remove_handle). */
static void checker_deliver_finished(HealthChecker *h) {
        CURLMsg *msg;
        int left;

        while (!h->free_requested && (msg = sym_curl_multi_info_read(h->multi, &left))) {
                HealthCheck *c = NULL;
                CURLcode code = msg->data.result;

                if (msg->msg != CURLMSG_DONE)
                        continue;
                if (sym_curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &c) != CURLE_OK || !c)
                        continue;
                check_deliver(c, code);
        }
}

static void checker_destroy(HealthChecker *h);

static void checker_drive(HealthChecker *h, curl_socket_t fd, int flags) {
        CURLMcode m;
        int running;

        m = sym_curl_multi_socket_action(h->multi, fd, flags, &running);
        if (m != CURLM_OK)
                log_debug("health: sym_curl_multi_socket_action() failed: %s", sym_curl_multi_strerror(m));
        h->dispatching++;
        checker_deliver_finished(h);
        h->dispatching--;
        if (h->free_requested && h->dispatching == 0)
                checker_destroy(h);
}

/* The failed starts' results, each taken out of the list before its
 * handler runs (which may cancel the others). */
static void checker_deliver_failed(HealthChecker *h) {
        while (!h->free_requested && h->failed) {
                _cleanup_(check_freep) HealthCheck *c = h->failed;
                HealthResult result = { .latency = 1 };

                failed_unlink(h, c);
                (void) snprintf(c->error, sizeof(c->error), "cannot start the check: %s", strerror(-c->start_error));
                result.error = c->error;
                c->delivering = true;
                c->handler(&result, c->userdata);
        }
}

/* Collects the queued checks due by n below heap index i: a subtree whose
 * root's latest time is past n + accuracy_max holds none. */
static void queue_collect(HealthChecker *h, unsigned i, usec_t n, HealthCheck **batch, unsigned *n_batch) {
        if (i >= h->n_queue || h->queue[i]->latest > sat_add(n, h->accuracy_max))
                return;
        if (h->queue[i]->due <= n)
                batch[(*n_batch)++] = h->queue[i];
        queue_collect(h, 2 * i + 1, n, batch, n_batch);
        queue_collect(h, 2 * i + 2, n, batch, n_batch);
}

/* Starts every queued check that is due, not only the first: the checks
 * that fall due together take one wake-up. */
static int on_queue_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        HealthChecker *h = userdata;
        _cleanup_free_ HealthCheck **batch = NULL;
        usec_t n = now(CLOCK_MONOTONIC);
        unsigned n_batch = 0;

        batch = reallocarray(NULL, MAX(h->n_queue, 1u), sizeof(*batch));
        if (!batch) {
                queue_arm(h); /* again at once */
                return 0;
        }
        queue_collect(h, 0, n, batch, &n_batch);
        for (unsigned i = 0; i < n_batch; i++) {
                HealthCheck *c = batch[i];
                int r;

                queue_remove(h, c);
                r = check_begin(h, c, c->queued_url);
                if (r < 0)
                        failed_add(h, c, r);
                c->queued_url = mfree(c->queued_url);
        }
        queue_arm(h);
        h->dispatching++;
        checker_deliver_failed(h);
        h->dispatching--;
        if (h->free_requested && h->dispatching == 0) {
                checker_destroy(h);
                return 0;
        }
        /* The transfers begin now, rather than from curl's timer at 0 in
         * one more iteration of the loop (curl moves that timer on). */
        if (n_batch > 0 && !h->free_requested)
                checker_drive(h, CURL_SOCKET_TIMEOUT, /* flags= */ 0);
        return 0;
}

/* ---- The checker ---- */

static int checker_set_multi(HealthChecker *h) {
        CURLMcode m;

        h->pool = calloc(HEALTH_POOL_MAX, sizeof(*h->pool));
        if (!h->pool)
                return -ENOMEM;
        h->multi = sym_curl_multi_init();
        if (!h->multi)
                return -ENOMEM;
        if ((m = sym_curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket)) != CURLM_OK ||
            (m = sym_curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h)) != CURLM_OK ||
            (m = sym_curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer)) != CURLM_OK ||
            (m = sym_curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h)) != CURLM_OK ||
            (m = sym_curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, HEALTH_MAX_CONNECTS)) != CURLM_OK)
                return m == CURLM_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
        return 0;
}

static int checker_add_timer(HealthChecker *h) {
        int r;

        r = sd_event_add_time(h->event, &h->timer, CLOCK_MONOTONIC, /* usec= */ 0, HEALTH_TIMER_ACCURACY, on_timer, h);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(h->timer, "health-timer");
        r = sd_event_source_set_enabled(h->timer, SD_EVENT_OFF);
        if (r < 0)
                return r;
        /* to the µs: a queued check's accuracy is its own */
        r = sd_event_add_time(h->event, &h->queue_timer, CLOCK_MONOTONIC, /* usec= */ 0, /* accuracy= */ 1,
                              on_queue_timer, h);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(h->queue_timer, "health-queue");
        return sd_event_source_set_enabled(h->queue_timer, SD_EVENT_OFF);
}

int health_checker_new(sd_event *event, HealthChecker **ret) {
        _cleanup_(health_checker_freep) HealthChecker *h = NULL;
        int r;

        if (!event || !ret)
                return -EINVAL;
        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->event = sd_event_ref(event);
        /* The timer first: curl may call on_curl_timer() from any call
         * into the multi handle, sym_curl_multi_cleanup() included. */
        r = checker_add_timer(h);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(h);
        return 0;
}

static void checker_cancel_all(HealthChecker *h) {
        while (h->checks)
                check_free(h->checks);
        while (h->n_queue > 0)
                check_free(h->queue[h->n_queue - 1]);
        while (h->failed)
                check_free(h->failed);
}

/* sym_curl_multi_cleanup() closes the cached connections and may tell
 * on_curl_socket() and on_curl_timer() about it: the sources go after it. */
static void checker_destroy(HealthChecker *h) {
        checker_cancel_all(h);
        while (h->n_pool > 0)
                pooled_done(&h->pool[--h->n_pool]);
        free(h->pool);
        if (h->multi)
                (void) sym_curl_multi_cleanup(h->multi);
        while (h->sockets) /* those curl left open, if any */
                health_socket_free(h->sockets);
        free(h->opened);
        sd_event_source_disable_unref(h->timer);
        sd_event_source_disable_unref(h->queue_timer);
        free(h->queue);
        sd_event_unref(h->event);
        free(h);
}

HealthChecker *health_checker_free(HealthChecker *h) {
        if (!h)
                return NULL;
        if (h->dispatching > 0) {
                /* From a handler: the dispatch loop finishes the job. */
                checker_cancel_all(h);
                h->free_requested = true;
                return NULL;
        }
        checker_destroy(h);
        return NULL;
}

unsigned health_checker_in_flight(const HealthChecker *h) {
        return h ? h->n_checks : 0;
}
