/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Environment files: KEY=VALUE lines read the way systemd's
 * EnvironmentFile= reads them (systemd.exec(5), src/basic/env-file.c):
 *
 *   - blank lines, and lines whose first non-blank character is '#' or ';'
 *     are ignored (a backslash at the end of a comment does not continue
 *     it, as since systemd 254); a line without '=' is ignored too;
 *   - blanks around the key and around an unquoted value are dropped,
 *     blanks inside an unquoted value are kept; in an unquoted value a
 *     backslash keeps the next character, and a backslash at the end of a
 *     line joins the next line (the newline is dropped);
 *   - 'single quotes' keep everything up to the next single quote, newlines
 *     included, with no escapes; "double quotes" keep everything but a
 *     backslash before one of " \ ` $ (which gives that character) or
 *     before a newline (dropped: a continuation); any other backslash is
 *     kept with the character after it; quoted and unquoted parts that
 *     follow each other are joined (A="x"'y' is xy);
 *   - a later assignment of a key replaces an earlier one; CR ends a line
 *     like LF.
 *
 * Stricter than systemd, so that a mistake is an error rather than a
 * variable that silently goes missing: a key must be a valid name
 * ([A-Za-z_][A-Za-z0-9_]*; systemd drops others with a warning, e.g. the
 * "export FOO=…" of shell files), an '=' with no key, an unterminated quote
 * (systemd takes the rest of the file), a NUL byte and invalid UTF-8 in a
 * key or value are errors with the line they are on. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* A larger file is refused: it all ends up in a child's environment. */
#define ENV_FILE_SIZE_MAX (1024U * 1024U)

typedef struct EnvFileError {
        unsigned line;      /* 1-based line the problem is on; 0 when none applies */
        const char *reason; /* static text, e.g. "unterminated double quote" */
} EnvFileError;

/* Parses len bytes of buf (which need not be NUL-terminated). Returns 0
 * with the assignments as a new vector of "KEY=VALUE" entries in *ret (in
 * the order of their first assignment; empty for a file without any),
 * -EBADMSG for a malformed file with *ret_error (if given) saying where
 * and why, -ENOMEM. Pure. */
int env_file_parse(const char *buf, size_t len, char ***ret, EnvFileError *ret_error);

/* Whose permissions the file is opened with. */
typedef struct EnvFileCredentials {
        uid_t uid;
        gid_t gid;
        const gid_t *groups; /* supplementary groups */
        size_t n_groups;
} EnvFileCredentials;

/* Reads the file at path (absolute or relative to the working directory)
 * into a NUL-terminated malloc'd buffer. When the caller runs as root and
 * creds names another user, the file is opened with that user's
 * file-system credentials (setfsuid(), setfsgid() and setgroups() around
 * the open(), restored right after; corrald has no threads of its own), so
 * that a service can read only what its own user could — a symlink swapped
 * in by that user cannot hand it a file of root's. Without creds (or for
 * uid 0) the file is opened as the caller. Symlinks are followed (as
 * systemd does: ".env -> .env.local" is common); the open does not block
 * (O_NONBLOCK: a FIFO is refused, not waited on).
 * Returns 0 with the buffer in *ret and its length in *ret_size (may be
 * NULL); -ENOENT no such file, -EACCES not readable by that user,
 * -EINVAL not a regular file, -EFBIG larger than ENV_FILE_SIZE_MAX,
 * -EPERM the credentials could not be taken, other -errno. */
int env_file_read(const char *path, const EnvFileCredentials *creds, char **ret, size_t *ret_size);

/* env_file_read() then env_file_parse(): 0 with the vector in *ret;
 * -EBADMSG with *ret_error set (line and reason), or the error of the
 * read with ret_error's line 0 and reason NULL. */
int env_file_load(const char *path, const EnvFileCredentials *creds, char ***ret, EnvFileError *ret_error);

/* Whether name (n bytes) is a valid variable name: [A-Za-z_][A-Za-z0-9_]*. */
bool env_file_name_is_valid(const char *name, size_t n);
