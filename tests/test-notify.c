/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The notify module: notify_parse() and notify_socket_path() on tables,
 * and the real socket, fed by sd_notify() from a child and by hand-made
 * datagrams (oversized, carrying file descriptors, malformed); its file
 * and directory: modes, what a killed corrald left, directories that are
 * refused. Needs no root, except where another user is needed (nobody,
 * sending to the socket and failing to take its name): those skip. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "notify.h"
#include "test-util.h"
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
                  { .ready = true,
                    .stopping = true,
                    .watchdog = true,
                    .watchdog_trigger = true,
                    .status = "up",
                    .watchdog_usec = 1000,
                    .main_pid = 7,
                    .extend_timeout_usec = 2000 } },
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
                { IN("STATUS=a\tb\x01"
                     "c\rd\x7f"
                     "e\x1b"),
                  0,
                  { .status = "a\tb c d e " } },
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
        char *dir;      /* a temporary directory (mkdtemp: 0700) */
        char *sock_dir; /* dir/notify, made by notify_socket_open() */
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

static void fixture_free(Fixture *f) {
        for (size_t i = 0; i < MIN(f->n_received, (size_t) RECORDED_MAX); i++)
                notify_message_done(&f->messages[i]);
        notify_socket_free(f->socket);
        sd_event_unref(f->event);
        if (f->sock_dir)
                (void) rmdir(f->sock_dir);
        if (f->dir)
                (void) rmdir(f->dir);
        free(f->sock_dir);
        free(f->dir);
        free(f);
}

static int fixture_setup(void **state) {
        Fixture *f = calloc(1, sizeof(Fixture));
        char tmpl[] = "/tmp/corral-test-notify-XXXXXX";

        if (!f)
                return -1;
        if (!mkdtemp(tmpl) || !(f->dir = strdup(tmpl)) || asprintf(&f->sock_dir, "%s/notify", tmpl) < 0 ||
            sd_event_new(&f->event) < 0 ||
            notify_socket_open(f->event, f->sock_dir, "sock", on_message, f, &f->socket) < 0) {
                fixture_free(f);
                return -1;
        }
        *state = f;
        return 0;
}

static int fixture_teardown(void **state) {
        fixture_free(*state);
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

        assert_int_equal(a[0], '/');
        assert_true(strlen(a) < sizeof(ret->sun_path));
        *ret = (struct sockaddr_un) { .sun_family = AF_UNIX };
        memcpy(ret->sun_path, a, strlen(a));
        return (socklen_t) (offsetof(struct sockaddr_un, sun_path) + strlen(a) + 1);
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
                *c = (struct cmsghdr) { .cmsg_level = SOL_SOCKET,
                                        .cmsg_type = SCM_RIGHTS,
                                        .cmsg_len = CMSG_LEN(sizeof(int)) };
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

static void test_socket_path(_unused_ void **state) {
        static const struct {
                const char *control, *subtree;
                int ret;
                const char *dir, *name;
        } cases[] = {
                { "/run/corral/control.sock", "/corral", 0, "/run/corral/notify", "ef3ca175847cbdc9" },
                { "/run/corral/other.sock", "/corral", 0, "/run/corral/notify", "ef3ca175847cbdc9" },
                { "/run/corral/control.sock", "/system.slice/corral.service", 0, "/run/corral/notify",
                  "d727397332b8d8be" },
                { "/control.sock", "/corral", 0, "/notify", "ef3ca175847cbdc9" },
                { "relative.sock", "/corral", -EINVAL, NULL, NULL },
                { "/run/corral/control.sock", "corral", -EINVAL, NULL, NULL },
                /* DIR/notify/NAME must fit a socket address (107 bytes and a NUL) */
                { "/run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/c", "/corral", 0,
                  "/run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/notify",
                  "ef3ca175847cbdc9" },
                { "/run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/c", "/corral",
                  -ENAMETOOLONG, NULL, NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *dir = (char *) "unchanged", *name = (char *) "unchanged";
                int r = notify_socket_path(cases[i].control, cases[i].subtree, &dir, &name);

                if (r != cases[i].ret)
                        fail_msg("case %zu: %d, expected %d", i, r, cases[i].ret);
                if (r < 0) {
                        assert_string_equal(dir, "unchanged");
                        assert_string_equal(name, "unchanged");
                        continue;
                }
                assert_string_equal(dir, cases[i].dir);
                assert_string_equal(name, cases[i].name);
                free(dir);
                free(name);
        }
}

static mode_t mode_of(const char *path) {
        struct stat st;

        assert_int_equal(lstat(path, &st), 0);
        return st.st_mode;
}

/* The socket is a file at dir/name, open to every user (0666) in a
 * directory only we can write (0755, whatever the umask); freeing it
 * removes the file. Sent to by path, it receives. */
static void test_socket_file(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *expected = NULL, *umask_dir = NULL, *other_path = NULL;
        NotifySocket *other = NULL;

        assert_true(asprintf(&expected, "%s/sock", f->sock_dir) > 0);
        assert_string_equal(notify_socket_address(f->socket), expected);
        assert_true(S_ISSOCK(mode_of(expected)));
        assert_int_equal(mode_of(expected) & 07777, 0666);
        assert_int_equal(mode_of(f->sock_dir) & 07777, 0755);

        /* a strict umask changes neither mode */
        assert_true(asprintf(&umask_dir, "%s/strict", f->dir) > 0);
        mode_t saved = umask(077);
        int r = notify_socket_open(f->event, umask_dir, "s", on_message, f, &other);
        umask(saved);
        assert_int_equal(r, 0);
        assert_true(asprintf(&other_path, "%s/s", umask_dir) > 0);
        assert_int_equal(mode_of(umask_dir) & 07777, 0755);
        assert_int_equal(mode_of(other_path) & 07777, 0666);
        send_string(other, "STATUS=other");
        send_string(f->socket, "STATUS=first");
        run_until(f, 2);
        notify_socket_free(other);
        assert_int_equal(access(other_path, F_OK), -1);
        assert_int_equal(rmdir(umask_dir), 0);

        /* a name is a name, not a path */
        assert_int_equal(notify_socket_open(f->event, f->dir, "a/b", on_message, f, &other), -EINVAL);
        assert_int_equal(notify_socket_open(f->event, f->dir, "..", on_message, f, &other), -EINVAL);
        notify_socket_free(/* s= */ NULL);
}

/* What a corrald killed by SIGKILL leaves at the path — a socket file
 * nobody listens on, or anything else — is replaced: the path is the same
 * for the next corrald, and adopted units keep sending to it. */
static void test_socket_replaces_leftover(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *path = NULL;
        NotifySocket *again = NULL;

        assert_true(asprintf(&path, "%s/sock", f->sock_dir) > 0);
        /* a killed corrald: its file stays */
        f->socket = notify_socket_free(f->socket);
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        close(fd);
        assert_true(S_ISSOCK(mode_of(path)));
        assert_int_equal(notify_socket_open(f->event, f->sock_dir, "sock", on_message, f, &f->socket), 0);
        send_string(f->socket, "STATUS=again");
        run_until(f, 1);

        /* a regular file in its place */
        f->socket = notify_socket_free(f->socket);
        assert_int_equal(test_write_file(path, "junk"), 0);
        assert_int_equal(notify_socket_open(f->event, f->sock_dir, "sock", on_message, f, &again), 0);
        f->socket = again;
        assert_true(S_ISSOCK(mode_of(path)));
        send_string(f->socket, "STATUS=again");
        run_until(f, 2);
}

/* A directory whoever else could write (or swap) is refused, not fixed:
 * someone may already have taken the name there. */
static void test_socket_dir_refused(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *open_dir = NULL, *link = NULL, *file = NULL, *theirs = NULL;
        NotifySocket *s = NULL;

        assert_true(asprintf(&open_dir, "%s/group-writable", f->dir) > 0);
        assert_true(asprintf(&link, "%s/link", f->dir) > 0);
        assert_true(asprintf(&file, "%s/file", f->dir) > 0);
        assert_int_equal(mkdir(open_dir, 0755), 0);
        assert_int_equal(chmod(open_dir, 0775), 0);
        assert_int_equal(symlink(f->sock_dir, link), 0);
        assert_int_equal(test_write_file(file, ""), 0);

        assert_int_equal(notify_socket_open(f->event, open_dir, "s", on_message, f, &s), -EPERM);
        assert_int_equal(notify_socket_open(f->event, link, "s", on_message, f, &s), -ENOTDIR);
        assert_int_equal(notify_socket_open(f->event, file, "s", on_message, f, &s), -ENOTDIR);
        assert_null(s);
        assert_int_equal(access(open_dir, F_OK), 0);
        if (geteuid() == 0) {
                /* another user's */
                assert_true(asprintf(&theirs, "%s/theirs", f->dir) > 0);
                assert_int_equal(mkdir(theirs, 0755), 0);
                assert_int_equal(chown(theirs, 65534, 65534), 0);
                assert_int_equal(notify_socket_open(f->event, theirs, "s", on_message, f, &s), -EPERM);
                assert_null(s);
                assert_int_equal(rmdir(theirs), 0);
        }
        assert_int_equal(rmdir(open_dir), 0);
        assert_int_equal(unlink(link), 0);
        assert_int_equal(unlink(file), 0);
}

/* Units of another user (nobody) send to the socket; that user cannot
 * take its name: not unlink it, not bind it, not put anything beside it. */
static void test_socket_other_user(void **state) {
        Fixture *f = *state;
        int status;
        pid_t pid;

        if (geteuid() != 0)
                skip();
        assert_int_equal(chmod(f->dir, 0755), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                int fd;

                if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
                        _exit(10);
                if (setenv("NOTIFY_SOCKET", notify_socket_address(f->socket), /* overwrite= */ 1) < 0 ||
                    sd_notify(/* unset_environment= */ 0, "STATUS=from nobody") <= 0)
                        _exit(11);
                if (unlink(notify_socket_address(f->socket)) >= 0 || errno != EACCES)
                        _exit(12);
                snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", notify_socket_address(f->socket));
                fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof(sa)) >= 0)
                        _exit(13);
                snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/other", f->sock_dir);
                if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) >= 0 || errno != EACCES)
                        _exit(14);
                _exit(0);
        }
        run_until(f, 1);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_int_equal(f->senders[0].uid, 65534);
        assert_message_equal(&f->messages[0], &(NotifyMessage) { .status = "from nobody" });
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
                cmocka_unit_test(test_socket_path),
                cmocka_unit_test_setup_teardown(test_socket_file, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_socket_replaces_leftover, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_socket_dir_refused, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_socket_other_user, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_sd_notify_from_child, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_oversized_dropped, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_fds_dropped, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_malformed_dropped, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_drains_all, fixture_setup, fixture_teardown),
        };

        return cmocka_run_group_tests(tests, /* group_setup= */ NULL, /* group_teardown= */ NULL);
}
