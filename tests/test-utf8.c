/* SPDX-License-Identifier: GPL-2.0-or-later */
/* utf8: which byte sequences are characters, and what utf8_make_valid()
 * makes of those that are not. A table of cases; no root needed. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "macro.h"
#include "utf8.h"

#define FFFD "\xef\xbf\xbd"

static const struct {
        const char *in;
        bool valid;
        const char *out; /* utf8_make_valid() */
} cases[] = {
        { "", true, "" },
        { "plain ascii\t\n", true, "plain ascii\t\n" },
        { "caf\xc3\xa9", true, "caf\xc3\xa9" },           /* U+00E9 */
        { "\xe2\x82\xac", true, "\xe2\x82\xac" },         /* U+20AC */
        { "\xf0\x9f\x98\x80", true, "\xf0\x9f\x98\x80" }, /* U+1F600 */
        { "\xf4\x8f\xbf\xbf", true, "\xf4\x8f\xbf\xbf" }, /* U+10FFFF, the last */
        { "\xed\x9f\xbf", true, "\xed\x9f\xbf" },         /* U+D7FF, before the surrogates */
        { "\xee\x80\x80", true, "\xee\x80\x80" },         /* U+E000, after them */
        { "\xef\xbf\xbd", true, FFFD },                   /* U+FFFD itself */
        { "ok \xff", false, "ok " FFFD },                 /* never a lead byte */
        { "\xfe\xfe", false, FFFD FFFD },
        { "\x80", false, FFFD }, /* a lone continuation */
        { "a\xbf"
          "b",
          false, "a" FFFD "b" },
        { "\xc3", false, FFFD }, /* cut at the end */
        { "\xe2\x82", false, FFFD FFFD },
        { "\xe2\x82x", false, FFFD FFFD "x" }, /* cut in the middle */
        { "\xf0\x9f\x98", false, FFFD FFFD FFFD },
        { "\xc0\x80", false, FFFD FFFD },                   /* overlong NUL */
        { "\xc1\xbf", false, FFFD FFFD },                   /* overlong U+007F */
        { "\xe0\x80\xaf", false, FFFD FFFD FFFD },          /* overlong '/' */
        { "\xe0\x9f\xbf", false, FFFD FFFD FFFD },          /* overlong U+07FF */
        { "\xf0\x8f\xbf\xbf", false, FFFD FFFD FFFD FFFD }, /* overlong U+FFFF */
        { "\xed\xa0\x80", false, FFFD FFFD FFFD },          /* U+D800, a surrogate */
        { "\xed\xbf\xbf", false, FFFD FFFD FFFD },          /* U+DFFF */
        { "\xf4\x90\x80\x80", false, FFFD FFFD FFFD FFFD }, /* U+110000 */
        { "\xf5\x80\x80\x80", false, FFFD FFFD FFFD FFFD },
        { "ready \xe9t\xe9", false, "ready " FFFD "t" FFFD }, /* Latin-1 */
        { "\xc3\xa9\xc3", false, "\xc3\xa9" FFFD },
};

static void test_valid(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                if (utf8_is_valid(cases[i].in) != cases[i].valid)
                        print_message("case %zu: expected %s\n", i, cases[i].valid ? "valid" : "invalid");
                assert_int_equal(utf8_is_valid(cases[i].in), cases[i].valid);
        }
        assert_false(utf8_is_valid(NULL));
}

static void test_make_valid(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *out = utf8_make_valid(cases[i].in);

                assert_non_null(out);
                if (!streq(out, cases[i].out))
                        print_message("case %zu: got \"%s\"\n", i, out);
                assert_string_equal(out, cases[i].out);
                assert_true(utf8_is_valid(out));
                free(out);
        }
}

static void test_char_length(void **state) {
        static const struct {
                const char *s;
                size_t n, length;
        } l[] = {
                { "a", 1, 1 },
                { "\xc3\xa9", 2, 2 },
                { "\xc3\xa9", 1, 0 }, /* n cuts the character */
                { "\xe2\x82\xac", 3, 3 },
                { "\xe2\x82\xac", 2, 0 },
                { "\xf0\x9f\x98\x80", 4, 4 },
                { "\xf0\x9f\x98\x80", 3, 0 },
                { "\x80", 1, 0 },
                { "x", 0, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(l); i++)
                assert_int_equal(utf8_char_length(l[i].s, l[i].n), l[i].length);
}

/* The cut falls between characters, never inside one or inside a
 * replacement. */
static void test_make_valid_max(void **state) {
        static const struct {
                const char *in;
                size_t max;
                const char *out;
        } m[] = {
                { "abcdef", 3, "abc" }, { "ab\xc3\xa9", 3, "ab" }, { "ab\xc3\xa9", 4, "ab\xc3\xa9" },
                { "a\xff", 3, "a" },    { "a\xff", 4, "a" FFFD },  { "\xff\xff", 5, FFFD },
                { "abc", 0, "" },
        };

        for (size_t i = 0; i < ELEMENTSOF(m); i++) {
                char *out = utf8_make_valid_max(m[i].in, m[i].max);
                assert_non_null(out);
                assert_string_equal(out, m[i].out);
                free(out);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_valid),
                cmocka_unit_test(test_make_valid),
                cmocka_unit_test(test_char_length),
                cmocka_unit_test(test_make_valid_max),
        };

        return cmocka_run_group_tests_name("utf8", tests, NULL, NULL);
}
