/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "verbs.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "output.h"
#include "parse-util.h"

typedef const char *const *names_t;

DEFINE_TRIVIAL_CLEANUP_FUNC(corral_units *, corral_units_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(corral_event *, corral_event_free);

/* Reports a failed call: the daemon's message when it sent one. ENOENT in
 * the daemon's words is "no such unit" (exit 4). */
static int fail(const corral *c, int r, const char *what) {
        const char *message = corral_last_error(c);

        fprintf(stderr, "corralctl: %s: %s\n", what, message ?: strerror(-r));
        return r == -ENOENT && message ? EXIT_NO_UNIT : EXIT_FAIL;
}

static int print_json_line(const char *json) {
        puts(json ?: "null");
        return EXIT_OK;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(corral_logs *, corral_logs_free);

/* One unit in detail with its last 10 lines (from the journal when corrald
 * keeps none, or does not know the logs method). */
static void print_unit_with_lines(corral *c, const corral_unit *u) {
        _cleanup_(corral_logs_freep) corral_logs *logs = NULL;
        const char *names[] = { corral_unit_name(u), NULL };
        corral_logs_query q = { .units = names, .lines = 10 };

        if (corral_read_logs(c, &q, &logs) < 0)
                logs = NULL;
        print_unit_details(u, logs);
}

bool unit_matches(const corral_unit *u, const Args *a) {
        if (a->kind && !streq_ptr(corral_unit_kind(u), a->kind))
                return false;
        if (!a->states)
                return true;
        for (char **s = a->states; *s; s++)
                if (streq_ptr(corral_unit_state(u), *s))
                        return true;
        return false;
}

/* Services before jobs, then by name in natural order (web@2 before web@10). */
static int unit_compare(const void *x, const void *y) {
        const corral_unit *a = *(const corral_unit *const *) x, *b = *(const corral_unit *const *) y;
        bool ja = streq_ptr(corral_unit_kind(a), "job"), jb = streq_ptr(corral_unit_kind(b), "job");

        if (ja != jb)
                return ja ? 1 : -1;
        return strverscmp(corral_unit_name(a), corral_unit_name(b));
}

const corral_unit **units_select(const corral_units *units, const Args *a, bool sort, size_t *ret_n) {
        size_t n = 0, total = corral_units_count(units);
        const corral_unit **l = calloc(MAX(total, (size_t) 1), sizeof(*l));

        if (!l)
                return NULL;
        for (size_t i = 0; i < total; i++)
                if (unit_matches(corral_units_get(units, i), a))
                        l[n++] = corral_units_get(units, i);
        if (sort)
                qsort(l, n, sizeof(*l), unit_compare);
        *ret_n = n;
        return l;
}

/* The selected units as a JSON array on one line. Without filters, what
 * corrald sent, as it sent it. */
static void print_units_json(const corral_units *units, const corral_unit *const *l, size_t n, const Args *a) {
        if (!a->states && !a->kind) {
                print_json_line(corral_units_json(units));
                return;
        }
        putchar('[');
        for (size_t i = 0; i < n; i++)
                printf("%s%s", i > 0 ? "," : "", corral_unit_json(l[i]));
        puts("]");
}

static int out_of_memory(void) {
        fprintf(stderr, "corralctl: %s\n", strerror(ENOMEM));
        return EXIT_FAIL;
}

/* One page of a status --json of every unit, corrald's JSON array as it
 * came: its units, after the pages before (*userdata: how many pages were
 * printed), the brackets of the one array around them all. */
static int print_json_page(const char *json, size_t len, void *userdata) {
        size_t *printed = userdata;

        putchar((*printed)++ > 0 ? ',' : '[');
        fwrite(json + 1, 1, len - 2, stdout); /* within its [ and ] */
        return 0;
}

/* status --json of every unit, unfiltered: printed page by page as corrald
 * sends them, while it makes the next, never held whole, and never parsed
 * (10,000 units: 2 MB of JSON that jansson would parse, and dump, at some
 * 30 MB/s: 70 ms). An error midway leaves the array unterminated, and the
 * exit status says so. */
static int status_json_pages(corral *c, const Args *a) {
        size_t printed = 0;
        int r = corral_status_json_pages(c, /* names= */ NULL, a->no_stats ? CORRAL_STATUS_NO_STATS : 0,
                                         print_json_page, &printed);

        if (r < 0) {
                if (printed > 0)
                        putchar('\n');
                return fail(c, r, "status");
        }
        puts(printed > 0 ? "]" : "[]");
        return EXIT_OK;
}

int verb_status(corral *c, const Args *a) {
        _cleanup_(corral_units_freep) corral_units *units = NULL;
        _cleanup_free_ const corral_unit **l = NULL;
        bool all_running = true;
        size_t n = 0;
        int r;

        if (a->json && !a->args[0] && !a->states && !a->kind)
                return status_json_pages(c, a);
        r = corral_status_flags(c, (names_t) a->args, a->no_stats ? CORRAL_STATUS_NO_STATS : 0, &units);

        if (r < 0)
                return fail(c, r, "status");
        /* Units asked for by name keep the order they were asked in. The
         * JSON of every unit is corrald's as it sent it: no sort (10,000
         * units: 6% of corralctl's time) for an order that is not used. */
        l = units_select(units, a, /* sort= */ !a->args[0] && !(a->json && !a->states && !a->kind), &n);
        if (!l)
                return out_of_memory();
        for (size_t i = 0; i < n; i++)
                all_running = all_running && streq_ptr(corral_unit_state(l[i]), "running");

        if (a->json)
                print_units_json(units, l, n, a);
        else if (!a->args[0])
                print_units_table(l, n);
        else
                for (size_t i = 0; i < n; i++) {
                        if (i > 0)
                                putchar('\n');
                        print_unit_with_lines(c, l[i]);
                }
        /* Only "status UNIT…" tells whether its units run, as LSB wants. */
        return a->args[0] && !all_running ? EXIT_NOT_RUNNING : EXIT_OK;
}

int verb_list(corral *c, const Args *a) {
        _cleanup_(corral_units_freep) corral_units *units = NULL;
        _cleanup_free_ const corral_unit **l = NULL;
        size_t n = 0;
        /* The names alone need no statistics; the JSON is status's. */
        int r = corral_status_flags(c, /* names= */ NULL, a->json ? 0 : CORRAL_STATUS_NO_STATS, &units);

        if (r < 0)
                return fail(c, r, "list");
        /* In corrald's order (configuration order, then jobs), for scripts. */
        l = units_select(units, a, /* sort= */ false, &n);
        if (!l)
                return out_of_memory();
        if (a->json)
                print_units_json(units, l, n, a);
        else
                for (size_t i = 0; i < n; i++)
                        puts(corral_unit_name(l[i]));
        return EXIT_OK;
}

static int change(corral *c, const Args *a, int (*f)(corral *, names_t), const char *what) {
        int r = f(c, (names_t) a->args);
        return r < 0 ? fail(c, r, what) : EXIT_OK;
}

int verb_freeze(corral *c, const Args *a) {
        return change(c, a, corral_freeze, "freeze");
}

int verb_thaw(corral *c, const Args *a) {
        return change(c, a, corral_thaw, "thaw");
}

int verb_kill(corral *c, const Args *a) {
        int r = corral_kill(c, (names_t) a->args, a->signal ?: SIGTERM);
        return r < 0 ? fail(c, r, "kill") : EXIT_OK;
}

int verb_metrics(corral *c, const Args *a) {
        _cleanup_free_ char *text = NULL;
        int r = corral_metrics(c, &text);

        if (r < 0)
                return fail(c, r, "metrics");
        fputs(text, stdout);
        return EXIT_OK;
}

int verb_events(corral *c, const Args *a) {
        int r = corral_subscribe(c);

        if (r < 0)
                return fail(c, r, "events");
        for (;;) {
                _cleanup_(corral_event_freep) corral_event *e = NULL;

                r = corral_next_event(c, /* timeout_ms= */ -1, &e);
                if (r == -ECONNRESET) {
                        fprintf(stderr, "corralctl: events: corrald closed the connection\n");
                        return EXIT_FAIL;
                }
                if (r < 0)
                        return fail(c, r, "events");
                if (a->json)
                        print_json_line(corral_event_json(e));
                else
                        print_event(e);
                fflush(stdout); /* one line per event, also into a pipe */
        }
}
