/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Lines for the control protocol (see output-json.h). */
#include "output-json.h"

#include <string.h>

#include "macro.h"
#include "utf8-bytes.h"

/* {"unit":"","stream":"stdout","timestamp_usec":N,"seq":N,"text":"",
 * "split":true,"partial":true}: the fixed part, numbers at 20 digits. */
#define LINE_JSON_OVERHEAD ((size_t) 140)

int output_line_to_json(const char *unit, const OutputLine *l, json_t **ret) {
        _cleanup_free_ char *text = NULL;
        json_t *o;

        if (utf8_sanitize(l->text, l->len, &text) < 0)
                return -ENOMEM;
        o = json_pack("{s:s,s:s,s:I,s:I,s:s}", "unit", unit, "stream", output_stream_to_string(l->stream) ?: "stdout",
                      "timestamp_usec", (json_int_t) l->timestamp, "seq", (json_int_t) l->seq, "text", text);
        if (!o)
                return -ENOMEM;
        if (((l->flags & OUTPUT_LINE_SPLIT) && json_object_set_new(o, "split", json_true()) < 0) ||
            ((l->flags & OUTPUT_LINE_NO_NEWLINE) && json_object_set_new(o, "partial", json_true()) < 0)) {
                json_decref(o);
                return -ENOMEM;
        }
        *ret = o;
        return 0;
}

size_t output_line_json_size(const char *unit, const OutputLine *l) {
        size_t n = LINE_JSON_OVERHEAD + strlen(unit) * 6;

        /* a control character or NUL becomes \u00XX (6), '"' and '\' two
         * bytes, a byte of an invalid sequence U+FFFD (3) */
        for (size_t i = 0; i < l->len; i++) {
                unsigned char c = (unsigned char) l->text[i];
                n += c < 0x20 ? 6 : c == '"' || c == '\\' ? 2 : c >= 0x80 ? 3 : 1;
        }
        return n;
}

/* A k-way merge over the outputs' iterators: a binary heap of the outputs
 * whose iterator has a current line, ordered by (time, output index). */
typedef struct MergeEntry {
        OutputLine line;
        size_t output;
} MergeEntry;

typedef struct Merge {
        OutputRingIter *iters;
        MergeEntry *heap;
        size_t n;
} Merge;

static bool entry_before(const MergeEntry *a, const MergeEntry *b) {
        return a->line.timestamp < b->line.timestamp ||
               (a->line.timestamp == b->line.timestamp && a->output < b->output);
}

static void heap_down(Merge *m, size_t i) {
        for (;;) {
                size_t l = 2 * i + 1, r = l + 1, min = i;
                if (l < m->n && entry_before(&m->heap[l], &m->heap[min]))
                        min = l;
                if (r < m->n && entry_before(&m->heap[r], &m->heap[min]))
                        min = r;
                if (min == i)
                        return;
                MergeEntry t = m->heap[i];
                m->heap[i] = m->heap[min];
                m->heap[min] = t;
                i = min;
        }
}

static int merge_start(Merge *m, const OutputRing *const *rings, size_t n, size_t max_lines, usec_t since) {
        m->iters = calloc(MAX(n, (size_t) 1), sizeof(*m->iters));
        m->heap = calloc(MAX(n, (size_t) 1), sizeof(*m->heap));
        m->n = 0;
        if (!m->iters || !m->heap)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                output_ring_iter_init(rings[i], max_lines, since, &m->iters[i]);
                if (output_ring_iter_next(&m->iters[i], &m->heap[m->n].line))
                        m->heap[m->n++].output = i;
        }
        for (size_t i = m->n; i-- > 0;)
                heap_down(m, i);
        return 0;
}

/* The oldest line left into *ret. Returns false at the end. */
static bool merge_next(Merge *m, MergeEntry *ret) {
        if (m->n == 0)
                return false;
        *ret = m->heap[0];
        if (!output_ring_iter_next(&m->iters[ret->output], &m->heap[0].line))
                m->heap[0] = m->heap[--m->n];
        heap_down(m, 0);
        return true;
}

static void merge_done(Merge *m) {
        m->iters = mfree(m->iters);
        m->heap = mfree(m->heap);
}

/* Pass 1: how many lines match, and how many of the newest fit. */
static int logs_count(const OutputRing *const *rings, const char *const *names, size_t n, size_t max_lines,
                      usec_t since, size_t budget, size_t *ret_total, size_t *ret_keep) {
        /* any line takes more than LINE_JSON_OVERHEAD / 2: no more fit */
        size_t cap = MIN(max_lines, budget / (LINE_JSON_OVERHEAD / 2) + 1), total = 0, keep = 0, bytes = 0;
        _cleanup_free_ size_t *sizes = calloc(MAX(cap, (size_t) 1), sizeof(size_t)); /* the newest, circular */
        Merge m;
        MergeEntry e;
        int r;

        if (!sizes)
                return -ENOMEM;
        r = merge_start(&m, rings, n, max_lines, since);
        while (r >= 0 && cap > 0 && merge_next(&m, &e))
                sizes[total++ % cap] = output_line_json_size(names[e.output], &e.line);
        merge_done(&m);
        if (r < 0)
                return r;
        for (size_t i = 0; i < MIN(total, cap); i++) {
                size_t s = sizes[(total - 1 - i) % cap];
                if (bytes + s + 1 > budget)
                        break;
                bytes += s + 1;
                keep++;
        }
        *ret_total = total;
        *ret_keep = keep;
        return 0;
}

int output_logs_json(const OutputRing *const *rings, const char *const *names, size_t n, size_t max_lines, usec_t since,
                     size_t budget, json_t **ret, size_t *ret_omitted) {
        json_auto_t *array = json_array();
        size_t total, keep, i = 0;
        Merge m;
        MergeEntry e;
        int r;

        if (!array)
                return -ENOMEM;
        r = logs_count(rings, names, n, max_lines, since, budget, &total, &keep);
        if (r < 0)
                return r;
        r = merge_start(&m, rings, n, max_lines, since);
        while (r >= 0 && keep > 0 && merge_next(&m, &e)) {
                json_t *o;
                if (i++ < total - keep)
                        continue;
                r = output_line_to_json(names[e.output], &e.line, &o);
                if (r >= 0 && json_array_append_new(array, o) < 0)
                        r = -ENOMEM;
        }
        merge_done(&m);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(array);
        *ret_omitted = MIN(total, max_lines) - keep;
        return 0;
}
