/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "log.h"

#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>
#include <time.h>

#include "time-util.h"

#define LOG_LINE_MAX 4096

static int log_max_level = LOG_INFO;

static const char *const log_level_table[] = {
        [LOG_ERR] = "err",
        [LOG_WARNING] = "warning",
        [LOG_NOTICE] = "notice",
        [LOG_INFO] = "info",
        [LOG_DEBUG] = "debug",
};

static const char *const log_event_table[_LOG_EVENT_MAX] = {
        [LOG_EVENT_NONE] = NULL,        [LOG_EVENT_START] = "start",
        [LOG_EVENT_READY] = "ready",    [LOG_EVENT_EXIT] = "exit",
        [LOG_EVENT_RESTART] = "restart", [LOG_EVENT_STOP] = "stop",
        [LOG_EVENT_KILL] = "kill",      [LOG_EVENT_FAILED] = "failed",
        [LOG_EVENT_RELOAD] = "reload",
};

void log_set_max_level(int level) {
        log_max_level = level;
}

int log_get_max_level(void) {
        return log_max_level;
}

int log_level_from_string(const char *s) {
        for (size_t i = 0; i < ELEMENTSOF(log_level_table); i++)
                if (log_level_table[i] && strcasecmp(log_level_table[i], s) == 0)
                        return (int) i;
        return -EINVAL;
}

const char *log_level_to_string(int level) {
        if (level < 0 || (size_t) level >= ELEMENTSOF(log_level_table))
                return NULL;
        return log_level_table[level];
}

const char *log_event_to_string(LogEvent e) {
        if (e < 0 || e >= _LOG_EVENT_MAX)
                return NULL;
        return log_event_table[e];
}

static void format_now(char *buf, size_t size) {
        usec_t t = now(CLOCK_REALTIME);
        time_t sec = (time_t) (t / USEC_PER_SEC);
        struct tm tm;

        if (!gmtime_r(&sec, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
                snprintf(buf, size, "?");
                return;
        }
        size_t n = strlen(buf);
        snprintf(buf + n, size - n, ".%03lluZ", (unsigned long long) (t % USEC_PER_SEC / USEC_PER_MSEC));
}

static const char *level_prefix(int level) {
        switch (level) {
        case LOG_ERR:
                return "error: ";
        case LOG_WARNING:
                return "warning: ";
        default:
                return "";
        }
}

int log_internal(int level, int error, const char *unit, LogEvent event, const char *format, ...) {
        char stamp[64], msg[LOG_LINE_MAX], line[LOG_LINE_MAX + 256];
        int saved = errno;
        va_list ap;

        if (level > log_max_level)
                return -ERRNO_VALUE(error);

        errno = ERRNO_VALUE(error);
        va_start(ap, format);
        (void) vsnprintf(msg, sizeof(msg), format, ap);
        va_end(ap);

        format_now(stamp, sizeof(stamp));
        int n = snprintf(line, sizeof(line), "%s corrald: %s%s%s%s\n", stamp, level_prefix(level),
                         unit ?: "", unit ? ": " : "", msg);
        if (n > 0) {
                size_t len = MIN((size_t) n, sizeof(line) - 1);
                line[len - 1] = '\n';
                (void) !write(STDERR_FILENO, line, len);
        }
        (void) event; /* a structured field once the journal is a target */
        errno = saved;
        return -ERRNO_VALUE(error);
}
