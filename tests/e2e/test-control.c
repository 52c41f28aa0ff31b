/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control socket end to end: every verb of the real corralctl against a
 * real corrald, checked on real processes and cgroups; permissions with a
 * real non-root user under setpriv; clients that misbehave on the socket
 * itself; jobs (exit statuses, cancel of a tree that ignores SIGTERM,
 * timeouts, 200 at once). corralctl's output goes to memfds: it is piped,
 * never a terminal, so tables are plain text. */

#include <dirent.h>
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
#include <sys/resource.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "control-util.h"
#include "control.h"
#include "fileio.h"
#include "macro.h"
#include "syscall.h"
#include "test-util.h"

#define TEST_USER "corral-test-user"
/* A unit that survives SIGUSR1 and says so in corrald's log. */
#define TRAP_USR1 "sh -c 'trap \"echo got-usr1\" USR1; while :; do sleep 0.1; done'"

static TestDaemon daemon_;
static bool user_created;

static int teardown(void **state) {
        test_daemon_cleanup(&daemon_);
        return 0;
}

/* Without status_public and job_group, corrald creates its socket 0660
 * root:control_group, and the user cannot even connect. To show that
 * corrald itself refuses every request (from SO_PEERCRED), the test then
 * opens the socket to everyone (0666) — rather than putting the user in
 * control_group, which would make it a changer. */
static void open_socket_to_everyone(const TestDaemon *d) {
        open_socket_dir(d);
        assert_int_equal(socket_mode(d), 0660);
        Ctl c = CTL(d, TEST_USER, "status");
        print_message("%s", c.err);
        assert_int_equal(c.status, 1);
        assert_non_null(strstr(c.err, "cannot connect"));
        ctl_done(&c);
        assert_int_equal(chmod(d->socket, 0666), 0);
}

/* ---- every verb ---- */

/* status: a plain table when piped, --json parsed back, one unit in
 * detail, exit 3 for a unit that does not run and 4 for none; list. */
static void test_status(void **state) {
        _cleanup_free_ char *out = NULL, *line = NULL;
        json_t *j, *u;
        pid_t pid;

        start_daemon(&daemon_, "status",
                     "[program:a]\ncommand = " TRAP_USR1 "\n[program:b]\ncommand = sleep 1000\nautostart = no\n");
        wait_state(&daemon_, "a", "running");
        pid = unit_main_pid(&daemon_, "a");
        assert_true(pid > 0);

        /* piped: tab-separated, no colour */
        out = CTL_OK(&daemon_, NULL, 0, "status");
        print_message("%s", out);
        assert_true(strneq(out, "UNIT\tSTATE\tPID\t", strlen("UNIT\tSTATE\tPID\t")));
        assert_null(strstr(out, "  ")); /* tabs, no padding */
        assert_null(strchr(out, '\x1b'));
        assert_true(asprintf(&line, "\na\trunning\t%d\t", (int) pid) > 0);
        assert_non_null(strstr(out, line));
        assert_non_null(strstr(out, "\nb\tinactive\t-\t"));
        out = mfree(out);

        out = CTL_OK(&daemon_, NULL, 0, "status", "--json");
        j = parse_json(out);
        u = json_units_find(j, "a");
        assert_non_null(u);
        assert_string_equal(json_string_value(json_object_get(u, "state")), "running");
        assert_string_equal(json_string_value(json_object_get(u, "kind")), "service");
        assert_int_equal(json_integer_value(json_object_get(u, "main_pid")), pid);
        assert_true(json_is_integer(json_object_get(u, "tasks")));
        assert_true(json_integer_value(json_object_get(u, "tasks")) >= 1);
        assert_true(json_is_false(json_object_get(u, "frozen")));
        u = json_units_find(j, "b");
        assert_non_null(u);
        assert_string_equal(json_string_value(json_object_get(u, "state")), "inactive");
        assert_int_equal(json_integer_value(json_object_get(u, "main_pid")), 0);
        json_decref(j);
        out = mfree(out);

        /* the global --json, before the command */
        out = CTL_OK(&daemon_, NULL, 0, "--json", "status", "a");
        j = parse_json(out);
        assert_non_null(json_units_find(j, "a"));
        assert_null(json_units_find(j, "b"));
        json_decref(j);
        out = mfree(out);

        /* names and patterns that list a unit again list it once, in the
         * order first named */
        out = CTL_OK(&daemon_, NULL, 3, "--json", "status", "b", "a", "b", "[ab]", "?");
        j = parse_json(out);
        assert_int_equal(json_array_size(j), 2);
        assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "name")), "b");
        assert_string_equal(json_string_value(json_object_get(json_array_get(j, 1), "name")), "a");
        json_decref(j);
        out = mfree(out);

        out = CTL_OK(&daemon_, NULL, 0, "status", "a");
        line = mfree(line);
        assert_true(asprintf(&line, "Main PID: %d\n", (int) pid) > 0);
        assert_non_null(strstr(out, line));
        assert_non_null(strstr(out, "State: running"));
        out = mfree(out);

        out = CTL_OK(&daemon_, NULL, 3, "status", "b");
        assert_non_null(strstr(out, "State: inactive"));
        out = mfree(out);
        out = CTL_OK(&daemon_, NULL, 3, "status", "a", "b"); /* one of them does not run */
        out = mfree(out);

        Ctl c = CTL(&daemon_, NULL, "status", "no-such-unit");
        assert_int_equal(c.status, 4);
        assert_non_null(strstr(c.err, "no such unit"));
        ctl_done(&c);

        out = CTL_OK(&daemon_, NULL, 0, "list");
        assert_string_equal(out, "a\nb\n");
        out = mfree(out);
        out = CTL_OK(&daemon_, NULL, 0, "list", "--json");
        j = parse_json(out);
        assert_non_null(json_units_find(j, "b"));
        json_decref(j);

        assert_int_equal(unit_main_pid(&daemon_, "a"), pid);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

static bool path_exists(const char *p) {
        return access(p, F_OK) >= 0;
}

typedef struct NewPidWait {
        const TestDaemon *d;
        const char *unit;
        pid_t old;
} NewPidWait;

static bool unit_has_new_pid(void *userdata) {
        const NewPidWait *w = userdata;
        _cleanup_free_ char *s = unit_state(w->d, w->unit);
        pid_t pid = unit_main_pid(w->d, w->unit);
        return streq(s, "running") && pid > 0 && pid != w->old;
}

/* start, stop, restart: effects on the units' real processes (counted by
 * marker) and their cgroups. */
static void test_start_stop_restart(void **state) {
        _cleanup_free_ char *f = test_helper_path("test-forker"), *m1 = test_marker_new("ctl-s1"),
                            *m2 = test_marker_new("ctl-s2"), *body = NULL, *cg1 = NULL, *procs = NULL, *buf = NULL;
        pid_t pid1, pid2;
        size_t lines = 0;

        assert_true(asprintf(&body,
                             "[program:s1]\ncommand = %s tree 2\nautostart = no\nenvironment = CORRAL_TEST_MARKER=%s\n"
                             "[program:s2]\ncommand = %s tree 1\nautostart = no\nenvironment = CORRAL_TEST_MARKER=%s\n",
                             f, m1, f, m2) > 0);
        start_daemon(&daemon_, "ssr", body);
        cg1 = unit_cgroup_file(&daemon_, "s1", NULL);
        procs = unit_cgroup_file(&daemon_, "s1", "cgroup.procs");
        usleep(200 * 1000);
        assert_int_equal(test_count_marker(m1), 0);
        assert_false(path_exists(cg1));

        free(CTL_OK(&daemon_, NULL, 0, "start", "s1", "s2"));
        assert_true(test_wait_marker(m1, 3, 3, TIMEOUT));
        assert_true(test_wait_marker(m2, 2, 2, TIMEOUT));
        wait_state(&daemon_, "s1", "running");
        pid1 = unit_main_pid(&daemon_, "s1");
        pid2 = unit_main_pid(&daemon_, "s2");
        assert_true(pid1 > 0 && pid2 > 0);
        /* the unit's processes are in its cgroup */
        assert_int_equal(read_full_file_at(AT_FDCWD, procs, 65536, &buf, NULL), 0);
        for (const char *p = buf; (p = strchr(p, '\n')); p++)
                lines++;
        assert_int_equal(lines, 3);

        free(CTL_OK(&daemon_, NULL, 0, "restart", "s1"));
        NewPidWait w = { &daemon_, "s1", pid1 };
        assert_true(test_wait_for(unit_has_new_pid, &w, TIMEOUT));
        assert_true(test_wait_marker(m1, 3, 3, TIMEOUT)); /* the old tree is gone, a new one runs */
        assert_int_equal(unit_main_pid(&daemon_, "s2"), pid2);
        assert_int_equal(test_count_marker(m2), 2);

        free(CTL_OK(&daemon_, NULL, 0, "stop", "s1"));
        assert_true(test_wait_marker(m1, 0, 0, TIMEOUT));
        wait_state(&daemon_, "s1", "inactive");
        assert_false(path_exists(cg1));
        assert_int_equal(unit_main_pid(&daemon_, "s2"), pid2);

        /* a unit that does not exist: nothing happens, exit 4 */
        Ctl c = CTL(&daemon_, NULL, "start", "s1", "no-such-unit");
        assert_int_equal(c.status, 4);
        assert_non_null(strstr(c.err, "no such unit"));
        ctl_done(&c);
        usleep(300 * 1000);
        assert_int_equal(test_count_marker(m1), 0);

        free(CTL_OK(&daemon_, NULL, 0, "stop", "s2"));
        assert_true(test_wait_marker(m2, 0, 0, TIMEOUT));
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* kill -s: the signal reaches the unit's processes; one that traps it
 * keeps running. */
static void test_kill(void **state) {
        pid_t pid;

        start_daemon(&daemon_, "kill", "[program:a]\ncommand = " TRAP_USR1 "\n");
        wait_state(&daemon_, "a", "running");
        pid = unit_main_pid(&daemon_, "a");

        free(CTL_OK(&daemon_, NULL, 0, "kill", "-s", "SIGUSR1", "a"));
        assert_true(test_daemon_wait_log(&daemon_, "got-usr1", 1, TIMEOUT));
        free(CTL_OK(&daemon_, NULL, 0, "kill", "--signal", "USR1", "a"));
        assert_true(test_daemon_wait_log(&daemon_, "got-usr1", 2, TIMEOUT));
        free(CTL_OK(&daemon_, NULL, 0, "kill", "-s", "10", "a"));
        assert_true(test_daemon_wait_log(&daemon_, "got-usr1", 3, TIMEOUT));
        /* the reply counts the processes signalled */
        json_t *k = test_daemon_request(&daemon_, "kill", "{\"units\":[\"a\"],\"signal\":10}", NULL);
        assert_non_null(k);
        /* sh, its sleep, and the sleeps the loop forks meanwhile (a USR1 ends a sleep) */
        assert_in_range(json_integer_value(json_object_get(k, "signalled")), 1, 64);
        json_decref(k);
        assert_true(test_daemon_wait_log(&daemon_, "got-usr1", 4, TIMEOUT));
        assert_int_equal(unit_main_pid(&daemon_, "a"), pid);
        _cleanup_free_ char *s = unit_state(&daemon_, "a");
        assert_string_equal(s, "running");

        free(CTL_OK(&daemon_, NULL, 2, "kill", "-s", "NOPE", "a"));
        free(CTL_OK(&daemon_, NULL, 4, "kill", "-s", "USR1", "no-such-unit"));
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* freeze and thaw: cgroup.events says frozen 1 and 0, and a ticking
 * process stops ticking while frozen. */
static void test_freeze_thaw(void **state) {
        _cleanup_free_ char *out = NULL;
        unsigned ticks;
        json_t *j;

        start_daemon(&daemon_, "freeze",
                     "[program:ticker]\ncommand = sh -c 'while :; do echo tock-tock; sleep 0.05; done'\n"
                     "[program:idle]\ncommand = sleep 1000\nautostart = no\n");
        assert_true(test_daemon_wait_log(&daemon_, "tock-tock", 3, TIMEOUT));

        free(CTL_OK(&daemon_, NULL, 0, "freeze", "ticker"));
        wait_frozen(&daemon_, "ticker", true);
        ticks = test_daemon_log_count(&daemon_, "tock-tock");
        usleep(700 * 1000);
        print_message("ticks while frozen: %u → %u\n", ticks, test_daemon_log_count(&daemon_, "tock-tock"));
        assert_int_equal(test_daemon_log_count(&daemon_, "tock-tock"), ticks);

        out = CTL_OK(&daemon_, NULL, 0, "status", "--json", "ticker");
        j = parse_json(out);
        assert_true(json_is_true(json_object_get(json_units_find(j, "ticker"), "frozen")));
        json_decref(j);
        out = mfree(out);
        out = CTL_OK(&daemon_, NULL, 0, "status");
        assert_non_null(strstr(out, "ticker\trunning (frozen)\t"));
        out = mfree(out);

        free(CTL_OK(&daemon_, NULL, 0, "thaw", "ticker"));
        wait_frozen(&daemon_, "ticker", false);
        assert_true(test_daemon_wait_log(&daemon_, "tock-tock", ticks + 3, TIMEOUT));

        /* a unit that does not run has no cgroup to freeze */
        Ctl c = CTL(&daemon_, NULL, "freeze", "idle");
        assert_int_equal(c.status, 1);
        assert_non_null(strstr(c.err, "not running"));
        ctl_done(&c);
        free(CTL_OK(&daemon_, NULL, 1, "thaw", "idle"));
        free(CTL_OK(&daemon_, NULL, 4, "freeze", "no-such-unit"));

        /* a frozen unit stops at once: it is not left to its stop timeout
         * (10 s) with a SIGTERM it cannot receive */
        free(CTL_OK(&daemon_, NULL, 0, "freeze", "ticker"));
        wait_frozen(&daemon_, "ticker", true);
        usec_t start = now(CLOCK_MONOTONIC);
        free(CTL_OK(&daemon_, NULL, 0, "stop", "ticker"));
        wait_state(&daemon_, "ticker", "inactive");
        print_message("a frozen unit stopped in %.2f s\n", (double) (now(CLOCK_MONOTONIC) - start) / USEC_PER_SEC);
        assert_true(now(CLOCK_MONOTONIC) - start < 5 * USEC_PER_SEC);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* reload returns once the new configuration is applied: right after it,
 * the added unit exists; an invalid one changes nothing and says where. */
static void test_reload(void **state) {
        _cleanup_free_ char *out = NULL, *where = NULL;
        pid_t pid;
        json_t *status, *u;

        start_daemon(&daemon_, "reload", "[program:a]\ncommand = sleep 1000\n");
        wait_state(&daemon_, "a", "running");
        pid = unit_main_pid(&daemon_, "a");
        free(CTL_OK(&daemon_, NULL, 4, "status", "added"));

        append_config(&daemon_, "[program:added]\ncommand = sleep 1000\n");
        free(CTL_OK(&daemon_, NULL, 0, "reload"));
        Ctl c = CTL(&daemon_, NULL, "status", "--json", "added"); /* at once: no waiting */
        assert_true(c.status == 0 || c.status == 3);
        status = parse_json(c.out);
        u = json_units_find(status, "added");
        assert_non_null(u);
        print_message("added right after reload: %s\n", json_string_value(json_object_get(u, "state")));
        assert_true(streq_ptr(json_string_value(json_object_get(u, "state")), "running") ||
                    streq_ptr(json_string_value(json_object_get(u, "state")), "starting"));
        json_decref(status);
        ctl_done(&c);
        wait_state(&daemon_, "added", "running");
        assert_int_equal(unit_main_pid(&daemon_, "a"), pid);

        /* invalid: exit 1 with file:line, nothing changes */
        append_config(&daemon_, "[program:bad]\ncommand = sleep 1\nstop_timeout = soon\n");
        c = CTL(&daemon_, NULL, "reload");
        assert_int_equal(c.status, 1);
        assert_true(asprintf(&where, "%s:", daemon_.config) > 0);
        print_message("invalid reload: %s", c.err);
        assert_non_null(strstr(c.err, where));
        assert_non_null(strstr(c.err, "stop_timeout"));
        ctl_done(&c);
        free(CTL_OK(&daemon_, NULL, 4, "status", "bad"));
        assert_int_equal(unit_main_pid(&daemon_, "a"), pid);
        status = test_daemon_request(&daemon_, "status", NULL, NULL);
        assert_non_null(status);
        assert_non_null(strstr(json_string_value(json_object_get(json_object_get(status, "daemon"), "reload_error"))
                                       ?: "",
                               "stop_timeout"));
        json_decref(status);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* The issue: "corralctl status web@0 shows one unit the way systemctl
 * status does, with its process tree read from its cgroup": every process
 * of the unit is listed. */
static void test_status_unit_processes(void **state) {
        _cleanup_free_ char *f = test_helper_path("test-forker"), *body = NULL, *procs = NULL, *buf = NULL, *out = NULL;
        int missing = 0;

        assert_true(asprintf(&body, "[program:tree]\ncommand = %s tree 2\n", f) > 0);
        start_daemon(&daemon_, "statustree", body);
        assert_true(test_daemon_wait_log(&daemon_, "tree: 2 children", 1, TIMEOUT));
        procs = unit_cgroup_file(&daemon_, "tree", "cgroup.procs");
        assert_int_equal(read_full_file_at(AT_FDCWD, procs, 65536, &buf, NULL), 0);
        out = CTL_OK(&daemon_, NULL, 0, "status", "tree");
        print_message("%s", out);
        for (char *pid = strtok(buf, "\n"); pid; pid = strtok(NULL, "\n"))
                if (!strstr(out, pid)) {
                        print_message("PID %s of the unit's cgroup is not shown\n", pid);
                        missing++;
                }
        assert_int_equal(missing, 0);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

static bool unit_names_unique(const TestDaemon *d) {
        json_t *status = test_daemon_request(d, "status", NULL, NULL), *units, *u, *v;
        bool unique = true;
        size_t i, k;

        assert_non_null(status);
        units = json_object_get(status, "units");
        json_array_foreach(units, i, u)
                json_array_foreach(units, k, v) if (k > i && streq_ptr(json_string_value(json_object_get(u, "name")),
                                                                       json_string_value(json_object_get(v, "name")))) {
                print_message("two units named %s: %s and %s\n", json_string_value(json_object_get(u, "name")),
                              json_string_value(json_object_get(u, "kind")),
                              json_string_value(json_object_get(v, "kind")));
                unique = false;
        }
        json_decref(status);
        return unique;
}

/* A reload that adds a service named like a job (one running, one ended)
 * must not leave two units of one name: the service's cgroup would be the
 * job's, and requests by name would reach only the job. Whether corrald
 * refuses the reload or forgets the ended job, "stop NAME" afterwards
 * stops what runs under that name. */
static void test_reload_job_name_clash(void **state) {
        _cleanup_free_ char *marker = test_marker_new("ctl-clash"), *services = NULL;

        start_daemon(&daemon_, "clash", "[program:a]\ncommand = sleep 1000\n");
        free(CTL_OK(&daemon_, NULL, 0, "run", "--name", "clash1", "--", "sleep", "1000"));
        free(CTL_OK(&daemon_, NULL, 0, "run", "--wait", "--name", "clash2", "--", "true"));
        wait_state(&daemon_, "clash1", "running");
        assert_true(asprintf(&services,
                             "[program:clash1]\ncommand = sleep 1000\nenvironment = CORRAL_TEST_MARKER=%s\n"
                             "[program:clash2]\ncommand = sleep 1000\nenvironment = CORRAL_TEST_MARKER=%s\n",
                             marker, marker) > 0);
        append_config(&daemon_, services);
        Ctl c = CTL(&daemon_, NULL, "reload");
        print_message("reload with services named like jobs: exit %d %s\n", c.status, c.err);
        ctl_done(&c);
        usleep(500 * 1000);
        bool unique = unit_names_unique(&daemon_);

        free(CTL_OK(&daemon_, NULL, 0, "stop", "clash1", "clash2"));
        usleep(500 * 1000);
        int left = test_count_marker(marker);
        print_message("after stop clash1 clash2: %d service processes still run\n", left);
        assert_true(unique);
        assert_int_equal(left, 0);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* ---- events ---- */

/* corralctl events (its stdout a socket, for reading lines with a
 * timeout). */
typedef struct Events {
        pid_t pid;
        int fd;
} Events;

static Events events_start(const TestDaemon *d, bool json) {
        int sv[2];
        Events e;

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        e.pid = ctl_spawn(d, NULL, sv[1], -1,
                          json ? (const char *const[]) { "events", "--json", NULL }
                               : (const char *const[]) { "events", NULL });
        close(sv[1]);
        e.fd = sv[0];
        return e;
}

/* Ends the corralctl we started, through a pidfd (our child, not reaped
 * yet: the PID is still its own). */
static void events_stop(Events *e) {
        _cleanup_close_ int pidfd = sys_pidfd_open(e->pid);

        assert_true(pidfd >= 0);
        assert_int_equal(sys_pidfd_send_signal(pidfd, SIGTERM), 0);
        assert_int_equal(child_wait(e->pid), 128 + SIGTERM);
        close(e->fd);
}

/* Reads event lines for up to 10 s until one holds every needle. */
static bool events_find(Events *e, const char *n1, const char *n2) {
        usec_t end = now(CLOCK_MONOTONIC) + 10 * USEC_PER_SEC;

        while (now(CLOCK_MONOTONIC) < end) {
                _cleanup_free_ char *line = NULL;
                if (raw_read_line(e->fd, 1000, &line) != 1)
                        continue;
                print_message("event: %s\n", line);
                if (strstr(line, n1) && (!n2 || strstr(line, n2)))
                        return true;
        }
        return false;
}

/* run, wait and events: events --json while a job runs, parsed back. */
static void test_events(void **state) {
        _cleanup_free_ char *out = NULL;
        bool subscribed = false;
        Events ej, ep;
        json_t *j;

        start_daemon(&daemon_, "events", "[program:a]\ncommand = sleep 1000\n");
        ej = events_start(&daemon_, /* json= */ true);
        ep = events_start(&daemon_, /* json= */ false);

        /* Both have subscribed once they have seen a probe job. */
        for (int i = 0; i < 50 && !subscribed; i++) {
                _cleanup_free_ char *a = NULL, *b = NULL;
                free(CTL_OK(&daemon_, NULL, 0, "run", "--", "true"));
                subscribed = raw_read_line(ej.fd, 300, &a) == 1 && raw_read_line(ep.fd, 300, &b) == 1;
        }
        assert_true(subscribed);

        out = CTL_OK(&daemon_, NULL, 0, "run", "--name", "evjob", "--", "sh", "-c", "sleep 0.5; exit 7");
        assert_string_equal(out, "evjob\n");
        free(CTL_OK(&daemon_, NULL, 7, "wait", "evjob"));

        /* {"event": {"unit": "evjob", "state": "running", …}} … "failed" */
        bool running = false, failed = false;
        usec_t end = now(CLOCK_MONOTONIC) + 10 * USEC_PER_SEC;
        while (!failed && now(CLOCK_MONOTONIC) < end) {
                _cleanup_free_ char *line = NULL;
                if (raw_read_line(ej.fd, 1000, &line) != 1)
                        continue;
                j = parse_json(line);
                json_t *ev = json_object_get(j, "event");
                assert_true(json_is_object(ev));
                assert_true(json_is_integer(json_object_get(ev, "timestamp_usec")));
                if (streq_ptr(json_string_value(json_object_get(ev, "unit")), "evjob")) {
                        const char *s = json_string_value(json_object_get(ev, "state"));
                        print_message("evjob event: %s\n", line);
                        if (streq_ptr(s, "running")) {
                                running = true;
                                assert_true(json_integer_value(json_object_get(ev, "main_pid")) > 0);
                        }
                        if (streq_ptr(s, "failed")) {
                                failed = true;
                                assert_string_equal(json_string_value(json_object_get(ev, "result")), "exit-code");
                        }
                }
                json_decref(j);
        }
        assert_true(running);
        assert_true(failed);
        assert_true(events_find(&ep, " evjob failed (exit-code)", NULL));

        /* a unit's stop shows up too */
        free(CTL_OK(&daemon_, NULL, 0, "stop", "a"));
        assert_true(events_find(&ej, "\"unit\":\"a\"", "\"state\":\"inactive\""));

        events_stop(&ej);
        events_stop(&ep);
        assert_true(test_daemon_alive(&daemon_));
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* ---- jobs ---- */

/* run, wait, cancel: the job's exit status is corralctl's. */
static void test_run_wait_cancel(void **state) {
        _cleanup_free_ char *f = test_helper_path("test-forker"), *out = NULL;
        json_t *j;

        start_daemon(&daemon_, "jobs", "");

        /* --no-pipe: the id, and the job's output stays with corrald */
        out = CTL_OK(&daemon_, NULL, 7, "run", "--wait", "--no-pipe", "--", "sh", "-c", "echo hidden; exit 7");
        assert_int_equal(strlen(out), strlen("job-12345678\n"));
        assert_true(strneq(out, "job-", 4));
        out = mfree(out);

        free(CTL_OK(&daemon_, NULL, 128 + SIGKILL, "run", "--wait", "--", f, "signal", "9"));
        free(CTL_OK(&daemon_, NULL, 0, "run", "--wait", "--", "true"));
        /* every option of run */
        free(CTL_OK(&daemon_, NULL, 3, "run", "--wait", "--env", "FOO=bar", "--cwd", "/tmp", "--", "sh", "-c",
                    "test \"$FOO\" = bar && test \"$(pwd)\" = /tmp && exit 3"));

        /* run, then wait on another connection; wait on an ended job answers at once */
        out = CTL_OK(&daemon_, NULL, 0, "run", "--name", "later", "--", "sh", "-c", "sleep 0.3; exit 5");
        assert_string_equal(out, "later\n");
        out = mfree(out);
        free(CTL_OK(&daemon_, NULL, 5, "wait", "later"));
        free(CTL_OK(&daemon_, NULL, 5, "wait", "later"));
        out = CTL_OK(&daemon_, NULL, 5, "wait", "--json", "later");
        j = parse_json(out);
        assert_string_equal(json_string_value(json_object_get(j, "name")), "later");
        assert_string_equal(json_string_value(json_object_get(j, "kind")), "job");
        assert_string_equal(json_string_value(json_object_get(j, "exit_code")), "exited");
        assert_int_equal(json_integer_value(json_object_get(j, "exit_status")), 5);
        json_decref(j);
        out = mfree(out);

        /* cancel: SIGTERM ends sleep */
        free(CTL_OK(&daemon_, NULL, 0, "run", "--name", "victim", "--", "sleep", "1000"));
        wait_state(&daemon_, "victim", "running");
        free(CTL_OK(&daemon_, NULL, 0, "cancel", "victim"));
        free(CTL_OK(&daemon_, NULL, 128 + SIGTERM, "wait", "victim"));

        /* a name that is taken; no such job */
        Ctl c = CTL(&daemon_, NULL, "run", "--name", "victim", "--", "true");
        assert_int_equal(c.status, 1);
        assert_non_null(strstr(c.err, "exists"));
        ctl_done(&c);
        free(CTL_OK(&daemon_, NULL, 4, "cancel", "no-such-job"));
        free(CTL_OK(&daemon_, NULL, 4, "wait", "no-such-job"));

        /* a job that cannot start: 127, as sh says, with the real error */
        c = CTL(&daemon_, NULL, "run", "--wait", "--", "/nonexistent");
        assert_int_equal(c.status, 127);
        print_message("%s", c.err);
        assert_non_null(strstr(c.err, "exec /nonexistent: No such file or directory"));
        ctl_done(&c);

        assert_true(test_daemon_alive(&daemon_));
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* cancel of a tree that ignores SIGTERM: the job's stop timeout (the
 * default 10 s), then cgroup.kill; nothing survives. */
static void test_cancel_ignoring_tree(void **state) {
        _cleanup_free_ char *f = test_helper_path("test-forker"), *marker = test_marker_new("ctl-tree"), *env = NULL,
                            *cg = NULL;
        usec_t start, took;

        assert_true(asprintf(&env, "CORRAL_TEST_MARKER=%s", marker) > 0);
        start_daemon(&daemon_, "cancel", "");
        free(CTL_OK(&daemon_, NULL, 0, "run", "--name", "tree", "--env", env, "--", f, "tree", "20", "ignore"));
        assert_true(test_wait_marker(marker, 21, 21, TIMEOUT));
        cg = unit_cgroup_file(&daemon_, "tree", NULL);
        assert_true(path_exists(cg));

        start = now(CLOCK_MONOTONIC);
        free(CTL_OK(&daemon_, NULL, 0, "cancel", "tree"));
        assert_true(now(CLOCK_MONOTONIC) - start < 5 * USEC_PER_SEC); /* cancel does not wait for the end */
        free(CTL_OK(&daemon_, NULL, 128 + SIGKILL, "wait", "tree"));
        took = now(CLOCK_MONOTONIC) - start;
        print_message("cancel of a tree ignoring SIGTERM took %.1f s\n", (double) took / USEC_PER_SEC);
        assert_in_range(took, 8 * USEC_PER_SEC, 30 * USEC_PER_SEC);
        assert_int_equal(test_count_marker(marker), 0);
        assert_int_equal(test_daemon_log_count(&daemon_, "tree: stop timeout, killing every process"), 1);
        assert_false(path_exists(cg));
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* --timeout: a job that runs too long is stopped, and has failed with
 * result "timeout". */
static void test_job_timeout(void **state) {
        _cleanup_free_ char *out = NULL;
        usec_t start = now(CLOCK_MONOTONIC), took;
        json_t *j;

        start_daemon(&daemon_, "timeout", "");
        free(CTL_OK(&daemon_, NULL, 0, "run", "--name", "slow", "--timeout", "1s", "--", "sleep", "1000"));
        out = CTL_OK(&daemon_, NULL, 128 + SIGTERM, "wait", "--json", "slow");
        took = now(CLOCK_MONOTONIC) - start;
        print_message("timeout job ended after %.2f s\n", (double) took / USEC_PER_SEC);
        assert_in_range(took, 900 * USEC_PER_MSEC, 10 * USEC_PER_SEC);
        j = parse_json(out);
        assert_string_equal(json_string_value(json_object_get(j, "state")), "failed");
        assert_string_equal(json_string_value(json_object_get(j, "result")), "timeout");
        json_decref(j);
        out = mfree(out);
        out = CTL_OK(&daemon_, NULL, 3, "status", "slow");
        assert_non_null(strstr(out, "Result: timeout"));
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* The names of the cgroups under the daemon's, but "supervisor". */
static int count_unit_cgroups(const TestDaemon *d) {
        _cleanup_free_ char *fs = test_cgroup_fs_path(d->cgroup);
        DIR *dir = opendir(fs);
        int n = 0;

        assert_non_null(dir);
        for (struct dirent *de; (de = readdir(dir));)
                if (de->d_type == DT_DIR && de->d_name[0] != '.' && !streq(de->d_name, "supervisor"))
                        n++;
        closedir(dir);
        return n;
}

static bool no_unit_cgroups(void *userdata) {
        return count_unit_cgroups(userdata) == 0;
}

/* 200 jobs at once, each waited for by its own corralctl: all end with
 * status 0 and leave no process and no cgroup. */
static void test_200_jobs(void **state) {
        _cleanup_free_ char *marker = test_marker_new("ctl-200"), *env = NULL;
        enum { N = 200 };
        pid_t pids[N];
        char names[N][16];
        usec_t start, took;
        json_t *status;
        int failures = 0;

        assert_true(asprintf(&env, "CORRAL_TEST_MARKER=%s", marker) > 0);
        start_daemon(&daemon_, "jobs200", "");
        start = now(CLOCK_MONOTONIC);
        for (int i = 0; i < N; i++) {
                snprintf(names[i], sizeof(names[i]), "job-%d", i);
                pids[i] = ctl_spawn(&daemon_, NULL, -1, -1,
                                    (const char *const[]) { "run", "--wait", "--name", names[i], "--env", env, "--",
                                                            "sleep", "1", NULL });
        }
        for (int i = 0; i < N; i++) {
                int s = child_wait(pids[i]);
                if (s != 0) {
                        print_message("%s: corralctl exit %d\n", names[i], s);
                        failures++;
                }
        }
        took = now(CLOCK_MONOTONIC) - start;
        print_message("200 jobs (sleep 1), submitted and waited for at once: %.2f s\n", (double) took / USEC_PER_SEC);
        assert_int_equal(failures, 0);

        status = test_daemon_request(&daemon_, "status", NULL, NULL);
        assert_non_null(status);
        for (int i = 0; i < N; i++) {
                json_t *u = test_status_unit(status, names[i]);
                assert_non_null(u);
                assert_string_equal(json_string_value(json_object_get(u, "kind")), "job");
                assert_string_equal(json_string_value(json_object_get(u, "result")), "success");
                assert_string_equal(json_string_value(json_object_get(u, "exit_code")), "exited");
                assert_int_equal(json_integer_value(json_object_get(u, "exit_status")), 0);
        }
        json_decref(status);
        assert_int_equal(test_count_marker(marker), 0);
        assert_true(test_wait_for(no_unit_cgroups, &daemon_, TIMEOUT));
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* ---- permissions ---- */

#define DENIED(d, ...)                                                                                               \
        do {                                                                                                         \
                Ctl _c = CTL(d, TEST_USER, __VA_ARGS__);                                                             \
                if (_c.status != 1 || !strstr(_c.err, "permission denied"))                                          \
                        print_message("expected permission denied, got exit %d: %s%s\n", _c.status, _c.out, _c.err); \
                assert_int_equal(_c.status, 1);                                                                      \
                assert_non_null(strstr(_c.err, "permission denied"));                                                \
                ctl_done(&_c);                                                                                       \
        } while (0)

/* Every changing verb, as the user: permission denied. */
static void assert_changes_denied(const TestDaemon *d) {
        DENIED(d, "start", "b");
        DENIED(d, "stop", "a");
        DENIED(d, "restart", "a");
        DENIED(d, "kill", "-s", "SIGUSR1", "a");
        DENIED(d, "kill", "a");
        DENIED(d, "freeze", "a");
        DENIED(d, "thaw", "a");
        DENIED(d, "reload");
}

/* After the denied requests: a runs with the same main PID, unfrozen and
 * unsignalled; b has not started; the reload has not happened (c, in the
 * file, does not exist). */
static void assert_nothing_changed(const TestDaemon *d, pid_t pid) {
        _cleanup_free_ char *b = NULL, *a = NULL;
        FrozenWait w = { d, "a", false };

        usleep(300 * 1000);
        assert_int_equal(unit_main_pid(d, "a"), pid);
        a = unit_state(d, "a");
        assert_string_equal(a, "running");
        b = unit_state(d, "b");
        assert_string_equal(b, "inactive");
        assert_true(cgroup_frozen_is(&w));
        assert_int_equal(test_daemon_log_count(d, "got-usr1"), 0);
        assert_null(unit_json(d, "c"));
        assert_int_equal(test_daemon_log_count(d, "job submitted by UID 0"), 1); /* root's only */
}

#define PERM_UNITS "[program:a]\ncommand = " TRAP_USR1 "\n[program:b]\ncommand = sleep 1000\nautostart = no\n"

/* A user who is not root and not in control_group: permission denied for
 * everything, and nothing changes. */
static void test_permissions_denied(void **state) {
        pid_t pid, rpid;

        start_daemon(&daemon_, "perm", PERM_UNITS);
        open_socket_dir(&daemon_);
        require_user(&daemon_, TEST_USER);
        open_socket_to_everyone(&daemon_);
        wait_state(&daemon_, "a", "running");
        pid = unit_main_pid(&daemon_, "a");
        append_config(&daemon_, "[program:c]\ncommand = sleep 1000\n");
        free(CTL_OK(&daemon_, NULL, 0, "run", "--name", "rootjob", "--", "sleep", "1000"));
        wait_state(&daemon_, "rootjob", "running");
        rpid = unit_main_pid(&daemon_, "rootjob");

        assert_changes_denied(&daemon_);
        DENIED(&daemon_, "run", "--", "sleep", "1000");
        DENIED(&daemon_, "run", "--name", "userjob", "--", "sleep", "1000");
        DENIED(&daemon_, "cancel", "rootjob");
        /* without status_public, reading is denied too */
        DENIED(&daemon_, "status");
        DENIED(&daemon_, "status", "a");
        DENIED(&daemon_, "list");
        DENIED(&daemon_, "wait", "rootjob");
        DENIED(&daemon_, "events");

        assert_nothing_changed(&daemon_, pid);
        assert_null(unit_json(&daemon_, "userjob"));
        assert_int_equal(unit_main_pid(&daemon_, "rootjob"), rpid);

        /* root may: the denied reload would have added c */
        free(CTL_OK(&daemon_, NULL, 0, "reload"));
        wait_state(&daemon_, "c", "running");
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

static char *proc_status_line(pid_t pid, const char *key) {
        _cleanup_free_ char *path = NULL, *buf = NULL;
        char *p, *e;

        assert_true(asprintf(&path, "/proc/%d/status", (int) pid) > 0);
        assert_int_equal(read_full_file_at(AT_FDCWD, path, 65536, &buf, NULL), 0);
        p = strstr(buf, key);
        assert_non_null(p);
        e = strchr(p, '\n');
        return strndup(p, e ? (size_t) (e - p) : strlen(p));
}

/* status_public and job_group: the user reads status and runs jobs — as
 * itself, checked in /proc — and cancels its own job, not root's; every
 * changing verb is still denied. */
static void test_permissions_jobs(void **state) {
        _cleanup_free_ char *out = NULL, *uid_line = NULL, *gid_line = NULL, *want = NULL, *groups = NULL,
                            *cgroup = NULL, *cgpath = NULL;
        uid_t uid = 0;
        gid_t gid = 0;
        pid_t pid, upid, rpid;
        json_t *j, *u;

        start_daemon(&daemon_, "permjob", "[corral]\nstatus_public = yes\njob_group = " TEST_USER "\n" PERM_UNITS);
        /* the socket as corrald made it: open to those it lets read or run */
        open_socket_dir(&daemon_);
        require_user(&daemon_, TEST_USER);
        assert_true(user_ids(TEST_USER, &uid, &gid));
        wait_state(&daemon_, "a", "running");
        pid = unit_main_pid(&daemon_, "a");
        append_config(&daemon_, "[program:c]\ncommand = sleep 1000\n");
        free(CTL_OK(&daemon_, NULL, 0, "run", "--name", "rootjob", "--", "sleep", "1000"));
        wait_state(&daemon_, "rootjob", "running");
        rpid = unit_main_pid(&daemon_, "rootjob");

        /* reading works */
        out = CTL_OK(&daemon_, TEST_USER, 0, "status");
        assert_non_null(strstr(out, "\na\trunning\t"));
        out = mfree(out);
        out = CTL_OK(&daemon_, TEST_USER, 0, "status", "--json");
        j = parse_json(out);
        assert_non_null(json_units_find(j, "a"));
        json_decref(j);
        out = mfree(out);
        free(CTL_OK(&daemon_, TEST_USER, 0, "status", "a"));
        free(CTL_OK(&daemon_, TEST_USER, 3, "status", "b"));

        /* changing is not */
        assert_changes_denied(&daemon_);
        assert_nothing_changed(&daemon_, pid);

        /* a job of the user's runs as the user */
        out = CTL_OK(&daemon_, TEST_USER, 0, "run", "--name", "userjob", "--", "sleep", "1000");
        assert_string_equal(out, "userjob\n");
        out = mfree(out);
        wait_state(&daemon_, "userjob", "running");
        upid = unit_main_pid(&daemon_, "userjob");
        u = unit_json(&daemon_, "userjob");
        assert_int_equal(json_integer_value(json_object_get(u, "owner_uid")), uid);
        json_decref(u);
        uid_line = proc_status_line(upid, "Uid:");
        gid_line = proc_status_line(upid, "Gid:");
        groups = proc_status_line(upid, "Groups:");
        print_message("userjob (PID %d): %s, %s, %s\n", (int) upid, uid_line, gid_line, groups);
        assert_true(asprintf(&want, "Uid:\t%u\t%u\t%u\t%u", uid, uid, uid, uid) > 0);
        assert_string_equal(uid_line, want);
        want = mfree(want);
        assert_true(asprintf(&want, "Gid:\t%u\t%u\t%u\t%u", gid, gid, gid, gid) > 0);
        assert_string_equal(gid_line, want);
        want = mfree(want);
        /* only the user's own groups: here, its primary group at most */
        for (char *p = groups + strlen("Groups:"), *tok; (tok = strtok(p, " \t")); p = NULL)
                assert_int_equal(strtoul(tok, NULL, 10), gid);
        /* in a cgroup of its own */
        assert_true(asprintf(&cgpath, "/proc/%d/cgroup", (int) upid) > 0);
        assert_int_equal(read_full_file_at(AT_FDCWD, cgpath, 65536, &cgroup, NULL), 0);
        assert_true(asprintf(&want, "%s/userjob\n", daemon_.cgroup) > 0);
        assert_non_null(strstr(cgroup, want));

        /* root's job is not the user's to cancel */
        Ctl c = CTL(&daemon_, TEST_USER, "cancel", "rootjob");
        assert_int_equal(c.status, 1);
        print_message("%s", c.err);
        assert_non_null(strstr(c.err, "owner"));
        ctl_done(&c);
        usleep(300 * 1000);
        assert_int_equal(unit_main_pid(&daemon_, "rootjob"), rpid);

        /* the user's own is */
        free(CTL_OK(&daemon_, TEST_USER, 0, "cancel", "userjob"));
        free(CTL_OK(&daemon_, TEST_USER, 128 + SIGTERM, "wait", "userjob"));
        assert_int_equal(unit_main_pid(&daemon_, "rootjob"), rpid);

        free(CTL_OK(&daemon_, NULL, 0, "cancel", "rootjob"));
        free(CTL_OK(&daemon_, NULL, 128 + SIGTERM, "wait", "rootjob"));
        assert_int_equal(unit_main_pid(&daemon_, "a"), pid);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* ---- clients that misbehave ---- */

/* Malformed and wrongly typed requests: EINVAL, unknown methods
 * EOPNOTSUPP; the connection goes on, and nothing changes. */
static void test_bad_requests(void **state) {
        static const struct {
                const char *line, *errno_name;
                int code;
        } cases[] = {
                { "{not json\n", "EINVAL", EINVAL },
                { "\n", "EINVAL", EINVAL },
                { "[1,2]\n", "EINVAL", EINVAL },
                { "\"status\"\n", "EINVAL", EINVAL },
                { "{\"params\":{}}\n", "EINVAL", EINVAL },
                { "{\"method\":5}\n", "EINVAL", EINVAL },
                { "{\"method\":\"status\",\"method\":\"stop\"}\n", "EINVAL", EINVAL },
                { "{\"method\":\"status\",\"params\":[]}\n", "EINVAL", EINVAL },
                { "{\"method\":\"status\",\"params\":{\"units\":\"x\"}}\n", "EINVAL", EINVAL },
                { "{\"method\":\"status\",\"params\":{\"units\":[5]}}\n", "EINVAL", EINVAL },
                { "{\"method\":\"stop\",\"params\":{\"units\":\"a\"}}\n", "EINVAL", EINVAL },
                { "{\"method\":\"stop\"}\n", "EINVAL", EINVAL },
                { "{\"method\":\"kill\",\"params\":{\"units\":[\"a\"],\"signal\":\"TERM\"}}\n", "EINVAL", EINVAL },
                { "{\"method\":\"kill\",\"params\":{\"units\":[\"a\"],\"signal\":0}}\n", "EINVAL", EINVAL },
                { "{\"method\":\"kill\",\"params\":{\"units\":[\"a\"],\"signal\":100000}}\n", "EINVAL", EINVAL },
                { "{\"method\":\"run\"}\n", "EINVAL", EINVAL },
                { "{\"method\":\"run\",\"params\":{\"argv\":5}}\n", "EINVAL", EINVAL },
                { "{\"method\":\"run\",\"params\":{\"argv\":[]}}\n", "EINVAL", EINVAL },
                { "{\"method\":\"run\",\"params\":{\"argv\":[5]}}\n", "EINVAL", EINVAL },
                { "{\"method\":\"run\",\"params\":{\"argv\":[\"true\"],\"env\":\"A=B\"}}\n", "EINVAL", EINVAL },
                { "{\"method\":\"run\",\"params\":{\"argv\":[\"true\"],\"env\":[\"nokey\"]}}\n", "EINVAL", EINVAL },
                { "{\"method\":\"run\",\"params\":{\"argv\":[\"true\"],\"name\":5}}\n", "EINVAL", EINVAL },
                { "{\"method\":\"run\",\"params\":{\"argv\":[\"true\"],\"name\":\"a/b\"}}\n", "EINVAL", EINVAL },
                { "{\"method\":\"run\",\"params\":{\"argv\":[\"true\"],\"name\":\"supervisor\"}}\n", "EINVAL", EINVAL },
                { "{\"method\":\"run\",\"params\":{\"argv\":[\"true\"],\"name\":\"a\"}}\n", "EEXIST", EEXIST },
                { "{\"method\":\"run\",\"params\":{\"argv\":[\"true\"],\"cwd\":\"relative\"}}\n", "EINVAL", EINVAL },
                { "{\"method\":\"run\",\"params\":{\"argv\":[\"true\"],\"timeout_usec\":\"1s\"}}\n", "EINVAL", EINVAL },
                { "{\"method\":\"run\",\"params\":{\"argv\":[\"true\"],\"timeout_usec\":-1}}\n", "EINVAL", EINVAL },
                { "{\"method\":\"cancel\",\"params\":{\"id\":5}}\n", "EINVAL", EINVAL },
                { "{\"method\":\"wait\"}\n", "EINVAL", EINVAL },
                { "{\"method\":\"no-such-method\"}\n", "EOPNOTSUPP", EOPNOTSUPP },
                { "{\"method\":\"status\",\"params\":{\"units\":[\"nope\"]}}\n", "ENOENT", ENOENT },
                { "{\"method\":\"cancel\",\"params\":{\"id\":\"a\"}}\n", "ENOENT", ENOENT }, /* a service */
        };
        pid_t pid;

        start_daemon(&daemon_, "badreq", "[program:a]\ncommand = sleep 1000\n");
        wait_state(&daemon_, "a", "running");
        pid = unit_main_pid(&daemon_, "a");
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                expect_error(&daemon_, cases[i].line, cases[i].errno_name, cases[i].code);
        assert_int_equal(unit_main_pid(&daemon_, "a"), pid);
        json_t *status = test_daemon_request(&daemon_, "status", NULL, NULL);
        assert_int_equal(json_array_size(json_object_get(status, "units")), 1); /* no job was made */
        json_decref(status);
        assert_true(test_daemon_alive(&daemon_));
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* Builds a status request of exactly `size` bytes, newline included (an
 * unknown field pads it). */
static char *padded_request(size_t size, bool newline) {
        const char *head = "{\"method\":\"status\",\"pad\":\"", *tail = newline ? "\"}\n" : "\"}x";
        char *buf = malloc(size + 1);

        assert_non_null(buf);
        assert_true(size > strlen(head) + strlen(tail));
        memset(buf, 'x', size);
        memcpy(buf, head, strlen(head));
        memcpy(buf + size - strlen(tail), tail, strlen(tail));
        buf[size] = '\0';
        return buf;
}

/* A request closed half-way is forgotten; a line of 64 KiB is served, a
 * longer one (with or without its newline) gets E2BIG and the connection
 * is closed; requests on one connection are answered in order, also when
 * they arrive in pieces. Others are served all along. */
static void test_truncated_oversized(void **state) {
        _cleanup_free_ char *max = padded_request(CONTROL_REQUEST_MAX, true),
                            *over = padded_request(CONTROL_REQUEST_MAX + 1, true), *huge = padded_request(70000, false),
                            *line = NULL;
        int fd;
        json_t *reply;

        start_daemon(&daemon_, "oversize", "[program:a]\ncommand = sleep 1000\n");

        fd = raw_connect(&daemon_);
        raw_send_str(fd, "{\"method\":\"sta");
        close(fd);
        fd = raw_connect(&daemon_);
        assert_status_ok(fd);
        close(fd);

        fd = raw_connect(&daemon_);
        raw_send_str(fd, max);
        reply = raw_read_reply(fd);
        assert_true(json_is_true(json_object_get(reply, "ok")));
        json_decref(reply);
        close(fd);

        const char *too_big[] = { over, huge };
        for (size_t i = 0; i < ELEMENTSOF(too_big); i++) {
                fd = raw_connect(&daemon_);
                raw_send_str(fd, too_big[i]);
                reply = raw_read_reply(fd);
                assert_error_reply(reply, "E2BIG", E2BIG);
                json_decref(reply);
                assert_int_equal(raw_read_line(fd, 5000, &line), 0); /* closed */
                close(fd);
                fd = raw_connect(&daemon_);
                assert_status_ok(fd);
                close(fd);
        }

        /* two requests in one write: two replies, in order */
        fd = raw_connect(&daemon_);
        raw_send_str(fd, "{\"method\":\"status\"}\n{\"method\":\"nope\"}\n");
        reply = raw_read_reply(fd);
        assert_true(json_is_true(json_object_get(reply, "ok")));
        json_decref(reply);
        reply = raw_read_reply(fd);
        assert_error_reply(reply, "EOPNOTSUPP", EOPNOTSUPP);
        json_decref(reply);
        /* one request in three pieces */
        raw_send_str(fd, "{\"method\":");
        usleep(100 * 1000);
        raw_send_str(fd, "\"status\"");
        usleep(100 * 1000);
        raw_send_str(fd, "}\n");
        reply = raw_read_reply(fd);
        assert_true(json_is_true(json_object_get(reply, "ok")));
        json_decref(reply);
        close(fd);

        assert_true(test_daemon_alive(&daemon_));
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

#define SHORT_TIMEOUT "[corral]\ncontrol_timeout = 1s\n[program:a]\ncommand = sleep 1000\n"

/* A client that never sends and one that stops half-way hold nothing up:
 * others are answered at once; the half-way one is dropped after
 * control_timeout. */
static void test_stuck_clients(void **state) {
        _cleanup_close_ int silent = -EBADF, partial = -EBADF;
        _cleanup_free_ char *line = NULL;
        usec_t start, took;

        start_daemon(&daemon_, "stuck", SHORT_TIMEOUT);
        silent = raw_connect(&daemon_);
        partial = raw_connect(&daemon_);
        start = now(CLOCK_MONOTONIC);
        raw_send_str(partial, "{\"method\":\"status\",");
        for (int i = 0; i < 5; i++) {
                _cleanup_close_ int fd = raw_connect(&daemon_);
                assert_status_ok(fd);
        }
        assert_int_equal(raw_read_line(partial, 10 * 1000, &line), 0);
        took = now(CLOCK_MONOTONIC) - start;
        print_message("a half-sent request was dropped after %.2f s (control_timeout = 1s)\n",
                      (double) took / USEC_PER_SEC);
        assert_in_range(took, 800 * USEC_PER_MSEC, 5 * USEC_PER_SEC);
        {
                _cleanup_close_ int fd = raw_connect(&daemon_);
                assert_status_ok(fd);
        }
        assert_true(test_daemon_alive(&daemon_));
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* The issue: "a client that connects and never sends … gets an error or is
 * dropped". With control_timeout = 1s, it must be gone within a few
 * seconds. */
static void test_silent_client_dropped(void **state) {
        _cleanup_close_ int silent = -EBADF;
        _cleanup_free_ char *line = NULL;
        int r;

        start_daemon(&daemon_, "silent", SHORT_TIMEOUT);
        silent = raw_connect(&daemon_);
        r = raw_read_line(silent, 5 * 1000, &line);
        print_message("a client that sent nothing, after 5 s: %s%s\n",
                      r == 0  ? "dropped"
                      : r > 0 ? "an error reply: "
                              : "still connected",
                      r > 0 ? line : "");
        assert_true(r >= 0); /* dropped (0) or told (1); -ETIMEDOUT: kept for ever */
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* Idle connections cannot lock others out: CONTROL_CLIENTS_MAX clients
 * that never send, and after control_timeout a new client is served. */
static void test_idle_clients_lockout(void **state) {
        int fds[CONTROL_CLIENTS_MAX];
        struct rlimit rl;

        assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
        if (rl.rlim_cur < CONTROL_CLIENTS_MAX + 64) {
                rl.rlim_cur = MIN(rl.rlim_max, (rlim_t) CONTROL_CLIENTS_MAX + 256);
                (void) setrlimit(RLIMIT_NOFILE, &rl);
        }
        start_daemon(&daemon_, "lockout", SHORT_TIMEOUT);
        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                fds[i] = raw_connect(&daemon_);
        usleep(3 * USEC_PER_SEC); /* three times control_timeout */

        _cleanup_close_ int fd = raw_connect(&daemon_);
        _cleanup_free_ char *line = NULL;
        raw_send_str(fd, "{\"method\":\"status\"}\n");
        int r = raw_read_line(fd, 2000, &line);
        print_message("after %u idle clients: a new client's status %s\n", CONTROL_CLIENTS_MAX,
                      r > 0    ? "was answered"
                      : r == 0 ? "was refused (connection closed)"
                               : "got no answer");
        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                close(fds[i]);
        assert_int_equal(r, 1);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* control_timeout counts from the first byte of a request (control.c:
 * "A partial request must be finished in time; an idle client … need not
 * hurry"): a client idle for longer than it, whose next request arrives in
 * two pieces 200 ms apart, is served. */
static void test_partial_request_after_idle(void **state) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *line = NULL;
        int r;

        start_daemon(&daemon_, "idlepartial", SHORT_TIMEOUT);
        fd = raw_connect(&daemon_);
        assert_status_ok(fd);
        usleep(1500 * 1000);
        raw_send_str(fd, "{\"method\":\"status\",");
        usleep(200 * 1000);
        raw_send_str(fd, "\"params\":{}}\n");
        r = raw_read_line(fd, 5000, &line);
        print_message("request in two pieces after 1.5 s idle: %s\n", r > 0    ? "answered"
                                                                      : r == 0 ? "dropped"
                                                                               : "no answer");
        assert_int_equal(r, 1);
        json_t *reply = parse_json(line);
        assert_true(json_is_true(json_object_get(reply, "ok")));
        json_decref(reply);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_status, teardown),
                cmocka_unit_test_teardown(test_start_stop_restart, teardown),
                cmocka_unit_test_teardown(test_kill, teardown),
                cmocka_unit_test_teardown(test_freeze_thaw, teardown),
                cmocka_unit_test_teardown(test_reload, teardown),
                cmocka_unit_test_teardown(test_status_unit_processes, teardown),
                cmocka_unit_test_teardown(test_reload_job_name_clash, teardown),
                cmocka_unit_test_teardown(test_events, teardown),
                cmocka_unit_test_teardown(test_permissions_denied, teardown),
                cmocka_unit_test_teardown(test_permissions_jobs, teardown),
                cmocka_unit_test_teardown(test_bad_requests, teardown),
                cmocka_unit_test_teardown(test_truncated_oversized, teardown),
                cmocka_unit_test_teardown(test_stuck_clients, teardown),
                cmocka_unit_test_teardown(test_silent_client_dropped, teardown),
                cmocka_unit_test_teardown(test_idle_clients_lockout, teardown),
                cmocka_unit_test_teardown(test_partial_request_after_idle, teardown),
                cmocka_unit_test_teardown(test_run_wait_cancel, teardown),
                cmocka_unit_test_teardown(test_job_timeout, teardown),
                cmocka_unit_test_teardown(test_cancel_ignoring_tree, teardown),
                cmocka_unit_test_teardown(test_200_jobs, teardown),
        };
        int r;

        test_require_cgroup2_root();
        (void) corralctl_path();
        user_created = ensure_user(TEST_USER);
        r = cmocka_run_group_tests_name("control", tests, NULL, NULL);
        remove_user(TEST_USER, user_created);
        return r;
}
