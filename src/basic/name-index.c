/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "name-index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The tail sorted by name, stably (insertion sort: at most
 * NAME_INDEX_TAIL_MAX entries), then merged with the array; on equal
 * names the array's entry, the older, comes first. */
static int merge_tail(NameIndex *x) {
        size_t n = x->n_sorted + x->n_tail, i = 0, j = 0, k = 0;
        NameIndexEntry *t = x->tail, *l = malloc(n * sizeof(NameIndexEntry));

        if (!l)
                return -ENOMEM;
        for (size_t a = 1; a < x->n_tail; a++) {
                NameIndexEntry e = t[a];
                size_t b = a;

                for (; b > 0 && strcmp(t[b - 1].name, e.name) > 0; b--)
                        t[b] = t[b - 1];
                t[b] = e;
        }
        while (i < x->n_sorted && j < x->n_tail)
                l[k++] = strcmp(t[j].name, x->sorted[i].name) < 0 ? t[j++] : x->sorted[i++];
        while (i < x->n_sorted)
                l[k++] = x->sorted[i++];
        while (j < x->n_tail)
                l[k++] = t[j++];
        free(x->sorted);
        x->sorted = l;
        x->n_sorted = n;
        x->n_tail = 0;
        return 0;
}

int name_index_add(NameIndex *x, const char *name, void *value) {
        if (x->n_tail == NAME_INDEX_TAIL_MAX) {
                int r = merge_tail(x);
                if (r < 0)
                        return r;
        }
        x->tail[x->n_tail++] = (NameIndexEntry) { name, value };
        return 0;
}

/* From position it->i on, the next entry named it->name. */
static void *iter_scan(const NameIndex *x, NameIndexIter *it) {
        if (it->i < x->n_sorted) { /* in the array's run of the name, which ends at another name */
                if (strcmp(x->sorted[it->i].name, it->name) == 0)
                        return x->sorted[it->i++].value;
                it->i = x->n_sorted; /* then the tail */
        }
        for (; it->i < x->n_sorted + x->n_tail; it->i++)
                if (strcmp(x->tail[it->i - x->n_sorted].name, it->name) == 0)
                        return x->tail[it->i++ - x->n_sorted].value;
        return NULL;
}

void *name_index_first(const NameIndex *x, const char *name, NameIndexIter *it) {
        size_t lo = 0, hi = x->n_sorted;

        while (lo < hi) { /* the first entry not below name */
                size_t mid = lo + (hi - lo) / 2;
                if (strcmp(x->sorted[mid].name, name) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *it = (NameIndexIter) { .name = name, .i = lo };
        return iter_scan(x, it);
}

void *name_index_next(const NameIndex *x, NameIndexIter *it) {
        return iter_scan(x, it);
}

static size_t filter_entries(NameIndexEntry *l, size_t n, bool (*drop)(void *, void *), void *userdata) {
        size_t k = 0;

        for (size_t i = 0; i < n; i++)
                if (!drop(l[i].value, userdata))
                        l[k++] = l[i];
        return k;
}

void name_index_filter(NameIndex *x, bool (*drop)(void *value, void *userdata), void *userdata) {
        x->n_sorted = filter_entries(x->sorted, x->n_sorted, drop, userdata);
        x->n_tail = filter_entries(x->tail, x->n_tail, drop, userdata);
}

size_t name_index_size(const NameIndex *x) {
        return x->n_sorted + x->n_tail;
}

void name_index_done(NameIndex *x) {
        free(x->sorted);
        *x = (NameIndex) {};
}
