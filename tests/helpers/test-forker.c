/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Misbehaving programs for the containment tests. Every process it makes
 * inherits the environment, so the tests find them all by the marker
 * CORRAL_TEST_MARKER, never by name or PID.
 *
 *   test-forker daemon             double-fork + setsid, the main stays
 *   test-forker tree N [ignore]    N sleeping children (ignoring SIGTERM)
 *   test-forker stopped            a child that is SIGSTOPped
 *   test-forker rename             a child that renames itself
 *   test-forker forever            keeps forking new children, ignores SIGTERM
 *   test-forker orphans N          N grandchildren orphaned, exiting soon
 *   test-forker exit CODE          exits with CODE
 *   test-forker signal SIG         kills itself with SIG
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void sleep_forever(void) {
        for (;;)
                pause();
}

static void ignore_term(void) {
        signal(SIGTERM, SIG_IGN);
        signal(SIGINT, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
}

static pid_t fork_or_die(void) {
        pid_t pid = fork();
        if (pid < 0) {
                perror("fork");
                exit(2);
        }
        return pid;
}

static void cmd_daemon(void) {
        if (fork_or_die() == 0) {
                setsid();
                if (fork_or_die() == 0)
                        sleep_forever();
                _exit(0);
        }
        sleep_forever();
}

static void cmd_tree(int n, int ignore) {
        if (ignore)
                ignore_term();
        for (int i = 0; i < n; i++)
                if (fork_or_die() == 0)
                        sleep_forever();
        printf("tree: %d children\n", n);
        fflush(stdout);
        sleep_forever();
}

static void cmd_stopped(void) {
        if (fork_or_die() == 0) {
                raise(SIGSTOP);
                sleep_forever();
        }
        sleep_forever();
}

static void cmd_rename(char *argv0) {
        if (fork_or_die() == 0) {
                prctl(PR_SET_NAME, "innocent", 0, 0, 0);
                memset(argv0, 0, strlen(argv0));
                strcpy(argv0, "kworker");
                setsid();
                sleep_forever();
        }
        sleep_forever();
}

static void cmd_forever(void) {
        ignore_term();
        for (;;) {
                if (fork_or_die() == 0)
                        sleep_forever();
                usleep(2000);
        }
}

static void cmd_orphans(int n) {
        for (int i = 0; i < n; i++)
                if (fork_or_die() == 0) {
                        if (fork_or_die() == 0) {
                                usleep(100000);
                                _exit(0);
                        }
                        _exit(0);
                }
        /* Reap the middle generation: the grandchildren are orphans now,
         * and only the subreaper may reap them. */
        for (int i = 0; i < n; i++)
                (void) wait(NULL);
        printf("orphans: made %d\n", n);
        fflush(stdout);
        sleep_forever();
}

int main(int argc, char *argv[]) {
        const char *cmd = argc > 1 ? argv[1] : "";
        int n = argc > 2 ? atoi(argv[2]) : 0;

        if (strcmp(cmd, "daemon") == 0)
                cmd_daemon();
        else if (strcmp(cmd, "tree") == 0)
                cmd_tree(n, argc > 3 && strcmp(argv[3], "ignore") == 0);
        else if (strcmp(cmd, "stopped") == 0)
                cmd_stopped();
        else if (strcmp(cmd, "rename") == 0)
                cmd_rename(argv[0]);
        else if (strcmp(cmd, "forever") == 0)
                cmd_forever();
        else if (strcmp(cmd, "orphans") == 0)
                cmd_orphans(n);
        else if (strcmp(cmd, "exit") == 0)
                return n;
        else if (strcmp(cmd, "signal") == 0) {
                signal(n, SIG_DFL);
                raise(n);
                return 99;
        }
        fprintf(stderr, "usage: see the source\n");
        return 2;
}
