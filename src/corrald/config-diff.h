/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The difference of two services and of two configurations, as a reload
 * applies it. Pure: nothing here touches a unit, a cgroup or a file.
 *
 * Every [program:NAME] key of the key table (config-parse.c) has a diff
 * class, and equality and the hash are computed from the table:
 *     restart   part of service_config_equal() and service_config_hash();
 *               a difference restarts the service's running units
 *     in place  the cgroup limits (and limits_required): only
 *               service_config_limits_equal(); a difference is written to
 *               running units, and is not in the hash, so that a unit
 *               adopted after a crash takes the new limits in place
 *     none      instances: instances grow and shrink from the top, which
 *               the manager reads from the two services' instances
 * The service's name counts as a restart key; where a section was written
 * (file, line) does not count. */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ServiceConfig ServiceConfig;
typedef struct Config Config;

typedef enum ServiceChange {
        SERVICE_ADDED,          /* only in the new configuration */
        SERVICE_REMOVED,        /* only in the old configuration */
        SERVICE_CHANGED,        /* a restart key differs: service_config_equal() is false */
        SERVICE_LIMITS_CHANGED, /* only in-place keys differ (cgroup limits): apply them live */
        SERVICE_UNCHANGED,      /* possibly with a different number of instances */
        _SERVICE_CHANGE_MAX,
        _SERVICE_CHANGE_INVALID = -EINVAL,
} ServiceChange;

/* One service of a plan. old and new point into the two Configs (not
 * owned, valid while they are); NULL where the service is absent. */
typedef struct ServiceDiff {
        ServiceChange change;
        ServiceConfig *old, *new;
} ServiceDiff;

/* The difference of two configurations: first every service of the new one
 * in its order (added, changed, limits changed or unchanged), then every
 * service only in the old one in its order (removed). The counts add up to
 * n. */
typedef struct ConfigPlan {
        ServiceDiff *items;
        size_t n;
        unsigned added, removed, changed, limits_changed, unchanged;
} ConfigPlan;

/* Whether two services are configured the same for their running units:
 * every restart key and the name are equal. */
bool service_config_equal(const ServiceConfig *a, const ServiceConfig *b);

/* Whether every in-place key (the cgroup limits, limits_required) is equal. */
bool service_config_limits_equal(const ServiceConfig *a, const ServiceConfig *b);

/* A hash (FNV-1a, 64 bits) of what service_config_equal() compares, kept
 * with a running unit so that a restarted corrald can tell whether it still
 * runs the same configuration. Equal services have equal hashes; the value
 * depends on the key table, so it may change between versions of corrald
 * (a unit is then restarted rather than adopted). */
uint64_t service_config_hash(const ServiceConfig *s);

/* What became of service a (old) in b (new): SERVICE_CHANGED,
 * SERVICE_LIMITS_CHANGED or SERVICE_UNCHANGED. Either may be NULL:
 * SERVICE_ADDED when a is, SERVICE_REMOVED when b is (both NULL:
 * _SERVICE_CHANGE_INVALID). The two need not have the same name (a name
 * that differs is SERVICE_CHANGED). */
ServiceChange service_config_compare(const ServiceConfig *a, const ServiceConfig *b);

/* Compares two configurations service by service, matching by name, into
 * *ret (see ConfigPlan; free it with config_plan_done()). old or new may be
 * NULL for an empty configuration (NULL old: every service is added).
 * Returns 0, or -ENOMEM (and leaves *ret untouched). */
int config_diff(const Config *old, const Config *new, ConfigPlan *ret);

/* Frees the items of a plan and empties it; accepts an empty plan. */
void config_plan_done(ConfigPlan *p);

/* "added", "removed", "changed", "limits-changed", "unchanged"; NULL when
 * out of range. */
const char *service_change_to_string(ServiceChange c);
