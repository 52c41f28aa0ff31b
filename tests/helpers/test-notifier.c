/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A program that speaks sd_notify(3), for end-to-end tests of units with
 * `ready = notify`. It notifies through $NOTIFY_SOCKET (a path or an
 * abstract "@…" name; libsystemd's sd_notify handles both) and prints one
 * line on stdout for each step ("test-notifier: sent READY=1 STATUS=ready").
 * Without NOTIFY_SOCKET, or when a send fails, the line says so ("cannot
 * send …") and the program goes on as if it had sent.
 *
 *   test-notifier ready DELAY_MS            after DELAY_MS, READY=1 and STATUS=ready; then sleeps
 *   test-notifier silent                    never notifies; sleeps
 *   test-notifier watchdog INTERVAL_MS N    READY=1, then WATCHDOG=1 every INTERVAL_MS, N times;
 *                                           then stops pinging and sleeps
 *   test-notifier mainpid-outside           MAINPID=1 (a process outside any unit), then READY=1;
 *                                           then sleeps
 *   test-notifier mainpid-child             forks a child that sleeps; MAINPID=<child> and READY=1
 *                                           in one message; then exits 0, leaving the child as the
 *                                           main process
 *   test-notifier mainpid-target            forks a child named "corral-target" (prctl) that sleeps;
 *                                           MAINPID=<child> and READY=1 in one message; then reaps
 *                                           the child when it dies ("child N reaped") and sleeps
 *   test-notifier extend MS                 EXTEND_TIMEOUT_USEC=<MS*1000>, then after MS/2 ms
 *                                           READY=1; then sleeps
 *   test-notifier stopping                  READY=1, after 100 ms STOPPING=1, after another 100 ms
 *                                           exits 0
 *   test-notifier status TEXT MS            READY=1 and STATUS=TEXT, where \xHH stands for the byte
 *                                           HH (any byte but NUL and newline, valid UTF-8 or not);
 *                                           then sleeps, or exits 0 after MS ms when MS > 0
 *
 * "Sleeps" means forever, until a signal ends it (SIGTERM keeps its
 * default action).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

static void sleep_forever(void) {
        for (;;)
                pause();
}

static void sleep_ms(unsigned long ms) {
        struct timespec ts = { .tv_sec = (time_t) (ms / 1000), .tv_nsec = (long) (ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static unsigned long arg_ms(int argc, char *argv[], int i) {
        char *end;
        unsigned long v;

        if (i >= argc) {
                fprintf(stderr, "test-notifier: %s: missing argument\n", argv[1]);
                exit(2);
        }
        errno = 0;
        v = strtoul(argv[i], &end, 10);
        if (errno != 0 || end == argv[i] || *end != '\0') {
                fprintf(stderr, "test-notifier: bad number \"%s\"\n", argv[i]);
                exit(2);
        }
        return v;
}

/* Sends state (newline-separated assignments) and says so on stdout, on
 * one line. */
static void notify(const char *state) {
        char line[256];
        int r;

        snprintf(line, sizeof(line), "%s", state);
        for (char *p = line; *p; p++)
                if (*p == '\n')
                        *p = ' ';
        r = sd_notify(/* unset_environment= */ 0, state);
        if (r > 0)
                printf("test-notifier: sent %s\n", line);
        else
                printf("test-notifier: cannot send %s: %s\n", line, r == 0 ? "NOTIFY_SOCKET is not set" : strerror(-r));
        fflush(stdout);
}

static void cmd_ready(unsigned long delay_ms) {
        sleep_ms(delay_ms);
        notify("READY=1\nSTATUS=ready");
        sleep_forever();
}

static void cmd_silent(void) {
        printf("test-notifier: silent\n");
        fflush(stdout);
        sleep_forever();
}

static void cmd_watchdog(unsigned long interval_ms, unsigned long n) {
        notify("READY=1");
        for (unsigned long i = 0; i < n; i++) {
                sleep_ms(interval_ms);
                notify("WATCHDOG=1");
        }
        printf("test-notifier: stopped pinging after %lu\n", n);
        fflush(stdout);
        sleep_forever();
}

static void cmd_mainpid_outside(void) {
        notify("MAINPID=1");
        notify("READY=1");
        sleep_forever();
}

static void cmd_mainpid_child(void) {
        char state[64];
        pid_t pid;

        fflush(stdout);
        pid = fork();
        if (pid < 0) {
                perror("fork");
                exit(2);
        }
        if (pid == 0)
                sleep_forever();
        snprintf(state, sizeof(state), "MAINPID=%d\nREADY=1", (int) pid);
        notify(state);
        printf("test-notifier: exiting, child %d stays\n", (int) pid);
        fflush(stdout);
        exit(0);
}

/* For test-attacks' MAINPID= race: the child is the process whose PID
 * the recycle probe hands to another process while corrald looks at it;
 * this parent reaps it at once, so that its PID is free again. */
static void cmd_mainpid_target(void) {
        char state[64];
        pid_t pid;

        int named[2];
        char c;

        fflush(stdout);
        if (pipe(named) < 0) {
                perror("pipe");
                exit(2);
        }
        pid = fork();
        if (pid < 0) {
                perror("fork");
                exit(2);
        }
        if (pid == 0) {
                (void) prctl(PR_SET_NAME, "corral-target");
                (void) !write(named[1], "x", 1);
                sleep_forever();
        }
        close(named[1]);
        if (read(named[0], &c, 1) != 1) { /* named before corrald hears of it */
                perror("read");
                exit(2);
        }
        close(named[0]);
        snprintf(state, sizeof(state), "MAINPID=%d\nREADY=1", (int) pid);
        notify(state);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
        printf("test-notifier: child %d reaped\n", (int) pid);
        fflush(stdout);
        sleep_forever();
}

static void cmd_extend(unsigned long ms) {
        char state[64];

        snprintf(state, sizeof(state), "EXTEND_TIMEOUT_USEC=%llu", (unsigned long long) ms * 1000ULL);
        notify(state);
        sleep_ms(ms / 2);
        notify("READY=1");
        sleep_forever();
}

static void cmd_stopping(void) {
        notify("READY=1");
        sleep_ms(100);
        notify("STOPPING=1");
        sleep_ms(100);
        printf("test-notifier: exiting\n");
        fflush(stdout);
        exit(0);
}

static void cmd_status(const char *text, unsigned long ms) {
        char state[512] = "READY=1\nSTATUS=", *o = state + strlen(state);

        for (const char *p = text; *p && o < state + sizeof(state) - 1; p++) {
                unsigned byte;
                if (p[0] == '\\' && p[1] == 'x' && isxdigit((unsigned char) p[2]) && isxdigit((unsigned char) p[3]) &&
                    sscanf(p + 2, "%2x", &byte) == 1 && byte != 0 && byte != '\n') {
                        *o++ = (char) byte;
                        p += 3;
                } else
                        *o++ = *p;
        }
        *o = '\0';
        notify(state);
        if (ms == 0)
                sleep_forever();
        sleep_ms(ms);
        exit(0);
}

int main(int argc, char *argv[]) {
        const char *cmd = argc > 1 ? argv[1] : "";

        if (strcmp(cmd, "ready") == 0)
                cmd_ready(arg_ms(argc, argv, 2));
        else if (strcmp(cmd, "silent") == 0)
                cmd_silent();
        else if (strcmp(cmd, "watchdog") == 0)
                cmd_watchdog(arg_ms(argc, argv, 2), arg_ms(argc, argv, 3));
        else if (strcmp(cmd, "mainpid-outside") == 0)
                cmd_mainpid_outside();
        else if (strcmp(cmd, "mainpid-child") == 0)
                cmd_mainpid_child();
        else if (strcmp(cmd, "mainpid-target") == 0)
                cmd_mainpid_target();
        else if (strcmp(cmd, "extend") == 0)
                cmd_extend(arg_ms(argc, argv, 2));
        else if (strcmp(cmd, "stopping") == 0)
                cmd_stopping();
        else if (strcmp(cmd, "status") == 0 && argc > 2)
                cmd_status(argv[2], arg_ms(argc, argv, 3));
        fprintf(stderr, "usage: see the source\n");
        return 2;
}
