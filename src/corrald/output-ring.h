/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The pure core of output capture: cutting a stream of bytes into lines,
 * and keeping the last lines of a unit in a ring of a fixed number of
 * bytes. No I/O, no clock: the caller passes the time. Table-tested
 * without root (tests/test-output.c).
 *
 * Bounds, whatever a unit writes:
 *   - a line is cut at the first '\n'; the '\n' is not kept;
 *   - a line longer than the splitter's line_max is cut into pieces of
 *     line_max bytes: every piece but the last carries OUTPUT_LINE_SPLIT
 *     ("the line goes on in the next piece"), so nothing is lost and a
 *     reader can join them again;
 *   - bytes left without a '\n' when the stream ends become a last line
 *     with OUTPUT_LINE_NO_NEWLINE;
 *   - the ring holds whole lines only; appending evicts the oldest lines
 *     until the new one fits, and counts how many it evicted. */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "time-util.h"

typedef enum OutputStream {
        OUTPUT_STDOUT,
        OUTPUT_STDERR,
        _OUTPUT_STREAM_MAX,
        _OUTPUT_STREAM_INVALID = -EINVAL,
} OutputStream;

/* "stdout", "stderr"; NULL out of range. */
const char *output_stream_to_string(OutputStream s);
/* The reverse; -EINVAL when unknown. */
OutputStream output_stream_from_string(const char *s);

typedef enum OutputLineFlags {
        OUTPUT_LINE_SPLIT = 1 << 0,      /* cut at line_max: the line goes on in the next piece */
        OUTPUT_LINE_NO_NEWLINE = 1 << 1, /* the stream ended (or was flushed) before a '\n' */
} OutputLineFlags;

/* One line, as the ring and the splitter hand it out. text is not
 * NUL-terminated (it may hold NUL bytes) and points into the ring or the
 * splitter: valid until the next change of what it points into. */
typedef struct OutputLine {
        uint64_t seq;     /* the ring's number of the line, from 0; 0 from the splitter */
        usec_t timestamp; /* CLOCK_REALTIME when it was read */
        OutputStream stream;
        unsigned flags; /* OutputLineFlags */
        const char *text;
        size_t len;
} OutputLine;

/* ---- the splitter: one per stream ---- */

#define OUTPUT_LINE_MAX_DEFAULT ((size_t) 16 * 1024)

typedef struct OutputSplitter {
        char *pending; /* a line begun but not ended, line_max bytes (allocated on first need) */
        uint32_t len;
        uint32_t line_max; /* output_ring_line_max(): at most OUTPUT_LINE_MAX_DEFAULT */
} OutputSplitter;

#define OUTPUT_SPLITTER_INIT(max) ((OutputSplitter) { .line_max = (max) })

/* Called for each line the splitter cuts; returning < 0 stops the feed,
 * which returns that value. */
typedef int (*OutputLineHandler)(const char *text, size_t len, unsigned flags, void *userdata);

/* Cuts data into lines, joining them to what an earlier feed left pending,
 * and calls handler for every complete line and every line_max piece; what
 * is left without '\n' stays pending. Returns 0, -ENOMEM, or what handler
 * returned. */
int output_splitter_feed(OutputSplitter *s, const char *data, size_t n, OutputLineHandler handler, void *userdata);

/* Hands out what is pending as a line with OUTPUT_LINE_NO_NEWLINE (at the
 * end of the stream). Returns 1 when there was something, 0 when not, or
 * what handler returned. */
int output_splitter_flush(OutputSplitter *s, OutputLineHandler handler, void *userdata);

void output_splitter_done(OutputSplitter *s);

/* ---- the ring ---- */

/* The smallest ring (log_buffer) accepted, and the cost of each line in it
 * on top of its text (a header, and padding to 8 bytes). */
#define OUTPUT_RING_MIN ((size_t) 4096)
#define OUTPUT_RING_HEADER ((size_t) 16)

/* (offsets in 32 bits: output_ring_init() takes at most UINT32_MAX bytes) */
typedef struct OutputRing {
        uint8_t *buf; /* size bytes, allocated by the first append */
        uint32_t size;
        uint32_t head;      /* offset of the oldest line */
        uint32_t tail;      /* where the next line goes */
        uint32_t end;       /* when wrapped: where the lines before offset 0 end */
        uint32_t n_lines;   /* at most size / OUTPUT_RING_HEADER */
        bool wrapped;       /* lines live in [head, end) then [0, tail) */
        uint64_t first_seq; /* seq of the oldest line */
        uint64_t evicted;   /* lines evicted to make room, over the ring's life */
} OutputRing;

/* An empty ring of size bytes (≥ OUTPUT_RING_MIN; its memory is taken on
 * the first append). Returns 0 or -EINVAL. */
int output_ring_init(OutputRing *r, size_t size);
void output_ring_done(OutputRing *r);

/* The longest text one line of the ring may have: what a splitter feeding
 * it must cut at (a quarter of the ring, at most OUTPUT_LINE_MAX_DEFAULT). */
size_t output_ring_line_max(const OutputRing *r);

/* Appends line (its seq is ignored), evicting the oldest lines until it
 * fits. Returns 0 with the new line's seq in *ret_seq (may be NULL),
 * -E2BIG when line->len > output_ring_line_max(), -ENOMEM. */
int output_ring_append(OutputRing *r, const OutputLine *line, uint64_t *ret_seq);

/* The seq the next appended line will get. */
uint64_t output_ring_next_seq(const OutputRing *r);

/* Iterates over the last n lines (SIZE_MAX: all) among those whose
 * timestamp is ≥ since (0: every line), oldest first. The iterator is
 * valid until the ring is next changed. */
typedef struct OutputRingIter {
        const OutputRing *ring;
        size_t offset; /* of the next record */
        size_t left;   /* records not yet visited */
        uint64_t seq;  /* of the next record */
        size_t skip;   /* matching lines still to skip */
        usec_t since;
} OutputRingIter;

void output_ring_iter_init(const OutputRing *r, size_t n, usec_t since, OutputRingIter *ret);

/* The next line into *ret. Returns true, or false at the end. */
bool output_ring_iter_next(OutputRingIter *it, OutputLine *ret);
