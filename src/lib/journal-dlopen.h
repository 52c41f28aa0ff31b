/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* libsystemd, mapped the first time a program reads the journal through
 * libcorral (corral_journal_tail(), corral_journal_logs(),
 * corral_journal_follow_open()): corralctl and every other program that
 * links libcorral does not map it, nor gcrypt, lzma, zstd, lz4, libcap and
 * gpg-error that only it pulls in (1.9 ms of CPU at each start of a
 * program that links it, 0.6 ms without: perf stat -r 50). The types come
 * from <systemd/sd-journal.h> at build time; the functions through these
 * pointers, valid once journal_dlopen() has succeeded. Nothing here is
 * exported. */

#include <systemd/sd-journal.h>

#define JOURNAL_DLOPEN_SONAME "libsystemd.so.0"

#define JOURNAL_DLOPEN_SYMBOLS(X)       \
        X(sd_journal_open)              \
        X(sd_journal_close)             \
        X(sd_journal_add_match)         \
        X(sd_journal_add_disjunction)   \
        X(sd_journal_seek_tail)         \
        X(sd_journal_previous)          \
        X(sd_journal_next)              \
        X(sd_journal_get_data)          \
        X(sd_journal_get_realtime_usec) \
        X(sd_journal_get_fd)            \
        X(sd_journal_process)

#define JOURNAL_DLOPEN_DECLARE(name) extern typeof(name) *sym_##name;
JOURNAL_DLOPEN_SYMBOLS(JOURNAL_DLOPEN_DECLARE)
#undef JOURNAL_DLOPEN_DECLARE

/* Maps libsystemd (once) and resolves every symbol above. Returns 0, or
 * -EOPNOTSUPP when the library or a symbol is missing (remembered: later
 * calls return it at once). */
int journal_dlopen(void);
