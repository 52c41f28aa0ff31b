/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Lines and the ring of a unit's last lines (see output-ring.h). */
#include "output-ring.h"

#include <string.h>

#include "macro.h"

static const char *const output_stream_table[_OUTPUT_STREAM_MAX] = {
        [OUTPUT_STDOUT] = "stdout",
        [OUTPUT_STDERR] = "stderr",
};

const char *output_stream_to_string(OutputStream s) {
        if (s < 0 || s >= _OUTPUT_STREAM_MAX)
                return NULL;
        return output_stream_table[s];
}

OutputStream output_stream_from_string(const char *s) {
        for (OutputStream i = 0; s && i < _OUTPUT_STREAM_MAX; i++)
                if (streq(output_stream_table[i], s))
                        return i;
        return _OUTPUT_STREAM_INVALID;
}

/* ---- the splitter ---- */

static int splitter_pending_alloc(OutputSplitter *s) {
        if (s->pending)
                return 0;
        s->pending = malloc(s->line_max);
        return s->pending ? 0 : -ENOMEM;
}

/* Adds n bytes without '\n' to what is pending. A full piece is handed
 * out (as OUTPUT_LINE_SPLIT) only once a byte after it arrives: until
 * then it may still turn out to be a whole line. */
static int splitter_add(OutputSplitter *s, const char *data, size_t n, OutputLineHandler handler, void *userdata) {
        while (n > 0) {
                size_t k;
                int r;

                if (s->len == s->line_max) {
                        s->len = 0;
                        r = handler(s->pending, s->line_max, OUTPUT_LINE_SPLIT, userdata);
                        if (r < 0)
                                return r;
                }
                if (s->len == 0 && n > s->line_max) {
                        /* a piece with more after it, straight from the input */
                        r = handler(data, s->line_max, OUTPUT_LINE_SPLIT, userdata);
                        if (r < 0)
                                return r;
                        data += s->line_max;
                        n -= s->line_max;
                        continue;
                }
                r = splitter_pending_alloc(s);
                if (r < 0)
                        return r;
                k = MIN(n, s->line_max - s->len);
                memcpy(s->pending + s->len, data, k);
                s->len += k;
                data += k;
                n -= k;
        }
        return 0;
}

/* Ends the pending line with the n bytes before a '\n'. */
static int splitter_end_line(OutputSplitter *s, const char *data, size_t n, OutputLineHandler handler, void *userdata) {
        int r;

        if (s->len == 0 && n <= s->line_max)
                return handler(data, n, /* flags= */ 0, userdata);
        r = splitter_add(s, data, n, handler, userdata);
        if (r < 0)
                return r;
        n = s->len;
        s->len = 0;
        return handler(s->pending, n, /* flags= */ 0, userdata);
}

int output_splitter_feed(OutputSplitter *s, const char *data, size_t n, OutputLineHandler handler, void *userdata) {
        while (n > 0) {
                const char *nl = memchr(data, '\n', n);
                int r;

                if (!nl)
                        return splitter_add(s, data, n, handler, userdata);
                r = splitter_end_line(s, data, (size_t) (nl - data), handler, userdata);
                if (r < 0)
                        return r;
                n -= (size_t) (nl - data) + 1;
                data = nl + 1;
        }
        return 0;
}

int output_splitter_flush(OutputSplitter *s, OutputLineHandler handler, void *userdata) {
        size_t n = s->len;
        int r;

        if (n == 0)
                return 0;
        s->len = 0;
        r = handler(s->pending, n, OUTPUT_LINE_NO_NEWLINE, userdata);
        return r < 0 ? r : 1;
}

void output_splitter_done(OutputSplitter *s) {
        s->pending = mfree(s->pending);
        s->len = 0;
}

/* ---- the ring ---- */

/* A record: this header, then len bytes of text, padded to 8. */
typedef struct RingRecord {
        uint64_t timestamp;
        uint32_t len;
        uint8_t stream;
        uint8_t flags;
        uint16_t unused;
} RingRecord;

_Static_assert(sizeof(RingRecord) == OUTPUT_RING_HEADER, "record header size");

static size_t record_size(size_t len) {
        return OUTPUT_RING_HEADER + ((len + 7) & ~(size_t) 7);
}

int output_ring_init(OutputRing *r, size_t size) {
        if (size < OUTPUT_RING_MIN || size > UINT32_MAX)
                return -EINVAL;
        *r = (OutputRing) { .size = size & ~(size_t) 7 };
        return 0;
}

void output_ring_done(OutputRing *r) {
        r->buf = mfree(r->buf);
        r->n_lines = 0;
        r->head = r->tail = r->end = 0;
        r->wrapped = false;
}

size_t output_ring_line_max(const OutputRing *r) {
        return MIN(r->size / 4, OUTPUT_LINE_MAX_DEFAULT);
}

uint64_t output_ring_next_seq(const OutputRing *r) {
        return r->first_seq + r->n_lines;
}

static RingRecord ring_header(const OutputRing *r, size_t offset) {
        RingRecord h;

        memcpy(&h, r->buf + offset, sizeof(h));
        return h;
}

static void ring_evict_oldest(OutputRing *r) {
        r->head += record_size(ring_header(r, r->head).len);
        r->n_lines--;
        r->first_seq++;
        r->evicted++;
        if (r->n_lines == 0) {
                r->head = r->tail = r->end = 0;
                r->wrapped = false;
        } else if (r->wrapped && r->head == r->end) {
                r->head = 0;
                r->wrapped = false;
        }
}

/* Where a record of size need goes, once the oldest lines in the way are
 * evicted. */
static size_t ring_make_room(OutputRing *r, size_t need) {
        for (;;) {
                if (!r->wrapped) {
                        if (r->tail + need <= r->size)
                                return r->tail;
                        r->end = r->tail;
                        r->tail = 0;
                        r->wrapped = true;
                        if (r->n_lines == 0) {
                                r->wrapped = false;
                                continue;
                        }
                }
                if (r->tail + need <= r->head)
                        return r->tail;
                ring_evict_oldest(r);
        }
}

int output_ring_append(OutputRing *r, const OutputLine *line, uint64_t *ret_seq) {
        size_t need = record_size(line->len), at;
        RingRecord h = {
                .timestamp = line->timestamp,
                .len = (uint32_t) line->len,
                .stream = (uint8_t) line->stream,
                .flags = (uint8_t) line->flags,
        };

        if (line->len > output_ring_line_max(r))
                return -E2BIG;
        if (!r->buf) {
                r->buf = malloc(r->size);
                if (!r->buf)
                        return -ENOMEM;
        }
        at = ring_make_room(r, need);
        memcpy(r->buf + at, &h, sizeof(h));
        memcpy(r->buf + at + sizeof(h), line->text, line->len);
        r->tail = at + need;
        r->n_lines++;
        if (ret_seq)
                *ret_seq = output_ring_next_seq(r) - 1;
        return 0;
}

/* Steps past the record at it->offset. */
static void iter_advance(OutputRingIter *it, const RingRecord *h) {
        const OutputRing *r = it->ring;

        it->offset += record_size(h->len);
        if (r->wrapped && it->offset == r->end)
                it->offset = 0;
        it->left--;
        it->seq++;
}

static void iter_start(const OutputRing *r, usec_t since, OutputRingIter *ret) {
        *ret = (OutputRingIter) {
                .ring = r,
                .offset = r->head,
                .left = r->n_lines,
                .seq = r->first_seq,
                .since = since,
        };
}

void output_ring_iter_init(const OutputRing *r, size_t n, usec_t since, OutputRingIter *ret) {
        OutputRingIter it;
        size_t matching = 0;

        /* count the lines since, to skip all but the last n of them */
        iter_start(r, since, &it);
        while (it.left > 0) {
                RingRecord h = ring_header(r, it.offset);
                if (h.timestamp >= since)
                        matching++;
                iter_advance(&it, &h);
        }
        iter_start(r, since, ret);
        ret->skip = matching > n ? matching - n : 0;
}

bool output_ring_iter_next(OutputRingIter *it, OutputLine *ret) {
        const OutputRing *r = it->ring;

        while (it->left > 0) {
                RingRecord h = ring_header(r, it->offset);
                size_t offset = it->offset;
                uint64_t seq = it->seq;

                iter_advance(it, &h);
                if (h.timestamp < it->since)
                        continue;
                if (it->skip > 0) {
                        it->skip--;
                        continue;
                }
                *ret = (OutputLine) {
                        .seq = seq,
                        .timestamp = h.timestamp,
                        .stream = (OutputStream) h.stream,
                        .flags = h.flags,
                        .text = (const char *) r->buf + offset + sizeof(h),
                        .len = h.len,
                };
                return true;
        }
        return false;
}
