/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The notify module: notify_parse() on a table of datagrams, and the real
 * socket, fed by sd_notify() from a child and by hand-made datagrams
 * (oversized, carrying file descriptors, malformed). Needs no root. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "notify.h"
#include "time-util.h"

#define IN(s) s, sizeof(s) - 1

/* ---- Parser ---- */

static void assert_message_equal(const NotifyMessage *m, const NotifyMessage *expected) {
        assert_int_equal(m->ready, expected->ready);
        assert_int_equal(m->stopping, expected->stopping);
        assert_int_equal(m->watchdog, expected->watchdog);
        assert_int_equal(m->watchdog_trigger, expected->watchdog_trigger);
        if (expected->status)
                assert_string_equal(m->status, expected->status);
        else
                assert_null(m->status);
        assert_int_equal(m->watchdog_usec, expected->watchdog_usec);
        assert_int_equal(m->main_pid, expected->main_pid);
        assert_int_equal(m->extend_timeout_usec, expected->extend_timeout_usec);
}

static void test_parse(_unused_ void **state) {
        static const struct {
                const char *input;
                size_t len;
                int ret;
                NotifyMessage expected;
        } cases[] = {
                /* each key */
                { IN("READY=1"), 0, { .ready = true } },
                { IN("STOPPING=1"), 0, { .stopping = true } },
                { IN("WATCHDOG=1"), 0, { .watchdog = true } },
                { IN("WATCHDOG=trigger"), 0, { .watchdog_trigger = true } },
                { IN("STATUS=hello world"), 0, { .status = "hello world" } },
                { IN("STATUS="), 0, { .status = "" } },
                { IN("WATCHDOG_USEC=30000000"), 0, { .watchdog_usec = 30 * USEC_PER_SEC } },
                { IN("MAINPID=4242"), 0, { .main_pid = 4242 } },
                { IN("MAINPID=2147483647"), 0, { .main_pid = INT_MAX } },
                { IN("MAINPID=007"), 0, { .main_pid = 7 } },
                { IN("EXTEND_TIMEOUT_USEC=5000000"), 0, { .extend_timeout_usec = 5 * USEC_PER_SEC } },
                { IN("EXTEND_TIMEOUT_USEC=18446744073709551614"), 0, { .extend_timeout_usec = USEC_INFINITY - 1 } },
                /* values other than the defined ones are ignored */
                { IN("READY=0"), 0, {} },
                { IN("READY=yes"), 0, {} },
                { IN("STOPPING=0"), 0, {} },
                { IN("WATCHDOG=2"), 0, {} },
                { IN("READY=1\r"), 0, {} },
                /* several keys */
                { IN("READY=1\nSTATUS=up\nMAINPID=7\nWATCHDOG_USEC=1000\nEXTEND_TIMEOUT_USEC=2000\nSTOPPING=1\n"
                     "WATCHDOG=1\nWATCHDOG=trigger"),
                  0,
                  { .ready = true, .stopping = true, .watchdog = true, .watchdog_trigger = true, .status = "up",
                    .watchdog_usec = 1000, .main_pid = 7, .extend_timeout_usec = 2000 } },
                /* later occurrences win; "1" is never undone */
                { IN("STATUS=a\nSTATUS=b"), 0, { .status = "b" } },
                { IN("MAINPID=1\nMAINPID=2"), 0, { .main_pid = 2 } },
                { IN("READY=1\nREADY=0"), 0, { .ready = true } },
                /* newlines */
                { IN("READY=1\n"), 0, { .ready = true } },
                { IN("\n\nREADY=1\n\n"), 0, { .ready = true } },
                { IN(""), 0, {} },
                { IN("\n"), 0, {} },
                /* control characters in STATUS */
                { IN("STATUS=a\tb\x01" "c\rd\x7f" "e\x1b"), 0, { .status = "a\tb c d e " } },
                { IN("STATUS=caf\xc3\xa9"), 0, { .status = "caf\xc3\xa9" } },
                /* unknown keys, whatever their value */
                { IN("ERRNO=2\nBUSERROR=org.x.Y\nFDSTORE=1\nRELOADING=1\nMONOTONIC_USEC=x\nX_CUSTOM=\n=v\nready=1"),
                  0,
                  {} },
                { IN("READY=1\nERRNO=abc"), 0, { .ready = true } },
                /* bad numbers */
                { IN("WATCHDOG_USEC=abc"), -EBADMSG, {} },
                { IN("WATCHDOG_USEC="), -EBADMSG, {} },
                { IN("WATCHDOG_USEC=0"), -EBADMSG, {} },
                { IN("WATCHDOG_USEC=-1"), -EBADMSG, {} },
                { IN("WATCHDOG_USEC=+5"), -EBADMSG, {} },
                { IN("WATCHDOG_USEC= 5"), -EBADMSG, {} },
                { IN("WATCHDOG_USEC=5 "), -EBADMSG, {} },
                { IN("WATCHDOG_USEC=5s"), -EBADMSG, {} },
                { IN("WATCHDOG_USEC=0x10"), -EBADMSG, {} },
                { IN("MAINPID=abc"), -EBADMSG, {} },
                { IN("MAINPID=0"), -EBADMSG, {} },
                { IN("MAINPID=-1"), -EBADMSG, {} },
                { IN("MAINPID="), -EBADMSG, {} },
                { IN("MAINPID=2147483648"), -EBADMSG, {} },
                { IN("MAINPID=99999999999999999999999"), -EBADMSG, {} },
                { IN("EXTEND_TIMEOUT_USEC=x"), -EBADMSG, {} },
                { IN("EXTEND_TIMEOUT_USEC=0"), -EBADMSG, {} },
                { IN("EXTEND_TIMEOUT_USEC=18446744073709551615"), -EBADMSG, {} },
                { IN("EXTEND_TIMEOUT_USEC=18446744073709551616"), -EBADMSG, {} },
                { IN("READY=1\nSTATUS=ok\nMAINPID=abc"), -EBADMSG, {} },
                /* lines without '=' */
                { IN("READY"), -EBADMSG, {} },
                { IN("READY=1\ngarbage"), -EBADMSG, {} },
                { IN("READY=1\n \n"), -EBADMSG, {} },
                /* NUL bytes */
                { IN("READY=1\0"), -EBADMSG, {} },
                { IN("\0"), -EBADMSG, {} },
                { IN("STATUS=a\0b\nREADY=1"), -EBADMSG, {} },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(notify_message_done) NotifyMessage m = {};
                int r;

                r = notify_parse(cases[i].input, cases[i].len, &m);
                if (r != cases[i].ret)
                        print_error("case %zu: \"%.*s\" returned %d\n", i, (int) cases[i].len, cases[i].input, r);
                assert_int_equal(r, cases[i].ret);
                assert_message_equal(&m, &cases[i].expected);
        }
}

static void test_parse_status_truncated(_unused_ void **state) {
        char buf[sizeof("STATUS=") + 2 * NOTIFY_STATUS_MAX];
        _cleanup_(notify_message_done) NotifyMessage m = {};
        size_t len;

        /* ASCII: exactly NOTIFY_STATUS_MAX bytes are kept */
        len = (size_t) snprintf(buf, sizeof(buf), "STATUS=");
        memset(buf + len, 'x', 2 * NOTIFY_STATUS_MAX);
        len += 2 * NOTIFY_STATUS_MAX;
        assert_int_equal(notify_parse(buf, len, &m), 0);
        assert_non_null(m.status);
        assert_int_equal(strlen(m.status), NOTIFY_STATUS_MAX);
        notify_message_done(&m);

        /* a two-byte character across the limit is left out whole */
        buf[strlen("STATUS=") + NOTIFY_STATUS_MAX - 1] = '\xc3';
        buf[strlen("STATUS=") + NOTIFY_STATUS_MAX] = '\xa9';
        assert_int_equal(notify_parse(buf, len, &m), 0);
        assert_int_equal(strlen(m.status), NOTIFY_STATUS_MAX - 1);
        assert_int_equal(m.status[NOTIFY_STATUS_MAX - 2], 'x');
}

static void test_parse_size(_unused_ void **state) {
        _cleanup_free_ char *buf = malloc(NOTIFY_DATAGRAM_MAX + 1);
        _cleanup_(notify_message_done) NotifyMessage m = {};

        assert_non_null(buf);
        memcpy(buf, "READY=1\nSTATUS=", strlen("READY=1\nSTATUS="));
        memset(buf + strlen("READY=1\nSTATUS="), 'y', NOTIFY_DATAGRAM_MAX + 1 - strlen("READY=1\nSTATUS="));

        assert_int_equal(notify_parse(buf, NOTIFY_DATAGRAM_MAX + 1, &m), -EBADMSG);
        assert_false(m.ready);

        assert_int_equal(notify_parse(buf, NOTIFY_DATAGRAM_MAX, &m), 0);
        assert_true(m.ready);
        assert_int_equal(strlen(m.status), NOTIFY_STATUS_MAX);
}

static void test_parse_failure_leaves_ret(_unused_ void **state) {
        NotifyMessage m = { .main_pid = 99, .watchdog_usec = 5 };

        assert_int_equal(notify_parse(IN("READY=1\nSTATUS=x\nMAINPID=abc"), &m), -EBADMSG);
        assert_false(m.ready);
        assert_null(m.status);
        assert_int_equal(m.main_pid, 99);
        assert_int_equal(m.watchdog_usec, 5);

        notify_message_done(/* m= */ NULL);
}

/* ---- Socket ---- */

#define RECORDED_MAX 8

typedef struct Fixture {
        sd_event *event;
        NotifySocket *socket;
        size_t n_received;
        struct ucred senders[RECORDED_MAX];
        NotifyMessage messages[RECORDED_MAX];
} Fixture;

static void on_message(const struct ucred *sender, const NotifyMessage *msg, void *userdata) {
        Fixture *f = userdata;
        NotifyMessage *copy;

        if (f->n_received >= RECORDED_MAX) {
                f->n_received++;
                return;
        }
        copy = &f->messages[f->n_received];
        *copy = *msg;
        copy->status = msg->status ? strdup(msg->status) : NULL;
        assert_true(!msg->status || copy->status);
        f->senders[f->n_received++] = *sender;
}

static int fixture_setup(void **state) {
        Fixture *f = calloc(1, sizeof(Fixture));

        if (!f)
                return -1;
        if (sd_event_new(&f->event) < 0 ||
            notify_socket_open(f->event, /* name= */ NULL, on_message, f, &f->socket) < 0) {
                sd_event_unref(f->event);
                free(f);
                return -1;
        }
        *state = f;
        return 0;
}

static int fixture_teardown(void **state) {
        Fixture *f = *state;

        for (size_t i = 0; i < MIN(f->n_received, (size_t) RECORDED_MAX); i++)
                notify_message_done(&f->messages[i]);
        notify_socket_free(f->socket);
        sd_event_unref(f->event);
        free(f);
        return 0;
}

/* Runs the loop until `want` messages were handled, for at most 5 s, then
 * a little longer to catch any message that should not be there. */
static void run_until(Fixture *f, size_t want) {
        usec_t deadline = now(CLOCK_MONOTONIC) + 5 * USEC_PER_SEC;

        while (f->n_received < want && now(CLOCK_MONOTONIC) < deadline)
                assert_true(sd_event_run(f->event, 100 * USEC_PER_MSEC) >= 0);
        assert_true(sd_event_run(f->event, 20 * USEC_PER_MSEC) >= 0);
        assert_int_equal(f->n_received, want);
}

static socklen_t address_of(const NotifySocket *s, struct sockaddr_un *ret) {
        const char *a = notify_socket_address(s);

        assert_int_equal(a[0], '@');
        assert_true(strlen(a) < sizeof(ret->sun_path));
        *ret = (struct sockaddr_un) { .sun_family = AF_UNIX };
        memcpy(ret->sun_path + 1, a + 1, strlen(a) - 1);
        return (socklen_t) (offsetof(struct sockaddr_un, sun_path) + strlen(a));
}

/* Sends one datagram from a fresh socket of ours, with fd (unless
 * negative) and our credentials attached. */
static void send_datagram(const NotifySocket *s, const void *buf, size_t len, int fd) {
        union {
                struct cmsghdr align;
                uint8_t raw[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(struct ucred))];
        } control = {};
        struct sockaddr_un addr;
        struct iovec iov = { .iov_base = (void *) buf, .iov_len = len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        struct ucred ucred = { .pid = getpid(), .uid = getuid(), .gid = getgid() };
        int sock;

        mh.msg_namelen = address_of(s, &addr);
        mh.msg_name = &addr;
        if (fd >= 0) {
                struct cmsghdr *c;

                mh.msg_control = &control;
                mh.msg_controllen = sizeof(control);
                c = CMSG_FIRSTHDR(&mh);
                *c = (struct cmsghdr) { .cmsg_level = SOL_SOCKET, .cmsg_type = SCM_RIGHTS, .cmsg_len = CMSG_LEN(sizeof(int)) };
                memcpy(CMSG_DATA(c), &fd, sizeof(int));
                c = CMSG_NXTHDR(&mh, c);
                *c = (struct cmsghdr) { .cmsg_level = SOL_SOCKET,
                                        .cmsg_type = SCM_CREDENTIALS,
                                        .cmsg_len = CMSG_LEN(sizeof(struct ucred)) };
                memcpy(CMSG_DATA(c), &ucred, sizeof(ucred));
        }
        sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, /* protocol= */ 0);
        assert_true(sock >= 0);
        assert_int_equal(sendmsg(sock, &mh, MSG_NOSIGNAL), (ssize_t) len);
        close(sock);
}

static void send_string(const NotifySocket *s, const char *text) {
        send_datagram(s, text, strlen(text), /* fd= */ -1);
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

static void test_address(void **state) {
        Fixture *f = *state;
        _cleanup_(notify_socket_freep) NotifySocket *other = NULL;
        char expected[64];

        snprintf(expected, sizeof(expected), "@corral-notify-%d", (int) getpid());
        assert_string_equal(notify_socket_address(f->socket), expected);

        /* the name is taken: a suffix */
        assert_int_equal(notify_socket_open(f->event, /* name= */ NULL, on_message, f, &other), 0);
        snprintf(expected, sizeof(expected), "@corral-notify-%d-1", (int) getpid());
        assert_string_equal(notify_socket_address(other), expected);

        send_string(other, "STATUS=other");
        send_string(f->socket, "STATUS=first");
        run_until(f, 2);
        notify_socket_free(/* s= */ NULL);
}

static void test_sd_notify_from_child(void **state) {
        Fixture *f = *state;
        int status;
        pid_t pid;

        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int r;

                if (setenv("NOTIFY_SOCKET", notify_socket_address(f->socket), /* overwrite= */ 1) < 0)
                        _exit(2);
                r = sd_notify(/* unset_environment= */ 0, "READY=1\nSTATUS=hello");
                _exit(r > 0 ? 0 : 1);
        }

        run_until(f, 1);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);

        assert_int_equal(f->senders[0].pid, pid);
        assert_int_equal(f->senders[0].uid, getuid());
        assert_message_equal(&f->messages[0], &(NotifyMessage) { .ready = true, .status = "hello" });
}

static void test_oversized_dropped(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *big = malloc(2 * NOTIFY_DATAGRAM_MAX);

        assert_non_null(big);
        memcpy(big, "READY=1\nSTATUS=", strlen("READY=1\nSTATUS="));
        memset(big + strlen("READY=1\nSTATUS="), 'z', 2 * NOTIFY_DATAGRAM_MAX - strlen("READY=1\nSTATUS="));

        send_datagram(f->socket, big, NOTIFY_DATAGRAM_MAX + 1, /* fd= */ -1);
        send_datagram(f->socket, big, 2 * NOTIFY_DATAGRAM_MAX, /* fd= */ -1);
        send_string(f->socket, "STATUS=after");
        run_until(f, 1);
        assert_message_equal(&f->messages[0], &(NotifyMessage) { .status = "after" });

        /* exactly the limit is fine */
        send_datagram(f->socket, big, NOTIFY_DATAGRAM_MAX, /* fd= */ -1);
        run_until(f, 2);
        assert_true(f->messages[1].ready);
        assert_int_equal(f->senders[1].pid, getpid());
}

static void test_fds_dropped(void **state) {
        Fixture *f = *state;
        unsigned before;
        int fd;

        fd = eventfd(0, EFD_CLOEXEC);
        assert_true(fd >= 0);
        before = count_fds();
        send_datagram(f->socket, IN("READY=1"), fd);
        send_datagram(f->socket, IN("READY=1"), fd);
        send_string(f->socket, "STATUS=after");
        run_until(f, 1);
        assert_message_equal(&f->messages[0], &(NotifyMessage) { .status = "after" });
        assert_int_equal(count_fds(), before);
        close(fd);
}

static void test_malformed_dropped(void **state) {
        Fixture *f = *state;

        send_string(f->socket, "READY=1\nMAINPID=abc");
        send_string(f->socket, "READY=1\nno equals sign");
        send_datagram(f->socket, IN("READY=1\0"), /* fd= */ -1);
        send_string(f->socket, "ERRNO=5");
        send_string(f->socket, "MAINPID=1\nREADY=1");
        run_until(f, 2);
        assert_message_equal(&f->messages[0], &(NotifyMessage) {});
        assert_message_equal(&f->messages[1], &(NotifyMessage) { .ready = true, .main_pid = 1 });
        assert_int_equal(f->senders[1].pid, getpid());
}

/* One wake-up handles every datagram that is queued. */
static void test_drains_all(void **state) {
        Fixture *f = *state;

        for (unsigned i = 0; i < 5; i++)
                send_string(f->socket, "WATCHDOG=1");
        assert_int_equal(sd_event_run(f->event, 5 * USEC_PER_SEC), 1);
        assert_int_equal(f->n_received, 5);
        for (unsigned i = 0; i < 5; i++)
                assert_true(f->messages[i].watchdog);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse),
                cmocka_unit_test(test_parse_status_truncated),
                cmocka_unit_test(test_parse_size),
                cmocka_unit_test(test_parse_failure_leaves_ret),
                cmocka_unit_test_setup_teardown(test_address, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_sd_notify_from_child, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_oversized_dropped, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_fds_dropped, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_malformed_dropped, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_drains_all, fixture_setup, fixture_teardown),
        };

        return cmocka_run_group_tests(tests, /* group_setup= */ NULL, /* group_teardown= */ NULL);
}
