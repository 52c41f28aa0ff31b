/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bench: the figures of corral against supervisord and against the limit
 * (bench-limit), each peer measured in the same run. Prints one line per
 * figure, "name value unit" (name = metric.peer), medians of --runs runs
 * where a figure is repeated, and "# …" lines that say what was measured.
 * tools/bench/run builds everything, runs this and turns its output into
 * Markdown tables.
 *
 * Times of processes come from the kernel's proc connector (fork, exec and
 * exit events with CLOCK_MONOTONIC timestamps), so no figure depends on
 * how often anyone looks at /proc; processes are recognised by a marker in
 * their environment, never by name or PID.
 *
 * Needs root, cgroup2 with cgroup.kill, CONFIG_PROC_EVENTS; environment:
 * CORRALD, CORRALCTL, BENCH_LIMIT, TEST_HELPERS_DIR (test-forker),
 * CORRAL_DEMO_SERVICE, optionally SUPERVISORD and STRACE. */
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "fileio.h"
#include "bench-scale.h"
#include "bench-util.h"
#include "macro.h"
#include "peer.h"
#include "procwatch.h"
#include "syscall.h"
#include "test-util.h"

#define SIZES_MAX 8

static struct {
        unsigned runs;
        unsigned sizes[SIZES_MAX];
        unsigned n_sizes;
        unsigned tree;
        unsigned tree_runs;
        unsigned restarts;
        unsigned restart_budget_s;
        unsigned idle_units;
        unsigned idle_s;
        unsigned status_calls;
        unsigned health_units;
        unsigned health_interval_ms;
        unsigned health_s;
        char figures[16];
        ScaleOptions scale;
} arg = {
        .runs = 3,
        .sizes = { 100, 500, 1000 },
        .n_sizes = 3,
        .tree = 1000,
        .tree_runs = 5,
        .restarts = 1000,
        .restart_budget_s = 60,
        .idle_units = 1000,
        .idle_s = 30,
        .status_calls = 20,
        .health_units = 100,
        .health_interval_ms = 100,
        .health_s = 30,
        .figures = "12345678S",
        .scale = { .sizes = { 100, 1000, 10000 },
                   .n_sizes = 3,
                   .runs = 3,
                   .large_runs = 1,
                   .status_calls = 10,
                   .idle_s = 20 },
};

static char *root_cgroup;

static bool want(char fig) {
        return strchr(arg.figures, fig) != NULL;
}

static void figures_start(void) {
        /* the peers, and corral a second time stopped by corralctl stop --all */
        static StartResult res[SIZES_MAX][_PEER_MAX + 1][16];
        unsigned runs = MIN(arg.runs, 16u);

        note("figure 1: start N services (sleep): launch of the supervisor with N services configured -> "
             "the Nth exec (start_exec), -> all reported running (start_running: corralctl status --json; "
             "supervisord: getAllProcessInfo over XML-RPC, startsecs = 0)");
        note("figure 2: stop all N (stop_all: SIGTERM to the supervisor; limit: cgroup.kill of every unit) -> "
             "the last process gone; stop_ctl: `corralctl stop --all`, which returns when the units are gone, "
             "-> the later of its return and the last exit, corrald left running (a run of its own; the "
             "limit's column repeats its cgroup.kill)");
        note("medians of %u runs; peers interleaved within each run", runs);
        for (unsigned s = 0; s < arg.n_sizes; s++)
                for (unsigned run = 0; run < runs; run++)
                        for (unsigned k = 0; k <= _PEER_MAX; k++) {
                                PeerKind kind = k == _PEER_MAX ? PEER_CORRAL : (PeerKind) k;
                                StartResult *r = &res[s][k][run];
                                *r = (StartResult) { NAN, NAN, NAN };
                                if (!use(kind) || (k == _PEER_MAX && !want('2')))
                                        continue;
                                (void) measure_start(kind, arg.sizes[s], k == _PEER_MAX, false, NULL, NULL, r);
                                progress("start %s%s n=%u run %u: exec %.1f ms, running %.1f ms, stop %.1f ms",
                                         peer_name(kind), k == _PEER_MAX ? " (corralctl stop)" : "", arg.sizes[s],
                                         run + 1, r->exec_ms, r->running_ms, r->stop_ms);
                        }

        for (unsigned s = 0; s < arg.n_sizes; s++)
                for (unsigned k = 0; k <= _PEER_MAX; k++) {
                        PeerKind kind = k == _PEER_MAX ? PEER_CORRAL : (PeerKind) k;
                        double v[3][16];
                        char name[64];
                        for (unsigned run = 0; run < runs; run++) {
                                v[0][run] = res[s][k][run].exec_ms;
                                v[1][run] = res[s][k][run].running_ms;
                                v[2][run] = res[s][k][run].stop_ms;
                        }
                        if (k == _PEER_MAX) {
                                if (want('2')) {
                                        snprintf(name, sizeof(name), "stop_ctl_%u", arg.sizes[s]);
                                        figure(name, "corral", median(v[2], runs), "ms");
                                        for (unsigned run = 0; run < runs; run++)
                                                v[2][run] = res[s][PEER_LIMIT][run].stop_ms;
                                        figure(name, "limit", median(v[2], runs), "ms");
                                }
                                continue;
                        }
                        if (want('1')) {
                                snprintf(name, sizeof(name), "start_exec_%u", arg.sizes[s]);
                                figure(name, peer_name(kind), median(v[0], runs), "ms");
                                if (kind != PEER_LIMIT) {
                                        snprintf(name, sizeof(name), "start_running_%u", arg.sizes[s]);
                                        figure(name, peer_name(kind), median(v[1], runs), "ms");
                                }
                        }
                        if (want('2')) {
                                snprintf(name, sizeof(name), "stop_all_%u", arg.sizes[s]);
                                figure(name, peer_name(kind), median(v[2], runs), "ms");
                        }
                }
}

/* ---- Figure 5: memory ---- */

typedef struct Memory {
        double rss, pss, anon, rss_status, curl;
} Memory;

/* 1 if pid has libcurl mapped, 0 if not, NaN if unknown. */
static double maps_libcurl(pid_t pid) {
        _cleanup_free_ char *buf = NULL;
        char path[64];

        snprintf(path, sizeof(path), "/proc/%d/maps", pid);
        if (read_full_file_at(AT_FDCWD, path, 16 << 20, &buf, NULL) < 0)
                return NAN;
        return strstr(buf, "/libcurl") ? 1 : 0;
}

static int measure_memory(PeerKind kind, unsigned n, Memory *ret) {
        _cleanup_free_ char *marker = test_marker_new("bench-memory");
        Spec spec = { .work = WORK_SLEEP, .n = n, .marker = marker };
        Want w = { .n = n };
        Peer p;
        uint64_t t0;
        int r;

        *ret = (Memory) { NAN, NAN, NAN, NAN, NAN };
        procwatch_reset(watch, marker, 0);
        r = peer_start(&p, kind, &spec, &t0);
        if (r < 0)
                goto out;
        r = -ETIMEDOUT;
        if (!procwatch_wait(watch, cond_all_execd, &w, SEC_NS(180)))
                goto out;
        sleep_ms(kind == PEER_SUPERVISORD ? 2000 : 500); /* done with the start */
        ret->rss = (double) proc_field(p.pid, "smaps_rollup", "Rss");
        ret->pss = (double) proc_field(p.pid, "smaps_rollup", "Pss");
        ret->anon = (double) proc_field(p.pid, "smaps_rollup", "Anonymous");
        ret->curl = maps_libcurl(p.pid);
        r = peer_all_running(&p, n);
        if (r < 0)
                goto out;
        sleep_ms(200);
        ret->rss_status = (double) proc_field(p.pid, "smaps_rollup", "Rss");
        (void) peer_stop_all(&p);
        r = peer_wait(&p, SEC_NS(120)) ? 0 : -ETIMEDOUT;
out:
        if (r < 0)
                progress("%s, memory with %u services: %s", peer_name(kind), n, strerror(-r));
        peer_cleanup(&p);
        return r;
}

static void figure_memory(void) {
        Memory m[SIZES_MAX][_PEER_MAX];
        char name[64];

        note("figure 5: memory of the supervisor process with N services running (sleep), from "
             "/proc/PID/smaps_rollup: RSS, PSS and anonymous memory once every service has exec'd, before "
             "any status request; rss_after_status: RSS after one full status request (corralctl status "
             "--json; supervisord: getAllProcessInfo); libcurl_mapped: whether /proc/PID/maps names libcurl "
             "(no unit has a health check); per unit: the slope between the smallest and the largest N "
             "(anon_per_unit: of the anonymous memory alone, a unit's own)");
        for (unsigned s = 0; s < arg.n_sizes; s++)
                for (PeerKind k = 0; k < PEER_LIMIT; k++) {
                        m[s][k] = (Memory) { NAN, NAN, NAN, NAN, NAN };
                        if (!use(k))
                                continue;
                        (void) measure_memory(k, arg.sizes[s], &m[s][k]);
                        progress(
                                "memory %s n=%u: RSS %.0f KiB, PSS %.0f KiB, anon %.0f KiB, RSS after status "
                                "%.0f KiB",
                                peer_name(k), arg.sizes[s], m[s][k].rss, m[s][k].pss, m[s][k].anon, m[s][k].rss_status);
                }
        for (PeerKind k = 0; k < PEER_LIMIT; k++) {
                for (unsigned s = 0; s < arg.n_sizes; s++) {
                        snprintf(name, sizeof(name), "rss_%u", arg.sizes[s]);
                        figure(name, peer_name(k), m[s][k].rss, "KiB");
                        snprintf(name, sizeof(name), "pss_%u", arg.sizes[s]);
                        figure(name, peer_name(k), m[s][k].pss, "KiB");
                        snprintf(name, sizeof(name), "anon_%u", arg.sizes[s]);
                        figure(name, peer_name(k), m[s][k].anon, "KiB");
                        snprintf(name, sizeof(name), "rss_after_status_%u", arg.sizes[s]);
                        figure(name, peer_name(k), m[s][k].rss_status, "KiB");
                        if (k == PEER_CORRAL) {
                                snprintf(name, sizeof(name), "libcurl_mapped_%u", arg.sizes[s]);
                                figure(name, peer_name(k), m[s][k].curl, "(1: mapped)");
                        }
                }
                if (arg.n_sizes < 2)
                        continue;
                unsigned a = 0, b = arg.n_sizes - 1;
                double dn = (double) (arg.sizes[b] - arg.sizes[a]);
                snprintf(name, sizeof(name), "rss_per_unit_%u_%u", arg.sizes[a], arg.sizes[b]);
                figure(name, peer_name(k), (m[b][k].rss - m[a][k].rss) * 1024.0 / dn, "bytes");
                /* a unit's own memory: the file-backed part of the RSS is the
                 * libraries' pages, shared, and how many of them are touched
                 * varies by ±100 KiB from run to run (the kernel's fault-around) */
                snprintf(name, sizeof(name), "anon_per_unit_%u_%u", arg.sizes[a], arg.sizes[b]);
                figure(name, peer_name(k), (m[b][k].anon - m[a][k].anon) * 1024.0 / dn, "bytes");
                snprintf(name, sizeof(name), "pss_per_unit_%u_%u", arg.sizes[a], arg.sizes[b]);
                figure(name, peer_name(k), (m[b][k].pss - m[a][k].pss) * 1024.0 / dn, "bytes");
                snprintf(name, sizeof(name), "rss_after_status_per_unit_%u_%u", arg.sizes[a], arg.sizes[b]);
                figure(name, peer_name(k), (m[b][k].rss_status - m[a][k].rss_status) * 1024.0 / dn, "bytes");
        }
}

/* ---- Figure 3: stop one unit whose tree ignores SIGTERM ---- */

static int measure_tree(PeerKind kind, double *ret_ms) {
        _cleanup_free_ char *marker = test_marker_new("bench-tree");
        Spec spec = { .work = WORK_TREE, .n = arg.tree, .marker = marker };
        Want w = { .n = arg.tree };
        ProcCounts c;
        Peer p;
        uint64_t t0;
        int r;

        *ret_ms = NAN;
        procwatch_reset(watch, marker, 0);
        r = peer_start(&p, kind, &spec, &t0);
        if (r < 0)
                goto out;
        r = -ETIMEDOUT;
        if (!procwatch_wait(watch, cond_started, &w, SEC_NS(120)))
                goto out;
        sleep_ms(300); /* supervisord: RUNNING; everyone: settled */
        t0 = mono_ns();
        r = peer_stop_unit(&p, "tree");
        if (r < 0)
                goto out;
        r = -ETIMEDOUT;
        if (!procwatch_wait(watch, cond_none, NULL, SEC_NS(120)))
                goto out;
        procwatch_counts(watch, &c);
        if (!c.overflow)
                *ret_ms = ms_since(c.last_exit_ns, t0);
        if (kind != PEER_LIMIT)
                (void) peer_stop_all(&p);
        r = peer_wait(&p, SEC_NS(60)) ? 0 : -ETIMEDOUT;
out:
        if (r < 0)
                progress("%s, tree: %s", peer_name(kind), strerror(-r));
        peer_cleanup(&p);
        return r;
}

static void figure_tree(void) {
        double v[_PEER_MAX][16];
        unsigned runs = MIN(arg.tree_runs, 16u);
        char name[64];

        note("figure 3: stop one unit whose tree holds %u processes that ignore SIGTERM, stop timeout 0 "
             "(corral: stop request on the control socket; supervisord: stopProcess over XML-RPC with "
             "stopasgroup, killasgroup, stopwaitsecs = 0; limit: cgroup.kill) -> the last process gone; "
             "median of %u runs",
             arg.tree, runs);
        for (unsigned run = 0; run < runs; run++)
                for (PeerKind k = 0; k < _PEER_MAX; k++) {
                        v[k][run] = NAN;
                        if (use(k))
                                (void) measure_tree(k, &v[k][run]);
                        progress("tree %s run %u: %.1f ms", peer_name(k), run + 1, v[k][run]);
                }
        snprintf(name, sizeof(name), "stop_tree_%u", arg.tree);
        for (PeerKind k = 0; k < _PEER_MAX; k++)
                figure(name, peer_name(k), median(v[k], runs), "ms");
}

/* ---- Figure 4: exit -> restart latency ---- */

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return (x > y) - (x < y);
}

typedef struct RestartResult {
        double p50, p90, p99, max;
        size_t n;
} RestartResult;

static int measure_restart(PeerKind kind, RestartResult *res) {
        _cleanup_free_ char *marker = test_marker_new("bench-restart");
        _cleanup_free_ uint64_t *v = calloc(arg.restarts, sizeof(uint64_t));
        Spec spec = { .work = WORK_RESTART, .n = 1, .marker = marker };
        Want w = { .restarts = arg.restarts };
        Peer p;
        uint64_t t0;
        size_t n;
        int r;

        *res = (RestartResult) { NAN, NAN, NAN, NAN, 0 };
        procwatch_reset(watch, marker, 0);
        r = peer_start(&p, kind, &spec, &t0);
        if (r < 0)
                goto out;
        /* from now on, the exec of a process forked by the supervisor
         * closes the gap that the exit of the previous one opened */
        procwatch_reset(watch, marker, p.pid);
        (void) procwatch_wait(watch, cond_restarts, &w, SEC_NS(arg.restart_budget_s));
        n = procwatch_restarts(watch, v, arg.restarts);
        (void) peer_stop_all(&p);
        r = peer_wait(&p, SEC_NS(60)) ? 0 : -ETIMEDOUT;
        if (n == 0) {
                r = -ENODATA;
                goto out;
        }
        qsort(v, n, sizeof(uint64_t), cmp_u64);
        res->p50 = (double) v[n / 2] / NSEC_PER_MSEC_D;
        res->p90 = (double) v[(size_t) ceil(0.90 * (double) n) - 1] / NSEC_PER_MSEC_D;
        res->p99 = (double) v[(size_t) ceil(0.99 * (double) n) - 1] / NSEC_PER_MSEC_D;
        res->max = (double) v[n - 1] / NSEC_PER_MSEC_D;
        res->n = n;
out:
        if (r < 0)
                progress("%s, restarts: %s", peer_name(kind), strerror(-r));
        peer_cleanup(&p);
        return r;
}

static void figure_restart(void) {
        unsigned runs = MIN(arg.runs, 16u);

        note("figure 4: exit -> restart latency, restart delay 0 (corral: restart = always, restart_delay = 0, "
             "restart_delay_max = 0, start_limit_burst = 5000; supervisord: autorestart, startsecs = 0): from "
             "the exit event of the old main process (sleep 0.005) to the exec event of the new one, both "
             "kernel timestamps of the proc connector; %u restarts per run (at most %u s), percentiles per "
             "run, medians of %u runs (supervisord: 1 run, see restarts)",
             arg.restarts, arg.restart_budget_s, runs);
        for (PeerKind k = 0; k < PEER_LIMIT; k++) {
                RestartResult res[16];
                double v[4][16], n[16];
                unsigned k_runs = k == PEER_SUPERVISORD ? 1 : runs;

                if (!use(k))
                        continue;
                for (unsigned run = 0; run < k_runs; run++) {
                        (void) measure_restart(k, &res[run]);
                        progress(
                                "restart %s run %u: %zu restarts, p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max "
                                "%.2f ms",
                                peer_name(k), run + 1, res[run].n, res[run].p50, res[run].p90, res[run].p99,
                                res[run].max);
                        v[0][run] = res[run].p50;
                        v[1][run] = res[run].p90;
                        v[2][run] = res[run].p99;
                        v[3][run] = res[run].max;
                        n[run] = res[run].n > 0 ? (double) res[run].n : NAN;
                }
                figure("restart_p50", peer_name(k), median(v[0], k_runs), "ms");
                figure("restart_p90", peer_name(k), median(v[1], k_runs), "ms");
                figure("restart_p99", peer_name(k), median(v[2], k_runs), "ms");
                figure("restart_max", peer_name(k), median(v[3], k_runs), "ms");
                figure("restarts", peer_name(k), median(n, k_runs), "restarts");
                if (median(n, k_runs) < arg.restarts)
                        note("%s: %.0f restarts within the budget of %u s", peer_name(k), median(n, k_runs),
                             arg.restart_budget_s);
        }
}

/* ---- Figures 6 and 8: idle, and status latency, with many units ---- */

static pid_t strace_attach(pid_t pid, const char *out) {
        const char *strace = getenv("STRACE") ?: "/usr/bin/strace";
        char pidstr[16];

        snprintf(pidstr, sizeof(pidstr), "%d", pid);
        char *argv[] = { (char *) strace, (char *) "-c", (char *) "-f", (char *) "-q", (char *) "-o",
                         (char *) out,    (char *) "-p", pidstr,        NULL };
        return bench_spawn(argv, -1);
}

/* The calls of strace -c's "total" line (0 when strace saw none), and the
 * syscalls it lists, into names. */
static long strace_total(const char *path, char *names, size_t size) {
        _cleanup_free_ char *buf = NULL;
        long total = 0;

        names[0] = '\0';
        if (read_full_file_at(AT_FDCWD, path, 1 << 20, &buf, NULL) < 0)
                return -1;
        for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
                char col[6][64];
                int k = sscanf(line, "%63s %63s %63s %63s %63s %63s", col[0], col[1], col[2], col[3], col[4], col[5]);
                if (k < 5 || !strchr("0123456789", col[0][0]))
                        continue;
                const char *name = col[k - 1];
                if (streq(name, "total"))
                        total = strtol(col[3], NULL, 10);
                else if (strlen(names) + strlen(name) + 16 < size)
                        snprintf(names + strlen(names), size - strlen(names), "%s%s %s", names[0] ? ", " : "", name,
                                 col[3]);
        }
        return total;
}

static void figure_status_latency(Peer *p) {
        double p50, max;
        char name[64];

        status_latency(p, arg.status_calls, false, &p50, &max);
        snprintf(name, sizeof(name), "status_json_p50_%u", arg.idle_units);
        figure(name, "corral", p50, "ms");
        snprintf(name, sizeof(name), "status_json_max_%u", arg.idle_units);
        figure(name, "corral", max, "ms");
}

static int start_and_wait(Peer *p, PeerKind kind, unsigned n, const char *marker) {
        Spec spec = { .work = WORK_SLEEP, .n = n, .marker = marker };
        uint64_t t0;
        double ms;
        int r = peer_start(p, kind, &spec, &t0);

        if (r < 0)
                return r;
        return wait_all_running(p, n, t0, &ms);
}

static void figures_idle(void) {
        _cleanup_free_ char *m1 = test_marker_new("bench-idle"), *m2 = test_marker_new("bench-idle"), *trace = NULL;
        bool with_supervisord = use(PEER_SUPERVISORD);
        Peer c = { .pidfd = -EBADF, .pending_fd = -EBADF }, s = { .pidfd = -EBADF, .pending_fd = -EBADF };
        char names[512];
        int r;

        if (asprintf(&trace, "%s/corral-bench-strace-%d", getenv("BENCH_TMPDIR") ?: "/tmp", getpid()) < 0)
                abort();
        procwatch_reset(watch, NULL, 0);
        r = start_and_wait(&c, PEER_CORRAL, arg.idle_units, m1);
        if (r >= 0 && with_supervisord)
                r = start_and_wait(&s, PEER_SUPERVISORD, arg.idle_units, m2);
        if (r < 0) {
                progress("idle: cannot start: %s", strerror(-r));
                goto out;
        }
        if (want('8')) {
                note("figure 8: corralctl status --json with %u units, wall time of the whole command "
                     "(fork, exec, connect, request, reply of every unit with its statistics, JSON output); "
                     "%u calls",
                     arg.idle_units, arg.status_calls);
                figure_status_latency(&c);
        }
        if (!want('6'))
                goto out;
        sleep_ms(2000);
        pid_t st = strace_attach(c.pid, trace);
        sleep_ms(1000); /* attached */
        long c0 = context_switches(c.pid), s0 = with_supervisord ? context_switches(s.pid) : -1;
        double cpu0 = cpu_ms(c.pid), scpu0 = with_supervisord ? cpu_ms(s.pid) : NAN;
        sleep_ms(arg.idle_s * 1000);
        long c1 = context_switches(c.pid), s1 = with_supervisord ? context_switches(s.pid) : -1;
        double cpu1 = cpu_ms(c.pid), scpu1 = with_supervisord ? cpu_ms(s.pid) : NAN;
        if (st > 0) {
                kill(st, SIGINT); /* our child */
                (void) waitpid(st, NULL, 0);
        }
        long calls = st > 0 ? strace_total(trace, names, sizeof(names)) : -1;
        (void) unlink(trace);

        note("figure 6: %u units running, no health checks, %u s of idleness: context switches "
             "(voluntary + non-voluntary, every thread, /proc/PID/task/*/status) and CPU time; system calls "
             "by strace -c -f -p, attached 1 s before the window and detached after it (so its window is "
             "~1 s longer); supervisord idles alongside with as many programs, not straced%s%s",
             arg.idle_units, arg.idle_s, calls > 0 ? "; strace saw: " : "", calls > 0 ? names : "");
        char name[64];
        snprintf(name, sizeof(name), "idle_wakeups_%us", arg.idle_s);
        figure(name, "corral", (double) (c1 - c0), "switches");
        if (with_supervisord)
                figure(name, "supervisord", (double) (s1 - s0), "switches");
        snprintf(name, sizeof(name), "idle_syscalls_%us", arg.idle_s);
        figure(name, "corral", calls < 0 ? NAN : (double) calls, "calls");
        snprintf(name, sizeof(name), "idle_cpu_%us", arg.idle_s);
        figure(name, "corral", cpu1 - cpu0, "ms");
        if (with_supervisord)
                figure(name, "supervisord", scpu1 - scpu0, "ms");
out:
        if (c.pidfd >= 0) {
                (void) peer_stop_all(&c);
                (void) peer_wait(&c, SEC_NS(60));
        }
        if (s.pidfd >= 0) {
                (void) peer_stop_all(&s);
                (void) peer_wait(&s, SEC_NS(120));
        }
        peer_cleanup(&c);
        peer_cleanup(&s);
}

/* ---- Figure 7: health checks ---- */

/* Sum of health.checks over every unit; -1 when some unit has not passed
 * one yet. */
static long health_checks(Peer *p) {
        json_t *st = test_daemon_request(&p->daemon, "status", NULL, NULL), *u;
        long total = 0;
        size_t i;

        if (!st)
                return -1;
        json_array_foreach(json_object_get(st, "units"), i, u) {
                json_t *h = json_object_get(u, "health");
                if (!json_is_true(json_object_get(h, "ok"))) {
                        total = -1;
                        break;
                }
                total += (long) json_integer_value(json_object_get(h, "checks"));
        }
        json_decref(st);
        return total;
}

static void figure_health(void) {
        _cleanup_free_ char *marker = test_marker_new("bench-health");
        Spec spec = { .work = WORK_HEALTH,
                      .n = arg.health_units,
                      .marker = marker,
                      .health_interval_ms = arg.health_interval_ms };
        uint64_t t0, deadline;
        Peer p;
        long k0, k1;
        int r;

        procwatch_reset(watch, NULL, 0);
        r = peer_start(&p, PEER_CORRAL, &spec, &t0);
        if (r < 0)
                goto out;
        deadline = mono_ns() + SEC_NS(60);
        sleep_ms(500);
        while ((k0 = health_checks(&p)) < 0 && mono_ns() < deadline)
                sleep_ms(200);
        if (k0 < 0) {
                r = -ETIMEDOUT;
                goto out;
        }
        sleep_ms(2000); /* every unit in its rhythm */
        k0 = health_checks(&p);
        double cpu0 = cpu_ms(p.pid);
        t0 = mono_ns();
        sleep_ms(arg.health_s * 1000);
        double cpu1 = cpu_ms(p.pid);
        double secs = (double) (mono_ns() - t0) / 1e9;
        k1 = health_checks(&p);
        if (k1 < 0) {
                progress("health: a unit failed its check during the window");
                k1 = k0;
        }
        double rate = (double) (k1 - k0) / secs;
        note("figure 7: %u demo services (corral-demo-service), health_interval = %u ms (the next check is "
             "armed when the last one ends): CPU time of corrald (utime + stime) over %u s; checks counted "
             "by corrald's status",
             arg.health_units, arg.health_interval_ms, arg.health_s);
        figure("health_checks_per_s", "corral", rate, "checks/s");
        figure("health_cpu", "corral", cpu1 - cpu0, "ms");
        figure("health_cpu_percent", "corral", (cpu1 - cpu0) / (secs * 10.0), "% of a core");
        figure("health_cpu_per_check", "corral", rate > 0 ? (cpu1 - cpu0) * 1000.0 / (rate * secs) : NAN, "µs");
        (void) peer_stop_all(&p);
        r = peer_wait(&p, SEC_NS(60)) ? 0 : -ETIMEDOUT;
out:
        if (r < 0)
                progress("health: %s", strerror(-r));
        peer_cleanup(&p);
}

/* ---- main ---- */

static int parse_sizes(const char *s, unsigned *sizes, unsigned *n_sizes, unsigned max) {
        *n_sizes = 0;
        for (char *end; *s && *n_sizes < max; s = *end ? end + 1 : end) {
                sizes[(*n_sizes)++] = (unsigned) strtoul(s, &end, 10);
                if (end == s)
                        return -EINVAL;
        }
        return *n_sizes > 0 ? 0 : -EINVAL;
}

static void help(void) {
        printf("bench [OPTIONS]\n\n"
               "Runs the benchmark figures (needs root); prints \"name value unit\" lines.\n\n"
               "  --figures LIST        figures to run, e.g. 1235 (default 12345678S; S: figure 11)\n"
               "  --runs N              repetitions of figures 1, 2 and 4 (default 3)\n"
               "  --sizes A,B,C         numbers of services of figures 1, 2, 5 (default 100,500,1000)\n"
               "  --tree N              processes of figure 3 (default 1000)\n"
               "  --tree-runs N         repetitions of figure 3 (default 5)\n"
               "  --restarts N          restarts of figure 4 (default 1000)\n"
               "  --restart-budget S    at most S seconds of restarts per peer (default 60)\n"
               "  --idle-units N        units of figures 6 and 8 (default 1000)\n"
               "  --idle S              seconds of idleness of figure 6 (default 30)\n"
               "  --health-units N      demo services of figure 7 (default 100)\n"
               "  --health-interval MS  their health_interval (default 100)\n"
               "  --health S            seconds of figure 7 (default 30)\n"
               "  --scale-sizes A,B,C   numbers of units of figure 11 (default 100,1000,10000)\n"
               "  --scale-runs N        its repetitions below 10,000 units (default 3)\n"
               "  --scale-large-runs N  its repetitions at 10,000 and more (default 1)\n"
               "  --scale-idle S        its idle window (default 20)\n"
               "  --peers LIST          peers to measure, e.g. corral,limit (default all)\n"
               "  --quick               a smoke run: 1 run, 100 services, 50 restarts, 5 s windows\n");
}

static int parse_args(int argc, char *argv[]) {
        enum {
                O_RUNS = 256,
                O_SIZES,
                O_TREE,
                O_RESTARTS,
                O_BUDGET,
                O_IDLE_UNITS,
                O_IDLE,
                O_HUNITS,
                O_HINT,
                O_HEALTH,
                O_FIGURES,
                O_QUICK,
                O_PEERS,
                O_TREE_RUNS,
                O_SCALE_SIZES,
                O_SCALE_RUNS,
                O_SCALE_LARGE_RUNS,
                O_SCALE_IDLE,
        };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "runs", required_argument, NULL, O_RUNS },
                { "sizes", required_argument, NULL, O_SIZES },
                { "tree", required_argument, NULL, O_TREE },
                { "tree-runs", required_argument, NULL, O_TREE_RUNS },
                { "restarts", required_argument, NULL, O_RESTARTS },
                { "restart-budget", required_argument, NULL, O_BUDGET },
                { "idle-units", required_argument, NULL, O_IDLE_UNITS },
                { "idle", required_argument, NULL, O_IDLE },
                { "health-units", required_argument, NULL, O_HUNITS },
                { "health-interval", required_argument, NULL, O_HINT },
                { "health", required_argument, NULL, O_HEALTH },
                { "figures", required_argument, NULL, O_FIGURES },
                { "quick", no_argument, NULL, O_QUICK },
                { "peers", required_argument, NULL, O_PEERS },
                { "scale-sizes", required_argument, NULL, O_SCALE_SIZES },
                { "scale-runs", required_argument, NULL, O_SCALE_RUNS },
                { "scale-large-runs", required_argument, NULL, O_SCALE_LARGE_RUNS },
                { "scale-idle", required_argument, NULL, O_SCALE_IDLE },
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                unsigned v = optarg ? (unsigned) strtoul(optarg, NULL, 10) : 0;
                switch (c) {
                case 'h':
                        help();
                        exit(0);
                case O_RUNS:
                        arg.runs = MAX(v, 1u);
                        break;
                case O_SIZES:
                        if (parse_sizes(optarg, arg.sizes, &arg.n_sizes, SIZES_MAX) < 0)
                                return -EINVAL;
                        break;
                case O_TREE:
                        arg.tree = MAX(v, 2u);
                        break;
                case O_TREE_RUNS:
                        arg.tree_runs = MAX(v, 1u);
                        break;
                case O_RESTARTS:
                        arg.restarts = MAX(v, 1u);
                        break;
                case O_BUDGET:
                        arg.restart_budget_s = MAX(v, 1u);
                        break;
                case O_IDLE_UNITS:
                        arg.idle_units = MAX(v, 1u);
                        break;
                case O_IDLE:
                        arg.idle_s = MAX(v, 1u);
                        break;
                case O_HUNITS:
                        arg.health_units = MAX(v, 1u);
                        break;
                case O_HINT:
                        arg.health_interval_ms = MAX(v, 10u);
                        break;
                case O_HEALTH:
                        arg.health_s = MAX(v, 1u);
                        break;
                case O_FIGURES:
                        snprintf(arg.figures, sizeof(arg.figures), "%s", optarg);
                        break;
                case O_PEERS:
                        for (PeerKind k = 0; k < _PEER_MAX; k++)
                                bench_peers[k] = strstr(optarg, peer_name(k)) != NULL;
                        break;
                case O_SCALE_SIZES:
                        if (parse_sizes(optarg, arg.scale.sizes, &arg.scale.n_sizes, SCALE_SIZES_MAX) < 0)
                                return -EINVAL;
                        break;
                case O_SCALE_RUNS:
                        arg.scale.runs = MAX(v, 1u);
                        break;
                case O_SCALE_LARGE_RUNS:
                        arg.scale.large_runs = MAX(v, 1u);
                        break;
                case O_SCALE_IDLE:
                        arg.scale.idle_s = MAX(v, 1u);
                        break;
                case O_QUICK:
                        arg.runs = 1;
                        arg.tree_runs = 1;
                        arg.sizes[0] = 100;
                        arg.n_sizes = 1;
                        arg.tree = 200;
                        arg.restarts = 50;
                        arg.restart_budget_s = 20;
                        arg.idle_units = 100;
                        arg.idle_s = 5;
                        arg.health_units = 10;
                        arg.health_s = 5;
                        arg.status_calls = 5;
                        arg.scale.sizes[0] = 100;
                        arg.scale.n_sizes = 1;
                        arg.scale.runs = 1;
                        arg.scale.idle_s = 2;
                        arg.scale.status_calls = 3;
                        break;
                default:
                        return -EINVAL;
                }
        }
        return 0;
}

int main(int argc, char *argv[]) {
        int r;

        if (parse_args(argc, argv) < 0)
                return 2;
        test_require_cgroup2_root();
        /* a marker process that another figure left behind would spoil
         * every count: everything of ours lives below this cgroup */
        if (asprintf(&root_cgroup, "/corral-bench-%d", getpid()) < 0)
                abort();
        _cleanup_free_ char *root_fs = test_cgroup_fs_path(root_cgroup);
        if (mkdir(root_fs, 0755) < 0) {
                fprintf(stderr, "bench: cannot create %s: %m\n", root_fs);
                return 1;
        }
        peer_set_root(root_cgroup);
        r = procwatch_start(&watch);
        if (r < 0) {
                fprintf(stderr, "bench: the proc connector (CONFIG_PROC_EVENTS) is not available: %s\n", strerror(-r));
                (void) rmdir(root_fs);
                return 77;
        }
        for (PeerKind k = 0; k < _PEER_MAX; k++)
                if (!peer_available(k))
                        note("%s is not available here: its figures are n/a", peer_name(k));

        if (want('1') || want('2'))
                figures_start();
        if (want('5'))
                figure_memory();
        if (want('3'))
                figure_tree();
        if (want('4'))
                figure_restart();
        if (want('6') || want('8'))
                figures_idle();
        if (want('7'))
                figure_health();
        if (want('S')) {
                char nofile[32];
                struct rlimit rl;
                if (getrlimit(RLIMIT_NOFILE, &rl) >= 0)
                        snprintf(nofile, sizeof(nofile), "%llu", (unsigned long long) rl.rlim_max);
                else
                        snprintf(nofile, sizeof(nofile), "unknown");
                arg.scale.nofile = nofile;
                figures_scale(&arg.scale);
        }

        procwatch_free(watch);
        r = test_cgroup_destroy(root_cgroup);
        if (r < 0)
                fprintf(stderr, "bench: cannot remove %s: %s\n", root_cgroup, strerror(-r));
        free(root_cgroup);
        return 0;
}
