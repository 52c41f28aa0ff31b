/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "user-util.h"

#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <string.h>

#include "parse-util.h"

/* NSS buffers start here and double up to the maximum: -ERANGE beyond. */
#define NSS_BUFFER_MIN 1024
#define NSS_BUFFER_MAX (1024 * 1024)

void user_record_done(UserRecord *u) {
        if (!u)
                return;
        free(u->name);
        free(u->home);
        free(u->shell);
        *u = (UserRecord) {};
}

/* getpwnam_r(name) or, for name NULL, getpwuid_r(uid), into *pw and *buf
 * (which grows). -ESRCH: no such user. */
static int passwd_get(const char *name, uid_t uid, struct passwd *pw, char **buf) {
        for (size_t size = NSS_BUFFER_MIN; size <= NSS_BUFFER_MAX; size *= 2) {
                struct passwd *res = NULL;
                char *b = realloc(*buf, size);
                int r;

                if (!b)
                        return -ENOMEM;
                *buf = b;
                r = name ? getpwnam_r(name, pw, b, size, &res) : getpwuid_r(uid, pw, b, size, &res);
                if (r == ERANGE)
                        continue;
                if (r == 0)
                        return res ? 0 : -ESRCH;
                /* some NSS modules say "not found" as ENOENT or ESRCH */
                return r == ENOENT || r == ESRCH ? -ESRCH : -r;
        }
        return -ERANGE;
}

static char *strdup_or(const char *s, const char *fallback) {
        return strdup(s && *s ? s : fallback);
}

static int user_record_from_passwd(const struct passwd *pw, UserRecord *ret) {
        UserRecord u = {
                .uid = pw->pw_uid,
                .gid = pw->pw_gid,
                .name = strdup(pw->pw_name),
                .home = strdup_or(pw->pw_dir, "/"),
                .shell = strdup_or(pw->pw_shell, "/bin/sh"),
        };

        if (!u.name || !u.home || !u.shell) {
                user_record_done(&u);
                return -ENOMEM;
        }
        *ret = u;
        return 0;
}

/* passwd_get() then user_record_from_passwd(). */
static int user_lookup_one(const char *name, uid_t uid, UserRecord *ret) {
        _cleanup_free_ char *buf = NULL;
        struct passwd pw;
        int r;

        r = passwd_get(name, uid, &pw, &buf);
        if (r < 0)
                return r;
        return user_record_from_passwd(&pw, ret);
}

int user_lookup(const char *user, UserRecord *ret) {
        unsigned id;

        if (!user || !*user)
                return -EINVAL;
        if (safe_atou(user, &id) >= 0)
                return user_lookup_uid((uid_t) id, ret);
        return user_lookup_one(user, /* uid= */ 0, ret);
}

int user_lookup_uid(uid_t uid, UserRecord *ret) {
        return user_lookup_one(/* name= */ NULL, uid, ret);
}

int group_lookup(const char *group, gid_t *ret) {
        _cleanup_free_ char *buf = NULL;
        unsigned id;

        if (!group || !*group)
                return -EINVAL;
        if (safe_atou(group, &id) >= 0) {
                *ret = (gid_t) id;
                return 0;
        }
        for (size_t size = NSS_BUFFER_MIN; size <= NSS_BUFFER_MAX; size *= 2) {
                struct group gr, *res = NULL;
                char *b = realloc(buf, size);
                int r;

                if (!b)
                        return -ENOMEM;
                buf = b;
                r = getgrnam_r(group, &gr, b, size, &res);
                if (r == ERANGE)
                        continue;
                if (r == 0 && res) {
                        *ret = gr.gr_gid;
                        return 0;
                }
                return r == 0 || r == ENOENT || r == ESRCH ? -ENXIO : -r;
        }
        return -ERANGE;
}

int user_get_groups(const char *name, gid_t gid, gid_t **ret, size_t *ret_n) {
        int n = 32;

        /* getgrouplist() says how many it needs when the array is too short */
        for (int tries = 0; tries < 8; tries++) {
                _cleanup_free_ gid_t *g = calloc((size_t) n, sizeof(gid_t));
                int k = n;

                if (!g)
                        return -ENOMEM;
                if (getgrouplist(name, gid, g, &k) >= 0) {
                        *ret = TAKE_PTR(g);
                        *ret_n = (size_t) k;
                        return 0;
                }
                n = k > n ? k : n * 2;
        }
        return -ERANGE;
}

int uid_in_group(uid_t uid, gid_t primary_gid, gid_t gid) {
        _cleanup_(user_record_done) UserRecord u = {};
        _cleanup_free_ gid_t *groups = NULL;
        size_t n;
        int r;

        if (primary_gid == gid)
                return 1;
        r = user_lookup_uid(uid, &u);
        if (r < 0)
                return r;
        r = user_get_groups(u.name, u.gid, &groups, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (groups[i] == gid)
                        return 1;
        return 0;
}
