/* SPDX-License-Identifier: GPL-2.0-or-later */
/* corralctl: help, the command line, and the call of one command. */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logs.h"
#include "macro.h"
#include "parse-util.h"
#include "strv.h"
#include "time-util.h"
#include "verbs.h"

enum {
        VERB_JSON = 1 << 0,   /* takes --json */
        VERB_SIGNAL = 1 << 1, /* takes -s SIGNAL */
        VERB_RUN = 1 << 2,    /* takes run's options; options end at the command */
        VERB_CANCEL = 1 << 3, /* takes --grace */
        VERB_FILTER = 1 << 4, /* takes --state and --kind */
        VERB_TOP = 1 << 5,    /* takes --interval and --iterations */
        VERB_LOGS = 1 << 10,  /* takes -f, -n, --since */
        VERB_WAIT = 1 << 6,   /* waits for its units; takes --no-block */
        VERB_ALL = 1 << 7,    /* takes --all */
        VERB_ROLL = 1 << 8,   /* takes --all-at-once */
        VERB_POSIX = 1 << 9,  /* options end at the first argument (add: the command after --) */
        VERB_STATS = 1 << 11, /* takes --no-stats */
};

typedef struct Verb {
        const char *name;
        const char *usage; /* what follows the name */
        const char *summary;
        const char *options; /* help of its own options, or NULL */
        unsigned flags;
        int min_args, max_args; /* max -1: any number */
        int (*run)(corral *c, const Args *a);
} Verb;

#define WAIT_OPTIONS "     --no-block        Do not wait: return once corrald has applied the request\n"
#define ALL_OPTION "     --all             Every unit\n"
#define JSON_OPTION "     --json            Print the result as JSON, as corrald sent it\n"
#define FILTER_OPTIONS                                                                         \
        "     --state STATE     Only units in STATE (inactive, starting, running, stopping,\n" \
        "                       backoff, failed); repeatable, or a comma-separated list\n"     \
        "     --kind KIND       Only services or only jobs (service, job)\n"

static const Verb verbs[] = {
        { "status", "[UNIT...]", "Show every unit in a table, or the named units in detail",
          JSON_OPTION FILTER_OPTIONS "     --no-stats        Without CPU, memory, tasks and frozen, which corrald "
                                     "reads\n"
                                     "                       from each unit's cgroup: faster for many units\n",
          VERB_JSON | VERB_FILTER | VERB_STATS, 0, -1, verb_status },
        { "list", "", "Print the name of every unit, one per line", JSON_OPTION FILTER_OPTIONS, VERB_JSON | VERB_FILTER,
          0, 0, verb_list },
        { "top", "", "A live view of every unit: state, CPU, memory, health",
          FILTER_OPTIONS "     --interval SPAN   Refresh the statistics every SPAN (default 2s; state\n"
                         "                       changes redraw at once)\n"
                         "     --iterations N    Stop after N frames (default: until Ctrl-C)\n",
          VERB_FILTER | VERB_TOP, 0, 0, verb_top },
        { "start", "[--all] UNIT...", "Start units; wait until they run (or failed)", WAIT_OPTIONS ALL_OPTION,
          VERB_WAIT | VERB_ALL, 0, -1, verb_start },
        { "stop", "[--all] UNIT...", "Stop units (stop signal, grace, cgroup.kill); wait until none is left",
          WAIT_OPTIONS ALL_OPTION, VERB_WAIT | VERB_ALL, 0, -1, verb_stop },
        { "restart", "[--all] UNIT...", "Restart units (instances of a service roll); wait until they run",
          WAIT_OPTIONS ALL_OPTION "     --all-at-once     Restart every instance of a service at once, without "
                                  "rolling\n",
          VERB_WAIT | VERB_ALL | VERB_ROLL, 0, -1, verb_restart },
        { "kill", "[-s SIGNAL] UNIT...", "Send a signal to every process of units",
          "  -s --signal SIGNAL   The signal, by name (TERM, SIGKILL) or number; default SIGTERM\n", VERB_SIGNAL, 1, -1,
          verb_kill },
        { "freeze", "UNIT...", "Freeze units (cgroup.freeze)", NULL, 0, 1, -1, verb_freeze },
        { "thaw", "UNIT...", "Thaw frozen units", NULL, 0, 1, -1, verb_thaw },
        { "reload", "", "Make corrald re-read its configuration; wait until what changed is done", WAIT_OPTIONS,
          VERB_WAIT, 0, 0, verb_reload },
        { "add", "NAME [KEY=VALUE...] [-- COMMAND [ARG...]]", "Add (or replace) a runtime service and start it",
          WAIT_OPTIONS, VERB_WAIT | VERB_POSIX, 1, -1, verb_add },
        { "remove", "NAME", "Remove a runtime service, stopping its units", WAIT_OPTIONS, VERB_WAIT, 1, 1,
          verb_remove },
        { "scale", "NAME N", "Set the number of instances of a runtime service", WAIT_OPTIONS, VERB_WAIT, 2, 2,
          verb_scale },
        { "apply", "FILE", "Make the runtime services the [program:NAME] sections of FILE", WAIT_OPTIONS, VERB_WAIT, 1,
          1, verb_apply },
        { "cat", "NAME", "Show where a service is defined, and its section", NULL, 0, 1, 1, verb_cat },
        { "run", "[OPTIONS...] [--] COMMAND [ARG...]", "Run a one-off job as you; print its id",
          "     --name NAME       The job's name (default: job-XXXXXXXX)\n"
          "     --timeout SPAN    Stop the job after SPAN (\"30s\", \"5min\", \"1h 30min\")\n"
          "     --env KEY=VALUE   Add to the job's environment (repeatable)\n"
          "     --cwd DIR         The job's working directory (absolute)\n"
          "  -p --property KEY=VALUE\n"
          "                       A limit (memory_max=1G, pids_max=100, ...) or\n"
          "                       stop_signal, stop_timeout, kill_mode (repeatable)\n"
          "     --wait            Wait for the job to end and exit with its status\n"
          "                       (128+N when signal N killed it); the job gets this\n"
          "                       stdin, stdout and stderr; Ctrl-C cancels it\n"
          "     --no-pipe         With --wait: leave the job's output with corrald\n",
          VERB_RUN, 1, -1, verb_run },
        { "cancel", "[--grace SPAN] [-s SIGNAL] JOB", "Stop a job",
          "     --grace SPAN      Time between the stop signal and cgroup.kill\n"
          "                       (default: the job's stop_timeout)\n"
          "  -s --signal SIGNAL   The stop signal (default: the job's stop_signal)\n",
          VERB_SIGNAL | VERB_CANCEL, 1, 1, verb_cancel },
        { "wait", "JOB", "Wait for a job to end; exit with its status (128+N for signal N)", JSON_OPTION, VERB_JSON, 1,
          1, verb_wait },
        { "events", "", "Print one line per state change of any unit, as they happen", JSON_OPTION, VERB_JSON, 0, 0,
          verb_events },
        { "metrics", "", "Print corrald's metrics in the Prometheus text format", NULL, 0, 0, 0, verb_metrics },
        { "logs", "[-f] [-n N] [--since TIME] [UNIT...]",
          "Show the last lines units wrote (all units when none is named), in time order",
          "  -f --follow           Then print new lines as they come, until interrupted\n"
          "  -n --lines N          How many lines (default 10; \"all\")\n"
          "     --since TIME       Only lines from TIME on: \"2026-11-23 04:15\", \"04:15:00\",\n"
          "                       \"today\", \"@1795407358\", \"-10min\", \"1h ago\"\n" JSON_OPTION,
          VERB_LOGS | VERB_JSON, 0, -1, verb_logs },
};

static const Verb *verb_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, name))
                        return &verbs[i];
        return NULL;
}

static void help(void) {
        printf("corralctl [OPTIONS...] COMMAND [ARGS...]\n\n"
               "Control corrald, the corral process supervisor.\n\n"
               "Commands:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                char left[64];
                snprintf(left, sizeof(left), "%s %s", verbs[i].name, verbs[i].usage);
                if (strlen(left) > 24)
                        printf("  %s\n  %-24s  %s\n", left, "", verbs[i].summary);
                else
                        printf("  %-24s  %s\n", left, verbs[i].summary);
        }
        printf("  %-24s  %s\n", "help [COMMAND]", "Show this help, or the help of a command");
        printf("\nOptions:\n"
               "  -h --help              Show this help\n"
               "     --version           Show the version\n"
               "     --socket PATH       The control socket (default: $CORRAL_SOCKET, else\n"
               "                         " CORRAL_DEFAULT_SOCKET
               ")\n"
               "     --json              Print JSON (status, list, wait, events, logs)\n"
               "\nTables are aligned and coloured on a terminal; piped, they are\n"
               "tab-separated plain text.\n"
               "\nUnits are named as UNIT (web@0), SERVICE (web: all its instances) or a\n"
               "shell glob ('web@*'); every name is checked before anything is done.\n"
               "start, stop, restart, reload, add, remove, scale and apply wait until\n"
               "their units reached their goal and print one line per unit\n"
               "(--no-block: return at once).\n"
               "\nExit status: 0 success, 1 failure (also: a unit missed its goal), 2 usage\n"
               "error, 3 a unit given to \"status\" is not running, 4 no such unit or job;\n"
               "\"run --wait\" and \"wait\": the job's exit status.\n");
}

static void help_verb(const Verb *v) {
        printf("corralctl %s %s\n\n%s.\n", v->name, v->usage, v->summary);
        printf("\nOptions:\n%s"
               "  -h --help            Show this help\n",
               v->options ?: "");
}

/* Says what is wrong with the command line, and where help is. */
static int usage_error_verb(const Verb *v, const char *fmt, const char *arg) {
        fputs("corralctl: ", stderr);
        fprintf(stderr, fmt, arg);
        fprintf(stderr, "\nTry 'corralctl %s%s--help'.\n", v ? v->name : "", v ? " " : "");
        return EXIT_USAGE;
}

static int usage_error(const char *fmt, const char *arg) {
        return usage_error_verb(/* v= */ NULL, fmt, arg);
}

/* After getopt has printed what it did not like. */
static int usage_hint(const Verb *v) {
        fprintf(stderr, "Try 'corralctl %s%s--help'.\n", v ? v->name : "", v ? " " : "");
        return EXIT_USAGE;
}

static const char *option_name(const struct option *options, int c) {
        for (; options->name; options++)
                if (options->val == c)
                        return options->name;
        return "?";
}

enum {
        ARG_VERSION = 0x100,
        ARG_SOCKET,
        ARG_JSON,
        ARG_NAME,
        ARG_TIMEOUT,
        ARG_WAIT,
        ARG_ENV,
        ARG_CWD,
        ARG_STATE,
        ARG_KIND,
        ARG_INTERVAL,
        ARG_ITERATIONS,
        ARG_NO_PIPE,
        ARG_GRACE,
        ARG_SINCE,
        ARG_NO_BLOCK,
        ARG_ALL,
        ARG_ALL_AT_ONCE,
        ARG_NO_STATS,
};

/* logs -n: a count, or "all". */
static int parse_lines(const char *s, uint32_t *ret) {
        unsigned n;

        if (streq(s, "all")) {
                *ret = CORRAL_LOGS_ALL;
                return 0;
        }
        if (parse_unsigned(s, &n) < 0 || n >= CORRAL_LOGS_ALL)
                return -EINVAL;
        *ret = n;
        return 0;
}

static const char *const unit_states[] = { "inactive", "starting", "running", "stopping", "backoff", "failed" };

/* --state running,failed (repeatable): adds each state, known ones only. */
static int add_states(const Verb *v, const char *arg, Args *a) {
        _cleanup_free_ char *copy = strdup(arg);
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
                bool known = false;

                for (size_t i = 0; i < ELEMENTSOF(unit_states); i++)
                        known = known || streq(w, unit_states[i]);
                if (!known)
                        return usage_error_verb(v, "unknown state '%s'", w);
                if (strv_extend(&a->states, w) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* The options of status, list and top. Returns 0, an exit status (> 0)
 * or -ENOMEM. */
static int parse_filter_or_top_arg(const Verb *v, int c, Args *a) {
        unsigned n;

        switch (c) {
        case ARG_STATE:
                return add_states(v, optarg, a);
        case ARG_KIND:
                if (!streq(optarg, "service") && !streq(optarg, "job"))
                        return usage_error_verb(v, "--kind wants service or job, not '%s'", optarg);
                a->kind = optarg;
                return 0;
        case ARG_INTERVAL:
                if (parse_timespan(optarg, &a->interval) < 0 || a->interval < 100 * USEC_PER_MSEC)
                        return usage_error_verb(v, "invalid interval '%s' (at least 100ms)", optarg);
                return 0;
        case ARG_ITERATIONS:
                if (parse_unsigned(optarg, &n) < 0 || n == 0)
                        return usage_error_verb(v, "invalid number of iterations '%s'", optarg);
                a->iterations = n;
                return 0;
        }
        return EXIT_USAGE;
}

/* The options after the command's name; leaves optind at its first
 * positional argument. Returns -1 to go on, or an exit status (0 after
 * --help). */
static int parse_verb_args(const Verb *v, int argc, char **argv, Args *a) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "json", no_argument, NULL, ARG_JSON },
                { "signal", required_argument, NULL, 's' },
                { "name", required_argument, NULL, ARG_NAME },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
                { "wait", no_argument, NULL, ARG_WAIT },
                { "env", required_argument, NULL, ARG_ENV },
                { "cwd", required_argument, NULL, ARG_CWD },
                { "state", required_argument, NULL, ARG_STATE },
                { "kind", required_argument, NULL, ARG_KIND },
                { "interval", required_argument, NULL, ARG_INTERVAL },
                { "iterations", required_argument, NULL, ARG_ITERATIONS },
                { "no-pipe", no_argument, NULL, ARG_NO_PIPE },
                { "property", required_argument, NULL, 'p' },
                { "grace", required_argument, NULL, ARG_GRACE },
                { "follow", no_argument, NULL, 'f' },
                { "lines", required_argument, NULL, 'n' },
                { "since", required_argument, NULL, ARG_SINCE },
                { "no-block", no_argument, NULL, ARG_NO_BLOCK },
                { "all", no_argument, NULL, ARG_ALL },
                { "all-at-once", no_argument, NULL, ARG_ALL_AT_ONCE },
                { "no-stats", no_argument, NULL, ARG_NO_STATS },
                {},
        };
        static char prefix[64]; /* stays argv[0] */
        unsigned needs;
        int c;

        /* getopt's messages start with argv[0]: "corralctl run: …". */
        snprintf(prefix, sizeof(prefix), "corralctl %s", v->name);
        argv[0] = prefix;
        optind = 0; /* glibc: start afresh, with this optstring */
        /* run: the first word that is not an option starts the command. */
        while ((c = getopt_long(argc, argv, v->flags & (VERB_RUN | VERB_POSIX) ? "+hs:p:" : "hs:p:fn:", options,
                                NULL)) >= 0) {
                switch (c) {
                case 'h':
                        help_verb(v);
                        return EXIT_OK;
                case '?':
                        return usage_hint(v);
                case ARG_JSON:
                        a->json = true;
                        needs = VERB_JSON;
                        break;
                case 's':
                        if (parse_signal(optarg, &a->signal) < 0)
                                return usage_error_verb(v, "invalid signal '%s'", optarg);
                        needs = VERB_SIGNAL;
                        break;
                case ARG_TIMEOUT:
                        if (parse_timespan(optarg, &a->timeout) < 0)
                                return usage_error_verb(v, "invalid time span '%s'", optarg);
                        needs = VERB_RUN;
                        break;
                case ARG_ENV:
                case 'p':
                        if (!strchr(optarg, '=') || optarg[0] == '=')
                                return usage_error_verb(v,
                                                        c == 'p' ? "-p wants KEY=VALUE, not '%s'"
                                                                 : "--env wants KEY=VALUE, not '%s'",
                                                        optarg);
                        if (strv_extend(c == 'p' ? &a->properties : &a->env, optarg) < 0) {
                                fprintf(stderr, "corralctl: %s\n", strerror(ENOMEM));
                                return EXIT_FAIL;
                        }
                        needs = VERB_RUN;
                        break;
                case ARG_NO_PIPE:
                        a->no_pipe = true;
                        needs = VERB_RUN;
                        break;
                case ARG_GRACE:
                        if (parse_timespan(optarg, &a->grace) < 0)
                                return usage_error_verb(v, "invalid time span '%s'", optarg);
                        a->grace_set = true;
                        needs = VERB_CANCEL;
                        break;
                case ARG_NAME:
                        a->name = optarg;
                        needs = VERB_RUN;
                        break;
                case ARG_CWD:
                        a->cwd = optarg;
                        needs = VERB_RUN;
                        break;
                case ARG_WAIT:
                        a->wait = true;
                        needs = VERB_RUN;
                        break;
                case ARG_NO_BLOCK:
                        a->no_block = true;
                        needs = VERB_WAIT;
                        break;
                case ARG_ALL:
                        a->all = true;
                        needs = VERB_ALL;
                        break;
                case ARG_ALL_AT_ONCE:
                        a->all_at_once = true;
                        needs = VERB_ROLL;
                        break;
                case ARG_NO_STATS:
                        a->no_stats = true;
                        needs = VERB_STATS;
                        break;
                case ARG_STATE:
                case ARG_KIND:
                case ARG_INTERVAL:
                case ARG_ITERATIONS: {
                        int r = parse_filter_or_top_arg(v, c, a);
                        if (r == -ENOMEM) {
                                fprintf(stderr, "corralctl: %s\n", strerror(ENOMEM));
                                return EXIT_FAIL;
                        }
                        if (r != 0)
                                return r;
                        needs = c == ARG_STATE || c == ARG_KIND ? VERB_FILTER : VERB_TOP;
                        break;
                }
                case 'f':
                        a->follow = true;
                        needs = VERB_LOGS;
                        break;
                case 'n':
                        if (parse_lines(optarg, &a->lines) < 0)
                                return usage_error_verb(v, "invalid number of lines '%s'", optarg);
                        needs = VERB_LOGS;
                        break;
                case ARG_SINCE:
                        if (parse_since(optarg, now(CLOCK_REALTIME), &a->since) < 0)
                                return usage_error_verb(v, "invalid time '%s'", optarg);
                        needs = VERB_LOGS;
                        break;
                default:
                        return usage_hint(v);
                }
                if (!(v->flags & needs))
                        return usage_error_verb(v, "option --%s is not for this command", option_name(options, c));
        }
        return -1;
}

/* Checks the number of positional arguments of v. Returns -1 to go on, or
 * EXIT_USAGE. */
static int check_arg_count(const Verb *v, char **args) {
        int n = (int) strv_length(args);

        if (n < v->min_args)
                return usage_error_verb(v, "%s: missing argument", v->name);
        if (v->max_args >= 0 && n > v->max_args)
                return usage_error_verb(v, "%s: too many arguments", v->name);
        return -1;
}

/* The options before the command. Returns -1 to go on with optind at the
 * command, or an exit status. */
static int parse_global_args(int argc, char **argv, Args *a) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "socket", required_argument, NULL, ARG_SOCKET },
                { "json", no_argument, NULL, ARG_JSON },
                {},
        };
        int c;

        argv[0] = (char *) "corralctl"; /* for getopt's messages */
        /* '+': the command's own options come after it. */
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return EXIT_OK;
                case ARG_VERSION:
                        printf("corralctl %s\n", CORRAL_VERSION);
                        return EXIT_OK;
                case ARG_SOCKET:
                        a->socket = optarg;
                        break;
                case ARG_JSON:
                        a->json = true;
                        break;
                default:
                        return usage_hint(/* v= */ NULL);
                }
        if (optind >= argc)
                return usage_error("%s", "no command given");
        return -1;
}

/* "help", "help COMMAND". */
static int run_help(char **args) {
        const Verb *v;

        if (!args[0]) {
                help();
                return EXIT_OK;
        }
        v = verb_find(args[0]);
        if (!v)
                return usage_error("unknown command '%s'", args[0]);
        help_verb(v);
        return EXIT_OK;
}

static const char *socket_path(const Args *a) {
        const char *e = getenv("CORRAL_SOCKET");
        return a->socket ?: e && *e ? e : CORRAL_DEFAULT_SOCKET;
}

/* Says which socket failed and how to name another one. */
static int connect_error(const Args *a, int r) {
        fprintf(stderr, "corralctl: cannot connect to %s: %s\n", socket_path(a), strerror(-r));
        if (r == -ENOENT || r == -ECONNREFUSED)
                fprintf(stderr,
                        "Is corrald running? If it listens on another socket (its control_socket =),\n"
                        "name it with --socket PATH or CORRAL_SOCKET=PATH%s.\n",
                        a->socket || getenv("CORRAL_SOCKET") ? "" : " (the default is " CORRAL_DEFAULT_SOCKET ")");
        else if (r == -EACCES || r == -EPERM)
                fprintf(stderr,
                        "Only root and members of corrald's control_group may connect, unless\n"
                        "status_public or job_group let others in.\n");
        return EXIT_FAIL;
}

static int run_verb(const Verb *v, const Args *a) {
        corral *c = NULL;
        int r;

        r = corral_open(a->socket, &c);
        if (r < 0)
                return connect_error(a, r);
        r = v->run(c, a);
        corral_close(c);
        return r;
}

static int run(int argc, char **argv, Args *a) {
        const Verb *v;
        int r;

        r = parse_global_args(argc, argv, a);
        if (r >= 0)
                return r;
        argc -= optind;
        argv += optind;
        if (streq(argv[0], "help"))
                return run_help(argv + 1);
        v = verb_find(argv[0]);
        if (!v)
                return usage_error("unknown command '%s'", argv[0]);
        if (a->json && !(v->flags & VERB_JSON))
                return usage_error_verb(v, "%s", "--json is for status, list, wait, events and logs");
        r = parse_verb_args(v, argc, argv, a);
        if (r >= 0)
                return r;
        a->args = argv + optind;
        r = check_arg_count(v, a->args);
        if (r >= 0)
                return r;
        return run_verb(v, a);
}

int main(int argc, char **argv) {
        Args a = { .interval = 2 * USEC_PER_SEC, .lines = 10 };
        int r = run(argc, argv, &a);

        strv_free(a.env);
        strv_free(a.properties);
        strv_free(a.states);
        /* A failed write of our output (a full disk, a closed pipe) fails us. */
        if (fflush(stdout) != 0 && r == EXIT_OK)
                r = EXIT_FAIL;
        return r;
}
