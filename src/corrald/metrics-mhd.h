/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* libmicrohttpd, mapped only when metrics_listen asks for the HTTP server
 * (as health-curl.h maps libcurl): a corrald without metrics_listen does
 * not map it, nor the TLS stack it pulls in (gnutls, nettle, gmp, p11-kit,
 * idn2, …). The types come from <microhttpd.h> at build time, the
 * functions through these pointers, valid once mhd_dlopen() succeeded. */

#include <microhttpd.h>

#define MHD_DLOPEN_SONAME "libmicrohttpd.so.12"

#define MHD_DLOPEN_SYMBOLS(X)                                 \
        X(MHD_start_daemon)                                   \
        X(MHD_stop_daemon)                                    \
        X(MHD_get_daemon_info)                                \
        X(MHD_get_timeout)                                    \
        X(MHD_run)                                            \
        X(MHD_create_response_from_buffer_with_free_callback) \
        X(MHD_add_response_header)                            \
        X(MHD_queue_response)                                 \
        X(MHD_destroy_response)

#define MHD_DLOPEN_DECLARE(name) extern typeof(name) *sym_##name;
MHD_DLOPEN_SYMBOLS(MHD_DLOPEN_DECLARE)
#undef MHD_DLOPEN_DECLARE

/* Maps libmicrohttpd (once) and resolves every symbol above. Returns 0;
 * -EOPNOTSUPP when the library or a symbol is missing, with dlerror()'s
 * text in *ret_error (static; may be NULL). A failure is remembered. */
int mhd_dlopen(const char **ret_error);

/* Whether libmicrohttpd is mapped (for the tests). */
int mhd_dlopen_loaded(void);
