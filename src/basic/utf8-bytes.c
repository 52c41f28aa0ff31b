/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "utf8-bytes.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The length of the valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t utf8_valid_length(const unsigned char *p, size_t n) {
        size_t len;
        uint32_t cp;

        if (p[0] >= 0x01 && p[0] < 0x80)
                return 1;
        if (p[0] >= 0xc2 && p[0] <= 0xdf)
                len = 2, cp = p[0] & 0x1f;
        else if (p[0] >= 0xe0 && p[0] <= 0xef)
                len = 3, cp = p[0] & 0x0f;
        else if (p[0] >= 0xf0 && p[0] <= 0xf4)
                len = 4, cp = p[0] & 0x07;
        else
                return 0;
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return len;
}

int utf8_sanitize(const char *text, size_t len, char **ret) {
        const unsigned char *p = (const unsigned char *) text;
        char *s, *o;

        /* each byte becomes at most the 3 bytes of U+FFFD */
        s = malloc(len * 3 + 1);
        if (!s)
                return -ENOMEM;
        o = s;
        for (size_t i = 0; i < len;) {
                size_t k = utf8_valid_length(p + i, len - i);
                if (k == 0) {
                        memcpy(o, "\xef\xbf\xbd", 3);
                        o += 3;
                        i++;
                        continue;
                }
                memcpy(o, p + i, k);
                o += k;
                i += k;
        }
        *o = '\0';
        *ret = s;
        return 0;
}
