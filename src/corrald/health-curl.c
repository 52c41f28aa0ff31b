/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "health-curl.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "dlopen-util.h"
#include "macro.h"

#define CURL_DLOPEN_DEFINE(name) typeof(name) *sym_##name = NULL;
CURL_DLOPEN_SYMBOLS(CURL_DLOPEN_DEFINE)
#undef CURL_DLOPEN_DEFINE

static int curl_state = 1; /* 1: not tried; 0: loaded; -errno: failed */
static char curl_error[256];

static int curl_load(void) {
#define CURL_DLOPEN_ENTRY(name) { #name, (void **) &sym_##name },
        static const DlopenSymbol syms[] = { CURL_DLOPEN_SYMBOLS(CURL_DLOPEN_ENTRY) };
#undef CURL_DLOPEN_ENTRY
        int r = dlopen_many_sym(CURL_DLOPEN_SONAME, syms, ELEMENTSOF(syms), curl_error, sizeof(curl_error));

        if (r < 0)
                return r;
        if (sym_curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                snprintf(curl_error, sizeof(curl_error), "curl_global_init() failed");
                return -EIO;
        }
        return 0; /* kept mapped for the life of the process */
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
