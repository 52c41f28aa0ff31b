/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* name-index.h against a plain walk of the same entries: every lookup
 * gives the values of that name in the order they were added, across the
 * tail, the merges and the filters. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "macro.h"
#include "name-index.h"

#define N 3000

typedef struct Item {
        char name[16];
        int seq;
        bool gone;
} Item;

static Item items[N];

/* The values of name in the index, in its order, against the walk. */
static void check_name(const NameIndex *x, const char *name, size_t n_items) {
        NameIndexIter it;
        size_t j = 0;

        for (Item *v = name_index_first(x, name, &it); v; v = name_index_next(x, &it)) {
                while (j < n_items && (items[j].gone || !streq(items[j].name, name)))
                        j++;
                assert_true(j < n_items);
                assert_ptr_equal(v, &items[j]);
                j++;
        }
        while (j < n_items && (items[j].gone || !streq(items[j].name, name)))
                j++;
        assert_int_equal(j, n_items); /* none left out */
}

static size_t live(size_t n) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                k += !items[i].gone;
        return k;
}

static bool drop_gone(void *value, _unused_ void *userdata) {
        return ((Item *) value)->gone;
}

static void test_against_walk(_unused_ void **state) {
        _cleanup_(name_index_done) NameIndex x = {};

        srand(7);
        for (size_t i = 0; i < N; i++) {
                /* names out of order, some repeated (a dropped unit and its successor) */
                snprintf(items[i].name, sizeof(items[i].name), "s%d@%d", rand() % 40, rand() % 60);
                items[i].seq = (int) i;
                items[i].gone = false;
                assert_int_equal(name_index_add(&x, items[i].name, &items[i]), 0);
                if (i % 97 == 0 || i < 70) /* in the tail, just after a merge, in the array */
                        for (size_t k = 0; k <= i; k += 1 + i / 50)
                                check_name(&x, items[k].name, i + 1);
                if (i % 500 == 499) { /* the reload's gc: some go */
                        for (size_t k = 0; k <= i; k++)
                                if (rand() % 5 == 0)
                                        items[k].gone = true;
                        name_index_filter(&x, drop_gone, NULL);
                        assert_int_equal(name_index_size(&x), live(i + 1));
                        for (size_t k = 0; k <= i; k++)
                                check_name(&x, items[k].name, i + 1);
                }
        }
        for (size_t k = 0; k < N; k++)
                check_name(&x, items[k].name, N);
        NameIndexIter it;
        assert_null(name_index_first(&x, "nothing", &it));
        assert_null(name_index_first(&x, "", &it));
        assert_null(name_index_first(&x, "s99@99", &it));
}

static void test_empty(_unused_ void **state) {
        NameIndex x = {};
        NameIndexIter it;

        assert_null(name_index_first(&x, "a", &it));
        assert_int_equal(name_index_size(&x), 0);
        name_index_filter(&x, drop_gone, NULL);
        name_index_done(&x);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_against_walk),
                cmocka_unit_test(test_empty),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
