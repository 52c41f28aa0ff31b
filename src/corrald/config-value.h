/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Parsers of single configuration values. Each parses value, the value of
 * key, into field (a member of Config, ServiceConfig or one of its blocks, as the key table
 * says), replacing what was there (for the strv of a repeatable key:
 * adding to it). Returns 0; -EINVAL with a message (without FILE:LINE:,
 * which the caller adds; the caller frees it) in *ret_message; or -ENOMEM
 * (no message). After a failure field may be half written (a list keeps
 * the words before the bad one): the load fails as a whole. Pure: no I/O.
 * A parser whose key fills two members (output, port, port_range,
 * restart_prevent_exit_status) or checks the service's name (instances)
 * is given the first member and reaches the struct with offsetof(). */

typedef int (*ConfigParseFunc)(const char *key, const char *value, void *field, char **ret_message);

/* An absolute path (a string). */
int config_parse_absolute_path(const char *key, const char *value, void *field, char **ret_message);
/* A cgroup path below the root: /corral. */
/* metrics_listen: what listen_address_parse() accepts. */
int config_parse_listen_address(const char *key, const char *value, void *field, char **ret_message);

int config_parse_cgroup(const char *key, const char *value, void *field, char **ret_message);
/* err, warning, notice, info, debug (an int LOG_*). */
int config_parse_log_level(const char *key, const char *value, void *field, char **ret_message);
/* An absolute path that may hold ${NAME}, ${INSTANCE}, ${PORT}. */
int config_parse_directory(const char *key, const char *value, void *field, char **ret_message);
/* Words split like a shell's, the first not empty (a strv); variables checked. */
int config_parse_command(const char *key, const char *value, void *field, char **ret_message);
/* KEY=VALUE words, added to the strv (later keys win); variables checked. */
int config_parse_environment(const char *key, const char *value, void *field, char **ret_message);
/* A user or group name or number, resolved only at start (a string). */
int config_parse_user_group(const char *key, const char *value, void *field, char **ret_message);
/* An octal mode up to 0777 (a mode_t). */
int config_parse_umask(const char *key, const char *value, void *field, char **ret_message);
/* Yes/no, true/false, on/off, 1/0 (a bool). */
int config_parse_bool(const char *key, const char *value, void *field, char **ret_message);
/* A signal name or number (an int). */
int config_parse_signal(const char *key, const char *value, void *field, char **ret_message);
/* A time span like 1min 30s (a usec_t). */
int config_parse_timespan(const char *key, const char *value, void *field, char **ret_message);
/* Control-group or mixed (a KillMode). */
int config_parse_kill_mode(const char *key, const char *value, void *field, char **ret_message);
/* Always, on-failure or never (a RestartPolicy). */
int config_parse_restart(const char *key, const char *value, void *field, char **ret_message);
/* Exec, notify or health (a ReadyMode). */
int config_parse_ready(const char *key, const char *value, void *field, char **ret_message);
/* Main or cgroup (an ExitType). */
int config_parse_exit_type(const char *key, const char *value, void *field, char **ret_message);
/* Auto, journal or stderr (a LogTarget). */
int config_parse_log_target(const char *key, const char *value, void *field, char **ret_message);
/* Auto, journal, inherit, null or file:PATH (field: ServiceExtras.output; the path goes to .output_path). */
int config_parse_output(const char *key, const char *value, void *field, char **ret_message);
/* log_buffer: a size from CONFIG_LOG_BUFFER_MIN to _MAX (field: size_t). */
int config_parse_log_buffer(const char *key, const char *value, void *field, char **ret_message);
/* output_max_size: 0 (or max, infinity: no rotation) or a size of at least
 * CONFIG_OUTPUT_MAX_SIZE_MIN (field: uint64_t). */
int config_parse_output_max_size(const char *key, const char *value, void *field, char **ret_message);
/* output_max_files: 1 to CONFIG_OUTPUT_MAX_FILES_MAX (field: unsigned). */
int config_parse_output_max_files(const char *key, const char *value, void *field, char **ret_message);
/* output_stderr: file:PATH, or "output" (stderr where stdout goes; field: char *, NULL). */
int config_parse_output_stderr(const char *key, const char *value, void *field, char **ret_message);
/* A number above 0 (an unsigned). */
int config_parse_positive(const char *key, const char *value, void *field, char **ret_message);
/* 1..CONFIG_INSTANCES_MAX, with NAME@N-1 a valid name (field: ServiceConfig.instances). */
int config_parse_instances(const char *key, const char *value, void *field, char **ret_message);
/* Exit codes 0..255 and signal names (field: ServiceRestartPrevent.prevent_exit_status;
 * signals go to .prevent_exit_signal). */
int config_parse_prevent(const char *key, const char *value, void *field, char **ret_message);
/* LOW-HIGH within 1..65535 (field: Config.port_min; HIGH goes to .port_max). */
int config_parse_port_range(const char *key, const char *value, void *field, char **ret_message);
/* Auto or 1..65535 (field: ServiceConfig.port_mode; the number goes to .port). */
int config_parse_port(const char *key, const char *value, void *field, char **ret_message);
/* An http:// or https:// URL; variables checked (a string). */
int config_parse_health_url(const char *key, const char *value, void *field, char **ret_message);
/* HTTP status codes and ranges within 100..599 (a HealthStatusSet). */
int config_parse_health_status(const char *key, const char *value, void *field, char **ret_message);
/* A cgroup limit, chosen by key (one of cgroup_limit_key()), written as the
 * kernel file takes it (a string). */
int config_parse_limit(const char *key, const char *value, void *field, char **ret_message);
/* N, SOFT:HARD or infinity (a ResourceLimit). */
int config_parse_rlimit(const char *key, const char *value, void *field, char **ret_message);
/* Environment variable names, added to the strv. */
int config_parse_names(const char *key, const char *value, void *field, char **ret_message);
/* Simple or oneshot (a ServiceType). */
int config_parse_service_type(const char *key, const char *value, void *field, char **ret_message);
/* Names of services or of instances (NAME@N), added to the strv; whether
 * they exist is checked once every file is read (config-validate.c). */
int config_parse_unit_names(const char *key, const char *value, void *field, char **ret_message);
/* Absolute paths, each optionally prefixed with '-' (a file that may be
 * missing), added to the strv as written. */
int config_parse_environment_files(const char *key, const char *value, void *field, char **ret_message);

/* "$" → "$$": a literal that the variable expansion of command and
 * environment gives back unchanged (a job's argv and environment). NULL on
 * out of memory; the caller frees it. */
char *config_value_escape(const char *s);

/* Appends config_value_escape(s) to the NULL-terminated *l. Returns 0 or
 * -ENOMEM. */
int config_value_escape_append(char ***l, const char *s);
