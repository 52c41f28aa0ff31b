/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "log.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>

/* CODE_FILE/CODE_LINE/CODE_FUNC would always name log.c; the unit and
 * event fields say where a message comes from. */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "parse-util.h"
#include "time-util.h"

#define LOG_LINE_MAX 4096

/* Room for "UNIT: " before a message, and for one short journal field
 * ("CORRAL_UNIT=" and a unit name of at most 64 characters, a number). */
#define LOG_PREFIX_MAX 256
#define LOG_FIELD_MAX 128

/* MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, CORRAL_UNIT, CORRAL_EVENT,
 * CORRAL_PID, CORRAL_EXIT_CODE, CORRAL_EXIT_SIGNAL, CORRAL_RESTARTS, ERRNO */
#define LOG_JOURNAL_FIELDS_MAX 10
/* MESSAGE, PRIORITY, SYSLOG_IDENTIFIER and the six CORRAL_CLIENT_… and
 * CORRAL_REQUEST/OUTCOME fields of an audit entry */
#define LOG_AUDIT_FIELDS 9

#define LOG_JOURNAL_SOCKET "/run/systemd/journal/socket"

static int log_max_level = LOG_INFO;

/* Whether messages go to the journal: -1 until decided (LOG_TARGET_AUTO
 * looks at stderr on first use). */
static int log_journal = -1;

static const char *const log_level_table[] = {
        [LOG_ERR] = "err",   [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
        [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

static const char *const log_event_table[_LOG_EVENT_MAX] = {
        [LOG_EVENT_NONE] = NULL,   [LOG_EVENT_START] = "start",     [LOG_EVENT_READY] = "ready",
        [LOG_EVENT_EXIT] = "exit", [LOG_EVENT_RESTART] = "restart", [LOG_EVENT_STOP] = "stop",
        [LOG_EVENT_KILL] = "kill", [LOG_EVENT_FAILED] = "failed",   [LOG_EVENT_RELOAD] = "reload",
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

/* One decimal number without sign or blanks, up to *ret_end. */
static int parse_decimal(const char *s, unsigned long long *ret, const char **ret_end) {
        size_t n = strspn(s, "0123456789");
        uint64_t v;
        int r = safe_atou64_n(s, n, 10, &v);

        if (r < 0)
                return r;
        *ret = v;
        *ret_end = s + n;
        return 0;
}

/* JOURNAL_STREAM as systemd sets it for a unit whose stdout or stderr is
 * a journal stream: "DEV:INODE" of that stream, in decimal
 * (systemd.exec(5)). */
static int parse_journal_stream(const char *s, dev_t *ret_dev, ino_t *ret_ino) {
        unsigned long long dev, ino;
        const char *p;

        if (!s || parse_decimal(s, &dev, &p) < 0 || *p != ':')
                return -EINVAL;
        if (parse_decimal(p + 1, &ino, &p) < 0 || *p != '\0')
                return -EINVAL;
        *ret_dev = (dev_t) dev;
        *ret_ino = (ino_t) ino;
        return 0;
}

/* The way systemd decides: stderr is the very stream that JOURNAL_STREAM
 * names, not merely inherited next to it. */
static bool stderr_is_journal(void) {
        struct stat st;
        dev_t dev;
        ino_t ino;

        if (parse_journal_stream(getenv("JOURNAL_STREAM"), &dev, &ino) < 0)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return st.st_dev == dev && st.st_ino == ino;
}

void log_set_target(LogTarget target) {
        switch (target) {
        case LOG_TARGET_JOURNAL:
                log_journal = true;
                break;
        case LOG_TARGET_STDERR:
                log_journal = false;
                break;
        default:
                log_journal = stderr_is_journal();
                break;
        }
}

bool log_target_is_journal(void) {
        if (log_journal < 0)
                log_set_target(LOG_TARGET_AUTO);
        return log_journal;
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

static void log_write_stderr(int level, const char *unit, const char *msg) {
        char stamp[64], line[LOG_LINE_MAX + LOG_PREFIX_MAX];

        format_now(stamp, sizeof(stamp));
        int n = snprintf(line, sizeof(line), "%s corrald: %s%s%s%s\n", stamp, level_prefix(level), unit ?: "",
                         unit ? ": " : "", msg);
        if (n <= 0)
                return;

        size_t len = MIN((size_t) n, sizeof(line) - 1);
        line[len - 1] = '\n';
        (void) !write(STDERR_FILENO, line, len);
}

/* One journal entry being built: iov[i] points into message (MESSAGE,
 * always first) or into fields[i]. */
typedef struct LogEntry {
        struct iovec iov[LOG_JOURNAL_FIELDS_MAX];
        size_t n;
        char message[sizeof("MESSAGE=") + LOG_PREFIX_MAX + LOG_LINE_MAX];
        char fields[LOG_JOURNAL_FIELDS_MAX][LOG_FIELD_MAX];
} LogEntry;

static void log_entry_addv(LogEntry *e, char *buf, size_t size, const char *format, va_list ap) {
        int k;

        if (e->n >= ELEMENTSOF(e->iov))
                return;
        k = vsnprintf(buf, size, format, ap);
        if (k < 0)
                return;
        e->iov[e->n++] = (struct iovec) { .iov_base = buf, .iov_len = MIN((size_t) k, size - 1) };
}

static _printf_(2, 3) void log_entry_add(LogEntry *e, const char *format, ...) {
        va_list ap;

        if (e->n >= ELEMENTSOF(e->fields))
                return;
        va_start(ap, format);
        log_entry_addv(e, e->fields[e->n], sizeof(e->fields[e->n]), format, ap);
        va_end(ap);
}

static _printf_(2, 3) void log_entry_add_message(LogEntry *e, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        log_entry_addv(e, e->message, sizeof(e->message), format, ap);
        va_end(ap);
}

static void log_entry_add_fields(LogEntry *e, const LogFields *f) {
        if (f->pid > 0)
                log_entry_add(e, "CORRAL_PID=%d", (int) f->pid);
        if (f->exit_code >= 0)
                log_entry_add(e, "CORRAL_EXIT_CODE=%d", f->exit_code);
        if (f->exit_signal > 0) {
                const char *name = signal_to_string(f->exit_signal);

                if (name)
                        log_entry_add(e, "CORRAL_EXIT_SIGNAL=%s", name);
                else
                        log_entry_add(e, "CORRAL_EXIT_SIGNAL=%d", f->exit_signal);
        }
        if (f->restarts >= 0)
                log_entry_add(e, "CORRAL_RESTARTS=%d", f->restarts);
}

/* Returns 0; -ENOENT when there is no journal socket (sd_journal_sendv()
 * then drops the message and returns 0, which would lose it); or -errno
 * from sd_journal_sendv() (e.g. -ECONNREFUSED when journald is gone). */
static int log_write_journal(int level, int error, const char *unit, LogEvent event, const LogFields *fields,
                             const char *msg) {
        const char *event_name = log_event_to_string(event);
        LogEntry e;

        if (access(LOG_JOURNAL_SOCKET, F_OK) < 0)
                return -errno;

        e.n = 0;
        log_entry_add_message(&e, "MESSAGE=%s%s%s", unit ?: "", unit ? ": " : "", msg);
        log_entry_add(&e, "PRIORITY=%d", level);
        log_entry_add(&e, "SYSLOG_IDENTIFIER=corrald");
        if (unit)
                log_entry_add(&e, "CORRAL_UNIT=%s", unit);
        if (event_name)
                log_entry_add(&e, "CORRAL_EVENT=%s", event_name);
        if (fields)
                log_entry_add_fields(&e, fields);
        if (error != 0)
                log_entry_add(&e, "ERRNO=%d", ERRNO_VALUE(error));

        return sd_journal_sendv(e.iov, (int) e.n);
}

static int log_internalv(int level, int error, const char *unit, LogEvent event, const LogFields *fields,
                         const char *format, va_list ap) {
        char msg[LOG_LINE_MAX];
        int saved = errno;

        if (level > log_max_level)
                return -ERRNO_VALUE(error);

        errno = ERRNO_VALUE(error);
        (void) vsnprintf(msg, sizeof(msg), format, ap);

        if (!log_target_is_journal() || log_write_journal(level, error, unit, event, fields, msg) < 0)
                log_write_stderr(level, unit, msg);

        errno = saved;
        return -ERRNO_VALUE(error);
}

int log_internal(int level, int error, const char *unit, LogEvent event, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = log_internalv(level, error, unit, event, /* fields= */ NULL, format, ap);
        va_end(ap);
        return r;
}

int log_internal_fields(int level, int error, const char *unit, LogEvent event, const LogFields *fields,
                        const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = log_internalv(level, error, unit, event, fields, format, ap);
        va_end(ap);
        return r;
}

static int output_open(const char *path, int flags, int *ret_fd) {
        int fd = open(path, flags, 0640);

        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

/* OUTPUT_FILE, opened by corrald (as root, usually) at each start in a
 * directory the unit may be able to write: never through a symbolic link
 * (root would append to whatever it names: ELOOP), and only a regular
 * file — a FIFO would block the event loop in open() (so O_NONBLOCK, for
 * the open only; without a reader it fails with ENXIO), a device or a
 * socket has effects of its own. */
static int output_open_file(const char *path, int *ret_fd) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int flags;

        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK, 0640);
        if (fd < 0)
                return errno == ENXIO ? -EBADFD : -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int output_open_journal(const char *unit, int *ret_fd) {
        _cleanup_close_ int fd = -EBADF;
        int flags;

        fd = sd_journal_stream_fd(unit, LOG_INFO, /* level_prefix= */ 1);
        if (fd < 0)
                return fd;

        /* sd_journal_stream_fd(3) does not promise close-on-exec; the child
         * gets the stream through dup2(), never through this fd. */
        flags = fcntl(fd, F_GETFD);
        if (flags < 0)
                return -errno;
        if (!(flags & FD_CLOEXEC) && fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0)
                return -errno;

        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int output_inherit(int *ret_fd) {
        *ret_fd = -EBADF;
        return 0;
}

int log_unit_output(const char *unit, OutputKind kind, const char *path, int *ret_fd) {
        switch (kind) {
        case OUTPUT_AUTO:
                return log_target_is_journal() ? output_open_journal(unit, ret_fd) : output_inherit(ret_fd);
        case OUTPUT_JOURNAL:
                return output_open_journal(unit, ret_fd);
        case OUTPUT_INHERIT:
                return output_inherit(ret_fd);
        case OUTPUT_NULL:
                return output_open("/dev/null", O_WRONLY | O_CLOEXEC | O_NOCTTY, ret_fd);
        case OUTPUT_FILE:
                if (!path)
                        return -EINVAL;
                return output_open_file(path, ret_fd);
        default:
                return -EINVAL;
        }
}

/* ---- the audit trail ---- */

static int log_audit_journal(int level, const LogAudit *a, const char *msg) {
        char fields[LOG_AUDIT_FIELDS - 1][LOG_FIELD_MAX + 512];
        struct iovec iov[LOG_AUDIT_FIELDS];
        _cleanup_free_ char *message = NULL;
        size_t n = 0;

        if (access(LOG_JOURNAL_SOCKET, F_OK) < 0)
                return -errno;
        if (asprintf(&message, "MESSAGE=%s", msg) < 0)
                return -ENOMEM;
        iov[n++] = (struct iovec) { .iov_base = message, .iov_len = strlen(message) };
#define AUDIT_FIELD(...)                                                                                    \
        do {                                                                                                \
                int _k = snprintf(fields[n - 1], sizeof(fields[n - 1]), __VA_ARGS__);                       \
                iov[n] = (struct iovec) { .iov_base = fields[n - 1],                                        \
                                          .iov_len = MIN((size_t) MAX(_k, 0), sizeof(fields[n - 1]) - 1) }; \
                n++;                                                                                        \
        } while (0)
        AUDIT_FIELD("PRIORITY=%d", level);
        AUDIT_FIELD("SYSLOG_IDENTIFIER=corrald");
        AUDIT_FIELD("CORRAL_CLIENT_UID=%u", (unsigned) a->uid);
        AUDIT_FIELD("CORRAL_CLIENT_GID=%u", (unsigned) a->gid);
        AUDIT_FIELD("CORRAL_CLIENT_PID=%d", (int) a->pid);
        AUDIT_FIELD("CORRAL_CLIENT_COMM=%s", a->comm ?: "");
        AUDIT_FIELD("CORRAL_REQUEST=%s", a->request);
        AUDIT_FIELD("CORRAL_OUTCOME=%s", a->outcome);
#undef AUDIT_FIELD
        return sd_journal_sendv(iov, (int) n);
}

void log_audit(int level, const LogAudit *a) {
        char msg[LOG_LINE_MAX];

        if (level > log_max_level)
                return;
        snprintf(msg, sizeof(msg), "control: %s by UID %u GID %u PID %d (%s): %s%s%s", a->request, (unsigned) a->uid,
                 (unsigned) a->gid, (int) a->pid, a->comm ?: "?", a->outcome, a->detail ? ": " : "", a->detail ?: "");
        if (!log_target_is_journal() || log_audit_journal(level, a, msg) < 0)
                log_write_stderr(level, /* unit= */ NULL, msg);
}
