/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "notify.h"

#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "fileio.h"
#include "log.h"

#define NOTIFY_RCVBUF (1024 * 1024)
#define SUN_PATH_SIZE sizeof(((struct sockaddr_un *) NULL)->sun_path)
/* SCM_MAX_FD in the kernel: the most fds one message can carry. Room for
 * all of them, so that none is left in flight; the kernel closes those that
 * do not fit (and sets MSG_CTRUNC). */
#define NOTIFY_FDS_MAX 253
/* As systemd's manager does: datagrams before SIGCHLD, so that what a
 * process said just before it exited is handled before its exit (the
 * manager's reaper runs at SD_EVENT_PRIORITY_IMPORTANT). */
#define NOTIFY_PRIORITY (SD_EVENT_PRIORITY_IMPORTANT - 1)

struct NotifySocket {
        int fd;
        int dir_fd; /* the directory the socket is bound in */
        char *name; /* its name there */
        bool bound; /* ours to unlink */
        sd_event_source *source;
        NotifyHandler handler;
        void *userdata;
        char address[SUN_PATH_SIZE]; /* "/run/corral/notify/<hash>" */
};

/* ---- Parser ---- */

void notify_message_done(NotifyMessage *m) {
        if (!m)
                return;
        free(m->status);
        *m = (NotifyMessage) {};
}

static bool value_is(const char *v, size_t n, const char *s) {
        return strlen(s) == n && memcmp(v, s, n) == 0;
}

/* A decimal number without sign or blanks, 1..max. */
static int parse_positive(const char *v, size_t n, uint64_t max, uint64_t *ret) {
        uint64_t x = 0;

        if (n == 0)
                return -EBADMSG;
        for (size_t i = 0; i < n; i++) {
                unsigned d = (unsigned) (v[i] - '0');

                if (v[i] < '0' || v[i] > '9' || x > (max - d) / 10)
                        return -EBADMSG;
                x = x * 10 + d;
        }
        if (x == 0)
                return -EBADMSG;
        *ret = x;
        return 0;
}

/* READY, STOPPING: only "1" counts; other values are ignored (sd_notify(3)
 * defines no other), and never undo an earlier "1". */
static int parse_ready(const char *v, size_t n, NotifyMessage *m) {
        if (value_is(v, n, "1"))
                m->ready = true;
        return 0;
}

static int parse_stopping(const char *v, size_t n, NotifyMessage *m) {
        if (value_is(v, n, "1"))
                m->stopping = true;
        return 0;
}

static int parse_watchdog(const char *v, size_t n, NotifyMessage *m) {
        if (value_is(v, n, "1"))
                m->watchdog = true;
        else if (value_is(v, n, "trigger"))
                m->watchdog_trigger = true;
        return 0;
}

static bool is_utf8_continuation(char c) {
        return ((unsigned char) c & 0xc0) == 0x80;
}

/* At most NOTIFY_STATUS_MAX bytes, cut before a UTF-8 character rather
 * than inside one. */
static size_t status_length(const char *v, size_t n) {
        if (n <= NOTIFY_STATUS_MAX)
                return n;
        n = NOTIFY_STATUS_MAX;
        for (unsigned k = 0; k < 3 && n > 0 && is_utf8_continuation(v[n]); k++)
                n--;
        return n;
}

/* The text ends up in logs and on terminals: control characters other than
 * tab become spaces. */
static int parse_status(const char *v, size_t n, NotifyMessage *m) {
        char *s = strndup(v, status_length(v, n));

        if (!s)
                return -ENOMEM;
        for (char *p = s; *p; p++) {
                unsigned char c = (unsigned char) *p;

                if ((c < ' ' && c != '\t') || c == 0x7f)
                        *p = ' ';
        }
        free(m->status);
        m->status = s;
        return 0;
}

static int parse_usec(const char *v, size_t n, usec_t *ret) {
        uint64_t x;
        int r;

        r = parse_positive(v, n, USEC_INFINITY - 1, &x);
        if (r < 0)
                return r;
        *ret = x;
        return 0;
}

static int parse_watchdog_usec(const char *v, size_t n, NotifyMessage *m) {
        return parse_usec(v, n, &m->watchdog_usec);
}

static int parse_extend_timeout_usec(const char *v, size_t n, NotifyMessage *m) {
        return parse_usec(v, n, &m->extend_timeout_usec);
}

static int parse_main_pid(const char *v, size_t n, NotifyMessage *m) {
        uint64_t x;
        int r;

        r = parse_positive(v, n, INT_MAX, &x);
        if (r < 0)
                return r;
        m->main_pid = (pid_t) x;
        return 0;
}

static const struct {
        const char *key;
        int (*parse)(const char *value, size_t n, NotifyMessage *m);
} notify_keys[] = {
        { "READY", parse_ready },
        { "STOPPING", parse_stopping },
        { "WATCHDOG", parse_watchdog },
        { "STATUS", parse_status },
        { "WATCHDOG_USEC", parse_watchdog_usec },
        { "MAINPID", parse_main_pid },
        { "EXTEND_TIMEOUT_USEC", parse_extend_timeout_usec },
};

static int parse_line(const char *line, size_t n, NotifyMessage *m) {
        const char *eq;
        size_t key_len;

        if (n == 0)
                return 0;
        eq = memchr(line, '=', n);
        if (!eq)
                return -EBADMSG;
        key_len = (size_t) (eq - line);
        for (size_t i = 0; i < ELEMENTSOF(notify_keys); i++)
                if (value_is(line, key_len, notify_keys[i].key))
                        return notify_keys[i].parse(eq + 1, n - key_len - 1, m);
        return 0; /* unknown keys are ignored, as systemd does */
}

int notify_parse(const char *buf, size_t len, NotifyMessage *ret) {
        _cleanup_(notify_message_done) NotifyMessage m = {};
        const char *p, *end;
        int r;

        if (len == 0) {
                *ret = m;
                return 0;
        }
        if (len > NOTIFY_DATAGRAM_MAX || memchr(buf, '\0', len))
                return -EBADMSG;
        for (p = buf, end = buf + len; p < end;) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                const char *eol = nl ? nl : end;

                r = parse_line(p, (size_t) (eol - p), &m);
                if (r < 0)
                        return r;
                p = nl ? nl + 1 : end;
        }
        *ret = m;
        m.status = NULL;
        return 0;
}

/* ---- Socket ---- */

/* Closes the fds of every SCM_RIGHTS message and finds the sender's
 * credentials. Returns 0 with *ret_ucred set, or -EBADMSG (logged) when
 * the datagram must be dropped. */
static int take_control(struct msghdr *mh, struct ucred *ret_ucred) {
        bool have_ucred = false, have_fds = false;
        struct ucred ucred = {};

        for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
                if (c->cmsg_level != SOL_SOCKET)
                        continue;
                if (c->cmsg_type == SCM_RIGHTS) {
                        size_t n_fds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

                        for (size_t i = 0; i < n_fds; i++) {
                                int fd;

                                memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                                safe_close(fd);
                        }
                        have_fds = true;
                } else if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len == CMSG_LEN(sizeof(struct ucred))) {
                        memcpy(&ucred, CMSG_DATA(c), sizeof(ucred));
                        have_ucred = true;
                }
        }
        if (have_fds || (mh->msg_flags & MSG_CTRUNC)) {
                log_debug("notify: dropping a datagram with file descriptors from PID %d", ucred.pid);
                return -EBADMSG;
        }
        /* pid 0: the sender is in a PID namespace that we cannot see into. */
        if (!have_ucred || ucred.pid <= 0) {
                log_debug("notify: dropping a datagram without sender credentials");
                return -EBADMSG;
        }
        *ret_ucred = ucred;
        return 0;
}

static void dispatch(NotifySocket *s, const struct ucred *ucred, const char *buf, size_t n) {
        _cleanup_(notify_message_done) NotifyMessage m = {};
        int r;

        r = notify_parse(buf, n, &m);
        if (r < 0) {
                log_debug_errno(r, "notify: dropping a malformed datagram from PID %d: %m", ucred->pid);
                return;
        }
        s->handler(ucred, &m, s->userdata);
}

/* Receives and handles one datagram. Returns 0, -EAGAIN when none is
 * left, or another -errno of recvmsg(). */
static int receive_one(NotifySocket *s) {
        char buf[NOTIFY_DATAGRAM_MAX + 1];
        union {
                struct cmsghdr align;
                uint8_t raw[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * NOTIFY_FDS_MAX)];
        } control;
        struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
        struct msghdr mh = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = &control,
                .msg_controllen = sizeof(control),
        };
        struct ucred ucred;
        ssize_t n;

        /* MSG_TRUNC: n is the datagram's real length, even when longer than buf. */
        n = recvmsg(s->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
        if (n < 0)
                return -errno;
        if (take_control(&mh, &ucred) < 0)
                return 0;
        if ((mh.msg_flags & MSG_TRUNC) || n > NOTIFY_DATAGRAM_MAX) {
                log_debug("notify: dropping a datagram of %zd bytes from PID %d", n, ucred.pid);
                return 0;
        }
        dispatch(s, &ucred, buf, (size_t) n);
        return 0;
}

/* Drains the socket. The handler must not free the NotifySocket. */
static int on_notify(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        NotifySocket *s = userdata;

        for (;;) {
                int r = receive_one(s);

                if (r == -EINTR)
                        continue;
                if (r == -EAGAIN)
                        return 0;
                if (r < 0) {
                        log_debug_errno(r, "notify: cannot receive: %m, ignoring");
                        return 0;
                }
        }
}

/* ---- Where the socket lives ---- */

int notify_socket_path(const char *control_socket, const char *subtree, char **ret_dir, char **ret_name) {
        _cleanup_free_ char *dir = NULL, *name = NULL;
        uint64_t h = 14695981039346656037ULL; /* FNV-1a */
        const char *slash;

        if (control_socket[0] != '/' || subtree[0] != '/')
                return -EINVAL;
        slash = strrchr(control_socket, '/');
        for (const char *p = subtree; *p; p++)
                h = (h ^ (uint8_t) *p) * 1099511628211ULL;
        if (asprintf(&dir, "%.*s/" NOTIFY_DIR_NAME, (int) (slash - control_socket), control_socket) < 0 ||
            asprintf(&name, "%016llx", (unsigned long long) h) < 0)
                return -ENOMEM;
        if (strlen(dir) + 1 + strlen(name) >= SUN_PATH_SIZE)
                return -ENAMETOOLONG;
        *ret_dir = TAKE_PTR(dir);
        *ret_name = TAKE_PTR(name);
        return 0;
}

/* Opens the socket's directory, creating it (and its parents) if needed.
 * Only one that nobody but us (and root) can write will do: whoever can
 * write it could take the socket's name. It is made 0755, so that units of
 * every user reach the socket. Refusals are logged with their reason. */
static int open_dir(const char *dir, int *ret_fd) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st = {};
        int r;

        r = dir_open_private(dir, 0755, &fd, &st);
        if (r == -ELOOP || r == -ENOTDIR)
                return log_error_errno(ENOTDIR, "notify socket directory %s is %s, refusing it", dir,
                                       r == -ELOOP ? "a symbolic link" : "not a directory");
        if (r == -EPERM && st.st_uid != geteuid())
                return log_error_errno(EPERM,
                                       "notify socket directory %s belongs to UID %u, not to corrald's UID %u, "
                                       "refusing it",
                                       dir, (unsigned) st.st_uid, (unsigned) geteuid());
        if (r == -EPERM)
                return log_error_errno(EPERM,
                                       "notify socket directory %s is writable by group or others (mode %04o), "
                                       "refusing it",
                                       dir, (unsigned) (st.st_mode & 07777));
        if (r < 0)
                return r;
        if ((st.st_mode & 07777) != 0755 && fchmod(fd, 0755) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* Binds dir_fd/name, replacing whatever a killed corrald left there, and
 * opens it to every user: units of any user send to it, and only we can
 * write the directory. Through /proc/self/fd, so that it is bound in the
 * very directory that open_dir() checked. */
static int bind_path(NotifySocket *s) {
        union {
                struct sockaddr sa;
                struct sockaddr_un un;
        } addr = { .un.sun_family = AF_UNIX };

        if (unlinkat(s->dir_fd, s->name, 0) < 0 && errno != ENOENT)
                return -errno;
        int k = snprintf(addr.un.sun_path, sizeof(addr.un.sun_path), "/proc/self/fd/%d/%s", s->dir_fd, s->name);
        if (k < 0 || (size_t) k >= sizeof(addr.un.sun_path))
                return -ENAMETOOLONG;
        if (bind(s->fd, &addr.sa, sizeof(addr.un)) < 0)
                return -errno;
        s->bound = true;
        if (fchmodat(s->dir_fd, s->name, 0666, 0) < 0)
                return -errno;
        return 0;
}

static void increase_rcvbuf(int fd) {
        int size = NOTIFY_RCVBUF;

        /* SO_RCVBUFFORCE passes net.core.rmem_max, with CAP_NET_ADMIN. */
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
                (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

static int open_fd(NotifySocket *s, const char *dir, const char *name) {
        static const int one = 1;
        int r, k;

        if (strchr(name, '/') || streq(name, ".") || streq(name, ".."))
                return -EINVAL;
        k = snprintf(s->address, sizeof(s->address), "%s/%s", dir, name);
        if (k < 0 || (size_t) k >= sizeof(s->address))
                return -EINVAL;
        s->name = strdup(name);
        if (!s->name)
                return -ENOMEM;
        r = open_dir(dir, &s->dir_fd);
        if (r < 0)
                return r;
        s->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, /* protocol= */ 0);
        if (s->fd < 0)
                return -errno;
        /* Before bind(): no datagram may arrive without credentials. */
        if (setsockopt(s->fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0)
                return -errno;
        increase_rcvbuf(s->fd);
        return bind_path(s);
}

int notify_socket_open(sd_event *event, const char *dir, const char *name, NotifyHandler handler, void *userdata,
                       NotifySocket **ret) {
        _cleanup_(notify_socket_freep) NotifySocket *s = NULL;
        int r;

        s = calloc(1, sizeof(NotifySocket));
        if (!s)
                return -ENOMEM;
        s->fd = -EBADF;
        s->dir_fd = -EBADF;
        s->handler = handler;
        s->userdata = userdata;
        r = open_fd(s, dir, name);
        if (r < 0)
                return r;
        r = sd_event_add_io(event, &s->source, s->fd, EPOLLIN, on_notify, s);
        if (r < 0)
                return r;
        r = sd_event_source_set_priority(s->source, NOTIFY_PRIORITY);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(s->source, "notify");
        *ret = TAKE_PTR(s);
        return 0;
}

int notify_socket_open_supervisor(sd_event *event, const char *control_socket, const char *subtree,
                                  NotifyHandler handler, void *userdata, NotifySocket **ret) {
        _cleanup_free_ char *dir = NULL, *name = NULL;
        int r;

        r = notify_socket_path(control_socket, subtree, &dir, &name);
        if (r == -ENAMETOOLONG)
                return log_error_errno(r, "the notify socket beside %s would have a path too long for a socket",
                                       control_socket);
        if (r < 0)
                return r;
        r = notify_socket_open(event, dir, name, handler, userdata, ret);
        if (r >= 0)
                log_debug("notify socket %s", notify_socket_address(*ret));
        return r;
}

const char *notify_socket_address(const NotifySocket *s) {
        return s->address;
}

NotifySocket *notify_socket_free(NotifySocket *s) {
        if (!s)
                return NULL;
        sd_event_source_disable_unref(s->source);
        /* Units that outlive us keep the path; the next corrald binds it
         * again. Until then their datagrams fail (ENOENT or ECONNREFUSED). */
        if (s->bound)
                (void) unlinkat(s->dir_fd, s->name, 0);
        safe_close(s->fd);
        safe_close(s->dir_fd);
        free(s->name);
        return mfree(s);
}
