/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A unit's output: where its stdout and stderr go at each start, and the
 * UnitOutput (output.h) the unit owns when corrald reads them. */
#include "unit-internal.h"

#include "log.h"
#include "notify-fdstore.h"
#include "output.h"

_Static_assert(CONFIG_LOG_BUFFER_DEFAULT == OUTPUT_BUFFER_DEFAULT, "log_buffer's default");
_Static_assert(CONFIG_LOG_BUFFER_MIN >= OUTPUT_RING_MIN, "log_buffer's minimum");
_Static_assert(CONFIG_OUTPUT_MAX_SIZE_MIN == OUTPUT_FILE_MAX_SIZE_MIN, "output_max_size's minimum");
_Static_assert(CONFIG_OUTPUT_MAX_FILES_MAX == OUTPUT_FILE_MAX_FILES_MAX, "output_max_files' maximum");

/* What the configuration says of the unit's output: the one place of the
 * unit family that reads those keys. */
typedef struct OutputSettings {
        OutputKind kind;
        const char *path, *stderr_path; /* OUTPUT_FILE */
        size_t buffer;
        uint64_t max_size;
        unsigned max_files;
        bool timestamps;
} OutputSettings;

static OutputSettings output_settings(const ServiceConfig *s) {
        const ServiceExtras *e = service_config_extras(s);

        return (OutputSettings) {
                .kind = e->output,
                .path = e->output_path,
                .stderr_path = e->output_stderr_path,
                .buffer = s->log_buffer,
                .max_size = e->output_max_size,
                .max_files = e->output_max_files,
                .timestamps = s->output_timestamps,
        };
}

bool unit_output_in_journal(const Unit *u) {
        OutputKind k = u->config ? service_config_extras(u->config)->output : OUTPUT_NULL;

        return k == OUTPUT_JOURNAL || (k == OUTPUT_AUTO && log_target_is_journal());
}

/* corrald reads stdout (and stderr with it): inherit, file:PATH, and auto
 * without the journal; not for a job that runs with its caller's stdio. */
static bool unit_output_captured(const Unit *u) {
        if (!u->config || u->stdio[1] >= 0)
                return false;
        switch (service_config_extras(u->config)->output) {
        case OUTPUT_AUTO:
                return !log_target_is_journal();
        case OUTPUT_INHERIT:
        case OUTPUT_FILE:
                return true;
        default:
                return false;
        }
}

/* corrald reads stderr into a file of its own (output_stderr), whatever
 * output says. */
static bool unit_output_stderr_captured(const Unit *u) {
        return u->config && u->stdio[2] < 0 && service_config_extras(u->config)->output_stderr_path;
}

static int unit_output_open_file(Unit *u, const OutputSettings *o, const char *path, OutputFile **ret) {
        int r = output_file_open(path, o->max_size, o->max_files, o->timestamps, ret);

        if (r == -EBADFD || r == -ELOOP)
                return unit_fail_message(u, r, "output file %s is %s, refusing it", path,
                                         r == -ELOOP ? "a symbolic link" : "not a regular file");
        if (r < 0)
                return unit_fail_message(u, r, "cannot open output file %s: %m", path);
        return 0;
}

/* The files of output = file:PATH and output_stderr, opened afresh at each
 * start; corrald's terminal for inherit. */
static int unit_output_destinations(Unit *u, const OutputSettings *o, bool out) {
        _cleanup_(output_file_freep) OutputFile *fo = NULL, *fe = NULL;
        int r;

        if (out && o->kind == OUTPUT_FILE && (r = unit_output_open_file(u, o, o->path, &fo)) < 0)
                return r;
        if (unit_output_stderr_captured(u) && (r = unit_output_open_file(u, o, o->stderr_path, &fe)) < 0)
                return r;
        unit_output_set_files(u->output, TAKE_PTR(fo), TAKE_PTR(fe));
        unit_output_set_terminal(u->output, out && o->kind != OUTPUT_FILE ? u->ctx->terminal : NULL);
        return 0;
}

static void unit_output_on_line(UnitOutput *o, const OutputLine *l, void *userdata) {
        Unit *u = userdata;

        if (u->ctx->output_line)
                u->ctx->output_line(u, l, u->ctx->userdata);
}

/* A pipe made: its read end goes to systemd's fd store (under systemd),
 * so that it outlives a crash of corrald; a pipe closed: out of the store. */
static void unit_output_on_pipe(UnitOutput *o, OutputStream s, uint64_t inode, int read_fd, void *userdata) {
        Unit *u = userdata;
        char name[FD_STORE_NAME_MAX + 1];
        int r;

        if (!fd_store_enabled(u->ctx->fd_store) ||
            fd_store_output_name(u->name, output_stream_to_string(s), inode, name, sizeof(name)) < 0)
                return;
        r = read_fd >= 0 ? fd_store_add(u->ctx->fd_store, name, read_fd) : fd_store_remove(u->ctx->fd_store, name);
        if (r < 0)
                log_unit_warning_errno(u->name, LOG_EVENT_NONE, r, "cannot %s systemd's fd store: %m%s",
                                       read_fd >= 0 ? "keep its output pipe in" : "drop its output pipe from",
                                       read_fd >= 0 ? "; a crash of corrald would take its output" : "");
}

/* The unit's UnitOutput, made (again, when log_buffer changed) while
 * nothing of the unit runs. */
static int unit_output_ensure(Unit *u, size_t buffer) {
        int r;

        if (u->output && unit_output_ring(u->output)->size == (buffer & ~(size_t) 7))
                return 0;
        u->output = unit_output_free(u->output);
        r = unit_output_new(u->ctx->event, u->name, buffer, &u->output);
        if (r < 0)
                return r;
        static const UnitOutputCallbacks callbacks = {
                .line = unit_output_on_line,
                .pipe = unit_output_on_pipe,
        };
        unit_output_set_callbacks(u->output, &callbacks, u);
        return 0;
}

void unit_output_prealloc(Unit *u) {
        if (!u->output && u->config && (unit_output_captured(u) || unit_output_stderr_captured(u)))
                (void) unit_output_ensure(u, output_settings(u->config).buffer);
}

/* What log_unit_output() opens for the streams corrald does not read
 * (inherit-raw is what it calls inherit: a pass-through). */
static int unit_output_direct(Unit *u, StartContext *c, const OutputSettings *o) {
        int r = log_unit_output(u->name, o->kind == OUTPUT_INHERIT_RAW ? OUTPUT_INHERIT : o->kind, o->path,
                                &c->output_fd);

        if (r == -EBADFD || r == -ELOOP)
                return unit_fail_message(u, r, "output file %s is %s, refusing it", o->path,
                                         r == -ELOOP ? "a symbolic link" : "not a regular file");
        if (r < 0)
                return unit_fail_message(u, r, "cannot open output (%s%s%s): %m", output_kind_to_string(o->kind),
                                         o->path ? ":" : "", o->path ?: "");
        c->stdout_fd = c->output_fd >= 0 ? c->output_fd : STDOUT_FILENO;
        c->stderr_fd = c->output_fd >= 0 ? c->output_fd : STDERR_FILENO;
        return 0;
}

int unit_output_setup(Unit *u, StartContext *c) {
        OutputSettings o = output_settings(u->config);
        bool out = unit_output_captured(u), err = out || unit_output_stderr_captured(u);
        int pipe_out, pipe_err, r;

        if (!out) {
                r = unit_output_direct(u, c, &o);
                if (r < 0 || !err)
                        return r;
        }
        r = unit_output_ensure(u, o.buffer);
        if (r < 0)
                return unit_fail_message(u, r, "cannot set up output capture: %m");
        r = unit_output_destinations(u, &o, out);
        if (r < 0)
                return r;
        r = unit_output_open(u->output, &pipe_out, &pipe_err);
        if (r < 0)
                return unit_fail_message(u, r, "cannot make output pipes: %m");
        if (out)
                c->stdout_fd = pipe_out;
        c->stderr_fd = pipe_err;
        return 0;
}

void unit_output_ended(Unit *u) {
        int r;

        if (!u->output)
                return;
        r = unit_output_flush(u->output);
        if (r < 0)
                log_unit_warning_errno(u->name, LOG_EVENT_NONE, r, "cannot read the last output: %m, ignoring");
        /* a job runs once: its pipes would stay open as long as it is kept
         * (up to JOBS_FINISHED_MAX ended jobs), its lines stay in the ring */
        if (u->is_job)
                unit_output_close_pipes(u->output);
}

void unit_output_view(const Unit *u, UnitOutputView *ret) {
        *ret = (UnitOutputView) {
                .name = u->name,
                .ring = u->output ? unit_output_ring(u->output) : NULL,
                .journal = unit_output_in_journal(u),
                .listed = !u->removed || !unit_is_inactive(u),
        };
}

void unit_output_reopen_files(Unit *u) {
        int r;

        if (!u->output)
                return;
        r = unit_output_reopen(u->output);
        if (r < 0)
                log_unit_warning_errno(u->name, LOG_EVENT_NONE, r,
                                       "cannot reopen output file: %m, writing on to the old one");
}

/* Whether the unit's processes got stream s's pipe (stdout's is made for
 * output_stderr alone too, but then not given). */
static bool unit_output_stream_given(const Unit *u, OutputStream s) {
        return s == OUTPUT_STDOUT ? unit_output_captured(u) : unit_output_captured(u) || unit_output_stderr_captured(u);
}

uint64_t unit_output_pipe(const Unit *u, unsigned stream) {
        if (!u->output || stream >= _OUTPUT_STREAM_MAX || !unit_output_stream_given(u, (OutputStream) stream))
                return 0;
        return unit_output_pipe_inode(u->output, (OutputStream) stream);
}

/* Takes stream s's pipe back from the fd store: -ENOENT when it is not
 * there. */
static int unit_output_take_pipe(Unit *u, OutputStream s, uint64_t inode) {
        char name[FD_STORE_NAME_MAX + 1];
        int fd, r;

        if (fd_store_output_name(u->name, output_stream_to_string(s), inode, name, sizeof(name)) < 0)
                return -ENOENT;
        fd = fd_store_take(u->ctx->fd_store, name);
        if (fd < 0)
                return fd;
        r = unit_output_adopt(u->output, s, fd, inode);
        if (r < 0) {
                (void) fd_store_remove(u->ctx->fd_store, name);
                log_unit_warning_errno(u->name, LOG_EVENT_NONE, r, "cannot read its kept %s pipe again: %m",
                                       output_stream_to_string(s));
        }
        return r;
}

void unit_output_adopt_pipes(Unit *u, const uint64_t inodes[2]) {
        OutputSettings o = output_settings(u->config);
        unsigned taken = 0, lost = 0;
        int r;

        if (inodes[OUTPUT_STDOUT] == 0 && inodes[OUTPUT_STDERR] == 0)
                return; /* corrald did not read its output */
        r = unit_output_ensure(u, o.buffer);
        if (r >= 0)
                r = unit_output_destinations(u, &o, unit_output_captured(u));
        for (OutputStream s = 0; s < _OUTPUT_STREAM_MAX; s++) {
                if (inodes[s] == 0 || !unit_output_stream_given(u, s))
                        continue;
                if (r >= 0 && unit_output_take_pipe(u, s, inodes[s]) >= 0)
                        taken++;
                else
                        lost++;
        }
        if (lost > 0)
                log_unit_warning(u->name, LOG_EVENT_NONE,
                                 "%u of its output pipes went with the earlier corrald%s: a write to %s gets EPIPE",
                                 lost,
                                 fd_store_enabled(u->ctx->fd_store) ? "" : " (only systemd's fd store keeps them)",
                                 lost == 1 ? "it" : "them");
        else if (taken > 0)
                log_unit_info(u->name, LOG_EVENT_NONE, "reading its output again: systemd kept its %u pipe%s", taken,
                              taken == 1 ? "" : "s");
}
