/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Cleanup attributes and small helpers, in the dialect of systemd's
 * src/fundamental/macro-fundamental.h. Knows nothing of corral. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((__cleanup__(f)))
#define _unused_ __attribute__((__unused__))
#define _printf_(a, b) __attribute__((__format__(printf, a, b)))
#define _noreturn_ __attribute__((__noreturn__))
#define _likely_(x) (__builtin_expect(!!(x), 1))
#define _unlikely_(x) (__builtin_expect(!!(x), 0))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#define streq(a, b) (strcmp((a), (b)) == 0)
#define strneq(a, b, n) (strncmp((a), (b), (n)) == 0)
/* Both NULL, or both strings and equal. */
#define streq_ptr(a, b)                                            \
        ({                                                         \
                const char *_a = (a), *_b = (b);                   \
                (!_a && !_b) || (_a && _b && strcmp(_a, _b) == 0); \
        })

/* Returns the value of *ptr and sets *ptr to the null value, so that a
 * cleanup attribute on the variable no longer frees it. */
#define TAKE_GENERIC(var, type, nullvalue)    \
        ({                                    \
                type *_pvar_ = &(var);        \
                type _var_ = *_pvar_;         \
                type _nullvalue_ = nullvalue; \
                *_pvar_ = _nullvalue_;        \
                _var_;                        \
        })
#define TAKE_PTR_TYPE(ptr, type) TAKE_GENERIC(ptr, type, NULL)
#define TAKE_PTR(ptr) TAKE_PTR_TYPE(ptr, typeof(ptr))
#define TAKE_FD(fd) TAKE_GENERIC(fd, int, -EBADF)

/* Turns a negative errno-style return into a positive errno value. */
#define ERRNO_VALUE(r) (abs(r))

/* Logs with %m need errno set to the error being reported. */
#define SET_ERRNO(r) (errno = ERRNO_VALUE(r))

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

/* free() that returns NULL: p = mfree(p); */
static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

/* Room for n + 1 elements of size in *p, which holds n of them: the room
 * doubles (from 8), so that a list grown one element at a time moves
 * through the heap O(log n) times rather than n times, each move leaving
 * a hole behind. The room is implied by n (max(8, the next power of two)),
 * so that the caller keeps no count of it: *p must be grown only through
 * this (shrinking n keeps the room). Returns *p, or NULL (ENOMEM; *p is
 * untouched). */
static inline void *array_grow(void **p, size_t n, size_t size) {
        size_t room = 8;
        void *q;

        while (room < n)
                room *= 2;
        if (*p && n < room)
                return *p;
        while (room < n + 1)
                room *= 2;
        q = reallocarray(*p, room, size);
        if (q)
                *p = q;
        return q;
}
#define ARRAY_GROW(p, n) ((typeof(p)) array_grow((void **) &(p), (n), sizeof(*(p))))

static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                (void) close(fd);
                errno = saved;
        }
        return -EBADF;
}

static inline void closep(int *fd) {
        safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f) {
        if (*f)
                (void) fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Defines a function suitable for _cleanup_() that calls func(*p) when *p
 * is not NULL. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func) \
        static inline void func##p(type *p) {   \
                if (*p)                         \
                        (void) func(*p);        \
        }

/* Returns -errno of the last failed libc call, never 0. */
static inline int negative_errno(void) {
        return errno > 0 ? -errno : -EIO;
}
