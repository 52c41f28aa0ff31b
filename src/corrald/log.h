/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* corrald's own messages. One human line each on stderr:
 *     2026-11-23T04:15:58.123Z corrald: web@0: started, main PID 812
 * Every unit message also names an event (start, exit, stop, …), which
 * becomes a structured field when the journal is the target. */

#include <syslog.h>

#include <stdbool.h>
#include <sys/types.h>

#include "macro.h"

/* Where corrald's own messages go ([corral] log_target). */
typedef enum LogTarget {
        LOG_TARGET_AUTO, /* the journal when stderr is a journal stream */
        LOG_TARGET_JOURNAL,
        LOG_TARGET_STDERR,
        _LOG_TARGET_MAX,
        _LOG_TARGET_INVALID = -EINVAL,
} LogTarget;

/* Where a unit's stdout and stderr go ([program:NAME] output). */
typedef enum OutputKind {
        OUTPUT_AUTO, /* journal when corrald logs to the journal, else inherit */
        OUTPUT_JOURNAL,
        OUTPUT_INHERIT, /* read by corrald, written to its own stdout/stderr with the unit's name */
        OUTPUT_NULL,
        OUTPUT_FILE,        /* read by corrald, written to a file with rotation */
        OUTPUT_INHERIT_RAW, /* corrald's own stdout/stderr, passed to the child */
        _OUTPUT_KIND_MAX,
        _OUTPUT_KIND_INVALID = -EINVAL,
} OutputKind;

typedef enum LogEvent {
        LOG_EVENT_NONE,
        LOG_EVENT_START,
        LOG_EVENT_READY,
        LOG_EVENT_EXIT,
        LOG_EVENT_RESTART,
        LOG_EVENT_STOP,
        LOG_EVENT_KILL,
        LOG_EVENT_FAILED,
        LOG_EVENT_RELOAD,
        _LOG_EVENT_MAX,
} LogEvent;

/* Structured fields of a unit event, for the journal (CORRAL_PID,
 * CORRAL_EXIT_CODE, CORRAL_EXIT_SIGNAL, CORRAL_RESTARTS). */
typedef struct LogFields {
        pid_t pid;       /* 0: none */
        int exit_code;   /* -1: none */
        int exit_signal; /* 0: none */
        int restarts;    /* -1: none */
} LogFields;
#define LOG_FIELDS_NONE ((LogFields) { .pid = 0, .exit_code = -1, .exit_signal = 0, .restarts = -1 })

/* Chooses where corrald's messages go. LOG_TARGET_AUTO: the journal when
 * stderr is connected to it (JOURNAL_STREAM names stderr's device:inode),
 * stderr otherwise. */
void log_set_target(LogTarget target);
bool log_target_is_journal(void);

/* Opens what a unit's stdout and stderr should be: for OUTPUT_JOURNAL a
 * journal stream identified by the unit's name (sd_journal_stream_fd);
 * OUTPUT_NULL /dev/null; OUTPUT_FILE path opened for appending (created
 * 0640), never through a symbolic link (-ELOOP) and only when it is a
 * regular file (-EBADFD for a FIFO, device or socket; never blocks);
 * OUTPUT_AUTO the journal when log_target_is_journal(), otherwise
 * inherit. For OUTPUT_INHERIT *ret_fd is -EBADF: the child keeps corrald's
 * stdout and stderr. Returns 0 or -errno (e.g. no journal running). The
 * caller owns the fd. */
int log_unit_output(const char *unit, OutputKind kind, const char *path, int *ret_fd);

void log_set_max_level(int level);
int log_get_max_level(void);

/* "err", "warning", "notice", "info", "debug" <-> LOG_*; -EINVAL if unknown. */
int log_level_from_string(const char *s);
const char *log_level_to_string(int level);
const char *log_event_to_string(LogEvent e);

/* Writes one message when level is enabled. error is 0 or an errno value
 * of either sign; it is placed in errno so that the format may use %m.
 * Returns -abs(error), so that callers can write
 *     return log_error_errno(r, "…: %m"); */
int log_internal(int level, int error, const char *unit, LogEvent event, const char *format, ...) _printf_(5, 6);

/* The same with structured fields (may be NULL). */
int log_internal_fields(int level, int error, const char *unit, LogEvent event, const LogFields *fields,
                        const char *format, ...) _printf_(6, 7);

#define log_full_errno(level, error, ...) log_internal(level, error, NULL, LOG_EVENT_NONE, __VA_ARGS__)
#define log_debug(...) log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_full_errno(LOG_ERR, 0, __VA_ARGS__)
#define log_debug_errno(e, ...) log_full_errno(LOG_DEBUG, e, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_ERR, e, __VA_ARGS__)

/* One entry of the audit trail: who asked for what over the control
 * socket, and what came of it. */
typedef struct LogAudit {
        uid_t uid;
        gid_t gid;
        pid_t pid;
        const char *comm;    /* the peer's command name, or NULL */
        const char *request; /* "stop web@0 web@1", "reload" */
        const char *outcome; /* "ok", "refused", "error" */
        const char *detail;  /* the error's message, or NULL */
} LogAudit;

/* Logs a at level, as "control: stop web@0 by UID 1001 GID 1001 PID 4242
 * (corralctl): refused: permission denied" on stderr, and in the journal
 * with CORRAL_CLIENT_UID, CORRAL_CLIENT_GID, CORRAL_CLIENT_PID,
 * CORRAL_CLIENT_COMM, CORRAL_REQUEST and CORRAL_OUTCOME. */
void log_audit(int level, const LogAudit *a);

/* Messages about one unit: the unit's name leads the line. */
#define log_unit_full_errno(name, level, event, error, ...) log_internal(level, error, name, event, __VA_ARGS__)
#define log_unit_debug(name, ...) log_unit_full_errno(name, LOG_DEBUG, LOG_EVENT_NONE, 0, __VA_ARGS__)
#define log_unit_info(name, event, ...) log_unit_full_errno(name, LOG_INFO, event, 0, __VA_ARGS__)
#define log_unit_notice(name, event, ...) log_unit_full_errno(name, LOG_NOTICE, event, 0, __VA_ARGS__)
#define log_unit_warning(name, event, ...) log_unit_full_errno(name, LOG_WARNING, event, 0, __VA_ARGS__)
#define log_unit_warning_errno(name, event, e, ...) log_unit_full_errno(name, LOG_WARNING, event, e, __VA_ARGS__)
#define log_unit_error_errno(name, event, e, ...) log_unit_full_errno(name, LOG_ERR, event, e, __VA_ARGS__)
#define log_unit_fields(name, level, event, fields, ...) log_internal_fields(level, 0, name, event, fields, __VA_ARGS__)
