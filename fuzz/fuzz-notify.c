/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The notify datagram parser: one datagram's bytes, as the socket hands
 * them over (the socket drops larger ones before parsing, but the parser
 * checks the bound itself, so it is fuzzed beyond it too). */

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "notify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        NotifyMessage m = { .main_pid = -1 };
        int r;

        if (size > 2 * NOTIFY_DATAGRAM_MAX)
                return -1;

        r = notify_parse((const char *) data, size, &m);
        if (r < 0) {
                assert(r == -EBADMSG || r == -ENOMEM);
                /* ret_* is written only on success */
                assert(m.main_pid == -1 && !m.status);
                return 0;
        }
        assert(size <= NOTIFY_DATAGRAM_MAX);
        assert(m.main_pid >= 0);
        assert(m.watchdog_usec < USEC_INFINITY && m.extend_timeout_usec < USEC_INFINITY);
        if (m.status) {
                assert(strlen(m.status) <= NOTIFY_STATUS_MAX);
                for (const char *p = m.status; *p; p++)
                        assert(((unsigned char) *p >= ' ' || *p == '\t') && *p != 0x7f);
        }
        notify_message_done(&m);
        return 0;
}
