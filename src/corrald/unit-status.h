/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A snapshot of one unit for the outside world (the control socket): what
 * its state machine holds, and on request what its cgroup and /proc say.
 * It belongs to the unit family — the one place besides unit*.c that reads
 * Unit fields — so that control never does: control formats a UnitStatus
 * and never touches a Unit, a cgroup or /proc itself. Every string in it is
 * valid UTF-8 (invalid bytes replaced by U+FFFD) and bounded. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "time-util.h"
#include "unit.h"

/* The most processes listed for one unit, and the longest command line
 * kept for one of them (bytes, cut at a character). */
#define UNIT_STATUS_PROCESSES_MAX 1024U
#define UNIT_STATUS_CMDLINE_MAX 4096U
/* The longest text kept: STATUS=, the error text, the health error. */
#define UNIT_STATUS_TEXT_MAX 4096U

typedef enum UnitStatusFlags {
        UNIT_STATUS_STATS = 1 << 0,     /* cpu, memory, tasks, frozen from the cgroup */
        UNIT_STATUS_PROCESSES = 1 << 1, /* the processes, from cgroup.procs and /proc */
} UnitStatusFlags;

typedef enum UnitMemorySource {
        UNIT_MEMORY_NONE,    /* not known */
        UNIT_MEMORY_CURRENT, /* the cgroup's memory.current */
        UNIT_MEMORY_RSS,     /* the sum of its processes' resident sets (no memory controller) */
} UnitMemorySource;

typedef struct UnitProcess {
        pid_t pid;
        pid_t ppid;    /* 0 when /proc/PID/stat could not be read */
        char *cmdline; /* arguments joined by spaces; NULL when unreadable (a zombie, gone) */
} UnitProcess;

typedef struct UnitHealthStatus {
        bool ok;           /* the last check passed */
        long http_status;  /* of the last check */
        usec_t latency;    /* of the last check */
        unsigned failures; /* in a row */
        unsigned checks;   /* since corrald started */
        usec_t age;        /* since the last check ended; 0 before the first */
        char *error;       /* why the last check failed, or NULL */
} UnitHealthStatus;

typedef struct UnitStatus {
        char *name;
        bool is_job;
        uid_t owner_uid;
        UnitState state;
        UnitResult result;
        pid_t main_pid;  /* 0: none */
        int exit_code;   /* CLD_EXITED, CLD_KILLED, CLD_DUMPED; 0 before any exit */
        int exit_status; /* exit status or signal */
        unsigned restarts;
        usec_t uptime;     /* 0 unless running */
        char *status_text; /* the last STATUS=, or NULL */
        char *error_text;  /* why the last start or run failed, or NULL */
        uint16_t port;     /* 0: none */
        usec_t since;      /* CLOCK_REALTIME of the last state change */
        UnitResult reason; /* of the last restart or failure; _UNIT_RESULT_INVALID: none */
        int reason_exit_code, reason_exit_status;
        bool has_health; /* the unit has health checks */
        UnitHealthStatus health;

        /* UNIT_STATUS_STATS, each with whether it could be read */
        bool has_cpu, has_tasks, has_frozen;
        uint64_t cpu_usec;
        uint64_t tasks;
        uint64_t memory_bytes; /* when memory_source is not UNIT_MEMORY_NONE */
        UnitMemorySource memory_source;
        bool frozen;

        /* UNIT_STATUS_PROCESSES */
        bool has_processes;
        UnitProcess *processes;
        size_t n_processes;
        bool processes_truncated; /* more than UNIT_STATUS_PROCESSES_MAX */
} UnitStatus;

/* Fills *ret from u: its state, always; with UNIT_STATUS_STATS its cgroup's
 * statistics, with UNIT_STATUS_PROCESSES its processes (for a unit without
 * a cgroup: none, and has_processes still set). A statistic that cannot be
 * read is left out (has_* false). Returns 0 or -ENOMEM; *ret is written
 * only on success and is emptied with unit_status_done(). */
int unit_status_get(const Unit *u, UnitStatusFlags flags, UnitStatus *ret);

/* Frees what s holds and zeroes it; accepts a zeroed struct. */
void unit_status_done(UnitStatus *s);

/* Why the unit last restarted or failed, as status shows it: "unhealthy",
 * "exit-code 3", "signal KILL", "core-dump SEGV", "watchdog",
 * "start-limit", …; NULL when it never did. Returns buf or NULL. */
const char *unit_status_reason(const UnitStatus *s, char *buf, size_t size);

/* Copies text into *ret as valid UTF-8 (each byte that does not start a
 * character becomes U+FFFD, as journald does), cut at a character so that
 * it holds at most max bytes; NULL stays NULL.
 * Returns 0 or -ENOMEM. What unit_status_get() does with every string. */
int unit_status_set_text(char **ret, const char *text, size_t max);

/* Small reads of a unit for those that must not dereference one (control):
 * the name, whether it is a job, who submitted it (0 for services),
 * whether it is inactive or failed, whether a reload dropped it (it is on
 * its way out), and whether "every unit" lists it (a unit a reload
 * dropped is listed only until it has stopped). */
const char *unit_status_name(const Unit *u);
bool unit_status_is_job(const Unit *u);
uid_t unit_status_owner(const Unit *u);
bool unit_status_is_inactive(const Unit *u);
bool unit_status_is_removed(const Unit *u);
bool unit_status_is_listed(const Unit *u);
