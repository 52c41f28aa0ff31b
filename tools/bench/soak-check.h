/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The checks of the soak (soak.c) and its figures: processes that carry
 * the soak's marker (CORRAL_TEST_MARKER=<marker> in /proc/PID/environ)
 * and where they are (/proc/PID/cgroup), cgroups below corrald's
 * subtree against the units it reports, corrald's RSS and descriptors. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "corral/corral.h"
#include "soak.h"

/* The cgroup path of this process (the "0::" line). Caller frees. */
int cgroup_own(char **ret);

/* Marker processes outside units_cgroup's units (elsewhere, or in its
 * "supervisor" cgroup, corrald's own), each counted once per run; says
 * which on stderr. */
unsigned check_escapes(const char *marker, const char *units_cgroup);

/* Marker processes in the cgroup of a unit that c reports inactive,
 * failed or exited, or of no unit c reports — seen twice, 2 s apart. */
unsigned check_strays(corral *c, const char *marker, const char *units_cgroup);

/* Cgroups below units_cgroup (but its "supervisor") that belong to no unit
 * c reports — seen twice, 2 s apart. */
unsigned check_leaks(corral *c, const char *units_cgroup);

/* Marker processes alive anywhere (after corrald's shutdown), after up
 * to 5 s for the last ones to go. */
unsigned check_marker_anywhere(const char *marker);

/* Removes the subtree units_cgroup (when it is still there) from the
 * bottom up; returns how many of its cgroups could not be removed
 * (populated ones). */
unsigned check_subtree_removable(const char *units_cgroup);

/* One look at corrald. */
typedef struct Sample {
        unsigned incarnation;
        double t; /* seconds since the soak began */
        unsigned units;
        unsigned long rss_kb, anon_kb;
        unsigned fds;
        double value; /* the series' own figure */
} Sample;

void sample_daemon(pid_t pid, Sample *s);

typedef struct Series {
        Sample v[512];
        unsigned n;
} Series;

void series_add(Series *s, Sample x, double value);

typedef struct Report {
        uint64_t seed;
        unsigned minutes, units;
        const unsigned *ops_done, *ops_failed;
        const char (*first_error)[160];
        const char *const *op_names;
        unsigned n_ops;
        unsigned reload_added, reload_removed, reload_changed, reload_scaled, job_eagain;
        unsigned incarnations, adopted, leftover_stopped, main_gone, changed_away;
        const SoakCounters *counters;
        unsigned duplicates, escapes, left_after_shutdown, strays, leaks, subtree_leaks, settles, unsettled,
                start_again;
        int shutdown_status;
        const Series *rss, *anon, *fds;
} Report;

/* Prints the figures on stdout; returns whether RSS, Anonymous and fds
 * are flat. */
bool report(const Report *r);
