/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The configuration parser: one file's bytes, as config_load() reads them.
 * A valid result must also survive what corrald does with it next:
 * comparing services on reload and freeing. */

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *error = NULL;
        int r;

        /* config_load() refuses larger files before parsing. */
        if (size > CONFIG_FILE_SIZE_MAX)
                return -1;

        r = config_load_buffer("fuzz.conf", (const char *) data, size, &c, &error);
        if (r < 0) {
                /* Every failure but OOM explains itself with FILE:LINE:. */
                assert(r == -ENOMEM || (error && strncmp(error, "fuzz.conf:", strlen("fuzz.conf:")) == 0));
                return 0;
        }
        assert(c);
        for (size_t i = 0; i < c->n_services; i++) {
                ServiceConfig *s = c->services[i];

                assert(config_name_is_valid(s->name));
                assert(s->command && s->command[0]);
                assert(service_config_equal(s, s));
                assert(config_find_service(c, s->name) == s);
        }
        return 0;
}
