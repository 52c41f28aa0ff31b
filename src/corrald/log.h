/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* corrald's own messages. One human line each on stderr:
 *     2026-11-23T04:15:58.123Z corrald: web@0: started, main PID 812
 * Every unit message also names an event (start, exit, stop, …), which
 * becomes a structured field when the journal is the target. */

#include <syslog.h>

#include "macro.h"

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
int log_internal(int level, int error, const char *unit, LogEvent event, const char *format, ...)
        _printf_(5, 6);

#define log_full_errno(level, error, ...) log_internal(level, error, NULL, LOG_EVENT_NONE, __VA_ARGS__)
#define log_debug(...) log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_full_errno(LOG_ERR, 0, __VA_ARGS__)
#define log_debug_errno(e, ...) log_full_errno(LOG_DEBUG, e, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_ERR, e, __VA_ARGS__)

/* Messages about one unit: the unit's name leads the line. */
#define log_unit_full_errno(name, level, event, error, ...) \
        log_internal(level, error, name, event, __VA_ARGS__)
#define log_unit_debug(name, ...) log_unit_full_errno(name, LOG_DEBUG, LOG_EVENT_NONE, 0, __VA_ARGS__)
#define log_unit_info(name, event, ...) log_unit_full_errno(name, LOG_INFO, event, 0, __VA_ARGS__)
#define log_unit_notice(name, event, ...) log_unit_full_errno(name, LOG_NOTICE, event, 0, __VA_ARGS__)
#define log_unit_warning(name, event, ...) log_unit_full_errno(name, LOG_WARNING, event, 0, __VA_ARGS__)
#define log_unit_warning_errno(name, event, e, ...) \
        log_unit_full_errno(name, LOG_WARNING, event, e, __VA_ARGS__)
#define log_unit_error_errno(name, event, e, ...) \
        log_unit_full_errno(name, LOG_ERR, event, e, __VA_ARGS__)
