/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Strings shared by reference: one copy of a text that several owners
 * hold (the file of every service read from it, a service's name and its
 * unit's), freed with the last reference. A refstr is a plain char * to
 * read; only refstr_ref() and refstr_unref() may keep or free it. */

#include "macro.h"

/* A new string holding a copy of s, with one reference. NULL for OOM. */
char *refstr_new(const char *s);
/* Another reference to s (not NULL). Returns s. */
char *refstr_ref(char *s);
/* Drops a reference; accepts NULL; returns NULL. */
char *refstr_unref(char *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(char *, refstr_unref);
