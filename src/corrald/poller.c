/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "poller.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "macro.h"

/* The most ready fds one wake-up takes from the kernel (poller_new()'s
 * batch is at most this). */
#define POLLER_BATCH 32

struct Poller {
        int epoll_fd;
        sd_event_source *source;
        PollerHandler handler;
        /* the wake-up being handed out: poller_remove() clears what it
         * still holds of the fd it removes, as the handler of one entry
         * may remove or free what a later one points to */
        struct epoll_event batch[POLLER_BATCH];
        unsigned batch_max, n_batch, next;
        bool dispatching, freed;
};

static void poller_destroy(Poller *p) {
        sd_event_source_disable_unref(p->source);
        safe_close(p->epoll_fd);
        free(p);
}

static int poller_on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Poller *p = userdata;
        int n;

        n = epoll_wait(p->epoll_fd, p->batch, (int) p->batch_max, /* timeout= */ 0);
        if (n <= 0)
                return 0;
        p->n_batch = (unsigned) n;
        p->dispatching = true;
        for (p->next = 0; p->next < p->n_batch && !p->freed;) {
                struct epoll_event *ev = &p->batch[p->next++];

                if (ev->data.ptr)
                        p->handler(ev->data.ptr, ev->events);
        }
        p->dispatching = false;
        p->n_batch = 0;
        if (p->freed)
                poller_destroy(p);
        return 0;
}

int poller_new(sd_event *e, int64_t priority, unsigned batch, const char *description, PollerHandler handler,
               Poller **ret) {
        Poller *p;
        int r;

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->handler = handler;
        p->batch_max = MAX(MIN(batch, (unsigned) POLLER_BATCH), 1U);
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
        if (p->dispatching) {
                /* from a handler: freed once the batch is left */
                p->freed = true;
                p->source = sd_event_source_disable_unref(p->source);
                return NULL;
        }
        poller_destroy(p);
        return NULL;
}

int poller_add(Poller *p, int fd, uint32_t events, void *userdata) {
        struct epoll_event ev = { .events = events, .data.ptr = userdata };

        if (epoll_ctl(p->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
                return -errno;
        return 0;
}

void poller_remove(Poller *p, int fd, void *userdata) {
        if (!p || fd < 0)
                return;
        (void) epoll_ctl(p->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
        for (unsigned i = p->next; i < p->n_batch; i++)
                if (p->batch[i].data.ptr == userdata)
                        p->batch[i].data.ptr = NULL;
}
