/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The INI reader and the key table: inside the config module only (and
 * its tests). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config-value.h"
#include "config.h"

/* How a reload treats a change of a [program:NAME] key (see config-diff.h).
 * RESTART is 0, so that a key written without a class restarts. */
typedef enum ConfigKeyDiff {
        CONFIG_DIFF_RESTART,  /* service_config_equal() and the hash */
        CONFIG_DIFF_IN_PLACE, /* service_config_limits_equal() only */
        CONFIG_DIFF_NONE,     /* neither (instances) */
        _CONFIG_DIFF_MAX,
        _CONFIG_DIFF_INVALID = -EINVAL,
} ConfigKeyDiff;

/* How a member of ServiceConfig is compared and hashed. */
typedef enum ConfigFieldType {
        CONFIG_FIELD_UNUSED, /* no member: the end of a key's list */
        CONFIG_FIELD_PLAIN,  /* byte by byte: numbers, enums, bools, arrays and structs of them without padding */
        CONFIG_FIELD_STRING, /* char *, NULL or a string */
        CONFIG_FIELD_STRV,   /* char **, NULL or a list */
        CONFIG_FIELD_RLIMIT, /* ResourceLimit, member by member (it has padding) */
} ConfigFieldType;

typedef struct ConfigField {
        ConfigFieldType type;
        ConfigBlock block;   /* CONFIG_BLOCK_NONE: a member of ServiceConfig; else of that block */
        size_t offset, size; /* in ServiceConfig or in the block */
} ConfigField;

#define CONFIG_KEY_FIELDS_MAX 2

typedef struct ConfigKey {
        const char *key;
        ConfigParseFunc parse;
        ConfigBlock block; /* [program:NAME]: the block the field is in, allocated before parse */
        size_t offset;     /* of the field in Config, ServiceConfig or the block that parse is given */
        bool repeatable;   /* may appear more than once per section */
        bool allow_empty;
        /* [program:NAME] keys only: */
        ConfigKeyDiff diff;
        ConfigField fields[CONFIG_KEY_FIELDS_MAX]; /* every member that parse writes */
        const char *sample;                        /* a valid value other than the default (tests/test-config-diff.c) */
} ConfigKey;

extern const ConfigKey config_corral_keys[];
extern const size_t config_n_corral_keys;
extern const ConfigKey config_program_keys[];
extern const size_t config_n_program_keys;

/* Parses one file's bytes into c (which may hold what earlier files set),
 * checking each service as its section ends (config-validate.c). A UTF-8
 * BOM is skipped. Returns 0, or -EINVAL (bad content) or -ENOMEM with the
 * message "FILENAME:LINE: …" in *ret_error (NULL after OOM; the caller
 * frees it). c is left half-filled on failure. */
int config_parse_buffer(Config *c, const char *filename, const char *buf, size_t len, char **ret_error);

/* Whether every member of key k is the same in a and b (config-diff.c). */
bool config_key_equal(const ConfigKey *k, const ServiceConfig *a, const ServiceConfig *b);

/* Appends a service to c, which takes the reference (config.c). Returns 0
 * or -ENOMEM. */
int config_add_service(Config *c, ServiceConfig *s);
