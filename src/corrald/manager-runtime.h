/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Services defined at run time, through the API: each is stored by
 * corrald as one file, RUNTIME_DIRECTORY/services/NAME.conf holding its
 * [program:NAME] section, written atomically (write, fsync, rename, fsync
 * of the folder), and read with the configuration files at every load —
 * so they survive a reload and a restart of corrald (and are adopted
 * after a crash like any other unit). Every change is applied as a
 * reload is: by the difference, with the same counts. */

#include "manager.h"

/* One service of a desired list: its name and the body of its section
 * ("key = value" lines, as in a [program:NAME] section). */
typedef struct RuntimeService {
        const char *name;
        const char *body;
} RuntimeService;

/* Adds (or replaces) runtime service name. -EEXIST when a configuration
 * file defines that name (it cannot be replaced through the API),
 * -EINVAL with the file:line-style message in *ret_error (the request is
 * named as the file: "add web:3: …") for a bad name or body — then
 * nothing changes —, -errno for storage errors. On success the reload's
 * counts are in *ret_counts. */
int manager_runtime_add(Manager *m, const char *name, const char *body, ReloadCounts *ret_counts, char **ret_error);

/* Removes runtime service name: -ENOENT none such, -EPERM defined in a
 * file. */
int manager_runtime_remove(Manager *m, const char *name, ReloadCounts *ret_counts, char **ret_error);

/* Sets the number of instances of runtime service name (0: one unit
 * without instances). -ENOENT, -EPERM as for remove. */
int manager_runtime_scale(Manager *m, const char *name, unsigned instances, ReloadCounts *ret_counts, char **ret_error);

/* Makes the runtime services exactly list[n]: added ones start, removed
 * ones stop, changed ones restart, the others are untouched. All are
 * checked before anything is written. */
int manager_runtime_apply(Manager *m, const RuntimeService *list, size_t n, ReloadCounts *ret_counts, char **ret_error);

/* Where service name is defined: the file and line, whether it is a
 * runtime service, and the text of its section. -ENOENT when no service
 * has that name. */
int manager_service_source(Manager *m, const char *name, char **ret_file, unsigned *ret_line, bool *ret_runtime,
                           char **ret_text);
