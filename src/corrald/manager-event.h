/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What the manager tells its subscribers (control, and later metrics and
 * the audit trail), wired in main.c. A unit's state change is queued
 * while the transition runs and delivered by a deferred event source once
 * it is complete (systemd's D-Bus queue; libuv's uv__chld collects, then
 * calls back): a subscriber never runs inside a transition, and what it
 * does (answer a pipelined request, start another unit) starts a
 * transition of its own. */

#include "unit.h"

typedef enum ManagerEventType {
        MANAGER_EVENT_UNIT_CHANGED,   /* a unit entered new_state (from old_state) */
        MANAGER_EVENT_UNIT_REMOVED,   /* a unit is freed right after this delivery */
        MANAGER_EVENT_HEALTH_CHECKED, /* a health check of unit ended (ok: it passed) */
        MANAGER_EVENT_RELOADED,       /* a reload was tried (ok: it was applied); unit and name are NULL */
        _MANAGER_EVENT_TYPE_MAX,
} ManagerEventType;

typedef struct ManagerEvent {
        ManagerEventType type;
        Unit *unit;          /* valid for the duration of the delivery */
        const char *name;    /* the unit's name */
        UnitState old_state; /* MANAGER_EVENT_UNIT_CHANGED */
        UnitState new_state; /* the unit's state when the change was queued */
        uint64_t seq;        /* numbers the events in the order they were queued, from 1 */
        bool ok;             /* MANAGER_EVENT_HEALTH_CHECKED, MANAGER_EVENT_RELOADED */
        UnitResult result;   /* the unit's result when the change was queued */
} ManagerEvent;

/* A subscriber. It may call any manager or unit function; what that
 * changes is queued and delivered in a later pass, never re-entering. */
typedef void (*ManagerSubscriber)(const ManagerEvent *ev, void *userdata);
