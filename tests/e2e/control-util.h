/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Shared by the end-to-end tests of the control socket (test-control.c,
 * test-control-attacks.c): corralctl as a child, units read over the
 * socket, raw clients, non-root users made with useradd. Every check is a
 * cmocka assertion: a failure fails the calling test. */

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "test-util.h"

#define TIMEOUT (30 * USEC_PER_SEC)

/* $CORRALCTL; exits 77 (skip) without it. */
const char *corralctl_path(void);

/* What a finished corralctl left: its exit status (128+signal when a
 * signal ended it), its stdout and stderr. */
typedef struct Ctl {
        int status;
        char *out;
        char *err;
} Ctl;

void ctl_done(Ctl *c);

/* Starts corralctl --socket d->socket ARGS… (as user when not NULL, through
 * setpriv without any supplementary group), stdout and stderr to the given
 * fds (-1: /dev/null). Returns its PID; it dies with the test and after
 * 120 s at the latest. */
pid_t ctl_spawn(const TestDaemon *d, const char *user, int out_fd, int err_fd, const char *const *args);

/* Waits for a child; returns its exit status, 128+signal when killed. */
int child_wait(pid_t pid);

/* Runs corralctl ARGS… to the end, its output in memfds. */
Ctl ctl_argv(const TestDaemon *d, const char *user, const char *const *args);

/* CTL(d, user, "status", "--json") */
#define CTL(d, user, ...) ctl_argv(d, user, (const char *const[]) { __VA_ARGS__, NULL })

/* Runs corralctl and checks its exit status; returns its stdout. */
#define CTL_OK(d, user, expect, ...)                                                                              \
        ({                                                                                                        \
                Ctl _c = CTL(d, user, __VA_ARGS__);                                                               \
                if (_c.status != (expect))                                                                        \
                        print_message("unexpected exit %d, stdout: %s\nstderr: %s\n", _c.status, _c.out, _c.err); \
                assert_int_equal(_c.status, (expect));                                                            \
                free(_c.err);                                                                                     \
                _c.out;                                                                                           \
        })

/* Starts corrald (test_daemon_start()) and waits until its socket answers. */
void start_daemon(TestDaemon *d, const char *what, const char *body);

/* The unit object `name` of a status request over the socket, as a new
 * reference; NULL when there is no such unit. */
json_t *unit_json(const TestDaemon *d, const char *name);
pid_t unit_main_pid(const TestDaemon *d, const char *name);
/* The unit's state ("(none)" for no such unit); the caller frees it. */
char *unit_state(const TestDaemon *d, const char *name);
/* Waits until the unit is in state, or fails the test. */
void wait_state(const TestDaemon *d, const char *unit, const char *state);

/* The filesystem path of a unit's cgroup (file NULL) or of a file in it. */
char *unit_cgroup_file(const TestDaemon *d, const char *unit, const char *file);

typedef struct FrozenWait {
        const TestDaemon *d;
        const char *unit;
        bool frozen;
} FrozenWait;

/* cgroup.events says "frozen 1" once every task is frozen: freezing is
 * asynchronous in the kernel (5.2). */
bool cgroup_frozen_is(void *userdata);
void wait_frozen(const TestDaemon *d, const char *unit, bool frozen);

/* Parses the output of corralctl --json (one JSON document). */
json_t *parse_json(const char *text);

/* The unit named `name` in `status --json` output: the array of units (or
 * an object holding "units"). Borrowed from j. */
json_t *json_units_find(json_t *j, const char *name);

/* The non-root user: its ids; made when missing (returns whether it was,
 * for remove_user()); the calling test skipped when it is missing or
 * cannot run corralctl (a build directory the user may not enter). */
bool user_ids(const char *user, uid_t *ret_uid, gid_t *ret_gid);
bool ensure_user(const char *user);
void remove_user(const char *user, bool created);
void require_user(const TestDaemon *d, const char *user);

/* The test's directory (mkdtemp: 0700) is opened to everyone, as
 * /run/corral is (0755). */
void open_socket_dir(const TestDaemon *d);
mode_t socket_mode(const TestDaemon *d);

/* ---- raw clients ---- */

int raw_connect(const TestDaemon *d);
/* Writes what it can of buf (the peer may close half-way). */
void raw_send(int fd, const char *buf, size_t n);
void raw_send_str(int fd, const char *s);
/* Reads one line within timeout_ms. Returns 1 with the line (without its
 * newline) in *ret, 0 when the peer closed the connection (EOF, or
 * ECONNRESET: a Unix socket closed with unread data), -ETIMEDOUT. */
int raw_read_line(int fd, int timeout_ms, char **ret);
/* Reads a reply within 10 s and parses it. */
json_t *raw_read_reply(int fd);
/* Checks that reply is an error reply with that errno name and number and
 * a message. */
void assert_error_reply(json_t *reply, const char *name, int code);
/* A status request on fd is answered with ok within 1 s. */
void assert_status_ok(int fd);
/* Sends line on a new connection: the reply is the error `name` (`code`),
 * and the connection goes on serving (a status right after it). */
void expect_error(const TestDaemon *d, const char *line, const char *name, int code);

/* Appends text to the daemon's configuration file. */
void append_config(const TestDaemon *d, const char *text);
