/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "metrics-mhd.h"

#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>

#define MHD_DLOPEN_DEFINE(name) typeof(name) *sym_##name = NULL;
MHD_DLOPEN_SYMBOLS(MHD_DLOPEN_DEFINE)
#undef MHD_DLOPEN_DEFINE

static int mhd_state = 1; /* 1: not tried; 0: loaded; -errno: failed */
static char mhd_error[256];

static int mhd_resolve(void *dl) {
#define MHD_DLOPEN_RESOLVE(name)                                                                      \
        if (!(sym_##name = (typeof(name) *) dlsym(dl, #name))) {                                      \
                snprintf(mhd_error, sizeof(mhd_error), "%s: no symbol %s", MHD_DLOPEN_SONAME, #name); \
                return -EOPNOTSUPP;                                                                   \
        }
        MHD_DLOPEN_SYMBOLS(MHD_DLOPEN_RESOLVE)
#undef MHD_DLOPEN_RESOLVE
        return 0;
}

static int mhd_load(void) {
        void *dl = dlopen(MHD_DLOPEN_SONAME, RTLD_NOW | RTLD_NODELETE);
        int r;

        if (!dl) {
                snprintf(mhd_error, sizeof(mhd_error), "%s", dlerror() ?: "cannot load " MHD_DLOPEN_SONAME);
                return -EOPNOTSUPP;
        }
        r = mhd_resolve(dl);
        if (r < 0)
                dlclose(dl);
        return r; /* kept mapped for the life of the process (RTLD_NODELETE) */
}

int mhd_dlopen(const char **ret_error) {
        if (mhd_state > 0)
                mhd_state = mhd_load();
        if (mhd_state < 0 && ret_error)
                *ret_error = mhd_error;
        return mhd_state;
}

int mhd_dlopen_loaded(void) {
        return mhd_state == 0;
}
