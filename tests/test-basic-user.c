/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* user-util on the real NSS: root and nobody by name and number, unknown
 * names, then (as root; skipped otherwise) a real user made with useradd
 * for this run — a home longer than the first NSS buffer and 40
 * supplementary groups, more than the first getgrouplist() array — which
 * the teardown deletes with its groups, failed or not. */

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <grp.h>
#include <pwd.h>

#include <cmocka.h>

#include "macro.h"
#include "user-util.h"

#define N_GROUPS 40
#define HOME_LEN 3000

static void test_root(_unused_ void **state) {
        static const char *const names[] = { "root", "0", "000" };

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_(user_record_done) UserRecord u = {};

                assert_int_equal(user_lookup(names[i], &u), 0);
                assert_int_equal(u.uid, 0);
                assert_int_equal(u.gid, 0);
                assert_string_equal(u.name, "root");
                assert_string_equal(u.home, "/root");
                assert_non_null(u.shell);
                assert_true(u.shell[0] == '/');
        }
}

static void test_nobody(_unused_ void **state) {
        _cleanup_(user_record_done) UserRecord u = {}, v = {};
        gid_t g;

        assert_int_equal(user_lookup("nobody", &u), 0);
        assert_int_equal(u.uid, 65534);
        assert_string_equal(u.name, "nobody");
        assert_int_equal(user_lookup_uid(65534, &v), 0);
        assert_string_equal(v.name, "nobody");
        assert_string_equal(v.home, u.home);
        assert_int_equal(group_lookup("nogroup", &g), 0);
        assert_int_equal(g, 65534);
        assert_int_equal(group_lookup("root", &g), 0);
        assert_int_equal(g, 0);
}

static void test_unknown(_unused_ void **state) {
        UserRecord u = { .uid = 7 };
        gid_t g = 7;

        assert_int_equal(user_lookup("corral-no-such-user", &u), -ESRCH);
        assert_int_equal(user_lookup("4294967294", &u), -ESRCH); /* a uid without an entry */
        assert_int_equal(user_lookup_uid(4294967294U, &u), -ESRCH);
        assert_int_equal(user_lookup("", &u), -EINVAL);
        assert_int_equal(user_lookup(NULL, &u), -EINVAL);
        assert_int_equal(u.uid, 7); /* untouched */
        assert_null(u.name);

        assert_int_equal(group_lookup("corral-no-such-group", &g), -ENXIO);
        assert_int_equal(group_lookup("", &g), -EINVAL);
        assert_int_equal(g, 7);
        /* a numeric gid is taken as it is, as setgid() takes it */
        assert_int_equal(group_lookup("4294967294", &g), 0);
        assert_int_equal(g, 4294967294U);
        assert_int_equal(group_lookup("0123", &g), 0);
        assert_int_equal(g, 123);

        assert_int_equal(uid_in_group(4294967294U, 1, 2), -ESRCH);
        assert_int_equal(uid_in_group(4294967294U, 2, 2), 1); /* the primary needs no lookup */
}

static void test_root_groups(_unused_ void **state) {
        _cleanup_free_ gid_t *groups = NULL;
        size_t n;

        assert_int_equal(user_get_groups("root", 0, &groups, &n), 0);
        assert_true(n >= 1);
        assert_int_equal(groups[0], 0);
        assert_int_equal(uid_in_group(0, 0, 0), 1);
        assert_int_equal(uid_in_group(0, 4242, 0), 1); /* through the passwd entry's primary group */
        assert_int_equal(uid_in_group(65534, 65534, 0), 0);
}

/* ---- A real user ---- */

typedef struct TestUser {
        char name[32];
        char groups[N_GROUPS][32];
        uid_t uid;
        gid_t gids[N_GROUPS];
        char home[HOME_LEN + 16];
        bool made_user;
        bool made_group[N_GROUPS];
} TestUser;

/* Runs argv, retrying while another process holds the passwd or group
 * lock (useradd exits 10, groupadd 10). Returns its exit status. */
static int run(char *const *argv) {
        int status = -1;

        for (int attempt = 0; attempt < 20; attempt++) {
                pid_t pid = fork();

                if (pid < 0)
                        return -1;
                if (pid == 0) {
                        execv(argv[0], argv);
                        _exit(127);
                }
                if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
                        return -1;
                if (WEXITSTATUS(status) != 10)
                        return WEXITSTATUS(status);
                usleep(100 * 1000);
        }
        return WEXITSTATUS(status);
}

/* A free uid and N_GROUPS free gids from 50000 up (inside useradd's UID_MIN..UID_MAX), by asking NSS. */
static void pick_ids(TestUser *t) {
        uid_t id = 50000 + (uid_t) (getpid() % 200) * 50;
        size_t k = 0;

        while (getpwuid(id))
                id++;
        t->uid = id;
        for (gid_t g = id; k < N_GROUPS; g++)
                if (!getgrgid(g))
                        t->gids[k++] = g;
}

static int user_setup(void **state) {
        TestUser *t;
        char gid[16], uid[16], gidlist[N_GROUPS * 34];
        size_t off = 0;

        if (geteuid() != 0)
                return 0; /* the cases skip */
        t = calloc(1, sizeof(TestUser));
        if (!t)
                return -1;
        *state = t;
        snprintf(t->name, sizeof(t->name), "corral-tbu-%d", (int) getpid());
        pick_ids(t);
        for (int i = 0; i < N_GROUPS; i++) {
                snprintf(t->groups[i], sizeof(t->groups[i]), "corral-tbg-%d-%d", (int) getpid(), i);
                snprintf(gid, sizeof(gid), "%u", (unsigned) t->gids[i]);
                if (run((char *const[]) { "/usr/sbin/groupadd", "-g", gid, t->groups[i], NULL }) != 0)
                        return -1;
                t->made_group[i] = true;
                off += (size_t) snprintf(gidlist + off, sizeof(gidlist) - off, "%s%s", i ? "," : "", t->groups[i]);
        }
        /* a home longer than the first NSS buffer: the lookup must grow it */
        memcpy(t->home, "/nonexistent/", 13);
        memset(t->home + 13, 'h', HOME_LEN);
        snprintf(uid, sizeof(uid), "%u", (unsigned) t->uid);
        /* primary group: the first one; supplementary: all of them */
        if (run((char *const[]) { "/usr/sbin/useradd", "-M", "-N", "-u", uid, "-g", t->groups[0], "-G", gidlist, "-d",
                                  t->home, "-s", "/bin/false", t->name, NULL }) != 0)
                return -1;
        t->made_user = true;
        return 0;
}

static int user_teardown(void **state) {
        TestUser *t = *state;
        int r = 0;

        if (!t)
                return 0;
        if (t->made_user && run((char *const[]) { "/usr/sbin/userdel", t->name, NULL }) != 0)
                r = -1;
        for (int i = N_GROUPS - 1; i >= 0; i--)
                if (t->made_group[i] && run((char *const[]) { "/usr/sbin/groupdel", t->groups[i], NULL }) != 0)
                        r = -1;
        free(t);
        return r;
}

static TestUser *test_user(void **state) {
        if (geteuid() != 0) {
                print_message("not root: cannot make a user with useradd\n");
                skip();
        }
        return *state;
}

static void test_real_user(void **state) {
        TestUser *t = test_user(state);
        _cleanup_(user_record_done) UserRecord u = {}, v = {};
        char uid[16];
        gid_t g;

        assert_int_equal(user_lookup(t->name, &u), 0);
        assert_int_equal(u.uid, t->uid);
        assert_int_equal(u.gid, t->gids[0]);
        assert_string_equal(u.name, t->name);
        assert_string_equal(u.home, t->home);
        assert_int_equal(strlen(u.home), HOME_LEN + 13);
        assert_string_equal(u.shell, "/bin/false");

        snprintf(uid, sizeof(uid), "%u", (unsigned) t->uid);
        assert_int_equal(user_lookup(uid, &v), 0);
        assert_string_equal(v.name, t->name);
        assert_string_equal(v.home, t->home);

        for (int i = 0; i < N_GROUPS; i++) {
                assert_int_equal(group_lookup(t->groups[i], &g), 0);
                assert_int_equal(g, t->gids[i]);
        }
}

static void test_real_user_groups(void **state) {
        TestUser *t = test_user(state);
        _cleanup_free_ gid_t *groups = NULL;
        size_t n;

        assert_int_equal(user_get_groups(t->name, t->gids[0], &groups, &n), 0);
        assert_int_equal(n, N_GROUPS); /* the primary once, then the 39 others */
        assert_int_equal(groups[0], t->gids[0]);
        for (int i = 0; i < N_GROUPS; i++) {
                bool found = false;

                for (size_t k = 0; k < n; k++)
                        found = found || groups[k] == t->gids[i];
                assert_true(found);
        }

        /* as control asks it: peer credentials, then a configured group */
        for (int i = 0; i < N_GROUPS; i++)
                assert_int_equal(uid_in_group(t->uid, t->gids[0], t->gids[i]), 1);
        assert_int_equal(uid_in_group(t->uid, 65534, t->gids[N_GROUPS - 1]), 1); /* not through the primary */
        assert_int_equal(uid_in_group(t->uid, t->gids[0], 0), 0);
        assert_int_equal(uid_in_group(t->uid, t->gids[0], 65534), 0);
        assert_int_equal(uid_in_group(0, 0, t->gids[1]), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_root),      cmocka_unit_test(test_nobody),
                cmocka_unit_test(test_unknown),   cmocka_unit_test(test_root_groups),
                cmocka_unit_test(test_real_user), cmocka_unit_test(test_real_user_groups),
        };

        return cmocka_run_group_tests(tests, user_setup, user_teardown);
}
