/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hash.h: the published FNV-1a 64 test vectors, pieces against one call,
 * and the two hand-rolled loops it replaces (the configuration hash's
 * field scheme in config.c and the notify socket name in manager.c),
 * which must keep giving the same values: the configuration hash is
 * persisted with each unit, and adopted units find the notify socket by
 * its name. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hash.h"
#include "macro.h"

static void test_vectors(_unused_ void **state) {
        /* from the FNV reference test suite (isthe.com/chongo/src/fnv/test_fnv.c) */
        static const struct {
                const char *s;
                uint64_t h;
        } cases[] = {
                { "", UINT64_C(0xcbf29ce484222325) },
                { "a", UINT64_C(0xaf63dc4c8601ec8c) },
                { "foobar", UINT64_C(0x85944171f73967e8) },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                assert_int_equal(hash_fnv1a64_string(cases[i].s), cases[i].h);
                assert_int_equal(hash_fnv1a64(cases[i].s, strlen(cases[i].s)), cases[i].h);
        }
        assert_int_equal(hash_fnv1a64_init(), UINT64_C(0xcbf29ce484222325));
        assert_int_equal(hash_fnv1a64(/* data= */ NULL, 0), hash_fnv1a64_init());
}

static void test_incremental(_unused_ void **state) {
        static const char text[] = "the quick brown fox jumps over the lazy dog\0with a NUL\xff";
        const size_t n = sizeof(text);
        uint64_t whole = hash_fnv1a64(text, n);

        for (size_t cut = 0; cut <= n; cut++) {
                uint64_t h = hash_fnv1a64_init();

                hash_fnv1a64_update(&h, text, cut);
                hash_fnv1a64_update(&h, text + cut, n - cut);
                assert_int_equal(h, whole);
        }

        uint64_t h = hash_fnv1a64_init();
        for (size_t i = 0; i < n; i++)
                hash_fnv1a64_update_byte(&h, (uint8_t) text[i]);
        assert_int_equal(h, whole);

        h = hash_fnv1a64_init();
        hash_fnv1a64_update_string(&h, "foo");
        hash_fnv1a64_update_string(&h, "bar");
        assert_int_equal(h, UINT64_C(0x85944171f73967e8)); /* = "foobar" */

        /* a byte above 0x7f is fed as unsigned, whatever char is */
        assert_int_equal(hash_fnv1a64_string("\xff"), hash_fnv1a64((const uint8_t[]) { 0xff }, 1));
        assert_true(hash_fnv1a64_string("ab") != hash_fnv1a64_string("ba"));
}

/* config.c's hash_str() as it is today (hand-rolled), the reference. */
static void reference_hash_str(uint64_t *h, const char *s) {
        for (const char *p = s ?: "\x01"; *p; p++)
                *h = (*h ^ (uint8_t) *p) * 1099511628211ULL;
        *h = (*h ^ 0xff) * 1099511628211ULL;
}

/* The same with hash.h: what config.c can switch to. */
static void helper_hash_str(uint64_t *h, const char *s) {
        hash_fnv1a64_update_string(h, s ?: "\x01");
        hash_fnv1a64_update_byte(h, 0xff);
}

static void test_config_scheme(_unused_ void **state) {
        static const char *const fields[] = { "web", NULL, "/usr/bin/prog --flag", "", "é\xff", "x" };
        const uint64_t numbers[] = { 022, 1, 15, 10000000, UINT64_MAX };
        uint64_t ref = 14695981039346656037ULL, h = hash_fnv1a64_init();

        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                reference_hash_str(&ref, fields[i]);
                helper_hash_str(&h, fields[i]);
                assert_int_equal(h, ref);
        }
        for (size_t i = 0; i < sizeof(numbers); i++)
                ref = (ref ^ ((const uint8_t *) numbers)[i]) * 1099511628211ULL;
        hash_fnv1a64_update(&h, numbers, sizeof(numbers));
        assert_int_equal(h, ref);
}

static void test_notify_name(_unused_ void **state) {
        static const char *const paths[] = { "/corral-example", "/system.slice/corral.service", "/" };

        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                uint64_t ref = 14695981039346656037ULL; /* manager_open_notify() today */

                for (const char *p = paths[i]; *p; p++)
                        ref = (ref ^ (uint8_t) *p) * 1099511628211ULL;
                assert_int_equal(hash_fnv1a64_string(paths[i]), ref);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_vectors),
                cmocka_unit_test(test_incremental),
                cmocka_unit_test(test_config_scheme),
                cmocka_unit_test(test_notify_name),
        };

        return cmocka_run_group_tests(tests, /* group_setup= */ NULL, /* group_teardown= */ NULL);
}
