/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "journal-dlopen.h"

#include <pthread.h>

#include "dlopen-util.h"
#include "macro.h"

#define JOURNAL_DLOPEN_DEFINE(name) typeof(name) *sym_##name = NULL;
JOURNAL_DLOPEN_SYMBOLS(JOURNAL_DLOPEN_DEFINE)
#undef JOURNAL_DLOPEN_DEFINE

static int journal_state = 1; /* 1: not tried; 0: loaded; -errno: failed */
static pthread_once_t journal_once = PTHREAD_ONCE_INIT;

static void journal_load(void) {
#define JOURNAL_DLOPEN_ENTRY(name) { #name, (void **) &sym_##name },
        static const DlopenSymbol syms[] = { JOURNAL_DLOPEN_SYMBOLS(JOURNAL_DLOPEN_ENTRY) };
#undef JOURNAL_DLOPEN_ENTRY
        journal_state = dlopen_many_sym(JOURNAL_DLOPEN_SONAME, syms, ELEMENTSOF(syms), NULL, 0);
}

/* A library's callers may be threads: the load runs once. */
int journal_dlopen(void) {
        (void) pthread_once(&journal_once, journal_load);
        return journal_state;
}
