/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Output capture, end to end with a real corrald: each line on corrald's
 * terminal with its unit's name (and inherit-raw without), files rotated
 * by size and reopened on SIGUSR1 after a mv, stderr in a file of its own,
 * and a unit writing 200 MB as fast as it can while another is
 * health-checked and status is asked in a loop: corrald's RSS stays within
 * the buffers plus 2 MiB, no check fails, every status answers. Then
 * corralctl logs -n 5 of one instance, every unit merged in time order,
 * status UNIT's last lines, and logs -f within a second of the writing. */

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>

#include "macro.h"
#include "test-util.h"
#include "time-util.h"

#define TIMEOUT (30 * USEC_PER_SEC)

static TestDaemon daemon_;

static int teardown(void **state) {
        test_daemon_cleanup(&daemon_);
        return 0;
}

static off_t file_size(const char *path) {
        struct stat st;
        return stat(path, &st) < 0 ? -1 : st.st_size;
}

static char *read_file(const char *path) {
        FILE *f = fopen(path, "re");
        char *buf = NULL;
        size_t n = 0;

        if (!f)
                return strdup("");
        if (getdelim(&buf, &n, '\0', f) < 0) { /* empty: buf, if any, holds nothing */
                assert_true(feof(f));
                buf = mfree(buf);
        }
        fclose(f);
        return buf ?: strdup("");
}

/* Where the units' files go: a directory of the test's own. */
static char outdir[] = "/tmp/corral-test-output-XXXXXX";

static char *out_path(const char *name) {
        char *p;
        assert_true(asprintf(&p, "%s/%s", outdir, name) > 0);
        return p;
}

/* Starts corrald on body, with "@DIR@" replaced by outdir. */
static void start(const char *what, const char *body) {
        _cleanup_free_ char *conf = calloc(1, strlen(body) * 4 + 1);
        const char *p = body;
        size_t len = 0;

        assert_non_null(conf);
        for (const char *at; (at = strstr(p, "@DIR@")); p = at + 5) {
                memcpy(conf + len, p, (size_t) (at - p));
                len += (size_t) (at - p);
                len += (size_t) sprintf(conf + len, "%s", outdir);
        }
        strcpy(conf + len, p);
        assert_int_equal(test_daemon_start(&daemon_, what, conf), 0);
}

/* ---- corrald's terminal ---- */

static void test_inherit_prefix(void **state) {
        start("inherit",
              "[program:web]\n"
              "command = /bin/sh -c 'echo out-web; echo err-web >&2; exec sleep 1000'\n"
              "instances = 2\n"
              "output = inherit\n"
              "[program:db]\n"
              "command = /bin/sh -c 'echo out-db; exec sleep 1000'\n"
              "output = inherit\n"
              "[program:raw]\n"
              "command = /bin/sh -c 'echo out-raw; exec sleep 1000'\n"
              "output = inherit-raw\n");
        assert_true(test_daemon_wait_log(&daemon_, "out-web", 2, TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "err-web", 2, TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "out-db", 1, TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "out-raw", 1, TIMEOUT));
        /* names aligned to the widest (web@0), the time as corrald's own lines */
        assert_int_equal(test_daemon_log_count(&daemon_, "Z web@0 | out-web\n"), 1);
        assert_int_equal(test_daemon_log_count(&daemon_, "Z web@1 | err-web\n"), 1);
        assert_int_equal(test_daemon_log_count(&daemon_, "Z db    | out-db\n"), 1);
        /* inherit-raw: the unit's own line, untouched */
        assert_int_equal(test_daemon_log_count(&daemon_, "\nout-raw\n"), 1);
        assert_int_equal(test_daemon_log_count(&daemon_, "| out-raw"), 0);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* ---- files ---- */

/* Lines of 100 bytes, n of them, numbered, then sleeps. */
#define WRITER(n)                                                  \
        "/bin/sh -c 'i=0; while [ $i -lt " #n                      \
        " ]; do printf \"%08d %090d\\n\" $i 0; i=$((i+1)); done; " \
        "echo done >&2; exec sleep 1000'"

static void test_file_rotation(void **state) {
        /* 5 × 64 KiB in 100-byte lines, with a 28-byte time before each */
        start("rotation", "[program:w]\n"
                          "command = " WRITER(2560) "\n"
                          "output = file:@DIR@/w.log\n"
                          "output_stderr = file:@DIR@/w.err\n"
                          "output_max_size = 64K\n"
                          "output_max_files = 3\n");
        _cleanup_free_ char *log = out_path("w.log"), *err = out_path("w.err"), *text = NULL;
        usec_t deadline = now(CLOCK_MONOTONIC) + TIMEOUT;

        while (file_size(err) <= 0 && now(CLOCK_MONOTONIC) < deadline)
                usleep(50 * 1000);
        text = read_file(err);
        assert_non_null(strstr(text, "Z done\n")); /* stderr in a file of its own, with its time */
        for (unsigned i = 0; i < 5; i++) {
                _cleanup_free_ char *p = NULL;
                assert_true(asprintf(&p, i == 0 ? "%s" : "%s.%u", log, i) > 0);
                off_t size = file_size(p);
                print_message("%s: %lld bytes\n", p, (long long) size);
                if (i < 3)
                        assert_true(size > 0 && size <= 64 * 1024);
                else
                        assert_int_equal(size, -1); /* the oldest are removed */
        }
        free(text);
        text = read_file(log);
        assert_non_null(strstr(text, "Z 00002559 ")); /* the last line is in PATH, with its time */
        assert_null(strstr(text, " 00000000 "));
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

static void test_reopen_on_sigusr1(void **state) {
        start("reopen",
              "[program:tick]\n"
              "command = /bin/sh -c 'while :; do echo tick; sleep 0.1; done'\n"
              "output = file:@DIR@/tick.log\n"
              "output_timestamps = no\n");
        _cleanup_free_ char *log = out_path("tick.log"), *old = out_path("tick.log.1"), *text = NULL;
        usec_t deadline = now(CLOCK_MONOTONIC) + TIMEOUT;

        while (file_size(log) < 20 && now(CLOCK_MONOTONIC) < deadline)
                usleep(50 * 1000);
        assert_int_equal(rename(log, old), 0); /* what logrotate does, then its postrotate: */
        assert_int_equal(test_daemon_signal(&daemon_, SIGUSR1), 0);
        assert_true(test_daemon_wait_log(&daemon_, "received SIGUSR1, reopening output files", 1, TIMEOUT));
        while (file_size(log) < 20 && now(CLOCK_MONOTONIC) < deadline)
                usleep(50 * 1000);
        assert_true(file_size(log) >= 20);
        off_t moved = file_size(old);
        usleep(500 * 1000);
        assert_int_equal(file_size(old), moved); /* nothing more goes to the moved file */
        text = read_file(log);
        assert_string_equal(text + strlen(text) - 5, "tick\n"); /* no time: output_timestamps = no */
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* ---- a flood ---- */

static long rss_kib(pid_t pid) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        const char *p;

        assert_true(asprintf(&path, "/proc/%d/status", (int) pid) > 0);
        text = read_file(path);
        p = strstr(text, "VmRSS:");
        return p ? strtol(p + 6, NULL, 10) : -1;
}

static const char *unit_state(json_t *status, const char *name) {
        return json_string_value(json_object_get(test_status_unit(status, name), "state"));
}

static void test_flood(void **state) {
        const char *demo = getenv("CORRAL_DEMO_SERVICE");
        _cleanup_free_ char *body = NULL, *flood_log = out_path("flood.log"), *flood_old = out_path("flood.log.1"),
                            *flood_err = out_path("flood.err");
        long rss_before, rss_max = 0;
        unsigned statuses = 0, checks_before = 0, checks = 0;
        usec_t slowest = 0, t0, deadline;
        bool done = false;

        if (!demo)
                skip();
        /* 200 MB of 100-byte lines, as fast as yes writes them; then sleep */
        assert_true(asprintf(&body,
                             "[program:flood]\n"
                             "command = /bin/sh -c 'yes %098d | head -c 200000000; echo flood-done >&2; exec sleep "
                             "1000'\n"
                             "output = file:@DIR@/flood.log\n"
                             "output_stderr = file:@DIR@/flood.err\n"
                             "output_max_size = 10M\n"
                             "output_max_files = 2\n"
                             "autostart = no\n"
                             "[program:web]\n"
                             "command = %s -port ${PORT}\n"
                             "port = auto\n"
                             "ready = health\n"
                             "health_url = http://127.0.0.1:${PORT}/api/status\n"
                             "health_interval = 100ms\n"
                             "health_timeout = 500ms\n"
                             "health_threshold = 1\n"
                             "output = null\n",
                             0, demo) > 0);
        start("flood", body);
        assert_true(test_daemon_wait_log(&daemon_, "web: ready (health check passed)", 1, TIMEOUT));
        usleep(500 * 1000);
        rss_before = rss_kib(daemon_.pid);
        json_decref(test_daemon_request(&daemon_, "start", "{\"units\":[\"flood\"]}", NULL));
        t0 = now(CLOCK_MONOTONIC);
        deadline = t0 + 300 * USEC_PER_SEC;
        while (!done && now(CLOCK_MONOTONIC) < deadline) {
                usec_t a = now(CLOCK_MONOTONIC);
                json_t *st = test_daemon_request(&daemon_, "status", NULL, NULL);
                usec_t took = now(CLOCK_MONOTONIC) - a;
                json_t *health;

                assert_non_null(st);
                health = json_object_get(test_status_unit(st, "web"), "health");
                statuses++;
                slowest = MAX(slowest, took);
                assert_string_equal(unit_state(st, "web"), "running");
                assert_int_equal(json_integer_value(json_object_get(health, "failures")), 0);
                checks = (unsigned) json_integer_value(json_object_get(health, "checks"));
                if (checks_before == 0)
                        checks_before = checks;
                rss_max = MAX(rss_max, rss_kib(daemon_.pid));
                json_decref(st);
                /* through once head has exited */
                _cleanup_free_ char *err = read_file(flood_err);
                done = strstr(err, "flood-done") != NULL;
                usleep(20 * 1000);
        }
        print_message(
                "200 MB in %.1f s; %u status calls, the slowest %llu ms; %u health checks meanwhile, none "
                "failed; corrald's RSS %ld KiB before, %ld KiB at most\n",
                (double) (now(CLOCK_MONOTONIC) - t0) / 1e6, statuses, (unsigned long long) (slowest / USEC_PER_MSEC),
                checks - checks_before, rss_before, rss_max);
        assert_true(done);
        /* the two units' buffers (64 KiB each) and 2 MiB; not under ASan,
         * whose quarantine keeps freed memory resident on purpose */
#ifndef __SANITIZE_ADDRESS__
        assert_true(rss_max - rss_before <= 2 * 64 + 2048);
#else
        print_message("(RSS not checked under AddressSanitizer)\n");
#endif
        assert_true(slowest < 2 * USEC_PER_SEC);
        assert_true(checks > checks_before);
        assert_int_equal(test_daemon_log_count(&daemon_, "unhealthy"), 0);
        assert_true(file_size(flood_log) <= 10 * 1024 * 1024);
        assert_true(file_size(flood_old) > 9 * 1024 * 1024 && file_size(flood_old) <= 10 * 1024 * 1024);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* ---- corralctl logs ---- */

/* Runs corralctl --socket … ARGS with stdout read into a string (popen:
 * ARGS is shell words of the test's own). */
static char *ctl(const char *args, int *ret_status) {
        _cleanup_free_ char *cmd = NULL;
        char *out = NULL;
        size_t n = 0;
        FILE *f;

        assert_non_null(getenv("CORRALCTL"));
        assert_true(asprintf(&cmd, "%s --socket %s %s", getenv("CORRALCTL"), daemon_.socket, args) > 0);
        f = popen(cmd, "re");
        assert_non_null(f);
        if (getdelim(&out, &n, '\0', f) < 0) {
                free(out);
                out = strdup("");
        }
        *ret_status = WEXITSTATUS(pclose(f));
        print_message("corralctl %s: exit %d\n%s", args, *ret_status, out);
        return out;
}

static unsigned count_lines(const char *s) {
        unsigned n = 0;
        for (; *s; s++)
                n += *s == '\n';
        return n;
}

/* Three instances of the demo service, health-checked every 200 ms: each
 * answers with a line, "demo: GET /api/status 200" (as in the example
 * configuration; no journal here). */
static void start_web(const char *what) {
        _cleanup_free_ char *body = NULL;

        if (!getenv("CORRAL_DEMO_SERVICE") || !getenv("CORRALCTL"))
                skip();
        assert_true(asprintf(&body,
                             "[program:web]\n"
                             "command = %s -port ${PORT}\n"
                             "instances = 3\n"
                             "port = auto\n"
                             "ready = health\n"
                             "health_url = http://127.0.0.1:${PORT}/api/status\n"
                             "health_interval = 200ms\n",
                             getenv("CORRAL_DEMO_SERVICE")) > 0);
        assert_int_equal(test_daemon_start(&daemon_, what, body), 0);
        for (int i = 0; i < 3; i++) {
                char ready[64];
                snprintf(ready, sizeof(ready), "web@%d: ready (health check passed)", i);
                assert_true(test_daemon_wait_log(&daemon_, ready, 1, TIMEOUT));
        }
        /* at least six checks each: more lines than asked for */
        assert_true(test_daemon_wait_log(&daemon_, "web@1 | demo: GET /api/status 200", 6, TIMEOUT));
}

static void test_logs_last_five(void **state) {
        _cleanup_free_ char *out = NULL, *all = NULL, *status = NULL;
        int st;

        start_web("logs");
        out = ctl("logs -n 5 web@1", &st);
        assert_int_equal(st, 0);
        assert_int_equal(count_lines(out), 5);
        assert_int_equal(strstr(out, "web@0") || strstr(out, "web@2"), false);
        for (const char *p = out; *p; p = strchr(p, '\n') + 1)
                assert_true(strneq(p + 16, "web@1 | demo: GET /api/status 200\n", 34)); /* "Nov 23 04:15:58 " */

        /* every unit, merged, ten by default; the JSON lines as corrald sent them */
        all = ctl("logs --json", &st);
        assert_int_equal(st, 0);
        assert_int_equal(count_lines(all), 10);
        uint64_t last = 0;
        for (const char *p = all; *p; p = strchr(p, '\n') + 1) {
                json_t *l = json_loads(p, JSON_DISABLE_EOF_CHECK, NULL);
                uint64_t t = (uint64_t) json_integer_value(json_object_get(l, "timestamp_usec"));
                assert_non_null(l);
                assert_string_equal(json_string_value(json_object_get(l, "stream")), "stdout");
                assert_true(t >= last); /* in time order */
                last = t;
                json_decref(l);
        }

        /* status UNIT shows the last lines from the buffer */
        status = ctl("status web@1", &st);
        assert_int_equal(st, 0);
        assert_non_null(strstr(status, "web@1 | demo: GET /api/status 200"));
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* Starts corralctl logs -f ARGS with its stdout a pipe (read end in
 * *ret_fd); returns its PID. */
static pid_t ctl_follow(const char *unit, int *ret_fd) {
        int p[2];
        pid_t pid;

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                (void) dup2(p[1], STDOUT_FILENO);
                execl(getenv("CORRALCTL"), "corralctl", "--socket", daemon_.socket, "logs", "-f", "-n", "0", "--json",
                      unit, (char *) NULL);
                _exit(127);
        }
        close(p[1]);
        *ret_fd = p[0];
        return pid;
}

/* A line a unit writes is on a follower's screen within a second: the
 * unit writes its own CLOCK_REALTIME, the test compares on arrival. */
static void test_logs_follow(void **state) {
        char buf[4096];
        size_t have = 0;
        unsigned seen = 0;
        usec_t worst = 0, deadline;
        int fd, status;
        pid_t pid;

        if (!getenv("CORRALCTL"))
                skip();
        assert_int_equal(test_daemon_start(&daemon_, "follow",
                                           "[program:clock]\n"
                                           "command = /bin/sh -c 'sleep 1; while :; do date +%s%N; sleep 0.3; done'\n"
                                           "[program:quiet]\n"
                                           "command = /bin/sh -c 'while :; do echo other; sleep 0.1; done'\n"),
                         0);
        assert_true(test_daemon_wait_log(&daemon_, "clock: started", 1, TIMEOUT));
        pid = ctl_follow("clock", &fd);
        deadline = now(CLOCK_MONOTONIC) + TIMEOUT;
        while (seen < 5 && now(CLOCK_MONOTONIC) < deadline) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                char *nl;

                assert_true(poll(&pfd, 1, 5000) > 0);
                ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
                assert_true(n > 0);
                have += (size_t) n;
                buf[have] = '\0';
                while ((nl = strchr(buf, '\n'))) {
                        usec_t arrived = now(CLOCK_REALTIME);
                        json_t *l = json_loadb(buf, (size_t) (nl - buf), 0, NULL);
                        const char *text = json_string_value(json_object_get(l, "text"));

                        assert_non_null(text);
                        assert_string_equal(json_string_value(json_object_get(l, "unit")), "clock");
                        usec_t written = strtoull(text, NULL, 10) / 1000;
                        worst = MAX(worst, arrived - written);
                        seen++;
                        json_decref(l);
                        have -= (size_t) (nl + 1 - buf);
                        memmove(buf, nl + 1, have + 1);
                }
        }
        print_message("%u lines followed, the slowest %llu ms after its writing\n", seen,
                      (unsigned long long) (worst / USEC_PER_MSEC));
        assert_true(seen >= 5);
        assert_true(worst < USEC_PER_SEC);
        assert_int_equal(kill(pid, SIGTERM), 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        close(fd);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

static void remove_outdir(void) {
        DIR *d = opendir(outdir);
        struct dirent *e;

        while (d && (e = readdir(d)))
                if (e->d_name[0] != '.') {
                        _cleanup_free_ char *p = out_path(e->d_name);
                        unlink(p);
                }
        if (d)
                closedir(d);
        rmdir(outdir);
}

static int group_setup(void **state) {
        return mkdtemp(outdir) ? 0 : -1;
}

static int group_teardown(void **state) {
        remove_outdir();
        return 0;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_inherit_prefix, teardown),
                cmocka_unit_test_teardown(test_file_rotation, teardown),
                cmocka_unit_test_teardown(test_reopen_on_sigusr1, teardown),
                cmocka_unit_test_teardown(test_flood, teardown),
                cmocka_unit_test_teardown(test_logs_last_five, teardown),
                cmocka_unit_test_teardown(test_logs_follow, teardown),
        };

        test_require_cgroup2_root();
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
