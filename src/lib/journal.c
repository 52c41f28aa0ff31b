/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The last journal lines of a unit, read on the client side as systemctl
 * status does: corrald's own entries about it (CORRAL_UNIT=) and its
 * output (SYSLOG_IDENTIFIER=, with output = journal). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "journal-dlopen.h"

#include "corral/corral.h"
#include "macro.h"

/* The value of field in the current entry, NUL-terminated, or NULL. */
static char *entry_field(sd_journal *j, const char *field) {
        const void *data;
        size_t len, flen = strlen(field);

        if (sym_sd_journal_get_data(j, field, &data, &len) < 0 || len <= flen + 1)
                return NULL;
        return strndup((const char *) data + flen + 1, len - flen - 1);
}

static int entry_line(sd_journal *j, char **ret) {
        _cleanup_free_ char *msg = entry_field(j, "MESSAGE"), *ident = entry_field(j, "SYSLOG_IDENTIFIER"),
                            *pid = entry_field(j, "_PID");
        uint64_t usec = 0;
        char stamp[32] = "?";
        struct tm tm;

        if (!msg)
                return 0;
        if (sym_sd_journal_get_realtime_usec(j, &usec) >= 0) {
                time_t sec = (time_t) (usec / 1000000);
                if (localtime_r(&sec, &tm))
                        strftime(stamp, sizeof(stamp), "%b %d %H:%M:%S", &tm);
        }
        if (asprintf(ret, "%s %s[%s]: %s", stamp, ident ?: "?", pid ?: "?", msg) < 0)
                return -ENOMEM;
        return 1;
}

int corral_journal_tail(const char *unit, unsigned n, char ***ret_lines) {
        sd_journal *j = NULL;
        char **lines;
        size_t k = 0;
        char *m1 = NULL, *m2 = NULL;
        int r;

        if (!unit || !ret_lines || n == 0 || n > 1000)
                return -EINVAL;
        r = journal_dlopen();
        if (r < 0)
                return r;
        lines = calloc(n + 1, sizeof(char *));
        if (!lines)
                return -ENOMEM;
        r = sym_sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY);
        if (r >= 0 && (asprintf(&m1, "CORRAL_UNIT=%s", unit) < 0 || asprintf(&m2, "SYSLOG_IDENTIFIER=%s", unit) < 0))
                r = -ENOMEM;
        if (r >= 0)
                r = sym_sd_journal_add_match(j, m1, 0);
        if (r >= 0)
                r = sym_sd_journal_add_disjunction(j);
        if (r >= 0)
                r = sym_sd_journal_add_match(j, m2, 0);
        if (r >= 0)
                r = sym_sd_journal_seek_tail(j);
        /* newest first, then reversed */
        while (r >= 0 && k < n && sym_sd_journal_previous(j) > 0) {
                char *line = NULL;
                int q = entry_line(j, &line);
                if (q < 0)
                        r = q;
                else if (q > 0)
                        lines[k++] = line;
        }
        free(m1);
        free(m2);
        sym_sd_journal_close(j);
        if (r < 0) {
                for (size_t i = 0; i < k; i++)
                        free(lines[i]);
                free(lines);
                return r;
        }
        for (size_t i = 0; i < k / 2; i++) {
                char *t = lines[i];
                lines[i] = lines[k - 1 - i];
                lines[k - 1 - i] = t;
        }
        *ret_lines = lines;
        return (int) k;
}

void corral_strv_free(char **lines) {
        for (char **p = lines; p && *p; p++)
                free(*p);
        free(lines);
}
