/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Health scheduling: when a unit is checked, and what a result means for
 * it (the checks themselves are health.c's). */
#include "unit-internal.h"

#include <string.h>

#include "log.h"
#include "parse-util.h"
#include "strv.h"

/* While a unit with ready = health waits for its first pass, it is checked
 * this often (or every health_interval, if that is shorter). */
#define HEALTH_STARTING_INTERVAL (500 * USEC_PER_MSEC)

static int unit_health_queue(Unit *u, usec_t when, usec_t accuracy);

/* Until the next check, and its slack: 1/16 of the interval (at most
 * 100ms), so that checks of many units fall due together and are started
 * in one wake-up (the checker's one timer for all). */
static usec_t unit_health_delay(const Unit *u, usec_t *ret_accuracy) {
        usec_t delay = service_config_health(u->config)->health_interval;

        if (u->state == UNIT_STARTING && u->config->ready == READY_HEALTH)
                delay = MIN(delay, HEALTH_STARTING_INTERVAL);
        *ret_accuracy = MIN(delay / 16, 100 * USEC_PER_MSEC) ?: 1;
        return delay;
}

static int on_health_timer(sd_event_source *s, uint64_t usec, void *userdata);

/* A check that could not be queued (its URL, libcurl) is tried again at
 * when, from the unit's own timer. */
static void unit_health_retry_at(Unit *u, usec_t when, usec_t accuracy) {
        int r;

        r = unit_arm_at(u, &u->health->timer, when, accuracy, on_health_timer);
        if (r < 0)
                log_unit_warning_errno(u->name, LOG_EVENT_NONE, r, "cannot schedule health check: %m, ignoring");
}

static int on_health_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Unit *u = userdata;
        usec_t accuracy, delay;

        u->health->timer = sd_event_source_disable_unref(u->health->timer);
        if (unit_health_queue(u, now(CLOCK_MONOTONIC), /* accuracy= */ 1) >= 0)
                return 0;
        delay = unit_health_delay(u, &accuracy);
        unit_health_retry_at(u, now(CLOCK_MONOTONIC) + delay, accuracy);
        return 0;
}

void unit_health_stop(Unit *u) {
        if (!u->health)
                return;
        u->health->timer = sd_event_source_disable_unref(u->health->timer);
        if (u->health->check)
                health_check_cancel(u->health->check);
        u->health->check = NULL;
}

void unit_health_free(Unit *u) {
        unit_health_stop(u);
        if (u->health) {
                free(u->health->error);
                free(u->health->url);
                free(u->health->url_template);
        }
        u->health = mfree(u->health);
}

void unit_health_schedule(Unit *u) {
        usec_t accuracy, when;

        if (!u->health && !(u->health = calloc(1, sizeof(UnitHealthState)))) {
                log_unit_warning_errno(u->name, LOG_EVENT_NONE, -ENOMEM, "cannot schedule health check: %m, ignoring");
                return;
        }
        when = now(CLOCK_MONOTONIC) + unit_health_delay(u, &accuracy);
        u->health->timer = sd_event_source_disable_unref(u->health->timer);
        if (unit_health_queue(u, when, accuracy) < 0)
                unit_health_retry_at(u, when, accuracy);
}

static void on_health_result(const HealthResult *res, void *userdata) {
        Unit *u = userdata;
        bool in_grace = now(CLOCK_MONOTONIC) - u->started_at < service_config_health(u->config)->health_grace;

        u->health->check = NULL;
        u->health->checks++;
        u->health->ok = res->ok;
        u->health->http_status = res->http_status;
        u->health->latency = res->latency;
        u->health->last = now(CLOCK_MONOTONIC);
        free(u->health->error);
        u->health->error = res->ok ? NULL : strdup(res->error ?: "failed");
        if (u->ctx->health_checked)
                u->ctx->health_checked(u, res->ok, u->ctx->userdata);
        if (res->ok) {
                u->health->failures = 0;
                unit_dispatch(u, UNIT_EVENT_HEALTHY);
        } else if (in_grace || u->state == UNIT_STARTING)
                log_unit_debug(u->name, "health check failed (%s), not counted yet", res->error ?: "?");
        else {
                u->health->failures++;
                log_unit_warning(u->name, LOG_EVENT_NONE, "health check failed: %s (%u of %u in a row)",
                                 res->error ?: "?", u->health->failures,
                                 service_config_health(u->config)->health_threshold);
                if (u->health->failures >= service_config_health(u->config)->health_threshold)
                        return unit_dispatch(u, UNIT_EVENT_UNHEALTHY);
        }
        if (u->state == UNIT_STARTING || u->state == UNIT_RUNNING)
                unit_health_schedule(u);
}

/* health_url with the unit's variables expanded, kept for the next checks:
 * of the variables, only the port can change while the unit lives. */
static int unit_health_url(Unit *u, const char **ret) {
        UnitHealthState *h = u->health;
        _cleanup_strv_free_ char **vars = NULL;
        _cleanup_free_ char *url = NULL, *template = NULL;
        int r;

        if (h->url && h->url_port == u->port && streq(h->url_template, u->config->health_url)) {
                *ret = h->url;
                return 0;
        }
        r = unit_variables(u, &vars);
        if (r < 0)
                return r;
        r = strv_env_expand(u->config->health_url, vars, &url, /* ret_bad= */ NULL);
        if (r < 0)
                return r;
        template = strdup(u->config->health_url);
        if (!template)
                return -ENOMEM;
        free(h->url);
        h->url = TAKE_PTR(url);
        free(h->url_template);
        h->url_template = TAKE_PTR(template);
        h->url_port = u->port;
        *ret = h->url;
        return 0;
}

/* The next check, queued in the checker for when; a check queued or in
 * flight before is cancelled. */
static int unit_health_queue(Unit *u, usec_t when, usec_t accuracy) {
        const char *url = NULL;
        int r;

        if (u->health->check)
                health_check_cancel(u->health->check);
        u->health->check = NULL;
        r = unit_health_url(u, &url);
        if (r >= 0)
                r = health_check_start_at(u->ctx->health, when, accuracy, url,
                                          service_config_health(u->config)->health_timeout,
                                          &service_config_health(u->config)->health_status, on_health_result, u,
                                          &u->health->check);
        if (r == -EOPNOTSUPP)
                log_unit_warning(u->name, LOG_EVENT_NONE,
                                 "cannot start health check of %s: libcurl is needed for "
                                 "health checks and cannot be loaded: %s",
                                 url ?: u->config->health_url, health_unavailable_reason() ?: "?");
        else if (r < 0)
                log_unit_warning_errno(u->name, LOG_EVENT_NONE, r, "cannot start health check of %s: %m",
                                       url ?: u->config->health_url);
        return r;
}
