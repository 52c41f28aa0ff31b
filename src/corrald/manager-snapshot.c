/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "manager-snapshot.h"

#include <stdlib.h>

#include "config-diff.h"
#include "macro.h"
#include "manager.h"

int manager_snapshot_take(Manager *m, ManagerSnapshot *ret) {
        SnapshotUnit *items = calloc(m->n_units + 1, sizeof(SnapshotUnit));
        size_t n = 0;

        if (!items)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_units; i++) {
                Unit *u = m->units[i];
                if (u->is_job)
                        continue;
                items[n++] = (SnapshotUnit) {
                        .unit = u,
                        .hash = u->config ? service_config_hash(u->config) : 0,
                        .active = !unit_is_inactive(u),
                        .removed = u->removed,
                };
        }
        *ret = (ManagerSnapshot) { .items = items, .n = n };
        return 0;
}

void manager_snapshot_done(ManagerSnapshot *s) {
        free(s->items);
        *s = (ManagerSnapshot) {};
}

static const SnapshotUnit *snapshot_find(const ManagerSnapshot *s, const Unit *u) {
        for (size_t i = 0; i < s->n; i++)
                if (s->items[i].unit == u)
                        return &s->items[i];
        return NULL;
}

/* The goal of u since before, or -1: nothing to wait for. */
static int unit_goal(const ManagerSnapshot *before, Unit *u) {
        const SnapshotUnit *was = snapshot_find(before, u);
        bool autostart = u->config && u->config->autostart;

        if (u->is_job)
                return -1;
        if (!was)
                return autostart && !u->removed ? UNIT_REQUEST_START : -1;
        if (u->removed)
                return was->removed ? -1 : UNIT_REQUEST_STOP;
        if (!u->config || was->hash == service_config_hash(u->config))
                return -1;
        return was->active ? UNIT_REQUEST_RESTART : autostart ? UNIT_REQUEST_START : -1;
}

int manager_snapshot_wait(Manager *m, const ManagerSnapshot *before, RequestHandler handler, void *userdata,
                          ManagerRequest **ret) {
        _cleanup_free_ Unit **units = calloc(m->n_units + 1, sizeof(Unit *));
        _cleanup_free_ UnitRequest *goals = calloc(m->n_units + 1, sizeof(UnitRequest));
        size_t n = 0;

        if (!units || !goals)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_units; i++) {
                int g = unit_goal(before, m->units[i]);
                if (g < 0)
                        continue;
                units[n] = m->units[i];
                goals[n++] = (UnitRequest) g;
        }
        return manager_request_observe(m, units, goals, handler, userdata, ret);
}
