/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What survives a crash of corrald: one extended attribute on the unit's
 * cgroup (user.corral), written at each start and read back at adoption;
 * and adoption itself. */
#include "unit-internal.h"

#include <limits.h>
#include <string.h>

#include "log.h"
#include "parse-util.h"

#define XATTR_STATE "user.corral"

int unit_persisted_format(const UnitPersisted *p, char *buf, size_t size) {
        int n = snprintf(buf, size, "main=%d:%llu hash=%016llx port=%u restarts=%u since=%llu", (int) p->main_pid,
                         (unsigned long long) p->main_start, (unsigned long long) p->hash, p->port, p->restarts,
                         (unsigned long long) p->since);
        if (n >= 0 && (size_t) n < size && p->start_deadline > 0)
                n += snprintf(buf + n, size - (size_t) n, " starting=%llu", (unsigned long long) p->start_deadline);
        if (n >= 0 && (size_t) n < size && (p->pipes[0] > 0 || p->pipes[1] > 0))
                n += snprintf(buf + n, size - (size_t) n, " pipes=%llu:%llu", (unsigned long long) p->pipes[0],
                              (unsigned long long) p->pipes[1]);
        return n < 0 || (size_t) n >= size ? -ENOBUFS : 0;
}

static int parse_u64(const char *s, size_t n, unsigned base, uint64_t *ret) {
        return safe_atou64_n(s, n, base, ret) < 0 ? -EBADMSG : 0;
}

int unit_persisted_parse(const char *s, UnitPersisted *ret) {
        UnitPersisted p = {};
        unsigned seen = 0;
        uint64_t v;

        for (const char *w = s; *w;) {
                size_t n = strcspn(w, " ");
                const char *eq = memchr(w, '=', n);
                if (n == 0) {
                        w++;
                        continue;
                }
                if (!eq)
                        return -EBADMSG;
                size_t klen = (size_t) (eq - w), vlen = n - klen - 1;
                const char *val = eq + 1;
                if (klen == 4 && strneq(w, "main", 4)) {
                        const char *colon = memchr(val, ':', vlen);
                        if (!colon || parse_u64(val, (size_t) (colon - val), 10, &v) < 0 || v == 0 || v > INT_MAX ||
                            parse_u64(colon + 1, vlen - (size_t) (colon - val) - 1, 10, &p.main_start) < 0)
                                return -EBADMSG;
                        p.main_pid = (pid_t) v;
                        seen |= 1;
                } else if (klen == 4 && strneq(w, "hash", 4)) {
                        if (parse_u64(val, vlen, 16, &p.hash) < 0)
                                return -EBADMSG;
                        seen |= 2;
                } else if (klen == 4 && strneq(w, "port", 4)) {
                        if (parse_u64(val, vlen, 10, &v) < 0 || v > 65535)
                                return -EBADMSG;
                        p.port = (unsigned) v;
                        seen |= 4;
                } else if (klen == 8 && strneq(w, "restarts", 8)) {
                        if (parse_u64(val, vlen, 10, &v) < 0 || v > UINT_MAX)
                                return -EBADMSG;
                        p.restarts = (unsigned) v;
                        seen |= 8;
                } else if (klen == 5 && strneq(w, "since", 5)) {
                        if (parse_u64(val, vlen, 10, &p.since) < 0)
                                return -EBADMSG;
                        seen |= 16;
                } else if (klen == 5 && strneq(w, "pipes", 5)) {
                        const char *colon = memchr(val, ':', vlen);
                        if (!colon || parse_u64(val, (size_t) (colon - val), 10, &p.pipes[0]) < 0 ||
                            parse_u64(colon + 1, vlen - (size_t) (colon - val) - 1, 10, &p.pipes[1]) < 0)
                                return -EBADMSG;
                } else if (klen == 8 && strneq(w, "starting", 8)) {
                        if (parse_u64(val, vlen, 10, &p.start_deadline) < 0 || p.start_deadline == 0)
                                return -EBADMSG;
                }
                w += n;
        }
        if (seen != 31)
                return -EBADMSG;
        *ret = p;
        return 0;
}

/* CLOCK_REALTIME µs when a starting unit's start_timeout runs out (1:
 * none); 0 once it is ready. */
static uint64_t unit_start_deadline(const Unit *u) {
        usec_t mono = now(CLOCK_MONOTONIC), deadline = unit_timer_deadline(u);

        if (u->state != UNIT_STARTING)
                return 0;
        if (deadline <= mono)
                return 1;
        return now(CLOCK_REALTIME) + (deadline - mono);
}

void unit_persist(Unit *u) {
        UnitPersisted p = {
                .main_pid = u->main.pid,
                .hash = service_config_hash(u->config),
                .port = u->port,
                .restarts = u->n_restarts,
                .since = u->persisted_since,
                .start_deadline = unit_start_deadline(u),
                .pipes = { unit_output_pipe(u, 0), unit_output_pipe(u, 1) },
        };
        char buf[CGROUP_XATTR_MAX];

        if (!pidref_is_set(&u->main) || pid_get_start_time(u->main.pid, &p.main_start) < 0)
                return;
        _cleanup_close_ int fd = unit_cgroup_open(u);
        if (fd < 0 || unit_persisted_format(&p, buf, sizeof(buf)) < 0 || cgroup_set_xattr(fd, XATTR_STATE, buf) < 0)
                log_unit_warning(u->name, LOG_EVENT_NONE,
                                 "cannot keep state with the cgroup (user xattrs); a restarted corrald will restart "
                                 "this unit instead of adopting it");
}

int unit_read_persisted(Unit *u, UnitPersisted *ret, PidRef *ret_main) {
        _cleanup_free_ char *v = NULL, *owner = NULL;
        _cleanup_close_ int fd = unit_cgroup_open(u);
        UnitPersisted p;
        PidRef ref = PIDREF_NULL;
        uint64_t start = 0;
        int r;

        if (fd < 0 || cgroup_get_xattr(fd, XATTR_STATE, &v) < 0 || unit_persisted_parse(v, &p) < 0)
                return -ENOENT;
        if (p.hash != service_config_hash(u->config))
                return -ESTALE;
        r = pidref_set_pid(&ref, p.main_pid);
        /* pidfd first, then the checks: a PID recycled meanwhile fails them */
        if (r >= 0 && (pid_get_start_time(p.main_pid, &start) < 0 || start != p.main_start ||
                       cgroup_pid_get_unit(u->ctx->cgroup, p.main_pid, &owner) < 0 || !streq(owner, u->name))) {
                pidref_done(&ref);
                r = -ESRCH;
        }
        *ret = p;
        *ret_main = ref;
        return r < 0 ? -ESRCH : 0;
}

/* ---- Adoption: a unit an earlier corrald left running ---- */

void unit_stop_leftover(Unit *u) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (!u->has_cgroup) {
                r = u->ctx->ops->cgroup_open(u->ctx, u->name, &fd); /* is it there? */
                if (r >= 0)
                        r = unit_cgroup_attach(u);
                u->may_be_frozen = true;
                if (r < 0)
                        return (void) log_unit_warning_errno(u->name, LOG_EVENT_STOP, r,
                                                             "cannot take over the leftover cgroup: %m, ignoring");
        }
        log_unit_notice(u->name, LOG_EVENT_STOP, "found a cgroup left by an earlier run, stopping it");
        unit_enter_stopping(u, /* requested= */ true);
}

/* Whether what an earlier corrald kept lets this unit be taken over; on
 * success u->main (when still there) and the kept values are in place. */
static bool unit_adoptable(Unit *u, UnitPersisted *p) {
        PidRef main = PIDREF_NULL;
        int r = u->has_cgroup ? u->ctx->ops->cgroup_populated(u->ctx, u->name) : -ENOENT;

        if (!u->config || r <= 0)
                return false;
        r = unit_read_persisted(u, p, &main);
        if (r == -ESTALE)
                log_unit_notice(u->name, LOG_EVENT_NONE,
                                "its configuration changed while corrald was away: restarting");
        else if (r == -ESRCH && service_config_tuning(u->config)->exit_type == EXIT_TYPE_CGROUP)
                r = 0; /* a daemonized unit lives on in its cgroup */
        else if (r == -ESRCH)
                log_unit_notice(u->name, LOG_EVENT_NONE, "its main process is gone: restarting");
        if (r < 0)
                return false;
        u->main = main;
        return true;
}

/* Resumes a unit that was still starting: with the start_timeout it had
 * left, or failed at once when it ran out while corrald was away. */
static void unit_resume_starting(Unit *u, uint64_t deadline) {
        usec_t real = now(CLOCK_REALTIME);
        int r;

        unit_set_state(u, UNIT_STARTING);
        if (u->config->health_url)
                unit_health_schedule(u);
        if (deadline <= 1) /* no start_timeout */
                return;
        if (deadline <= real)
                return unit_fail_running(u, UNIT_FAILURE_TIMEOUT, "did not become ready within start_timeout");
        r = unit_arm_timer(u, deadline - real);
        if (r < 0)
                log_unit_warning_errno(u->name, LOG_EVENT_NONE, r, "cannot arm start timer: %m, ignoring");
}

void unit_adopt(Unit *u) {
        _cleanup_close_ int fd = -EBADF;
        UnitPersisted p = {};
        int r;

        r = u->ctx->ops->cgroup_open(u->ctx, u->name, &fd); /* is it there? */
        if (r < 0)
                return (void) log_unit_warning_errno(u->name, LOG_EVENT_NONE, r,
                                                     "cannot open its cgroup: %m, ignoring");
        fd = safe_close(fd);
        r = unit_cgroup_attach(u);
        if (r < 0)
                return (void) log_unit_warning_errno(u->name, LOG_EVENT_NONE, r,
                                                     "cannot watch its cgroup: %m, ignoring");
        u->may_be_frozen = true; /* an earlier corrald may have frozen it */
        if (!unit_adoptable(u, &p))
                return unit_stop_leftover(u);
        if (pidref_is_set(&u->main) && unit_watch_main(u, &u->main) < 0)
                log_unit_warning(u->name, LOG_EVENT_NONE, "cannot watch the adopted main process, ignoring");
        if (p.port > 0 && ports_reserve(u->ctx->ports, (uint16_t) p.port) >= 0)
                u->port = (uint16_t) p.port;
        u->n_restarts = p.restarts;
        u->persisted_since = p.since;
        unit_output_adopt_pipes(u, p.pipes);
        usec_t real = now(CLOCK_REALTIME), mono = now(CLOCK_MONOTONIC);
        u->started_at = p.since > 0 && p.since <= real && real - p.since < mono ? mono - (real - p.since) : mono;
        u->result = UNIT_SUCCESS;
        u->watchdog_usec = service_config_tuning(u->config)
                                   ->watchdog_timeout; /* its pings reach the same (stable) notify socket */
        log_unit_info(u->name, LOG_EVENT_START, "adopted from an earlier corrald: main PID %d, %u restarts%s",
                      u->main.pid, u->n_restarts, p.start_deadline > 0 ? ", not ready yet" : "");
        /* A limit changed while corrald was away is applied now. */
        (void) unit_apply_limits(u);
        if (p.start_deadline > 0)
                return unit_resume_starting(u, p.start_deadline);
        unit_enter_running(u);
        u->running_since = u->started_at;
}
