/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "notify-fdstore.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "log.h"
#include "parse-util.h"
#include "strv.h"

#define FD_STORE_PREFIX "corral."

bool fd_store_name_is_valid(const char *name) {
        size_t n = 0;

        for (const char *p = name; *p; p++, n++)
                if (*p == ':' || *p < 0x20 || *p > 0x7e)
                        return false;
        return n > 0 && n <= FD_STORE_NAME_MAX;
}

static bool fd_store_part_is_valid(const char *s) {
        return *s && !strchr(s, '.') && fd_store_name_is_valid(s);
}

int fd_store_output_name(const char *unit, const char *stream, uint64_t inode, char *buf, size_t size) {
        int n;

        if (!fd_store_part_is_valid(unit) || !fd_store_part_is_valid(stream) || inode == 0)
                return -EINVAL;
        n = snprintf(buf, size, FD_STORE_PREFIX "%s.%s.%llu", unit, stream, (unsigned long long) inode);
        if (n < 0)
                return -EINVAL;
        if ((size_t) n >= size || n > FD_STORE_NAME_MAX)
                return -ENAMETOOLONG;
        return 0;
}

int fd_store_output_parse(const char *name, FdStoreOutputName *ret) {
        const char *unit, *dot_ino, *dot_stream;
        size_t len;
        uint64_t inode;

        if (!fd_store_name_is_valid(name) || strncmp(name, FD_STORE_PREFIX, strlen(FD_STORE_PREFIX)) != 0)
                return -EINVAL;
        unit = name + strlen(FD_STORE_PREFIX);
        dot_ino = strrchr(unit, '.');
        if (!dot_ino || dot_ino == unit)
                return -EINVAL;
        len = strlen(dot_ino + 1);
        if (len == 0 || strspn(dot_ino + 1, "0123456789") != len || safe_atou64_n(dot_ino + 1, len, 10, &inode) < 0 ||
            inode == 0)
                return -EINVAL;
        dot_stream = NULL;
        for (const char *p = dot_ino - 1; p >= unit; p--)
                if (*p == '.') {
                        dot_stream = p;
                        break;
                }
        if (!dot_stream || dot_stream == unit || dot_stream + 1 == dot_ino ||
            memchr(unit, '.', (size_t) (dot_stream - unit)))
                return -EINVAL;
        *ret = (FdStoreOutputName) { .inode = inode };
        memcpy(ret->unit, unit, (size_t) (dot_stream - unit));
        memcpy(ret->stream, dot_stream + 1, (size_t) (dot_ino - dot_stream - 1));
        return 0;
}

struct FdStore {
        bool enabled;
        size_t n;
        int *fds;     /* -EBADF once taken */
        char **names; /* n of them */
};

int fd_store_new(FdStore **ret) {
        _cleanup_(fd_store_freep) FdStore *s = NULL;
        char **names = NULL;
        int n;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->enabled = !!getenv("NOTIFY_SOCKET");
        n = sd_listen_fds_with_names(/* unset_environment= */ 1, &names);
        if (n < 0) {
                log_warning_errno(n, "cannot take the descriptors systemd passed (LISTEN_FDS): %m, ignoring");
                n = 0;
        }
        if (n > 0) {
                s->fds = calloc((size_t) n, sizeof(int));
                if (!s->fds) {
                        for (int i = 0; i < n; i++)
                                (void) close(SD_LISTEN_FDS_START + i);
                        strv_free(names);
                        return -ENOMEM;
                }
                for (int i = 0; i < n; i++)
                        s->fds[i] = SD_LISTEN_FDS_START + i;
                s->n = (size_t) n;
                s->names = names;
        } else
                strv_free(names);
        *ret = TAKE_PTR(s);
        return 0;
}

FdStore *fd_store_free(FdStore *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n; i++)
                safe_close(s->fds[i]);
        free(s->fds);
        strv_free(s->names);
        return mfree(s);
}

bool fd_store_enabled(const FdStore *s) {
        return s && s->enabled;
}

int fd_store_add(FdStore *s, const char *name, int fd) {
        char msg[64 + FD_STORE_NAME_MAX];

        if (!fd_store_enabled(s))
                return 0;
        if (!fd_store_name_is_valid(name))
                return -EINVAL;
        (void) snprintf(msg, sizeof(msg), "FDSTORE=1\nFDNAME=%s", name);
        return sd_pid_notify_with_fds(0, /* unset_environment= */ 0, msg, &fd, 1);
}

int fd_store_remove(FdStore *s, const char *name) {
        char msg[64 + FD_STORE_NAME_MAX];

        if (!fd_store_enabled(s))
                return 0;
        if (!fd_store_name_is_valid(name))
                return -EINVAL;
        (void) snprintf(msg, sizeof(msg), "FDSTOREREMOVE=1\nFDNAME=%s", name);
        return sd_notify(/* unset_environment= */ 0, msg);
}

int fd_store_take(FdStore *s, const char *name) {
        for (size_t i = 0; s && i < s->n; i++)
                if (s->fds[i] >= 0 && s->names && s->names[i] && streq(s->names[i], name)) {
                        int fd = s->fds[i];
                        s->fds[i] = -EBADF;
                        return fd;
                }
        return -ENOENT;
}

size_t fd_store_release_unclaimed(FdStore *s) {
        size_t n = 0;

        for (size_t i = 0; s && i < s->n; i++) {
                const char *name = s->names && s->names[i] ? s->names[i] : "unknown";
                FdStoreOutputName o;

                if (s->fds[i] < 0)
                        continue;
                if (fd_store_output_parse(name, &o) >= 0) {
                        log_unit_info(o.unit, LOG_EVENT_NONE,
                                      "the %s pipe systemd kept for an earlier run is not needed: closing it",
                                      o.stream);
                        (void) fd_store_remove(s, name);
                } else
                        log_notice("descriptor %d (%s) from systemd is not corrald's: closing it", s->fds[i], name);
                s->fds[i] = safe_close(s->fds[i]);
                n++;
        }
        return n;
}
