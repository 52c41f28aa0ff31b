/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The values of configuration keys: each parser reads one value into its
 * field, or explains what is wrong with it. Pure: no I/O, no globals. */

#include "listen-address.h"
#include "config-value.h"

#include <assert.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <syslog.h>

#include "cgroup.h"
#include "config.h"
#include "parse-util.h"
#include "ports.h"
#include "strv.h"

_printf_(2, 3) static int value_invalid(char **ret_message, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(ret_message, format, ap);
        va_end(ap);
        if (r < 0) {
                *ret_message = NULL;
                return -ENOMEM;
        }
        return -EINVAL;
}

static int set_string(char **field, const char *value) {
        char *v;

        v = strdup(value);
        if (!v)
                return -ENOMEM;
        free(*field);
        *field = v;
        return 0;
}

int config_parse_absolute_path(const char *key, const char *value, void *field, char **ret_message) {
        if (value[0] != '/')
                return value_invalid(ret_message, "%s '%s' is not an absolute path", key, value);
        return set_string(field, value);
}

int config_parse_listen_address(const char *key, const char *value, void *field, char **ret_message) {
        ListenAddress a;
        int r = listen_address_parse(value, &a);

        if (r == -ENAMETOOLONG)
                return value_invalid(ret_message, "%s '%s': the path is too long for a Unix socket", key, value);
        if (r < 0)
                return value_invalid(ret_message,
                                     "invalid %s '%s': expected ADDRESS:PORT (127.0.0.1:9464, [::1]:9464) or the "
                                     "absolute path of a Unix socket",
                                     key, value);
        return set_string(field, value);
}

int config_parse_cgroup(const char *key, const char *value, void *field, char **ret_message) {
        /* below the root: corrald never owns the whole hierarchy */
        if (!cgroup_path_is_valid(value) || streq(value, "/"))
                return value_invalid(ret_message,
                                     "invalid %s path '%s': expected an absolute path like /corral "
                                     "without '.', '..' or empty components",
                                     key, value);
        return set_string(field, value);
}

int config_parse_log_level(const char *key, const char *value, void *field, char **ret_message) {
        static const struct {
                const char *name;
                int level;
        } table[] = {
                { "err", LOG_ERR },   { "warning", LOG_WARNING }, { "notice", LOG_NOTICE },
                { "info", LOG_INFO }, { "debug", LOG_DEBUG },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(value, table[i].name)) {
                        *(int *) field = table[i].level;
                        return 0;
                }
        return value_invalid(ret_message, "invalid %s '%s': use err, warning, notice, info or debug", key, value);
}

/* Values that may hold ${NAME}, ${INSTANCE}, ${PORT}: checked here with
 * the same expansion the unit uses at start. */
static int check_variables(const char *key, const char *value, char **ret_message) {
        static char *const sample[] = { (char *) "NAME=x", (char *) "INSTANCE=0", (char *) "PORT=0", NULL };
        _cleanup_free_ char *expanded = NULL;
        const char *bad = NULL;
        int r;

        r = strv_env_expand(value, sample, &expanded, &bad);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return value_invalid(ret_message,
                                     "unknown variable in %s at '%.20s': use ${NAME}, ${INSTANCE}, ${PORT}, "
                                     "or $$ for a '$'",
                                     key, bad);
        return 0;
}

int config_parse_directory(const char *key, const char *value, void *field, char **ret_message) {
        int r = check_variables(key, value, ret_message);
        if (r < 0)
                return r;
        return config_parse_absolute_path(key, value, field, ret_message);
}

int config_parse_command(const char *key, const char *value, void *field, char **ret_message) {
        _cleanup_strv_free_ char **argv = NULL;
        const char *error = NULL;
        char ***command = field;
        int r;

        r = strv_split_words(value, &argv, &error);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return value_invalid(ret_message, "invalid %s: %s", key, error ?: "cannot split words");
        if (!argv[0] || argv[0][0] == '\0')
                return value_invalid(ret_message, "empty %s", key);
        r = check_variables(key, value, ret_message);
        if (r < 0)
                return r;

        strv_free(*command);
        *command = TAKE_PTR(argv);
        return 0;
}

static bool env_name_is_valid(const char *name, size_t n) {
        static const char first[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_";

        if (n == 0 || !strchr(first, name[0]))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!strchr(first, name[i]) && !(name[i] >= '0' && name[i] <= '9'))
                        return false;
        return true;
}

static int env_add_word(char ***env, const char *word, char **ret_message) {
        const char *eq = strchr(word, '=');

        if (!eq)
                return value_invalid(ret_message, "invalid environment entry '%s': expected KEY=VALUE", word);
        if (!env_name_is_valid(word, (size_t) (eq - word)))
                return value_invalid(ret_message,
                                     "invalid environment variable name '%.*s': use letters, digits "
                                     "and '_', not starting with a digit",
                                     (int) (eq - word), word);
        return strv_env_set(env, word);
}

/* The words of value (the configuration's quoting), or why not. */
static int split_words(const char *key, const char *value, char ***ret, char **ret_message) {
        const char *error = NULL;
        int r = strv_split_words(value, ret, &error);

        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return value_invalid(ret_message, "invalid %s: %s", key, error ?: "cannot split words");
        return 0;
}

int config_parse_environment(const char *key, const char *value, void *field, char **ret_message) {
        _cleanup_strv_free_ char **words = NULL;
        int r;

        r = split_words(key, value, &words, ret_message);
        if (r < 0)
                return r;
        r = check_variables(key, value, ret_message);
        if (r < 0)
                return r;

        for (char **w = words; *w; w++) {
                r = env_add_word(field, *w, ret_message);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A user or group name or number, resolved only when a service starts. */
int config_parse_user_group(const char *key, const char *value, void *field, char **ret_message) {
        for (const char *p = value; *p; p++)
                if ((unsigned char) *p <= ' ' || *p == 0x7f || *p == ':' || *p == '/')
                        return value_invalid(ret_message, "invalid %s '%s': no blanks, control characters, ':' or '/'",
                                             key, value);
        return set_string(field, value);
}

int config_parse_umask(const char *key, const char *value, void *field, char **ret_message) {
        if (parse_mode(value, field) < 0)
                return value_invalid(ret_message, "invalid %s '%s': expected an octal mode up to 0777", key, value);
        return 0;
}

int config_parse_bool(const char *key, const char *value, void *field, char **ret_message) {
        if (parse_boolean(value, field) < 0)
                return value_invalid(ret_message, "invalid boolean '%s' for %s: use yes or no", value, key);
        return 0;
}

int config_parse_signal(const char *key, const char *value, void *field, char **ret_message) {
        if (parse_signal(value, field) < 0)
                return value_invalid(ret_message, "invalid signal '%s' for %s", value, key);
        return 0;
}

int config_parse_timespan(const char *key, const char *value, void *field, char **ret_message) {
        int r;

        r = parse_timespan(value, field);
        if (r == -ERANGE)
                return value_invalid(ret_message, "time span '%s' for %s is too large", value, key);
        if (r < 0)
                return value_invalid(ret_message, "invalid time span '%s' for %s", value, key);
        return 0;
}

int config_parse_kill_mode(const char *key, const char *value, void *field, char **ret_message) {
        KillMode m = kill_mode_from_string(value);

        if (m < 0)
                return value_invalid(ret_message, "invalid %s '%s': use control-group or mixed", key, value);
        *(KillMode *) field = m;
        return 0;
}

int config_parse_restart(const char *key, const char *value, void *field, char **ret_message) {
        RestartPolicy p = restart_policy_from_string(value);

        if (p < 0)
                return value_invalid(ret_message, "invalid %s '%s': use always, on-failure or never", key, value);
        *(RestartPolicy *) field = p;
        return 0;
}

/* Looks value up among name(0) … name(n - 1); when it is none of them,
 * the message lists them all. */
static int config_parse_table(const char *key, const char *value, void *field, char **ret_message,
                              const char *(*name)(int i), int n) {
        _cleanup_free_ char *choices = NULL;
        size_t size = 0;
        FILE *f;

        for (int i = 0; i < n; i++)
                if (name(i) && streq(name(i), value)) {
                        *(int *) field = i;
                        return 0;
                }

        f = open_memstream(&choices, &size);
        if (!f)
                return -ENOMEM;
        for (int i = 0; i < n; i++)
                if (name(i))
                        fprintf(f, "%s%s", i > 0 ? ", " : "", name(i));
        if (fclose(f) != 0)
                return -ENOMEM;
        return value_invalid(ret_message, "invalid %s '%s': use %s", key, value, choices);
}

static const char *ready_mode_name(int i) {
        return ready_mode_to_string(i);
}

static const char *exit_type_name(int i) {
        return exit_type_to_string(i);
}

static const char *service_type_name(int i) {
        return service_type_to_string(i);
}

static const char *log_target_name(int i) {
        return log_target_to_string(i);
}

static const char *output_kind_name(int i) {
        return output_kind_to_string(i);
}

int config_parse_ready(const char *key, const char *value, void *field, char **ret_message) {
        return config_parse_table(key, value, field, ret_message, ready_mode_name, _READY_MODE_MAX);
}

int config_parse_exit_type(const char *key, const char *value, void *field, char **ret_message) {
        return config_parse_table(key, value, field, ret_message, exit_type_name, _EXIT_TYPE_MAX);
}

int config_parse_service_type(const char *key, const char *value, void *field, char **ret_message) {
        return config_parse_table(key, value, field, ret_message, service_type_name, _SERVICE_TYPE_MAX);
}

int config_parse_log_target(const char *key, const char *value, void *field, char **ret_message) {
        return config_parse_table(key, value, field, ret_message, log_target_name, _LOG_TARGET_MAX);
}

/* output = journal | inherit | null | file:PATH (the offset is of
 * ServiceExtras' .output; the path goes to its .output_path). */
int config_parse_output(const char *key, const char *value, void *field, char **ret_message) {
        ServiceExtras *s = (ServiceExtras *) ((char *) field - offsetof(ServiceExtras, output));

        if (strneq(value, "file:", 5)) {
                if (value[5] != '/')
                        return value_invalid(ret_message, "invalid %s '%s': file: needs an absolute path", key, value);
                s->output = OUTPUT_FILE;
                return set_string(&s->output_path, value + 5);
        }
        if (streq(value, "file"))
                return value_invalid(ret_message, "invalid %s 'file': write file:/absolute/path", key);
        return config_parse_table(key, value, field, ret_message, output_kind_name, _OUTPUT_KIND_MAX);
}

int config_parse_positive(const char *key, const char *value, void *field, char **ret_message) {
        unsigned n;

        if (parse_unsigned(value, &n) < 0 || n == 0)
                return value_invalid(ret_message, "invalid %s '%s': expected a positive number", key, value);
        *(unsigned *) field = n;
        return 0;
}

int config_parse_instances(const char *key, const char *value, void *field, char **ret_message) {
        ServiceConfig *s = (ServiceConfig *) ((char *) field - offsetof(ServiceConfig, instances));
        char longest[CONFIG_NAME_MAX + 16];
        unsigned n;

        if (parse_unsigned(value, &n) < 0 || n == 0 || n > CONFIG_INSTANCES_MAX)
                return value_invalid(ret_message, "invalid %s '%s': expected a number from 1 to %u", key, value,
                                     CONFIG_INSTANCES_MAX);
        snprintf(longest, sizeof(longest), "%s@%u", s->name, n - 1);
        if (strlen(longest) > CONFIG_NAME_MAX)
                return value_invalid(ret_message, "instance name '%s' is longer than %d characters", longest,
                                     CONFIG_NAME_MAX);
        s->instances = n;
        return 0;
}

/* restart_prevent_exit_status = 1 6 SIGTERM … : exit codes and signals. */
int config_parse_prevent(const char *key, const char *value, void *field, char **ret_message) {
        ServiceRestartPrevent *s = field;
        _cleanup_strv_free_ char **words = NULL;
        int r;

        r = strv_split_words(value, &words, /* ret_error= */ NULL);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || !words[0])
                return value_invalid(ret_message, "invalid %s '%s'", key, value);
        for (char **w = words; *w; w++) {
                unsigned code;
                int sig;

                if (parse_unsigned(*w, &code) >= 0) {
                        if (code > 255)
                                return value_invalid(ret_message, "exit status %u in %s is above 255", code, key);
                        s->prevent_exit_status[code / 64] |= UINT64_C(1) << (code % 64);
                } else if (parse_signal(*w, &sig) >= 0 && sig < 64)
                        s->prevent_exit_signal |= UINT64_C(1) << sig;
                else
                        return value_invalid(ret_message, "invalid exit status or signal '%s' in %s", *w, key);
        }
        return 0;
}

int config_parse_port_range(const char *key, const char *value, void *field, char **ret_message) {
        Config *c = (Config *) ((char *) field - offsetof(Config, port_min));

        if (ports_parse_range(value, &c->port_min, &c->port_max) < 0)
                return value_invalid(ret_message, "invalid %s '%s': expected LOW-HIGH within 1-65535", key, value);
        return 0;
}

int config_parse_port(const char *key, const char *value, void *field, char **ret_message) {
        ServiceConfig *s = (ServiceConfig *) ((char *) field - offsetof(ServiceConfig, port_mode));
        unsigned n;

        if (streq(value, "auto")) {
                s->port_mode = PORT_AUTO;
                return 0;
        }
        if (parse_unsigned(value, &n) < 0 || n == 0 || n > 65535)
                return value_invalid(ret_message, "invalid %s '%s': use auto or a number from 1 to 65535", key, value);
        s->port_mode = PORT_FIXED;
        s->port = (uint16_t) n;
        return 0;
}

int config_parse_health_url(const char *key, const char *value, void *field, char **ret_message) {
        int r;

        if (!strneq(value, "http://", 7) && !strneq(value, "https://", 8))
                return value_invalid(ret_message, "invalid %s '%s': expected an http:// or https:// URL", key, value);
        r = check_variables(key, value, ret_message);
        if (r < 0)
                return r;
        return set_string(field, value);
}

int config_parse_health_status(const char *key, const char *value, void *field, char **ret_message) {
        if (health_status_parse(value, field) < 0)
                return value_invalid(ret_message,
                                     "invalid %s '%s': expected codes and ranges within 100-599, like 200-299 301", key,
                                     value);
        return 0;
}

/* "512M", "2G", "1024K", "100" (bytes), "1.5G"; "max" or "infinity". The
 * fraction is read digit by digit (at most 9), never through strtod(),
 * which would take exponents and infinities (found by fuzz-config). */
static int parse_size(const char *s, char **ret) {
        static const struct {
                char suffix;
                unsigned long long factor;
        } units[] = { { 'K', 1ULL << 10 }, { 'M', 1ULL << 20 }, { 'G', 1ULL << 30 }, { 'T', 1ULL << 40 } };
        unsigned long long factor = 1, whole, frac = 0, denom = 1;
        char *end;

        if (streq(s, "max") || streq(s, "infinity"))
                return (*ret = strdup("max")) ? 0 : -ENOMEM;
        size_t digits = strspn(s, "0123456789");
        uint64_t w;
        int r = safe_atou64_n(s, digits, 10, &w);
        if (r < 0)
                return r;
        whole = w;
        end = (char *) s + digits;
        if (*end == '.') {
                end++;
                if (*end < '0' || *end > '9')
                        return -EINVAL;
                for (; *end >= '0' && *end <= '9'; end++)
                        if (denom < 1000000000ULL) {
                                frac = frac * 10 + (unsigned long long) (*end - '0');
                                denom *= 10;
                        }
        }
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (end[0] == units[i].suffix || end[0] == units[i].suffix + 32) {
                        factor = units[i].factor;
                        end++;
                        break;
                }
        if (*end != '\0' || (factor == 1 && frac != 0))
                return -EINVAL;
        if (whole > ULLONG_MAX / factor)
                return -ERANGE;
        /* frac < denom ≤ 1e9 and factor ≤ 2^40: frac / denom * factor without overflow */
        unsigned long long part = factor / denom * frac + factor % denom * frac / denom;
        if (whole * factor > ULLONG_MAX - part)
                return -ERANGE;
        return asprintf(ret, "%llu", whole * factor + part) < 0 ? -ENOMEM : 0;
}

/* "50%" of one CPU, "200%", "50000 100000" (quota period in µs), "max". */
static int parse_cpu_max(const char *s, char **ret) {
        unsigned quota, period;

        if (streq(s, "max"))
                return (*ret = strdup("max 100000")) ? 0 : -ENOMEM;
        uint64_t pct;
        size_t n = strlen(s);
        if (n > 1 && s[n - 1] == '%' && safe_atou64_n(s, n - 1, 10, &pct) >= 0 && pct > 0 && pct <= 100000)
                return asprintf(ret, "%llu 100000", (unsigned long long) pct * 1000) < 0 ? -ENOMEM : 0;
        _cleanup_strv_free_ char **w = NULL;
        if (strv_split_words(s, &w, NULL) < 0 || strv_length(w) != 2 || parse_unsigned(w[0], &quota) < 0 ||
            parse_unsigned(w[1], &period) < 0 || quota < 1000 || period < 1000 || period > 1000000)
                return -EINVAL;
        return asprintf(ret, "%u %u", quota, period) < 0 ? -ENOMEM : 0;
}

static int parse_weight(const char *s, char **ret) {
        unsigned w;

        if (parse_unsigned(s, &w) < 0 || w < 1 || w > 10000)
                return -EINVAL;
        return asprintf(ret, "%u", w) < 0 ? -ENOMEM : 0;
}

static int parse_count(const char *s, char **ret) {
        unsigned n;

        if (streq(s, "max") || streq(s, "infinity"))
                return (*ret = strdup("max")) ? 0 : -ENOMEM;
        if (parse_unsigned(s, &n) < 0)
                return -EINVAL;
        return asprintf(ret, "%u", n) < 0 ? -ENOMEM : 0;
}

static int parse_bool_01(const char *s, char **ret) {
        bool b;

        if (parse_boolean(s, &b) < 0)
                return -EINVAL;
        return (*ret = strdup(b ? "1" : "0")) ? 0 : -ENOMEM;
}

int config_parse_limit(const char *key, const char *value, void *field, char **ret_message) {
        static int (*const parsers[_LIMIT_MAX])(const char *, char **) = {
                [LIMIT_MEMORY_MAX] = parse_size,      [LIMIT_MEMORY_HIGH] = parse_size,
                [LIMIT_MEMORY_SWAP_MAX] = parse_size, [LIMIT_OOM_GROUP] = parse_bool_01,
                [LIMIT_PIDS_MAX] = parse_count,       [LIMIT_CPU_MAX] = parse_cpu_max,
                [LIMIT_CPU_WEIGHT] = parse_weight,    [LIMIT_IO_WEIGHT] = parse_weight,
                [LIMIT_HUGETLB_2MB_MAX] = parse_size,
        };
        char **slot = field;
        CgroupLimit l = _LIMIT_INVALID;
        char *v = NULL;
        int r;

        for (int i = 0; i < _LIMIT_MAX; i++)
                if (streq(key, cgroup_limit_key(i)))
                        l = i;
        assert(l >= 0);
        r = parsers[l](value, &v);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return value_invalid(ret_message, "invalid %s '%s'%s", key, value,
                                     l == LIMIT_CPU_MAX ? ": use 50%, 'QUOTA PERIOD' in µs, or max"
                                     : l == LIMIT_CPU_WEIGHT || l == LIMIT_IO_WEIGHT ? ": use 1 to 10000"
                                     : l == LIMIT_OOM_GROUP                          ? ": use yes or no"
                                     : l == LIMIT_PIDS_MAX                           ? ": use a number or max"
                                                           : ": use a size like 512M or 2G, or max");
        free(*slot);
        *slot = v;
        return 0;
}

/* limit_nofile = 1024 | 1024:4096 | infinity */
int config_parse_rlimit(const char *key, const char *value, void *field, char **ret_message) {
        ResourceLimit *rl = field;
        unsigned long long v[2];
        const char *parts[2] = { value, strchr(value, ':') };
        _cleanup_free_ char *first = strndup(value, parts[1] ? (size_t) (parts[1] - value) : strlen(value));

        if (!first)
                return -ENOMEM;
        parts[0] = first;
        if (parts[1])
                parts[1]++;
        for (int i = 0; i < 2; i++) {
                const char *p = parts[i] ?: parts[0];
                if (streq(p, "infinity")) {
                        v[i] = RLIM_INFINITY;
                        continue;
                }
                uint64_t x;
                if (safe_atou64(p, &x) < 0)
                        return value_invalid(ret_message, "invalid %s '%s': use N, SOFT:HARD or infinity", key, value);
                v[i] = x;
        }
        if (v[0] > v[1])
                return value_invalid(ret_message, "invalid %s '%s': the soft limit is above the hard one", key, value);
        *rl = (ResourceLimit) { .set = true, .soft = v[0], .hard = v[1] };
        return 0;
}

int config_parse_names(const char *key, const char *value, void *field, char **ret_message) {
        _cleanup_strv_free_ char **words = NULL;
        int r;

        r = strv_split_words(value, &words, /* ret_error= */ NULL);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return value_invalid(ret_message, "invalid %s '%s'", key, value);
        for (char **w = words; *w; w++) {
                if (!env_name_is_valid(*w, strlen(*w)))
                        return value_invalid(ret_message, "invalid variable name '%s' in %s", *w, key);
                if (strv_extend(field, *w) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* A size ("64K", "1.5M", a number of bytes) into *ret; "max" and
 * "infinity" are UINT64_MAX. */
static int parse_bytes(const char *value, uint64_t *ret) {
        _cleanup_free_ char *v = NULL;
        int r = parse_size(value, &v);

        if (r < 0)
                return r;
        if (streq(v, "max")) {
                *ret = UINT64_MAX;
                return 0;
        }
        return safe_atou64(v, ret);
}

int config_parse_log_buffer(const char *key, const char *value, void *field, char **ret_message) {
        uint64_t n;
        int r = parse_bytes(value, &n);

        if (r == -ENOMEM)
                return r;
        if (r < 0 || n < CONFIG_LOG_BUFFER_MIN || n > CONFIG_LOG_BUFFER_MAX)
                return value_invalid(ret_message, "invalid %s '%s': use a size from 4K to 256M", key, value);
        *(uint32_t *) field = (uint32_t) n; /* ServiceConfig's log_buffer: at most 256M */
        return 0;
}

int config_parse_output_max_size(const char *key, const char *value, void *field, char **ret_message) {
        uint64_t n;
        int r = parse_bytes(value, &n);

        if (r == -ENOMEM)
                return r;
        if (r < 0 || (n > 0 && n < CONFIG_OUTPUT_MAX_SIZE_MIN))
                return value_invalid(ret_message, "invalid %s '%s': use a size of at least 64K, or 0 (no rotation)",
                                     key, value);
        *(uint64_t *) field = n == UINT64_MAX ? 0 : n;
        return 0;
}

int config_parse_output_max_files(const char *key, const char *value, void *field, char **ret_message) {
        unsigned n;

        if (parse_unsigned(value, &n) < 0 || n == 0 || n > CONFIG_OUTPUT_MAX_FILES_MAX)
                return value_invalid(ret_message, "invalid %s '%s': use 1 to %u", key, value,
                                     CONFIG_OUTPUT_MAX_FILES_MAX);
        *(unsigned *) field = n;
        return 0;
}

int config_parse_output_stderr(const char *key, const char *value, void *field, char **ret_message) {
        if (streq(value, "output")) {
                *(char **) field = mfree(*(char **) field);
                return 0;
        }
        if (!strneq(value, "file:", 5) || value[5] != '/')
                return value_invalid(ret_message, "invalid %s '%s': use file:/absolute/path, or output", key, value);
        return set_string(field, value + 5);
}

/* NAME, or NAME@N with N a number as corrald writes it (no leading zero). */
static bool unit_name_is_valid(const char *s) {
        const char *at = strchr(s, '@');
        _cleanup_free_ char *service = NULL;

        if (!at)
                return config_name_is_valid(s);
        service = strndup(s, (size_t) (at - s));
        if (!service)
                return false;
        if (!config_name_is_valid(service) || at[1] == '\0' || (at[1] == '0' && at[2] != '\0'))
                return false;
        for (const char *p = at + 1; *p; p++)
                if (*p < '0' || *p > '9')
                        return false;
        return strlen(at + 1) <= 4;
}

int config_parse_unit_names(const char *key, const char *value, void *field, char **ret_message) {
        _cleanup_strv_free_ char **words = NULL;
        int r;

        r = strv_split_words(value, &words, /* ret_error= */ NULL);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return value_invalid(ret_message, "invalid %s '%s'", key, value);
        for (char **w = words; *w; w++) {
                if (!unit_name_is_valid(*w))
                        return value_invalid(ret_message,
                                             "invalid name '%s' in %s: a service (NAME) or an instance (NAME@N)", *w,
                                             key);
                if (strv_extend(field, *w) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int config_parse_environment_files(const char *key, const char *value, void *field, char **ret_message) {
        _cleanup_strv_free_ char **words = NULL;
        int r;

        r = split_words(key, value, &words, ret_message);
        if (r < 0)
                return r;
        for (char **w = words; *w; w++) {
                const char *path = *w + (**w == '-');
                if (path[0] != '/')
                        return value_invalid(ret_message,
                                             "invalid %s '%s': an absolute path (optional with '-' before it)", key,
                                             *w);
                if (strv_extend(field, *w) < 0)
                        return -ENOMEM;
        }
        return 0;
}

char *config_value_escape(const char *s) {
        size_t n = 0;
        char *out, *o;

        for (const char *p = s; *p; p++)
                n += *p == '$' ? 2 : 1;
        out = o = malloc(n + 1);
        if (!out)
                return NULL;
        for (const char *p = s; *p; p++) {
                if (*p == '$')
                        *o++ = '$';
                *o++ = *p;
        }
        *o = '\0';
        return out;
}

int config_value_escape_append(char ***l, const char *s) {
        char *x = config_value_escape(s);
        int r;

        if (!x)
                return -ENOMEM;
        r = strv_consume(l, x);
        if (r < 0)
                free(x);
        return r;
}
