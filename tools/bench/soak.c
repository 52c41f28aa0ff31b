/* SPDX-License-Identifier: GPL-2.0-or-later */
/* soak: a long run of random operations against one corrald (issue 18).
 *
 *     soak [--minutes N] [--units N] [--seed N] [--settle-every S]
 *
 * Drives a real corrald on --units units (services, multi-instance
 * services, ready = notify units that send READY=1, STATUS= with random
 * bytes, MAINPID= of a child and WATCHDOG=1, SIGTERM-ignoring trees,
 * daemonizing ones, crashing ones with restart policies; soak-unit.c)
 * through libcorral: random starts, stops, restarts, reloads of a changed
 * configuration (services added, removed, changed, scaled), job runs and
 * cancels, and SIGKILLs of corrald, each followed by a new corrald that
 * adopts the running units. Every so often it settles (the first
 * configuration again, every job ended, nothing stopping) and checks;
 * at the end it stops corrald and checks once more:
 *
 *   duplicates  an incarnation of a unit started while another one of the
 *               same unit still had a live process (soak-unit's flock)
 *   escapes     a process with the soak's marker in its environment
 *               outside corrald's cgroup subtree (/proc/PID/environ and
 *               /proc/PID/cgroup, every 2 s), or alive after corrald's
 *               shutdown
 *   strays      at a settle, a marker process in the cgroup of a unit that
 *               is inactive or failed, or of no unit (twice, 2 s apart)
 *   leaks       at a settle, a cgroup below the subtree that belongs to no
 *               unit corrald reports (twice, 2 s apart); after the
 *               shutdown, a subtree that is not empty and removable
 *   not up      at a settle, a unit (but the crashing ones) that start --all
 *               left failed or inactive: said with its error, started again
 *   RSS, fds    corrald's Rss and Anonymous (/proc/PID/smaps_rollup) and
 *               open descriptors (/proc/PID/fd) at each settle
 *
 * and prints the figures (ops by kind, corrald restarts, adoptions, the
 * counts, the RSS and fd series with first/last/max and slopes). Exits 0
 * when every count is 0 and RSS and fds are flat (soak-check.c says how),
 * 1 otherwise.
 *
 * Everything runs below the cgroup /corral-soak-PID (this program and
 * corrald in …/driver, the units in …/corral), removed at the end.
 * Needs root and cgroup2; environment: CORRALD, SOAK_UNIT (the path of
 * soak-unit). tools/bench/soak builds and runs it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "corral/corral.h"
#include "fileio.h"
#include "soak.h"
#include "soak-check.h"
#include "syscall.h"
#include "test-util.h"

#define SVC_MAX 1024
#define JOBS_MAX 64

static struct {
        unsigned minutes, units, settle_every;
        uint64_t seed;
} arg = { .minutes = 10, .units = 200, .settle_every = 30 };

/* ---- randomness: one generator, seeded once, so a seed replays the choices ---- */

static uint64_t rng_state;

static uint64_t rng(void) {
        /* splitmix64 */
        uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

static unsigned rnd(unsigned n) {
        return n ? (unsigned) (rng() % n) : 0;
}

static unsigned rnd_range(unsigned lo, unsigned hi) {
        return lo + rnd(hi - lo + 1);
}

/* ---- the model: the services of the configuration ---- */

typedef enum Kind { K_SLEEP, K_NOTIFY, K_MAINPID, K_TREE, K_FORK, K_CRASH, _K_MAX } Kind;
static const char *const kind_name[_K_MAX] = { "sleep", "notify", "mainpid", "tree", "fork", "crash" };

typedef struct Svc {
        char name[32];
        Kind kind;
        unsigned instances; /* 0: one unit without instances */
        unsigned gen;       /* bumped by a change: SOAK_GEN= in its environment */
        unsigned param;     /* tree: children; crash: ms */
        unsigned stop_ms;
        bool restart_always;
} Svc;

static Svc svcs[SVC_MAX], base[SVC_MAX];
static size_t n_svcs, n_base;
static unsigned next_svc_id;

static unsigned svc_units(const Svc *s) {
        return s->instances ? s->instances : 1;
}

static unsigned model_units(const Svc *v, size_t n) {
        unsigned t = 0;
        for (size_t i = 0; i < n; i++)
                t += svc_units(&v[i]);
        return t;
}

static Svc svc_new(unsigned max_units) {
        static const unsigned weight[_K_MAX] = { 30, 20, 8, 12, 10, 20 };
        Svc s = { .stop_ms = 2000 };
        unsigned w = rnd(100), k = 0;

        while (k < _K_MAX - 1 && w >= weight[k])
                w -= weight[k++];
        s.kind = (Kind) k;
        snprintf(s.name, sizeof(s.name), "%s-%u", kind_name[k], next_svc_id++);
        if (s.kind != K_MAINPID && rnd(4) == 0 && max_units >= 2)
                s.instances = rnd_range(2, max_units < 6 ? max_units : 6);
        if (s.kind == K_TREE) {
                s.param = rnd_range(1, 4);
                s.stop_ms = rnd_range(200, 1500); /* they ignore SIGTERM: cgroup.kill after this */
        }
        if (s.kind == K_CRASH) {
                s.param = rnd_range(200, 3000);
                s.restart_always = rnd(2);
        }
        return s;
}

static void model_init(void) {
        while (model_units(svcs, n_svcs) < arg.units && n_svcs < SVC_MAX) {
                svcs[n_svcs] = svc_new(arg.units - model_units(svcs, n_svcs));
                n_svcs++;
        }
        memcpy(base, svcs, sizeof(svcs));
        n_base = n_svcs;
}

static char soak_dir[] = "/tmp/corral-soak-XXXXXX";
static char *root_cgroup, *units_cgroup, *driver_cgroup, *marker;
static const char *soak_unit;

static void svc_write(FILE *f, const Svc *s) {
        fprintf(f, "[program:%s]\n", s->name);
        switch (s->kind) {
        case K_SLEEP:
                fprintf(f, "command = %s sleep\n", soak_unit);
                break;
        case K_NOTIFY:
        case K_MAINPID:
                fprintf(f, "command = %s notify %d\nready = notify\nwatchdog_timeout = 5s\nstart_timeout = 10s\n",
                        soak_unit, s->kind == K_MAINPID);
                break;
        case K_TREE:
                fprintf(f, "command = %s tree %u\n", soak_unit, s->param);
                break;
        case K_FORK:
                fprintf(f, "command = %s fork\n", soak_unit);
                break;
        case K_CRASH:
                fprintf(f,
                        "command = %s crash %u\nrestart = %s\nrestart_delay = 100ms\nrestart_delay_max = 2s\n"
                        "start_limit_burst = 20\n",
                        soak_unit, s->param, s->restart_always ? "always" : "on-failure");
                break;
        default:
                abort();
        }
        if (s->instances)
                fprintf(f, "instances = %u\n", s->instances);
        fprintf(f, "stop_timeout = %ums\nenvironment = CORRAL_TEST_MARKER=%s SOAK_DIR=%s SOAK_GEN=%u\n\n", s->stop_ms,
                marker, soak_dir, s->gen);
}

static void config_write(void) {
        _cleanup_free_ char *tmp = NULL, *path = NULL;
        FILE *f;

        if (asprintf(&tmp, "%s/corral.conf.new", soak_dir) < 0 || asprintf(&path, "%s/corral.conf", soak_dir) < 0)
                abort();
        f = fopen(tmp, "we");
        if (!f)
                abort();
        fprintf(f, "[corral]\ncgroup = %s\ncontrol_socket = %s/control.sock\nlog_level = info\n\n", units_cgroup,
                soak_dir);
        for (size_t i = 0; i < n_svcs; i++)
                svc_write(f, &svcs[i]);
        if (fclose(f) < 0 || rename(tmp, path) < 0)
                abort();
}

/* The name of the unit i of the model (0 ≤ i < model_units()). */
static void unit_name_at(unsigned i, char *buf, size_t size) {
        for (size_t k = 0; k < n_svcs; k++) {
                unsigned n = svc_units(&svcs[k]);
                if (i < n) {
                        if (svcs[k].instances)
                                snprintf(buf, size, "%s@%u", svcs[k].name, i);
                        else
                                snprintf(buf, size, "%s", svcs[k].name);
                        return;
                }
                i -= n;
        }
        abort();
}

/* ---- corrald ---- */

static struct {
        pid_t pid;
        int pidfd;
        unsigned incarnation;
        corral *c;
} daemon_ = { .pidfd = -EBADF };

static uint64_t t_start;

static double elapsed_s(void) {
        return (double) (now(CLOCK_MONOTONIC) - t_start) / 1e6;
}

static void say(const char *fmt, ...) {
        va_list ap;

        fprintf(stderr, "soak: [%6.1f s] ", elapsed_s());
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

static char *log_path(unsigned incarnation) {
        char *p;
        if (asprintf(&p, "%s/corrald-%u.log", soak_dir, incarnation) < 0)
                abort();
        return p;
}

static bool daemon_connect(usec_t timeout) {
        _cleanup_free_ char *sock = NULL;
        usec_t end = now(CLOCK_MONOTONIC) + timeout;

        if (asprintf(&sock, "%s/control.sock", soak_dir) < 0)
                abort();
        daemon_.c = corral_close(daemon_.c);
        while (now(CLOCK_MONOTONIC) < end) {
                corral_units *u = NULL;
                if (corral_open(sock, &daemon_.c) >= 0 && corral_status(daemon_.c, NULL, &u) >= 0) {
                        corral_units_free(u);
                        return true;
                }
                daemon_.c = corral_close(daemon_.c);
                usleep(20 * 1000);
        }
        return false;
}

static void daemon_start(void) {
        const char *corrald = getenv("CORRALD");
        _cleanup_free_ char *log = log_path(++daemon_.incarnation), *conf = NULL;
        int fd;

        if (asprintf(&conf, "%s/corral.conf", soak_dir) < 0)
                abort();
        fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                abort();
        daemon_.pid = fork();
        if (daemon_.pid < 0)
                abort();
        if (daemon_.pid == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                (void) dup2(fd, STDOUT_FILENO);
                (void) dup2(fd, STDERR_FILENO);
                execl(corrald, corrald, "--config", conf, (char *) NULL);
                _exit(127);
        }
        close(fd);
        daemon_.pidfd = sys_pidfd_open(daemon_.pid);
        if (daemon_.pidfd < 0)
                abort();
        if (!daemon_connect(60 * USEC_PER_SEC)) {
                say("corrald (incarnation %u) does not answer within 60 s; its log is %s", daemon_.incarnation, log);
                exit(1);
        }
}

/* Waits for corrald to exit; returns its exit status or 128+signal, -1 on
 * timeout. */
static int daemon_wait(usec_t timeout) {
        usec_t end = now(CLOCK_MONOTONIC) + timeout;
        int status;

        for (;;) {
                pid_t r = waitpid(daemon_.pid, &status, WNOHANG);
                if (r == daemon_.pid)
                        break;
                if (now(CLOCK_MONOTONIC) > end)
                        return -1;
                usleep(10 * 1000);
        }
        daemon_.pidfd = safe_close(daemon_.pidfd);
        daemon_.c = corral_close(daemon_.c);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- operations ---- */

typedef enum Op { OP_START, OP_STOP, OP_RESTART, OP_RELOAD, OP_RUN, OP_CANCEL, OP_STATUS, OP_KILL, _OP_MAX } Op;
static const char *const op_name[_OP_MAX] = { "start", "stop",   "restart", "reload",
                                              "run",   "cancel", "status",  "kill-corrald" };
static const unsigned op_weight[_OP_MAX - 1] = { 16, 16, 18, 8, 22, 12, 8 };

static struct {
        unsigned done[_OP_MAX], failed[_OP_MAX];
        char first_error[_OP_MAX][160];
        unsigned reload_added, reload_removed, reload_changed, reload_scaled;
        unsigned adopted, leftover_stopped, main_gone, changed_away;
        unsigned escapes, strays, leaks, settles, unsettled;
        unsigned job_eagain, start_again;
} stats;

static char *jobs[JOBS_MAX];
static size_t n_jobs;

static void op_result(Op op, int r) {
        stats.done[op]++;
        if (r >= 0)
                return;
        stats.failed[op]++;
        if (!stats.first_error[op][0])
                snprintf(stats.first_error[op], sizeof(stats.first_error[op]), "%s%s%s", strerror(-r),
                         daemon_.c && corral_last_error(daemon_.c) ? ": " : "",
                         daemon_.c && corral_last_error(daemon_.c) ? corral_last_error(daemon_.c) : "");
        if (r == -ECONNRESET || r == -ENOTCONN || r == -EPIPE)
                (void) daemon_connect(10 * USEC_PER_SEC);
}

static void op_units(Op op) {
        static const char *const method[] = { [OP_START] = "start", [OP_STOP] = "stop", [OP_RESTART] = "restart" };
        char names[3][80];
        const char *v[4] = {};
        unsigned n = rnd_range(1, 3), total = model_units(svcs, n_svcs);

        for (unsigned i = 0; i < n; i++) {
                if (rnd(5) == 0) { /* a whole service, or a glob of its instances */
                        const Svc *s = &svcs[rnd((unsigned) n_svcs)];
                        snprintf(names[i], sizeof(names[i]), "%s%s", s->name, s->instances && rnd(2) ? "@*" : "");
                } else
                        unit_name_at(rnd(total), names[i], sizeof(names[i]));
                v[i] = names[i];
        }
        op_result(op, corral_request(daemon_.c, method[op], v, 0, NULL));
}

static void op_reload(void) {
        unsigned k = rnd_range(1, 4);
        corral_outcomes *o = NULL;

        for (unsigned i = 0; i < k; i++) {
                unsigned units = model_units(svcs, n_svcs), what = rnd(4);
                if (what == 0 && units < arg.units + arg.units / 10 + 1 && n_svcs < SVC_MAX) {
                        svcs[n_svcs++] = svc_new(6);
                        stats.reload_added++;
                } else if (what == 1 && units > arg.units - arg.units / 10 && n_svcs > 1) {
                        size_t j = rnd((unsigned) n_svcs);
                        svcs[j] = svcs[--n_svcs];
                        stats.reload_removed++;
                } else if (what == 2) {
                        Svc *s = &svcs[rnd((unsigned) n_svcs)];
                        if (s->instances) {
                                s->instances = rnd_range(2, 6);
                                stats.reload_scaled++;
                        } else {
                                s->gen++;
                                stats.reload_changed++;
                        }
                } else {
                        svcs[rnd((unsigned) n_svcs)].gen++;
                        stats.reload_changed++;
                }
        }
        config_write();
        op_result(OP_RELOAD, corral_request(daemon_.c, "reload", NULL, 0, &o));
        corral_outcomes_free(o);
}

static void op_run(void) {
        _cleanup_free_ char *env_marker = NULL, *env_dir = NULL, *secs = NULL;
        const char *argv_sleep[] = { "sleep", NULL, NULL };
        const char *argv_tree[] = { soak_unit, "tree", "2", NULL };
        const char *env[3];
        corral_job_spec spec = {};
        corral_job_options opts = { .size = sizeof(opts) };
        char *id = NULL;
        int r;

        if (asprintf(&env_marker, "CORRAL_TEST_MARKER=%s", marker) < 0 ||
            asprintf(&env_dir, "SOAK_DIR=%s", soak_dir) < 0 || asprintf(&secs, "0.%03u", rnd(1000)) < 0)
                abort();
        env[0] = env_marker;
        env[1] = env_dir;
        env[2] = NULL;
        argv_sleep[1] = rnd(3) ? secs : "3";
        spec.argv = rnd(4) == 0 ? argv_tree : argv_sleep;
        spec.env = env;
        /* a tree (it ignores SIGTERM and never ends) always has a timeout */
        if (spec.argv == argv_tree || rnd(4) == 0)
                spec.timeout_usec = rnd_range(100, 3000) * USEC_PER_MSEC;
        opts.stop_timeout_usec = rnd_range(50, 1000) * USEC_PER_MSEC;
        r = corral_run_with(daemon_.c, &spec, &opts, &id);
        if (r == -EAGAIN)
                stats.job_eagain++;
        op_result(OP_RUN, r);
        if (r < 0)
                return;
        if (n_jobs < JOBS_MAX)
                jobs[n_jobs++] = id;
        else {
                size_t j = rnd(JOBS_MAX);
                free(jobs[j]);
                jobs[j] = id;
        }
}

static void op_cancel(void) {
        size_t j;
        int r;

        if (n_jobs == 0)
                return op_run();
        j = rnd((unsigned) n_jobs);
        r = rnd(3) == 0 ? corral_cancel_with(daemon_.c, jobs[j], 0, 0) : corral_cancel(daemon_.c, jobs[j]);
        /* a job that ended and was forgotten (or before a crash of corrald) is ENOENT: not a failure */
        op_result(OP_CANCEL, r == -ENOENT ? 0 : r);
        free(jobs[j]);
        jobs[j] = jobs[--n_jobs];
}

static void op_status(void) {
        corral_units *u = NULL;
        op_result(OP_STATUS, corral_status(daemon_.c, NULL, &u));
        corral_units_free(u);
}

/* ---- adoption counts, from each incarnation's log ---- */

static unsigned log_count(unsigned incarnation, const char *needle) {
        _cleanup_free_ char *p = log_path(incarnation), *buf = NULL;
        unsigned n = 0;

        if (read_full_file_at(AT_FDCWD, p, 256 * 1024 * 1024, &buf, NULL) < 0)
                return 0;
        for (const char *s = buf; (s = strstr(s, needle)); s += strlen(needle))
                n++;
        return n;
}

static void count_adoptions(void) {
        unsigned a = log_count(daemon_.incarnation, "adopted from an earlier corrald"),
                 l = log_count(daemon_.incarnation, "found a cgroup left by an earlier run"),
                 g = log_count(daemon_.incarnation, "its main process is gone: restarting"),
                 c = log_count(daemon_.incarnation, "its configuration changed while corrald was away");
        stats.adopted += a;
        stats.leftover_stopped += l;
        stats.main_gone += g;
        stats.changed_away += c;
        say("corrald %u: adopted %u units, stopped %u leftover cgroups, %u restarted (main gone), %u restarted "
            "(changed)",
            daemon_.incarnation, a, l, g, c);
}

static void kill_and_restart(void) {
        unsigned delay = rnd(1500);

        say("SIGKILL corrald %u (pid %d); a new one in %u ms", daemon_.incarnation, daemon_.pid, delay);
        (void) sys_pidfd_send_signal(daemon_.pidfd, SIGKILL);
        if (daemon_wait(30 * USEC_PER_SEC) < 0) {
                say("corrald does not die of SIGKILL");
                exit(1);
        }
        stats.done[OP_KILL]++;
        usleep(delay * 1000);
        daemon_start();
        count_adoptions();
}

/* ---- settle: the first configuration again, then check ---- */

static Series rss, anon, fds;

static bool settled(const corral_units *u, char *why, size_t size) {
        unsigned services = 0;

        for (size_t i = 0; i < corral_units_count(u); i++) {
                const corral_unit *x = corral_units_get(u, i);
                const char *state = corral_unit_state(x) ?: "?", *name = corral_unit_name(x) ?: "?";
                bool job = streq_ptr(corral_unit_kind(x), "job");
                if (streq(state, "stopping") || (job && (streq(state, "running") || streq(state, "starting")))) {
                        snprintf(why, size, "%s is %s", name, state);
                        return false;
                }
                if (job)
                        continue;
                services++;
                if (!strneq(name, "crash-", 6) && !streq(state, "running")) {
                        snprintf(why, size, "%s is %s", name, state);
                        return false;
                }
        }
        if (services != model_units(svcs, n_svcs)) {
                snprintf(why, size, "%u service units, expected %u", services, model_units(svcs, n_svcs));
                return false;
        }
        return true;
}

/* Units that a settle's start --all did not bring up: said, counted, and
 * started once more. */
static void settle_start_again(const corral_units *u, const char *what) {
        for (size_t i = 0; i < corral_units_count(u); i++) {
                const corral_unit *x = corral_units_get(u, i);
                const char *state = corral_unit_state(x) ?: "?", *name = corral_unit_name(x) ?: "?";
                if (streq_ptr(corral_unit_kind(x), "job") || strneq(name, "crash-", 6) ||
                    (!streq(state, "failed") && !streq(state, "inactive")))
                        continue;
                stats.start_again++;
                say("settle (%s): %s is %s after start --all (%s), starting it again", what, name, state,
                    corral_unit_error(x) ?: corral_unit_reason(x) ?: "no reason given");
                const char *v[] = { name, NULL };
                (void) corral_request(daemon_.c, "start", v, 0, NULL);
        }
}

static void settle(const char *what) {
        usec_t t0 = now(CLOCK_MONOTONIC), end = t0 + 90 * USEC_PER_SEC;
        unsigned again = 0;
        corral_units *u = NULL;
        char why[200] = "";
        int r;

        /* every job ends: the ones still running are cancelled at once */
        if (corral_status(daemon_.c, NULL, &u) >= 0)
                for (size_t i = 0; i < corral_units_count(u); i++) {
                        const corral_unit *x = corral_units_get(u, i);
                        const char *state = corral_unit_state(x) ?: "?";
                        if (streq_ptr(corral_unit_kind(x), "job") && !streq(state, "inactive") &&
                            !streq(state, "failed"))
                                (void) corral_cancel_with(daemon_.c, corral_unit_name(x), 0, 0);
                }
        u = corral_units_free(u);
        memcpy(svcs, base, sizeof(svcs));
        n_svcs = n_base;
        config_write();
        r = corral_request(daemon_.c, "reload", NULL, 0, NULL);
        if (r < 0)
                say("settle: reload: %s", strerror(-r));
        /* what a stop left inactive, or the start limit failed */
        for (unsigned i = 0; i < 20; i++) {
                r = corral_request(daemon_.c, "start", NULL, CORRAL_ALL, NULL);
                if (r >= 0)
                        break;
                say("settle: start --all: %s: %s", strerror(-r), corral_last_error(daemon_.c) ?: "");
                usleep(500 * 1000);
        }
        for (;;) {
                u = corral_units_free(u);
                r = corral_status(daemon_.c, NULL, &u);
                if (r < 0) {
                        snprintf(why, sizeof(why), "status: %s", strerror(-r));
                        if (!daemon_connect(10 * USEC_PER_SEC) && sys_pidfd_send_signal(daemon_.pidfd, 0) < 0) {
                                say("settle (%s): corrald is gone", what);
                                exit(1);
                        }
                } else if (settled(u, why, sizeof(why)))
                        break;
                else if (now(CLOCK_MONOTONIC) - t0 > 10 * USEC_PER_SEC && again++ % 25 == 0)
                        settle_start_again(u, what);
                if (now(CLOCK_MONOTONIC) > end) {
                        stats.unsettled++;
                        say("settle (%s): not settled after 90 s: %s", what, why);
                        break;
                }
                usleep(200 * 1000);
        }
        stats.settles++;
        unsigned leaks = check_leaks(daemon_.c, units_cgroup), strays = check_strays(daemon_.c, marker, units_cgroup);
        stats.leaks += leaks;
        stats.strays += strays;
        stats.escapes += check_escapes(marker, units_cgroup);
        Sample s = { .incarnation = daemon_.incarnation, .t = elapsed_s(), .units = (unsigned) corral_units_count(u) };
        sample_daemon(daemon_.pid, &s);
        series_add(&rss, s, s.rss_kb);
        series_add(&anon, s, s.anon_kb);
        series_add(&fds, s, s.fds);
        say("settle (%s) in %.1f s: %u units, corrald %u: Rss %lu KiB, Anonymous %lu KiB, %u fds; leaks %u, strays "
            "%u",
            what, (double) (now(CLOCK_MONOTONIC) - t0) / 1e6, s.units, s.incarnation, s.rss_kb, s.anon_kb, s.fds, leaks,
            strays);
        corral_units_free(u);
}

/* ---- the run ---- */

static int parse_args(int argc, char *argv[]) {
        static const struct option options[] = {
                { "minutes", required_argument, NULL, 'm' }, { "units", required_argument, NULL, 'u' },
                { "seed", required_argument, NULL, 's' },    { "settle-every", required_argument, NULL, 'e' },
                { "help", no_argument, NULL, 'h' },          {},
        };
        bool seeded = false;
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'm':
                        arg.minutes = (unsigned) atoi(optarg);
                        break;
                case 'u':
                        arg.units = (unsigned) atoi(optarg);
                        break;
                case 's':
                        arg.seed = strtoull(optarg, NULL, 0);
                        seeded = true;
                        break;
                case 'e':
                        arg.settle_every = (unsigned) atoi(optarg);
                        break;
                case 'h':
                        printf("soak [--minutes N] [--units N] [--seed N] [--settle-every SECONDS]\n");
                        exit(0);
                default:
                        return -EINVAL;
                }
        if (arg.minutes < 1 || arg.units < 10 || arg.units > 1000 || arg.settle_every < 5)
                return -EINVAL;
        if (!seeded)
                arg.seed = now(CLOCK_REALTIME) ^ (uint64_t) getpid();
        rng_state = arg.seed;
        return 0;
}

static int cgroup_mkdir(const char *path) {
        _cleanup_free_ char *fs = test_cgroup_fs_path(path);
        return mkdir(fs, 0755) < 0 ? -errno : 0;
}

static int cgroup_move_self(const char *path) {
        _cleanup_free_ char *fs = test_cgroup_fs_path(path), *procs = NULL;
        if (asprintf(&procs, "%s/cgroup.procs", fs) < 0)
                abort();
        return test_write_file(procs, "0\n");
}

static void run(void) {
        usec_t end = t_start + (usec_t) arg.minutes * 60 * USEC_PER_SEC;
        /* corrald is SIGKILLed every 60-150 s (15-35 s in a run of one or
         * two minutes), the first time after half of that */
        unsigned kill_lo = arg.minutes > 2 ? 60 : 15, kill_hi = arg.minutes > 2 ? 150 : 35;
        usec_t next_kill = now(CLOCK_MONOTONIC) + rnd_range(kill_lo / 2, kill_hi / 2) * USEC_PER_SEC,
               next_settle = now(CLOCK_MONOTONIC) + arg.settle_every * USEC_PER_SEC,
               next_scan = now(CLOCK_MONOTONIC) + 2 * USEC_PER_SEC;

        while (now(CLOCK_MONOTONIC) < end) {
                usec_t t = now(CLOCK_MONOTONIC);
                if (t >= next_kill) {
                        kill_and_restart();
                        next_kill = now(CLOCK_MONOTONIC) + rnd_range(kill_lo, kill_hi) * USEC_PER_SEC;
                        continue;
                }
                if (t >= next_settle) {
                        settle("periodic");
                        next_settle = now(CLOCK_MONOTONIC) + arg.settle_every * USEC_PER_SEC;
                        continue;
                }
                if (t >= next_scan) {
                        stats.escapes += check_escapes(marker, units_cgroup);
                        next_scan = t + 2 * USEC_PER_SEC;
                }
                unsigned w = rnd(100);
                Op op = 0;
                while (op < _OP_MAX - 2 && w >= op_weight[op])
                        w -= op_weight[op++];
                switch (op) {
                case OP_START:
                case OP_STOP:
                case OP_RESTART:
                        op_units(op);
                        break;
                case OP_RELOAD:
                        op_reload();
                        break;
                case OP_RUN:
                        op_run();
                        break;
                case OP_CANCEL:
                        op_cancel();
                        break;
                default:
                        op_status();
                }
                usleep(rnd_range(20, 150) * 1000);
        }
}

static unsigned file_lines(const char *name) {
        _cleanup_free_ char *p = NULL, *buf = NULL;
        unsigned n = 0;

        if (asprintf(&p, "%s/%s", soak_dir, name) < 0)
                abort();
        if (read_full_file_at(AT_FDCWD, p, 64 * 1024 * 1024, &buf, NULL) < 0)
                return 0;
        for (const char *s = buf; *s; s++)
                n += *s == '\n';
        if (n > 0)
                fprintf(stderr, "soak: %s:\n%s", p, buf);
        return n;
}

int main(int argc, char *argv[]) {
        _cleanup_free_ char *own_cgroup = NULL, *path = NULL;
        SoakCounters *counters;
        int fd, exit_status;

        if (parse_args(argc, argv) < 0) {
                fprintf(stderr, "soak: bad arguments (--minutes ≥ 1, --units 10..1000, --settle-every ≥ 5)\n");
                return 2;
        }
        test_require_cgroup2_root();
        soak_unit = getenv("SOAK_UNIT");
        if (!getenv("CORRALD") || !soak_unit) {
                fprintf(stderr, "soak: $CORRALD and $SOAK_UNIT must be set (tools/bench/soak sets them)\n");
                return 2;
        }
        t_start = now(CLOCK_MONOTONIC);
        if (asprintf(&root_cgroup, "/corral-soak-%d", getpid()) < 0 ||
            asprintf(&units_cgroup, "%s/corral", root_cgroup) < 0 ||
            asprintf(&driver_cgroup, "%s/driver", root_cgroup) < 0 || asprintf(&marker, "soak-%d", getpid()) < 0)
                abort();
        if (!mkdtemp(soak_dir) || cgroup_own(&own_cgroup) < 0 || cgroup_mkdir(root_cgroup) < 0 ||
            cgroup_mkdir(driver_cgroup) < 0 || cgroup_move_self(driver_cgroup) < 0) {
                fprintf(stderr, "soak: cannot set up %s and %s: %m\n", soak_dir, root_cgroup);
                return 1;
        }
        /* the shared counters and the lock directory of soak-unit */
        if (asprintf(&path, "%s/counters", soak_dir) < 0)
                abort();
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0 || ftruncate(fd, sizeof(SoakCounters)) < 0)
                abort();
        counters = mmap(NULL, sizeof(SoakCounters), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (counters == MAP_FAILED)
                abort();
        close(fd);
        path = mfree(path);
        if (asprintf(&path, "%s/locks", soak_dir) < 0 || mkdir(path, 0755) < 0)
                abort();

        say("seed %llu, %u minutes, %u units, settle every %u s, cgroup %s, files in %s", (unsigned long long) arg.seed,
            arg.minutes, arg.units, arg.settle_every, root_cgroup, soak_dir);
        model_init();
        config_write();
        daemon_start();
        count_adoptions();
        settle("start");
        run();
        settle("final");

        /* the final shutdown: every process gone, the subtree empty and removable */
        say("SIGTERM corrald %u", daemon_.incarnation);
        (void) sys_pidfd_send_signal(daemon_.pidfd, SIGTERM);
        exit_status = daemon_wait(120 * USEC_PER_SEC);
        if (exit_status < 0) {
                say("corrald did not stop within 120 s");
                (void) sys_pidfd_send_signal(daemon_.pidfd, SIGKILL);
                (void) daemon_wait(30 * USEC_PER_SEC);
        }
        unsigned left = check_marker_anywhere(marker);
        stats.escapes += left;
        unsigned subtree_leaks = check_subtree_removable(units_cgroup);
        stats.leaks += subtree_leaks;

        unsigned dups = file_lines("duplicates");
        bool flat = report(&(Report) {
                .seed = arg.seed,
                .minutes = arg.minutes,
                .units = arg.units,
                .ops_done = stats.done,
                .ops_failed = stats.failed,
                .first_error = stats.first_error,
                .op_names = op_name,
                .n_ops = _OP_MAX,
                .reload_added = stats.reload_added,
                .reload_removed = stats.reload_removed,
                .reload_changed = stats.reload_changed,
                .reload_scaled = stats.reload_scaled,
                .job_eagain = stats.job_eagain,
                .incarnations = daemon_.incarnation,
                .adopted = stats.adopted,
                .leftover_stopped = stats.leftover_stopped,
                .main_gone = stats.main_gone,
                .changed_away = stats.changed_away,
                .counters = counters,
                .duplicates = dups,
                .escapes = stats.escapes,
                .left_after_shutdown = left,
                .strays = stats.strays,
                .leaks = stats.leaks,
                .subtree_leaks = subtree_leaks,
                .settles = stats.settles,
                .unsettled = stats.unsettled,
                .start_again = stats.start_again,
                .shutdown_status = exit_status,
                .rss = &rss,
                .anon = &anon,
                .fds = &fds,
        });

        /* out of the subtree, and remove it */
        (void) cgroup_move_self(own_cgroup);
        (void) test_cgroup_destroy(root_cgroup);
        bool ok = flat && dups == 0 && stats.escapes == 0 && stats.strays == 0 && stats.leaks == 0 &&
                  stats.unsettled == 0 && stats.start_again == 0 && exit_status == 0;
        if (ok) {
                _cleanup_free_ char *cmd = NULL;
                if (asprintf(&cmd, "rm -rf -- '%s'", soak_dir) > 0)
                        (void) !system(cmd);
        } else
                say("FAILED; corrald's logs and the soak's files are kept in %s", soak_dir);
        return ok ? 0 : 1;
}
