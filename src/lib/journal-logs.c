/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The output of units whose output goes to the journal, read on this side
 * (SYSLOG_IDENTIFIER= the unit's name, as corrald's journal streams set
 * it), as lines of the same shape as corrald's. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "journal-dlopen.h"

#include "logs-internal.h"
#include "macro.h"
#include "utf8-bytes.h"

struct corral_journal_follow {
        sd_journal *j;
};

/* The value of field in the current entry (not NUL-terminated). */
static int entry_field(sd_journal *j, const char *field, const char **ret, size_t *ret_len) {
        const void *data;
        size_t len, flen = strlen(field);
        int r = sym_sd_journal_get_data(j, field, &data, &len);

        if (r < 0)
                return r;
        if (len <= flen)
                return -EBADMSG;
        *ret = (const char *) data + flen + 1;
        *ret_len = len - flen - 1;
        return 0;
}

/* The current entry as a line. Returns 1 with it, 0 for an entry without
 * MESSAGE or identifier (skipped), -ENOMEM. */
static int entry_to_line(sd_journal *j, corral_log_line **ret) {
        _cleanup_free_ char *unit = NULL, *text = NULL;
        json_auto_t *obj = NULL;
        const char *p;
        size_t n;
        uint64_t usec = 0;

        if (entry_field(j, "SYSLOG_IDENTIFIER", &p, &n) < 0)
                return 0;
        if (utf8_sanitize(p, n, &unit) < 0)
                return -ENOMEM;
        if (entry_field(j, "MESSAGE", &p, &n) < 0)
                return 0;
        if (utf8_sanitize(p, n, &text) < 0)
                return -ENOMEM;
        (void) sym_sd_journal_get_realtime_usec(j, &usec);
        obj = json_pack("{s:s,s:s,s:I,s:s,s:s}", "unit", unit, "stream", "stdout", "timestamp_usec", (json_int_t) usec,
                        "text", text, "source", "journal");
        if (!obj)
                return -ENOMEM;
        int r = log_line_new(obj, ret);
        return r < 0 ? r : 1;
}

static int journal_open_units(const char *const *units, sd_journal **ret) {
        sd_journal *j = NULL;
        int r;

        if (!units || !units[0])
                return -EINVAL;
        r = journal_dlopen();
        if (r < 0)
                return r;
        r = sym_sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY);
        for (const char *const *u = units; r >= 0 && *u; u++) {
                _cleanup_free_ char *m = NULL;

                if (asprintf(&m, "SYSLOG_IDENTIFIER=%s", *u) < 0)
                        r = -ENOMEM;
                else
                        r = sym_sd_journal_add_match(j, m, 0); /* one field: the matches are or'ed */
        }
        if (r < 0) {
                sym_sd_journal_close(j);
                return r;
        }
        *ret = j;
        return 0;
}

/* Gathers up to max lines from the end backwards (newest first). */
static int journal_collect(sd_journal *j, uint32_t max, uint64_t since_usec, corral_logs *l) {
        int r = sym_sd_journal_seek_tail(j);

        while (r >= 0 && (max == CORRAL_LOGS_ALL || corral_logs_count(l) < max)) {
                corral_log_line *line = NULL;
                uint64_t usec;

                r = sym_sd_journal_previous(j);
                if (r <= 0)
                        break;
                if (since_usec > 0 && sym_sd_journal_get_realtime_usec(j, &usec) >= 0 && usec < since_usec)
                        break;
                r = entry_to_line(j, &line);
                if (r > 0)
                        r = logs_append(l, line);
        }
        return r < 0 ? r : 0;
}

int corral_journal_logs(const char *const *units, uint32_t max, uint64_t since_usec, corral_logs **ret) {
        corral_logs *l = NULL;
        sd_journal *j = NULL;
        int r;

        if (!ret)
                return -EINVAL;
        r = journal_open_units(units, &j);
        if (r < 0)
                return r;
        r = logs_new(&l);
        if (r >= 0)
                r = journal_collect(j, max, since_usec, l);
        sym_sd_journal_close(j);
        if (r < 0) {
                corral_logs_free(l);
                return r;
        }
        logs_reverse(l); /* oldest first */
        *ret = l;
        return 0;
}

int corral_journal_follow_open(const char *const *units, corral_journal_follow **ret) {
        corral_journal_follow *f;
        int r;

        if (!ret)
                return -EINVAL;
        f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        r = journal_open_units(units, &f->j);
        if (r >= 0)
                r = sym_sd_journal_seek_tail(f->j);
        /* on the last entry, so that "next" is the first new one */
        if (r >= 0)
                r = sym_sd_journal_previous(f->j);
        if (r >= 0)
                r = sym_sd_journal_get_fd(f->j);
        if (r < 0) {
                corral_journal_follow_close(f);
                return r;
        }
        *ret = f;
        return 0;
}

int corral_journal_follow_fd(corral_journal_follow *f) {
        return f ? sym_sd_journal_get_fd(f->j) : -EINVAL;
}

int corral_journal_follow_next(corral_journal_follow *f, corral_log_line **ret) {
        int r;

        if (!f || !ret)
                return -EINVAL;
        r = sym_sd_journal_process(f->j);
        if (r < 0)
                return r;
        for (;;) {
                r = sym_sd_journal_next(f->j);
                if (r < 0)
                        return r;
                if (r == 0)
                        return -EAGAIN;
                r = entry_to_line(f->j, ret);
                if (r != 0)
                        return r < 0 ? r : 0;
        }
}

corral_journal_follow *corral_journal_follow_close(corral_journal_follow *f) {
        if (!f)
                return NULL;
        if (f->j) /* else libsystemd may not be mapped */
                sym_sd_journal_close(f->j);
        return mfree(f);
}
