/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The configuration: INI files read with inih into plain structs, and
 * validated, with FILE:LINE: errors for the user. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "macro.h"
#include "time-util.h"

#define CONFIG_DEFAULT_FILE "/etc/corral/corral.conf"
#define CONFIG_DEFAULT_DROPIN_DIR "/etc/corral/conf.d"
#define CONFIG_DEFAULT_CONTROL_SOCKET "/run/corral/control.sock"
#define CONFIG_DEFAULT_STATE_DIR "/var/lib/corral"
#define CONFIG_NAME_MAX 64
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

typedef struct ServiceConfig {
        char *name;          /* the NAME of [program:NAME] */
        char *file;          /* where the section starts, for messages */
        unsigned line;

        char **command;      /* argv, split like shell words; never empty */
        char *directory;     /* NULL: "/" */
        char **environment;  /* "KEY=VALUE" entries, later ones win */
        char *user;          /* NULL: corrald's own user */
        char *group;         /* NULL: the user's primary group */
        mode_t umask;        /* default 0022 */
        bool autostart;      /* default true */
        int stop_signal;     /* default SIGTERM */
        usec_t stop_timeout; /* default 10s; 0: cgroup.kill at once */
        KillMode kill_mode;  /* default control-group */
        RestartPolicy restart; /* default on-failure */
        usec_t restart_delay;  /* default 100ms */
} ServiceConfig;

typedef struct Config {
        char *cgroup;         /* "cgroup =": a path in the cgroup2 hierarchy, or NULL */
        char *control_socket; /* default CONFIG_DEFAULT_CONTROL_SOCKET */
        char *state_dir;      /* default CONFIG_DEFAULT_STATE_DIR */
        int log_level;        /* LOG_ERR .. LOG_DEBUG, default LOG_INFO */

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
int config_load(char * const *files, Config **ret, char **ret_error);

/* Same as config_load() for one buffer, with filename used in messages.
 * For tests and fuzzers. */
int config_load_buffer(const char *filename, const char *buf, size_t len, Config **ret,
                       char **ret_error);

/* Looks up a service by name; NULL when there is none. */
ServiceConfig *config_find_service(const Config *c, const char *name);

/* True for a valid service name: 1..CONFIG_NAME_MAX of [A-Za-z0-9_-]. */
bool config_name_is_valid(const char *name);

const char *kill_mode_to_string(KillMode m);
KillMode kill_mode_from_string(const char *s);
const char *restart_policy_to_string(RestartPolicy p);
RestartPolicy restart_policy_from_string(const char *s);
