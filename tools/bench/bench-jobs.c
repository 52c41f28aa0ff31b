/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bench-jobs: job round trips through libcorral against the limit.
 *
 *     bench-jobs [--count N] [--parallel P] [--quick]
 *
 * corral: a real corrald; N times run + wait of /bin/true through
 * libcorral (corral_run_with(), corral_wait()), first one after the
 * other, then P at a time (P threads, each with its own connection).
 * limit: what no supervisor of this kind can avoid, in this process: for
 * each job mkdir a cgroup, open it, clone3(CLONE_INTO_CGROUP |
 * CLONE_PIDFD), execve(/bin/true), waitid(P_PIDFD), rmdir; one after the
 * other, then P in flight (poll on the pidfds).
 *
 * Prints "name value unit" lines (jobs_seq.corral, jobs_seq.limit,
 * jobs_seq.ratio, jobs_parP.…), as tools/bench/bench does, and "# …"
 * lines that say what was measured. Needs root and cgroup2; environment:
 * CORRALD. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "corral/corral.h"
#include "macro.h"
#include "syscall.h"
#include "test-util.h"

#define PARALLEL_MAX 64
#define ROUNDS 5

static unsigned arg_count = 1000, arg_parallel = 8;

static uint64_t now_ns(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

_noreturn_ static void die(const char *what, int r) {
        fprintf(stderr, "bench-jobs: %s: %s\n", what, strerror(ERRNO_VALUE(r)));
        exit(1);
}

/* ---- the limit ---- */

typedef struct LimitJob {
        int dir_fd, pidfd;
        char name[32];
} LimitJob;

static void limit_start(int root_fd, LimitJob *j, unsigned i) {
        static char *const argv[] = { (char *) "/bin/true", NULL }, *const envp[] = { NULL };

        snprintf(j->name, sizeof(j->name), "j%u", i);
        if (mkdirat(root_fd, j->name, 0755) < 0)
                die("mkdir", -errno);
        j->dir_fd = openat(root_fd, j->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (j->dir_fd < 0)
                die("open cgroup", -errno);
        struct corral_clone_args args = {
                .flags = CLONE_INTO_CGROUP | CLONE_PIDFD,
                .pidfd = (uint64_t) (uintptr_t) &j->pidfd,
                .exit_signal = SIGCHLD,
                .cgroup = (uint64_t) j->dir_fd,
        };
        pid_t pid = sys_clone3(&args);
        if (pid < 0)
                die("clone3", pid);
        if (pid == 0) {
                execve(argv[0], argv, envp);
                _exit(127);
        }
}

static void limit_finish(int root_fd, LimitJob *j) {
        siginfo_t si;
        int r = sys_waitid_pidfd(j->pidfd, &si, WEXITED);

        if (r < 0)
                die("waitid", r);
        if (si.si_code != CLD_EXITED || si.si_status != 0)
                die("/bin/true failed", -EIO);
        close(j->pidfd);
        close(j->dir_fd);
        /* The cgroup is empty once its only process is reaped. */
        if (unlinkat(root_fd, j->name, AT_REMOVEDIR) < 0)
                die("rmdir", -errno);
}

/* count jobs, parallel in flight; returns the elapsed nanoseconds. */
static uint64_t limit_run(const char *dir, unsigned count, unsigned parallel) {
        LimitJob jobs[PARALLEL_MAX];
        struct pollfd p[PARALLEL_MAX];
        unsigned started = 0, done = 0;
        uint64_t t0;
        int root_fd;

        if (mkdir(dir, 0755) < 0)
                die("mkdir", -errno);
        root_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                die("open", -errno);
        t0 = now_ns();
        for (; started < parallel && started < count; started++)
                limit_start(root_fd, &jobs[started], started);
        while (done < count) {
                for (unsigned i = 0; i < parallel; i++)
                        p[i] = (struct pollfd) { .fd = i < started ? jobs[i].pidfd : -1, .events = POLLIN };
                if (poll(p, parallel, -1) < 0 && errno != EINTR)
                        die("poll", -errno);
                for (unsigned i = 0; i < parallel; i++) {
                        if (p[i].fd < 0 || !(p[i].revents & POLLIN))
                                continue;
                        limit_finish(root_fd, &jobs[i]);
                        jobs[i].pidfd = -1;
                        done++;
                        if (started < count)
                                limit_start(root_fd, &jobs[i], started++);
                }
        }
        uint64_t elapsed = now_ns() - t0;
        close(root_fd);
        (void) rmdir(dir);
        return elapsed;
}

/* ---- corral ---- */

typedef struct Worker {
        const char *socket;
        atomic_uint *left;
        int error;
} Worker;

static int round_trip(corral *c) {
        static const char *const argv[] = { "/bin/true", NULL };
        _cleanup_free_ char *id = NULL;
        corral_job_options o = { .size = sizeof(o) };
        corral_units *u = NULL;
        int r;

        r = corral_run_with(c, &(corral_job_spec) { .argv = argv }, &o, &id);
        if (r < 0)
                return r;
        r = corral_wait(c, id, &u);
        if (r >= 0 && corral_unit_result_enum(corral_units_get(u, 0)) != CORRAL_RESULT_SUCCESS)
                r = -EIO;
        corral_units_free(u);
        return r;
}

static void *worker_run(void *userdata) {
        Worker *w = userdata;
        corral *c = NULL;
        int r = corral_open(w->socket, &c);

        while (r >= 0) {
                unsigned left = atomic_load(w->left);
                if (left == 0)
                        break;
                if (!atomic_compare_exchange_weak(w->left, &left, left - 1))
                        continue;
                r = round_trip(c);
        }
        w->error = r < 0 ? r : 0;
        corral_close(c);
        return NULL;
}

static uint64_t corral_run_jobs(const char *socket, unsigned count, unsigned parallel) {
        pthread_t threads[PARALLEL_MAX];
        Worker workers[PARALLEL_MAX];
        atomic_uint left = count;
        uint64_t t0 = now_ns();

        for (unsigned i = 0; i < parallel; i++) {
                workers[i] = (Worker) { .socket = socket, .left = &left };
                if (pthread_create(&threads[i], NULL, worker_run, &workers[i]) != 0)
                        die("pthread_create", -EAGAIN);
        }
        for (unsigned i = 0; i < parallel; i++) {
                (void) pthread_join(threads[i], NULL);
                if (workers[i].error < 0)
                        die("job round trip", workers[i].error);
        }
        return now_ns() - t0;
}

static bool can_connect(void *userdata) {
        corral *c = NULL;

        if (corral_open(userdata, &c) < 0)
                return false;
        corral_close(c);
        return true;
}

/* ---- output ---- */

static void figure(const char *what, unsigned parallel, uint64_t corral_ns, uint64_t limit_ns, unsigned count) {
        char name[32];

        if (parallel == 1)
                snprintf(name, sizeof(name), "%s", what);
        else
                snprintf(name, sizeof(name), "%s%u", what, parallel);
        printf("%s.corral %.1f us/job\n", name, (double) corral_ns / 1000.0 / count);
        printf("%s.limit %.1f us/job\n", name, (double) limit_ns / 1000.0 / count);
        printf("%s.ratio %.2f x\n", name, (double) corral_ns / (double) limit_ns);
}

static void parse_args(int argc, char **argv) {
        static const struct option options[] = {
                { "count", required_argument, NULL, 'n' },
                { "parallel", required_argument, NULL, 'p' },
                { "quick", no_argument, NULL, 'q' },
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'n':
                        arg_count = (unsigned) strtoul(optarg, NULL, 10);
                        break;
                case 'p':
                        arg_parallel = (unsigned) strtoul(optarg, NULL, 10);
                        break;
                case 'q':
                        arg_count = 100;
                        break;
                default:
                        exit(2);
                }
        if (arg_count == 0 || arg_parallel == 0 || arg_parallel > PARALLEL_MAX) {
                fprintf(stderr, "bench-jobs: --count ≥ 1, --parallel 1..%d\n", PARALLEL_MAX);
                exit(2);
        }
}

int main(int argc, char **argv) {
        TestDaemon d = { .pidfd = -EBADF };
        _cleanup_free_ char *limit_dir = NULL, *limit_cgroup = NULL;
        uint64_t seq_corral, seq_limit, par_corral, par_limit;

        parse_args(argc, argv);
        test_require_cgroup2_root();
        if (test_daemon_start(&d, "bench-jobs", "[corral]\nlog_level = warning\n") < 0)
                die("start corrald", -EIO);
        if (!test_wait_for(can_connect, d.socket, 30 * USEC_PER_SEC))
                die("connect to corrald", -ETIMEDOUT);

        limit_cgroup = test_cgroup_path("bench-jobs-limit");
        limit_dir = test_cgroup_fs_path(limit_cgroup);
        if (!limit_cgroup || !limit_dir)
                die("cgroup path", -ENOMEM);

        /* In rounds, corral and the limit taking turns, so that a change
         * of the machine's load (other work on it) falls on both alike. */
        seq_corral = seq_limit = par_corral = par_limit = 0;
        for (unsigned round = 0, per = (arg_count + ROUNDS - 1) / ROUNDS, done = 0; round < ROUNDS && done < arg_count;
             round++, done += per) {
                unsigned n = MIN(per, arg_count - done);

                seq_corral += corral_run_jobs(d.socket, n, 1);
                seq_limit += limit_run(limit_dir, n, 1);
                par_corral += corral_run_jobs(d.socket, n, arg_parallel);
                par_limit += limit_run(limit_dir, n, arg_parallel);
        }

        printf("# figure 9: run + wait of /bin/true through libcorral (corral_run_with, corral_wait), %u in a row "
               "(jobs_seq) and %u at a time on %u connections (jobs_par%u), in µs per job; in 5 rounds, corral and the "
               "limit taking turns\n",
               arg_count, arg_parallel, arg_parallel, arg_parallel);
        printf("# limit: mkdir a cgroup + clone3(CLONE_INTO_CGROUP) + execve(/bin/true) + waitid(P_PIDFD) + rmdir, "
               "in one process; ratio: corral / limit\n");
        figure("jobs_seq", 1, seq_corral, seq_limit, arg_count);
        figure("jobs_par", arg_parallel, par_corral, par_limit, arg_count);
        fflush(stdout);

        if (!test_daemon_stop_cleanly(&d))
                die("corrald did not stop cleanly", -EIO);
        /* Its log is for a failure: keep it off stderr. */
        (void) unlink(d.log);
        d.log = mfree(d.log);
        test_daemon_cleanup(&d);
        return 0;
}
