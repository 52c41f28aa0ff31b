/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* libcurl, mapped only when a health check first needs it (systemd's
 * dlopen_many_sym_or_warn()): a corrald without health checks does not
 * map libcurl and the libraries only it pulls in (about 8 MB of its RSS).
 * The types come from <curl/curl.h> at build time; the functions through
 * these pointers, valid once curl_dlopen() has succeeded. */

#include <curl/curl.h>

#define CURL_DLOPEN_SONAME "libcurl.so.4"

#define CURL_DLOPEN_SYMBOLS(X)      \
        X(curl_global_init)         \
        X(curl_easy_init)           \
        X(curl_easy_cleanup)        \
        X(curl_easy_reset)          \
        X(curl_easy_setopt)         \
        X(curl_easy_getinfo)        \
        X(curl_easy_strerror)       \
        X(curl_free)                \
        X(curl_multi_init)          \
        X(curl_multi_cleanup)       \
        X(curl_multi_setopt)        \
        X(curl_multi_add_handle)    \
        X(curl_multi_remove_handle) \
        X(curl_multi_assign)        \
        X(curl_multi_info_read)     \
        X(curl_multi_socket_action) \
        X(curl_multi_strerror)      \
        X(curl_url)                 \
        X(curl_url_cleanup)         \
        X(curl_url_get)             \
        X(curl_url_set)

#define CURL_DLOPEN_DECLARE(name) extern typeof(name) *sym_##name;
CURL_DLOPEN_SYMBOLS(CURL_DLOPEN_DECLARE)
#undef CURL_DLOPEN_DECLARE

/* Maps libcurl (once) and resolves every symbol above, then runs
 * curl_global_init(). Returns 0; -EOPNOTSUPP when the library or a symbol
 * is missing, with dlerror()'s text in *ret_error (static; may be NULL);
 * -EIO when curl_global_init() fails. A failure is remembered: later
 * calls return it again at once. */
int curl_dlopen(const char **ret_error);

/* Whether libcurl is mapped (for the tests and the benchmark). */
int curl_dlopen_loaded(void);
