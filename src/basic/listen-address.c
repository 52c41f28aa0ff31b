/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "listen-address.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>

#include "parse-util.h"

static int parse_port(const char *s, uint16_t *ret) {
        unsigned port;

        if (parse_unsigned(s, &port) < 0 || port == 0 || port > 65535)
                return -EINVAL;
        *ret = (uint16_t) port;
        return 0;
}

static int listen_parse_unix(const char *s, ListenAddress *ret) {
        struct sockaddr_un *sa = (struct sockaddr_un *) &ret->addr;
        size_t n = strlen(s);

        if (n >= sizeof(sa->sun_path))
                return -ENAMETOOLONG;
        sa->sun_family = AF_UNIX;
        memcpy(sa->sun_path, s, n + 1);
        memcpy(ret->path, s, n + 1);
        ret->addr_len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n + 1);
        return 0;
}

/* "[::1]:9464" */
static int listen_parse_ipv6(const char *s, ListenAddress *ret) {
        struct sockaddr_in6 *sa = (struct sockaddr_in6 *) &ret->addr;
        const char *bracket = strchr(s, ']');
        char host[INET6_ADDRSTRLEN];

        if (!bracket || bracket[1] != ':' || (size_t) (bracket - s - 1) >= sizeof(host))
                return -EINVAL;
        memcpy(host, s + 1, (size_t) (bracket - s - 1));
        host[bracket - s - 1] = '\0';
        sa->sin6_family = AF_INET6;
        if (inet_pton(AF_INET6, host, &sa->sin6_addr) != 1 || parse_port(bracket + 2, &sa->sin6_port) < 0)
                return -EINVAL;
        sa->sin6_port = htons(sa->sin6_port);
        ret->addr_len = sizeof(*sa);
        return 0;
}

/* "127.0.0.1:9464" */
static int listen_parse_ipv4(const char *s, ListenAddress *ret) {
        struct sockaddr_in *sa = (struct sockaddr_in *) &ret->addr;
        const char *colon = strrchr(s, ':');
        char host[INET_ADDRSTRLEN];

        if (!colon || (size_t) (colon - s) >= sizeof(host))
                return -EINVAL;
        memcpy(host, s, (size_t) (colon - s));
        host[colon - s] = '\0';
        sa->sin_family = AF_INET;
        if (inet_pton(AF_INET, host, &sa->sin_addr) != 1 || parse_port(colon + 1, &sa->sin_port) < 0)
                return -EINVAL;
        sa->sin_port = htons(sa->sin_port);
        ret->addr_len = sizeof(*sa);
        return 0;
}

int listen_address_parse(const char *s, ListenAddress *ret) {
        ListenAddress l = {};
        int r;

        if (!s || !*s)
                return -EINVAL;
        if (s[0] == '/')
                r = listen_parse_unix(s, &l);
        else if (s[0] == '[')
                r = listen_parse_ipv6(s, &l);
        else
                r = listen_parse_ipv4(s, &l);
        if (r < 0)
                return r;
        *ret = l;
        return 0;
}
