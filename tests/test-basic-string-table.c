/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Table tests of string-table.h: both directions, out of range, NULL,
 * holes, prefixes and case, for the public and the private variants. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "string-table.h"

typedef enum Colour {
        COLOUR_RED,
        COLOUR_GREEN,
        COLOUR_HOLE, /* no name: a hole in the table */
        COLOUR_BLUE,
        _COLOUR_MAX,
        _COLOUR_INVALID = -EINVAL,
} Colour;

static const char *const colour_table[_COLOUR_MAX] = {
        [COLOUR_RED] = "red",
        [COLOUR_GREEN] = "green",
        [COLOUR_BLUE] = "blue",
};

const char *colour_to_string(Colour c);
Colour colour_from_string(const char *s);
DEFINE_STRING_TABLE_LOOKUP(colour, Colour);

/* The private variant. */
typedef enum Shape { SHAPE_SQUARE, SHAPE_CIRCLE, _SHAPE_MAX, _SHAPE_INVALID = -EINVAL } Shape;

static const char *const shape_table[_SHAPE_MAX] = {
        [SHAPE_SQUARE] = "square",
        [SHAPE_CIRCLE] = "circle",
};

DEFINE_PRIVATE_STRING_TABLE_LOOKUP(shape, Shape);

/* to_string alone works on an enum without negative values (unsigned). */
typedef enum Flag { FLAG_ON, FLAG_OFF, _FLAG_MAX } Flag;

static const char *const flag_table[_FLAG_MAX] = {
        [FLAG_ON] = "on",
        [FLAG_OFF] = "off",
};

DEFINE_PRIVATE_STRING_TABLE_LOOKUP_TO_STRING(flag, Flag);

static void test_to_string(_unused_ void **state) {
        static const struct {
                int value;
                const char *name; /* NULL: none */
        } cases[] = {
                { COLOUR_RED, "red" }, { COLOUR_GREEN, "green" }, { COLOUR_BLUE, "blue" },
                { COLOUR_HOLE, NULL }, { _COLOUR_MAX, NULL },     { _COLOUR_MAX + 1, NULL },
                { -1, NULL },          { _COLOUR_INVALID, NULL }, { INT32_MIN, NULL },
                { INT32_MAX, NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *s = colour_to_string((Colour) cases[i].value);

                if (cases[i].name)
                        assert_string_equal(s, cases[i].name);
                else
                        assert_null(s);
        }
}

static void test_from_string(_unused_ void **state) {
        static const struct {
                const char *name;
                int value;
        } cases[] = {
                { "red", COLOUR_RED },
                { "green", COLOUR_GREEN },
                { "blue", COLOUR_BLUE },
                /* exact and case-sensitive: no prefixes, no blanks */
                { "Red", -EINVAL },
                { "re", -EINVAL },
                { "redd", -EINVAL },
                { "red ", -EINVAL },
                { "purple", -EINVAL },
                { "", -EINVAL },
                { NULL, -EINVAL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Colour c = colour_from_string(cases[i].name);

                if ((int) c != cases[i].value)
                        print_error("case %zu: \"%s\" gave %d\n", i, cases[i].name ?: "(null)", (int) c);
                assert_int_equal(c, cases[i].value);
        }
        assert_int_equal(colour_from_string("purple"), _COLOUR_INVALID);
}

static void test_round_trip(_unused_ void **state) {
        for (int c = 0; c < _COLOUR_MAX; c++) {
                const char *s = colour_to_string((Colour) c);

                if (s)
                        assert_int_equal(colour_from_string(s), c);
                else
                        assert_int_equal(c, COLOUR_HOLE);
        }
}

static void test_private(_unused_ void **state) {
        assert_string_equal(shape_to_string(SHAPE_SQUARE), "square");
        assert_string_equal(shape_to_string(SHAPE_CIRCLE), "circle");
        assert_null(shape_to_string(_SHAPE_MAX));
        assert_null(shape_to_string((Shape) -1));
        assert_int_equal(shape_from_string("circle"), SHAPE_CIRCLE);
        assert_int_equal(shape_from_string("triangle"), -EINVAL);
        assert_int_equal(shape_from_string(NULL), -EINVAL);

        assert_string_equal(flag_to_string(FLAG_OFF), "off");
        assert_null(flag_to_string(_FLAG_MAX));
        assert_null(flag_to_string((Flag) -1));
}

static void test_lookup(_unused_ void **state) {
        static const char *const t[] = { "a", NULL, "b", "a" };

        assert_int_equal(string_table_lookup(t, ELEMENTSOF(t), "a"), 0); /* the first one */
        assert_int_equal(string_table_lookup(t, ELEMENTSOF(t), "b"), 2);
        assert_int_equal(string_table_lookup(t, ELEMENTSOF(t), "c"), -EINVAL);
        assert_int_equal(string_table_lookup(t, ELEMENTSOF(t), NULL), -EINVAL);
        assert_int_equal(string_table_lookup(t, /* n= */ 0, "a"), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_to_string), cmocka_unit_test(test_from_string), cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_private),   cmocka_unit_test(test_lookup),
        };

        return cmocka_run_group_tests(tests, /* group_setup= */ NULL, /* group_teardown= */ NULL);
}
