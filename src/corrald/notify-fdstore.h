/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* systemd's file descriptor store (sd_notify(3) FDSTORE=1), for the read
 * ends of units' output pipes: systemd keeps them while corrald is gone
 * (a crash, Restart=on-failure), so that a unit that outlives corrald and
 * writes meets a pipe that is still open, and the restarted corrald gets
 * them back as LISTEN_FDS with their names (sd_listen_fds_with_names()).
 *
 * A stored pipe is named "corral.UNIT.STREAM.INODE": the unit, the stream
 * (stdout, stderr) and the pipe's inode, which is also in the unit's
 * user.corral. A unit name never has a '.', so the name parses back; the
 * inode names one pipe, so an entry of an earlier run is never given to a
 * later one. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* The longest FDNAME systemd takes. */
#define FD_STORE_NAME_MAX 255

/* What systemd accepts as FDNAME: 1 to 255 printable ASCII characters,
 * no ':' (LISTEN_FDNAMES' separator). Pure. */
bool fd_store_name_is_valid(const char *name);

/* "corral.UNIT.STREAM.INODE" into buf (size bytes). Pure. Returns 0,
 * -EINVAL (an empty unit or stream, one with '.', or a name systemd would
 * refuse; inode 0), -ENAMETOOLONG (longer than FD_STORE_NAME_MAX or than
 * buf). */
int fd_store_output_name(const char *unit, const char *stream, uint64_t inode, char *buf, size_t size);

typedef struct FdStoreOutputName {
        char unit[FD_STORE_NAME_MAX + 1];
        char stream[FD_STORE_NAME_MAX + 1];
        uint64_t inode;
} FdStoreOutputName;

/* The reverse of fd_store_output_name(). Pure. Returns 0 or -EINVAL (not
 * such a name). */
int fd_store_output_parse(const char *name, FdStoreOutputName *ret);

typedef struct FdStore FdStore;

/* Takes the descriptors that systemd passed (LISTEN_PID, LISTEN_FDS,
 * LISTEN_FDNAMES; the variables are unset, the descriptors, from
 * SD_LISTEN_FDS_START on, get FD_CLOEXEC). Storing is on when
 * NOTIFY_SOCKET is set (under systemd); otherwise fd_store_add() and
 * fd_store_remove() do nothing. To be called before anything else opens
 * a descriptor. Returns 0 or -ENOMEM. */
int fd_store_new(FdStore **ret);

/* Closes the descriptors not taken (they stay in systemd's store). Accepts
 * NULL; returns NULL. */
FdStore *fd_store_free(FdStore *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(FdStore *, fd_store_free);

bool fd_store_enabled(const FdStore *s);

/* Hands a copy of fd to systemd under name (FDSTORE=1). Returns 1 sent,
 * 0 storing is off, -errno of sendmsg(). */
int fd_store_add(FdStore *s, const char *name, int fd);

/* Drops every descriptor named name from systemd's store
 * (FDSTOREREMOVE=1). Returns as fd_store_add(). */
int fd_store_remove(FdStore *s, const char *name);

/* The descriptor that systemd passed under name, now the caller's;
 * -ENOENT if there is none (left). */
int fd_store_take(FdStore *s, const char *name);

/* Closes every descriptor not taken, and removes the output pipes among
 * them from systemd's store: for after adoption, when no unit claimed
 * them (their unit is gone, or starts afresh). Returns how many. */
size_t fd_store_release_unclaimed(FdStore *s);
