/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* For bytes that may hold NULs (what a unit writes), beside utf8.h's
 * NUL-terminated strings. Copies len bytes of text into a NUL-terminated,
 * valid UTF-8 string: every byte that does not start a valid character
 * (utf8_char_length()), and every NUL, becomes U+FFFD, so that JSON can
 * carry any output and what was replaced shows. Returns 0 with a malloc'd
 * string in *ret, or -ENOMEM. */
int utf8_sanitize(const char *text, size_t len, char **ret);
