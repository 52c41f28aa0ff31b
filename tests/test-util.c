/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "test-util.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "cgroup.h"
#include "fileio.h"
#include "macro.h"
#include "parse-util.h"
#include "syscall.h"

static void skip(const char *why) {
        fprintf(stderr, "SKIP: %s\n", why);
        exit(77);
}

const char *test_cgroup_mount(void) {
        static char *mount = NULL;

        if (!mount && cgroup_find_mount(&mount) < 0)
                skip("no cgroup2 hierarchy is mounted");
        return mount;
}

void test_require_cgroup2_root(void) {
        char *p;

        if (geteuid() != 0)
                skip("needs root: the tests create cgroups and switch users");
        if (asprintf(&p, "%s/cgroup.procs", test_cgroup_mount()) < 0)
                abort();
        if (access(p, W_OK) < 0)
                skip("the cgroup2 hierarchy is not writable");
        free(p);
}

char *test_cgroup_path(const char *what) {
        static unsigned counter = 0;
        char *p;

        if (asprintf(&p, "/corral-test-%s-%d-%u", what, getpid(), counter++) < 0)
                abort();
        return p;
}

char *test_cgroup_fs_path(const char *cgroup_path) {
        char *p;

        if (asprintf(&p, "%s%s", test_cgroup_mount(), cgroup_path) < 0)
                abort();
        return p;
}

bool test_cgroup_exists(const char *path) {
        char *fs = test_cgroup_fs_path(path);
        bool r = access(fs, F_OK) >= 0;

        free(fs);
        return r;
}

static bool cgroup_gone(void *path) {
        return !test_cgroup_exists(path);
}

bool test_wait_cgroup_gone(const char *path, usec_t timeout) {
        return test_wait_for(cgroup_gone, (void *) path, timeout);
}

int test_count_inotify_watches(pid_t pid) {
        char path[64];
        DIR *d;
        int n = 0;

        snprintf(path, sizeof(path), "/proc/%d/fdinfo", (int) pid);
        d = opendir(path);
        if (!d)
                return -errno;
        for (struct dirent *de; (de = readdir(d));) {
                _cleanup_free_ char *buf = NULL;
                if (de->d_name[0] == '.' || read_full_file_at(dirfd(d), de->d_name, 1 << 20, &buf, NULL) < 0)
                        continue; /* closed meanwhile */
                for (const char *p = buf; (p = strstr(p, "inotify wd:")); p++)
                        n++;
        }
        closedir(d);
        return n;
}

static bool populated(int fd) {
        CgroupEvents ev;

        return cgroup_read_events(fd, &ev) >= 0 && ev.populated;
}

static int remove_tree(int parent_fd, const char *name) {
        int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d;

        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        for (struct dirent *de; (de = readdir(d));)
                if (de->d_type == DT_DIR && !streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        (void) remove_tree(dirfd(d), de->d_name);
        closedir(d);
        return unlinkat(parent_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -errno : 0;
}

int test_cgroup_destroy(const char *path) {
        char *fs = test_cgroup_fs_path(path);
        int fd = open(fs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r = 0;

        free(fs);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        (void) cgroup_kill(fd);
        for (int i = 0; i < 1000 && populated(fd); i++)
                usleep(10 * 1000);
        if (populated(fd))
                r = -EBUSY;
        close(fd);
        if (r == 0) {
                _cleanup_free_ char *parent = strdup(path);
                char *slash = strrchr(parent, '/');
                *slash = '\0';
                _cleanup_free_ char *pfs = test_cgroup_fs_path(parent);
                int pfd = open(pfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (pfd < 0)
                        return -errno;
                r = remove_tree(pfd, slash + 1);
                close(pfd);
        }
        return r;
}

char *test_marker_new(const char *what) {
        static unsigned counter = 0;
        char *p;

        if (asprintf(&p, "%s-%d-%u-%lx", what, getpid(), counter++, (unsigned long) now(CLOCK_MONOTONIC)) < 0)
                abort();
        return p;
}

static bool environ_has(const char *buf, size_t n, const char *entry) {
        size_t len = strlen(entry);

        for (size_t i = 0; i < n;) {
                size_t l = strnlen(buf + i, n - i);
                if (l == len && memcmp(buf + i, entry, len) == 0)
                        return true;
                i += l + 1;
        }
        return false;
}

int test_count_marker(const char *marker) {
        _cleanup_free_ char *entry = NULL;
        DIR *d = opendir("/proc");
        int count = 0;

        if (!d || asprintf(&entry, "CORRAL_TEST_MARKER=%s", marker) < 0)
                abort();
        for (struct dirent *de; (de = readdir(d));) {
                char path[300];
                char *buf = NULL;
                size_t n = 0;

                if (de->d_name[0] < '1' || de->d_name[0] > '9')
                        continue;
                snprintf(path, sizeof(path), "/proc/%s/environ", de->d_name);
                if (read_full_file_at(AT_FDCWD, path, 1024 * 1024, &buf, &n) >= 0 && environ_has(buf, n, entry))
                        count++;
                free(buf);
        }
        closedir(d);
        return count;
}

int test_count_zombie_children(pid_t parent) {
        DIR *d = opendir("/proc");
        int count = 0;

        if (!d)
                abort();
        for (struct dirent *de; (de = readdir(d));) {
                char path[300], *buf = NULL;
                char state;
                int ppid;

                if (de->d_name[0] < '1' || de->d_name[0] > '9')
                        continue;
                snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
                if (read_full_file_at(AT_FDCWD, path, 4096, &buf, NULL) >= 0) {
                        const char *p = strrchr(buf, ')'); /* comm may hold blanks */
                        if (p && sscanf(p + 1, " %c %d", &state, &ppid) == 2 && state == 'Z' && ppid == parent)
                                count++;
                }
                free(buf);
        }
        closedir(d);
        return count;
}

bool test_wait_for(bool (*cond)(void *userdata), void *userdata, usec_t timeout) {
        usec_t end = now(CLOCK_MONOTONIC) + timeout;

        for (;;) {
                if (cond(userdata))
                        return true;
                if (now(CLOCK_MONOTONIC) > end)
                        return false;
                usleep(10 * 1000);
        }
}

int test_write_file(const char *path, const char *buf) {
        FILE *f = fopen(path, "we");

        if (!f)
                return -errno;
        fputs(buf, f);
        return fclose(f) < 0 ? -errno : 0;
}

char *test_helper_path(const char *name) {
        const char *dir = getenv("TEST_HELPERS_DIR");
        char *p;

        if (asprintf(&p, "%s/%s", dir ?: ".", name) < 0)
                abort();
        return p;
}

int test_daemon_start(TestDaemon *d, const char *what, const char *body) {
        char *cgroup = test_cgroup_path(what);
        int r = test_daemon_start_cgroup(d, cgroup, body);

        free(cgroup);
        return r;
}

static int daemon_start(TestDaemon *d, const char *cgroup, const char *body, const struct rlimit *nofile) {
        const char *corrald = getenv("CORRALD");
        char tmpl[] = "/tmp/corral-test-XXXXXX", *conf;
        int pidfd = -EBADF, logfd;

        *d = (TestDaemon) { .pidfd = -EBADF };
        if (!corrald)
                skip("$CORRALD is not set: run the tests through meson");
        if (!mkdtemp(tmpl))
                return -errno;
        d->dir = strdup(tmpl);
        d->cgroup = strdup(cgroup);
        if (asprintf(&d->config, "%s/corral.conf", d->dir) < 0 || asprintf(&d->log, "%s/corrald.log", d->dir) < 0 ||
            asprintf(&d->socket, "%s/control.sock", d->dir) < 0 ||
            asprintf(&conf, "[corral]\ncgroup = %s\n%s%s%s%s", d->cgroup,
                     strstr(body, "control_socket") ? "" : "control_socket = ",
                     strstr(body, "control_socket") ? "" : d->socket, strstr(body, "control_socket") ? "" : "\n",
                     strneq(body, "[corral]\n", 9) ? body + 9 : body) < 0)
                abort();
        int r = test_write_file(d->config, conf);
        free(conf);
        if (r < 0)
                return r;
        logfd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (logfd < 0)
                return -errno;

        struct corral_clone_args args = { .flags = CLONE_PIDFD,
                                          .pidfd = (uint64_t) (uintptr_t) &pidfd,
                                          .exit_signal = SIGCHLD };
        pid_t pid = sys_clone3(&args);
        if (pid < 0) {
                close(logfd);
                return pid;
        }
        if (pid == 0) {
                /* corrald dies with the test; its units are in its cgroup. */
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                (void) dup2(logfd, STDOUT_FILENO);
                (void) dup2(logfd, STDERR_FILENO);
                if (nofile && setrlimit(RLIMIT_NOFILE, nofile) < 0)
                        _exit(126);
                execl(corrald, corrald, "--config", d->config, (char *) NULL);
                _exit(127);
        }
        close(logfd);
        d->pid = pid;
        d->pidfd = pidfd;
        return 0;
}

int test_daemon_start_cgroup(TestDaemon *d, const char *cgroup, const char *body) {
        return daemon_start(d, cgroup, body, NULL);
}

int test_daemon_start_nofile(TestDaemon *d, const char *what, const char *body, const struct rlimit *nofile) {
        char *cgroup = test_cgroup_path(what);
        int r = daemon_start(d, cgroup, body, nofile);

        free(cgroup);
        return r;
}

char *test_daemon_log(const TestDaemon *d) {
        char *buf = NULL;

        if (read_full_file_at(AT_FDCWD, d->log, 64 * 1024 * 1024, &buf, NULL) < 0)
                buf = strdup("");
        return buf;
}

unsigned test_daemon_log_count(const TestDaemon *d, const char *needle) {
        _cleanup_free_ char *log = test_daemon_log(d);
        unsigned n = 0;

        for (const char *p = log; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

static usec_t parse_stamp(const char *line) {
        struct tm tm = {};
        unsigned ms = 0;
        const char *p = strptime(line, "%Y-%m-%dT%H:%M:%S", &tm);

        if (!p || sscanf(p, ".%3uZ", &ms) != 1)
                return 0;
        return (usec_t) timegm(&tm) * USEC_PER_SEC + ms * USEC_PER_MSEC;
}

size_t test_daemon_log_times(const TestDaemon *d, const char *needle, usec_t *times, size_t max) {
        _cleanup_free_ char *log = test_daemon_log(d);
        size_t n = 0;

        for (char *line = strtok(log, "\n"); line && n < max; line = strtok(NULL, "\n"))
                if (strstr(line, needle))
                        times[n++] = parse_stamp(line);
        return n;
}

size_t test_daemon_log_spans(const TestDaemon *d, const char *needle, usec_t *spans, size_t max) {
        _cleanup_free_ char *log = test_daemon_log(d);
        size_t n = 0;

        for (char *line = strtok(log, "\n"); line && n < max; line = strtok(NULL, "\n")) {
                char *p = strstr(line, needle);
                if (!p)
                        continue;
                p += strlen(needle);
                char *end = strstr(p, " (");
                if (end)
                        *end = '\0';
                if (parse_timespan(p, &spans[n]) >= 0)
                        n++;
        }
        return n;
}

bool test_daemon_wait_log(const TestDaemon *d, const char *needle, unsigned count, usec_t timeout) {
        usec_t end = now(CLOCK_MONOTONIC) + timeout;

        for (;;) {
                if (test_daemon_log_count(d, needle) >= count)
                        return true;
                if (now(CLOCK_MONOTONIC) > end)
                        return false;
                usleep(10 * 1000);
        }
}

int test_daemon_signal(const TestDaemon *d, int sig) {
        return sys_pidfd_send_signal(d->pidfd, sig);
}

bool test_daemon_wait(TestDaemon *d, usec_t timeout) {
        struct pollfd p = { .fd = d->pidfd, .events = POLLIN };
        siginfo_t si = {};

        if (d->pidfd < 0)
                return true;
        if (poll(&p, 1, (int) (timeout / USEC_PER_MSEC)) <= 0)
                return false;
        if (sys_waitid_pidfd(d->pidfd, &si, WEXITED) < 0)
                return false;
        d->exit_status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
        d->pidfd = safe_close(d->pidfd);
        return true;
}

void test_remove_notify_dir(const char *dir) {
        _cleanup_free_ char *path = NULL;
        DIR *d;

        if (asprintf(&path, "%s/notify", dir) < 0)
                abort();
        d = opendir(path);
        if (!d)
                return;
        for (struct dirent *de; (de = readdir(d));)
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        (void) unlinkat(dirfd(d), de->d_name, 0);
        closedir(d);
        (void) rmdir(path);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) remove(path);
        return 0;
}

/* Removes dir, a directory the test made (mkdtemp), with everything in it;
 * symbolic links are removed, not followed. */
static void remove_dir_tree(const char *dir) {
        (void) nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void test_daemon_cleanup(TestDaemon *d) {
        if (d->pidfd >= 0) {
                (void) test_daemon_signal(d, SIGKILL);
                (void) test_daemon_wait(d, 10 * USEC_PER_SEC);
        }
        if (d->cgroup)
                (void) test_cgroup_destroy(d->cgroup);
        if (d->log) {
                /* meson shows a test's stderr only when it fails. */
                _cleanup_free_ char *log = test_daemon_log(d);
                fprintf(stderr, "---- corrald log (%s) ----\n%s---- end ----\n", d->cgroup, log);
                (void) unlink(d->log);
        }
        if (d->config)
                (void) unlink(d->config);
        if (d->socket)
                (void) unlink(d->socket); /* corrald removes it; not after SIGKILL */
        if (d->dir)
                test_remove_notify_dir(d->dir);
        if (d->dir)
                remove_dir_tree(d->dir); /* and what the test put beside (env files, fleet lists) */
        free(d->dir);
        free(d->config);
        free(d->log);
        free(d->socket);
        free(d->cgroup);
        *d = (TestDaemon) { .pidfd = -EBADF };
}

json_t *test_daemon_request(const TestDaemon *d, const char *method, const char *params, const char **ret_errno) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_free_ char *req = NULL, *buf = NULL;
        size_t n = 0, size = 1 << 20;
        json_t *reply, *result;
        int fd;

        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d->socket);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                abort();
        if (asprintf(&req, "{\"method\":\"%s\",\"params\":%s}\n", method, params ?: "{}") < 0 ||
            write(fd, req, strlen(req)) != (ssize_t) strlen(req))
                abort();
        buf = malloc(size);
        while (!buf || n == 0 || buf[n - 1] != '\n') {
                ssize_t k = read(fd, buf + n, size - n);
                if (k <= 0)
                        abort();
                n += (size_t) k;
        }
        close(fd);
        reply = json_loadb(buf, n, 0, NULL);
        if (!reply)
                abort();
        if (json_is_true(json_object_get(reply, "ok"))) {
                result = json_incref(json_object_get(reply, "result"));
        } else {
                static char name[32];
                snprintf(name, sizeof(name), "%s",
                         json_string_value(json_object_get(json_object_get(reply, "error"), "errno")) ?: "?");
                if (ret_errno)
                        *ret_errno = name;
                result = NULL;
        }
        json_decref(reply);
        return result;
}

json_t *test_status_unit(json_t *status, const char *name) {
        json_t *units = json_object_get(status, "units"), *u;
        size_t i;

        json_array_foreach(units, i, u) if (streq(json_string_value(json_object_get(u, "name")), name)) return u;
        return NULL;
}

bool test_daemon_alive(const TestDaemon *d) {
        struct pollfd p = { .fd = d->pidfd, .events = POLLIN };
        return d->pidfd >= 0 && poll(&p, 1, 0) == 0;
}

bool test_daemon_stop_cleanly(TestDaemon *d) {
        if (test_daemon_signal(d, SIGTERM) < 0 || !test_daemon_wait(d, 60 * USEC_PER_SEC)) {
                fprintf(stderr, "corrald did not stop within 60 s\n");
                return false;
        }
        if (d->exit_status != 0) {
                fprintf(stderr, "corrald exited with %d\n", d->exit_status);
                return false;
        }
        if (test_cgroup_exists(d->cgroup)) {
                fprintf(stderr, "cgroup %s is still there\n", d->cgroup);
                return false;
        }
        return true;
}

typedef struct MarkerRange {
        const char *marker;
        int min, max;
} MarkerRange;

static bool marker_in_range(void *userdata) {
        const MarkerRange *w = userdata;
        int n = test_count_marker(w->marker);
        return n >= w->min && n <= w->max;
}

bool test_wait_marker(const char *marker, int min, int max, usec_t timeout) {
        MarkerRange w = { marker, min, max };
        return test_wait_for(marker_in_range, &w, timeout);
}
