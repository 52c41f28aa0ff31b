/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* NULL-terminated string vectors (char **), as in systemd's strv.h. */

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

/* Frees every string and the vector; accepts NULL; returns NULL. */
char **strv_free(char **l);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
#define _cleanup_strv_free_ _cleanup_(strv_freep)

size_t strv_length(char *const *l);

/* Appends value to *l, taking ownership of value on success.
 * Returns 0, or -ENOMEM (value is then not taken). */
int strv_consume(char ***l, char *value);

/* Appends a copy of value to *l. Returns 0 or -ENOMEM. */
int strv_extend(char ***l, const char *value);

/* Returns a deep copy of l (an empty vector for NULL), or NULL on OOM. */
char **strv_copy(char *const *l);

/* A copy of l in one allocation: the vector, then its strings (a vector
 * of n strings costs one malloc chunk instead of n + 1). It is freed with
 * free() alone, never strv_free(), and must not be changed: its strings
 * are not allocations of their own. Returns 0 with the copy in *ret (NULL
 * for NULL), or -ENOMEM. */
int strv_pack(char *const *l, char ***ret);

/* Finds the entry of an environment-style vector ("KEY=VALUE") whose key is
 * key (keylen bytes). Returns its index, or -ENOENT. */
int strv_env_find(char *const *l, const char *key, size_t keylen);

/* Sets KEY=VALUE given as one "KEY=VALUE" string in an environment vector,
 * replacing an earlier entry with the same key. Returns 0, -EINVAL when
 * assignment has no '=' or an empty key, -ENOMEM. */
int strv_env_set(char ***l, const char *assignment);

/* Splits s into words the way a POSIX shell splits a simple command line,
 * without running a shell: words are separated by blanks (space, tab,
 * newline); 'single quotes' keep everything literally; "double quotes" keep
 * everything but a backslash before one of \ " $ ` or newline; outside
 * quotes a backslash keeps the next character literally. Nothing is
 * expanded. Returns 0 with a new vector in *ret (empty when s holds only
 * blanks), -EINVAL for an unterminated quote or a trailing backslash (then
 * *ret_error, if given, points at a static message), -ENOMEM. */
int strv_split_words(const char *s, char ***ret, const char **ret_error);

/* Expands ${NAME} in s with the value of NAME from vars, an environment-
 * style vector ("NAME=value"); "$$" stands for "$"; any other '$' is kept.
 * Returns 0 with a malloc'd result, -EINVAL for a name that vars lacks or
 * an unterminated "${" (then *ret_bad, if given, points into s at the
 * offending "${"), -ENOMEM. */
int strv_env_expand(const char *s, char *const *vars, char **ret, const char **ret_bad);
