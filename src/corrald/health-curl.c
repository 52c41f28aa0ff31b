/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "health-curl.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CURL_DLOPEN_DEFINE(name) typeof(name) *sym_##name = NULL;
CURL_DLOPEN_SYMBOLS(CURL_DLOPEN_DEFINE)
#undef CURL_DLOPEN_DEFINE

static int curl_state = 1; /* 1: not tried; 0: loaded; -errno: failed */
static char curl_error[256];

static int curl_resolve(void *dl) {
#define CURL_DLOPEN_RESOLVE(name)                                                                        \
        if (!(sym_##name = (typeof(name) *) dlsym(dl, #name))) {                                         \
                snprintf(curl_error, sizeof(curl_error), "%s: no symbol %s", CURL_DLOPEN_SONAME, #name); \
                return -EOPNOTSUPP;                                                                      \
        }
        CURL_DLOPEN_SYMBOLS(CURL_DLOPEN_RESOLVE)
#undef CURL_DLOPEN_RESOLVE
        return 0;
}

static int curl_load(void) {
        void *dl = dlopen(CURL_DLOPEN_SONAME, RTLD_NOW | RTLD_NODELETE);
        int r;

        if (!dl) {
                snprintf(curl_error, sizeof(curl_error), "%s", dlerror() ?: "cannot load " CURL_DLOPEN_SONAME);
                return -EOPNOTSUPP;
        }
        r = curl_resolve(dl);
        if (r < 0) {
                dlclose(dl);
                return r;
        }
        if (sym_curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                snprintf(curl_error, sizeof(curl_error), "curl_global_init() failed");
                return -EIO;
        }
        return 0; /* kept mapped for the life of the process (RTLD_NODELETE) */
}

int curl_dlopen(const char **ret_error) {
        if (curl_state > 0)
                curl_state = curl_load();
        if (curl_state < 0 && ret_error)
                *ret_error = curl_error;
        return curl_state;
}

int curl_dlopen_loaded(void) {
        return curl_state == 0;
}
