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

typedef struct OnceArgs {
        const ScaleOptions *o;
        ScaleOnce *one;
} OnceArgs;

/* In the first run, between start and stop: memory, descriptors, status
 * and idleness. */
static void scale_once(Peer *p, void *userdata) {
        OnceArgs *a = userdata;
        ScaleOnce *one = a->one;

        sleep_ms(1000); /* done with the start */
        one->rss = (double) proc_field(p->pid, "smaps_rollup", "Rss");
        one->anon = (double) proc_field(p->pid, "smaps_rollup", "Anonymous");
        one->fds = (double) count_fds(p->pid);
        status_latency(p, a->o->status_calls, &one->status_p50, &one->status_max);
        sleep_ms(1000);
        long c0 = context_switches(p->pid);
        double cpu0 = cpu_ms(p->pid);
        sleep_ms(a->o->idle_s * 1000);
        one->wakeups = (double) (context_switches(p->pid) - c0);
        one->cpu = cpu_ms(p->pid) - cpu0;
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
                        ScaleRun *cr = &res[s][0][run], *l = &res[s][1][run];
                        *cr = *l = (ScaleRun) { NAN, NAN };
                        OnceArgs once = { .o = o, .one = &one[s] };
                        StartResult sr;
                        if (use(PEER_LIMIT) && measure_start(PEER_LIMIT, n, false, true, NULL, NULL, &sr) >= 0)
                                *l = (ScaleRun) { sr.exec_ms, sr.stop_ms };
                        if (use(PEER_CORRAL) &&
                            measure_start(PEER_CORRAL, n, true, true, run == 0 ? scale_once : NULL, &once, &sr) >= 0)
                                *cr = (ScaleRun) { sr.exec_ms, sr.stop_ms };
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
