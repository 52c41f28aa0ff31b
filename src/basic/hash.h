/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* FNV-1a, 64 bits (Fowler, Noll, Vo: http://www.isthe.com/chongo/tech/comp/fnv/):
 * a small, fast, stable hash for names and change detection — not for
 * anything an attacker may choose to collide. Stable across versions and
 * machines: the configuration hash is persisted with each unit and the
 * notify socket is named by one.
 *
 *         uint64_t h = hash_fnv1a64_init();
 *         hash_fnv1a64_update_string(&h, name);
 *         hash_fnv1a64_update(&h, &port, sizeof(port));
 *
 * Feeding the bytes in pieces gives the same value as in one piece. */

#include <stddef.h>
#include <stdint.h>

#define FNV1A64_OFFSET_BASIS UINT64_C(14695981039346656037)
#define FNV1A64_PRIME UINT64_C(1099511628211)

/* The starting state (the offset basis): the hash of no bytes. */
static inline uint64_t hash_fnv1a64_init(void) {
        return FNV1A64_OFFSET_BASIS;
}

/* Feeds n bytes at data into *h. */
void hash_fnv1a64_update(uint64_t *h, const void *data, size_t n);

/* Feeds the bytes of s, without its NUL, into *h. Two strings fed one
 * after the other hash like their concatenation: put a separator between
 * fields (hash_fnv1a64_update_byte()) where that matters. */
void hash_fnv1a64_update_string(uint64_t *h, const char *s);

/* Feeds one byte into *h. */
void hash_fnv1a64_update_byte(uint64_t *h, uint8_t b);

/* The hash of n bytes, and of a string, in one call. */
uint64_t hash_fnv1a64(const void *data, size_t n);
uint64_t hash_fnv1a64_string(const char *s);
