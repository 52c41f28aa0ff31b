/* SPDX-License-Identifier: GPL-2.0-or-later */
/* systemd's fd store as corrald uses it (notify-fdstore.h): the names on
 * tables, and the protocol against a stand-in for systemd: a datagram
 * socket as NOTIFY_SOCKET that receives FDSTORE=1 with the descriptor and
 * FDSTOREREMOVE=1, and descriptors passed back as LISTEN_FDS at 3… with
 * LISTEN_FDNAMES, taken by name, the rest closed and removed. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "macro.h"
#include "notify-fdstore.h"

static void test_name_valid(void **state) {
        char long_name[FD_STORE_NAME_MAX + 2];

        assert_true(fd_store_name_is_valid("corral.web@0.stdout.123"));
        assert_true(fd_store_name_is_valid("a b~!"));
        assert_false(fd_store_name_is_valid(""));
        assert_false(fd_store_name_is_valid("a:b")); /* LISTEN_FDNAMES' separator */
        assert_false(fd_store_name_is_valid("a\nb"));
        assert_false(fd_store_name_is_valid("a\tb"));
        assert_false(fd_store_name_is_valid("caf\xc3\xa9"));
        memset(long_name, 'x', FD_STORE_NAME_MAX);
        long_name[FD_STORE_NAME_MAX] = 0;
        assert_true(fd_store_name_is_valid(long_name));
        long_name[FD_STORE_NAME_MAX] = 'x';
        long_name[FD_STORE_NAME_MAX + 1] = 0;
        assert_false(fd_store_name_is_valid(long_name));
}

static void test_output_name(void **state) {
        char buf[FD_STORE_NAME_MAX + 1], unit[80];
        FdStoreOutputName n;

        assert_int_equal(fd_store_output_name("web@0", "stdout", 123456, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "corral.web@0.stdout.123456");
        assert_true(fd_store_name_is_valid(buf));
        assert_int_equal(fd_store_output_parse(buf, &n), 0);
        assert_string_equal(n.unit, "web@0");
        assert_string_equal(n.stream, "stdout");
        assert_int_equal(n.inode, 123456);

        assert_int_equal(fd_store_output_name("job-7f3a_x", "stderr", UINT64_MAX, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "corral.job-7f3a_x.stderr.18446744073709551615");
        assert_int_equal(fd_store_output_parse(buf, &n), 0);
        assert_string_equal(n.unit, "job-7f3a_x");
        assert_string_equal(n.stream, "stderr");
        assert_true(n.inode == UINT64_MAX);

        /* a unit name of the longest kind (64) fits */
        memset(unit, 'u', 64);
        unit[64] = 0;
        assert_int_equal(fd_store_output_name(unit, "stdout", 1, buf, sizeof(buf)), 0);
        assert_int_equal(fd_store_output_parse(buf, &n), 0);
        assert_string_equal(n.unit, unit);

        assert_int_equal(fd_store_output_name("", "stdout", 1, buf, sizeof(buf)), -EINVAL);
        assert_int_equal(fd_store_output_name("a.b", "stdout", 1, buf, sizeof(buf)), -EINVAL);
        assert_int_equal(fd_store_output_name("a:b", "stdout", 1, buf, sizeof(buf)), -EINVAL);
        assert_int_equal(fd_store_output_name("web", "", 1, buf, sizeof(buf)), -EINVAL);
        assert_int_equal(fd_store_output_name("web", "stdout", 0, buf, sizeof(buf)), -EINVAL);
        assert_int_equal(fd_store_output_name("web", "stdout", 1, buf, 10), -ENAMETOOLONG);
}

static void test_output_parse_table(void **state) {
        static const char *const bad[] = {
                "",
                "stored",
                "corral.",
                "corral.web",
                "corral.web.stdout",
                "corral.web.stdout.",
                "corral.web.stdout.0",
                "corral.web.stdout.12x",
                "corral.web.stdout.-1",
                "corral.web.stdout.99999999999999999999",
                "corral..stdout.1",
                "corral.web..1",
                "corral.a.b.stdout.1", /* a unit name never has a '.' */
                "other.web.stdout.1",
                "corral.web:0.stdout.1",
        };
        FdStoreOutputName n;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                print_message("%s\n", bad[i]);
                assert_int_equal(fd_store_output_parse(bad[i], &n), -EINVAL);
        }
}

/* The stand-in for systemd's notify socket, bound to a path in a
 * temporary directory and set as NOTIFY_SOCKET. */
typedef struct Fixture {
        char dir[64], path[128];
        int sock;
} Fixture;

static int fixture_setup(void **state) {
        Fixture *f = calloc(1, sizeof(*f));
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        assert_non_null(f);
        strcpy(f->dir, "/tmp/test-fdstore-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->path, sizeof(f->path), "%s/notify", f->dir);
        strcpy(sa.sun_path, f->path);
        f->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        assert_true(f->sock >= 0);
        assert_int_equal(bind(f->sock, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(setenv("NOTIFY_SOCKET", f->path, 1), 0);
        *state = f;
        return 0;
}

static int fixture_teardown(void **state) {
        Fixture *f = *state;

        unsetenv("NOTIFY_SOCKET");
        safe_close(f->sock);
        unlink(f->path);
        rmdir(f->dir);
        free(f);
        return 0;
}

/* One datagram: its text, and the descriptor it carried (-1: none). */
static void receive(Fixture *f, char *buf, size_t size, int *ret_fd) {
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int) * 4)];
        } control = {};
        struct iovec iov = { buf, size - 1 };
        struct msghdr mh = { .msg_iov = &iov,
                             .msg_iovlen = 1,
                             .msg_control = &control,
                             .msg_controllen = sizeof(control) };
        ssize_t n = recvmsg(f->sock, &mh, MSG_CMSG_CLOEXEC);

        assert_true(n >= 0);
        buf[n] = 0;
        *ret_fd = -1;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                        assert_int_equal(c->cmsg_len, CMSG_LEN(sizeof(int)));
                        memcpy(ret_fd, CMSG_DATA(c), sizeof(int));
                }
}

static bool nothing_pending(Fixture *f) {
        char c;
        return recv(f->sock, &c, 1, MSG_DONTWAIT | MSG_PEEK) < 0 && errno == EAGAIN;
}

/* fd moved to 100 or above, out of the way of 3, 4, 5. */
static int move_up(int fd) {
        int moved = fcntl(fd, F_DUPFD_CLOEXEC, 100);
        assert_true(moved >= 100);
        safe_close(fd);
        return moved;
}

static uint64_t inode_of(int fd) {
        struct stat st;
        assert_int_equal(fstat(fd, &st), 0);
        return (uint64_t) st.st_ino;
}

static void test_add_remove(void **state) {
        Fixture *f = *state;
        _cleanup_(fd_store_freep) FdStore *s = NULL;
        char buf[512];
        int p[2], fd;

        assert_int_equal(fd_store_new(&s), 0);
        assert_true(fd_store_enabled(s));
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        assert_int_equal(fd_store_add(s, "corral.web.stdout.5", p[0]), 1);
        receive(f, buf, sizeof(buf), &fd);
        assert_string_equal(buf, "FDSTORE=1\nFDNAME=corral.web.stdout.5");
        assert_true(fd >= 0);
        assert_true(inode_of(fd) == inode_of(p[0])); /* the very pipe */
        safe_close(fd);
        assert_int_equal(fd_store_remove(s, "corral.web.stdout.5"), 1);
        receive(f, buf, sizeof(buf), &fd);
        assert_string_equal(buf, "FDSTOREREMOVE=1\nFDNAME=corral.web.stdout.5");
        assert_int_equal(fd, -1);
        assert_int_equal(fd_store_add(s, "bad:name", p[0]), -EINVAL);
        assert_true(nothing_pending(f));
        safe_close(p[0]);
        safe_close(p[1]);
}

static void test_off_without_notify_socket(void **state) {
        _cleanup_(fd_store_freep) FdStore *s = NULL;
        int p[2];

        unsetenv("NOTIFY_SOCKET");
        assert_int_equal(fd_store_new(&s), 0);
        assert_false(fd_store_enabled(s));
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        assert_int_equal(fd_store_add(s, "corral.web.stdout.5", p[0]), 0);
        assert_int_equal(fd_store_remove(s, "corral.web.stdout.5"), 0);
        assert_int_equal(fd_store_take(s, "corral.web.stdout.5"), -ENOENT);
        safe_close(p[0]);
        safe_close(p[1]);
}

/* What systemd does at a restart: the stored descriptors at 3, 4, 5 with
 * LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES. */
static void test_listen_fds(void **state) {
        Fixture *f = *state;
        _cleanup_(fd_store_freep) FdStore *s = NULL;
        int a[2], b[2], c[2], fd, got;
        uint64_t ino_a, ino_c;
        char buf[512], pid[32];

        f->sock = move_up(f->sock);
        assert_int_equal(pipe2(a, O_CLOEXEC), 0);
        assert_int_equal(pipe2(b, O_CLOEXEC), 0);
        assert_int_equal(pipe2(c, O_CLOEXEC), 0);
        for (int i = 0; i < 2; i++) {
                a[i] = move_up(a[i]);
                b[i] = move_up(b[i]);
                c[i] = move_up(c[i]);
        }
        ino_a = inode_of(a[0]);
        ino_c = inode_of(c[0]);
        /* fds 3, 4, 5 are free in this test program once moved out of the way */
        for (int i = 3; i <= 5; i++)
                assert_int_equal(fcntl(i, F_GETFD), -1);
        assert_int_equal(dup2(a[0], 3), 3); /* without FD_CLOEXEC, as systemd passes them */
        assert_int_equal(dup2(b[0], 4), 4);
        assert_int_equal(dup2(c[0], 5), 5);
        safe_close(a[0]);
        safe_close(b[0]);
        safe_close(c[0]);
        snprintf(pid, sizeof(pid), "%d", (int) getpid());
        setenv("LISTEN_PID", pid, 1);
        setenv("LISTEN_FDS", "3", 1);
        snprintf(buf, sizeof(buf), "corral.web.stdout.%llu:stored:corral.gone.stderr.%llu", (unsigned long long) ino_a,
                 (unsigned long long) ino_c);
        setenv("LISTEN_FDNAMES", buf, 1);

        assert_int_equal(fd_store_new(&s), 0);
        assert_null(getenv("LISTEN_FDS")); /* not handed to units */
        assert_null(getenv("LISTEN_FDNAMES"));
        for (int i = 3; i <= 5; i++)
                assert_true(fcntl(i, F_GETFD) & FD_CLOEXEC);
        snprintf(buf, sizeof(buf), "corral.web.stdout.%llu", (unsigned long long) ino_a);
        got = fd_store_take(s, buf);
        assert_int_equal(got, 3);
        assert_true(inode_of(got) == ino_a);
        assert_int_equal(fd_store_take(s, buf), -ENOENT); /* once */
        assert_int_equal(fd_store_take(s, "corral.web.stdout.1"), -ENOENT);

        /* the rest: closed; ours removed from systemd's store */
        assert_int_equal(fd_store_release_unclaimed(s), 2);
        assert_int_equal(fcntl(4, F_GETFD), -1);
        assert_int_equal(fcntl(5, F_GETFD), -1);
        receive(f, buf, sizeof(buf), &fd);
        snprintf(pid, sizeof(pid), "%llu", (unsigned long long) ino_c);
        assert_int_equal(strncmp(buf, "FDSTOREREMOVE=1\nFDNAME=corral.gone.stderr.", 42), 0);
        assert_string_equal(buf + 42, pid);
        assert_int_equal(fd, -1);
        assert_true(nothing_pending(f));                              /* "stored" is not ours: closed, not removed */
        assert_int_equal(fcntl(3, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC); /* the taken one stays open */
        safe_close(got);
        safe_close(a[1]);
        safe_close(b[1]);
        safe_close(c[1]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_name_valid),
                cmocka_unit_test(test_output_name),
                cmocka_unit_test(test_output_parse_table),
                cmocka_unit_test_setup_teardown(test_add_remove, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_off_without_notify_socket, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_listen_fds, fixture_setup, fixture_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
