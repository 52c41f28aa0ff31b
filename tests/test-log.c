/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests of the log module: the stderr line, the choice of target, where a
 * unit's output goes, and — against a real systemd-journald — the
 * structured fields of corrald's messages and a unit's journal stream.
 *
 * The journald test runs in a child in a mount namespace of its own, with
 * tmpfs on /run and /var/log: the journald it starts there listens on the
 * namespace's /run/systemd/journal and writes only into that tmpfs, so
 * nothing on the machine is touched; the journald dies with the child
 * (PR_SET_PDEATHSIG) and the tmpfs with the namespace. */

#include <fcntl.h>
#include <regex.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <systemd/sd-id128.h>
#include <systemd/sd-journal.h>

#include "log.h"
#include "pidref.h"
#include "test-util.h"

#define JOURNALD_PATH "/lib/systemd/systemd-journald"
#define JOURNALD_LOG "/run/corral-test-journald.log"
#define JOURNAL_DIR "/run/log/journal"
#define TIMEOUT (10 * USEC_PER_SEC)
#define EXIT_SKIP 77
#define LONG_MESSAGE 10000 /* longer than a message may be (LOG_LINE_MAX, 4096 with its NUL) */
#define LONG_KEPT 4095

#define STAMP_RE "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z"

/* stderr redirected into a memfd, for the length of a few log calls.
 * Nothing is asserted while it is redirected, so that cmocka's messages
 * reach the real stderr. */
typedef struct Capture {
        int saved;
        int fd;
} Capture;

static void capture_start(Capture *c) {
        c->fd = memfd_create("stderr", MFD_CLOEXEC);
        c->saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
        if (c->fd < 0 || c->saved < 0 || dup2(c->fd, STDERR_FILENO) < 0)
                abort();
}

/* Restores stderr and returns what was written meanwhile (caller frees). */
static char *capture_stop(Capture *c) {
        struct stat st;
        char *buf;

        if (dup2(c->saved, STDERR_FILENO) < 0 || fstat(c->fd, &st) < 0)
                abort();
        buf = calloc(1, (size_t) st.st_size + 1);
        if (!buf || pread(c->fd, buf, (size_t) st.st_size, 0) != st.st_size)
                abort();
        c->saved = safe_close(c->saved);
        c->fd = safe_close(c->fd);
        return buf;
}

static bool matches(const char *s, const char *re) {
        regex_t r;
        bool m;

        if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB) != 0)
                abort();
        m = regexec(&r, s, 0, NULL, 0) == 0;
        regfree(&r);
        return m;
}

static void test_stderr_format(void **state) {
        _cleanup_free_ char *out = NULL;
        Capture c;
        int r, saved_errno;

        log_set_target(LOG_TARGET_STDERR);
        capture_start(&c);
        errno = EBUSY;
        r = log_unit_error_errno("web", LOG_EVENT_EXIT, -ENOENT, "cannot open %s: %m", "/nonexistent");
        saved_errno = errno;
        out = capture_stop(&c);

        assert_int_equal(r, -ENOENT);
        assert_int_equal(saved_errno, EBUSY);
        assert_true(matches(out, "^" STAMP_RE " corrald: error: web: cannot open /nonexistent: "
                                 "No such file or directory\n$"));
}

static void test_stderr_levels(void **state) {
        _cleanup_free_ char *out = NULL;
        LogFields f = { .pid = 812, .exit_code = 1, .exit_signal = SIGKILL, .restarts = 3 };
        Capture c;

        log_set_target(LOG_TARGET_STDERR);
        log_set_max_level(LOG_INFO);
        capture_start(&c);
        (void) log_unit_warning_errno("web@1", LOG_EVENT_STOP, EPIPE, "stopping: %m");
        (void) log_info("reloaded %d services", 2);
        (void) log_debug("not shown");
        (void) log_unit_fields("web@0", LOG_NOTICE, LOG_EVENT_EXIT, &f, "exited, code=%d", 1);
        (void) log_unit_fields("web@0", LOG_INFO, LOG_EVENT_EXIT, /* fields= */ NULL, "no fields");
        out = capture_stop(&c);

        assert_true(matches(out, "^" STAMP_RE " corrald: warning: web@1: stopping: Broken pipe\n" STAMP_RE " corrald: "
                                 "reloaded 2 "
                                 "services"
                                 "\n" STAMP_RE " corrald: web@0: exited, code=1\n" STAMP_RE " corrald: web@0: no "
                                 "fields\n$"));
}

static void test_stderr_long(void **state) {
        _cleanup_free_ char *out = NULL, *big = malloc(10000);
        Capture c;
        size_t n;

        assert_non_null(big);
        memset(big, 'x', 9999);
        big[9999] = '\0';

        log_set_target(LOG_TARGET_STDERR);
        capture_start(&c);
        (void) log_unit_info("web", LOG_EVENT_START, "%s", big);
        out = capture_stop(&c);

        n = strlen(out);
        assert_true(n > 4000 && n < 4096 + 256);
        assert_ptr_equal(strchr(out, '\n'), out + n - 1);
        assert_true(matches(out, "^" STAMP_RE " corrald: web: x+\n$"));
}

/* Sets JOURNAL_STREAM (NULL: unsets it) and asks LOG_TARGET_AUTO. */
static bool auto_with(const char *journal_stream) {
        if (journal_stream)
                assert_return_code(setenv("JOURNAL_STREAM", journal_stream, /* overwrite= */ 1), errno);
        else
                assert_return_code(unsetenv("JOURNAL_STREAM"), errno);
        log_set_target(LOG_TARGET_AUTO);
        return log_target_is_journal();
}

static void test_target(void **state) {
        char stream[64], other[64];
        struct stat st;

        assert_return_code(fstat(STDERR_FILENO, &st), errno);
        snprintf(stream, sizeof(stream), "%llu:%llu", (unsigned long long) st.st_dev, (unsigned long long) st.st_ino);
        snprintf(other, sizeof(other), "%llu:%llu", (unsigned long long) st.st_dev, (unsigned long long) st.st_ino + 1);

        assert_false(auto_with(NULL));
        assert_false(auto_with(""));
        assert_false(auto_with("garbage"));
        assert_false(auto_with(":1"));
        assert_false(auto_with("1:"));
        assert_false(auto_with("-1:2"));
        assert_false(auto_with("1:2x"));
        assert_false(auto_with("99999999999999999999999:1"));
        assert_false(auto_with(other));
        assert_true(auto_with(stream));

        log_set_target(LOG_TARGET_STDERR);
        assert_false(log_target_is_journal());
        log_set_target(LOG_TARGET_JOURNAL);
        assert_true(log_target_is_journal());

        assert_return_code(unsetenv("JOURNAL_STREAM"), errno);
        log_set_target(LOG_TARGET_STDERR);
}

static void assert_cloexec(int fd) {
        int flags = fcntl(fd, F_GETFD);

        assert_return_code(flags, errno);
        assert_true(flags & FD_CLOEXEC);
}

static void test_output_null(void **state) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        assert_int_equal(log_unit_output("web", OUTPUT_NULL, /* path= */ NULL, &fd), 0);
        assert_true(fd > STDERR_FILENO);
        assert_cloexec(fd);
        assert_return_code(fstat(fd, &st), errno);
        assert_true(S_ISCHR(st.st_mode));
        assert_int_equal(st.st_rdev, makedev(1, 3));
        assert_int_equal(write(fd, "gone\n", 5), 5);
}

static void write_output(const char *path, const char *text) {
        _cleanup_close_ int fd = -EBADF;
        int flags;

        assert_int_equal(log_unit_output("web", OUTPUT_FILE, path, &fd), 0);
        assert_cloexec(fd);
        flags = fcntl(fd, F_GETFL);
        assert_return_code(flags, errno);
        assert_true(flags & O_APPEND);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
}

static void test_output_file(void **state) {
        char dir[] = "/tmp/corral-test-log-XXXXXX", buf[64] = {};
        _cleanup_free_ char *path = NULL, *missing = NULL;
        _cleanup_close_ int fd = -EBADF;
        mode_t mask = umask(022);
        struct stat st;

        assert_non_null(mkdtemp(dir));
        assert_return_code(asprintf(&path, "%s/web.log", dir), errno);
        assert_return_code(asprintf(&missing, "%s/nodir/web.log", dir), errno);

        write_output(path, "one\n");
        write_output(path, "two\n");
        umask(mask);

        assert_return_code(stat(path, &st), errno);
        assert_int_equal(st.st_mode & 07777, 0640);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_return_code(fd, errno);
        assert_int_equal(read(fd, buf, sizeof(buf) - 1), 8);
        assert_string_equal(buf, "one\ntwo\n");

        assert_int_equal(log_unit_output("web", OUTPUT_FILE, missing, &fd), -ENOENT);
        assert_int_equal(log_unit_output("web", OUTPUT_FILE, /* path= */ NULL, &fd), -EINVAL);
        assert_return_code(unlink(path), errno);
        assert_return_code(rmdir(dir), errno);
}

/* What a unit that can write the directory may put where its log file
 * was: a FIFO (with or without a reader: never blocks, refused), a
 * symbolic link to a file of root's (refused, the target untouched; a
 * dangling one creates nothing), a device, a directory. A regular file is
 * opened blocking. */
static void test_output_file_not_regular(void **state) {
        char dir[] = "/tmp/corral-test-log-XXXXXX", buf[64] = {};
        _cleanup_free_ char *fifo = NULL, *link = NULL, *dangling = NULL, *target = NULL, *gone = NULL, *plain = NULL;
        _cleanup_close_ int fd = -EBADF, reader = -EBADF;
        struct stat st;

        assert_non_null(mkdtemp(dir));
        assert_return_code(asprintf(&fifo, "%s/fifo.log", dir), errno);
        assert_return_code(asprintf(&link, "%s/link.log", dir), errno);
        assert_return_code(asprintf(&dangling, "%s/dangling.log", dir), errno);
        assert_return_code(asprintf(&target, "%s/secret", dir), errno);
        assert_return_code(asprintf(&gone, "%s/not-there", dir), errno);
        assert_return_code(asprintf(&plain, "%s/plain.log", dir), errno);
        assert_return_code(mkfifo(fifo, 0644), errno);
        assert_int_equal(test_write_file(target, "root's\n"), 0);
        assert_return_code(symlink(target, link), errno);
        assert_return_code(symlink(gone, dangling), errno);

        fd = 42;
        alarm(10); /* an open() that blocks kills the test rather than hang it */
        assert_int_equal(log_unit_output("web", OUTPUT_FILE, fifo, &fd), -EBADFD);
        alarm(0);
        assert_int_equal(fd, 42);
        reader = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        assert_return_code(reader, errno);
        assert_int_equal(log_unit_output("web", OUTPUT_FILE, fifo, &fd), -EBADFD);
        assert_int_equal(log_unit_output("web", OUTPUT_FILE, link, &fd), -ELOOP);
        assert_int_equal(log_unit_output("web", OUTPUT_FILE, dangling, &fd), -ELOOP);
        assert_int_equal(log_unit_output("web", OUTPUT_FILE, "/dev/null", &fd), -EBADFD);
        assert_int_equal(log_unit_output("web", OUTPUT_FILE, dir, &fd), -EISDIR);
        assert_int_equal(fd, 42);
        fd = -EBADF;
        assert_int_equal(access(gone, F_OK), -1);
        fd = open(target, O_RDONLY | O_CLOEXEC);
        assert_return_code(fd, errno);
        assert_int_equal(read(fd, buf, sizeof(buf) - 1), 7);
        assert_string_equal(buf, "root's\n");
        fd = safe_close(fd);

        assert_int_equal(log_unit_output("web", OUTPUT_FILE, plain, &fd), 0);
        assert_false(fcntl(fd, F_GETFL) & O_NONBLOCK);
        assert_return_code(fstat(fd, &st), errno);
        assert_true(S_ISREG(st.st_mode));

        unlink(fifo);
        unlink(link);
        unlink(dangling);
        unlink(target);
        unlink(plain);
        assert_return_code(rmdir(dir), errno);
}

static void test_output_inherit(void **state) {
        int fd = 42;

        assert_int_equal(log_unit_output("web", OUTPUT_INHERIT, /* path= */ NULL, &fd), 0);
        assert_int_equal(fd, -EBADF);

        fd = 42;
        log_set_target(LOG_TARGET_STDERR);
        assert_int_equal(log_unit_output("web", OUTPUT_AUTO, /* path= */ NULL, &fd), 0);
        assert_int_equal(fd, -EBADF);

        fd = 42;
        assert_int_equal(log_unit_output("web", _OUTPUT_KIND_MAX, /* path= */ NULL, &fd), -EINVAL);
        assert_int_equal(log_unit_output("web", _OUTPUT_KIND_INVALID, /* path= */ NULL, &fd), -EINVAL);
        assert_int_equal(fd, 42);
}

/* ---- against a real journald, in the child's own mount namespace ----
 * The child cannot use cmocka's asserts (they would jump back into a copy
 * of the test runner): it checks, says why on stderr, and exits 0, 1, or
 * EXIT_SKIP. */

static _printf_(1, 2) int child_fail(const char *format, ...) {
        int saved = errno; /* for %m */
        va_list ap;

        va_start(ap, format);
        fprintf(stderr, "journal test: ");
        errno = saved;
        vfprintf(stderr, format, ap);
        fprintf(stderr, "\n");
        va_end(ap);
        return -1;
}

#define CHECK(cond, ...)                                \
        do {                                            \
                if (!(cond))                            \
                        return child_fail(__VA_ARGS__); \
        } while (0)

/* Takes a child that we forked and have not reaped (so its PID cannot have
 * been reused yet) into a PidRef; if there is no pidfd for it, kills and
 * reaps it. */
static int own_child(PidRef *ret, pid_t pid) {
        int r = pidref_set_pid(ret, pid);

        if (r < 0) {
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, /* wstatus= */ NULL, 0);
        }
        return r;
}

static int child_skip(const char *why) {
        fprintf(stderr, "SKIP: %s\n", why);
        return EXIT_SKIP;
}

/* A machine ID for journald: the machine's own, or — when /etc/machine-id
 * is there but empty or "uninitialized" — a random one bound over it in
 * this namespace. Returns 0, EXIT_SKIP, or -1. */
static int child_machine_id(void) {
        char id[SD_ID128_STRING_MAX + 1];
        sd_id128_t m;

        if (sd_id128_get_machine(&m) >= 0)
                return 0;
        if (access("/etc/machine-id", F_OK) < 0)
                return child_skip("no valid /etc/machine-id, and none to bind a test ID over");

        CHECK(sd_id128_randomize(&m) >= 0, "sd_id128_randomize() failed");
        snprintf(id, sizeof(id), SD_ID128_FORMAT_STR "\n", SD_ID128_FORMAT_VAL(m));
        CHECK(test_write_file("/run/corral-test-machine-id", id) >= 0, "cannot write a machine ID: %m");
        CHECK(mount("/run/corral-test-machine-id", "/etc/machine-id", /* fstype= */ NULL, MS_BIND,
                    /* data= */ NULL) >= 0,
              "cannot bind a machine ID over /etc/machine-id: %m");
        return 0;
}

/* journald's settings for the test, whatever the machine's journald.conf
 * says: only volatile storage (in our tmpfs), nothing forwarded to the
 * machine's kernel log, console or terminals, no kernel log or audit
 * read in. A drop-in in /run overrides /etc/systemd/journald.conf. */
static const char journald_conf[] =
        "[Journal]\n"
        "Storage=volatile\n"
        "ReadKMsg=no\n"
        "Audit=no\n"
        "ForwardToSyslog=no\n"
        "ForwardToKMsg=no\n"
        "ForwardToConsole=no\n"
        "ForwardToWall=no\n";

/* Returns 0, EXIT_SKIP (with the reason on stderr), or -1. */
static int child_isolate(void) {
        if (unshare(CLONE_NEWNS) < 0)
                return child_skip("cannot make a mount namespace (unshare(CLONE_NEWNS))");
        CHECK(mount(/* source= */ NULL, "/", /* fstype= */ NULL, MS_REC | MS_PRIVATE, /* data= */ NULL) >= 0,
              "cannot make mounts private: %m");
        CHECK(mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") >= 0, "tmpfs on /run: %m");
        if (access("/var/log", F_OK) >= 0)
                CHECK(mount("tmpfs", "/var/log", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") >= 0,
                      "tmpfs on /var/log: %m");

        CHECK(mkdir("/run/systemd", 0755) >= 0 && mkdir("/run/systemd/journald.conf.d", 0755) >= 0,
              "mkdir /run/systemd/journald.conf.d: %m");
        CHECK(test_write_file("/run/systemd/journald.conf.d/zz-corral-test.conf", journald_conf) >= 0,
              "cannot write the journald drop-in: %m");
        return child_machine_id();
}

/* Before journald runs: messages fall back to stderr, streams fail. */
static int child_check_no_journal(void) {
        _cleanup_free_ char *out = NULL;
        int fd = -EBADF, r;
        Capture c;

        log_set_target(LOG_TARGET_JOURNAL);
        capture_start(&c);
        (void) log_unit_warning("web@0", LOG_EVENT_EXIT, "no journal yet");
        out = capture_stop(&c);

        CHECK(matches(out, "^" STAMP_RE " corrald: warning: web@0: no journal yet\n$"),
              "without journald, expected the stderr line, got \"%s\"", out);
        r = log_unit_output("web@0", OUTPUT_JOURNAL, /* path= */ NULL, &fd);
        CHECK(r < 0 && fd == -EBADF, "a journal stream without journald: %d", r);
        return 0;
}

static _noreturn_ void journald_exec(pid_t parent) {
        char *const argv[] = { (char *) JOURNALD_PATH, NULL };
        /* Its own messages go to its stderr, not to the machine's kmsg. */
        char *const envp[] = { (char *) "SYSTEMD_LOG_TARGET=console", (char *) "SYSTEMD_LOG_COLOR=0", NULL };
        int fd;

        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                _exit(127);
        fd = open(JOURNALD_LOG, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
                _exit(127);
        execve(JOURNALD_PATH, argv, envp);
        _exit(127);
}

static bool journald_exited(void *userdata) {
        const PidRef *p = userdata;
        siginfo_t si = {};

        return pidref_wait(p, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid != 0;
}

/* All of journald's sockets are there; the varlink one is made last, after
 * the stdout socket listens. */
static bool journald_ready(void *userdata) {
        static const char *const sockets[] = {
                "/run/systemd/journal/socket",
                "/run/systemd/journal/stdout",
                "/run/systemd/journal/io.systemd.journal",
        };

        if (journald_exited(userdata))
                return true;
        for (size_t i = 0; i < ELEMENTSOF(sockets); i++)
                if (access(sockets[i], F_OK) < 0)
                        return false;
        return true;
}

static int child_start_journald(PidRef *ret) {
        pid_t parent = getpid(), pid;
        int r;

        pid = fork();
        CHECK(pid >= 0, "fork: %m");
        if (pid == 0)
                journald_exec(parent);
        r = own_child(ret, pid);
        CHECK(r >= 0, "pidfd_open(%d): %s", (int) pid, strerror(-r));

        CHECK(test_wait_for(journald_ready, ret, TIMEOUT), "journald did not open its sockets in time");
        CHECK(!journald_exited(ret), "journald exited at start");
        return 0;
}

static int child_stop_journald(PidRef *p) {
        siginfo_t si = {};
        int r;

        r = pidref_kill(p, SIGTERM);
        CHECK(r >= 0, "cannot signal journald: %s", strerror(-r));
        CHECK(test_wait_for(journald_exited, p, TIMEOUT), "journald did not stop");
        r = pidref_wait(p, &si, WEXITED);
        CHECK(r >= 0, "cannot reap journald: %s", strerror(-r));
        pidref_done(p);
        CHECK(si.si_code == CLD_EXITED && si.si_status == 0, "journald ended with code %d status %d", si.si_code,
              si.si_status);
        return 0;
}

/* corrald's messages with their fields, none of which may fall back to
 * stderr. */
static int child_log_messages(void) {
        LogFields exited = { .pid = getpid(), .exit_code = 3, .exit_signal = 0, .restarts = 2 };
        LogFields killed = { .pid = getpid(), .exit_code = -1, .exit_signal = SIGKILL, .restarts = 0 };
        _cleanup_free_ char *out = NULL, *big = calloc(1, LONG_MESSAGE + 1);
        Capture c;

        CHECK(big, "out of memory");
        memset(big, 'x', LONG_MESSAGE);
        log_set_target(LOG_TARGET_JOURNAL);
        capture_start(&c);
        (void) log_unit_fields("web@0", LOG_WARNING, LOG_EVENT_EXIT, &exited, "main process exited, status=%d", 3);
        (void) log_internal_fields(LOG_ERR, -EIO, "web@1", LOG_EVENT_KILL, &killed, "killed: %m");
        (void) log_unit_info("web@2", LOG_EVENT_START, "started");
        (void) log_info("plain message");
        (void) log_unit_info("web@4", LOG_EVENT_START, "%s", big);
        log_audit(LOG_NOTICE, &(LogAudit) { .uid = 1001,
                                            .gid = 1002,
                                            .pid = 4242,
                                            .comm = "corralctl",
                                            .request = "stop web@0",
                                            .outcome = "refused",
                                            .detail = "permission denied" });
        out = capture_stop(&c);

        CHECK(out[0] == '\0', "messages fell back to stderr: \"%s\"", out);
        return 0;
}

/* A unit's journal stream: lines with and without a "<N>" level prefix. */
static int child_write_stream(void) {
        static const char text[] = "hello from web@0\n<3>oops from web@0\n";
        _cleanup_close_ int fd = -EBADF;
        int r, flags;

        r = log_unit_output("web@0", OUTPUT_JOURNAL, /* path= */ NULL, &fd);
        CHECK(r >= 0, "log_unit_output(OUTPUT_JOURNAL): %s", strerror(-r));
        flags = fcntl(fd, F_GETFD);
        CHECK(flags >= 0 && (flags & FD_CLOEXEC), "the journal stream is not close-on-exec");
        CHECK(write(fd, text, strlen(text)) == (ssize_t) strlen(text), "write to the journal stream: %m");
        return 0;
}

/* LOG_TARGET_AUTO, the way it is under systemd: stderr is a journal stream
 * and JOURNAL_STREAM names it; OUTPUT_AUTO then gives a journal stream. */
static int child_check_auto(void) {
        _cleanup_close_ int stream = -EBADF, saved = -EBADF, unit_fd = -EBADF;
        char value[64];
        struct stat st;
        bool is_journal;
        int r;

        CHECK(log_unit_output("corrald", OUTPUT_JOURNAL, /* path= */ NULL, &stream) >= 0, "no journal stream");
        CHECK(fstat(stream, &st) >= 0, "fstat: %m");
        snprintf(value, sizeof(value), "%llu:%llu", (unsigned long long) st.st_dev, (unsigned long long) st.st_ino);
        CHECK(setenv("JOURNAL_STREAM", value, /* overwrite= */ 1) >= 0, "setenv: %m");

        saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
        CHECK(saved >= 0 && dup2(stream, STDERR_FILENO) >= 0, "dup2: %m");
        log_set_target(LOG_TARGET_AUTO);
        is_journal = log_target_is_journal();
        r = log_unit_output("web@3", OUTPUT_AUTO, /* path= */ NULL, &unit_fd);
        CHECK(dup2(saved, STDERR_FILENO) >= 0, "dup2: %m");

        CHECK(is_journal, "LOG_TARGET_AUTO with stderr on JOURNAL_STREAM is not the journal");
        CHECK(r >= 0 && unit_fd >= 0, "OUTPUT_AUTO under the journal gave %d, fd %d", r, unit_fd);
        log_set_target(LOG_TARGET_AUTO);
        CHECK(!log_target_is_journal(), "LOG_TARGET_AUTO is the journal though stderr is not its stream");
        CHECK(unsetenv("JOURNAL_STREAM") >= 0, "unsetenv: %m");
        return 0;
}

/* One entry that the journal must hold: every "FIELD=value" in has, none of
 * the fields in lacks. */
typedef struct Expect {
        const char *has[10];
        const char *lacks[4];
} Expect;

static bool entry_has(sd_journal *j, const char *field_value) {
        const char *eq = strchr(field_value, '=');
        _cleanup_free_ char *field = strndup(field_value, (size_t) (eq - field_value));
        const void *data;
        size_t len;

        if (!field || sd_journal_get_data(j, field, &data, &len) < 0)
                return false;
        return len == strlen(field_value) && memcmp(data, field_value, len) == 0;
}

static bool entry_matches(sd_journal *j, const Expect *e) {
        const void *data;
        size_t len;

        for (size_t i = 0; i < ELEMENTSOF(e->has) && e->has[i]; i++)
                if (!entry_has(j, e->has[i]))
                        return false;
        for (size_t i = 0; i < ELEMENTSOF(e->lacks) && e->lacks[i]; i++)
                if (sd_journal_get_data(j, e->lacks[i], &data, &len) != -ENOENT)
                        return false;
        return true;
}

static bool journal_holds(const Expect *e) {
        sd_journal *j = NULL;
        bool found = false;

        if (sd_journal_open_directory(&j, JOURNAL_DIR, /* flags= */ 0) < 0)
                return false;
        while (!found && sd_journal_next(j) > 0)
                found = entry_matches(j, e);
        sd_journal_close(j);
        return found;
}

typedef struct Expects {
        const Expect *list;
        size_t n;
        size_t missing; /* the first expectation not met */
} Expects;

static bool journal_holds_all(void *userdata) {
        Expects *x = userdata;

        for (x->missing = 0; x->missing < x->n; x->missing++)
                if (!journal_holds(&x->list[x->missing]))
                        return false;
        return true;
}

static void dump_file(const char *path) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        char line[1024];

        fprintf(stderr, "---- %s\n", path);
        while (f && fgets(line, sizeof(line), f))
                fputs(line, stderr);
}

static void dump_journal(void) {
        sd_journal *j = NULL;
        const void *data;
        size_t len;

        fprintf(stderr, "---- journal %s\n", JOURNAL_DIR);
        if (sd_journal_open_directory(&j, JOURNAL_DIR, /* flags= */ 0) < 0)
                return;
        while (sd_journal_next(j) > 0) {
                SD_JOURNAL_FOREACH_DATA(j, data, len)
                fprintf(stderr, "%.*s ", (int) MIN(len, 200u), (const char *) data);
                fprintf(stderr, "\n");
        }
        sd_journal_close(j);
}

/* What is left of the long message: its first LONG_KEPT characters. */
static void long_message_field(char *buf, size_t size) {
        int k = snprintf(buf, size, "MESSAGE=web@4: ");

        if ((size_t) k + LONG_KEPT >= size)
                abort();
        memset(buf + k, 'x', LONG_KEPT);
        buf[k + LONG_KEPT] = '\0';
}

static int child_check_journal(void) {
        char pid_field[32], long_field[LONG_KEPT + 32];

        snprintf(pid_field, sizeof(pid_field), "CORRAL_PID=%d", (int) getpid());
        long_message_field(long_field, sizeof(long_field));

        const Expect list[] = {
                { .has = { "CORRAL_UNIT=web@0", "CORRAL_EVENT=exit", pid_field, "CORRAL_EXIT_CODE=3",
                           "CORRAL_RESTARTS=2", "PRIORITY=4", "SYSLOG_IDENTIFIER=corrald",
                           "MESSAGE=web@0: main process exited, status=3", "_TRANSPORT=journal" },
                  .lacks = { "CORRAL_EXIT_SIGNAL", "ERRNO", "CODE_FILE" } },
                { .has = { "CORRAL_UNIT=web@1", "CORRAL_EVENT=kill", pid_field, "CORRAL_EXIT_SIGNAL=SIGKILL",
                           "CORRAL_RESTARTS=0", "ERRNO=5", "PRIORITY=3", "MESSAGE=web@1: killed: Input/output error" },
                  .lacks = { "CORRAL_EXIT_CODE" } },
                { .has = { "CORRAL_UNIT=web@2", "CORRAL_EVENT=start", "PRIORITY=6", "MESSAGE=web@2: started" },
                  .lacks = { "CORRAL_PID", "CORRAL_EXIT_CODE", "CORRAL_RESTARTS", "ERRNO" } },
                { .has = { "MESSAGE=plain message", "SYSLOG_IDENTIFIER=corrald", "PRIORITY=6" },
                  .lacks = { "CORRAL_UNIT", "CORRAL_EVENT" } },
                { .has = { "CORRAL_UNIT=web@4", long_field } },
                /* the audit trail */
                { .has = { "CORRAL_CLIENT_UID=1001", "CORRAL_CLIENT_GID=1002", "CORRAL_CLIENT_PID=4242",
                           "CORRAL_CLIENT_COMM=corralctl", "CORRAL_REQUEST=stop web@0", "CORRAL_OUTCOME=refused",
                           "PRIORITY=5", "SYSLOG_IDENTIFIER=corrald",
                           "MESSAGE=control: stop web@0 by UID 1001 GID 1002 PID 4242 (corralctl): refused: "
                           "permission denied" },
                  .lacks = { "CORRAL_UNIT" } },
                { .has = { "SYSLOG_IDENTIFIER=web@0", "MESSAGE=hello from web@0", "PRIORITY=6", "_TRANSPORT=stdout" } },
                { .has = { "SYSLOG_IDENTIFIER=web@0", "MESSAGE=oops from web@0", "PRIORITY=3", "_TRANSPORT=stdout" } },
        };
        Expects x = { .list = list, .n = ELEMENTSOF(list) };

        if (test_wait_for(journal_holds_all, &x, TIMEOUT))
                return 0;
        dump_journal();
        return child_fail("no journal entry with %s (expectation #%zu) after %llus", list[x.missing].has[0], x.missing,
                          (unsigned long long) (TIMEOUT / USEC_PER_SEC));
}

static int child_run(PidRef *journald) {
        int r;

        r = child_isolate();
        if (r != 0)
                return r;
        if (child_check_no_journal() < 0 || child_start_journald(journald) < 0)
                return -1;
        if (child_log_messages() < 0 || child_write_stream() < 0 || child_check_auto() < 0 || child_check_journal() < 0)
                return -1;
        return child_stop_journald(journald);
}

static _noreturn_ void journal_child(pid_t parent) {
        PidRef journald = PIDREF_NULL;
        int r;

        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                _exit(1);
        r = child_run(&journald);
        if (r < 0)
                dump_file(JOURNALD_LOG);
        /* After a failure journald still runs: kill and reap it. The
         * namespace and its tmpfs go with this process. */
        pidref_done_sigkill_wait(&journald);
        fflush(stderr);
        _exit(r == EXIT_SKIP ? EXIT_SKIP : r < 0 ? 1 : 0);
}

static bool journald_skipped = false;

static void test_journald(void **state) {
        _cleanup_(pidref_done_sigkill_wait) PidRef child = PIDREF_NULL;
        pid_t parent = getpid(), pid;
        siginfo_t si = {};

        fflush(NULL);
        pid = fork();
        assert_return_code(pid, errno);
        if (pid == 0)
                journal_child(parent);
        assert_int_equal(own_child(&child, pid), 0);
        assert_int_equal(pidref_wait(&child, &si, WEXITED), 0);
        pidref_done(&child);

        assert_int_equal(si.si_code, CLD_EXITED);
        if (si.si_status == EXIT_SKIP) {
                journald_skipped = true;
                skip();
        }
        assert_int_equal(si.si_status, 0);
}

static int run_local(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_stderr_format),
                cmocka_unit_test(test_stderr_levels),
                cmocka_unit_test(test_stderr_long),
                cmocka_unit_test(test_target),
                cmocka_unit_test(test_output_null),
                cmocka_unit_test(test_output_file),
                cmocka_unit_test(test_output_file_not_regular),
                cmocka_unit_test(test_output_inherit),
        };

        return cmocka_run_group_tests_name("log", tests, /* group_setup= */ NULL, /* group_teardown= */ NULL);
}

/* A skip inside the namespace (its reason is on stderr) skips the binary:
 * meson must not count it as a pass. */
static int run_journald(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_journald),
        };
        int r;

        r = cmocka_run_group_tests_name("real journald", tests, /* group_setup= */ NULL,
                                        /* group_teardown= */ NULL);
        return r == 0 && journald_skipped ? EXIT_SKIP : r;
}

static _noreturn_ void skip_all(const char *why) {
        fprintf(stderr, "SKIP: %s\n", why);
        exit(EXIT_SKIP);
}

int main(void) {
        int r;

        /* The stderr and output tests need nothing; the journald test needs
         * root (mounts in a namespace of its own) and journald itself. */
        r = run_local();
        if (r != 0)
                return r;
        if (geteuid() != 0)
                skip_all("needs root: the journald test mounts tmpfs in a mount namespace of its own");
        if (access(JOURNALD_PATH, X_OK) < 0)
                skip_all("no " JOURNALD_PATH " to run a real journal");
        return run_journald();
}
