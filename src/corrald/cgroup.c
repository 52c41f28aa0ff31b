/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "fileio.h"
#include "parse-util.h"
#include "pidref.h"
#include "strv.h"
#include "syscall.h"

/* A line of cgroup.procs: a PID (at most 4194304, PID_MAX_LIMIT) and a
 * newline. */
#define PID_LINE_MAX 8U

/* ---- Parsers ---- */

static char *decode_octal_escapes(const char *s, size_t n) {
        char *out = malloc(n + 1), *o = out;

        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '\\' && i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
                    s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
                        *o++ = (char) (((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) | (s[i + 3] - '0'));
                        i += 3;
                } else
                        *o++ = s[i];
        }
        *o = '\0';
        return out;
}

/* Mountinfo line: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL…] - FSTYPE SOURCE SUPEROPTS */
static int mountinfo_line_cgroup2(const char *line, size_t len, char **ret_mount) {
        const char *field[5], *p = line, *end = line + len;
        size_t flen[5];

        for (int i = 0; i < 5; i++) {
                while (p < end && *p == ' ')
                        p++;
                if (p >= end)
                        return -EBADMSG;
                field[i] = p;
                while (p < end && *p != ' ')
                        p++;
                flen[i] = (size_t) (p - field[i]);
        }
        const char *sep = memmem(p, (size_t) (end - p), " - ", 3);
        if (!sep)
                return -EBADMSG;
        const char *fstype = sep + 3;
        const char *fsend = memchr(fstype, ' ', (size_t) (end - fstype));
        size_t fslen = (size_t) ((fsend ?: end) - fstype);
        if (fslen != strlen("cgroup2") || !strneq(fstype, "cgroup2", fslen))
                return 0;
        char *m = decode_octal_escapes(field[4], flen[4]);
        if (!m)
                return -ENOMEM;
        *ret_mount = m;
        return 1;
}

int cgroup_parse_mountinfo(const char *buf, char **ret_mount) {
        for (const char *line = buf; *line;) {
                const char *nl = strchrnul(line, '\n');
                size_t len = (size_t) (nl - line);

                if (len > 0) {
                        int r = mountinfo_line_cgroup2(line, len, ret_mount);
                        if (r != 0)
                                return r < 0 ? r : 0;
                }
                line = *nl ? nl + 1 : nl;
        }
        return -ENOENT;
}

int cgroup_parse_proc_cgroup(const char *buf, char **ret_path) {
        for (const char *line = buf; *line;) {
                const char *nl = strchrnul(line, '\n');

                if (strneq(line, "0::", 3)) {
                        char *path = strndup(line + 3, (size_t) (nl - line - 3));
                        if (!path)
                                return -ENOMEM;
                        *ret_path = path;
                        return 0;
                }
                line = *nl ? nl + 1 : nl;
        }
        return -ENOENT;
}

static int parse_flag(const char *s, size_t n, bool *ret) {
        if (n != 1 || (s[0] != '0' && s[0] != '1'))
                return -EBADMSG;
        *ret = s[0] == '1';
        return 0;
}

int cgroup_parse_events(const char *buf, CgroupEvents *ret) {
        CgroupEvents ev = {};
        bool have_populated = false;

        for (const char *line = buf; *line;) {
                const char *nl = strchrnul(line, '\n');
                const char *sp = memchr(line, ' ', (size_t) (nl - line));
                int r = 0;

                if (nl == line) {
                        line = *nl ? nl + 1 : nl;
                        continue;
                }
                if (!sp)
                        return -EBADMSG;
                size_t klen = (size_t) (sp - line), vlen = (size_t) (nl - sp - 1);
                if (klen == 9 && strneq(line, "populated", 9)) {
                        r = parse_flag(sp + 1, vlen, &ev.populated);
                        have_populated = true;
                } else if (klen == 6 && strneq(line, "frozen", 6))
                        r = parse_flag(sp + 1, vlen, &ev.frozen);
                if (r < 0)
                        return r;
                line = *nl ? nl + 1 : nl;
        }
        if (!have_populated)
                return -EBADMSG;
        *ret = ev;
        return 0;
}

int cgroup_parse_procs(const char *buf, pid_t **ret_pids, size_t *ret_n) {
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0, allocated = 0;

        for (const char *p = buf; *p;) {
                char *end;

                if (*p == '\n') {
                        p++;
                        continue;
                }
                uint64_t v;
                end = (char *) p + strcspn(p, "\n");
                if (safe_atou64_n(p, (size_t) (end - p), 10, &v) < 0 || v == 0 || v > INT_MAX)
                        return -EBADMSG;
                if (n == allocated) {
                        size_t a = allocated ? allocated * 2 : 64;
                        pid_t *q = reallocarray(pids, a, sizeof(pid_t));
                        if (!q)
                                return -ENOMEM;
                        pids = q;
                        allocated = a;
                }
                pids[n++] = (pid_t) v;
                p = end;
        }
        *ret_pids = TAKE_PTR(pids);
        *ret_n = n;
        return 0;
}

bool cgroup_name_is_valid(const char *name) {
        size_t n = strlen(name);

        if (n == 0 || n > CGROUP_NAME_MAX || streq(name, CGROUP_SUPERVISOR))
                return false;
        return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-@") == n;
}

bool cgroup_path_is_valid(const char *path) {
        if (path[0] != '/')
                return false;
        if (streq(path, "/"))
                return true;
        for (const char *c = path + 1;;) {
                size_t n = strcspn(c, "/");
                if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                if (c[n] == '\0')
                        return true;
                c += n + 1;
        }
}

/* ---- The hierarchy ---- */

int cgroup_find_mount(char **ret_mount) {
        _cleanup_free_ char *buf = NULL;
        int r;

        r = read_full_file_at(AT_FDCWD, "/proc/self/mountinfo", CGROUP_PROCS_MAX, &buf, NULL);
        if (r < 0)
                return r;
        return cgroup_parse_mountinfo(buf, ret_mount);
}

int cgroup_get_own(char **ret_path) {
        _cleanup_free_ char *buf = NULL;
        int r;

        r = read_full_file_at(AT_FDCWD, "/proc/self/cgroup", CGROUP_SMALL_FILE_MAX, &buf, NULL);
        if (r < 0)
                return r;
        return cgroup_parse_proc_cgroup(buf, ret_path);
}

static char *path_join(const char *a, const char *b) {
        char *s;

        if (streq(b, "/"))
                return strdup(a);
        if (asprintf(&s, "%s%s%s", a, b[0] == '/' ? "" : "/", b) < 0)
                return NULL;
        return s;
}

CgroupTree *cgroup_tree_free(CgroupTree *t) {
        if (!t)
                return NULL;
        safe_close(t->inotify_fd);
        safe_close(t->supervisor_fd);
        safe_close(t->lock_fd);
        safe_close(t->root_fd);
        free(t->mount);
        free(t->path);
        free(t->fs_path);
        free(t->origin);
        free(t);
        return NULL;
}

static pid_t read_supervisor_pid(int root_fd) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;

        if (read_full_file_at(root_fd, CGROUP_SUPERVISOR "/cgroup.procs", CGROUP_SMALL_FILE_MAX, &buf, NULL) < 0)
                return 0;
        if (cgroup_parse_procs(buf, &pids, &n) < 0 || n == 0)
                return 0;
        return pids[0];
}

/* Who holds the lock on lock_fd's file: F_GETLK names the process (0 when
 * it is in a PID namespace we cannot see into); otherwise the supervisor
 * leaf's first process. 0 when unknown. */
static pid_t lock_owner(int lock_fd, int root_fd) {
        struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

        if (fcntl(lock_fd, F_GETLK, &fl) >= 0 && fl.l_type != F_UNLCK && fl.l_pid > 0)
                return fl.l_pid;
        return read_supervisor_pid(root_fd);
}

/* The owner of the subtree holds a POSIX record lock (F_SETLK) on the
 * subtree's cgroup.threads, a file corrald opens for nothing else (it is
 * writable wherever the subtree is delegated). A record lock belongs to
 * the process, not to the open file: clone() does not pass it on, so it
 * dies with corrald — unlike flock() or an OFD lock, which every child
 * holds through its copy of the fd until it exec's, so that a corrald
 * killed during a mass start left its subtree locked for a while. (It
 * also goes when corrald closes any fd of the file: hence a file that
 * corrald never opens otherwise.) */
static int tree_lock(CgroupTree *t, pid_t *ret_owner) {
        struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

        t->lock_fd = openat(t->root_fd, "cgroup.threads", O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (t->lock_fd < 0)
                return -errno;
        if (fcntl(t->lock_fd, F_SETLK, &fl) >= 0)
                return 0;
        if (errno != EAGAIN && errno != EACCES)
                return -errno;
        if (ret_owner)
                *ret_owner = lock_owner(t->lock_fd, t->root_fd);
        return -EBUSY;
}

static int tree_open_root(CgroupTree *t, pid_t *ret_owner) {
        int r;

        if (!t->delegated) {
                if (mkdir(t->fs_path, 0755) >= 0)
                        t->created = true;
                else if (errno != EEXIST)
                        return -errno;
        }
        t->root_fd = open(t->fs_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (t->root_fd < 0)
                return -errno;
        r = tree_lock(t, ret_owner);
        if (r < 0)
                return r;
        /* cgroup.kill appeared in 5.14: the baseline. */
        if (faccessat(t->root_fd, "cgroup.kill", W_OK, 0) < 0)
                return errno == ENOENT ? -EOPNOTSUPP : -errno;
        return 0;
}

int cgroup_tree_open(const char *mount, const char *path, bool delegated, CgroupTree **ret, pid_t *ret_owner) {
        _cleanup_(cgroup_tree_freep) CgroupTree *t = NULL;
        int r;

        if (!cgroup_path_is_valid(path) || streq(path, "/"))
                return -EINVAL;
        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        *t = (CgroupTree) { .delegated = delegated,
                            .root_fd = -EBADF,
                            .lock_fd = -EBADF,
                            .supervisor_fd = -EBADF,
                            .inotify_fd = -EBADF };
        t->mount = strdup(mount);
        t->path = strdup(path);
        t->fs_path = path_join(mount, path);
        if (!t->mount || !t->path || !t->fs_path)
                return -ENOMEM;
        r = cgroup_get_own(&t->origin);
        if (r < 0)
                return r;
        r = tree_open_root(t, ret_owner);
        if (r < 0) {
                if (t->created)
                        (void) rmdir(t->fs_path);
                return r;
        }
        t->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (t->inotify_fd < 0) {
                r = -errno;
                if (t->created)
                        (void) rmdir(t->fs_path);
                return r;
        }
        *ret = TAKE_PTR(t);
        return 0;
}

int cgroup_tree_enter_supervisor(CgroupTree *t) {
        if (mkdirat(t->root_fd, CGROUP_SUPERVISOR, 0755) < 0 && errno != EEXIST)
                return -errno;
        if (t->supervisor_fd < 0) {
                t->supervisor_fd = openat(t->root_fd, CGROUP_SUPERVISOR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (t->supervisor_fd < 0)
                        return -errno;
        }
        /* "0" moves the writing process. */
        return write_string_file_at(t->supervisor_fd, "cgroup.procs", "0");
}

int cgroup_tree_list(CgroupTree *t, char ***ret_names) {
        _cleanup_strv_free_ char **names = NULL;
        DIR *d;
        int fd, r = 0;

        fd = openat(t->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return -errno;
        }
        for (struct dirent *de; (de = readdir(d));) {
                if (de->d_type != DT_DIR || de->d_name[0] == '.' || streq(de->d_name, CGROUP_SUPERVISOR))
                        continue;
                r = strv_extend(&names, de->d_name);
                if (r < 0)
                        break;
        }
        closedir(d);
        if (r < 0)
                return r;
        if (!names && !(names = calloc(1, sizeof(char *))))
                return -ENOMEM;
        *ret_names = TAKE_PTR(names);
        return 0;
}

static int move_self_to_origin(CgroupTree *t) {
        _cleanup_free_ char *origin = path_join(t->mount, t->origin);
        _cleanup_close_ int fd = -EBADF;

        if (!origin)
                return -ENOMEM;
        fd = open(origin, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return write_string_file_at(fd, "cgroup.procs", "0");
}

int cgroup_tree_release(CgroupTree *t) {
        _cleanup_strv_free_ char **left = NULL;
        int r;

        r = cgroup_tree_list(t, &left);
        if (r < 0)
                return r;
        if (strv_length(left) > 0)
                return -EBUSY;
        r = move_self_to_origin(t);
        if (r < 0)
                return r;
        if (unlinkat(t->root_fd, CGROUP_SUPERVISOR, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return -errno;
        t->supervisor_fd = safe_close(t->supervisor_fd);
        if (!t->delegated && rmdir(t->fs_path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

/* Pure: the first component of path below tree_path ("/a" + "/a/web@0/x"
 * → "web@0"); -ENOENT when path is not below tree_path. */
static int path_unit_below(const char *tree_path, const char *path, char **ret_name) {
        size_t n = strlen(tree_path);

        if (!strneq(path, tree_path, n) || path[n] != '/' || path[n + 1] == '\0')
                return -ENOENT;
        const char *name = path + n + 1;
        char *u = strndup(name, strcspn(name, "/"));
        if (!u)
                return -ENOMEM;
        if (!cgroup_name_is_valid(u)) {
                free(u);
                return -ENOENT;
        }
        *ret_name = u;
        return 0;
}

int cgroup_pid_get_unit(CgroupTree *t, pid_t pid, char **ret_name) {
        _cleanup_free_ char *buf = NULL, *path = NULL;
        char proc[64];
        int r;

        snprintf(proc, sizeof(proc), "/proc/%d/cgroup", pid);
        r = read_full_file_at(AT_FDCWD, proc, CGROUP_SMALL_FILE_MAX, &buf, NULL);
        if (r == -ENOENT)
                return -ESRCH;
        if (r < 0)
                return r;
        r = cgroup_parse_proc_cgroup(buf, &path);
        if (r < 0)
                return r;
        return path_unit_below(t->path, path, ret_name);
}

/* ---- Unit cgroups ---- */

int cgroup_unit_open(CgroupTree *t, const char *name, int *ret_fd) {
        int fd;

        if (!cgroup_name_is_valid(name))
                return -EINVAL;
        fd = openat(t->root_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

int cgroup_unit_create(CgroupTree *t, const char *name, int *ret_fd) {
        _cleanup_close_ int fd = -EBADF;
        bool existed = false;
        int r;

        if (!cgroup_name_is_valid(name))
                return -EINVAL;
        if (mkdirat(t->root_fd, name, 0755) < 0) {
                if (errno != EEXIST)
                        return -errno;
                existed = true;
        }
        r = cgroup_unit_open(t, name, &fd);
        if (r < 0)
                return r;
        if (existed) {
                CgroupEvents ev;
                r = cgroup_read_events(fd, &ev);
                if (r < 0)
                        return r;
                if (ev.populated)
                        return -EBUSY;
        }
        *ret_fd = TAKE_FD(fd);
        return existed;
}

/* Whether the cgroup directory at fd has cgroups below it: kernfs counts
 * a directory's subdirectories in its link count (2 + subdirectories), so
 * one fstat() spares the common case, a cgroup without children, the six
 * system calls of a directory listing. Errs on the side of "yes". */
static bool cgroup_has_children(int fd) {
        struct stat st;

        return fstat(fd, &st) < 0 || st.st_nlink != 2;
}

int cgroup_for_each_child(int fd, int (*cb)(int fd, int sub, const char *name, void *userdata), void *userdata) {
        int dfd, r = 0;
        DIR *d;

        if (!cgroup_has_children(fd))
                return 0;
        dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        d = fdopendir(dfd);
        if (!d) {
                safe_close(dfd);
                return -errno;
        }
        for (struct dirent *de; r >= 0 && (de = readdir(d));) {
                if (de->d_type != DT_DIR || streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                _cleanup_close_ int sub = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                r = cb(fd, sub >= 0 ? sub : -errno, de->d_name, userdata);
        }
        closedir(d);
        return MIN(r, 0);
}

static int remove_below(int dirfd);

static int remove_child(int fd, int sub, const char *name, void *userdata) {
        int r;

        if (sub == -ENOENT) /* gone meanwhile */
                return 0;
        if (sub < 0)
                return sub;
        r = remove_below(sub);
        if (r < 0)
                return r;
        if (unlinkat(fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

static int remove_below(int dirfd) {
        return cgroup_for_each_child(dirfd, remove_child, NULL);
}

int cgroup_unit_remove(CgroupTree *t, const char *name) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (!cgroup_name_is_valid(name))
                return -EINVAL;
        /* Mostly a cgroup without children: one rmdir, nothing opened.
         * With children (or processes) it is EBUSY. */
        if (unlinkat(t->root_fd, name, AT_REMOVEDIR) >= 0 || errno == ENOENT)
                return 0;
        if (errno != EBUSY && errno != ENOTEMPTY)
                return -errno;
        r = cgroup_unit_open(t, name, &fd);
        /* what is below it first, then itself */
        return remove_child(t->root_fd, r < 0 ? r : fd, name, /* userdata= */ NULL);
}

int cgroup_unit_watch(CgroupTree *t, const char *name, int *ret_wd) {
        _cleanup_free_ char *path = NULL;
        int wd;

        if (!cgroup_name_is_valid(name))
                return -EINVAL;
        if (asprintf(&path, "%s/%s/cgroup.events", t->fs_path, name) < 0)
                return -ENOMEM;
        wd = inotify_add_watch(t->inotify_fd, path, IN_MODIFY);
        if (wd < 0)
                return -errno;
        *ret_wd = wd;
        return 0;
}

void cgroup_unit_unwatch(CgroupTree *t, int wd) {
        if (wd >= 0)
                (void) inotify_rm_watch(t->inotify_fd, wd);
}

int cgroup_tree_read_watches(CgroupTree *t, void (*cb)(int wd, void *userdata), void *userdata) {
        union {
                struct inotify_event ev;
                char raw[64 * (sizeof(struct inotify_event) + NAME_MAX + 1)];
        } buf;

        for (;;) {
                ssize_t n = read(t->inotify_fd, &buf, sizeof(buf));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return errno == EAGAIN ? 0 : -errno;
                }
                for (char *p = buf.raw; p < buf.raw + n;) {
                        struct inotify_event *e = (struct inotify_event *) p;
                        if (!(e->mask & IN_IGNORED))
                                cb(e->wd, userdata);
                        p += sizeof(*e) + e->len;
                }
        }
}

/* A small attribute in one read() (`corralctl status` reads a few of
 * every unit's: open, read, close), else read whole. */
static int read_attr(int fd, const char *name, char *small, size_t size, size_t slack, size_t max, char **ret_big) {
        int r = read_small_file_at(fd, name, small, size, slack, /* ret_len= */ NULL);

        *ret_big = NULL;
        if (r != -EFBIG)
                return r;
        return read_full_file_at(fd, name, max, ret_big, NULL);
}

/* cgroup.events or cgroup.procs at path from dirfd: in one read when small. */
static int read_events_at(int dirfd, const char *path, CgroupEvents *ret) {
        _cleanup_free_ char *big = NULL;
        char buf[512];
        int r;

        r = read_attr(dirfd, path, buf, sizeof(buf), /* slack= */ 0, CGROUP_SMALL_FILE_MAX, &big);
        if (r < 0)
                return r;
        return cgroup_parse_events(big ?: buf, ret);
}

static int read_procs_at(int dirfd, const char *path, pid_t **ret_pids, size_t *ret_n) {
        _cleanup_free_ char *big = NULL;
        char buf[1024];
        int r;

        r = read_attr(dirfd, path, buf, sizeof(buf), PID_LINE_MAX, CGROUP_PROCS_MAX, &big);
        if (r < 0)
                return r;
        return cgroup_parse_procs(big ?: buf, ret_pids, ret_n);
}

int cgroup_read_events(int fd, CgroupEvents *ret) {
        return read_events_at(fd, "cgroup.events", ret);
}

int cgroup_unit_read_events(CgroupTree *t, const char *name, CgroupEvents *ret) {
        char path[CGROUP_NAME_MAX + sizeof("/cgroup.events")];

        if (!cgroup_name_is_valid(name))
                return -EINVAL;
        snprintf(path, sizeof(path), "%s/cgroup.events", name);
        return read_events_at(t->root_fd, path, ret);
}

int cgroup_read_procs(int fd, pid_t **ret_pids, size_t *ret_n) {
        return read_procs_at(fd, "cgroup.procs", ret_pids, ret_n);
}

int cgroup_kill(int fd) {
        return write_string_file_at(fd, "cgroup.kill", "1");
}

bool cgroup_list_contains(const char *list, const char *word) {
        size_t n = strlen(word);

        for (const char *p = list; *p;) {
                p += strspn(p, " \t\n");
                size_t k = strcspn(p, " \t\n");
                if (k == n && strneq(p, word, n))
                        return true;
                p += k;
        }
        return false;
}

int cgroup_tree_enable_controller(CgroupTree *t, const char *controller) {
        _cleanup_free_ char *available = NULL, *enabled = NULL, *add = NULL;
        int r;

        r = read_full_file_at(t->root_fd, "cgroup.controllers", CGROUP_SMALL_FILE_MAX, &available, NULL);
        if (r < 0)
                return r;
        if (!cgroup_list_contains(available, controller))
                return -EOPNOTSUPP;
        r = read_full_file_at(t->root_fd, "cgroup.subtree_control", CGROUP_SMALL_FILE_MAX, &enabled, NULL);
        if (r < 0)
                return r;
        if (cgroup_list_contains(enabled, controller))
                return 0;
        if (asprintf(&add, "+%s", controller) < 0)
                return -ENOMEM;
        return write_string_file_at(t->root_fd, "cgroup.subtree_control", add);
}

int cgroup_write_attribute(int fd, const char *file, const char *value) {
        int r = write_string_file_at(fd, file, value);
        return r == -ENOENT ? -EOPNOTSUPP : r;
}

int cgroup_read_oom_kills(int fd, uint64_t *ret) {
        _cleanup_free_ char *buf = NULL;
        int r = read_full_file_at(fd, "memory.events", CGROUP_SMALL_FILE_MAX, &buf, NULL);

        if (r == -ENOENT)
                return -EOPNOTSUPP;
        if (r < 0)
                return r;
        for (const char *line = buf; *line;) {
                const char *nl = strchrnul(line, '\n');
                if (strneq(line, "oom_kill ", 9))
                        return safe_atou64_n(line + 9, (size_t) (nl - line - 9), 10, ret) < 0 ? -EBADMSG : 0;
                line = *nl ? nl + 1 : nl;
        }
        *ret = 0;
        return 0;
}

int cgroup_set_xattr(int fd, const char *name, const char *value) {
        if (fsetxattr(fd, name, value, strlen(value), 0) < 0)
                return -errno;
        return 0;
}

int cgroup_get_xattr(int fd, const char *name, char **ret) {
        char buf[CGROUP_XATTR_MAX + 1];
        ssize_t n = fgetxattr(fd, name, buf, CGROUP_XATTR_MAX);
        char *v;

        if (n < 0)
                return -errno;
        v = strndup(buf, (size_t) n);
        if (!v)
                return -ENOMEM;
        *ret = v;
        return 0;
}

int cgroup_freeze(int fd, bool freeze) {
        return write_string_file_at(fd, "cgroup.freeze", freeze ? "1" : "0");
}

int cgroup_parse_cpu_stat(const char *buf, uint64_t *ret_usec) {
        for (const char *line = buf; *line;) {
                const char *nl = strchrnul(line, '\n');

                if (strneq(line, "usage_usec ", 11))
                        return safe_atou64_n(line + 11, (size_t) (nl - line - 11), 10, ret_usec) < 0 ? -EBADMSG : 0;
                line = *nl ? nl + 1 : nl;
        }
        return -EBADMSG;
}

int cgroup_read_cpu_usage(int fd, uint64_t *ret_usec) {
        _cleanup_free_ char *big = NULL;
        char buf[1024];
        int r = read_attr(fd, "cpu.stat", buf, sizeof(buf), /* slack= */ 0, CGROUP_SMALL_FILE_MAX, &big);

        if (r < 0)
                return r;
        return cgroup_parse_cpu_stat(big ?: buf, ret_usec);
}

int cgroup_read_memory_current(int fd, uint64_t *ret_bytes) {
        char buf[64];
        int r = read_small_file_at(fd, "memory.current", buf, sizeof(buf), /* slack= */ 0, /* ret_len= */ NULL);

        if (r == -ENOENT)
                return -EOPNOTSUPP;
        if (r < 0)
                return r;
        return safe_atou64_n(buf, strcspn(buf, "\n"), 10, ret_bytes) < 0 ? -EBADMSG : 0;
}

/* Whether the unit's cgroup holds no process but pid and no cgroup below
 * it, read by path from the tree's fd (no directory opened): 1 yes, 0 no
 * or cannot tell. The listing first, then the link count, as in
 * collect_procs(). */
static int unit_holds_only(CgroupTree *t, const char *name, pid_t pid) {
        char path[CGROUP_NAME_MAX + sizeof("/cgroup.procs")];
        _cleanup_free_ pid_t *pids = NULL;
        struct stat st;
        size_t n = 0;

        snprintf(path, sizeof(path), "%s/cgroup.procs", name);
        if (read_procs_at(t->root_fd, path, &pids, &n) < 0 || n > 1 || (n == 1 && pids[0] != pid))
                return 0;
        return fstatat(t->root_fd, name, &st, 0) >= 0 && st.st_nlink == 2;
}

int cgroup_unit_signal(CgroupTree *t, const char *name, int sig, bool also_cont, const PidRef *first) {
        _cleanup_close_ int fd = -EBADF;
        bool sent;
        int r;

        if (!cgroup_name_is_valid(name))
                return -EINVAL;
        /* The usual unit, one process: its main, signalled through its
         * pidfd, and a look at the cgroup by path that finds no other. */
        sent = cgroup_signal_first(first, sig, also_cont);
        if (sent && unit_holds_only(t, name, first->pid) > 0)
                return 1;
        r = cgroup_unit_open(t, name, &fd);
        if (r < 0)
                return sent && r == -ENOENT ? 1 : r;
        r = cgroup_signal_others(fd, sig, also_cont, sent ? first->pid : 0);
        return r < 0 ? r : r + sent;
}
