/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Services at run time and verbs that wait, end to end with the real
 * corrald and corralctl (issue 14): add, scale, apply (kept PIDs unchanged,
 * dropped stopped, changed restarted), the runtime set across a reload and
 * a SIGKILL + restart of corrald (adopted, same PIDs), names defined in a
 * file, bad keys, stop that returns when no process is left (also a tree
 * that ignores SIGTERM), restart of globs and service names, requests with
 * one bad name that change nothing, stop --all, and a waiting client that
 * goes away. */

#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "control-util.h"
#include "corral/corral.h"
#include "fileio.h"
#include "macro.h"
#include "test-util.h"

#define EXIT_USAGE 2   /* corralctl: a usage error */
#define EXIT_NO_UNIT 4 /* corralctl: no such unit */

#define TEST_USER "corral-rt-user"

static TestDaemon daemon_;
static bool user_created;
static char *runtime_dir; /* runtime_directory of the test's corrald, kept across its restarts */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path) < 0 ? -1 : 0;
}

static int setup(void **state) {
        char tmpl[] = "/tmp/corral-runtime-XXXXXX";

        assert_non_null(mkdtemp(tmpl));
        runtime_dir = strdup(tmpl);
        return runtime_dir ? 0 : -1;
}

static int teardown(void **state) {
        test_daemon_cleanup(&daemon_);
        if (runtime_dir)
                (void) nftw(runtime_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        runtime_dir = mfree(runtime_dir);
        return 0;
}

/* The configuration: our runtime_directory, then extra. */
static char *body_with(const char *extra) {
        char *b;

        if (strneq(extra, "[corral]\n", 9))
                extra += 9; /* one [corral] section */
        assert_true(asprintf(&b, "[corral]\nruntime_directory = %s\n%s", runtime_dir, extra) > 0);
        return b;
}

static void start(const char *what, const char *extra) {
        _cleanup_free_ char *b = body_with(extra);
        start_daemon(&daemon_, what, b);
}

static bool unit_exists(const char *name) {
        json_t *u = unit_json(&daemon_, name);
        json_decref(u);
        return u != NULL;
}

static void assert_state(const char *unit, const char *state) {
        _cleanup_free_ char *s = unit_state(&daemon_, unit);
        if (!streq(s, state))
                print_message("%s: %s, not %s\n", unit, s, state);
        assert_string_equal(s, state);
}

/* The number of processes in the unit's cgroup: 0 when it is gone. */
static int survivors(const char *unit) {
        _cleanup_free_ char *procs = unit_cgroup_file(&daemon_, unit, "cgroup.procs"), *buf = NULL;
        int n = 0;

        if (read_full_file_at(AT_FDCWD, procs, 1 << 20, &buf, /* ret_size= */ NULL) < 0)
                return 0;
        for (const char *p = buf; *p; p++)
                n += *p == '\n';
        return n;
}

static bool tree_grown(void *userdata) {
        return survivors("tree") >= 3;
}

/* Whether corralctl's stdout has the line. */
static bool has_line(const char *out, const char *line) {
        size_t n = strlen(line);

        for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (strneq(p, line, n) && (p[n] == '\n' || p[n] == '\0'))
                        return true;
        return false;
}

static char *runtime_file(const char *name) {
        char *p;
        assert_true(asprintf(&p, "%s/services/%s.conf", runtime_dir, name) > 0);
        return p;
}

/* ---- add, scale, cat ---- */

/* add starts the service and returns once it runs; scale 3 gives
 * web@0..2; cat says where it comes from; remove stops and forgets it. */
static void test_add_scale(void **state) {
        const char *demo = getenv("CORRAL_DEMO_SERVICE");
        _cleanup_free_ char *out = NULL, *file = runtime_file("web");

        start("add", "[corral]\nport_range = 24100-24140\n");
        out = CTL_OK(&daemon_, NULL, 0, "add", "web", "port=auto", "output=null", "--", demo, "-port", "${PORT}");
        print_message("%s", out);
        assert_true(strneq(out, "web: running (", 14));
        assert_non_null(strstr(out, "1 added, 0 removed, 0 changed, 0 unchanged"));
        assert_state("web", "running"); /* when add returned, not later */
        assert_int_equal(access(file, F_OK), 0);

        free(out);
        out = CTL_OK(&daemon_, NULL, 0, "scale", "web", "3");
        print_message("%s", out);
        assert_true(has_line(out, "web: stopped") || strstr(out, "web: stopped ("));
        for (int i = 0; i < 3; i++) {
                char name[16];
                snprintf(name, sizeof(name), "web@%d", i);
                assert_state(name, "running");
        }
        assert_false(unit_exists("web@3"));
        assert_int_equal(survivors("web"), 0);

        free(out);
        out = CTL_OK(&daemon_, NULL, 0, "cat", "web");
        assert_non_null(strstr(out, "(runtime service)"));
        assert_non_null(strstr(out, "instances = 3"));
        assert_non_null(strstr(out, "command = '"));

        free(out);
        out = CTL_OK(&daemon_, NULL, 0, "remove", "web");
        assert_non_null(strstr(out, "0 added, 3 removed"));
        for (int i = 0; i < 3; i++) {
                char name[16];
                snprintf(name, sizeof(name), "web@%d", i);
                assert_int_equal(survivors(name), 0);
        }
        assert_int_not_equal(access(file, F_OK), 0);
        free(CTL_OK(&daemon_, NULL, EXIT_NO_UNIT, "cat", "web"));
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* ---- apply, reload, crash ---- */

static void write_apply(const char *path, const char *text) {
        assert_int_equal(test_write_file(path, text), 0);
}

/* Three services, then one kept, one changed, one dropped: kept PIDs
 * unchanged, the dropped one stopped, the changed one restarted — when
 * apply returns. The set survives a reload and a SIGKILL + restart of
 * corrald (adopted: the same PIDs). */
static void test_apply(void **state) {
        _cleanup_free_ char *list = NULL, *b = NULL, *out = NULL, *cgroup = NULL;
        pid_t keep, change, changed, drop;

        start("apply", "");
        assert_true(asprintf(&list, "%s/list.ini", runtime_dir) > 0);
        write_apply(list,
                    "# the fleet\n"
                    "[program:keep]\ncommand = sleep 1001\n\n"
                    "[program:change]\ncommand = sleep 1002\n"
                    "[program:drop]\ncommand = sleep 1003\nstop_timeout = 2s\n");
        out = CTL_OK(&daemon_, NULL, 0, "apply", list);
        print_message("%s", out);
        assert_non_null(strstr(out, "3 added, 0 removed, 0 changed"));
        keep = unit_main_pid(&daemon_, "keep");
        change = unit_main_pid(&daemon_, "change");
        drop = unit_main_pid(&daemon_, "drop");
        assert_true(keep > 0 && change > 0 && drop > 0);

        write_apply(list,
                    "[program:keep]\ncommand = sleep 1001\n"
                    "[program:change]\ncommand = sleep 1004\n");
        free(out);
        out = CTL_OK(&daemon_, NULL, 0, "apply", list);
        print_message("%s", out);
        assert_non_null(strstr(out, "0 added, 1 removed, 1 changed, 1 unchanged"));
        assert_true(strstr(out, "change: running (") && strstr(out, "drop: stopped ("));
        assert_null(strstr(out, "keep:")); /* untouched, so not waited for */
        assert_int_equal(unit_main_pid(&daemon_, "keep"), keep);
        changed = unit_main_pid(&daemon_, "change");
        assert_true(changed > 0 && changed != change);
        assert_state("change", "running");
        assert_false(unit_exists("drop"));
        assert_int_equal(survivors("drop"), 0);
        assert_int_not_equal(kill(drop, 0), 0);

        /* a reload keeps the runtime set as it is */
        free(CTL_OK(&daemon_, NULL, 0, "reload"));
        assert_int_equal(unit_main_pid(&daemon_, "keep"), keep);
        assert_int_equal(unit_main_pid(&daemon_, "change"), changed);

        /* SIGKILL, start again on the same cgroup: adopted */
        assert_int_equal(test_daemon_signal(&daemon_, SIGKILL), 0);
        assert_true(test_daemon_wait(&daemon_, TIMEOUT));
        cgroup = strdup(daemon_.cgroup);
        TestDaemon old = daemon_;
        free(old.cgroup);
        old.cgroup = NULL; /* the new corrald takes it over */
        test_daemon_cleanup(&old);
        b = body_with("");
        assert_int_equal(test_daemon_start_cgroup(&daemon_, cgroup, b), 0);
        assert_true(test_daemon_wait_log(&daemon_, "keep: adopted from an earlier corrald", 1, TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "change: adopted from an earlier corrald", 1, TIMEOUT));
        assert_int_equal(unit_main_pid(&daemon_, "keep"), keep);
        assert_int_equal(unit_main_pid(&daemon_, "change"), changed);
        free(out);
        out = CTL_OK(&daemon_, NULL, 0, "cat", "change");
        assert_non_null(strstr(out, "sleep 1004"));

        /* an empty list: every runtime service goes */
        write_apply(list, "");
        free(out);
        out = CTL_OK(&daemon_, NULL, 0, "apply", list);
        assert_non_null(strstr(out, "0 added, 2 removed"));
        assert_int_equal(survivors("keep") + survivors("change"), 0);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* The example desired set (examples/fleet.ini.in, written next to
 * corrald by meson) applies as it is: three units, ready by health. */
static void test_example_fleet(void **state) {
        _cleanup_free_ char *example = NULL, *out = NULL;
        const char *corrald = getenv("CORRALD");

        assert_true(asprintf(&example, "%.*s/fleet-example.ini", (int) (strrchr(corrald, '/') - corrald), corrald) > 0);
        start("example", "[corral]\nport_range = 24300-24330\n");
        out = CTL_OK(&daemon_, NULL, 0, "apply", example);
        print_message("%s", out);
        assert_non_null(strstr(out, "3 added, 0 removed, 0 changed, 0 unchanged"));
        assert_state("tenant-a@0", "running");
        assert_state("tenant-a@1", "running");
        assert_state("tenant-b", "running");
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* ---- what is refused ---- */

/* A name that a configuration file defines cannot be added, applied or
 * removed through the API (EEXIST, EPERM): nothing changes. A bad key
 * names the request and the line; nothing is added. */
static void test_refused(void **state) {
        _cleanup_free_ char *list = NULL, *line = NULL, *file = runtime_file("other");
        Ctl c;

        start("refused", "[program:fixed]\ncommand = sleep 1000\n");
        wait_state(&daemon_, "fixed", "running");
        pid_t fixed = unit_main_pid(&daemon_, "fixed");

        c = CTL(&daemon_, NULL, "add", "fixed", "--", "sleep", "5");
        assert_int_equal(c.status, 1);
        assert_non_null(strstr(c.err, "is defined in"));
        ctl_done(&c);

        /* EEXIST on the wire */
        int fd = raw_connect(&daemon_);
        raw_send_str(fd, "{\"method\":\"add\",\"params\":{\"name\":\"fixed\",\"keys\":{\"command\":\"sleep 5\"}}}\n");
        json_t *reply = raw_read_reply(fd);
        assert_error_reply(reply, "EEXIST", EEXIST);
        json_decref(reply);
        close(fd);

        assert_true(asprintf(&list, "%s/list.ini", runtime_dir) > 0);
        write_apply(list, "[program:other]\ncommand = sleep 1000\n[program:fixed]\ncommand = sleep 5\n");
        free(CTL_OK(&daemon_, NULL, 1, "apply", list));
        assert_false(unit_exists("other")); /* the whole list was refused */
        assert_int_not_equal(access(file, F_OK), 0);

        c = CTL(&daemon_, NULL, "remove", "fixed");
        assert_int_equal(c.status, 1);
        assert_non_null(strstr(c.err, "defined in"));
        ctl_done(&c);
        assert_int_equal(unit_main_pid(&daemon_, "fixed"), fixed);

        c = CTL(&daemon_, NULL, "add", "bad", "restart=always", "nokey=1", "--", "sleep", "5");
        print_message("%s", c.err);
        assert_int_equal(c.status, 1);
        assert_non_null(strstr(c.err, "add bad:3: "));
        assert_non_null(strstr(c.err, "nokey"));
        ctl_done(&c);
        assert_false(unit_exists("bad"));
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* ---- verbs that wait ---- */

/* stop returns when no process is left: at once for a unit that obeys
 * SIGTERM, after stop_timeout (and cgroup.kill) for a tree that ignores
 * it. */
static void test_stop_waits(void **state) {
        _cleanup_free_ char *body = NULL, *out = NULL;
        const char *demo = getenv("CORRAL_DEMO_SERVICE");

        assert_true(asprintf(&body,
                             "[program:tree]\ncommand = %s -port 24190 --ignore-sigterm --fork-tree 4\n"
                             "stop_timeout = 1s\noutput = null\n"
                             "[program:plain]\ncommand = sleep 1000\n",
                             demo) > 0);
        start("stopwait", body);
        wait_state(&daemon_, "tree", "running");
        wait_state(&daemon_, "plain", "running");
        assert_true(test_wait_for(tree_grown, /* userdata= */ NULL, TIMEOUT)); /* it forks after its exec */

        usec_t t0 = now(CLOCK_MONOTONIC);
        out = CTL_OK(&daemon_, NULL, 0, "stop", "tree");
        usec_t took = now(CLOCK_MONOTONIC) - t0;
        assert_int_equal(survivors("tree"), 0); /* right after it returned */
        print_message("%s(took %llu ms)\n", out, (unsigned long long) (took / 1000));
        assert_true(strneq(out, "tree: stopped (", 15));
        assert_true(took >= 900 * USEC_PER_MSEC);
        assert_state("tree", "inactive");

        free(out);
        out = CTL_OK(&daemon_, NULL, 0, "stop", "plain");
        assert_int_equal(survivors("plain"), 0);

        /* --no-block: today's behaviour, the reply before the stop is done */
        free(CTL_OK(&daemon_, NULL, 0, "start", "tree"));
        assert_state("tree", "running");
        assert_true(test_wait_for(tree_grown, /* userdata= */ NULL, TIMEOUT));
        free(out);
        out = CTL_OK(&daemon_, NULL, 0, "stop", "--no-block", "tree");
        assert_string_equal(out, "");
        assert_true(survivors("tree") > 0);
        wait_state(&daemon_, "tree", "inactive");
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

static bool path_gone(void *userdata) {
        struct stat st;
        return stat(userdata, &st) < 0 && errno == ENOENT;
}

/* A stopped unit's cgroup goes once no unit is stopping (that waits at
 * most a second), at corrald's leisure — and a start before that is in a
 * new cgroup, never its last one (a new cgroup has a new inode: kernfs
 * never reuses one). Its inotify watch goes with it, none left behind.
 * corrald's exit leaves no cgroup behind. */
static void test_cgroup_removed_later(void **state) {
        _cleanup_free_ char *dir = NULL;
        struct stat before, after;

        start("removal",
              "[program:slow]\ncommand = sh -c \"trap '' TERM; exec sleep 1000\"\nstop_timeout = 30s\n"
              "[program:quick]\ncommand = sleep 1000\n");
        wait_state(&daemon_, "slow", "running");
        wait_state(&daemon_, "quick", "running");
        dir = unit_cgroup_file(&daemon_, "quick", NULL);
        assert_int_equal(stat(dir, &before), 0);

        free(CTL_OK(&daemon_, NULL, 0, "stop", "--no-block", "slow")); /* it ignores SIGTERM: stopping */
        wait_state(&daemon_, "slow", "stopping");
        free(CTL_OK(&daemon_, NULL, 0, "stop", "quick"));
        assert_state("quick", "inactive");
        print_message("quick's cgroup right after its stop: %s\n", path_gone(dir) ? "gone" : "still there");
        free(CTL_OK(&daemon_, NULL, 0, "start", "quick"));
        assert_state("quick", "running");
        assert_int_equal(stat(dir, &after), 0);
        assert_true(after.st_ino != before.st_ino);

        free(CTL_OK(&daemon_, NULL, 0, "stop", "quick"));
        assert_true(test_wait_for(path_gone, dir, TIMEOUT));
        /* the watch of quick's cgroup.events went with the directory:
         * slow's is the one left */
        assert_int_equal(test_count_inotify_watches(daemon_.pid), 1);
        free(CTL_OK(&daemon_, NULL, 0, "kill", "-s", "KILL", "slow"));
        wait_state(&daemon_, "slow", "inactive");
        free(dir);
        dir = unit_cgroup_file(&daemon_, "slow", NULL);
        assert_true(test_wait_for(path_gone, dir, TIMEOUT));
        assert_int_equal(test_count_inotify_watches(daemon_.pid), 0);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* restart of a glob and of a service name restarts every instance; one
 * unknown name and nothing changes (exit 4); a start naming a job changes
 * nothing either; stop --all stops everything. */
static void test_names(void **state) {
        _cleanup_free_ char *out = NULL;
        pid_t before[3], after[3];
        char names[3][16];

        start("names",
              "[program:web]\ncommand = sleep 1000\ninstances = 3\n"
              "[program:other]\ncommand = sleep 1000\n");
        for (int i = 0; i < 3; i++) {
                snprintf(names[i], sizeof(names[i]), "web@%d", i);
                wait_state(&daemon_, names[i], "running");
                before[i] = unit_main_pid(&daemon_, names[i]);
        }
        pid_t other = unit_main_pid(&daemon_, "other");

        out = CTL_OK(&daemon_, NULL, 0, "restart", "web@*");
        print_message("%s", out);
        for (int i = 0; i < 3; i++) {
                char line[32];
                snprintf(line, sizeof(line), "%s: restarted (", names[i]);
                assert_non_null(strstr(out, line));
                after[i] = unit_main_pid(&daemon_, names[i]);
                assert_true(after[i] > 0 && after[i] != before[i]);
                assert_state(names[i], "running");
        }
        assert_int_equal(unit_main_pid(&daemon_, "other"), other);

        free(out);
        out = CTL_OK(&daemon_, NULL, 0, "restart", "web");
        for (int i = 0; i < 3; i++) {
                pid_t p = unit_main_pid(&daemon_, names[i]);
                assert_true(p > 0 && p != after[i]);
                after[i] = p;
        }

        /* one unknown name: nothing changes */
        Ctl c = CTL(&daemon_, NULL, "stop", "web", "nosuch", "other");
        assert_int_equal(c.status, EXIT_NO_UNIT);
        assert_non_null(strstr(c.err, "nosuch"));
        ctl_done(&c);
        for (int i = 0; i < 3; i++)
                assert_int_equal(unit_main_pid(&daemon_, names[i]), after[i]);
        assert_int_equal(unit_main_pid(&daemon_, "other"), other);
        free(CTL_OK(&daemon_, NULL, EXIT_NO_UNIT, "restart", "zz-*"));

        /* a start that names a job: refused, nothing started */
        free(CTL_OK(&daemon_, NULL, 0, "stop", "other"));
        free(CTL_OK(&daemon_, NULL, 0, "run", "--name", "j", "--", "sleep", "1000"));
        c = CTL(&daemon_, NULL, "start", "other", "j");
        assert_int_equal(c.status, 1);
        assert_non_null(strstr(c.err, "j is a job"));
        ctl_done(&c);
        assert_state("other", "inactive");

        free(out);
        out = CTL_OK(&daemon_, NULL, 0, "stop", "--all");
        print_message("%s", out);
        for (int i = 0; i < 3; i++) {
                assert_state(names[i], "inactive");
                assert_int_equal(survivors(names[i]), 0);
        }
        assert_int_equal(survivors("j"), 0);
        /* start --all: every service again, and not the job (it ran once) */
        free(out);
        out = CTL_OK(&daemon_, NULL, 0, "start", "--all");
        assert_null(strstr(out, "j:"));
        for (int i = 0; i < 3; i++)
                assert_state(names[i], "running");
        assert_state("other", "running");
        assert_state("j", "inactive");
        free(CTL_OK(&daemon_, NULL, EXIT_USAGE, "stop"));
        free(CTL_OK(&daemon_, NULL, EXIT_USAGE, "stop", "--all", "web"));
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* start --all and restart --all while a unit that a reload dropped is
 * still stopping (it ignores SIGTERM): every service that stays, and not
 * the one on its way out — the soak (tools/bench/soak) found them refused
 * with "no such unit", nothing done. */
static void test_all_while_removing(void **state) {
        _cleanup_free_ char *forker = test_helper_path("test-forker"), *mk = test_marker_new("allrm"), *body = NULL,
                            *conf = NULL, *out = NULL;
        char *gone;
        pid_t keep;

        assert_true(asprintf(&body,
                             "[program:keep]\ncommand = sleep 1000\n"
                             "[program:gone]\ncommand = %s tree 1 ignore\nstop_timeout = 60s\n"
                             "environment = CORRAL_TEST_MARKER=%s\n",
                             forker, mk) > 0);
        start("allrm", body);
        wait_state(&daemon_, "keep", "running");
        wait_state(&daemon_, "gone", "running");
        free(CTL_OK(&daemon_, NULL, 0, "stop", "keep"));
        assert_int_equal(read_full_file_at(AT_FDCWD, daemon_.config, 1 << 20, &conf, NULL), 0);
        gone = strstr(conf, "[program:gone]");
        assert_non_null(gone);
        *gone = '\0';
        assert_int_equal(test_write_file(daemon_.config, conf), 0);
        /* a reload that does not wait (corralctl reload waits for the stops) */
        json_decref(test_daemon_request(&daemon_, "reload", NULL, NULL));
        assert_true(test_daemon_wait_log(&daemon_, "gone: stopping", 1, 5 * USEC_PER_SEC));

        out = CTL_OK(&daemon_, NULL, 0, "start", "--all");
        assert_null(strstr(out, "gone"));
        assert_state("keep", "running");
        keep = unit_main_pid(&daemon_, "keep");
        free(out);
        out = CTL_OK(&daemon_, NULL, 0, "restart", "--all");
        assert_null(strstr(out, "gone"));
        wait_state(&daemon_, "keep", "running");
        assert_true(unit_main_pid(&daemon_, "keep") != keep);
        assert_int_equal(test_daemon_log_count(&daemon_, "gone: stopped"), 0); /* on its way out for 60 s */
        /* naming it is still refused */
        free(CTL_OK(&daemon_, NULL, EXIT_NO_UNIT, "start", "gone"));
}

/* A service that a reload removes while it still stops (it ignores
 * SIGTERM) and the next reload adds back: the same unit starts once the
 * old processes are gone, instead of a second one that cannot create the
 * cgroup they populate ("cannot create cgroup: Device or resource busy",
 * failed for good; found by the soak). */
static void test_back_while_removing(void **state) {
        _cleanup_free_ char *forker = test_helper_path("test-forker"), *mk = test_marker_new("back"), *body = NULL,
                            *conf = NULL, *full = NULL;
        char *gone;

        assert_true(asprintf(&body,
                             "[program:keep]\ncommand = sleep 1000\n"
                             "[program:back]\ncommand = %s tree 1 ignore\nstop_timeout = 2s\n"
                             "environment = CORRAL_TEST_MARKER=%s\n",
                             forker, mk) > 0);
        start("back", body);
        wait_state(&daemon_, "back", "running");
        /* its child that ignores SIGTERM is there: the stop must wait for it */
        assert_true(test_wait_marker(mk, 2, 2, TIMEOUT));
        pid_t old = unit_main_pid(&daemon_, "back");
        assert_int_equal(read_full_file_at(AT_FDCWD, daemon_.config, 1 << 20, &full, NULL), 0);
        conf = strdup(full);
        gone = strstr(conf, "[program:back]");
        assert_non_null(gone);
        *gone = '\0';
        assert_int_equal(test_write_file(daemon_.config, conf), 0);
        json_decref(test_daemon_request(&daemon_, "reload", NULL, NULL)); /* does not wait for the stop */
        assert_true(test_daemon_wait_log(&daemon_, "back: stopping", 1, 5 * USEC_PER_SEC));
        assert_int_equal(test_write_file(daemon_.config, full), 0);
        json_decref(test_daemon_request(&daemon_, "reload", NULL, NULL));
        assert_int_equal(test_daemon_log_count(&daemon_, "back: stopped"), 0); /* still on its way out */

        wait_state(&daemon_, "back", "running");
        assert_true(unit_main_pid(&daemon_, "back") != old);
        assert_int_equal(test_daemon_log_count(&daemon_, "cannot create cgroup"), 0);
        assert_true(test_wait_marker(mk, 2, 2, TIMEOUT)); /* the new tree alone */
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* A start that fails to its goal: exit 1 and the reason on its line. */
static void test_failed_outcome(void **state) {
        _cleanup_free_ char *out = NULL;

        start("failout", "[program:broken]\ncommand = /nonexistent/binary\nautostart = false\nrestart = never\n");
        out = CTL_OK(&daemon_, NULL, 1, "start", "broken");
        print_message("%s", out);
        assert_true(strneq(out, "broken: failed: ", 16));
        assert_non_null(strstr(out, "/nonexistent/binary"));
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* A client that asked to wait and went away: the stop goes on, corrald
 * serves the next client. */
static void test_waiter_leaves(void **state) {
        _cleanup_free_ char *body = NULL;

        assert_true(asprintf(&body,
                             "[program:slow]\ncommand = sh -c 'trap \"\" TERM; while :; do sleep 0.1; done'\n"
                             "stop_timeout = 1s\n") > 0);
        start("leaves", body);
        wait_state(&daemon_, "slow", "running");
        usleep(300 * 1000);
        int fd = raw_connect(&daemon_);
        raw_send_str(fd, "{\"method\":\"stop\",\"params\":{\"units\":[\"slow\"],\"wait\":true}}\n");
        char *line = NULL;
        assert_int_equal(raw_read_line(fd, 200, &line), -ETIMEDOUT); /* no answer before it is done */
        close(fd);
        int fd2 = raw_connect(&daemon_);
        assert_status_ok(fd2);
        close(fd2);
        wait_state(&daemon_, "slow", "inactive");
        assert_true(test_daemon_alive(&daemon_));

        /* and one that stays gets its outcomes */
        free(CTL_OK(&daemon_, NULL, 0, "start", "slow"));
        usleep(300 * 1000); /* running from its exec: give the shell time to set its trap */
        fd = raw_connect(&daemon_);
        raw_send_str(fd, "{\"method\":\"stop\",\"params\":{\"units\":[\"slow\"],\"wait\":true}}\n");
        json_t *reply = raw_read_reply(fd);
        json_t *o = json_array_get(json_object_get(json_object_get(reply, "result"), "outcomes"), 0);
        assert_string_equal(json_string_value(json_object_get(o, "unit")), "slow");
        assert_true(json_is_true(json_object_get(o, "ok")));
        assert_true(json_integer_value(json_object_get(o, "duration_usec")) >= 900 * 1000);
        json_decref(reply);
        close(fd);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* A change that does not become ready stops the roll at the first
 * instance: add (with wait) says which failed and which were not
 * restarted, exits 1, and the other two keep their old processes. */
static void test_roll_stops(void **state) {
        const char *demo = getenv("CORRAL_DEMO_SERVICE");
        pid_t before[3];
        char names[3][16];

        start("rollstop", "[corral]\nport_range = 24240-24270\n");
#define WEB_KEYS                                                                                      \
        "instances=3", "port=auto", "ready=health", "health_url=http://127.0.0.1:${PORT}/api/status", \
                "health_interval=100ms", "health_timeout=300ms", "start_timeout=1s", "restart=never", "output=null"
        free(CTL_OK(&daemon_, NULL, 0, "add", "web", WEB_KEYS, "--", demo, "-port", "${PORT}"));
        for (int i = 0; i < 3; i++) {
                snprintf(names[i], sizeof(names[i]), "web@%d", i);
                before[i] = unit_main_pid(&daemon_, names[i]);
                assert_true(before[i] > 0);
        }
        /* the new version never answers its health check */
        Ctl c = CTL(&daemon_, NULL, "add", "web", WEB_KEYS, "--", "sleep", "1000");
        print_message("%s%s", c.out, c.err);
        assert_int_equal(c.status, 1);
        assert_non_null(strstr(c.out, "web@0: failed: "));
        assert_non_null(strstr(c.out, "web@1: failed: not restarted"));
        assert_non_null(strstr(c.out, "web@2: failed: not restarted"));
        ctl_done(&c);
        assert_int_equal(unit_main_pid(&daemon_, "web@1"), before[1]);
        assert_int_equal(unit_main_pid(&daemon_, "web@2"), before[2]);
        assert_state("web@1", "running");
        assert_true(test_daemon_stop_cleanly(&daemon_));
#undef WEB_KEYS
}

/* ---- permissions ---- */

/* With status_public, another user may cat but not add, remove, scale or
 * apply (EPERM, exit 1), nor stop with wait; nothing changes. */
static void test_permissions(void **state) {
        _cleanup_free_ char *list = NULL, *out = NULL;
        Ctl c;

        start("perm", "[corral]\nstatus_public = yes\n[program:fixed]\ncommand = sleep 1000\n");
        open_socket_dir(&daemon_);
        require_user(&daemon_, TEST_USER);
        wait_state(&daemon_, "fixed", "running");
        pid_t fixed = unit_main_pid(&daemon_, "fixed");

        out = CTL_OK(&daemon_, TEST_USER, 0, "cat", "fixed");
        assert_non_null(strstr(out, "[program:fixed]"));
        assert_true(asprintf(&list, "%s/list.ini", daemon_.dir) > 0);
        write_apply(list, "[program:x]\ncommand = sleep 1000\n");
        assert_int_equal(chmod(list, 0644), 0);
        const char *const denied[][4] = {
                { "add", "x", "command=sleep 1000", NULL },
                { "remove", "fixed", NULL },
                { "scale", "fixed", "2", NULL },
                { "apply", list, NULL },
                { "stop", "fixed", NULL },
                { "restart", "--all", NULL },
        };
        for (size_t i = 0; i < ELEMENTSOF(denied); i++) {
                c = ctl_argv(&daemon_, TEST_USER, denied[i]);
                if (c.status != 1 || !strstr(c.err, "permission denied"))
                        print_message("%s: exit %d: %s\n", denied[i][0], c.status, c.err);
                assert_int_equal(c.status, 1);
                assert_non_null(strstr(c.err, "permission denied"));
                ctl_done(&c);
        }
        assert_false(unit_exists("x"));
        assert_int_equal(unit_main_pid(&daemon_, "fixed"), fixed);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* ---- libcorral ---- */

/* The library's calls as a program would make them: add and wait, the
 * outcomes' accessors, a waiting stop, cat, apply, and the arguments it
 * refuses before sending anything. */
static void test_libcorral(void **state) {
        corral *c = NULL;
        corral_outcomes *o = NULL;
        corral_counts n = {};
        char *file = NULL, *text = NULL;
        unsigned line = 0;
        int runtime = -1;

        start("lib", "");
        assert_int_equal(corral_open(daemon_.socket, &c), 0);
        assert_int_equal(corral_add(c, "svc", "command = sleep 1000\ninstances = 2\n", CORRAL_WAIT, &n, &o), 0);
        assert_int_equal(n.added, 2);
        assert_int_equal(corral_outcomes_count(o), 2);
        assert_int_equal(corral_outcomes_ok(o), 1);
        for (size_t i = 0; i < 2; i++) {
                assert_true(strneq(corral_outcome_unit(o, i), "svc@", 4));
                assert_int_equal(corral_outcome_ok(o, i), 1);
                assert_string_equal(corral_outcome_state(o, i), "running");
                assert_null(corral_outcome_reason(o, i));
                assert_true(corral_outcome_duration_usec(o, i) < 30 * USEC_PER_SEC);
        }
        assert_int_equal(corral_outcome_ok(o, 2), -1);
        assert_null(corral_outcome_unit(o, 2));
        o = corral_outcomes_free(o);

        const char *svc[] = { "svc", NULL }, *bad[] = { "svc", "nosuch", NULL };
        assert_int_equal(corral_request(c, "stop", bad, CORRAL_WAIT, &o), -ENOENT);
        assert_non_null(strstr(corral_last_error(c), "nosuch"));
        assert_int_equal(corral_request(c, "stop", svc, CORRAL_WAIT, &o), 0);
        assert_int_equal(corral_outcomes_count(o), 2);
        assert_string_equal(corral_outcome_state(o, 0), "inactive");
        o = corral_outcomes_free(o);
        assert_int_equal(survivors("svc@0") + survivors("svc@1"), 0);
        assert_int_equal(corral_request(c, "start", NULL, CORRAL_ALL | CORRAL_WAIT, &o), 0);
        assert_int_equal(corral_outcomes_count(o), 2);
        o = corral_outcomes_free(o);
        /* without wait: applied, no outcomes */
        assert_int_equal(corral_request(c, "restart", svc, CORRAL_ALL_AT_ONCE, &o), 0);
        assert_int_equal(corral_outcomes_count(o), 0);
        o = corral_outcomes_free(o);

        assert_int_equal(corral_cat(c, "svc", &file, &line, &runtime, &text), 0);
        assert_non_null(strstr(file, "/services/svc.conf"));
        assert_int_equal(line, 1);
        assert_int_equal(runtime, 1);
        assert_non_null(strstr(text, "instances = 2"));
        free(file);
        free(text);
        assert_int_equal(corral_cat(c, "nosuch", NULL, NULL, NULL, NULL), -ENOENT);

        corral_service list[] = { { "one", "command = sleep 1000\n" } };
        assert_int_equal(corral_apply(c, list, 1, CORRAL_WAIT, &n, &o), 0);
        assert_int_equal(n.added, 1);
        assert_int_equal(n.removed, 2);
        assert_int_equal(corral_outcomes_count(o), 3);
        o = corral_outcomes_free(o);
        assert_int_equal(corral_scale(c, "one", 2, 0, &n, NULL), 0);
        assert_int_equal(corral_remove(c, "one", CORRAL_WAIT, &n, NULL), 0);
        assert_int_equal(n.removed, 2);

        /* refused before anything is sent */
        assert_int_equal(corral_request(c, "stop", NULL, CORRAL_WAIT, NULL), -EINVAL);
        assert_int_equal(corral_request(c, "stop", svc, CORRAL_ALL, NULL), -EINVAL);
        assert_int_equal(corral_request(c, "kill", svc, 0, NULL), -EINVAL);
        assert_int_equal(corral_request(c, "reload", svc, 0, NULL), -EINVAL);
        assert_int_equal(corral_add(c, "", "command = x", 0, NULL, NULL), -EINVAL);
        assert_int_equal(corral_apply(c, NULL, 1, 0, NULL, NULL), -EINVAL);
        assert_int_equal(corral_request(c, "reload", NULL, CORRAL_WAIT, NULL), 0);
        corral_close(c);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* ---- rolling restart ---- */

static bool answers(int port) {
        struct sockaddr_in sa = { .sin_family = AF_INET,
                                  .sin_port = htons((uint16_t) port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        const char req[] = "GET /api/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        struct timeval tv = { .tv_sec = 1 };
        char buf[64] = {};
        _cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || write(fd, req, sizeof(req) - 1) < 0)
                return false;
        return read(fd, buf, sizeof(buf) - 1) > 0 && strstr(buf, " 200 ");
}

/* Three health-checked instances added at run time: add returns when all
 * three answer; "corralctl restart web" rolls them one at a time, at least
 * two answering at every moment (the test polls them while corralctl
 * runs), and returns once the last one is ready again. */
static void test_rolling_restart(void **state) {
        const char *demo = getenv("CORRAL_DEMO_SERVICE");
        _cleanup_free_ char *out = NULL;
        int ports[3], fewest = 3;

        start("roll", "[corral]\nport_range = 24200-24230\n");
        out = CTL_OK(&daemon_, NULL, 0, "add", "web", "instances=3", "port=auto", "ready=health",
                     "health_url=http://127.0.0.1:${PORT}/api/status", "health_interval=200ms", "health_timeout=300ms",
                     "health_threshold=3", "output=null", "--", demo, "-port", "${PORT}");
        print_message("%s", out);
        for (int i = 0; i < 3; i++) {
                char name[16];
                snprintf(name, sizeof(name), "web@%d", i);
                json_t *u = unit_json(&daemon_, name);
                assert_non_null(u);
                ports[i] = (int) json_integer_value(json_object_get(u, "port"));
                json_decref(u);
                assert_true(answers(ports[i])); /* ready when add returned */
        }
        assert_int_equal(test_daemon_log_count(&daemon_, "(health check passed)"), 3);

        pid_t pid = ctl_spawn(&daemon_, /* user= */ NULL, -1, -1, (const char *const[]) { "restart", "web", NULL });
        int status = -1;
        for (;;) {
                int n = 0, ws;
                pid_t k = waitpid(pid, &ws, WNOHANG);
                assert_true(k >= 0);
                if (k == pid) {
                        status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
                        break;
                }
                for (int i = 0; i < 3; i++)
                        n += answers(ports[i]);
                fewest = MIN(fewest, n);
                usleep(20 * 1000);
        }
        assert_int_equal(status, 0);
        /* returned once the third restarted instance passed its check */
        assert_int_equal(test_daemon_log_count(&daemon_, "(health check passed)"), 6);
        print_message("fewest instances answering during the roll: %d\n", fewest);
        assert_true(fewest >= 2);
        for (int i = 0; i < 3; i++)
                assert_true(answers(ports[i]));
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_add_scale, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cgroup_removed_later, setup, teardown),
                cmocka_unit_test_setup_teardown(test_apply, setup, teardown),
                cmocka_unit_test_setup_teardown(test_example_fleet, setup, teardown),
                cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stop_waits, setup, teardown),
                cmocka_unit_test_setup_teardown(test_names, setup, teardown),
                cmocka_unit_test_setup_teardown(test_all_while_removing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_back_while_removing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_failed_outcome, setup, teardown),
                cmocka_unit_test_setup_teardown(test_waiter_leaves, setup, teardown),
                cmocka_unit_test_setup_teardown(test_rolling_restart, setup, teardown),
                cmocka_unit_test_setup_teardown(test_roll_stops, setup, teardown),
                cmocka_unit_test_setup_teardown(test_permissions, setup, teardown),
                cmocka_unit_test_setup_teardown(test_libcorral, setup, teardown),
        };

        test_require_cgroup2_root();
        if (!getenv("CORRAL_DEMO_SERVICE") || !getenv("CORRALCTL")) {
                fprintf(stderr, "SKIP: $CORRAL_DEMO_SERVICE or $CORRALCTL is not set: run the tests through meson\n");
                return 77;
        }
        user_created = ensure_user(TEST_USER);
        int r = cmocka_run_group_tests_name("runtime", tests, NULL, NULL);
        remove_user(TEST_USER, user_created);
        return r;
}
