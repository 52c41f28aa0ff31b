/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Checks across keys and across services, with FILE:LINE: errors. */

#include "config-validate.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Writes "FILE:LINE: FORMAT…" of service s to *ret_error. Returns -EINVAL,
 * or -ENOMEM with *ret_error NULL. */
_printf_(3, 4) static int service_errorf(const ServiceConfig *s, char **ret_error, const char *format, ...) {
        _cleanup_free_ char *message = NULL;
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&message, format, ap);
        va_end(ap);
        if (r < 0 || asprintf(ret_error, "%s:%u: %s", s->file, s->line, message) < 0) {
                *ret_error = NULL;
                return -ENOMEM;
        }
        return -EINVAL;
}

static bool strv_mentions(char * const *l, const char *needle) {
        for (char * const *p = l; p && *p; p++)
                if (strstr(*p, needle))
                        return true;
        return false;
}

static bool service_uses_port(const ServiceConfig *s) {
        return strv_mentions(s->command, "${PORT}") || strv_mentions(s->environment, "${PORT}") ||
               (s->directory && strstr(s->directory, "${PORT}")) || (s->health_url && strstr(s->health_url, "${PORT}"));
}

int service_config_validate(const ServiceConfig *s, char **ret_error) {
        if (!s->command)
                return service_errorf(s, ret_error, "[program:%s] has no command", s->name);
        if (service_uses_port(s) && s->port_mode == PORT_NONE)
                return service_errorf(s, ret_error, "[program:%s] uses ${PORT} but has no port (port = auto)",
                                      s->name);
        if (s->ready == READY_HEALTH && !s->health_url)
                return service_errorf(s, ret_error, "[program:%s] has ready = health but no health_url", s->name);
        if (s->port_mode == PORT_FIXED && s->instances > 1)
                return service_errorf(s, ret_error, "[program:%s] has a fixed port but %u instances: use port = auto",
                                      s->name, s->instances);
        return 0;
}

int config_validate(const Config *c, char **ret_error) {
        for (size_t i = 0; i < c->n_services; i++) {
                const ServiceConfig *a = c->services[i];

                if (a->port_mode != PORT_FIXED)
                        continue;
                for (size_t j = 0; j < i; j++) {
                        const ServiceConfig *b = c->services[j];

                        if (b->port_mode == PORT_FIXED && b->port == a->port)
                                return service_errorf(a, ret_error, "port %u is taken by [program:%s] (%s:%u)",
                                                      a->port, b->name, b->file, b->line);
                }
        }
        return 0;
}
