/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests of equality, hash and config_diff(): every key of the key table,
 * through its sample value, changes what its class says and nothing else;
 * then plans of two configurations, case by case. No root needed. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "config-parse.h"
#include "config.h"

#define BASE_COMMAND "command = /bin/true\n"
/* Services that the samples of after and requires name. */
#define OTHER_SERVICES                                                                                  \
        "[program:db]\n" BASE_COMMAND "[program:migrate]\n" BASE_COMMAND "[program:api]\n" BASE_COMMAND \
        "instances = "                                                                                  \
        "2\n"

static Config *load(const char *text) {
        _cleanup_free_ char *error = NULL;
        Config *c = NULL;
        int r;

        r = config_load_buffer("test.conf", text, strlen(text), &c, &error);
        if (r < 0)
                print_error("cannot load \"%s\": %s\n", text, error ?: strerror(-r));
        assert_int_equal(r, 0);
        return c;
}

/* Whether byte o of block b (CONFIG_BLOCK_NONE: ServiceConfig) is in
 * field f. */
static bool field_holds(const ConfigField *f, ConfigBlock b, size_t o) {
        return f->type != CONFIG_FIELD_UNUSED && f->block == b && o >= f->offset && o < f->offset + f->size;
}

static bool key_holds(const ConfigKey *k, ConfigBlock b, size_t o) {
        for (size_t j = 0; j < CONFIG_KEY_FIELDS_MAX; j++)
                if (field_holds(&k->fields[j], b, o))
                        return true;
        return false;
}

static bool in_member(size_t o, size_t offset, size_t size) {
        return o >= offset && o < offset + size;
}

/* Whether byte o of block b is in a pointer: two services read apart hold
 * different addresses there whatever their content. The pointers to the
 * blocks are compared through the blocks. */
static bool is_pointer_byte(ConfigBlock b, size_t o) {
        if (b == CONFIG_BLOCK_NONE) {
                if (in_member(o, offsetof(ServiceConfig, name), sizeof(char *)) ||
                    in_member(o, offsetof(ServiceConfig, file), sizeof(char *)))
                        return true;
                for (ConfigBlock x = CONFIG_BLOCK_NONE + 1; x < _CONFIG_BLOCK_MAX; x++)
                        if (in_member(o, config_block_offset(x), sizeof(void *)))
                                return true;
        }
        for (size_t i = 0; i < config_n_program_keys; i++)
                for (size_t j = 0; j < CONFIG_KEY_FIELDS_MAX; j++) {
                        const ConfigField *f = &config_program_keys[i].fields[j];

                        if ((f->type == CONFIG_FIELD_STRING || f->type == CONFIG_FIELD_STRV) && field_holds(f, b, o))
                                return true;
                }
        return false;
}

/* The table itself: a parser, a class, a sample and members for every key,
 * members inside ServiceConfig or their block, and no member named by two
 * keys. */
static void test_key_table(_unused_ void **state) {
        size_t n_lists = 0;

        assert_true(config_n_program_keys > 0);
        for (size_t i = 0; i < config_n_program_keys; i++) {
                const ConfigKey *k = &config_program_keys[i];

                if (!k->sample || k->fields[0].type == CONFIG_FIELD_UNUSED)
                        print_error("key %s: no sample or no members\n", k->key);
                assert_non_null(k->parse);
                assert_non_null(k->sample);
                assert_true(k->diff >= 0 && k->diff < _CONFIG_DIFF_MAX);
                assert_int_not_equal(k->fields[0].type, CONFIG_FIELD_UNUSED);
                assert_true(k->block >= 0 && k->block < _CONFIG_BLOCK_MAX);
                assert_true(k->offset < config_block_size(k->block));
                for (size_t j = 0; j < CONFIG_KEY_FIELDS_MAX; j++) {
                        const ConfigField *f = &k->fields[j];

                        if (f->type == CONFIG_FIELD_UNUSED)
                                continue;
                        n_lists += f->type == CONFIG_FIELD_STRV;
                        assert_true(f->block >= 0 && f->block < _CONFIG_BLOCK_MAX);
                        assert_true(f->size > 0 && f->offset + f->size <= config_block_size(f->block));
                        if (f->block == CONFIG_BLOCK_NONE)
                                for (ConfigBlock x = CONFIG_BLOCK_NONE + 1; x < _CONFIG_BLOCK_MAX; x++)
                                        assert_false(in_member(config_block_offset(x), f->offset, f->size));
                        for (size_t o = f->offset; o < f->offset + f->size; o++)
                                for (size_t m = 0; m < config_n_program_keys; m++)
                                        if (m != i && key_holds(&config_program_keys[m], f->block, o)) {
                                                print_error("%s and %s share byte %zu of block %d\n", k->key,
                                                            config_program_keys[m].key, o, f->block);
                                                fail();
                                        }
                }
        }
        assert_true(n_lists <= SERVICE_CONFIG_LISTS_MAX); /* service_config_pack() has room for each */
}

/* Every cgroup limit is a key that changes in place. */
static void test_limits_in_place(_unused_ void **state) {
        for (CgroupLimit l = 0; l < _LIMIT_MAX; l++) {
                const ConfigKey *k = NULL;

                for (size_t i = 0; i < config_n_program_keys; i++)
                        if (streq(config_program_keys[i].key, cgroup_limit_key(l)))
                                k = &config_program_keys[i];
                assert_non_null(k);
                assert_int_equal(k->diff, CONFIG_DIFF_IN_PLACE);
        }
}

/* The bytes of a and b (and of their blocks, a missing one being its
 * defaults) differ only in k's members and in pointers. */
static void assert_only_key_differs(const ConfigKey *k, const ServiceConfig *a, const ServiceConfig *b) {
        for (ConfigBlock blk = CONFIG_BLOCK_NONE; blk < _CONFIG_BLOCK_MAX; blk++) {
                const uint8_t *x = service_config_block_get(a, blk), *y = service_config_block_get(b, blk);

                for (size_t o = 0; o < config_block_size(blk); o++)
                        if (x[o] != y[o] && !key_holds(k, blk, o) && !is_pointer_byte(blk, o)) {
                                print_error(
                                        "%s = %s changed byte %zu of block %d, which is not in the key's "
                                        "members: add the member to the key's entry in config-parse.c\n",
                                        k->key, k->sample, o, blk);
                                fail();
                        }
        }
        for (size_t i = 0; i < config_n_program_keys; i++)
                if (&config_program_keys[i] != k && !config_key_equal(&config_program_keys[i], a, b)) {
                        print_error("%s = %s changed key %s\n", k->key, k->sample, config_program_keys[i].key);
                        fail();
                }
}

static void assert_class(const ConfigKey *k, const ServiceConfig *a, const ServiceConfig *b) {
        bool equal = service_config_equal(a, b), limits = service_config_limits_equal(a, b),
             hash = service_config_hash(a) == service_config_hash(b);

        if (equal != (k->diff != CONFIG_DIFF_RESTART) || hash != equal || limits != (k->diff != CONFIG_DIFF_IN_PLACE))
                print_error("%s (class %d) = %s: equal %d, hash equal %d, limits equal %d\n", k->key, k->diff,
                            k->sample, equal, hash, limits);
        switch (k->diff) {
        case CONFIG_DIFF_RESTART:
                assert_false(equal);
                assert_false(hash);
                assert_true(limits);
                assert_int_equal(service_config_compare(a, b), SERVICE_CHANGED);
                break;
        case CONFIG_DIFF_IN_PLACE:
                assert_true(equal);
                assert_true(hash);
                assert_false(limits);
                assert_int_equal(service_config_compare(a, b), SERVICE_LIMITS_CHANGED);
                break;
        default:
                assert_int_equal(k->diff, CONFIG_DIFF_NONE);
                assert_true(equal);
                assert_true(hash);
                assert_true(limits);
                assert_int_equal(service_config_compare(a, b), SERVICE_UNCHANGED);
        }
}

/* For every key of the table: a service, and the same with the key set to
 * its sample. */
static void test_every_key(_unused_ void **state) {
        _cleanup_(config_freep) Config *base = load("[program:svc]\n" BASE_COMMAND OTHER_SERVICES);

        for (size_t i = 0; i < config_n_program_keys; i++) {
                const ConfigKey *k = &config_program_keys[i];
                _cleanup_(config_freep) Config *changed = NULL;
                _cleanup_free_ char *text = NULL;
                const ServiceConfig *a = base->services[0], *b;

                assert_true(asprintf(&text, "[program:svc]\n%s%s = %s\n" OTHER_SERVICES,
                                     streq(k->key, "command") ? "" : BASE_COMMAND, k->key, k->sample) > 0);
                changed = load(text);
                b = changed->services[0];

                if (config_key_equal(k, a, b))
                        print_error("%s = %s is the default\n", k->key, k->sample);
                assert_false(config_key_equal(k, a, b));
                assert_only_key_differs(k, a, b);
                assert_class(k, a, b);
        }
}

/* Where a section was written does not count; its name does. */
static void test_equal_place_and_name(_unused_ void **state) {
        _cleanup_(config_freep) Config *a = load("[program:svc]\n" BASE_COMMAND "memory_max = 1G\n"),
                                       *b = load("\n\n# moved\n[program:svc]\nmemory_max = 1G\n" BASE_COMMAND),
                                       *c = load("[program:other]\n" BASE_COMMAND "memory_max = 1G\n");

        assert_int_not_equal(a->services[0]->line, b->services[0]->line);
        assert_true(service_config_equal(a->services[0], b->services[0]));
        assert_true(service_config_limits_equal(a->services[0], b->services[0]));
        assert_true(service_config_hash(a->services[0]) == service_config_hash(b->services[0]));
        assert_int_equal(service_config_compare(a->services[0], b->services[0]), SERVICE_UNCHANGED);

        assert_false(service_config_equal(a->services[0], c->services[0]));
        assert_false(service_config_hash(a->services[0]) == service_config_hash(c->services[0]));
        assert_int_equal(service_config_compare(a->services[0], c->services[0]), SERVICE_CHANGED);
}

/* Resource limits compare member by member: neither the padding of
 * ResourceLimit nor the values of an unset limit count. */
static void test_equal_rlimit_padding(_unused_ void **state) {
        ServiceConfig *a = service_config_new("svc", "a.conf", 1), *b = service_config_new("svc", "b.conf", 2);

        assert_non_null(a);
        assert_non_null(b);
        assert_non_null(service_config_block(a, CONFIG_BLOCK_RLIMITS));
        assert_non_null(service_config_block(b, CONFIG_BLOCK_RLIMITS));
        memset(a->rlimits, 0xaa, sizeof(*a->rlimits));
        memset(b->rlimits, 0x55, sizeof(*b->rlimits));
        for (int i = 0; i < CONFIG_RLIMIT_MAX; i++) {
                a->rlimits->rlimit[i].set = b->rlimits->rlimit[i].set = false;
                if (i == 3) {
                        a->rlimits->rlimit[i].set = b->rlimits->rlimit[i].set = true;
                        a->rlimits->rlimit[i].soft = b->rlimits->rlimit[i].soft = 1024;
                        a->rlimits->rlimit[i].hard = b->rlimits->rlimit[i].hard = 4096;
                }
        }
        assert_true(memcmp(a->rlimits, b->rlimits, sizeof(*a->rlimits)) != 0);
        assert_true(service_config_equal(a, b));
        assert_true(service_config_hash(a) == service_config_hash(b));

        b->rlimits->rlimit[3].hard = 4097;
        assert_false(service_config_equal(a, b));
        assert_false(service_config_hash(a) == service_config_hash(b));

        service_config_unref(a);
        service_config_unref(b);
}

/* The optional blocks: none without their keys; a block that holds only
 * defaults (its keys set to their default values) equals none, in
 * equality, limits and hash. */
static void test_blocks_default(_unused_ void **state) {
        _cleanup_(config_freep) Config *a = load("[program:svc]\n" BASE_COMMAND),
                                       *b = load("[program:svc]\n" BASE_COMMAND
                                                 "health_interval = 10s\nhealth_timeout = 2s\nhealth_threshold = 3\n"
                                                 "health_grace = 0\nhealth_status = 200-299\n");
        ServiceConfig *s = a->services[0], *t = b->services[0];
        HealthStatusSet dflt;

        assert_null(s->health);
        assert_null(s->limits);
        assert_null(s->rlimits);
        assert_null(s->extras);
        assert_non_null(t->health);
        assert_true(service_config_equal(s, t));
        assert_true(service_config_limits_equal(s, t));
        assert_true(service_config_hash(s) == service_config_hash(t));
        assert_int_equal(service_config_compare(s, t), SERVICE_UNCHANGED);

        /* the defaults of the block are the documented ones */
        assert_int_equal(health_status_parse("200-299", &dflt), 0);
        assert_memory_equal(&service_config_health(s)->health_status, &dflt, sizeof(dflt));
        assert_true(service_config_health(s)->health_interval == 10 * USEC_PER_SEC);
        assert_true(service_config_health(s)->health_timeout == 2 * USEC_PER_SEC);
        assert_int_equal(service_config_health(s)->health_threshold, 3);
        assert_null(service_config_limit(s, LIMIT_MEMORY_MAX));
        assert_false(service_config_rlimit(s, 0)->set);
}

/* The services of one file share its name (one string), and keep it
 * after the Config that read them is gone. */
static void test_shared_file(_unused_ void **state) {
        Config *c = load("[program:a]\n" BASE_COMMAND "[program:b]\n" BASE_COMMAND);
        ServiceConfig *a = service_config_ref(c->services[0]);

        assert_ptr_equal(c->services[0]->file, c->services[1]->file);
        config_free(c);
        assert_string_equal(a->file, "test.conf");
        assert_string_equal(a->name, "a");
        service_config_unref(a);
}

/* ---- config_diff() ---- */

typedef struct Expected {
        const char *name;
        ServiceChange change;
} Expected;

#define EXPECTED_MAX 8

static void assert_plan(const Config *old, const Config *new, const Expected *expected, const unsigned counts[5]) {
        ConfigPlan p = {};
        size_t n = 0;

        assert_int_equal(config_diff(old, new, &p), 0);
        while (n < EXPECTED_MAX && expected[n].name)
                n++;
        assert_int_equal(p.n, n);
        for (size_t i = 0; i < n; i++) {
                const ServiceDiff *d = &p.items[i];
                const ServiceConfig *s = d->new ?: d->old;

                if (d->change != expected[i].change || !streq(s->name, expected[i].name))
                        print_error("item %zu: %s %s, expected %s %s\n", i, s->name,
                                    service_change_to_string(d->change), expected[i].name,
                                    service_change_to_string(expected[i].change));
                assert_string_equal(s->name, expected[i].name);
                assert_int_equal(d->change, expected[i].change);
                assert_ptr_equal(d->old, old ? config_find_service(old, s->name) : NULL);
                assert_ptr_equal(d->new, new ? config_find_service(new, s->name) : NULL);
                assert_int_equal(d->change, service_config_compare(d->old, d->new));
        }
        assert_int_equal(p.added, counts[0]);
        assert_int_equal(p.removed, counts[1]);
        assert_int_equal(p.changed, counts[2]);
        assert_int_equal(p.limits_changed, counts[3]);
        assert_int_equal(p.unchanged, counts[4]);
        config_plan_done(&p);
        assert_null(p.items);
        assert_int_equal(p.n, 0);
}

static void test_diff_cases(_unused_ void **state) {
        static const struct {
                const char *old, *new;
                Expected expected[EXPECTED_MAX];
                unsigned counts[5]; /* added, removed, changed, limits_changed, unchanged */
        } cases[] = {
                { "[program:a]\ncommand = a\n",
                  "[program:a]\ncommand = a\n[program:b]\ncommand = b\n",
                  { { "a", SERVICE_UNCHANGED }, { "b", SERVICE_ADDED } },
                  { 1, 0, 0, 0, 1 } },
                { "[program:a]\ncommand = a\n[program:b]\ncommand = b\n",
                  "[program:a]\ncommand = a\n",
                  { { "a", SERVICE_UNCHANGED }, { "b", SERVICE_REMOVED } },
                  { 0, 1, 0, 0, 1 } },
                { "[program:a]\ncommand = a\n",
                  "[program:a]\ncommand = a x\n",
                  { { "a", SERVICE_CHANGED } },
                  { 0, 0, 1, 0, 0 } },
                { "[program:a]\ncommand = a\nmemory_max = 1G\n",
                  "[program:a]\ncommand = a\nmemory_max = 2G\n",
                  { { "a", SERVICE_LIMITS_CHANGED } },
                  { 0, 0, 0, 1, 0 } },
                { "[program:a]\ncommand = a\n",
                  "[program:a]\ncommand = a\ncpu_weight = 50\n",
                  { { "a", SERVICE_LIMITS_CHANGED } },
                  { 0, 0, 0, 1, 0 } },
                /* a restart key and a limit: the restart wins */
                { "[program:a]\ncommand = a\n",
                  "[program:a]\ncommand = a\npids_max = 10\nstop_timeout = 1s\n",
                  { { "a", SERVICE_CHANGED } },
                  { 0, 0, 1, 0, 0 } },
                { "[program:a]\ncommand = a\n",
                  "\n# moved\n\n[program:a]\ncommand = a\n",
                  { { "a", SERVICE_UNCHANGED } },
                  { 0, 0, 0, 0, 1 } },
                /* instances grow and shrink apart from the plan */
                { "[program:a]\ncommand = a\ninstances = 3\n",
                  "[program:a]\ncommand = a\ninstances = 5\n",
                  { { "a", SERVICE_UNCHANGED } },
                  { 0, 0, 0, 0, 1 } },
                { "[program:a]\ncommand = a\ninstances = 3\n",
                  "[program:a]\ncommand = a\n",
                  { { "a", SERVICE_UNCHANGED } },
                  { 0, 0, 0, 0, 1 } },
                /* the order of the new configuration, then the removed in the old one's */
                { "[program:a]\ncommand = a\n[program:b]\ncommand = b\n[program:c]\ncommand = c\n"
                  "[program:d]\ncommand = d\nmemory_max = 1G\n[program:e]\ncommand = e\n",
                  "[program:d]\ncommand = d\n[program:f]\ncommand = f\n[program:b]\ncommand = b\n"
                  "[program:c]\ncommand = c c\n",
                  { { "d", SERVICE_LIMITS_CHANGED },
                    { "f", SERVICE_ADDED },
                    { "b", SERVICE_UNCHANGED },
                    { "c", SERVICE_CHANGED },
                    { "a", SERVICE_REMOVED },
                    { "e", SERVICE_REMOVED } },
                  { 1, 2, 1, 1, 1 } },
                { "", "", { {} }, { 0, 0, 0, 0, 0 } },
                { "", "[program:a]\ncommand = a\n", { { "a", SERVICE_ADDED } }, { 1, 0, 0, 0, 0 } },
                { "[program:a]\ncommand = a\n", "[corral]\n", { { "a", SERVICE_REMOVED } }, { 0, 1, 0, 0, 0 } },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(config_freep) Config *old = load(cases[i].old), *new = load(cases[i].new);

                print_message("case %zu\n", i);
                assert_plan(old, new, cases[i].expected, cases[i].counts);
        }
}

/* A missing configuration is an empty one; one against itself changes
 * nothing. */
static void test_diff_null_and_self(_unused_ void **state) {
        _cleanup_(config_freep)
                Config *c = load("[program:a]\ncommand = a\n[program:b]\ncommand = b\nmemory_max = 1G\n");
        static const Expected added[] = { { "a", SERVICE_ADDED }, { "b", SERVICE_ADDED }, {} },
                              removed[] = { { "a", SERVICE_REMOVED }, { "b", SERVICE_REMOVED }, {} },
                              same[] = { { "a", SERVICE_UNCHANGED }, { "b", SERVICE_UNCHANGED }, {} }, none[] = { {} };

        assert_plan(/* old= */ NULL, c, added, (const unsigned[5]) { 2, 0, 0, 0, 0 });
        assert_plan(c, /* new= */ NULL, removed, (const unsigned[5]) { 0, 2, 0, 0, 0 });
        assert_plan(c, c, same, (const unsigned[5]) { 0, 0, 0, 0, 2 });
        assert_plan(/* old= */ NULL, /* new= */ NULL, none, (const unsigned[5]) { 0, 0, 0, 0, 0 });
}

static void test_compare_and_strings(_unused_ void **state) {
        _cleanup_(config_freep) Config *c = load("[program:a]\ncommand = a\n");
        ConfigPlan p = {};

        assert_int_equal(service_config_compare(/* a= */ NULL, /* b= */ NULL), _SERVICE_CHANGE_INVALID);
        assert_int_equal(service_config_compare(/* a= */ NULL, c->services[0]), SERVICE_ADDED);
        assert_int_equal(service_config_compare(c->services[0], /* b= */ NULL), SERVICE_REMOVED);
        assert_int_equal(service_config_compare(c->services[0], c->services[0]), SERVICE_UNCHANGED);

        for (ServiceChange x = 0; x < _SERVICE_CHANGE_MAX; x++)
                assert_non_null(service_change_to_string(x));
        assert_string_equal(service_change_to_string(SERVICE_LIMITS_CHANGED), "limits-changed");
        assert_null(service_change_to_string(_SERVICE_CHANGE_MAX));
        assert_null(service_change_to_string(_SERVICE_CHANGE_INVALID));

        config_plan_done(&p); /* an empty plan */
        assert_null(p.items);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_key_table),
                cmocka_unit_test(test_limits_in_place),
                cmocka_unit_test(test_every_key),
                cmocka_unit_test(test_equal_place_and_name),
                cmocka_unit_test(test_equal_rlimit_padding),
                cmocka_unit_test(test_blocks_default),
                cmocka_unit_test(test_shared_file),
                cmocka_unit_test(test_diff_cases),
                cmocka_unit_test(test_diff_null_and_self),
                cmocka_unit_test(test_compare_and_strings),
        };

        return cmocka_run_group_tests(tests, /* group_setup= */ NULL, /* group_teardown= */ NULL);
}
