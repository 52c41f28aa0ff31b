/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ports module: range parsing on a table, and allocation against the
 * machine's real sockets in a high range (41000-41999). Other programs may
 * hold some of those ports, so only the ports the test controls are
 * asserted exactly. Needs no root. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "ports.h"

#define RANGE_LO 41000
#define RANGE_HI 41999

/* ---- Parser ---- */

static void test_parse_range(_unused_ void **state) {
        static const struct {
                const char *input;
                int ret;
                uint16_t lo, hi;
        } cases[] = {
                { "30000-31000", 0, 30000, 31000 },
                { "1-65535", 0, 1, 65535 },
                { "8080-8080", 0, 8080, 8080 },
                { "00080-00081", 0, 80, 81 },
                { "", -EINVAL, 0, 0 },
                { "-", -EINVAL, 0, 0 },
                { "8080", -EINVAL, 0, 0 },
                { "8080-", -EINVAL, 0, 0 },
                { "-8080", -EINVAL, 0, 0 },
                { "0-10", -EINVAL, 0, 0 },
                { "10-0", -EINVAL, 0, 0 },
                { "200-100", -EINVAL, 0, 0 },
                { "1-65536", -EINVAL, 0, 0 },
                { "99999-100000", -EINVAL, 0, 0 },
                { " 1-2", -EINVAL, 0, 0 },
                { "1-2 ", -EINVAL, 0, 0 },
                { "1 - 2", -EINVAL, 0, 0 },
                { "+1-2", -EINVAL, 0, 0 },
                { "1-+2", -EINVAL, 0, 0 },
                { "1-2-3", -EINVAL, 0, 0 },
                { "a-b", -EINVAL, 0, 0 },
                { "0x10-0x20", -EINVAL, 0, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint16_t lo = 4242, hi = 4242;
                int r = ports_parse_range(cases[i].input, &lo, &hi);

                print_message("\"%s\" -> %d\n", cases[i].input, r);
                assert_int_equal(r, cases[i].ret);
                if (r == 0) {
                        assert_int_equal(lo, cases[i].lo);
                        assert_int_equal(hi, cases[i].hi);
                } else {
                        /* ret_* are written only on success */
                        assert_int_equal(lo, 4242);
                        assert_int_equal(hi, 4242);
                }
        }
        assert_int_equal(ports_parse_range(/* s= */ NULL, &(uint16_t) { 0 }, &(uint16_t) { 0 }), -EINVAL);
}

static void test_new_invalid(_unused_ void **state) {
        PortAllocator *a = NULL;

        assert_int_equal(ports_new(0, 10, &a), -EINVAL);
        assert_int_equal(ports_new(10, 9, &a), -EINVAL);
        assert_null(a);
        assert_int_equal(ports_new(65535, 65535, &a), 0);
        assert_non_null(a);
        ports_free(a);
        assert_null(ports_free(/* a= */ NULL));
}

/* ---- Sockets the test controls ---- */

/* A listening socket on 0.0.0.0:port, or -errno. */
static int listen_v4(uint16_t port) {
        struct sockaddr_in sa = { .sin_family = AF_INET,
                                  .sin_port = htons(port),
                                  .sin_addr.s_addr = htonl(INADDR_ANY) };
        int fd, r;

        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, /* protocol= */ 0);
        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(fd, 1) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

/* A free port of the test range that the test then holds open with a
 * listener (*ret_fd), so that nothing else takes it. */
static uint16_t grab_port(int *ret_fd) {
        for (unsigned p = RANGE_HI; p >= RANGE_LO; p--) {
                int fd;

                if (!ports_bindable((uint16_t) p))
                        continue;
                fd = listen_v4((uint16_t) p);
                if (fd < 0)
                        continue;
                *ret_fd = fd;
                return (uint16_t) p;
        }
        fail_msg("no free port in %u-%u", RANGE_LO, RANGE_HI);
        return 0;
}

/* ---- Allocation ---- */

static void test_bindable(_unused_ void **state) {
        _cleanup_close_ int fd = -EBADF;
        uint16_t port = grab_port(&fd);

        assert_false(ports_bindable(/* port= */ 0));
        assert_false(ports_bindable(port));
        fd = safe_close(fd);
        assert_true(ports_bindable(port));
}

static void test_allocate_unique(_unused_ void **state) {
        _cleanup_(ports_freep) PortAllocator *a = NULL;
        uint16_t got[50];

        assert_int_equal(ports_new(RANGE_LO, RANGE_HI, &a), 0);
        for (size_t i = 0; i < ELEMENTSOF(got); i++) {
                assert_int_equal(ports_allocate(a, /* preferred= */ 0, &got[i]), 0);
                assert_in_range(got[i], RANGE_LO, RANGE_HI);
                for (size_t j = 0; j < i; j++)
                        assert_int_not_equal(got[i], got[j]);
        }
}

static void test_allocate_preferred(_unused_ void **state) {
        _cleanup_(ports_freep) PortAllocator *a = NULL;
        _cleanup_close_ int fd = -EBADF;
        uint16_t port, got;

        port = grab_port(&fd);
        fd = safe_close(fd);
        assert_int_equal(ports_new(RANGE_LO, RANGE_HI, &a), 0);
        assert_int_equal(ports_allocate(a, port, &got), 0);
        assert_int_equal(got, port);
        /* held by us now: asking again gives another one */
        assert_int_equal(ports_allocate(a, port, &got), 0);
        assert_int_not_equal(got, port);
        /* outside the range: ignored */
        assert_int_equal(ports_allocate(a, RANGE_LO - 1, &got), 0);
        assert_in_range(got, RANGE_LO, RANGE_HI);
}

static void test_allocate_skips_bound(_unused_ void **state) {
        _cleanup_(ports_freep) PortAllocator *a = NULL;
        _cleanup_close_ int fd = -EBADF;
        uint16_t port, got;

        port = grab_port(&fd);
        /* a range of the one port that someone (the test) listens on */
        assert_int_equal(ports_new(port, port, &a), 0);
        assert_int_equal(ports_allocate(a, port, &got), -EADDRNOTAVAIL);
        ports_free(a);

        /* in the full range it is skipped, even when preferred */
        assert_int_equal(ports_new(RANGE_LO, RANGE_HI, &a), 0);
        for (unsigned i = 0; i < 20; i++) {
                assert_int_equal(ports_allocate(a, port, &got), 0);
                assert_int_not_equal(got, port);
        }
}

static void test_release(_unused_ void **state) {
        _cleanup_(ports_freep) PortAllocator *a = NULL;
        _cleanup_close_ int fd = -EBADF;
        uint16_t port, got = 0;

        port = grab_port(&fd);
        fd = safe_close(fd);
        assert_int_equal(ports_new(port, port, &a), 0);
        assert_int_equal(ports_allocate(a, /* preferred= */ 0, &got), 0);
        assert_int_equal(got, port);
        assert_int_equal(ports_allocate(a, /* preferred= */ 0, &got), -EADDRNOTAVAIL);
        ports_release(a, port);
        got = 0;
        assert_int_equal(ports_allocate(a, /* preferred= */ 0, &got), 0);
        assert_int_equal(got, port);
        /* releasing a port we do not hold is harmless */
        ports_release(a, port - 1);
        ports_release(/* a= */ NULL, port);
}

/* Three ports of the range that the test holds the only way the allocator
 * can know of without sockets: by reserving them. */
static void test_exhaustion(_unused_ void **state) {
        _cleanup_(ports_freep) PortAllocator *a = NULL;
        uint16_t got = 4242;

        assert_int_equal(ports_new(RANGE_LO, RANGE_LO + 2, &a), 0);
        for (uint16_t p = RANGE_LO; p <= RANGE_LO + 2; p++)
                assert_int_equal(ports_reserve(a, p), 0);
        assert_int_equal(ports_allocate(a, /* preferred= */ 0, &got), -EADDRNOTAVAIL);
        assert_int_equal(ports_allocate(a, RANGE_LO + 1, &got), -EADDRNOTAVAIL);
        assert_int_equal(got, 4242);
}

/* The same by allocation: whatever part of a 3-port range is bindable is
 * handed out once, then the range is exhausted. */
static void test_exhaustion_allocate(_unused_ void **state) {
        _cleanup_(ports_freep) PortAllocator *a = NULL;
        uint16_t got;
        unsigned n = 0;

        assert_int_equal(ports_new(RANGE_HI - 2, RANGE_HI, &a), 0);
        while (ports_allocate(a, /* preferred= */ 0, &got) == 0) {
                assert_in_range(got, RANGE_HI - 2, RANGE_HI);
                assert_true(++n <= 3);
        }
        assert_int_equal(ports_allocate(a, /* preferred= */ 0, &got), -EADDRNOTAVAIL);
}

static void test_reserve(_unused_ void **state) {
        _cleanup_(ports_freep) PortAllocator *a = NULL;
        _cleanup_close_ int fd = -EBADF;
        uint16_t port, got;

        assert_int_equal(ports_new(RANGE_LO, RANGE_HI, &a), 0);
        /* outside the range, and not bindable: both fine */
        assert_int_equal(ports_reserve(a, 80), 0);
        assert_int_equal(ports_reserve(a, 80), -EADDRINUSE);
        port = grab_port(&fd);
        assert_int_equal(ports_reserve(a, port), 0);
        assert_int_equal(ports_reserve(a, port), -EADDRINUSE);
        assert_int_equal(ports_reserve(a, /* port= */ 0), -EINVAL);
        /* a reserved port is not allocated, even once it is bindable */
        fd = safe_close(fd);
        assert_int_equal(ports_allocate(a, port, &got), 0);
        assert_int_not_equal(got, port);
        /* an allocated one cannot be reserved */
        assert_int_equal(ports_reserve(a, got), -EADDRINUSE);
        ports_release(a, port);
        assert_int_equal(ports_reserve(a, port), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_range),
                cmocka_unit_test(test_new_invalid),
                cmocka_unit_test(test_bindable),
                cmocka_unit_test(test_allocate_unique),
                cmocka_unit_test(test_allocate_preferred),
                cmocka_unit_test(test_allocate_skips_bound),
                cmocka_unit_test(test_release),
                cmocka_unit_test(test_exhaustion),
                cmocka_unit_test(test_exhaustion_allocate),
                cmocka_unit_test(test_reserve),
        };

        return cmocka_run_group_tests(tests, /* group_setup= */ NULL, /* group_teardown= */ NULL);
}
