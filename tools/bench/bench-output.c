/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bench-output: how fast a unit can write through corral's output
 * capture, against the same writer into a bare pipe (the limit), and what
 * the reading side costs in CPU per GB. Figures, not assertions.
 *
 *   bench-output [--bytes N] [--line N] [--runs N]
 *
 * The writer is a child that writes --bytes bytes of --line-byte lines,
 * 64 KiB per write(), as fast as the pipe takes them. Readers:
 *   pipe      read() and discard: the limit;
 *   capture   corral's UnitOutput in an sd-event loop: lines cut, kept in a
 *             64 KiB ring, nothing written anywhere;
 *   file      the same, and each line written with its ISO 8601 time to a
 *             file under /tmp rotated at 10 MiB × 5 (output = file:PATH);
 *   corrald   (with --corrald, as root, $CORRALD set) the real corrald with
 *             one unit, this program as the writer, output = file:PATH
 *             rotated at 10 MiB × 2; the CPU is corrald's (/proc/PID/stat).
 * Prints "name value unit" lines: throughput in MB/s (10^6 bytes) as the
 * writer sees it (the median of --runs) and the reader's CPU (user +
 * system) in seconds per GB (10^9 bytes). */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"
#include "output.h"
#include "time-util.h"

#define RUNS_MAX 15

static struct {
        uint64_t bytes;
        size_t line;
        unsigned runs;
        bool corrald;
        const char *report; /* --write: the writer's mode, reporting here */
} arg = { .bytes = 1000ULL * 1000 * 1000, .line = 100, .runs = 3 };

typedef struct Result {
        double mb_per_s;
        double cpu_s_per_gb;
} Result;

static usec_t cpu_self(void) {
        struct rusage ru;

        (void) getrusage(RUSAGE_SELF, &ru);
        return (usec_t) ru.ru_utime.tv_sec * USEC_PER_SEC + (usec_t) ru.ru_utime.tv_usec +
               (usec_t) ru.ru_stime.tv_sec * USEC_PER_SEC + (usec_t) ru.ru_stime.tv_usec;
}

/* The writer: --bytes bytes of lines into fd, then exit. */
_noreturn_ static void writer(int fd) {
        static char block[64 * 1024];
        uint64_t left = arg.bytes;

        for (size_t i = 0; i < sizeof(block); i++)
                block[i] = i % arg.line == arg.line - 1 ? '\n' : (char) ('a' + i % 26);
        while (left > 0) {
                size_t n = (size_t) MIN(left, (uint64_t) sizeof(block));
                ssize_t k = write(fd, block, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        _exit(1);
                }
                left -= (uint64_t) k;
        }
        _exit(0);
}

/* --write REPORT: the writer as corrald's unit, on its stdout; then its
 * own elapsed µs into REPORT. */
static int writer_as_unit(void) {
        usec_t t0 = now(CLOCK_MONOTONIC);
        pid_t pid = fork();
        FILE *f;
        int status;

        if (pid < 0)
                return 1;
        if (pid == 0)
                writer(STDOUT_FILENO);
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return 1;
        f = fopen(arg.report, "we");
        if (!f)
                return 1;
        fprintf(f, "%llu\n", (unsigned long long) (now(CLOCK_MONOTONIC) - t0));
        return fclose(f) == 0 ? 0 : 1;
}

static pid_t writer_start(int fd) {
        pid_t pid = fork();

        if (pid < 0) {
                perror("fork");
                exit(1);
        }
        if (pid == 0)
                writer(fd);
        return pid;
}

static int writer_wait(pid_t pid) {
        int status;

        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "bench-output: the writer failed\n");
                return -EIO;
        }
        return 0;
}

static Result result_of(usec_t wall, usec_t cpu) {
        return (Result) {
                .mb_per_s = (double) arg.bytes / ((double) wall / 1e6) / 1e6,
                .cpu_s_per_gb = (double) cpu / 1e6 / ((double) arg.bytes / 1e9),
        };
}

static int run_pipe(Result *ret) {
        static char buf[64 * 1024];
        int p[2];
        usec_t t0, c0;
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        t0 = now(CLOCK_MONOTONIC);
        c0 = cpu_self();
        pid = writer_start(p[1]);
        close(p[1]);
        for (;;) {
                ssize_t n = read(p[0], buf, sizeof(buf));
                if (n == 0)
                        break;
                if (n < 0 && errno != EINTR)
                        return -errno;
        }
        close(p[0]);
        if (writer_wait(pid) < 0)
                return -EIO;
        *ret = result_of(now(CLOCK_MONOTONIC) - t0, cpu_self() - c0);
        return 0;
}

static int on_child(sd_event_source *s, const siginfo_t *si, void *userdata) {
        *(int *) userdata = si->si_code == CLD_EXITED && si->si_status == 0 ? 1 : -1;
        return 0;
}

/* The writer into a UnitOutput's pipe, in an sd-event loop, until it has
 * exited and its bytes are read. */
static int run_capture(const char *file, Result *ret) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(unit_output_freep) UnitOutput *o = NULL;
        sd_event_source *child = NULL;
        int out, err, done = 0, r;
        usec_t t0, c0;
        sigset_t ss;
        pid_t pid;

        sigemptyset(&ss);
        sigaddset(&ss, SIGCHLD);
        sigprocmask(SIG_BLOCK, &ss, NULL);
        if ((r = sd_event_new(&e)) < 0 || (r = unit_output_new(e, "bench", OUTPUT_BUFFER_DEFAULT, &o)) < 0)
                return r;
        if (file) {
                OutputFile *f = NULL;
                r = output_file_open(file, 10 * 1024 * 1024, 5, /* timestamps= */ true, &f);
                if (r < 0)
                        return r;
                unit_output_set_files(o, f, /* err= */ NULL);
        }
        if ((r = unit_output_open(o, &out, &err)) < 0)
                return r;
        t0 = now(CLOCK_MONOTONIC);
        c0 = cpu_self();
        pid = writer_start(out);
        if ((r = sd_event_add_child(e, &child, pid, WEXITED, on_child, &done)) < 0)
                return r;
        /* until the writer has exited and every byte it wrote is read */
        while (done == 0 || (done > 0 && unit_output_bytes(o) < arg.bytes))
                if ((r = sd_event_run(e, UINT64_MAX)) < 0)
                        break;
        sd_event_source_unref(child);
        if (r < 0 || done < 0)
                return r < 0 ? r : -EIO;
        *ret = result_of(now(CLOCK_MONOTONIC) - t0, cpu_self() - c0);
        return unit_output_bytes(o) == arg.bytes ? 0 : -EIO;
}

static void remove_files(const char *path);

/* utime + stime of pid in µs. */
static usec_t cpu_of(pid_t pid) {
        char path[64], buf[1024];
        unsigned long long ut = 0, st = 0;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return 0;
        if (fgets(buf, sizeof(buf), f)) {
                const char *p = strrchr(buf, ')');
                /* after "pid (comm)": state is field 3, utime 14, stime 15 */
                if (p)
                        (void) sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st);
        }
        fclose(f);
        return (usec_t) ((ut + st) * USEC_PER_SEC / (unsigned long long) sysconf(_SC_CLK_TCK));
}

/* The real corrald, one unit writing through output = file:PATH. */
static int run_corrald(const char *dir, Result *ret) {
        char conf[256], report[256], logp[256], self[4096];
        const char *corrald = getenv("CORRALD");
        usec_t c0, wall = 0;
        FILE *f;
        pid_t pid;
        ssize_t n;

        n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (!corrald || n <= 0)
                return -ENOENT;
        self[n] = '\0';
        snprintf(conf, sizeof(conf), "%s/corral.conf", dir);
        snprintf(report, sizeof(report), "%s/report", dir);
        snprintf(logp, sizeof(logp), "%s/corrald.log", dir);
        unlink(report);
        f = fopen(conf, "we");
        if (!f)
                return -errno;
        fprintf(f,
                "[corral]\ncgroup = /corral-bench-output-%d\ncontrol_socket = %s/control.sock\n"
                "[program:writer]\ncommand = %s --write %s --bytes %llu --line %zu\nrestart = never\n"
                "output = file:%s/out.log\noutput_max_size = 10M\noutput_max_files = 2\n",
                (int) getpid(), dir, self, report, (unsigned long long) arg.bytes, arg.line, dir);
        fclose(f);
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                (void) dup2(fd, STDOUT_FILENO);
                (void) dup2(fd, STDERR_FILENO);
                execl(corrald, corrald, "--config", conf, (char *) NULL);
                _exit(127);
        }
        c0 = cpu_of(pid);
        /* a benchmark may look: wait for the writer's report */
        for (usec_t deadline = now(CLOCK_MONOTONIC) + 600 * USEC_PER_SEC; now(CLOCK_MONOTONIC) < deadline;) {
                f = fopen(report, "re");
                if (f) {
                        unsigned long long v = 0;
                        if (fscanf(f, "%llu", &v) == 1)
                                wall = v;
                        fclose(f);
                        if (wall > 0)
                                break;
                }
                usleep(10 * 1000);
        }
        usec_t cpu = cpu_of(pid) - c0;
        kill(pid, SIGTERM); /* our child, by its PID */
        (void) waitpid(pid, NULL, 0);
        remove_files(conf);
        remove_files(report);
        remove_files(logp);
        snprintf(logp, sizeof(logp), "%s/out.log", dir);
        remove_files(logp);
        snprintf(logp, sizeof(logp), "%s/control.sock", dir);
        unlink(logp);
        if (wall == 0)
                return -ETIMEDOUT;
        *ret = result_of(wall, cpu);
        return 0;
}

static void remove_files(const char *path) {
        char p[300];

        unlink(path);
        for (int i = 1; i < 5; i++) {
                snprintf(p, sizeof(p), "%s.%d", path, i);
                unlink(p);
        }
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return (x > y) - (x < y);
}

static double median(double *v, unsigned n) {
        qsort(v, n, sizeof(*v), cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int measure(const char *name, int (*f)(const char *, Result *), const char *file) {
        double mbs[RUNS_MAX], cpu[RUNS_MAX];

        for (unsigned i = 0; i < arg.runs; i++) {
                Result res;
                int r = f(file, &res);
                if (file)
                        remove_files(file);
                if (r < 0) {
                        fprintf(stderr, "bench-output: %s: %s\n", name, strerror(-r));
                        return r;
                }
                mbs[i] = res.mb_per_s;
                cpu[i] = res.cpu_s_per_gb;
        }
        printf("output_throughput.%s %.0f MB/s\n", name, median(mbs, arg.runs));
        printf("output_reader_cpu.%s %.2f s/GB\n", name, median(cpu, arg.runs));
        fflush(stdout);
        return 0;
}

static int pipe_adapter(const char *file, Result *ret) {
        return run_pipe(ret);
}

static int corrald_adapter(const char *dir, Result *ret) {
        return run_corrald(dir, ret);
}

static int parse_args(int argc, char **argv) {
        static const struct option options[] = {
                { "bytes", required_argument, NULL, 'b' },
                { "line", required_argument, NULL, 'l' },
                { "runs", required_argument, NULL, 'r' },
                { "corrald", no_argument, NULL, 'c' },
                { "write", required_argument, NULL, 'w' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'b':
                        arg.bytes = strtoull(optarg, NULL, 10);
                        break;
                case 'l':
                        arg.line = (size_t) strtoul(optarg, NULL, 10);
                        break;
                case 'r':
                        arg.runs = (unsigned) strtoul(optarg, NULL, 10);
                        break;
                case 'c':
                        arg.corrald = true;
                        break;
                case 'w':
                        arg.report = optarg;
                        break;
                case 'h':
                        printf("bench-output [--bytes N] [--line N] [--runs N] [--corrald]\n");
                        exit(0);
                default:
                        return -EINVAL;
                }
        if (arg.bytes == 0 || arg.line < 2 || arg.line > 64 * 1024 || arg.runs == 0 || arg.runs > RUNS_MAX)
                return -EINVAL;
        return 0;
}

int main(int argc, char **argv) {
        char file[] = "/tmp/bench-output-XXXXXX";
        int fd;

        if (parse_args(argc, argv) < 0)
                return 2;
        if (arg.report)
                return writer_as_unit();
        fd = mkstemp(file);
        if (fd < 0)
                return 1;
        close(fd);
        printf("# %llu bytes in %zu-byte lines, median of %u runs; CPU of the reading side\n",
               (unsigned long long) arg.bytes, arg.line, arg.runs);
        if (measure("pipe", pipe_adapter, NULL) < 0 || measure("capture", run_capture, NULL) < 0 ||
            measure("file", run_capture, file) < 0)
                return 1;
        if (arg.corrald) {
                char dir[] = "/tmp/bench-output-corrald-XXXXXX";
                int r;
                if (!mkdtemp(dir))
                        return 1;
                r = measure("corrald", corrald_adapter, dir);
                /* corrald's notify socket directory, beside its configuration */
                _cleanup_free_ char *notify = NULL;
                if (asprintf(&notify, "%s/notify", dir) >= 0)
                        (void) rmdir(notify);
                rmdir(dir);
                if (r < 0)
                        return 1;
        }
        return 0;
}
