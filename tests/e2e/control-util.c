/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the control tests share: corralctl run as a child (as root or as a
 * user under setpriv), the daemon's units read over the socket, raw
 * clients, and the non-root test users. */

#include "control-util.h"

#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"
#include "macro.h"

const char *corralctl_path(void) {
        const char *p = getenv("CORRALCTL");

        if (!p) {
                fprintf(stderr, "SKIP: $CORRALCTL is not set: run the tests through meson\n");
                exit(77);
        }
        return p;
}

/* ---- corralctl as a child ---- */

void ctl_done(Ctl *c) {
        c->out = mfree(c->out);
        c->err = mfree(c->err);
}

static int child_status(int status) {
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Starts corralctl --socket d->socket ARGS… (as user when not NULL, through
 * setpriv without any supplementary group), stdout and stderr to the given
 * fds (-1: /dev/null). Returns its PID; it dies with the test and after
 * 120 s at the latest (SIGALRM survives execve), so that a hung corralctl
 * fails the test instead of blocking it. */
pid_t ctl_spawn(const TestDaemon *d, const char *user, int out_fd, int err_fd, const char *const *args) {
        _cleanup_free_ char *reuid = NULL, *regid = NULL;
        const char *argv[64];
        size_t n = 0;
        pid_t pid;

        if (user) {
                assert_true(asprintf(&reuid, "--reuid=%s", user) > 0);
                assert_true(asprintf(&regid, "--regid=%s", user) > 0);
                argv[n++] = "setpriv";
                argv[n++] = reuid;
                argv[n++] = regid;
                argv[n++] = "--clear-groups";
        }
        argv[n++] = corralctl_path();
        argv[n++] = "--socket";
        argv[n++] = d->socket;
        for (; *args && n < ELEMENTSOF(argv) - 1; args++)
                argv[n++] = *args;
        argv[n] = NULL;

        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                (void) dup2(null, STDIN_FILENO);
                (void) dup2(out_fd >= 0 ? out_fd : null, STDOUT_FILENO);
                (void) dup2(err_fd >= 0 ? err_fd : null, STDERR_FILENO);
                alarm(120);
                execvp(argv[0], (char **) argv);
                _exit(127);
        }
        return pid;
}

int child_wait(pid_t pid) {
        int status;

        assert_int_equal(waitpid(pid, &status, 0), pid);
        return child_status(status);
}

static char *memfd_text(int fd) {
        struct stat st;
        char *buf;

        assert_int_equal(fstat(fd, &st), 0);
        buf = calloc(1, (size_t) st.st_size + 1);
        assert_non_null(buf);
        assert_int_equal(pread(fd, buf, (size_t) st.st_size, 0), st.st_size);
        return buf;
}

Ctl ctl_argv(const TestDaemon *d, const char *user, const char *const *args) {
        int out = memfd_create("corralctl-out", MFD_CLOEXEC), err = memfd_create("corralctl-err", MFD_CLOEXEC);
        Ctl c;

        assert_true(out >= 0 && err >= 0);
        c.status = child_wait(ctl_spawn(d, user, out, err, args));
        c.out = memfd_text(out);
        c.err = memfd_text(err);
        close(out);
        close(err);
        print_message("corralctl%s%s%s %s%s: exit %d\n", user ? " (as " : "", user ?: "", user ? ")" : "", args[0],
                      args[1] ? " …" : "", c.status);
        return c;
}

/* ---- the daemon ---- */

static bool socket_answers(void *userdata) {
        const TestDaemon *d = userdata;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d->socket);
        return fd >= 0 && connect(fd, (struct sockaddr *) &sa, sizeof(sa)) >= 0;
}

void start_daemon(TestDaemon *d, const char *what, const char *body) {
        assert_int_equal(test_daemon_start(d, what, body), 0);
        assert_true(test_wait_for(socket_answers, d, TIMEOUT));
}

/* The unit object `name` of a status request over the socket, as a new
 * reference; NULL when there is no such unit. */
json_t *unit_json(const TestDaemon *d, const char *name) {
        json_t *status = test_daemon_request(d, "status", NULL, NULL), *u;

        assert_non_null(status);
        u = json_incref(test_status_unit(status, name));
        json_decref(status);
        return u;
}

pid_t unit_main_pid(const TestDaemon *d, const char *name) {
        json_t *u = unit_json(d, name);
        pid_t pid;

        assert_non_null(u);
        pid = (pid_t) json_integer_value(json_object_get(u, "main_pid"));
        json_decref(u);
        return pid;
}

char *unit_state(const TestDaemon *d, const char *name) {
        json_t *u = unit_json(d, name);
        char *s;

        if (!u)
                return strdup("(none)");
        s = strdup(json_string_value(json_object_get(u, "state")) ?: "?");
        json_decref(u);
        return s;
}

typedef struct StateWait {
        const TestDaemon *d;
        const char *unit, *state;
} StateWait;

static bool unit_in_state(void *userdata) {
        const StateWait *w = userdata;
        _cleanup_free_ char *s = unit_state(w->d, w->unit);
        return streq(s, w->state);
}

void wait_state(const TestDaemon *d, const char *unit, const char *state) {
        StateWait w = { d, unit, state };
        if (!test_wait_for(unit_in_state, &w, TIMEOUT)) {
                _cleanup_free_ char *s = unit_state(d, unit);
                print_message("%s: state %s, expected %s\n", unit, s, state);
                fail();
        }
}

/* The filesystem path of a unit's cgroup file. */
char *unit_cgroup_file(const TestDaemon *d, const char *unit, const char *file) {
        _cleanup_free_ char *fs = test_cgroup_fs_path(d->cgroup);
        char *p;

        assert_true(asprintf(&p, "%s/%s%s%s", fs, unit, file ? "/" : "", file ?: "") > 0);
        return p;
}

/* cgroup.events says "frozen 1" once every task is frozen: freezing is
 * asynchronous in the kernel (5.2). */
bool cgroup_frozen_is(void *userdata) {
        const FrozenWait *w = userdata;
        _cleanup_free_ char *path = unit_cgroup_file(w->d, w->unit, "cgroup.events"), *buf = NULL;

        if (read_full_file_at(AT_FDCWD, path, 4096, &buf, NULL) < 0)
                return false;
        return strstr(buf, w->frozen ? "frozen 1" : "frozen 0") != NULL;
}

void wait_frozen(const TestDaemon *d, const char *unit, bool frozen) {
        FrozenWait w = { d, unit, frozen };
        assert_true(test_wait_for(cgroup_frozen_is, &w, TIMEOUT));
}

/* Parses the output of corralctl --json (one JSON document). */
json_t *parse_json(const char *text) {
        json_error_t error;
        json_t *j = json_loads(text, 0, &error);

        if (!j)
                print_message("not JSON (%s): %s\n", error.text, text);
        assert_non_null(j);
        return j;
}

/* The unit named `name` in `status --json` output: the array of units (or
 * an object holding "units"). Borrowed from j. */
json_t *json_units_find(json_t *j, const char *name) {
        json_t *units = json_is_array(j) ? j : json_object_get(j, "units"), *u;
        size_t i;

        assert_true(json_is_array(units));
        json_array_foreach(units, i, u) if (streq_ptr(json_string_value(json_object_get(u, "name")), name)) return u;
        return NULL;
}

/* ---- the non-root user ---- */

bool user_ids(const char *user, uid_t *ret_uid, gid_t *ret_gid) {
        struct passwd *pw = getpwnam(user);

        if (!pw)
                return false;
        *ret_uid = pw->pw_uid;
        *ret_gid = pw->pw_gid;
        return true;
}

bool ensure_user(const char *user) {
        _cleanup_free_ char *cmd = NULL;
        uid_t uid;
        gid_t gid;

        if (user_ids(user, &uid, &gid))
                return false;
        /* a system user with a group of its own (Debian's USERGROUPS_ENAB) */
        if (asprintf(&cmd, "useradd --system --no-create-home --shell /usr/sbin/nologin %s >/dev/null 2>&1", user) < 0)
                abort();
        return system(cmd) == 0 && user_ids(user, &uid, &gid);
}

void remove_user(const char *user, bool created) {
        _cleanup_free_ char *cmd = NULL;

        if (!created)
                return;
        if (asprintf(&cmd, "userdel %s >/dev/null 2>&1", user) < 0)
                abort();
        if (system(cmd) != 0)
                fprintf(stderr, "warning: userdel %s failed\n", user);
}

/* Skips the calling test when the user is missing or cannot run corralctl
 * (a build directory the user may not enter). */
void require_user(const TestDaemon *d, const char *user) {
        uid_t uid;
        gid_t gid;

        if (!user_ids(user, &uid, &gid)) {
                print_message("SKIP: no user %s (useradd failed)\n", user);
                skip();
        }
        if (child_wait(ctl_spawn(d, user, -1, -1, (const char *const[]) { "--version", NULL })) != 0) {
                print_message("SKIP: %s cannot run %s under setpriv\n", user, corralctl_path());
                skip();
        }
}

/* The test's directory (mkdtemp: 0700) is opened to everyone, as
 * /run/corral is (0755). */
void open_socket_dir(const TestDaemon *d) {
        assert_int_equal(chmod(d->dir, 0755), 0);
}

mode_t socket_mode(const TestDaemon *d) {
        struct stat st;

        assert_int_equal(stat(d->socket, &st), 0);
        return st.st_mode & 07777;
}

/* ---- raw clients ---- */

int raw_connect(const TestDaemon *d) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d->socket);
        assert_int_equal(connect(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        return fd;
}

/* Writes what it can of buf (the peer may close half-way). */
void raw_send(int fd, const char *buf, size_t n) {
        while (n > 0) {
                ssize_t k = send(fd, buf, n, MSG_NOSIGNAL);
                if (k < 0)
                        return;
                buf += k;
                n -= (size_t) k;
        }
}

void raw_send_str(int fd, const char *s) {
        raw_send(fd, s, strlen(s));
}

/* Reads one line within timeout_ms. Returns 1 with the line (without its
 * newline) in *ret, 0 when the peer closed the connection (EOF, or
 * ECONNRESET: a Unix socket closed with unread data), -ETIMEDOUT. */
int raw_read_line(int fd, int timeout_ms, char **ret) {
        usec_t end = now(CLOCK_MONOTONIC) + (usec_t) timeout_ms * USEC_PER_MSEC;
        static char buf[1 << 20];

        for (;;) {
                usec_t n = now(CLOCK_MONOTONIC);
                struct pollfd p = { .fd = fd, .events = POLLIN };

                if (n >= end || poll(&p, 1, (int) ((end - n) / USEC_PER_MSEC) + 1) == 0)
                        return -ETIMEDOUT;
                ssize_t k = recv(fd, buf, sizeof(buf), MSG_PEEK);
                if (k < 0 && errno == ECONNRESET)
                        return 0;
                assert_true(k >= 0);
                if (k == 0)
                        return 0;
                char *nl = memchr(buf, '\n', (size_t) k);
                if (!nl) {
                        assert_true((size_t) k < sizeof(buf));
                        usleep(1000); /* a partial line: let the rest arrive */
                        continue;
                }
                size_t len = (size_t) (nl - buf) + 1;
                assert_int_equal(recv(fd, buf, len, 0), (ssize_t) len);
                *ret = strndup(buf, len - 1);
                assert_non_null(*ret);
                return 1;
        }
}

/* Reads a reply within 10 s and parses it. */
json_t *raw_read_reply(int fd) {
        _cleanup_free_ char *line = NULL;

        assert_int_equal(raw_read_line(fd, 10 * 1000, &line), 1);
        return parse_json(line);
}

/* Checks that reply is an error reply with that errno name and number and
 * a message. */
void assert_error_reply(json_t *reply, const char *name, int code) {
        json_t *error = json_object_get(reply, "error");

        assert_true(json_is_false(json_object_get(reply, "ok")));
        assert_true(json_is_object(error));
        if (!streq_ptr(json_string_value(json_object_get(error, "errno")), name))
                print_message("expected %s, got %s\n", name,
                              json_string_value(json_object_get(error, "errno")) ?: "(none)");
        assert_string_equal(json_string_value(json_object_get(error, "errno")), name);
        assert_int_equal(json_integer_value(json_object_get(error, "code")), code);
        assert_true(json_is_string(json_object_get(error, "message")));
        assert_true(strlen(json_string_value(json_object_get(error, "message"))) > 0);
}

/* A status request on fd is answered with ok within 1 s. */
void assert_status_ok(int fd) {
        usec_t start = now(CLOCK_MONOTONIC);
        json_t *reply;

        raw_send_str(fd, "{\"method\":\"status\"}\n");
        reply = raw_read_reply(fd);
        assert_true(json_is_true(json_object_get(reply, "ok")));
        assert_true(json_is_array(json_object_get(json_object_get(reply, "result"), "units")));
        json_decref(reply);
        assert_true(now(CLOCK_MONOTONIC) - start < USEC_PER_SEC);
}

/* Sends line on a new connection: the reply is the error `name` (`code`),
 * and the connection goes on serving (a status right after it). */
void expect_error(const TestDaemon *d, const char *line, const char *name, int code) {
        _cleanup_close_ int fd = raw_connect(d);
        json_t *reply;

        print_message("request %.100s → %s\n", line, name);
        raw_send_str(fd, line);
        reply = raw_read_reply(fd);
        assert_error_reply(reply, name, code);
        json_decref(reply);
        assert_status_ok(fd);
}

void append_config(const TestDaemon *d, const char *text) {
        _cleanup_free_ char *conf = NULL, *new = NULL;

        assert_int_equal(read_full_file_at(AT_FDCWD, d->config, 1 << 20, &conf, NULL), 0);
        assert_true(asprintf(&new, "%s%s", conf, text) > 0);
        assert_int_equal(test_write_file(d->config, new), 0);
}
