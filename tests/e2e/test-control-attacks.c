/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control socket under attack, end to end with the real corrald and
 * corralctl: what a unit or an unprivileged user (made with useradd, under
 * setpriv) can do to the daemon through it — text that is not UTF-8, a
 * flood of connections, requests that ask for much — and the socket's own
 * file. Each test here failed on the code before its fix. */

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <grp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "control-util.h"
#include "control.h"
#include "fileio.h"
#include "macro.h"
#include "test-util.h"

#define TEST_USER "corral-test-atk"
#define FFFD "\xef\xbf\xbd"

static TestDaemon daemon_;
static bool user_created;

static int teardown(void **state) {
        test_daemon_cleanup(&daemon_);
        return 0;
}

/* The value after "needle" up to the end of its line in the daemon's log
 * (the unit's own output goes there). Caller frees. */
static char *log_value(const TestDaemon *d, const char *needle) {
        _cleanup_free_ char *log = test_daemon_log(d);
        const char *p = strstr(log, needle);

        assert_non_null(p);
        p += strlen(needle);
        return strndup(p, strcspn(p, "\n"));
}

static json_t *status_json(const TestDaemon *d, const char *const *names) {
        const char *argv[16] = { "status", "--json" };
        size_t n = 2;
        Ctl c;

        for (; names && *names && n < ELEMENTSOF(argv) - 1; names++)
                argv[n++] = *names;
        c = ctl_argv(d, /* user= */ NULL, argv);
        assert_int_equal(c.status, 0);
        json_t *j = parse_json(c.out);
        ctl_done(&c);
        return j;
}

/* Whether pid is among the unit object's "processes". */
static bool unit_has_process(json_t *u, pid_t pid) {
        json_t *p;
        size_t i;

        json_array_foreach(json_object_get(u, "processes"), i,
                           p) if (json_integer_value(json_object_get(p, "pid")) == pid) return true;
        return false;
}

/* ---- text that is not UTF-8 ---- */

/* STATUS= with bytes that are not UTF-8 (a lone 0xff 0xfe, a cut
 * sequence), an exec error naming a path that is not UTF-8, a job doing
 * the same: every unit stays in status, list and status NAME, with U+FFFD
 * for each bad byte; the processes of a multi-unit status stay with their
 * units; run --wait of such a job gives its exit status. */
static void test_invalid_utf8(void **state) {
        _cleanup_free_ char *tn = test_helper_path("test-notifier"), *body = NULL, *out = NULL, *sock = NULL,
                            *env = NULL;
        pid_t bad_pid, good_pid;
        json_t *j, *u;

        assert_true(asprintf(&body,
                             "[program:bad]\nready = notify\n"
                             "command = sh -c 'echo notify-socket=$NOTIFY_SOCKET; "
                             "exec %s status \"bad \\xff\\xfe \\xc3 end\" 0'\n"
                             "[program:good]\ncommand = sleep 1000\n"
                             "[program:badexec]\ncommand = /nonexistent/\xff\xfe-prog\n",
                             tn) > 0);
        start_daemon(&daemon_, "utf8", body);
        wait_state(&daemon_, "bad", "running");
        wait_state(&daemon_, "good", "running");
        wait_state(&daemon_, "badexec", "failed");
        bad_pid = unit_main_pid(&daemon_, "bad");
        good_pid = unit_main_pid(&daemon_, "good");

        /* every unit, with the bad bytes replaced */
        j = status_json(&daemon_, /* names= */ NULL);
        u = json_units_find(j, "bad");
        assert_non_null(u);
        print_message("status_text: %s\n", json_string_value(json_object_get(u, "status_text")));
        assert_string_equal(json_string_value(json_object_get(u, "status_text")), "bad " FFFD FFFD " " FFFD " end");
        assert_non_null(json_units_find(j, "good"));
        u = json_units_find(j, "badexec");
        assert_non_null(u);
        print_message("error: %s\n", json_string_value(json_object_get(u, "error")));
        assert_non_null(strstr(json_string_value(json_object_get(u, "error")), "/nonexistent/" FFFD FFFD "-prog"));
        json_decref(j);

        out = CTL_OK(&daemon_, NULL, 0, "list");
        assert_string_equal(out, "bad\ngood\nbadexec\n");
        out = mfree(out);
        out = CTL_OK(&daemon_, NULL, 0, "status", "bad");
        assert_non_null(strstr(out, "Status: \"bad " FFFD FFFD " " FFFD " end\""));
        out = mfree(out);
        out = CTL_OK(&daemon_, NULL, 3, "status", "badexec");
        assert_non_null(strstr(out, "Error: exec /nonexistent/" FFFD FFFD "-prog"));
        out = mfree(out);

        /* in one status of several units, each keeps its own processes */
        j = status_json(&daemon_, (const char *const[]) { "bad", "good", NULL });
        assert_true(unit_has_process(json_units_find(j, "bad"), bad_pid));
        assert_true(unit_has_process(json_units_find(j, "good"), good_pid));
        assert_false(unit_has_process(json_units_find(j, "good"), bad_pid));
        json_decref(j);

        /* a job that sends such a STATUS= (through the notify socket it is
         * given) and exits 0 */
        sock = log_value(&daemon_, "notify-socket=");
        assert_true(asprintf(&env, "NOTIFY_SOCKET=%s", sock) > 0);
        out = CTL_OK(&daemon_, NULL, 0, "run", "--wait", "--name", "badjob", "--env", env, "--", tn, "status",
                     "job \\xff", "500");
        out = mfree(out);
        out = CTL_OK(&daemon_, NULL, 0, "wait", "--json", "badjob");
        j = parse_json(out);
        assert_string_equal(json_string_value(json_object_get(j, "status_text")), "job " FFFD);
        json_decref(j);

        assert_true(test_daemon_alive(&daemon_));
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* ---- the socket's file ---- */

/* corrald with control_socket in a directory made with that mode and
 * owner (and dir/sub, 0755 root, when sub): refused, saying why, or
 * served. */
static void socket_dir_case(mode_t mode, uid_t owner, gid_t group, bool sub, bool refused) {
        char dir[] = "/tmp/corral-test-sockdir-XXXXXX";
        _cleanup_free_ char *body = NULL, *sockdir = NULL, *sock = NULL;
        TestDaemon *d = &daemon_; /* the teardown cleans up after a failure */

        assert_non_null(mkdtemp(dir));
        assert_int_equal(chmod(dir, mode), 0);
        assert_int_equal(chown(dir, owner, group), 0);
        assert_true(asprintf(&sockdir, "%s%s", dir, sub ? "/sub" : "") > 0);
        if (sub)
                assert_int_equal(mkdir(sockdir, 0755), 0);
        assert_true(asprintf(&sock, "%s/control.sock", sockdir) > 0);
        assert_true(asprintf(&body, "[corral]\ncontrol_socket = %s\n[program:a]\ncommand = sleep 1000\n", sock) > 0);
        print_message("socket directory %s: mode %04o, owner %u:%u%s\n", sockdir, (unsigned) mode, (unsigned) owner,
                      (unsigned) group, sub ? " (its parent)" : "");
        assert_int_equal(test_daemon_start(d, "sockdir", body), 0);
        if (refused) {
                assert_true(test_daemon_wait(d, TIMEOUT));
                print_message("corrald exited %d\n", d->exit_status);
                assert_int_not_equal(d->exit_status, 0);
                assert_int_equal(test_daemon_log_count(d, "may be changed by other users"), 1);
                assert_int_equal(access(sock, F_OK), -1);
        } else {
                assert_true(test_daemon_wait_log(d, "a: started", 1, TIMEOUT));
                _cleanup_close_ int fd = -EBADF;
                d->socket = mfree(d->socket);
                d->socket = strdup(sock);
                fd = raw_connect(d);
                assert_status_ok(fd);
                assert_true(test_daemon_stop_cleanly(d));
                assert_int_equal(access(sock, F_OK), -1); /* removed at exit */
        }
        test_daemon_cleanup(d);
        test_remove_notify_dir(sockdir); /* made beside the socket before the socket was refused */
        if (sub)
                assert_int_equal(rmdir(sockdir), 0);
        assert_int_equal(rmdir(dir), 0);
}

/* A control socket in a directory that someone else may change — where
 * the socket can be swapped for a symlink or a socket of theirs — is
 * refused with a clear message; /tmp-like (sticky, root's) is fine. */
static void test_socket_dir_refused(void **state) {
        uid_t uid;
        gid_t gid;

        socket_dir_case(0777, 0, 0, /* sub= */ false, /* refused= */ true);
        socket_dir_case(0777, 0, 0, /* sub= */ true, /* refused= */ true);
        socket_dir_case(01777, 0, 0, /* sub= */ false, /* refused= */ false);
        socket_dir_case(0755, 0, 0, /* sub= */ false, /* refused= */ false);
        if (!user_ids(TEST_USER, &uid, &gid)) {
                print_message("SKIP: no user %s (useradd failed)\n", TEST_USER);
                skip();
        }
        socket_dir_case(0770, 0, gid, /* sub= */ false, /* refused= */ true);
        socket_dir_case(0755, uid, gid, /* sub= */ false, /* refused= */ true);
        socket_dir_case(01777, uid, gid, /* sub= */ false, /* refused= */ true); /* sticky, but not root's */
}

/* The line of the bind probe's file for what ("bind", "listen") of the
 * socket; caller frees. */
static char *probe_line(const char *file, const char *what, const char *name) {
        _cleanup_free_ char *buf = NULL;

        assert_int_equal(read_full_file_at(AT_FDCWD, file, 65536, &buf, NULL), 0);
        for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
                if (strneq(line, what, strlen(what)) && line[strlen(what)] == ' ' && strstr(line, name))
                        return strdup(line);
        print_message("no %s of %s in:\n%s\n", what, name, buf);
        fail();
        return NULL;
}

/* Starts corrald with the bind probe preloaded and umask 022 (so that a
 * socket made before its mode is set would be 0755; the configuration
 * file must not be writable by others). */
static void start_daemon_probed(TestDaemon *d, const char *body, const char *probe) {
        _cleanup_free_ char *lib = test_helper_path("libbind-probe.so"), *asan = NULL;
        const char *old_asan = getenv("ASAN_OPTIONS");
        mode_t old_umask;

        /* the probe is loaded before the sanitizer runtime of a sanitized corrald */
        assert_true(asprintf(&asan, "%s%sverify_asan_link_order=0", old_asan ?: "", old_asan ? ":" : "") > 0);
        _cleanup_free_ char *saved_asan = old_asan ? strdup(old_asan) : NULL;
        assert_int_equal(setenv("LD_PRELOAD", lib, 1), 0);
        assert_int_equal(setenv("CORRAL_TEST_BIND_PROBE", probe, 1), 0);
        assert_int_equal(setenv("ASAN_OPTIONS", asan, 1), 0);
        old_umask = umask(022);
        start_daemon(d, "sockmode", body);
        umask(old_umask);
        assert_int_equal(unsetenv("LD_PRELOAD"), 0);
        assert_int_equal(unsetenv("CORRAL_TEST_BIND_PROBE"), 0);
        if (saved_asan)
                assert_int_equal(setenv("ASAN_OPTIONS", saved_asan, 1), 0);
        else
                assert_int_equal(unsetenv("ASAN_OPTIONS"), 0);
}

/* The socket file has its final mode from the moment bind() makes it,
 * and its final owner (root:control_group) before listen(): there is no
 * moment when it has another mode or owner. corrald runs with umask 022;
 * the probe (an LD_PRELOAD library) stats the file right after bind() and
 * right before listen(). */
static void test_socket_mode_without_window(void **state) {
        static const struct {
                const char *config;
                mode_t mode;
        } cases[] = {
                { "[corral]\ncontrol_group = " TEST_USER "\n", 0660 },
                { "[corral]\ncontrol_group = " TEST_USER "\nstatus_public = yes\n", 0666 },
        };
        uid_t uid;
        gid_t gid;

        if (!user_ids(TEST_USER, &uid, &gid)) {
                print_message("SKIP: no user %s (useradd failed)\n", TEST_USER);
                skip();
        }
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *probe = NULL, *bound = NULL, *listening = NULL, *want = NULL;
                struct stat st;

                assert_true(asprintf(&probe, "/tmp/corral-test-probe-%d-%zu", (int) getpid(), i) > 0);
                (void) unlink(probe);
                start_daemon_probed(&daemon_, cases[i].config, probe);
                bound = probe_line(probe, "bind", "/control.sock");
                listening = probe_line(probe, "listen", "/control.sock");
                print_message("%s\n%s\n", bound, listening);
                assert_true(asprintf(&want, " mode=%04o uid=0 ", (unsigned) cases[i].mode) > 0);
                assert_non_null(strstr(bound, want));
                want = mfree(want);
                assert_true(asprintf(&want, " mode=%04o uid=0 gid=%u", (unsigned) cases[i].mode, (unsigned) gid) > 0);
                assert_non_null(strstr(listening, want));
                assert_int_equal(stat(daemon_.socket, &st), 0);
                assert_int_equal(st.st_mode & 07777, cases[i].mode);
                assert_int_equal(st.st_uid, 0);
                assert_int_equal(st.st_gid, gid);
                assert_true(test_daemon_stop_cleanly(&daemon_));
                test_daemon_cleanup(&daemon_);
                assert_int_equal(unlink(probe), 0);
        }
}

/* ---- floods ---- */

/* In a child as uid:gid, connects `held` times and keeps those, then
 * `flood` times more closing each at once; writes one byte to done[1]
 * when through, and exits when go[0] reaches EOF. The parent keeps
 * done[0] and go[1]. Returns its PID. */
static pid_t flood_as(const TestDaemon *d, uid_t uid, gid_t gid, unsigned held, unsigned flood, const int done[2],
                      const int go[2]) {
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid > 0) {
                close(done[1]);
                close(go[0]);
                return pid;
        }
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(done[0]);
        close(go[1]);
        int done_fd = done[1], go_fd = go[0];
        if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
                _exit(90);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d->socket);
        for (unsigned i = 0; i < held + flood; i++) {
                int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                        _exit(91);
                if (i >= held)
                        close(fd);
        }
        char c = 'x', buf;
        if (write(done_fd, &c, 1) != 1)
                _exit(92);
        while (read(go_fd, &buf, 1) > 0)
                ;
        _exit(0);
}

/* The numbers n of the log lines "…: n more connections of UID uid
 * refused…", summed; how many such lines in *ret_lines. */
static unsigned log_held_back(const TestDaemon *d, uid_t uid, unsigned *ret_lines) {
        _cleanup_free_ char *log = test_daemon_log(d), *needle = NULL;
        unsigned sum = 0, lines = 0;

        assert_true(asprintf(&needle, " more connections of UID %u refused", (unsigned) uid) > 0);
        for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n")) {
                char *p = strstr(line, needle), *q;
                if (!p)
                        continue;
                for (q = p; q > line && q[-1] >= '0' && q[-1] <= '9'; q--)
                        ;
                sum += (unsigned) strtoul(q, NULL, 10);
                lines++;
        }
        *ret_lines = lines;
        return sum;
}

/* A user with no rights who holds its CONTROL_CLIENTS_PER_UID_MAX
 * connections and then opens 2000 more: each is refused, but the log gets
 * at most CONTROL_LOG_BURST lines about it in CONTROL_LOG_INTERVAL and
 * then one line with how many it held back — together, every refusal.
 * Root is served all along. */
static void test_refused_flood_rate_limited(void **state) {
        enum { FLOOD = 2000 };
        _cleanup_free_ char *needle = NULL;
        int done[2], go[2];
        unsigned logged = 0, held_back = 0, summaries = 0;
        uid_t uid;
        gid_t gid;
        char c;

        start_daemon(&daemon_, "flood", "[corral]\nstatus_public = yes\n[program:a]\ncommand = sleep 1000\n");
        open_socket_dir(&daemon_);
        if (!user_ids(TEST_USER, &uid, &gid)) {
                print_message("SKIP: no user %s (useradd failed)\n", TEST_USER);
                skip();
        }
        assert_int_equal(pipe2(done, O_CLOEXEC), 0);
        assert_int_equal(pipe2(go, O_CLOEXEC), 0);
        pid_t pid = flood_as(&daemon_, uid, gid, CONTROL_CLIENTS_PER_UID_MAX, FLOOD, done, go);
        assert_int_equal(read(done[0], &c, 1), 1);
        close(done[0]);
        {
                _cleanup_close_ int fd = raw_connect(&daemon_);
                assert_status_ok(fd);
        }

        assert_true(asprintf(&needle, "refusing a connection of UID %u ", (unsigned) uid) > 0);
        /* the summary comes once the interval is over */
        for (usec_t end = now(CLOCK_MONOTONIC) + 3 * CONTROL_LOG_INTERVAL; now(CLOCK_MONOTONIC) < end;) {
                logged = test_daemon_log_count(&daemon_, needle);
                held_back = log_held_back(&daemon_, uid, &summaries);
                if (logged + held_back >= FLOOD)
                        break;
                usleep(100 * 1000);
        }
        print_message("%u refused connections: %u logged, %u held back (in %u summary lines)\n", FLOOD, logged,
                      held_back, summaries);
        assert_in_range(logged, 1, 2 * CONTROL_LOG_BURST);
        assert_true(summaries >= 1);
        assert_int_equal(logged + held_back, FLOOD);

        close(go[1]);
        assert_int_equal(child_wait(pid), 0);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* ---- requests that ask for much ---- */

/* In a forked child (no cmocka here): as uid:gid, sends line on a
 * connection of its own and copies what comes back, up to a newline or
 * EOF, to out_fd (-1: nowhere). Exits 0, or 9x when a step failed. */
_noreturn_ static void request_child(const TestDaemon *d, uid_t uid, gid_t gid, const char *line, int out_fd) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char buf[65536];
        int fd;

        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
                _exit(90);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d->socket);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                _exit(91);
        for (size_t n = strlen(line), done = 0; done < n;) {
                ssize_t k = send(fd, line + done, n - done, MSG_NOSIGNAL);
                if (k <= 0)
                        _exit(92);
                done += (size_t) k;
        }
        for (;;) {
                ssize_t k = recv(fd, buf, sizeof(buf), 0);
                if (k <= 0)
                        _exit(0);
                char *nl = memchr(buf, '\n', (size_t) k);
                size_t use = nl ? (size_t) (nl - buf) + 1 : (size_t) k;
                if (out_fd >= 0 && write(out_fd, buf, use) != (ssize_t) use)
                        _exit(93);
                if (nl)
                        _exit(0);
        }
}

/* Sends line as uid:gid and reads what comes back until a newline or EOF.
 * Returns the bytes read (malloc'd, NUL-terminated) with their count in
 * *ret_len. */
static char *request_as(const TestDaemon *d, uid_t uid, gid_t gid, const char *line, size_t *ret_len) {
        int p[2];
        size_t n = 0, size = 0;
        char *buf = NULL;

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(p[0]);
                request_child(d, uid, gid, line, p[1]);
        }
        close(p[1]);
        for (;;) {
                if (n + 65536 > size) {
                        size = size * 2 + 65536;
                        buf = realloc(buf, size + 1);
                        assert_non_null(buf);
                }
                ssize_t k = read(p[0], buf + n, size - n);
                assert_true(k >= 0);
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        close(p[0]);
        assert_int_equal(child_wait(pid), 0);
        buf[n] = '\0';
        *ret_len = n;
        return buf;
}

static unsigned long vm_hwm_kb(pid_t pid) {
        _cleanup_free_ char *path = NULL, *buf = NULL;
        const char *p;

        assert_true(asprintf(&path, "/proc/%d/status", (int) pid) > 0);
        assert_int_equal(read_full_file_at(AT_FDCWD, path, 65536, &buf, NULL), 0);
        p = strstr(buf, "VmHWM:");
        assert_non_null(p);
        return strtoul(p + strlen("VmHWM:"), NULL, 10);
}

/* A status request naming one unit of 1000 processes 300 times, from a
 * reader who may do nothing else (status_public): one unit in the reply,
 * with its processes; a root client is served at once meanwhile, and
 * corrald's memory hardly grows. Naming 40 units: all 40, the first
 * CONTROL_DETAILED_MAX with their processes. */
static void test_status_request_bounded(void **state) {
        enum { NAMES = 300, TREE = 1000, UNITS = 40 };
        _cleanup_free_ char *f = test_helper_path("test-forker"), *marker = test_marker_new("atk-tree"), *body = NULL,
                            *line = NULL, *reply_text = NULL, *answer = NULL;
        size_t len = 0, pos;
        unsigned long hwm;
        uid_t uid;
        gid_t gid;
        json_t *reply, *units;

        if (!user_ids(TEST_USER, &uid, &gid)) {
                print_message("SKIP: no user %s (useradd failed)\n", TEST_USER);
                skip();
        }
        assert_true(asprintf(&body,
                             "[corral]\nstatus_public = yes\n"
                             "[program:big]\ncommand = %s tree %d\nenvironment = CORRAL_TEST_MARKER=%s\n"
                             "[program:s]\ncommand = sleep 1000\ninstances = %d\n",
                             f, TREE, marker, UNITS) > 0);
        start_daemon(&daemon_, "bounded", body);
        open_socket_dir(&daemon_);
        assert_true(test_wait_marker(marker, TREE + 1, TREE + 1, TIMEOUT));
        wait_state(&daemon_, "s@39", "running");

        /* {"method":"status","params":{"units":["big","big",…]}} */
        line = malloc(NAMES * 7 + 128);
        assert_non_null(line);
        pos = (size_t) sprintf(line, "{\"method\":\"status\",\"params\":{\"units\":[");
        for (int i = 0; i < NAMES; i++)
                pos += (size_t) sprintf(line + pos, "%s\"big\"", i ? "," : "");
        strcpy(line + pos, "]}}\n");

        hwm = vm_hwm_kb(daemon_.pid);
        usec_t start = now(CLOCK_MONOTONIC);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                request_child(&daemon_, uid, gid, line, /* out_fd= */ -1);
        /* meanwhile, root's status */
        usleep(20 * 1000);
        {
                _cleanup_close_ int fd = raw_connect(&daemon_);
                usec_t t = now(CLOCK_MONOTONIC);
                raw_send_str(fd, "{\"method\":\"status\",\"params\":{\"units\":[\"s@0\"]}}\n");
                json_decref(raw_read_reply(fd));
                print_message("root's status while the big one is served: %.3f s\n",
                              (double) (now(CLOCK_MONOTONIC) - t) / USEC_PER_SEC);
                assert_true(now(CLOCK_MONOTONIC) - t < USEC_PER_SEC);
        }
        assert_int_equal(child_wait(pid), 0);

        /* the big one itself, as the user, for its content */
        reply_text = request_as(&daemon_, uid, gid, line, &len);
        print_message("%d names of a unit with %d processes: %zu bytes in %.2f s (both requests); VmHWM %lu → %lu kB\n",
                      NAMES, TREE + 1, len, (double) (now(CLOCK_MONOTONIC) - start) / USEC_PER_SEC, hwm,
                      vm_hwm_kb(daemon_.pid));
        reply = parse_json(reply_text);
        units = json_object_get(json_object_get(reply, "result"), "units");
        assert_int_equal(json_array_size(units), 1);
        assert_int_equal(json_array_size(json_object_get(json_array_get(units, 0), "processes")), TREE + 1);
        json_decref(reply);
#ifdef __SANITIZE_ADDRESS__
        print_message("(corrald's memory not checked under ASan: its quarantine keeps what is freed)\n");
#else
        assert_true(vm_hwm_kb(daemon_.pid) - hwm < 64 * 1024); /* before: 224 MB */
#endif

        /* 40 units named: the first 32 with processes */
        answer = malloc(UNITS * 12 + 128);
        assert_non_null(answer);
        pos = (size_t) sprintf(answer, "{\"method\":\"status\",\"params\":{\"units\":[");
        for (int i = 0; i < UNITS; i++)
                pos += (size_t) sprintf(answer + pos, "%s\"s@%d\"", i ? "," : "", i);
        strcpy(answer + pos, "]}}\n");
        reply_text = mfree(reply_text);
        reply_text = request_as(&daemon_, uid, gid, answer, &len);
        reply = parse_json(reply_text);
        units = json_object_get(json_object_get(reply, "result"), "units");
        assert_int_equal(json_array_size(units), UNITS);
        for (int i = 0; i < UNITS; i++) {
                json_t *u = json_array_get(units, (size_t) i);
                char name[16];
                snprintf(name, sizeof(name), "s@%d", i);
                assert_string_equal(json_string_value(json_object_get(u, "name")), name);
                assert_int_equal(json_object_get(u, "processes") != NULL, i < (int) CONTROL_DETAILED_MAX);
        }
        json_decref(reply);

        assert_true(test_daemon_stop_cleanly(&daemon_));
        assert_int_equal(test_count_marker(marker), 0);
}

/* ---- large answers ---- */

static unsigned count_lines(const char *s) {
        unsigned n = 0;

        for (; *s; s++)
                n += *s == '\n';
        return n;
}

/* Reads a reply in pages on fd: lines of at most 1 MiB, each but the last
 * with "more": true — or, bare, each but the last a bare array of units,
 * the last the result without them. (Not raw_read_line(): it peeks, and a
 * page may be longer than the socket's buffer.) Returns the number of
 * units in all; the number of lines in *ret_pages. */
static size_t read_pages(int fd, bool bare, unsigned *ret_pages) {
        size_t units = 0, n = 0, size = 2 * 1024 * 1024;
        _cleanup_free_ char *buf = malloc(size);
        unsigned pages = 0;
        bool more = true;

        assert_non_null(buf);
        while (more) {
                char *nl = n > 0 ? memchr(buf, '\n', n) : NULL;
                if (!nl) {
                        struct pollfd p = { .fd = fd, .events = POLLIN };
                        assert_int_equal(poll(&p, 1, 30 * 1000), 1);
                        assert_true(n < size);
                        ssize_t k = recv(fd, buf + n, size - n, 0);
                        assert_true(k > 0);
                        n += (size_t) k;
                        continue;
                }
                size_t len = (size_t) (nl - buf) + 1;
                assert_true(len <= 1024 * 1024);
                json_error_t error;
                json_t *page = json_loadb(buf, len - 1, 0, &error);
                assert_non_null(page);
                pages++;
                assert_int_equal(json_is_array(page), bare && buf[0] == '[');
                if (json_is_array(page)) {
                        assert_true(json_array_size(page) > 0);
                        assert_non_null(json_object_get(json_array_get(page, 0), "name"));
                        units += json_array_size(page);
                        json_decref(page);
                        memmove(buf, buf + len, n - len);
                        n -= len;
                        continue;
                }
                assert_true(json_is_true(json_object_get(page, "ok")));
                if (bare) { /* the end: no units, no more */
                        assert_null(json_object_get(json_object_get(page, "result"), "units"));
                        assert_null(json_object_get(page, "more"));
                }
                units += json_array_size(json_object_get(json_object_get(page, "result"), "units"));
                more = json_is_true(json_object_get(page, "more"));
                if (!more)
                        assert_true(json_is_object(json_object_get(json_object_get(page, "result"), "daemon")));
                json_decref(page);
                memmove(buf, buf + len, n - len);
                n -= len;
        }
        assert_int_equal(n, 0);
        *ret_pages = pages;
        return units;
}

/* 4000 running units: status --json, list and status give all of them
 * (the reply, some 2 MB, comes in pages of at most 1 MiB, made as the
 * client reads); a client that does not read holds up nobody. */
static void test_large_replies(void **state) {
        enum { N = 4000 };
        _cleanup_free_ char *body = NULL, *out = NULL;
        unsigned pages = 0;
        usec_t start;
        json_t *j;

        body = strdup("");
        for (const char *p = "abcd"; *p; p++) {
                char *b = NULL;
                assert_true(asprintf(&b, "%s[program:%c]\ncommand = sleep 1000\ninstances = 1000\noutput = null\n",
                                     body, *p) > 0);
                free(body);
                body = b;
        }
        start = now(CLOCK_MONOTONIC);
        start_daemon(&daemon_, "large", body);
        /* slow here under ASan, on a busy machine: look once a second */
        for (usec_t end = start + 20 * TIMEOUT; test_daemon_log_count(&daemon_, ": started, main PID") < N;) {
                assert_true(now(CLOCK_MONOTONIC) < end);
                usleep(USEC_PER_SEC);
        }
        print_message("%d units started in %.1f s\n", N, (double) (now(CLOCK_MONOTONIC) - start) / USEC_PER_SEC);

        start = now(CLOCK_MONOTONIC);
        out = CTL_OK(&daemon_, NULL, 0, "status", "--json");
        print_message("status --json: %zu bytes in %.2f s\n", strlen(out),
                      (double) (now(CLOCK_MONOTONIC) - start) / USEC_PER_SEC);
        assert_true(strlen(out) > 1024 * 1024);
        j = parse_json(out);
        assert_int_equal(json_array_size(j), N);
        assert_non_null(json_units_find(j, "a@0"));
        assert_non_null(json_units_find(j, "d@999"));
        assert_string_equal(json_string_value(json_object_get(json_array_get(j, N - 1), "name")), "d@999");
        assert_string_equal(json_string_value(json_object_get(json_array_get(j, N - 1), "state")), "running");
        json_decref(j);
        out = mfree(out);

        out = CTL_OK(&daemon_, NULL, 0, "list");
        assert_int_equal(count_lines(out), N);
        out = mfree(out);
        out = CTL_OK(&daemon_, NULL, 0, "status");
        assert_int_equal(count_lines(out), N + 1); /* and the heading */
        out = mfree(out);

        /* raw: pages; one that does not read for a while holds up nobody */
        {
                _cleanup_close_ int slow = raw_connect(&daemon_), fd = -EBADF;
                raw_send_str(slow, "{\"method\":\"status\"}\n");
                usleep(500 * 1000);
                fd = raw_connect(&daemon_);
                usec_t t = now(CLOCK_MONOTONIC);
                raw_send_str(fd, "{\"method\":\"status\",\"params\":{\"units\":[\"a@0\"]}}\n");
                json_decref(raw_read_reply(fd));
                assert_true(now(CLOCK_MONOTONIC) - t < USEC_PER_SEC);
                assert_int_equal(read_pages(slow, /* bare= */ false, &pages), N);
                print_message("a status of %d units in %u pages\n", N, pages);
                assert_true(pages >= 3);
                /* bare: the same units in bare arrays, then the result */
                raw_send_str(slow, "{\"method\":\"status\",\"params\":{\"bare\":true,\"stats\":false}}\n");
                assert_int_equal(read_pages(slow, /* bare= */ true, &pages), N);
                assert_true(pages >= 3);
                raw_send_str(slow, "{\"method\":\"status\",\"params\":{\"bare\":true,\"units\":[\"b@7\"]}}\n");
                assert_int_equal(read_pages(slow, /* bare= */ true, &pages), 1);
                assert_int_equal(pages, 2);
                /* both connections go on */
                raw_send_str(slow, "{\"method\":\"status\",\"params\":{\"units\":[\"d@999\"]}}\n");
                json_t *reply = raw_read_reply(slow);
                assert_true(json_is_true(json_object_get(reply, "ok")));
                json_decref(reply);
                raw_send_str(fd, "{\"method\":\"nope\"}\n");
                reply = raw_read_reply(fd);
                assert_error_reply(reply, "EOPNOTSUPP", EOPNOTSUPP);
                json_decref(reply);
        }
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* ---- out of file descriptors ---- */

static unsigned count_fds(pid_t pid) {
        _cleanup_free_ char *path = NULL;
        unsigned n = 0;
        DIR *d;

        assert_true(asprintf(&path, "/proc/%d/fd", (int) pid) > 0);
        d = opendir(path);
        assert_non_null(d);
        for (struct dirent *de; (de = readdir(d));)
                n += de->d_name[0] != '.';
        closedir(d);
        return n;
}

/* utime + stime of pid, in seconds. */
static double cpu_seconds(pid_t pid) {
        _cleanup_free_ char *path = NULL, *buf = NULL;
        unsigned long utime = 0, stime = 0;
        const char *p;

        assert_true(asprintf(&path, "/proc/%d/stat", (int) pid) > 0);
        assert_int_equal(read_full_file_at(AT_FDCWD, path, 4096, &buf, NULL), 0);
        p = strrchr(buf, ')');
        assert_non_null(p);
        /* ") S ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime" */
        assert_int_equal(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime), 2);
        return (double) (utime + stime) / (double) sysconf(_SC_CLK_TCK);
}

/* corrald with all but a few file descriptors in use (RLIMIT_NOFILE
 * lowered with prlimit) and 30 connections waiting in the backlog: accept() fails
 * with EMFILE, and corrald pauses rather than spin on the readable socket
 * (its CPU time over 2 s stays low); once clients go, the one that waited
 * is served. */
static void test_accept_out_of_fds(void **state) {
        enum { WAITING = 30 };
        int fds[WAITING], waiter;
        struct rlimit old, low;
        double before, used;
        json_t *reply;

        start_daemon(&daemon_, "emfile", "[program:a]\ncommand = sleep 1000\n");
        wait_state(&daemon_, "a", "running");
        assert_int_equal(prlimit(daemon_.pid, RLIMIT_NOFILE, NULL, &old), 0);
        /* the soft limit only: raising a hard limit back needs CAP_SYS_RESOURCE */
        low = (struct rlimit) { .rlim_cur = count_fds(daemon_.pid) + 3, .rlim_max = old.rlim_max };
        print_message("corrald has %u descriptors open; RLIMIT_NOFILE %lu\n", count_fds(daemon_.pid),
                      (unsigned long) low.rlim_cur);
        assert_int_equal(prlimit(daemon_.pid, RLIMIT_NOFILE, &low, NULL), 0);

        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                fds[i] = raw_connect(&daemon_);
        usleep(200 * 1000);
        before = cpu_seconds(daemon_.pid);
        usleep(2 * USEC_PER_SEC);
        used = cpu_seconds(daemon_.pid) - before;
        print_message("corrald used %.2f s of CPU in 2 s with %d connections waiting\n", used, WAITING);
        assert_true(used < 0.3);
        assert_true(test_daemon_log_count(&daemon_, "cannot accept connections: Too many open files") >= 1);

        /* one more waits with a request; then the others go */
        waiter = raw_connect(&daemon_);
        raw_send_str(waiter, "{\"method\":\"status\"}\n");
        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                close(fds[i]);
        reply = raw_read_reply(waiter);
        assert_true(json_is_true(json_object_get(reply, "ok")));
        json_decref(reply);
        close(waiter);

        assert_int_equal(prlimit(daemon_.pid, RLIMIT_NOFILE, &old, NULL), 0);
        assert_true(test_daemon_alive(&daemon_));
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_invalid_utf8, teardown),
                cmocka_unit_test_teardown(test_socket_dir_refused, teardown),
                cmocka_unit_test_teardown(test_socket_mode_without_window, teardown),
                cmocka_unit_test_teardown(test_refused_flood_rate_limited, teardown),
                cmocka_unit_test_teardown(test_accept_out_of_fds, teardown),
                cmocka_unit_test_teardown(test_status_request_bounded, teardown),
                cmocka_unit_test_teardown(test_large_replies, teardown),
        };
        int r;

        test_require_cgroup2_root();
        (void) corralctl_path();
        user_created = ensure_user(TEST_USER);
        r = cmocka_run_group_tests_name("control-attacks", tests, NULL, NULL);
        remove_user(TEST_USER, user_created);
        return r;
}
