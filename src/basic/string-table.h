/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Enum <-> string conversion through a table indexed by the enum, in the
 * manner of systemd's src/basic/string-table.h. Given
 *
 *         typedef enum Foo { FOO_A, FOO_B, _FOO_MAX, _FOO_INVALID = -EINVAL } Foo;
 *         static const char *const foo_table[_FOO_MAX] = {
 *                 [FOO_A] = "a",
 *                 [FOO_B] = "b",
 *         };
 *         DEFINE_STRING_TABLE_LOOKUP(foo, Foo);
 *
 * defines
 *
 *         const char *foo_to_string(Foo i);     the name, or NULL when i is out of
 *                                               range or its entry is empty
 *         Foo foo_from_string(const char *s);   the value, or -EINVAL (_FOO_INVALID)
 *                                               when s is NULL or names none
 *
 * DEFINE_PRIVATE_STRING_TABLE_LOOKUP defines both static, for a table used
 * in one file only; the _TO_STRING and _FROM_STRING variants define one
 * direction. The table must be named NAME_table and be an array (not a
 * pointer): its length is taken with ELEMENTSOF(). Matching is exact and
 * case-sensitive. Entries may be NULL (holes): they name nothing. The
 * _FROM_STRING variants need an enum with _FOO_INVALID = -EINVAL (a
 * compile-time check says so): without a negative member an enum may be
 * unsigned and -EINVAL would come back as a large positive value. */

#include <errno.h>
#include <stddef.h>
#include <sys/types.h>

#include "macro.h"

/* The index of the first entry of table (n entries) that equals key, or
 * -EINVAL when key is NULL or no entry equals it. NULL entries are skipped. */
ssize_t string_table_lookup(const char *const *table, size_t n, const char *key);

#define _DEFINE_STRING_TABLE_LOOKUP_TO_STRING(name, type, scope)           \
        scope const char *name##_to_string(type i) {                       \
                /* A negative i becomes huge as size_t: one comparison. */ \
                if ((size_t) i >= ELEMENTSOF(name##_table))                \
                        return NULL;                                       \
                return name##_table[i];                                    \
        }

#define _DEFINE_STRING_TABLE_LOOKUP_FROM_STRING(name, type, scope)                                     \
        scope type name##_from_string(const char *s) {                                                 \
                _Static_assert((type) -1 < 0, #type " needs a negative member, _X_INVALID = -EINVAL"); \
                return (type) string_table_lookup(name##_table, ELEMENTSOF(name##_table), s);          \
        }

#define DEFINE_STRING_TABLE_LOOKUP_TO_STRING(name, type) _DEFINE_STRING_TABLE_LOOKUP_TO_STRING(name, type, )
#define DEFINE_STRING_TABLE_LOOKUP_FROM_STRING(name, type) _DEFINE_STRING_TABLE_LOOKUP_FROM_STRING(name, type, )
#define DEFINE_PRIVATE_STRING_TABLE_LOOKUP_TO_STRING(name, type) \
        _DEFINE_STRING_TABLE_LOOKUP_TO_STRING(name, type, static _unused_)
#define DEFINE_PRIVATE_STRING_TABLE_LOOKUP_FROM_STRING(name, type) \
        _DEFINE_STRING_TABLE_LOOKUP_FROM_STRING(name, type, static _unused_)

#define DEFINE_STRING_TABLE_LOOKUP(name, type)           \
        DEFINE_STRING_TABLE_LOOKUP_TO_STRING(name, type) \
        DEFINE_STRING_TABLE_LOOKUP_FROM_STRING(name, type)

#define DEFINE_PRIVATE_STRING_TABLE_LOOKUP(name, type)           \
        DEFINE_PRIVATE_STRING_TABLE_LOOKUP_TO_STRING(name, type) \
        DEFINE_PRIVATE_STRING_TABLE_LOOKUP_FROM_STRING(name, type)
