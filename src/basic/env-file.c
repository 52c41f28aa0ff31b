/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "env-file.h"

#include <fcntl.h>
#include <grp.h>
#include <stdint.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>

#include "fileio.h"
#include "macro.h"
#include "strv.h"

/* A growing string. */
typedef struct Buf {
        char *data;
        size_t n, allocated;
} Buf;

static int buf_push(Buf *b, char c) {
        if (b->n + 2 > b->allocated) {
                size_t n = MAX(b->allocated * 2, (size_t) 64);
                char *p = realloc(b->data, n);
                if (!p)
                        return -ENOMEM;
                b->data = p;
                b->allocated = n;
        }
        b->data[b->n++] = c;
        b->data[b->n] = '\0';
        return 0;
}

typedef enum EnvState {
        ENV_PRE_KEY, /* at the start of a line */
        ENV_KEY,
        ENV_PRE_VALUE, /* after '=', or after a quoted part */
        ENV_VALUE,     /* unquoted */
        ENV_VALUE_ESCAPE,
        ENV_SINGLE_QUOTE,
        ENV_DOUBLE_QUOTE,
        ENV_DOUBLE_QUOTE_ESCAPE,
        ENV_COMMENT,
} EnvState;

typedef struct EnvParser {
        EnvState state;
        unsigned line;       /* of the character being read */
        unsigned key_line;   /* where the assignment started */
        unsigned quote_line; /* where the open quote is */
        Buf key, value;
        size_t key_end;   /* key length without trailing blanks */
        size_t value_end; /* value length without trailing unquoted blanks */
        char **env;
        EnvFileError error;
} EnvParser;

static bool is_newline(char c) {
        return c == '\n' || c == '\r';
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t' || is_newline(c);
}

bool env_file_name_is_valid(const char *name, size_t n) {
        if (n == 0 || (name[0] >= '0' && name[0] <= '9'))
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = name[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
                        return false;
        }
        return true;
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF. */
static bool utf8_is_valid(const char *s, size_t n) {
        const unsigned char *p = (const unsigned char *) s, *end = p + n;

        while (p < end) {
                unsigned len = *p < 0x80             ? 1
                               : (*p & 0xe0) == 0xc0 ? 2
                               : (*p & 0xf0) == 0xe0 ? 3
                               : (*p & 0xf8) == 0xf0 ? 4
                                                     : 0;
                uint32_t cp;

                if (len == 0 || (size_t) (end - p) < len)
                        return false;
                cp = len == 1 ? *p : *p & (0x7f >> len);
                for (unsigned i = 1; i < len; i++) {
                        if ((p[i] & 0xc0) != 0x80)
                                return false;
                        cp = (cp << 6) | (p[i] & 0x3f);
                }
                if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
                    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                p += len;
        }
        return true;
}

static int parser_fail(EnvParser *p, unsigned line, const char *reason) {
        p->error = (EnvFileError) { .line = line, .reason = reason };
        return -EBADMSG;
}

/* One assignment is complete: checks it and sets it. */
static int parser_push(EnvParser *p) {
        const char *key = p->key.data ?: "";
        const char *value = p->value.data ?: "";
        _cleanup_free_ char *entry = NULL;
        size_t nk = p->key_end;

        if (nk == 0)
                return parser_fail(p, p->key_line, "an assignment without a variable name");
        if (nk > 7 && strneq(key, "export", 6) && (key[6] == ' ' || key[6] == '\t'))
                return parser_fail(p, p->key_line,
                                   "\"export\" is not part of the format (nor of systemd's EnvironmentFile=): "
                                   "write KEY=VALUE");
        if (!env_file_name_is_valid(key, nk))
                return parser_fail(p, p->key_line, "invalid variable name (letters, digits and _, not first a digit)");
        if (!utf8_is_valid(value, p->value.n))
                return parser_fail(p, p->key_line, "invalid UTF-8 in the value");
        if (asprintf(&entry, "%.*s=%s", (int) nk, key, value) < 0)
                return -ENOMEM;
        int r = strv_env_set(&p->env, entry);
        p->key.n = p->value.n = p->key_end = p->value_end = 0;
        if (p->key.data)
                p->key.data[0] = '\0';
        if (p->value.data)
                p->value.data[0] = '\0';
        return r;
}

static void parser_forget_key(EnvParser *p) {
        p->key.n = p->key_end = 0;
}

static int parser_pre_key(EnvParser *p, char c) {
        if (c == '#' || c == ';')
                p->state = ENV_COMMENT;
        else if (c == '=') {
                p->key_line = p->line;
                p->key_end = 0;
                return parser_push(p); /* fails: no name */
        } else if (!is_blank(c)) {
                p->state = ENV_KEY;
                p->key_line = p->line;
                p->key_end = 1;
                return buf_push(&p->key, c);
        }
        return 0;
}

static int parser_key(EnvParser *p, char c) {
        if (is_newline(c)) {
                /* no '=' on the line: ignored, as systemd does */
                p->state = ENV_PRE_KEY;
                parser_forget_key(p);
                return 0;
        }
        if (c == '=') {
                p->state = ENV_PRE_VALUE;
                p->value.n = p->value_end = 0;
                return 0;
        }
        int r = buf_push(&p->key, c);
        if (r >= 0 && !is_blank(c))
                p->key_end = p->key.n;
        return r;
}

/* Appends c to the value; unquoted blanks may be trailing, so they do not
 * move value_end. */
static int parser_value_push(EnvParser *p, char c, bool counts) {
        int r = buf_push(&p->value, c);

        if (r >= 0 && counts)
                p->value_end = p->value.n;
        return r;
}

static int parser_end_value(EnvParser *p) {
        p->state = ENV_PRE_KEY;
        p->value.n = p->value_end;
        if (p->value.data)
                p->value.data[p->value.n] = '\0';
        return parser_push(p);
}

static int parser_pre_value(EnvParser *p, char c) {
        if (is_newline(c))
                return parser_end_value(p);
        if (c == '\'' || c == '"') {
                p->state = c == '\'' ? ENV_SINGLE_QUOTE : ENV_DOUBLE_QUOTE;
                p->quote_line = p->line;
                return 0;
        }
        if (c == '\\') {
                p->state = ENV_VALUE_ESCAPE;
                return 0;
        }
        if (is_blank(c))
                return 0;
        p->state = ENV_VALUE;
        return parser_value_push(p, c, /* counts= */ true);
}

static int parser_value(EnvParser *p, char c) {
        if (is_newline(c))
                return parser_end_value(p);
        if (c == '\\') {
                /* blanks before a continuation are kept, as by systemd */
                p->value_end = p->value.n;
                p->state = ENV_VALUE_ESCAPE;
                return 0;
        }
        return parser_value_push(p, c, /* counts= */ !is_blank(c));
}

/* A backslash keeps what follows; before a newline it joins the lines. */
static int parser_value_escape(EnvParser *p, char c) {
        p->state = ENV_VALUE;
        if (is_newline(c))
                return 0;
        return parser_value_push(p, c, /* counts= */ true);
}

static int parser_single_quote(EnvParser *p, char c) {
        if (c == '\'') {
                p->state = ENV_PRE_VALUE;
                return 0;
        }
        return parser_value_push(p, c, /* counts= */ true);
}

static int parser_double_quote(EnvParser *p, char c) {
        if (c == '"') {
                p->state = ENV_PRE_VALUE;
                return 0;
        }
        if (c == '\\') {
                p->state = ENV_DOUBLE_QUOTE_ESCAPE;
                return 0;
        }
        return parser_value_push(p, c, /* counts= */ true);
}

/* As a POSIX shell in double quotes: \" \\ \` \$ give the character, a
 * backslash-newline is dropped, any other backslash stays. */
static int parser_double_quote_escape(EnvParser *p, char c) {
        p->state = ENV_DOUBLE_QUOTE;
        if (c == '\n')
                return 0;
        if (!strchr("\"\\`$", c)) {
                int r = parser_value_push(p, '\\', /* counts= */ true);
                if (r < 0)
                        return r;
        }
        return parser_value_push(p, c, /* counts= */ true);
}

static int parser_feed(EnvParser *p, char c) {
        switch (p->state) {
        case ENV_PRE_KEY:
                return parser_pre_key(p, c);
        case ENV_KEY:
                return parser_key(p, c);
        case ENV_PRE_VALUE:
                return parser_pre_value(p, c);
        case ENV_VALUE:
                return parser_value(p, c);
        case ENV_VALUE_ESCAPE:
                return parser_value_escape(p, c);
        case ENV_SINGLE_QUOTE:
                return parser_single_quote(p, c);
        case ENV_DOUBLE_QUOTE:
                return parser_double_quote(p, c);
        case ENV_DOUBLE_QUOTE_ESCAPE:
                return parser_double_quote_escape(p, c);
        case ENV_COMMENT:
                if (is_newline(c))
                        p->state = ENV_PRE_KEY;
                return 0;
        }
        return -EINVAL;
}

/* The end of the buffer ends the last line. */
static int parser_finish(EnvParser *p) {
        switch (p->state) {
        case ENV_SINGLE_QUOTE:
                return parser_fail(p, p->quote_line, "unterminated single quote");
        case ENV_DOUBLE_QUOTE:
        case ENV_DOUBLE_QUOTE_ESCAPE:
                return parser_fail(p, p->quote_line, "unterminated double quote");
        case ENV_PRE_VALUE:
        case ENV_VALUE:
        case ENV_VALUE_ESCAPE:
                return parser_end_value(p);
        default:
                return 0;
        }
}

static void parser_done(EnvParser *p) {
        free(p->key.data);
        free(p->value.data);
        strv_free(p->env);
}

int env_file_parse(const char *buf, size_t len, char ***ret, EnvFileError *ret_error) {
        _cleanup_(parser_done) EnvParser p = { .state = ENV_PRE_KEY, .line = 1 };
        int r = 0;

        for (size_t i = 0; i < len && r >= 0; i++) {
                if (buf[i] == '\0')
                        r = parser_fail(&p, p.line, "a NUL byte");
                else
                        r = parser_feed(&p, buf[i]);
                if (buf[i] == '\n')
                        p.line++;
        }
        if (r >= 0)
                r = parser_finish(&p);
        if (r >= 0 && !p.env && !(p.env = calloc(1, sizeof(char *))))
                r = -ENOMEM;
        if (r < 0) {
                if (r == -EBADMSG && ret_error)
                        *ret_error = p.error;
                return r;
        }
        *ret = TAKE_PTR(p.env);
        return 0;
}

/* ---- Reading ---- */

static int open_plain(const char *path) {
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

        return fd < 0 ? -errno : fd;
}

/* The caller's own groups, to put back. */
static int groups_save(gid_t **ret, size_t *ret_n) {
        int n = getgroups(0, NULL);
        gid_t *l;

        if (n < 0)
                return -errno;
        l = calloc((size_t) n + 1, sizeof(gid_t));
        if (!l)
                return -ENOMEM;
        n = getgroups(n, l);
        if (n < 0) {
                free(l);
                return -errno;
        }
        *ret = l;
        *ret_n = (size_t) n;
        return 0;
}

/* setfsuid()/setfsgid() say only what the old value was: asking again
 * (with an invalid id, which changes nothing) tells whether it took. */
static bool fsuid_is(uid_t uid) {
        return (uid_t) setfsuid((uid_t) -1) == uid;
}

static bool fsgid_is(gid_t gid) {
        return (gid_t) setfsgid((gid_t) -1) == gid;
}

/* Opens path with the file-system credentials of creds. A change of the
 * fsuid from 0 drops CAP_DAC_OVERRIDE and friends from the effective set;
 * the change back to 0 restores them (capabilities(7)). */
static int open_as(const char *path, const EnvFileCredentials *creds) {
        _cleanup_free_ gid_t *saved = NULL;
        size_t n_saved = 0;
        uid_t old_uid;
        gid_t old_gid;
        int fd, r;

        r = groups_save(&saved, &n_saved);
        if (r < 0)
                return r;
        if (setgroups(creds->n_groups, creds->groups) < 0)
                return -errno;
        old_gid = (gid_t) setfsgid(creds->gid);
        old_uid = (uid_t) setfsuid(creds->uid);
        if (fsuid_is(creds->uid) && fsgid_is(creds->gid))
                fd = open_plain(path);
        else
                fd = -EPERM;
        (void) setfsuid(old_uid);
        (void) setfsgid(old_gid);
        if (setgroups(n_saved, saved) < 0 || !fsuid_is(old_uid) || !fsgid_is(old_gid)) {
                /* Not back to our own credentials: nothing else may run so. */
                safe_close(fd);
                abort();
        }
        return fd;
}

int env_file_read(const char *path, const EnvFileCredentials *creds, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        if (creds && creds->uid != 0 && geteuid() == 0)
                fd = open_as(path, creds);
        else
                fd = open_plain(path);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        if ((uintmax_t) st.st_size > ENV_FILE_SIZE_MAX)
                return -EFBIG;
        return read_full_fd(fd, ENV_FILE_SIZE_MAX, ret, ret_size);
}

int env_file_load(const char *path, const EnvFileCredentials *creds, char ***ret, EnvFileError *ret_error) {
        _cleanup_free_ char *buf = NULL;
        size_t n = 0;
        int r;

        r = env_file_read(path, creds, &buf, &n);
        if (r < 0) {
                if (ret_error)
                        *ret_error = (EnvFileError) {};
                return r;
        }
        return env_file_parse(buf, n, ret, ret_error);
}
