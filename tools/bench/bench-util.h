/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What every figure of tools/bench/bench shares. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"
#include "peer.h"
#include "procwatch.h"

#define NSEC_PER_MSEC_D 1e6
#define SEC_NS(s) ((uint64_t) (s) *1000000000ULL)

/* The proc connector, started by main(). */
extern ProcWatch *watch;
/* The peers --peers selected. */
extern bool bench_peers[_PEER_MAX];

/* One figure, "name.peer value unit"; nothing for a peer left out with
 * --peers, "n/a" for NaN. */
void figure(const char *name, const char *peer, double value, const char *unit);
/* A "# …" line: what was measured. */
void note(const char *fmt, ...) _printf_(1, 2);
/* A progress line on stderr. */
void progress(const char *fmt, ...) _printf_(1, 2);

int cmp_double(const void *a, const void *b);
/* The median of the values that are not NaN; NaN when there are none. */
double median(const double *v, size_t n);
bool peer_selected(const char *peer);
/* Selected and available. */
bool use(PeerKind k);

typedef struct Want {
        unsigned n;
        size_t restarts;
} Want;

bool cond_started(const ProcCounts *c, void *userdata);
bool cond_all_execd(const ProcCounts *c, void *userdata);
bool cond_none(const ProcCounts *c, void *userdata);
bool cond_restarts(const ProcCounts *c, void *userdata);
/* t - t0 in ms; NaN when t is before t0 (never happened). */
double ms_since(uint64_t t, uint64_t t0);

/* The value of a "Key:   N kB" line of /proc/PID/FILE, in KiB; -1 if none. */
long proc_field(pid_t pid, const char *file, const char *key);
/* Voluntary + non-voluntary context switches of every thread of pid. */
long context_switches(pid_t pid);
/* utime + stime of pid, in ms. */
double cpu_ms(pid_t pid);
void sleep_ms(unsigned ms);

typedef struct StartResult {
        double exec_ms, running_ms, stop_ms;
} StartResult;

/* Polls until the peer reports n services running; *ret_ms since t0. */
int wait_all_running(Peer *p, unsigned n, uint64_t t0, double *ret_ms);

/* Called once every service runs, before the stop (NULL: 200 ms pause). */
typedef void (*StartHook)(Peer *p, void *userdata);

/* Starts n sleep services on peer kind and stops them (ctl: corralctl stop
 * --all, which waits; else SIGTERM to the supervisor / cgroup.kill of
 * every unit by the limit); raw: output = inherit-raw. Times from the proc
 * connector: launch -> the nth exec, -> all running (status), stop -> the
 * last exit (ctl: or the command's return, whichever is later). */
int measure_start(PeerKind kind, unsigned n, bool ctl, bool raw, StartHook hook, void *userdata, StartResult *res);

/* Wall time of `corralctl status --json` (no_stats: with --no-stats) of
 * every unit of corral peer p, calls times: the median and the slowest. */
void status_latency(Peer *p, unsigned calls, bool no_stats, double *ret_p50, double *ret_max);
