/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The pure parts of the unit module: the state kept with a unit's cgroup
 * for a corrald that restarts after a crash. Table tests, no root. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "macro.h"
#include "unit.h"

static void test_persisted_roundtrip(void **state) {
        UnitPersisted p = { .main_pid = 812, .main_start = 343497, .hash = 0x5ad1bbf7aa1eb49dULL, .port = 30000,
                            .restarts = 2, .since = 1795410750885305ULL },
                      q;
        char buf[256];

        assert_int_equal(unit_persisted_format(&p, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "main=812:343497 hash=5ad1bbf7aa1eb49d port=30000 restarts=2 since=1795410750885305");
        assert_int_equal(unit_persisted_parse(buf, &q), 0);
        assert_int_equal(q.main_pid, p.main_pid);
        assert_int_equal(q.main_start, p.main_start);
        assert_int_equal(q.hash, p.hash);
        assert_int_equal(q.port, p.port);
        assert_int_equal(q.restarts, p.restarts);
        assert_int_equal(q.since, p.since);
        assert_int_equal(unit_persisted_format(&p, buf, 10), -ENOBUFS);
}

static void test_persisted_table(void **state) {
        static const struct {
                const char *text;
                int r;
        } cases[] = {
                { "main=1:2 hash=ff port=0 restarts=0 since=0", 0 },
                { "since=0 restarts=0 port=0 hash=ff main=1:2", 0 },            /* any order */
                { "main=1:2 hash=ff port=0 restarts=0 since=0 future=x", 0 },   /* unknown keys ignored */
                { "main=1:2  hash=ff port=0 restarts=0 since=0", 0 },           /* blanks */
                { "", -EBADMSG },
                { "main=1:2 hash=ff port=0 restarts=0", -EBADMSG },            /* since missing */
                { "main=0:2 hash=ff port=0 restarts=0 since=0", -EBADMSG },     /* PID 0 */
                { "main=1 hash=ff port=0 restarts=0 since=0", -EBADMSG },       /* no start time */
                { "main=-1:2 hash=ff port=0 restarts=0 since=0", -EBADMSG },
                { "main=1:2 hash=xyz port=0 restarts=0 since=0", -EBADMSG },
                { "main=1:2 hash=ff port=70000 restarts=0 since=0", -EBADMSG },
                { "main=1:2 hash=ff port=0 restarts=0 since=0 junk", -EBADMSG },
                { "main=1:2 hash=ff port= restarts=0 since=0", -EBADMSG },
                { "main=99999999999:2 hash=ff port=0 restarts=0 since=0", -EBADMSG },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                UnitPersisted p;
                print_message("%s\n", cases[i].text);
                assert_int_equal(unit_persisted_parse(cases[i].text, &p), cases[i].r);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_persisted_roundtrip),
                cmocka_unit_test(test_persisted_table),
        };
        return cmocka_run_group_tests_name("unit", tests, NULL, NULL);
}
