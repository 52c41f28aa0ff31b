/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "control-socket.h"

#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "log.h"
#include "macro.h"

/* Whether a directory with these owner and mode is ours alone: owned by
 * root or by us, and writable by nobody else — unless sticky and owned by
 * root (/tmp: others may create there, not replace what is ours). */
static bool dir_is_safe(const struct stat *st) {
        if (st->st_uid != 0 && st->st_uid != geteuid())
                return false;
        if ((st->st_mode & S_ISVTX) && st->st_uid == 0)
                return true;
        if (st->st_mode & S_IWOTH)
                return false;
        return !(st->st_mode & S_IWGRP) || st->st_gid == 0;
}

/* Opens the next directory component name below fd, making it (0755)
 * when missing, and checks it. Returns the O_PATH fd or -errno. */
static int dir_step(int fd, const char *name, const char *shown) {
        _cleanup_close_ int next = -EBADF;
        struct stat st;

        if (mkdirat(fd, name, 0755) < 0 && errno != EEXIST)
                return log_error_errno(errno, "control socket: cannot create directory %s: %m", shown);
        next = openat(fd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (next < 0)
                return log_error_errno(errno, "control socket: cannot open directory %s: %m", shown);
        if (fstat(next, &st) < 0)
                return -errno;
        if (!dir_is_safe(&st)) {
                log_error(
                        "control socket: directory %s (owner UID %u, mode %04o) may be changed by other users: it "
                        "must be owned by root or by corrald's user and writable by nobody else, or be sticky and "
                        "owned by root; refusing it",
                        shown, (unsigned) st.st_uid, (unsigned) (st.st_mode & 07777));
                return -EPERM;
        }
        return TAKE_FD(next);
}

/* The directory of path, component by component from "/", each checked.
 * Returns an O_PATH fd of it, or -errno. */
static int socket_dir_open(const char *path) {
        _cleanup_free_ char *dir = strndup(path, (size_t) (strrchr(path, '/') - path));
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        if (!dir)
                return -ENOMEM;
        fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!dir_is_safe(&st))
                return log_error_errno(EPERM, "control socket: / may be changed by other users; refusing it");
        /* dir, cut after the component at hand, names it in messages */
        for (char *p = dir, *slash; *p; p = slash + 1) {
                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                slash = strchrnul(p, '/');
                bool last = !*slash;
                *slash = '\0';
                int next = dir_step(fd, p, dir);
                if (next < 0)
                        return next;
                safe_close(fd);
                fd = next;
                if (last)
                        break;
                *slash = '/';
        }
        return TAKE_FD(fd);
}

/* The address of name inside the directory dir_fd: through
 * /proc/self/fd/, so that the socket is made in the very directory that
 * was checked, whatever happens to the path meanwhile; the path itself
 * when that does not fit. Returns the address length. */
static socklen_t socket_address(int dir_fd, const char *path, const char *name, struct sockaddr_un *ret) {
        int n;

        *ret = (struct sockaddr_un) { .sun_family = AF_UNIX };
        n = snprintf(ret->sun_path, sizeof(ret->sun_path), "/proc/self/fd/%d/%s", dir_fd, name);
        if (n < 0 || (size_t) n >= sizeof(ret->sun_path) || access("/proc/self/fd", F_OK) < 0) {
                memset(ret->sun_path, 0, sizeof(ret->sun_path));
                strncpy(ret->sun_path, path, sizeof(ret->sun_path) - 1);
        }
        return (socklen_t) sizeof(*ret);
}

/* Refuses to take over a socket that someone still listens on. */
static int socket_in_use(const struct sockaddr_un *sa, socklen_t len) {
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -errno;
        return connect(fd, (const struct sockaddr *) sa, len) >= 0;
}

/* Binds fd to sa under the umask that gives the socket file mode (unix(7):
 * the file gets every permission the umask does not take away), then
 * gives it to root:gid without following a symlink, and checks what is
 * there. */
static int socket_bind(int fd, const struct sockaddr_un *sa, socklen_t len, int dir_fd, const char *name, mode_t mode,
                       gid_t gid) {
        struct stat st;
        mode_t old = umask(~mode & 0777);
        int r = bind(fd, (const struct sockaddr *) sa, len);

        (void) umask(old);
        if (r < 0)
                return -errno;
        if (gid != (gid_t) -1 && fchownat(dir_fd, name, 0, gid, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (!S_ISSOCK(st.st_mode))
                return -EBADF;
        /* a default ACL of the directory overrides the umask: what is there
         * is our socket (the directory is ours), so it may be changed by
         * name before anyone can connect */
        if ((st.st_mode & 07777) != mode && fchmodat(dir_fd, name, mode, 0) < 0)
                return -errno;
        return 0;
}

int control_socket_open(const char *path, mode_t mode, gid_t gid, int *ret_fd, int *ret_dir_fd) {
        _cleanup_close_ int dir_fd = -EBADF, fd = -EBADF;
        const char *name = strrchr(path, '/');
        struct sockaddr_un sa;
        socklen_t len;
        int r;

        if (path[0] != '/' || !name || !name[1])
                return -EINVAL;
        name++;
        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        dir_fd = socket_dir_open(path);
        if (dir_fd < 0)
                return dir_fd;
        len = socket_address(dir_fd, path, name, &sa);
        if (socket_in_use(&sa, len) > 0)
                return -EADDRINUSE;
        (void) unlinkat(dir_fd, name, 0);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        r = socket_bind(fd, &sa, len, dir_fd, name, mode, gid);
        if (r < 0)
                return r;
        if (listen(fd, SOMAXCONN) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        *ret_dir_fd = TAKE_FD(dir_fd);
        return 0;
}

void control_socket_remove(int dir_fd, const char *path) {
        const char *name = strrchr(path, '/');
        struct stat st;

        if (dir_fd < 0 || !name)
                return;
        if (fstatat(dir_fd, name + 1, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISSOCK(st.st_mode))
                (void) unlinkat(dir_fd, name + 1, 0);
}
