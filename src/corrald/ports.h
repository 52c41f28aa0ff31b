/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Ports for units: "port = auto" takes a free one from port_range,
 * "port = N" a fixed one. A port is free when nothing of ours holds it and
 * it can be bound on both the IPv4 and IPv6 wildcard addresses. */

#include <stdbool.h>
#include <stdint.h>

#include "macro.h"

typedef struct PortAllocator PortAllocator;

/* A range lo..hi (inclusive, 1 <= lo <= hi <= 65535). Returns 0, -EINVAL,
 * -ENOMEM. */
int ports_new(uint16_t lo, uint16_t hi, PortAllocator **ret);
PortAllocator *ports_free(PortAllocator *a);
DEFINE_TRIVIAL_CLEANUP_FUNC(PortAllocator *, ports_free);

/* "30000-31000" → lo, hi. Pure. Returns 0 or -EINVAL. */
int ports_parse_range(const char *s, uint16_t *ret_lo, uint16_t *ret_hi);

/* Takes a port for a unit: preferred when it is in the range, not held by
 * us and bindable (so a restarted instance gets its port again), otherwise
 * the first such port from the range. Returns 0 with the port, or
 * -EADDRNOTAVAIL when the range has no free port. */
int ports_allocate(PortAllocator *a, uint16_t preferred, uint16_t *ret);

/* Takes a fixed port (inside or outside the range). -EADDRINUSE when we
 * hold it already; the port need not be bindable (the unit may be about to
 * bind it, or hold it from before). */
int ports_reserve(PortAllocator *a, uint16_t port);

/* Gives a port back. */
void ports_release(PortAllocator *a, uint16_t port);

/* Whether the port can be bound right now on 0.0.0.0 and [::] (TCP). */
bool ports_bindable(uint16_t port);

/* The range the allocator hands out ports from. */
void ports_get_range(const PortAllocator *a, uint16_t *ret_lo, uint16_t *ret_hi);
