/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* libcorral: the client side of corrald's control socket (docs/PROTOCOL.md).
 *
 * Conventions, for every function below unless it says otherwise:
 *
 *   - A function that can fail returns an int: 0 (or a documented positive
 *     value) on success, a negative errno value on failure. An error reply
 *     of the daemon comes back as the negative of its "code" (-ENOENT for
 *     "no such unit", -EPERM, -EBUSY, -ESHUTDOWN, -EOPNOTSUPP, -EINVAL, …);
 *     corral_last_error() then holds the daemon's message.
 *   - Errors of the connection itself: -ECONNRESET when corrald closed the
 *     connection, -E2BIG for a request longer than 64 KiB (refused before it
 *     is sent), a reply line longer than 1 MiB or a reply of more than
 *     256 MiB in all (a long reply comes in pages, which the library
 *     joins), -EBADMSG for a reply that
 *     is not the JSON the protocol describes, -ENOTCONN for a call on a
 *     connection that an earlier such error left unusable (open a new one),
 *     -ENOMEM, and whatever socket(2), connect(2), send(2), recv(2) return.
 *     Calls restart after EINTR.
 *   - Output parameters (ret*) are written only on success; what they
 *     return belongs to the caller, who frees it with the matching *_free()
 *     (strings with free()). Every *_free() and corral_close() accepts NULL
 *     and returns NULL.
 *   - Strings are UTF-8; a string argument that is not valid UTF-8 is
 *     -EINVAL. Vectors of strings are NULL-terminated.
 *   - A corral handle is one connection and may be used by one thread at a
 *     time. Requests are synchronous: each call sends one request and reads
 *     its reply. Objects returned (corral_units, corral_event) are
 *     independent of the handle and may outlive it.
 *   - The library never raises SIGPIPE and writes nothing to stdout or
 *     stderr. */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A connection to corrald. */
typedef struct corral corral;
/* A list of units, as a reply carried them. */
typedef struct corral_units corral_units;
/* One unit of a corral_units; owned by it. */
typedef struct corral_unit corral_unit;
/* One state change of a unit, from an event stream. */
typedef struct corral_event corral_event;

/* The socket when neither the caller nor $CORRAL_SOCKET names one. */
#define CORRAL_DEFAULT_SOCKET "/run/corral/control.sock"

/* ---- connection ---- */

/* Connects to corrald at socket_path; NULL means $CORRAL_SOCKET when set
 * (and the program is not set-uid), else CORRAL_DEFAULT_SOCKET.
 * Returns 0 with a new handle in *ret. Errors: -ENOENT (no socket: is
 * corrald running?), -ECONNREFUSED (a socket nobody listens on), -EACCES
 * (not allowed to connect: root or control_group), -ENAMETOOLONG (a path
 * longer than a Unix socket address holds), -EINVAL (ret is NULL, or an
 * empty path), -ENOMEM. The caller owns the handle: corral_close(). */
int corral_open(const char *socket_path, corral **ret);

/* Closes the connection and frees the handle. Accepts NULL; returns NULL. */
corral *corral_close(corral *c);

/* The connection's file descriptor, for poll(2) integration of an event
 * stream (POLLIN). The library may already have buffered events: after
 * POLLIN, call corral_next_event(c, 0, …) until it returns -ETIMEDOUT.
 * The handle keeps owning the descriptor. Returns the fd, or -EINVAL for a
 * NULL handle. */
int corral_fd(const corral *c);

/* The message of the daemon's error reply to the last call on c (e.g.
 * "no such unit: web@9", or the "file:line: …" of an invalid configuration
 * for corral_reload()), or NULL when the last call succeeded or failed
 * without an error reply (a local or connection error). Owned by c; valid
 * until the next call on c. */
const char *corral_last_error(const corral *c);

/* ---- units ---- */

/* Asks for the state of the units named in names, or of every unit when
 * names is NULL or empty. Returns 0 with the units in *ret, in the order of
 * the reply. Errors: -ENOENT when a named unit does not exist, -EPERM when
 * the caller may not read, the connection errors above. The caller owns
 * *ret: corral_units_free(). */
int corral_status(corral *c, const char *const *names, corral_units **ret);

/* corral_status_flags() flags */
#define CORRAL_STATUS_NO_STATS (1u << 0) /* no statistics: cpu, memory, tasks, frozen */

/* corral_status() with flags. CORRAL_STATUS_NO_STATS leaves out what
 * corrald reads from each unit's cgroup and /proc (some 30 µs a unit:
 * 300 ms of a status of 10,000 units); the statistics' getters then say
 * "absent" (corral_unit_cpu_usec() UINT64_MAX, corral_unit_frozen() 0, …).
 * A corrald older than this flag sends them anyway. -EINVAL for an unknown
 * flag. */
int corral_status_flags(corral *c, const char *const *names, unsigned flags, corral_units **ret);

/* corral_status_flags() in pages: handler gets the units of each page of
 * the reply as it arrives (corrald sends a long status in pages of
 * some 256 KiB, about 1,000 units each), in the order of the reply, and the
 * page is freed when handler returns — so a status of 10,000 units is never
 * held whole, and a program can print or count each page while corrald
 * makes the next. The page and its units are owned by the library and
 * valid only during the call; handler returns 0, or a negative errno that
 * ends the calls: the rest of the reply is still read (and dropped), so
 * the handle stays usable, and that error is returned. Returns 0 once every
 * page was handled, or the errors of corral_status_flags() (an error
 * reply, or a connection error, may come after some pages were handled).
 * -EINVAL for a NULL handler or an unknown flag. */
typedef int (*corral_units_handler)(corral_units *page, void *userdata);
int corral_status_pages(corral *c, const char *const *names, unsigned flags, corral_units_handler handler,
                        void *userdata);

/* corral_status_pages() for a program that passes the units on as JSON
 * without reading them (corralctl status --json): handler gets each page
 * as the text of a JSON array of Unit objects (docs/PROTOCOL.md), never
 * empty, as corrald made it — unparsed, so that a status of 10,000 units
 * (some 2 MB) costs the client a copy instead of a parse and a dump.
 * json is NUL-terminated, len its length; both valid during the call only.
 * With a corrald older than this call the library makes the same text
 * from each page it parsed. Returns as corral_status_pages(). */
typedef int (*corral_json_handler)(const char *json, size_t len, void *userdata);
int corral_status_json_pages(corral *c, const char *const *names, unsigned flags, corral_json_handler handler,
                             void *userdata);

/* The number of units in u (0 for NULL). */
size_t corral_units_count(const corral_units *u);

/* The unit at index i, or NULL when i is out of range. Owned by u. */
const corral_unit *corral_units_get(const corral_units *u, size_t i);

/* The reply's "units" array as compact JSON text on one line (no newline),
 * for programs that print or forward it, made on the first call. Owned
 * by u; NULL for NULL, or when out of memory. */
const char *corral_units_json(const corral_units *u);

/* Frees u and every unit and string it holds. Accepts NULL; returns NULL. */
corral_units *corral_units_free(corral_units *u);

/* Accessors of a unit. Strings are owned by the corral_units the unit
 * came from. A field that the reply lacks (or that is null) reads as NULL
 * for strings, UINT64_MAX for uint64_t values, 0 for main_pid (there is no
 * main process), -1 for exit_status, (uid_t) -1 for owner_uid and 0 for
 * frozen. Each accepts NULL as if every field were absent. */

/* The unit's name ("web@0", "job-7f3a09c2"). */
const char *corral_unit_name(const corral_unit *u);
/* "service" or "job". */
const char *corral_unit_kind(const corral_unit *u);
/* "inactive", "starting", "running", "stopping", "backoff", "failed" or
 * "exited" (a oneshot service that ran to completion with status 0). */
const char *corral_unit_state(const corral_unit *u);
/* How the unit last ended: "success", "exit-code", "signal", "core-dump",
 * "timeout", "cancelled", "spawn-failed", "start-limit", …;
 * corral_unit_result_enum() gives it as a corral_result. */
const char *corral_unit_result(const corral_unit *u);
/* The PID of the main process corrald started, 0 when there is none. For
 * display: a bare PID does not prove a process' identity. */
pid_t corral_unit_main_pid(const corral_unit *u);
/* Microseconds since the unit's main process started. */
uint64_t corral_unit_uptime_usec(const corral_unit *u);
/* How many times corrald restarted the unit. */
uint64_t corral_unit_restarts(const corral_unit *u);
/* How the main process last ended: "exited", "killed", "dumped", or NULL
 * when it has not ended yet. */
const char *corral_unit_exit_code(const corral_unit *u);
/* With exit_code "exited" the exit status, with "killed"/"dumped" the
 * signal number; -1 when the main process has not ended. */
int corral_unit_exit_status(const corral_unit *u);
/* The last STATUS= the unit sent over sd_notify, or NULL. */
const char *corral_unit_status_text(const corral_unit *u);
/* CPU time used by the unit's processes, in microseconds. */
uint64_t corral_unit_cpu_usec(const corral_unit *u);
/* Memory used by the unit, in bytes; see corral_unit_memory_source(). */
uint64_t corral_unit_memory_bytes(const corral_unit *u);
/* Where memory_bytes comes from: "memory.current" (the cgroup's charge)
 * or "rss" (the sum of its processes' resident sets, where the memory
 * controller is not available). */
const char *corral_unit_memory_source(const corral_unit *u);
/* The number of tasks (threads) in the unit's cgroup. */
uint64_t corral_unit_tasks(const corral_unit *u);
/* 1 when the unit's cgroup is frozen, 0 otherwise. */
int corral_unit_frozen(const corral_unit *u);
/* The user that owns the unit (the submitter of a job; 0 for services). */
uid_t corral_unit_owner_uid(const corral_unit *u);
/* Why the unit's last start or run failed, as corrald logged it, or NULL. */
const char *corral_unit_error(const corral_unit *u);
/* The unit's processes, when its status was asked for by name
 * (corral_status() with names): how many, and each one's PID, parent PID
 * and command line (NULL past the end). */
size_t corral_unit_process_count(const corral_unit *u);
pid_t corral_unit_process_pid(const corral_unit *u, size_t i);
pid_t corral_unit_process_ppid(const corral_unit *u, size_t i);
const char *corral_unit_process_cmdline(const corral_unit *u, size_t i);
/* The unit as compact JSON text (one line, no newline), made on the first
 * call. Owned by the corral_units the unit came from; NULL when out of
 * memory. */
const char *corral_unit_json(const corral_unit *u);

/* Since LIBCORRAL_0.3. */

/* The unit's TCP port (port = auto or a fixed one), 0 when it has none. */
int corral_unit_port(const corral_unit *u);
/* When the unit entered its current state: CLOCK_REALTIME, microseconds
 * since the epoch (UINT64_MAX when corrald does not say). */
uint64_t corral_unit_since_usec(const corral_unit *u);
/* Why the unit was last restarted or failed, in corrald's words:
 * "unhealthy", "exit-code 3", "signal KILL", "watchdog", "timeout",
 * "start-limit", "spawn", …; NULL when it never was. */
const char *corral_unit_reason(const corral_unit *u);
/* Whether the unit has health checks: 1 when its last check passed, 0
 * when it failed, -1 when it has no health checks (or none has ended). */
int corral_unit_health_ok(const corral_unit *u);
/* The HTTP status of the last check (0: no response, -1: no checks). */
int corral_unit_health_http_status(const corral_unit *u);
/* How long the last check took, in microseconds. */
uint64_t corral_unit_health_latency_usec(const corral_unit *u);
/* Failed checks in a row (0 after a pass). */
uint64_t corral_unit_health_failures(const corral_unit *u);
/* Microseconds since the last check ended. */
uint64_t corral_unit_health_age_usec(const corral_unit *u);
/* Why the last check failed ("HTTP 500", curl's message), or NULL. */
const char *corral_unit_health_error(const corral_unit *u);

/* The last n (1..1000) journal lines of unit, oldest first: corrald's own
 * entries about it (CORRAL_UNIT=) and the unit's output when it goes to the
 * journal (SYSLOG_IDENTIFIER=), formatted "Nov 23 04:55:27 web@0[812]: …".
 * Read on this side, as systemctl status does: it needs permission to read
 * the journal. libsystemd (libsystemd.so.0) is mapped by the first of the
 * corral_journal_…() calls, not before: a program that never reads the
 * journal does not load it. Returns how many lines, with a NULL-terminated
 * array in *ret_lines to free with corral_strv_free(); -EINVAL;
 * -EOPNOTSUPP when libsystemd cannot be loaded; -errno from sd-journal. */
int corral_journal_tail(const char *unit, unsigned n, char ***ret_lines);
void corral_strv_free(char **lines);

/* ---- output (docs/PROTOCOL.md, "logs") ---- */

/* One line a unit wrote. */
typedef struct corral_log_line corral_log_line;
/* The lines of a logs reply (or read from the journal), oldest first. */
typedef struct corral_logs corral_logs;

/* corral_logs_query.lines: every line corrald still holds. */
#define CORRAL_LOGS_ALL UINT32_MAX

/* What to ask for. Zero-initialise it and set what you need. */
typedef struct corral_logs_query {
        const char *const *units; /* these units; NULL or empty: every unit */
        uint32_t lines;           /* the last lines, across the units (0: none; CORRAL_LOGS_ALL) */
        uint64_t since_usec;      /* only lines from then on (CLOCK_REALTIME, µs); 0: no bound */
        int follow;               /* non-zero: then new lines, as corral_next_log_line() reads them */
} corral_logs_query;

/* Asks corrald for the last lines its units wrote, merged in time order.
 * corrald keeps them for units whose output it reads (every output but
 * journal, null and inherit-raw); for units whose output goes to the
 * journal it names them instead (corral_logs_journal_units()): read
 * those with corral_journal_logs() on this side. With q->follow, the
 * connection then carries every new line of those units until it is
 * closed, and every other request on c fails with -EBUSY. Returns 0 with
 * the lines in *ret. Errors: -EINVAL (q NULL), -ENOENT (no such unit),
 * -EPERM, -EOPNOTSUPP (a corrald without the method), the connection
 * errors above. The caller owns *ret: corral_logs_free(). */
int corral_read_logs(corral *c, const corral_logs_query *q, corral_logs **ret);

/* The next line of a follow (corral_read_logs() with follow), waiting up to
 * timeout_ms milliseconds (-1: for ever, 0: only what has arrived).
 * Returns 0 with the line in *ret (the caller owns it:
 * corral_log_line_free()), or a positive number n when corrald dropped n
 * lines because this reader fell behind (*ret untouched). Errors:
 * -ETIMEDOUT, -EINVAL (not following), -ECONNRESET (corrald closed the
 * connection), the connection errors above. */
int corral_next_log_line(corral *c, int timeout_ms, corral_log_line **ret);

/* The number of lines in l, and the line at index i (NULL out of range;
 * owned by l). */
size_t corral_logs_count(const corral_logs *l);
const corral_log_line *corral_logs_get(const corral_logs *l, size_t i);
/* The units of the query whose output is in the journal, NULL-terminated
 * (owned by l; never NULL for a corral_logs from corral_read_logs()). */
const char *const *corral_logs_journal_units(const corral_logs *l);
/* How many of the lines asked for corrald left out, the oldest, to keep
 * its answer within 512 KiB (0 for journal lines). */
size_t corral_logs_omitted(const corral_logs *l);
/* Moves every line of from into into, keeping the time order (a stable
 * merge: lines of equal time keep their order, into's first), then keeps
 * only the last max lines (CORRAL_LOGS_ALL: all). from is freed in any
 * case. Returns 0 or -ENOMEM (into unchanged, from freed). */
int corral_logs_merge(corral_logs *into, corral_logs *from, uint32_t max);
corral_logs *corral_logs_free(corral_logs *l);

/* Accessors of a line, owned by it. */
const char *corral_log_line_unit(const corral_log_line *l);
/* "stdout" or "stderr" ("stdout" for journal lines, whose stream the
 * journal does not keep apart). */
const char *corral_log_line_stream(const corral_log_line *l);
/* 1 for a line from stderr, 0 otherwise. */
int corral_log_line_is_stderr(const corral_log_line *l);
/* When corrald read it (CLOCK_REALTIME, µs). */
uint64_t corral_log_line_timestamp_usec(const corral_log_line *l);
/* The text, without its newline, as valid UTF-8: bytes that were not
 * (and NUL bytes) arrive as U+FFFD. */
const char *corral_log_line_text(const corral_log_line *l);
/* 1 when the line was longer than corrald's line limit (16 KiB, less for
 * a small log_buffer) and goes on in the next line of the same unit and
 * stream; 0 otherwise. */
int corral_log_line_split(const corral_log_line *l);
/* 1 when the stream ended before a newline; 0 otherwise. */
int corral_log_line_partial(const corral_log_line *l);
/* The line as compact JSON text (one line, no newline). */
const char *corral_log_line_json(const corral_log_line *l);
corral_log_line *corral_log_line_free(corral_log_line *l);

/* The last lines (at most max, CORRAL_LOGS_ALL: no bound; from since_usec
 * on, 0: no bound) that the named units (at least one) wrote to the
 * journal (SYSLOG_IDENTIFIER=), read on this side like
 * corral_journal_tail(). Returns 0 with the lines in *ret (no journal
 * units); -EINVAL; -EOPNOTSUPP without libsystemd; -errno from sd-journal. */
int corral_journal_logs(const char *const *units, uint32_t max, uint64_t since_usec, corral_logs **ret);

/* Following the journal on this side, for corral_logs_query.follow on
 * journal units: opened at the journal's end. */
typedef struct corral_journal_follow corral_journal_follow;
/* Returns 0 with the follower in *ret; -EINVAL; -EOPNOTSUPP without
 * libsystemd; -errno from sd-journal. */
int corral_journal_follow_open(const char *const *units, corral_journal_follow **ret);
/* The fd to poll(2) for POLLIN (owned by f), or -errno. */
int corral_journal_follow_fd(corral_journal_follow *f);
/* The next new line: 0 with it in *ret (the caller owns it), -EAGAIN when
 * there is none now (poll the fd), -errno from sd-journal. */
int corral_journal_follow_next(corral_journal_follow *f, corral_log_line **ret);
corral_journal_follow *corral_journal_follow_close(corral_journal_follow *f);

/* ---- changing units ---- */

/* Start, stop, restart, freeze (cgroup.freeze) or thaw the units named in
 * names (at least one). They return once corrald has applied the request,
 * not when the units have finished starting or stopping: follow them with
 * corral_status() or an event stream. Returns 0. Errors: -EINVAL (names
 * NULL or empty), -ENOENT (no such unit; nothing was changed), -EPERM,
 * -ESHUTDOWN (corrald is stopping), the connection errors above. */
int corral_start(corral *c, const char *const *names);
int corral_stop(corral *c, const char *const *names);
int corral_restart(corral *c, const char *const *names);
int corral_freeze(corral *c, const char *const *names);
int corral_thaw(corral *c, const char *const *names);

/* Sends signal sig (1 to SIGRTMAX) to every process of the units named in
 * names. Returns the number of processes signalled (≥ 0). Errors as
 * corral_start(), and -EINVAL for a bad signal number. */
int corral_kill(corral *c, const char *const *names, int sig);

/* Makes corrald re-read its configuration and apply the difference; returns
 * once it is applied. Returns 0. Errors: -EINVAL when the configuration is
 * invalid (nothing was changed; corral_last_error() gives the daemon's
 * "file:line: …" message), -ESHUTDOWN (corrald is stopping), -EPERM, the
 * connection errors above. */
int corral_reload(corral *c);

/* What a reload did: how many services were added, removed, changed
 * (restarted or changed in place) and left alone. */
typedef struct corral_reload_counts {
        unsigned added;
        unsigned removed;
        unsigned changed;
        unsigned unchanged;
} corral_reload_counts;

/* corral_reload() that also returns the counts of the reply in *ret (when
 * ret is not NULL). Errors as corral_reload(). Since LIBCORRAL_0.3. */
int corral_reload_counted(corral *c, corral_reload_counts *ret);

/* ---- metrics ---- */

/* Asks for corrald's metrics in the Prometheus text format (version
 * 0.0.4), the same text that metrics_listen serves at /metrics. Returns 0
 * with the text in *ret_text; the caller frees it. Errors: -EPERM, the
 * connection errors above, -EOPNOTSUPP from a corrald that has no
 * metrics. Since LIBCORRAL_0.3. */
int corral_metrics(corral *c, char **ret_text);

/* ---- jobs ---- */

/* A one-off command. Zero-initialise it and set what you need; the
 * library copies what it needs, the caller keeps ownership. */
typedef struct corral_job_spec {
        const char *const *argv; /* required: the program and its arguments, argv[0] not empty */
        const char *name;        /* the job's unit name; NULL: corrald picks "job-" + 8 hex digits */
        const char *const *env;  /* "KEY=VALUE" entries added to the job's environment, or NULL */
        const char *cwd;         /* the working directory, or NULL for corrald's default */
        uint64_t timeout_usec;   /* stop the job after this long; 0: no timeout */
} corral_job_spec;

/* Submits a job. It runs as the caller's user (from SO_PEERCRED), never
 * restarted. Returns 0 with the job id (its unit name) in *ret_id when
 * ret_id is not NULL; the caller frees it. Errors: -EINVAL (no argv, an
 * empty argv[0], an env entry without '=' or a bad field in corrald's
 * eyes), -EEXIST (a unit with that name exists), -EPERM, -ESHUTDOWN, the
 * connection errors above. */
int corral_run(corral *c, const corral_job_spec *spec, char **ret_id);

/* Stops the job id with its own stop signal and grace (cgroup.kill when
 * the grace runs out); returns once the stop has begun. Its result becomes
 * CORRAL_RESULT_CANCELLED. Returns 0. Errors: -ENOENT (no such job),
 * -EPERM (not yours), the connection errors above. */
int corral_cancel(corral *c, const char *id);

/* Blocks until the job id has ended (at once when it already has), then
 * returns 0 with a list of one unit in *ret when ret is not NULL: its
 * result, exit_code and exit_status tell how it ended. Errors: -ENOENT (no
 * such job), the connection errors above. The caller owns *ret. */
int corral_wait(corral *c, const char *id, corral_units **ret);

/* ---- jobs, libcorral 0.2: descriptors, stop, limits, results ---- */

/* How a job's stop signal is sent (the kill_mode of corral.conf(5)). */
typedef enum corral_kill_mode {
        CORRAL_KILL_DEFAULT = 0,   /* the daemon's default: control-group */
        CORRAL_KILL_CONTROL_GROUP, /* to every process of the job's cgroup */
        CORRAL_KILL_MIXED,         /* to the main process only; cgroup.kill after the grace */
} corral_kill_mode;

/* corral_job_options.flags */
#define CORRAL_JOB_STDIO (1u << 0) /* stdin_fd, stdout_fd, stderr_fd are set */

/* What a job gets beyond corral_job_spec. Zero-initialise it, set size to
 * sizeof(corral_job_options) (the library reads no further than size, so a
 * program built against an older header keeps working), then set what you
 * need: a zero field means the default. The caller keeps ownership of
 * every descriptor and string. */
typedef struct corral_job_options {
        size_t size;    /* sizeof(corral_job_options) */
        unsigned flags; /* CORRAL_JOB_* */
        /* With CORRAL_JOB_STDIO: descriptors the job's processes get as
         * their fd 0, 1 and 2 — passed to corrald over the socket
         * (SCM_RIGHTS), so the job reads and writes them directly, with no
         * copy through corrald (systemd-run --pipe). -1 leaves one to
         * corrald: stdin /dev/null, output to the job's log. */
        int stdin_fd, stdout_fd, stderr_fd;
        int stop_signal;            /* 0: SIGTERM */
        uint64_t stop_timeout_usec; /* grace before cgroup.kill; 0: [corral] job_stop_timeout */
        corral_kill_mode kill_mode;
        /* "KEY=VALUE" entries with the limit keys of services
         * (memory_max=1G, pids_max=100, cpu_max=50%, …; corral.conf(5)),
         * checked by corrald as it checks a service's. NULL: none. */
        const char *const *limits;
} corral_job_options;

/* Submits a job as corral_run() does, with opts (NULL: as corral_run()).
 * Errors as corral_run(), and: -EINVAL (opts->size 0, a stop_signal out of
 * range, an unknown kill_mode, a limits entry without '=', or a limit
 * corrald refuses: corral_last_error() names it), -EBADF (a descriptor
 * that is not open), -EOPNOTSUPP (a limit whose controller is not
 * available, when limits are required), -EAGAIN (you, or everybody, run as
 * many jobs as job_max_per_user or job_max allow: nothing was started). */
int corral_run_with(corral *c, const corral_job_spec *spec, const corral_job_options *opts, char **ret_id);

/* Stops the job id with signal sig (0: its stop_signal) and grace_usec
 * before cgroup.kill (CORRAL_GRACE_DEFAULT: its stop_timeout; 0: at once).
 * A second cancel of a job that is stopping with grace_usec 0 kills its
 * processes at once (SIGKILL); another grace leaves the running one. Errors
 * as corral_cancel(), and -EINVAL for a bad signal. */
#define CORRAL_GRACE_DEFAULT UINT64_MAX
int corral_cancel_with(corral *c, const char *id, int sig, uint64_t grace_usec);

/* corral_wait() that gives up after timeout_ms milliseconds (-1: never;
 * 0: answers at once). Errors as corral_wait(), and -ETIMEDOUT when the
 * job is still running (it goes on). */
int corral_wait_timeout(corral *c, const char *id, int timeout_ms, corral_units **ret);

/* How a unit last ended, the "result" field as an enum. */
typedef enum corral_result {
        CORRAL_RESULT_NONE = 0,     /* no result in the reply */
        CORRAL_RESULT_SUCCESS,      /* exit status 0 (or, for a job still running, nothing failed yet) */
        CORRAL_RESULT_EXIT_CODE,    /* a non-zero exit status */
        CORRAL_RESULT_SIGNAL,       /* killed by a signal nobody at corral sent */
        CORRAL_RESULT_CORE_DUMP,    /* killed by a signal, dumped core */
        CORRAL_RESULT_TIMEOUT,      /* ran past its timeout and was stopped */
        CORRAL_RESULT_CANCELLED,    /* stopped by corral_cancel() or corralctl cancel */
        CORRAL_RESULT_SPAWN_FAILED, /* never ran: corral_unit_error() says which step, and why */
        CORRAL_RESULT_RESOURCES,    /* its cgroup or credentials could not be set up */
        CORRAL_RESULT_OOM_KILL,     /* killed by its memory limit */
        CORRAL_RESULT_WATCHDOG,     /* services: stopped pinging the watchdog */
        CORRAL_RESULT_START_LIMIT,  /* services: started too often */
        CORRAL_RESULT_UNHEALTHY,    /* services: failed its health checks */
        CORRAL_RESULT_EXIT_UNKNOWN, /* an adopted process ended and the kernel could not say how */
        CORRAL_RESULT_OTHER,        /* a result this libcorral does not know */
} corral_result;

/* The result named s ("cancelled" → CORRAL_RESULT_CANCELLED); NULL is
 * CORRAL_RESULT_NONE, an unknown name CORRAL_RESULT_OTHER. */
corral_result corral_result_from_string(const char *s);
/* The name of r, NULL for CORRAL_RESULT_NONE, CORRAL_RESULT_OTHER and
 * values out of range. Static. */
const char *corral_result_to_string(corral_result r);

/* corral_unit_result() and corral_event_result() as enums. */
corral_result corral_unit_result_enum(const corral_unit *u);
corral_result corral_event_result_enum(const corral_event *e);

/* ---- events ---- */

/* Turns the connection into an event stream: from now on it carries one
 * event per state change of any unit, and every other request on c fails
 * with -EBUSY (open a second handle for requests). Returns 0. Errors:
 * -EBUSY (already subscribed), -EPERM, the connection errors above. */
int corral_subscribe(corral *c);

/* Reads the next event, waiting up to timeout_ms milliseconds (-1: for
 * ever, 0: only what has arrived). Returns 0 with the event in *ret; the
 * caller owns it: corral_event_free(). Errors: -ETIMEDOUT (no event in
 * time), -EINVAL (not subscribed), -ECONNRESET (corrald closed the stream,
 * e.g. because it stopped or because this subscriber fell more than 1 MiB
 * behind), the connection errors above. */
int corral_next_event(corral *c, int timeout_ms, corral_event **ret);

/* Like corral_subscribe(), but the stream carries only the events of
 * jobs: every job for root and control_group, your own jobs for a member
 * of job_group (who may not subscribe to everything). An event of a job
 * that ended carries its exit_code, exit_status and error. With
 * corral_fd() and corral_next_event(c, 0, …) a program drives many jobs
 * from its own poll loop: run them on a second handle, and learn here when
 * each one ends. Errors as corral_subscribe(). (libcorral 0.2) */
int corral_subscribe_jobs(corral *c);

/* Accessors of an event, with the absent values of the unit accessors. */
const char *corral_event_unit(const corral_event *e);
const char *corral_event_state(const corral_event *e);
const char *corral_event_result(const corral_event *e);
pid_t corral_event_main_pid(const corral_event *e);
/* When the change happened: CLOCK_REALTIME, microseconds since the epoch. */
uint64_t corral_event_timestamp_usec(const corral_event *e);
/* "service" or "job"; NULL from a corrald older than libcorral 0.2. */
const char *corral_event_kind(const corral_event *e);
/* When the unit's main process has ended: as corral_unit_exit_code(),
 * corral_unit_exit_status() and corral_unit_error(). (libcorral 0.2) */
const char *corral_event_exit_code(const corral_event *e);
int corral_event_exit_status(const corral_event *e);
const char *corral_event_error(const corral_event *e);
/* The event line as corrald sent it (without the newline). Owned by e. */
const char *corral_event_json(const corral_event *e);

/* Frees e. Accepts NULL; returns NULL. */
corral_event *corral_event_free(corral_event *e);

/* ---- requests that wait, runtime services (LIBCORRAL_0.4) ---- */

/* The outcome of a request that waited: one entry per unit it touched. */
typedef struct corral_outcomes corral_outcomes;

/* Flags of corral_request() and the runtime calls. */
#define CORRAL_WAIT (1u << 0)        /* answer once every unit reached its goal, with outcomes */
#define CORRAL_ALL (1u << 1)         /* every unit (then names must be NULL or empty) */
#define CORRAL_ALL_AT_ONCE (1u << 2) /* restart: all instances at once, no rolling restart */

/* method "start", "stop" or "restart" of the units names match — a unit's
 * name, a service's name for all its instances, a shell glob ("web@*") —
 * or of every unit (CORRAL_ALL); method "reload" (names NULL) re-reads the
 * configuration. Every name is resolved and checked before anything is
 * done. With CORRAL_WAIT the call returns when every unit has reached its
 * goal (started: running, ready by its ready =, or failed; stopped:
 * inactive, its cgroup gone; restarted: down and up again — several
 * instances of one service roll, restart_parallel at a time, unless
 * CORRAL_ALL_AT_ONCE), with the outcomes in *ret when ret is not NULL;
 * without it, once corrald has applied the request (*ret is then an empty
 * list). Returns 0 when every unit reached its goal, 1 when some did not
 * (see the outcomes). Errors: -EINVAL (no names and no CORRAL_ALL, an
 * unknown method, or a start or restart of a job: nothing was done),
 * -ENOENT (a name matches no unit: nothing was done; corral_last_error()
 * names it), -EPERM, -ESHUTDOWN, the connection errors above. The caller
 * owns *ret: corral_outcomes_free(). */
int corral_request(corral *c, const char *method, const char *const *names, unsigned flags, corral_outcomes **ret);

/* The number of outcomes (0 for NULL), and whether every unit reached its
 * goal (1) or not (0). */
size_t corral_outcomes_count(const corral_outcomes *o);
int corral_outcomes_ok(const corral_outcomes *o);
/* The outcome at index i: the unit's name, whether it reached its goal
 * (1/0; -1 out of range), how long it took in microseconds (UINT64_MAX
 * when unknown), the unit's state at the end, and why it did not reach
 * its goal (NULL when it did). Strings are owned by o. */
const char *corral_outcome_unit(const corral_outcomes *o, size_t i);
int corral_outcome_ok(const corral_outcomes *o, size_t i);
uint64_t corral_outcome_duration_usec(const corral_outcomes *o, size_t i);
const char *corral_outcome_state(const corral_outcomes *o, size_t i);
const char *corral_outcome_reason(const corral_outcomes *o, size_t i);
/* Frees o. Accepts NULL; returns NULL. */
corral_outcomes *corral_outcomes_free(corral_outcomes *o);

/* What a reload (or a change of runtime services) did, unit by unit. */
typedef struct corral_counts {
        unsigned added, removed, changed, unchanged;
} corral_counts;

/* The counts of the reload that o is the outcome of (corral_request()
 * with "reload"). Returns 0, -ENODATA for the outcomes of another
 * request, -EINVAL. */
int corral_outcomes_counts(const corral_outcomes *o, corral_counts *ret);

/* One service of a desired list: its name and its keys as the body of a
 * [program:NAME] section ("command = /usr/bin/app --port ${PORT}\n…"). */
typedef struct corral_service {
        const char *name;
        const char *ini;
} corral_service;

/* Runtime services: stored by corrald under its runtime_directory, they
 * survive a reload and a restart of corrald. corral_add() adds or replaces
 * service name with the keys in ini; corral_remove() removes it;
 * corral_scale() sets its number of instances (0: one unit without
 * instances); corral_apply() makes the runtime services exactly
 * services[0..n): added ones start, removed ones stop, changed ones
 * restart, the others are untouched. The change is applied as a reload:
 * the counts in *ret_counts when not NULL. flags: CORRAL_WAIT waits until
 * the starts, stops and restarts are done, outcomes as corral_request().
 * Returns 0, or 1 when a unit did not reach its goal. Errors: -EEXIST (a
 * configuration file defines the name: it cannot be replaced), -EINVAL (a
 * bad name or key: corral_last_error() says "add web:3: …"; nothing was
 * changed), -ENOENT (remove, scale: no such service), -EPERM (remove,
 * scale of a service defined in a file, or not allowed), -ESHUTDOWN, the
 * connection errors above. */
int corral_add(corral *c, const char *name, const char *ini, unsigned flags, corral_counts *ret_counts,
               corral_outcomes **ret);
int corral_remove(corral *c, const char *name, unsigned flags, corral_counts *ret_counts, corral_outcomes **ret);
int corral_scale(corral *c, const char *name, unsigned instances, unsigned flags, corral_counts *ret_counts,
                 corral_outcomes **ret);
int corral_apply(corral *c, const corral_service *services, size_t n, unsigned flags, corral_counts *ret_counts,
                 corral_outcomes **ret);

/* Where service name is defined: the file and the line of its section,
 * whether it is a runtime service (1) or from a configuration file (0),
 * and the text of its section. Any ret_* may be NULL. Returns 0. Errors:
 * -ENOENT (no such service), -EPERM, the connection errors above. The
 * caller frees the strings. */
int corral_cat(corral *c, const char *name, char **ret_file, unsigned *ret_line, int *ret_runtime, char **ret_text);

#ifdef __cplusplus
}
#endif
