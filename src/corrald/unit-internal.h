/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Shared by the files of the unit family only (unit.c, unit-exec.c,
 * unit-health.c, unit-persist.c, unit-ops.c, unit-status.c, unit-fdgate.c). */

#include <sys/resource.h>

#include "macro.h"
#include "spawn.h"
#include "unit.h"

/* ---- unit.c ---- */

/* Logs why the unit failed and keeps the message for status ("error").
 * Returns -abs(error). */
_printf_(3, 4) int unit_fail_message(Unit *u, int error, const char *format, ...);

/* Arms *s (replacing it) at deadline on CLOCK_MONOTONIC; accuracy is how
 * late it may fire, so that sd-event can wake once for several. */
int unit_arm_at(Unit *u, sd_event_source **s, usec_t deadline, usec_t accuracy, sd_event_time_handler_t cb);

/* Transitions, for the files of the family that enter states (the table
 * in unit.c calls them; nothing outside the family may). */
void unit_set_state(Unit *u, UnitState state);
int unit_arm_timer(Unit *u, usec_t delay);
/* When the state's timer fires (CLOCK_MONOTONIC); 0: none. */
usec_t unit_timer_deadline(const Unit *u);
/* Watches the unit's (existing) cgroup: from now on it has one. */
int unit_cgroup_attach(Unit *u);
/* The unit's cgroup directory, opened now (no unit keeps one open: 10,000
 * units would need 10,000 descriptors more): an fd for the caller to
 * close, -ENOENT when the unit has no cgroup, else -errno. */
int unit_cgroup_open(const Unit *u);
/* Stops watching the unit's cgroup.events (unit-ops.c). */
void unit_cgroup_unwatch(Unit *u);
/* Forgets the unit's cgroup: its watch now, the directory once corrald is
 * idle (unit-ops.c). */
void unit_cgroup_release(Unit *u);
/* Whether processes remain in its cgroup (false when it has none, or on
 * an error, which it logs). */
bool unit_cgroup_populated(Unit *u);
/* Keeps ctx's count of stopping units (unit-ops.c): the removal of ended
 * units' cgroups waits while some are. */
void unit_context_count_stopping(UnitContext *c, UnitState old_state, UnitState new_state);
void unit_enter_running(Unit *u);
void unit_enter_stopping(Unit *u, bool requested);
void unit_fail_running(Unit *u, UnitResult result, const char *why);
/* (Re)arms the watchdog while running, with watchdog_usec; off otherwise. */
void unit_arm_watchdog(Unit *u);
/* Reads the exec report and dispatches what it says (EXEC_OK,
 * EXEC_FAILED). Returns true once it is in. */
bool unit_exec_check(Unit *u);
/* A process of the unit has spoken: its main process has exec'd (EXEC_OK
 * unless the report said otherwise already). */
void unit_exec_proven(Unit *u);
/* Watches main's pidfd for its exit (main need not be our child). */
int unit_watch_main(Unit *u, const PidRef *main);
void unit_unwatch_main(Unit *u);

/* The second half of a start: its cgroup, the clone (the first half,
 * unit_enter_start(), reset the unit and asked the gate below). */
void unit_start_spawn(Unit *u);

/* ---- unit-fdgate.c: starts that wait for file descriptors ---- */

typedef struct UnitFdGate UnitFdGate;

/* Puts the start of u in the queue (u starting, its exec a waiting one)
 * when starts are in flight and the descriptor table is nearly full, or
 * when others wait already. Returns whether it waits. */
bool unit_fd_gate_wait(Unit *u);
/* Takes x out of the queue, if it is a waiting one (unit_exec_done()). */
void unit_fd_gate_leave(UnitContext *c, UnitExec *x);
/* A start in flight ended (its report is in, or it failed): the waiting
 * ones go on at the next iteration of the loop, as many as fit. */
void unit_fd_gate_exec_ended(UnitContext *c);
/* After the last unit of c is freed. */
void unit_fd_gate_free(UnitContext *c);

/* ---- unit-exec.c: what a start needs, resolved before the clone ---- */

typedef struct StartContext {
        struct rlimit rlimits[RLIMIT_NLIMITS];
        bool rlimits_set[RLIMIT_NLIMITS];
        SpawnCredentials creds;
        char **vars, **env, **argv;
        char *path, *directory;
        int output_fd;            /* owned: a journal stream, /dev/null, a file */
        int stdout_fd, stderr_fd; /* what the child gets (not owned) */
} StartContext;

#define START_CONTEXT_NULL ((StartContext) { .output_fd = -EBADF, .stdout_fd = -EBADF, .stderr_fd = -EBADF })

void start_context_done(StartContext *c);

/* NAME, INSTANCE and PORT (when the unit has one) as "K=V" entries:
 * expanded in command, directory, environment and health_url, and set in
 * the environment. */
int unit_variables(const Unit *u, char ***ret);

/* Takes the unit's port and resolves credentials, environment, argv,
 * directory, output and the executable. Logs the problem (through
 * unit_fail_message) and returns -errno. */
int unit_prepare(Unit *u, StartContext *c);

/* ---- unit-output.c ---- */

/* Chooses the child's stdout and stderr (c->stdout_fd, c->stderr_fd): the
 * pipes of the unit's UnitOutput when corrald reads its output (inherit,
 * file:PATH, auto without the journal), made at the first start and kept;
 * otherwise what log_unit_output() opens, or corrald's own (inherit-raw).
 * Logs the problem (through unit_fail_message) and returns -errno. */
int unit_output_setup(Unit *u, StartContext *c);

/* Makes a new unit's UnitOutput now, if it will have one: next to the
 * unit in the heap, not among what its first start allocates and frees
 * again, so that those chunks coalesce once freed and can be given back
 * (manager-heap.h). A failure is left to the start to meet again. */
void unit_output_prealloc(Unit *u);

/* The unit's processes are gone: hands out what each stream left without
 * a newline; a job's pipes are closed (it never runs again). */
void unit_output_ended(Unit *u);

/* The inode of the unit's stdout (0) or stderr (1) pipe; 0: none. */
uint64_t unit_output_pipe(const Unit *u, unsigned stream);

/* For an adopted unit: takes back from systemd's fd store the read ends
 * of the pipes (inodes from user.corral, 0: none) an earlier corrald read,
 * so that capture goes on into the ring and files; says so when they are
 * lost (its next write gets EPIPE). */
void unit_output_adopt_pipes(Unit *u, const uint64_t inodes[2]);

/* ---- unit-health.c ---- */

/* Schedules the next check (sooner while a ready = health unit starts). */
void unit_health_schedule(Unit *u);
/* Cancels the timer and any check in flight. */
void unit_health_stop(Unit *u);
/* Stops, and frees what the unit keeps of its checks. */
void unit_health_free(Unit *u);

/* ---- unit-persist.c: what survives a crash of corrald ---- */

/* Writes user.corral on the unit's cgroup (warns when it cannot). */
void unit_persist(Unit *u);

/* What an earlier corrald kept, if it still describes this unit: the same
 * configuration and the very same main process (PID and start time,
 * pidfd opened first), inside this unit's cgroup. -ENOENT nothing kept,
 * -ESTALE configuration changed, -ESRCH main process gone (ret still
 * filled: an exit_type = cgroup unit lives on without it). */
int unit_read_persisted(Unit *u, UnitPersisted *ret, PidRef *ret_main);

/* UNIT_EVENT_ADOPT and UNIT_EVENT_LEFTOVER (see unit_dispatch()). */
void unit_adopt(Unit *u);
void unit_stop_leftover(Unit *u);
