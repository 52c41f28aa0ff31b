/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Attacks on a real corrald, each by the one who could make it: a user
 * (made with useradd for this test, deleted after) who may run jobs, a
 * unit that swaps its own log file, a crash in the middle of a mass start,
 * a configuration with more units than corrald's default limit of open
 * files, a PID recycled while corrald looks at it. Each test fails on a corrald without the defence it checks. */

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "fileio.h"
#include "macro.h"
#include "test-util.h"

#define TIMEOUT (30 * USEC_PER_SEC)
/* Its own name: test-control makes and deletes a user of its own, maybe
 * at the same time. */
#define ATTACKER "corral-test-attacker"

static TestDaemon daemon_;
static bool attacker_created;
/* What a test made beside corrald's files, removed by the teardown even
 * when the test fails. */
static char *scratch_;

/* Removes path and everything below it (only what the tests made). */
static void remove_tree(const char *path) {
        DIR *d = opendir(path);

        if (d) {
                for (struct dirent *de; (de = readdir(d));) {
                        _cleanup_free_ char *p = NULL;

                        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                                continue;
                        assert_true(asprintf(&p, "%s/%s", path, de->d_name) > 0);
                        if (de->d_type == DT_DIR)
                                remove_tree(p);
                        else
                                (void) unlink(p);
                }
                closedir(d);
        }
        (void) rmdir(path);
}

static void kill_recycled(pid_t pid);
static pid_t recycled_;

static int teardown(void **state) {
        kill_recycled(recycled_);
        recycled_ = 0;
        if (scratch_)
                remove_tree(scratch_);
        scratch_ = mfree(scratch_);
        test_daemon_cleanup(&daemon_);
        return 0;
}

/* ---- the attacker: a user of its own ---- */

static bool attacker_ids(uid_t *ret_uid, gid_t *ret_gid) {
        struct passwd *pw = getpwnam(ATTACKER);

        if (!pw)
                return false;
        *ret_uid = pw->pw_uid;
        *ret_gid = pw->pw_gid;
        return true;
}

static int group_setup(void **state) {
        uid_t uid;
        gid_t gid;

        if (attacker_ids(&uid, &gid))
                return 0;
        /* a system user with a group of its own (Debian's USERGROUPS_ENAB) */
        if (system("useradd --system --no-create-home --shell /usr/sbin/nologin " ATTACKER " >/dev/null 2>&1") == 0 &&
            attacker_ids(&uid, &gid))
                attacker_created = true;
        return 0;
}

static int group_teardown(void **state) {
        if (attacker_created && system("userdel " ATTACKER " >/dev/null 2>&1") != 0)
                fprintf(stderr, "warning: userdel %s failed\n", ATTACKER);
        return 0;
}

static char *memfd_text(int fd) {
        struct stat st;
        char *buf;

        assert_int_equal(fstat(fd, &st), 0);
        buf = calloc(1, (size_t) st.st_size + 1);
        assert_non_null(buf);
        assert_int_equal(pread(fd, buf, (size_t) st.st_size, 0), st.st_size);
        return buf;
}

/* Runs argv as the attacker (its own UID and GID, no other group), stdout
 * and stderr together into *ret_out (may be NULL). Returns the exit status
 * (128+N for signal N). It dies with the test, and after 60 s at the
 * latest (SIGALRM survives execve). */
static int run_as_attacker(const char *const *argv, char **ret_out) {
        int out = memfd_create("attacker-out", MFD_CLOEXEC), status;
        uid_t uid = 0;
        gid_t gid = 0;

        assert_true(out >= 0);
        assert_true(attacker_ids(&uid, &gid));
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
                        _exit(90);
                if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
                        _exit(91);
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL); /* the switch cleared it */
                alarm(60);
                execv(argv[0], (char **) argv);
                _exit(127);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (ret_out)
                *ret_out = memfd_text(out);
        close(out);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static const char *corralctl_path(void) {
        const char *p = getenv("CORRALCTL");

        if (!p)
                skip();
        return p;
}

/* Skips the calling test when there is no attacker or it cannot run
 * corralctl (a build directory that others may not enter). */
static void require_attacker(void) {
        uid_t uid;
        gid_t gid;

        if (!attacker_ids(&uid, &gid)) {
                print_message("SKIP: no user %s (useradd failed)\n", ATTACKER);
                skip();
        }
        if (run_as_attacker((const char *const[]) { corralctl_path(), "--version", NULL }, NULL) != 0) {
                print_message("SKIP: %s cannot run %s\n", ATTACKER, corralctl_path());
                skip();
        }
}

static bool socket_exists(void *userdata) {
        const TestDaemon *d = userdata;
        return access(d->socket, F_OK) >= 0;
}

/* ---- 1: a job's directory is entered as the job's user ---- */

/* The attacker may run jobs (job_group), which run as the attacker. Below
 * a directory only root may enter, its job must fail at chdir with EACCES
 * — for a directory that exists as for one that does not, or the exit
 * status would tell which paths exist there. */
static void test_cwd_entered_as_user(void **state) {
        _cleanup_free_ char *secret = NULL, *sub = NULL, *missing = NULL, *out = NULL;

        require_attacker();
        assert_int_equal(test_daemon_start(&daemon_, "cwd", "[corral]\njob_group = " ATTACKER "\n"), 0);
        assert_true(test_wait_for(socket_exists, &daemon_, TIMEOUT));
        assert_int_equal(chmod(daemon_.dir, 0755), 0); /* the socket's directory, as /run/corral is */
        assert_true(asprintf(&secret, "%s/root-only", daemon_.dir) > 0);
        scratch_ = strdup(secret);
        assert_true(asprintf(&sub, "%s/sub", secret) > 0);
        assert_true(asprintf(&missing, "%s/no-such-dir", secret) > 0);
        assert_int_equal(mkdir(secret, 0700), 0);
        assert_int_equal(mkdir(sub, 0755), 0);

        /* what the attacker's own corralctl says, and what corrald logs */
        const char *ctl = corralctl_path();
        const char *dirs[] = { sub, missing };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                _cleanup_free_ char *line = NULL;
                int status = run_as_attacker((const char *const[]) { ctl, "--socket", daemon_.socket, "run", "--cwd",
                                                                     dirs[i], "--wait", "--", "true", NULL },
                                             &out);
                print_message("job in %s (as %s): exit %d: %s", dirs[i], ATTACKER, status, out);
                assert_int_equal(status, 127); /* could not be started: corralctl(1) */
                assert_non_null(strstr(out, "Permission denied"));
                out = mfree(out);
                assert_true(asprintf(&line, ": chdir %s: Permission denied", dirs[i]) > 0);
                assert_true(test_daemon_wait_log(&daemon_, line, 1, TIMEOUT));
        }

        /* where the attacker may go, its job runs */
        assert_int_equal(run_as_attacker((const char *const[]) { ctl, "--socket", daemon_.socket, "run", "--cwd",
                                                                 daemon_.dir, "--wait", "--", "true", NULL },
                                         /* ret_out= */ NULL),
                         0);
        assert_true(test_daemon_alive(&daemon_));
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* ---- 3: the notify socket's name ---- */

/* A directory of the test's own for corrald's control socket (and so its
 * notify socket), mode `mode`, removed by the teardown. */
static char *scratch_dir(mode_t mode) {
        char dir[] = "/tmp/corral-test-attack-XXXXXX";

        assert_non_null(mkdtemp(dir));
        assert_int_equal(chmod(dir, mode), 0);
        scratch_ = strdup(dir);
        assert_non_null(scratch_);
        return strdup(dir);
}

/* Starts corrald on cgroup with a control socket at sock (which the body
 * does not name), and points daemon_.socket at it. */
static void start_with_socket(const char *cgroup, const char *sock, const char *body) {
        _cleanup_free_ char *conf = NULL;

        assert_true(asprintf(&conf, "[corral]\ncontrol_socket = %s\n%s", sock, body) > 0);
        assert_int_equal(test_daemon_start_cgroup(&daemon_, cgroup, conf), 0);
        free(daemon_.socket);
        daemon_.socket = strdup(sock);
}

/* The hash of a subtree's cgroup path that names its notify socket. */
static uint64_t fnv1a(const char *s) {
        uint64_t h = 14695981039346656037ULL;

        for (const char *p = s; *p; p++)
                h = (h ^ (uint8_t) *p) * 1099511628211ULL;
        return h;
}

/* The abstract name that corrald's notify socket once had: anyone could
 * bind it first, and corrald then failed to start ("Address already in
 * use"), also on its restart after a crash. */
static socklen_t old_abstract_name(const char *cgroup, struct sockaddr_un *ret) {
        *ret = (struct sockaddr_un) { .sun_family = AF_UNIX };
        int n = snprintf(ret->sun_path + 1, sizeof(ret->sun_path) - 1, "corral-notify-%016llx",
                         (unsigned long long) fnv1a(cgroup));
        return (socklen_t) (offsetof(struct sockaddr_un, sun_path) + 1 + (size_t) n);
}

/* What the squatter achieved, bit by bit. */
enum {
        SQUAT_ABSTRACT = 1 << 0, /* bound the old abstract name */
        SQUAT_DIR = 1 << 1,      /* made the notify directory */
        SQUAT_PATH = 1 << 2,     /* bound the notify socket's path */
        SQUAT_UNLINK = 1 << 3,   /* removed corrald's socket */
};

/* As the attacker: squats every name of the notify socket it can — before
 * corrald starts, and again once it runs — and reports each time. */
_noreturn_ static void squat(const char *cgroup, const char *notify_dir, const char *path, int up, int down) {
        struct sockaddr_un sa, abstract;
        socklen_t n = old_abstract_name(cgroup, &abstract);
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), fd2 = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        int got = 0;
        char c;

        sa = (struct sockaddr_un) { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        if (bind(fd, (struct sockaddr *) &abstract, n) >= 0)
                got |= SQUAT_ABSTRACT;
        if (mkdir(notify_dir, 0777) >= 0)
                got |= SQUAT_DIR;
        if (bind(fd2, (struct sockaddr *) &sa, sizeof(sa)) >= 0)
                got |= SQUAT_PATH;
        if (write(up, &got, sizeof(got)) != sizeof(got) || read(down, &c, 1) != 1)
                _exit(1);
        got = 0;
        if (unlink(path) >= 0)
                got |= SQUAT_UNLINK;
        if (bind(fd2, (struct sockaddr *) &sa, sizeof(sa)) >= 0)
                got |= SQUAT_PATH;
        if (write(up, &got, sizeof(got)) != sizeof(got) || read(down, &c, 1) != 1)
                _exit(1);
        _exit(0);
}

/* Another user (the attacker) takes every name of corrald's notify socket
 * that it can before corrald starts, and holds them: corrald starts all
 * the same, and a unit of that very user gets READY=1 through. Once
 * corrald runs, the attacker can neither remove its socket nor bind its
 * path. */
static void test_notify_name_cannot_be_taken(void **state) {
        _cleanup_free_ char *cgroup = test_cgroup_path("notifyname"), *dir = NULL, *sock = NULL, *notify_dir = NULL,
                            *path = NULL, *body = NULL, *n = test_helper_path("test-notifier");
        int up[2], down[2], before = -1, after = -1;
        uid_t uid = 0;
        gid_t gid = 0;

        if (!attacker_ids(&uid, &gid))
                skip();
        if (run_as_attacker((const char *const[]) { "/usr/bin/test", "-x", n, NULL }, NULL) != 0) {
                print_message("SKIP: %s cannot run %s\n", ATTACKER, n);
                skip();
        }
        dir = scratch_dir(0755);
        assert_true(asprintf(&sock, "%s/control.sock", dir) > 0);
        assert_true(asprintf(&notify_dir, "%s/notify", dir) > 0);
        assert_true(asprintf(&body, "[program:n]\ncommand = %s ready 100\nready = notify\nuser = " ATTACKER "\n", n) >
                    0);

        assert_int_equal(pipe2(up, O_CLOEXEC), 0);
        assert_int_equal(pipe2(down, O_CLOEXEC), 0);
        assert_true(asprintf(&path, "%s/%016llx", notify_dir, (unsigned long long) fnv1a(cgroup)) > 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(up[0]);
                close(down[1]);
                if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
                        _exit(91);
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL); /* after the switch, which clears it */
                squat(cgroup, notify_dir, path, up[1], down[0]);
        }
        close(up[1]);
        close(down[0]);
        assert_int_equal(read(up[0], &before, sizeof(before)), sizeof(before));

        start_with_socket(cgroup, sock, body);
        bool ready = test_daemon_wait_log(&daemon_, "n: ready", 1, TIMEOUT);
        print_message("squatted before the start: %s%s%s; corrald %s\n",
                      before & SQUAT_ABSTRACT ? "the old abstract name " : "",
                      before & SQUAT_DIR ? "the directory " : "", before & SQUAT_PATH ? "the path " : "",
                      ready ? "started, the unit is ready" : "did not start");
        assert_true(ready);
        assert_true(test_daemon_alive(&daemon_));
        assert_int_equal(before & (SQUAT_DIR | SQUAT_PATH), 0);

        /* and now that it runs */
        assert_int_equal(write(down[1], "g", 1), 1);
        assert_int_equal(read(up[0], &after, sizeof(after)), sizeof(after));
        assert_int_equal(after, 0);
        assert_int_equal(write(down[1], "g", 1), 1);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        close(up[0]);
        close(down[1]);

        struct stat st;
        assert_int_equal(lstat(path, &st), 0);
        assert_true(S_ISSOCK(st.st_mode));
        assert_int_equal(st.st_uid, 0);
        assert_true(test_daemon_stop_cleanly(&daemon_));
        /* a clean stop removes the socket */
        assert_int_equal(lstat(path, &st), -1);
}

/* Where the control socket's directory lets others in (a sticky 1777
 * one, like /tmp), the attacker makes the notify directory first: corrald
 * refuses it, saying why, rather than use a directory someone else owns. */
static void test_notify_dir_of_another_user(void **state) {
        _cleanup_free_ char *cgroup = test_cgroup_path("notifydir"), *dir = NULL, *sock = NULL, *notify_dir = NULL,
                            *msg = NULL;
        uid_t uid = 0;
        gid_t gid = 0;

        if (!attacker_ids(&uid, &gid))
                skip();
        dir = scratch_dir(01777);
        assert_true(asprintf(&sock, "%s/control.sock", dir) > 0);
        assert_true(asprintf(&notify_dir, "%s/notify", dir) > 0);
        assert_int_equal(run_as_attacker((const char *const[]) { "/bin/mkdir", "-m", "0777", notify_dir, NULL }, NULL),
                         0);
        start_with_socket(cgroup, sock, "[program:a]\ncommand = sleep 1000\n");
        assert_true(test_daemon_wait(&daemon_, TIMEOUT));
        assert_int_not_equal(daemon_.exit_status, 0);
        assert_true(asprintf(&msg, "notify socket directory %s belongs to UID %u, not to corrald's UID 0, refusing it",
                             notify_dir, (unsigned) uid) > 0);
        assert_int_equal(test_daemon_log_count(&daemon_, msg), 1);
        assert_int_equal(test_daemon_log_count(&daemon_, "a: started"), 0);
}

/* A unit with ready = notify and a watchdog, adopted by a corrald started
 * after the last one was SIGKILLed: its pings (to the NOTIFY_SOCKET it was
 * started with) reach the new corrald — it is not restarted by its
 * watchdog — and that path is where the new corrald listens. */
static void test_notify_after_adoption(void **state) {
        _cleanup_free_ char *cgroup = test_cgroup_path("notifyadopt"), *dir = scratch_dir(0755), *sock = NULL,
                            *body = NULL, *n = test_helper_path("test-notifier"), *env = NULL, *procs = NULL,
                            *pids = NULL, *fs = NULL, *notify = NULL;
        size_t len = 0;

        assert_true(asprintf(&sock, "%s/control.sock", dir) > 0);
        assert_true(asprintf(&body,
                             /* inherit-raw: dog prints each ping, also while no corrald
                              * runs, and a pipe of the dead corrald's would end it with
                              * SIGPIPE (corral.conf(5), output) */
                             "[program:dog]\ncommand = %s watchdog 100 1000000\nready = notify\n"
                             "watchdog_timeout = 2s\nrestart_delay = 100ms\noutput = inherit-raw\n",
                             n) > 0);
        start_with_socket(cgroup, sock, body);
        assert_true(test_daemon_wait_log(&daemon_, "dog: ready", 1, TIMEOUT));
        fs = test_cgroup_fs_path(cgroup);
        assert_true(asprintf(&procs, "%s/dog/cgroup.procs", fs) > 0);
        assert_int_equal(read_full_file_at(AT_FDCWD, procs, 4096, &pids, NULL), 0);
        pid_t main_pid = (pid_t) atoi(pids);
        assert_true(main_pid > 0);

        assert_int_equal(test_daemon_signal(&daemon_, SIGKILL), 0);
        assert_true(test_daemon_wait(&daemon_, TIMEOUT));
        usleep(300 * 1000); /* pings go nowhere meanwhile */
        TestDaemon old = daemon_;
        old.cgroup = mfree(old.cgroup);
        old.socket = mfree(old.socket); /* the new corrald's, now */
        start_with_socket(cgroup, sock, body);
        test_daemon_cleanup(&old);
        assert_true(test_daemon_wait_log(&daemon_, "dog: adopted from an earlier corrald", 1, TIMEOUT));

        /* three watchdog timeouts long: the pings must reach it (2 s, not
         * less: a loaded machine must not miss a ping by chance) */
        usleep(6 * USEC_PER_SEC);
        assert_int_equal(test_daemon_log_count(&daemon_, "dog: watchdog timeout"), 0);
        assert_int_equal(test_daemon_log_count(&daemon_, "dog: started"), 0);
        pids = mfree(pids);
        assert_int_equal(read_full_file_at(AT_FDCWD, procs, 4096, &pids, NULL), 0);
        assert_int_equal(atoi(pids), main_pid);

        /* the unit's NOTIFY_SOCKET is the socket the new corrald listens on */
        _cleanup_free_ char *environ_path = NULL;
        assert_true(asprintf(&environ_path, "/proc/%d/environ", (int) main_pid) > 0);
        assert_int_equal(read_full_file_at(AT_FDCWD, environ_path, 1 << 20, &env, &len), 0);
        for (size_t i = 0; i < len; i += strlen(env + i) + 1)
                if (strneq(env + i, "NOTIFY_SOCKET=", strlen("NOTIFY_SOCKET=")))
                        notify = strdup(env + i + strlen("NOTIFY_SOCKET="));
        assert_non_null(notify);
        assert_true(strneq(notify, dir, strlen(dir)));
        struct stat st;
        assert_int_equal(lstat(notify, &st), 0);
        assert_true(S_ISSOCK(st.st_mode));
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* ---- 4: a unit swaps its own log file ---- */

/* Sends a status request; true when the reply comes within timeout. */
static bool status_answers_within(const TestDaemon *d, usec_t timeout) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct timeval tv = { .tv_sec = (time_t) (timeout / USEC_PER_SEC),
                              .tv_usec = (suseconds_t) (timeout % USEC_PER_SEC) };
        const char req[] = "{\"method\":\"status\"}\n";
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        char buf[4096];
        ssize_t n;

        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d->socket);
        assert_true(fd >= 0);
        assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
        assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 ||
            write(fd, req, strlen(req)) != (ssize_t) strlen(req))
                return false;
        n = read(fd, buf, sizeof(buf));
        return n > 0 && strneq(buf, "{", 1);
}

static bool file_is_fifo(void *userdata) {
        struct stat st;
        return lstat(userdata, &st) >= 0 && S_ISFIFO(st.st_mode);
}

static bool file_is_symlink(void *userdata) {
        struct stat st;
        return lstat(userdata, &st) >= 0 && S_ISLNK(st.st_mode);
}

/* A unit (running as the attacker, in a directory of its own where its
 * log file is) replaces its log file and fails, to be restarted: with a
 * FIFO, which corrald's open() would block on, its whole loop with it;
 * with a symbolic link to a file of root's, which root would append to.
 * Both starts are refused with the reason, corrald answers at once, and
 * root's file is untouched. */
static void test_output_file_swapped(void **state) {
        _cleanup_free_ char *fifo_dir = NULL, *link_dir = NULL, *fifo_log = NULL, *link_log = NULL, *secret = NULL,
                            *body = NULL, *cmd = NULL, *buf = NULL, *msg = NULL;
        char dir[] = "/tmp/corral-test-attack-XXXXXX";
        uid_t uid = 0;
        gid_t gid = 0;

        if (!attacker_ids(&uid, &gid))
                skip();
        assert_non_null(mkdtemp(dir));
        scratch_ = strdup(dir);
        assert_int_equal(chmod(dir, 0755), 0);
        assert_true(asprintf(&fifo_dir, "%s/fifo", dir) > 0);
        assert_true(asprintf(&link_dir, "%s/link", dir) > 0);
        assert_true(asprintf(&fifo_log, "%s/out.log", fifo_dir) > 0);
        assert_true(asprintf(&link_log, "%s/out.log", link_dir) > 0);
        assert_true(asprintf(&secret, "%s/secret", dir) > 0);
        assert_int_equal(mkdir(fifo_dir, 0755), 0);
        assert_int_equal(mkdir(link_dir, 0755), 0);
        assert_int_equal(chown(fifo_dir, uid, gid), 0);
        assert_int_equal(chown(link_dir, uid, gid), 0);
        assert_int_equal(test_write_file(secret, "root's\n"), 0);
        assert_int_equal(chmod(secret, 0600), 0);
        assert_true(asprintf(&body,
                             "[program:fifo]\ncommand = sh -c 'echo run; rm -f %s; mkfifo %s; exit 1'\n"
                             "user = " ATTACKER "\noutput = file:%s\nrestart = on-failure\nrestart_delay = 100ms\n"
                             "[program:link]\ncommand = sh -c 'echo run; rm -f %s; ln -s %s %s; exit 1'\n"
                             "user = " ATTACKER "\noutput = file:%s\nrestart = on-failure\nrestart_delay = 100ms\n",
                             fifo_log, fifo_log, fifo_log, link_log, secret, link_log, link_log) > 0);
        assert_int_equal(test_daemon_start(&daemon_, "output", body), 0);

        /* the swaps happen; then the next starts */
        assert_true(test_wait_for(file_is_fifo, fifo_log, TIMEOUT));
        assert_true(test_wait_for(file_is_symlink, link_log, TIMEOUT));
        assert_true(asprintf(&msg, "fifo: output file %s is not a regular file, refusing it", fifo_log) > 0);
        bool refused_fifo = test_daemon_wait_log(&daemon_, msg, 1, 10 * USEC_PER_SEC);
        msg = mfree(msg);
        assert_true(asprintf(&msg, "link: output file %s is a symbolic link, refusing it", link_log) > 0);
        bool refused_link = test_daemon_wait_log(&daemon_, msg, 1, 10 * USEC_PER_SEC);
        bool answers = status_answers_within(&daemon_, 2 * USEC_PER_SEC);
        assert_int_equal(read_full_file_at(AT_FDCWD, secret, 4096, &buf, NULL), 0);
        print_message("FIFO refused: %s, symlink refused: %s, status answered: %s, root's file: \"%s\"\n",
                      refused_fifo ? "yes" : "no", refused_link ? "yes" : "no", answers ? "yes" : "no", buf);
        assert_true(answers);
        assert_true(refused_fifo);
        assert_true(refused_link);
        assert_string_equal(buf, "root's\n");
        json_t *st = test_daemon_request(&daemon_, "status", NULL, NULL);
        assert_non_null(st);
        assert_string_equal(json_string_value(json_object_get(test_status_unit(st, "fifo"), "state")), "failed");
        assert_string_equal(json_string_value(json_object_get(test_status_unit(st, "link"), "state")), "failed");
        json_decref(st);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* ---- 10: a restart right after a crash in the middle of a mass start ---- */

typedef struct LogWait {
        const TestDaemon *d;
        const char *needle;
        unsigned count;
} LogWait;

static bool log_has(void *userdata) {
        const LogWait *w = userdata;
        return test_daemon_log_count(w->d, w->needle) >= w->count;
}

static bool daemon_decided(void *userdata) {
        const TestDaemon *d = userdata;
        return test_daemon_log_count(d, "owning cgroup") > 0 || test_daemon_log_count(d, "owned by another") > 0 ||
               !test_daemon_alive(d);
}

/* corrald is SIGKILLed while it starts 200 services — children cloned but
 * not yet exec'd hold whatever they inherited — and a new one starts on
 * the same subtree as soon as the old one is reaped: it must take the
 * subtree every time, never "owned by another corrald". */
static void test_restart_after_crash_in_mass_start(void **state) {
        _cleanup_free_ char *cgroup = test_cgroup_path("masskill");
        const char *body = "[program:s]\ncommand = sleep 1000\ninstances = 200\n";
        unsigned refused = 0, rounds = 15;

        srand((unsigned) getpid());
        for (unsigned round = 0; round < rounds; round++) {
                LogWait w = { &daemon_, "started, main PID", 1 + (unsigned) (rand() % 150) };

                assert_int_equal(test_daemon_start_cgroup(&daemon_, cgroup, body), 0);
                assert_true(test_wait_for(log_has, &w, TIMEOUT));
                assert_int_equal(test_daemon_signal(&daemon_, SIGKILL), 0);
                assert_true(test_daemon_wait(&daemon_, TIMEOUT));

                /* at once, on the same subtree; the old files are kept for the log */
                TestDaemon old = daemon_;
                old.cgroup = mfree(old.cgroup);
                assert_int_equal(test_daemon_start_cgroup(&daemon_, cgroup, body), 0);
                test_daemon_cleanup(&old);
                assert_true(test_wait_for(daemon_decided, &daemon_, TIMEOUT));
                bool lost = test_daemon_log_count(&daemon_, "owned by another") > 0;
                print_message("round %u: killed after %u starts; restarted corrald %s\n", round + 1, w.count,
                              lost ? "REFUSED" : "took the subtree");
                if (lost) {
                        refused++;
                        test_daemon_cleanup(&daemon_); /* and its cgroup, for the next round */
                        continue;
                }
                /* SIGTERM only once it handles signals (its socket is up by then) */
                assert_true(test_wait_for(socket_exists, &daemon_, TIMEOUT));
                assert_true(test_daemon_stop_cleanly(&daemon_));
                test_daemon_cleanup(&daemon_);
        }
        print_message("%u of %u restarts refused\n", refused, rounds);
        assert_int_equal(refused, 0);
}

/* ---- 11: more units than corrald's default limit of open files ---- */

static bool all_started(void *userdata) {
        const unsigned *n = userdata;
        return test_daemon_log_count(&daemon_, "started, main PID") >= *n;
}

/* Started with the soft limit most systems give (1024, prlimit
 * --nofile=1024:HARD), corrald still runs 700 units, which need about two
 * descriptors each; and their programs get 1024 as soft limit, as they
 * would have without corrald raising its own. */
static void test_many_units_fd_limit(void **state) {
        _cleanup_free_ char *body = NULL;
        struct rlimit saved, rl;
        unsigned n = 700 + 1;
        int r;

        assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
        rl = (struct rlimit) { .rlim_cur = 1024, .rlim_max = MIN(saved.rlim_max, (rlim_t) 524288) };
        if (rl.rlim_max < 4096)
                skip(); /* the hard limit cannot hold 700 units anyway */
        assert_true(asprintf(&body,
                             "[program:many]\ncommand = sleep 1000\ninstances = 700\n"
                             "[program:probe]\ncommand = sh -c 'echo \"nofile=$(ulimit -Sn)/$(ulimit -Hn).\"; "
                             "exec sleep 1000'\n") > 0);
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
        r = test_daemon_start(&daemon_, "nofile", body);
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
        assert_int_equal(r, 0);

        bool ok = test_wait_for(all_started, &n, 120 * USEC_PER_SEC);
        print_message("%u of %u units started; %u refused for lack of descriptors\n",
                      test_daemon_log_count(&daemon_, "started, main PID"), n,
                      test_daemon_log_count(&daemon_, "Too many open files"));
        assert_true(ok);
        assert_int_equal(test_daemon_log_count(&daemon_, "Too many open files"), 0);
        _cleanup_free_ char *want = NULL;
        assert_true(asprintf(&want, "nofile=1024/%llu.", (unsigned long long) rl.rlim_max) > 0);
        assert_true(test_daemon_wait_log(&daemon_, want, 1, TIMEOUT));
        json_t *st = test_daemon_request(&daemon_, "status", NULL, NULL);
        assert_non_null(st);
        assert_int_equal(json_array_size(json_object_get(st, "units")), n);
        json_decref(st);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

static bool all_decided(void *userdata) {
        const unsigned *n = userdata;
        return !test_daemon_alive(&daemon_) || test_daemon_log_count(&daemon_, "started, main PID") +
                                                               test_daemon_log_count(&daemon_, "failed") +
                                                               test_daemon_log_count(&daemon_, "Too many open files") >=
                                                       *n;
}

/* A hard limit that holds every unit once started (a pidfd each:
 * output = inherit-raw keeps no pipe), but not the exec report pipes of
 * a whole mass start in flight as well: the starts past the gate wait
 * for the reports to come in (they free their pipes) and every unit
 * comes up, none failed for want of a descriptor (restart = never would
 * leave it failed). */
static void test_mass_start_fd_gate(void **state) {
        _cleanup_free_ char *body = NULL;
        const struct rlimit rl = { .rlim_cur = 500, .rlim_max = 500 };
        unsigned n = 300;

        assert_true(asprintf(&body,
                             "[program:many]\ncommand = sleep 1000\ninstances = %u\noutput = inherit-raw\n"
                             "restart = never\n",
                             n) > 0);
        assert_int_equal(test_daemon_start_nofile(&daemon_, "fdgate", body, &rl), 0);

        bool ok = test_wait_for(all_decided, &n, 120 * USEC_PER_SEC);
        print_message("%u of %u units started, %u failed (%u for lack of descriptors); starts held back: %s\n",
                      test_daemon_log_count(&daemon_, "started, main PID"), n,
                      test_daemon_log_count(&daemon_, "failed"), test_daemon_log_count(&daemon_, "Too many open files"),
                      test_daemon_log_count(&daemon_, "starts wait for file descriptors") > 0 ? "yes" : "no");
        assert_true(ok);
        assert_int_equal(test_daemon_log_count(&daemon_, "Too many open files"), 0);
        assert_int_equal(test_daemon_log_count(&daemon_, "started, main PID"), n);
        /* the gate closed: without it this limit is not enough */
        assert_true(test_daemon_log_count(&daemon_, "starts wait for file descriptors") > 0);
        json_t *st = test_daemon_request(&daemon_, "status", NULL, NULL);
        assert_non_null(st);
        size_t i;
        json_t *u;
        unsigned running = 0;
        json_array_foreach(json_object_get(st, "units"), i, u)
                running += streq_ptr(json_string_value(json_object_get(u, "state")), "running");
        json_decref(st);
        assert_int_equal(running, n);
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

/* ---- 12: a PID recycled under MAINPID= ---- */

/* recycled_: the process the recycle probe made, killed by the teardown
 * if the test did not get to it. */

/* Kills the recycle probe's process, if pid is still that process. */
static void kill_recycled(pid_t pid) {
        _cleanup_free_ char *path = NULL, *comm = NULL;
        int fd;

        if (pid <= 0)
                return;
        fd = (int) syscall(SYS_pidfd_open, pid, 0);
        if (fd < 0)
                return;
        assert_true(asprintf(&path, "/proc/%d/comm", (int) pid) > 0);
        if (read_full_file_at(AT_FDCWD, path, 64, &comm, NULL) >= 0 && streq(comm, "corral-recycled\n") &&
            syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0) >= 0) {
                /* Gone before corrald is stopped: it lives in corrald's
                 * cgroup, which corrald removes as it exits (EBUSY while
                 * the process is still dying, found by a CI run). */
                struct pollfd p = { .fd = fd, .events = POLLIN };
                (void) poll(&p, 1, 10 * 1000);
        }
        close(fd);
}

static bool recycle_logged(void *userdata) {
        return access(userdata, F_OK) >= 0;
}

/* A unit names its child in MAINPID=; while corrald looks at that PID,
 * the child dies, is reaped, and its PID goes to another process outside
 * the unit (the recycle probe, LD_PRELOADed into corrald, does this right
 * after corrald has read /proc/PID/cgroup: clone3() with set_tid). corrald
 * must not take that process for the unit's main process: it opened the
 * pidfd before it looked at the cgroup, and the pidfd tells it that its
 * process is gone. A corrald that checks first and opens after takes the
 * new process. */
static void test_mainpid_recycled(void **state) {
        _cleanup_free_ char *dir = scratch_dir(0755), *log = NULL, *lib = test_helper_path("librecycle-probe.so"),
                            *n = test_helper_path("test-notifier"), *body = NULL, *asan = NULL, *said = NULL,
                            *want = NULL;
        const char *old_asan = getenv("ASAN_OPTIONS");
        _cleanup_free_ char *saved_asan = old_asan ? strdup(old_asan) : NULL;
        int pid = 0, r;

        assert_true(asprintf(&log, "%s/recycle.log", dir) > 0);
        assert_true(asprintf(&body, "[program:m]\ncommand = %s mainpid-target\nready = notify\n", n) > 0);
        /* the probe is loaded before the sanitizer runtime of a sanitized corrald */
        assert_true(asprintf(&asan, "%s%sverify_asan_link_order=0", old_asan ?: "", old_asan ? ":" : "") > 0);
        assert_int_equal(setenv("LD_PRELOAD", lib, 1), 0);
        assert_int_equal(setenv("CORRAL_TEST_RECYCLE_LOG", log, 1), 0);
        assert_int_equal(setenv("ASAN_OPTIONS", asan, 1), 0);
        r = test_daemon_start(&daemon_, "recycle", body);
        assert_int_equal(unsetenv("LD_PRELOAD"), 0);
        assert_int_equal(unsetenv("CORRAL_TEST_RECYCLE_LOG"), 0);
        if (saved_asan)
                assert_int_equal(setenv("ASAN_OPTIONS", saved_asan, 1), 0);
        else
                assert_int_equal(unsetenv("ASAN_OPTIONS"), 0);
        assert_int_equal(r, 0);

        assert_true(test_wait_for(recycle_logged, log, TIMEOUT));
        assert_int_equal(read_full_file_at(AT_FDCWD, log, 4096, &said, NULL), 0);
        print_message("probe: %s", said);
        assert_int_equal(sscanf(said, "recycled %d", &pid), 1);
        recycled_ = pid;
        assert_true(test_daemon_wait_log(&daemon_, "m: ready", 1, TIMEOUT));

        json_t *st = test_daemon_request(&daemon_, "status", NULL, NULL);
        assert_non_null(st);
        json_t *u = test_status_unit(st, "m");
        assert_non_null(u);
        pid_t main_pid = (pid_t) json_integer_value(json_object_get(u, "main_pid"));
        print_message("recycled PID %d; the unit's main PID %d\n", pid, (int) main_pid);
        assert_int_not_equal(main_pid, pid);
        assert_true(main_pid > 0);
        json_decref(st);
        assert_true(asprintf(&want, "MAINPID=%d is not a process of this unit", pid) > 0);
        assert_true(test_daemon_wait_log(&daemon_, want, 1, TIMEOUT));
        assert_int_equal(test_daemon_log_count(&daemon_, "main process is now"), 0);

        kill_recycled(pid);
        recycled_ = 0;
        assert_true(test_daemon_stop_cleanly(&daemon_));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_cwd_entered_as_user, teardown),
                cmocka_unit_test_teardown(test_notify_name_cannot_be_taken, teardown),
                cmocka_unit_test_teardown(test_notify_dir_of_another_user, teardown),
                cmocka_unit_test_teardown(test_notify_after_adoption, teardown),
                cmocka_unit_test_teardown(test_output_file_swapped, teardown),
                cmocka_unit_test_teardown(test_restart_after_crash_in_mass_start, teardown),
                cmocka_unit_test_teardown(test_many_units_fd_limit, teardown),
                cmocka_unit_test_teardown(test_mass_start_fd_gate, teardown),
                cmocka_unit_test_teardown(test_mainpid_recycled, teardown),
        };

        test_require_cgroup2_root();
        if (getenv("TEST_FILTER")) /* one test by name (a pattern), when working on it */
                cmocka_set_test_filter(getenv("TEST_FILTER"));
        return cmocka_run_group_tests_name("attacks", tests, group_setup, group_teardown);
}
