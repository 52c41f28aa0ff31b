/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <ini.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <assert.h>
#include <limits.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>

#include "cgroup.h"
#include "fileio.h"
#include "parse-util.h"
#include "ports.h"
#include "strv.h"

/* The longest line accepted. inih's line buffer (ini_max_line) must hold
 * the line, "\r\n" and the terminating NUL; a longer line would be split
 * silently by inih and its tail parsed as a line of its own. */
#define CONFIG_LINE_MAX 65532U
#define CONFIG_INI_MAX_LINE 65536

/* Room for the keys of the largest section, for duplicate detection. */
#define CONFIG_KEYS_MAX 64

/* ---- string tables ---- */

static const char *const kill_mode_table[_KILL_MODE_MAX] = {
        [KILL_MODE_CONTROL_GROUP] = "control-group",
        [KILL_MODE_MIXED] = "mixed",
};

static const char *const restart_policy_table[_RESTART_POLICY_MAX] = {
        [RESTART_ALWAYS] = "always",
        [RESTART_ON_FAILURE] = "on-failure",
        [RESTART_NEVER] = "never",
};

static const char *const ready_mode_table[_READY_MODE_MAX] = {
        [READY_EXEC] = "exec",
        [READY_NOTIFY] = "notify",
        [READY_HEALTH] = "health",
};

static const char *const exit_type_table[_EXIT_TYPE_MAX] = {
        [EXIT_TYPE_MAIN] = "main",
        [EXIT_TYPE_CGROUP] = "cgroup",
};

static const char *const output_kind_table[_OUTPUT_KIND_MAX] = {
        [OUTPUT_AUTO] = "auto",     [OUTPUT_JOURNAL] = "journal", [OUTPUT_INHERIT] = "inherit",
        [OUTPUT_NULL] = "null",     [OUTPUT_FILE] = "file",
};

static const char *const log_target_table[_LOG_TARGET_MAX] = {
        [LOG_TARGET_AUTO] = "auto",
        [LOG_TARGET_JOURNAL] = "journal",
        [LOG_TARGET_STDERR] = "stderr",
};

static int string_table_lookup(const char *const *table, size_t n, const char *s) {
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (table[i] && streq(table[i], s))
                        return (int) i;
        return -EINVAL;
}

const char *kill_mode_to_string(KillMode m) {
        if (m < 0 || m >= _KILL_MODE_MAX)
                return NULL;
        return kill_mode_table[m];
}

KillMode kill_mode_from_string(const char *s) {
        return (KillMode) string_table_lookup(kill_mode_table, ELEMENTSOF(kill_mode_table), s);
}

const char *restart_policy_to_string(RestartPolicy p) {
        if (p < 0 || p >= _RESTART_POLICY_MAX)
                return NULL;
        return restart_policy_table[p];
}

RestartPolicy restart_policy_from_string(const char *s) {
        return (RestartPolicy) string_table_lookup(restart_policy_table,
                                                   ELEMENTSOF(restart_policy_table), s);
}

static const char *string_table_get(const char *const *table, size_t n, int i) {
        return i >= 0 && (size_t) i < n ? table[i] : NULL;
}

const char *ready_mode_to_string(ReadyMode m) {
        return string_table_get(ready_mode_table, ELEMENTSOF(ready_mode_table), m);
}

const char *exit_type_to_string(ExitType t) {
        return string_table_get(exit_type_table, ELEMENTSOF(exit_type_table), t);
}

const char *output_kind_to_string(OutputKind k) {
        return string_table_get(output_kind_table, ELEMENTSOF(output_kind_table), k);
}

const char *log_target_to_string(LogTarget t) {
        return string_table_get(log_target_table, ELEMENTSOF(log_target_table), t);
}

/* ---- objects ---- */

ServiceConfig *service_config_ref(ServiceConfig *s) {
        s->n_ref++;
        return s;
}

static ServiceConfig *service_config_free(ServiceConfig *s) {
        if (!s)
                return NULL;
        if (--s->n_ref > 0)
                return NULL;
        free(s->name);
        free(s->file);
        strv_free(s->command);
        free(s->directory);
        strv_free(s->environment);
        free(s->user);
        free(s->group);
        free(s->output_path);
        free(s->health_url);
        for (int i = 0; i < _LIMIT_MAX; i++)
                free(s->limit[i]);
        strv_free(s->environment_inherit);
        free(s);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(ServiceConfig *, service_config_free);

ServiceConfig *service_config_unref(ServiceConfig *s) {
        return service_config_free(s);
}

ServiceConfig *service_config_new(const char *name, const char *file, unsigned line) {
        _cleanup_(service_config_freep) ServiceConfig *s = NULL;

        s = malloc(sizeof(ServiceConfig));
        if (!s)
                return NULL;
        *s = (ServiceConfig) {
                .n_ref = 1,
                .line = line,
                .umask = 0022,
                .autostart = true,
                .stop_signal = SIGTERM,
                .stop_timeout = 10 * USEC_PER_SEC,
                .kill_mode = KILL_MODE_CONTROL_GROUP,
                .restart = RESTART_ON_FAILURE,
                .restart_delay = 100 * USEC_PER_MSEC,
                .restart_delay_max = 30 * USEC_PER_SEC,
                .restart_reset = 60 * USEC_PER_SEC,
                .start_limit_burst = 10,
                .start_limit_interval = 60 * USEC_PER_SEC,
                .ready = READY_EXEC,
                .start_timeout = 90 * USEC_PER_SEC,
                .health_interval = 10 * USEC_PER_SEC,
                .health_timeout = 2 * USEC_PER_SEC,
                .health_threshold = 3,
        };
        (void) health_status_parse("200-299", &s->health_status);
        s->name = strdup(name);
        s->file = strdup(file);
        if (!s->name || !s->file)
                return NULL;
        return TAKE_PTR(s);
}

Config *config_free(Config *c) {
        if (!c)
                return NULL;
        free(c->cgroup);
        free(c->control_socket);
        free(c->state_dir);
        free(c->control_group);
        free(c->job_group);
        for (size_t i = 0; i < c->n_services; i++)
                service_config_free(c->services[i]);
        free(c->services);
        free(c);
        return NULL;
}

static Config *config_new(void) {
        _cleanup_(config_freep) Config *c = NULL;

        c = calloc(1, sizeof(Config));
        if (!c)
                return NULL;
        c->log_level = LOG_INFO;
        c->control_timeout = 30 * USEC_PER_SEC;
        c->port_min = 30000;
        c->port_max = 31000;
        c->control_socket = strdup(CONFIG_DEFAULT_CONTROL_SOCKET);
        c->state_dir = strdup(CONFIG_DEFAULT_STATE_DIR);
        if (!c->control_socket || !c->state_dir)
                return NULL;
        return TAKE_PTR(c);
}

static int config_add_service(Config *c, ServiceConfig *s) {
        ServiceConfig **l;

        l = reallocarray(c->services, c->n_services + 1, sizeof(ServiceConfig *));
        if (!l)
                return -ENOMEM;
        l[c->n_services++] = s;
        c->services = l;
        return 0;
}

ServiceConfig *config_find_service(const Config *c, const char *name) {
        for (size_t i = 0; i < c->n_services; i++)
                if (streq(c->services[i]->name, name))
                        return c->services[i];
        return NULL;
}

bool config_name_is_valid(const char *name) {
        size_t n;

        if (!name)
                return false;
        n = strlen(name);
        return n >= 1 && n <= CONFIG_NAME_MAX &&
               strspn(name, "abcdefghijklmnopqrstuvwxyz"
                            "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                            "0123456789_-") == n;
}

/* ---- value parsers ----
 *
 * Each parses value for key into the field it is given. On failure it
 * returns -EINVAL with a message (without FILE:LINE:) in *ret_message, or
 * -ENOMEM. */

typedef int (*ConfigParseFunc)(const char *key, const char *value, void *field,
                               char **ret_message);

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

static int config_parse_absolute_path(const char *key, const char *value, void *field,
                                      char **ret_message) {
        if (value[0] != '/')
                return value_invalid(ret_message, "%s '%s' is not an absolute path", key, value);
        return set_string(field, value);
}

static int config_parse_cgroup(const char *key, const char *value, void *field,
                               char **ret_message) {
        /* below the root: corrald never owns the whole hierarchy */
        if (!cgroup_path_is_valid(value) || streq(value, "/"))
                return value_invalid(ret_message,
                               "invalid %s path '%s': expected an absolute path like /corral "
                               "without '.', '..' or empty components",
                               key, value);
        return set_string(field, value);
}

static int config_parse_log_level(const char *key, const char *value, void *field,
                                  char **ret_message) {
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
        return value_invalid(ret_message, "invalid %s '%s': use err, warning, notice, info or debug",
                       key, value);
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

static int config_parse_directory(const char *key, const char *value, void *field, char **ret_message) {
        int r = check_variables(key, value, ret_message);
        if (r < 0)
                return r;
        return config_parse_absolute_path(key, value, field, ret_message);
}

static int config_parse_command(const char *key, const char *value, void *field,
                                char **ret_message) {
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
                return value_invalid(ret_message, "invalid environment entry '%s': expected KEY=VALUE",
                               word);
        if (!env_name_is_valid(word, (size_t) (eq - word)))
                return value_invalid(ret_message,
                               "invalid environment variable name '%.*s': use letters, digits "
                               "and '_', not starting with a digit",
                               (int) (eq - word), word);
        return strv_env_set(env, word);
}

static int config_parse_environment(const char *key, const char *value, void *field,
                                    char **ret_message) {
        _cleanup_strv_free_ char **words = NULL;
        const char *error = NULL;
        int r;

        r = strv_split_words(value, &words, &error);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return value_invalid(ret_message, "invalid %s: %s", key, error ?: "cannot split words");
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
static int config_parse_user_group(const char *key, const char *value, void *field,
                                   char **ret_message) {
        for (const char *p = value; *p; p++)
                if ((unsigned char) *p <= ' ' || *p == 0x7f || *p == ':' || *p == '/')
                        return value_invalid(ret_message,
                                       "invalid %s '%s': no blanks, control characters, ':' or '/'",
                                       key, value);
        return set_string(field, value);
}

static int config_parse_umask(const char *key, const char *value, void *field,
                              char **ret_message) {
        if (parse_mode(value, field) < 0)
                return value_invalid(ret_message, "invalid %s '%s': expected an octal mode up to 0777",
                               key, value);
        return 0;
}

static int config_parse_bool(const char *key, const char *value, void *field,
                             char **ret_message) {
        if (parse_boolean(value, field) < 0)
                return value_invalid(ret_message, "invalid boolean '%s' for %s: use yes or no", value,
                               key);
        return 0;
}

static int config_parse_signal(const char *key, const char *value, void *field,
                               char **ret_message) {
        if (parse_signal(value, field) < 0)
                return value_invalid(ret_message, "invalid signal '%s' for %s", value, key);
        return 0;
}

static int config_parse_timespan(const char *key, const char *value, void *field,
                                 char **ret_message) {
        int r;

        r = parse_timespan(value, field);
        if (r == -ERANGE)
                return value_invalid(ret_message, "time span '%s' for %s is too large", value, key);
        if (r < 0)
                return value_invalid(ret_message, "invalid time span '%s' for %s", value, key);
        return 0;
}

static int config_parse_kill_mode(const char *key, const char *value, void *field,
                                  char **ret_message) {
        KillMode m = kill_mode_from_string(value);

        if (m < 0)
                return value_invalid(ret_message, "invalid %s '%s': use control-group or mixed", key,
                               value);
        *(KillMode *) field = m;
        return 0;
}

static int config_parse_restart(const char *key, const char *value, void *field,
                                char **ret_message) {
        RestartPolicy p = restart_policy_from_string(value);

        if (p < 0)
                return value_invalid(ret_message, "invalid %s '%s': use always, on-failure or never",
                               key, value);
        *(RestartPolicy *) field = p;
        return 0;
}

static int config_parse_table(const char *key, const char *value, void *field, char **ret_message,
                              const char *const *table, size_t n) {
        int i = string_table_lookup(table, n, value);

        if (i < 0) {
                _cleanup_free_ char *choices = NULL;
                size_t size = 0;
                FILE *f = open_memstream(&choices, &size);
                if (!f)
                        return -ENOMEM;
                for (size_t k = 0; k < n; k++)
                        if (table[k])
                                fprintf(f, "%s%s", k > 0 ? ", " : "", table[k]);
                if (fclose(f) != 0)
                        return -ENOMEM;
                return value_invalid(ret_message, "invalid %s '%s': use %s", key, value, choices);
        }
        *(int *) field = i;
        return 0;
}

static int config_parse_ready(const char *key, const char *value, void *field, char **ret_message) {
        return config_parse_table(key, value, field, ret_message, ready_mode_table, ELEMENTSOF(ready_mode_table));
}

static int config_parse_exit_type(const char *key, const char *value, void *field, char **ret_message) {
        return config_parse_table(key, value, field, ret_message, exit_type_table, ELEMENTSOF(exit_type_table));
}

static int config_parse_log_target(const char *key, const char *value, void *field, char **ret_message) {
        return config_parse_table(key, value, field, ret_message, log_target_table, ELEMENTSOF(log_target_table));
}

/* output = journal | inherit | null | file:PATH (the offset is of .output;
 * the path goes to .output_path right after it). */
static int config_parse_output(const char *key, const char *value, void *field, char **ret_message) {
        ServiceConfig *s = (ServiceConfig *) ((char *) field - offsetof(ServiceConfig, output));

        if (strneq(value, "file:", 5)) {
                if (value[5] != '/')
                        return value_invalid(ret_message, "invalid %s '%s': file: needs an absolute path", key,
                                             value);
                s->output = OUTPUT_FILE;
                return set_string(&s->output_path, value + 5);
        }
        if (streq(value, "file"))
                return value_invalid(ret_message, "invalid %s 'file': write file:/absolute/path", key);
        return config_parse_table(key, value, field, ret_message, output_kind_table, ELEMENTSOF(output_kind_table));
}

static int config_parse_positive(const char *key, const char *value, void *field, char **ret_message) {
        unsigned n;

        if (parse_unsigned(value, &n) < 0 || n == 0)
                return value_invalid(ret_message, "invalid %s '%s': expected a positive number", key, value);
        *(unsigned *) field = n;
        return 0;
}

static int config_parse_instances(const char *key, const char *value, void *field, char **ret_message) {
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
static int config_parse_prevent(const char *key, const char *value, void *field, char **ret_message) {
        ServiceConfig *s = (ServiceConfig *) ((char *) field - offsetof(ServiceConfig, prevent_exit_status));
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

bool service_config_prevents_restart(const ServiceConfig *s, int code, int status) {
        if (code == CLD_EXITED)
                return status >= 0 && status <= 255 && (s->prevent_exit_status[status / 64] >> (status % 64)) & 1;
        if (code == CLD_KILLED || code == CLD_DUMPED)
                return status > 0 && status < 64 && (s->prevent_exit_signal >> status) & 1;
        return false;
}

static bool strv_equal(char * const *a, char * const *b) {
        size_t n = strv_length(a);

        if (n != strv_length(b))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!streq(a[i], b[i]))
                        return false;
        return true;
}

bool service_config_equal(const ServiceConfig *a, const ServiceConfig *b) {
        return streq(a->name, b->name) && strv_equal(a->command, b->command) &&
               streq_ptr(a->directory, b->directory) && strv_equal(a->environment, b->environment) &&
               streq_ptr(a->user, b->user) && streq_ptr(a->group, b->group) && a->umask == b->umask &&
               a->autostart == b->autostart && a->stop_signal == b->stop_signal &&
               a->stop_timeout == b->stop_timeout && a->kill_mode == b->kill_mode && a->restart == b->restart &&
               a->restart_delay == b->restart_delay && a->restart_delay_max == b->restart_delay_max &&
               a->restart_reset == b->restart_reset && a->start_limit_burst == b->start_limit_burst &&
               a->start_limit_interval == b->start_limit_interval &&
               memcmp(a->prevent_exit_status, b->prevent_exit_status, sizeof(a->prevent_exit_status)) == 0 &&
               a->prevent_exit_signal == b->prevent_exit_signal && a->ready == b->ready &&
               a->start_timeout == b->start_timeout && a->watchdog_timeout == b->watchdog_timeout &&
               a->runtime_max == b->runtime_max && a->port_mode == b->port_mode && a->port == b->port &&
               streq_ptr(a->health_url, b->health_url) && a->health_interval == b->health_interval &&
               a->health_timeout == b->health_timeout && a->health_threshold == b->health_threshold &&
               a->health_grace == b->health_grace && a->no_new_privs == b->no_new_privs &&
               memcmp(a->rlimit, b->rlimit, sizeof(a->rlimit)) == 0 &&
               strv_equal(a->environment_inherit, b->environment_inherit) &&
               memcmp(&a->health_status, &b->health_status, sizeof(a->health_status)) == 0 &&
               a->exit_type == b->exit_type && a->output == b->output &&
               streq_ptr(a->output_path, b->output_path);
}

static int config_parse_port_range(const char *key, const char *value, void *field, char **ret_message) {
        Config *c = (Config *) ((char *) field - offsetof(Config, port_min));

        if (ports_parse_range(value, &c->port_min, &c->port_max) < 0)
                return value_invalid(ret_message, "invalid %s '%s': expected LOW-HIGH within 1-65535", key, value);
        return 0;
}

static int config_parse_port(const char *key, const char *value, void *field, char **ret_message) {
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

static int config_parse_health_url(const char *key, const char *value, void *field, char **ret_message) {
        int r;

        if (!strneq(value, "http://", 7) && !strneq(value, "https://", 8))
                return value_invalid(ret_message, "invalid %s '%s': expected an http:// or https:// URL", key, value);
        r = check_variables(key, value, ret_message);
        if (r < 0)
                return r;
        return set_string(field, value);
}

static int config_parse_health_status(const char *key, const char *value, void *field, char **ret_message) {
        if (health_status_parse(value, field) < 0)
                return value_invalid(ret_message,
                                     "invalid %s '%s': expected codes and ranges within 100-599, like 200-299 301",
                                     key, value);
        return 0;
}

/* ---- limits ---- */

static const struct {
        const char *key, *controller, *file;
} limit_table[_LIMIT_MAX] = {
        [LIMIT_MEMORY_MAX] = { "memory_max", "memory", "memory.max" },
        [LIMIT_MEMORY_HIGH] = { "memory_high", "memory", "memory.high" },
        [LIMIT_MEMORY_SWAP_MAX] = { "memory_swap_max", "memory", "memory.swap.max" },
        [LIMIT_OOM_GROUP] = { "oom_group", "memory", "memory.oom.group" },
        [LIMIT_PIDS_MAX] = { "pids_max", "pids", "pids.max" },
        [LIMIT_CPU_MAX] = { "cpu_max", "cpu", "cpu.max" },
        [LIMIT_CPU_WEIGHT] = { "cpu_weight", "cpu", "cpu.weight" },
        [LIMIT_IO_WEIGHT] = { "io_weight", "io", "io.weight" },
        [LIMIT_HUGETLB_2MB_MAX] = { "hugetlb_2mb_max", "hugetlb", "hugetlb.2MB.max" },
};

const char *cgroup_limit_key(CgroupLimit l) {
        return l >= 0 && l < _LIMIT_MAX ? limit_table[l].key : NULL;
}

const char *cgroup_limit_controller(CgroupLimit l) {
        return l >= 0 && l < _LIMIT_MAX ? limit_table[l].controller : NULL;
}

const char *cgroup_limit_file(CgroupLimit l) {
        return l >= 0 && l < _LIMIT_MAX ? limit_table[l].file : NULL;
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
        if (*s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        whole = strtoull(s, &end, 10);
        if (errno != 0)
                return -ERANGE;
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
        char *end;

        if (streq(s, "max"))
                return (*ret = strdup("max 100000")) ? 0 : -ENOMEM;
        errno = 0;
        unsigned long pct = strtoul(s, &end, 10);
        if (errno == 0 && end != s && streq(end, "%") && pct > 0 && pct <= 100000)
                return asprintf(ret, "%lu 100000", pct * 1000) < 0 ? -ENOMEM : 0;
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

static int config_parse_limit(const char *key, const char *value, void *field, char **ret_message) {
        static int (*const parsers[_LIMIT_MAX])(const char *, char **) = {
                [LIMIT_MEMORY_MAX] = parse_size,     [LIMIT_MEMORY_HIGH] = parse_size,
                [LIMIT_MEMORY_SWAP_MAX] = parse_size, [LIMIT_OOM_GROUP] = parse_bool_01,
                [LIMIT_PIDS_MAX] = parse_count,      [LIMIT_CPU_MAX] = parse_cpu_max,
                [LIMIT_CPU_WEIGHT] = parse_weight,   [LIMIT_IO_WEIGHT] = parse_weight,
                [LIMIT_HUGETLB_2MB_MAX] = parse_size,
        };
        char **slot = field;
        CgroupLimit l = _LIMIT_INVALID;
        char *v = NULL;
        int r;

        for (int i = 0; i < _LIMIT_MAX; i++)
                if (streq(key, limit_table[i].key))
                        l = i;
        assert(l >= 0);
        r = parsers[l](value, &v);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return value_invalid(ret_message, "invalid %s '%s'%s", key, value,
                                     l == LIMIT_CPU_MAX    ? ": use 50%, 'QUOTA PERIOD' in µs, or max"
                                     : l == LIMIT_CPU_WEIGHT || l == LIMIT_IO_WEIGHT ? ": use 1 to 10000"
                                     : l == LIMIT_OOM_GROUP ? ": use yes or no"
                                     : l == LIMIT_PIDS_MAX  ? ": use a number or max"
                                                            : ": use a size like 512M or 2G, or max");
        free(*slot);
        *slot = v;
        return 0;
}

static void hash_str(uint64_t *h, const char *s) {
        for (const char *p = s ?: "\x01"; *p; p++)
                *h = (*h ^ (uint8_t) *p) * 1099511628211ULL;
        *h = (*h ^ 0xff) * 1099511628211ULL; /* separator */
}

static void hash_strv(uint64_t *h, char * const *l) {
        for (char * const *p = l; p && *p; p++)
                hash_str(h, *p);
        hash_str(h, "\x02");
}

static void hash_bytes(uint64_t *h, const void *data, size_t n) {
        for (size_t i = 0; i < n; i++)
                *h = (*h ^ ((const uint8_t *) data)[i]) * 1099511628211ULL;
}

uint64_t service_config_hash(const ServiceConfig *s) {
        uint64_t h = 14695981039346656037ULL; /* FNV-1a 64 */
        const uint64_t numbers[] = {
                s->umask, s->autostart, (uint64_t) s->stop_signal, s->stop_timeout, (uint64_t) s->kill_mode,
                (uint64_t) s->restart, s->restart_delay, s->restart_delay_max, s->restart_reset,
                s->start_limit_burst, s->start_limit_interval, s->prevent_exit_signal, (uint64_t) s->ready,
                s->start_timeout, s->watchdog_timeout, s->runtime_max, (uint64_t) s->exit_type, (uint64_t) s->output,
                (uint64_t) s->port_mode, s->port, s->health_interval, s->health_timeout, s->health_threshold,
                s->health_grace, s->no_new_privs,
        };

        hash_str(&h, s->name);
        hash_strv(&h, s->command);
        hash_str(&h, s->directory);
        hash_strv(&h, s->environment);
        hash_str(&h, s->user);
        hash_str(&h, s->group);
        hash_str(&h, s->output_path);
        hash_str(&h, s->health_url);
        hash_strv(&h, s->environment_inherit);
        hash_bytes(&h, numbers, sizeof(numbers));
        hash_bytes(&h, s->prevent_exit_status, sizeof(s->prevent_exit_status));
        hash_bytes(&h, &s->health_status, sizeof(s->health_status));
        for (int i = 0; i < CONFIG_RLIMIT_MAX; i++)
                if (s->rlimit[i].set) {
                        uint64_t v[3] = { (uint64_t) i, s->rlimit[i].soft, s->rlimit[i].hard };
                        hash_bytes(&h, v, sizeof(v));
                }
        return h;
}

bool service_config_limits_equal(const ServiceConfig *a, const ServiceConfig *b) {
        for (int i = 0; i < _LIMIT_MAX; i++)
                if (!streq_ptr(a->limit[i], b->limit[i]))
                        return false;
        return a->limits_required == b->limits_required;
}

/* limit_nofile = 1024 | 1024:4096 | infinity */
static int config_parse_rlimit(const char *key, const char *value, void *field, char **ret_message) {
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
                char *end;
                if (streq(p, "infinity")) {
                        v[i] = RLIM_INFINITY;
                        continue;
                }
                errno = 0;
                v[i] = strtoull(p, &end, 10);
                if (errno != 0 || end == p || *end != '\0' || *p == '-')
                        return value_invalid(ret_message, "invalid %s '%s': use N, SOFT:HARD or infinity", key, value);
        }
        if (v[0] > v[1])
                return value_invalid(ret_message, "invalid %s '%s': the soft limit is above the hard one", key, value);
        *rl = (ResourceLimit) { .set = true, .soft = v[0], .hard = v[1] };
        return 0;
}

static int config_parse_names(const char *key, const char *value, void *field, char **ret_message) {
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

/* ---- key tables ---- */

typedef struct ConfigKey {
        const char *key;
        ConfigParseFunc parse;
        size_t offset;     /* of the field in Config or ServiceConfig */
        bool repeatable;   /* may appear more than once per section */
        bool allow_empty;
} ConfigKey;

#define CORRAL_KEY(k, f, field) { .key = k, .parse = f, .offset = offsetof(Config, field) }
#define PROGRAM_KEY(k, f, field) { .key = k, .parse = f, .offset = offsetof(ServiceConfig, field) }

static const ConfigKey corral_keys[] = {
        CORRAL_KEY("cgroup", config_parse_cgroup, cgroup),
        CORRAL_KEY("control_socket", config_parse_absolute_path, control_socket),
        CORRAL_KEY("state_dir", config_parse_absolute_path, state_dir),
        CORRAL_KEY("log_level", config_parse_log_level, log_level),
        CORRAL_KEY("log_target", config_parse_log_target, log_target),
        CORRAL_KEY("control_group", config_parse_user_group, control_group),
        CORRAL_KEY("job_group", config_parse_user_group, job_group),
        CORRAL_KEY("status_public", config_parse_bool, status_public),
        CORRAL_KEY("control_timeout", config_parse_timespan, control_timeout),
        CORRAL_KEY("port_range", config_parse_port_range, port_min),
};

static const ConfigKey program_keys[] = {
        PROGRAM_KEY("command", config_parse_command, command),
        PROGRAM_KEY("directory", config_parse_directory, directory),
        { .key = "environment",
          .parse = config_parse_environment,
          .offset = offsetof(ServiceConfig, environment),
          .repeatable = true,
          .allow_empty = true },
        PROGRAM_KEY("user", config_parse_user_group, user),
        PROGRAM_KEY("group", config_parse_user_group, group),
        PROGRAM_KEY("umask", config_parse_umask, umask),
        PROGRAM_KEY("autostart", config_parse_bool, autostart),
        PROGRAM_KEY("stop_signal", config_parse_signal, stop_signal),
        PROGRAM_KEY("stop_timeout", config_parse_timespan, stop_timeout),
        PROGRAM_KEY("kill_mode", config_parse_kill_mode, kill_mode),
        PROGRAM_KEY("restart", config_parse_restart, restart),
        PROGRAM_KEY("restart_delay", config_parse_timespan, restart_delay),
        PROGRAM_KEY("restart_delay_max", config_parse_timespan, restart_delay_max),
        PROGRAM_KEY("restart_reset", config_parse_timespan, restart_reset),
        PROGRAM_KEY("start_limit_burst", config_parse_positive, start_limit_burst),
        PROGRAM_KEY("start_limit_interval", config_parse_timespan, start_limit_interval),
        PROGRAM_KEY("restart_prevent_exit_status", config_parse_prevent, prevent_exit_status),
        PROGRAM_KEY("ready", config_parse_ready, ready),
        PROGRAM_KEY("start_timeout", config_parse_timespan, start_timeout),
        PROGRAM_KEY("watchdog_timeout", config_parse_timespan, watchdog_timeout),
        PROGRAM_KEY("runtime_max", config_parse_timespan, runtime_max),
        PROGRAM_KEY("exit_type", config_parse_exit_type, exit_type),
        PROGRAM_KEY("instances", config_parse_instances, instances),
        PROGRAM_KEY("output", config_parse_output, output),
        PROGRAM_KEY("port", config_parse_port, port_mode),
        PROGRAM_KEY("health_url", config_parse_health_url, health_url),
        PROGRAM_KEY("health_interval", config_parse_timespan, health_interval),
        PROGRAM_KEY("health_timeout", config_parse_timespan, health_timeout),
        PROGRAM_KEY("health_threshold", config_parse_positive, health_threshold),
        PROGRAM_KEY("health_grace", config_parse_timespan, health_grace),
        PROGRAM_KEY("health_status", config_parse_health_status, health_status),
        PROGRAM_KEY("memory_max", config_parse_limit, limit[LIMIT_MEMORY_MAX]),
        PROGRAM_KEY("memory_high", config_parse_limit, limit[LIMIT_MEMORY_HIGH]),
        PROGRAM_KEY("memory_swap_max", config_parse_limit, limit[LIMIT_MEMORY_SWAP_MAX]),
        PROGRAM_KEY("oom_group", config_parse_limit, limit[LIMIT_OOM_GROUP]),
        PROGRAM_KEY("pids_max", config_parse_limit, limit[LIMIT_PIDS_MAX]),
        PROGRAM_KEY("cpu_max", config_parse_limit, limit[LIMIT_CPU_MAX]),
        PROGRAM_KEY("cpu_weight", config_parse_limit, limit[LIMIT_CPU_WEIGHT]),
        PROGRAM_KEY("io_weight", config_parse_limit, limit[LIMIT_IO_WEIGHT]),
        PROGRAM_KEY("hugetlb_2mb_max", config_parse_limit, limit[LIMIT_HUGETLB_2MB_MAX]),
        PROGRAM_KEY("limits_required", config_parse_bool, limits_required),
        PROGRAM_KEY("no_new_privs", config_parse_bool, no_new_privs),
        PROGRAM_KEY("limit_nofile", config_parse_rlimit, rlimit[RLIMIT_NOFILE]),
        PROGRAM_KEY("limit_core", config_parse_rlimit, rlimit[RLIMIT_CORE]),
        PROGRAM_KEY("limit_nproc", config_parse_rlimit, rlimit[RLIMIT_NPROC]),
        PROGRAM_KEY("limit_memlock", config_parse_rlimit, rlimit[RLIMIT_MEMLOCK]),
        PROGRAM_KEY("limit_stack", config_parse_rlimit, rlimit[RLIMIT_STACK]),
        PROGRAM_KEY("limit_as", config_parse_rlimit, rlimit[RLIMIT_AS]),
        PROGRAM_KEY("limit_fsize", config_parse_rlimit, rlimit[RLIMIT_FSIZE]),
        PROGRAM_KEY("limit_cpu", config_parse_rlimit, rlimit[RLIMIT_CPU]),
        { .key = "environment_inherit",
          .parse = config_parse_names,
          .offset = offsetof(ServiceConfig, environment_inherit),
          .repeatable = true },
};

_Static_assert(ELEMENTSOF(corral_keys) <= CONFIG_KEYS_MAX, "CONFIG_KEYS_MAX too small");
_Static_assert(ELEMENTSOF(program_keys) <= CONFIG_KEYS_MAX, "CONFIG_KEYS_MAX too small");

/* ---- the parser of one file ----
 *
 * inih reads through config_reader(), which also counts lines (inih's
 * handler gets none in this build) and spots section headers itself: inih
 * truncates section names to 49 bytes and says nothing about empty
 * sections. Parsing stops at the first error, recorded in the parser. */

typedef enum SectionKind {
        SECTION_NONE,
        SECTION_CORRAL,
        SECTION_PROGRAM,
} SectionKind;

typedef struct ConfigParser {
        Config *config;
        const char *filename;

        const char *buf;
        size_t len;
        size_t pos;
        unsigned line;      /* of the text last handed to inih */
        bool at_line_start;

        SectionKind section;
        ServiceConfig *service; /* for SECTION_PROGRAM */
        unsigned section_line;
        unsigned key_lines[CONFIG_KEYS_MAX]; /* where each key was set; 0: not yet */
        unsigned corral_line;                /* [corral] in this file; 0: none yet */

        int error_code;
        char *error;
} ConfigParser;

/* Records the first error: message (may be NULL after OOM) becomes
 * "FILE:LINE: message". Returns the recorded error code. */
static int parser_fail(ConfigParser *p, int code, unsigned line, const char *message) {
        if (p->error_code != 0)
                return p->error_code;

        p->error_code = code;
        if (message && asprintf(&p->error, "%s:%u: %s", p->filename, line, message) < 0) {
                p->error = NULL;
                p->error_code = -ENOMEM;
        }
        return p->error_code;
}

_printf_(3, 4) static int parser_errorf(ConfigParser *p, unsigned line, const char *format, ...) {
        _cleanup_free_ char *message = NULL;
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&message, format, ap);
        va_end(ap);
        if (r < 0)
                return parser_fail(p, -ENOMEM, line, /* message= */ NULL);
        return parser_fail(p, -EINVAL, line, message);
}

static bool strv_mentions(char * const *l, const char *needle) {
        for (char * const *p = l; p && *p; p++)
                if (strstr(*p, needle))
                        return true;
        return false;
}

/* ${PORT} needs a port; ready = health needs a health_url; a fixed port
 * cannot serve several instances. */
static int parser_check_service(ConfigParser *p, const ServiceConfig *s) {
        bool uses_port = strv_mentions(s->command, "${PORT}") || strv_mentions(s->environment, "${PORT}") ||
                         (s->directory && strstr(s->directory, "${PORT}")) ||
                         (s->health_url && strstr(s->health_url, "${PORT}"));

        if (uses_port && s->port_mode == PORT_NONE)
                return parser_errorf(p, p->section_line, "[program:%s] uses ${PORT} but has no port (port = auto)",
                                     s->name);
        if (s->ready == READY_HEALTH && !s->health_url)
                return parser_errorf(p, p->section_line, "[program:%s] has ready = health but no health_url",
                                     s->name);
        if (s->port_mode == PORT_FIXED && s->instances > 1)
                return parser_errorf(p, p->section_line,
                                     "[program:%s] has a fixed port but %u instances: use port = auto", s->name,
                                     s->instances);
        return 0;
}

static int parser_end_section(ConfigParser *p) {
        if (p->section != SECTION_PROGRAM)
                return 0;
        if (!p->service->command)
                return parser_errorf(p, p->section_line, "[program:%s] has no command",
                                     p->service->name);
        return parser_check_service(p, p->service);
}

static int parser_start_corral(ConfigParser *p) {
        if (p->corral_line > 0)
                return parser_errorf(p, p->line, "duplicate section [corral] (first at %s:%u)",
                                     p->filename, p->corral_line);
        p->corral_line = p->line;
        p->section = SECTION_CORRAL;
        return 0;
}

static int parser_start_program(ConfigParser *p, const char *name) {
        ServiceConfig *s;

        if (!config_name_is_valid(name))
                return parser_errorf(p, p->line,
                                     "invalid service name '%s': use letters, digits, '_' and "
                                     "'-', at most %d",
                                     name, CONFIG_NAME_MAX);
        if (streq(name, CONFIG_RESERVED_NAME))
                return parser_errorf(p, p->line,
                                     "service name '%s' is reserved: corrald's own cgroup has it", name);
        s = config_find_service(p->config, name);
        if (s)
                return parser_errorf(p, p->line, "duplicate section [program:%s] (first at %s:%u)",
                                     name, s->file, s->line);

        s = service_config_new(name, p->filename, p->line);
        if (!s || config_add_service(p->config, s) < 0) {
                service_config_free(s);
                return parser_fail(p, -ENOMEM, p->line, /* message= */ NULL);
        }
        p->service = s;
        p->section = SECTION_PROGRAM;
        return 0;
}

static int parser_start_section(ConfigParser *p, const char *name) {
        int r;

        r = parser_end_section(p);
        if (r < 0)
                return r;

        p->section = SECTION_NONE;
        p->service = NULL;
        p->section_line = p->line;
        memset(p->key_lines, 0, sizeof(p->key_lines));

        if (streq(name, "corral"))
                return parser_start_corral(p);
        if (strneq(name, "program:", strlen("program:")))
                return parser_start_program(p, name + strlen("program:"));
        return parser_errorf(p, p->line, "unknown section [%s]", name);
}

/* The blanks inih skips around a section header (isspace() but '\n'). */
static bool char_is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Looks at the line starting at p->pos, before inih sees it. A line whose
 * first non-blank is '[' and that holds a ']' is what inih takes for a
 * section header; one without ']' is left to inih, which calls it an
 * error. */
static int parser_line_start(ConfigParser *p) {
        const char *line = p->buf + p->pos, *nl, *s, *end;
        _cleanup_free_ char *name = NULL;
        size_t n;

        p->line++;
        nl = memchr(line, '\n', p->len - p->pos);
        n = nl ? (size_t) (nl - line) : p->len - p->pos;
        if (n > CONFIG_LINE_MAX)
                return parser_errorf(p, p->line, "line too long (%zu bytes, at most %u)", n,
                                     CONFIG_LINE_MAX);
        if (memchr(line, '\0', n))
                return parser_errorf(p, p->line, "NUL byte in line");

        for (s = line; s < line + n && char_is_blank(*s); s++)
                ;
        if (s == line + n || *s != '[')
                return 0;
        end = memchr(s, ']', (size_t) (line + n - s));
        if (!end)
                return 0;
        for (const char *t = end + 1; t < line + n; t++)
                if (!char_is_blank(*t))
                        return parser_errorf(p, p->line, "unexpected text after ']'");

        name = strndup(s + 1, (size_t) (end - s - 1));
        if (!name)
                return parser_fail(p, -ENOMEM, p->line, /* message= */ NULL);
        return parser_start_section(p, name);
}

/* An fgets()-like reader over the buffer, for ini_parse_stream(). */
static char *config_reader(char *str, int num, void *userdata) {
        ConfigParser *p = userdata;
        const char *nl;
        size_t n;

        if (p->error_code != 0 || p->pos >= p->len || num < 2)
                return NULL;
        if (p->at_line_start && parser_line_start(p) < 0)
                return NULL;

        n = MIN(p->len - p->pos, (size_t) num - 1);
        nl = memchr(p->buf + p->pos, '\n', n);
        if (nl)
                n = (size_t) (nl - (p->buf + p->pos)) + 1;
        memcpy(str, p->buf + p->pos, n);
        str[n] = '\0';
        p->pos += n;
        p->at_line_start = nl != NULL;
        return str;
}

static const ConfigKey *parser_find_key(const ConfigParser *p, const char *key, size_t *ret_index) {
        const ConfigKey *table = p->section == SECTION_CORRAL ? corral_keys : program_keys;
        size_t n = p->section == SECTION_CORRAL ? ELEMENTSOF(corral_keys) : ELEMENTSOF(program_keys);

        for (size_t i = 0; i < n; i++)
                if (streq(table[i].key, key)) {
                        *ret_index = i;
                        return &table[i];
                }
        return NULL;
}

static int parser_unknown_key(ConfigParser *p, const char *key) {
        if (p->section == SECTION_CORRAL)
                return parser_errorf(p, p->line, "unknown key '%s' in [corral]", key);
        return parser_errorf(p, p->line, "unknown key '%s' in [program:%s]", key,
                             p->service->name);
}

static int parser_assign(ConfigParser *p, const char *key, const char *value) {
        _cleanup_free_ char *message = NULL;
        const ConfigKey *k;
        size_t i;
        char *base;
        int r;

        if (p->section == SECTION_NONE)
                return parser_errorf(p, p->line, "key '%s' before any section", key);
        k = parser_find_key(p, key, &i);
        if (!k)
                return parser_unknown_key(p, key);
        if (p->key_lines[i] > 0 && !k->repeatable)
                return parser_errorf(p, p->line, "duplicate key '%s' (first at line %u)", key,
                                     p->key_lines[i]);
        if (value[0] == '\0' && !k->allow_empty)
                return parser_errorf(p, p->line, "empty value for '%s'", key);
        p->key_lines[i] = p->line;

        base = p->section == SECTION_CORRAL ? (char *) p->config : (char *) p->service;
        r = k->parse(k->key, value, base + k->offset, &message);
        if (r < 0 && !message && r != -ENOMEM)
                return parser_errorf(p, p->line, "invalid value '%s' for %s", value, key);
        if (r < 0)
                return parser_fail(p, r, p->line, message);
        return 0;
}

static int config_handler(void *userdata, _unused_ const char *section, const char *key,
                          const char *value) {
        ConfigParser *p = userdata;

        if (p->error_code != 0)
                return 0;
        return parser_assign(p, key, value) >= 0;
}

/* inih 55 as built by Debian reads its options from globals at run time. */
static void ini_setup(void) {
        static char comment_prefixes[] = ";#";

        ini_allow_multiline = false;
        ini_allow_bom = false; /* config_parse_buffer() skips a BOM itself */
        ini_start_comment_prefixes = comment_prefixes;
        ini_allow_inline_comments = false;
        ini_use_stack = false;
        ini_allow_realloc = true;
        ini_max_line = CONFIG_INI_MAX_LINE;
        ini_stop_on_first_error = true;
        ini_allow_no_value = false;
}

static int config_parse_buffer(Config *c, const char *filename, const char *buf, size_t len,
                               char **ret_error) {
        ConfigParser p = {
                .config = c,
                .filename = filename,
                .buf = buf,
                .len = len,
                .at_line_start = true,
        };
        int r;

        if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
                p.pos = 3;

        ini_setup();
        r = ini_parse_stream(config_reader, &p, config_handler, &p);
        if (p.error_code == 0 && r == -2)
                (void) parser_fail(&p, -ENOMEM, p.line, /* message= */ NULL);
        else if (p.error_code == 0 && r != 0)
                /* Stopping at the first error, inih fails on the line it last read. */
                (void) parser_errorf(&p, p.line,
                                     "syntax error, expected 'key = value' or '[section]'");
        else if (p.error_code == 0)
                (void) parser_end_section(&p);

        if (p.error_code != 0) {
                *ret_error = TAKE_PTR(p.error);
                return p.error_code;
        }
        return 0;
}

/* ---- files ---- */

/* Writes "FORMAT…" to *ret_error and returns r, or -ENOMEM. */
_printf_(3, 4) static int file_errorf(char **ret_error, int r, const char *format, ...) {
        va_list ap;
        int k;

        va_start(ap, format);
        k = vasprintf(ret_error, format, ap);
        va_end(ap);
        if (k < 0) {
                *ret_error = NULL;
                return -ENOMEM;
        }
        return r;
}

/* O_NONBLOCK keeps a FIFO from blocking the open; reads of a regular file
 * ignore it. -EBADFD: not a regular file. */
static int read_config_file(const char *path, char **ret, size_t *ret_len, struct stat *ret_st) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if ((uintmax_t) st.st_size > CONFIG_FILE_SIZE_MAX)
                return -EFBIG;
        *ret_st = st;
        return read_full_fd(fd, CONFIG_FILE_SIZE_MAX, ret, ret_len);
}

static int config_load_file(Config *c, const char *path, char **ret_error) {
        _cleanup_free_ char *buf = NULL;
        struct stat st = {};
        size_t len = 0;
        int r;

        r = read_config_file(path, &buf, &len, &st);
        if (r == -ENOMEM)
                return r;
        if (r == -EFBIG)
                return file_errorf(ret_error, r, "%s: file too large (more than %u bytes)", path,
                                   CONFIG_FILE_SIZE_MAX);
        if (r == -EBADFD)
                return file_errorf(ret_error, -EINVAL, "%s: not a regular file", path);
        if (r < 0)
                return file_errorf(ret_error, r, "%s: %s", path, strerror(-r));
        /* Root runs what the configuration says: only root may write it. */
        if (geteuid() == 0 && (st.st_uid != 0 || (st.st_mode & 022)))
                return file_errorf(ret_error, -EPERM,
                                   "%s: refusing a configuration owned by UID %u with mode %04o: it must be owned "
                                   "by root and not writable by group or others",
                                   path, (unsigned) st.st_uid, (unsigned) (st.st_mode & 07777));

        return config_parse_buffer(c, path, buf, len, ret_error);
}

static int dropin_filter(const struct dirent *de) {
        size_t n = strlen(de->d_name);

        return de->d_name[0] != '.' && n > strlen(".conf") &&
               streq(de->d_name + n - strlen(".conf"), ".conf");
}

static int dropin_compare(const struct dirent **a, const struct dirent **b) {
        return strcmp((*a)->d_name, (*b)->d_name);
}

static int dropin_paths(const char *dir, char ***paths) {
        struct dirent **entries = NULL;
        int n, r = 0;

        n = scandir(dir, &entries, dropin_filter, dropin_compare);
        if (n < 0)
                return errno == ENOENT ? 0 : -errno;

        for (int i = 0; i < n; i++) {
                char *path = NULL;

                if (r >= 0 && asprintf(&path, "%s/%s", dir, entries[i]->d_name) < 0)
                        r = -ENOMEM;
                if (r >= 0 && strv_consume(paths, path) < 0) {
                        free(path);
                        r = -ENOMEM;
                }
                free(entries[i]);
        }
        free(entries);
        return r;
}

static int config_default_files(char ***ret, char **ret_error) {
        _cleanup_strv_free_ char **files = NULL;
        int r;

        r = strv_extend(&files, CONFIG_DEFAULT_FILE);
        if (r < 0)
                return r;
        r = dropin_paths(CONFIG_DEFAULT_DROPIN_DIR, &files);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return file_errorf(ret_error, r, "%s: %s", CONFIG_DEFAULT_DROPIN_DIR, strerror(-r));

        *ret = TAKE_PTR(files);
        return 0;
}

/* On failure: the message of config_load() or "Out of memory". */
static int config_fail(int r, char *error, char **ret_error) {
        if (!error && r == -ENOMEM)
                error = strdup("Out of memory");
        if (ret_error)
                *ret_error = error;
        else
                free(error);
        return r;
}

/* Checks across services, once every file is read. */
static int config_validate(const Config *c, char **ret_error) {
        for (size_t i = 0; i < c->n_services; i++) {
                const ServiceConfig *a = c->services[i];
                if (a->port_mode != PORT_FIXED)
                        continue;
                for (size_t j = 0; j < i; j++) {
                        const ServiceConfig *b = c->services[j];
                        if (b->port_mode == PORT_FIXED && b->port == a->port) {
                                if (asprintf(ret_error, "%s:%u: port %u is taken by [program:%s] (%s:%u)", a->file,
                                             a->line, a->port, b->name, b->file, b->line) < 0)
                                        *ret_error = NULL;
                                return -EINVAL;
                        }
                }
        }
        return 0;
}

int config_load(char * const *files, Config **ret, char **ret_error) {
        _cleanup_strv_free_ char **defaults = NULL;
        _cleanup_(config_freep) Config *c = NULL;
        char *error = NULL;
        int r;

        if (!files) {
                r = config_default_files(&defaults, &error);
                if (r < 0)
                        return config_fail(r, error, ret_error);
                files = defaults;
        }

        c = config_new();
        if (!c)
                return config_fail(-ENOMEM, /* error= */ NULL, ret_error);

        for (char * const *f = files; *f; f++) {
                r = config_load_file(c, *f, &error);
                if (r < 0)
                        return config_fail(r, error, ret_error);
        }
        r = config_validate(c, &error);
        if (r < 0)
                return config_fail(r, error, ret_error);

        *ret = TAKE_PTR(c);
        return 0;
}

int config_load_buffer(const char *filename, const char *buf, size_t len, Config **ret,
                       char **ret_error) {
        _cleanup_(config_freep) Config *c = NULL;
        char *error = NULL;
        int r;

        c = config_new();
        if (!c)
                return config_fail(-ENOMEM, /* error= */ NULL, ret_error);

        r = config_parse_buffer(c, filename, buf, len, &error);
        if (r >= 0)
                r = config_validate(c, &error);
        if (r < 0)
                return config_fail(r, error, ret_error);

        *ret = TAKE_PTR(c);
        return 0;
}
