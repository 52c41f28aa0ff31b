/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The verbs that wait for their units (start, stop, restart, reload) and
 * those of runtime services (add, remove, scale, apply, cat). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "macro.h"
#include "format.h"
#include "runtime-text.h"
#include "strv.h"
#include "verbs.h"

#define APPLY_FILE_MAX ((size_t) 4 * 1024 * 1024)

typedef const char *const *names_t;

DEFINE_TRIVIAL_CLEANUP_FUNC(corral_outcomes *, corral_outcomes_free);

/* As verbs.c's: the daemon's message, exit 4 for a name it does not know. */
static int fail(const corral *c, int r, const char *what) {
        const char *message = corral_last_error(c);

        fprintf(stderr, "corralctl: %s: %s\n", what, message ?: strerror(-r));
        return r == -ENOENT && message ? EXIT_NO_UNIT : EXIT_FAIL;
}

/* What a unit that reached its goal became, in words: "stopped" for
 * inactive, else its state. */
static const char *outcome_word(const corral_outcomes *o, size_t i) {
        const char *state = corral_outcome_state(o, i);
        return !state ? "done" : streq(state, "inactive") ? "stopped" : state;
}

/* One line per unit: "web@0: stopped (1.2s)", "db: failed: exec …".
 * Returns EXIT_OK when every unit reached its goal. */
static int print_outcomes(const corral_outcomes *o, const char *done) {
        int status = EXIT_OK;

        for (size_t i = 0; i < corral_outcomes_count(o); i++) {
                char span[64];
                const char *unit = corral_outcome_unit(o, i) ?: "?";
                format_duration(span, sizeof(span), corral_outcome_duration_usec(o, i));
                if (corral_outcome_ok(o, i) > 0)
                        printf("%s: %s (%s)\n", unit, done ?: outcome_word(o, i), span);
                else {
                        printf("%s: failed: %s\n", unit, corral_outcome_reason(o, i) ?: "did not reach its goal");
                        status = EXIT_FAIL;
                }
        }
        return corral_outcomes_ok(o) ? status : EXIT_FAIL;
}

static unsigned request_flags(const Args *a) {
        return (a->no_block ? 0 : CORRAL_WAIT) | (a->all ? CORRAL_ALL : 0) | (a->all_at_once ? CORRAL_ALL_AT_ONCE : 0);
}

static int units_request(corral *c, const Args *a, const char *method, const char *done) {
        _cleanup_(corral_outcomes_freep) corral_outcomes *o = NULL;
        int r;

        if (a->all == !!a->args[0]) {
                fprintf(stderr, "corralctl %s: name units (UNIT, SERVICE, 'GLOB*') or give --all, not both\n", method);
                return EXIT_USAGE;
        }
        r = corral_request(c, method, (names_t) a->args, request_flags(a), &o);
        if (r < 0)
                return fail(c, r, method);
        return print_outcomes(o, done);
}

int verb_start(corral *c, const Args *a) {
        return units_request(c, a, "start", "running");
}

int verb_stop(corral *c, const Args *a) {
        return units_request(c, a, "stop", "stopped");
}

int verb_restart(corral *c, const Args *a) {
        return units_request(c, a, "restart", "restarted");
}

static void print_counts(const corral_counts *n) {
        printf("%u added, %u removed, %u changed, %u unchanged\n", n->added, n->removed, n->changed, n->unchanged);
}

/* After a change: the outcomes, then the counts. */
static int changed(corral *c, int r, const char *what, const corral_counts *n, const corral_outcomes *o) {
        if (r < 0)
                return fail(c, r, what);
        r = print_outcomes(o, /* done= */ NULL);
        print_counts(n);
        return r;
}

/* The lines of the units that missed their goal; EXIT_OK when none did. */
static int print_failed(const corral_outcomes *o) {
        int status = corral_outcomes_ok(o) ? EXIT_OK : EXIT_FAIL;

        for (size_t i = 0; i < corral_outcomes_count(o); i++)
                if (corral_outcome_ok(o, i) <= 0) {
                        printf("%s: failed: %s\n", corral_outcome_unit(o, i) ?: "?",
                               corral_outcome_reason(o, i) ?: "did not reach its goal");
                        status = EXIT_FAIL;
                }
        return status;
}

/* reload: what it did ("Reloaded: …"), after a line per unit that missed
 * its goal; with --no-block, at once. */
int verb_reload(corral *c, const Args *a) {
        _cleanup_(corral_outcomes_freep) corral_outcomes *o = NULL;
        corral_counts n = {};
        int r = corral_request(c, "reload", /* names= */ NULL, request_flags(a), &o);

        if (r < 0)
                return fail(c, r, "reload");
        r = print_failed(o);
        if (corral_outcomes_counts(o, &n) >= 0)
                printf("Reloaded: %u added, %u removed, %u changed, %u unchanged.\n", n.added, n.removed, n.changed,
                       n.unchanged);
        return r;
}

/* ---- add ---- */

/* add NAME [KEY=VALUE…] [-- CMD…] as the body of its section. */
static int add_body(char *const *args, char **ret) {
        _cleanup_free_ char *out = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&out, &n);
        int r = 0;

        if (!f)
                return -ENOMEM;
        for (; *args && r >= 0; args++) {
                const char *eq = strchr(*args, '=');
                if (streq(*args, "--")) {
                        _cleanup_free_ char *cmd = args[1] ? command_quote(args + 1) : NULL;
                        if (args[1] && !cmd)
                                r = -ENOMEM;
                        else if (cmd)
                                fprintf(f, "command = %s\n", cmd);
                        break;
                }
                if (!eq || eq == *args || strchr(*args, '\n')) {
                        fprintf(stderr, "corralctl add: '%s' is not KEY=VALUE (the command goes after --)\n", *args);
                        r = -EINVAL;
                } else
                        fprintf(f, "%.*s = %s\n", (int) (eq - *args), *args, eq + 1);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        if (r < 0)
                return r;
        *ret = TAKE_PTR(out);
        return 0;
}

int verb_add(corral *c, const Args *a) {
        _cleanup_(corral_outcomes_freep) corral_outcomes *o = NULL;
        _cleanup_free_ char *body = NULL;
        corral_counts n = {};
        int r;

        if (streq(a->args[0], "--")) {
                fprintf(stderr, "corralctl add: NAME comes before --\n");
                return EXIT_USAGE;
        }
        r = add_body(a->args + 1, &body);
        if (r == -EINVAL)
                return EXIT_USAGE;
        if (r < 0)
                return fail(c, r, "add");
        r = corral_add(c, a->args[0], body, request_flags(a), &n, &o);
        return changed(c, r, "add", &n, o);
}

int verb_remove(corral *c, const Args *a) {
        _cleanup_(corral_outcomes_freep) corral_outcomes *o = NULL;
        corral_counts n = {};
        int r = corral_remove(c, a->args[0], request_flags(a), &n, &o);

        return changed(c, r, "remove", &n, o);
}

int verb_scale(corral *c, const Args *a) {
        _cleanup_(corral_outcomes_freep) corral_outcomes *o = NULL;
        corral_counts n = {};
        char *end = NULL;
        unsigned long k;
        int r;

        errno = 0;
        k = strtoul(a->args[1], &end, 10);
        if (errno != 0 || !end || *end || a->args[1][0] < '0' || a->args[1][0] > '9' || k > 10000) {
                fprintf(stderr, "corralctl scale: '%s' is not a number of instances (0 to 10000)\n", a->args[1]);
                return EXIT_USAGE;
        }
        r = corral_scale(c, a->args[0], (unsigned) k, request_flags(a), &n, &o);
        return changed(c, r, "scale", &n, o);
}

/* ---- apply ---- */

int verb_apply(corral *c, const Args *a) {
        _cleanup_(corral_outcomes_freep) corral_outcomes *o = NULL;
        _cleanup_strv_free_ char **names = NULL, **bodies = NULL;
        _cleanup_free_ corral_service *list = NULL;
        _cleanup_free_ char *text = NULL;
        corral_counts n = {};
        unsigned line = 0;
        size_t k;
        int r;

        r = read_full_file_at(AT_FDCWD, a->args[0], APPLY_FILE_MAX, &text, /* ret_size= */ NULL);
        if (r < 0) {
                fprintf(stderr, "corralctl apply: %s: %s\n", a->args[0], strerror(-r));
                return EXIT_FAIL;
        }
        r = apply_file_parse(text, &names, &bodies, &line);
        if (r == -EINVAL) {
                fprintf(stderr, "corralctl apply: %s:%u: only [program:NAME] sections belong here\n", a->args[0], line);
                return EXIT_FAIL;
        }
        k = r >= 0 ? strv_length(names) : 0;
        if (r < 0 || !(list = calloc(k + 1, sizeof(corral_service))))
                return fail(c, -ENOMEM, "apply");
        for (size_t i = 0; i < k; i++)
                list[i] = (corral_service) { .name = names[i], .ini = bodies[i] };
        r = corral_apply(c, list, k, request_flags(a), &n, &o);
        return changed(c, r, "apply", &n, o);
}

/* ---- cat ---- */

int verb_cat(corral *c, const Args *a) {
        _cleanup_free_ char *file = NULL, *text = NULL;
        unsigned line = 0;
        int runtime = 0;
        int r = corral_cat(c, a->args[0], &file, &line, &runtime, &text);

        if (r < 0)
                return fail(c, r, "cat");
        printf("# %s:%u%s\n%s\n", file, line, runtime ? " (runtime service)" : "", text);
        return EXIT_OK;
}
