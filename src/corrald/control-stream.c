/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "control-stream.h"

#include "control-json.h"
#include "macro.h"

struct ControlStream {
        Unit **units; /* NULL where a unit was forgotten */
        size_t n_units;
        size_t next;
        UnitStatusFlags flags;
        size_t n_detailed;
        json_t *extra;
        ControlPager pager;
};

int control_stream_new(Unit **units, size_t n, UnitStatusFlags flags, size_t n_detailed, bool bare, json_t *extra,
                       ControlStream **ret) {
        ControlStream *s = calloc(1, sizeof(ControlStream));

        if (!s) {
                free(units);
                json_decref(extra);
                return -ENOMEM;
        }
        *s = (ControlStream) {
                .units = units,
                .n_units = n,
                .flags = flags,
                .n_detailed = n_detailed,
                .extra = extra,
                .pager.bare = bare,
        };
        *ret = s;
        return 0;
}

/* The next unit as a Unit object: NULL with 0 when it was forgotten. */
static int stream_unit_json(ControlStream *s, size_t i, json_t **ret) {
        _cleanup_(unit_status_done) UnitStatus st = {};
        UnitStatusFlags flags = s->flags | (i < s->n_detailed ? UNIT_STATUS_PROCESSES : 0);

        *ret = NULL;
        if (!s->units[i])
                return 0;
        if (unit_status_get(s->units[i], flags, &st) < 0)
                return -ENOMEM;
        *ret = control_json_unit(&st);
        return *ret ? 0 : -ENOMEM;
}

int control_stream_step(ControlStream *s, char **ret, size_t *ret_len) {
        unsigned budget = CONTROL_STREAM_STEP_UNITS;

        *ret = NULL;
        while (s->next < s->n_units && budget > 0) {
                size_t i = s->next++;
                json_t *o;
                int r = stream_unit_json(s, i, &o);

                if (r < 0)
                        return r;
                if (!o)
                        continue;
                budget = i < s->n_detailed ? 0 : budget - 1;
                r = control_pager_add(&s->pager, o, ret, ret_len);
                if (r != 0)
                        return r < 0 ? r : 0; /* a page: let it go out first */
        }
        if (s->next < s->n_units)
                return 0;
        int r = control_pager_flush(&s->pager, ret, ret_len); /* bare: the last array, then the reply */
        if (r != 0)
                return r < 0 ? r : 0;
        return control_pager_finish(&s->pager, TAKE_PTR(s->extra), ret, ret_len) < 0 ? -ENOMEM : 1;
}

void control_stream_forget(ControlStream *s, const Unit *u) {
        for (size_t i = s->next; i < s->n_units; i++)
                if (s->units[i] == u)
                        s->units[i] = NULL;
}

size_t control_stream_units(const ControlStream *s) {
        return s->n_units;
}

ControlStream *control_stream_free(ControlStream *s) {
        if (!s)
                return NULL;
        free(s->units);
        json_decref(s->extra);
        control_pager_done(&s->pager);
        free(s);
        return NULL;
}
