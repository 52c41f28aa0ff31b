/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The configuration: INI files read with inih into plain structs, and
 * validated, with FILE:LINE: errors for the user. This is the header the
 * rest of corrald includes; the module is split by concept:
 *     config.c           the objects, lookups, string tables, loading files
 *     config-value.[ch]  pure parsers of single values
 *     config-parse.[ch]  the INI reader and the key table
 *     config-validate.[ch] checks across keys and across services
 *     config-diff.[ch]   equality, hash, and the difference of two
 *                        configurations as a plan (included here) */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config-diff.h"
#include "deps.h"
#include "health.h"
#include "log.h"
#include "macro.h"
#include "time-util.h"

#define CONFIG_DEFAULT_FILE "/etc/corral/corral.conf"
#define CONFIG_DEFAULT_DROPIN_DIR "/etc/corral/conf.d"
#define CONFIG_DEFAULT_CONTROL_SOCKET "/run/corral/control.sock"
#define CONFIG_NAME_MAX 64
/* Services defined at run time (add, apply): one file each, NAME.conf,
 * in this folder of runtime_directory. */
#define CONFIG_RUNTIME_SERVICES "services"
/* corrald's own leaf in its subtree (CGROUP_SUPERVISOR) */
#define CONFIG_RESERVED_NAME "supervisor"
/* A larger file is refused: configuration is small. */
#define CONFIG_FILE_SIZE_MAX (4U * 1024U * 1024U)

typedef enum KillMode {
        KILL_MODE_CONTROL_GROUP, /* stop signal to every process of the cgroup */
        KILL_MODE_MIXED,         /* stop signal to the main process only */
        _KILL_MODE_MAX,
        _KILL_MODE_INVALID = -EINVAL,
} KillMode;

typedef enum RestartPolicy {
        RESTART_ALWAYS,
        RESTART_ON_FAILURE,
        RESTART_NEVER,
        _RESTART_POLICY_MAX,
        _RESTART_POLICY_INVALID = -EINVAL,
} RestartPolicy;

typedef enum ReadyMode {
        READY_EXEC,   /* running once execve() succeeded */
        READY_NOTIFY, /* running at READY=1 on the notify socket */
        READY_HEALTH, /* running at the first passing health check */
        _READY_MODE_MAX,
        _READY_MODE_INVALID = -EINVAL,
} ReadyMode;

typedef enum ExitType {
        EXIT_TYPE_MAIN,   /* the unit ends when its main process exits */
        EXIT_TYPE_CGROUP, /* the unit ends when its cgroup is empty */
        _EXIT_TYPE_MAX,
        _EXIT_TYPE_INVALID = -EINVAL,
} ExitType;

typedef enum ServiceType {
        SERVICE_TYPE_SIMPLE,  /* a program that runs until it is stopped */
        SERVICE_TYPE_ONESHOT, /* runs to completion: ready once it exits 0, exited afterwards */
        _SERVICE_TYPE_MAX,
        _SERVICE_TYPE_INVALID = -EINVAL,
} ServiceType;

#define CONFIG_INSTANCES_MAX 1000U

/* The defaults and bounds of the output keys (output.h checks the same
 * bounds where it opens files and rings). */
#define CONFIG_LOG_BUFFER_DEFAULT ((size_t) 64 * 1024)
#define CONFIG_LOG_BUFFER_MIN ((size_t) 4 * 1024)
#define CONFIG_LOG_BUFFER_MAX ((size_t) 256 * 1024 * 1024) /* fits ServiceConfig's uint32_t */
#define CONFIG_OUTPUT_MAX_SIZE_DEFAULT ((uint64_t) 10 * 1024 * 1024)
#define CONFIG_OUTPUT_MAX_SIZE_MIN ((uint64_t) 64 * 1024)
#define CONFIG_OUTPUT_MAX_FILES_DEFAULT 5U
#define CONFIG_OUTPUT_MAX_FILES_MAX 1000U

/* Cgroup limits: each a kernel interface file of a controller. */
typedef enum CgroupLimit {
        LIMIT_MEMORY_MAX,
        LIMIT_MEMORY_HIGH,
        LIMIT_MEMORY_SWAP_MAX,
        LIMIT_OOM_GROUP,
        LIMIT_PIDS_MAX,
        LIMIT_CPU_MAX,
        LIMIT_CPU_WEIGHT,
        LIMIT_IO_WEIGHT,
        LIMIT_HUGETLB_2MB_MAX,
        _LIMIT_MAX,
        _LIMIT_INVALID = -EINVAL,
} CgroupLimit;

/* The configuration key, controller and file of a limit. */
const char *cgroup_limit_key(CgroupLimit l);
const char *cgroup_limit_controller(CgroupLimit l);
const char *cgroup_limit_file(CgroupLimit l);

/* Resource limits set in the child before exec (setrlimit). */
typedef struct ResourceLimit {
        bool set;
        unsigned long long soft, hard; /* RLIM_INFINITY for infinity */
} ResourceLimit;
#define CONFIG_RLIMIT_MAX 16

/* The optional blocks of a service: the keys few services set, each block
 * allocated when one of its keys is set (service_config_block()), so that
 * a service without them costs only a NULL pointer. NULL is every default:
 * read them through service_config_health(), service_config_limit(),
 * service_config_rlimit() and service_config_extras(). */
typedef struct ServiceHealth {
        usec_t health_interval;        /* default 10s */
        usec_t health_timeout;         /* default 2s */
        usec_t health_grace;           /* default 0: failures count from the start */
        HealthStatusSet health_status; /* default 200-299 */
        unsigned health_threshold;     /* default 3 failures in a row */
} ServiceHealth;

typedef struct ServiceLimits {
        char *limit[_LIMIT_MAX]; /* what to write to each limit's file; NULL: not set */
} ServiceLimits;

typedef struct ServiceRlimits {
        ResourceLimit rlimit[CONFIG_RLIMIT_MAX]; /* by RLIMIT_* */
} ServiceRlimits;

/* The pacing of restarts, the bounds of a run and its end: keys that a minority
 * of services set, out of ServiceConfig so that a service without them is
 * smaller (corral issue 17: the memory of each unit). */
typedef struct ServiceTuning {
        usec_t restart_delay;        /* default 100ms: the first delay */
        usec_t restart_delay_max;    /* default 30s: the delay doubles up to this */
        usec_t restart_reset;        /* default 60s: up this long, the delay starts over */
        usec_t start_limit_interval; /* default 60s: start_limit_burst starts within it: failed */
        usec_t watchdog_timeout;     /* default 0: none */
        usec_t runtime_max;          /* default 0: none; longer runs are stopped as failed (timeout) */
        unsigned start_limit_burst;  /* default 10 */
        unsigned restart_parallel;   /* a rolling restart restarts this many instances at once; 0: 1 */
        ExitType exit_type;          /* default main */
} ServiceTuning;

typedef struct ServiceRestartPrevent {
        uint64_t prevent_exit_status[4]; /* bitset of exit codes 0..255 that never restart */
        uint64_t prevent_exit_signal;    /* bitset of signals 1..63 that never restart */
} ServiceRestartPrevent;

/* Output, environment sources and order: keys a minority of services
 * set, out of ServiceConfig so that a service without them is smaller
 * (corral issue 17: the memory of each unit). */
typedef struct ServiceExtras {
        char *output_path;          /* for OUTPUT_FILE */
        char *output_stderr_path;   /* for OUTPUT_FILE: stderr's own file; NULL: stderr into output_path */
        uint64_t output_max_size;   /* OUTPUT_FILE: rotate before a file passes this; 0: never; default 10M */
        char **environment_inherit; /* names passed on from corrald's environment */
        char **environment_files;   /* "PATH" or "-PATH" (optional), read at each start, in order */
        char **after;               /* services (all instances) or instances it starts after */
        char **requires;            /* the same, which must be ready (requires implies after) */
        OutputKind output;          /* default auto */
        unsigned output_max_files;  /* OUTPUT_FILE: files kept, the current one included; default 5 */
        /* where after and requires were last set, for messages; 0: not
         * set (read service_config_after_line(), …_requires_line()) */
        unsigned after_line, requires_line;
} ServiceExtras;

typedef enum ConfigBlock {
        CONFIG_BLOCK_NONE, /* a member of ServiceConfig itself */
        CONFIG_BLOCK_HEALTH,
        CONFIG_BLOCK_LIMITS,
        CONFIG_BLOCK_RLIMITS,
        CONFIG_BLOCK_PREVENT,
        CONFIG_BLOCK_EXTRAS,
        CONFIG_BLOCK_TUNING,
        _CONFIG_BLOCK_MAX,
        _CONFIG_BLOCK_INVALID = -EINVAL,
} ConfigBlock;

typedef enum PortMode {
        PORT_NONE,
        PORT_AUTO, /* a free port from port_range, the same again after a restart */
        PORT_FIXED,
        _PORT_MODE_MAX,
        _PORT_MODE_INVALID = -EINVAL,
} PortMode;

/* A [program:NAME] section. Every member below line (and of its optional
 * blocks) is written by a key, and named by that key's entry in the key
 * table (config-parse.c), which compares, hashes and frees it: a new
 * member needs its key there. */
typedef struct ServiceConfig {
        unsigned n_ref; /* the Config and every unit of the service hold one */
        unsigned line;
        char *name; /* the NAME of [program:NAME] (a refstr, shared with its unit) */
        char *file; /* where the section starts, for messages (a refstr, shared by the file's services) */

        char **command;                 /* argv, split like shell words; never empty */
        char *directory;                /* NULL: "/" */
        char **environment;             /* "KEY=VALUE" entries, later ones win */
        char *user;                     /* NULL: corrald's own user */
        char *group;                    /* NULL: the user's primary group */
        mode_t umask;                   /* default 0022 */
        int stop_signal;                /* default SIGTERM */
        usec_t stop_timeout;            /* default 10s; 0: cgroup.kill at once */
        KillMode kill_mode;             /* default control-group */
        RestartPolicy restart;          /* default on-failure */
        usec_t start_timeout;           /* default 90s; 0: none */
        unsigned instances;             /* 0: one unit named NAME; N: NAME@0 … NAME@N-1 */
        uint32_t log_buffer;            /* bytes of the last lines kept in memory; default 64K (at most 256M) */
        char *health_url;               /* NULL: no health checks */
        ServiceHealth *health;          /* the other health_* keys; NULL: defaults */
        ServiceLimits *limits;          /* the cgroup limits; NULL: none set */
        ServiceRestartPrevent *prevent; /* restart_prevent_exit_status; NULL: none */
        ServiceRlimits *rlimits;        /* limit_* (setrlimit); NULL: none set */
        ServiceExtras *extras;          /* output*, environment_inherit/_file, after, requires; NULL: defaults */
        ServiceTuning *tuning;          /* restart_delay*, restart_reset, start_limit_*, watchdog_timeout, runtime_max,
                                         * restart_parallel, exit_type; NULL: defaults */
        /* (the small members last, where they leave no holes) */
        ReadyMode ready;                     /* default exec */
        ServiceType type;                    /* default simple */
        PortMode port_mode;                  /* default none */
        uint16_t port;                       /* for PORT_FIXED */
        bool autostart;                      /* default true */
        bool output_timestamps;              /* OUTPUT_FILE: an ISO 8601 time before each line; default yes */
        bool limits_required;                /* a limit the kernel cannot apply fails the start; default no */
        bool no_new_privs;                   /* PR_SET_NO_NEW_PRIVS before exec; default no */
        bool restart_set, start_timeout_set; /* set in the section: a oneshot's defaults differ */
        bool packed;                         /* its lists are packed: see service_config_pack() */
} ServiceConfig;

typedef struct Config {
        char *cgroup;                /* "cgroup =": a path in the cgroup2 hierarchy, or NULL */
        char *control_socket;        /* default CONFIG_DEFAULT_CONTROL_SOCKET */
        char *metrics_listen;        /* where GET /metrics is served (listen_address_parse()); NULL: nowhere */
        char *runtime_directory;     /* services defined through the API live in its services/; default: the
                                  * control socket's directory */
        int log_level;               /* LOG_ERR .. LOG_DEBUG, default LOG_INFO */
        LogTarget log_target;        /* default auto */
        char *control_group;         /* may change anything over the control socket; NULL: root only */
        char *job_group;             /* may run jobs as themselves; NULL: nobody but changers */
        bool status_public;          /* everyone may read status; default no */
        usec_t control_timeout;      /* a client must send a whole request within this; default 30s */
        unsigned job_max;            /* running jobs in all; default 4096 */
        unsigned job_max_per_user;   /* running jobs of one uid (not root's); default 256 */
        usec_t job_stop_timeout;     /* a job's grace when stopped or cancelled; default 10s */
        uint16_t port_min, port_max; /* port_range, default 30000-31000 */

        ServiceConfig **services; /* in the order of their sections */
        size_t n_services;
} Config;

/* Frees a configuration; accepts NULL; returns NULL. */
Config *config_free(Config *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Config *, config_free);

/* Reads and validates the given files in order, as one configuration.
 * When files is NULL, reads CONFIG_DEFAULT_FILE (which must exist) and then
 * every CONFIG_DEFAULT_DROPIN_DIR/\*.conf in lexical order.
 * Returns 0 with a new Config in *ret. On a problem returns -errno (-EINVAL
 * for invalid content, or the error of opening/reading a file) and writes
 * a malloc'd message "FILE:LINE: what is wrong" (or "FILE: …" when no line
 * applies) to *ret_error, which the caller frees. */
int config_load(char *const *files, Config **ret, char **ret_error);

/* The folder of runtime_directory that holds the services defined at run
 * time, malloc'd in *ret. 0 or -ENOMEM. */
int config_runtime_services_dir(const Config *c, char **ret);

/* Same as config_load() for one buffer, with filename used in messages.
 * For tests and fuzzers. */
int config_load_buffer(const char *filename, const char *buf, size_t len, Config **ret, char **ret_error);

/* A service with every default (and no command): for jobs, which are
 * configured by request rather than by file. NULL only for OOM. */
ServiceConfig *service_config_new(const char *name, const char *file, unsigned line);
/* The same with file a refstr (refstr.h) that the service shares (the
 * services of one file, config-parse.c): the caller keeps its reference.
 * name and file are refstrs in every ServiceConfig. */
ServiceConfig *service_config_new_in(const char *name, char *file, unsigned line);

/* References: a unit keeps its service's configuration alive across a
 * reload that drops it. unref accepts NULL and returns NULL. */
ServiceConfig *service_config_ref(ServiceConfig *s);
ServiceConfig *service_config_unref(ServiceConfig *s);

/* Packs each word list of s (command, environment, …) into one allocation
 * (strv_pack()): for a service that is complete, as every one config_load()
 * returns, whose lists nothing changes any more; a packed list must not be
 * changed. Saves a malloc chunk per word. 0, or -ENOMEM with s unchanged. */
int service_config_pack(ServiceConfig *s);
/* The word lists of the key table: at most this many (test-config-diff
 * checks). */
#define SERVICE_CONFIG_LISTS_MAX 8

/* The optional block b of s (a pointer to its ServiceHealth, …), allocated
 * with its defaults when s has none. NULL only for OOM. */
void *service_config_block(ServiceConfig *s, ConfigBlock b);
/* The block b of s, or the defaults when s has none: never NULL. */
const void *service_config_block_get(const ServiceConfig *s, ConfigBlock b);
/* The block's size, and where ServiceConfig points to it. */
size_t config_block_size(ConfigBlock b);
size_t config_block_offset(ConfigBlock b);

static inline const ServiceHealth *service_config_health(const ServiceConfig *s) {
        return service_config_block_get(s, CONFIG_BLOCK_HEALTH);
}
static inline const char *service_config_limit(const ServiceConfig *s, CgroupLimit l) {
        return s->limits ? s->limits->limit[l] : NULL;
}
/* Sets limit l to a copy of value (allocating the block). 0 or -ENOMEM. */
int service_config_set_limit(ServiceConfig *s, CgroupLimit l, const char *value);
static inline const ResourceLimit *service_config_rlimit(const ServiceConfig *s, int resource) {
        return &((const ServiceRlimits *) service_config_block_get(s, CONFIG_BLOCK_RLIMITS))->rlimit[resource];
}

static inline const ServiceTuning *service_config_tuning(const ServiceConfig *s) {
        return service_config_block_get(s, CONFIG_BLOCK_TUNING);
}

static inline const ServiceExtras *service_config_extras(const ServiceConfig *s) {
        return service_config_block_get(s, CONFIG_BLOCK_EXTRAS);
}
/* The lines where after and requires were last set, or the section's
 * when not set. */
static inline unsigned service_config_after_line(const ServiceConfig *s) {
        return s->extras && s->extras->after_line > 0 ? s->extras->after_line : s->line;
}
static inline unsigned service_config_requires_line(const ServiceConfig *s) {
        return s->extras && s->extras->requires_line > 0 ? s->extras->requires_line : s->line;
}
/* Whether s has after = or requires =. */
static inline bool service_config_has_dependencies(const ServiceConfig *s) {
        return s->extras && (s->extras->after || s->extras->requires);
}

/* Whether exit status (code CLD_EXITED) or signal (CLD_KILLED/DUMPED) is
 * one of restart_prevent_exit_status. */
bool service_config_prevents_restart(const ServiceConfig *s, int code, int status);

/* Looks up a service by name; NULL when there is none. */
ServiceConfig *config_find_service(const Config *c, const char *name);

/* True for a valid service name: 1..CONFIG_NAME_MAX of [A-Za-z0-9_-]. */
bool config_name_is_valid(const char *name);

const char *kill_mode_to_string(KillMode m);
KillMode kill_mode_from_string(const char *s);
const char *restart_policy_to_string(RestartPolicy p);
RestartPolicy restart_policy_from_string(const char *s);
const char *ready_mode_to_string(ReadyMode m);
const char *exit_type_to_string(ExitType t);
const char *service_type_to_string(ServiceType t);

/* restart and start_timeout as they apply: a oneshot is not restarted,
 * and its run not bounded, unless its section says so. */
RestartPolicy service_config_restart(const ServiceConfig *s);
usec_t service_config_start_timeout(const ServiceConfig *s);

/* The graph of after = and requires = between c's services and their
 * instances (deps.h). Returns what dep_graph_new() returns: 0, -ENOENT
 * for a name that is no service or instance, -ELOOP for a cycle (with
 * *ret_error), -ENOMEM. */
int config_dep_graph(const Config *c, DepGraph **ret, DepError *ret_error);
const char *output_kind_to_string(OutputKind k);
const char *log_target_to_string(LogTarget t);
