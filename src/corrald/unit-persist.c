/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What survives a crash of corrald: one extended attribute on the unit's
 * cgroup (user.corral), written at each start and read back at adoption. */
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
        return n < 0 || (size_t) n >= size ? -ENOBUFS : 0;
}

static int parse_u64(const char *s, size_t n, int base, uint64_t *ret) {
        char buf[32], *end;

        if (n == 0 || n >= sizeof(buf))
                return -EBADMSG;
        memcpy(buf, s, n);
        buf[n] = '\0';
        if (buf[0] == '-' || buf[0] == '+' || buf[0] == ' ')
                return -EBADMSG;
        errno = 0;
        unsigned long long v = strtoull(buf, &end, base);
        if (errno != 0 || *end != '\0')
                return -EBADMSG;
        *ret = v;
        return 0;
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
        usec_t mono = now(CLOCK_MONOTONIC);

        if (u->state != UNIT_STARTING)
                return 0;
        if (!u->timer || u->timer_deadline <= mono)
                return 1;
        return now(CLOCK_REALTIME) + (u->timer_deadline - mono);
}

void unit_persist(Unit *u) {
        UnitPersisted p = {
                .main_pid = u->main.pid,
                .hash = service_config_hash(u->config),
                .port = u->port,
                .restarts = u->n_restarts,
                .since = u->persisted_since,
                .start_deadline = unit_start_deadline(u),
        };
        char buf[CGROUP_XATTR_MAX];

        if (!pidref_is_set(&u->main) || pid_get_start_time(u->main.pid, &p.main_start) < 0)
                return;
        if (unit_persisted_format(&p, buf, sizeof(buf)) < 0 || cgroup_set_xattr(u->cgroup_fd, XATTR_STATE, buf) < 0)
                log_unit_warning(u->name, LOG_EVENT_NONE,
                                 "cannot keep state with the cgroup (user xattrs); a restarted corrald will restart "
                                 "this unit instead of adopting it");
}

int unit_read_persisted(Unit *u, UnitPersisted *ret, PidRef *ret_main) {
        _cleanup_free_ char *v = NULL, *owner = NULL;
        UnitPersisted p;
        PidRef ref = PIDREF_NULL;
        uint64_t start = 0;
        int r;

        if (cgroup_get_xattr(u->cgroup_fd, XATTR_STATE, &v) < 0 || unit_persisted_parse(v, &p) < 0)
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

