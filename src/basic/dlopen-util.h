/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A shared library mapped the first time it is needed, and its functions
 * found by name (systemd's dlopen_many_sym_or_warn()): a program that does
 * not need it does not map it, nor the libraries only it pulls in. */

#include <stddef.h>

typedef struct DlopenSymbol {
        const char *name;
        void **ptr; /* where the function goes (a function pointer, cast) */
} DlopenSymbol;

/* Maps soname for the life of the process (RTLD_NOW | RTLD_NODELETE) and
 * sets each of the n symbols. Returns 0; or -EOPNOTSUPP when the library
 * or a symbol is missing, with dlerror()'s text (or the symbol's name) in
 * error (size error_size; may be NULL), and nothing of it kept. */
int dlopen_many_sym(const char *soname, const DlopenSymbol *syms, size_t n, char *error, size_t error_size);
