/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Users and groups through NSS (getpwnam_r and friends, so LDAP and
 * systemd-userdb users too), with buffers that grow as the entries need.
 * A user or group is given by name or as a decimal number. Functions
 * return 0 (or a documented positive value) and -errno: -ESRCH for no
 * such user, -ENXIO for no such group, -ENOMEM, -ERANGE when an entry
 * needs more than 1 MiB, or what NSS reports (-EIO, ...). */

#include <stddef.h>
#include <sys/types.h>

#include "macro.h"

/* What a passwd entry says of a user, owned (strings malloc'd). */
typedef struct UserRecord {
        uid_t uid;
        gid_t gid; /* the primary group */
        char *name;
        char *home;  /* "/" when the entry has none */
        char *shell; /* "/bin/sh" when the entry has none, as passwd(5) says */
} UserRecord;

/* Frees the strings and resets *u; accepts a reset record. */
void user_record_done(UserRecord *u);

/* The user named `user`, or with the uid `user` when it is a decimal
 * number ("0", "1000"): the uid must have a passwd entry too. -EINVAL for
 * NULL or "", -ESRCH when there is no such user. *ret is written only on
 * success; free it with user_record_done(). */
int user_lookup(const char *user, UserRecord *ret);

/* The same by uid. */
int user_lookup_uid(uid_t uid, UserRecord *ret);

/* The gid of the group named `group`, or the decimal gid `group` as it is
 * (a numeric gid needs no group entry, as setgid() does not). -EINVAL for
 * NULL or "", -ENXIO when no group has that name. */
int group_lookup(const char *group, gid_t *ret);

/* Every group of user `name` whose primary group is gid (gid first, then
 * the supplementary groups from the group database), as getgrouplist()
 * gives them, in an array that grows as needed. Returns 0 with a malloc'd
 * array in *ret and its length in *ret_n (at least 1). */
int user_get_groups(const char *name, gid_t gid, gid_t **ret, size_t *ret_n);

/* Whether the user uid, whose current primary group is primary_gid (e.g.
 * from SO_PEERCRED), belongs to group gid: primary_gid, the primary group
 * of its passwd entry, or a supplementary group. Returns 1 when it does,
 * 0 when it does not, -ESRCH when uid has no passwd entry (and primary_gid
 * is not gid), -errno. */
int uid_in_group(uid_t uid, gid_t primary_gid, gid_t gid);
