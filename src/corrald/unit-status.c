/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "unit-status.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "cgroup.h"
#include "fileio.h"
#include "macro.h"
#include "parse-util.h"
#include "unit-internal.h"
#include "utf8.h"

int unit_status_set_text(char **ret, const char *text, size_t max) {
        char *copy = NULL;

        if (text) {
                copy = utf8_make_valid_max(text, max);
                if (!copy)
                        return -ENOMEM;
        }
        free(*ret);
        *ret = copy;
        return 0;
}

/* How long a status goes without looking for memory.current once a unit's
 * cgroup was seen without it: the units share one parent, so one unit's
 * missing file is every unit's, and the failed lookup (1.9 µs) is 18 ms
 * of a status of 10,000 units. A controller enabled meanwhile is seen
 * within this; until then memory_source is "rss". */
#define MEMORY_CURRENT_RETRY_USEC USEC_PER_SEC

/* The statistics of u's cgroup; cgroup.procs is read once, for the task
 * count and for the RSS fallback. */
static void unit_status_get_stats(const Unit *u, usec_t n_now, UnitStatus *s) {
        _cleanup_free_ pid_t *pids = NULL;
        _cleanup_close_ int fd = unit_cgroup_open(u); /* once for every file below */
        size_t n = 0;
        CgroupEvents ev = {};

        if (fd < 0)
                return;
        s->has_cpu = cgroup_read_cpu_usage(fd, &s->cpu_usec) >= 0;
        bool have_pids = cgroup_list_pids(fd, &pids, &n) >= 0;
        if (have_pids) {
                s->has_tasks = true;
                s->tasks = n;
        }
        usec_t missing = u->ctx->memory_current_missing;
        bool skip = missing > 0 && n_now - missing < MEMORY_CURRENT_RETRY_USEC;
        int r = skip ? -EOPNOTSUPP : cgroup_read_memory_current(fd, &s->memory_bytes);
        if (r >= 0)
                s->memory_source = UNIT_MEMORY_CURRENT;
        else if (r == -EOPNOTSUPP && !skip && s->has_cpu) /* the cgroup is there, not its file */
                u->ctx->memory_current_missing = n_now;
        if (r < 0 && have_pids) { /* no memory controller in cgroup2 here */
                s->memory_source = UNIT_MEMORY_RSS;
                s->memory_bytes = cgroup_pids_rss(pids, n);
        }
        /* cgroup.events (6.7 us) only when it changed since a status read
         * it: its watch says so (the kernel notifies a change of frozen as
         * of populated). The cache is no state of the unit's: written
         * through a const Unit, as a lazily made field. */
        Unit *w = (Unit *) u;
        if (u->watch_wd >= 0 && u->frozen_known) {
                s->has_frozen = true;
                s->frozen = u->frozen;
        } else if (cgroup_read_events(fd, &ev) >= 0) {
                s->has_frozen = true;
                s->frozen = w->frozen = ev.frozen;
                w->frozen_known = true;
        }
}

/* PID's parent, from the field after the command's closing parenthesis in
 * /proc/PID/stat (") S PPID"); 0 when unreadable. */
static pid_t process_ppid(pid_t pid) {
        _cleanup_free_ char *stat = NULL;
        char path[64];
        const char *p;

        snprintf(path, sizeof(path), "/proc/%d/stat", pid);
        if (read_full_file_at(AT_FDCWD, path, 4096, &stat, NULL) < 0)
                return 0;
        p = strrchr(stat, ')');
        if (!p || strlen(p) <= 4)
                return 0;
        return (pid_t) atoi(p + 4);
}

/* PID's arguments joined by spaces, NULL when unreadable or empty. */
static int process_cmdline(pid_t pid, char **ret) {
        _cleanup_free_ char *cmdline = NULL;
        char path[64];
        size_t len = 0;

        snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
        if (read_full_file_at(AT_FDCWD, path, UNIT_STATUS_CMDLINE_MAX, &cmdline, &len) < 0 || len == 0) {
                *ret = NULL;
                return 0;
        }
        for (size_t k = 0; k + 1 < len; k++)
                if (cmdline[k] == '\0')
                        cmdline[k] = ' ';
        *ret = NULL;
        return unit_status_set_text(ret, cmdline, UNIT_STATUS_CMDLINE_MAX);
}

static int unit_status_get_processes(const Unit *u, UnitStatus *s) {
        _cleanup_free_ pid_t *pids = NULL;
        _cleanup_close_ int fd = unit_cgroup_open(u);
        size_t n = 0;

        s->has_processes = true;
        if (fd < 0 || cgroup_list_pids(fd, &pids, &n) < 0 || n == 0)
                return 0;
        s->processes_truncated = n > UNIT_STATUS_PROCESSES_MAX;
        n = MIN(n, (size_t) UNIT_STATUS_PROCESSES_MAX);
        s->processes = calloc(n, sizeof(UnitProcess));
        if (!s->processes)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                UnitProcess *p = &s->processes[s->n_processes++];

                p->pid = pids[i];
                p->ppid = process_ppid(pids[i]);
                if (process_cmdline(pids[i], &p->cmdline) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int unit_status_get_health(const Unit *u, usec_t n, UnitStatus *s) {
        s->has_health = u->config && u->config->health_url;
        if (!s->has_health)
                return 0;
        s->health = (UnitHealthStatus) {};
        if (!u->health)
                return 0; /* none scheduled yet */
        s->health = (UnitHealthStatus) {
                .ok = u->health->ok,
                .http_status = u->health->http_status,
                .latency = u->health->latency,
                .failures = u->health->failures,
                .checks = u->health->checks,
                .age = u->health->last ? n - u->health->last : 0,
        };
        return unit_status_set_text(&s->health.error, u->health->error, UNIT_STATUS_TEXT_MAX);
}

int unit_status_get(const Unit *u, UnitStatusFlags flags, UnitStatus *ret) {
        _cleanup_(unit_status_done) UnitStatus s = {
                .is_job = u->is_job,
                .owner_uid = u->owner_uid,
                .state = u->state,
                .result = u->result,
                .main_pid = u->main.pid,
                .exit_code = u->exit_code,
                .exit_status = u->exit_status,
                .restarts = u->n_restarts,
                .port = u->port,
                .since = u->state_timestamp,
                .reason = u->reason,
                .reason_exit_code = u->reason_exit_code,
                .reason_exit_status = u->reason_exit_status,
        };
        usec_t n = now(CLOCK_MONOTONIC);
        int r;

        if (u->state == UNIT_RUNNING)
                s.uptime = n - u->running_since;
        r = unit_status_set_text(&s.name, u->name, UNIT_STATUS_TEXT_MAX);
        if (r >= 0)
                r = unit_status_set_text(&s.status_text, u->status_text, UNIT_STATUS_TEXT_MAX);
        if (r >= 0)
                r = unit_status_set_text(&s.error_text, u->error_text, UNIT_STATUS_TEXT_MAX);
        if (r >= 0)
                r = unit_status_get_health(u, n, &s);
        if (r >= 0 && (flags & UNIT_STATUS_PROCESSES))
                r = unit_status_get_processes(u, &s);
        if (r < 0)
                return r;
        if (flags & UNIT_STATUS_STATS)
                unit_status_get_stats(u, n, &s);
        *ret = s;
        s = (UnitStatus) {};
        return 0;
}

const char *unit_status_reason(const UnitStatus *s, char *buf, size_t size) {
        const char *name = unit_result_to_string(s->reason), *sig;

        if (s->reason < 0 || !name)
                return NULL;
        sig = signal_to_string(s->reason_exit_status);
        if (sig && strneq(sig, "SIG", 3))
                sig += 3;
        if (s->reason == UNIT_FAILURE_EXIT_CODE && s->reason_exit_code == CLD_EXITED)
                snprintf(buf, size, "%s %d", name, s->reason_exit_status);
        else if ((s->reason == UNIT_FAILURE_SIGNAL || s->reason == UNIT_FAILURE_CORE_DUMP) && s->reason_exit_code != 0)
                snprintf(buf, size, "%s %s", name, sig ?: "?");
        else
                snprintf(buf, size, "%s", name);
        return buf;
}

void unit_status_done(UnitStatus *s) {
        free(s->name);
        free(s->status_text);
        free(s->error_text);
        free(s->health.error);
        for (size_t i = 0; i < s->n_processes; i++)
                free(s->processes[i].cmdline);
        free(s->processes);
        *s = (UnitStatus) {};
}

const char *unit_status_name(const Unit *u) {
        return u->name;
}

bool unit_status_is_job(const Unit *u) {
        return u->is_job;
}

uid_t unit_status_owner(const Unit *u) {
        return u->owner_uid;
}

bool unit_status_is_inactive(const Unit *u) {
        return unit_is_inactive(u); /* a oneshot that exited too */
}

bool unit_status_is_removed(const Unit *u) {
        return u->removed;
}

bool unit_status_is_listed(const Unit *u) {
        return !u->removed || !unit_status_is_inactive(u);
}
