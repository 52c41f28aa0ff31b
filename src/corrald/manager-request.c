/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "manager-request.h"

#include <fnmatch.h>
#include <stdint.h>
#include <string.h>

#include "log.h"
#include "manager-deps.h"
#include "manager.h"
#include "string-table.h"

static const char *const unit_request_table[_UNIT_REQUEST_MAX] = {
        [UNIT_REQUEST_START] = "start",
        [UNIT_REQUEST_STOP] = "stop",
        [UNIT_REQUEST_RESTART] = "restart",
};

DEFINE_STRING_TABLE_LOOKUP(unit_request, UnitRequest);

/* ---- Names ---- */

static bool unit_matches(const Unit *u, const char *pattern) {
        const char *service = u->config ? u->config->name : NULL;

        if (streq(u->name, pattern) || (service && u->instance >= 0 && streq(service, pattern)))
                return true;
        if (!strpbrk(pattern, "*?["))
                return false;
        return fnmatch(pattern, u->name, 0) == 0 || (service && u->instance >= 0 && fnmatch(pattern, service, 0) == 0);
}

/* The units already listed, when more than one pattern may list a unit
 * twice: a set of pointers (open addressing, twice the room of all units),
 * so that patterns matching 10,000 units do not compare each with every
 * one before it. */
typedef struct UnitSet {
        const Unit **slots;
        size_t mask;
} UnitSet;

static int unit_set_init(UnitSet *s, size_t n) {
        size_t room = 16;

        while (room < 2 * n)
                room *= 2;
        s->slots = calloc(room, sizeof(Unit *));
        s->mask = room - 1;
        return s->slots ? 0 : -ENOMEM;
}

static void unit_set_done(UnitSet *s) {
        s->slots = mfree(s->slots);
}

/* Adds u: true when it was not there yet. */
static bool unit_set_add(UnitSet *s, const Unit *u) {
        size_t i = (size_t) (((uintptr_t) u >> 4) * UINT64_C(0x9E3779B97F4A7C15) >> 20) & s->mask;

        for (; s->slots[i]; i = (i + 1) & s->mask)
                if (s->slots[i] == u)
                        return false;
        s->slots[i] = u;
        return true;
}

static bool unit_visible(const Unit *u) {
        return !u->removed || !unit_is_inactive(u);
}

int manager_resolve_units(Manager *m, char *const *patterns, bool all, Unit ***ret, const char **ret_bad) {
        _cleanup_free_ Unit **list = calloc(m->n_units + 1, sizeof(Unit *));
        _cleanup_(unit_set_done) UnitSet listed = {};
        bool several = patterns && patterns[0] && patterns[1]; /* one pattern lists a unit once */
        size_t n = 0;

        if (!list)
                return -ENOMEM;
        if (all == !!(patterns && *patterns))
                return -EINVAL;
        if (several && unit_set_init(&listed, m->n_units) < 0)
                return -ENOMEM;
        for (char *const *p = patterns; p && *p; p++) {
                bool found = false;
                for (size_t i = 0; i < m->n_units; i++) {
                        Unit *u = m->units[i];
                        if (!unit_visible(u) || !unit_matches(u, *p))
                                continue;
                        found = true;
                        if (!several || unit_set_add(&listed, u))
                                list[n++] = u;
                }
                if (!found) {
                        if (ret_bad)
                                *ret_bad = *p;
                        return -ENOENT;
                }
        }
        for (size_t i = 0; all && i < m->n_units; i++)
                if (unit_visible(m->units[i]))
                        list[n++] = m->units[i];
        *ret = TAKE_PTR(list);
        return 0;
}

int manager_request_check(Manager *m, Unit *u, UnitRequest req, const char **ret_why) {
        if (req == UNIT_REQUEST_STOP)
                return 0;
        if (m->shutting_down)
                return -ESHUTDOWN;
        if (!u->config || u->removed) {
                if (ret_why)
                        *ret_why = "is being removed";
                return -ENOENT;
        }
        if (u->is_job) {
                if (ret_why)
                        *ret_why = "is a job: a job runs once (submit another)";
                return -EINVAL;
        }
        return 0;
}

/* ---- Requests ---- */

typedef enum EntryPhase {
        ENTRY_PENDING, /* waits for its turn in a roll */
        ENTRY_ACTIVE,  /* asked; its goal not reached yet */
        ENTRY_DONE,
} EntryPhase;

typedef struct RequestEntry {
        Unit *unit;
        UnitRequest req; /* a restart of an inactive unit is a start */
        EntryPhase phase;
        bool down_seen; /* a restart: it has gone down */
        uint64_t since; /* events after this number count */
        usec_t started;
        int group; /* the roll it belongs to; -1: none */
} RequestEntry;

struct ManagerRequest {
        Manager *manager;
        RequestHandler handler;
        void *userdata;
        RequestEntry *entries;
        size_t *by_unit; /* indices of entries, by unit: an event finds its unit's at once (NULL: walk them) */
        size_t n_entries, n_done;
        bool observe; /* manager_request_observe(): acts on nothing */
        ManagerRequest *next;
};

/* How many instances of a service a roll restarts at once. */
static unsigned roll_parallel(const Unit *u) {
        return u->config && service_config_tuning(u->config)->restart_parallel > 0
                       ? service_config_tuning(u->config)->restart_parallel
                       : 1;
}

static void entry_act(Manager *m, RequestEntry *e) {
        Unit *u = e->unit;

        e->phase = ENTRY_ACTIVE;
        e->since = m->event_seq;
        e->started = now(CLOCK_MONOTONIC);
        if (e->req == UNIT_REQUEST_RESTART && unit_is_inactive(u))
                e->req = UNIT_REQUEST_START;
        switch (e->req) {
        case UNIT_REQUEST_START:
                unit_reset_failure_counters(u);
                manager_deps_start(m, u);
                break;
        case UNIT_REQUEST_STOP:
                manager_deps_stop(m, u, /* with_requirers= */ true);
                break;
        default:
                unit_dispatch(u, UNIT_EVENT_RESTART);
        }
        manager_kick(m);
}

static void request_free(ManagerRequest *r) {
        Manager *m = r->manager;

        for (ManagerRequest **p = &m->requests; *p; p = &(*p)->next)
                if (*p == r) {
                        *p = r->next;
                        break;
                }
        free(r->entries);
        free(r->by_unit);
        free(r);
}

static int by_unit_compare(const void *a, const void *b, void *userdata) {
        const RequestEntry *entries = userdata;
        uintptr_t x = (uintptr_t) entries[*(const size_t *) a].unit, y = (uintptr_t) entries[*(const size_t *) b].unit;

        return (x > y) - (x < y);
}

/* Without it (out of memory) each event walks every entry: a stop --all
 * of 10,000 units was 10,000 × 20,000 steps. */
static void request_index(ManagerRequest *r) {
        r->by_unit = reallocarray(NULL, r->n_entries ?: 1, sizeof(size_t));
        if (!r->by_unit)
                return;
        for (size_t i = 0; i < r->n_entries; i++)
                r->by_unit[i] = i;
        qsort_r(r->by_unit, r->n_entries, sizeof(size_t), by_unit_compare, r->entries);
}

static const char *entry_reason(const RequestEntry *e) {
        const Unit *u = e->unit;

        if (u->error_text)
                return u->error_text;
        if (u->state == UNIT_BACKOFF)
                return "restarting";
        return u->result != UNIT_SUCCESS ? unit_result_to_string(u->result) : "did not reach its goal";
}

static void entry_finish(ManagerRequest *r, RequestEntry *e, bool ok, const char *reason) {
        e->phase = ENTRY_DONE;
        r->n_done++;
        if (!r->handler)
                return;
        RequestOutcome o = {
                .unit = e->unit->name,
                .ok = ok,
                .duration = e->started > 0 ? now(CLOCK_MONOTONIC) - e->started : 0,
                .state = unit_state_to_string(e->unit->state),
                .reason = ok ? NULL : reason ?: entry_reason(e),
        };
        r->handler(r, &o, r->userdata);
}

/* The next instance of a roll, after one is done; or, when it failed,
 * the rest are not restarted. */
static void roll_advance(ManagerRequest *r, const RequestEntry *done, bool ok) {
        char why[256];

        if (done->group < 0)
                return;
        snprintf(why, sizeof(why), "not restarted: the rolling restart stopped at %s", done->unit->name);
        if (!ok)
                log_unit_warning(done->unit->name, LOG_EVENT_RESTART,
                                 "did not become ready: the rolling restart of %s stops here",
                                 done->unit->config->name);
        for (size_t i = 0; i < r->n_entries; i++) {
                RequestEntry *e = &r->entries[i];
                if (e->group != done->group || e->phase != ENTRY_PENDING)
                        continue;
                if (!ok) {
                        entry_finish(r, e, /* ok= */ false, why);
                        continue;
                }
                entry_act(r->manager, e);
                return;
        }
}

static void entry_done(ManagerRequest *r, RequestEntry *e, bool ok) {
        entry_finish(r, e, ok, /* reason= */ NULL);
        roll_advance(r, e, ok);
}

/* What one event of e's unit says about its goal: 1 reached, 0 not yet,
 * -1 failed. */
static int entry_judge(RequestEntry *e, UnitState s) {
        switch (e->req) {
        case UNIT_REQUEST_STOP:
                return s == UNIT_INACTIVE || s == UNIT_FAILED || s == UNIT_EXITED ? 1 : 0;
        case UNIT_REQUEST_RESTART:
                if (s != UNIT_RUNNING)
                        e->down_seen = true;
                if (s == UNIT_RUNNING && e->down_seen)
                        return 1;
                __attribute__((fallthrough));
        default:
                if (s == UNIT_FAILED || s == UNIT_BACKOFF)
                        return -1;
                if (s == UNIT_EXITED && e->req == UNIT_REQUEST_START)
                        return 1; /* a oneshot that ran to its end */
                if (s == UNIT_INACTIVE && e->req == UNIT_REQUEST_START && e->unit->start_waiting)
                        return 0; /* held back until its dependencies are ready */
                if (s == UNIT_INACTIVE && e->req == UNIT_REQUEST_START && e->unit->start_refused)
                        return -1; /* a unit it requires is gone */
                if (s == UNIT_INACTIVE && e->req == UNIT_REQUEST_START)
                        return e->unit->result == UNIT_SUCCESS ? 1 : -1; /* ran to its end */
                return s == UNIT_RUNNING && e->req == UNIT_REQUEST_START ? 1 : 0;
        }
}

static bool request_unit_in_flight(const ManagerRequest *r, const Unit *u);

static void entry_process(ManagerRequest *r, RequestEntry *e, const ManagerEvent *ev) {
        int v;

        if (e->phase == ENTRY_PENDING && ev && ev->type == MANAGER_EVENT_UNIT_REMOVED && ev->unit == e->unit)
                return entry_finish(r, e, /* ok= */ false, "removed");
        if (e->phase != ENTRY_ACTIVE)
                return;
        if (ev && (ev->unit != e->unit || ev->seq <= e->since))
                return;
        if (ev && ev->type == MANAGER_EVENT_UNIT_REMOVED)
                v = e->req == UNIT_REQUEST_STOP ? 1 : -1;
        else if (ev)
                v = entry_judge(e, ev->new_state);
        else if (r->observe && e->req == UNIT_REQUEST_RESTART && !e->down_seen) {
                if (!request_unit_in_flight(r, e->unit))
                        entry_finish(r, e, /* ok= */ false, "not restarted (the rolling restart stopped)");
                return;
        } else /* the queue is empty: where it is now is where it stays */
                v = e->req == UNIT_REQUEST_RESTART && !e->down_seen ? 0 : entry_judge(e, e->unit->state);
        if (v != 0)
                entry_done(r, e, v > 0);
}

static void request_process(ManagerRequest *r, const ManagerEvent *ev) {
        if (!ev || !r->by_unit) {
                for (size_t i = 0; i < r->n_entries; i++)
                        entry_process(r, &r->entries[i], ev);
                return;
        }
        /* only the entries of ev's unit */
        size_t lo = 0, hi = r->n_entries;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if ((uintptr_t) r->entries[r->by_unit[mid]].unit < (uintptr_t) ev->unit)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        for (; lo < r->n_entries && r->entries[r->by_unit[lo]].unit == ev->unit; lo++)
                entry_process(r, &r->entries[r->by_unit[lo]], ev);
}

void manager_requests_process(Manager *m, const ManagerEvent *ev) {
        ManagerRequest *next;

        for (ManagerRequest *r = m->requests; r; r = next) {
                next = r->next;
                request_process(r, ev);
                if (r->n_done == r->n_entries) {
                        if (r->handler)
                                r->handler(r, /* o= */ NULL, r->userdata);
                        request_free(r);
                }
        }
}

void manager_requests_free(Manager *m) {
        while (m->requests)
                request_free(m->requests);
}

void manager_request_cancel(ManagerRequest *r) {
        if (r)
                r->handler = NULL;
}

/* Rolls: each service with several instances in a restart gets a group
 * (its first member's index); every other unit none. */
static void request_group(ManagerRequest *r, unsigned flags) {
        for (size_t i = 0; i < r->n_entries; i++) {
                RequestEntry *e = &r->entries[i];
                e->group = -1;
                if (e->req != UNIT_REQUEST_RESTART || (flags & MANAGER_REQUEST_ALL_AT_ONCE) || e->unit->instance < 0 ||
                    unit_is_inactive(e->unit))
                        continue;
                for (size_t k = 0; k < i && e->group < 0; k++)
                        if (r->entries[k].group >= 0 && r->entries[k].unit->config == e->unit->config)
                                e->group = r->entries[k].group;
                if (e->group < 0)
                        e->group = (int) i;
        }
}

/* Acts on every unit but those that wait for their turn in a roll. */
static void request_start(ManagerRequest *r) {
        for (size_t i = 0; i < r->n_entries; i++) {
                RequestEntry *e = &r->entries[i];
                unsigned active = 0;
                for (size_t k = 0; e->group >= 0 && k < i; k++)
                        active += r->entries[k].group == e->group;
                if (e->group >= 0 && active >= roll_parallel(e->unit))
                        continue; /* pending */
                entry_act(r->manager, e);
        }
}

int manager_request_new(Manager *m, Unit **units, UnitRequest req, unsigned flags, RequestHandler handler,
                        void *userdata, ManagerRequest **ret, const char **ret_bad) {
        ManagerRequest *r;
        size_t n = 0;
        int k;

        for (Unit **u = units; *u; u++, n++)
                if ((k = manager_request_check(m, *u, req, /* ret_why= */ NULL)) < 0) {
                        if (ret_bad)
                                *ret_bad = (*u)->name;
                        return k;
                }
        r = calloc(1, sizeof(ManagerRequest));
        if (!r || !(r->entries = calloc(n ?: 1, sizeof(RequestEntry)))) {
                free(r);
                return -ENOMEM;
        }
        *r = (ManagerRequest) { .manager = m,
                                .handler = handler,
                                .userdata = userdata,
                                .entries = r->entries,
                                .n_entries = n,
                                .next = m->requests };
        for (size_t i = 0; i < n; i++)
                r->entries[i] = (RequestEntry) { .unit = units[i], .req = req, .phase = ENTRY_PENDING };
        request_index(r);
        m->requests = r;
        request_group(r, flags);
        request_start(r);
        manager_kick(m); /* an empty request, or one whose units are there already, ends in the next pass */
        if (ret)
                *ret = r;
        return 0;
}

/* ---- Requests that only watch ---- */

/* Whether another request is yet to bring u to its goal. */
static bool request_unit_in_flight(const ManagerRequest *r, const Unit *u) {
        for (const ManagerRequest *q = r->manager->requests; q; q = q->next)
                for (size_t i = 0; q != r && !q->observe && i < q->n_entries; i++)
                        if (q->entries[i].unit == u && q->entries[i].phase != ENTRY_DONE)
                                return true;
        return false;
}

int manager_request_observe(Manager *m, Unit **units, const UnitRequest *goals, RequestHandler handler, void *userdata,
                            ManagerRequest **ret) {
        ManagerRequest *r = calloc(1, sizeof(ManagerRequest));
        size_t n = 0;

        while (units[n])
                n++;
        if (!r || !(r->entries = calloc(n ?: 1, sizeof(RequestEntry)))) {
                free(r);
                return -ENOMEM;
        }
        *r = (ManagerRequest) { .manager = m,
                                .handler = handler,
                                .userdata = userdata,
                                .entries = r->entries,
                                .n_entries = n,
                                .observe = true,
                                .next = m->requests };
        for (size_t i = 0; i < n; i++)
                r->entries[i] = (RequestEntry) {
                        .unit = units[i],
                        .req = goals[i],
                        .phase = ENTRY_ACTIVE,
                        .down_seen = units[i]->state != UNIT_RUNNING,
                        .since = m->event_seq,
                        .started = now(CLOCK_MONOTONIC),
                        .group = -1,
                };
        request_index(r);
        m->requests = r;
        manager_kick(m);
        if (ret)
                *ret = r;
        return 0;
}
