/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The health module: health_status_parse() on a table, and real libcurl
 * checks on an sd-event loop against the real corral-demo-service
 * ($CORRAL_DEMO_SERVICE), started as our child on a free port and told
 * over HTTP to fail, hang, drip, send garbage or huge bodies. Needs no
 * root. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <curl/curl.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>

#include "health.h"
#include "pidref.h"
#include "ports.h"
#include "time-util.h"

#define PORT_BASE 43000
#define PORT_SPAN 1000
#define LONG_TIMEOUT (10 * USEC_PER_SEC)
#define N_MANY 200

static const char *demo_path;
static PidRef demo = PIDREF_NULL;
static uint16_t demo_port;

/* ---- Parser ---- */

typedef struct Range {
        long lo, hi;
} Range;

static void test_status_parse(_unused_ void **state) {
        static const struct {
                const char *input;
                int ret;
                Range in[3]; /* the accepted codes; {0, 0} ends */
        } cases[] = {
                { "200-299", 0, { { 200, 299 } } },
                { "200 204 301-302", 0, { { 200, 200 }, { 204, 204 }, { 301, 302 } } },
                { "200,204", 0, { { 200, 200 }, { 204, 204 } } },
                { "200, 204", 0, { { 200, 200 }, { 204, 204 } } },
                { " \t200\t ", 0, { { 200, 200 } } },
                { "200,", 0, { { 200, 200 } } },
                { "100-599", 0, { { 100, 599 } } },
                { "100", 0, { { 100, 100 } } },
                { "599", 0, { { 599, 599 } } },
                { "200-200", 0, { { 200, 200 } } },
                { "200-299 250-350", 0, { { 200, 350 } } },
                { "", -EINVAL, {} },
                { " ", -EINVAL, {} },
                { ",", -EINVAL, {} },
                { "99", -EINVAL, {} },
                { "099", -EINVAL, {} },
                { "0200", -EINVAL, {} },
                { "600", -EINVAL, {} },
                { "2000", -EINVAL, {} },
                { "200-", -EINVAL, {} },
                { "-200", -EINVAL, {} },
                { "299-200", -EINVAL, {} },
                { "200-600", -EINVAL, {} },
                { "200-2999", -EINVAL, {} },
                { "200 - 299", -EINVAL, {} },
                { "20a", -EINVAL, {} },
                { "abc", -EINVAL, {} },
                { "200;204", -EINVAL, {} },
                { "200 x", -EINVAL, {} },
                { "+200", -EINVAL, {} },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                HealthStatusSet set, untouched;
                int r;

                memset(&set, 0xaa, sizeof(set));
                untouched = set;
                r = health_status_parse(cases[i].input, &set);
                print_message("\"%s\" -> %d\n", cases[i].input, r);
                assert_int_equal(r, cases[i].ret);
                if (r < 0) {
                        assert_memory_equal(&set, &untouched, sizeof(set));
                        continue;
                }
                for (long code = 0; code < 700; code++) {
                        bool expected = false;

                        for (size_t k = 0; k < ELEMENTSOF(cases[i].in) && cases[i].in[k].lo > 0; k++)
                                expected |= code >= cases[i].in[k].lo && code <= cases[i].in[k].hi;
                        assert_int_equal(health_status_contains(&set, code), expected);
                }
        }
        assert_int_equal(health_status_parse(/* s= */ NULL, &(HealthStatusSet) {}), -EINVAL);
        assert_false(health_status_contains(/* set= */ NULL, 200));
}

/* ---- The demo service ---- */

static bool can_connect(uint16_t port) {
        struct sockaddr_in sa = { .sin_family = AF_INET,
                                  .sin_port = htons(port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        _cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, /* protocol= */ 0);

        return fd >= 0 && connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0;
}

/* A port of ours nobody listens on, starting at a place of our own so
 * that parallel runs do not meet. */
static uint16_t pick_port(uint16_t avoid) {
        unsigned start = (unsigned) getpid() % PORT_SPAN;

        for (unsigned i = 0; i < PORT_SPAN; i++) {
                uint16_t p = (uint16_t) (PORT_BASE + (start + i) % PORT_SPAN);

                if (p != avoid && ports_bindable(p))
                        return p;
        }
        return 0;
}

static void demo_exec(uint16_t port) {
        char arg[16];

        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        snprintf(arg, sizeof(arg), "%u", port);
        execl(demo_path, demo_path, "-wasm", "demo.wasm", "-dbPath", "demo", "-port", arg, (char *) NULL);
        _exit(127);
}

static bool demo_exited(void) {
        siginfo_t si = {};

        return pidref_wait(&demo, &si, WEXITED | WNOHANG) < 0 || si.si_pid != 0;
}

/* Starts the demo service and waits (polling: a test may) until it
 * accepts connections. */
static int demo_start(_unused_ void **state) {
        usec_t deadline = now(CLOCK_MONOTONIC) + LONG_TIMEOUT;
        pid_t pid;

        demo_port = pick_port(/* avoid= */ 0);
        if (demo_port == 0)
                return -1;
        fflush(stdout);
        pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0)
                demo_exec(demo_port);
        if (pidref_set_pid(&demo, pid) < 0)
                return -1;
        while (!can_connect(demo_port)) {
                if (demo_exited() || now(CLOCK_MONOTONIC) > deadline)
                        return -1;
                (void) usleep(10 * 1000);
        }
        return 0;
}

static int demo_stop(_unused_ void **state) {
        pidref_done_sigkill_wait(&demo);
        return 0;
}

/* A plain blocking GET to the demo service outside the checker. Returns
 * the status, or -errno. The body goes to ret_body (when not NULL). */
static int demo_get(const char *path, char *ret_body, size_t size) {
        struct sockaddr_in sa = { .sin_family = AF_INET,
                                  .sin_port = htons(demo_port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        struct timeval tv = { .tv_sec = 5 };
        _cleanup_close_ int fd = -EBADF;
        char req[256], resp[4096] = {};
        size_t n = 0;
        ssize_t k;
        int status;

        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, /* protocol= */ 0);
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
            connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
        if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0)
                return -errno;
        while (n < sizeof(resp) - 1 && (k = recv(fd, resp + n, sizeof(resp) - 1 - n, 0)) > 0)
                n += (size_t) k;
        if (sscanf(resp, "HTTP/1.1 %d", &status) != 1)
                return -EBADMSG;
        if (ret_body)
                snprintf(ret_body, size, "%s", strstr(resp, "\r\n\r\n") ? strstr(resp, "\r\n\r\n") + 4 : "");
        return status;
}

static unsigned demo_connections(void) {
        char body[128];
        unsigned n;

        assert_int_equal(demo_get("/api/stats", body, sizeof(body)), 200);
        assert_int_equal(sscanf(body, "connections %u", &n), 1);
        return n;
}

static char *demo_url(const char *path) {
        static char url[256];

        snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", demo_port, path);
        return url;
}

/* ---- The loop ---- */

typedef struct Fixture {
        sd_event *event;
        HealthChecker *checker;
} Fixture;

static int fixture_setup(void **state) {
        Fixture *f = calloc(1, sizeof(*f));

        if (!f || sd_event_new(&f->event) < 0 || health_checker_new(f->event, &f->checker) < 0)
                return -1;
        if (demo_get("/api/recover", /* ret_body= */ NULL, 0) != 200)
                return -1;
        *state = f;
        return 0;
}

static int fixture_teardown(void **state) {
        Fixture *f = *state;

        health_checker_free(f->checker);
        sd_event_unref(f->event);
        free(f);
        (void) demo_get("/api/recover", /* ret_body= */ NULL, 0);
        return 0;
}

/* Runs the loop until *counter reaches target or timeout passes. Returns
 * whether it did. */
static bool run_until(sd_event *e, const unsigned *counter, unsigned target, usec_t timeout) {
        usec_t deadline = now(CLOCK_MONOTONIC) + timeout;

        while (*counter < target) {
                usec_t n = now(CLOCK_MONOTONIC);

                if (n >= deadline)
                        return false;
                assert_return_code(sd_event_run(e, deadline - n), 0);
        }
        return true;
}

/* Runs the loop for a while, whatever happens. */
static void run_for(sd_event *e, usec_t duration) {
        unsigned never = 0;

        (void) run_until(e, &never, 1, duration);
}

typedef struct Outcome {
        unsigned calls;
        bool ok;
        long http_status;
        usec_t latency;
        usec_t at; /* when the handler ran (CLOCK_MONOTONIC) */
        char error[CURL_ERROR_SIZE + 64];
} Outcome;

static void record(const HealthResult *r, void *userdata) {
        Outcome *o = userdata;

        o->calls++;
        o->ok = r->ok;
        o->http_status = r->http_status;
        o->latency = r->latency;
        o->at = now(CLOCK_MONOTONIC);
        snprintf(o->error, sizeof(o->error), "%s", r->error ?: "");
        assert_true(r->ok == !r->error);
}

/* One check to url; waits for its result. Returns how long that took. */
static usec_t check_url(Fixture *f, const char *url, usec_t timeout, const HealthStatusSet *accept, Outcome *o) {
        HealthCheck *c = NULL;
        usec_t start = now(CLOCK_MONOTONIC);

        *o = (Outcome) {};
        assert_int_equal(health_check_start(f->checker, url, timeout, accept, record, o, &c), 0);
        assert_non_null(c);
        assert_int_equal(health_checker_in_flight(f->checker), 1);
        assert_true(run_until(f->event, &o->calls, 1, LONG_TIMEOUT + 5 * USEC_PER_SEC));
        assert_int_equal(o->calls, 1);
        assert_int_equal(health_checker_in_flight(f->checker), 0);
        print_message("%s: ok=%d status=%ld latency=%" PRIu64 "us error=\"%s\"\n", url, o->ok, o->http_status,
                      o->latency, o->error);
        return o->at - start;
}

static usec_t check_path(Fixture *f, const char *path, usec_t timeout, const HealthStatusSet *accept, Outcome *o) {
        return check_url(f, demo_url(path), timeout, accept, o);
}

/* ---- Checks ---- */

static void test_healthy(void **state) {
        Fixture *f = *state;
        unsigned before;
        Outcome o;
        usec_t took;

        before = demo_connections();
        for (unsigned i = 0; i < 5; i++) {
                took = check_path(f, "/api/status", LONG_TIMEOUT, /* accept= */ NULL, &o);
                assert_true(o.ok);
                assert_int_equal(o.http_status, 200);
                assert_string_equal(o.error, "");
                assert_true(o.latency > 0);
                assert_true(o.latency <= took);
        }
        /* Five checks over one kept-alive connection; the other new one is
         * this second /api/stats. */
        assert_int_equal(demo_connections() - before, 2);
}

/* Nothing in flight, connections kept alive: the loop stays asleep. */
static void test_idle(void **state) {
        Fixture *f = *state;
        Outcome o;

        (void) check_path(f, "/api/status", LONG_TIMEOUT, /* accept= */ NULL, &o);
        assert_true(o.ok);
        assert_int_equal(sd_event_run(f->event, 500 * USEC_PER_MSEC), 0);
}

/* The server ends a connection kept alive: the checker hears of it once
 * and sleeps again (no wake-up after wake-up on a socket curl does not
 * watch); the next check opens a new connection. */
static void test_idle_closed(void **state) {
        Fixture *f = *state;
        unsigned wakeups = 0;
        Outcome o;

        (void) check_path(f, "/api/status", LONG_TIMEOUT, /* accept= */ NULL, &o);
        assert_true(o.ok);
        assert_int_equal(demo_stop(NULL), 0); /* SIGKILL: its sockets close */
        while (wakeups < 100 && sd_event_run(f->event, 300 * USEC_PER_MSEC) > 0)
                wakeups++;
        print_message("wake-ups after the server closed: %u\n", wakeups);
        assert_in_range(wakeups, 0, 2);
        assert_int_equal(demo_start(NULL), 0);
        (void) check_path(f, "/api/status", LONG_TIMEOUT, /* accept= */ NULL, &o);
        assert_true(o.ok);
        assert_int_equal(sd_event_run(f->event, 300 * USEC_PER_MSEC), 0);
}

/* A name to resolve rather than an address. */
static void test_hostname(void **state) {
        Fixture *f = *state;
        char url[64];
        Outcome o;

        snprintf(url, sizeof(url), "http://localhost:%u/api/status", demo_port);
        (void) check_url(f, url, LONG_TIMEOUT, /* accept= */ NULL, &o);
        assert_true(o.ok);
        assert_int_equal(o.http_status, 200);
}

static void test_http_500(void **state) {
        Fixture *f = *state;
        HealthStatusSet accept;
        Outcome o;

        assert_int_equal(demo_get("/api/fail", /* ret_body= */ NULL, 0), 200);
        (void) check_path(f, "/api/status", LONG_TIMEOUT, /* accept= */ NULL, &o);
        assert_false(o.ok);
        assert_int_equal(o.http_status, 500);
        assert_string_equal(o.error, "HTTP 500");

        assert_int_equal(health_status_parse("200-299 500", &accept), 0);
        (void) check_path(f, "/api/status", LONG_TIMEOUT, &accept, &o);
        assert_true(o.ok);
        assert_int_equal(o.http_status, 500);

        assert_int_equal(health_status_parse("204", &accept), 0);
        assert_int_equal(demo_get("/api/recover", /* ret_body= */ NULL, 0), 200);
        (void) check_path(f, "/api/status", LONG_TIMEOUT, &accept, &o);
        assert_false(o.ok);
        assert_int_equal(o.http_status, 200);
        assert_string_equal(o.error, "HTTP 200");
}

static void test_hang_timeout(void **state) {
        Fixture *f = *state;
        Outcome o;
        usec_t took;

        assert_int_equal(demo_get("/api/hang", /* ret_body= */ NULL, 0), 200);
        took = check_path(f, "/api/status", 300 * USEC_PER_MSEC, /* accept= */ NULL, &o);
        assert_false(o.ok);
        assert_int_equal(o.http_status, 0);
        assert_true(o.error[0] != '\0');
        assert_true(took >= 290 * USEC_PER_MSEC);
        assert_true(took < 2 * USEC_PER_SEC);
}

static void test_refused(void **state) {
        Fixture *f = *state;
        char url[64];
        Outcome o;
        usec_t took;
        uint16_t port = pick_port(demo_port);

        assert_int_not_equal(port, 0);
        snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/status", port);
        took = check_url(f, url, LONG_TIMEOUT, /* accept= */ NULL, &o);
        assert_false(o.ok);
        assert_int_equal(o.http_status, 0);
        assert_true(o.error[0] != '\0');
        assert_true(took < 2 * USEC_PER_SEC);
}

static void test_big_body(void **state) {
        Fixture *f = *state;
        Outcome o;
        usec_t took;

        /* Content-Length says too much: refused before the body. */
        took = check_path(f, "/api/big", LONG_TIMEOUT, /* accept= */ NULL, &o);
        assert_false(o.ok);
        assert_int_equal(o.http_status, 200);
        assert_non_null(strstr(o.error, "larger"));
        assert_true(took < 5 * USEC_PER_SEC);

        /* No Content-Length: cut off once HEALTH_BODY_MAX is passed. */
        took = check_path(f, "/api/big?nolength", LONG_TIMEOUT, /* accept= */ NULL, &o);
        assert_false(o.ok);
        assert_int_equal(o.http_status, 200);
        assert_non_null(strstr(o.error, "larger"));
        assert_true(took < 5 * USEC_PER_SEC);
}

static void test_drip(void **state) {
        Fixture *f = *state;
        Outcome o;
        usec_t took;

        took = check_path(f, "/api/drip", 500 * USEC_PER_MSEC, /* accept= */ NULL, &o);
        assert_false(o.ok);
        assert_true(took >= 490 * USEC_PER_MSEC);
        assert_true(took < 2 * USEC_PER_SEC);
}

static void test_garbage(void **state) {
        Fixture *f = *state;
        Outcome o;

        (void) check_path(f, "/api/garbage", LONG_TIMEOUT, /* accept= */ NULL, &o);
        assert_false(o.ok);
        assert_true(o.error[0] != '\0');
}

static void test_https_to_plain(void **state) {
        Fixture *f = *state;
        char url[64];
        Outcome o;
        usec_t took;

        snprintf(url, sizeof(url), "https://127.0.0.1:%u/api/status", demo_port);
        /* the demo answers a TLS hello with a 400 and closes */
        took = check_url(f, url, LONG_TIMEOUT, /* accept= */ NULL, &o);
        assert_true(took < 2 * USEC_PER_SEC);
        assert_false(o.ok);
        assert_int_equal(o.http_status, 0);
        assert_true(o.error[0] != '\0');
}

static void test_bad_arguments(void **state) {
        static const char *const urls[] = {
                "",        "not a url",   "ftp://127.0.0.1/", "file:///etc/passwd", "gopher://127.0.0.1/",
                "http://", "/api/status",
        };
        Fixture *f = *state;
        HealthCheck *sentinel = (HealthCheck *) 0x1, *c = sentinel;
        Outcome o = {};

        for (size_t i = 0; i < ELEMENTSOF(urls); i++) {
                print_message("\"%s\"\n", urls[i]);
                assert_int_equal(health_check_start(f->checker, urls[i], LONG_TIMEOUT, /* accept= */ NULL, record, &o,
                                                    &c),
                                 -EINVAL);
        }
        assert_int_equal(health_check_start(f->checker, /* url= */ NULL, LONG_TIMEOUT, /* accept= */ NULL, record, &o,
                                            &c),
                         -EINVAL);
        assert_int_equal(health_check_start(f->checker, demo_url("/"), /* timeout= */ 0, /* accept= */ NULL, record, &o,
                                            &c),
                         -EINVAL);
        assert_int_equal(health_check_start(f->checker, demo_url("/"), LONG_TIMEOUT, /* accept= */ NULL,
                                            /* handler= */ NULL, &o, &c),
                         -EINVAL);
        assert_ptr_equal(c, sentinel);
        assert_int_equal(health_checker_in_flight(f->checker), 0);
        run_for(f->event, 100 * USEC_PER_MSEC);
        assert_int_equal(o.calls, 0);
}

static void test_cancel(void **state) {
        Fixture *f = *state;
        HealthCheck *c = NULL, *d = NULL;
        Outcome o = {}, p = {};

        assert_int_equal(demo_get("/api/hang", /* ret_body= */ NULL, 0), 200);
        assert_int_equal(health_check_start(f->checker, demo_url("/api/status"), LONG_TIMEOUT,
                                            /* accept= */ NULL, record, &o, &c),
                         0);
        /* cancelled before it even started */
        assert_int_equal(health_check_start(f->checker, demo_url("/api/status"), LONG_TIMEOUT,
                                            /* accept= */ NULL, record, &p, &d),
                         0);
        assert_int_equal(health_checker_in_flight(f->checker), 2);
        health_check_cancel(d);
        assert_int_equal(health_checker_in_flight(f->checker), 1);
        /* in flight: connected, request sent, waiting */
        run_for(f->event, 300 * USEC_PER_MSEC);
        assert_int_equal(o.calls, 0);
        assert_int_equal(health_checker_in_flight(f->checker), 1);
        health_check_cancel(c);
        health_check_cancel(/* c= */ NULL);
        assert_int_equal(health_checker_in_flight(f->checker), 0);
        run_for(f->event, 500 * USEC_PER_MSEC);
        assert_int_equal(o.calls, 0);
        assert_int_equal(p.calls, 0);
}

static void count_ok(const HealthResult *r, void *userdata) {
        unsigned *counts = userdata;

        counts[0]++;
        if (r->ok && r->http_status == 200)
                counts[1]++;
        else
                print_message("failed: %ld %s\n", r->http_status, r->error);
}

static void test_many(void **state) {
        Fixture *f = *state;
        unsigned counts[2] = {};

        for (unsigned i = 0; i < N_MANY; i++)
                assert_int_equal(health_check_start(f->checker, demo_url("/api/status"), LONG_TIMEOUT,
                                                    /* accept= */ NULL, count_ok, counts, /* ret= */ NULL),
                                 0);
        assert_int_equal(health_checker_in_flight(f->checker), N_MANY);
        assert_true(run_until(f->event, &counts[0], N_MANY, 30 * USEC_PER_SEC));
        assert_int_equal(counts[0], N_MANY);
        assert_int_equal(counts[1], N_MANY);
        assert_int_equal(health_checker_in_flight(f->checker), 0);
        /* and once more, over the connections kept alive */
        counts[0] = counts[1] = 0;
        for (unsigned i = 0; i < N_MANY; i++)
                assert_int_equal(health_check_start(f->checker, demo_url("/api/status"), LONG_TIMEOUT,
                                                    /* accept= */ NULL, count_ok, counts, /* ret= */ NULL),
                                 0);
        assert_true(run_until(f->event, &counts[0], N_MANY, 30 * USEC_PER_SEC));
        assert_int_equal(counts[1], N_MANY);
}

/* ---- Handlers that start, cancel and free ---- */

/* A chain: each handler frees its own context and starts the next check. */
typedef struct Link {
        Fixture *f;
        unsigned *done;
        unsigned left;
} Link;

static void chain_next(const HealthResult *r, void *userdata) {
        Link *l = userdata, *next;
        Fixture *f = l->f;
        unsigned *done = l->done, left = l->left;

        assert_true(r->ok);
        free(l);
        (*done)++;
        if (left == 0)
                return;
        next = malloc(sizeof(*next));
        assert_non_null(next);
        *next = (Link) { .f = f, .done = done, .left = left - 1 };
        assert_int_equal(health_check_start(f->checker, demo_url("/api/status"), LONG_TIMEOUT,
                                            /* accept= */ NULL, chain_next, next, /* ret= */ NULL),
                         0);
}

static void test_handler_starts_next(void **state) {
        Fixture *f = *state;
        unsigned done = 0;
        Link *first = malloc(sizeof(*first));

        assert_non_null(first);
        *first = (Link) { .f = f, .done = &done, .left = 9 };
        assert_int_equal(health_check_start(f->checker, demo_url("/api/status"), LONG_TIMEOUT,
                                            /* accept= */ NULL, chain_next, first, /* ret= */ NULL),
                         0);
        assert_true(run_until(f->event, &done, 10, LONG_TIMEOUT));
        run_for(f->event, 100 * USEC_PER_MSEC);
        assert_int_equal(done, 10);
        assert_int_equal(health_checker_in_flight(f->checker), 0);
}

/* A herd: the first handler to run cancels every other check, also those
 * that have finished and wait in curl's queue of messages. */
typedef struct Herd {
        HealthCheck *checks[20];
        bool done[20];
        unsigned calls;
} Herd;

typedef struct Member {
        Herd *herd;
        unsigned index;
} Member;

static void herd_first(const HealthResult *r, void *userdata) {
        Member *m = userdata;
        Herd *h = m->herd;

        h->calls++;
        h->done[m->index] = true;
        /* cancelling the running check itself is harmless */
        health_check_cancel(h->checks[m->index]);
        for (unsigned i = 0; i < ELEMENTSOF(h->checks); i++)
                if (!h->done[i]) {
                        health_check_cancel(h->checks[i]);
                        h->done[i] = true;
                }
}

static void test_handler_cancels_others(void **state) {
        Fixture *f = *state;
        Member members[20];
        Herd herd = {};

        for (unsigned i = 0; i < ELEMENTSOF(members); i++) {
                members[i] = (Member) { .herd = &herd, .index = i };
                assert_int_equal(health_check_start(f->checker, demo_url("/api/status"), LONG_TIMEOUT,
                                                    /* accept= */ NULL, herd_first, &members[i], &herd.checks[i]),
                                 0);
        }
        assert_true(run_until(f->event, &herd.calls, 1, LONG_TIMEOUT));
        run_for(f->event, 300 * USEC_PER_MSEC);
        assert_int_equal(herd.calls, 1);
        assert_int_equal(health_checker_in_flight(f->checker), 0);
}

/* The handler frees the whole checker, with other checks in flight. */
static void free_checker(const HealthResult *r, void *userdata) {
        Fixture *f = userdata;

        f->checker = health_checker_free(f->checker);
        assert_null(f->checker);
}

static void test_handler_frees_checker(void **state) {
        Fixture *f = *state;
        Outcome slow = {};

        /* /api/drip takes a minute: still in flight when the checker goes */
        assert_int_equal(health_check_start(f->checker, demo_url("/api/drip"), LONG_TIMEOUT,
                                            /* accept= */ NULL, record, &slow, /* ret= */ NULL),
                         0);
        assert_int_equal(health_check_start(f->checker, demo_url("/api/status"), LONG_TIMEOUT,
                                            /* accept= */ NULL, free_checker, f, /* ret= */ NULL),
                         0);
        run_for(f->event, 1500 * USEC_PER_MSEC);
        assert_null(f->checker);
        assert_int_equal(slow.calls, 0);
}

/* ---- File descriptors ---- */

/* ---- Checks at a time (health_check_start_at) ---- */

/* Three checks due at one time: none starts before it, and all run; the
 * connection kept alive by the first serves the others. */
static void test_start_at(void **state) {
        Fixture *f = *state;
        Outcome o[3] = {};
        HealthCheck *c[3] = {};
        usec_t when = now(CLOCK_MONOTONIC) + 200 * USEC_PER_MSEC;
        unsigned before, done = 0;

        check_path(f, "/api/status", LONG_TIMEOUT, /* accept= */ NULL, &o[0]); /* a connection to keep */
        before = demo_connections();
        for (unsigned i = 0; i < 3; i++) {
                o[i] = (Outcome) {};
                assert_int_equal(health_check_start_at(f->checker, when, 20 * USEC_PER_MSEC, demo_url("/api/status"),
                                                       LONG_TIMEOUT, /* accept= */ NULL, record, &o[i], &c[i]),
                                 0);
                assert_non_null(c[i]);
        }
        /* waiting, not in flight */
        assert_int_equal(health_checker_in_flight(f->checker), 0);
        run_for(f->event, 150 * USEC_PER_MSEC);
        for (unsigned i = 0; i < 3; i++)
                assert_int_equal(o[i].calls, 0);
        assert_int_equal(health_checker_in_flight(f->checker), 0);
        while (done < 3 && now(CLOCK_MONOTONIC) < when + LONG_TIMEOUT) {
                assert_return_code(sd_event_run(f->event, 100 * USEC_PER_MSEC), 0);
                done = o[0].calls + o[1].calls + o[2].calls;
        }
        for (unsigned i = 0; i < 3; i++) {
                assert_int_equal(o[i].calls, 1);
                assert_true(o[i].ok);
                assert_int_equal(o[i].http_status, 200);
                /* started no earlier than when (latency is from the start) */
                assert_true(o[i].at - o[i].latency >= when);
        }
        /* the three in one wake-up: the connection kept alive serves the
         * first (and the next, if its answer came first), each of the
         * others in flight with it opens one; demo_connections() opens
         * one more, its own. Without reuse: 4. */
        assert_in_range(demo_connections() - before, 1, 3);
        assert_int_equal(health_checker_in_flight(f->checker), 0);
}

/* Queued checks run in the order of their times; one cancelled while it
 * waits never runs; a bad URL is an error at once. */
static void test_start_at_order_cancel(void **state) {
        Fixture *f = *state;
        Outcome early = {}, late = {}, gone = {};
        HealthCheck *c = NULL;
        usec_t n = now(CLOCK_MONOTONIC);

        assert_int_equal(health_check_start_at(f->checker, n + 300 * USEC_PER_MSEC, 1, demo_url("/api/status"),
                                               LONG_TIMEOUT, /* accept= */ NULL, record, &late, NULL),
                         0);
        assert_int_equal(health_check_start_at(f->checker, n + 100 * USEC_PER_MSEC, 1, demo_url("/api/status"),
                                               LONG_TIMEOUT, /* accept= */ NULL, record, &early, NULL),
                         0);
        assert_int_equal(health_check_start_at(f->checker, n + 50 * USEC_PER_MSEC, 1, demo_url("/api/status"),
                                               LONG_TIMEOUT, /* accept= */ NULL, record, &gone, &c),
                         0);
        health_check_cancel(c);
        assert_int_equal(health_check_start_at(f->checker, n, 1, "ftp://127.0.0.1/", LONG_TIMEOUT,
                                               /* accept= */ NULL, record, &gone, NULL),
                         -EINVAL);
        assert_int_equal(health_check_start_at(f->checker, n, 1, /* url= */ NULL, LONG_TIMEOUT,
                                               /* accept= */ NULL, record, &gone, NULL),
                         -EINVAL);
        assert_true(run_until(f->event, &late.calls, 1, LONG_TIMEOUT + 5 * USEC_PER_SEC));
        assert_int_equal(early.calls, 1);
        assert_true(early.ok && late.ok);
        assert_true(early.at < late.at);
        assert_true(early.at - early.latency >= n + 100 * USEC_PER_MSEC);
        assert_true(late.at - late.latency >= n + 300 * USEC_PER_MSEC);
        run_for(f->event, 100 * USEC_PER_MSEC);
        assert_int_equal(gone.calls, 0);
}

/* A checker freed with checks waiting: their handlers never run, nothing
 * leaks (under ASan). */
static void test_start_at_free(void **state) {
        Fixture *f = *state;
        Outcome o = {};

        assert_int_equal(health_check_start_at(f->checker, now(CLOCK_MONOTONIC) + 50 * USEC_PER_MSEC, 1,
                                               demo_url("/api/status"), LONG_TIMEOUT, /* accept= */ NULL, record, &o,
                                               NULL),
                         0);
        f->checker = health_checker_free(f->checker);
        run_for(f->event, 150 * USEC_PER_MSEC);
        assert_int_equal(o.calls, 0);
}

static unsigned count_fds(void) {
        DIR *d = opendir("/proc/self/fd");
        unsigned n = 0;

        assert_non_null(d);
        while (readdir(d))
                n++;
        closedir(d);
        return n;
}

static void test_no_fd_leak(_unused_ void **state) {
        unsigned before = count_fds(), counts[2] = {};
        Fixture *f;
        HealthCheck *c = NULL;
        Outcome o;

        assert_int_equal(fixture_setup((void **) &f), 0);
        for (unsigned i = 0; i < 20; i++)
                assert_int_equal(health_check_start(f->checker, demo_url("/api/status"), LONG_TIMEOUT,
                                                    /* accept= */ NULL, count_ok, counts, /* ret= */ NULL),
                                 0);
        assert_true(run_until(f->event, &counts[0], 20, LONG_TIMEOUT));
        (void) check_path(f, "/api/garbage", LONG_TIMEOUT, /* accept= */ NULL, &o);
        (void) check_path(f, "/api/big", LONG_TIMEOUT, /* accept= */ NULL, &o);
        (void) check_path(f, "/api/drip", 200 * USEC_PER_MSEC, /* accept= */ NULL, &o);
        assert_int_equal(demo_get("/api/hang", /* ret_body= */ NULL, 0), 200);
        assert_int_equal(health_check_start(f->checker, demo_url("/api/status"), LONG_TIMEOUT,
                                            /* accept= */ NULL, record, &o, &c),
                         0);
        run_for(f->event, 200 * USEC_PER_MSEC);
        health_check_cancel(c);
        /* one in flight when the checker goes */
        assert_int_equal(health_check_start(f->checker, demo_url("/api/status"), LONG_TIMEOUT,
                                            /* accept= */ NULL, record, &o, /* ret= */ NULL),
                         0);
        run_for(f->event, 200 * USEC_PER_MSEC);
        assert_true(count_fds() > before);
        assert_int_equal(fixture_teardown((void **) &f), 0);
        assert_int_equal(count_fds(), before);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_status_parse),
                cmocka_unit_test_setup_teardown(test_healthy, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_idle, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_idle_closed, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_hostname, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_http_500, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_hang_timeout, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_refused, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_big_body, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_drip, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_garbage, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_https_to_plain, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_bad_arguments, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_cancel, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_many, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_handler_starts_next, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_handler_cancels_others, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_handler_frees_checker, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_start_at, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_start_at_order_cancel, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_start_at_free, fixture_setup, fixture_teardown),
                cmocka_unit_test(test_no_fd_leak),
        };
        int r;

        demo_path = getenv("CORRAL_DEMO_SERVICE");
        if (!demo_path || !*demo_path) {
                fprintf(stderr, "CORRAL_DEMO_SERVICE is not set: skipping\n");
                return 77;
        }
        r = cmocka_run_group_tests(tests, demo_start, demo_stop);
        /* libcurl's global state (TLS library included), for leak checkers */
        curl_global_cleanup();
        return r;
}
