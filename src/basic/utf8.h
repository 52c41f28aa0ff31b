/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* UTF-8 as JSON (RFC 8259) and jansson accept it: no overlong forms, no
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF. Knows nothing of
 * corral. */

#include <stdbool.h>
#include <stddef.h>

/* The length (1..4) of the valid UTF-8 character that s (n bytes, n ≥ 1)
 * begins with, or 0 when it does not begin with one. */
size_t utf8_char_length(const char *s, size_t n);

/* Whether the NUL-terminated s is valid UTF-8. NULL is not. */
bool utf8_is_valid(const char *s);

/* A malloc'd copy of the NUL-terminated s in which every byte that does
 * not start a valid character is replaced by U+FFFD (the replacement
 * character, as journald's utf8_escape_invalid() does), or NULL when out
 * of memory. */
char *utf8_make_valid(const char *s);

/* The same, cut at a character boundary so that the result holds at most
 * max bytes (without its NUL). */
char *utf8_make_valid_max(const char *s, size_t max);
