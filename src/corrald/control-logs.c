/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The logs method and its followers (see control-logs.h). */
#include "control-logs.h"
#include "control-json.h"

#include <string.h>

#include "macro.h"
#include "output-json.h"
#include "strv.h"
#include "unit.h"

/* The views of the units req names, or of every listed unit. */
static int logs_views(Manager *m, const ControlRequest *p, UnitOutputView **ret, size_t *ret_n,
                      const char **ret_missing) {
        size_t n = p->units ? p->n_units : m->n_units, k = 0;
        _cleanup_free_ UnitOutputView *v = calloc(MAX(n, (size_t) 1), sizeof(*v));

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                Unit *u = p->units ? manager_find_unit(m, p->units[i]) : m->units[i];
                if (!u) {
                        *ret_missing = p->units[i];
                        return -ENOENT;
                }
                unit_output_view(u, &v[k]);
                if (p->units || v[k].listed)
                        k++;
        }
        *ret = TAKE_PTR(v);
        *ret_n = k;
        return 0;
}

int control_logs_result(Manager *m, const ControlRequest *p, json_t **ret, const char **ret_missing) {
        _cleanup_free_ UnitOutputView *v = NULL;
        _cleanup_free_ const OutputRing **rings = NULL;
        _cleanup_free_ const char **names = NULL;
        json_auto_t *journal = json_array(), *lines = NULL;
        size_t n = 0, k = 0, omitted = 0;
        int r;

        r = logs_views(m, p, &v, &n, ret_missing);
        if (r < 0)
                return r;
        rings = calloc(MAX(n, (size_t) 1), sizeof(*rings));
        names = calloc(MAX(n, (size_t) 1), sizeof(*names));
        if (!rings || !names || !journal)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (v[i].journal && json_array_append_new(journal, json_string(v[i].name)) < 0)
                        return -ENOMEM;
                if (v[i].ring) {
                        rings[k] = v[i].ring;
                        names[k++] = v[i].name;
                }
        }
        r = output_logs_json(rings, names, k, (size_t) MIN(p->lines, (uint64_t) SIZE_MAX), p->since, OUTPUT_JSON_BUDGET,
                             &lines, &omitted);
        if (r < 0)
                return r;
        *ret = json_pack("{s:O,s:O,s:I}", "lines", lines, "journal", journal, "omitted", (json_int_t) omitted);
        return *ret ? 0 : -ENOMEM;
}

void control_follow_start(ControlFollow *f, char **units) {
        control_follow_done(f);
        f->on = true;
        f->units = units;
}

void control_follow_done(ControlFollow *f) {
        f->units = strv_free(f->units);
        f->on = false;
        f->dropped = 0;
}

bool control_follow_wants(const ControlFollow *f, const char *unit) {
        if (!f->on)
                return false;
        if (!f->units)
                return true;
        for (char **n = f->units; *n; n++)
                if (streq(*n, unit))
                        return true;
        return false;
}

/* msg as one line; takes msg. */
static int message_text(json_t *msg, char **ret, size_t *ret_len) {
        int r = msg ? control_json_line(msg, ret, ret_len) : -ENOMEM;

        json_decref(msg);
        return r;
}

int control_logs_line_text(const char *unit, const OutputLine *l, char **ret, size_t *ret_len) {
        json_t *o = NULL;
        int r = output_line_to_json(unit, l, &o);

        if (r < 0)
                return r;
        return message_text(json_pack("{s:o}", "line", o), ret, ret_len);
}

int control_logs_dropped_text(uint64_t n, char **ret, size_t *ret_len) {
        return message_text(json_pack("{s:{s:I}}", "dropped", "lines", (json_int_t) n), ret, ret_len);
}
