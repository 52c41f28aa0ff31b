/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The /metrics HTTP server on a real sd-event loop: the address parser on a
 * table, then real GETs by libcurl from a child process (TCP on loopback
 * with port 0, and a Unix socket), the answers to other paths and methods,
 * a client that stays half-way through its request while another is
 * served, and the timer being off once no connection is open. Needs no
 * root. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "metrics-http.h"
#include "metrics-mhd.h"

/* ---- the address ---- */

/* libmicrohttpd is mapped by the first server, not before. */
static void test_not_loaded_before_use(_unused_ void **state) {
        assert_false(mhd_dlopen_loaded());
}

static void test_listen_parse(_unused_ void **state) {
        static const struct {
                const char *input;
                int ret;
                int family;
                uint16_t port;
        } cases[] = {
                { "127.0.0.1:9464", 0, AF_INET, 9464 },
                { "0.0.0.0:1", 0, AF_INET, 1 },
                { "[::1]:9464", 0, AF_INET6, 9464 },
                { "[::]:65535", 0, AF_INET6, 65535 },
                { "/run/corral/metrics.sock", 0, AF_UNIX, 0 },
                { "", -EINVAL, 0, 0 },
                { "127.0.0.1", -EINVAL, 0, 0 },
                { "127.0.0.1:", -EINVAL, 0, 0 },
                { "127.0.0.1:0", -EINVAL, 0, 0 },
                { "127.0.0.1:65536", -EINVAL, 0, 0 },
                { "127.0.0.1:+80", -EINVAL, 0, 0 },
                { "127.0.0.1:80x", -EINVAL, 0, 0 },
                { "localhost:80", -EINVAL, 0, 0 },
                { "::1:9464", -EINVAL, 0, 0 },
                { "[::1]9464", -EINVAL, 0, 0 },
                { "[::1:9464", -EINVAL, 0, 0 },
                { "[127.0.0.1]:80", -EINVAL, 0, 0 },
                { "1.2.3.4.5:80", -EINVAL, 0, 0 },
                { "relative/path.sock", -EINVAL, 0, 0 },
                { "/"
                  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                  "aaaaaaaaaaa",
                  -ENAMETOOLONG, 0, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                ListenAddress l = {};
                int r = listen_address_parse(cases[i].input, &l);

                print_message("\"%s\" -> %d\n", cases[i].input, r);
                assert_int_equal(r, cases[i].ret);
                if (r < 0)
                        continue;
                assert_int_equal(l.addr.ss_family, cases[i].family);
                if (cases[i].family == AF_INET)
                        assert_int_equal(ntohs(((struct sockaddr_in *) &l.addr)->sin_port), cases[i].port);
                else if (cases[i].family == AF_INET6)
                        assert_int_equal(ntohs(((struct sockaddr_in6 *) &l.addr)->sin6_port), cases[i].port);
                else
                        assert_string_equal(l.path, cases[i].input);
        }
}

/* ---- a server on a loop ---- */

#define BODY "# HELP corral_test A test.\n# TYPE corral_test gauge\ncorral_test 42\n"

typedef struct Fixture {
        sd_event *event;
        MetricsHttp *http;
        unsigned renders;
        int fail_render; /* -errno to fail with, or 0 */
        char dir[64];
} Fixture;

static int render(void *userdata, char **ret_text, size_t *ret_len) {
        Fixture *f = userdata;

        f->renders++;
        if (f->fail_render < 0)
                return f->fail_render;
        *ret_text = strdup(BODY);
        *ret_len = strlen(BODY);
        return *ret_text ? 0 : -ENOMEM;
}

static int setup_tcp(void **state) {
        Fixture *f = calloc(1, sizeof(*f));
        ListenAddress l;

        assert_int_equal(sd_event_new(&f->event), 0);
        assert_int_equal(listen_address_parse("127.0.0.1:1", &l), 0);
        ((struct sockaddr_in *) &l.addr)->sin_port = 0; /* any free port */
        assert_int_equal(metrics_http_new(f->event, &l, render, f, &f->http), 0);
        assert_true(mhd_dlopen_loaded());
        *state = f;
        return 0;
}

static int setup_unix(void **state) {
        Fixture *f = calloc(1, sizeof(*f));
        char path[128];
        ListenAddress l;

        snprintf(f->dir, sizeof(f->dir), "/tmp/test-metrics-http-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(path, sizeof(path), "%s/metrics.sock", f->dir);
        assert_int_equal(sd_event_new(&f->event), 0);
        assert_int_equal(listen_address_parse(path, &l), 0);
        assert_int_equal(metrics_http_new(f->event, &l, render, f, &f->http), 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        char path[128];

        metrics_http_free(f->http);
        sd_event_unref(f->event);
        if (f->dir[0]) {
                snprintf(path, sizeof(path), "%s/metrics.sock", f->dir);
                assert_int_equal(access(path, F_OK), -1); /* removed by metrics_http_free() */
                rmdir(f->dir);
        }
        free(f);
        return 0;
}

/* What a GET by curl got. */
typedef struct Reply {
        long status;
        char content_type[128];
        char body[4096];
} Reply;

static size_t on_body(char *data, size_t size, size_t n, void *userdata) {
        char *body = userdata;
        size_t have = strlen(body), len = size * n;

        if (have + len >= 4096)
                return 0;
        memcpy(body + have, data, len);
        body[have + len] = '\0';
        return len;
}

/* In the child: one request with libcurl; the reply goes to fd. */
_noreturn_ static void child_get(const char *url, const char *unix_path, const char *method, int fd) {
        Reply reply = {};
        CURL *curl = curl_easy_init();
        char *type = NULL;

        curl_easy_setopt(curl, CURLOPT_URL, url);
        if (unix_path)
                curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, unix_path);
        if (method)
                curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, (void *) reply.body);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
        if (curl_easy_perform(curl) != CURLE_OK)
                _exit(2);
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
        curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type);
        snprintf(reply.content_type, sizeof(reply.content_type), "%s", type ?: "");
        if (write(fd, &reply, sizeof(reply)) != (ssize_t) sizeof(reply))
                _exit(3);
        _exit(0);
}

static int on_reply(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        *(bool *) userdata = true;
        return 0;
}

/* Runs the loop while a child GETs url; returns what it got. */
static Reply get(Fixture *f, const char *url, const char *unix_path, const char *method) {
        Reply reply = {};
        int p[2], status;
        sd_event_source *s = NULL;
        bool done = false;
        pid_t pid;

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(p[0]);
                child_get(url, unix_path, method, p[1]);
        }
        close(p[1]);
        assert_true(sd_event_add_io(f->event, &s, p[0], EPOLLIN, on_reply, &done) >= 0);
        while (!done)
                assert_true(sd_event_run(f->event, UINT64_MAX) >= 0);
        sd_event_source_disable_unref(s);
        assert_int_equal(read(p[0], &reply, sizeof(reply)), (ssize_t) sizeof(reply));
        close(p[0]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        return reply;
}

/* Runs the loop until nothing happens for 200 ms (the server has seen
 * the client's close). */
static void settle(Fixture *f) {
        for (int i = 0; i < 50; i++)
                if (sd_event_run(f->event, 200 * 1000) == 0)
                        return;
        fail_msg("the loop never went idle");
}

static void url_of(Fixture *f, const char *path, char *buf, size_t size) {
        int port = metrics_http_port(f->http);

        assert_true(port > 0);
        snprintf(buf, size, "http://127.0.0.1:%d%s", port, path);
}

static void test_get(void **state) {
        Fixture *f = *state;
        char url[128];
        Reply r;

        url_of(f, "/metrics", url, sizeof(url));
        assert_false(metrics_http_has_timeout(f->http)); /* idle from the start */
        r = get(f, url, /* unix_path= */ NULL, /* method= */ NULL);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body, BODY);
        assert_string_equal(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
        assert_int_equal(f->renders, 1);
        settle(f);
        assert_false(metrics_http_has_timeout(f->http));
        /* A second scrape renders afresh. */
        r = get(f, url, /* unix_path= */ NULL, /* method= */ NULL);
        assert_string_equal(r.body, BODY);
        assert_int_equal(f->renders, 2);
}

static void test_errors(void **state) {
        Fixture *f = *state;
        char url[128];
        Reply r;

        url_of(f, "/", url, sizeof(url));
        r = get(f, url, /* unix_path= */ NULL, /* method= */ NULL);
        assert_int_equal(r.status, 404);
        url_of(f, "/metrics", url, sizeof(url));
        r = get(f, url, /* unix_path= */ NULL, "DELETE");
        assert_int_equal(r.status, 405);
        assert_int_equal(f->renders, 0);
        f->fail_render = -ENOMEM;
        r = get(f, url, /* unix_path= */ NULL, /* method= */ NULL);
        assert_int_equal(r.status, 500);
        assert_int_equal(f->renders, 1);
}

/* A client that sends half a request and waits holds a connection (and
 * MHD's timeout) without holding up anyone else. */
static void test_stuck_client(void **state) {
        Fixture *f = *state;
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        char url[128];
        Reply r;

        sa.sin_port = htons((uint16_t) metrics_http_port(f->http));
        assert_int_equal(connect(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(write(fd, "GET /metr", 9), 9);
        url_of(f, "/metrics", url, sizeof(url));
        r = get(f, url, /* unix_path= */ NULL, /* method= */ NULL);
        assert_int_equal(r.status, 200);
        settle(f);
        assert_true(metrics_http_has_timeout(f->http)); /* the stuck one is still open */
        close(fd);
        settle(f);
        assert_false(metrics_http_has_timeout(f->http));
}

static void test_unix(void **state) {
        Fixture *f = *state;
        char path[128];
        struct stat st;
        Reply r;

        snprintf(path, sizeof(path), "%s/metrics.sock", f->dir);
        assert_int_equal(stat(path, &st), 0);
        assert_true(S_ISSOCK(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0666);
        assert_int_equal(metrics_http_port(f->http), 0);
        r = get(f, "http://localhost/metrics", path, /* method= */ NULL);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body, BODY);
        settle(f);
        assert_false(metrics_http_has_timeout(f->http));
}

/* A second server on a port that is taken fails with -EADDRINUSE. */
static void test_port_taken(void **state) {
        Fixture *f = *state;
        MetricsHttp *h = NULL;
        ListenAddress l;
        char addr[64];

        snprintf(addr, sizeof(addr), "127.0.0.1:%d", metrics_http_port(f->http));
        assert_int_equal(listen_address_parse(addr, &l), 0);
        assert_int_equal(metrics_http_new(f->event, &l, render, f, &h), -EADDRINUSE);
        assert_null(h);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_not_loaded_before_use),
                cmocka_unit_test(test_listen_parse),
                cmocka_unit_test_setup_teardown(test_get, setup_tcp, teardown),
                cmocka_unit_test_setup_teardown(test_errors, setup_tcp, teardown),
                cmocka_unit_test_setup_teardown(test_stuck_client, setup_tcp, teardown),
                cmocka_unit_test_setup_teardown(test_port_taken, setup_tcp, teardown),
                cmocka_unit_test_setup_teardown(test_unix, setup_unix, teardown),
        };

        curl_global_init(CURL_GLOBAL_DEFAULT);
        int r = cmocka_run_group_tests(tests, /* setup= */ NULL, /* teardown= */ NULL);
        curl_global_cleanup();
        return r;
}
