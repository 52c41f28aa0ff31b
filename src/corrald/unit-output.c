/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A unit's output: where its stdout and stderr go at each start, and the
 * UnitOutput (output.h) the unit owns when corrald reads them. */
#include "unit-internal.h"

#include "log.h"
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
        return (OutputSettings) {
                .kind = s->output,
                .path = s->output_path,
                .stderr_path = s->output_stderr_path,
                .buffer = s->log_buffer,
                .max_size = s->output_max_size,
                .max_files = s->output_max_files,
                .timestamps = s->output_timestamps,
        };
}

bool unit_output_in_journal(const Unit *u) {
        return u->config &&
               (u->config->output == OUTPUT_JOURNAL || (u->config->output == OUTPUT_AUTO && log_target_is_journal()));
}

/* corrald reads stdout (and stderr with it): inherit, file:PATH, and auto
 * without the journal; not for a job that runs with its caller's stdio. */
static bool unit_output_captured(const Unit *u) {
        if (!u->config || u->stdio[1] >= 0)
                return false;
        switch (u->config->output) {
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
        return u->config && u->stdio[2] < 0 && u->config->output_stderr_path;
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
        unit_output_set_handler(u->output, unit_output_on_line, u);
        return 0;
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
