/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "utf8-bytes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

int utf8_sanitize(const char *text, size_t len, char **ret) {
        char *s, *o;

        /* each byte becomes at most the 3 bytes of U+FFFD */
        s = malloc(len * 3 + 1);
        if (!s)
                return -ENOMEM;
        o = s;
        for (size_t i = 0; i < len;) {
                size_t k = text[i] == '\0' ? 0 : utf8_char_length(text + i, len - i);
                if (k == 0) {
                        memcpy(o, "\xef\xbf\xbd", 3);
                        o += 3;
                        i++;
                        continue;
                }
                memcpy(o, text + i, k);
                o += k;
                i += k;
        }
        *o = '\0';
        *ret = s;
        return 0;
}
