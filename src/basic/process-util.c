/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "process-util.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "parse-util.h"

/* /proc/PID/stat is about 300 bytes; comm is bounded by the kernel. */
#define PROC_STAT_MAX 4096

/* The end of field 2: the last ')' of buf, checked to close a '(' that
 * follows the PID. NULL when there is none. */
static const char *proc_stat_comm_end(const char *buf) {
        const char *open = strchr(buf, '('), *close = strrchr(buf, ')');

        if (!open || !close || close < open)
                return NULL;
        return close;
}

int proc_stat_field(const char *buf, unsigned field, const char **ret_start, size_t *ret_len) {
        const char *p = proc_stat_comm_end(buf);
        size_t n;

        if (field < 3)
                return -EINVAL;
        if (!p)
                return -EBADMSG;
        p++; /* at the blank before field 3 */
        for (unsigned f = 3;; f++) {
                if (*p != ' ')
                        return -EBADMSG;
                p++;
                n = strcspn(p, " \n");
                if (n == 0)
                        return -EBADMSG;
                if (f == field)
                        break;
                p += n;
        }
        *ret_start = p;
        *ret_len = n;
        return 0;
}

/* Field `field` of /proc/PID/stat as a decimal number. */
static int proc_stat_field_u64(const char *buf, unsigned field, uint64_t *ret) {
        const char *p;
        size_t n;
        int r;

        r = proc_stat_field(buf, field, &p, &n);
        if (r < 0)
                return r;
        return safe_atou64_n(p, n, 10, ret) < 0 ? -EBADMSG : 0;
}

int proc_stat_parse_comm(const char *buf, char **ret) {
        const char *close = proc_stat_comm_end(buf), *open;
        char *s;

        if (!close)
                return -EBADMSG;
        open = strchr(buf, '(');
        s = strndup(open + 1, (size_t) (close - open - 1));
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int proc_stat_parse_ppid(const char *buf, pid_t *ret) {
        uint64_t v;
        int r;

        r = proc_stat_field_u64(buf, 4, &v);
        if (r < 0)
                return r;
        if (v > INT_MAX)
                return -EBADMSG;
        *ret = (pid_t) v;
        return 0;
}

int proc_stat_parse_start_time(const char *buf, uint64_t *ret) {
        return proc_stat_field_u64(buf, 22, ret);
}

int proc_statm_parse_rss(const char *buf, uint64_t *ret_pages) {
        const char *p = buf + strcspn(buf, " \n");
        size_t n;

        if (p == buf || *p != ' ')
                return -EBADMSG;
        p++;
        n = strcspn(p, " \n");
        if (safe_atou64_n(p, n, 10, ret_pages) < 0)
                return -EBADMSG;
        return 0;
}

int proc_cmdline_to_string(const char *buf, size_t n, char **ret) {
        char *s;

        while (n > 0 && buf[n - 1] == '\0')
                n--;
        if (n == 0)
                return -ENODATA;
        s = malloc(n + 1);
        if (!s)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                s[i] = buf[i] == '\0' ? ' ' : buf[i];
        s[n] = '\0';
        *ret = s;
        return 0;
}

/* Reads /proc/PID/file (at most max bytes, cut when `cut`, else -EFBIG
 * beyond) and then verifies that p still is the process it names. */
static int pidref_read_proc(const PidRef *p, const char *file, size_t max, bool cut, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        char path[64];
        size_t size;
        int r;

        if (!pidref_is_set(p))
                return -ESRCH;
        snprintf(path, sizeof(path), "/proc/%d/%s", p->pid, file);
        r = cut ? read_file_prefix_at(AT_FDCWD, path, max, &buf, &size)
                : read_full_file_at(AT_FDCWD, path, max, &buf, &size);
        if (r == -ENOENT || r == -ESRCH) /* ESRCH: a read of a task that has gone */
                return -ESRCH;
        if (r < 0)
                return r;
        r = pidref_verify(p);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = size;
        return 0;
}

int pidref_get_ppid(const PidRef *p, pid_t *ret) {
        _cleanup_free_ char *buf = NULL;
        int r;

        r = pidref_read_proc(p, "stat", PROC_STAT_MAX, /* cut= */ false, &buf, /* ret_size= */ NULL);
        if (r < 0)
                return r;
        return proc_stat_parse_ppid(buf, ret);
}

int pidref_get_comm(const PidRef *p, char **ret) {
        _cleanup_free_ char *buf = NULL;
        int r;

        r = pidref_read_proc(p, "stat", PROC_STAT_MAX, /* cut= */ false, &buf, /* ret_size= */ NULL);
        if (r < 0)
                return r;
        return proc_stat_parse_comm(buf, ret);
}

int pidref_get_cmdline(const PidRef *p, size_t max, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t size;
        int r;

        r = pidref_read_proc(p, "cmdline", max, /* cut= */ true, &buf, &size);
        if (r < 0)
                return r;
        return proc_cmdline_to_string(buf, size, ret);
}

int pidref_get_rss(const PidRef *p, uint64_t *ret_bytes) {
        _cleanup_free_ char *buf = NULL;
        uint64_t pages, page_size = (uint64_t) sysconf(_SC_PAGESIZE);
        int r;

        r = pidref_read_proc(p, "statm", PROC_STAT_MAX, /* cut= */ false, &buf, /* ret_size= */ NULL);
        if (r < 0)
                return r;
        r = proc_statm_parse_rss(buf, &pages);
        if (r < 0)
                return r;
        if (pages > UINT64_MAX / page_size)
                return -EBADMSG;
        *ret_bytes = pages * page_size;
        return 0;
}

int pidref_get_start_time(const PidRef *p, uint64_t *ret) {
        _cleanup_free_ char *buf = NULL;
        int r;

        r = pidref_read_proc(p, "stat", PROC_STAT_MAX, /* cut= */ false, &buf, /* ret_size= */ NULL);
        if (r < 0)
                return r;
        return proc_stat_parse_start_time(buf, ret);
}

int pid_get_start_time(pid_t pid, uint64_t *ret) {
        _cleanup_free_ char *buf = NULL;
        char path[64];
        int r;

        if (pid <= 0)
                return -ESRCH;
        snprintf(path, sizeof(path), "/proc/%d/stat", pid);
        r = read_full_file_at(AT_FDCWD, path, PROC_STAT_MAX, &buf, NULL);
        if (r == -ENOENT || r == -ESRCH)
                return -ESRCH;
        if (r < 0)
                return r;
        return proc_stat_parse_start_time(buf, ret);
}
