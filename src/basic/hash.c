/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "hash.h"

void hash_fnv1a64_update_byte(uint64_t *h, uint8_t b) {
        *h = (*h ^ b) * FNV1A64_PRIME;
}

void hash_fnv1a64_update(uint64_t *h, const void *data, size_t n) {
        const uint8_t *p = data;

        for (size_t i = 0; i < n; i++)
                hash_fnv1a64_update_byte(h, p[i]);
}

void hash_fnv1a64_update_string(uint64_t *h, const char *s) {
        for (const char *p = s; *p; p++)
                hash_fnv1a64_update_byte(h, (uint8_t) *p);
}

uint64_t hash_fnv1a64(const void *data, size_t n) {
        uint64_t h = hash_fnv1a64_init();

        hash_fnv1a64_update(&h, data, n);
        return h;
}

uint64_t hash_fnv1a64_string(const char *s) {
        uint64_t h = hash_fnv1a64_init();

        hash_fnv1a64_update_string(&h, s);
        return h;
}
