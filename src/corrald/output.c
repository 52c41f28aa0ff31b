/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Output capture: the pipes of a unit, read in the event loop, and where
 * its lines go (see output.h). */
#include "output.h"

#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"
#include "poller.h"

/* What files and the terminal gather before one write(). */
#define OUTPUT_WRITE_BUF ((size_t) 64 * 1024)
#define OUTPUT_READ_CHUNK ((size_t) 64 * 1024)

size_t output_format_time(char *buf, usec_t t) {
        time_t sec = (time_t) (t / USEC_PER_SEC);
        struct tm tm;
        size_t n;

        if (!gmtime_r(&sec, &tm) || (n = strftime(buf, OUTPUT_TIME_MAX, "%Y-%m-%dT%H:%M:%S", &tm)) == 0) {
                memcpy(buf, "?", 2);
                return 1;
        }
        n += (size_t) snprintf(buf + n, OUTPUT_TIME_MAX - n, ".%06lluZ", (unsigned long long) (t % USEC_PER_SEC));
        return MIN(n, (size_t) OUTPUT_TIME_MAX - 1);
}

/* The time of t with a space after it, formatted once per distinct t:
 * the lines of one read share their time. */
typedef struct TimeCache {
        usec_t t;
        size_t len; /* 0: nothing cached */
        bool msec;  /* milliseconds, as corrald's own lines on stderr */
        char text[OUTPUT_TIME_MAX + 1];
} TimeCache;

static const char *time_cached(TimeCache *c, usec_t t, size_t *ret_len) {
        if (c->len == 0 || c->t != t) {
                c->len = output_format_time(c->text, t);
                if (c->msec && c->len == 27) {
                        c->text[23] = 'Z'; /* "….123456Z" → "….123Z" */
                        c->len = 24;
                }
                c->text[c->len++] = ' ';
                c->t = t;
        }
        *ret_len = c->len;
        return c->text;
}

/* write() until done; EINTR is retried. Returns 0 or -errno. */
static int write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

/* A buffer of OUTPUT_WRITE_BUF bytes in front of an fd. */
typedef struct WriteBuffer {
        char *data;
        size_t len;
        int fd;
} WriteBuffer;

static int wbuf_flush(WriteBuffer *b) {
        int r;

        if (b->len == 0)
                return 0;
        r = b->fd >= 0 ? write_all(b->fd, b->data, b->len) : -EBADF;
        b->len = 0; /* what could not be written is not retried for ever */
        return r;
}

static int wbuf_put(WriteBuffer *b, const char *p, size_t n) {
        int r;

        if (!b->data) {
                b->data = malloc(OUTPUT_WRITE_BUF);
                if (!b->data)
                        return -ENOMEM;
        }
        while (n > 0) {
                size_t k;

                if (b->len == OUTPUT_WRITE_BUF && (r = wbuf_flush(b)) < 0)
                        return r;
                k = MIN(n, OUTPUT_WRITE_BUF - b->len);
                memcpy(b->data + b->len, p, k);
                b->len += k;
                p += k;
                n -= k;
        }
        return 0;
}

/* ---- files ---- */

struct OutputFile {
        char *path;
        WriteBuffer buf;
        uint64_t size;     /* of the file, what is buffered included */
        uint64_t max_size; /* 0: no limit */
        unsigned max_files;
        bool timestamps;
        bool in_line; /* the last piece was OUTPUT_LINE_SPLIT */
        TimeCache time;
};

static int file_open_fd(const char *path, int *ret_fd, uint64_t *ret_size) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        /* O_NONBLOCK: a FIFO would block the loop in open() (without a
         * reader it fails with ENXIO: not a regular file either) */
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK, 0640);
        if (fd < 0)
                return errno == ENXIO ? -EBADFD : -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        *ret_fd = TAKE_FD(fd);
        *ret_size = (uint64_t) st.st_size;
        return 0;
}

int output_file_open(const char *path, uint64_t max_size, unsigned max_files, bool timestamps, OutputFile **ret) {
        _cleanup_(output_file_freep) OutputFile *f = NULL;
        int r;

        if (!path || path[0] != '/' || (max_size > 0 && max_size < OUTPUT_FILE_MAX_SIZE_MIN) || max_files == 0 ||
            max_files > OUTPUT_FILE_MAX_FILES_MAX)
                return -EINVAL;
        f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        *f = (OutputFile) { .buf.fd = -EBADF, .max_size = max_size, .max_files = max_files, .timestamps = timestamps };
        f->path = strdup(path);
        if (!f->path)
                return -ENOMEM;
        r = file_open_fd(path, &f->buf.fd, &f->size);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(f);
        return 0;
}

OutputFile *output_file_free(OutputFile *f) {
        if (!f)
                return NULL;
        (void) wbuf_flush(&f->buf);
        safe_close(f->buf.fd);
        free(f->buf.data);
        free(f->path);
        return mfree(f);
}

const char *output_file_path(const OutputFile *f) {
        return f->path;
}

int output_file_flush(OutputFile *f) {
        return wbuf_flush(&f->buf);
}

/* PATH.K → PATH.K+1 from the oldest down, PATH → PATH.1, and a new PATH. */
static int file_rotate(OutputFile *f) {
        int r = output_file_flush(f);

        f->buf.fd = safe_close(f->buf.fd);
        if (f->max_files == 1 && unlink(f->path) < 0 && errno != ENOENT)
                r = r < 0 ? r : -errno;
        for (unsigned i = f->max_files - 1; i >= 1; i--) {
                _cleanup_free_ char *from = NULL, *to = NULL;

                if ((i > 1 && asprintf(&from, "%s.%u", f->path, i - 1) < 0) || asprintf(&to, "%s.%u", f->path, i) < 0)
                        return -ENOMEM;
                if (rename(from ?: f->path, to) < 0 && errno != ENOENT && r >= 0)
                        r = -errno;
        }
        f->size = 0;
        int q = file_open_fd(f->path, &f->buf.fd, &f->size);
        return q < 0 ? q : r;
}

int output_file_write(OutputFile *f, const OutputLine *l) {
        const char *stamp = "";
        size_t n = 0, need;
        int r;

        if (f->timestamps && !f->in_line)
                stamp = time_cached(&f->time, l->timestamp, &n);
        need = n + l->len + !(l->flags & OUTPUT_LINE_SPLIT);
        if (f->max_size > 0 && f->size > 0 && f->size + need > f->max_size) {
                r = file_rotate(f);
                if (r < 0 && f->buf.fd < 0)
                        return r;
        }
        f->in_line = l->flags & OUTPUT_LINE_SPLIT;
        f->size += need;
        r = wbuf_put(&f->buf, stamp, n);
        if (r >= 0)
                r = wbuf_put(&f->buf, l->text, l->len);
        if (r >= 0 && !f->in_line)
                r = wbuf_put(&f->buf, "\n", 1);
        return r;
}

int output_file_reopen(OutputFile *f) {
        int fd = -EBADF, r;
        uint64_t size;

        (void) output_file_flush(f);
        r = file_open_fd(f->path, &fd, &size);
        if (r < 0)
                return r;
        safe_close(f->buf.fd);
        f->buf.fd = fd;
        f->size = size;
        return 0;
}

/* ---- corrald's terminal ---- */

struct OutputTerminal {
        WriteBuffer buf[_OUTPUT_STREAM_MAX];
        size_t width;
        bool timestamps;
        TimeCache time;
};

int output_terminal_new(int out_fd, int err_fd, bool timestamps, OutputTerminal **ret) {
        OutputTerminal *t = calloc(1, sizeof(*t));

        if (!t)
                return -ENOMEM;
        t->buf[OUTPUT_STDOUT].fd = out_fd;
        t->buf[OUTPUT_STDERR].fd = err_fd;
        t->timestamps = timestamps;
        t->time.msec = true;
        *ret = t;
        return 0;
}

OutputTerminal *output_terminal_free(OutputTerminal *t) {
        if (!t)
                return NULL;
        (void) output_terminal_flush(t);
        for (OutputStream s = 0; s < _OUTPUT_STREAM_MAX; s++)
                free(t->buf[s].data);
        return mfree(t);
}

void output_terminal_add_name(OutputTerminal *t, const char *name) {
        t->width = MAX(t->width, strlen(name));
}

int output_terminal_write(OutputTerminal *t, const char *unit, const OutputLine *l) {
        char prefix[OUTPUT_TIME_MAX + 128];
        size_t n = 0;
        int r;

        if (l->stream < 0 || l->stream >= _OUTPUT_STREAM_MAX)
                return -EINVAL;
        if (t->timestamps) {
                const char *stamp = time_cached(&t->time, l->timestamp, &n);
                memcpy(prefix, stamp, n);
        }
        /* names are at most 64 characters; the width is capped likewise */
        n += (size_t) snprintf(prefix + n, sizeof(prefix) - n, "%-*s | ", (int) MIN(t->width, (size_t) 64), unit);
        n = MIN(n, sizeof(prefix) - 1);
        r = wbuf_put(&t->buf[l->stream], prefix, n);
        if (r >= 0)
                r = wbuf_put(&t->buf[l->stream], l->text, l->len);
        if (r >= 0)
                r = wbuf_put(&t->buf[l->stream], "\n", 1);
        return r;
}

int output_terminal_flush(OutputTerminal *t) {
        int r = 0;

        for (OutputStream s = 0; s < _OUTPUT_STREAM_MAX; s++) {
                int q = wbuf_flush(&t->buf[s]);
                if (q < 0 && r >= 0)
                        r = q;
        }
        return r;
}

/* ---- the pipes' poller ----
 *
 * Every unit's pipes of one event loop are in one epoll instance, which is
 * one io source of the loop: an sd-event io source per pipe costs corrald
 * about 300 bytes of its heap (two per unit), an epoll registration costs
 * it nothing (the kernel keeps it). Each wake-up of the source reads one
 * ready pipe, as a source per pipe did; epoll hands ready pipes out in
 * turn (level-triggered: a pipe still full is ready again). */

typedef struct OutputPoller {
        sd_event *event;
        Poller *poller; /* poller.c: one epoll, one io source */
        unsigned n_ref;
        struct OutputPoller *next;
} OutputPoller;

/* One per event loop that has a UnitOutput (corrald has one loop). */
static OutputPoller *output_pollers;

struct UnitOutput {
        OutputPoller *poller;
        const char *unit; /* borrowed from the caller (the Unit's name) */
        OutputRing ring;
        OutputSplitter split[_OUTPUT_STREAM_MAX];
        int read_fd[_OUTPUT_STREAM_MAX], write_fd[_OUTPUT_STREAM_MAX];
        uint64_t inode[_OUTPUT_STREAM_MAX]; /* of each pipe; 0: none */
        OutputTerminal *terminal;
        OutputFile *file[_OUTPUT_STREAM_MAX]; /* file[OUTPUT_STDERR] NULL: stderr into file[OUTPUT_STDOUT] */
        const UnitOutputCallbacks *callbacks; /* NULL: none */
        void *userdata;
        uint64_t bytes; /* read from the pipes, over the unit's life */
        /* (one per unit: what a single read needs travels in a ReadContext) */
        bool polled[_OUTPUT_STREAM_MAX]; /* read_fd[s] is in the poller */
        bool write_failed;               /* said once, until a write succeeds again */
        bool freeing;                    /* no more lines to the callback: followers are gone */
};

/* Where the bytes being split come from: the splitter's userdata. */
typedef struct ReadContext {
        UnitOutput *o;
        usec_t time;
        OutputStream stream;
} ReadContext;

/* The poller's userdata of a pipe: its UnitOutput, and the stream in bit 0. */
_Static_assert(_Alignof(UnitOutput) >= 2 && _OUTPUT_STREAM_MAX == 2, "the stream does not fit in bit 0");

static void unit_output_ready(UnitOutput *o, OutputStream s);

static void output_poller_ready(void *userdata, uint32_t events) {
        uintptr_t data = (uintptr_t) userdata;

        unit_output_ready((UnitOutput *) (data & ~(uintptr_t) 1), (OutputStream) (data & 1));
}

static OutputPoller *output_poller_unref(OutputPoller *p) {
        if (!p || --p->n_ref > 0)
                return NULL;
        for (OutputPoller **q = &output_pollers; *q; q = &(*q)->next)
                if (*q == p) {
                        *q = p->next;
                        break;
                }
        poller_free(p->poller);
        sd_event_unref(p->event);
        return mfree(p);
}

/* The poller of loop e, made at its first use. NULL for OOM or when epoll
 * or sd-event fail (errno set). */
static OutputPoller *output_poller_get(sd_event *e) {
        OutputPoller *p;
        int r;

        for (p = output_pollers; p; p = p->next)
                if (p->event == e) {
                        p->n_ref++;
                        return p;
                }
        p = calloc(1, sizeof(*p));
        if (!p)
                return NULL;
        p->n_ref = 1;
        /* one pipe per wake-up: a read is up to OUTPUT_READ_BUDGET, and
         * every other source goes first between two */
        r = poller_new(e, OUTPUT_PRIORITY, 1, "output", output_poller_ready, &p->poller);
        if (r < 0) {
                free(p);
                errno = -r;
                return NULL;
        }
        p->event = sd_event_ref(e);
        p->next = output_pollers;
        output_pollers = p;
        return p;
}

static int output_poller_add(UnitOutput *o, OutputStream s) {
        int r = poller_add(o->poller->poller, o->read_fd[s], EPOLLIN, (void *) ((uintptr_t) o | (uintptr_t) s));

        if (r < 0)
                return r;
        o->polled[s] = true;
        return 0;
}

static void output_poller_remove(UnitOutput *o, OutputStream s) {
        if (!o->polled[s])
                return;
        poller_remove(o->poller->poller, o->read_fd[s], (void *) ((uintptr_t) o | (uintptr_t) s));
        o->polled[s] = false;
}

/* ---- one unit's output ---- */

int unit_output_new(sd_event *e, const char *unit, size_t buffer_size, UnitOutput **ret) {
        _cleanup_(unit_output_freep) UnitOutput *o = NULL;
        int r;

        o = calloc(1, sizeof(*o));
        if (!o)
                return -ENOMEM;
        for (OutputStream s = 0; s < _OUTPUT_STREAM_MAX; s++)
                o->read_fd[s] = o->write_fd[s] = -EBADF;
        r = output_ring_init(&o->ring, buffer_size);
        if (r < 0)
                return r;
        for (OutputStream s = 0; s < _OUTPUT_STREAM_MAX; s++)
                o->split[s] = OUTPUT_SPLITTER_INIT(output_ring_line_max(&o->ring));
        o->unit = unit;
        o->poller = output_poller_get(e);
        if (!o->poller)
                return -errno;
        *ret = TAKE_PTR(o);
        return 0;
}

static void unit_output_close_stream(UnitOutput *o, OutputStream s) {
        if (o->read_fd[s] >= 0 && o->callbacks && o->callbacks->pipe)
                o->callbacks->pipe(o, s, o->inode[s], -EBADF, o->userdata);
        output_poller_remove(o, s);
        o->read_fd[s] = safe_close(o->read_fd[s]);
        o->write_fd[s] = safe_close(o->write_fd[s]);
        o->inode[s] = 0;
}

static void unit_output_close(UnitOutput *o) {
        for (OutputStream s = 0; s < _OUTPUT_STREAM_MAX; s++)
                unit_output_close_stream(o, s);
}

void unit_output_close_pipes(UnitOutput *o) {
        unit_output_close(o);
}

UnitOutput *unit_output_free(UnitOutput *o) {
        if (!o)
                return NULL;
        o->freeing = true; /* followers are gone by now */
        if (o->read_fd[OUTPUT_STDOUT] >= 0 || o->read_fd[OUTPUT_STDERR] >= 0)
                (void) unit_output_flush(o);
        unit_output_close(o);
        unit_output_set_files(o, /* out= */ NULL, /* err= */ NULL);
        for (OutputStream s = 0; s < _OUTPUT_STREAM_MAX; s++)
                output_splitter_done(&o->split[s]);
        output_ring_done(&o->ring);
        output_poller_unref(o->poller);
        return mfree(o);
}

void unit_output_set_terminal(UnitOutput *o, OutputTerminal *terminal) {
        o->terminal = terminal;
        if (terminal)
                output_terminal_add_name(terminal, o->unit);
}

void unit_output_set_files(UnitOutput *o, OutputFile *out, OutputFile *err) {
        for (OutputStream s = 0; s < _OUTPUT_STREAM_MAX; s++)
                output_file_free(o->file[s]);
        o->file[OUTPUT_STDOUT] = out;
        o->file[OUTPUT_STDERR] = err;
}

void unit_output_set_callbacks(UnitOutput *o, const UnitOutputCallbacks *callbacks, void *userdata) {
        o->callbacks = callbacks;
        o->userdata = userdata;
}

uint64_t unit_output_pipe_inode(const UnitOutput *o, OutputStream s) {
        return o->inode[s];
}

const char *unit_output_name(const UnitOutput *o) {
        return o->unit;
}

const OutputRing *unit_output_ring(const UnitOutput *o) {
        return &o->ring;
}

uint64_t unit_output_bytes(const UnitOutput *o) {
        return o->bytes;
}

static OutputFile *unit_output_file(UnitOutput *o, OutputStream s) {
        return o->file[s] ?: o->file[OUTPUT_STDOUT];
}

/* A destination that fails is said once, until it works again. */
static void unit_output_write_result(UnitOutput *o, int r, const char *where) {
        if (r < 0 && !o->write_failed)
                log_unit_warning_errno(o->unit, LOG_EVENT_NONE, r, "cannot write output to %s: %m, dropping lines",
                                       where);
        else if (r >= 0 && o->write_failed)
                log_unit_info(o->unit, LOG_EVENT_NONE, "writing output to %s again", where);
        o->write_failed = r < 0;
}

/* The splitter's handler: one line into the ring, the destination and the
 * handler. */
static int unit_output_line(const char *text, size_t len, unsigned flags, void *userdata) {
        const ReadContext *rc = userdata;
        UnitOutput *o = rc->o;
        OutputLine l = {
                .timestamp = rc->time,
                .stream = rc->stream,
                .flags = flags,
                .text = text,
                .len = len,
        };
        OutputFile *f = unit_output_file(o, rc->stream);
        int r;

        r = output_ring_append(&o->ring, &l, &l.seq);
        if (r < 0)
                return r;
        if (f)
                unit_output_write_result(o, output_file_write(f, &l), output_file_path(f));
        else if (o->terminal)
                unit_output_write_result(o, output_terminal_write(o->terminal, o->unit, &l), "corrald's terminal");
        if (o->callbacks && o->callbacks->line && !o->freeing)
                /* the text in the ring: the handler may keep its seq */
                o->callbacks->line(o, &l, o->userdata);
        return 0;
}

static void unit_output_flush_destinations(UnitOutput *o) {
        for (OutputStream s = 0; s < _OUTPUT_STREAM_MAX; s++)
                if (o->file[s])
                        unit_output_write_result(o, output_file_flush(o->file[s]), output_file_path(o->file[s]));
        if (o->terminal)
                unit_output_write_result(o, output_terminal_flush(o->terminal), "corrald's terminal");
}

/* Reads up to budget bytes of stream s, and splits them into lines.
 * Returns 0, 1 at the end of the pipe (every write end is closed: only
 * for an adopted pipe, whose write end corrald does not hold), or -errno
 * of read() (not -EAGAIN) or of the ring. */
static int unit_output_read(UnitOutput *o, OutputStream s, size_t budget) {
        char buf[OUTPUT_READ_CHUNK];

        while (budget > 0) {
                ssize_t n = read(o->read_fd[s], buf, MIN(sizeof(buf), budget));
                int r;

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return errno == EAGAIN ? 0 : -errno;
                }
                if (n == 0)
                        return 1;
                o->bytes += (uint64_t) n;
                budget -= (size_t) n;
                ReadContext rc = { .o = o, .time = now(CLOCK_REALTIME), .stream = s };
                r = output_splitter_feed(&o->split[s], buf, (size_t) n, unit_output_line, &rc);
                if (r < 0)
                        return r;
                if ((size_t) n < sizeof(buf))
                        return 0; /* the pipe is empty: no need to hear EAGAIN */
        }
        return 0;
}

static void unit_output_ready(UnitOutput *o, OutputStream s) {
        int r;

        r = unit_output_read(o, s, OUTPUT_READ_BUDGET);
        if (r > 0) {
                /* an adopted pipe whose writers are all gone */
                ReadContext rc = { .o = o, .time = now(CLOCK_REALTIME), .stream = s };
                (void) output_splitter_flush(&o->split[s], unit_output_line, &rc);
                unit_output_close_stream(o, s);
        }
        unit_output_flush_destinations(o);
        if (r < 0) {
                log_unit_warning_errno(o->unit, LOG_EVENT_NONE, r, "cannot read %s: %m, no longer reading it",
                                       output_stream_to_string(s));
                output_poller_remove(o, s);
        }
}

/* Reads fd (stream s's read end, now o's) in the event loop. */
static int unit_output_watch(UnitOutput *o, OutputStream s, int fd) {
        struct stat st;

        o->read_fd[s] = fd;
        if (fstat(fd, &st) < 0)
                return -errno;
        o->inode[s] = (uint64_t) st.st_ino;
        /* only corrald's end: the child's stays blocking */
        if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
                return -errno;
        return output_poller_add(o, s);
}

static int unit_output_open_stream(UnitOutput *o, OutputStream s) {
        int p[2], r;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        o->write_fd[s] = p[1];
        r = unit_output_watch(o, s, p[0]);
        if (r >= 0 && o->callbacks && o->callbacks->pipe)
                o->callbacks->pipe(o, s, o->inode[s], p[0], o->userdata);
        return r;
}

int unit_output_adopt(UnitOutput *o, OutputStream s, int fd, uint64_t inode) {
        struct stat st;
        int r;

        if (o->read_fd[s] >= 0) {
                safe_close(fd);
                return -EBUSY;
        }
        if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode) || (uint64_t) st.st_ino != inode) {
                safe_close(fd);
                return -ESTALE;
        }
        r = unit_output_watch(o, s, fd);
        if (r < 0) {
                output_poller_remove(o, s);
                o->read_fd[s] = safe_close(o->read_fd[s]);
                o->inode[s] = 0;
        }
        return r;
}

int unit_output_open(UnitOutput *o, int *ret_stdout_fd, int *ret_stderr_fd) {
        int r = 0;

        for (OutputStream s = 0; r >= 0 && s < _OUTPUT_STREAM_MAX; s++) {
                if (o->read_fd[s] >= 0 && o->write_fd[s] < 0)
                        unit_output_close_stream(o, s); /* adopted: its writers are gone, a new one */
                if (o->read_fd[s] < 0)
                        r = unit_output_open_stream(o, s);
        }
        if (r < 0) {
                unit_output_close(o);
                return r;
        }
        *ret_stdout_fd = o->write_fd[OUTPUT_STDOUT];
        *ret_stderr_fd = o->write_fd[OUTPUT_STDERR];
        return 0;
}

int unit_output_flush(UnitOutput *o) {
        int r = 0;

        for (OutputStream s = 0; s < _OUTPUT_STREAM_MAX; s++) {
                /* the writers are gone: what is left is at most a pipe's worth
                 * (bounded all the same, should someone else hold the fd) */
                int q = o->read_fd[s] >= 0 ? unit_output_read(o, s, 16 * OUTPUT_READ_BUDGET) : 0;
                bool eof = q > 0;
                ReadContext rc = { .o = o, .time = now(CLOCK_REALTIME), .stream = s };
                if (q >= 0)
                        q = output_splitter_flush(&o->split[s], unit_output_line, &rc);
                if (eof)
                        unit_output_close_stream(o, s);
                if (q < 0 && r >= 0)
                        r = q;
        }
        unit_output_flush_destinations(o);
        return r;
}

int unit_output_reopen(UnitOutput *o) {
        int r = 0;

        for (OutputStream s = 0; s < _OUTPUT_STREAM_MAX; s++) {
                int q = o->file[s] ? output_file_reopen(o->file[s]) : 0;
                if (q < 0 && r >= 0)
                        r = q;
        }
        return r;
}
