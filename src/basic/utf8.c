/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */
#define REPLACEMENT_LEN 3

/* The number of continuation bytes after lead byte c, and the lowest code
 * point such a sequence may encode (anything lower is an overlong form);
 * -1 for a byte that cannot start a character. */
static int utf8_lead(uint8_t c, uint32_t *ret_min) {
        if (c < 0x80) {
                *ret_min = 0;
                return 0;
        }
        if (c >= 0xc2 && c <= 0xdf) {
                *ret_min = 0x80;
                return 1;
        }
        if (c >= 0xe0 && c <= 0xef) {
                *ret_min = 0x800;
                return 2;
        }
        if (c >= 0xf0 && c <= 0xf4) {
                *ret_min = 0x10000;
                return 3;
        }
        return -1; /* a continuation byte, 0xc0/0xc1 (always overlong), 0xf5..0xff */
}

size_t utf8_char_length(const char *s, size_t n) {
        const uint8_t *p = (const uint8_t *) s;
        uint32_t min, cp;
        int k;

        if (n == 0)
                return 0;
        k = utf8_lead(p[0], &min);
        if (k < 0 || (size_t) k >= n)
                return 0;
        cp = k == 0 ? p[0] : p[0] & (0x3fU >> k);
        for (int i = 1; i <= k; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return (size_t) k + 1;
}

bool utf8_is_valid(const char *s) {
        size_t n;

        if (!s)
                return false;
        n = strlen(s);
        for (size_t i = 0; i < n;) {
                size_t k = utf8_char_length(s + i, n - i);
                if (k == 0)
                        return false;
                i += k;
        }
        return true;
}

char *utf8_make_valid_max(const char *s, size_t max) {
        size_t n = strlen(s), o = 0;
        char *out;

        if (n > (SIZE_MAX - 1) / REPLACEMENT_LEN)
                return NULL;
        /* at worst every byte becomes three */
        out = malloc((n * REPLACEMENT_LEN < max ? n * REPLACEMENT_LEN : max) + 1);
        if (!out)
                return NULL;
        for (size_t i = 0; i < n;) {
                size_t k = utf8_char_length(s + i, n - i);
                const char *piece = k > 0 ? s + i : REPLACEMENT;
                size_t len = k > 0 ? k : REPLACEMENT_LEN;

                if (o + len > max)
                        break;
                memcpy(out + o, piece, len);
                o += len;
                i += k > 0 ? k : 1;
        }
        out[o] = '\0';
        return out;
}

char *utf8_make_valid(const char *s) {
        return utf8_make_valid_max(s, SIZE_MAX);
}
