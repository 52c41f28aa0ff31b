/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Jobs for programs, end to end (issue 13): the real corrald, the real
 * corralctl and libcorral, real processes and cgroups. The caller's stdio
 * passed by descriptor (corralctl run --wait), cancel with a chosen grace
 * of a tree that ignores SIGTERM and double-forks, a timeout with a grace,
 * Ctrl-C to corralctl, results that say what happened (cancelled, timeout,
 * spawn-failed with the real error), the job events stream, limits per
 * job, the per-user bound with a real user, and the example program
 * examples/run-job. corralctl's output goes to memfds. */

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
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

#include "corral/corral.h"
#include "macro.h"
#include "syscall.h"
#include "test-util.h"

#define TIMEOUT (30 * USEC_PER_SEC)
#define TEST_USER "corral-test-jobs"
/* A tree that ignores SIGTERM: the main process, a double-forked orphan
 * and a setsid one, all sleeping. */
#define IGNORING_TREE "trap '' TERM; sh -c 'sleep 1000 &'; setsid sh -c 'sleep 1000 &'; exec sleep 1000"

static TestDaemon daemon_;
static bool user_created;

DEFINE_TRIVIAL_CLEANUP_FUNC(corral *, corral_close);
DEFINE_TRIVIAL_CLEANUP_FUNC(corral_units *, corral_units_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(corral_event *, corral_event_free);

static const char *env_path(const char *name) {
        const char *p = getenv(name);

        if (!p) {
                fprintf(stderr, "SKIP: $%s is not set: run the tests through meson\n", name);
                exit(77);
        }
        return p;
}

/* ---- programs as children ---- */

typedef struct Child {
        pid_t pid;
        int out, err; /* memfds */
        int status;   /* exit status, or 128+signal */
        char *out_text, *err_text;
} Child;

/* Starts argv with stdin /dev/null and stdout, stderr to memfds; it dies
 * with the test, and after 120 s at the latest. */
static void child_start(Child *c, const char *const *argv) {
        *c = (Child) { .out = memfd_create("out", MFD_CLOEXEC), .err = memfd_create("err", MFD_CLOEXEC) };
        assert_true(c->out >= 0 && c->err >= 0);
        c->pid = fork();
        assert_true(c->pid >= 0);
        if (c->pid == 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                (void) dup2(null, STDIN_FILENO);
                (void) dup2(c->out, STDOUT_FILENO);
                (void) dup2(c->err, STDERR_FILENO);
                alarm(120);
                execv(argv[0], (char **) argv);
                _exit(127);
        }
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

static void child_finish(Child *c) {
        int status;

        assert_int_equal(waitpid(c->pid, &status, 0), c->pid);
        c->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        c->out_text = memfd_text(c->out);
        c->err_text = memfd_text(c->err);
        close(c->out);
        close(c->err);
        print_message("%s: exit %d\nstdout: %s\nstderr: %s\n", "child", c->status, c->out_text, c->err_text);
}

static void child_done(Child *c) {
        free(c->out_text);
        free(c->err_text);
}

/* corralctl --socket SOCKET ARGS…, to its end. */
#define CTL(c, ...)                                                                                                    \
        do {                                                                                                           \
                child_start(c, (const char *const[]) { env_path("CORRALCTL"), "--socket", daemon_.socket, __VA_ARGS__, \
                                                       NULL });                                                        \
                child_finish(c);                                                                                       \
        } while (0)

/* ---- the daemon ---- */

static bool can_connect(void *userdata) {
        const TestDaemon *d = userdata;
        corral *c = NULL;

        if (corral_open(d->socket, &c) < 0)
                return false;
        corral_close(c);
        return true;
}

static void start_daemon(TestDaemon *d, const char *what, const char *body) {
        assert_int_equal(test_daemon_start(d, what, body), 0);
        assert_true(test_wait_for(can_connect, d, TIMEOUT));
}

static int teardown(void **state) {
        test_daemon_cleanup(&daemon_);
        return 0;
}

static corral *connect_daemon(void) {
        corral *c = NULL;

        assert_int_equal(corral_open(daemon_.socket, &c), 0);
        return c;
}

static char *job_cgroup(const char *id) {
        char *p;

        assert_true(asprintf(&p, "%s/%s", daemon_.cgroup, id) > 0);
        return p;
}

static char *marker_env(const char *marker) {
        char *e;

        assert_true(asprintf(&e, "CORRAL_TEST_MARKER=%s", marker) > 0);
        return e;
}

/* ---- corralctl run --wait ---- */

/* The job writes straight into corralctl's stdout and stderr; its exit
 * status is corralctl's. With --no-pipe, the id and nothing else. */
static void test_pipe(void **state) {
        Child c;

        start_daemon(&daemon_, "jobs-pipe", "");
        CTL(&c, "run", "--wait", "--", "sh", "-c", "echo out; echo err >&2; exit 3");
        assert_int_equal(c.status, 3);
        assert_string_equal(c.out_text, "out\n");
        assert_string_equal(c.err_text, "err\n");
        child_done(&c);

        CTL(&c, "run", "--wait", "--no-pipe", "--", "sh", "-c", "echo out; exit 4");
        assert_int_equal(c.status, 4);
        assert_true(strneq(c.out_text, "job-", 4));
        assert_int_equal(strlen(c.out_text), strlen("job-12345678\n"));
        child_done(&c);

        /* stdin too */
        CTL(&c, "run", "--wait", "--", "sh", "-c", "read x; echo \"[$x]\"");
        assert_int_equal(c.status, 0);
        assert_string_equal(c.out_text, "[]\n"); /* our /dev/null */
        child_done(&c);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* corrald's open descriptors, counted in /proc. */
static unsigned daemon_fds(void) {
        char path[64];
        unsigned n = 0;
        DIR *d;

        snprintf(path, sizeof(path), "/proc/%d/fd", (int) daemon_.pid);
        d = opendir(path);
        assert_non_null(d);
        for (struct dirent *de; (de = readdir(d));)
                n += de->d_name[0] != '.';
        closedir(d);
        return n;
}

/* An ended job keeps its lines (logs) but not its output pipes: corrald
 * keeps up to 1000 ended jobs, and held both ends of two pipes for each
 * (the soak, tools/bench/soak, saw its descriptors grow by 4 a job). */
static void test_ended_jobs_close_pipes(void **state) {
        const char *argv[] = { "sh", "-c", "echo soaked", NULL };
        corral_job_spec spec = { .argv = argv };
        corral *c;
        char *id = NULL;
        unsigned before;

        start_daemon(&daemon_, "jobs-fds", "");
        c = connect_daemon();
        for (int i = 0; i < 21; i++) {
                free(id);
                id = NULL;
                assert_int_equal(corral_run(c, &spec, &id), 0);
                assert_int_equal(corral_wait(c, id, NULL), 0);
                if (i == 0)
                        before = daemon_fds(); /* after one job: whatever a first job sets up */
        }
        print_message("corrald's descriptors: %u after 1 job, %u after 21\n", before, daemon_fds());
        assert_true(daemon_fds() <= before + 2);

        const char *units[] = { id, NULL };
        corral_logs_query q = { .units = units, .lines = CORRAL_LOGS_ALL };
        corral_logs *l = NULL;
        assert_int_equal(corral_read_logs(c, &q, &l), 0);
        assert_int_equal(corral_logs_count(l), 1);
        assert_string_equal(corral_log_line_text(corral_logs_get(l, 0)), "soaked");
        corral_logs_free(l);
        free(id);
        corral_close(c);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* A job that cannot start says why, in corralctl's words and libcorral's. */
static void test_spawn_failed(void **state) {
        _cleanup_(corral_closep) corral *lc = NULL;
        _cleanup_(corral_units_freep) corral_units *u = NULL;
        _cleanup_free_ char *id = NULL;
        const char *argv[] = { "/nonexistent", NULL };
        Child c;

        start_daemon(&daemon_, "jobs-spawn", "");
        CTL(&c, "run", "--wait", "--", "/nonexistent");
        assert_int_equal(c.status, 127);
        assert_non_null(strstr(c.err_text, "exec /nonexistent: No such file or directory"));
        child_done(&c);

        lc = connect_daemon();
        assert_int_equal(corral_run(lc, &(corral_job_spec) { .argv = argv }, &id), 0);
        assert_int_equal(corral_wait(lc, id, &u), 0);
        assert_int_equal(corral_unit_result_enum(corral_units_get(u, 0)), CORRAL_RESULT_SPAWN_FAILED);
        assert_string_equal(corral_unit_result(corral_units_get(u, 0)), "spawn-failed");
        assert_string_equal(corral_unit_error(corral_units_get(u, 0)), "exec /nonexistent: No such file or directory");
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* corrald keeps the last 1,000 finished jobs: of 1,010 run one after the
 * other, the first 10 are forgotten (status and wait say ENOENT), the
 * others are there, and a service is never trimmed. */
static void test_finished_jobs_trimmed(void **state) {
        enum { N = 1010, KEPT = 1000 };
        _cleanup_(corral_closep) corral *lc = NULL;
        _cleanup_(corral_units_freep) corral_units *all = NULL;
        const char *argv[] = { "/bin/true", NULL };
        char *ids[N];
        size_t jobs = 0;

        start_daemon(&daemon_, "jobs-trim", "[program:svc]\ncommand = sleep 1000\n");
        lc = connect_daemon();
        for (int i = 0; i < N; i++) {
                corral_units *u = NULL;
                assert_int_equal(corral_run(lc, &(corral_job_spec) { .argv = argv }, &ids[i]), 0);
                assert_int_equal(corral_wait(lc, ids[i], &u), 0);
                corral_units_free(u);
        }
        assert_int_equal(corral_status(lc, /* names= */ NULL, &all), 0);
        for (size_t i = 0; i < corral_units_count(all); i++)
                jobs += streq(corral_unit_kind(corral_units_get(all, i)), "job");
        assert_int_equal(jobs, KEPT);
        for (int i = 0; i < N; i++) {
                const char *names[] = { ids[i], NULL };
                corral_units *u = NULL;
                assert_int_equal(corral_status(lc, names, &u), i < N - KEPT ? -ENOENT : 0);
                corral_units_free(u);
                free(ids[i]);
        }
        const char *svc[] = { "svc", NULL };
        corral_units *u = NULL;
        assert_int_equal(corral_status(lc, svc, &u), 0);
        assert_string_equal(corral_unit_state(corral_units_get(u, 0)), "running");
        corral_units_free(u);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* ---- cancel and timeout with a grace ---- */

/* Starts IGNORING_TREE with marker and opts; waits until its 3 processes
 * run. Returns the job id. */
static char *start_tree(corral *c, const char *marker, const corral_job_options *o, uint64_t timeout_usec) {
        _cleanup_free_ char *env = marker_env(marker);
        const char *argv[] = { "sh", "-c", IGNORING_TREE, NULL }, *envv[] = { env, NULL };
        char *id = NULL;

        assert_int_equal(corral_run_with(c,
                                         &(corral_job_spec) { .argv = argv, .env = envv, .timeout_usec = timeout_usec },
                                         o, &id),
                         0);
        assert_true(test_wait_marker(marker, 3, 3, TIMEOUT));
        return id;
}

/* cancel --grace 1s of a tree that ignores SIGTERM: within 1.5 s every
 * process and the cgroup are gone, and the result is cancelled. */
static void test_cancel_grace(void **state) {
        _cleanup_(corral_closep) corral *c = NULL;
        _cleanup_(corral_units_freep) corral_units *u = NULL;
        _cleanup_free_ char *marker = test_marker_new("jobs-cancel"), *id = NULL, *cg = NULL;
        usec_t start, took;

        start_daemon(&daemon_, "jobs-cancel", "");
        c = connect_daemon();
        id = start_tree(c, marker, /* o= */ NULL, /* timeout_usec= */ 0);
        cg = job_cgroup(id);
        assert_true(test_cgroup_exists(cg));

        start = now(CLOCK_MONOTONIC);
        assert_int_equal(corral_cancel_with(c, id, /* sig= */ 0, USEC_PER_SEC), 0);
        assert_int_equal(corral_wait(c, id, &u), 0);
        took = now(CLOCK_MONOTONIC) - start;
        print_message("cancel --grace 1s took %.3f s\n", (double) took / USEC_PER_SEC);
        assert_int_equal(test_count_marker(marker), 0);
        assert_true(test_wait_cgroup_gone(cg, TIMEOUT));
        assert_in_range(took, 900 * USEC_PER_MSEC, 1500 * USEC_PER_MSEC);
        assert_int_equal(corral_unit_result_enum(corral_units_get(u, 0)), CORRAL_RESULT_CANCELLED);
        assert_string_equal(corral_unit_exit_code(corral_units_get(u, 0)), "killed");
        assert_int_equal(corral_unit_exit_status(corral_units_get(u, 0)), SIGKILL);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* corralctl cancel --grace 0 -s INT: the signal chosen, no grace. */
static void test_cancel_signal(void **state) {
        _cleanup_(corral_closep) corral *c = NULL;
        _cleanup_(corral_units_freep) corral_units *u = NULL;
        _cleanup_free_ char *id = NULL, *marker = test_marker_new("jobs-signal"), *env = marker_env(marker);
        const char *argv[] = { "sh", "-c", "trap 'exit 42' INT; trap '' TERM; while :; do sleep 0.05; done", NULL };
        const char *envv[] = { env, NULL };
        Child ctl;

        start_daemon(&daemon_, "jobs-signal", "");
        c = connect_daemon();
        assert_int_equal(corral_run(c, &(corral_job_spec) { .argv = argv, .env = envv }, &id), 0);
        assert_true(test_wait_marker(marker, 1, 2, TIMEOUT)); /* the loop runs: the traps are set */
        CTL(&ctl, "cancel", "--grace", "5s", "-s", "INT", id);
        assert_int_equal(ctl.status, 0);
        child_done(&ctl);
        assert_int_equal(corral_wait_timeout(c, id, 4000, &u), 0);
        assert_string_equal(corral_unit_exit_code(corral_units_get(u, 0)), "exited");
        assert_int_equal(corral_unit_exit_status(corral_units_get(u, 0)), 42);
        assert_int_equal(corral_unit_result_enum(corral_units_get(u, 0)), CORRAL_RESULT_CANCELLED);

        CTL(&ctl, "cancel", "--grace", "soon", id);
        assert_int_equal(ctl.status, 2);
        child_done(&ctl);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* --timeout 1s with a 1 s grace, the tree ignoring SIGTERM: over within
 * 2.5 s, as timeout. */
static void test_timeout_grace(void **state) {
        _cleanup_(corral_closep) corral *c = NULL;
        _cleanup_(corral_units_freep) corral_units *u = NULL;
        _cleanup_free_ char *marker = test_marker_new("jobs-timeout"), *id = NULL;
        corral_job_options o = { .size = sizeof(o), .stop_timeout_usec = USEC_PER_SEC };
        usec_t start = now(CLOCK_MONOTONIC), took;

        start_daemon(&daemon_, "jobs-timeout", "");
        c = connect_daemon();
        start = now(CLOCK_MONOTONIC);
        id = start_tree(c, marker, &o, USEC_PER_SEC);
        assert_int_equal(corral_wait_timeout(c, id, 100, &u), -ETIMEDOUT); /* still running */
        assert_int_equal(corral_wait(c, id, &u), 0);
        took = now(CLOCK_MONOTONIC) - start;
        print_message("timeout 1s + grace 1s took %.3f s\n", (double) took / USEC_PER_SEC);
        assert_in_range(took, 1900 * USEC_PER_MSEC, 2500 * USEC_PER_MSEC);
        assert_int_equal(test_count_marker(marker), 0);
        assert_int_equal(corral_unit_result_enum(corral_units_get(u, 0)), CORRAL_RESULT_TIMEOUT);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* SIGINT to corralctl run --wait: the job is cancelled with its grace,
 * nothing of it is left when corralctl exits, with 130. */
static void test_sigint(void **state) {
        _cleanup_free_ char *marker = test_marker_new("jobs-sigint"), *env = marker_env(marker);
        usec_t start, took;
        Child c;

        start_daemon(&daemon_, "jobs-sigint", "");
        child_start(&c,
                    (const char *const[]) { env_path("CORRALCTL"), "--socket", daemon_.socket, "run", "--wait", "--env",
                                            env, "-p", "stop_timeout=1s", "--", "sh", "-c", IGNORING_TREE, NULL });
        assert_true(test_wait_marker(marker, 3, 3, TIMEOUT));
        start = now(CLOCK_MONOTONIC);
        assert_int_equal(kill(c.pid, SIGINT), 0); /* our child, not yet reaped */
        child_finish(&c);
        took = now(CLOCK_MONOTONIC) - start;
        assert_int_equal(c.status, 130);
        assert_int_equal(test_count_marker(marker), 0);
        assert_in_range(took, 900 * USEC_PER_MSEC, 5 * USEC_PER_SEC);
        child_done(&c);

        /* The job's grace is 10 s (job_stop_timeout); a second Ctrl-C does
         * not wait for it. */
        child_start(&c, (const char *const[]) { env_path("CORRALCTL"), "--socket", daemon_.socket, "run", "--wait",
                                                "--env", env, "--", "sh", "-c", IGNORING_TREE, NULL });
        assert_true(test_wait_marker(marker, 3, 3, TIMEOUT));
        start = now(CLOCK_MONOTONIC);
        assert_int_equal(kill(c.pid, SIGINT), 0);
        usleep(300 * 1000);
        assert_int_equal(kill(c.pid, SIGINT), 0);
        child_finish(&c);
        took = now(CLOCK_MONOTONIC) - start;
        assert_int_equal(c.status, 130);
        assert_int_equal(test_count_marker(marker), 0);
        assert_in_range(took, 300 * USEC_PER_MSEC, 3 * USEC_PER_SEC);
        child_done(&c);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* kill_mode: control-group sends the stop signal to every process (the
 * child says so through our pipe), mixed to the main process only (the
 * rest is killed without a word once it is gone). */
static char *cancel_and_read(corral *c, corral_kill_mode mode) {
        _cleanup_free_ char *marker = test_marker_new("jobs-killmode"), *env = marker_env(marker), *id = NULL;
        const char *argv[] = { "sh", "-c",
                               "sh -c 'trap \"echo child-term; exit 0\" TERM; while :; do sleep 0.05; done' & "
                               "trap 'exit 0' TERM; wait",
                               NULL };
        const char *envv[] = { env, NULL };
        char buf[256] = {};
        int p[2];

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        corral_job_options o = { .size = sizeof(o),
                                 .flags = CORRAL_JOB_STDIO,
                                 .stdin_fd = -1,
                                 .stdout_fd = p[1],
                                 .stderr_fd = -1,
                                 .kill_mode = mode,
                                 .stop_timeout_usec = 5 * USEC_PER_SEC };
        assert_int_equal(corral_run_with(c, &(corral_job_spec) { .argv = argv, .env = envv }, &o, &id), 0);
        close(p[1]);
        assert_true(test_wait_marker(marker, 2, 4, TIMEOUT));
        usleep(100 * 1000); /* the child's trap is set */
        assert_int_equal(corral_cancel(c, id), 0);
        assert_int_equal(corral_wait(c, id, /* ret= */ NULL), 0);
        assert_true(read(p[0], buf, sizeof(buf) - 1) >= 0); /* EOF: every writer is gone */
        close(p[0]);
        assert_int_equal(test_count_marker(marker), 0);
        return strdup(buf);
}

static void test_kill_mode(void **state) {
        _cleanup_(corral_closep) corral *c = NULL;
        _cleanup_free_ char *all = NULL, *mixed = NULL;

        start_daemon(&daemon_, "jobs-killmode", "");
        c = connect_daemon();
        all = cancel_and_read(c, CORRAL_KILL_CONTROL_GROUP);
        mixed = cancel_and_read(c, CORRAL_KILL_MIXED);
        print_message("control-group: '%s', mixed: '%s'\n", all, mixed);
        assert_string_equal(all, "child-term\n");
        assert_string_equal(mixed, "");
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* ---- descriptors that come wrong ---- */

/* Sends line with n copies of fd (SCM_RIGHTS) on a new connection and
 * returns the reply line. */
static char *raw_request_fds(const char *line, int fd, size_t n) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * 8)];
        } control = {};
        struct iovec iov = { .iov_base = (char *) line, .iov_len = strlen(line) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        char buf[4096];
        size_t len = 0;

        assert_true(s >= 0 && n <= 8);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", daemon_.socket);
        assert_int_equal(connect(s, (struct sockaddr *) &sa, sizeof(sa)), 0);
        if (n > 0) {
                mh.msg_control = &control;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
                struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
                cm->cmsg_level = SOL_SOCKET;
                cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
                for (size_t i = 0; i < n; i++)
                        memcpy(CMSG_DATA(cm) + i * sizeof(int), &fd, sizeof(int));
        }
        assert_int_equal(sendmsg(s, &mh, MSG_NOSIGNAL), (ssize_t) strlen(line));
        while (len < sizeof(buf) - 1 && !memchr(buf, '\n', len)) {
                ssize_t k = read(s, buf + len, sizeof(buf) - 1 - len);
                assert_true(k > 0);
                len += (size_t) k;
        }
        buf[len] = '\0';
        return strdup(buf);
}

/* Whether nobody but us holds the pipe's write end: once we close ours,
 * the read end sees EOF at once. */
static void assert_pipe_released(int p[2]) {
        char c;

        close(p[1]);
        assert_int_equal(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
        assert_int_equal(read(p[0], &c, 1), 0);
        close(p[0]);
}

/* Descriptors with another method, too many, not named by stdio, or with a
 * refused run: the request fails and corrald keeps none of them. */
static void test_fds_refused(void **state) {
        static const struct {
                const char *line;
                size_t n;
                const char *errno_name;
        } cases[] = {
                { "{\"method\":\"status\"}\n", 1, "EBADF" },
                { "{\"method\":\"run\",\"params\":{\"argv\":[\"true\"],\"stdio\":[0,1,2]}}\n", 4, "EBADF" },
                /* more than corrald's buffer holds: the kernel closes the rest (MSG_CTRUNC) */
                { "{\"method\":\"run\",\"params\":{\"argv\":[\"true\"],\"stdio\":[0,1,2]}}\n", 8, "EBADF" },
                { "{\"method\":\"run\",\"params\":{\"argv\":[\"true\"],\"stdio\":[0,null,null]}}\n", 2, "EBADF" },
                { "{\"method\":\"run\",\"params\":{\"argv\":[\"true\"]}}\n", 1, "EBADF" },
                { "{\"method\":\"run\",\"params\":{\"argv\":[\"true\"],\"stdio\":[null,1,null]}}\n", 1, "EINVAL" },
                { "{\"method\":\"run\",\"params\":{\"argv\":[],\"stdio\":[null,0,null]}}\n", 1, "EINVAL" },
                { "{\"method\":\"run\",\"params\":{\"argv\":[\"true\"],\"name\":\"svc\",\"stdio\":[null,0,0]}}\n", 1,
                  "EEXIST" },
                { "{\"method\":\"run\",\"params\":{\"argv\":[\"true\"],\"limits\":{\"pids_max\":\"x\"},"
                  "\"stdio\":[null,0,0]}}\n",
                  1, "EINVAL" },
        };

        start_daemon(&daemon_, "jobs-fds", "[program:svc]\ncommand = sleep 1000\n");
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *reply = NULL, *want = NULL;
                int p[2];

                assert_int_equal(pipe2(p, O_CLOEXEC), 0);
                reply = raw_request_fds(cases[i].line, p[1], cases[i].n);
                print_message("%zu fds, %s→ %s", cases[i].n, cases[i].line, reply);
                assert_true(asprintf(&want, "\"errno\":\"%s\"", cases[i].errno_name) > 0);
                assert_non_null(strstr(reply, want));
                assert_pipe_released(p);
        }
        /* and one that is accepted: the job holds it until it ends */
        {
                _cleanup_free_ char *reply = NULL;
                int p[2];

                assert_int_equal(pipe2(p, O_CLOEXEC), 0);
                reply = raw_request_fds(
                        "{\"method\":\"run\",\"params\":{\"argv\":[\"sh\",\"-c\",\"echo hi\"],"
                        "\"stdio\":[null,0,0]}}\n",
                        p[1], 1);
                assert_non_null(strstr(reply, "\"ok\":true"));
                close(p[1]);
                char buf[8] = {};
                assert_int_equal(read(p[0], buf, sizeof(buf) - 1), 3); /* blocks until the job writes */
                assert_string_equal(buf, "hi\n");
                assert_int_equal(read(p[0], buf, 1), 0); /* the job ended, corrald kept no copy */
                close(p[0]);
        }
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* ---- events, limits ---- */

/* subscribe_jobs: only jobs, and an ended job's event says how. */
static void test_job_events(void **state) {
        _cleanup_(corral_closep) corral *c = NULL, *events = NULL;
        _cleanup_free_ char *id = NULL;
        const char *argv[] = { "sh", "-c", "exit 5", NULL };

        start_daemon(&daemon_, "jobs-events", "[program:svc]\ncommand = sleep 1000\n");
        c = connect_daemon();
        events = connect_daemon();
        assert_int_equal(corral_subscribe_jobs(events), 0);
        assert_int_equal(corral_run(c, &(corral_job_spec) { .argv = argv }, &id), 0);
        for (;;) {
                _cleanup_(corral_event_freep) corral_event *e = NULL;

                assert_int_equal(corral_next_event(events, 10000, &e), 0);
                assert_true(streq_ptr(corral_event_kind(e), "job"));
                assert_string_equal(corral_event_unit(e), id);
                if (!streq_ptr(corral_event_state(e), "inactive") && !streq_ptr(corral_event_state(e), "failed"))
                        continue;
                assert_int_equal(corral_event_result_enum(e), CORRAL_RESULT_EXIT_CODE);
                assert_string_equal(corral_event_exit_code(e), "exited");
                assert_int_equal(corral_event_exit_status(e), 5);
                break;
        }
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* -p KEY=VALUE: the limit keys of services, checked as theirs. */
static void test_limits(void **state) {
        Child c;

        start_daemon(&daemon_, "jobs-limits", "");
        CTL(&c, "run", "--wait", "-p", "nosuch_key=1", "--", "true");
        assert_int_equal(c.status, 1);
        assert_non_null(strstr(c.err_text, "nosuch_key"));
        child_done(&c);
        CTL(&c, "run", "--wait", "-p", "pids_max=lots", "--", "true");
        assert_int_equal(c.status, 1);
        assert_non_null(strstr(c.err_text, "pids_max"));
        child_done(&c);
        CTL(&c, "run", "-p", "memory_max");
        assert_int_equal(c.status, 2);
        child_done(&c);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* ---- the per-user bound, with a real user ---- */

static bool user_ids(uid_t *ret_uid, gid_t *ret_gid) {
        struct passwd *pw = getpwnam(TEST_USER);

        if (!pw)
                return false;
        *ret_uid = pw->pw_uid;
        *ret_gid = pw->pw_gid;
        return true;
}

static int user_setup(void **state) {
        uid_t uid;
        gid_t gid;

        if (!user_ids(&uid, &gid) &&
            system("useradd --system --no-create-home --shell /usr/sbin/nologin " TEST_USER " >/dev/null 2>&1") == 0)
                user_created = true;
        return 0;
}

static int user_teardown(void **state) {
        if (user_created && system("userdel " TEST_USER " >/dev/null 2>&1") != 0)
                fprintf(stderr, "warning: userdel %s failed\n", TEST_USER);
        return 0;
}

/* Whether the job events on ev so far are all of the jobs in ids, and
 * both of them were seen running. */
static bool only_own_events(corral *ev, char *const *ids, size_t n) {
        unsigned running = 0;
        corral_event *e;

        while (corral_next_event(ev, 500, &e) == 0) {
                bool own = false;
                for (size_t i = 0; i < n; i++)
                        own = own || streq_ptr(corral_event_unit(e), ids[i]);
                running += own && streq_ptr(corral_event_state(e), "running");
                corral_event_free(e);
                if (!own)
                        return false;
        }
        return running == n;
}

/* In a child as the user: may not subscribe to every event but to its
 * jobs' ones; runs sleep jobs with marker until one fails, tells the
 * parent (sync[1]), waits until it has run jobs of root (sync[0]), then
 * checks that it heard of its own jobs only. Exits with the number
 * started, +100 when the failure was -EAGAIN; 97: events of others, 98:
 * subscriptions, 99: set-up. */
_noreturn_ static void user_run_jobs(uid_t uid, gid_t gid, const char *marker, int sync[2]) {
        _cleanup_free_ char *env = marker_env(marker);
        const char *argv[] = { "sleep", "1000", NULL }, *envv[] = { env, NULL };
        corral *c = NULL, *ev = NULL, *all = NULL;
        char *ids[10] = {};
        size_t n = 0;
        char x = 'R';
        int r = 0;

        if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0 || corral_open(daemon_.socket, &c) < 0 ||
            corral_open(daemon_.socket, &ev) < 0 || corral_open(daemon_.socket, &all) < 0)
                _exit(99);
        if (corral_subscribe(all) != -EPERM || corral_subscribe_jobs(ev) < 0)
                _exit(98);
        while (n < ELEMENTSOF(ids) &&
               (r = corral_run(c, &(corral_job_spec) { .argv = argv, .env = envv }, &ids[n])) >= 0)
                n++;
        if (r == -EAGAIN && !strstr(corral_last_error(c) ?: "", "job_max_per_user"))
                r = -EIO;
        if (write(sync[1], &x, 1) != 1 || read(sync[0], &x, 1) != 1)
                _exit(99);
        if (!only_own_events(ev, ids, n))
                _exit(97);
        _exit((int) n + (r == -EAGAIN ? 100 : 0));
}

static int units_of(uid_t uid) {
        _cleanup_(corral_closep) corral *c = connect_daemon();
        _cleanup_(corral_units_freep) corral_units *u = NULL;
        int n = 0;

        assert_int_equal(corral_status(c, /* names= */ NULL, &u), 0);
        for (size_t i = 0; i < corral_units_count(u); i++)
                n += corral_unit_owner_uid(corral_units_get(u, i)) == uid &&
                     streq_ptr(corral_unit_kind(corral_units_get(u, i)), "job");
        return n;
}

/* job_max_per_user = 2: the third job of a job_group member is EAGAIN and
 * starts nothing; root is not refused. The member hears of its own jobs
 * only. */
static void test_job_max_per_user(void **state) {
        _cleanup_free_ char *marker = test_marker_new("jobs-peruser"), *root_marker = test_marker_new("jobs-root");
        uid_t uid = 0;
        gid_t gid = 0;
        int status;
        pid_t pid;

        if (!user_ids(&uid, &gid)) {
                print_message("SKIP: no user %s (useradd failed)\n", TEST_USER);
                skip();
        }
        start_daemon(&daemon_, "jobs-peruser", "[corral]\njob_group = " TEST_USER "\njob_max_per_user = 2\n");
        assert_int_equal(chmod(daemon_.dir, 0755), 0); /* as /run/corral is */

        /* to the child, from the child */
        int down[2], up[2], child_ends[2];
        char x;

        assert_int_equal(pipe2(down, O_CLOEXEC), 0);
        assert_int_equal(pipe2(up, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                child_ends[0] = down[0];
                child_ends[1] = up[1];
                user_run_jobs(uid, gid, marker, child_ends);
        }
        close(down[0]);
        close(up[1]);
        assert_int_equal(read(up[0], &x, 1), 1);
        assert_true(test_wait_marker(marker, 2, 2, TIMEOUT)); /* the refused one started nothing */
        assert_int_equal(units_of(uid), 2);

        /* root: three more, not refused (and not heard of by the user) */
        for (int i = 0; i < 3; i++) {
                _cleanup_(corral_closep) corral *c = connect_daemon();
                _cleanup_free_ char *env = marker_env(root_marker);
                const char *argv[] = { "sleep", "1000", NULL }, *envv[] = { env, NULL };

                assert_int_equal(corral_run(c, &(corral_job_spec) { .argv = argv, .env = envv }, NULL), 0);
        }
        assert_true(test_wait_marker(root_marker, 3, 3, TIMEOUT));
        assert_int_equal(write(down[1], "G", 1), 1);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        close(down[1]);
        close(up[0]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 100 + 2);
        assert_true(test_daemon_stop_cleanly(&daemon_));
        assert_int_equal(test_count_marker(marker), 0);
        assert_int_equal(test_count_marker(root_marker), 0);
}

/* ---- the example ---- */

/* examples/run-job: the output live, the exit status; Ctrl-C cancels with
 * a 1 s grace and the result is printed. */
static void test_example(void **state) {
        _cleanup_free_ char *marker = test_marker_new("jobs-example"), *tree = NULL;
        const char *example = env_path("EXAMPLE_RUN_JOB");
        usec_t start, took;
        Child c;

        start_daemon(&daemon_, "jobs-example", "");
        child_start(&c, (const char *const[]) { example, "-t", "10", "-S", daemon_.socket, "sh", "-c",
                                                "echo live; echo also >&2; exit 4", NULL });
        child_finish(&c);
        assert_int_equal(c.status, 4);
        assert_string_equal(c.out_text, "live\n");
        assert_non_null(strstr(c.err_text, "also\n"));
        assert_non_null(strstr(c.err_text, ": exit-code (exited 4)"));
        child_done(&c);

        /* -t 1: the timeout */
        child_start(&c, (const char *const[]) { example, "-t", "1", "-S", daemon_.socket, "sleep", "1000", NULL });
        child_finish(&c);
        assert_int_equal(c.status, 128 + SIGTERM);
        assert_non_null(strstr(c.err_text, ": timeout"));
        child_done(&c);

        /* Ctrl-C: cancel, 1 s grace, then cgroup.kill */
        /* run-job has no --env: the command exports the marker itself, so
         * the three sleeps carry it. */
        assert_true(asprintf(&tree, "export CORRAL_TEST_MARKER=%s; %s", marker, IGNORING_TREE) > 0);
        child_start(&c, (const char *const[]) { example, "-S", daemon_.socket, "sh", "-c", tree, NULL });
        assert_true(test_wait_marker(marker, 3, 3, TIMEOUT));
        start = now(CLOCK_MONOTONIC);
        assert_int_equal(kill(c.pid, SIGINT), 0);
        child_finish(&c);
        took = now(CLOCK_MONOTONIC) - start;
        assert_int_equal(c.status, 128 + SIGKILL);
        assert_non_null(strstr(c.err_text, ": cancelled"));
        assert_in_range(took, 900 * USEC_PER_MSEC, 1500 * USEC_PER_MSEC);
        assert_int_equal(test_count_marker(marker), 0);
        child_done(&c);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_pipe, teardown),
                cmocka_unit_test_teardown(test_ended_jobs_close_pipes, teardown),
                cmocka_unit_test_teardown(test_spawn_failed, teardown),
                cmocka_unit_test_teardown(test_finished_jobs_trimmed, teardown),
                cmocka_unit_test_teardown(test_cancel_grace, teardown),
                cmocka_unit_test_teardown(test_cancel_signal, teardown),
                cmocka_unit_test_teardown(test_timeout_grace, teardown),
                cmocka_unit_test_teardown(test_sigint, teardown),
                cmocka_unit_test_teardown(test_kill_mode, teardown),
                cmocka_unit_test_teardown(test_fds_refused, teardown),
                cmocka_unit_test_teardown(test_job_events, teardown),
                cmocka_unit_test_teardown(test_limits, teardown),
                cmocka_unit_test_teardown(test_job_max_per_user, teardown),
                cmocka_unit_test_teardown(test_example, teardown),
        };

        test_require_cgroup2_root();
        return cmocka_run_group_tests_name("jobs", tests, user_setup, user_teardown);
}
