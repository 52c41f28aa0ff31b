/* SPDX-License-Identifier: GPL-2.0-or-later */
/* corral-demo-service: a small single-threaded HTTP/1.1 server that plays a
 * supervised service in demos and tests. It starts like a real one
 * ("servicehost -wasm PATH -dbPath NAME -port PORT") and can be told over
 * HTTP to fail, hang, crash, exit, or answer badly:
 *
 *     GET /api/status    200 "ok" (500 when failing; no answer when hanging)
 *     GET /api/fail      /api/status answers 500 from now on
 *     GET /api/recover   healthy again
 *     GET /api/hang      /api/status is read but never answered from now on
 *     GET /api/crash     answers, then abort()s
 *     GET /api/exit?code=N  answers, then exits with N
 *     GET /api/big       a 10 MiB body (?nolength: without Content-Length,
 *                        ending with the connection)
 *     GET /api/drip      the headers, then one byte of the body per second
 *     GET /api/garbage   bytes that are not HTTP, then the connection closes
 *     GET /api/stats     "connections N\nrequests M\n" so far
 *
 * A demo program, not part of corrald: it polls with poll() and keeps its
 * state in globals. It links nothing but libc (READY=1 is sent by hand). */

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CONNS_MAX 1024
#define REQUEST_MAX 8192
#define BIG_SIZE (10U * 1024U * 1024U)
#define DRIP_SIZE 60U
#define DRIP_INTERVAL_MS 1000

typedef enum Action {
        ACTION_NONE,
        ACTION_CLOSE,
        ACTION_CRASH,
        ACTION_EXIT,
} Action;

typedef struct Conn {
        int fd;
        char in[REQUEST_MAX];
        size_t in_len;
        char *out; /* queued output */
        size_t out_len, out_sent;
        size_t fill_left;  /* generated body bytes still to send (/api/big) */
        size_t drip_left;  /* body bytes still to drip (/api/drip) */
        int64_t drip_next; /* when the next one is due, ms on CLOCK_MONOTONIC */
        bool hanging;      /* a request that is never answered */
        Action after;      /* once everything queued has been sent */
        int exit_code;
} Conn;

typedef struct Request {
        char method[16];
        char target[1024];
        bool keep_alive;
        size_t size; /* head and body */
} Request;

typedef struct Options {
        unsigned port;
        const char *wasm;
        const char *db_path;
        bool ignore_sigterm;
        unsigned fork_tree;
        bool notify;
        unsigned fail_after;
} Options;

static struct {
        bool failing;
        bool hanging;
        unsigned fail_after; /* 0: never */
        unsigned requests;
        unsigned connections;
} state;

static Conn *conns[CONNS_MAX];
static unsigned n_conns;

/* ---- Helpers ---- */

#define streq(a, b) (strcmp((a), (b)) == 0)

static int64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void say(const char *format, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *format, ...) {
        va_list ap;

        fputs("demo: ", stdout);
        va_start(ap, format);
        vprintf(format, ap);
        va_end(ap);
        fputc('\n', stdout);
        fflush(stdout);
}

static int parse_number(const char *s, unsigned max, unsigned *ret) {
        char *end;
        unsigned long v;

        if (!s || *s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || *end != '\0' || v > max)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

/* ---- Options ---- */

static void usage(FILE *f) {
        fputs("Usage: corral-demo-service [-port|--port PORT] [-wasm PATH] [-dbPath NAME]\n"
              "       [--ignore-sigterm] [--fork-tree N] [--notify] [--fail-after N]\n"
              "PORT defaults to $PORT.\n",
              f);
}

/* "--name VALUE" or "--name=VALUE" (one or two dashes). Returns 1 with
 * *ret set when argv[*i] is the option name, 0 when it is another one. */
static int option_value(int argc, char **argv, int *i, const char *name, const char **ret) {
        const char *a = argv[*i] + (argv[*i][1] == '-' ? 2 : 1);
        size_t n = strlen(name);

        if (strncmp(a, name, n) != 0 || (a[n] != '\0' && a[n] != '='))
                return 0;
        if (a[n] == '=') {
                *ret = a + n + 1;
                return 1;
        }
        if (*i + 1 >= argc)
                return -EINVAL;
        *ret = argv[++*i];
        return 1;
}

static bool option_flag(char **argv, int i, const char *name) {
        const char *a = argv[i] + (argv[i][1] == '-' ? 2 : 1);

        return strcmp(a, name) == 0;
}

static int parse_option(int argc, char **argv, int *i, Options *o) {
        const char *v;
        int r;

        if ((r = option_value(argc, argv, i, "port", &v)) != 0)
                return r < 0 ? r : parse_number(v, 65535, &o->port);
        if ((r = option_value(argc, argv, i, "wasm", &v)) != 0)
                return r < 0 ? r : (o->wasm = v, 0);
        if ((r = option_value(argc, argv, i, "dbPath", &v)) != 0)
                return r < 0 ? r : (o->db_path = v, 0);
        if ((r = option_value(argc, argv, i, "fork-tree", &v)) != 0)
                return r < 0 ? r : parse_number(v, 1000, &o->fork_tree);
        if ((r = option_value(argc, argv, i, "fail-after", &v)) != 0)
                return r < 0 ? r : parse_number(v, UINT32_MAX, &o->fail_after);
        if (option_flag(argv, *i, "ignore-sigterm"))
                return o->ignore_sigterm = true, 0;
        if (option_flag(argv, *i, "notify"))
                return o->notify = true, 0;
        return -EINVAL;
}

static int parse_args(int argc, char **argv, Options *o) {
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
                        usage(stdout);
                        exit(EXIT_SUCCESS);
                }
                if (argv[i][0] != '-' || parse_option(argc, argv, &i, o) < 0) {
                        fprintf(stderr, "corral-demo-service: bad argument \"%s\"\n", argv[i]);
                        return -EINVAL;
                }
        }
        if (o->port == 0 && parse_number(getenv("PORT"), 65535, &o->port) < 0) {
                fprintf(stderr, "corral-demo-service: no port (-port PORT or $PORT)\n");
                return -EINVAL;
        }
        if (o->port == 0)
                return -EINVAL;
        return 0;
}

/* ---- Start-up ---- */

static void raise_nofile(void) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= CONNS_MAX + 64)
                return;
        rl.rlim_cur = rl.rlim_max < CONNS_MAX + 64 ? rl.rlim_max : CONNS_MAX + 64;
        (void) setrlimit(RLIMIT_NOFILE, &rl);
}

static void fork_tree(unsigned n) {
        for (unsigned i = 0; i < n; i++) {
                pid_t pid = fork();

                if (pid < 0) {
                        perror("corral-demo-service: fork");
                        exit(EXIT_FAILURE);
                }
                if (pid == 0)
                        for (;;)
                                pause();
                say("forked child %d", (int) pid);
        }
}

static int listen_on(int family, unsigned port) {
        union {
                struct sockaddr sa;
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
        } addr = {};
        socklen_t len;
        int fd, one = 1, zero = 0;

        fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, /* protocol= */ 0);
        if (fd < 0)
                return -errno;
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (family == AF_INET6) {
                (void) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
                addr.in6 = (struct sockaddr_in6) { .sin6_family = AF_INET6,
                                                   .sin6_port = htons(port),
                                                   .sin6_addr = in6addr_any };
                len = sizeof(addr.in6);
        } else {
                addr.in = (struct sockaddr_in) { .sin_family = AF_INET,
                                                 .sin_port = htons(port),
                                                 .sin_addr.s_addr = htonl(INADDR_ANY) };
                len = sizeof(addr.in);
        }
        if (bind(fd, &addr.sa, len) < 0 || listen(fd, SOMAXCONN) < 0) {
                int r = -errno;

                close(fd);
                return r;
        }
        return fd;
}

/* [::] dual-stack, or 0.0.0.0 where there is no IPv6. */
static int listen_any(unsigned port) {
        int fd = listen_on(AF_INET6, port);

        if (fd == -EAFNOSUPPORT || fd == -EADDRNOTAVAIL)
                fd = listen_on(AF_INET, port);
        return fd;
}

/* The sd_notify protocol by hand: one datagram to $NOTIFY_SOCKET, a path
 * or an abstract name ('@'). */
static int notify_ready(unsigned port) {
        const char *path = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char msg[64];
        size_t n;
        int fd, r = 0;

        if (!path || !*path)
                return -ENOENT;
        n = strlen(path);
        if (n >= sizeof(sa.sun_path))
                return -EINVAL;
        memcpy(sa.sun_path, path, n);
        if (sa.sun_path[0] == '@')
                sa.sun_path[0] = '\0';
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, /* protocol= */ 0);
        if (fd < 0)
                return -errno;
        snprintf(msg, sizeof(msg), "READY=1\nSTATUS=listening on port %u", port);
        if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *) &sa,
                   (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n)) < 0)
                r = -errno;
        close(fd);
        return r;
}

/* ---- Connections ---- */

static void conn_close(unsigned i) {
        Conn *c = conns[i];

        close(c->fd);
        free(c->out);
        free(c);
        conns[i] = conns[--n_conns];
        conns[n_conns] = NULL;
}

static void conn_queue(Conn *c, const void *p, size_t n) {
        char *out;

        if (c->out_sent == c->out_len)
                c->out_len = c->out_sent = 0;
        out = realloc(c->out, c->out_len + n);
        if (!out) {
                perror("corral-demo-service: realloc");
                exit(EXIT_FAILURE);
        }
        memcpy(out + c->out_len, p, n);
        c->out = out;
        c->out_len += n;
}

static bool conn_output_pending(const Conn *c) {
        return c->out_sent < c->out_len || c->fill_left > 0 || c->drip_left > 0;
}

static const char *status_text(int status) {
        switch (status) {
        case 200:
                return "OK";
        case 400:
                return "Bad Request";
        case 404:
                return "Not Found";
        case 405:
                return "Method Not Allowed";
        case 413:
                return "Content Too Large";
        case 500:
                return "Internal Server Error";
        default:
                return "Unknown";
        }
}

/* Headers for a body of body_size bytes; body (when not NULL) is queued
 * too, unless the request was a HEAD. */
static void respond(Conn *c, const Request *r, int status, const char *body, size_t body_size) {
        char head[256];
        int n;

        n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                     "Connection: %s\r\n\r\n",
                     status, status_text(status), body_size, r->keep_alive ? "keep-alive" : "close");
        conn_queue(c, head, (size_t) n);
        if (body && !streq(r->method, "HEAD"))
                conn_queue(c, body, body_size);
        if (!r->keep_alive && c->after == ACTION_NONE)
                c->after = ACTION_CLOSE;
        say("%s %s %d", r->method, r->target, status);
}

static void respond_text(Conn *c, const Request *r, int status, const char *body) {
        respond(c, r, status, body, strlen(body));
}

/* ---- Requests ---- */

static bool header_is(const char *line, const char *name, const char **ret_value) {
        size_t n = strlen(name);

        if (strncasecmp(line, name, n) != 0 || line[n] != ':')
                return false;
        *ret_value = line + n + 1 + strspn(line + n + 1, " \t");
        return true;
}

/* The request line: "METHOD TARGET HTTP/1.x". */
static int parse_request_line(char *line, Request *r) {
        char *target, *version;

        target = strchr(line, ' ');
        if (!target)
                return -EBADMSG;
        *target++ = '\0';
        version = strchr(target, ' ');
        if (!version)
                return -EBADMSG;
        *version++ = '\0';
        if (strlen(line) >= sizeof(r->method) || strlen(target) >= sizeof(r->target) || target[0] != '/')
                return -EBADMSG;
        if (strcmp(version, "HTTP/1.1") != 0 && strcmp(version, "HTTP/1.0") != 0)
                return -EBADMSG;
        strcpy(r->method, line);
        strcpy(r->target, target);
        r->keep_alive = strcmp(version, "HTTP/1.1") == 0;
        return 0;
}

static int parse_header(const char *line, Request *r, size_t *body) {
        const char *v;
        unsigned n;

        if (header_is(line, "Connection", &v)) {
                if (strcasestr(v, "close"))
                        r->keep_alive = false;
                else if (strcasestr(v, "keep-alive"))
                        r->keep_alive = true;
        } else if (header_is(line, "Content-Length", &v)) {
                if (parse_number(v, REQUEST_MAX, &n) < 0)
                        return -EMSGSIZE;
                *body = n;
        }
        return 0;
}

/* Returns 1 with *r for a complete request at the start of c->in, 0 when
 * more is needed, -EBADMSG or -EMSGSIZE. */
static int parse_request(const Conn *c, Request *r) {
        char head[REQUEST_MAX + 1], *line, *next;
        const char *end;
        size_t head_size, body = 0;
        int k;

        /* Not even a method (a TLS hello, say): no use waiting for more. */
        if (c->in_len > 0 && (c->in[0] < 'A' || c->in[0] > 'Z'))
                return -EBADMSG;
        end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
        if (!end)
                return c->in_len >= REQUEST_MAX ? -EMSGSIZE : 0;
        head_size = (size_t) (end - c->in) + 4;
        memcpy(head, c->in, head_size - 2);
        head[head_size - 2] = '\0';
        *r = (Request) {};
        for (line = head, k = 0; (next = strstr(line, "\r\n")); line = next + 2, k++) {
                int q;

                *next = '\0';
                q = k == 0 ? parse_request_line(line, r) : parse_header(line, r, &body);
                if (q < 0)
                        return q;
        }
        if (head_size + body > REQUEST_MAX)
                return -EMSGSIZE;
        if (c->in_len < head_size + body)
                return 0;
        r->size = head_size + body;
        return 1;
}

static void route_status(Conn *c, const Request *r) {
        if (state.hanging) {
                c->hanging = true;
                say("%s %s hang", r->method, r->target);
                return;
        }
        if (state.failing)
                respond_text(c, r, 500, "failing\n");
        else
                respond_text(c, r, 200, "ok\n");
}

static void route_exit(Conn *c, const Request *r, const char *query) {
        char body[64];
        unsigned code = 0;

        if (query && strncmp(query, "code=", 5) == 0 && parse_number(query + 5, 255, &code) < 0) {
                respond_text(c, r, 400, "bad exit code\n");
                return;
        }
        snprintf(body, sizeof(body), "exiting with %u\n", code);
        respond_text(c, r, 200, body);
        c->after = ACTION_EXIT;
        c->exit_code = (int) code;
}

static void route_big(Conn *c, const Request *r, const char *query) {
        static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n";

        if (query && streq(query, "nolength")) {
                conn_queue(c, head, sizeof(head) - 1);
                c->after = ACTION_CLOSE;
                say("%s %s 200", r->method, r->target);
        } else
                respond(c, r, 200, /* body= */ NULL, BIG_SIZE);
        if (!streq(r->method, "HEAD"))
                c->fill_left = BIG_SIZE;
}

static void route_stats(Conn *c, const Request *r) {
        char body[64];

        snprintf(body, sizeof(body), "connections %u\nrequests %u\n", state.connections, state.requests);
        respond_text(c, r, 200, body);
}

static void route_drip(Conn *c, const Request *r) {
        respond(c, r, 200, /* body= */ NULL, DRIP_SIZE);
        if (!streq(r->method, "HEAD")) {
                c->drip_left = DRIP_SIZE;
                c->drip_next = now_ms() + DRIP_INTERVAL_MS;
        }
}

static void route_garbage(Conn *c, const Request *r) {
        static const char garbage[] = "\x16\x03\x01 this is not HTTP \xff\xfe\x00\r\n\r\n";

        conn_queue(c, garbage, sizeof(garbage) - 1);
        c->after = ACTION_CLOSE;
        say("%s %s garbage", r->method, r->target);
}

static const char index_text[] =
        "corral-demo-service\n"
        "/api/status /api/fail /api/recover /api/hang /api/crash /api/exit?code=N\n"
        "/api/big /api/big?nolength /api/drip /api/garbage /api/stats\n";

static void route(Conn *c, const Request *r, const char *path, const char *query) {
        if (streq(path, "/api/status"))
                route_status(c, r);
        else if (streq(path, "/api/fail")) {
                state.failing = true;
                respond_text(c, r, 200, "failing now\n");
        } else if (streq(path, "/api/recover")) {
                state.failing = state.hanging = false;
                state.fail_after = 0;
                respond_text(c, r, 200, "recovered\n");
        } else if (streq(path, "/api/hang")) {
                state.hanging = true;
                respond_text(c, r, 200, "hanging now\n");
        } else if (streq(path, "/api/crash")) {
                respond_text(c, r, 200, "crashing\n");
                c->after = ACTION_CRASH;
        } else if (streq(path, "/api/exit"))
                route_exit(c, r, query);
        else if (streq(path, "/api/big"))
                route_big(c, r, query);
        else if (streq(path, "/api/stats"))
                route_stats(c, r);
        else if (streq(path, "/api/drip"))
                route_drip(c, r);
        else if (streq(path, "/api/garbage"))
                route_garbage(c, r);
        else if (streq(path, "/"))
                respond_text(c, r, 200, index_text);
        else
                respond_text(c, r, 404, "not found\n");
}

static bool method_allowed(const char *m) {
        return streq(m, "GET") || streq(m, "HEAD") || streq(m, "POST");
}

static void handle_request(Conn *c, Request *r) {
        char path[sizeof(r->target)], *query;

        state.requests++;
        if (state.fail_after > 0 && state.requests > state.fail_after) {
                state.failing = true;
                state.fail_after = 0;
        }
        if (!method_allowed(r->method)) {
                respond_text(c, r, 405, "method not allowed\n");
                return;
        }
        strcpy(path, r->target);
        query = strchr(path, '?');
        if (query)
                *query++ = '\0';
        route(c, r, path, query);
}

static void handle_bad_request(Conn *c, int error) {
        Request r = { .method = "?", .target = "?", .keep_alive = false };

        if (error == -EMSGSIZE)
                respond_text(c, &r, 413, "request too large\n");
        else
                respond_text(c, &r, 400, "bad request\n");
}

/* Answers the requests in c->in, one at a time: the next only once the
 * answer to the previous one is out. */
static void conn_handle_requests(Conn *c) {
        while (!c->hanging && !conn_output_pending(c) && c->after == ACTION_NONE) {
                Request r;
                int k = parse_request(c, &r);

                if (k == 0)
                        return;
                if (k < 0) {
                        handle_bad_request(c, k);
                        return;
                }
                handle_request(c, &r);
                memmove(c->in, c->in + r.size, c->in_len - r.size);
                c->in_len -= r.size;
        }
}

/* ---- I/O ---- */

/* Sends what is queued, then generated body bytes. Returns -1 when the
 * connection is done with (closed by the peer, or ACTION_CLOSE). */
static int conn_flush(Conn *c) {
        static char fill[64 * 1024];

        while (c->out_sent < c->out_len) {
                ssize_t n = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent, MSG_NOSIGNAL);

                if (n < 0)
                        return errno == EAGAIN || errno == EINTR ? 0 : -1;
                c->out_sent += (size_t) n;
        }
        while (c->fill_left > 0) {
                ssize_t n;

                if (fill[0] != 'x')
                        memset(fill, 'x', sizeof(fill));
                n = send(c->fd, fill, c->fill_left < sizeof(fill) ? c->fill_left : sizeof(fill), MSG_NOSIGNAL);
                if (n < 0)
                        return errno == EAGAIN || errno == EINTR ? 0 : -1;
                c->fill_left -= (size_t) n;
        }
        return 0;
}

static void conn_after(Conn *c) {
        switch (c->after) {
        case ACTION_CRASH:
                say("crashing (abort)");
                /* No core file left behind for a crash asked for. */
                (void) setrlimit(RLIMIT_CORE, &(struct rlimit) {});
                abort();
        case ACTION_EXIT:
                say("exiting with %d", c->exit_code);
                exit(c->exit_code);
        default:
                break;
        }
}

/* Returns -1 when the connection is to be closed. */
static int conn_on_writable(Conn *c) {
        if (conn_flush(c) < 0)
                return -1;
        if (conn_output_pending(c))
                return 0;
        conn_after(c);
        if (c->after == ACTION_CLOSE)
                return -1;
        conn_handle_requests(c);
        return 0;
}

static int conn_on_readable(Conn *c) {
        char scratch[4096];
        bool discard = c->hanging || c->in_len == sizeof(c->in);
        ssize_t n;

        if (discard)
                n = recv(c->fd, scratch, sizeof(scratch), /* flags= */ 0);
        else
                n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, /* flags= */ 0);
        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -1;
        if (n == 0)
                return -1;
        if (!discard)
                c->in_len += (size_t) n;
        conn_handle_requests(c);
        return 0;
}

static void conn_drip(Conn *c, int64_t now) {
        if (c->drip_left == 0 || c->out_sent < c->out_len || now < c->drip_next)
                return;
        conn_queue(c, "x", 1);
        c->drip_left--;
        c->drip_next = now + DRIP_INTERVAL_MS;
}

/* What to wait for on c; lowers *timeout to the next drip. */
static short conn_events(const Conn *c, int64_t now, int *timeout) {
        if (c->out_sent < c->out_len || c->fill_left > 0)
                return POLLOUT;
        if (c->drip_left > 0) {
                int64_t wait = c->drip_next > now ? c->drip_next - now : 0;

                if (*timeout < 0 || wait < *timeout)
                        *timeout = (int) wait;
                return 0;
        }
        return POLLIN;
}

static void accept_all(int listen_fd) {
        while (n_conns < CONNS_MAX) {
                int fd = accept4(listen_fd, /* addr= */ NULL, /* addrlen= */ NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                Conn *c;

                if (fd < 0)
                        return;
                c = calloc(1, sizeof(*c));
                if (!c) {
                        close(fd);
                        return;
                }
                c->fd = fd;
                conns[n_conns++] = c;
                state.connections++;
        }
}

/* Handles the events of the connections from the last poll(), back to
 * front so that closing one (which moves the last into its slot) skips
 * nothing. pfd[i] belongs to conns[i] (accept_all() runs after this). */
static void conns_dispatch(const struct pollfd *pfd, unsigned n) {
        for (unsigned i = n; i-- > 0;) {
                Conn *c = conns[i];
                int r = 0;

                conn_drip(c, now_ms());
                if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
                        r = conn_on_readable(c);
                /* What was just queued goes out at once where it can. */
                if (r >= 0 && (pfd[i].revents & POLLOUT || c->out_sent < c->out_len))
                        r = conn_on_writable(c);
                if (r < 0)
                        conn_close(i);
        }
}

static _Noreturn void serve(int listen_fd) {
        static struct pollfd pfd[CONNS_MAX + 1];

        for (;;) {
                unsigned n = n_conns;
                int64_t now = now_ms();
                int timeout = -1;

                for (unsigned i = 0; i < n; i++)
                        pfd[i] = (struct pollfd) { .fd = conns[i]->fd, .events = conn_events(conns[i], now, &timeout) };
                /* Full: new connections wait in the backlog. */
                pfd[n] = (struct pollfd) { .fd = n < CONNS_MAX ? listen_fd : -1, .events = POLLIN };
                if (poll(pfd, n + 1, timeout) < 0) {
                        if (errno == EINTR)
                                continue;
                        perror("corral-demo-service: poll");
                        exit(EXIT_FAILURE);
                }
                conns_dispatch(pfd, n);
                if (pfd[n].revents & POLLIN)
                        accept_all(listen_fd);
        }
}

int main(int argc, char **argv) {
        Options o = {};
        int fd, r;

        if (parse_args(argc, argv, &o) < 0) {
                usage(stderr);
                return 2;
        }
        say("starting, pid %d, wasm %s, dbPath %s (both ignored)", (int) getpid(), o.wasm ?: "-", o.db_path ?: "-");
        raise_nofile();
        signal(SIGPIPE, SIG_IGN);
        if (o.ignore_sigterm)
                signal(SIGTERM, SIG_IGN);
        if (o.fork_tree > 0)
                signal(SIGCHLD, SIG_IGN);
        fork_tree(o.fork_tree);
        state.fail_after = o.fail_after;
        fd = listen_any(o.port);
        if (fd < 0) {
                fprintf(stderr, "corral-demo-service: cannot listen on port %u: %s\n", o.port, strerror(-fd));
                return 1;
        }
        say("listening on port %u", o.port);
        if (o.notify && (r = notify_ready(o.port)) < 0)
                fprintf(stderr, "corral-demo-service: cannot send READY=1: %s\n", strerror(-r));
        serve(fd);
}
