/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libcorral's side of the protocol: what it makes of a line from corrald
 * (or from whatever listens on the socket it was pointed at).
 *
 * The reply parser, request_reply_parse(), and units_new() and
 * event_new() are internal to the library (libcorral-internal.h); request.c
 * and objects.c are built into the target as they are. The input is cut like conn_read_line() cuts the stream: at the
 * first newline, and a line holding a NUL byte never reaches a parser.
 * Each line is read as a reply (then its "units", as corral_status() and
 * corral_wait() do, with every accessor called) and as an event, as
 * corral_next_event() does. */

#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "libcorral-internal.h"
#include "macro.h"

static void use_unit(const corral_unit *u) {
        assert(corral_unit_name(u));
        (void) corral_unit_kind(u);
        (void) corral_unit_state(u);
        (void) corral_unit_result(u);
        (void) corral_unit_main_pid(u);
        (void) corral_unit_uptime_usec(u);
        (void) corral_unit_restarts(u);
        (void) corral_unit_exit_code(u);
        (void) corral_unit_exit_status(u);
        (void) corral_unit_status_text(u);
        (void) corral_unit_cpu_usec(u);
        (void) corral_unit_memory_bytes(u);
        (void) corral_unit_memory_source(u);
        (void) corral_unit_tasks(u);
        (void) corral_unit_frozen(u);
        (void) corral_unit_owner_uid(u);
        assert(corral_unit_json(u));
}

static void fuzz_reply(const char *line) {
        corral c = { .fd = -EBADF };
        json_t *result = NULL;
        bool more = false;
        int r;

        r = request_reply_parse(&c, line, &result, &more);
        if (r < 0) {
                assert(!result);
                /* an error reply leaves its message; a malformed one does not */
                assert(r == -EBADMSG || r == -ENOMEM || c.last_error);
                free(c.last_error);
                return;
        }
        assert(json_is_object(result) && !c.last_error);
        /* a page joins the one before it as reply_read() joins pages
         * ("more": true): arrays one after the other */
        json_auto_t *joined = json_deep_copy(result);
        if (joined && request_result_merge(joined, result) >= 0 && json_is_array(json_object_get(result, "units")))
                assert(json_array_size(json_object_get(joined, "units")) ==
                       2 * json_array_size(json_object_get(result, "units")));
        (void) more;

        /* {"units": […]} of status, start, …; {"unit": {…}} of wait, cancel, run */
        json_t *units = json_object_get(result, "units");
        json_t *one = json_object_get(result, "unit");
        corral_units *l = NULL;

        if (json_is_array(units) && units_new(units, &l) >= 0) {
                for (size_t i = 0; i < corral_units_count(l); i++)
                        use_unit(corral_units_get(l, i));
                assert(corral_units_json(l));
                l = corral_units_free(l);
        }
        if (one) {
                json_auto_t *a = json_pack("[O]", one);
                if (a && units_new(a, &l) >= 0) {
                        assert(corral_units_count(l) == 1);
                        use_unit(corral_units_get(l, 0));
                        l = corral_units_free(l);
                }
        }
        json_decref(result);
}

static void fuzz_event(const char *line) {
        corral_event *e = NULL;
        char *copy = strdup(line);
        int r;

        assert(copy);
        r = event_new(copy, &e); /* takes copy */
        if (r < 0) {
                assert(r == -EBADMSG || r == -ENOMSG || r == -ENOMEM);
                return;
        }
        assert(corral_event_unit(e));
        (void) corral_event_state(e);
        (void) corral_event_result(e);
        (void) corral_event_main_pid(e);
        (void) corral_event_timestamp_usec(e);
        assert(streq(corral_event_json(e), line));
        corral_event_free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *nl = memchr(data, '\n', size);
        size_t n = nl ? (size_t) (nl - (const char *) data) : size;
        _cleanup_free_ char *line = NULL;

        if (n >= CORRAL_REPLY_MAX)
                return -1; /* conn_read_line() fails with -E2BIG */
        if (memchr(data, '\0', n))
                return 0; /* buf_take_line() drops it */
        line = strndup((const char *) data, n);
        assert(line);

        fuzz_reply(line);
        fuzz_event(line);
        return 0;
}
