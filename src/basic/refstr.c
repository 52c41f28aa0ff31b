/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "refstr.h"

#include <stddef.h>
#include <string.h>

/* The count lies before the text. */
typedef struct RefStr {
        unsigned n_ref;
        char text[];
} RefStr;

static RefStr *refstr_of(char *s) {
        return (RefStr *) (s - offsetof(RefStr, text));
}

char *refstr_new(const char *s) {
        size_t n = strlen(s) + 1;
        RefStr *r = malloc(offsetof(RefStr, text) + n);

        if (!r)
                return NULL;
        r->n_ref = 1;
        memcpy(r->text, s, n);
        return r->text;
}

char *refstr_ref(char *s) {
        refstr_of(s)->n_ref++;
        return s;
}

char *refstr_unref(char *s) {
        RefStr *r;

        if (!s)
                return NULL;
        r = refstr_of(s);
        if (--r->n_ref == 0)
                free(r);
        return NULL;
}
