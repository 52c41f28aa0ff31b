/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Output capture: when corrald is in the path of a unit's output (every
 * output but journal, null and inherit-raw), the unit's stdout and stderr
 * are pipes that corrald reads in its event loop. Each line goes into the
 * unit's ring (output-ring.h), to the line handler (followers), and to the
 * unit's destination: corrald's own stdout/stderr with the unit's name in
 * front (OutputTerminal, output = inherit), or a file with rotation
 * (OutputFile, output = file:PATH).
 *
 * A unit that writes without end costs corrald CPU in proportion, never
 * its loop: each wake-up reads at most OUTPUT_READ_BUDGET bytes of a pipe,
 * and the pipes' poller (one epoll source for them all) runs at
 * OUTPUT_PRIORITY, after every other source that is pending (control,
 * health, signals); meanwhile the kernel's pipe buffer fills and the
 * writer waits — the back-pressure a terminal gives. */

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "macro.h"
#include "output-ring.h"

/* Bytes read from one pipe per wake-up, and the poller's priority. */
#define OUTPUT_READ_BUDGET ((size_t) 128 * 1024)
#define OUTPUT_PRIORITY (SD_EVENT_PRIORITY_NORMAL + 10)

/* The default of log_buffer (CONFIG_LOG_BUFFER_DEFAULT), and the smallest
 * max_size of a file (so that any line piece with its time fits in one). */
#define OUTPUT_BUFFER_DEFAULT ((size_t) 64 * 1024)
#define OUTPUT_FILE_MAX_SIZE_MIN ((uint64_t) 64 * 1024)
#define OUTPUT_FILE_MAX_FILES_MAX 1000U

/* "2026-11-23T04:15:58.123456Z", the ISO 8601 time (UTC, microseconds)
 * that files and corrald's terminal put before a line, without a space.
 * Returns the length written (buf must hold OUTPUT_TIME_MAX bytes). */
#define OUTPUT_TIME_MAX 32
size_t output_format_time(char *buf, usec_t t);

/* ---- files ---- */

typedef struct OutputFile OutputFile;

/* Opens path for appending (created 0640), with O_NOFOLLOW | O_NONBLOCK |
 * O_NOCTTY, and checks that it is a regular file. max_size 0: the file
 * grows without limit; otherwise, before a write would take it past
 * max_size, PATH.N-1 is removed, PATH.K renamed to PATH.K+1, PATH to
 * PATH.1 and a new PATH opened, so that max_files files remain (1: PATH
 * alone, started afresh). timestamps: each line begins with
 * output_format_time() and a space. Returns 0 with the file in *ret,
 * -EINVAL (max_size below OUTPUT_FILE_MAX_SIZE_MIN, max_files 0 or above
 * OUTPUT_FILE_MAX_FILES_MAX, path not absolute), -ELOOP (path is a
 * symbolic link), -EBADFD (not a regular file), -ENOMEM, -errno of
 * open(). */
int output_file_open(const char *path, uint64_t max_size, unsigned max_files, bool timestamps, OutputFile **ret);

/* Writes what is buffered, and closes. Accepts NULL; returns NULL. */
OutputFile *output_file_free(OutputFile *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(OutputFile *, output_file_free);

/* Buffers one line (a piece with OUTPUT_LINE_SPLIT gets no newline, and
 * the piece after it no time), rotating first when it would not fit.
 * Returns 0 or -errno of write(), rename(), open(). */
int output_file_write(OutputFile *f, const OutputLine *l);

/* Writes what is buffered. Returns 0 or -errno of write(). */
int output_file_flush(OutputFile *f);

/* Closes the file and opens its path again (after logrotate moved it:
 * SIGUSR1). Returns 0 or what output_file_open() returns; on failure the
 * old file stays in use. */
int output_file_reopen(OutputFile *f);

const char *output_file_path(const OutputFile *f);

/* ---- corrald's terminal (output = inherit) ---- */

typedef struct OutputTerminal OutputTerminal;

/* Writes lines to out_fd (stdout lines) and err_fd (stderr lines) as
 *     2026-11-23T04:15:58.123Z web@1  | GET /api/status 200
 * with the time (in milliseconds, as corrald's own lines) only when
 * timestamps is true (as when corrald's own lines on stderr carry it),
 * names padded to the widest one set. The fds are
 * not owned. These writes block when the terminal does. Returns 0 with
 * the object in *ret, or -ENOMEM. */
int output_terminal_new(int out_fd, int err_fd, bool timestamps, OutputTerminal **ret);
OutputTerminal *output_terminal_free(OutputTerminal *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(OutputTerminal *, output_terminal_free);

/* Widens the name column to hold name (never narrows it). */
void output_terminal_add_name(OutputTerminal *t, const char *name);

/* Buffers one line of unit. Returns 0 or -errno of write(). */
int output_terminal_write(OutputTerminal *t, const char *unit, const OutputLine *l);

/* Writes what is buffered. Returns 0 or -errno of write(). */
int output_terminal_flush(OutputTerminal *t);

/* ---- one unit's output ---- */

typedef struct UnitOutput UnitOutput;

/* Called for every line the unit writes, after it is in the ring (for
 * followers). Must not free the UnitOutput. */
typedef void (*UnitOutputHandler)(UnitOutput *o, const OutputLine *l, void *userdata);

/* A unit's output: its ring of buffer_size bytes (log_buffer) and, once
 * unit_output_open() is called, its pipes. unit is borrowed: it must
 * outlive the UnitOutput (the Unit's name does). Returns 0,
 * -EINVAL (buffer_size below OUTPUT_RING_MIN), -ENOMEM. */
int unit_output_new(sd_event *e, const char *unit, size_t buffer_size, UnitOutput **ret);

/* Stops reading (what is pending is handed out first, as by
 * unit_output_flush()), closes the pipes and files, frees the ring.
 * Accepts NULL; returns NULL. */
UnitOutput *unit_output_free(UnitOutput *o);
DEFINE_TRIVIAL_CLEANUP_FUNC(UnitOutput *, unit_output_free);

/* Where lines go besides the ring: terminal (not owned; NULL: nowhere),
 * or out and err (taken in any case; err NULL: stderr into out; both NULL:
 * no file). Replaces what was set. */
void unit_output_set_terminal(UnitOutput *o, OutputTerminal *terminal);
void unit_output_set_files(UnitOutput *o, OutputFile *out, OutputFile *err);

/* Called when stream s gets a pipe that corrald made (read_fd its read
 * end, inode the pipe's inode) and when that pipe, or one given to
 * unit_output_adopt(), is closed (read_fd -EBADF): so that the read end
 * can be kept outside corrald (systemd's fd store, notify-fdstore.h). */
typedef void (*UnitOutputPipeHandler)(UnitOutput *o, OutputStream s, uint64_t inode, int read_fd, void *userdata);

/* What the owner hears, with the userdata of unit_output_set_callbacks():
 * one table for every unit (static), one pointer in each. */
typedef struct UnitOutputCallbacks {
        UnitOutputHandler line;     /* NULL: not told */
        UnitOutputPipeHandler pipe; /* NULL: not told */
} UnitOutputCallbacks;
void unit_output_set_callbacks(UnitOutput *o, const UnitOutputCallbacks *callbacks, void *userdata);

/* The inode of stream s's pipe; 0: none. */
uint64_t unit_output_pipe_inode(const UnitOutput *o, OutputStream s);

/* Reads fd, the read end of stream s's pipe that an earlier corrald made
 * (for an adopted unit), as if o had made it. fd is taken in any case.
 * corrald holds no write end of it: at its end (every writer gone) the
 * stream is closed, and the next unit_output_open() makes a new pipe.
 * Returns 0, -EBUSY (s has a pipe), -ESTALE (fd is not a pipe with that
 * inode), -errno of fcntl() or sd-event. */
int unit_output_adopt(UnitOutput *o, OutputStream s, int fd, uint64_t inode);

/* Makes the unit's pipes, once: corrald keeps both ends for the unit's
 * life, so that every start and every descendant writes into the same
 * pipes and nothing is lost between runs. Returns 0 with the write ends
 * of stdout's and stderr's pipe (owned by o, O_CLOEXEC: the child gets
 * them through dup2()), or -errno of pipe2() or sd-event. */
int unit_output_open(UnitOutput *o, int *ret_stdout_fd, int *ret_stderr_fd);

/* Reads what is left in each pipe (at most 16 × OUTPUT_READ_BUDGET), then
 * hands out each stream's pending partial line as OUTPUT_LINE_NO_NEWLINE:
 * for when the unit has ended. Returns 0 or -errno. */
int unit_output_flush(UnitOutput *o);

/* Closes both ends of the pipes (after unit_output_flush()), keeping the
 * ring and the files: for a unit that never runs again (a job that has
 * ended), which would otherwise hold four descriptors for as long as it
 * is kept. unit_output_open() makes new ones. */
void unit_output_close_pipes(UnitOutput *o);

/* output_file_reopen() on the unit's files (SIGUSR1). Returns 0 or the
 * first error. */
int unit_output_reopen(UnitOutput *o);

const char *unit_output_name(const UnitOutput *o);
const OutputRing *unit_output_ring(const UnitOutput *o);
/* Bytes read from the pipes, over the unit's life. */
uint64_t unit_output_bytes(const UnitOutput *o);
