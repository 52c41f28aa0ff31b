/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "output.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "format.h"
#include "logs.h"
#include "macro.h"
#include "parse-util.h"
#include "time-util.h"

#define ANSI_RED "\x1b[0;1;31m"
#define ANSI_GREEN "\x1b[0;1;32m"
#define ANSI_YELLOW "\x1b[0;1;33m"
#define ANSI_BOLD "\x1b[1m"
#define ANSI_NORMAL "\x1b[0m"

bool output_tty(void) {
        static int cached = -1;

        if (cached < 0)
                cached = isatty(STDOUT_FILENO);
        return cached > 0;
}

/* Colours only on a terminal that can show them, and not against $NO_COLOR
 * (https://no-color.org). */
static bool output_colour(void) {
        static int cached = -1;

        if (cached < 0) {
                const char *term = getenv("TERM");
                cached = output_tty() && !getenv("NO_COLOR") && !streq_ptr(term, "dumb");
        }
        return cached > 0;
}

static const char *colour(const char *ansi) {
        return output_colour() ? ansi : "";
}

/* The colour of a state: green running, red failed, yellow on its way. */
static const char *state_colour(const char *state) {
        if (!state || streq(state, "inactive"))
                return "";
        if (streq(state, "running") || streq(state, "exited"))
                return colour(ANSI_GREEN);
        if (streq(state, "failed"))
                return colour(ANSI_RED);
        return colour(ANSI_YELLOW);
}

/* ---- table ---- */

enum {
        COL_UNIT,
        COL_STATE,
        COL_PID,
        COL_SINCE,
        COL_RESTARTS,
        COL_REASON,
        COL_PORT,
        COL_HEALTH,
        COL_CPU,
        COL_MEM,
        COL_TASKS,
        _COL_MAX
};

typedef struct Row {
        char cell[_COL_MAX][96];
        const char *state; /* for the colour of COL_STATE; NULL in the header */
} Row;

static void count_to_string(char *buf, size_t size, uint64_t v) {
        if (v == UINT64_MAX)
                snprintf(buf, size, "-");
        else
                snprintf(buf, size, "%" PRIu64, v);
}

/* "running", "running (frozen)", "failed (exit-code)", "exited (success)". */
static void state_to_string(char *buf, size_t size, const corral_unit *u) {
        const char *state = corral_unit_state(u) ?: "?", *result = corral_unit_result(u);

        if (corral_unit_frozen(u))
                snprintf(buf, size, "%s (frozen)", state);
        else if ((streq(state, "failed") || streq(state, "exited")) && result)
                snprintf(buf, size, "%s (%s)", state, result);
        else
                snprintf(buf, size, "%s", state);
}

static uint64_t now_realtime_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000U;
}

uint64_t unit_in_state_usec(const corral_unit *u) {
        uint64_t since = corral_unit_since_usec(u), n = now_realtime_usec();

        if (since != UINT64_MAX && since > 0)
                return n > since ? n - since : 0;
        /* A corrald without since_usec: the uptime of a running unit. */
        if (streq_ptr(corral_unit_state(u), "running"))
                return corral_unit_uptime_usec(u);
        return UINT64_MAX;
}

char *format_health_short(char *buf, size_t size, const corral_unit *u) {
        int ok = corral_unit_health_ok(u);

        if (corral_unit_health_http_status(u) < 0)
                snprintf(buf, size, "-");
        else if (ok < 0)
                snprintf(buf, size, "unknown");
        else if (ok)
                snprintf(buf, size, "ok");
        else
                snprintf(buf, size, "failing (%" PRIu64 ")", corral_unit_health_failures(u));
        return buf;
}

static void row_fill(Row *row, const corral_unit *u) {
        pid_t pid = corral_unit_main_pid(u);
        int port = corral_unit_port(u);

        snprintf(row->cell[COL_UNIT], sizeof(row->cell[COL_UNIT]), "%s", corral_unit_name(u));
        state_to_string(row->cell[COL_STATE], sizeof(row->cell[COL_STATE]), u);
        row->state = corral_unit_state(u);
        if (pid > 0)
                snprintf(row->cell[COL_PID], sizeof(row->cell[COL_PID]), "%d", (int) pid);
        else
                snprintf(row->cell[COL_PID], sizeof(row->cell[COL_PID]), "-");
        format_duration(row->cell[COL_SINCE], sizeof(row->cell[COL_SINCE]), unit_in_state_usec(u));
        count_to_string(row->cell[COL_RESTARTS], sizeof(row->cell[COL_RESTARTS]), corral_unit_restarts(u));
        snprintf(row->cell[COL_REASON], sizeof(row->cell[COL_REASON]), "%s", corral_unit_reason(u) ?: "-");
        if (port > 0)
                snprintf(row->cell[COL_PORT], sizeof(row->cell[COL_PORT]), "%d", port);
        else
                snprintf(row->cell[COL_PORT], sizeof(row->cell[COL_PORT]), "-");
        format_health_short(row->cell[COL_HEALTH], sizeof(row->cell[COL_HEALTH]), u);
        format_duration(row->cell[COL_CPU], sizeof(row->cell[COL_CPU]), corral_unit_cpu_usec(u));
        format_bytes(row->cell[COL_MEM], sizeof(row->cell[COL_MEM]), corral_unit_memory_bytes(u));
        count_to_string(row->cell[COL_TASKS], sizeof(row->cell[COL_TASKS]), corral_unit_tasks(u));
}

static void row_print(const Row *row, const size_t *width) {
        for (size_t col = 0; col < _COL_MAX; col++) {
                bool last = col + 1 == _COL_MAX;
                const char *on = !row->state ? colour(ANSI_BOLD) : col == COL_STATE ? state_colour(row->state) : "";

                if (!output_tty()) {
                        printf("%s%s", row->cell[col], last ? "\n" : "\t");
                        continue;
                }
                /* Pad outside the colour so that escapes do not count. */
                printf("%s%s%s", on, row->cell[col], *on ? ANSI_NORMAL : "");
                if (last)
                        putchar('\n');
                else
                        printf("%*s", (int) (width[col] - strlen(row->cell[col]) + 2), "");
        }
}

void print_units_table(const corral_unit *const *units, size_t n) {
        static const char *const header[_COL_MAX] = { "UNIT", "STATE",  "PID", "SINCE", "RESTARTS", "REASON",
                                                      "PORT", "HEALTH", "CPU", "MEM",   "TASKS" };
        size_t width[_COL_MAX] = {};
        _cleanup_free_ Row *rows = calloc(n + 1, sizeof(Row));

        if (!rows) {
                fprintf(stderr, "corralctl: out of memory\n");
                return;
        }
        for (size_t col = 0; col < _COL_MAX; col++)
                snprintf(rows[0].cell[col], sizeof(rows[0].cell[col]), "%s", header[col]);
        for (size_t i = 0; i < n; i++)
                row_fill(&rows[i + 1], units[i]);
        for (size_t i = 0; i <= n; i++)
                for (size_t col = 0; col < _COL_MAX; col++)
                        width[col] = MAX(width[col], strlen(rows[i].cell[col]));
        for (size_t i = 0; i <= n; i++)
                row_print(&rows[i], width);
}

/* ---- one unit ---- */

static void print_exit(const corral_unit *u) {
        const char *code = corral_unit_exit_code(u);
        int status = corral_unit_exit_status(u);

        if (!code || status < 0)
                return;
        if (streq(code, "exited"))
                printf("       Exit: status %d\n", status);
        else
                printf("       Exit: signal %s%s\n", signal_to_string(status) ?: "?",
                       streq(code, "dumped") ? " (core dumped)" : "");
}

/* The unit's processes as a tree, children under their parents, like
 * systemctl status's CGroup: section. */
static void print_process_children(const corral_unit *u, pid_t parent, int depth, const bool *is_root, bool roots) {
        size_t n = corral_unit_process_count(u);

        for (size_t i = 0; i < n; i++) {
                if (roots ? !is_root[i] : corral_unit_process_ppid(u, i) != parent)
                        continue;
                printf("             %*s%s%d %s\n", depth * 2, "", depth > 0 ? "└─" : "",
                       (int) corral_unit_process_pid(u, i), corral_unit_process_cmdline(u, i) ?: "?");
                if (depth < 16)
                        print_process_children(u, corral_unit_process_pid(u, i), depth + 1, is_root, false);
        }
}

static void print_process_tree(const corral_unit *u) {
        size_t n = corral_unit_process_count(u);
        bool *is_root;

        if (n == 0)
                return;
        is_root = calloc(n, sizeof(bool));
        if (!is_root)
                return;
        /* a root is a process whose parent is not in the unit */
        for (size_t i = 0; i < n; i++) {
                is_root[i] = true;
                for (size_t k = 0; k < n; k++)
                        if (corral_unit_process_pid(u, k) == corral_unit_process_ppid(u, i))
                                is_root[i] = false;
        }
        printf("  Processes:\n");
        print_process_children(u, 0, 0, is_root, true);
        free(is_root);
}

static void print_journal_tail(const corral_unit *u) {
        char **lines = NULL;
        int n = corral_journal_tail(corral_unit_name(u), 10, &lines);

        if (n > 0) {
                printf("\n");
                for (char **l = lines; *l; l++)
                        printf("%s\n", *l);
        }
        corral_strv_free(lines);
}

static bool logs_in_journal(const corral_logs *logs, const char *name) {
        const char *const *j = corral_logs_journal_units(logs);

        for (; j && *j; j++)
                if (streq(*j, name))
                        return true;
        return false;
}

static void print_last_lines(const corral_unit *u, const corral_logs *logs) {
        if (!logs || logs_in_journal(logs, corral_unit_name(u)))
                return print_journal_tail(u);
        if (corral_logs_count(logs) > 0) {
                printf("\n");
                logs_print(logs);
        }
}

/* "      State: running since Wed 2026-12-02 04:55:01 UTC; 1min 0s ago" */
static void print_state_line(const corral_unit *u) {
        const char *state = corral_unit_state(u) ?: "?";
        char when[64], ago[FORMAT_DURATION_MAX];
        uint64_t since = corral_unit_since_usec(u);

        printf("      State: %s%s%s%s", state_colour(state), state, *state_colour(state) ? ANSI_NORMAL : "",
               corral_unit_frozen(u) ? " (frozen)" : "");
        if (since != UINT64_MAX && since > 0)
                printf(" since %s; %s ago", format_time_of_day(when, sizeof(when), since),
                       format_duration(ago, sizeof(ago), unit_in_state_usec(u)));
        putchar('\n');
}

/* "     Health: failing (3 in a row): HTTP 500, 1.2ms, 2.0s ago" */
static void print_health(const corral_unit *u) {
        int ok = corral_unit_health_ok(u), status = corral_unit_health_http_status(u);
        char latency[FORMAT_DURATION_MAX], age[FORMAT_DURATION_MAX];
        const char *error = corral_unit_health_error(u);

        if (status < 0)
                return;
        if (ok < 0) {
                printf("     Health: no check has ended yet\n");
                return;
        }
        if (ok)
                printf("     Health: ok");
        else
                printf("     Health: failing (%" PRIu64 " in a row)", corral_unit_health_failures(u));
        if (status > 0)
                printf(": HTTP %d", status);
        else if (error)
                printf(": %s", error);
        printf(", %s, %s ago\n", format_duration(latency, sizeof(latency), corral_unit_health_latency_usec(u)),
               format_duration(age, sizeof(age), corral_unit_health_age_usec(u)));
}

void print_unit_details(const corral_unit *u, const corral_logs *logs) {
        const char *state = corral_unit_state(u) ?: "?", *text = corral_unit_status_text(u);
        char buf[FORMAT_DURATION_MAX];
        uid_t owner = corral_unit_owner_uid(u);

        printf("%s●%s %s - %s\n", state_colour(state), *state_colour(state) ? ANSI_NORMAL : "", corral_unit_name(u),
               corral_unit_kind(u) ?: "unit");
        print_state_line(u);
        if (corral_unit_result(u))
                printf("     Result: %s\n", corral_unit_result(u));
        if (corral_unit_reason(u))
                printf("     Reason: %s\n", corral_unit_reason(u));
        if (streq(state, "running") && corral_unit_uptime_usec(u) != UINT64_MAX)
                printf("     Uptime: %s\n", format_duration(buf, sizeof(buf), corral_unit_uptime_usec(u)));
        if (corral_unit_main_pid(u) > 0)
                printf("   Main PID: %d\n", (int) corral_unit_main_pid(u));
        if (corral_unit_restarts(u) != UINT64_MAX)
                printf("   Restarts: %" PRIu64 "\n", corral_unit_restarts(u));
        print_exit(u);
        if (corral_unit_port(u) > 0)
                printf("       Port: %d\n", corral_unit_port(u));
        print_health(u);
        if (text)
                printf("     Status: \"%s\"\n", text);
        if (corral_unit_cpu_usec(u) != UINT64_MAX)
                printf("        CPU: %s\n", format_duration(buf, sizeof(buf), corral_unit_cpu_usec(u)));
        if (corral_unit_memory_bytes(u) != UINT64_MAX)
                printf("     Memory: %s (%s)\n", format_bytes(buf, sizeof(buf), corral_unit_memory_bytes(u)),
                       corral_unit_memory_source(u) ?: "?");
        if (corral_unit_tasks(u) != UINT64_MAX)
                printf("      Tasks: %" PRIu64 "\n", corral_unit_tasks(u));
        if (owner != (uid_t) -1 && streq_ptr(corral_unit_kind(u), "job"))
                printf("      Owner: UID %u\n", (unsigned) owner);
        if (corral_unit_error(u))
                printf("      Error: %s\n", corral_unit_error(u));
        print_process_tree(u);
        print_last_lines(u, logs);
}

/* ---- events ---- */

/* "2026-11-23T04:24:55.225Z", as corrald's log writes times. */
static void format_timestamp(char *buf, size_t size, uint64_t usec) {
        time_t sec = (time_t) (usec / USEC_PER_SEC);
        struct tm tm;

        if (usec == UINT64_MAX || !gmtime_r(&sec, &tm)) {
                snprintf(buf, size, "-");
                return;
        }
        size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf + n, size - n, ".%03uZ", (unsigned) (usec % USEC_PER_SEC / USEC_PER_MSEC));
}

void print_event(const corral_event *e) {
        const char *state = corral_event_state(e) ?: "?", *result = corral_event_result(e);
        char stamp[64];

        format_timestamp(stamp, sizeof(stamp), corral_event_timestamp_usec(e));
        printf("%s %s %s%s%s", stamp, corral_event_unit(e), state_colour(state), state,
               *state_colour(state) ? ANSI_NORMAL : "");
        if (result)
                printf(" (%s)", result);
        if (corral_event_main_pid(e) > 0)
                printf(" pid %d", (int) corral_event_main_pid(e));
        putchar('\n');
}
