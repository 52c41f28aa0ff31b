/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Values by name, for a list that grows one at a time and is searched by
 * name far more often than it changes: corrald's units, found by the name
 * a request, a notify message or a reload gives (10,000 units: a walk of
 * all of them per WATCHDOG=1 or per instance of a reload was O(N) and
 * O(N²)). A sorted array searched by bisection, and an unsorted tail of
 * at most NAME_INDEX_TAIL_MAX of the latest entries searched in turn,
 * merged into the array when it fills: an insertion costs O(1) amortized
 * O(N / NAME_INDEX_TAIL_MAX), a lookup O(log N + NAME_INDEX_TAIL_MAX) string
 * comparisons. No hashing, so no names a client chooses collide it into a
 * walk.
 *
 * Several entries may have one name (a unit a reload dropped that is still
 * stopping, and its successor): a lookup visits them in the order they were
 * added.
 *
 *         NameIndexIter it;
 *         for (void *v = name_index_first(&x, name, &it); v; v = name_index_next(&x, &it))
 *                 …
 *
 * The names are not copied: each must live, unchanged, as long as its
 * entry. */

#include <stdbool.h>
#include <stddef.h>

#define NAME_INDEX_TAIL_MAX 64

typedef struct NameIndexEntry {
        const char *name;
        void *value;
} NameIndexEntry;

typedef struct NameIndex {
        NameIndexEntry *sorted; /* by name; equal names in the order added */
        size_t n_sorted;
        NameIndexEntry tail[NAME_INDEX_TAIL_MAX]; /* in the order added */
        size_t n_tail;
} NameIndex;

typedef struct NameIndexIter {
        const char *name;
        size_t i; /* the next position: in sorted, then n_sorted + j for tail[j] */
} NameIndexIter;

/* Adds value under name: 0, or -ENOMEM (the index is unchanged). */
int name_index_add(NameIndex *x, const char *name, void *value);

/* The first value under name (NULL: none), and the next one. */
void *name_index_first(const NameIndex *x, const char *name, NameIndexIter *it);
void *name_index_next(const NameIndex *x, NameIndexIter *it);

/* Drops every entry for which drop(value, userdata) is true, keeping the
 * order of the others: O(N). */
void name_index_filter(NameIndex *x, bool (*drop)(void *value, void *userdata), void *userdata);

size_t name_index_size(const NameIndex *x);

void name_index_done(NameIndex *x);
