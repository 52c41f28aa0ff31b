/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "poller.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "macro.h"

struct Poller {
        int epoll_fd;
        sd_event_source *source;
        PollerHandler handler;
};

/* One ready fd per wake-up: the handler may remove or free what other
 * ready fds point to, so none is read ahead. */
static int poller_on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Poller *p = userdata;
        struct epoll_event ev;
        int n;

        n = epoll_wait(p->epoll_fd, &ev, 1, /* timeout= */ 0);
        if (n > 0)
                p->handler(ev.data.ptr, ev.events);
        return 0;
}

int poller_new(sd_event *e, int64_t priority, const char *description, PollerHandler handler, Poller **ret) {
        Poller *p;
        int r;

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->handler = handler;
        p->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (p->epoll_fd < 0) {
                r = -errno;
                free(p);
                return r;
        }
        r = sd_event_add_io(e, &p->source, p->epoll_fd, EPOLLIN, poller_on_io, p);
        if (r >= 0)
                r = sd_event_source_set_priority(p->source, priority);
        if (r < 0) {
                poller_free(p);
                return r;
        }
        (void) sd_event_source_set_description(p->source, description);
        *ret = p;
        return 0;
}

Poller *poller_free(Poller *p) {
        if (!p)
                return NULL;
        sd_event_source_disable_unref(p->source);
        safe_close(p->epoll_fd);
        return mfree(p);
}

int poller_add(Poller *p, int fd, uint32_t events, void *userdata) {
        struct epoll_event ev = { .events = events, .data.ptr = userdata };

        if (epoll_ctl(p->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
                return -errno;
        return 0;
}

void poller_remove(Poller *p, int fd) {
        if (p && fd >= 0)
                (void) epoll_ctl(p->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
}
