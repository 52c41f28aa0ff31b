/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "procwatch.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"

#define RESTARTS_MAX 100000
#define ENVIRON_MAX (256 * 1024)

enum {
        FOLLOW_MARKED = 1 << 0,    /* carries the marker (or forked by one that does) */
        FOLLOW_CANDIDATE = 1 << 1, /* forked by the parent, not yet exec'd */
        FOLLOW_MAIN = 1 << 2,      /* forked by the parent and exec'd */
};

struct ProcWatch {
        int fd;
        int stop_pipe[2];
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;

        uint8_t *follow; /* indexed by PID, pid_max + 1 entries */
        size_t pid_max;
        char *entry; /* "CORRAL_TEST_MARKER=<marker>", or NULL */
        pid_t parent;
        ProcCounts counts;
        uint64_t pending_exit_ns; /* exit of the last main process, not yet followed by an exec */
        uint64_t *restarts;
        char *environ_buf;
};

uint64_t mono_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

static size_t read_pid_max(void) {
        _cleanup_free_ char *buf = NULL;

        if (read_full_file_at(AT_FDCWD, "/proc/sys/kernel/pid_max", 64, &buf, NULL) < 0)
                return 4194304; /* PID_MAX_LIMIT on 64-bit */
        return strtoul(buf, NULL, 10);
}

/* Whether the environment of pid holds w->entry. A process that is gone
 * already does not. */
static bool has_marker(ProcWatch *w, pid_t pid) {
        char path[64];
        size_t n = 0, len = strlen(w->entry);
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/environ", pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        for (;;) {
                ssize_t k = read(fd, w->environ_buf + n, ENVIRON_MAX - 1 - n);
                if (k <= 0)
                        break;
                n += (size_t) k;
        }
        close(fd);
        for (size_t i = 0; i < n;) {
                size_t l = strnlen(w->environ_buf + i, n - i);
                if (l == len && memcmp(w->environ_buf + i, w->entry, len) == 0)
                        return true;
                i += l + 1;
        }
        return false;
}

static void on_fork(ProcWatch *w, const struct proc_event *ev) {
        pid_t parent = ev->event_data.fork.parent_tgid, child = ev->event_data.fork.child_pid;

        if (child != ev->event_data.fork.child_tgid || (size_t) child > w->pid_max)
                return; /* a thread */
        w->follow[child] = 0;
        if ((size_t) parent <= w->pid_max && (w->follow[parent] & FOLLOW_MARKED)) {
                w->follow[child] |= FOLLOW_MARKED;
                w->counts.alive++;
        }
        if (w->parent > 0 && parent == w->parent)
                w->follow[child] |= FOLLOW_CANDIDATE;
}

static void on_exec(ProcWatch *w, const struct proc_event *ev) {
        pid_t pid = ev->event_data.exec.process_tgid;

        if ((size_t) pid > w->pid_max)
                return;
        if (w->follow[pid] & FOLLOW_CANDIDATE) {
                w->follow[pid] = (uint8_t) ((w->follow[pid] & ~FOLLOW_CANDIDATE) | FOLLOW_MAIN);
                if (w->pending_exit_ns > 0 && w->counts.restarts < RESTARTS_MAX)
                        w->restarts[w->counts.restarts++] = ev->timestamp_ns - w->pending_exit_ns;
                w->pending_exit_ns = 0;
        }
        if (w->entry && has_marker(w, pid)) {
                if (!(w->follow[pid] & FOLLOW_MARKED)) {
                        w->follow[pid] |= FOLLOW_MARKED;
                        w->counts.alive++;
                }
                w->counts.execs++;
                w->counts.last_exec_ns = ev->timestamp_ns;
        }
}

static void on_exit_event(ProcWatch *w, const struct proc_event *ev) {
        pid_t pid = ev->event_data.exit.process_pid;

        if (pid != ev->event_data.exit.process_tgid || (size_t) pid > w->pid_max)
                return;
        if (w->follow[pid] & FOLLOW_MARKED) {
                w->counts.alive--;
                w->counts.last_exit_ns = ev->timestamp_ns;
        }
        if (w->follow[pid] & FOLLOW_MAIN)
                w->pending_exit_ns = ev->timestamp_ns;
        w->follow[pid] = 0;
}

static void dispatch(ProcWatch *w, const char *buf, size_t n) {
        for (const struct nlmsghdr *h = (const struct nlmsghdr *) buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
                const struct cn_msg *cn = NLMSG_DATA(h);
                const struct proc_event *ev = (const struct proc_event *) cn->data;

                if (h->nlmsg_type == NLMSG_ERROR || h->nlmsg_type == NLMSG_NOOP)
                        continue;
                switch (ev->what) {
                case PROC_EVENT_FORK:
                        on_fork(w, ev);
                        break;
                case PROC_EVENT_EXEC:
                        on_exec(w, ev);
                        break;
                case PROC_EVENT_EXIT:
                        on_exit_event(w, ev);
                        break;
                default:
                        break;
                }
        }
}

static void *reader(void *userdata) {
        ProcWatch *w = userdata;
        static char buf[64 * 1024] __attribute__((aligned(8)));

        for (;;) {
                struct pollfd p[2] = { { .fd = w->fd, .events = POLLIN }, { .fd = w->stop_pipe[0], .events = POLLIN } };

                if (poll(p, 2, -1) < 0 && errno != EINTR)
                        break;
                if (p[1].revents)
                        break;
                for (;;) {
                        ssize_t k = recv(w->fd, buf, sizeof(buf), MSG_DONTWAIT);
                        if (k < 0 && errno == ENOBUFS) {
                                pthread_mutex_lock(&w->lock);
                                w->counts.overflow = true;
                                pthread_mutex_unlock(&w->lock);
                                continue;
                        }
                        if (k <= 0)
                                break;
                        pthread_mutex_lock(&w->lock);
                        dispatch(w, buf, (size_t) k);
                        pthread_mutex_unlock(&w->lock);
                }
                pthread_cond_broadcast(&w->cond);
        }
        return NULL;
}

static int listen_proc_events(int fd) {
        struct __attribute__((packed)) {
                struct nlmsghdr nl;
                struct cn_msg cn;
                enum proc_cn_mcast_op op;
        } msg = {
                .nl = { .nlmsg_len = sizeof(msg), .nlmsg_type = NLMSG_DONE, .nlmsg_pid = (uint32_t) getpid() },
                .cn = { .id = { .idx = CN_IDX_PROC, .val = CN_VAL_PROC }, .len = sizeof(enum proc_cn_mcast_op) },
                .op = PROC_CN_MCAST_LISTEN,
        };
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC };
        int size = 64 * 1024 * 1024;

        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        /* a start of 1000 services is some 3000 events within a second */
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
                (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
        if (send(fd, &msg, sizeof(msg), 0) < 0)
                return -errno;
        return 0;
}

int procwatch_start(ProcWatch **ret) {
        ProcWatch *w = calloc(1, sizeof(*w));
        pthread_condattr_t ca;
        int r;

        if (!w)
                return -ENOMEM;
        w->fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
        if (w->fd < 0) {
                r = -errno;
                free(w);
                return r;
        }
        r = listen_proc_events(w->fd);
        if (r < 0 || pipe2(w->stop_pipe, O_CLOEXEC) < 0) {
                close(w->fd);
                free(w);
                return r < 0 ? r : -errno;
        }
        w->pid_max = read_pid_max();
        w->follow = calloc(w->pid_max + 1, 1);
        w->restarts = calloc(RESTARTS_MAX, sizeof(uint64_t));
        w->environ_buf = malloc(ENVIRON_MAX);
        if (!w->follow || !w->restarts || !w->environ_buf)
                abort();
        pthread_mutex_init(&w->lock, NULL);
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&w->cond, &ca);
        pthread_condattr_destroy(&ca);
        if (pthread_create(&w->thread, NULL, reader, w) != 0)
                abort();
        *ret = w;
        return 0;
}

void procwatch_free(ProcWatch *w) {
        if (!w)
                return;
        (void) !write(w->stop_pipe[1], "x", 1);
        pthread_join(w->thread, NULL);
        close(w->fd);
        close(w->stop_pipe[0]);
        close(w->stop_pipe[1]);
        free(w->follow);
        free(w->restarts);
        free(w->environ_buf);
        free(w->entry);
        free(w);
}

void procwatch_reset(ProcWatch *w, const char *marker, pid_t parent) {
        pthread_mutex_lock(&w->lock);
        memset(w->follow, 0, w->pid_max + 1);
        w->entry = mfree(w->entry);
        if (marker && asprintf(&w->entry, "CORRAL_TEST_MARKER=%s", marker) < 0)
                abort();
        w->parent = parent;
        w->counts = (ProcCounts) {};
        w->pending_exit_ns = 0;
        pthread_mutex_unlock(&w->lock);
}

void procwatch_counts(ProcWatch *w, ProcCounts *ret) {
        pthread_mutex_lock(&w->lock);
        *ret = w->counts;
        pthread_mutex_unlock(&w->lock);
}

bool procwatch_wait(ProcWatch *w, bool (*cond)(const ProcCounts *c, void *userdata), void *userdata,
                    uint64_t timeout_ns) {
        uint64_t deadline = mono_ns() + timeout_ns;
        struct timespec ts = { .tv_sec = (time_t) (deadline / 1000000000ULL),
                               .tv_nsec = (long) (deadline % 1000000000ULL) };
        bool ok;

        pthread_mutex_lock(&w->lock);
        while (!(ok = cond(&w->counts, userdata)) && !w->counts.overflow)
                if (pthread_cond_timedwait(&w->cond, &w->lock, &ts) == ETIMEDOUT) {
                        ok = cond(&w->counts, userdata);
                        break;
                }
        pthread_mutex_unlock(&w->lock);
        return ok;
}

size_t procwatch_restarts(ProcWatch *w, uint64_t *v, size_t max) {
        size_t n;

        pthread_mutex_lock(&w->lock);
        n = MIN(max, w->counts.restarts);
        memcpy(v, w->restarts, n * sizeof(uint64_t));
        pthread_mutex_unlock(&w->lock);
        return n;
}
