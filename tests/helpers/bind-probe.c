/* SPDX-License-Identifier: GPL-2.0-or-later */
/* An LD_PRELOAD library for test-control-attacks: for every bind() of an
 * AF_UNIX socket to a path, and for every listen() on one, it appends the
 * socket file's mode and owner at that very moment to the file named by
 * $CORRAL_TEST_BIND_PROBE:
 *
 *     bind /run/corral/control.sock mode=0660 uid=0 gid=0
 *     listen /run/corral/control.sock mode=0660 uid=0 gid=998
 *
 * (the path as the program gave it). So a test sees, without a race,
 * whether a socket ever exists with a mode other than its final one. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int bind(int fd, const struct sockaddr *sa, socklen_t len);
int listen(int fd, int backlog);

static void record(const char *what, int fd) {
        const char *out = getenv("CORRAL_TEST_BIND_PROBE");
        struct sockaddr_un sa = {};
        socklen_t len = sizeof(sa);
        struct stat st;
        char line[256];
        int o, n;

        if (!out || getsockname(fd, (struct sockaddr *) &sa, &len) < 0 || sa.sun_family != AF_UNIX ||
            len <= offsetof(struct sockaddr_un, sun_path) || sa.sun_path[0] == '\0')
                return;
        if (stat(sa.sun_path, &st) < 0)
                n = snprintf(line, sizeof(line), "%s %s stat failed: %s\n", what, sa.sun_path, strerror(errno));
        else
                n = snprintf(line, sizeof(line), "%s %s mode=%04o uid=%u gid=%u\n", what, sa.sun_path,
                             (unsigned) (st.st_mode & 07777), (unsigned) st.st_uid, (unsigned) st.st_gid);
        o = open(out, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (o < 0)
                return;
        if (n > 0)
                (void) !write(o, line, (size_t) n < sizeof(line) ? (size_t) n : sizeof(line) - 1);
        close(o);
}

int bind(int fd, const struct sockaddr *sa, socklen_t len) {
        typedef int (*bind_fn)(int, const struct sockaddr *, socklen_t);
        bind_fn real = (bind_fn) dlsym(RTLD_NEXT, "bind");
        int r = real(fd, sa, len), saved = errno;

        if (r == 0)
                record("bind", fd);
        errno = saved;
        return r;
}

int listen(int fd, int backlog) {
        typedef int (*listen_fn)(int, int);
        listen_fn real = (listen_fn) dlsym(RTLD_NEXT, "listen");
        int saved = errno;

        record("listen", fd);
        errno = saved;
        return real(fd, backlog);
}
