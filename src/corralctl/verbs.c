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

int verb_status(corral *c, const Args *a) {
        _cleanup_(corral_units_freep) corral_units *units = NULL;
        bool all_running = true;
        int r = corral_status(c, (names_t) a->args, &units);

        if (r < 0)
                return fail(c, r, "status");
        for (size_t i = 0; i < corral_units_count(units); i++)
                all_running = all_running && streq_ptr(corral_unit_state(corral_units_get(units, i)), "running");

        if (a->json)
                print_json_line(corral_units_json(units));
        else if (!a->args[0])
                print_units_table(units);
        else
                for (size_t i = 0; i < corral_units_count(units); i++) {
                        if (i > 0)
                                putchar('\n');
                        print_unit_details(corral_units_get(units, i));
                }
        /* Only "status UNIT…" tells whether its units run, as LSB wants. */
        return a->args[0] && !all_running ? EXIT_NOT_RUNNING : EXIT_OK;
}

int verb_list(corral *c, const Args *a) {
        _cleanup_(corral_units_freep) corral_units *units = NULL;
        int r = corral_status(c, /* names= */ NULL, &units);

        if (r < 0)
                return fail(c, r, "list");
        if (a->json)
                return print_json_line(corral_units_json(units));
        for (size_t i = 0; i < corral_units_count(units); i++)
                puts(corral_unit_name(corral_units_get(units, i)));
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
