/* SPDX-License-Identifier: GPL-2.0-or-later */
/* corralctl run, cancel and wait. "run --wait" passes our stdin, stdout
 * and stderr to the job (the job writes straight into them), follows the
 * job's events on a second connection, and turns Ctrl-C into a cancel
 * with the job's grace; a second Ctrl-C kills it at once. */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "macro.h"
#include "parse-util.h"
#include "strv.h"
#include "verbs.h"

typedef const char *const *names_t;

DEFINE_TRIVIAL_CLEANUP_FUNC(corral *, corral_close);
DEFINE_TRIVIAL_CLEANUP_FUNC(corral_units *, corral_units_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(corral_event *, corral_event_free);

/* Reports a failed call as verbs.c does: the daemon's message when it sent
 * one; ENOENT in the daemon's words is exit 4. */
static int job_fail(const corral *c, int r, const char *what) {
        const char *message = corral_last_error(c);

        fprintf(stderr, "corralctl: %s: %s\n", what, message ?: strerror(-r));
        return r == -ENOENT && message ? EXIT_NO_UNIT : EXIT_FAIL;
}

/* The exit status of a job that ended, as a shell reports one: its exit
 * status, or 128 + the signal that killed it; 127 when it could not be
 * started. Says why on stderr when it did not end by itself (unless
 * quiet). */
static int job_exit_status(const corral_unit *u, bool quiet) {
        const char *code = corral_unit_exit_code(u), *name = corral_unit_name(u);
        int status = corral_unit_exit_status(u);
        corral_result result = corral_unit_result_enum(u);

        if (result == CORRAL_RESULT_SPAWN_FAILED) {
                fprintf(stderr, "corralctl: %s: %s\n", name, corral_unit_error(u) ?: "could not be started");
                return EXIT_SPAWN_FAILED;
        }
        if (!code || status < 0) {
                fprintf(stderr, "corralctl: %s ended without running (%s%s%s)\n", name,
                        corral_unit_result(u) ?: "unknown result", corral_unit_error(u) ? ": " : "",
                        corral_unit_error(u) ?: "");
                return EXIT_FAIL;
        }
        if (!quiet && (result == CORRAL_RESULT_TIMEOUT || result == CORRAL_RESULT_CANCELLED))
                fprintf(stderr, "corralctl: %s: %s\n", name,
                        result == CORRAL_RESULT_TIMEOUT ? "timed out" : "cancelled");
        if (streq(code, "exited"))
                return status;
        return 128 + status;
}

/* -p KEY=VALUE: the stop keys go into o, the others are limits. Returns 0,
 * or -EINVAL having said what is wrong. */
static int job_properties(char **properties, corral_job_options *o) {
        for (char **p = properties; p && *p; p++) {
                const char *v = strchr(*p, '=') + 1; /* checked while parsing the command line */
                usec_t usec;
                int sig;

                if (strneq(*p, "stop_signal=", 12)) {
                        if (parse_signal(v, &sig) < 0)
                                goto invalid;
                        o->stop_signal = sig;
                } else if (strneq(*p, "stop_timeout=", 13)) {
                        if (parse_timespan(v, &usec) < 0)
                                goto invalid;
                        o->stop_timeout_usec = usec;
                } else if (strneq(*p, "kill_mode=", 10)) {
                        if (!streq(v, "control-group") && !streq(v, "mixed"))
                                goto invalid;
                        o->kill_mode = streq(v, "mixed") ? CORRAL_KILL_MIXED : CORRAL_KILL_CONTROL_GROUP;
                }
                continue;
invalid:
                fprintf(stderr, "corralctl: run: invalid -p %s\n", *p);
                return -EINVAL;
        }
        return 0;
}

/* The limits among -p: every entry but the stop keys. Returns a new vector
 * of borrowed strings (free() only the vector), or NULL on OOM. */
static const char **job_limits(char **properties) {
        size_t n = 0;
        const char **l = calloc(strv_length(properties) + 1, sizeof(char *));

        if (!l)
                return NULL;
        for (char **p = properties; p && *p; p++)
                if (!strneq(*p, "stop_signal=", 12) && !strneq(*p, "stop_timeout=", 13) &&
                    !strneq(*p, "kill_mode=", 10))
                        l[n++] = *p;
        return l;
}

/* Blocks SIGINT, SIGTERM and SIGHUP and returns a signalfd for them (so
 * that one which comes between the run request and the loop is not lost),
 * or -errno. */
static int signals_open(void) {
        sigset_t mask;

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, /* oldset= */ NULL) < 0)
                return -errno;
        int fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        return fd < 0 ? -errno : fd;
}

typedef struct Follow {
        corral *c, *events;
        const char *id;
        int sfd;
        int interrupted; /* the first signal we got, 0 for none */
        bool killed;     /* a second signal: no grace left */
} Follow;

/* A signal: the first cancels the job with its grace, the next kills it. */
static int follow_signal(Follow *f) {
        struct signalfd_siginfo si;
        int r;

        if (read(f->sfd, &si, sizeof(si)) != (ssize_t) sizeof(si))
                return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        if (f->interrupted && f->killed)
                return 0;
        r = f->interrupted ? corral_cancel_with(f->c, f->id, /* sig= */ 0, /* grace_usec= */ 0)
                           : corral_cancel(f->c, f->id);
        f->killed = f->interrupted != 0;
        if (!f->interrupted)
                f->interrupted = (int) si.ssi_signo;
        /* It may have ended meanwhile: its end event says how. */
        return r == -ENOENT ? 0 : r;
}

/* The job's events so far; returns 1 with the job's unit in *ret once it
 * has ended, 0 when it runs on, or -errno. */
static int follow_events(Follow *f, corral_units **ret) {
        for (;;) {
                _cleanup_(corral_event_freep) corral_event *e = NULL;
                int r = corral_next_event(f->events, /* timeout_ms= */ 0, &e);

                if (r == -ETIMEDOUT)
                        return 0;
                if (r < 0)
                        return r;
                if (!streq_ptr(corral_event_unit(e), f->id) ||
                    (!streq_ptr(corral_event_state(e), "inactive") && !streq_ptr(corral_event_state(e), "failed")))
                        continue;
                r = corral_wait_timeout(f->c, f->id, /* timeout_ms= */ 0, ret);
                if (r != -ETIMEDOUT)
                        return r < 0 ? r : 1;
        }
}

/* Follows the job until it has ended; returns corralctl's exit status. */
static int follow_job(Follow *f) {
        _cleanup_(corral_units_freep) corral_units *units = NULL;
        struct pollfd p[2] = { { .fd = corral_fd(f->events), .events = POLLIN }, { .fd = f->sfd, .events = POLLIN } };
        int r;

        /* Events may have come with the reply to subscribe: look first. */
        while ((r = follow_events(f, &units)) == 0) {
                if (poll(p, ELEMENTSOF(p), /* timeout= */ -1) < 0 && errno != EINTR)
                        return job_fail(f->c, -errno, "wait");
                if ((p[1].revents & POLLIN) && (r = follow_signal(f)) < 0)
                        return job_fail(f->c, r, "cancel");
        }
        if (r == -ECONNRESET) {
                fprintf(stderr, "corralctl: wait: corrald closed the connection\n");
                return EXIT_FAIL;
        }
        if (r < 0)
                return job_fail(r == -ENOTCONN ? f->events : f->c, r, "wait");
        r = job_exit_status(corral_units_get(units, 0), /* quiet= */ f->interrupted != 0);
        return f->interrupted ? 128 + f->interrupted : r;
}

/* run --wait: subscribe first so that no event of the job is missed. */
static int run_and_follow(corral *c, const Args *a, const corral_job_spec *spec, const corral_job_options *o) {
        _cleanup_(corral_closep) corral *events = NULL;
        _cleanup_free_ char *id = NULL;
        _cleanup_close_ int sfd = -EBADF;
        Follow f;
        int r;

        r = corral_open(a->socket, &events);
        if (r < 0)
                return job_fail(c, r, "events");
        r = corral_subscribe_jobs(events);
        if (r < 0)
                return job_fail(events, r, "events");
        sfd = signals_open();
        if (sfd < 0)
                return job_fail(c, sfd, "signals");
        r = corral_run_with(c, spec, o, &id);
        if (r < 0)
                return job_fail(c, r, "run");
        if (a->no_pipe) {
                puts(id);
                fflush(stdout);
        }
        f = (Follow) { .c = c, .events = events, .id = id, .sfd = sfd };
        return follow_job(&f);
}

static int fd_or_none(int fd) {
        return fcntl(fd, F_GETFD) < 0 ? -1 : fd;
}

int verb_run(corral *c, const Args *a) {
        _cleanup_free_ const char **limits = job_limits(a->properties);
        _cleanup_free_ char *id = NULL;
        corral_job_spec spec = {
                .argv = (names_t) a->args,
                .name = a->name,
                .env = (names_t) a->env,
                .cwd = a->cwd,
                .timeout_usec = a->timeout,
        };
        corral_job_options o = { .size = sizeof(o), .limits = limits };
        int r;

        if (!limits)
                return job_fail(c, -ENOMEM, "run");
        if (job_properties(a->properties, &o) < 0)
                return EXIT_USAGE;
        if (a->wait && !a->no_pipe) {
                /* One of ours that is closed stays corrald's. */
                o.flags |= CORRAL_JOB_STDIO;
                o.stdin_fd = fd_or_none(STDIN_FILENO);
                o.stdout_fd = fd_or_none(STDOUT_FILENO);
                o.stderr_fd = fd_or_none(STDERR_FILENO);
        }
        if (a->wait)
                return run_and_follow(c, a, &spec, &o);
        r = corral_run_with(c, &spec, &o, &id);
        if (r < 0)
                return job_fail(c, r, "run");
        puts(id);
        return EXIT_OK;
}

int verb_cancel(corral *c, const Args *a) {
        int r = corral_cancel_with(c, a->args[0], a->signal, a->grace_set ? a->grace : CORRAL_GRACE_DEFAULT);
        return r < 0 ? job_fail(c, r, "cancel") : EXIT_OK;
}

int verb_wait(corral *c, const Args *a) {
        _cleanup_(corral_units_freep) corral_units *units = NULL;
        int r = corral_wait(c, a->args[0], &units);

        if (r < 0)
                return job_fail(c, r, "wait");
        if (a->json)
                puts(corral_unit_json(corral_units_get(units, 0)) ?: "null");
        return job_exit_status(corral_units_get(units, 0), /* quiet= */ a->json);
}
