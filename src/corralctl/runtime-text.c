/* SPDX-License-Identifier: GPL-2.0-or-later */
/* corralctl's text of runtime services: pure, table-tested by
 * tests/test-runtime-text.c. */
#include "runtime-text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "strv.h"

char *command_quote(char *const *words) {
        char *out = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&out, &n);

        if (!f)
                return NULL;
        for (char *const *w = words; *w; w++) {
                fputs(w == words ? "'" : " '", f);
                for (const char *p = *w; *p; p++)
                        if (*p == '\'')
                                fputs("'\\''", f);
                        else
                                fputc(*p, f);
                fputc('\'', f);
        }
        if (fclose(f) != 0) {
                free(out);
                return NULL;
        }
        return out;
}

static bool line_is_blank(const char *l, size_t len) {
        size_t k = strspn(l, " \t");
        return k >= len || l[k] == '#' || l[k] == ';';
}

/* "[program:NAME]" at l: the name (malloc'd) in *ret; 0 when not one. */
static int section_name(const char *l, size_t len, char **ret) {
        size_t k = strspn(l, " \t");
        const char *close;

        if (k >= len || l[k] != '[')
                return 0;
        close = memchr(l + k, ']', len - k);
        if (!close || strncmp(l + k, "[program:", 9) != 0 || close == l + k + 9)
                return -EINVAL;
        *ret = strndup(l + k + 9, (size_t) (close - l - k - 9));
        return *ret ? 1 : -ENOMEM;
}

int apply_file_parse(const char *text, char ***ret_names, char ***ret_bodies, unsigned *ret_line) {
        _cleanup_strv_free_ char **names = calloc(1, sizeof(char *)), **bodies = calloc(1, sizeof(char *));
        unsigned line = 0;
        int r;

        if (!names || !bodies)
                return -ENOMEM;
        for (const char *l = text; *l; l += strcspn(l, "\n"), l += *l == '\n') {
                size_t len = strcspn(l, "\n"), nb = strv_length(bodies);
                char *name = NULL;
                line++;
                r = section_name(l, len, &name);
                if (r == 0 && nb == 0 && !line_is_blank(l, len))
                        r = -EINVAL;
                if (r < 0) {
                        *ret_line = line;
                        return r;
                }
                if (r > 0) {
                        if (strv_consume(&names, name) < 0 || strv_extend(&bodies, "") < 0)
                                return -ENOMEM;
                        continue;
                }
                if (nb == 0)
                        continue;
                char *b = NULL;
                if (asprintf(&b, "%s%.*s\n", bodies[nb - 1], (int) len, l) < 0)
                        return -ENOMEM;
                free(bodies[nb - 1]);
                bodies[nb - 1] = b;
        }
        *ret_names = TAKE_PTR(names);
        *ret_bodies = TAKE_PTR(bodies);
        return 0;
}
