/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The control socket's file: its directory checked, the socket bound there
 * with its final mode and owner, removed again at exit. */

#include <stdbool.h>
#include <sys/types.h>

/* Creates the listening socket at the absolute path (its missing parent
 * directories 0755). Every directory on the way must be one that nobody
 * else can change: owned by root or by us, and writable by no one else
 * (group or others) unless it is sticky and owned by root, like /tmp;
 * otherwise another user could swap the socket for a symlink, or for a
 * socket of their own, and corrald refuses it with a message naming the
 * directory. The socket is bound under the umask that gives it mode at
 * once, in the very directory checked (through its fd), and when gid is
 * not (gid_t) -1 given to root:gid without following a symlink, all
 * before listen(): nobody connects while it has another mode or owner.
 * Returns 0 with the socket (SOCK_NONBLOCK, SOCK_CLOEXEC) in *ret_fd and
 * an O_PATH fd of its directory in *ret_dir_fd; -EADDRINUSE when another
 * process listens there; -EPERM for a directory refused; -ENAMETOOLONG;
 * -errno. */
int control_socket_open(const char *path, mode_t mode, gid_t gid, int *ret_fd, int *ret_dir_fd);

/* Removes the socket file at path from its directory dir_fd (from
 * control_socket_open()), if it is still a socket. */
void control_socket_remove(int dir_fd, const char *path);
