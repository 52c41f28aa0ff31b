/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Figure 11: corral's costs against N, up to 10,000 units. */

#define SCALE_SIZES_MAX 8

typedef struct ScaleOptions {
        unsigned sizes[SCALE_SIZES_MAX];
        unsigned n_sizes;
        unsigned runs;         /* below 10,000 units */
        unsigned large_runs;   /* at 10,000 and more */
        unsigned status_calls; /* corralctl status --json, per N */
        unsigned idle_s;       /* the idle window, per N */
        const char *nofile;    /* the hard RLIMIT_NOFILE, for the note */
} ScaleOptions;

void figures_scale(const ScaleOptions *o);
