/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What an operator sees, end to end, with the real corralctl against a
 * real corrald: the status table (columns, order, filters), one unit in
 * detail with its port and health, the connection error, reload's counts,
 * top; and the README's own commands, run as written. corralctl's output
 * goes to memfds: it is piped, never a terminal, so tables are plain
 * tab-separated text. */

#include <fcntl.h>
#include <pwd.h>
#include <netinet/in.h>
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
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "macro.h"
#include "test-util.h"

#define TIMEOUT (30 * USEC_PER_SEC)

static TestDaemon daemon_;
static unsigned range_base;

static int teardown(void **state) {
        test_daemon_cleanup(&daemon_);
        return 0;
}

static const char *env_or_skip(const char *name) {
        const char *p = getenv(name);

        if (!p) {
                fprintf(stderr, "SKIP: $%s is not set: run the tests through meson\n", name);
                exit(77);
        }
        return p;
}

/* ---- corralctl as a child ---- */

typedef struct Ctl {
        int status; /* exit status, 128+signal */
        char *out;
        char *err;
} Ctl;

static void ctl_done(Ctl *c) {
        c->out = mfree(c->out);
        c->err = mfree(c->err);
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

/* Runs argv (argv[0] looked up in PATH) with stdout and stderr to memfds,
 * dying with the test and after 120 s at the latest. */
static Ctl run_argv(const char *const *argv) {
        int out = memfd_create("out", MFD_CLOEXEC), err = memfd_create("err", MFD_CLOEXEC), status;
        Ctl c;
        pid_t pid;

        assert_true(out >= 0 && err >= 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                (void) dup2(null, STDIN_FILENO);
                (void) dup2(out, STDOUT_FILENO);
                (void) dup2(err, STDERR_FILENO);
                alarm(120);
                execvp(argv[0], (char **) argv);
                _exit(127);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        c.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        c.out = memfd_text(out);
        c.err = memfd_text(err);
        close(out);
        close(err);
        return c;
}

/* corralctl --socket d->socket ARGS… */
static Ctl ctl_argv(const TestDaemon *d, const char *const *args) {
        const char *argv[32] = { env_or_skip("CORRALCTL"), "--socket", d->socket };
        size_t n = 3;
        Ctl c;

        for (; *args && n < ELEMENTSOF(argv) - 1; args++)
                argv[n++] = *args;
        c = run_argv(argv);
        print_message("corralctl %s: exit %d\n%s%s", argv[3], c.status, c.out, c.err);
        return c;
}

#define CTL(d, ...) ctl_argv(d, (const char *const[]) { __VA_ARGS__, NULL })

/* Runs corralctl, checks its exit status, returns its stdout. */
#define CTL_OK(d, expect, ...)                         \
        ({                                             \
                Ctl _c = CTL(d, __VA_ARGS__);          \
                assert_int_equal(_c.status, (expect)); \
                free(_c.err);                          \
                _c.out;                                \
        })

/* ---- the daemon ---- */

static bool socket_answers(void *userdata) {
        const char *path = userdata;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        return fd >= 0 && connect(fd, (struct sockaddr *) &sa, sizeof(sa)) >= 0;
}

static void start_daemon(TestDaemon *d, const char *what, const char *body) {
        assert_int_equal(test_daemon_start(d, what, body), 0);
        assert_true(test_wait_for(socket_answers, d->socket, TIMEOUT));
}

static json_t *unit_field(const TestDaemon *d, const char *unit, const char *field) {
        json_t *st = test_daemon_request(d, "status", NULL, NULL), *v;

        assert_non_null(st);
        v = json_incref(json_object_get(test_status_unit(st, unit), field));
        json_decref(st);
        return v;
}

typedef struct StateWait {
        const TestDaemon *d;
        const char *unit, *state;
} StateWait;

static bool unit_in_state(void *userdata) {
        const StateWait *w = userdata;
        json_t *s = unit_field(w->d, w->unit, "state");
        bool ok = streq_ptr(json_string_value(s), w->state);

        json_decref(s);
        return ok;
}

static void wait_state(const TestDaemon *d, const char *unit, const char *state) {
        StateWait w = { d, unit, state };

        if (!test_wait_for(unit_in_state, &w, TIMEOUT))
                fail_msg("%s never got %s", unit, state);
}

/* The names in the first column of a piped table, after its header. */
static char *first_column(const char *table) {
        const char *p = strchr(table, '\n');
        char *names = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&names, &size);

        for (p = p ? p + 1 : table; *p; p = strchr(p, '\n') + 1) {
                fprintf(f, "%.*s ", (int) strcspn(p, "\t\n"), p);
                if (!strchr(p, '\n'))
                        break;
        }
        fclose(f);
        return names;
}

/* ---- the table ---- */

static void test_table_order_and_columns(void **state) {
        _cleanup_free_ char *out = NULL, *names = NULL, *id = NULL;

        start_daemon(&daemon_, "table",
                     "[program:w]\ncommand = sleep 1000\ninstances = 11\n"
                     "[program:b]\ncommand = sleep 1000\n"
                     "[program:a]\ncommand = sleep 1000\nautostart = no\n");
        wait_state(&daemon_, "w@10", "running");
        /* A job named to sort first still comes after every service. */
        id = CTL_OK(&daemon_, 0, "run", "--name", "aaa-job", "--", "sleep", "1000");
        wait_state(&daemon_, "aaa-job", "running");

        out = CTL_OK(&daemon_, 0, "status");
        assert_true(strneq(out, "UNIT\tSTATE\tPID\tSINCE\tRESTARTS\tREASON\tPORT\tHEALTH\tCPU\tMEM\tTASKS\n",
                           strlen("UNIT\tSTATE\tPID\tSINCE\tRESTARTS\tREASON\tPORT\tHEALTH\tCPU\tMEM\tTASKS\n")));
        names = first_column(out);
        assert_string_equal(names, "a b w@0 w@1 w@2 w@3 w@4 w@5 w@6 w@7 w@8 w@9 w@10 aaa-job ");
        /* An inactive unit has no PID, no time in its state, no port. */
        assert_non_null(strstr(out, "\na\tinactive\t-\t"));
        out = mfree(out);
        names = mfree(names);

        /* list keeps corrald's order: the configuration's, then jobs */
        out = CTL_OK(&daemon_, 0, "list");
        assert_true(strneq(out, "w@0\nw@1\n", strlen("w@0\nw@1\n")));
        assert_non_null(strstr(out, "w@10\nb\na\naaa-job\n"));
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* The unit called name in an array of units (corralctl status --json). */
static json_t *unit_in(json_t *units, const char *name) {
        json_t *u;
        size_t i;

        json_array_foreach(units, i, u) if (streq_ptr(json_string_value(json_object_get(u, "name")), name)) return u;
        return NULL;
}

static void test_filters(void **state) {
        _cleanup_free_ char *out = NULL, *names = NULL;
        json_t *j;

        start_daemon(&daemon_, "filters",
                     "[program:ok]\ncommand = sleep 1000\n"
                     "[program:bad]\ncommand = /bin/false\nrestart = never\n"
                     "[program:off]\ncommand = sleep 1000\nautostart = no\n");
        wait_state(&daemon_, "ok", "running");
        wait_state(&daemon_, "bad", "failed");
        free(CTL_OK(&daemon_, 0, "run", "--name", "j", "--", "sleep", "1000"));
        wait_state(&daemon_, "j", "running");

        out = CTL_OK(&daemon_, 0, "status", "--state", "failed");
        names = first_column(out);
        assert_string_equal(names, "bad ");
        out = mfree(out), names = mfree(names);

        out = CTL_OK(&daemon_, 0, "status", "--state", "running", "--state", "inactive");
        names = first_column(out);
        assert_string_equal(names, "off ok j ");
        out = mfree(out), names = mfree(names);

        out = CTL_OK(&daemon_, 0, "status", "--state", "running,failed", "--kind", "service");
        names = first_column(out);
        assert_string_equal(names, "bad ok ");
        out = mfree(out), names = mfree(names);

        out = CTL_OK(&daemon_, 0, "list", "--kind", "job");
        assert_string_equal(out, "j\n");
        out = mfree(out);

        /* --json with a filter: the matching units, as corrald sent them. */
        out = CTL_OK(&daemon_, 0, "status", "--json", "--kind", "job");
        j = json_loads(out, 0, NULL);
        assert_true(json_is_array(j));
        assert_int_equal(json_array_size(j), 1);
        assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "name")), "j");
        json_decref(j);
        out = mfree(out);

        /* --no-stats: the same units, without what comes from the cgroups */
        out = CTL_OK(&daemon_, 0, "status", "--json", "--kind", "service");
        j = json_loads(out, 0, NULL);
        assert_int_equal(json_array_size(j), 3);
        assert_non_null(json_object_get(unit_in(j, "ok"), "tasks"));
        json_decref(j);
        out = mfree(out);
        out = CTL_OK(&daemon_, 0, "status", "--json", "--no-stats", "--kind", "service");
        j = json_loads(out, 0, NULL);
        assert_int_equal(json_array_size(j), 3);
        assert_string_equal(json_string_value(json_object_get(unit_in(j, "ok"), "state")), "running");
        assert_null(json_object_get(unit_in(j, "ok"), "tasks"));
        assert_null(json_object_get(unit_in(j, "ok"), "cpu_usec"));
        json_decref(j);
        out = mfree(out);
        out = CTL_OK(&daemon_, 0, "status", "--no-stats", "--state", "running", "--kind", "service");
        assert_non_null(strstr(out, "\t-\t-\t-\n")); /* CPU, MEM, TASKS */
        out = mfree(out);

        Ctl c = CTL(&daemon_, "status", "--state", "runing");
        assert_int_equal(c.status, 2);
        assert_non_null(strstr(c.err, "unknown state 'runing'"));
        ctl_done(&c);
        c = CTL(&daemon_, "status", "--kind", "daemon");
        assert_int_equal(c.status, 2);
        ctl_done(&c);
        c = CTL(&daemon_, "kill", "--state", "running", "ok");
        assert_int_equal(c.status, 2);
        ctl_done(&c);
        c = CTL(&daemon_, "list", "--no-stats");
        assert_int_equal(c.status, 2);
        ctl_done(&c);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* A demo service with a port and health checks: the table and the
 * details show both. */
static void test_port_and_health(void **state) {
        _cleanup_free_ char *body = NULL, *out = NULL, *want = NULL;
        json_t *port;

        assert_true(asprintf(&body,
                             "[corral]\nport_range = %u-%u\n"
                             "[program:web]\ncommand = %s -port ${PORT}\nport = auto\nready = health\n"
                             "health_url = http://127.0.0.1:${PORT}/api/status\nhealth_interval = 200ms\n"
                             "output = null\n",
                             range_base, range_base + 9, env_or_skip("CORRAL_DEMO_SERVICE")) > 0);
        start_daemon(&daemon_, "health", body);
        wait_state(&daemon_, "web", "running");
        port = unit_field(&daemon_, "web", "port");
        assert_true(json_is_integer(port));

        out = CTL_OK(&daemon_, 0, "status");
        assert_true(asprintf(&want, "\t%d\tok\t", (int) json_integer_value(port)) > 0);
        assert_non_null(strstr(out, want));
        out = mfree(out), want = mfree(want);

        out = CTL_OK(&daemon_, 0, "status", "web");
        assert_true(asprintf(&want, "\n       Port: %d\n", (int) json_integer_value(port)) > 0);
        assert_non_null(strstr(out, want));
        assert_non_null(strstr(out, "\n     Health: ok: HTTP 200, "));
        json_decref(port);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* ---- first run ---- */

static void test_connection_error(void **state) {
        const char *argv[] = { env_or_skip("CORRALCTL"), "--socket", "/nonexistent/corral.sock", "status", NULL };
        Ctl c = run_argv(argv);

        print_message("%s", c.err);
        assert_int_equal(c.status, 1);
        assert_non_null(strstr(c.err, "cannot connect to /nonexistent/corral.sock: No such file or directory"));
        assert_non_null(strstr(c.err, "--socket PATH"));
        assert_non_null(strstr(c.err, "CORRAL_SOCKET"));
        ctl_done(&c);
}

static void test_reload_counts(void **state) {
        _cleanup_free_ char *out = NULL;
        FILE *f;

        start_daemon(&daemon_, "reload",
                     "[program:keep]\ncommand = sleep 1000\n[program:change]\ncommand = sleep 1000\n"
                     "[program:drop]\ncommand = sleep 1000\n");
        wait_state(&daemon_, "drop", "running");
        out = CTL_OK(&daemon_, 0, "reload");
        assert_string_equal(out, "Reloaded: 0 added, 0 removed, 0 changed, 3 unchanged.\n");
        out = mfree(out);

        /* The file again (test_daemon_start()'s [corral] section), with
         * change's command changed, drop gone, add added. */
        f = fopen(daemon_.config, "w");
        assert_non_null(f);
        fprintf(f, "[corral]\ncgroup = %s\ncontrol_socket = %s\n", daemon_.cgroup, daemon_.socket);
        fputs("[program:keep]\ncommand = sleep 1000\n[program:change]\ncommand = sleep 2000\n"
              "[program:add]\ncommand = sleep 1000\n",
              f);
        fclose(f);
        out = CTL_OK(&daemon_, 0, "reload");
        assert_string_equal(out, "Reloaded: 1 added, 1 removed, 1 changed, 1 unchanged.\n");
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* Whether corrald has libmicrohttpd mapped (/proc/PID/maps). */
static bool daemon_maps_mhd(const TestDaemon *d) {
        _cleanup_free_ char *cmd = NULL;

        assert_true(asprintf(&cmd, "grep -q libmicrohttpd /proc/%d/maps", (int) d->pid) > 0);
        return system(cmd) == 0;
}

static void test_top(void **state) {
        _cleanup_free_ char *out = NULL;
        const char *p;
        int frames = 0;

        start_daemon(&daemon_, "top", "[program:a]\ncommand = sleep 1000\n[program:b]\ncommand = sleep 1000\n");
        wait_state(&daemon_, "b", "running");
        out = CTL_OK(&daemon_, 0, "top", "--iterations", "3", "--interval", "300ms");
        for (p = out; (p = strstr(p, "corral: 2 units, 2 running, 0 failed, 0 unhealthy; every 300ms\n")); p++)
                frames++;
        assert_int_equal(frames, 3);
        assert_null(strchr(out, '\x1b')); /* piped: no escapes */
        assert_non_null(strstr(out, "\na "));
        assert_non_null(strstr(out, "\nb "));
        /* From the second frame on, each unit has a CPU share. */
        assert_non_null(strstr(strstr(out, "\n\n"), "%"));
        /* no metrics_listen: no HTTP server library in corrald */
        assert_false(daemon_maps_mhd(&daemon_));
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* ---- the README, as written ---- */

#define EXAMPLE_SOCKET "/run/corral/example.sock"
#define EXAMPLE_CGROUP "/corral-example"

/* The shell commands of the README's ```sh blocks, without their trailing
 * "  # comments", and its inline `./build/corralctl …` and `curl …`
 * commands, one per line. */
static char *readme_commands(const char *readme) {
        char *cmds = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&cmds, &size);
        bool in_sh = false;

        for (const char *p = readme; *p;) {
                size_t n = strcspn(p, "\n");
                _cleanup_free_ char *line = strndup(p, n);
                char *comment = strstr(line, "  #");

                p += n + (p[n] == '\n');
                if (strneq(line, "```", 3)) {
                        in_sh = !in_sh && streq(line, "```sh");
                        continue;
                }
                if (comment)
                        *comment = '\0';
                while (*line && strchr(" \t", line[strlen(line) - 1]))
                        line[strlen(line) - 1] = '\0';
                if (in_sh && *line && line[0] != '#')
                        fprintf(f, "%s\n", line);
                for (const char *q = line; !in_sh && (q = strchr(q, '`')); q++)
                        if (strneq(q + 1, "./build/corralctl ", 18) || strneq(q + 1, "curl ", 5)) {
                                fprintf(f, "%.*s\n", (int) strcspn(q + 1, "`"), q + 1);
                                q += strcspn(q + 1, "`") + 1;
                        }
        }
        fclose(f);
        return cmds;
}

/* cmd with "./build/" and " build/" pointing at the build directory of
 * this test (build/ or build-asan/). */
static char *in_build_dir(const char *cmd, const char *build) {
        char *out = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&out, &size);

        for (const char *p = cmd; *p;) {
                if (strneq(p, "./build/", 8) || (p > cmd && p[-1] == ' ' && strneq(p, "build/", 6))) {
                        fprintf(f, "%s/", build);
                        p += p[0] == '.' ? 8 : 6;
                } else
                        fputc(*p++, f);
        }
        fclose(f);
        return out;
}

/* sh -c cmd in the source directory, with the build directory first in
 * PATH (where the README's "corralctl" is) and CORRAL_SOCKET set to the
 * example's socket. */
static Ctl run_shell(const char *cmd) {
        const char *argv[] = { "sh", "-c", cmd, NULL };
        Ctl c = run_argv(argv);

        print_message("$ %s\nexit %d\n%s%s", cmd, c.status, c.out, c.err);
        return c;
}

static bool example_units_running(void *userdata) {
        const TestDaemon *d = userdata;
        json_t *st = test_daemon_request(d, "status", NULL, NULL);
        bool ok = true;

        assert_non_null(st);
        for (const char *const *u = (const char *const[]) { "web@0", "web@1", "web@2", "ticker", NULL }; *u; u++)
                ok = ok && streq_ptr(json_string_value(json_object_get(test_status_unit(st, *u), "state")), "running");
        json_decref(st);
        return ok;
}

/* Starts "./build/corrald --config build/corral-example.conf" as the
 * README's first block says (after "tools/setup &&", which built us). */
static void readme_start_corrald(const char *line, const char *build, TestDaemon *d) {
        char tmpl[] = "/tmp/corral-test-readme-XXXXXX";
        _cleanup_free_ char *cmd = NULL, *exec_cmd = NULL;
        int logfd, status;
        pid_t pid;

        assert_non_null(strstr(line, "&& "));
        cmd = in_build_dir(strstr(line, "&& ") + 3, build);
        assert_true(asprintf(&exec_cmd, "exec %s", cmd) > 0);
        assert_non_null(mkdtemp(tmpl));
        *d = (TestDaemon) { .pidfd = -EBADF,
                            .dir = strdup(tmpl),
                            .socket = strdup(EXAMPLE_SOCKET),
                            .cgroup = strdup(EXAMPLE_CGROUP) };
        assert_true(asprintf(&d->log, "%s/corrald.log", d->dir) > 0);
        logfd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(logfd >= 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                (void) dup2(logfd, STDOUT_FILENO);
                (void) dup2(logfd, STDERR_FILENO);
                execl("/bin/sh", "sh", "-c", exec_cmd, (char *) NULL);
                _exit(127);
        }
        close(logfd);
        d->pid = pid;
        d->pidfd = (int) syscall(SYS_pidfd_open, pid, 0); /* our child: no reuse before we reap it */
        assert_true(d->pidfd >= 0);
        print_message("$ %s\n", cmd);
        if (!test_wait_for(socket_answers, d->socket, TIMEOUT)) {
                assert_int_equal(waitpid(pid, &status, WNOHANG), 0);
                fail_msg("corrald never answered on " EXAMPLE_SOCKET);
        }
        assert_true(test_wait_for(example_units_running, d, TIMEOUT));
}

/* Whether a README command needs a terminal: it runs until Ctrl-C. */
static bool needs_terminal(const char *cmd) {
        return strstr(cmd, "corralctl events") || strstr(cmd, "corralctl top") || strstr(cmd, "corralctl logs -f");
}

static void test_readme_commands(void **state) {
        const char *src = env_or_skip("CORRAL_SOURCE_ROOT");
        _cleanup_free_ char *readme_path = NULL, *readme = NULL, *cmds = NULL, *build = NULL, *path = NULL;
        json_t *port;
        unsigned ran = 0;
        FILE *f;
        size_t size = 0;

        if (access(EXAMPLE_SOCKET, F_OK) == 0 || test_cgroup_exists(EXAMPLE_CGROUP)) {
                print_message("SKIP: " EXAMPLE_SOCKET " or the cgroup " EXAMPLE_CGROUP
                              " exists: is the example running?\n");
                skip();
        }
        build = realpath(env_or_skip("CORRALD"), NULL);
        assert_non_null(build);
        *strrchr(build, '/') = '\0';
        assert_true(asprintf(&readme_path, "%s/README.md", src) > 0);
        f = fopen(readme_path, "re");
        assert_non_null(f);
        assert_true(getdelim(&readme, &size, '\0', f) > 0);
        fclose(f);
        cmds = readme_commands(readme);
        print_message("README commands:\n%s", cmds);
        assert_int_equal(chdir(src), 0);
        assert_true(asprintf(&path, "%s:%s", build, getenv("PATH") ?: "/usr/bin:/bin") > 0);
        setenv("PATH", path, /* overwrite= */ 1);
        setenv("CORRAL_SOCKET", EXAMPLE_SOCKET, /* overwrite= */ 1);

        /* 1. the first block: set up (done: it built this test) and run corrald */
        assert_true(strneq(cmds, "tools/setup && ./build/corrald --config build/corral-example.conf\n",
                           strlen("tools/setup && ./build/corrald --config build/corral-example.conf\n")));
        _cleanup_free_ char *first = strndup(cmds, strcspn(cmds, "\n"));
        readme_start_corrald(first, build, &daemon_);
        port = unit_field(&daemon_, "web@0", "port");
        assert_true(json_is_integer(port));

        /* 2. every corralctl command, as a person pastes them one after the
         * other: each waits for the units to run again (kill -s HUP ends the
         * demo service, which is restarted). */
        for (char *line = cmds, *next; *line; line = next) {
                next = line + strcspn(line, "\n");
                if (*next)
                        *next++ = '\0';
                if (strneq(line, "tools/setup && ", 15) || strneq(line, "curl ", 5))
                        continue; /* step 1 and step 3 */
                if (!strneq(line, "corralctl ", 10) && !strneq(line, "./build/corralctl ", 18)) {
                        /* tools/test is this suite; install, systemctl and
                         * the benchmark change the machine (the boot test
                         * runs the install and systemctl lines). */
                        print_message("(not run here: %s)\n", line);
                        continue;
                }
                if (needs_terminal(line)) {
                        print_message("(not run: %s needs a terminal, it runs until Ctrl-C)\n", line);
                        continue;
                }
                _cleanup_free_ char *cmd = in_build_dir(line, build);
                Ctl c = run_shell(cmd);
                assert_int_equal(c.status, 0);
                assert_string_equal(c.err, "");
                ctl_done(&c);
                ran++;
                assert_true(test_wait_for(example_units_running, &daemon_, TIMEOUT));
        }
        assert_true(ran >= 10);

        /* 3. curl …/api/fail with the port from the status: web@0 is
         * restarted after three failed checks. */
        _cleanup_free_ char *curl = NULL;
        assert_true(asprintf(&curl, "curl -sS http://127.0.0.1:%d/api/fail", (int) json_integer_value(port)) > 0);
        assert_non_null(strstr(readme, "`curl http://127.0.0.1:PORT/api/fail`"));
        Ctl c = run_shell(curl);
        assert_int_equal(c.status, 0);
        ctl_done(&c);
        assert_true(test_daemon_wait_log(&daemon_, "web@0: restarting in", 1, TIMEOUT));
        json_decref(port);

        /* 4. Ctrl-C: everything stops, the subtree is gone. */
        assert_int_equal(test_daemon_signal(&daemon_, SIGINT), 0);
        assert_true(test_daemon_wait(&daemon_, 60 * USEC_PER_SEC));
        assert_int_equal(daemon_.exit_status, 0);
        assert_false(test_cgroup_exists(EXAMPLE_CGROUP));
}

/* ---- the audit trail ---- */

#define TEST_USER "corral-test-operator"

static bool user_created;

static bool user_ids(uid_t *ret_uid, gid_t *ret_gid) {
        struct passwd *pw = getpwnam(TEST_USER);

        if (!pw)
                return false;
        *ret_uid = pw->pw_uid;
        *ret_gid = pw->pw_gid;
        return true;
}

static void ensure_user(void) {
        uid_t uid;
        gid_t gid;

        if (user_ids(&uid, &gid))
                return;
        if (system("useradd --system --no-create-home --shell /usr/sbin/nologin " TEST_USER " >/dev/null 2>&1") == 0 &&
            user_ids(&uid, &gid))
                user_created = true;
}

static void remove_user(void) {
        if (user_created && system("userdel " TEST_USER " >/dev/null 2>&1") != 0)
                fprintf(stderr, "warning: userdel %s failed\n", TEST_USER);
}

/* corralctl --socket d->socket ARGS… as TEST_USER, without groups. */
static Ctl ctl_user_argv(const TestDaemon *d, const char *const *args) {
        const char *argv[32] = { "setpriv",        "--reuid=" TEST_USER,     "--regid=" TEST_USER,
                                 "--clear-groups", env_or_skip("CORRALCTL"), "--socket",
                                 d->socket };
        size_t n = 7;
        Ctl c;

        for (; *args && n < ELEMENTSOF(argv) - 1; args++)
                argv[n++] = *args;
        c = run_argv(argv);
        print_message("(as " TEST_USER ") corralctl %s: exit %d\n%s%s", argv[7], c.status, c.out, c.err);
        return c;
}

#define CTL_USER(d, ...) ctl_user_argv(d, (const char *const[]) { __VA_ARGS__, NULL })

static void test_audit(void **state) {
        _cleanup_free_ char *want = NULL;
        uid_t uid = 0;
        gid_t gid = 0;

        /* status_public: the socket is 0666, so the user reaches corrald,
         * which refuses every change. */
        start_daemon(&daemon_, "audit", "[corral]\nstatus_public = yes\n[program:a]\ncommand = sleep 1000\n");
        assert_int_equal(chmod(daemon_.dir, 0755), 0);
        wait_state(&daemon_, "a", "running");
        if (!user_ids(&uid, &gid)) {
                print_message("SKIP: no user " TEST_USER " (useradd failed)\n");
                skip();
        }
        Ctl c = CTL_USER(&daemon_, "--version");
        if (c.status != 0) {
                print_message("SKIP: " TEST_USER " cannot run corralctl here\n");
                ctl_done(&c);
                skip();
        }
        ctl_done(&c);

        c = CTL_USER(&daemon_, "stop", "a");
        assert_int_equal(c.status, 1);
        assert_non_null(strstr(c.err, "permission denied"));
        ctl_done(&c);
        assert_true(asprintf(&want, "control: stop a by UID %u GID %u PID ", (unsigned) uid, (unsigned) gid) > 0);
        assert_true(test_daemon_wait_log(&daemon_, want, 1, TIMEOUT));
        assert_int_equal(test_daemon_log_count(&daemon_, "(corralctl): refused: permission denied"), 1);
        wait_state(&daemon_, "a", "running");

        /* a read is not audited; root's reload is, with UID 0 */
        free(CTL_OK(&daemon_, 0, "status"));
        free(CTL_OK(&daemon_, 0, "reload"));
        assert_true(test_daemon_wait_log(&daemon_, "control: reload by UID 0 GID 0 PID ", 1, TIMEOUT));
        assert_true(test_daemon_wait_log(&daemon_, "(corralctl): ok", 1, TIMEOUT));
        assert_int_equal(test_daemon_log_count(&daemon_, "control: status"), 0);

        /* a flood of refusals: 20 lines per 10 s, the rest counted */
        for (int i = 0; i < 30; i++) {
                c = CTL_USER(&daemon_, "kill", "a");
                assert_int_equal(c.status, 1);
                ctl_done(&c);
        }
        print_message("refusals logged: %u\n", test_daemon_log_count(&daemon_, "): refused"));
        assert_int_equal(test_daemon_log_count(&daemon_, "): refused"), 20);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* ---- status after an unhealthy restart ---- */

static void test_unhealthy_reason(void **state) {
        _cleanup_free_ char *body = NULL, *out = NULL, *want = NULL;
        json_t *port;

        assert_true(asprintf(&body,
                             "[corral]\nport_range = %u-%u\n"
                             "[program:web]\ncommand = %s -port ${PORT}\ninstances = 1\nport = auto\n"
                             "ready = health\nhealth_url = http://127.0.0.1:${PORT}/api/status\n"
                             "health_interval = 200ms\nhealth_timeout = 300ms\nhealth_threshold = 3\n"
                             "restart_delay = 100ms\noutput = null\n",
                             range_base + 10, range_base + 19, env_or_skip("CORRAL_DEMO_SERVICE")) > 0);
        start_daemon(&daemon_, "unhealthy", body);
        wait_state(&daemon_, "web@0", "running");
        port = unit_field(&daemon_, "web@0", "port");
        assert_true(json_is_integer(port));
        assert_true(asprintf(&want, "curl -sS http://127.0.0.1:%d/api/fail", (int) json_integer_value(port)) > 0);
        Ctl c = run_shell(want);
        assert_int_equal(c.status, 0);
        ctl_done(&c);
        assert_true(test_daemon_wait_log(&daemon_, "web@0: restarting in", 1, TIMEOUT));
        assert_int_equal(test_daemon_log_count(&daemon_, "web@0: health check failed: HTTP 500"), 3);
        wait_state(&daemon_, "web@0", "running");

        out = CTL_OK(&daemon_, 0, "status", "web@0");
        assert_non_null(strstr(out, "\n     Reason: unhealthy\n"));
        assert_non_null(strstr(out, "\n   Restarts: 1\n"));
        want = mfree(want);
        assert_true(asprintf(&want, "\n       Port: %d\n", (int) json_integer_value(port)) > 0);
        assert_non_null(strstr(out, want));
        assert_non_null(strstr(out, "\n     Health: "));
        assert_non_null(strstr(out, "State: running since "));
        out = mfree(out);
        out = CTL_OK(&daemon_, 0, "status");
        assert_non_null(strstr(out, "\t1\tunhealthy\t"));
        json_decref(port);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* ---- metrics against status --json ---- */

static const char parser_script[] =
        "import sys\n"
        "from prometheus_client.parser import text_string_to_metric_families\n"
        "for fam in text_string_to_metric_families(sys.stdin.read()):\n"
        "    for s in fam.samples:\n"
        "        labels = ','.join('%s=%s' % (k, s.labels[k]) for k in sorted(s.labels))\n"
        "        print('%s{%s} %d' % (s.name, labels, s.value))\n";

/* The samples of Prometheus text, one "name{k=v,…} integer" per line, as
 * Debian's python3-prometheus-client parses them. */
static char *parse_metrics(const char *cmd) {
        _cleanup_free_ char *full = NULL;
        Ctl c;

        setenv("CORRAL_TEST_PARSER", parser_script, /* overwrite= */ 1);
        assert_true(asprintf(&full, "%s | /usr/bin/python3 -c \"$CORRAL_TEST_PARSER\"", cmd) > 0);
        c = run_shell(full);
        assert_int_equal(c.status, 0);
        free(c.err);
        return c.out;
}

static bool has_sample(const char *samples, const char *line) {
        size_t n = strlen(line);

        for (const char *p = samples; (p = strstr(p, line)); p++)
                if ((p == samples || p[-1] == '\n') && p[n] == '\n')
                        return true;
        return false;
}

static void assert_metrics_match(const char *samples, json_t *units) {
        static const char *const states[] = { "inactive", "starting", "running", "stopping", "backoff", "failed" };
        static const char *const kinds[] = { "service", "job" };
        size_t i;
        json_t *u;

        for (size_t k = 0; k < ELEMENTSOF(kinds); k++)
                for (size_t st = 0; st < ELEMENTSOF(states); st++) {
                        char line[128];
                        int n = 0;

                        json_array_foreach(units, i, u)
                                n += streq_ptr(json_string_value(json_object_get(u, "kind")), kinds[k]) &&
                                     streq_ptr(json_string_value(json_object_get(u, "state")), states[st]);
                        snprintf(line, sizeof(line), "corral_units{kind=%s,state=%s} %d", kinds[k], states[st], n);
                        print_message("expect %s\n", line);
                        assert_true(has_sample(samples, line));
                }
        json_array_foreach(units, i, u) {
                char line[160];
                const char *name = json_string_value(json_object_get(u, "name"));

                snprintf(line, sizeof(line), "corral_unit_state{kind=%s,state=%s,unit=%s} 1",
                         json_string_value(json_object_get(u, "kind")), json_string_value(json_object_get(u, "state")),
                         name);
                assert_true(has_sample(samples, line));
        }
}

static void test_metrics_match_status(void **state) {
        _cleanup_free_ char *body = NULL, *cmd = NULL, *samples = NULL, *out = NULL, *http = NULL;
        json_t *units;
        unsigned port = range_base + 30;

        assert_true(asprintf(&body,
                             "[corral]\nmetrics_listen = 127.0.0.1:%u\n"
                             "[program:up]\ncommand = sleep 1000\ninstances = 2\n"
                             "[program:off]\ncommand = sleep 1000\nautostart = no\n"
                             "[program:crash]\ncommand = sh -c 'exit 3'\nrestart_delay = 50ms\n"
                             "start_limit_burst = 3\n",
                             port) > 0);
        start_daemon(&daemon_, "metrics", body);
        wait_state(&daemon_, "up@1", "running");
        wait_state(&daemon_, "crash", "failed");
        free(CTL_OK(&daemon_, 0, "run", "--name", "done", "--wait", "--", "true"));
        assert_true(test_daemon_wait_log(&daemon_, "serving the metrics at http://127.0.0.1:", 1, TIMEOUT));
        assert_true(daemon_maps_mhd(&daemon_));

        out = CTL_OK(&daemon_, 0, "status", "--json");
        units = json_loads(out, 0, NULL);
        assert_true(json_is_array(units));

        assert_true(asprintf(&cmd, "%s --socket %s metrics", env_or_skip("CORRALCTL"), daemon_.socket) > 0);
        samples = parse_metrics(cmd);
        assert_metrics_match(samples, units);
        /* crash: started 3 times, so restarted twice, by exit-code, then failed at its start limit */
        assert_true(has_sample(samples, "corral_unit_restarts_total{reason=exit-code,unit=crash} 2"));
        for (size_t i = 0; i < json_array_size(units); i++)
                if (streq_ptr(json_string_value(json_object_get(json_array_get(units, i), "name")), "crash"))
                        assert_int_equal(json_integer_value(json_object_get(json_array_get(units, i), "restarts")), 2);
        assert_true(has_sample(samples, "corral_jobs_finished_total{result=success} 1"));
        assert_true(has_sample(samples, "corral_reloads_total{} 0"));
        assert_true(has_sample(samples, "corral_control_requests_total{method=run,outcome=ok} 1"));
        /* up@0, up@1, the job and the three starts of crash went from
         * starting to running (at exec) */
        assert_true(has_sample(samples, "corral_start_latency_seconds_count{} 6"));

        /* the same over HTTP, from the event loop */
        assert_true(asprintf(&http, "curl -sS --fail http://127.0.0.1:%u/metrics", port) > 0);
        free(samples);
        samples = parse_metrics(http);
        assert_metrics_match(samples, units);
        assert_true(has_sample(samples, "corral_unit_restarts_total{reason=exit-code,unit=crash} 2"));
        json_decref(units);

        /* a reload is counted (it starts crash again: its restarts go on
         * counting, while status counts from the new start) */
        free(CTL_OK(&daemon_, 0, "reload"));
        free(samples);
        samples = parse_metrics(http);
        assert_true(has_sample(samples, "corral_reloads_total{} 1"));
        assert_true(has_sample(samples, "corral_reload_failures_total{} 0"));
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_table_order_and_columns, teardown),
                cmocka_unit_test_teardown(test_filters, teardown),
                cmocka_unit_test_teardown(test_port_and_health, teardown),
                cmocka_unit_test(test_connection_error),
                cmocka_unit_test_teardown(test_reload_counts, teardown),
                cmocka_unit_test_teardown(test_top, teardown),
                cmocka_unit_test_teardown(test_readme_commands, teardown),
                cmocka_unit_test_teardown(test_audit, teardown),
                cmocka_unit_test_teardown(test_unhealthy_reason, teardown),
                cmocka_unit_test_teardown(test_metrics_match_status, teardown),
        };
        int r;

        test_require_cgroup2_root();
        /* below the ephemeral range (32768-60999): an outgoing connection
         * of a test running beside (a health check, curl) once took the
         * metrics port before corrald bound it (EADDRINUSE in CI) */
        range_base = 12000 + (unsigned) (getpid() % 20) * 50;
        ensure_user();
        r = cmocka_run_group_tests(tests, /* setup= */ NULL, /* teardown= */ NULL);
        remove_user();
        return r;
}
