/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/resource.h>

/* The limit of open files of a supervisor and of what it starts. */

/* The soft RLIMIT_NOFILE that programs get, as systemd gives its
 * services: select(2) cannot watch a descriptor above FD_SETSIZE. */
#define RLIMIT_NOFILE_SAFE 1024

/* Raises the calling process's soft RLIMIT_NOFILE to its hard limit, as
 * systemd does for itself: a supervisor keeps descriptors for every unit
 * and uses none of them with select(2). Returns 0 (also when there is
 * nothing to raise), or -errno of setrlimit(). */
int rlimit_nofile_bump(void);

/* What a program started by a bumped supervisor would have had (systemd's
 * rlimit_nofile_safe()): the soft RLIMIT_NOFILE back to RLIMIT_NOFILE_SAFE,
 * the hard limit as it is. Returns true with that in *ret when the calling
 * process's soft limit is above it, false when there is nothing to lower. */
bool rlimit_nofile_safe_get(struct rlimit *ret);
