/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Table tests of the pure parsers of src/basic: word splitting, time spans,
 * booleans, signals, modes, unsigned integers (safe_atou*() in every base
 * and width, and within a length), format_timespan() and the environment
 * helpers of strv. */

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "parse-util.h"
#include "strv.h"
#include "time-util.h"

#define WORDS_MAX 8

static void assert_strv_equal(char **l, const char *const *expected) {
        size_t n = 0;

        while (expected[n])
                n++;
        assert_int_equal(strv_length(l), n);
        for (size_t i = 0; i < n; i++)
                assert_string_equal(l[i], expected[i]);
        assert_null(l[n]);
}

static void test_split_words(_unused_ void **state) {
        static const struct {
                const char *input;
                int ret;
                const char *words[WORDS_MAX]; /* NULL-terminated */
        } cases[] = {
                { "a b c", 0, { "a", "b", "c" } },
                { "  a \t b\n  c  ", 0, { "a", "b", "c" } },
                { "", 0, { NULL } },
                { " \t\n ", 0, { NULL } },
                { "/usr/bin/prog --flag=1", 0, { "/usr/bin/prog", "--flag=1" } },
                /* single quotes keep everything */
                { "'a b' c", 0, { "a b", "c" } },
                { "'a\\b \"x\" $y'", 0, { "a\\b \"x\" $y" } },
                /* double quotes: backslash escapes only \ " $ ` newline */
                { "\"a b\"", 0, { "a b" } },
                { "\"\\\" \\\\ \\$ \\` \\n \\a\"", 0, { "\" \\ $ ` \\n \\a" } },
                { "\"it's\"", 0, { "it's" } },
                { "\"a\\\nb\"", 0, { "ab" } },
                /* backslashes outside quotes */
                { "a\\ b", 0, { "a b" } },
                { "\\'x\\\" \\\\", 0, { "'x\"", "\\" } },
                { "a\\\nb", 0, { "ab" } },
                /* quotes join with their neighbours into one word */
                { "a\"b c\"d'e f'", 0, { "ab cde f" } },
                /* empty quotes are an empty word */
                { "\"\"", 0, { "" } },
                { "''", 0, { "" } },
                { "a \"\" b ''", 0, { "a", "", "b", "" } },
                /* nothing is expanded or special */
                { "$HOME * ; | # ~", 0, { "$HOME", "*", ";", "|", "#", "~" } },
                { "sh -c \"a ; b # c\"", 0, { "sh", "-c", "a ; b # c" } },
                /* errors */
                { "'unterminated", -EINVAL, { NULL } },
                { "a \"unterminated", -EINVAL, { NULL } },
                { "\"a\\\"", -EINVAL, { NULL } },
                { "abc\\", -EINVAL, { NULL } },
                { "\\", -EINVAL, { NULL } },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_strv_free_ char **l = NULL;
                const char *error = NULL;
                int r;

                r = strv_split_words(cases[i].input, &l, &error);
                if (r != cases[i].ret)
                        print_error("case %zu: \"%s\" returned %d\n", i, cases[i].input, r);
                assert_int_equal(r, cases[i].ret);
                if (r < 0) {
                        assert_null(l);
                        assert_non_null(error);
                } else {
                        assert_non_null(l);
                        assert_strv_equal(l, cases[i].words);
                }
        }
}

static void test_split_words_errors(_unused_ void **state) {
        char **l = NULL;
        const char *error = NULL;

        assert_int_equal(strv_split_words("'x", &l, &error), -EINVAL);
        assert_string_equal(error, "unterminated single quote");
        assert_int_equal(strv_split_words("\"x", &l, &error), -EINVAL);
        assert_string_equal(error, "unterminated double quote");
        assert_int_equal(strv_split_words("x\\", &l, &error), -EINVAL);
        assert_string_equal(error, "trailing backslash");
        assert_int_equal(strv_split_words("x\\", &l, /* ret_error= */ NULL), -EINVAL);
        assert_null(l);
}

static void test_parse_timespan(_unused_ void **state) {
        static const struct {
                const char *input;
                int ret;
                usec_t value;
        } cases[] = {
                { "0", 0, 0 },
                { "1us", 0, 1 },
                { "7usec", 0, 7 },
                { "500ms", 0, 500 * USEC_PER_MSEC },
                { "5msec", 0, 5 * USEC_PER_MSEC },
                { "10s", 0, 10 * USEC_PER_SEC },
                { "3sec", 0, 3 * USEC_PER_SEC },
                { "1second", 0, USEC_PER_SEC },
                { "2seconds", 0, 2 * USEC_PER_SEC },
                { "2m", 0, 2 * USEC_PER_MINUTE },
                { "2min", 0, 2 * USEC_PER_MINUTE },
                { "1minute", 0, USEC_PER_MINUTE },
                { "3minutes", 0, 3 * USEC_PER_MINUTE },
                { "1h", 0, USEC_PER_HOUR },
                { "1hr", 0, USEC_PER_HOUR },
                { "2hour", 0, 2 * USEC_PER_HOUR },
                { "3hours", 0, 3 * USEC_PER_HOUR },
                { "1d", 0, USEC_PER_DAY },
                { "1day", 0, USEC_PER_DAY },
                { "2days", 0, 2 * USEC_PER_DAY },
                /* compound */
                { "1min 30s", 0, 90 * USEC_PER_SEC },
                { "1min30s", 0, 90 * USEC_PER_SEC },
                { "1h 2min 3s 4ms 5us", 0,
                  USEC_PER_HOUR + 2 * USEC_PER_MINUTE + 3 * USEC_PER_SEC + 4 * USEC_PER_MSEC + 5 },
                { "1s 1s", 0, 2 * USEC_PER_SEC },
                /* decimals */
                { "1.5s", 0, 1500 * USEC_PER_MSEC },
                { "0.5ms", 0, 500 },
                { "1.25min", 0, 75 * USEC_PER_SEC },
                { "0.000001s", 0, 1 },
                { "1.0000009s", 0, USEC_PER_SEC }, /* below a microsecond: dropped */
                { "2.5", 0, 2500 * USEC_PER_MSEC },
                /* plain numbers are seconds */
                { "10", 0, 10 * USEC_PER_SEC },
                { "007", 0, 7 * USEC_PER_SEC },
                /* blanks */
                { "  10s  ", 0, 10 * USEC_PER_SEC },
                { "\t10 s", 0, 10 * USEC_PER_SEC },
                { "1 min  30 s", 0, 90 * USEC_PER_SEC },
                /* limits */
                { "18446744073709551614us", 0, UINT64_MAX - 1 },
                { "18446744073709551615us", -ERANGE, 0 }, /* USEC_INFINITY */
                { "18446744073709551616", -ERANGE, 0 },
                { "99999999999999999999999999h", -ERANGE, 0 },
                { "213503982336d", -ERANGE, 0 },
                { "10000000000000000000us 10000000000000000000us", -ERANGE, 0 },
                /* bad input */
                { "", -EINVAL, 0 },
                { "   ", -EINVAL, 0 },
                { "s", -EINVAL, 0 },
                { "ms 10", -EINVAL, 0 },
                { "10x", -EINVAL, 0 },
                { "10S", -EINVAL, 0 },
                { "10 seconds x", -EINVAL, 0 },
                { "-1", -EINVAL, 0 },
                { "+1", -EINVAL, 0 },
                { "1.2.3", -EINVAL, 0 },
                { "1.", -EINVAL, 0 },
                { ".5s", -EINVAL, 0 },
                { "1,5s", -EINVAL, 0 },
                { "infinity", -EINVAL, 0 },
                { "0x10", -EINVAL, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                usec_t v = 4711;
                int r;

                r = parse_timespan(cases[i].input, &v);
                if (r != cases[i].ret)
                        print_error("case %zu: \"%s\" returned %d\n", i, cases[i].input, r);
                assert_int_equal(r, cases[i].ret);
                if (r == 0)
                        assert_int_equal(v, cases[i].value);
                else
                        assert_int_equal(v, 4711); /* *ret untouched on failure */
        }
}

static void test_format_timespan(_unused_ void **state) {
        static const struct {
                usec_t value;
                const char *text;
        } cases[] = {
                { 0, "0" },
                { 1, "1us" },
                { 500 * USEC_PER_MSEC, "500ms" },
                { 10 * USEC_PER_SEC, "10s" },
                { 90 * USEC_PER_SEC, "1min 30s" },
                { USEC_PER_HOUR, "1h" },
                { USEC_PER_DAY + USEC_PER_SEC + 2, "1d 1s 2us" },
                { 1500 * USEC_PER_MSEC, "1s 500ms" },
                { USEC_INFINITY, "infinity" },
        };
        char buf[FORMAT_TIMESPAN_MAX];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                usec_t back;

                assert_ptr_equal(format_timespan(buf, sizeof(buf), cases[i].value), buf);
                assert_string_equal(buf, cases[i].text);
                if (cases[i].value == USEC_INFINITY)
                        continue;
                /* what is written can be read back */
                assert_int_equal(parse_timespan(buf, &back), 0);
                assert_int_equal(back, cases[i].value);
        }

        /* a short buffer is still terminated */
        char small[5];
        format_timespan(small, sizeof(small), 90 * USEC_PER_SEC + 5);
        assert_true(strlen(small) < sizeof(small));
        assert_true(strncmp(small, "1min", strlen(small)) == 0);
}

static void test_parse_boolean(_unused_ void **state) {
        static const struct {
                const char *input;
                int ret;
                bool value;
        } cases[] = {
                { "yes", 0, true },         { "YES", 0, true },      { "true", 0, true },
                { "True", 0, true },        { "on", 0, true },       { "1", 0, true },
                { "no", 0, false },         { "No", 0, false },      { "false", 0, false },
                { "FALSE", 0, false },      { "off", 0, false },     { "0", 0, false },
                { "", -EINVAL, false },     { "2", -EINVAL, false }, { "yess", -EINVAL, false },
                { " yes", -EINVAL, false }, { "y", -EINVAL, false }, { "enable", -EINVAL, false },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                bool v = !cases[i].value;
                int r;

                r = parse_boolean(cases[i].input, &v);
                if (r != cases[i].ret)
                        print_error("case %zu: \"%s\" returned %d\n", i, cases[i].input, r);
                assert_int_equal(r, cases[i].ret);
                if (r == 0)
                        assert_int_equal(v, cases[i].value);
        }
}

static void test_parse_signal(_unused_ void **state) {
        static const struct {
                const char *input;
                int ret;
                int value;
        } cases[] = {
                { "SIGTERM", 0, SIGTERM },
                { "TERM", 0, SIGTERM },
                { "term", 0, SIGTERM },
                { "sigkill", 0, SIGKILL },
                { "SigHup", 0, SIGHUP },
                { "USR1", 0, SIGUSR1 },
                { "SIGUSR2", 0, SIGUSR2 },
                { "INT", 0, SIGINT },
                { "SIGQUIT", 0, SIGQUIT },
                { "SIGWINCH", 0, SIGWINCH },
                { "15", 0, 15 },
                { "9", 0, 9 },
                { "1", 0, 1 },
                { "0", -ERANGE, 0 },
                { "99999999999", -ERANGE, 0 },
                { "", -EINVAL, 0 },
                { "SIG", -EINVAL, 0 },
                { "SIGFOO", -EINVAL, 0 },
                { "SIGSIGTERM", -EINVAL, 0 },
                { "-1", -EINVAL, 0 },
                { "+15", -EINVAL, 0 },
                { "15x", -EINVAL, 0 },
                { " TERM", -EINVAL, 0 },
                { "TERM ", -EINVAL, 0 },
                { "RTMIN+", -EINVAL, 0 },
                { "RTMINX", -EINVAL, 0 },
                { "RTMIN+100", -ERANGE, 0 },
                { "RTMAX-100", -ERANGE, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int v = -1, r;

                r = parse_signal(cases[i].input, &v);
                if (r != cases[i].ret)
                        print_error("case %zu: \"%s\" returned %d\n", i, cases[i].input, r);
                assert_int_equal(r, cases[i].ret);
                assert_int_equal(v, r == 0 ? cases[i].value : -1);
        }
}

/* SIGRTMIN and SIGRTMAX are known only at run time. */
static void test_parse_signal_realtime(_unused_ void **state) {
        char buf[16];
        int v;

        assert_int_equal(parse_signal("RTMIN", &v), 0);
        assert_int_equal(v, SIGRTMIN);
        assert_int_equal(parse_signal("SIGRTMIN+2", &v), 0);
        assert_int_equal(v, SIGRTMIN + 2);
        assert_int_equal(parse_signal("sigrtmax", &v), 0);
        assert_int_equal(v, SIGRTMAX);
        assert_int_equal(parse_signal("RTMAX-1", &v), 0);
        assert_int_equal(v, SIGRTMAX - 1);

        snprintf(buf, sizeof(buf), "%d", SIGRTMAX);
        assert_int_equal(parse_signal(buf, &v), 0);
        assert_int_equal(v, SIGRTMAX);
        snprintf(buf, sizeof(buf), "%d", SIGRTMAX + 1);
        assert_int_equal(parse_signal(buf, &v), -ERANGE);
}

static void test_signal_to_string(_unused_ void **state) {
        char buf[24];

        assert_string_equal(signal_to_string(SIGTERM), "SIGTERM");
        assert_string_equal(signal_to_string(SIGKILL), "SIGKILL");
        assert_string_equal(signal_to_string(SIGHUP), "SIGHUP");
        assert_string_equal(signal_to_string(SIGRTMIN), "SIGRTMIN");
        snprintf(buf, sizeof(buf), "SIGRTMIN+%d", SIGRTMAX - SIGRTMIN);
        assert_string_equal(signal_to_string(SIGRTMAX), buf);
        assert_null(signal_to_string(0));
        assert_null(signal_to_string(-1));
        assert_null(signal_to_string(SIGRTMAX + 1));

        /* the same static string each time */
        assert_ptr_equal(signal_to_string(SIGTERM), signal_to_string(SIGTERM));

        /* every name reads back as its number */
        for (int sig = 1; sig <= SIGRTMAX; sig++) {
                const char *name = signal_to_string(sig);
                int v;

                if (!name)
                        continue;
                assert_int_equal(parse_signal(name, &v), 0);
                assert_int_equal(v, sig);
        }
}

static void test_parse_mode(_unused_ void **state) {
        static const struct {
                const char *input;
                int ret;
                mode_t value;
        } cases[] = {
                { "022", 0, 022 },     { "0027", 0, 027 },      { "0", 0, 0 },          { "777", 0, 0777 },
                { "0777", 0, 0777 },   { "000000022", 0, 022 }, { "1000", -ERANGE, 0 }, { "7777", -ERANGE, 0 },
                { "8", -EINVAL, 0 },   { "0888", -EINVAL, 0 },  { "", -EINVAL, 0 },     { "-1", -EINVAL, 0 },
                { " 22", -EINVAL, 0 }, { "22 ", -EINVAL, 0 },   { "0x1", -EINVAL, 0 },  { "u=rwx", -EINVAL, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                mode_t v = 01234;
                int r;

                r = parse_mode(cases[i].input, &v);
                if (r != cases[i].ret)
                        print_error("case %zu: \"%s\" returned %d\n", i, cases[i].input, r);
                assert_int_equal(r, cases[i].ret);
                assert_int_equal(v, r == 0 ? cases[i].value : 01234);
        }
}

static void test_parse_unsigned(_unused_ void **state) {
        static const struct {
                const char *input;
                int ret;
                unsigned value;
        } cases[] = {
                { "0", 0, 0 },
                { "42", 0, 42 },
                { "0042", 0, 42 },
                { "4294967295", 0, 4294967295U },
                { "4294967296", -ERANGE, 0 },
                { "99999999999999999999999", -ERANGE, 0 },
                { "", -EINVAL, 0 },
                { "-1", -EINVAL, 0 },
                { "+1", -EINVAL, 0 },
                { " 1", -EINVAL, 0 },
                { "1 ", -EINVAL, 0 },
                { "1a", -EINVAL, 0 },
                { "0x10", -EINVAL, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                unsigned v = 7;
                int r;

                r = parse_unsigned(cases[i].input, &v);
                if (r != cases[i].ret)
                        print_error("case %zu: \"%s\" returned %d\n", i, cases[i].input, r);
                assert_int_equal(r, cases[i].ret);
                assert_int_equal(v, r == 0 ? cases[i].value : 7);
        }
}

static void test_safe_atou64_full(_unused_ void **state) {
        static const struct {
                const char *input;
                unsigned base;
                int ret;
                uint64_t value;
        } cases[] = {
                { "0", 10, 0, 0 },
                { "7", 10, 0, 7 },
                { "007", 10, 0, 7 },
                { "18446744073709551615", 10, 0, UINT64_MAX },
                { "18446744073709551616", 10, -ERANGE, 0 },
                { "99999999999999999999", 10, -ERANGE, 0 },
                { "000000000000000000000000000042", 10, 0, 42 }, /* zeros do not overflow */
                /* junk wins over overflow */
                { "99999999999999999999x", 10, -EINVAL, 0 },
                { "", 10, -EINVAL, 0 },
                { " 1", 10, -EINVAL, 0 },
                { "\t1", 10, -EINVAL, 0 },
                { "1 ", 10, -EINVAL, 0 },
                { "1\n", 10, -EINVAL, 0 },
                { "-0", 10, -EINVAL, 0 },
                { "-1", 10, -EINVAL, 0 },
                { "+1", 10, -EINVAL, 0 },
                { "1.5", 10, -EINVAL, 0 },
                { "1e3", 10, -EINVAL, 0 },
                { "0x10", 10, -EINVAL, 0 },
                { "a", 10, -EINVAL, 0 },
                /* hexadecimal: no prefix, either case */
                { "ff", 16, 0, 255 },
                { "FF", 16, 0, 255 },
                { "DeadBeef", 16, 0, 0xdeadbeef },
                { "ffffffffffffffff", 16, 0, UINT64_MAX },
                { "10000000000000000", 16, -ERANGE, 0 },
                { "0x10", 16, -EINVAL, 0 },
                { "fg", 16, -EINVAL, 0 },
                { "-f", 16, -EINVAL, 0 },
                /* octal */
                { "755", 8, 0, 0755 },
                { "0755", 8, 0, 0755 },
                { "8", 8, -EINVAL, 0 },
                { "1777777777777777777777", 8, 0, UINT64_MAX },
                { "2000000000000000000000", 8, -ERANGE, 0 },
                /* other bases are refused */
                { "1", 2, -EINVAL, 0 },
                { "1", 0, -EINVAL, 0 },
                { "1", 36, -EINVAL, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint64_t v = 4242;
                int r;

                r = safe_atou64_full(cases[i].input, cases[i].base, &v);
                if (r != cases[i].ret)
                        print_error("case %zu: \"%s\" base %u returned %d\n", i, cases[i].input, cases[i].base, r);
                assert_int_equal(r, cases[i].ret);
                assert_int_equal(v, r == 0 ? cases[i].value : 4242);
        }
        assert_int_equal(safe_atou64_full(/* s= */ NULL, 10, &(uint64_t) { 0 }), -EINVAL);
}

/* Each input is copied into a heap block of exactly n bytes, without a
 * NUL: ASan reports any read beyond n. */
static void test_safe_atou64_n(_unused_ void **state) {
        static const struct {
                const char *input;
                size_t n;
                unsigned base;
                int ret;
                uint64_t value;
        } cases[] = {
                { "123", 3, 10, 0, 123 },
                { "123 456", 3, 10, 0, 123 },
                { "12345", 2, 10, 0, 12 },
                { "1:2", 1, 10, 0, 1 },
                { "ff)", 2, 16, 0, 255 },
                { "18446744073709551615", 20, 10, 0, UINT64_MAX },
                { "184467440737095516150", 21, 10, -ERANGE, 0 },
                { "123 456", 4, 10, -EINVAL, 0 },
                { " 12", 3, 10, -EINVAL, 0 },
                { "-12", 3, 10, -EINVAL, 0 },
                { "12", 0, 10, -EINVAL, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *buf = malloc(cases[i].n ?: 1);
                uint64_t v = 4242;
                int r;

                assert_non_null(buf);
                memcpy(buf, cases[i].input, cases[i].n);
                r = safe_atou64_n(buf, cases[i].n, cases[i].base, &v);
                free(buf);
                if (r != cases[i].ret)
                        print_error("case %zu: \"%.*s\" returned %d\n", i, (int) cases[i].n, cases[i].input, r);
                assert_int_equal(r, cases[i].ret);
                assert_int_equal(v, r == 0 ? cases[i].value : 4242);
        }
        /* a NUL inside the n bytes is junk, not an end */
        assert_int_equal(safe_atou64_n("1\0002", 3, 10, &(uint64_t) { 0 }), -EINVAL);
}

static void test_safe_atou_widths(_unused_ void **state) {
        static const struct {
                const char *input;
                int ret64, ret32, ret16;
                uint64_t value;
        } cases[] = {
                { "0", 0, 0, 0, 0 },
                { "65535", 0, 0, 0, 65535 },
                { "65536", 0, 0, -ERANGE, 65536 },
                { "4294967295", 0, 0, -ERANGE, 4294967295U },
                { "4294967296", 0, -ERANGE, -ERANGE, 4294967296ULL },
                { "18446744073709551616", -ERANGE, -ERANGE, -ERANGE, 0 },
                { "x", -EINVAL, -EINVAL, -EINVAL, 0 },
                { "", -EINVAL, -EINVAL, -EINVAL, 0 },
                { "ff", -EINVAL, -EINVAL, -EINVAL, 0 }, /* decimal only */
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint64_t v64 = 1;
                unsigned v32 = 1;
                uint16_t v16 = 1;

                assert_int_equal(safe_atou64(cases[i].input, &v64), cases[i].ret64);
                assert_int_equal(safe_atou(cases[i].input, &v32), cases[i].ret32);
                assert_int_equal(safe_atou16(cases[i].input, &v16), cases[i].ret16);
                assert_int_equal(v64, cases[i].ret64 == 0 ? cases[i].value : 1);
                assert_int_equal(v32, cases[i].ret32 == 0 ? cases[i].value : 1);
                assert_int_equal(v16, cases[i].ret16 == 0 ? cases[i].value : 1);
        }
}

static void test_strv_basics(_unused_ void **state) {
        _cleanup_strv_free_ char **l = NULL, **c = NULL;
        char *v;

        assert_int_equal(strv_length(NULL), 0);
        assert_int_equal(strv_extend(&l, "a"), 0);
        v = strdup("b");
        assert_non_null(v);
        assert_int_equal(strv_consume(&l, v), 0);
        assert_strv_equal(l, (const char *const[]) { "a", "b", NULL });

        c = strv_copy(l);
        assert_non_null(c);
        assert_ptr_not_equal(c[0], l[0]);
        assert_strv_equal(c, (const char *const[]) { "a", "b", NULL });

        strv_free(c);
        c = strv_copy(NULL);
        assert_non_null(c);
        assert_int_equal(strv_length(c), 0);

        assert_null(strv_free(NULL));
}

static void test_strv_pack(_unused_ void **state) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char **p = NULL;
        char **e = NULL;

        assert_int_equal(strv_pack(NULL, &e), 0);
        assert_null(e);
        l = strv_copy(NULL);
        assert_non_null(l);
        assert_int_equal(strv_pack(l, &e), 0); /* empty: just the NULL */
        assert_non_null(e);
        assert_null(e[0]);
        free(e);

        assert_int_equal(strv_extend(&l, "/bin/sleep"), 0);
        assert_int_equal(strv_extend(&l, ""), 0);
        assert_int_equal(strv_extend(&l, "100000"), 0);
        assert_int_equal(strv_pack(l, &p), 0);
        assert_strv_equal(p, (const char *const[]) { "/bin/sleep", "", "100000", NULL });
        /* one allocation: the words follow the vector, each after the last */
        assert_ptr_equal(p[0], (char *) (p + 4));
        assert_ptr_equal(p[1], p[0] + strlen("/bin/sleep") + 1);
        assert_ptr_equal(p[2], p[1] + 1);
        assert_ptr_not_equal(p[0], l[0]);
}

static void test_strv_env_set(_unused_ void **state) {
        _cleanup_strv_free_ char **env = NULL;

        assert_int_equal(strv_env_set(&env, "A=1"), 0);
        assert_int_equal(strv_env_set(&env, "B=two words"), 0);
        assert_int_equal(strv_env_set(&env, "AB=x"), 0);
        assert_int_equal(strv_env_set(&env, "A=3"), 0);
        assert_int_equal(strv_env_set(&env, "C="), 0);
        assert_int_equal(strv_env_set(&env, "D=a=b"), 0);
        assert_strv_equal(env, (const char *const[]) { "A=3", "B=two words", "AB=x", "C=", "D=a=b", NULL });

        assert_int_equal(strv_env_set(&env, "noequals"), -EINVAL);
        assert_int_equal(strv_env_set(&env, "=x"), -EINVAL);
        assert_int_equal(strv_length(env), 5);

        assert_int_equal(strv_env_find(env, "AB", 2), 2);
        assert_int_equal(strv_env_find(env, "A", 1), 0);
        assert_int_equal(strv_env_find(env, "ABC=", 3), -ENOENT); /* keylen counts */
        assert_int_equal(strv_env_find(env, "E", 1), -ENOENT);
        assert_int_equal(strv_env_find(NULL, "A", 1), -ENOENT);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_split_words),
                cmocka_unit_test(test_split_words_errors),
                cmocka_unit_test(test_parse_timespan),
                cmocka_unit_test(test_format_timespan),
                cmocka_unit_test(test_parse_boolean),
                cmocka_unit_test(test_parse_signal),
                cmocka_unit_test(test_parse_signal_realtime),
                cmocka_unit_test(test_signal_to_string),
                cmocka_unit_test(test_parse_mode),
                cmocka_unit_test(test_parse_unsigned),
                cmocka_unit_test(test_safe_atou64_full),
                cmocka_unit_test(test_safe_atou64_n),
                cmocka_unit_test(test_safe_atou_widths),
                cmocka_unit_test(test_strv_basics),
                cmocka_unit_test(test_strv_pack),
                cmocka_unit_test(test_strv_env_set),
        };

        return cmocka_run_group_tests(tests, /* group_setup= */ NULL, /* group_teardown= */ NULL);
}
