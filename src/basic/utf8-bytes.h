/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* Copies len bytes of text into a NUL-terminated, valid UTF-8 string:
 * every byte that is not part of a valid UTF-8 sequence (overlong forms,
 * surrogates and code points past U+10FFFF included), and every NUL,
 * becomes U+FFFD, so that JSON can carry any output and what was replaced
 * shows. Returns 0 with a malloc'd string in *ret, or -ENOMEM. */
int utf8_sanitize(const char *text, size_t len, char **ret);
