/* SPDX-License-Identifier: GPL-2.0-or-later */
/* corralctl top: a live view of every unit, redrawn when a unit changes
 * state (an event stream on a second connection) and every --interval for
 * the statistics, as systemd-cgtop and pm2 monit do. On a terminal each
 * frame replaces the last; piped, frames follow each other, separated by
 * a blank line (like top -b). */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format.h"
#include "macro.h"
#include "output.h"
#include "verbs.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(corral_units *, corral_units_free);

#define ANSI_HOME_CLEAR "\x1b[H\x1b[2J"
#define TOP_MIN_SAMPLE_USEC (200U * 1000U) /* CPU% over less than this is noise: keep the last figure */

/* What the last frame saw of a unit, for its CPU share. */
typedef struct Sample {
        char *name;
        uint64_t cpu_usec;
        uint64_t at_usec;
        char percent[16];
} Sample;

typedef struct Top {
        Sample *samples;
        size_t n_samples;
        unsigned frames;
} Top;

static void top_done(Top *t) {
        for (size_t i = 0; i < t->n_samples; i++)
                free(t->samples[i].name);
        free(t->samples);
}

static uint64_t now_monotonic_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000U + (uint64_t) ts.tv_nsec / 1000U;
}

static const Sample *sample_find(const Top *t, const char *name) {
        for (size_t i = 0; i < t->n_samples; i++)
                if (streq_ptr(t->samples[i].name, name))
                        return &t->samples[i];
        return NULL;
}

/* The CPU share of u since the last frame that measured it. */
static void cpu_share(const Top *t, const corral_unit *u, uint64_t now, Sample *ret) {
        const Sample *old = sample_find(t, corral_unit_name(u));

        ret->cpu_usec = corral_unit_cpu_usec(u);
        ret->at_usec = now;
        if (old && now - old->at_usec < TOP_MIN_SAMPLE_USEC) {
                *ret = *old; /* too soon after the last one */
                ret->name = NULL;
                return;
        }
        if (old)
                format_cpu_percent(ret->percent, sizeof(ret->percent), old->cpu_usec, ret->cpu_usec,
                                   now - old->at_usec);
        else
                snprintf(ret->percent, sizeof(ret->percent), "-");
}

static void print_header(const corral_unit *const *l, size_t n, const Args *a) {
        unsigned running = 0, failed = 0, unhealthy = 0;
        char interval[FORMAT_DURATION_MAX];

        for (size_t i = 0; i < n; i++) {
                running += streq_ptr(corral_unit_state(l[i]), "running");
                failed += streq_ptr(corral_unit_state(l[i]), "failed");
                unhealthy += corral_unit_health_ok(l[i]) == 0;
        }
        printf("corral: %zu units, %u running, %u failed, %u unhealthy; every %s%s\n", n, running, failed, unhealthy,
               format_duration(interval, sizeof(interval), a->interval), output_tty() ? ", Ctrl-C quits" : "");
        printf("%-24s %-20s %7s %8s %6s %-12s %s\n", "UNIT", "STATE", "CPU%", "MEM", "TASKS", "HEALTH", "RESTARTS");
}

/* Draws one frame from a fresh status, and keeps its samples. */
static int top_frame(Top *t, corral *c, const Args *a) {
        _cleanup_(corral_units_freep) corral_units *units = NULL;
        _cleanup_free_ const corral_unit **l = NULL;
        uint64_t now = now_monotonic_usec();
        Sample *samples;
        size_t n = 0;
        int r = corral_status(c, /* names= */ NULL, &units);

        if (r < 0)
                return r;
        l = units_select(units, a, /* sort= */ true, &n);
        samples = calloc(MAX(n, (size_t) 1), sizeof(Sample));
        if (!l || !samples) {
                free(samples);
                return -ENOMEM;
        }
        fputs(output_tty() ? ANSI_HOME_CLEAR : t->frames > 0 ? "\n" : "", stdout);
        print_header(l, n, a);
        for (size_t i = 0; i < n; i++) {
                char mem[32], health[32], state[48], tasks[24] = "-";

                cpu_share(t, l[i], now, &samples[i]);
                samples[i].name = strdup(corral_unit_name(l[i]));
                snprintf(state, sizeof(state), "%s%s", corral_unit_state(l[i]) ?: "?",
                         corral_unit_frozen(l[i]) ? " (frozen)" : "");
                if (corral_unit_tasks(l[i]) != UINT64_MAX)
                        snprintf(tasks, sizeof(tasks), "%" PRIu64, corral_unit_tasks(l[i]));
                printf("%-24s %-20s %7s %8s %6s %-12s %" PRIu64 "\n", corral_unit_name(l[i]), state, samples[i].percent,
                       format_bytes(mem, sizeof(mem), corral_unit_memory_bytes(l[i])), tasks,
                       format_health_short(health, sizeof(health), l[i]), corral_unit_restarts(l[i]));
        }
        fflush(stdout);
        top_done(t);
        t->samples = samples;
        t->n_samples = n;
        t->frames++;
        return 0;
}

/* Waits up to timeout_ms for a state change; then takes every event that
 * has arrived, so that a burst makes one frame. Returns 0 (a change or
 * the timeout), or a connection error. Without a stream, sleeps. */
static int wait_change(corral *events, int timeout_ms) {
        corral_event *e = NULL;
        int r;

        if (!events) {
                struct timespec ts = { .tv_sec = timeout_ms / 1000, .tv_nsec = (long) (timeout_ms % 1000) * 1000000L };
                (void) nanosleep(&ts, NULL);
                return 0;
        }
        r = corral_next_event(events, timeout_ms, &e);
        while (r >= 0) {
                corral_event_free(e);
                e = NULL;
                r = corral_next_event(events, /* timeout_ms= */ 0, &e);
        }
        return r == -ETIMEDOUT ? 0 : r;
}

/* A second connection for the event stream; NULL (refresh by the clock
 * only) when the stream is refused. */
static corral *open_events(const Args *a) {
        corral *events = NULL;

        if (corral_open(a->socket, &events) < 0)
                return NULL;
        if (corral_subscribe(events) < 0)
                return corral_close(events);
        return events;
}

int verb_top(corral *c, const Args *a) {
        Top t = {};
        corral *events = open_events(a);
        int r = 0;

        while (a->iterations == 0 || t.frames < a->iterations) {
                r = top_frame(&t, c, a);
                if (r < 0 || (a->iterations > 0 && t.frames >= a->iterations))
                        break;
                r = wait_change(events, (int) MIN(a->interval / 1000U, (uint64_t) INT32_MAX));
                if (r < 0)
                        break;
        }
        top_done(&t);
        corral_close(events);
        if (r == -ECONNRESET) {
                fprintf(stderr, "corralctl: top: corrald closed the connection\n");
                return EXIT_FAIL;
        }
        if (r < 0) {
                fprintf(stderr, "corralctl: top: %s\n", corral_last_error(c) ?: strerror(-r));
                return EXIT_FAIL;
        }
        return EXIT_OK;
}
