/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Equality, hash and the difference of configurations, computed from the
 * key table (config-parse.c): a key is compared and hashed by its class,
 * member by member. */

#include "config-diff.h"

#include <string.h>

#include "config-parse.h"
#include "config.h"
#include "hash.h"
#include "string-table.h"
#include "strv.h"

static const char *const service_change_table[_SERVICE_CHANGE_MAX] = {
        [SERVICE_ADDED] = "added",         [SERVICE_REMOVED] = "removed",
        [SERVICE_CHANGED] = "changed",     [SERVICE_LIMITS_CHANGED] = "limits-changed",
        [SERVICE_UNCHANGED] = "unchanged",
};

DEFINE_STRING_TABLE_LOOKUP_TO_STRING(service_change, ServiceChange);

/* ---- one member ---- */

static bool strv_equal(char *const *a, char *const *b) {
        size_t n = strv_length(a);

        if (n != strv_length(b))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!streq(a[i], b[i]))
                        return false;
        return true;
}

static bool rlimit_equal(const ResourceLimit *a, const ResourceLimit *b) {
        if (a->set != b->set)
                return false;
        return !a->set || (a->soft == b->soft && a->hard == b->hard);
}

/* Member f of s, in its block (or the block's defaults when s has none). */
static const char *field_at(const ConfigField *f, const ServiceConfig *s) {
        return (const char *) service_config_block_get(s, f->block) + f->offset;
}

static bool field_equal(const ConfigField *f, const ServiceConfig *a, const ServiceConfig *b) {
        const char *x = field_at(f, a), *y = field_at(f, b);

        switch (f->type) {
        case CONFIG_FIELD_UNUSED:
                return true;
        case CONFIG_FIELD_PLAIN:
                return memcmp(x, y, f->size) == 0;
        case CONFIG_FIELD_STRING:
                return streq_ptr(*(char *const *) x, *(char *const *) y);
        case CONFIG_FIELD_STRV:
                return strv_equal(*(char **const *) x, *(char **const *) y);
        case CONFIG_FIELD_RLIMIT:
                return rlimit_equal((const ResourceLimit *) x, (const ResourceLimit *) y);
        }
        return false;
}

static void hash_bytes(uint64_t *h, const void *data, size_t n) {
        hash_fnv1a64_update(h, data, n);
}

/* A string and its end; NULL hashes apart from "". */
static void hash_str(uint64_t *h, const char *s) {
        static const uint8_t null_mark = 0x01, end = 0xff;

        if (s)
                hash_bytes(h, s, strlen(s));
        else
                hash_bytes(h, &null_mark, 1);
        hash_bytes(h, &end, 1);
}

static void hash_strv(uint64_t *h, char *const *l) {
        for (char *const *p = l; p && *p; p++)
                hash_str(h, *p);
        hash_str(h, "\x02");
}

static void field_hash(const ConfigField *f, const ServiceConfig *s, uint64_t *h) {
        const char *x = field_at(f, s);

        switch (f->type) {
        case CONFIG_FIELD_UNUSED:
                break;
        case CONFIG_FIELD_PLAIN:
                hash_bytes(h, x, f->size);
                break;
        case CONFIG_FIELD_STRING:
                hash_str(h, *(char *const *) x);
                break;
        case CONFIG_FIELD_STRV:
                hash_strv(h, *(char **const *) x);
                break;
        case CONFIG_FIELD_RLIMIT: {
                const ResourceLimit *rl = (const ResourceLimit *) x;
                const uint64_t v[3] = { rl->set, rl->set ? rl->soft : 0, rl->set ? rl->hard : 0 };

                hash_bytes(h, v, sizeof(v));
                break;
        }
        }
}

/* ---- one service ---- */

bool config_key_equal(const ConfigKey *k, const ServiceConfig *a, const ServiceConfig *b) {
        for (size_t i = 0; i < CONFIG_KEY_FIELDS_MAX; i++)
                if (!field_equal(&k->fields[i], a, b))
                        return false;
        return true;
}

/* Whether every key of class diff is the same in a and b. */
static bool keys_equal(ConfigKeyDiff diff, const ServiceConfig *a, const ServiceConfig *b) {
        for (size_t i = 0; i < config_n_program_keys; i++)
                if (config_program_keys[i].diff == diff && !config_key_equal(&config_program_keys[i], a, b))
                        return false;
        return true;
}

bool service_config_equal(const ServiceConfig *a, const ServiceConfig *b) {
        return streq(a->name, b->name) && keys_equal(CONFIG_DIFF_RESTART, a, b);
}

bool service_config_limits_equal(const ServiceConfig *a, const ServiceConfig *b) {
        return keys_equal(CONFIG_DIFF_IN_PLACE, a, b);
}

uint64_t service_config_hash(const ServiceConfig *s) {
        uint64_t h = hash_fnv1a64_init();

        hash_str(&h, s->name);
        for (size_t i = 0; i < config_n_program_keys; i++) {
                const ConfigKey *k = &config_program_keys[i];

                if (k->diff != CONFIG_DIFF_RESTART)
                        continue;
                for (size_t j = 0; j < CONFIG_KEY_FIELDS_MAX; j++)
                        field_hash(&k->fields[j], s, &h);
        }
        return h;
}

ServiceChange service_config_compare(const ServiceConfig *a, const ServiceConfig *b) {
        if (!a && !b)
                return _SERVICE_CHANGE_INVALID;
        if (!a)
                return SERVICE_ADDED;
        if (!b)
                return SERVICE_REMOVED;
        if (!service_config_equal(a, b))
                return SERVICE_CHANGED;
        if (!service_config_limits_equal(a, b))
                return SERVICE_LIMITS_CHANGED;
        return SERVICE_UNCHANGED;
}

/* ---- two configurations ---- */

static void plan_count(ConfigPlan *p, ServiceChange c) {
        switch (c) {
        case SERVICE_ADDED:
                p->added++;
                break;
        case SERVICE_REMOVED:
                p->removed++;
                break;
        case SERVICE_CHANGED:
                p->changed++;
                break;
        case SERVICE_LIMITS_CHANGED:
                p->limits_changed++;
                break;
        case SERVICE_UNCHANGED:
        default:
                p->unchanged++;
        }
}

static void plan_add(ConfigPlan *p, ServiceConfig *old, ServiceConfig *new) {
        ServiceChange c = service_config_compare(old, new);

        p->items[p->n++] = (ServiceDiff) { .change = c, .old = old, .new = new };
        plan_count(p, c);
}

int config_diff(const Config *old, const Config *new, ConfigPlan *ret) {
        size_t n_old = old ? old->n_services : 0, n_new = new ? new->n_services : 0;
        ConfigPlan p = {};

        /* n_old + n_new bounds the items; one allocation, never grown */
        p.items = calloc(n_old + n_new ?: 1, sizeof(ServiceDiff));
        if (!p.items)
                return -ENOMEM;
        for (size_t i = 0; i < n_new; i++) {
                ServiceConfig *s = new->services[i];

                plan_add(&p, old ? config_find_service(old, s->name) : NULL, s);
        }
        for (size_t i = 0; i < n_old; i++) {
                ServiceConfig *s = old->services[i];

                if (!new || !config_find_service(new, s->name))
                        plan_add(&p, s, /* new= */ NULL);
        }
        *ret = p;
        return 0;
}

void config_plan_done(ConfigPlan *p) {
        free(p->items);
        *p = (ConfigPlan) {};
}
