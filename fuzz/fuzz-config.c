/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The configuration parser: one file's bytes, as config_load() reads them.
 * A valid result must also survive what corrald does with it next:
 * comparing services on reload and freeing. An input holding a line "%%"
 * is two files, an old and a new configuration, whose plan is checked too
 * (without one, the input is its own old configuration). */

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define SEPARATOR "\n%%\n"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static Config *load(const char *text, size_t size) {
        _cleanup_free_ char *error = NULL;
        Config *c = NULL;
        int r;

        r = config_load_buffer("fuzz.conf", text, size, &c, &error);
        if (r < 0) {
                /* Every failure but OOM explains itself with FILE:LINE:. */
                assert(r == -ENOMEM || (error && strncmp(error, "fuzz.conf:", strlen("fuzz.conf:")) == 0));
                assert(!c);
                return NULL;
        }
        assert(c);
        for (size_t i = 0; i < c->n_services; i++) {
                ServiceConfig *s = c->services[i];

                assert(config_name_is_valid(s->name));
                assert(s->command && s->command[0]);
                assert(service_config_equal(s, s));
                assert(service_config_compare(s, s) == SERVICE_UNCHANGED);
                assert(config_find_service(c, s->name) == s);
        }
        return c;
}

/* What the plan of old → new must be, item by item. */
static void check_plan(const Config *old, const Config *new) {
        ConfigPlan p = {};
        unsigned counts[_SERVICE_CHANGE_MAX] = {};

        if (config_diff(old, new, &p) < 0)
                return;
        assert(p.n == new->n_services + p.removed);
        for (size_t i = 0; i < p.n; i++) {
                const ServiceDiff *d = &p.items[i];
                const ServiceConfig *s = d->new ?: d->old;

                assert(d->change >= 0 && d->change < _SERVICE_CHANGE_MAX);
                counts[d->change]++;
                assert(d->old == config_find_service(old, s->name));
                assert(d->new == config_find_service(new, s->name));
                assert(d->change == service_config_compare(d->old, d->new));
                if (d->old && d->new &&service_config_equal(d->old, d->new))
                        assert(service_config_hash(d->old) == service_config_hash(d->new));
        }
        assert(counts[SERVICE_ADDED] == p.added && counts[SERVICE_REMOVED] == p.removed &&
               counts[SERVICE_CHANGED] == p.changed && counts[SERVICE_LIMITS_CHANGED] == p.limits_changed &&
               counts[SERVICE_UNCHANGED] == p.unchanged);
        config_plan_done(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(config_freep) Config *old = NULL, *new = NULL;
        const char *text = (const char *) data, *sep;
        size_t n_old = size;

        /* config_load() refuses larger files before parsing. */
        if (size > CONFIG_FILE_SIZE_MAX)
                return -1;

        sep = memmem(text, size, SEPARATOR, strlen(SEPARATOR));
        if (sep)
                n_old = (size_t) (sep - text) + 1;
        old = load(text, n_old);
        if (!old)
                return 0;
        if (sep) {
                new = load(sep + strlen(SEPARATOR), size - (size_t) (sep - text) - strlen(SEPARATOR));
                if (!new)
                        return 0;
        }
        check_plan(old, new ?: old);
        return 0;
}
