/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libcorral maps libsystemd only when the journal is first read: this
 * program links libcorral and nothing of libsystemd, and looks at its own
 * mappings before and after corral_journal_tail(). No root. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "corral/corral.h"

static bool mapped(const char *lib) {
        FILE *f = fopen("/proc/self/maps", "re");
        char line[4096];
        bool found = false;

        assert_non_null(f);
        while (!found && fgets(line, sizeof(line), f))
                found = strstr(line, lib) != NULL;
        fclose(f);
        return found;
}

static void test_mapped_at_first_read(void **state) {
        char **lines = NULL;
        int n;

        assert_false(mapped("libsystemd.so"));
        /* a call refused for its arguments maps nothing */
        assert_int_equal(corral_journal_tail(NULL, 1, &lines), -EINVAL);
        assert_false(mapped("libsystemd.so"));

        n = corral_journal_tail("corral-test-no-such-unit", 3, &lines);
        assert_true(mapped("libsystemd.so"));
        /* no such unit: no line (or, without a journal to read, sd-journal's error) */
        print_message("corral_journal_tail: %d\n", n);
        assert_true(n == 0 || (n < 0 && n != -EOPNOTSUPP));
        corral_strv_free(n >= 0 ? lines : NULL);

        /* mapped once: a second read uses it */
        n = corral_journal_tail("corral-test-no-such-unit", 1, &lines);
        assert_true(n == 0 || (n < 0 && n != -EOPNOTSUPP));
        corral_strv_free(n >= 0 ? lines : NULL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_mapped_at_first_read),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
