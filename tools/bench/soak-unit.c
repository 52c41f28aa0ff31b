/* SPDX-License-Identifier: GPL-2.0-or-later */
/* soak-unit: the programs the soak (tools/bench/soak.c) runs as units.
 *
 *     soak-unit sleep                 sleeps
 *     soak-unit notify MAINPID        ready = notify: READY=1 after a random
 *                                     delay (with MAINPID=<a child> when
 *                                     MAINPID is 1: the child goes on, this
 *                                     process exits), then WATCHDOG=1 and
 *                                     STATUS=<random bytes> every 0.2-1 s
 *     soak-unit tree N                N children; all ignore SIGTERM
 *     soak-unit fork                  a daemon-style grandchild (setsid)
 *                                     beside the main process
 *     soak-unit crash MS              ends after up to MS ms: an exit
 *                                     status or a signal
 *
 * Duplicates: each incarnation of a unit takes an exclusive flock on
 * $SOAK_DIR/locks/$NAME[@$INSTANCE] and keeps it in every process it forks
 * (the descriptor is inherited), so the lock is held exactly while some
 * process of the incarnation lives. An incarnation that finds the lock
 * held — two live incarnations of one unit — appends a line to
 * $SOAK_DIR/duplicates and goes on. Notifications are counted in the
 * shared file $SOAK_DIR/counters (see SoakCounters in soak.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "soak.h"

static SoakCounters *counters;

static void sleep_ms(unsigned long ms) {
        struct timespec ts = { .tv_sec = (time_t) (ms / 1000), .tv_nsec = (long) (ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static void sleep_forever(void) {
        for (;;)
                pause();
}

static void ignore_term(void) {
        signal(SIGTERM, SIG_IGN);
        signal(SIGINT, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
}

static void count(unsigned i) {
        if (counters)
                __atomic_fetch_add(&counters->n[i], 1, __ATOMIC_RELAXED);
}

static void map_counters(const char *dir) {
        char path[4096];
        int fd;

        snprintf(path, sizeof(path), "%s/counters", dir);
        fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return;
        void *p = mmap(NULL, sizeof(SoakCounters), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        close(fd);
        if (p != MAP_FAILED)
                counters = p;
}

/* The lock of this incarnation; it stays open (not close-on-exec does not
 * matter: nothing here execs) in every child. */
static void take_lock(const char *dir) {
        const char *name = getenv("NAME"), *instance = getenv("INSTANCE");
        char path[4096], line[256];
        int fd, n;

        if (!name)
                return;
        snprintf(path, sizeof(path), "%s/locks/%s%s%s", dir, name, instance && *instance ? "@" : "",
                 instance && *instance ? instance : "");
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return;
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
                return;
        count(SOAK_COUNT_DUPLICATE);
        n = snprintf(line, sizeof(line), "%s%s%s pid %d: the lock is held by another live incarnation\n", name,
                     instance && *instance ? "@" : "", instance && *instance ? instance : "", (int) getpid());
        snprintf(path, sizeof(path), "%s/duplicates", dir);
        int out = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (out >= 0) {
                (void) !write(out, line, (size_t) n);
                close(out);
        }
        /* then wait for it, so that this incarnation holds it next */
        (void) flock(fd, LOCK_EX);
}

static unsigned rnd(unsigned n) {
        return n ? (unsigned) random() % n : 0;
}

static void notify_loop(void) {
        for (;;) {
                char msg[128] = "WATCHDOG=1\nSTATUS=";
                size_t len = strlen(msg), n = 1 + rnd(48);
                bool invalid = false;

                for (size_t i = 0; i < n; i++) {
                        unsigned char b = (unsigned char) (1 + rnd(255));
                        if (b == '\n')
                                b = ' ';
                        if (b >= 0x80)
                                invalid = true; /* random high bytes are almost never valid UTF-8 */
                        msg[len++] = (char) b;
                }
                msg[len] = '\0';
                if (sd_notify(0, msg) > 0) {
                        count(SOAK_COUNT_WATCHDOG);
                        count(SOAK_COUNT_STATUS);
                        if (invalid)
                                count(SOAK_COUNT_STATUS_BINARY);
                }
                sleep_ms(200 + rnd(800));
        }
}

static void cmd_notify(bool mainpid) {
        sleep_ms(rnd(500));
        if (mainpid) {
                char state[64];
                pid_t pid = fork();
                if (pid < 0)
                        exit(2);
                if (pid == 0) {
                        sleep_ms(50);
                        srandom((unsigned) getpid());
                        notify_loop();
                }
                snprintf(state, sizeof(state), "MAINPID=%d\nREADY=1", (int) pid);
                if (sd_notify(0, state) > 0) {
                        count(SOAK_COUNT_MAINPID);
                        count(SOAK_COUNT_READY);
                }
                exit(0);
        }
        if (sd_notify(0, "READY=1\nSTATUS=ready") > 0)
                count(SOAK_COUNT_READY);
        notify_loop();
}

static void cmd_tree(unsigned n) {
        ignore_term();
        for (unsigned i = 0; i < n; i++)
                if (fork() == 0)
                        sleep_forever();
        sleep_forever();
}

static void cmd_fork(void) {
        if (fork() == 0) {
                setsid();
                if (fork() == 0)
                        sleep_forever();
                _exit(0);
        }
        sleep_forever();
}

static void cmd_crash(unsigned ms) {
        static const int sigs[] = { SIGKILL, SIGSEGV, SIGABRT, SIGTERM };
        struct rlimit no_core = {};

        sleep_ms(100 + rnd(ms));
        switch (rnd(3)) {
        case 0:
                exit(1 + (int) rnd(100));
        case 1:
                (void) setrlimit(RLIMIT_CORE, &no_core);
                signal(SIGSEGV, SIG_DFL);
                raise(sigs[rnd(ELEMENTSOF(sigs))]);
                exit(3);
        default:
                exit(0); /* restart = always restarts it, on-failure does not */
        }
}

int main(int argc, char *argv[]) {
        const char *dir = getenv("SOAK_DIR");

        srandom((unsigned) getpid() ^ (unsigned) time(NULL));
        if (argc < 2 || !dir) {
                fprintf(stderr, "soak-unit: usage: soak-unit sleep|notify|tree|fork|crash …, with $SOAK_DIR\n");
                return 2;
        }
        map_counters(dir);
        count(SOAK_COUNT_EXEC);
        take_lock(dir);
        if (streq(argv[1], "sleep"))
                sleep_forever();
        if (streq(argv[1], "notify"))
                cmd_notify(argc > 2 && streq(argv[2], "1"));
        if (streq(argv[1], "tree"))
                cmd_tree(argc > 2 ? (unsigned) atoi(argv[2]) : 2);
        if (streq(argv[1], "fork"))
                cmd_fork();
        if (streq(argv[1], "crash"))
                cmd_crash(argc > 2 ? (unsigned) atoi(argv[2]) : 1000);
        fprintf(stderr, "soak-unit: unknown mode %s\n", argv[1]);
        return 2;
}
