/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "libcorral-internal.h"
#include "macro.h"

/* connect() interrupted by a signal goes on asynchronously (POSIX): wait
 * for it to finish and fetch its outcome. */
static int connect_finish(int fd) {
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        int error = 0;
        socklen_t len = sizeof(error);

        for (;;) {
                if (poll(&p, 1, /* timeout= */ -1) >= 0)
                        break;
                if (errno != EINTR)
                        return -errno;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0)
                return -errno;
        return -error;
}

int conn_connect(const char *path, int *ret_fd) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;
        size_t n = strlen(path);

        if (n == 0)
                return -EINVAL;
        if (n >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, n);

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (const struct sockaddr *) &sa, (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n + 1)) <
            0) {
                if (errno != EINTR)
                        return -errno;
                int r = connect_finish(fd);
                if (r < 0)
                        return r;
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int conn_fail(corral *c, int r) {
        c->broken = true;
        return r;
}

int conn_send(corral *c, const char *data, size_t len) {
        while (len > 0) {
                /* MSG_NOSIGNAL: a closed peer is EPIPE here, not SIGPIPE in
                 * the program that links us. */
                ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return conn_fail(c, -errno);
                }
                data += n;
                len -= (size_t) n;
        }
        return 0;
}

int conn_send_fds(corral *c, const char *data, size_t len, const int *fds, size_t n_fds) {
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * CORRAL_FDS_MAX)];
        } control = {};
        struct iovec iov = { .iov_base = (void *) data, .iov_len = len };
        struct msghdr mh = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = &control,
                .msg_controllen = CMSG_SPACE(sizeof(int) * n_fds),
        };
        struct cmsghdr *cmsg = CMSG_FIRSTHDR(&mh);
        ssize_t n;

        if (n_fds == 0 || n_fds > CORRAL_FDS_MAX || len == 0)
                return -EINVAL;
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
        memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * n_fds);

        do
                n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                /* Nothing was sent: a bad descriptor leaves the stream in step. */
                return errno == EBADF ? -EBADF : conn_fail(c, -errno);
        return conn_send(c, data + n, len - (size_t) n);
}

static int64_t now_msec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is readable or the deadline (-1: none) passes. Returns 0,
 * -ETIMEDOUT, or -errno of poll(). */
static int wait_readable(int fd, int64_t deadline) {
        struct pollfd p = { .fd = fd, .events = POLLIN };

        if (deadline < 0)
                return 0; /* recv() blocks */
        for (;;) {
                int64_t left = MAX(deadline - now_msec(), (int64_t) 0);
                int r = poll(&p, 1, (int) MIN(left, (int64_t) INT_MAX));
                if (r > 0)
                        return 0;
                if (r == 0)
                        return -ETIMEDOUT;
                if (errno != EINTR)
                        return -errno;
        }
}

/* Makes room for more bytes in the buffer, up to CORRAL_REPLY_MAX. */
static int buf_grow(corral *c) {
        if (c->buf_len < c->buf_size)
                return 0;
        if (c->buf_size >= CORRAL_REPLY_MAX)
                return -E2BIG;

        size_t size = c->buf_size == 0 ? 4096 : MIN(c->buf_size * 2, CORRAL_REPLY_MAX);
        char *p = realloc(c->buf, size);
        if (!p)
                return -ENOMEM;
        c->buf = p;
        c->buf_size = size;
        return 0;
}

/* Moves the first line out of the buffer, if there is a complete one.
 * Returns 1 with it in *ret, 0 when there is none yet, -EBADMSG for a line
 * holding a NUL byte (it is dropped), -ENOMEM. */
static int buf_take_line(corral *c, char **ret) {
        char *nl = c->buf_len > 0 ? memchr(c->buf, '\n', c->buf_len) : NULL;

        if (!nl)
                return 0;

        size_t n = (size_t) (nl - c->buf);
        bool nul = memchr(c->buf, '\0', n) != NULL;
        char *line = NULL;

        if (!nul) {
                line = strndup(c->buf, n);
                if (!line)
                        return -ENOMEM;
        }
        c->buf_len -= n + 1;
        memmove(c->buf, nl + 1, c->buf_len);
        if (nul)
                return -EBADMSG;
        *ret = line;
        return 1;
}

int64_t conn_deadline(int timeout_ms) {
        return timeout_ms < 0 ? -1 : now_msec() + timeout_ms;
}

int conn_read_line(corral *c, int64_t deadline, char **ret) {
        for (;;) {
                int r = buf_take_line(c, ret);
                if (r != 0)
                        return r < 0 ? r : 0;

                r = buf_grow(c);
                if (r == -E2BIG)
                        return conn_fail(c, r);
                if (r < 0)
                        return r;

                r = wait_readable(c->fd, deadline);
                if (r == -ETIMEDOUT)
                        return r;
                if (r < 0)
                        return conn_fail(c, r);

                ssize_t n = recv(c->fd, c->buf + c->buf_len, c->buf_size - c->buf_len, /* flags= */ 0);
                if (n < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        return conn_fail(c, -errno);
                }
                if (n == 0)
                        return conn_fail(c, -ECONNRESET);
                c->buf_len += (size_t) n;
        }
}
