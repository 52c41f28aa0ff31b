/* SPDX-License-Identifier: GPL-2.0-or-later */
/* corralctl's formatting: durations rounded as systemd shows them, byte
 * counts, CPU shares. Pure; needs no root. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "macro.h"

#define MS UINT64_C(1000)
#define S (1000 * MS)
#define MINUTE (60 * S)
#define H (60 * MINUTE)
#define D (24 * H)

static void test_duration(_unused_ void **state) {
        static const struct {
                uint64_t usec;
                const char *text;
        } cases[] = {
                { 0, "0" },
                { 1, "1us" },
                { 999, "999us" },
                { 1000, "1ms" },
                { 1499, "1ms" },
                { 1500, "2ms" },
                { 77 * MS, "77ms" },
                { 999 * MS + 499, "999ms" },
                { 999 * MS + 500, "1s" }, /* rounds up into seconds */
                { 5 * S, "5s" },
                { 34 * S + 550 * MS, "34.6s" },
                { 34 * S + 640 * MS, "34.6s" },
                { 59 * S + 940 * MS, "59.9s" },
                { 59 * S + 960 * MS, "1min 0s" },    /* 60.0s is a minute */
                { 1 * MINUTE + 77 * MS, "1min 0s" }, /* what issue 15 saw as "1min 77ms" */
                { 1 * MINUTE + 500 * MS, "1min 1s" },
                { 59 * MINUTE + 59 * S + 400 * MS, "59min 59s" },
                { 59 * MINUTE + 59 * S + 600 * MS, "1h 0min" },
                { 2 * H + 5 * MINUTE + 29 * S, "2h 5min" },
                { 2 * H + 5 * MINUTE + 30 * S, "2h 6min" },
                { 23 * H + 59 * MINUTE + 40 * S, "1d 0h" },
                { 3 * D + 4 * H + 10 * MINUTE, "3d 4h" },
                { 400 * D, "400d 0h" },
                { UINT64_MAX - 1, "213503982d 8h" },
                { UINT64_MAX, "-" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char buf[FORMAT_DURATION_MAX];

                format_duration(buf, sizeof(buf), cases[i].usec);
                print_message("%llu -> \"%s\"\n", (unsigned long long) cases[i].usec, buf);
                assert_string_equal(buf, cases[i].text);
        }
}

static void test_bytes(_unused_ void **state) {
        static const struct {
                uint64_t bytes;
                const char *text;
        } cases[] = {
                { 0, "0B" },
                { 1023, "1023B" },
                { 1024, "1.0K" },
                { 4096000, "3.9M" },
                { UINT64_C(1) << 30, "1.0G" },
                { UINT64_MAX - 1, "16.0E" },
                { UINT64_MAX, "-" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char buf[32];
                assert_string_equal(format_bytes(buf, sizeof(buf), cases[i].bytes), cases[i].text);
        }
}

static void test_cpu_percent(_unused_ void **state) {
        char buf[16];

        assert_string_equal(format_cpu_percent(buf, sizeof(buf), 0, 250 * MS, 2 * S), "12.5%");
        assert_string_equal(format_cpu_percent(buf, sizeof(buf), 1 * S, 3 * S, 1 * S), "200.0%");
        assert_string_equal(format_cpu_percent(buf, sizeof(buf), 5, 5, 1 * S), "0.0%");
        assert_string_equal(format_cpu_percent(buf, sizeof(buf), 5, 4, 1 * S), "-");
        assert_string_equal(format_cpu_percent(buf, sizeof(buf), UINT64_MAX, 4, 1 * S), "-");
        assert_string_equal(format_cpu_percent(buf, sizeof(buf), 1, 4, 0), "-");
}

static void test_time_of_day(_unused_ void **state) {
        char buf[64];

        setenv("TZ", "UTC", /* overwrite= */ 1);
        assert_string_equal(format_time_of_day(buf, sizeof(buf), UINT64_C(1764651301) * S + 250 * MS),
                            "Tue 2025-12-02 04:55:01 UTC");
        assert_string_equal(format_time_of_day(buf, sizeof(buf), 0), "-");
        assert_string_equal(format_time_of_day(buf, sizeof(buf), UINT64_MAX), "-");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_duration),
                cmocka_unit_test(test_bytes),
                cmocka_unit_test(test_cpu_percent),
                cmocka_unit_test(test_time_of_day),
        };

        return cmocka_run_group_tests(tests, /* setup= */ NULL, /* teardown= */ NULL);
}
