/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Figure 11 of tools/bench/bench: how corral's costs grow with the number
 * of units, up to 10,000, against the limit. For each N: the start (launch
 * -> the Nth exec) and the stop by `corralctl stop --all` (-> the last
 * exit, or the command's return if later) against bench-limit's start and
 * cgroup.kill; in the first run also corrald's memory and descriptors once
 * every unit has exec'd, the wall time of `corralctl status --json` of
 * every unit, and context switches and CPU time over an idle window.
 *
 * The units' output is `inherit-raw` (no pipes, as the limit's children
 * and supervisord's stdout_logfile = NONE): a captured unit holds two pipe
 * read ends in corrald, and these machines' hard limit of 20,000 open
 * files (which root cannot raise here: no CAP_SYS_RESOURCE) does not hold
 * 10,000 of them. */
#include "bench-scale.h"

#include <errno.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench-util.h"
#include "macro.h"
#include "peer.h"
#include "procwatch.h"
#include "test-util.h"

typedef struct ScaleRun {
        double start_ms, stop_ms;
} ScaleRun;

typedef struct ScaleOnce {
        double rss, anon, fds, status_p50, status_max, wakeups, cpu;
} ScaleOnce;

static long count_fds(pid_t pid) {
        char path[64];
        long n = 0;
        DIR *d;

        snprintf(path, sizeof(path), "/proc/%d/fd", pid);
        d = opendir(path);
        if (!d)
                return -1;
        for (struct dirent *de; (de = readdir(d));)
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n - 1; /* opendir's own */
}

/* Wall time of `corralctl status --json` of every unit, calls times. */
static void status_latency(Peer *p, unsigned calls, double *ret_p50, double *ret_max) {
        char *argv[] = { (char *) peer_corralctl(), (char *) "--socket", p->daemon.socket,
                         (char *) "status",         (char *) "--json",   NULL };
        double v[64];
        unsigned n = MIN(calls, (unsigned) ELEMENTSOF(v));

        for (unsigned i = 0; i < n; i++) {
                int status;
                uint64_t t0 = mono_ns();
                pid_t pid = bench_spawn(argv, -1);
                if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        v[i] = NAN;
                else
                        v[i] = ms_since(mono_ns(), t0);
        }
        qsort(v, n, sizeof(double), cmp_double);
        *ret_p50 = median(v, n);
        *ret_max = n > 0 ? v[n - 1] : NAN;
}

/* One corrald with n units: the start, then (once) memory, descriptors,
 * status and idleness, then the stop by corralctl stop --all. */
static int scale_corral(unsigned n, const ScaleOptions *o, bool once, ScaleRun *run, ScaleOnce *one) {
        _cleanup_free_ char *marker = test_marker_new("bench-scale");
        Spec spec = { .work = WORK_SLEEP, .n = n, .marker = marker, .raw_output = true };
        Want w = { .n = n };
        ProcCounts c;
        Peer p;
        uint64_t t0, t1, done = 0;
        int r;

        procwatch_reset(watch, marker, 0);
        r = peer_start(&p, PEER_CORRAL, &spec, &t0);
        if (r < 0)
                goto out;
        r = -ETIMEDOUT;
        if (!procwatch_wait(watch, cond_all_execd, &w, SEC_NS(300)))
                goto out;
        procwatch_counts(watch, &c);
        run->start_ms = ms_since(c.last_exec_ns, t0);
        double ms;
        r = wait_all_running(&p, n, t0, &ms);
        if (r < 0)
                goto out;
        if (once) {
                sleep_ms(1000); /* done with the start */
                one->rss = (double) proc_field(p.pid, "smaps_rollup", "Rss");
                one->anon = (double) proc_field(p.pid, "smaps_rollup", "Anonymous");
                one->fds = (double) count_fds(p.pid);
                status_latency(&p, o->status_calls, &one->status_p50, &one->status_max);
                sleep_ms(1000);
                long c0 = context_switches(p.pid);
                double cpu0 = cpu_ms(p.pid);
                sleep_ms(o->idle_s * 1000);
                one->wakeups = (double) (context_switches(p.pid) - c0);
                one->cpu = cpu_ms(p.pid) - cpu0;
        } else
                sleep_ms(200);

        t1 = mono_ns();
        r = peer_ctl_stop_all(&p, &done);
        if (r < 0)
                goto out;
        r = -ETIMEDOUT;
        if (!procwatch_wait(watch, cond_none, NULL, SEC_NS(180)))
                goto out;
        procwatch_counts(watch, &c);
        run->stop_ms = c.overflow ? NAN : ms_since(MAX(c.last_exit_ns, done), t1);
        if (c.overflow)
                run->start_ms = NAN;
        (void) peer_stop_all(&p);
        r = peer_wait(&p, SEC_NS(120)) ? 0 : -ETIMEDOUT;
out:
        if (r < 0)
                progress("scale: corral, %u units: %s", n, strerror(-r));
        peer_cleanup(&p);
        return r;
}

void figures_scale(const ScaleOptions *o) {
        static ScaleRun res[SCALE_SIZES_MAX][2][16];
        static ScaleOnce one[SCALE_SIZES_MAX];

        note("figure 11: how the cost grows with N sleep services, corral against the limit: start (launch -> "
             "the Nth exec), stop (corral: corralctl stop --all -> the later of its return and the last exit; "
             "limit: cgroup.kill of every unit -> the last exit); corrald once every unit has exec'd: RSS and "
             "anonymous memory (smaps_rollup), open descriptors, `corralctl status --json` of every unit (wall "
             "time, %u calls), context switches and CPU time over %u s idle",
             o->status_calls, o->idle_s);
        note("output = inherit-raw (no pipes, like the limit's children): a captured unit holds two pipe read "
             "ends, and this machine's hard limit of open files (%s) may not hold 10,000 of them; medians of %u "
             "runs below 10,000 units, %u at 10,000 and more",
             o->nofile, o->runs, o->large_runs);
        for (unsigned s = 0; s < o->n_sizes; s++) {
                unsigned n = o->sizes[s], runs = MIN(n >= 10000 ? o->large_runs : o->runs, 16u);
                one[s] = (ScaleOnce) { NAN, NAN, NAN, NAN, NAN, NAN, NAN };
                for (unsigned run = 0; run < runs; run++) {
                        StartResult lr;
                        ScaleRun *cr = &res[s][0][run], *l = &res[s][1][run];
                        *cr = *l = (ScaleRun) { NAN, NAN };
                        if (use(PEER_LIMIT) && measure_start(PEER_LIMIT, n, false, true, &lr) >= 0)
                                *l = (ScaleRun) { lr.exec_ms, lr.stop_ms };
                        if (use(PEER_CORRAL))
                                (void) scale_corral(n, o, run == 0, cr, &one[s]);
                        progress(
                                "scale n=%u run %u: corral start %.1f ms, stop %.1f ms; limit start %.1f ms, stop "
                                "%.1f ms",
                                n, run + 1, cr->start_ms, cr->stop_ms, l->start_ms, l->stop_ms);
                }
                for (unsigned k = 0; k < 2; k++) {
                        double v[2][16];
                        char name[64];
                        const char *peer = k == 0 ? "corral" : "limit";
                        for (unsigned run = 0; run < runs; run++) {
                                v[0][run] = res[s][k][run].start_ms;
                                v[1][run] = res[s][k][run].stop_ms;
                        }
                        snprintf(name, sizeof(name), "scale_start_%u", n);
                        figure(name, peer, median(v[0], runs), "ms");
                        snprintf(name, sizeof(name), "scale_stop_%u", n);
                        figure(name, peer, median(v[1], runs), "ms");
                }
                static const struct {
                        const char *name, *unit;
                        size_t offset;
                } once_figures[] = {
                        { "scale_rss", "KiB", offsetof(ScaleOnce, rss) },
                        { "scale_anon", "KiB", offsetof(ScaleOnce, anon) },
                        { "scale_fds", "fds", offsetof(ScaleOnce, fds) },
                        { "scale_status_p50", "ms", offsetof(ScaleOnce, status_p50) },
                        { "scale_status_max", "ms", offsetof(ScaleOnce, status_max) },
                        { "scale_idle_wakeups", "switches", offsetof(ScaleOnce, wakeups) },
                        { "scale_idle_cpu", "ms", offsetof(ScaleOnce, cpu) },
                };
                for (size_t i = 0; i < ELEMENTSOF(once_figures); i++) {
                        char name[64];
                        snprintf(name, sizeof(name), "%s_%u", once_figures[i].name, n);
                        figure(name, "corral", *(const double *) ((const char *) &one[s] + once_figures[i].offset),
                               once_figures[i].unit);
                }
        }
}
