/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <sys/stat.h>

/* Reads all of the file path relative to dirfd (AT_FDCWD for the current
 * directory) into a NUL-terminated malloc'd buffer. Returns 0 with the
 * buffer in *ret and its length (without the NUL) in *ret_size (may be
 * NULL); -EFBIG when the file holds more than max bytes; -errno otherwise.
 * Works for files whose size stat() cannot tell (procfs, cgroupfs). */
int read_full_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_size);

/* The same, but a file longer than max is cut at max bytes instead of
 * failing (for /proc/PID/cmdline, which can be as long as the arguments
 * were). -EINVAL for max SIZE_MAX. */
int read_file_prefix_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_size);

/* The same for an open fd, read from where it stands to its end. */
int read_full_fd(int fd, size_t max, char **ret, size_t *ret_size);

/* Writes s to the existing file path relative to dirfd in one write(), as
 * kernel interface files want. Returns 0 or -errno. */
int write_string_file_at(int dirfd, const char *path, const char *s);

/* Creates the missing parents of path, mode 0755. 0 or -errno. */
int mkdir_parents(const char *path);

/* Opens directory path (made with mode, parents 0755, when missing)
 * without following a symbolic link, for a file only we may put there:
 * it must belong to our effective uid and be writable by nobody else.
 * Returns 0 with the fd in *ret_fd; -ELOOP (a symbolic link), -ENOTDIR,
 * -EPERM (another owner, or writable by group or others: *ret_st says
 * which), -errno. *ret_st (may be NULL) is filled whenever it was read. */
int dir_open_private(const char *path, mode_t mode, int *ret_fd, struct stat *ret_st);

/* A small file of the kernel (a cgroup attribute, a /proc file) in one
 * read() into buf (size bytes, at most a page; NUL-terminated). A
 * seq_file's read() of less than a page fills the buffer unless the file
 * ends; slack is room for a record (a line) it might still hold back
 * (0 for a file of one record, as single_open() ones are): a read that
 * leaves more than slack bytes free read it all. Returns 0 with its
 * length in *ret_len (may be NULL), -EFBIG when it may not have (the
 * caller reads it whole another way), -errno. */
int read_small_file_at(int dirfd, const char *path, char *buf, size_t size, size_t slack, size_t *ret_len);
