/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libcorral. First against a scripted server (no root needed): replies
 * too long, not JSON, errors without a code, odd fields, a closed
 * connection, an event stream with a line that is not an event. Then
 * against a real corrald: status, the changing requests, jobs (exit
 * status, cancel, wait, timeout), an event stream, and the errors a
 * client sees (no such unit, a request too large, bad arguments, an
 * invalid configuration on reload). One corrald serves every test of that
 * group; the last one stops it and checks that its cgroup subtree is
 * gone. */

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <jansson.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "corral/corral.h"
#include "macro.h"
#include "test-util.h"

#define TIMEOUT (30 * USEC_PER_SEC)

#define SERVICES                 \
        "[program:web]\n"        \
        "command = sleep 1000\n" \
        "stop_timeout = 2s\n"    \
        "[program:db]\n"         \
        "command = sleep 1000\n" \
        "stop_timeout = 2s\n"

static TestDaemon daemon_;

DEFINE_TRIVIAL_CLEANUP_FUNC(corral *, corral_close);
DEFINE_TRIVIAL_CLEANUP_FUNC(corral_units *, corral_units_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(corral_event *, corral_event_free);

/* ---- a scripted server ---- */

#define sizeof_field(type, field) sizeof(((type *) NULL)->field)

typedef struct FakeServer {
        char dir[48];
        char path[sizeof_field(struct sockaddr_un, sun_path)];
        pid_t pid;
        int report_fd; /* what the server received: the request line, then its descriptors */
} FakeServer;

#define FAKE_FDS_MAX 8

/* Reads the client's first request line with recvmsg(), collecting the
 * descriptors that came with it. Returns the line's length, or -1. */
static ssize_t fake_server_recv(int fd, char *buf, size_t size, int *fds, size_t *n_fds) {
        size_t len = 0;

        *n_fds = 0;
        while (len < size && !memchr(buf, '\n', len)) {
                union {
                        struct cmsghdr align;
                        char buf[CMSG_SPACE(sizeof(int) * FAKE_FDS_MAX)];
                } control;
                struct iovec iov = { .iov_base = buf + len, .iov_len = size - len };
                struct msghdr mh = { .msg_iov = &iov,
                                     .msg_iovlen = 1,
                                     .msg_control = &control,
                                     .msg_controllen = sizeof(control) };
                ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);

                if (n <= 0)
                        return -1;
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                                for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++)
                                        fds[(*n_fds)++] = ((int *) CMSG_DATA(c))[i];
                len += (size_t) n;
        }
        return (ssize_t) (memchr(buf, '\n', len) ? (char *) memchr(buf, '\n', len) - buf : -1);
}

/* Tells the test what came: the request line, then one line per
 * descriptor, "DEV INO" of what it refers to, having written "fd N\n"
 * into it (which fails, harmlessly, on a read end). */
static void fake_server_report(int report_fd, const char *line, size_t len, const int *fds, size_t n_fds) {
        dprintf(report_fd, "%.*s\n", (int) len, line);
        for (size_t i = 0; i < n_fds; i++) {
                struct stat st = {};

                (void) fstat(fds[i], &st);
                dprintf(fds[i], "fd %zu\n", i);
                dprintf(report_fd, "%lu %lu\n", (unsigned long) st.st_dev, (unsigned long) st.st_ino);
                close(fds[i]);
        }
        close(report_fd);
}

/* The child: accepts one client, reads its first request line, reports
 * it, writes reply (len bytes), then drains until the client closes; with
 * an empty reply, closes the connection at once. */
/* Set before fake_server_start(): the server answers every request line
 * with the same reply, instead of the first alone. */
static bool fake_repeat;

static bool fake_server_send(int fd, const char *reply, size_t len) {
        for (size_t done = 0; done < len;) {
                ssize_t k = send(fd, reply + done, len - done, MSG_NOSIGNAL);
                if (k <= 0)
                        return false; /* the client stopped reading: fine */
                done += (size_t) k;
        }
        return true;
}

_noreturn_ static void fake_server_run(int listen_fd, int report_fd, const char *reply, size_t len) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC), fds[FAKE_FDS_MAX];
        static char line[128 * 1024];
        size_t n_fds;
        ssize_t n;
        char c;

        if (fd < 0)
                _exit(1);
        n = fake_server_recv(fd, line, sizeof(line), fds, &n_fds);
        if (n < 0)
                _exit(0); /* the client closed without a request */
        fake_server_report(report_fd, line, (size_t) n, fds, n_fds);
        if (len == 0)
                _exit(0);
        if (!fake_server_send(fd, reply, len))
                _exit(0);
        while (read(fd, &c, 1) > 0)
                if (fake_repeat && c == '\n' && !fake_server_send(fd, reply, len))
                        _exit(0);
        _exit(0);
}

static void fake_server_start(FakeServer *f, const char *reply, size_t len) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd, report[2];

        snprintf(f->dir, sizeof(f->dir), "/tmp/corral-test-fake-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->path, sizeof(f->path), "%s/control.sock", f->dir);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(listen(fd, 1), 0);
        assert_int_equal(pipe2(report, O_CLOEXEC), 0);
        f->pid = fork();
        assert_true(f->pid >= 0);
        if (f->pid == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                close(report[0]);
                fake_server_run(fd, report[1], reply, len);
        }
        close(report[1]);
        f->report_fd = report[0];
        close(fd);
}

static void fake_server_stop(FakeServer *f) {
        int status;

        assert_int_equal(waitpid(f->pid, &status, 0), f->pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        close(f->report_fd);
        unlink(f->path);
        rmdir(f->dir);
}

/* What the server received, once the reply to it has come: the request's
 * params (a new reference) and the (dev, ino) of each descriptor. */
static json_t *fake_server_request(FakeServer *f, dev_t *devs, ino_t *inos, size_t *n_fds) {
        _cleanup_fclose_ FILE *in = fdopen(dup(f->report_fd), "r");
        char line[128 * 1024];
        unsigned long dev, ino;
        json_t *req, *params;

        assert_non_null(in);
        assert_non_null(fgets(line, sizeof(line), in));
        req = json_loads(line, /* flags= */ 0, /* error= */ NULL);
        assert_non_null(req);
        params = json_incref(json_object_get(req, "params"));
        json_decref(req);
        for (*n_fds = 0; *n_fds < FAKE_FDS_MAX && fscanf(in, "%lu %lu\n", &dev, &ino) == 2; (*n_fds)++) {
                devs[*n_fds] = (dev_t) dev;
                inos[*n_fds] = (ino_t) ino;
        }
        return params;
}

/* Opens a client on a fake server that answers with reply. */
static corral *fake_connect(FakeServer *f, const char *reply, size_t len) {
        corral *c = NULL;

        fake_server_start(f, reply, len);
        assert_int_equal(corral_open(f->path, &c), 0);
        return c;
}

#define FAKE_REPLY(s) s, strlen(s)

/* fake_connect() to a server that answers every request with reply. */
static corral *fake_connect_repeating(FakeServer *f, const char *reply, size_t len) {
        corral *c;

        fake_repeat = true;
        c = fake_connect(f, reply, len);
        fake_repeat = false;
        return c;
}

/* The params of the request the server got, its descriptors not asked. */
static json_t *fake_server_params(FakeServer *f) {
        dev_t devs[FAKE_FDS_MAX];
        ino_t inos[FAKE_FDS_MAX];
        size_t n_fds;

        return fake_server_request(f, devs, inos, &n_fds);
}

static void test_reply_too_long(void **state) {
        size_t len = 2 * 1024 * 1024;
        _cleanup_free_ char *big = malloc(len);
        corral_units *u = NULL;
        FakeServer f;
        corral *c;

        assert_non_null(big);
        memset(big, 'x', len);
        c = fake_connect(&f, big, len);
        assert_int_equal(corral_status(c, /* names= */ NULL, &u), -E2BIG);
        assert_null(u);
        assert_null(corral_last_error(c));
        /* The rest of that line is still coming: the connection is done. */
        assert_int_equal(corral_status(c, /* names= */ NULL, &u), -ENOTCONN);
        corral_close(c);
        fake_server_stop(&f);
}

static void test_reply_not_json(void **state) {
        corral_units *u = NULL;
        FakeServer f;
        corral *c = fake_connect(&f, FAKE_REPLY("this is not JSON\n"));

        assert_int_equal(corral_status(c, /* names= */ NULL, &u), -EBADMSG);
        corral_close(c);
        fake_server_stop(&f);
}

static void test_reply_error_by_name(void **state) {
        FakeServer f;
        corral *c = fake_connect(&f, FAKE_REPLY("{\"ok\":false,\"error\":{\"errno\":\"ESHUTDOWN\",\"message\":\"bye\"}}"
                                                "\n"));

        assert_int_equal(corral_reload(c), -ESHUTDOWN);
        assert_string_equal(corral_last_error(c), "bye");
        corral_close(c);
        fake_server_stop(&f);
}

static void test_reply_closed(void **state) {
        FakeServer f;
        corral *c = fake_connect(&f, FAKE_REPLY(""));
        const char *names[] = { "x", NULL };

        assert_int_equal(corral_start(c, names), -ECONNRESET);
        assert_int_equal(corral_start(c, names), -ENOTCONN);
        corral_close(c);
        fake_server_stop(&f);
}

/* ---- a status in pages ---- */

#define PAGES_REPLY                                                                                \
        "{\"ok\":true,\"more\":true,\"result\":{\"units\":[{\"name\":\"a\"},{\"name\":\"b\"}]}}\n" \
        "{\"ok\":true,\"more\":true,\"result\":{\"units\":[]}}\n"                                  \
        "{\"ok\":true,\"more\":true,\"result\":{\"units\":[{\"name\":\"c\"}]}}\n"                  \
        "{\"ok\":true,\"result\":{\"units\":[{\"name\":\"d\"}],\"daemon\":{}}}\n"

typedef struct PagesSeen {
        char names[64];
        unsigned pages, fail_at;
} PagesSeen;

/* Writes each page's names, "|" between pages; fails at page fail_at. */
static int on_page(corral_units *page, void *userdata) {
        PagesSeen *p = userdata;

        if (++p->pages == p->fail_at)
                return -ECANCELED;
        if (p->pages > 1)
                strcat(p->names, "|");
        for (size_t i = 0; i < corral_units_count(page); i++) {
                strcat(p->names, corral_unit_name(corral_units_get(page, i)));
                assert_non_null(corral_unit_json(corral_units_get(page, i)));
        }
        return 0;
}

/* Pages come to the handler one by one, an empty one skipped, with the
 * request's flags; a handler's error ends the calls, not the reading: the
 * connection goes on. */
static void test_status_pages(void **state) {
        _cleanup_(corral_units_freep) corral_units *u = NULL;
        PagesSeen seen = {};
        FakeServer f;
        corral *c = fake_connect_repeating(&f, FAKE_REPLY(PAGES_REPLY));
        json_t *params;

        assert_int_equal(corral_status_pages(c, /* names= */ NULL, CORRAL_STATUS_NO_STATS, on_page, &seen), 0);
        assert_string_equal(seen.names, "ab|c|d");
        assert_int_equal(seen.pages, 3);
        params = fake_server_params(&f);
        assert_true(json_is_false(json_object_get(params, "stats")));
        json_decref(params);

        seen = (PagesSeen) { .fail_at = 2 };
        assert_int_equal(corral_status_pages(c, /* names= */ NULL, 0, on_page, &seen), -ECANCELED);
        assert_string_equal(seen.names, "ab");
        assert_int_equal(seen.pages, 2); /* not called after its error */

        /* the rest of that reply was read: the next call gets its own */
        assert_int_equal(corral_status(c, /* names= */ NULL, &u), 0);
        assert_int_equal(corral_units_count(u), 4);
        assert_int_equal(corral_status_pages(c, NULL, 0, /* handler= */ NULL, NULL), -EINVAL);
        assert_int_equal(corral_status_pages(c, NULL, 1u << 5, on_page, &seen), -EINVAL);
        corral_close(c);
        fake_server_stop(&f);
}

/* A page that is not JSON after good ones: the connection is broken. */
static void test_status_pages_broken(void **state) {
        PagesSeen seen = {};
        FakeServer f;
        corral *c = fake_connect(&f, FAKE_REPLY("{\"ok\":true,\"more\":true,\"result\":{\"units\":[{\"name\":"
                                                "\"a\"}]}}\nnot JSON\n"));

        assert_int_equal(corral_status_pages(c, /* names= */ NULL, 0, on_page, &seen), -EBADMSG);
        assert_string_equal(seen.names, "a");
        assert_int_equal(corral_status_pages(c, /* names= */ NULL, 0, on_page, &seen), -ENOTCONN);
        corral_close(c);
        fake_server_stop(&f);
}

/* ---- a status handed on as JSON ---- */

typedef struct JsonSeen {
        char text[256];
        unsigned pages, fail_at;
} JsonSeen;

/* Writes each page's text, "|" between pages; fails at page fail_at. */
static int on_json(const char *json, size_t len, void *userdata) {
        JsonSeen *p = userdata;

        assert_int_equal(strlen(json), len);
        if (++p->pages == p->fail_at)
                return -ECANCELED;
        if (p->pages > 1)
                strcat(p->text, "|");
        strcat(p->text, json);
        return 0;
}

/* corrald's bare pages reach the handler as they came, unparsed (text
 * that is not what jansson would dump: a space, keys out of order), with
 * "bare" and the flags in the request; the result line ends it. */
static void test_status_json_pages(void **state) {
        JsonSeen seen = {};
        FakeServer f;
        corral *c = fake_connect_repeating(&f, FAKE_REPLY("[{\"name\":\"a\"}, {\"name\":\"b\"}]\n[]\n"
                                                          "[{\"z\":1,\"name\":\"c\"}]\n"
                                                          "{\"ok\":true,\"result\":{\"daemon\":{}}}\n"));
        const char *names[] = { "web", NULL };
        json_t *params;

        assert_int_equal(corral_status_json_pages(c, names, CORRAL_STATUS_NO_STATS, on_json, &seen), 0);
        assert_string_equal(seen.text, "[{\"name\":\"a\"}, {\"name\":\"b\"}]|[{\"z\":1,\"name\":\"c\"}]");
        assert_int_equal(seen.pages, 2); /* "[]" is no page */
        params = fake_server_params(&f);
        assert_true(json_is_true(json_object_get(params, "bare")));
        assert_true(json_is_false(json_object_get(params, "stats")));
        assert_string_equal(json_string_value(json_array_get(json_object_get(params, "units"), 0)), "web");
        json_decref(params);

        /* a handler's error ends the calls, not the reading */
        seen = (JsonSeen) { .fail_at = 1 };
        assert_int_equal(corral_status_json_pages(c, /* names= */ NULL, 0, on_json, &seen), -ECANCELED);
        assert_int_equal(seen.pages, 1);
        assert_string_equal(seen.text, "");

        /* bare lines where no call asked for them: the connection is broken */
        _cleanup_(corral_units_freep) corral_units *u = NULL;
        assert_int_equal(corral_status(c, /* names= */ NULL, &u), -EBADMSG);
        assert_int_equal(corral_status(c, /* names= */ NULL, &u), -ENOTCONN);
        assert_int_equal(corral_status_json_pages(c, NULL, 0, /* handler= */ NULL, NULL), -EINVAL);
        corral_close(c);
        fake_server_stop(&f);
}

/* A corrald that knows no "bare" sends its pages as objects: the handler
 * gets each page's units as JSON all the same, an empty one skipped. (The
 * fake server plays that older corrald: there is none here to run.) */
static void test_status_json_pages_old_daemon(void **state) {
        JsonSeen seen = {};
        FakeServer f;
        corral *c = fake_connect(&f, FAKE_REPLY(PAGES_REPLY));

        assert_int_equal(corral_status_json_pages(c, /* names= */ NULL, 0, on_json, &seen), 0);
        assert_string_equal(seen.text, "[{\"name\":\"a\"},{\"name\":\"b\"}]|[{\"name\":\"c\"}]|[{\"name\":\"d\"}]");
        assert_int_equal(seen.pages, 3);
        corral_close(c);
        fake_server_stop(&f);
}

static void test_reply_odd_fields(void **state) {
        _cleanup_(corral_units_freep) corral_units *u = NULL;
        FakeServer f;
        corral *c = fake_connect(&f, FAKE_REPLY("{\"ok\":true,\"result\":{\"units\":[{\"name\":\"a\",\"main_pid\":-5,"
                                                "\"uptime_usec\":\"soon\",\"exit_code\":null,\"exit_status\":0,"
                                                "\"owner_uid\":-1,\"frozen\":1,\"restarts\":3}]}}\n"));
        const corral_unit *a;

        assert_int_equal(corral_status(c, /* names= */ NULL, &u), 0);
        a = corral_units_get(u, 0);
        assert_string_equal(corral_unit_name(a), "a");
        assert_null(corral_unit_state(a));
        assert_int_equal(corral_unit_main_pid(a), 0);
        assert_true(corral_unit_uptime_usec(a) == UINT64_MAX);
        assert_int_equal(corral_unit_exit_status(a), -1); /* no exit_code: no exit yet */
        assert_true(corral_unit_owner_uid(a) == (uid_t) -1);
        assert_int_equal(corral_unit_frozen(a), 0);
        assert_int_equal(corral_unit_restarts(a), 3);
        corral_close(c);
        fake_server_stop(&f);
}

static void test_event_stream(void **state) {
        _cleanup_(corral_event_freep) corral_event *e = NULL;
        FakeServer f;
        corral *c = fake_connect(&f, FAKE_REPLY("{\"ok\":true,\"result\":{}}\n{\"something\":\"newer\"}\n"
                                                "{\"event\":{\"unit\":\"u\",\"state\":\"running\",\"main_pid\":7,"
                                                "\"timestamp_usec\":5}}\n"));

        assert_int_equal(corral_subscribe(c), 0);
        assert_int_equal(corral_next_event(c, 10000, &e), 0);
        assert_string_equal(corral_event_unit(e), "u");
        assert_string_equal(corral_event_state(e), "running");
        assert_null(corral_event_result(e));
        assert_int_equal(corral_event_main_pid(e), 7);
        assert_int_equal(corral_event_timestamp_usec(e), 5);
        assert_non_null(strstr(corral_event_json(e), "\"unit\":\"u\""));
        e = corral_event_free(e);
        assert_int_equal(corral_next_event(c, 50, &e), -ETIMEDOUT);
        corral_close(c);
        fake_server_stop(&f);
}

/* logs: the reply's lines and journal units, then a follow with a line
 * that is neither a line nor a drop notice, a drop notice, and a line. */
static void test_logs_follow(void **state) {
        corral_logs *l = NULL, *j = NULL;
        corral_log_line *line = NULL;
        FakeServer f;
        corral *c = fake_connect(&f, FAKE_REPLY("{\"ok\":true,\"result\":{\"lines\":["
                                                "{\"unit\":\"web@1\",\"stream\":\"stdout\",\"timestamp_usec\":10,"
                                                "\"text\":\"a\"},"
                                                "{\"unit\":\"web@0\",\"stream\":\"stderr\",\"timestamp_usec\":30,"
                                                "\"text\":\"b\","
                                                "\"split\":true}],\"journal\":[\"db\"],\"omitted\":4}}\n"
                                                "{\"something\":\"newer\"}\n{\"dropped\":{\"lines\":3}}\n"
                                                "{\"line\":{\"unit\":\"web@1\",\"timestamp_usec\":40,\"text\":\"c\","
                                                "\"partial\":true}}\n"));
        corral_logs_query q = { .lines = 10, .follow = 1 };

        assert_int_equal(corral_read_logs(c, &q, &l), 0);
        assert_int_equal(corral_logs_count(l), 2);
        assert_string_equal(corral_log_line_unit(corral_logs_get(l, 0)), "web@1");
        assert_false(corral_log_line_is_stderr(corral_logs_get(l, 0)));
        assert_true(corral_log_line_is_stderr(corral_logs_get(l, 1)));
        assert_true(corral_log_line_split(corral_logs_get(l, 1)));
        assert_false(corral_log_line_partial(corral_logs_get(l, 1)));
        assert_int_equal(corral_log_line_timestamp_usec(corral_logs_get(l, 1)), 30);
        assert_string_equal(corral_logs_journal_units(l)[0], "db");
        assert_int_equal(corral_logs_omitted(l), 4);
        assert_null(corral_logs_journal_units(l)[1]);
        assert_null(corral_logs_get(l, 2));
        /* following: other requests are refused */
        assert_int_equal(corral_status(c, NULL, &(corral_units *) { NULL }), -EBUSY);
        assert_int_equal(corral_next_log_line(c, 10000, &line), 3);
        assert_null(line);
        assert_int_equal(corral_next_log_line(c, 10000, &line), 0);
        assert_string_equal(corral_log_line_text(line), "c");
        assert_string_equal(corral_log_line_stream(line), "stdout"); /* absent: stdout */
        assert_true(corral_log_line_partial(line));
        assert_int_equal(corral_next_log_line(c, 50, &(corral_log_line *) { NULL }), -ETIMEDOUT);

        corral_close(c);
        fake_server_stop(&f);

        /* a merge keeps the time order and the last max lines */
        c = fake_connect(&f, FAKE_REPLY("{\"ok\":true,\"result\":{\"lines\":["
                                        "{\"unit\":\"x\",\"timestamp_usec\":20,\"text\":\"x20\"},"
                                        "{\"unit\":\"x\",\"timestamp_usec\":50,\"text\":\"x50\"}]}}\n"));
        q.follow = 0;
        assert_int_equal(corral_read_logs(c, &q, &j), 0);
        assert_null(corral_logs_journal_units(j)[0]);
        assert_int_equal(corral_logs_merge(l, NULL, CORRAL_LOGS_ALL), 0);
        assert_int_equal(corral_logs_count(l), 2);
        assert_int_equal(corral_logs_merge(l, j, 3), 0);
        assert_int_equal(corral_logs_count(l), 3);
        assert_string_equal(corral_log_line_text(corral_logs_get(l, 0)), "x20");
        assert_string_equal(corral_log_line_text(corral_logs_get(l, 1)), "b");
        assert_string_equal(corral_log_line_text(corral_logs_get(l, 2)), "x50");
        corral_log_line_free(line);
        corral_logs_free(l);
        corral_close(c);
        fake_server_stop(&f);
}

static void assert_same_file(int fd, dev_t dev, ino_t ino) {
        struct stat st;

        assert_int_equal(fstat(fd, &st), 0);
        assert_true(st.st_dev == dev && st.st_ino == ino);
}

static json_int_t params_int(json_t *params, const char *key) {
        assert_true(json_is_integer(json_object_get(params, key)));
        return json_integer_value(json_object_get(params, key));
}

/* run with descriptors: each goes once, with the request's first byte,
 * and "stdio" says which is which; stop options and limits travel. */
static void test_run_with_fds(void **state) {
        const char *argv[] = { "make", NULL }, *limits[] = { "memory_max=1G", "pids_max=100", NULL };
        _cleanup_free_ char *id = NULL;
        json_auto_t *params = NULL, *stdio = NULL;
        int in[2], out[2];
        dev_t devs[FAKE_FDS_MAX];
        ino_t inos[FAKE_FDS_MAX];
        size_t n_fds;
        char buf[16] = {};
        FakeServer f;
        corral *c = fake_connect(&f, FAKE_REPLY("{\"ok\":true,\"result\":{\"id\":\"job-1\"}}\n"));
        corral_job_options o = {
                .size = sizeof(o),
                .flags = CORRAL_JOB_STDIO,
                .stop_signal = SIGINT,
                .stop_timeout_usec = USEC_PER_SEC,
                .kill_mode = CORRAL_KILL_MIXED,
                .limits = limits,
        };

        assert_int_equal(pipe2(in, O_CLOEXEC), 0);
        assert_int_equal(pipe2(out, O_CLOEXEC), 0);
        o.stdin_fd = in[0];
        o.stdout_fd = o.stderr_fd = out[1]; /* the same one twice: sent once */
        assert_int_equal(corral_run_with(c, &(corral_job_spec) { .argv = argv, .timeout_usec = 5 }, &o, &id), 0);
        assert_string_equal(id, "job-1");

        params = fake_server_request(&f, devs, inos, &n_fds);
        assert_int_equal(n_fds, 2);
        assert_same_file(in[0], devs[0], inos[0]);
        assert_same_file(out[1], devs[1], inos[1]);
        stdio = json_pack("[i,i,i]", 0, 1, 1);
        assert_true(json_equal(json_object_get(params, "stdio"), stdio));
        assert_int_equal(params_int(params, "stop_signal"), SIGINT);
        assert_int_equal(params_int(params, "stop_timeout_usec"), USEC_PER_SEC);
        assert_int_equal(params_int(params, "timeout_usec"), 5);
        assert_string_equal(json_string_value(json_object_get(params, "kill_mode")), "mixed");
        assert_string_equal(json_string_value(json_object_get(json_object_get(params, "limits"), "memory_max")), "1G");
        assert_string_equal(json_string_value(json_object_get(json_object_get(params, "limits"), "pids_max")), "100");
        /* What the server wrote into the descriptor it got is in our pipe. */
        assert_int_equal(read(out[0], buf, sizeof(buf) - 1), 5);
        assert_string_equal(buf, "fd 1\n");
        corral_close(c);
        fake_server_stop(&f);
        close(in[0]), close(in[1]), close(out[0]), close(out[1]);
}

/* Bad options fail before anything is sent (the connection stays good);
 * without CORRAL_JOB_STDIO or with -1 nothing is passed; cancel takes a
 * signal and a grace. */
static void test_run_options_checked(void **state) {
        const char *argv[] = { "true", NULL }, *no_eq[] = { "memory_max", NULL };
        corral_job_spec spec = { .argv = argv };
        corral_job_options o = { .size = sizeof(o),
                                 .flags = CORRAL_JOB_STDIO,
                                 .stdin_fd = -1,
                                 .stdout_fd = 1000,
                                 .stderr_fd = -1 };
        json_auto_t *params = NULL, *stdio = NULL;
        dev_t devs[FAKE_FDS_MAX];
        ino_t inos[FAKE_FDS_MAX];
        size_t n_fds;
        FakeServer f;
        corral *c = fake_connect(&f, FAKE_REPLY("{\"ok\":true,\"result\":{\"id\":\"job-2\"}}\n"));

        assert_int_equal(corral_run_with(c, &spec, &o, /* ret_id= */ NULL), -EBADF); /* fd 1000 is closed */
        o.stdout_fd = -1;
        assert_int_equal(corral_run_with(c, &spec, &(corral_job_options) { .size = 0 }, NULL), -EINVAL);
        assert_int_equal(corral_run_with(c, &spec, &(corral_job_options) { .size = sizeof(o), .stop_signal = 1000 },
                                         NULL),
                         -EINVAL);
        assert_int_equal(corral_run_with(c, &spec, &(corral_job_options) { .size = sizeof(o), .kill_mode = 99 }, NULL),
                         -EINVAL);
        assert_int_equal(corral_run_with(c, &spec, &(corral_job_options) { .size = sizeof(o), .limits = no_eq }, NULL),
                         -EINVAL);
        assert_int_equal(corral_cancel_with(c, "job-2", -1, CORRAL_GRACE_DEFAULT), -EINVAL);

        assert_int_equal(corral_run_with(c, &spec, &o, /* ret_id= */ NULL), 0);
        params = fake_server_request(&f, devs, inos, &n_fds);
        assert_int_equal(n_fds, 0);
        stdio = json_pack("[n,n,n]");
        assert_true(json_equal(json_object_get(params, "stdio"), stdio));
        assert_null(json_object_get(params, "stop_signal"));
        assert_null(json_object_get(params, "stop_timeout_usec"));
        assert_null(json_object_get(params, "kill_mode"));
        assert_null(json_object_get(params, "limits"));
        corral_close(c);
        fake_server_stop(&f);
}

static void test_cancel_with(void **state) {
        json_auto_t *params = NULL;
        dev_t devs[FAKE_FDS_MAX];
        ino_t inos[FAKE_FDS_MAX];
        size_t n_fds;
        FakeServer f;
        corral *c = fake_connect(&f, FAKE_REPLY("{\"ok\":true,\"result\":{\"unit\":{\"name\":\"job-3\"}}}\n"));

        assert_int_equal(corral_cancel_with(c, "job-3", SIGINT, 500 * USEC_PER_MSEC), 0);
        params = fake_server_request(&f, devs, inos, &n_fds);
        assert_string_equal(json_string_value(json_object_get(params, "id")), "job-3");
        assert_int_equal(params_int(params, "signal"), SIGINT);
        assert_int_equal(params_int(params, "grace_usec"), 500 * USEC_PER_MSEC);
        corral_close(c);
        fake_server_stop(&f);

        /* The job's own signal and grace: neither is sent. */
        json_decref(params);
        c = fake_connect(&f, FAKE_REPLY("{\"ok\":true,\"result\":{}}\n"));
        assert_int_equal(corral_cancel_with(c, "job-3", 0, CORRAL_GRACE_DEFAULT), 0);
        params = fake_server_request(&f, devs, inos, &n_fds);
        assert_null(json_object_get(params, "signal"));
        assert_null(json_object_get(params, "grace_usec"));
        corral_close(c);
        fake_server_stop(&f);
}

static void test_wait_timeout(void **state) {
        json_auto_t *params = NULL;
        corral_units *u = NULL;
        dev_t devs[FAKE_FDS_MAX];
        ino_t inos[FAKE_FDS_MAX];
        size_t n_fds;
        FakeServer f;
        corral *c = fake_connect(&f, FAKE_REPLY("{\"ok\":false,\"error\":{\"errno\":\"ETIMEDOUT\",\"code\":110,"
                                                "\"message\":\"job-4 is still running\"}}\n"));

        assert_int_equal(corral_wait_timeout(c, "job-4", 250, &u), -ETIMEDOUT);
        assert_null(u);
        assert_string_equal(corral_last_error(c), "job-4 is still running");
        params = fake_server_request(&f, devs, inos, &n_fds);
        assert_int_equal(params_int(params, "timeout_usec"), 250 * USEC_PER_MSEC);
        corral_close(c);
        fake_server_stop(&f);
}

static void test_results(void **state) {
        static const struct {
                const char *s;
                corral_result r;
        } table[] = {
                { "success", CORRAL_RESULT_SUCCESS },
                { "exit-code", CORRAL_RESULT_EXIT_CODE },
                { "signal", CORRAL_RESULT_SIGNAL },
                { "core-dump", CORRAL_RESULT_CORE_DUMP },
                { "timeout", CORRAL_RESULT_TIMEOUT },
                { "cancelled", CORRAL_RESULT_CANCELLED },
                { "spawn-failed", CORRAL_RESULT_SPAWN_FAILED },
                { "resources", CORRAL_RESULT_RESOURCES },
                { "oom-kill", CORRAL_RESULT_OOM_KILL },
                { "watchdog", CORRAL_RESULT_WATCHDOG },
                { "start-limit", CORRAL_RESULT_START_LIMIT },
                { "unhealthy", CORRAL_RESULT_UNHEALTHY },
                { "exit-unknown", CORRAL_RESULT_EXIT_UNKNOWN },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                assert_int_equal(corral_result_from_string(table[i].s), table[i].r);
                assert_string_equal(corral_result_to_string(table[i].r), table[i].s);
        }
        assert_int_equal(corral_result_from_string("spawn"), CORRAL_RESULT_SPAWN_FAILED); /* corrald 0.1 */
        assert_int_equal(corral_result_from_string(NULL), CORRAL_RESULT_NONE);
        assert_int_equal(corral_result_from_string("newer"), CORRAL_RESULT_OTHER);
        assert_int_equal(corral_result_from_string(""), CORRAL_RESULT_OTHER);
        assert_null(corral_result_to_string(CORRAL_RESULT_NONE));
        assert_null(corral_result_to_string(CORRAL_RESULT_OTHER));
        assert_null(corral_result_to_string((corral_result) 1000));
        assert_null(corral_result_to_string((corral_result) -1));
        assert_int_equal(corral_unit_result_enum(NULL), CORRAL_RESULT_NONE);
        assert_int_equal(corral_event_result_enum(NULL), CORRAL_RESULT_NONE);
}

/* subscribe_jobs asks for job events; an ended job's event says how. */
static void test_job_events(void **state) {
        _cleanup_(corral_event_freep) corral_event *e = NULL;
        json_auto_t *params = NULL;
        dev_t devs[FAKE_FDS_MAX];
        ino_t inos[FAKE_FDS_MAX];
        size_t n_fds;
        FakeServer f;
        corral *c = fake_connect(&f, FAKE_REPLY("{\"ok\":true,\"result\":{}}\n"
                                                "{\"event\":{\"unit\":\"job-5\",\"kind\":\"job\",\"state\":\"running\","
                                                "\"result\":\"success\",\"main_pid\":9}}\n"
                                                "{\"event\":{\"unit\":\"job-5\",\"kind\":\"job\",\"state\":"
                                                "\"inactive\","
                                                "\"result\":\"spawn-failed\",\"exit_code\":\"exited\",\"exit_status\":"
                                                "127,"
                                                "\"error\":\"exec /nonexistent: No such file or directory\"}}\n"));

        assert_int_equal(corral_subscribe_jobs(c), 0);
        params = fake_server_request(&f, devs, inos, &n_fds);
        assert_true(json_is_true(json_object_get(params, "jobs")));
        assert_int_equal(corral_next_event(c, 10000, &e), 0);
        assert_string_equal(corral_event_kind(e), "job");
        assert_null(corral_event_exit_code(e));
        assert_int_equal(corral_event_exit_status(e), -1);
        assert_null(corral_event_error(e));
        assert_int_equal(corral_event_result_enum(e), CORRAL_RESULT_SUCCESS);
        e = corral_event_free(e);
        assert_int_equal(corral_next_event(c, 10000, &e), 0);
        assert_int_equal(corral_event_result_enum(e), CORRAL_RESULT_SPAWN_FAILED);
        assert_string_equal(corral_event_exit_code(e), "exited");
        assert_int_equal(corral_event_exit_status(e), 127);
        assert_string_equal(corral_event_error(e), "exec /nonexistent: No such file or directory");
        corral_close(c);
        fake_server_stop(&f);
}

/* ---- a real corrald ---- */

static bool can_connect(void *userdata) {
        corral *c = NULL;

        if (corral_open(daemon_.socket, &c) < 0)
                return false;
        corral_close(c);
        return true;
}

static corral *connect_daemon(void) {
        corral *c = NULL;

        assert_int_equal(corral_open(daemon_.socket, &c), 0);
        assert_non_null(c);
        return c;
}

typedef struct UnitState {
        const char *name;
        const char *state; /* or NULL: any */
        int frozen;        /* or -1: either */
} UnitState;

static bool unit_in_state(void *userdata) {
        const UnitState *w = userdata;
        _cleanup_(corral_closep) corral *c = NULL;
        _cleanup_(corral_units_freep) corral_units *u = NULL;
        const char *names[] = { w->name, NULL };
        const corral_unit *unit;

        if (corral_open(daemon_.socket, &c) < 0 || corral_status(c, names, &u) < 0)
                return false;
        unit = corral_units_get(u, 0);
        return (!w->state || streq_ptr(corral_unit_state(unit), w->state)) &&
               (w->frozen < 0 || corral_unit_frozen(unit) == w->frozen);
}

static void wait_for_state(const char *name, const char *state) {
        UnitState w = { name, state, -1 };

        if (!test_wait_for(unit_in_state, &w, TIMEOUT))
                fail_msg("%s did not become %s", name, state);
}

/* cgroup.freeze takes effect asynchronously; cgroup.events says when. */
static void wait_for_frozen(const char *name, int frozen) {
        UnitState w = { name, NULL, frozen };

        if (!test_wait_for(unit_in_state, &w, TIMEOUT))
                fail_msg("%s did not become %s", name, frozen ? "frozen" : "thawed");
}

static int group_setup(void **state) {
        if (test_daemon_start(&daemon_, "libcorral", SERVICES) < 0)
                return -1;
        if (!test_wait_for(can_connect, NULL, TIMEOUT))
                return -1;
        wait_for_state("web", "running");
        wait_for_state("db", "running");
        return 0;
}

static int group_teardown(void **state) {
        test_daemon_cleanup(&daemon_);
        return 0;
}

static const corral_unit *find_unit(const corral_units *u, const char *name) {
        for (size_t i = 0; i < corral_units_count(u); i++)
                if (streq_ptr(corral_unit_name(corral_units_get(u, i)), name))
                        return corral_units_get(u, i);
        return NULL;
}

typedef struct PagesMatch {
        const corral_units *all;
        size_t i;
} PagesMatch;

/* Each unit of a page is the next one of a corral_status() of all. */
static int match_page(corral_units *page, void *userdata) {
        PagesMatch *m = userdata;

        for (size_t i = 0; i < corral_units_count(page); i++)
                assert_string_equal(corral_unit_name(corral_units_get(page, i)),
                                    corral_unit_name(corral_units_get(m->all, m->i++)));
        return 0;
}

static void test_status(void **state) {
        _cleanup_(corral_closep) corral *c = connect_daemon();
        _cleanup_(corral_units_freep) corral_units *all = NULL, *one = NULL;
        const char *web_only[] = { "web", NULL }, *missing[] = { "web", "nope", NULL };
        corral_units *none = NULL;
        const corral_unit *web;

        assert_int_equal(corral_status(c, /* names= */ NULL, &all), 0);
        assert_true(corral_units_count(all) >= 2);
        assert_null(corral_units_get(all, corral_units_count(all)));
        web = find_unit(all, "web");
        assert_non_null(web);
        assert_non_null(find_unit(all, "db"));
        assert_string_equal(corral_unit_kind(web), "service");
        assert_string_equal(corral_unit_state(web), "running");
        assert_string_equal(corral_unit_result(web), "success");
        assert_true(corral_unit_main_pid(web) > 0);
        assert_int_equal(corral_unit_owner_uid(web), 0);
        assert_int_equal(corral_unit_frozen(web), 0);
        assert_null(corral_unit_exit_code(web));
        assert_int_equal(corral_unit_exit_status(web), -1);
        assert_true(corral_unit_uptime_usec(web) != UINT64_MAX);
        assert_true(corral_unit_tasks(web) >= 1 && corral_unit_tasks(web) != UINT64_MAX);
        assert_non_null(corral_unit_memory_source(web));
        assert_non_null(strstr(corral_units_json(all), "\"name\":\"web\""));
        assert_int_equal(corral_units_json(all)[0], '[');
        assert_int_equal(corral_unit_json(web)[0], '{');
        assert_null(corral_last_error(c));

        /* in pages: the same units, in the same order */
        PagesMatch match = { .all = all };
        assert_int_equal(corral_status_pages(c, /* names= */ NULL, 0, match_page, &match), 0);
        assert_int_equal(match.i, corral_units_count(all));

        assert_int_equal(corral_status(c, web_only, &one), 0);
        assert_int_equal(corral_units_count(one), 1);
        assert_string_equal(corral_unit_name(corral_units_get(one, 0)), "web");

        assert_int_equal(corral_status(c, missing, &none), -ENOENT);
        assert_null(none);
        assert_non_null(corral_last_error(c));
        assert_non_null(strstr(corral_last_error(c), "nope"));

        /* The connection goes on after an error reply. */
        corral_units_free(one);
        one = NULL;
        assert_int_equal(corral_status(c, web_only, &one), 0);
        assert_null(corral_last_error(c));
}

/* CORRAL_STATUS_NO_STATS: the same units, without what comes from the
 * cgroups; the flag asks for it and nothing else. */
static void test_status_no_stats(void **state) {
        _cleanup_(corral_closep) corral *c = connect_daemon();
        _cleanup_(corral_units_freep) corral_units *all = NULL, *bare = NULL, *one = NULL;
        const char *web_only[] = { "web", NULL };
        corral_units *none = NULL;
        const corral_unit *web;

        assert_int_equal(corral_status_flags(c, /* names= */ NULL, /* flags= */ 0, &all), 0);
        assert_true(corral_unit_tasks(find_unit(all, "web")) != UINT64_MAX);
        assert_int_equal(corral_status_flags(c, /* names= */ NULL, CORRAL_STATUS_NO_STATS, &bare), 0);
        assert_int_equal(corral_units_count(bare), corral_units_count(all));
        web = find_unit(bare, "web");
        assert_non_null(web);
        assert_string_equal(corral_unit_state(web), "running");
        assert_true(corral_unit_main_pid(web) > 0);
        assert_true(corral_unit_cpu_usec(web) == UINT64_MAX);
        assert_true(corral_unit_memory_bytes(web) == UINT64_MAX);
        assert_null(corral_unit_memory_source(web));
        assert_true(corral_unit_tasks(web) == UINT64_MAX);
        assert_null(strstr(corral_units_json(bare), "\"cpu_usec\""));
        assert_null(strstr(corral_units_json(bare), "\"frozen\""));

        /* by name: still the unit, with its processes */
        assert_int_equal(corral_status_flags(c, web_only, CORRAL_STATUS_NO_STATS, &one), 0);
        assert_int_equal(corral_units_count(one), 1);
        assert_true(corral_unit_tasks(corral_units_get(one, 0)) == UINT64_MAX);
        assert_true(corral_unit_process_count(corral_units_get(one, 0)) >= 1);

        assert_int_equal(corral_status_flags(c, /* names= */ NULL, 1u << 5, &none), -EINVAL);
        assert_null(none);
}

static void test_absent(void **state) {
        assert_null(corral_unit_name(NULL));
        assert_int_equal(corral_unit_main_pid(NULL), 0);
        assert_true(corral_unit_uptime_usec(NULL) == UINT64_MAX);
        assert_int_equal(corral_unit_exit_status(NULL), -1);
        assert_true(corral_unit_owner_uid(NULL) == (uid_t) -1);
        assert_int_equal(corral_units_count(NULL), 0);
        assert_null(corral_units_get(NULL, 0));
        assert_null(corral_units_json(NULL));
        assert_null(corral_event_unit(NULL));
        assert_true(corral_event_timestamp_usec(NULL) == UINT64_MAX);
        assert_null(corral_close(NULL));
        assert_null(corral_units_free(NULL));
        assert_null(corral_event_free(NULL));
        assert_int_equal(corral_fd(NULL), -EINVAL);
        assert_null(corral_last_error(NULL));
}

static void test_job_exit_status(void **state) {
        _cleanup_(corral_closep) corral *c = connect_daemon();
        _cleanup_(corral_units_freep) corral_units *u = NULL;
        _cleanup_free_ char *id = NULL;
        const char *argv[] = { "sh", "-c", "exit 7", NULL };
        corral_job_spec spec = { .argv = argv };
        const corral_unit *job;

        assert_int_equal(corral_run(c, &spec, &id), 0);
        assert_non_null(id);
        assert_true(strneq(id, "job-", 4));
        assert_int_equal(corral_wait(c, id, &u), 0);
        assert_int_equal(corral_units_count(u), 1);
        job = corral_units_get(u, 0);
        assert_string_equal(corral_unit_name(job), id);
        assert_string_equal(corral_unit_kind(job), "job");
        assert_string_equal(corral_unit_exit_code(job), "exited");
        assert_int_equal(corral_unit_exit_status(job), 7);
        assert_string_equal(corral_unit_result(job), "exit-code");
        assert_int_equal(corral_unit_owner_uid(job), getuid());

        /* Waiting again for a job that has ended answers at once. */
        corral_units_free(u);
        u = NULL;
        assert_int_equal(corral_wait(c, id, &u), 0);
        assert_int_equal(corral_unit_exit_status(corral_units_get(u, 0)), 7);
}

static void test_job_spec(void **state) {
        _cleanup_(corral_closep) corral *c = connect_daemon();
        _cleanup_(corral_units_freep) corral_units *u = NULL;
        _cleanup_free_ char *id = NULL;
        const char *argv[] = { "sh", "-c", "test \"$FOO\" = bar && test \"$PWD\" = /tmp && exit 3", NULL };
        const char *env[] = { "FOO=bar", NULL };
        corral_job_spec spec = { .argv = argv, .name = "libcorral-named", .env = env, .cwd = "/tmp" };

        assert_int_equal(corral_run(c, &spec, &id), 0);
        assert_string_equal(id, "libcorral-named");
        assert_int_equal(corral_wait(c, id, &u), 0);
        assert_int_equal(corral_unit_exit_status(corral_units_get(u, 0)), 3);

        /* The name is taken now. */
        assert_int_equal(corral_run(c, &spec, /* ret_id= */ NULL), -EEXIST);
        assert_non_null(corral_last_error(c));
}

static void test_job_cancel(void **state) {
        _cleanup_(corral_closep) corral *c = connect_daemon();
        _cleanup_(corral_units_freep) corral_units *u = NULL;
        _cleanup_free_ char *id = NULL;
        const char *argv[] = { "sleep", "1000", NULL };
        corral_job_spec spec = { .argv = argv };
        const corral_unit *job;

        assert_int_equal(corral_run(c, &spec, &id), 0);
        wait_for_state(id, "running");
        assert_int_equal(corral_cancel(c, id), 0);
        assert_int_equal(corral_wait(c, id, &u), 0);
        job = corral_units_get(u, 0);
        assert_string_equal(corral_unit_state(job), "inactive");
        assert_string_equal(corral_unit_exit_code(job), "killed");
        assert_int_equal(corral_unit_exit_status(job), SIGTERM);
        assert_int_equal(corral_unit_main_pid(job), 0);

        assert_int_equal(corral_cancel(c, "job-00000000"), -ENOENT);
        assert_int_equal(corral_wait(c, "job-00000000", /* ret= */ NULL), -ENOENT);
}

static void test_job_timeout(void **state) {
        _cleanup_(corral_closep) corral *c = connect_daemon();
        _cleanup_(corral_units_freep) corral_units *u = NULL;
        _cleanup_free_ char *id = NULL;
        const char *argv[] = { "sleep", "1000", NULL };
        corral_job_spec spec = { .argv = argv, .timeout_usec = 300 * USEC_PER_MSEC };

        assert_int_equal(corral_run(c, &spec, &id), 0);
        assert_int_equal(corral_wait(c, id, &u), 0);
        assert_string_equal(corral_unit_result(corral_units_get(u, 0)), "timeout");
        assert_string_equal(corral_unit_exit_code(corral_units_get(u, 0)), "killed");
}

/* Reads events until one says that unit is in state. */
static void expect_event(corral *c, const char *unit, const char *state) {
        for (;;) {
                _cleanup_(corral_event_freep) corral_event *e = NULL;

                assert_int_equal(corral_next_event(c, /* timeout_ms= */ 10000, &e), 0);
                assert_non_null(corral_event_json(e));
                if (!streq_ptr(corral_event_unit(e), unit) || !streq_ptr(corral_event_state(e), state))
                        continue;
                assert_non_null(corral_event_result(e));
                /* CLOCK_REALTIME: within a minute of now */
                assert_true(corral_event_timestamp_usec(e) + 60 * USEC_PER_SEC > now(CLOCK_REALTIME));
                assert_true(corral_event_timestamp_usec(e) < now(CLOCK_REALTIME) + 60 * USEC_PER_SEC);
                if (streq(state, "running"))
                        assert_true(corral_event_main_pid(e) > 0);
                return;
        }
}

static void test_events(void **state) {
        _cleanup_(corral_closep) corral *events = connect_daemon(), *c = connect_daemon();
        _cleanup_(corral_units_freep) corral_units *u = NULL;
        _cleanup_(corral_event_freep) corral_event *e = NULL;
        _cleanup_free_ char *id = NULL;
        const char *argv[] = { "sh", "-c", "sleep 0.2", NULL };
        corral_job_spec spec = { .argv = argv };

        assert_int_equal(corral_next_event(events, 0, &e), -EINVAL); /* not subscribed yet */
        assert_int_equal(corral_subscribe(events), 0);
        assert_true(corral_fd(events) >= 0);
        assert_int_equal(corral_status(events, /* names= */ NULL, &u), -EBUSY);
        assert_int_equal(corral_subscribe(events), -EBUSY);

        assert_int_equal(corral_run(c, &spec, &id), 0);
        expect_event(events, id, "running");
        expect_event(events, id, "inactive");
        assert_int_equal(corral_wait(c, id, /* ret= */ NULL), 0);

        /* Nothing else happens: a short wait times out. */
        assert_int_equal(corral_next_event(events, 100, &e), -ETIMEDOUT);
        assert_null(e);
}

static void test_change(void **state) {
        _cleanup_(corral_closep) corral *c = connect_daemon();
        const char *db[] = { "db", NULL }, *nope[] = { "nope", NULL }, *empty[] = { NULL };

        assert_int_equal(corral_stop(c, db), 0);
        wait_for_state("db", "inactive");
        assert_int_equal(corral_start(c, db), 0);
        wait_for_state("db", "running");
        assert_int_equal(corral_restart(c, db), 0);
        wait_for_state("db", "running");

        assert_int_equal(corral_freeze(c, db), 0);
        wait_for_frozen("db", 1);
        assert_int_equal(corral_thaw(c, db), 0);
        wait_for_frozen("db", 0);

        /* Frozen from outside corrald (an operator's echo, systemctl
         * freeze of a parent): a status seen before says so after, once
         * the kernel has frozen it (corrald keeps what it last read until
         * the cgroup.events watch fires). */
        _cleanup_free_ char *freeze = NULL;
        assert_true(asprintf(&freeze, "%s%s/db/cgroup.freeze", test_cgroup_mount(), daemon_.cgroup) > 0);
        wait_for_frozen("db", 0);
        assert_int_equal(test_write_file(freeze, "1"), 0);
        wait_for_frozen("db", 1);
        assert_int_equal(test_write_file(freeze, "0"), 0);
        wait_for_frozen("db", 0);

        assert_int_equal(corral_kill(c, db, SIGCONT), 1);

        assert_int_equal(corral_start(c, nope), -ENOENT);
        assert_int_equal(corral_start(c, empty), -EINVAL);
        assert_int_equal(corral_stop(c, /* names= */ NULL), -EINVAL);
        assert_int_equal(corral_kill(c, db, 0), -EINVAL);
        assert_int_equal(corral_kill(c, db, 1000), -EINVAL);
}

static void test_reload(void **state) {
        _cleanup_(corral_closep) corral *c = connect_daemon();
        _cleanup_free_ char *bad = NULL;

        assert_int_equal(corral_reload(c), 0);

        assert_true(asprintf(&bad, "[corral]\ncgroup = %s\ncontrol_socket = %s\n" SERVICES "comand = x\n",
                             daemon_.cgroup, daemon_.socket) > 0);
        assert_int_equal(test_write_file(daemon_.config, bad), 0);
        assert_int_equal(corral_reload(c), -EINVAL);
        assert_non_null(corral_last_error(c));
        assert_non_null(strstr(corral_last_error(c), "comand"));
        assert_non_null(strstr(corral_last_error(c), "corral.conf:"));
        wait_for_state("web", "running"); /* nothing changed */
}

static void test_bad_arguments(void **state) {
        _cleanup_(corral_closep) corral *c = connect_daemon();
        corral *none = NULL;
        const char *no_env[] = { "FOO", NULL }, *argv[] = { "true", NULL }, *empty_argv[] = { NULL };
        const char *bad_utf8[] = { "\xff\xfe", NULL };
        _cleanup_free_ char *big = malloc(70 * 1024);
        const char *big_argv[] = { "echo", big, NULL };
        char *id = NULL;

        assert_int_equal(corral_open("/nonexistent/corral.sock", &none), -ENOENT);
        assert_null(none);
        assert_int_equal(corral_open("", &none), -EINVAL);

        assert_int_equal(corral_run(c, &(corral_job_spec) { .argv = empty_argv }, &id), -EINVAL);
        assert_int_equal(corral_run(c, &(corral_job_spec) { .argv = argv, .env = no_env }, &id), -EINVAL);
        assert_int_equal(corral_run(c, &(corral_job_spec) { .argv = bad_utf8 }, &id), -EINVAL);
        assert_int_equal(corral_run(c, /* spec= */ NULL, &id), -EINVAL);
        assert_null(id);

        /* Larger than a request may be: refused before it is sent, and the
         * connection is still good. */
        assert_non_null(big);
        memset(big, 'x', 70 * 1024 - 1);
        big[70 * 1024 - 1] = '\0';
        assert_int_equal(corral_run(c, &(corral_job_spec) { .argv = big_argv }, &id), -E2BIG);
        assert_int_equal(corral_cancel(c, "job-00000000"), -ENOENT);

        /* The daemon checks what only it can: a relative cwd. */
        assert_int_equal(corral_run(c, &(corral_job_spec) { .argv = argv, .cwd = "relative" }, &id), -EINVAL);
        assert_non_null(corral_last_error(c));
}

static void test_shutdown(void **state) {
        _cleanup_(corral_closep) corral *events = connect_daemon();
        _cleanup_(corral_event_freep) corral_event *e = NULL;
        int r;

        assert_int_equal(corral_subscribe(events), 0);
        assert_int_equal(test_daemon_signal(&daemon_, SIGTERM), 0);
        assert_true(test_daemon_wait(&daemon_, 60 * USEC_PER_SEC));
        assert_int_equal(daemon_.exit_status, 0);
        assert_false(test_cgroup_exists(daemon_.cgroup));

        /* The stream ends: what was queued, then the end. */
        while ((r = corral_next_event(events, 10000, &e)) == 0)
                e = corral_event_free(e);
        assert_int_equal(r, -ECONNRESET);
        assert_int_equal(corral_next_event(events, 0, &e), -ENOTCONN);
}

int main(void) {
        const struct CMUnitTest protocol[] = {
                cmocka_unit_test(test_absent),
                cmocka_unit_test(test_reply_too_long),
                cmocka_unit_test(test_reply_not_json),
                cmocka_unit_test(test_reply_error_by_name),
                cmocka_unit_test(test_reply_closed),
                cmocka_unit_test(test_reply_odd_fields),
                cmocka_unit_test(test_status_pages),
                cmocka_unit_test(test_status_pages_broken),
                cmocka_unit_test(test_status_json_pages),
                cmocka_unit_test(test_status_json_pages_old_daemon),
                cmocka_unit_test(test_event_stream),
                cmocka_unit_test(test_run_with_fds),
                cmocka_unit_test(test_run_options_checked),
                cmocka_unit_test(test_cancel_with),
                cmocka_unit_test(test_wait_timeout),
                cmocka_unit_test(test_results),
                cmocka_unit_test(test_job_events),
                cmocka_unit_test(test_logs_follow),
        };
        const struct CMUnitTest daemon[] = {
                cmocka_unit_test(test_status),          cmocka_unit_test(test_status_no_stats),
                cmocka_unit_test(test_job_exit_status), cmocka_unit_test(test_job_spec),
                cmocka_unit_test(test_job_cancel),      cmocka_unit_test(test_job_timeout),
                cmocka_unit_test(test_events),          cmocka_unit_test(test_change),
                cmocka_unit_test(test_bad_arguments),   cmocka_unit_test(test_reload),
                cmocka_unit_test(test_shutdown),
        };
        int r = cmocka_run_group_tests_name("libcorral-protocol", protocol, NULL, NULL);

        if (r != 0)
                return r;
        test_require_cgroup2_root();
        return cmocka_run_group_tests_name("libcorral-daemon", daemon, group_setup, group_teardown);
}
