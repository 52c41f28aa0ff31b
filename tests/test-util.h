/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Shared by the tests that work on the real thing: a cgroup subtree of
 * their own, real processes, a real corrald. Everything here cleans up
 * after itself and kills only what it started (by pidfd or cgroup.kill of
 * a cgroup it created), never by name. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "time-util.h"

/* Exits 77 (a skip for meson, with the reason on stderr) unless we are
 * root on a writable cgroup2 hierarchy with cgroup.kill (5.14). */
void test_require_cgroup2_root(void);

/* The cgroup2 mount point (cached; aborts the test when there is none). */
const char *test_cgroup_mount(void);

/* A new unique cgroup path for this test, like "/corral-test-spawn-4242-7",
 * not created. The caller frees it. */
char *test_cgroup_path(const char *what);

/* The filesystem path of a cgroup path: mount + path. Caller frees. */
char *test_cgroup_fs_path(const char *cgroup_path);

/* Kills everything in the cgroup subtree at cgroup path `path` with
 * cgroup.kill, waits (up to 10 s) until it is empty, and removes it and the
 * cgroups below it. A missing cgroup is fine. Returns 0, or -errno. */
int test_cgroup_destroy(const char *path);

/* Whether the cgroup path exists. */
bool test_cgroup_exists(const char *path);

/* Waits up to timeout for the cgroup path to be gone: corrald removes an
 * ended unit's cgroup after its answer, once no unit is stopping (at most
 * a second later). */
bool test_wait_cgroup_gone(const char *path, usec_t timeout);

/* The inotify watches process pid holds, over all its inotify
 * descriptors (the "inotify wd:" lines of /proc/PID/fdinfo). -errno. */
int test_count_inotify_watches(pid_t pid);

/* Counts the live processes whose environment holds the exact entry
 * CORRAL_TEST_MARKER=marker, by scanning /proc/[pid]/environ (never by
 * name or PID). Zombies have no readable environment and do not count. */
int test_count_marker(const char *marker);

/* A new unique marker value. Caller frees. */
char *test_marker_new(const char *what);

/* Counts zombie children of pid (state Z in /proc/[pid]/stat with that
 * parent). */
int test_count_zombie_children(pid_t parent);

/* Polls cond(userdata) every 10 ms until it is true or timeout passes.
 * Tests poll; corrald never does. Returns whether cond became true. */
bool test_wait_for(bool (*cond)(void *userdata), void *userdata, usec_t timeout);

/* A corrald started by a test: its configuration file, its log (stdout and
 * stderr), its pidfd. */
typedef struct TestDaemon {
        pid_t pid;
        int pidfd;
        char *dir;       /* a temporary directory for config and log */
        char *config;    /* dir/corral.conf */
        char *log;       /* dir/corrald.log */
        char *socket;    /* dir/control.sock, the control socket unless the body names one */
        char *cgroup;    /* the cgroup path the configuration names */
        int exit_status; /* after test_daemon_wait(): the exit status, or 128+signal */
} TestDaemon;

/* Writes the configuration "[corral]\ncgroup = CGROUP\ncontrol_socket =
 * DIR/control.sock\n" + body (a body that starts with "[corral]\n" adds
 * to that section; one that names control_socket keeps its own), and
 * starts $CORRALD --config on it. Returns 0 or -errno. */
int test_daemon_start(TestDaemon *d, const char *what, const char *body);

/* The same on a given cgroup path (e.g. another daemon's). */
int test_daemon_start_cgroup(TestDaemon *d, const char *cgroup, const char *body);
/* The same as test_daemon_start(), corrald started with RLIMIT_NOFILE
 * nofile (it may be lower than the test's own, soft and hard). */
int test_daemon_start_nofile(TestDaemon *d, const char *what, const char *body, const struct rlimit *nofile);

/* Reads the log so far (malloc'd, NUL-terminated; never NULL). */
char *test_daemon_log(const TestDaemon *d);

/* Waits until the log holds needle at least `count` times. */
bool test_daemon_wait_log(const TestDaemon *d, const char *needle, unsigned count, usec_t timeout);

/* For each log line holding needle (at most max), the line's timestamp in
 * µs since the epoch (millisecond precision, as corrald writes them).
 * Returns how many were found. */
size_t test_daemon_log_times(const TestDaemon *d, const char *needle, usec_t *times, size_t max);

/* For each log line holding needle (at most max), the time span that
 * follows needle up to " (" or the end of the line ("restarting in 52ms
 * 178us (…" → 52178). Returns how many were found. */
size_t test_daemon_log_spans(const TestDaemon *d, const char *needle, usec_t *spans, size_t max);

/* Counts occurrences of needle in the log. */
unsigned test_daemon_log_count(const TestDaemon *d, const char *needle);

/* Sends one request over the control socket and returns the "result" of
 * the reply (a jansson json_t *, which the caller json_decref()s) — or
 * NULL for an error reply, with the error's errno name in *ret_errno if
 * given. params is JSON text or NULL. Aborts the test on I/O errors. */
struct json_t;
struct json_t *test_daemon_request(const TestDaemon *d, const char *method, const char *params, const char **ret_errno);

/* The unit object named name from a status reply (borrowed from it). */
struct json_t *test_status_unit(struct json_t *status, const char *name);

/* Whether corrald is still running. */
bool test_daemon_alive(const TestDaemon *d);

/* SIGTERM to corrald; true when it exits 0 within 60 s and its cgroup
 * subtree is gone (otherwise says why on stderr). */
bool test_daemon_stop_cleanly(TestDaemon *d);

/* Waits until min..max processes carry the marker. */
bool test_wait_marker(const char *marker, int min, int max, usec_t timeout);

/* Sends sig to corrald through its pidfd. */
int test_daemon_signal(const TestDaemon *d, int sig);

/* Waits up to timeout for corrald to exit; returns true with
 * d->exit_status set if it did. */
bool test_daemon_wait(TestDaemon *d, usec_t timeout);

/* Removes DIR/notify, where a corrald whose control socket is in DIR has
 * its notify socket (left behind by a corrald that was killed), and what
 * is in it. */
void test_remove_notify_dir(const char *dir);

/* Kills corrald if still running, destroys its cgroup subtree, deletes its
 * files (the notify directory beside the control socket too). Prints the log to stderr first (meson shows it for a failed
 * test). Safe to call twice. */
void test_daemon_cleanup(TestDaemon *d);

/* Writes buf to path (creating/truncating it). Returns 0 or -errno. */
int test_write_file(const char *path, const char *buf);

/* The path of a helper program built with the tests: $TEST_HELPERS_DIR/name. */
char *test_helper_path(const char *name);
