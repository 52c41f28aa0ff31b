/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests of the spawn module: credentials and executable look-ups, the step
 * names, and real children started by spawn_child() with clone3() straight
 * into a fresh cgroup of this test's own: what the child gets (directory,
 * umask, user, environment, only fds 0-2, clean signal mask and
 * dispositions, a session of its own, the cgroup) and how every failing
 * step comes back without leaving a child behind. */

#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "cgroup.h"
#include "fileio.h"
#include "pidref.h"
#include "spawn.h"
#include "test-util.h"

#define TIMEOUT (10 * USEC_PER_SEC)
#define NOBODY_UID 65534

static char *mfree_str(char *p) {
        free(p);
        return NULL;
}

typedef struct Fixture {
        char *path; /* the test's cgroup, "/corral-test-spawn-PID-N" */
        char *fs_path;
        int cgroup_fd;
        int null_fd;
        char *dir;    /* a temporary directory */
        PidRef child; /* the child the test started, if any */
} Fixture;

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(*f));
        char tmpl[] = "/tmp/corral-test-spawn-XXXXXX";

        if (!f)
                return -1;
        *state = f;
        f->cgroup_fd = -EBADF;
        f->child = PIDREF_NULL;
        f->path = test_cgroup_path("spawn");
        f->fs_path = test_cgroup_fs_path(f->path);
        f->null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (f->null_fd < 0 || !mkdtemp(tmpl) || !(f->dir = strdup(tmpl)))
                return -1;
        if (mkdir(f->fs_path, 0755) < 0)
                return -1;
        f->cgroup_fd = open(f->fs_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return f->cgroup_fd < 0 ? -1 : 0;
}

/* Removes the directory tree under path (only what the tests made). */
static void remove_dir(const char *path) {
        DIR *d = opendir(path);

        if (!d)
                return;
        for (struct dirent *de; (de = readdir(d));) {
                _cleanup_free_ char *p = NULL;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (asprintf(&p, "%s/%s", path, de->d_name) < 0)
                        abort();
                if (de->d_type == DT_DIR)
                        remove_dir(p);
                else
                        (void) unlink(p);
        }
        closedir(d);
        (void) rmdir(path);
}

/* Runs also after a failed assertion: kills the cgroup's processes, reaps
 * our child through its pidfd, removes the cgroup and the directory. */
static int teardown(void **state) {
        Fixture *f = *state;
        int ret = 0;

        if (!f)
                return 0;
        f->cgroup_fd = safe_close(f->cgroup_fd);
        if (test_cgroup_destroy(f->path) < 0 || test_cgroup_exists(f->path)) {
                fprintf(stderr, "teardown: could not remove %s\n", f->path);
                ret = -1;
        }
        pidref_done_sigkill_wait(&f->child);
        if (test_count_zombie_children(getpid()) != 0) {
                fprintf(stderr, "teardown: zombie children left\n");
                ret = -1;
        }
        if (f->dir)
                remove_dir(f->dir);
        safe_close(f->null_fd);
        free(f->path);
        free(f->fs_path);
        free(f->dir);
        free(f);
        *state = NULL;
        return ret;
}

static char *read_file(const char *path) {
        char *buf = NULL;
        int r = read_full_file_at(AT_FDCWD, path, 1024 * 1024, &buf, /* ret_size= */ NULL);

        if (r < 0)
                fail_msg("cannot read %s: %s", path, strerror(-r));
        return buf;
}

static char *proc_file(pid_t pid, const char *name) {
        char path[64];

        snprintf(path, sizeof(path), "/proc/%d/%s", (int) pid, name);
        return read_file(path);
}

static void assert_contains_line(const char *buf, const char *line) {
        _cleanup_free_ char *needle = NULL;

        assert_true(asprintf(&needle, "\n%s\n", line) >= 0);
        /* the first line has no newline before it */
        if (strneq(buf, needle + 1, strlen(needle + 1)))
                return;
        if (!strstr(buf, needle))
                fail_msg("missing line \"%s\" in:\n%s", line, buf);
}

/* The field of a "Key:\tvalue" line of /proc/PID/status. */
static char *status_field(const char *status, const char *key) {
        _cleanup_free_ char *needle = NULL;
        const char *p;

        assert_true(asprintf(&needle, "\n%s:\t", key) >= 0);
        p = strstr(status, needle);
        if (!p)
                fail_msg("no %s in /proc/PID/status", key);
        p += strlen(needle);
        return strndup(p, strcspn(p, "\n"));
}

/* The session ID, field 6 of /proc/PID/stat (after the comm in parentheses). */
static pid_t proc_sid(pid_t pid) {
        _cleanup_free_ char *stat = proc_file(pid, "stat");
        const char *p = strrchr(stat, ')');
        int ppid, pgrp, sid = -1;
        char state;

        if (!p || sscanf(p + 1, " %c %d %d %d", &state, &ppid, &pgrp, &sid) != 4)
                fail_msg("cannot parse /proc/%d/stat: %s", (int) pid, stat);
        return sid;
}

static void assert_in_test_cgroup(Fixture *f, pid_t pid) {
        _cleanup_free_ char *buf = proc_file(pid, "cgroup"), *path = NULL;

        assert_int_equal(cgroup_parse_proc_cgroup(buf, &path), 0);
        assert_string_equal(path, f->path);
}

/* No child of ours is left, reaped or not: waitid() peeks without reaping. */
static void assert_no_children(void) {
        siginfo_t si = {};
        int r = waitid(P_ALL, /* id= */ 0, &si, WEXITED | WNOHANG | WNOWAIT);

        if (r < 0)
                assert_int_equal(errno, ECHILD);
        else
                assert_int_equal(si.si_pid, 0);
        assert_int_equal(test_count_zombie_children(getpid()), 0);
}

static bool file_has_ready(void *userdata) {
        _cleanup_free_ char *buf = NULL;

        return read_full_file_at(AT_FDCWD, userdata, 1024 * 1024, &buf, /* ret_size= */ NULL) >= 0 &&
               strstr(buf, "ready\n");
}

/* The sorted list of open fds of a process, as "0 1 2". */
static char *proc_fds(pid_t pid) {
        char path[64], *s = NULL;
        bool open_fds[64] = {};
        size_t len = 0;
        DIR *d;

        snprintf(path, sizeof(path), "/proc/%d/fd", (int) pid);
        d = opendir(path);
        assert_non_null(d);
        for (struct dirent *de; (de = readdir(d));) {
                int fd;

                if (de->d_name[0] == '.')
                        continue;
                fd = atoi(de->d_name);
                assert_true(fd >= 0 && fd < 64);
                open_fds[fd] = true;
        }
        closedir(d);
        s = calloc(64, 4);
        assert_non_null(s);
        for (int i = 0; i < 64; i++)
                if (open_fds[i])
                        len += (size_t) sprintf(s + len, "%s%d", len ? " " : "", i);
        return s;
}

/* The script writes what it sees, says "ready", and waits on stdin so that
 * the test can look at it from outside before letting it exit. */
static const char child_script[] =
        "printf 'cwd=%s\\n' \"$(pwd -P)\"\n"
        "printf 'umask=%s\\n' \"$(umask)\"\n"
        "printf 'uid=%s gid=%s groups=%s\\n' \"$(id -u)\" \"$(id -g)\" \"$(id -G)\"\n"
        "printf 'var=%s\\n' \"$CORRAL_TEST_VAR\"\n"
        "printf 'home=%s\\n' \"${HOME-unset}\"\n"
        "while read -r k v; do\n"
        "        case \"$k\" in SigBlk:|SigIgn:) printf '%s%s\\n' \"$k\" \"$v\";; esac\n"
        "done < /proc/$$/status\n"
        "read -r pid comm st ppid pgrp sid rest < /proc/$$/stat\n"
        "[ \"$sid\" = \"$$\" ] && [ \"$pgrp\" = \"$$\" ] && echo leader=yes || echo leader=no\n"
        "echo ready\n"
        "read -r line\n"
        "printf 'got=%s\\n' \"$line\"\n"
        "exit 0\n";

static void run_success(Fixture *f, const SpawnCredentials *creds, uid_t uid, gid_t gid) {
        _cleanup_free_ char *work = NULL, *out = NULL, *sh = NULL;
        _cleanup_close_ int out_fd = -EBADF, leak_fd = -EBADF;
        int in[2] = { -EBADF, -EBADF };
        SpawnStep step = _SPAWN_STEP_INVALID;
        sigset_t block, saved_mask;
        struct sigaction ign = { .sa_handler = SIG_IGN }, saved_usr1;
        int r;

        assert_true(asprintf(&work, "%s/work dir", f->dir) >= 0);
        assert_true(asprintf(&out, "%s/out", f->dir) >= 0);
        /* the child enters it as the user: mkdtemp() made the parent 0700 */
        assert_int_equal(chmod(f->dir, 0755), 0);
        assert_int_equal(mkdir(work, 0755), 0);
        out_fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(out_fd >= 0);
        assert_int_equal(pipe2(in, O_CLOEXEC), 0);
        assert_int_equal(spawn_find_executable("sh", "/usr/bin:/bin", &sh), 0);

        char *argv[] = { (char *) "sh", (char *) "-c", (char *) child_script, NULL };
        char *envp[] = { (char *) "PATH=/usr/bin:/bin", (char *) "CORRAL_TEST_VAR=hello world", NULL };
        SpawnParams p = {
                .path = sh,
                .argv = argv,
                .envp = envp,
                .directory = work,
                .umask = 027,
                .credentials = creds,
                .stdin_fd = in[0],
                .stdout_fd = out_fd,
                .stderr_fd = STDERR_FILENO,
                .cgroup_fd = f->cgroup_fd,
        };

        /* What the child must not inherit: an fd without O_CLOEXEC, an
         * ignored signal, a blocked signal. */
        leak_fd = dup(f->null_fd);
        assert_true(leak_fd > STDERR_FILENO);
        assert_int_equal(sigaction(SIGUSR1, &ign, &saved_usr1), 0);
        sigemptyset(&block);
        sigaddset(&block, SIGUSR2);
        sigaddset(&block, SIGTERM);
        assert_int_equal(sigprocmask(SIG_BLOCK, &block, &saved_mask), 0);

        r = spawn_child(&p, &f->child, &step);

        assert_int_equal(sigprocmask(SIG_SETMASK, &saved_mask, NULL), 0);
        assert_int_equal(sigaction(SIGUSR1, &saved_usr1, NULL), 0);
        in[0] = safe_close(in[0]);
        if (r < 0)
                fail_msg("spawn_child: %s at step %s", strerror(-r), spawn_step_to_string(step));
        assert_true(pidref_is_set(&f->child));

        /* straight into the test cgroup (CLONE_INTO_CGROUP) */
        assert_in_test_cgroup(f, f->child.pid);
        assert_true(test_wait_for(file_has_ready, out, TIMEOUT));

        /* seen from outside while it waits on stdin */
        _cleanup_free_ char *fds = proc_fds(f->child.pid);
        assert_string_equal(fds, "0 1 2");
        _cleanup_free_ char *status = proc_file(f->child.pid, "status");
        _cleanup_free_ char *sigblk = status_field(status, "SigBlk"), *sigign = status_field(status, "SigIgn");
        assert_string_equal(sigblk, "0000000000000000");
        assert_string_equal(sigign, "0000000000000000");
        _cleanup_free_ char *uids = status_field(status, "Uid"), *gids = status_field(status, "Gid"), *want_uids = NULL,
                            *want_gids = NULL;
        assert_true(asprintf(&want_uids, "%u\t%u\t%u\t%u", uid, uid, uid, uid) >= 0);
        assert_true(asprintf(&want_gids, "%u\t%u\t%u\t%u", gid, gid, gid, gid) >= 0);
        assert_string_equal(uids, want_uids);
        assert_string_equal(gids, want_gids);
        assert_int_equal(proc_sid(f->child.pid), f->child.pid);
        assert_in_test_cgroup(f, f->child.pid);

        assert_int_equal(write(in[1], "go\n", 3), 3);
        in[1] = safe_close(in[1]);
        siginfo_t si = {};
        assert_int_equal(pidref_wait(&f->child, &si, WEXITED), 0);
        pidref_done(&f->child);
        assert_int_equal(si.si_code, CLD_EXITED);
        assert_int_equal(si.si_status, 0);

        /* seen from inside */
        _cleanup_free_ char *buf = read_file(out), *line = NULL;
        assert_true(asprintf(&line, "cwd=%s", work) >= 0);
        assert_contains_line(buf, line);
        assert_contains_line(buf, "umask=0027");
        line = mfree_str(line);
        assert_true(asprintf(&line, "uid=%u gid=%u groups=%u", uid, gid, gid) >= 0);
        assert_contains_line(buf, line);
        assert_contains_line(buf, "var=hello world");
        /* only envp: nothing of the test's own environment */
        assert_contains_line(buf, "home=unset");
        assert_contains_line(buf, "SigBlk:0000000000000000");
        assert_contains_line(buf, "SigIgn:0000000000000000");
        assert_contains_line(buf, "leader=yes");
        assert_contains_line(buf, "got=go");
        assert_contains_line(buf, "ready");

        /* the test cgroup is empty again */
        CgroupEvents ev;
        assert_int_equal(cgroup_read_events(f->cgroup_fd, &ev), 0);
        assert_false(ev.populated);
        assert_no_children();
}

static void test_spawn_nobody(void **state) {
        _cleanup_(spawn_credentials_done) SpawnCredentials creds = {};

        assert_int_equal(spawn_credentials_resolve("nobody", /* group= */ NULL, &creds), 0);
        assert_true(creds.set);
        run_success(*state, &creds, creds.uid, creds.gid);
}

static void test_spawn_root(void **state) {
        run_success(*state, /* creds= */ NULL, 0, 0);
}

static void test_spawn_exit_status(void **state) {
        Fixture *f = *state;
        char *argv[] = { (char *) "sh", (char *) "-c", (char *) "exit 7", NULL };
        char *envp[] = { NULL };
        SpawnParams p = {
                .path = "/bin/sh",
                .argv = argv,
                .envp = envp,
                .stdin_fd = f->null_fd,
                .stdout_fd = f->null_fd,
                .stderr_fd = f->null_fd,
                .cgroup_fd = f->cgroup_fd,
        };
        siginfo_t si = {};

        assert_int_equal(spawn_child(&p, &f->child, NULL), 0);
        assert_int_equal(pidref_wait(&f->child, &si, WEXITED), 0);
        pidref_done(&f->child);
        assert_int_equal(si.si_code, CLD_EXITED);
        assert_int_equal(si.si_status, 7);
        assert_no_children();
}

static void init_params(Fixture *f, SpawnParams *p, const char *path, char **argv, char **envp) {
        *p = (SpawnParams) {
                .path = path,
                .argv = argv,
                .envp = envp,
                .umask = 022,
                .stdin_fd = f->null_fd,
                .stdout_fd = f->null_fd,
                .stderr_fd = f->null_fd,
                .cgroup_fd = f->cgroup_fd,
        };
}

/* The descriptors to become 0, 1, 2 may themselves be 0, 1 or 2 in
 * corrald (started with stdin closed, a log pipe opened next lands on 0).
 * Here the output file sits at fd 0 and is the child's stdout and stderr
 * while stdin is /dev/null: both lines must reach the file. */
static void test_spawn_stdio_low_fds(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *out = NULL, *buf = NULL;
        _cleanup_close_ int out_fd = -EBADF, saved_stdin = -EBADF;
        char *argv[] = { (char *) "sh", (char *) "-c", (char *) "echo to-stdout; echo to-stderr >&2", NULL };
        char *envp[] = { NULL };
        SpawnStep step = _SPAWN_STEP_INVALID;
        siginfo_t si = {};
        SpawnParams p;
        int r;

        assert_true(asprintf(&out, "%s/out", f->dir) >= 0);
        out_fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(out_fd >= 0);
        saved_stdin = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
        assert_true(saved_stdin >= 0);
        assert_int_equal(dup3(out_fd, STDIN_FILENO, O_CLOEXEC), STDIN_FILENO);

        init_params(f, &p, "/bin/sh", argv, envp);
        p.stdin_fd = f->null_fd;
        p.stdout_fd = STDIN_FILENO;
        p.stderr_fd = STDIN_FILENO;
        r = spawn_child(&p, &f->child, &step);

        /* the test's own stdin back before anything can fail */
        assert_int_equal(dup2(saved_stdin, STDIN_FILENO), STDIN_FILENO);
        if (r < 0)
                fail_msg("spawn_child: %s at step %s", strerror(-r), spawn_step_to_string(step));
        assert_int_equal(pidref_wait(&f->child, &si, WEXITED), 0);
        pidref_done(&f->child);
        assert_int_equal(si.si_code, CLD_EXITED);
        buf = read_file(out);
        if (!strstr(buf, "to-stdout\n") || !strstr(buf, "to-stderr\n"))
                fail_msg("the child's output went astray; the file holds [%s]", buf);
}

/* With corrald's fds 0 and 1 closed, spawn_child()'s own error pipe lands
 * on them; a failing step must still come back as an error, not as a
 * child that "started" and then exits 127. */
static void test_spawn_report_low_fds(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *missing = NULL;
        _cleanup_close_ int saved_stdin = -EBADF, saved_stdout = -EBADF;
        char *argv[] = { (char *) "sh", (char *) "-c", (char *) "exit 0", NULL };
        char *envp[] = { NULL };
        SpawnStep step = _SPAWN_STEP_INVALID;
        SpawnParams p;
        int r;

        assert_true(asprintf(&missing, "%s/no-such-directory", f->dir) >= 0);
        init_params(f, &p, "/bin/sh", argv, envp);
        p.directory = missing;
        saved_stdin = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
        saved_stdout = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
        assert_true(saved_stdin >= 0 && saved_stdout >= 0);
        fflush(stdout);
        (void) close(STDIN_FILENO);
        (void) close(STDOUT_FILENO);

        r = spawn_child(&p, &f->child, &step);

        /* the test's own stdin and stdout back before anything can fail */
        (void) dup2(saved_stdin, STDIN_FILENO);
        (void) dup2(saved_stdout, STDOUT_FILENO);
        if (r >= 0) {
                siginfo_t si = {};
                assert_int_equal(pidref_wait(&f->child, &si, WEXITED), 0);
                pidref_done(&f->child);
                fail_msg("the failed chdir was reported as success; the child exited with %d", si.si_status);
        }
        assert_int_equal(r, -ENOENT);
        assert_int_equal(step, SPAWN_STEP_CHDIR);
        assert_no_children();
}

/* A failing step: the error and the step come back, *ret is untouched,
 * and no child (running or zombie) is left. */
static void assert_spawn_fails(Fixture *f, SpawnParams *p, int error, SpawnStep expected_step) {
        SpawnStep step = _SPAWN_STEP_INVALID;
        PidRef ref = { .pid = 4711, .fd = -EBADF };
        int r;

        r = spawn_child(p, &ref, &step);
        if (r != error || step != expected_step)
                fail_msg("spawn_child: %d (%s) at step %s, expected %d (%s) at step %s", r, strerror(-r),
                         spawn_step_to_string(step), error, strerror(-error), spawn_step_to_string(expected_step));
        assert_int_equal(ref.pid, 4711);
        assert_int_equal(ref.fd, -EBADF);
        assert_no_children();

        CgroupEvents ev;
        assert_int_equal(cgroup_read_events(f->cgroup_fd, &ev), 0);
        assert_false(ev.populated);
}

static void test_spawn_exec_missing(void **state) {
        Fixture *f = *state;
        char *argv[] = { (char *) "missing", NULL };
        char *envp[] = { NULL };
        SpawnParams p;

        init_params(f, &p, "/nonexistent/corral-test-no-such-program", argv, envp);
        assert_spawn_fails(f, &p, -ENOENT, SPAWN_STEP_EXEC);
        /* and once more: no state is left behind either */
        assert_spawn_fails(f, &p, -ENOENT, SPAWN_STEP_EXEC);
        /* ret_step may be NULL */
        PidRef ref = PIDREF_NULL;
        assert_int_equal(spawn_child(&p, &ref, /* ret_step= */ NULL), -ENOENT);
        assert_false(pidref_is_set(&ref));
        assert_no_children();
}

static void test_spawn_exec_not_executable(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *file = NULL;
        char *argv[] = { (char *) "data", NULL };
        char *envp[] = { NULL };
        SpawnParams p;

        assert_true(asprintf(&file, "%s/data", f->dir) >= 0);
        assert_int_equal(test_write_file(file, "#!/bin/sh\nexit 0\n"), 0);
        assert_int_equal(chmod(file, 0644), 0);
        init_params(f, &p, file, argv, envp);
        assert_spawn_fails(f, &p, -EACCES, SPAWN_STEP_EXEC);

        /* a directory */
        init_params(f, &p, f->dir, argv, envp);
        assert_spawn_fails(f, &p, -EACCES, SPAWN_STEP_EXEC);
}

static void test_spawn_chdir_missing(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *missing = NULL;
        char *argv[] = { (char *) "sh", (char *) "-c", (char *) "exit 0", NULL };
        char *envp[] = { NULL };
        SpawnParams p;

        assert_true(asprintf(&missing, "%s/no-such-directory", f->dir) >= 0);
        init_params(f, &p, "/bin/sh", argv, envp);
        p.directory = missing;
        assert_spawn_fails(f, &p, -ENOENT, SPAWN_STEP_CHDIR);
}

/* The directory is entered as the target user, not as root: below a
 * directory only root may enter, the user gets EACCES — for a directory
 * that exists as for one that does not, so the outcome tells nothing
 * about what is there. Root (no credentials) enters it. */
static void test_spawn_chdir_as_user(void **state) {
        _cleanup_(spawn_credentials_done) SpawnCredentials creds = {};
        _cleanup_free_ char *secret = NULL, *sub = NULL, *missing = NULL;
        Fixture *f = *state;
        char *argv[] = { (char *) "sh", (char *) "-c", (char *) "exit 0", NULL };
        char *envp[] = { NULL };
        siginfo_t si = {};
        SpawnParams p;

        assert_int_equal(spawn_credentials_resolve("nobody", /* group= */ NULL, &creds), 0);
        assert_int_equal(chmod(f->dir, 0755), 0);
        assert_true(asprintf(&secret, "%s/root-only", f->dir) >= 0);
        assert_true(asprintf(&sub, "%s/sub", secret) >= 0);
        assert_true(asprintf(&missing, "%s/no-such-directory", secret) >= 0);
        assert_int_equal(mkdir(secret, 0700), 0);
        assert_int_equal(mkdir(sub, 0755), 0);

        init_params(f, &p, "/bin/sh", argv, envp);
        p.credentials = &creds;
        p.directory = sub;
        assert_spawn_fails(f, &p, -EACCES, SPAWN_STEP_CHDIR);
        p.directory = missing;
        assert_spawn_fails(f, &p, -EACCES, SPAWN_STEP_CHDIR);

        p.credentials = NULL;
        p.directory = sub;
        assert_int_equal(spawn_child(&p, &f->child, /* ret_step= */ NULL), 0);
        assert_int_equal(pidref_wait(&f->child, &si, WEXITED), 0);
        pidref_done(&f->child);
        assert_int_equal(si.si_code, CLD_EXITED);
        assert_int_equal(si.si_status, 0);
}

/* Runs sh -c script with p's limits and returns what it printed. */
static char *run_script(Fixture *f, SpawnParams *p, const char *script) {
        _cleanup_free_ char *out = NULL;
        _cleanup_close_ int out_fd = -EBADF;
        char *argv[] = { (char *) "sh", (char *) "-c", (char *) script, NULL };
        siginfo_t si = {};

        assert_true(asprintf(&out, "%s/script-out", f->dir) >= 0);
        out_fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(out_fd >= 0);
        p->path = "/bin/sh";
        p->argv = argv;
        p->stdout_fd = out_fd;
        assert_int_equal(spawn_child(p, &f->child, /* ret_step= */ NULL), 0);
        assert_int_equal(pidref_wait(&f->child, &si, WEXITED), 0);
        pidref_done(&f->child);
        assert_int_equal(si.si_code, CLD_EXITED);
        p->argv = NULL;
        return read_file(out);
}

/* corrald runs with its soft limit of open files raised to the hard one;
 * a child gets 1024 again (select(2) breaks above) and the same hard
 * limit, unless a limit is configured. (The hard limit stays as it is:
 * raising it back would need CAP_SYS_RESOURCE.) */
static void test_spawn_nofile_soft_limit(void **state) {
        Fixture *f = *state;
        struct rlimit saved;
        char *envp[] = { (char *) "PATH=/usr/bin:/bin", NULL };
        _cleanup_free_ char *plain = NULL, *configured = NULL, *low = NULL, *want = NULL;
        struct rlimit limits[RLIMIT_NLIMITS] = {};
        bool set[RLIMIT_NLIMITS] = {};
        const char *script = "echo \"$(ulimit -Sn)/$(ulimit -Hn)\"";
        SpawnParams p;

        assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
        if (saved.rlim_max < 4096)
                skip();
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &(struct rlimit) { 4096, saved.rlim_max }), 0);
        init_params(f, &p, "/bin/sh", /* argv= */ NULL, envp);
        plain = run_script(f, &p, script);
        limits[RLIMIT_NOFILE] = (struct rlimit) { 2048, 2048 };
        set[RLIMIT_NOFILE] = true;
        p.rlimits = limits;
        p.rlimits_set = set;
        configured = run_script(f, &p, script);
        /* a soft limit below 1024 is left as it is */
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &(struct rlimit) { 512, saved.rlim_max }), 0);
        p.rlimits = NULL;
        p.rlimits_set = NULL;
        low = run_script(f, &p, script);
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);

        assert_true(asprintf(&want, "1024/%llu\n", (unsigned long long) saved.rlim_max) > 0);
        assert_string_equal(plain, want);
        assert_string_equal(configured, "2048/2048\n");
        want = mfree_str(want);
        assert_true(asprintf(&want, "512/%llu\n", (unsigned long long) saved.rlim_max) > 0);
        assert_string_equal(low, want);
}

/* A child runs in corrald's address space until its exec (CLONE_VM,
 * spawn-internal.h) while corrald goes on: what it reads must be its own
 * copy. Here every argument, the environment, the path and the working
 * directory are overwritten and freed right after each clone, with 40
 * children in flight before the first report is read; each must still
 * run with exactly what it was given. */
static void test_spawn_async_own_copy(void **state) {
        Fixture *f = *state;
        enum { N = 40 };
        PidRef child[N];
        int report[N];
        _cleanup_free_ char *out = NULL;

        assert_true(asprintf(&out, "%s/out", f->dir) >= 0);
        for (int i = 0; i < N; i++) {
                char *path = strdup("/bin/sh"), *dir = strdup(f->dir), *script = NULL, *arg = NULL, *env = NULL;
                assert_true(asprintf(&script, "echo \"$1 $CORRAL_TEST_VAR $(pwd)\" >> \"%s\"", out) >= 0);
                assert_true(asprintf(&arg, "arg-%d", i) >= 0);
                assert_true(asprintf(&env, "CORRAL_TEST_VAR=env-%d", i) >= 0);
                assert_non_null(path);
                assert_non_null(dir);
                char **argv = calloc(6, sizeof(char *)), **envp = calloc(2, sizeof(char *));
                assert_non_null(argv);
                assert_non_null(envp);
                argv[0] = (char *) "sh";
                argv[1] = (char *) "-c";
                argv[2] = script;
                argv[3] = (char *) "sh";
                argv[4] = arg;
                envp[0] = env;
                SpawnParams p;
                init_params(f, &p, path, argv, envp);
                p.directory = dir;
                child[i] = PIDREF_NULL;
                assert_int_equal(spawn_child_async(&p, &child[i], &report[i]), 0);
                /* what a reload or a removed unit would do to them */
                for (char *s[] = { path, dir, script, arg, env }, **q = s; q < s + 5; q++) {
                        memset(*q, 'X', strlen(*q));
                        free(*q);
                }
                memset(argv, 0xff, 6 * sizeof(char *));
                memset(envp, 0xff, 2 * sizeof(char *));
                free(argv);
                free(envp);
        }
        for (int i = 0; i < N; i++) {
                struct pollfd pfd = { .fd = report[i], .events = POLLIN };
                siginfo_t si = {};

                assert_int_equal(poll(&pfd, 1, 30 * 1000), 1);
                assert_int_equal(spawn_read_report(report[i], /* ret_step= */ NULL), 0);
                safe_close(report[i]);
                assert_int_equal(pidref_wait(&child[i], &si, WEXITED), 0);
                assert_int_equal(si.si_code, CLD_EXITED);
                assert_int_equal(si.si_status, 0);
                pidref_done(&child[i]);
        }
        _cleanup_free_ char *buf = read_file(out);
        for (int i = 0; i < N; i++) {
                _cleanup_free_ char *line = NULL;
                assert_true(asprintf(&line, "arg-%d env-%d %s", i, i, f->dir) >= 0);
                assert_contains_line(buf, line);
        }
        /* every image and stack given back once the children are gone */
        assert_int_equal(spawn_reclaim(), 0);
}

/* A child that switches to another user changes the dumpable flag of the
 * address space it still shares with corrald (the kernel's commit_creds());
 * corrald's own flag is back once the child has exec'd. */
static void test_spawn_keeps_dumpable(void **state) {
        Fixture *f = *state;
        _cleanup_(spawn_credentials_done) SpawnCredentials creds = {};
        _cleanup_free_ char *out = NULL;
        char *envp[] = { NULL };
        SpawnParams p;

        assert_int_equal(spawn_credentials_resolve("nobody", /* group= */ NULL, &creds), 0);
        assert_int_equal(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), 0);
        init_params(f, &p, "/bin/sh", /* argv= */ NULL, envp);
        p.credentials = &creds;
        out = run_script(f, &p, "id -u");
        assert_string_equal(out, "65534\n");
        assert_int_equal(spawn_reclaim(), 0);
        assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 1);
}

/* Where fs.suid_dumpable is 1, a process that changed its uid stays
 * dumpable: its new user could ptrace it. A child that becomes another
 * user is then forked, not run on corrald's memory; elsewhere, and for a
 * child that stays root, it is. The setting is the real one, put back
 * after. */
static const char suid_dumpable_path[] = "/proc/sys/fs/suid_dumpable";
static char *suid_dumpable_saved;

static int setup_suid_dumpable(void **state) {
        suid_dumpable_saved = read_file(suid_dumpable_path);
        return suid_dumpable_saved ? setup(state) : -1;
}

static int teardown_suid_dumpable(void **state) {
        int r = test_write_file(suid_dumpable_path, suid_dumpable_saved);

        suid_dumpable_saved = mfree(suid_dumpable_saved);
        return teardown(state) < 0 || r < 0 ? -1 : 0;
}

static void test_spawn_suid_dumpable_forks(void **state) {
        const char *path = suid_dumpable_path;
        Fixture *f = *state;
        _cleanup_(spawn_credentials_done) SpawnCredentials creds = {};
        char *envp[] = { NULL };
        SpawnParams p;

        if (!spawn_may_share_memory(/* changes_ids= */ false))
                skip(); /* no CLONE_VM on this architecture: every child is forked */
        assert_int_equal(spawn_credentials_resolve("nobody", /* group= */ NULL, &creds), 0);
        assert_int_equal(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), 0);
        init_params(f, &p, "/bin/sh", /* argv= */ NULL, envp);

        static const struct {
                const char *value;
                bool user_forked;
        } cases[] = { { "1", true }, { "0", false }, { "2", false } };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *as_user = NULL, *as_root = NULL;

                assert_int_equal(test_write_file(path, cases[i].value), 0);
                assert_int_equal(spawn_may_share_memory(/* changes_ids= */ true), !cases[i].user_forked);

                SpawnCounters before = *spawn_counters();
                p.credentials = &creds;
                as_user = run_script(f, &p, "id -u");
                p.credentials = NULL;
                as_root = run_script(f, &p, "id -u");
                SpawnCounters after = *spawn_counters();

                assert_string_equal(as_user, "65534\n");
                assert_string_equal(as_root, "0\n");
                assert_int_equal(after.forked - before.forked, cases[i].user_forked ? 1 : 0);
                assert_int_equal(after.shared - before.shared, cases[i].user_forked ? 1 : 2);
                assert_int_equal(spawn_reclaim(), 0);
                assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 1);
        }
}

static void test_spawn_bad_stdio(void **state) {
        Fixture *f = *state;
        char *argv[] = { (char *) "sh", (char *) "-c", (char *) "exit 0", NULL };
        char *envp[] = { NULL };
        SpawnParams p;

        init_params(f, &p, "/bin/sh", argv, envp);
        p.stdout_fd = 1000; /* not open */
        assert_spawn_fails(f, &p, -EBADF, SPAWN_STEP_STDIO);
}

static void test_spawn_bad_cgroup(void **state) {
        Fixture *f = *state;
        char *argv[] = { (char *) "sh", (char *) "-c", (char *) "exit 0", NULL };
        char *envp[] = { NULL };
        SpawnParams p;

        /* /dev/null is no cgroup: clone3() itself refuses */
        init_params(f, &p, "/bin/sh", argv, envp);
        p.cgroup_fd = f->null_fd;
        assert_spawn_fails(f, &p, -EBADF, SPAWN_STEP_CLONE);
}

/* ---- Credentials ---- */

static bool groups_contain(const SpawnCredentials *c, gid_t gid) {
        for (size_t i = 0; i < c->n_groups; i++)
                if (c->groups[i] == gid)
                        return true;
        return false;
}

static void test_credentials(_unused_ void **state) {
        _cleanup_(spawn_credentials_done) SpawnCredentials c = {};

        assert_int_equal(spawn_credentials_resolve("nobody", /* group= */ NULL, &c), 0);
        assert_true(c.set);
        assert_int_equal(c.uid, NOBODY_UID);
        assert_string_equal(c.name, "nobody");
        assert_non_null(c.home);
        assert_non_null(c.shell);
        assert_true(c.n_groups >= 1);
        assert_true(groups_contain(&c, c.gid));
        spawn_credentials_done(&c);
        assert_false(c.set);
        assert_null(c.groups);

        /* numeric */
        assert_int_equal(spawn_credentials_resolve("65534", /* group= */ NULL, &c), 0);
        assert_true(c.set);
        assert_int_equal(c.uid, NOBODY_UID);
        assert_string_equal(c.name, "nobody");
        spawn_credentials_done(&c);

        assert_int_equal(spawn_credentials_resolve("root", /* group= */ NULL, &c), 0);
        assert_int_equal(c.uid, 0);
        assert_int_equal(c.gid, 0);
        assert_string_equal(c.name, "root");
        assert_true(groups_contain(&c, 0));
        spawn_credentials_done(&c);

        assert_int_equal(spawn_credentials_resolve("0", /* group= */ NULL, &c), 0);
        assert_int_equal(c.uid, 0);
        assert_int_equal(c.gid, 0);
        spawn_credentials_done(&c);

        /* an explicit group, by name or number */
        assert_int_equal(spawn_credentials_resolve("nobody", "root", &c), 0);
        assert_int_equal(c.uid, NOBODY_UID);
        assert_int_equal(c.gid, 0);
        assert_true(groups_contain(&c, 0));
        spawn_credentials_done(&c);
        assert_int_equal(spawn_credentials_resolve("nobody", "0", &c), 0);
        assert_int_equal(c.gid, 0);
        spawn_credentials_done(&c);

        /* neither: keep our own */
        assert_int_equal(spawn_credentials_resolve(/* user= */ NULL, /* group= */ NULL, &c), 0);
        assert_false(c.set);
        assert_null(c.groups);
        assert_null(c.name);
}

static void test_credentials_unknown(_unused_ void **state) {
        SpawnCredentials c = { .uid = 4711 };

        assert_int_equal(spawn_credentials_resolve("corral-test-no-such-user", /* group= */ NULL, &c), -ESRCH);
        assert_int_equal(c.uid, 4711);
        assert_false(c.set);
        assert_int_equal(spawn_credentials_resolve("corral-test-no-such-user", "root", &c), -ESRCH);
        assert_int_equal(spawn_credentials_resolve("nobody", "corral-test-no-such-group", &c), -ENXIO);
        assert_int_equal(c.uid, 4711);
        assert_false(c.set);
        assert_null(c.groups);
        assert_null(c.name);
}

/* ---- Executables ---- */

static void test_find_executable(_unused_ void **state) {
        char *p = NULL;

        assert_int_equal(spawn_find_executable("sh", "/usr/bin:/bin", &p), 0);
        assert_string_equal(p, "/usr/bin/sh");
        p = mfree_str(p);
        assert_int_equal(spawn_find_executable("sh", "/nonexistent:/bin", &p), 0);
        assert_string_equal(p, "/bin/sh");
        p = mfree_str(p);
        /* empty components are skipped */
        assert_int_equal(spawn_find_executable("sh", "::/usr/bin:", &p), 0);
        assert_string_equal(p, "/usr/bin/sh");
        p = mfree_str(p);

        /* with a slash: as it is, not looked up nor checked */
        assert_int_equal(spawn_find_executable("/no/such/prog", "/usr/bin", &p), 0);
        assert_string_equal(p, "/no/such/prog");
        p = mfree_str(p);
        assert_int_equal(spawn_find_executable("./x", /* search_path= */ NULL, &p), 0);
        assert_string_equal(p, "./x");
        p = mfree_str(p);

        char sentinel[] = "unchanged";
        p = sentinel;
        assert_int_equal(spawn_find_executable("corral-test-no-such-program", "/usr/bin:/bin", &p), -ENOENT);
        assert_int_equal(spawn_find_executable("sh", "", &p), -ENOENT);
        assert_int_equal(spawn_find_executable("sh", /* search_path= */ NULL, &p), -ENOENT);
        assert_int_equal(spawn_find_executable("sh", "/nonexistent", &p), -ENOENT);
        assert_ptr_equal(p, sentinel);
}

static void test_find_executable_skips(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *file = NULL, *search = NULL, *want = NULL;
        char *p = NULL;

        /* a/prog not executable, b/prog a directory, c/prog the one */
        assert_true(asprintf(&a, "%s/a", f->dir) >= 0);
        assert_true(asprintf(&b, "%s/b", f->dir) >= 0);
        assert_true(asprintf(&c, "%s/c", f->dir) >= 0);
        assert_int_equal(mkdir(a, 0755), 0);
        assert_int_equal(mkdir(b, 0755), 0);
        assert_int_equal(mkdir(c, 0755), 0);
        assert_true(asprintf(&file, "%s/prog", a) >= 0);
        assert_int_equal(test_write_file(file, "#!/bin/sh\n"), 0);
        assert_int_equal(chmod(file, 0644), 0);
        file = mfree_str(file);
        assert_true(asprintf(&file, "%s/prog", b) >= 0);
        assert_int_equal(mkdir(file, 0755), 0);
        file = mfree_str(file);

        assert_true(asprintf(&search, "%s:%s:%s", a, b, c) >= 0);
        assert_int_equal(spawn_find_executable("prog", search, &p), -ENOENT);

        assert_true(asprintf(&file, "%s/prog", c) >= 0);
        assert_int_equal(test_write_file(file, "#!/bin/sh\n"), 0);
        assert_int_equal(chmod(file, 0755), 0);
        assert_int_equal(spawn_find_executable("prog", search, &p), 0);
        assert_string_equal(p, file);
        free(p);
}

static void test_step_to_string(_unused_ void **state) {
        for (SpawnStep s = 0; s < _SPAWN_STEP_MAX; s++) {
                const char *name = spawn_step_to_string(s);

                if (!name || !*name)
                        fail_msg("step %d has no name", s);
                for (SpawnStep t = 0; t < s; t++)
                        assert_string_not_equal(name, spawn_step_to_string(t));
        }
        assert_string_equal(spawn_step_to_string(SPAWN_STEP_EXEC), "exec");
        assert_string_equal(spawn_step_to_string(SPAWN_STEP_CHDIR), "chdir");
        assert_null(spawn_step_to_string(_SPAWN_STEP_MAX));
        assert_null(spawn_step_to_string(_SPAWN_STEP_INVALID));
        assert_null(spawn_step_to_string((SpawnStep) 1000));
}

int main(void) {
        const struct CMUnitTest pure[] = {
                cmocka_unit_test(test_step_to_string),
                cmocka_unit_test(test_find_executable),
                cmocka_unit_test(test_credentials),
                cmocka_unit_test(test_credentials_unknown),
        };
        const struct CMUnitTest real[] = {
                cmocka_unit_test_setup_teardown(test_find_executable_skips, setup, teardown),
                cmocka_unit_test_setup_teardown(test_spawn_nobody, setup, teardown),
                cmocka_unit_test_setup_teardown(test_spawn_root, setup, teardown),
                cmocka_unit_test_setup_teardown(test_spawn_suid_dumpable_forks, setup_suid_dumpable,
                                                teardown_suid_dumpable),
                cmocka_unit_test_setup_teardown(test_spawn_exit_status, setup, teardown),
                cmocka_unit_test_setup_teardown(test_spawn_stdio_low_fds, setup, teardown),
                cmocka_unit_test_setup_teardown(test_spawn_report_low_fds, setup, teardown),
                cmocka_unit_test_setup_teardown(test_spawn_exec_missing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_spawn_exec_not_executable, setup, teardown),
                cmocka_unit_test_setup_teardown(test_spawn_chdir_missing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_spawn_chdir_as_user, setup, teardown),
                cmocka_unit_test_setup_teardown(test_spawn_nofile_soft_limit, setup, teardown),
                cmocka_unit_test_setup_teardown(test_spawn_bad_stdio, setup, teardown),
                cmocka_unit_test_setup_teardown(test_spawn_async_own_copy, setup, teardown),
                cmocka_unit_test_setup_teardown(test_spawn_keeps_dumpable, setup, teardown),
                cmocka_unit_test_setup_teardown(test_spawn_bad_cgroup, setup, teardown),
        };
        int r;

        /* Look-ups need no privileges; the rest needs root on cgroup2. */
        r = cmocka_run_group_tests_name("look-ups", pure, /* group_setup= */ NULL, /* group_teardown= */ NULL);
        if (r != 0)
                return r;
        test_require_cgroup2_root();
        return cmocka_run_group_tests_name("real children", real, /* group_setup= */ NULL, /* group_teardown= */ NULL);
}
