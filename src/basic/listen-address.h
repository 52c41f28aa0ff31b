/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Where a server listens, as a configuration writes it: an IPv4 address
 * and port, an IPv6 one in brackets, or the path of a Unix socket. Pure. */

#include <sys/socket.h>
#include <sys/un.h>

typedef struct ListenAddress {
        struct sockaddr_storage addr;
        socklen_t addr_len;
        char path[sizeof(((struct sockaddr_un *) NULL)->sun_path)]; /* the Unix socket's path, or "" */
} ListenAddress;

/* "127.0.0.1:9464", "[::1]:9464" (port 1..65535), or an absolute path
 * ("/run/corral/metrics.sock"). Returns 0, -EINVAL, -ENAMETOOLONG (a
 * path too long for sun_path). */
int listen_address_parse(const char *s, ListenAddress *ret);
