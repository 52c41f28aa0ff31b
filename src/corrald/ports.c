/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ports.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#define PORTS_BITS 65536U

struct PortAllocator {
        uint16_t lo, hi;
        uint64_t held[PORTS_BITS / 64];
};

/* ---- Parsing ---- */

/* A decimal port 1..65535 without sign or blanks, ending at the end of s or
 * at `end`. Returns the number of characters read. */
static int parse_port(const char *s, char end, uint16_t *ret) {
        unsigned v = 0;
        size_t i;

        for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
                v = v * 10 + (unsigned) (s[i] - '0');
                if (v > 65535)
                        return -EINVAL;
        }
        if (i == 0 || v == 0 || s[i] != end)
                return -EINVAL;
        *ret = (uint16_t) v;
        return (int) i;
}

int ports_parse_range(const char *s, uint16_t *ret_lo, uint16_t *ret_hi) {
        uint16_t lo, hi;
        int n;

        if (!s)
                return -EINVAL;
        n = parse_port(s, '-', &lo);
        if (n < 0)
                return n;
        if (parse_port(s + n + 1, '\0', &hi) < 0 || hi < lo)
                return -EINVAL;
        *ret_lo = lo;
        *ret_hi = hi;
        return 0;
}

/* ---- Bindability ---- */

static int bind_wildcard(int family, uint16_t port) {
        _cleanup_close_ int fd = -EBADF;
        union {
                struct sockaddr sa;
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
        } addr = {};
        socklen_t len;
        int one = 1;

        fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, /* protocol= */ 0);
        if (fd < 0)
                return -errno;
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
                return -errno;
        if (family == AF_INET6) {
                if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
                        return -errno;
                addr.in6 = (struct sockaddr_in6) { .sin6_family = AF_INET6,
                                                   .sin6_port = htons(port),
                                                   .sin6_addr = in6addr_any };
                len = sizeof(addr.in6);
        } else {
                addr.in = (struct sockaddr_in) { .sin_family = AF_INET,
                                                 .sin_port = htons(port),
                                                 .sin_addr.s_addr = htonl(INADDR_ANY) };
                len = sizeof(addr.in);
        }
        if (bind(fd, &addr.sa, len) < 0)
                return -errno;
        return 0;
}

bool ports_bindable(uint16_t port) {
        int r;

        if (port == 0)
                return false;
        if (bind_wildcard(AF_INET, port) < 0)
                return false;
        r = bind_wildcard(AF_INET6, port);
        /* Without IPv6 (no module, or disabled) only IPv4 counts. */
        return r >= 0 || r == -EAFNOSUPPORT || r == -EADDRNOTAVAIL;
}

/* ---- The allocator ---- */

static bool port_held(const PortAllocator *a, uint16_t port) {
        return a->held[port / 64] & (UINT64_C(1) << (port % 64));
}

static void port_set_held(PortAllocator *a, uint16_t port, bool held) {
        if (held)
                a->held[port / 64] |= UINT64_C(1) << (port % 64);
        else
                a->held[port / 64] &= ~(UINT64_C(1) << (port % 64));
}

int ports_new(uint16_t lo, uint16_t hi, PortAllocator **ret) {
        PortAllocator *a;

        if (lo == 0 || hi < lo || !ret)
                return -EINVAL;
        a = calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        a->lo = lo;
        a->hi = hi;
        *ret = a;
        return 0;
}

PortAllocator *ports_free(PortAllocator *a) {
        return mfree(a);
}

static bool port_available(const PortAllocator *a, uint16_t port) {
        return port >= a->lo && port <= a->hi && !port_held(a, port) && ports_bindable(port);
}

static int port_find_available(const PortAllocator *a, uint16_t *ret) {
        for (unsigned p = a->lo; p <= a->hi; p++)
                if (port_available(a, (uint16_t) p)) {
                        *ret = (uint16_t) p;
                        return 0;
                }
        return -EADDRNOTAVAIL;
}

int ports_allocate(PortAllocator *a, uint16_t preferred, uint16_t *ret) {
        uint16_t port = preferred;
        int r;

        if (!a || !ret)
                return -EINVAL;
        if (preferred == 0 || !port_available(a, preferred)) {
                r = port_find_available(a, &port);
                if (r < 0)
                        return r;
        }
        port_set_held(a, port, true);
        *ret = port;
        return 0;
}

int ports_reserve(PortAllocator *a, uint16_t port) {
        if (!a || port == 0)
                return -EINVAL;
        if (port_held(a, port))
                return -EADDRINUSE;
        port_set_held(a, port, true);
        return 0;
}

void ports_release(PortAllocator *a, uint16_t port) {
        if (!a)
                return;
        port_set_held(a, port, false);
}

void ports_get_range(const PortAllocator *a, uint16_t *ret_lo, uint16_t *ret_hi) {
        *ret_lo = a->lo;
        *ret_hi = a->hi;
}
