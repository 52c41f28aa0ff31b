/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "peer.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "fileio.h"
#include "macro.h"
#include "procwatch.h"
#include "syscall.h"

#define SLEEP "/usr/bin/sleep"
#define RESTART_LIFETIME "0.005"

static const char *root_cgroup;
static unsigned counter;

const char *peer_name(PeerKind p) {
        static const char *const names[_PEER_MAX] = { "corral", "supervisord", "limit" };
        return names[p];
}

static const char *supervisord_path(void) {
        const char *p = getenv("SUPERVISORD");
        return p && *p ? p : "/usr/bin/supervisord";
}

const char *peer_corralctl(void) {
        const char *p = getenv("CORRALCTL");
        return p ?: "corralctl";
}

bool peer_available(PeerKind p) {
        switch (p) {
        case PEER_SUPERVISORD:
                return access(supervisord_path(), X_OK) == 0;
        case PEER_LIMIT:
                return getenv("BENCH_LIMIT") && access(getenv("BENCH_LIMIT"), X_OK) == 0;
        default:
                return getenv("CORRALD") != NULL;
        }
}

void peer_set_root(const char *cgroup_path) {
        root_cgroup = cgroup_path;
}

static char *xasprintf(const char *fmt, ...) _printf_(1, 2);
static char *xasprintf(const char *fmt, ...) {
        va_list ap;
        char *s;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                abort();
        va_end(ap);
        return s;
}

/* ---- Configurations ---- */

static char *corral_body(const Spec *s) {
        _cleanup_free_ char *forker = test_helper_path("test-forker");
        size_t size = 0;
        char *body = NULL;
        FILE *f = open_memstream(&body, &size);

        switch (s->work) {
        case WORK_SLEEP:
                for (unsigned i = 0; i < s->n; i++)
                        fprintf(f, "[program:s%u]\ncommand = " SLEEP " 100000\nenvironment = CORRAL_TEST_MARKER=%s\n%s",
                                i, s->marker, s->raw_output ? "output = inherit-raw\n" : "");
                break;
        case WORK_TREE:
                fprintf(f,
                        "[program:tree]\ncommand = %s tree %u ignore\nstop_timeout = 0\noutput = null\n"
                        "environment = CORRAL_TEST_MARKER=%s\n",
                        forker, s->n - 1, s->marker);
                break;
        case WORK_RESTART:
                fprintf(f,
                        "[program:r]\ncommand = " SLEEP " " RESTART_LIFETIME
                        "\nrestart = always\n"
                        "restart_delay = 0\nrestart_delay_max = 0\nstart_limit_burst = 5000\n"
                        "environment = CORRAL_TEST_MARKER=%s\n",
                        s->marker);
                break;
        case WORK_HEALTH:
                fprintf(f,
                        "[corral]\nport_range = 42000-42999\n"
                        "[program:web]\ninstances = %u\ncommand = %s -port ${PORT}\nport = auto\n"
                        "health_url = http://127.0.0.1:${PORT}/api/status\nhealth_interval = %ums\n"
                        "output = null\nenvironment = CORRAL_TEST_MARKER=%s\n",
                        s->n, getenv("CORRAL_DEMO_SERVICE"), s->health_interval_ms, s->marker);
                break;
        }
        fclose(f);
        return body;
}

static char *supervisord_conf(const Peer *p, const Spec *s) {
        _cleanup_free_ char *forker = test_helper_path("test-forker");
        size_t size = 0;
        char *body = NULL;
        FILE *f = open_memstream(&body, &size);

        fprintf(f,
                "[supervisord]\nnodaemon = true\nlogfile = %s/supervisord.log\npidfile = %s/supervisord.pid\n"
                "childlogdir = %s\nminfds = 10000\n\n"
                "[unix_http_server]\nfile = %s\n\n"
                "[rpcinterface:supervisor]\n"
                "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n",
                p->dir, p->dir, p->dir, p->socket);
        /* startsecs = 0: RUNNING at once, as corral's ready = exec; no log
         * files (corral's children write to corrald's stderr) */
        const char *common = "startsecs = 0\nstdout_logfile = NONE\nstderr_logfile = NONE\n";
        switch (s->work) {
        case WORK_SLEEP:
                for (unsigned i = 0; i < s->n; i++)
                        fprintf(f,
                                "[program:s%u]\ncommand = " SLEEP
                                " 100000\nenvironment = "
                                "CORRAL_TEST_MARKER=\"%s\"\n%s",
                                i, s->marker, common);
                break;
        case WORK_TREE:
                fprintf(f,
                        "[program:tree]\ncommand = %s tree %u ignore\nstopasgroup = true\nkillasgroup = true\n"
                        "stopwaitsecs = 0\nenvironment = CORRAL_TEST_MARKER=\"%s\"\n%s",
                        forker, s->n - 1, s->marker, common);
                break;
        case WORK_RESTART:
                fprintf(f,
                        "[program:r]\ncommand = " SLEEP " " RESTART_LIFETIME
                        "\nautorestart = true\n"
                        "startretries = 1000000\nenvironment = CORRAL_TEST_MARKER=\"%s\"\n%s",
                        s->marker, common);
                break;
        case WORK_HEALTH:
                abort(); /* supervisord has no HTTP health checks */
        }
        fclose(f);
        return body;
}

/* ---- Processes ---- */

/* Starts argv in the cgroup at filesystem path cgroup_fs (created here;
 * NULL: our own cgroup), dying with us, output to log. */
static int spawn_supervisor(Peer *p, const char *cgroup_fs, char **argv, const char *log, uint64_t *ret_t0) {
        _cleanup_close_ int cg_fd = -EBADF, log_fd = -EBADF;
        int pidfd = -EBADF;

        if (cgroup_fs) {
                if (mkdir(cgroup_fs, 0755) < 0)
                        return -errno;
                cg_fd = open(cgroup_fs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (cg_fd < 0)
                        return -errno;
        }
        log_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (log_fd < 0)
                return -errno;
        struct corral_clone_args args = {
                .flags = CLONE_PIDFD | (cgroup_fs ? CLONE_INTO_CGROUP : 0),
                .pidfd = (uint64_t) (uintptr_t) &pidfd,
                .exit_signal = SIGCHLD,
                .cgroup = cgroup_fs ? (uint64_t) cg_fd : 0,
        };
        *ret_t0 = mono_ns();
        pid_t pid = sys_clone3(&args);
        if (pid < 0)
                return pid;
        if (pid == 0) {
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                (void) dup2(log_fd, STDOUT_FILENO);
                (void) dup2(log_fd, STDERR_FILENO);
                execv(argv[0], argv);
                _exit(127);
        }
        p->pid = pid;
        p->pidfd = pidfd;
        return 0;
}

int peer_start(Peer *p, PeerKind kind, const Spec *s, uint64_t *ret_t0) {
        _cleanup_free_ char *tmpl = xasprintf("%s/corral-bench-XXXXXX", getenv("BENCH_TMPDIR") ?: "/tmp");
        unsigned k = counter++;
        int r;

        *p = (Peer) { .kind = kind, .pidfd = -EBADF, .pending_fd = -EBADF, .daemon = { .pidfd = -EBADF } };
        if (kind == PEER_CORRAL) {
                _cleanup_free_ char *body = corral_body(s), *cg = xasprintf("%s/corral-%u", root_cgroup, k);
                *ret_t0 = mono_ns();
                r = test_daemon_start_cgroup(&p->daemon, cg, body);
                if (r < 0)
                        return r;
                p->pid = p->daemon.pid;
                p->pidfd = p->daemon.pidfd;
                return 0;
        }
        if (!mkdtemp(tmpl))
                return -errno;
        p->dir = strdup(tmpl);
        if (kind == PEER_SUPERVISORD) {
                _cleanup_free_ char *conf_path = xasprintf("%s/supervisord.conf", p->dir), *conf = NULL,
                                    *out = xasprintf("%s/supervisord.out", p->dir), *fs = NULL;
                p->socket = xasprintf("%s/supervisor.sock", p->dir);
                p->cgroup = xasprintf("%s/supervisord-%u", root_cgroup, k);
                conf = supervisord_conf(p, s);
                r = test_write_file(conf_path, conf);
                if (r < 0)
                        return r;
                fs = test_cgroup_fs_path(p->cgroup);
                char *argv[] = { (char *) supervisord_path(), (char *) "-n", (char *) "-c", conf_path, NULL };
                return spawn_supervisor(p, fs, argv, out, ret_t0);
        }
        /* bench-limit makes its own cgroups: CGROUP/u0 … */
        _cleanup_free_ char *forker = test_helper_path("test-forker"), *fs = NULL, *n = NULL,
                            *out = xasprintf("%s/bench-limit.out", p->dir), *tree = NULL;
        p->cgroup = xasprintf("%s/limit-%u", root_cgroup, k);
        fs = test_cgroup_fs_path(p->cgroup);
        switch (s->work) {
        case WORK_SLEEP: {
                n = xasprintf("%u", s->n);
                char *argv[] = { getenv("BENCH_LIMIT"), fs,  n, (char *) s->marker, (char *) SLEEP,
                                 (char *) "100000",     NULL };
                return spawn_supervisor(p, NULL, argv, out, ret_t0);
        }
        case WORK_TREE: {
                tree = xasprintf("%u", s->n - 1);
                char *argv[] = {
                        getenv("BENCH_LIMIT"), fs,  (char *) "1", (char *) s->marker, forker, (char *) "tree", tree,
                        (char *) "ignore",     NULL
                };
                return spawn_supervisor(p, NULL, argv, out, ret_t0);
        }
        default:
                return -EOPNOTSUPP; /* the limit does not restart nor check */
        }
}

/* ---- Talking to the supervisors ---- */

static int unix_connect(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -errno;
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

static int write_all(int fd, const char *buf, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, buf, n);
                if (k < 0)
                        return -errno;
                buf += k;
                n -= (size_t) k;
        }
        return 0;
}

/* Reads until EOF (or, when line is set, a newline at the end). */
static char *read_reply(int fd, bool line) {
        size_t n = 0, size = 64 * 1024;
        char *buf = malloc(size);

        for (;;) {
                if (n + 1 >= size)
                        buf = realloc(buf, size *= 2);
                ssize_t k = read(fd, buf + n, size - n - 1);
                if (k <= 0)
                        break;
                n += (size_t) k;
                if (line && buf[n - 1] == '\n')
                        break;
        }
        buf[n] = '\0';
        return buf;
}

static char *xmlrpc_request(const char *method, const char *params) {
        _cleanup_free_ char *body = xasprintf(
                "<?xml version=\"1.0\"?><methodCall><methodName>%s</methodName>"
                "<params>%s</params></methodCall>",
                method, params);
        return xasprintf("POST /RPC2 HTTP/1.0\r\nContent-Type: text/xml\r\nContent-Length: %zu\r\n\r\n%s", strlen(body),
                         body);
}

/* One XML-RPC call to supervisord; the whole HTTP reply, or NULL. */
static char *xmlrpc_call(const Peer *p, const char *method, const char *params) {
        _cleanup_free_ char *req = xmlrpc_request(method, params);
        _cleanup_close_ int fd = unix_connect(p->socket);

        if (fd < 0 || write_all(fd, req, strlen(req)) < 0)
                return NULL;
        return read_reply(fd, /* line= */ false);
}

pid_t bench_spawn(char **argv, int stdout_fd) {
        pid_t pid = fork();

        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
                (void) dup2(stdout_fd >= 0 ? stdout_fd : null_fd, STDOUT_FILENO);
                (void) dup2(null_fd, STDERR_FILENO);
                execvp(argv[0], argv);
                _exit(127);
        }
        return pid;
}

/* Runs argv, returns its standard output (NULL if it failed). */
static char *run_capture(char **argv) {
        int pipefd[2];
        pid_t pid;
        int status;
        char *out;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return NULL;
        pid = bench_spawn(argv, pipefd[1]);
        close(pipefd[1]);
        if (pid < 0) {
                close(pipefd[0]);
                return NULL;
        }
        out = read_reply(pipefd[0], /* line= */ false);
        close(pipefd[0]);
        if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return mfree(out);
        return out;
}

static unsigned count_substr(const char *s, const char *needle) {
        unsigned n = 0;

        for (const char *q = s; (q = strstr(q, needle)); q += strlen(needle))
                n++;
        return n;
}

static int corral_all_running(Peer *p, unsigned n) {
        char *argv[] = { (char *) peer_corralctl(), (char *) "--socket", p->daemon.socket,
                         (char *) "status",         (char *) "--json",   NULL };
        _cleanup_free_ char *out = run_capture(argv);
        json_t *j, *units, *u;
        unsigned running = 0;
        size_t i;

        if (!out)
                return 0; /* the socket is not up yet */
        j = json_loads(out, 0, NULL);
        if (!j)
                return -EBADMSG;
        units = json_is_array(j) ? j : json_object_get(j, "units");
        json_array_foreach(units, i, u) if (streq_ptr(json_string_value(json_object_get(u, "state")), "running"))
                running++;
        json_decref(j);
        return running >= n;
}

int peer_all_running(Peer *p, unsigned n) {
        switch (p->kind) {
        case PEER_CORRAL:
                return corral_all_running(p, n);
        case PEER_SUPERVISORD: {
                _cleanup_free_ char *reply = xmlrpc_call(p, "supervisor.getAllProcessInfo", "");
                return reply && count_substr(reply, "<string>RUNNING</string>") >= n;
        }
        default:
                return -EOPNOTSUPP;
        }
}

int peer_stop_all(Peer *p) {
        return sys_pidfd_send_signal(p->pidfd, SIGTERM);
}

int peer_ctl_stop_all(Peer *p, uint64_t *ret_done_ns) {
        char *argv[] = { (char *) peer_corralctl(), (char *) "--socket", p->daemon.socket,
                         (char *) "stop",           (char *) "--all",    NULL };
        int status;
        pid_t pid;

        *ret_done_ns = 0;
        if (p->kind != PEER_CORRAL)
                return peer_stop_all(p);
        pid = bench_spawn(argv, -1);
        if (pid < 0)
                return pid;
        if (waitpid(pid, &status, 0) < 0)
                return -errno;
        *ret_done_ns = mono_ns();
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EPROTO;
}

int peer_stop_unit(Peer *p, const char *name) {
        _cleanup_free_ char *req = NULL;
        int fd;

        switch (p->kind) {
        case PEER_CORRAL:
                req = xasprintf("{\"method\":\"stop\",\"params\":{\"units\":[\"%s\"]}}\n", name);
                fd = unix_connect(p->daemon.socket);
                break;
        case PEER_SUPERVISORD: {
                _cleanup_free_ char *params = xasprintf(
                        "<param><value><string>%s</string></value></param>"
                        "<param><value><boolean>0</boolean></value></param>",
                        name);
                req = xmlrpc_request("supervisor.stopProcess", params);
                fd = unix_connect(p->socket);
                break;
        }
        default:
                return peer_stop_all(p);
        }
        if (fd < 0)
                return fd;
        p->pending_fd = fd;
        return write_all(fd, req, strlen(req));
}

bool peer_wait(Peer *p, uint64_t timeout_ns) {
        struct pollfd pfd = { .fd = p->pidfd, .events = POLLIN };
        siginfo_t si = {};

        if (p->pidfd < 0)
                return true;
        if (poll(&pfd, 1, (int) (timeout_ns / 1000000)) <= 0)
                return false;
        if (sys_waitid_pidfd(p->pidfd, &si, WEXITED) < 0)
                return false;
        p->pidfd = safe_close(p->pidfd);
        if (p->kind == PEER_CORRAL)
                p->daemon.pidfd = -EBADF;
        return true;
}

static void remove_dir(const char *dir) {
        char *argv[] = { (char *) "/bin/rm", (char *) "-rf", (char *) "--", (char *) dir, NULL };
        pid_t pid = bench_spawn(argv, -1);

        if (pid > 0)
                (void) waitpid(pid, NULL, 0);
}

void peer_cleanup(Peer *p) {
        if (p->pending_fd >= 0) {
                free(read_reply(p->pending_fd, p->kind == PEER_CORRAL));
                p->pending_fd = safe_close(p->pending_fd);
        }
        if (p->kind == PEER_CORRAL) {
                if (p->daemon.dir) {
                        /* test_daemon_cleanup() prints the log to stderr: keep
                         * it short when all went well */
                        if (p->pidfd < 0)
                                (void) truncate(p->daemon.log, 0);
                        test_daemon_cleanup(&p->daemon);
                }
                p->pidfd = -EBADF;
                return;
        }
        if (p->pidfd >= 0) {
                (void) sys_pidfd_send_signal(p->pidfd, SIGKILL);
                (void) peer_wait(p, 10ULL * 1000000000ULL);
        }
        if (p->cgroup) {
                (void) test_cgroup_destroy(p->cgroup);
                p->cgroup = mfree(p->cgroup);
        }
        if (p->dir) {
                remove_dir(p->dir);
                p->dir = mfree(p->dir);
        }
        p->socket = mfree(p->socket);
}
