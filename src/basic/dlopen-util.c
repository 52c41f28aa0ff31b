/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "dlopen-util.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>

static void set_error(char *error, size_t size, const char *fmt, const char *a, const char *b) {
        if (error && size > 0)
                snprintf(error, size, fmt, a, b);
}

int dlopen_many_sym(const char *soname, const DlopenSymbol *syms, size_t n, char *error, size_t error_size) {
        void *dl = dlopen(soname, RTLD_NOW | RTLD_NODELETE);

        if (!dl) {
                const char *e = dlerror();
                set_error(error, error_size, "%s%s", e ? e : "cannot load ", e ? "" : soname);
                return -EOPNOTSUPP;
        }
        for (size_t i = 0; i < n; i++) {
                void *p = dlsym(dl, syms[i].name);
                if (!p) {
                        set_error(error, error_size, "%s: no symbol %s", soname, syms[i].name);
                        for (size_t k = 0; k < i; k++)
                                *syms[k].ptr = NULL;
                        dlclose(dl);
                        return -EOPNOTSUPP;
                }
                *syms[i].ptr = p;
        }
        return 0; /* kept mapped (RTLD_NODELETE) */
}
