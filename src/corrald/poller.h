/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Many fds behind one sd-event source: an epoll instance of its own, added
 * to the loop once, with one handler. A source of sd-event costs a few
 * hundred bytes, and a level-triggered fd that is ready but not dispatched
 * yet is polled again by every epoll_wait() of the loop; a unit's main
 * pidfd is one of these per unit. Here each wake-up of the source takes
 * up to batch ready fds (at most 32) and hands each to the handler in
 * turn, and the loop polls the one epoll fd. */

#include <stdint.h>

#include <systemd/sd-event.h>

typedef struct Poller Poller;

/* Called with the userdata given to poller_add() and the epoll events. */
typedef void (*PollerHandler)(void *userdata, uint32_t events);

/* batch: how many ready fds one wake-up hands out (1 to 32); more is
 * fewer iterations of the loop, and a longer wait for other sources. */
int poller_new(sd_event *e, int64_t priority, unsigned batch, const char *description, PollerHandler handler,
               Poller **ret);
Poller *poller_free(Poller *p);

/* Watches fd until poller_remove() for events; userdata comes back to the
 * handler. -errno of epoll_ctl(). */
int poller_add(Poller *p, int fd, uint32_t events, void *userdata);
/* Stops watching fd, added with userdata, before fd is closed or userdata
 * freed: a ready event of it not handed out yet is dropped, also one of
 * the batch being handed out now (a handler may remove another fd). */
void poller_remove(Poller *p, int fd, void *userdata);
