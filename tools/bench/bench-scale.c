/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Figure 11 of tools/bench/bench: how corral's costs grow with the number
 * of units, up to 10,000, against the limit. For each N: the start (launch
 * -> the Nth exec) and the stop by `corralctl stop --all` (-> the last
 * exit, or the command's return if later) against bench-limit's start and
 * cgroup.kill; in the first run also corrald's memory and descriptors once
 * every unit has exec'd, the wall time of `corralctl status --json` of
 * every unit (also with --no-stats) against the limit's reads of the same
 * statistics, and context switches and CPU time over an idle window.
 *
 * The units' output is `inherit-raw` (no pipes, as the limit's children
 * and supervisord's stdout_logfile = NONE): a captured unit holds two pipe
 * read ends in corrald, and these machines' hard limit of 20,000 open
 * files (which root cannot raise here: no CAP_SYS_RESOURCE) does not hold
 * 10,000 of them. */
#include "bench-scale.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench-util.h"
#include "fileio.h"
#include "macro.h"
#include "peer.h"
#include "procwatch.h"
#include "test-util.h"

typedef struct ScaleRun {
        double start_ms, stop_ms;
} ScaleRun;

typedef struct ScaleOnce {
        double rss, anon, fds, status_p50, status_max, nostats_p50, floor_p50, floor_max, wakeups, cpu;
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

/* The unit cgroups of corrald's subtree: every directory in it but its own
 * leaf (cgroup.h's CGROUP_SUPERVISOR). */
static size_t unit_cgroups(const char *fs, char ***ret) {
        char **names = NULL;
        size_t n = 0;
        DIR *d = opendir(fs);

        *ret = NULL;
        if (!d)
                return 0;
        for (struct dirent *de; (de = readdir(d));) {
                if (de->d_type != DT_DIR || de->d_name[0] == '.' || streq(de->d_name, "supervisor"))
                        continue;
                if (!ARRAY_GROW(names, n) || !(names[n] = strdup(de->d_name)))
                        abort();
                n++;
        }
        closedir(d);
        *ret = names;
        return n;
}

/* The limit of one `status` of every unit: the reads that corrald makes
 * for each (unit_status_get_stats) and nothing else, from here, on
 * corrald's own unit cgroups — open the cgroup's directory, cpu.stat,
 * cgroup.procs, memory.current if the hierarchy has it (corrald stops
 * asking after one miss), /proc/PID/statm of each process listed (its
 * memory without a memory controller), close. No request, no JSON, no
 * process started; cgroup.events is left out as corrald caches it. calls
 * times: the median and the slowest. */
static void status_floor(Peer *p, unsigned calls, double *ret_p50, double *ret_max) {
        _cleanup_free_ char *fs = test_cgroup_fs_path(p->daemon.cgroup);
        _cleanup_close_ int root = open(fs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        static char procs[65536];
        char **names, buf[1024], path[64];
        size_t n = unit_cgroups(fs, &names), tasks = 0;
        double v[256];
        unsigned k = MIN(calls, (unsigned) ELEMENTSOF(v));
        bool memory = n > 0 && snprintf(path, sizeof(path), "%s/memory.current", names[0]) > 0 &&
                      faccessat(root, path, F_OK, 0) >= 0;

        for (unsigned c = 0; c < k; c++) {
                unsigned long long usec, bytes, total = 0;
                uint64_t t0 = mono_ns();
                tasks = 0;
                for (size_t i = 0; i < n; i++) {
                        _cleanup_close_ int fd = openat(root, names[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        if (fd < 0)
                                continue;
                        if (read_small_file_at(fd, "cpu.stat", buf, sizeof(buf), 0, NULL) >= 0 &&
                            sscanf(buf, "usage_usec %llu", &usec) == 1)
                                total += usec;
                        if (memory && read_small_file_at(fd, "memory.current", buf, sizeof(buf), 0, NULL) >= 0)
                                total += strtoull(buf, NULL, 10);
                        if (read_small_file_at(fd, "cgroup.procs", procs, sizeof(procs), 0, NULL) < 0)
                                continue;
                        for (char *q = procs, *end;; q = end) {
                                long pid = strtol(q, &end, 10);
                                if (end == q)
                                        break;
                                tasks++;
                                snprintf(path, sizeof(path), "/proc/%ld/statm", pid);
                                if (read_small_file_at(AT_FDCWD, path, buf, sizeof(buf), 0, NULL) >= 0 &&
                                    sscanf(buf, "%*u %llu", &bytes) == 1)
                                        total += bytes;
                        }
                }
                v[c] = ms_since(mono_ns(), t0);
                (void) total; /* read as corrald does, not shown */
        }
        progress("status limit: %zu unit cgroups, %zu processes, memory.current %s", n, tasks,
                 memory ? "read" : "absent");
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        qsort(v, k, sizeof(double), cmp_double);
        *ret_p50 = n > 0 ? median(v, k) : NAN;
        *ret_max = n > 0 && k > 0 ? v[k - 1] : NAN;
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
        status_latency(p, a->o->status_calls, false, &one->status_p50, &one->status_max);
        status_floor(p, a->o->status_calls, &one->floor_p50, &one->floor_max);
        double nostats_max;
        status_latency(p, a->o->status_calls, true, &one->nostats_p50, &nostats_max);
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
             "time, %u calls; status_nostats: with --no-stats), context switches and CPU time over %u s idle",
             o->status_calls, o->idle_s);
        note("status, limit: the reads corrald makes for the statistics of every unit, made by the bench itself on "
             "corrald's unit cgroups, %u times: open the cgroup's directory, cpu.stat, cgroup.procs, "
             "memory.current where the hierarchy has one, /proc/PID/statm of each process listed, close "
             "(no request, no JSON, no corralctl)",
             o->status_calls);
        note("output = inherit-raw (no pipes, like the limit's children): a captured unit holds two pipe read "
             "ends, and this machine's hard limit of open files (%s) may not hold 10,000 of them; medians of %u "
             "runs below 10,000 units, %u at 10,000 and more",
             o->nofile, o->runs, o->large_runs);
        for (unsigned s = 0; s < o->n_sizes; s++) {
                unsigned n = o->sizes[s], runs = MIN(n >= 10000 ? o->large_runs : o->runs, 16u);
                one[s] = (ScaleOnce) { NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN };
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
                        const char *name, *peer, *unit;
                        size_t offset;
                } once_figures[] = {
                        { "scale_rss", "corral", "KiB", offsetof(ScaleOnce, rss) },
                        { "scale_anon", "corral", "KiB", offsetof(ScaleOnce, anon) },
                        { "scale_fds", "corral", "fds", offsetof(ScaleOnce, fds) },
                        { "scale_status_p50", "corral", "ms", offsetof(ScaleOnce, status_p50) },
                        { "scale_status_p50", "limit", "ms", offsetof(ScaleOnce, floor_p50) },
                        { "scale_status_max", "corral", "ms", offsetof(ScaleOnce, status_max) },
                        { "scale_status_max", "limit", "ms", offsetof(ScaleOnce, floor_max) },
                        { "scale_status_nostats_p50", "corral", "ms", offsetof(ScaleOnce, nostats_p50) },
                        { "scale_idle_wakeups", "corral", "switches", offsetof(ScaleOnce, wakeups) },
                        { "scale_idle_cpu", "corral", "ms", offsetof(ScaleOnce, cpu) },
                };
                for (size_t i = 0; i < ELEMENTSOF(once_figures); i++) {
                        char name[64];
                        snprintf(name, sizeof(name), "%s_%u", once_figures[i].name, n);
                        figure(name, once_figures[i].peer,
                               *(const double *) ((const char *) &one[s] + once_figures[i].offset),
                               once_figures[i].unit);
                }
        }
}
