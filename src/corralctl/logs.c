/* SPDX-License-Identifier: GPL-2.0-or-later */
/* corralctl logs [-f] [-n N] [--since TIME] [UNIT...] */
#include "logs.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"
#include "output.h"
#include "time-util.h"

#define ANSI_RED "\x1b[0;31m"
#define ANSI_NORMAL "\x1b[0m"

DEFINE_TRIVIAL_CLEANUP_FUNC(corral_logs *, corral_logs_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(corral_log_line *, corral_log_line_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(corral_journal_follow *, corral_journal_follow_close);

typedef struct LogsPrinter {
        bool json, colour;
        size_t width; /* of the unit column: grows, never shrinks */
} LogsPrinter;

static bool colour_wanted(void) {
        const char *term = getenv("TERM");
        return output_tty() && !getenv("NO_COLOR") && !streq_ptr(term, "dumb");
}

/* "Nov 23 04:15:58 web@1  | text": stderr lines take '!' for '|' (and are
 * red on a terminal). */
static void print_line(LogsPrinter *p, const corral_log_line *l) {
        const char *unit = corral_log_line_unit(l) ?: "?";
        uint64_t usec = corral_log_line_timestamp_usec(l);
        bool err = corral_log_line_is_stderr(l);
        time_t sec = (time_t) (usec / USEC_PER_SEC);
        char stamp[32] = "?";
        struct tm tm;

        if (p->json) {
                puts(corral_log_line_json(l));
                return;
        }
        if (usec != UINT64_MAX && localtime_r(&sec, &tm))
                strftime(stamp, sizeof(stamp), "%b %d %H:%M:%S", &tm);
        p->width = MAX(p->width, strlen(unit));
        printf("%s %-*s %c %s%s%s\n", stamp, (int) p->width, unit, err ? '!' : '|', err && p->colour ? ANSI_RED : "",
               corral_log_line_text(l) ?: "", err && p->colour ? ANSI_NORMAL : "");
}

void logs_print(const corral_logs *logs) {
        LogsPrinter p = { .colour = colour_wanted() };

        for (size_t i = 0; i < corral_logs_count(logs); i++)
                p.width = MAX(p.width, strlen(corral_log_line_unit(corral_logs_get(logs, i)) ?: "?"));
        for (size_t i = 0; i < corral_logs_count(logs); i++)
                print_line(&p, corral_logs_get(logs, i));
}

/* Adds the journal's lines of the units corrald named, in time order. */
static void add_journal_lines(corral_logs *logs, const Args *a) {
        const char *const *units = corral_logs_journal_units(logs);
        corral_logs *j = NULL;
        int r;

        if (!units || !units[0])
                return;
        r = corral_journal_logs(units, a->lines, a->since, &j);
        if (r < 0) {
                fprintf(stderr, "corralctl: logs: cannot read the journal (for %s%s): %s\n", units[0],
                        units[1] ? ", …" : "",
                        r == -EOPNOTSUPP ? "libsystemd (libsystemd.so.0) cannot be loaded" : strerror(-r));
                return;
        }
        if (corral_logs_merge(logs, j, a->lines) < 0)
                fprintf(stderr, "corralctl: logs: %s\n", strerror(ENOMEM));
}

/* Prints what has arrived on the socket. Returns 0, or an exit status. */
static int follow_socket(corral *c, LogsPrinter *p) {
        for (;;) {
                _cleanup_(corral_log_line_freep) corral_log_line *l = NULL;
                int r = corral_next_log_line(c, /* timeout_ms= */ 0, &l);

                if (r == -ETIMEDOUT)
                        return 0;
                if (r == -ECONNRESET) {
                        fprintf(stderr, "corralctl: logs: corrald closed the connection\n");
                        return EXIT_FAIL;
                }
                if (r < 0) {
                        fprintf(stderr, "corralctl: logs: %s\n", strerror(-r));
                        return EXIT_FAIL;
                }
                if (r > 0)
                        fprintf(stderr, "corralctl: logs: %d lines dropped (this reader fell behind)\n", r);
                else
                        print_line(p, l);
        }
}

static void follow_journal(corral_journal_follow *f, LogsPrinter *p) {
        for (;;) {
                _cleanup_(corral_log_line_freep) corral_log_line *l = NULL;

                if (corral_journal_follow_next(f, &l) < 0)
                        return;
                print_line(p, l);
        }
}

/* Until interrupted, or until corrald closes the connection. */
static int follow(corral *c, const char *const *journal_units, LogsPrinter *p) {
        _cleanup_(corral_journal_follow_closep) corral_journal_follow *f = NULL;
        struct pollfd fds[2] = { { .fd = corral_fd(c), .events = POLLIN }, { .fd = -1, .events = POLLIN } };
        int r;

        if (journal_units && journal_units[0]) {
                r = corral_journal_follow_open(journal_units, &f);
                if (r < 0)
                        fprintf(stderr, "corralctl: logs: cannot follow the journal: %s\n", strerror(-r));
                else
                        fds[1].fd = corral_journal_follow_fd(f);
        }
        for (;;) {
                /* the library may hold lines already: read before waiting */
                r = follow_socket(c, p);
                if (r != 0)
                        return r;
                if (f)
                        follow_journal(f, p);
                fflush(stdout);
                if (poll(fds, fds[1].fd >= 0 ? 2 : 1, /* timeout= */ -1) < 0 && errno != EINTR) {
                        fprintf(stderr, "corralctl: logs: poll: %m\n");
                        return EXIT_FAIL;
                }
        }
}

int verb_logs(corral *c, const Args *a) {
        _cleanup_(corral_logs_freep) corral_logs *logs = NULL;
        LogsPrinter p = { .json = a->json, .colour = colour_wanted() };
        corral_logs_query q = {
                .units = (const char *const *) a->args,
                .lines = a->lines,
                .since_usec = a->since,
                .follow = a->follow,
        };
        int r = corral_read_logs(c, &q, &logs);

        if (r < 0) {
                const char *message = corral_last_error(c);
                fprintf(stderr, "corralctl: logs: %s\n",
                        r == -EOPNOTSUPP && !message ? "this corrald does not keep output" : message ?: strerror(-r));
                return r == -ENOENT && message ? EXIT_NO_UNIT : EXIT_FAIL;
        }
        if (corral_logs_omitted(logs) > 0)
                fprintf(stderr, "corralctl: logs: %zu older lines left out (corrald's answer is limited to 512 KiB)\n",
                        corral_logs_omitted(logs));
        add_journal_lines(logs, a);
        for (size_t i = 0; i < corral_logs_count(logs); i++)
                print_line(&p, corral_logs_get(logs, i));
        if (!a->follow)
                return EXIT_OK;
        fflush(stdout);
        return follow(c, corral_logs_journal_units(logs), &p);
}
