/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The INI reader (inih) and the key table. */

#include "config-parse.h"

#include <assert.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>

#include "config-validate.h"
#include "refstr.h"

/* The longest line accepted. inih's line buffer (ini_max_line) must hold
 * the line, "\r\n" and the terminating NUL; a longer line would be split
 * silently by inih and its tail parsed as a line of its own. */
#define CONFIG_LINE_MAX 65532U
#define CONFIG_INI_MAX_LINE 65536

/* Room for the keys of the largest section, for duplicate detection. */
#define CONFIG_KEYS_MAX 64

/* An unknown key longer than this gets no "did you mean". */
#define CONFIG_SUGGEST_LEN_MAX 40U

/* ---- key tables ----
 *
 * Every [program:NAME] key says how a reload treats a change of it (diff)
 * and which members of ServiceConfig its parser writes (fields):
 * service_config_equal(), service_config_hash() and
 * service_config_limits_equal() are computed from them. Its sample is a
 * valid value other than the default: tests/test-config-diff.c parses it
 * for every key, checks that it changes the key's members and no others,
 * and that equality and the hash follow the key's class. A new key thus
 * needs all three, or that test fails. */

/* The type of a member, from its C type: a struct with padding needs a type
 * of its own (as ResourceLimit has), since PLAIN compares bytes. */
#define BLOCK_FIELD(T, b, m)                                                     \
        {                                                                        \
                .type = _Generic(((T *) NULL)->m,                              \
                        char *: CONFIG_FIELD_STRING,                         \
                        char **: CONFIG_FIELD_STRV,                          \
                        ResourceLimit: CONFIG_FIELD_RLIMIT,                  \
                        default: CONFIG_FIELD_PLAIN),                        \
                .block = b, .offset = offsetof(T, m), .size = sizeof(((T *) NULL)->m), \
        }
#define SERVICE_FIELD(m) BLOCK_FIELD(ServiceConfig, CONFIG_BLOCK_NONE, m)
_Static_assert(sizeof(HealthStatusSet) == sizeof(((HealthStatusSet *) NULL)->bits),
               "HealthStatusSet has padding: it cannot be a CONFIG_FIELD_PLAIN");

#define CORRAL_KEY(k, f, field) \
        { .key = k, .parse = f, .offset = offsetof(Config, field) }
#define PROGRAM_KEY(k, f, d, s, m)                                                                   \
        {                                                                                            \
                .key = k, .parse = f, .offset = offsetof(ServiceConfig, m), .diff = CONFIG_DIFF_##d, \
                .fields = { SERVICE_FIELD(m) }, .sample = s                                          \
        }
/* A key whose parser also writes a second member, m2. */
#define PROGRAM_KEY2(k, f, d, s, m, m2)                                                              \
        {                                                                                            \
                .key = k, .parse = f, .offset = offsetof(ServiceConfig, m), .diff = CONFIG_DIFF_##d, \
                .fields = { SERVICE_FIELD(m), SERVICE_FIELD(m2) }, .sample = s                       \
        }
/* A key of an optional block (config.h): member m of the block's type T. */
#define BLOCK_KEY(k, f, d, s, T, b, m)                                                               \
        {                                                                                            \
                .key = k, .parse = f, .block = b, .offset = offsetof(T, m), .diff = CONFIG_DIFF_##d, \
                .fields = { BLOCK_FIELD(T, b, m) }, .sample = s                                      \
        }
#define HEALTH_KEY(k, f, s, m) BLOCK_KEY(k, f, RESTART, s, ServiceHealth, CONFIG_BLOCK_HEALTH, m)
#define LIMIT_KEY(k, s, l) BLOCK_KEY(k, config_parse_limit, IN_PLACE, s, ServiceLimits, CONFIG_BLOCK_LIMITS, limit[l])
#define RLIMIT_KEY(k, s, r) \
        BLOCK_KEY(k, config_parse_rlimit, RESTART, s, ServiceRlimits, CONFIG_BLOCK_RLIMITS, rlimit[r])
#define TUNING_KEY(k, f, d, s, m) BLOCK_KEY(k, f, d, s, ServiceTuning, CONFIG_BLOCK_TUNING, m)
#define EXTRAS_FIELD(m) BLOCK_FIELD(ServiceExtras, CONFIG_BLOCK_EXTRAS, m)
#define EXTRAS_KEY(k, f, d, s, m) BLOCK_KEY(k, f, d, s, ServiceExtras, CONFIG_BLOCK_EXTRAS, m)
/* A repeatable key of the extras, whose parser writes m and field f2
 * (UNUSED_FIELD: none). */
#define UNUSED_FIELD \
        { .type = CONFIG_FIELD_UNUSED }
#define EXTRAS_LIST_KEY(k, f, d, s, m, f2)                                                                  \
        {                                                                                                   \
                .key = k, .parse = f, .block = CONFIG_BLOCK_EXTRAS, .offset = offsetof(ServiceExtras, m),   \
                .repeatable = true, .diff = CONFIG_DIFF_##d, .fields = { EXTRAS_FIELD(m), f2 }, .sample = s \
        }

const ConfigKey config_corral_keys[] = {
        CORRAL_KEY("cgroup", config_parse_cgroup, cgroup),
        CORRAL_KEY("control_socket", config_parse_absolute_path, control_socket),
        CORRAL_KEY("runtime_directory", config_parse_absolute_path, runtime_directory),
        CORRAL_KEY("log_level", config_parse_log_level, log_level),
        CORRAL_KEY("log_target", config_parse_log_target, log_target),
        CORRAL_KEY("control_group", config_parse_user_group, control_group),
        CORRAL_KEY("job_group", config_parse_user_group, job_group),
        CORRAL_KEY("status_public", config_parse_bool, status_public),
        CORRAL_KEY("control_timeout", config_parse_timespan, control_timeout),
        CORRAL_KEY("port_range", config_parse_port_range, port_min),
        CORRAL_KEY("job_max", config_parse_positive, job_max),
        CORRAL_KEY("job_max_per_user", config_parse_positive, job_max_per_user),
        CORRAL_KEY("job_stop_timeout", config_parse_timespan, job_stop_timeout),
        CORRAL_KEY("metrics_listen", config_parse_listen_address, metrics_listen),
};
const size_t config_n_corral_keys = ELEMENTSOF(config_corral_keys);

const ConfigKey config_program_keys[] = {
        PROGRAM_KEY("command", config_parse_command, RESTART, "/bin/sleep 1000", command),
        PROGRAM_KEY("directory", config_parse_directory, RESTART, "/srv/${NAME}", directory),
        { .key = "environment",
          .parse = config_parse_environment,
          .offset = offsetof(ServiceConfig, environment),
          .repeatable = true,
          .allow_empty = true,
          .diff = CONFIG_DIFF_RESTART,
          .fields = { SERVICE_FIELD(environment) },
          .sample = "A=1 B=\"two words\"" },
        PROGRAM_KEY("user", config_parse_user_group, RESTART, "nobody", user),
        PROGRAM_KEY("group", config_parse_user_group, RESTART, "nogroup", group),
        PROGRAM_KEY("umask", config_parse_umask, RESTART, "077", umask),
        PROGRAM_KEY("autostart", config_parse_bool, RESTART, "no", autostart),
        PROGRAM_KEY("stop_signal", config_parse_signal, RESTART, "SIGINT", stop_signal),
        PROGRAM_KEY("stop_timeout", config_parse_timespan, RESTART, "3s", stop_timeout),
        PROGRAM_KEY("kill_mode", config_parse_kill_mode, RESTART, "mixed", kill_mode),
        PROGRAM_KEY2("restart", config_parse_restart, RESTART, "always", restart, restart_set),
        TUNING_KEY("restart_delay", config_parse_timespan, RESTART, "1s", restart_delay),
        TUNING_KEY("restart_delay_max", config_parse_timespan, RESTART, "5min", restart_delay_max),
        TUNING_KEY("restart_reset", config_parse_timespan, RESTART, "10min", restart_reset),
        /* how a restart happens, not what runs: a change restarts nothing */
        TUNING_KEY("restart_parallel", config_parse_positive, NONE, "2", restart_parallel),
        TUNING_KEY("start_limit_burst", config_parse_positive, RESTART, "3", start_limit_burst),
        TUNING_KEY("start_limit_interval", config_parse_timespan, RESTART, "10s", start_limit_interval),
        { .key = "restart_prevent_exit_status",
          .parse = config_parse_prevent,
          .block = CONFIG_BLOCK_PREVENT,
          .offset = offsetof(ServiceRestartPrevent, prevent_exit_status),
          .diff = CONFIG_DIFF_RESTART,
          .fields = { BLOCK_FIELD(ServiceRestartPrevent, CONFIG_BLOCK_PREVENT, prevent_exit_status),
                      BLOCK_FIELD(ServiceRestartPrevent, CONFIG_BLOCK_PREVENT, prevent_exit_signal) },
          .sample = "3 SIGKILL" },
        PROGRAM_KEY("ready", config_parse_ready, RESTART, "notify", ready),
        PROGRAM_KEY2("start_timeout", config_parse_timespan, RESTART, "5s", start_timeout, start_timeout_set),
        TUNING_KEY("watchdog_timeout", config_parse_timespan, RESTART, "30s", watchdog_timeout),
        TUNING_KEY("runtime_max", config_parse_timespan, RESTART, "1h", runtime_max),
        TUNING_KEY("exit_type", config_parse_exit_type, RESTART, "cgroup", exit_type),
        PROGRAM_KEY("instances", config_parse_instances, NONE, "3", instances),
        { .key = "output",
          .parse = config_parse_output,
          .block = CONFIG_BLOCK_EXTRAS,
          .offset = offsetof(ServiceExtras, output),
          .diff = CONFIG_DIFF_RESTART,
          .fields = { EXTRAS_FIELD(output), EXTRAS_FIELD(output_path) },
          .sample = "file:/var/log/x.log" },
        EXTRAS_KEY("output_stderr", config_parse_output_stderr, RESTART, "file:/var/log/x.err", output_stderr_path),
        EXTRAS_KEY("output_max_size", config_parse_output_max_size, RESTART, "1M", output_max_size),
        EXTRAS_KEY("output_max_files", config_parse_output_max_files, RESTART, "2", output_max_files),
        PROGRAM_KEY("output_timestamps", config_parse_bool, RESTART, "no", output_timestamps),
        PROGRAM_KEY("log_buffer", config_parse_log_buffer, RESTART, "1M", log_buffer),
        PROGRAM_KEY2("port", config_parse_port, RESTART, "8080", port_mode, port),
        PROGRAM_KEY("health_url", config_parse_health_url, RESTART, "http://127.0.0.1:8080/health", health_url),
        HEALTH_KEY("health_interval", config_parse_timespan, "1s", health_interval),
        HEALTH_KEY("health_timeout", config_parse_timespan, "500ms", health_timeout),
        HEALTH_KEY("health_threshold", config_parse_positive, "5", health_threshold),
        HEALTH_KEY("health_grace", config_parse_timespan, "30s", health_grace),
        HEALTH_KEY("health_status", config_parse_health_status, "200 204 301-302", health_status),
        LIMIT_KEY("memory_max", "512M", LIMIT_MEMORY_MAX),
        LIMIT_KEY("memory_high", "1.5G", LIMIT_MEMORY_HIGH),
        LIMIT_KEY("memory_swap_max", "0", LIMIT_MEMORY_SWAP_MAX),
        LIMIT_KEY("oom_group", "yes", LIMIT_OOM_GROUP),
        LIMIT_KEY("pids_max", "100", LIMIT_PIDS_MAX),
        LIMIT_KEY("cpu_max", "50%", LIMIT_CPU_MAX),
        LIMIT_KEY("cpu_weight", "200", LIMIT_CPU_WEIGHT),
        LIMIT_KEY("io_weight", "50", LIMIT_IO_WEIGHT),
        LIMIT_KEY("hugetlb_2mb_max", "4M", LIMIT_HUGETLB_2MB_MAX),
        PROGRAM_KEY("limits_required", config_parse_bool, IN_PLACE, "yes", limits_required),
        PROGRAM_KEY("no_new_privs", config_parse_bool, RESTART, "yes", no_new_privs),
        RLIMIT_KEY("limit_nofile", "1024:4096", RLIMIT_NOFILE),
        RLIMIT_KEY("limit_core", "infinity", RLIMIT_CORE),
        RLIMIT_KEY("limit_nproc", "512", RLIMIT_NPROC),
        RLIMIT_KEY("limit_memlock", "65536", RLIMIT_MEMLOCK),
        RLIMIT_KEY("limit_stack", "8388608:infinity", RLIMIT_STACK),
        RLIMIT_KEY("limit_as", "infinity", RLIMIT_AS),
        RLIMIT_KEY("limit_fsize", "0", RLIMIT_FSIZE),
        RLIMIT_KEY("limit_cpu", "60:120", RLIMIT_CPU),
        EXTRAS_LIST_KEY("environment_inherit", config_parse_names, RESTART, "TERM LANG", environment_inherit,
                        UNUSED_FIELD),
        PROGRAM_KEY("type", config_parse_service_type, RESTART, "oneshot", type),
        /* The order applies to starts and stops to come: a change restarts
         * nothing (the manager builds its graph again at each reload). */
        EXTRAS_LIST_KEY("after", config_parse_unit_names, NONE, "db api@0", after, EXTRAS_FIELD(after_line)),
        EXTRAS_LIST_KEY("requires", config_parse_unit_names, NONE, "db migrate", requires, EXTRAS_FIELD(requires_line)),
        EXTRAS_LIST_KEY("environment_file", config_parse_environment_files, RESTART, "/etc/app.env -/etc/app.local.env",
                        environment_files, UNUSED_FIELD),
};
const size_t config_n_program_keys = ELEMENTSOF(config_program_keys);

_Static_assert(ELEMENTSOF(config_corral_keys) <= CONFIG_KEYS_MAX, "CONFIG_KEYS_MAX too small");
_Static_assert(ELEMENTSOF(config_program_keys) <= CONFIG_KEYS_MAX, "CONFIG_KEYS_MAX too small");

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
        char *file; /* filename as a refstr, shared by the file's services; NULL until the first */

        const char *buf;
        size_t len;
        size_t pos;
        unsigned line; /* of the text last handed to inih */
        bool at_line_start;

        SectionKind section;
        ServiceConfig *service;              /* for SECTION_PROGRAM */
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

/* Records the first error as an already formatted message (NULL after
 * OOM), which it takes. Returns the recorded error code. */
static int parser_take_error(ConfigParser *p, int code, char *error) {
        if (p->error_code != 0) {
                free(error);
                return p->error_code;
        }
        p->error_code = error || code == -ENOMEM ? code : -ENOMEM;
        p->error = error;
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

static const ConfigKey *key_find(const ConfigKey *table, size_t n, const char *key, size_t *ret_index);

/* The line where key was last set in this section; 0: not set. */
static unsigned parser_key_line(const ConfigParser *p, const char *key) {
        size_t i;

        return key_find(config_program_keys, config_n_program_keys, key, &i) ? p->key_lines[i] : 0;
}

/* Where after and requires were set, for the messages of
 * config_validate() (in the extras, which setting either allocated: 0,
 * not set, leaves a block that holds only defaults equal to none);
 * whether restart and start_timeout were, for the defaults of a oneshot
 * (service_config_restart()). */
static void parser_finish_service(ConfigParser *p) {
        ServiceConfig *s = p->service;

        if (s->extras) {
                s->extras->after_line = parser_key_line(p, "after");
                s->extras->requires_line = parser_key_line(p, "requires");
        }
        s->restart_set = parser_key_line(p, "restart") > 0;
        s->start_timeout_set = parser_key_line(p, "start_timeout") > 0;
}

/* Checks the service of the section that ends (config-validate.c). */
static int parser_end_section(ConfigParser *p) {
        char *error = NULL;
        int r;

        if (p->section != SECTION_PROGRAM)
                return 0;
        parser_finish_service(p);
        r = service_config_validate(p->service, &error);
        if (r < 0)
                return parser_take_error(p, r, error);
        /* Packed now, not once the whole configuration is read: the lists
         * it packs are freed while the next section's are made, so their
         * chunks are used again instead of staying holes in the heap. */
        if (service_config_pack(p->service) < 0)
                return parser_fail(p, -ENOMEM, p->line, /* message= */ NULL);
        return 0;
}

static int parser_start_corral(ConfigParser *p) {
        if (p->corral_line > 0)
                return parser_errorf(p, p->line, "duplicate section [corral] (first at %s:%u)", p->filename,
                                     p->corral_line);
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
                return parser_errorf(p, p->line, "service name '%s' is reserved: corrald's own cgroup has it", name);
        s = config_find_service(p->config, name);
        if (s)
                return parser_errorf(p, p->line, "duplicate section [program:%s] (first at %s:%u)", name, s->file,
                                     s->line);

        if (!p->file && !(p->file = refstr_new(p->filename)))
                return parser_fail(p, -ENOMEM, p->line, /* message= */ NULL);
        s = service_config_new_in(name, p->file, p->line);
        if (!s || config_add_service(p->config, s) < 0) {
                service_config_unref(s);
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
                return parser_errorf(p, p->line, "line too long (%zu bytes, at most %u)", n, CONFIG_LINE_MAX);
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

static const ConfigKey *key_find(const ConfigKey *table, size_t n, const char *key, size_t *ret_index) {
        for (size_t i = 0; i < n; i++)
                if (streq(table[i].key, key)) {
                        if (ret_index)
                                *ret_index = i;
                        return &table[i];
                }
        return NULL;
}

static const ConfigKey *parser_find_key(const ConfigParser *p, const char *key, size_t *ret_index) {
        if (p->section == SECTION_CORRAL)
                return key_find(config_corral_keys, config_n_corral_keys, key, ret_index);
        return key_find(config_program_keys, config_n_program_keys, key, ret_index);
}

/* The edit distance of a and b (optimal string alignment: insertions,
 * deletions, substitutions and swaps of two neighbours), both at most
 * CONFIG_SUGGEST_LEN_MAX long. */
static unsigned edit_distance(const char *a, const char *b) {
        unsigned d[CONFIG_SUGGEST_LEN_MAX + 1][CONFIG_SUGGEST_LEN_MAX + 1];
        size_t n = strlen(a), m = strlen(b);

        assert(n <= CONFIG_SUGGEST_LEN_MAX && m <= CONFIG_SUGGEST_LEN_MAX);
        for (size_t i = 0; i <= n; i++)
                for (size_t j = 0; j <= m; j++) {
                        if (i == 0 || j == 0) {
                                d[i][j] = (unsigned) (i + j);
                                continue;
                        }
                        d[i][j] = MIN(MIN(d[i - 1][j], d[i][j - 1]) + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]));
                        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                                d[i][j] = MIN(d[i][j], d[i - 2][j - 2] + 1);
                }
        return d[n][m];
}

/* The key of table closest to key, when it is close enough to be what was
 * meant: at most 2 edits, and at most one per 3 characters. NULL otherwise. */
static const char *key_suggest(const ConfigKey *table, size_t n, const char *key) {
        size_t len = strlen(key);
        const char *best = NULL;
        unsigned best_d = UINT_MAX;

        if (len > CONFIG_SUGGEST_LEN_MAX)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                unsigned d;

                if (strlen(table[i].key) > CONFIG_SUGGEST_LEN_MAX)
                        continue;
                d = edit_distance(key, table[i].key);
                if (d < best_d) {
                        best_d = d;
                        best = table[i].key;
                }
        }
        return best && best_d <= 2 && 3 * best_d <= len ? best : NULL;
}

/* "unknown key 'comand' in [program:web]; did you mean 'command'?", or "; it
 * belongs in [corral]" for a key of the other section. */
static int parser_unknown_key(ConfigParser *p, const char *key) {
        bool corral = p->section == SECTION_CORRAL;
        const ConfigKey *table = corral ? config_corral_keys : config_program_keys;
        size_t n = corral ? config_n_corral_keys : config_n_program_keys;
        _cleanup_free_ char *section = NULL;
        const char *near;

        if (corral)
                section = strdup("[corral]");
        else if (asprintf(&section, "[program:%s]", p->service->name) < 0)
                section = NULL;
        if (!section)
                return parser_fail(p, -ENOMEM, p->line, /* message= */ NULL);

        if (corral ? key_find(config_program_keys, config_n_program_keys, key, /* ret_index= */ NULL)
                   : key_find(config_corral_keys, config_n_corral_keys, key, /* ret_index= */ NULL))
                return parser_errorf(p, p->line, "unknown key '%s' in %s; it belongs in %s", key, section,
                                     corral ? "[program:NAME]" : "[corral]");
        near = key_suggest(table, n, key);
        if (near)
                return parser_errorf(p, p->line, "unknown key '%s' in %s; did you mean '%s'?", key, section, near);
        return parser_errorf(p, p->line, "unknown key '%s' in %s", key, section);
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
                return parser_errorf(p, p->line, "duplicate key '%s' (first at line %u)", key, p->key_lines[i]);
        if (value[0] == '\0' && !k->allow_empty)
                return parser_errorf(p, p->line, "empty value for '%s'", key);
        p->key_lines[i] = p->line;

        base = p->section == SECTION_CORRAL ? (char *) p->config : service_config_block(p->service, k->block);
        if (!base)
                return parser_fail(p, -ENOMEM, p->line, /* message= */ NULL);
        r = k->parse(k->key, value, base + k->offset, &message);
        if (r < 0 && !message && r != -ENOMEM)
                return parser_errorf(p, p->line, "invalid value '%s' for %s", value, key);
        if (r < 0)
                return parser_fail(p, r, p->line, message);
        return 0;
}

static int config_handler(void *userdata, _unused_ const char *section, const char *key, const char *value) {
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

int config_parse_buffer(Config *c, const char *filename, const char *buf, size_t len, char **ret_error) {
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
                (void) parser_errorf(&p, p.line, "syntax error, expected 'key = value' or '[section]'");
        else if (p.error_code == 0)
                (void) parser_end_section(&p);

        refstr_unref(p.file);
        if (p.error_code != 0) {
                *ret_error = TAKE_PTR(p.error);
                return p.error_code;
        }
        return 0;
}
