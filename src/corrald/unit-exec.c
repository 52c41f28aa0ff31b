/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Exec preparation: variables, environment, argv, credentials, port,
 * output and limits — everything resolved before the clone. */
#include "unit-internal.h"

#include <string.h>

#include "env-file.h"
#include "log.h"
#include "parse-util.h"
#include "strv.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

int unit_variables(const Unit *u, char ***ret) {
        _cleanup_strv_free_ char **vars = NULL;
        char *e;

        if (asprintf(&e, "NAME=%s", u->config->name) < 0 || strv_consume(&vars, e) < 0)
                return -ENOMEM;
        if (u->instance >= 0) {
                if (asprintf(&e, "INSTANCE=%d", u->instance) < 0 || strv_consume(&vars, e) < 0)
                        return -ENOMEM;
        } else if (strv_extend(&vars, "INSTANCE=") < 0)
                return -ENOMEM;
        if (u->port > 0 && (asprintf(&e, "PORT=%u", u->port) < 0 || strv_consume(&vars, e) < 0))
                return -ENOMEM;
        *ret = TAKE_PTR(vars);
        return 0;
}

static int env_set_pair(char ***env, const char *key, const char *value) {
        _cleanup_free_ char *e = NULL;

        if (asprintf(&e, "%s=%s", key, value) < 0)
                return -ENOMEM;
        return strv_env_set(env, e);
}

static int unit_build_env(const Unit *u, char **vars, const SpawnCredentials *c, char ***ret) {
        _cleanup_strv_free_ char **env = NULL;
        char buf[32];
        int r = 0;

        if (strv_extend(&env, "PATH=" DEFAULT_PATH) < 0)
                return -ENOMEM;
        if (u->config->user &&
            ((r = env_set_pair(&env, "HOME", c->home)) < 0 || (r = env_set_pair(&env, "USER", c->name)) < 0 ||
             (r = env_set_pair(&env, "LOGNAME", c->name)) < 0 || (r = env_set_pair(&env, "SHELL", c->shell)) < 0))
                return r;
        for (char **v = vars; *v; v++)
                if ((r = strv_env_set(&env, *v)) < 0)
                        return r;
        if ((r = env_set_pair(&env, "CORRAL_UNIT", u->name)) < 0)
                return r;
        if (u->ctx->notify &&
            (u->config->ready == READY_NOTIFY || service_config_tuning(u->config)->watchdog_timeout > 0))
                if ((r = env_set_pair(&env, "NOTIFY_SOCKET", notify_socket_address(u->ctx->notify))) < 0)
                        return r;
        if (service_config_tuning(u->config)->watchdog_timeout > 0) {
                snprintf(buf, sizeof(buf), "%llu",
                         (unsigned long long) service_config_tuning(u->config)->watchdog_timeout);
                if ((r = env_set_pair(&env, "WATCHDOG_USEC", buf)) < 0)
                        return r;
        }
        for (char **n = service_config_extras(u->config)->environment_inherit; n && *n; n++) {
                const char *v = getenv(*n);
                if (v && (r = env_set_pair(&env, *n, v)) < 0)
                        return r;
        }
        for (char **p = u->config->environment; p && *p; p++) {
                _cleanup_free_ char *x = NULL;
                if ((r = strv_env_expand(*p, vars, &x, /* ret_bad= */ NULL)) < 0 || (r = strv_env_set(&env, x)) < 0)
                        return r;
        }
        *ret = TAKE_PTR(env);
        return 0;
}

static int unit_build_argv(const Unit *u, char **vars, char ***ret) {
        _cleanup_strv_free_ char **argv = NULL;
        int r;

        for (char **p = u->config->command; *p; p++) {
                char *x;
                if ((r = strv_env_expand(*p, vars, &x, /* ret_bad= */ NULL)) < 0)
                        return r;
                if ((r = strv_consume(&argv, x)) < 0) {
                        free(x);
                        return r;
                }
        }
        *ret = TAKE_PTR(argv);
        return 0;
}

static const char *env_path(char **env) {
        int i = strv_env_find(env, "PATH", 4);
        return i >= 0 ? env[i] + 5 : DEFAULT_PATH;
}

void start_context_done(StartContext *c) {
        spawn_credentials_done(&c->creds);
        strv_free(c->vars);
        strv_free(c->env);
        strv_free(c->argv);
        free(c->path);
        free(c->directory);
        safe_close(c->output_fd);
}

/* The unit's port: the one it had when that is still free (sticky across
 * restarts), else a new one; a fixed port is held as configured. */
static int unit_take_port(Unit *u) {
        const ServiceConfig *s = u->config;
        PortAllocator *a = u->ctx->ports;
        uint16_t lo, hi;
        uint16_t port = 0;
        int r;

        if (s->port_mode == PORT_NONE || (s->port_mode == PORT_FIXED && u->port == s->port))
                return 0;
        if (s->port_mode == PORT_AUTO && u->port > 0 && ports_bindable(u->port))
                return 0;
        if (u->port > 0) {
                ports_release(a, u->port);
                port = u->port;
                u->port = 0;
        }
        if (s->port_mode == PORT_FIXED) {
                r = ports_reserve(a, s->port);
                if (r < 0)
                        return unit_fail_message(u, r, "port %u is held by another unit", s->port);
                u->port = s->port;
                return 0;
        }
        r = ports_allocate(a, port, &u->port);
        u->port_starved = r == -EADDRNOTAVAIL;
        ports_get_range(a, &lo, &hi);
        if (r < 0)
                return unit_fail_message(u, r, "no free port in port_range %u-%u (it starts when one is freed)", lo,
                                         hi);
        return 0;
}

int unit_apply_limits(Unit *u) {
        const ServiceConfig *s = u->config;
        _cleanup_close_ int fd = -EBADF; /* opened for the first limit: most units have none */

        if (!u->has_cgroup)
                return -ESRCH;
        for (CgroupLimit l = 0; l < _LIMIT_MAX; l++) {
                const char *ctrl = cgroup_limit_controller(l), *key = cgroup_limit_key(l),
                           *value = service_config_limit(s, l);
                int r;

                if (!value)
                        continue;
                r = cgroup_tree_enable_controller(u->ctx->cgroup, ctrl);
                if (r >= 0 && streq(ctrl, "memory"))
                        u->ctx->memory_current_missing = 0; /* a status looks for memory.current again */
                if (r >= 0 && fd < 0)
                        r = fd = unit_cgroup_open(u);
                if (r >= 0)
                        r = cgroup_write_attribute(fd, cgroup_limit_file(l), value);
                if (r >= 0) {
                        log_unit_debug(u->name, "%s = %s written to %s", key, value, cgroup_limit_file(l));
                        continue;
                }
                if (s->limits_required) {
                        if (r == -EOPNOTSUPP)
                                return unit_fail_message(u, r,
                                                         "%s needs the %s controller, which this cgroup2 hierarchy "
                                                         "does not offer (limits_required = yes)",
                                                         key, ctrl);
                        return unit_fail_message(u, r, "cannot apply %s = %s: %m (limits_required = yes)", key, value);
                }
                if (r == -EOPNOTSUPP)
                        log_unit_warning(u->name, LOG_EVENT_NONE,
                                         "%s needs the %s controller, which this cgroup2 hierarchy does not offer; "
                                         "running without it",
                                         key, ctrl);
                else
                        log_unit_warning_errno(u->name, LOG_EVENT_NONE, r, "cannot apply %s = %s: %m, ignoring", key,
                                               value);
        }
        return 0;
}

/* environment_file: each file read now (an edited one counts at the next
 * start), its assignments over what is set so far — after environment,
 * as systemd's EnvironmentFile= comes after Environment=. Opened with the
 * unit's credentials (env-file.h). */
static int unit_read_environment_files(Unit *u, const SpawnCredentials *creds, char ***env) {
        EnvFileCredentials fc = {
                .uid = creds->uid,
                .gid = creds->gid,
                .groups = creds->groups,
                .n_groups = creds->n_groups,
        };

        for (char **p = service_config_extras(u->config)->environment_files; p && *p; p++) {
                _cleanup_strv_free_ char **vars = NULL;
                bool optional = **p == '-';
                const char *path = *p + optional;
                EnvFileError e = {};
                int r = env_file_load(path, creds->set ? &fc : NULL, &vars, &e);

                if (r == -ENOENT && optional)
                        continue;
                if (r == -EBADMSG)
                        return unit_fail_message(u, r, "%s:%u: %s", path, e.line, e.reason);
                if (r == -EINVAL)
                        return unit_fail_message(u, r, "%s: not a regular file", path);
                if (r == -EFBIG)
                        return unit_fail_message(u, r, "%s: larger than %u bytes", path, ENV_FILE_SIZE_MAX);
                if (r < 0)
                        return unit_fail_message(u, r, "%s: %m", path);
                for (char **v = vars; *v; v++)
                        if ((r = strv_env_set(env, *v)) < 0)
                                return unit_fail_message(u, r, "%s: %m", path);
        }
        return 0;
}

int unit_prepare(Unit *u, StartContext *c) {
        const ServiceConfig *s = u->config;
        int r;

        r = unit_take_port(u);
        if (r < 0)
                return r;

        r = spawn_credentials_resolve(s->user, s->group, &c->creds);
        /* Unprivileged, "switching" to ourselves is no switch (and setgroups()
         * would fail). */
        if (r >= 0 && geteuid() != 0 && c->creds.uid == geteuid() && c->creds.gid == getegid())
                c->creds.set = false;
        if (r == -ESRCH)
                return unit_fail_message(u, r, "user %s: no such user", s->user);
        if (r == -ENXIO)
                return unit_fail_message(u, r, "group %s: no such group", s->group);
        if (r < 0)
                return unit_fail_message(u, r, "cannot resolve user %s: %m", s->user ?: s->group);
        r = unit_variables(u, &c->vars);
        if (r >= 0)
                r = unit_build_env(u, c->vars, &c->creds, &c->env);
        if (r >= 0)
                r = unit_build_argv(u, c->vars, &c->argv);
        if (r >= 0 && s->directory)
                r = strv_env_expand(s->directory, c->vars, &c->directory, /* ret_bad= */ NULL);
        if (r < 0)
                return unit_fail_message(u, r, "cannot build command and environment: %m");
        r = unit_read_environment_files(u, &c->creds, &c->env);
        if (r < 0)
                return r;
        r = unit_output_setup(u, c);
        if (r < 0)
                return r;
        r = spawn_find_executable(c->argv[0], env_path(c->env), &c->path);
        if (r < 0)
                return unit_fail_message(u, r, "exec %s: %m", c->argv[0]);
        for (int i = 0; i < RLIMIT_NLIMITS && i < CONFIG_RLIMIT_MAX; i++) {
                const ResourceLimit *rl = service_config_rlimit(s, i);

                c->rlimits_set[i] = rl->set;
                c->rlimits[i] = (struct rlimit) { .rlim_cur = rl->soft, .rlim_max = rl->hard };
        }
        return 0;
}
