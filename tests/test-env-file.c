/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Environment files (src/basic/env-file.c): a table of files with the
 * variables they give or the line and reason of their error, the reader's
 * bounds on plain files, and — as root, with a real user made by useradd —
 * that a file is opened with the user's permissions, a symlink of that
 * user's to root's file included, and that the reader's own credentials
 * are back afterwards. */

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "env-file.h"
#include "macro.h"
#include "strv.h"

#define VARS_MAX 8

static void assert_strv_equal(char **l, const char *const *expected) {
        size_t n = 0;

        while (expected[n])
                n++;
        if (strv_length(l) != n)
                for (char **e = l; e && *e; e++)
                        print_message("got: %s\n", *e);
        assert_int_equal(strv_length(l), n);
        for (size_t i = 0; i < n; i++)
                assert_string_equal(l[i], expected[i]);
        assert_null(l[n]);
}

static void test_parse_table(_unused_ void **state) {
        static const struct {
                const char *input;
                const char *vars[VARS_MAX]; /* NULL-terminated */
        } cases[] = {
                { "", { NULL } },
                { "\n\n  \t\n", { NULL } },
                { "A=1", { "A=1" } },
                { "A=1\nB=2\n", { "A=1", "B=2" } },
                /* comments, only at the start of a line */
                { "# c\n; d\n  # e\nA=1 # not a comment\n", { "A=1 # not a comment" } },
                /* a comment ending in a backslash does not continue (systemd 254+) */
                { "# c \\\nA=1\n", { "A=1" } },
                /* blanks around key and unquoted value go, inner ones stay */
                { "  A  =  x  y \t\n", { "A=x  y" } },
                { "A=\n", { "A=" } },
                { "A=", { "A=" } },
                { "A=   \n", { "A=" } },
                /* a line without '=' is ignored */
                { "JUSTAWORD\nA=1\nno equals here\n", { "A=1" } },
                /* later wins, in the place of the first */
                { "A=1\nB=2\nA=3\n", { "A=3", "B=2" } },
                /* unquoted backslashes */
                { "A=a\\ b\\\\c\\$d\n", { "A=a b\\c$d" } },
                { "A=one \\\ntwo\n", { "A=one two" } },
                { "A=x\\\n", { "A=x" } },
                { "A=x\\", { "A=x" } },
                /* quotes after the first character of an unquoted value are kept */
                { "A=a\"b\"'c'\n", { "A=a\"b\"'c'" } },
                /* single quotes: verbatim, newlines included */
                { "A='  x \\n \"y\" $z  '\n", { "A=  x \\n \"y\" $z  " } },
                { "A='one\ntwo'\nB=3\n", { "A=one\ntwo", "B=3" } },
                { "A=''\n", { "A=" } },
                /* double quotes: \" \\ \` \$ and a continuation; other backslashes stay */
                { "A=\"\\\" \\\\ \\` \\$ \\n \\a\"\n", { "A=\" \\ ` $ \\n \\a" } },
                { "A=\"a\\\nb\"\n", { "A=ab" } },
                { "A=\"  x  \"  \n", { "A=  x  " } },
                { "A=\"multi\nline\"\n", { "A=multi\nline" } },
                /* quoted and unquoted parts join */
                { "A=\"x\"'y'\n", { "A=xy" } },
                { "A=\"x\" 'y' z\n", { "A=xyz" } },
                { "A=\"x\"y\n", { "A=xy" } },
                /* CR ends a line, as in systemd: a CRLF file works */
                { "A=1\r\nB=2\r\n", { "A=1", "B=2" } },
                /* names */
                { "_A_1=x\nabc=y\n", { "_A_1=x", "abc=y" } },
                /* = inside the value */
                { "URL=postgres://u:p@db/x?a=b\n", { "URL=postgres://u:p@db/x?a=b" } },
                /* UTF-8 */
                { "A=héllo → ✓\n", { "A=héllo → ✓" } },
                /* a realistic .env */
                { "# database\n"
                  "DATABASE_URL=\"postgres://app:secret@localhost:5432/app\"\n"
                  "\n"
                  "SECRET_KEY='a$b\\c'\n"
                  "DEBUG=1\n",
                  { "DATABASE_URL=postgres://app:secret@localhost:5432/app", "SECRET_KEY=a$b\\c", "DEBUG=1" } },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_strv_free_ char **env = NULL;
                EnvFileError e = {};
                print_message("case %zu: %s\n", i, cases[i].input);
                assert_int_equal(env_file_parse(cases[i].input, strlen(cases[i].input), &env, &e), 0);
                assert_non_null(env);
                assert_strv_equal(env, cases[i].vars);
        }
}

static void test_parse_errors(_unused_ void **state) {
        static const struct {
                const char *input;
                unsigned line;
                const char *reason; /* a part of it */
        } cases[] = {
                { "=x\n", 1, "without a variable name" },
                { "A=1\n  = 2\n", 2, "without a variable name" },
                { "export A=1\n", 1, "\"export\"" },
                { "A=1\n\nexport\tB=2\n", 3, "\"export\"" },
                { "1A=x\n", 1, "invalid variable name" },
                { "A-B=x\n", 1, "invalid variable name" },
                { "A B=x\n", 1, "invalid variable name" },
                { "A.B=x\n", 1, "invalid variable name" },
                { "A=1\nB='open\n\nC=3\n", 2, "unterminated single quote" },
                { "A=\"open\n", 1, "unterminated double quote" },
                { "A=\"open\\", 1, "unterminated double quote" },
                { "A=\xff\n", 1, "UTF-8" },
                { "A=1\nB=\xc0\xaf\n", 2, "UTF-8" }, /* overlong '/' */
                { "A=\xed\xa0\x80\n", 1, "UTF-8" },  /* a surrogate */
                { "A=\xe2\x82\n", 1, "UTF-8" },      /* cut short */
                /* the line of the assignment, not the line it ends on */
                { "A='x\ny\nz'\n1=2\n", 4, "invalid variable name" },
                { "A=\\\n\\\n\n\xff=x\n", 4, "invalid variable name" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_strv_free_ char **env = NULL;
                EnvFileError e = {};
                print_message("case %zu: %s\n", i, cases[i].input);
                assert_int_equal(env_file_parse(cases[i].input, strlen(cases[i].input), &env, &e), -EBADMSG);
                assert_null(env);
                assert_int_equal(e.line, cases[i].line);
                assert_non_null(e.reason);
                assert_non_null(strstr(e.reason, cases[i].reason));
        }
}

static void test_parse_nul(_unused_ void **state) {
        static const char buf[] = "A=1\nB=x\0y\n";
        _cleanup_strv_free_ char **env = NULL;
        EnvFileError e = {};

        assert_int_equal(env_file_parse(buf, sizeof(buf) - 1, &env, &e), -EBADMSG);
        assert_int_equal(e.line, 2);
        assert_non_null(strstr(e.reason, "NUL"));
        /* the length counts, not a NUL: the same bytes up to it parse */
        assert_int_equal(env_file_parse(buf, 4, &env, &e), 0);
        assert_strv_equal(env, (const char *const[]) { "A=1", NULL });
}

static void test_name_is_valid(_unused_ void **state) {
        assert_true(env_file_name_is_valid("A", 1));
        assert_true(env_file_name_is_valid("_", 1));
        assert_true(env_file_name_is_valid("a9_Z", 4));
        assert_false(env_file_name_is_valid("", 0));
        assert_false(env_file_name_is_valid("9a", 2));
        assert_false(env_file_name_is_valid("a-b", 3));
        assert_true(env_file_name_is_valid("ab=", 2)); /* n counts */
}

/* ---- The reader ---- */

typedef struct Dir {
        char path[64];
} Dir;

static void dir_make(Dir *d) {
        snprintf(d->path, sizeof(d->path), "/tmp/corral-test-env-XXXXXX");
        assert_non_null(mkdtemp(d->path));
        assert_int_equal(chmod(d->path, 0755), 0);
}

static void dir_file(const Dir *d, const char *name, char *buf, size_t size) {
        snprintf(buf, size, "%s/%s", d->path, name);
}

static void write_file(const char *path, const char *content, mode_t mode) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, content, strlen(content)), (ssize_t) strlen(content));
        assert_int_equal(fchmod(fd, mode), 0);
}

static void dir_remove(Dir *d) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", d->path);
        assert_int_equal(system(cmd), 0);
}

static void test_read_plain(_unused_ void **state) {
        _cleanup_strv_free_ char **env = NULL;
        char path[128], big[128], fifo[128];
        EnvFileError e = { .line = 99 };
        Dir d;

        dir_make(&d);
        dir_file(&d, "app.env", path, sizeof(path));
        write_file(path, "# app\nPORT=8080\nNAME=\"my app\"\n", 0644);
        assert_int_equal(env_file_load(path, /* creds= */ NULL, &env, &e), 0);
        assert_strv_equal(env, (const char *const[]) { "PORT=8080", "NAME=my app", NULL });
        env = strv_free(env);

        /* the error names the line */
        write_file(path, "A=1\nB='x\n", 0644);
        assert_int_equal(env_file_load(path, /* creds= */ NULL, &env, &e), -EBADMSG);
        assert_int_equal(e.line, 2);

        /* I/O errors: no line */
        dir_file(&d, "missing.env", path, sizeof(path));
        assert_int_equal(env_file_load(path, /* creds= */ NULL, &env, &e), -ENOENT);
        assert_int_equal(e.line, 0);
        assert_null(e.reason);
        assert_int_equal(env_file_load(d.path, /* creds= */ NULL, &env, &e), -EINVAL); /* a directory */

        /* a FIFO is refused at once, not waited on */
        dir_file(&d, "fifo", fifo, sizeof(fifo));
        assert_int_equal(mkfifo(fifo, 0644), 0);
        assert_int_equal(env_file_load(fifo, /* creds= */ NULL, &env, &e), -EINVAL);

        /* the size bound, and one byte under it */
        dir_file(&d, "big.env", big, sizeof(big));
        _cleanup_free_ char *content = malloc(ENV_FILE_SIZE_MAX + 2);
        assert_non_null(content);
        memset(content, '#', ENV_FILE_SIZE_MAX + 1);
        content[ENV_FILE_SIZE_MAX + 1] = '\0';
        write_file(big, content, 0644);
        assert_int_equal(env_file_load(big, /* creds= */ NULL, &env, &e), -EFBIG);
        content[ENV_FILE_SIZE_MAX] = '\0';
        write_file(big, content, 0644);
        assert_int_equal(env_file_load(big, /* creds= */ NULL, &env, &e), 0);
        assert_strv_equal(env, (const char *const[]) { NULL });
        dir_remove(&d);
}

/* ---- As root: a real user ---- */

static char test_user[32];

static int run(const char *cmd) {
        int r = system(cmd);
        return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

static int user_setup(void **state) {
        char cmd[128];

        if (geteuid() != 0)
                return 0;
        snprintf(test_user, sizeof(test_user), "crltenv%d", (int) getpid() % 100000);
        snprintf(cmd, sizeof(cmd), "useradd --no-create-home --shell /usr/sbin/nologin '%s'", test_user);
        return run(cmd) == 0 ? 0 : -1;
}

static int user_teardown(void **state) {
        char cmd[128];

        if (!test_user[0])
                return 0;
        snprintf(cmd, sizeof(cmd), "userdel '%s'", test_user);
        return run(cmd) == 0 ? 0 : -1;
}

static void creds_of(const char *user, EnvFileCredentials *c, gid_t *groups, int *n_groups) {
        struct passwd *pw = getpwnam(user);

        assert_non_null(pw);
        assert_true(getgrouplist(user, pw->pw_gid, groups, n_groups) >= 0);
        *c = (EnvFileCredentials) { .uid = pw->pw_uid,
                                    .gid = pw->pw_gid,
                                    .groups = groups,
                                    .n_groups = (size_t) *n_groups };
}

static void assert_own_credentials(uid_t uid, gid_t gid, int n_groups, const gid_t *groups) {
        gid_t now[64];
        int n = getgroups(ELEMENTSOF(now), now);

        assert_int_equal(n, n_groups);
        assert_memory_equal(now, groups, (size_t) n * sizeof(gid_t));
        assert_int_equal(geteuid(), uid);
        assert_int_equal(getegid(), gid);
}

static void test_read_as_user(_unused_ void **state) {
        _cleanup_strv_free_ char **env = NULL;
        char secret[128], shared[128], link[128], group_file[128];
        gid_t groups[64], own[64];
        int n_groups = ELEMENTSOF(groups), n_own;
        EnvFileCredentials c;
        EnvFileError e;
        Dir d;

        if (geteuid() != 0)
                skip();
        /* root's supplementary groups hold root's group, so that the
         * group-readable file below tells whether they were swapped too */
        gid_t root_group = 0;
        assert_int_equal(setgroups(1, &root_group), 0);
        n_own = getgroups(ELEMENTSOF(own), own);
        assert_true(n_own >= 0);
        creds_of(test_user, &c, groups, &n_groups);
        dir_make(&d);

        dir_file(&d, "secret.env", secret, sizeof(secret));
        write_file(secret, "SECRET=root-only\n", 0600);
        dir_file(&d, "shared.env", shared, sizeof(shared));
        write_file(shared, "SHARED=yes\n", 0644);
        /* root's group may read it: the user's groups count, not root's */
        dir_file(&d, "group.env", group_file, sizeof(group_file));
        write_file(group_file, "GROUP=root\n", 0640);

        assert_int_equal(env_file_load(shared, &c, &env, &e), 0);
        assert_strv_equal(env, (const char *const[]) { "SHARED=yes", NULL });
        env = strv_free(env);
        assert_int_equal(env_file_load(secret, &c, &env, &e), -EACCES);
        assert_int_equal(env_file_load(group_file, &c, &env, &e), -EACCES);

        /* the user's own symlink to root's file does not hand it over */
        dir_file(&d, "link.env", link, sizeof(link));
        assert_int_equal(symlink(secret, link), 0);
        assert_int_equal(lchown(link, c.uid, c.gid), 0);
        assert_int_equal(env_file_load(link, &c, &env, &e), -EACCES);

        /* afterwards we are ourselves again, and root reads both */
        assert_own_credentials(0, 0, n_own, own);
        assert_int_equal(env_file_load(link, /* creds= */ NULL, &env, &e), 0);
        assert_strv_equal(env, (const char *const[]) { "SECRET=root-only", NULL });
        env = strv_free(env);
        EnvFileCredentials root = { .uid = 0, .gid = 0 };
        assert_int_equal(env_file_load(secret, &root, &env, &e), 0);
        dir_remove(&d);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_table), cmocka_unit_test(test_parse_errors),
                cmocka_unit_test(test_parse_nul),   cmocka_unit_test(test_name_is_valid),
                cmocka_unit_test(test_read_plain),  cmocka_unit_test(test_read_as_user),
        };

        return cmocka_run_group_tests(tests, user_setup, user_teardown);
}
