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

static bool strv_mentions(char *const *l, const char *needle) {
        for (char *const *p = l; p && *p; p++)
                if (strstr(*p, needle))
                        return true;
        return false;
}

static bool service_uses_port(const ServiceConfig *s) {
        return strv_mentions(s->command, "${PORT}") || strv_mentions(s->environment, "${PORT}") ||
               (s->directory && strstr(s->directory, "${PORT}")) || (s->health_url && strstr(s->health_url, "${PORT}"));
}

/* What a oneshot cannot be: run again and again, ready before it ends,
 * alive without its main process, or checked while it runs. */
static int oneshot_validate(const ServiceConfig *s, char **ret_error) {
        const char *bad = service_config_restart(s) == RESTART_ALWAYS ? "restart = always (use on-failure)"
                          : s->ready != READY_EXEC ? "ready other than exec (it is ready when it exits 0)"
                          : service_config_tuning(s)->exit_type != EXIT_TYPE_MAIN ? "exit_type = cgroup"
                          : s->health_url                                         ? "health_url"
                          : service_config_tuning(s)->watchdog_timeout > 0        ? "watchdog_timeout"
                          : service_config_tuning(s)->runtime_max > 0 ? "runtime_max (start_timeout bounds its run)"
                                                                      : NULL;

        if (bad)
                return service_errorf(s, ret_error, "[program:%s] has type = oneshot, which takes no %s", s->name, bad);
        return 0;
}

int service_config_validate(const ServiceConfig *s, char **ret_error) {
        int r;

        if (s->type == SERVICE_TYPE_ONESHOT && (r = oneshot_validate(s, ret_error)) < 0)
                return r;
        if (!s->command)
                return service_errorf(s, ret_error, "[program:%s] has no command", s->name);
        if (service_uses_port(s) && s->port_mode == PORT_NONE)
                return service_errorf(s, ret_error, "[program:%s] uses ${PORT} but has no port (port = auto)", s->name);
        if (s->ready == READY_HEALTH && !s->health_url)
                return service_errorf(s, ret_error, "[program:%s] has ready = health but no health_url", s->name);
        if (s->port_mode == PORT_FIXED && s->instances > 1)
                return service_errorf(s, ret_error, "[program:%s] has a fixed port but %u instances: use port = auto",
                                      s->name, s->instances);
        return 0;
}

int config_dep_graph(const Config *c, DepGraph **ret, DepError *ret_error) {
        _cleanup_free_ DepServiceSpec *specs = calloc(c->n_services ?: 1, sizeof(DepServiceSpec));

        if (!specs)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_services; i++) {
                const ServiceConfig *s = c->services[i];
                specs[i] = (DepServiceSpec) {
                        .name = s->name,
                        .instances = s->instances,
                        .after = service_config_extras(s)->after,
                        .requires = service_config_extras(s)->requires,
                };
        }
        return dep_graph_new(specs, c->n_services, ret, ret_error);
}

/* Writes "FILE:LINE: …" to *ret_error at line of s (the key's). */
_printf_(4, 5) static int service_line_errorf(const ServiceConfig *s, unsigned line, char **ret_error,
                                              const char *format, ...) {
        _cleanup_free_ char *message = NULL;
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&message, format, ap);
        va_end(ap);
        if (r < 0 || asprintf(ret_error, "%s:%u: %s", s->file, line, message) < 0) {
                *ret_error = NULL;
                return -ENOMEM;
        }
        return -EINVAL;
}

/* Every name of after = and requires = is a service or an instance, and
 * no unit waits for itself through others. */
static int config_validate_deps(const Config *c, char **ret_error) {
        DepGraph *g = NULL;
        DepError e = {};
        bool any = false;
        int r;

        for (size_t i = 0; i < c->n_services && !any; i++)
                any = service_config_has_dependencies(c->services[i]);
        if (!any)
                return 0; /* nothing to resolve: as fast as before */
        r = config_dep_graph(c, &g, &e);
        dep_graph_free(g);
        if (r >= 0 || r == -ENOMEM) {
                dep_error_done(&e);
                return r;
        }
        const ServiceConfig *s = c->services[e.service < c->n_services ? e.service : 0];
        if (r == -ENOENT)
                r = service_line_errorf(s,
                                        e.kind == DEP_AFTER ? service_config_after_line(s)
                                                            : service_config_requires_line(s),
                                        ret_error, "[program:%s]: %s = %s: no such service or instance", s->name,
                                        dep_kind_to_string(e.kind), e.name);
        else if (r == -ELOOP)
                r = service_line_errorf(s,
                                        service_config_extras(s)->after ? service_config_after_line(s)
                                                                        : service_config_requires_line(s),
                                        ret_error, "[program:%s]: a dependency cycle: %s", s->name, e.cycle);
        else
                r = service_errorf(s, ret_error, "[program:%s]: invalid dependencies", s->name);
        dep_error_done(&e);
        return r;
}

int config_validate(const Config *c, char **ret_error) {
        int r;

        if ((r = config_validate_deps(c, ret_error)) < 0)
                return r;
        for (size_t i = 0; i < c->n_services; i++) {
                const ServiceConfig *a = c->services[i];

                if (a->port_mode != PORT_FIXED)
                        continue;
                for (size_t j = 0; j < i; j++) {
                        const ServiceConfig *b = c->services[j];

                        if (b->port_mode == PORT_FIXED && b->port == a->port)
                                return service_errorf(a, ret_error, "port %u is taken by [program:%s] (%s:%u)", a->port,
                                                      b->name, b->file, b->line);
                }
        }
        return 0;
}
