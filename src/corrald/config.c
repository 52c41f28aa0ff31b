/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The configuration's objects (services and the whole), lookups, string
 * tables, and loading files; the rest of the module is in config-*.c. */

#include "config.h"

#include <assert.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>

#include "config-parse.h"
#include "config-validate.h"
#include "fileio.h"
#include "refstr.h"
#include "string-table.h"
#include "strv.h"

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

static const char *const service_type_table[_SERVICE_TYPE_MAX] = {
        [SERVICE_TYPE_SIMPLE] = "simple",
        [SERVICE_TYPE_ONESHOT] = "oneshot",
};

static const char *const output_kind_table[_OUTPUT_KIND_MAX] = {
        [OUTPUT_AUTO] = "auto", [OUTPUT_JOURNAL] = "journal", [OUTPUT_INHERIT] = "inherit",
        [OUTPUT_NULL] = "null", [OUTPUT_FILE] = "file",       [OUTPUT_INHERIT_RAW] = "inherit-raw",
};

static const char *const log_target_table[_LOG_TARGET_MAX] = {
        [LOG_TARGET_AUTO] = "auto",
        [LOG_TARGET_JOURNAL] = "journal",
        [LOG_TARGET_STDERR] = "stderr",
};

DEFINE_STRING_TABLE_LOOKUP(kill_mode, KillMode);
DEFINE_STRING_TABLE_LOOKUP(restart_policy, RestartPolicy);
DEFINE_STRING_TABLE_LOOKUP_TO_STRING(ready_mode, ReadyMode);
DEFINE_STRING_TABLE_LOOKUP_TO_STRING(exit_type, ExitType);
DEFINE_STRING_TABLE_LOOKUP_TO_STRING(service_type, ServiceType);
DEFINE_STRING_TABLE_LOOKUP_TO_STRING(output_kind, OutputKind);
DEFINE_STRING_TABLE_LOOKUP_TO_STRING(log_target, LogTarget);

/* ---- objects ---- */

ServiceConfig *service_config_ref(ServiceConfig *s) {
        s->n_ref++;
        return s;
}

/* ---- the optional blocks ---- */

static const struct {
        size_t offset, size;
} config_blocks[_CONFIG_BLOCK_MAX] = {
        [CONFIG_BLOCK_NONE] = { 0, sizeof(ServiceConfig) },
        [CONFIG_BLOCK_HEALTH] = { offsetof(ServiceConfig, health), sizeof(ServiceHealth) },
        [CONFIG_BLOCK_LIMITS] = { offsetof(ServiceConfig, limits), sizeof(ServiceLimits) },
        [CONFIG_BLOCK_RLIMITS] = { offsetof(ServiceConfig, rlimits), sizeof(ServiceRlimits) },
        [CONFIG_BLOCK_PREVENT] = { offsetof(ServiceConfig, prevent), sizeof(ServiceRestartPrevent) },
        [CONFIG_BLOCK_EXTRAS] = { offsetof(ServiceConfig, extras), sizeof(ServiceExtras) },
        [CONFIG_BLOCK_TUNING] = { offsetof(ServiceConfig, tuning), sizeof(ServiceTuning) },
};

/* Every default of a block: all zero (no limit, no rlimit) but health's
 * and the extras' output_max_size and output_max_files.
 * "200-299" as health_status_parse() sets it (bit code - 100): codes
 * 200..227 in bits[1], 228..291 in bits[2], 292..299 in bits[3]
 * (tests/test-config-diff.c checks). */
static const ServiceHealth service_health_default = {
        .health_interval = 10 * USEC_PER_SEC,
        .health_timeout = 2 * USEC_PER_SEC,
        .health_threshold = 3,
        .health_status.bits = { [1] = ~UINT64_C(0) << 36, [2] = ~UINT64_C(0), [3] = 0xff },
};
static const ServiceLimits service_limits_default;
static const ServiceRlimits service_rlimits_default;
static const ServiceRestartPrevent service_prevent_default;
static const ServiceExtras service_extras_default = {
        .output = OUTPUT_AUTO,
        .output_max_size = CONFIG_OUTPUT_MAX_SIZE_DEFAULT,
        .output_max_files = CONFIG_OUTPUT_MAX_FILES_DEFAULT,
};
static const ServiceTuning service_tuning_default = {
        .restart_delay = 100 * USEC_PER_MSEC,
        .restart_delay_max = 30 * USEC_PER_SEC,
        .restart_reset = 60 * USEC_PER_SEC,
        .start_limit_interval = 60 * USEC_PER_SEC,
        .start_limit_burst = 10,
};

static const void *const config_block_defaults[_CONFIG_BLOCK_MAX] = {
        [CONFIG_BLOCK_HEALTH] = &service_health_default,   [CONFIG_BLOCK_LIMITS] = &service_limits_default,
        [CONFIG_BLOCK_RLIMITS] = &service_rlimits_default, [CONFIG_BLOCK_PREVENT] = &service_prevent_default,
        [CONFIG_BLOCK_EXTRAS] = &service_extras_default,   [CONFIG_BLOCK_TUNING] = &service_tuning_default,
};

size_t config_block_size(ConfigBlock b) {
        return config_blocks[b].size;
}

size_t config_block_offset(ConfigBlock b) {
        return config_blocks[b].offset;
}

void *service_config_block(ServiceConfig *s, ConfigBlock b) {
        void **p;

        if (b == CONFIG_BLOCK_NONE)
                return s;
        p = (void **) ((char *) s + config_blocks[b].offset);
        if (!*p) {
                *p = malloc(config_blocks[b].size);
                if (*p)
                        memcpy(*p, config_block_defaults[b], config_blocks[b].size);
        }
        return *p;
}

const void *service_config_block_get(const ServiceConfig *s, ConfigBlock b) {
        const void *p;

        if (b == CONFIG_BLOCK_NONE)
                return s;
        p = *(void *const *) ((const char *) s + config_blocks[b].offset);
        return p ?: config_block_defaults[b];
}

int service_config_set_limit(ServiceConfig *s, CgroupLimit l, const char *value) {
        char *v;

        if (!service_config_block(s, CONFIG_BLOCK_LIMITS) || !(v = strdup(value)))
                return -ENOMEM;
        free(s->limits->limit[l]);
        s->limits->limit[l] = v;
        return 0;
}

/* Where field f of s is; NULL when it is in a block s does not have. */
static void *service_config_field(ServiceConfig *s, const ConfigField *f) {
        char *base = f->block == CONFIG_BLOCK_NONE ? (char *) s
                                                   : *(char **) ((char *) s + config_blocks[f->block].offset);

        return base ? base + f->offset : NULL;
}

/* Frees every string and list that a key of the table writes, and the
 * blocks. */
static void service_config_free_keys(ServiceConfig *s) {
        for (size_t i = 0; i < config_n_program_keys; i++)
                for (size_t j = 0; j < CONFIG_KEY_FIELDS_MAX; j++) {
                        const ConfigField *f = &config_program_keys[i].fields[j];
                        void *p = service_config_field(s, f);

                        if (!p)
                                continue;
                        if (f->type == CONFIG_FIELD_STRING)
                                free(*(char **) p);
                        else if (f->type == CONFIG_FIELD_STRV && s->packed)
                                free(*(char ***) p);
                        else if (f->type == CONFIG_FIELD_STRV)
                                strv_free(*(char ***) p);
                }
}

int service_config_pack(ServiceConfig *s) {
        char ***field[SERVICE_CONFIG_LISTS_MAX], **packed[SERVICE_CONFIG_LISTS_MAX];
        size_t n = 0;

        if (s->packed)
                return 0;
        for (size_t i = 0; i < config_n_program_keys; i++)
                for (size_t j = 0; j < CONFIG_KEY_FIELDS_MAX; j++) {
                        const ConfigField *f = &config_program_keys[i].fields[j];
                        char ***p = f->type == CONFIG_FIELD_STRV ? service_config_field(s, f) : NULL;

                        if (!p || !*p)
                                continue;
                        assert(n < SERVICE_CONFIG_LISTS_MAX);
                        if (strv_pack(*p, &packed[n]) < 0) {
                                while (n > 0)
                                        free(packed[--n]);
                                return -ENOMEM;
                        }
                        field[n++] = p;
                }
        for (size_t i = 0; i < n; i++) {
                strv_free(*field[i]);
                *field[i] = packed[i];
        }
        s->packed = true;
        return 0;
}

static ServiceConfig *service_config_free(ServiceConfig *s) {
        if (!s)
                return NULL;
        if (--s->n_ref > 0)
                return NULL;
        refstr_unref(s->name);
        refstr_unref(s->file);
        service_config_free_keys(s);
        free(s->health);
        free(s->limits);
        free(s->rlimits);
        free(s->prevent);
        free(s->extras);
        free(s->tuning);
        free(s);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(ServiceConfig *, service_config_free);

ServiceConfig *service_config_unref(ServiceConfig *s) {
        return service_config_free(s);
}

RestartPolicy service_config_restart(const ServiceConfig *s) {
        return s->type == SERVICE_TYPE_ONESHOT && !s->restart_set ? RESTART_NEVER : s->restart;
}

usec_t service_config_start_timeout(const ServiceConfig *s) {
        return s->type == SERVICE_TYPE_ONESHOT && !s->start_timeout_set ? 0 : s->start_timeout;
}

ServiceConfig *service_config_new(const char *name, const char *file, unsigned line) {
        _cleanup_(refstr_unrefp) char *f = refstr_new(file);

        return f ? service_config_new_in(name, f, line) : NULL;
}

ServiceConfig *service_config_new_in(const char *name, char *file, unsigned line) {
        _cleanup_(service_config_freep) ServiceConfig *s = NULL;

        /* calloc, and members set one by one: padding stays zero, so that
         * two services read from the same text are the same bytes (which
         * tests/test-config-diff.c relies on) */
        s = calloc(1, sizeof(ServiceConfig));
        if (!s)
                return NULL;
        s->n_ref = 1;
        s->line = line;
        s->umask = 0022;
        s->autostart = true;
        s->stop_signal = SIGTERM;
        s->stop_timeout = 10 * USEC_PER_SEC;
        s->kill_mode = KILL_MODE_CONTROL_GROUP;
        s->restart = RESTART_ON_FAILURE;
        s->ready = READY_EXEC;
        s->start_timeout = 90 * USEC_PER_SEC;
        s->log_buffer = CONFIG_LOG_BUFFER_DEFAULT;
        s->output_timestamps = true;
        s->file = refstr_ref(file);
        s->name = refstr_new(name);
        if (!s->name)
                return NULL;
        return TAKE_PTR(s);
}

Config *config_free(Config *c) {
        if (!c)
                return NULL;
        free(c->cgroup);
        free(c->control_socket);
        free(c->metrics_listen);
        free(c->runtime_directory);
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
        c->job_max = 4096;
        c->job_max_per_user = 256;
        c->job_stop_timeout = 10 * USEC_PER_SEC;
        c->port_min = 30000;
        c->port_max = 31000;
        c->control_socket = strdup(CONFIG_DEFAULT_CONTROL_SOCKET);
        if (!c->control_socket)
                return NULL;
        return TAKE_PTR(c);
}

int config_add_service(Config *c, ServiceConfig *s) {
        if (!ARRAY_GROW(c->services, c->n_services))
                return -ENOMEM;
        c->services[c->n_services++] = s;
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
               strspn(name,
                      "abcdefghijklmnopqrstuvwxyz"
                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "0123456789_-") == n;
}

bool service_config_prevents_restart(const ServiceConfig *s, int code, int status) {
        const ServiceRestartPrevent *p = service_config_block_get(s, CONFIG_BLOCK_PREVENT);

        if (code == CLD_EXITED)
                return status >= 0 && status <= 255 && (p->prevent_exit_status[status / 64] >> (status % 64)) & 1;
        if (code == CLD_KILLED || code == CLD_DUMPED)
                return status > 0 && status < 64 && (p->prevent_exit_signal >> status) & 1;
        return false;
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
                return file_errorf(ret_error, r, "%s: file too large (more than %u bytes)", path, CONFIG_FILE_SIZE_MAX);
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

        return de->d_name[0] != '.' && n > strlen(".conf") && streq(de->d_name + n - strlen(".conf"), ".conf");
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

static int config_load_runtime(Config *c, char **ret_error);

int config_load(char *const *files, Config **ret, char **ret_error) {
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

        for (char *const *f = files; *f; f++) {
                r = config_load_file(c, *f, &error);
                if (r < 0)
                        return config_fail(r, error, ret_error);
        }
        r = config_load_runtime(c, &error);
        if (r < 0)
                return config_fail(r, error, ret_error);
        r = config_validate(c, &error);
        if (r < 0)
                return config_fail(r, error, ret_error);

        *ret = TAKE_PTR(c);
        return 0;
}

int config_runtime_services_dir(const Config *c, char **ret) {
        char *d;

        if (asprintf(&d, "%s/" CONFIG_RUNTIME_SERVICES, c->runtime_directory) < 0)
                return -ENOMEM;
        *ret = d;
        return 0;
}

/* runtime_directory defaults to the control socket's directory. */
static int config_default_runtime_directory(Config *c) {
        const char *slash;

        if (c->runtime_directory)
                return 0;
        slash = strrchr(c->control_socket, '/');
        c->runtime_directory = slash && slash != c->control_socket
                                       ? strndup(c->control_socket, (size_t) (slash - c->control_socket))
                                       : strdup("/");
        return c->runtime_directory ? 0 : -ENOMEM;
}

/* The services defined at run time, stored by corrald itself (checked as
 * any configuration file: as root, owned by root, not writable by others). */
static int config_load_runtime(Config *c, char **ret_error) {
        _cleanup_strv_free_ char **files = NULL;
        _cleanup_free_ char *dir = NULL;
        int r;

        r = config_default_runtime_directory(c);
        if (r >= 0)
                r = config_runtime_services_dir(c, &dir);
        if (r < 0)
                return r;
        r = dropin_paths(dir, &files);
        if (r < 0)
                return file_errorf(ret_error, r, "%s: %s", dir, strerror(-r));
        for (char **f = files; f && *f; f++) {
                r = config_load_file(c, *f, ret_error);
                if (r < 0)
                        return r;
        }
        return 0;
}

int config_load_buffer(const char *filename, const char *buf, size_t len, Config **ret, char **ret_error) {
        _cleanup_(config_freep) Config *c = NULL;
        char *error = NULL;
        int r;

        c = config_new();
        if (!c)
                return config_fail(-ENOMEM, /* error= */ NULL, ret_error);

        r = config_parse_buffer(c, filename, buf, len, &error);
        if (r >= 0)
                r = config_default_runtime_directory(c); /* but no services read from it */
        if (r < 0)
                return config_fail(r, error, ret_error);
        r = config_validate(c, &error);
        if (r < 0)
                return config_fail(r, error, ret_error);

        *ret = TAKE_PTR(c);
        return 0;
}
