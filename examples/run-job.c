/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* run-job: run a command as a corral job, the way a program that launches
 * programs (an agent, a job runner, an editor) would, using nothing but
 * libcorral:
 *
 *     run-job [-t SECONDS] [-S SOCKET] COMMAND [ARG...]
 *
 * The job gets this program's stdin, stdout and stderr (passed to corrald
 * as descriptors), so its output shows live; it runs in a cgroup of its
 * own, stopped after SECONDS when -t is given. Ctrl-C cancels it with a
 * 1 s grace (then cgroup.kill: nothing of it is left). At the end the
 * result goes to stderr, and run-job exits as a shell would: the job's
 * exit status, or 128 + the signal that ended it.
 *
 * Build: cc run-job.c $(pkg-config --cflags --libs libcorral) */

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <corral/corral.h>

#define GRACE_USEC 1000000

static int die(corral *c, const char *what, int r) {
        const char *message = corral_last_error(c);

        fprintf(stderr, "run-job: %s: %s\n", what, message ? message : strerror(-r));
        return 1;
}

/* SIGINT and SIGTERM as readable events of a descriptor, in our poll. */
static int signals_fd(void) {
        sigset_t mask;

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -1;
        return signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* Reads what events have come; returns 1 once the job has ended (its unit
 * in *ret), 0 while it runs, or a negative errno. */
static int job_ended(corral *events, corral *c, const char *id, corral_units **ret) {
        corral_event *e;
        int r;

        while ((r = corral_next_event(events, 0, &e)) == 0) {
                int end = strcmp(corral_event_unit(e), id) == 0 && (strcmp(corral_event_state(e), "inactive") == 0 ||
                                                                    strcmp(corral_event_state(e), "failed") == 0);
                corral_event_free(e);
                if (end && (r = corral_wait_timeout(c, id, 0, ret)) != -ETIMEDOUT)
                        return r < 0 ? r : 1;
        }
        return r == -ETIMEDOUT ? 0 : r;
}

/* The result, on stderr; the exit status, as a shell reports one. */
static int report(const corral_unit *u) {
        const char *code = corral_unit_exit_code(u), *error = corral_unit_error(u);
        int status = corral_unit_exit_status(u);

        fprintf(stderr, "run-job: %s: %s", corral_unit_name(u), corral_unit_result(u));
        if (code)
                fprintf(stderr, " (%s %d)", code, status);
        if (error)
                fprintf(stderr, ": %s", error);
        fputc('\n', stderr);
        if (corral_unit_result_enum(u) == CORRAL_RESULT_SPAWN_FAILED || !code)
                return 127;
        return strcmp(code, "exited") == 0 ? status : 128 + status;
}

int main(int argc, char **argv) {
        const char *socket = NULL;
        corral *c = NULL, *events = NULL;
        corral_units *units = NULL;
        char *id = NULL;
        int opt, r, sfd, ret = 1;
        long timeout = 0;
        bool cancelled = false;

        while ((opt = getopt(argc, argv, "+t:S:")) >= 0)
                if (opt == 't')
                        timeout = strtol(optarg, NULL, 10);
                else if (opt == 'S')
                        socket = optarg;
                else
                        return 2;
        if (optind >= argc) {
                fprintf(stderr, "usage: run-job [-t SECONDS] [-S SOCKET] COMMAND [ARG...]\n");
                return 2;
        }

        /* Two connections: one for requests, one for the job events,
         * subscribed before the job starts so that no event is missed. */
        if ((r = corral_open(socket, &c)) < 0 || (r = corral_open(socket, &events)) < 0) {
                ret = die(NULL, "connect", r);
                goto finish;
        }
        if ((r = corral_subscribe_jobs(events)) < 0) {
                ret = die(events, "subscribe", r);
                goto finish;
        }
        sfd = signals_fd();

        corral_job_spec spec = { .argv = (const char *const *) argv + optind,
                                 .timeout_usec = (uint64_t) timeout * 1000000 };
        corral_job_options o = { .size = sizeof(o),
                                 .flags = CORRAL_JOB_STDIO,
                                 .stdin_fd = STDIN_FILENO,
                                 .stdout_fd = STDOUT_FILENO,
                                 .stderr_fd = STDERR_FILENO };
        if (sfd < 0 || (r = corral_run_with(c, &spec, &o, &id)) < 0) {
                r = sfd < 0 ? -errno : r;
                ret = die(c, "run", r);
                goto finish;
        }

        for (;;) {
                struct pollfd p[] = { { .fd = corral_fd(events), .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
                struct signalfd_siginfo si;

                r = job_ended(events, c, id, &units);
                if (r != 0)
                        break;
                if (poll(p, 2, -1) < 0 && errno != EINTR)
                        break;
                if ((p[1].revents & POLLIN) && read(sfd, &si, sizeof(si)) == sizeof(si) && !cancelled) {
                        fprintf(stderr, "run-job: cancelling %s (1 s grace)\n", id);
                        if ((r = corral_cancel_with(c, id, 0, GRACE_USEC)) < 0 && r != -ENOENT)
                                break;
                        cancelled = true;
                }
        }
        if (r < 0)
                ret = die(c, "wait", r);
        else
                ret = report(corral_units_get(units, 0));
finish:
        corral_units_free(units);
        free(id);
        corral_close(events);
        corral_close(c);
        return ret;
}
