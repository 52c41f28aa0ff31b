/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What every figure of tools/bench/bench shares: the output lines, medians,
 * conditions on the proc connector's counts, /proc readers. */
#include "bench-util.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"

ProcWatch *watch;
bool bench_peers[_PEER_MAX] = { true, true, true };

/* ---- Output ---- */

/* One figure; nothing for a peer left out with --peers, "n/a" for one that
 * could not be measured. */
void figure(const char *name, const char *peer, double value, const char *unit) {
        if (!peer_selected(peer))
                return;
        if (isnan(value))
                printf("%s.%s n/a %s\n", name, peer, unit);
        else
                printf("%s.%s %.*f %s\n", name, peer, fabs(value) >= 100 || value == floor(value) ? 0 : 1, value, unit);
        fflush(stdout);
}

void note(const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        fputs("# ", stdout);
        vprintf(fmt, ap);
        putchar('\n');
        va_end(ap);
        fflush(stdout);
}

void progress(const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        fputs("bench: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
}

int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return (x > y) - (x < y);
}

/* The median of the values that are not NaN; NaN when there are none. */
double median(const double *v, size_t n) {
        double w[64];
        size_t k = 0;

        for (size_t i = 0; i < n && k < ELEMENTSOF(w); i++)
                if (!isnan(v[i]))
                        w[k++] = v[i];
        if (k == 0)
                return NAN;
        qsort(w, k, sizeof(double), cmp_double);
        return k % 2 ? w[k / 2] : (w[k / 2 - 1] + w[k / 2]) / 2;
}

bool peer_selected(const char *peer) {
        for (PeerKind k = 0; k < _PEER_MAX; k++)
                if (streq(peer, peer_name(k)))
                        return bench_peers[k];
        return true;
}

bool use(PeerKind k) {
        return bench_peers[k] && peer_available(k);
}

/* ---- Conditions on the proc connector's counts ---- */

bool cond_started(const ProcCounts *c, void *userdata) {
        const Want *w = userdata;
        return c->alive >= w->n && c->execs >= MIN(w->n, 1u);
}

bool cond_all_execd(const ProcCounts *c, void *userdata) {
        const Want *w = userdata;
        return c->execs >= w->n;
}

bool cond_none(const ProcCounts *c, void *userdata) {
        return c->alive == 0;
}

bool cond_restarts(const ProcCounts *c, void *userdata) {
        const Want *w = userdata;
        return c->restarts >= w->restarts;
}

double ms_since(uint64_t t, uint64_t t0) {
        return t >= t0 ? (double) (t - t0) / NSEC_PER_MSEC_D : NAN;
}

/* ---- /proc readers ---- */

/* The value of a "Key:   N kB" line of a /proc file, in KiB; -1 if none. */
long proc_field(pid_t pid, const char *file, const char *key) {
        _cleanup_free_ char *buf = NULL;
        char path[64];
        size_t len = strlen(key);

        snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
        if (read_full_file_at(AT_FDCWD, path, 1 << 20, &buf, NULL) < 0)
                return -1;
        for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
                if (strneq(line, key, len) && line[len] == ':')
                        return strtol(line + len + 1, NULL, 10);
        return -1;
}

/* Voluntary + non-voluntary context switches of every thread of pid. */
long context_switches(pid_t pid) {
        char path[64];
        long total = 0;

        snprintf(path, sizeof(path), "/proc/%d/task", pid);
        DIR *d = opendir(path);
        if (!d)
                return -1;
        for (struct dirent *de; (de = readdir(d));) {
                if (de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *file = NULL;
                if (asprintf(&file, "task/%s/status", de->d_name) < 0)
                        abort();
                total += MAX(proc_field(pid, file, "voluntary_ctxt_switches"), 0) +
                         MAX(proc_field(pid, file, "nonvoluntary_ctxt_switches"), 0);
        }
        closedir(d);
        return total;
}

/* utime + stime of pid (every thread, also those gone), in ms. */
double cpu_ms(pid_t pid) {
        _cleanup_free_ char *buf = NULL;
        char path[64];
        unsigned long long utime, stime;

        snprintf(path, sizeof(path), "/proc/%d/stat", pid);
        if (read_full_file_at(AT_FDCWD, path, 4096, &buf, NULL) < 0)
                return NAN;
        const char *p = strrchr(buf, ')');
        /* after "(comm)": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
        if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
                return NAN;
        return (double) (utime + stime) * 1000.0 / (double) sysconf(_SC_CLK_TCK);
}

void sleep_ms(unsigned ms) {
        usleep(ms * 1000);
}

int wait_all_running(Peer *p, unsigned n, uint64_t t0, double *ret_ms) {
        uint64_t deadline = mono_ns() + SEC_NS(180);

        for (;;) {
                int r = peer_all_running(p, n);
                if (r < 0)
                        return r;
                if (r > 0) {
                        *ret_ms = ms_since(mono_ns(), t0);
                        return 0;
                }
                if (mono_ns() > deadline)
                        return -ETIMEDOUT;
                sleep_ms(2);
        }
}

int measure_start(PeerKind kind, unsigned n, bool ctl, bool raw, StartHook hook, void *userdata, StartResult *res) {
        _cleanup_free_ char *marker = test_marker_new("bench-start");
        Spec spec = { .work = WORK_SLEEP, .n = n, .marker = marker, .raw_output = raw };
        Want w = { .n = n };
        ProcCounts c;
        Peer p;
        uint64_t t0;
        int r;

        *res = (StartResult) { NAN, NAN, NAN };
        procwatch_reset(watch, marker, 0);
        r = peer_start(&p, kind, &spec, &t0);
        if (r < 0)
                goto out;
        r = -ETIMEDOUT;
        if (!procwatch_wait(watch, cond_all_execd, &w, SEC_NS(180)))
                goto out;
        procwatch_counts(watch, &c);
        res->exec_ms = ms_since(c.last_exec_ns, t0);
        if (kind != PEER_LIMIT && (r = wait_all_running(&p, n, t0, &res->running_ms)) < 0)
                goto out;
        if (hook)
                hook(&p, userdata);
        else
                sleep_ms(200);

        uint64_t t1 = mono_ns(), done = 0;
        r = ctl ? peer_ctl_stop_all(&p, &done) : peer_stop_all(&p);
        if (r < 0)
                goto out;
        r = -ETIMEDOUT;
        if (!procwatch_wait(watch, cond_none, NULL, SEC_NS(180)))
                goto out;
        procwatch_counts(watch, &c);
        /* corralctl stop returns when the units are gone: whichever is later */
        res->stop_ms = ms_since(MAX(c.last_exit_ns, done), t1);
        if (ctl) { /* where the time goes: the processes' end, and corrald's part after it */
                progress("corralctl stop: last exit at %.1f ms, corralctl returned at %.1f ms",
                         ms_since(c.last_exit_ns, t1), ms_since(done, t1));
                (void) peer_stop_all(&p);
        }
        r = peer_wait(&p, SEC_NS(60)) ? 0 : -ETIMEDOUT;
        if (c.overflow) {
                progress("the proc connector lost events: figures void");
                *res = (StartResult) { NAN, NAN, NAN };
        }
out:
        if (r < 0)
                progress("%s, %u services: %s", peer_name(kind), n, strerror(-r));
        peer_cleanup(&p);
        return r;
}

void status_latency(Peer *p, unsigned calls, bool no_stats, double *ret_p50, double *ret_max) {
        char *argv[] = { (char *) peer_corralctl(),
                         (char *) "--socket",
                         p->daemon.socket,
                         (char *) "status",
                         (char *) "--json",
                         no_stats ? (char *) "--no-stats" : NULL,
                         NULL };
        double v[256];
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
