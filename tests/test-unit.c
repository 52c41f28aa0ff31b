/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The unit module without root: the state kept with a unit's cgroup for a
 * corrald that restarts after a crash, the restart policy, and the state
 * table itself — every (state, event) pair — driven through a fake
 * UnitContext whose ops stand in for the cgroup and the processes (a
 * real cgroup and real children cannot be had without root; the e2e
 * tests drive the same table through the real ops). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "macro.h"
#include "unit-restart.h"
#include "strv.h"
#include "unit.h"

static void test_persisted_roundtrip(void **state) {
        UnitPersisted p = { .main_pid = 812,
                            .main_start = 343497,
                            .hash = 0x5ad1bbf7aa1eb49dULL,
                            .port = 30000,
                            .restarts = 2,
                            .since = 1795410750885305ULL },
                      q;
        char buf[256];

        assert_int_equal(unit_persisted_format(&p, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "main=812:343497 hash=5ad1bbf7aa1eb49d port=30000 restarts=2 since=1795410750885305");
        assert_int_equal(unit_persisted_parse(buf, &q), 0);
        assert_int_equal(q.main_pid, p.main_pid);
        assert_int_equal(q.main_start, p.main_start);
        assert_int_equal(q.hash, p.hash);
        assert_int_equal(q.port, p.port);
        assert_int_equal(q.restarts, p.restarts);
        assert_int_equal(q.since, p.since);
        assert_int_equal(unit_persisted_format(&p, buf, 10), -ENOBUFS);

        /* the inodes of the output pipes, for systemd's fd store */
        p.pipes[0] = 45678;
        p.pipes[1] = 45679;
        assert_int_equal(unit_persisted_format(&p, buf, sizeof(buf)), 0);
        assert_string_equal(buf,
                            "main=812:343497 hash=5ad1bbf7aa1eb49d port=30000 restarts=2 since=1795410750885305 "
                            "pipes=45678:45679");
        assert_int_equal(unit_persisted_parse(buf, &q), 0);
        assert_int_equal(q.pipes[0], 45678);
        assert_int_equal(q.pipes[1], 45679);
}

static void test_persisted_table(void **state) {
        static const struct {
                const char *text;
                int r;
        } cases[] = {
                { "main=1:2 hash=ff port=0 restarts=0 since=0", 0 },
                { "since=0 restarts=0 port=0 hash=ff main=1:2", 0 },          /* any order */
                { "main=1:2 hash=ff port=0 restarts=0 since=0 future=x", 0 }, /* unknown keys ignored */
                { "main=1:2  hash=ff port=0 restarts=0 since=0", 0 },         /* blanks */
                { "", -EBADMSG },
                { "main=1:2 hash=ff port=0 restarts=0", -EBADMSG },         /* since missing */
                { "main=0:2 hash=ff port=0 restarts=0 since=0", -EBADMSG }, /* PID 0 */
                { "main=1 hash=ff port=0 restarts=0 since=0", -EBADMSG },   /* no start time */
                { "main=-1:2 hash=ff port=0 restarts=0 since=0", -EBADMSG },
                { "main=1:2 hash=xyz port=0 restarts=0 since=0", -EBADMSG },
                { "main=1:2 hash=ff port=70000 restarts=0 since=0", -EBADMSG },
                { "main=1:2 hash=ff port=0 restarts=0 since=0 junk", -EBADMSG },
                { "main=1:2 hash=ff port= restarts=0 since=0", -EBADMSG },
                { "main=99999999999:2 hash=ff port=0 restarts=0 since=0", -EBADMSG },
                { "main=1:2 hash=ff port=0 restarts=0 since=0 pipes=0:7", 0 },
                { "main=1:2 hash=ff port=0 restarts=0 since=0 pipes=7", -EBADMSG },
                { "main=1:2 hash=ff port=0 restarts=0 since=0 pipes=7:x", -EBADMSG },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                UnitPersisted p;
                print_message("%s\n", cases[i].text);
                assert_int_equal(unit_persisted_parse(cases[i].text, &p), cases[i].r);
        }
}

/* ---- The restart policy ---- */

static void test_restart_policy(void **state) {
        assert_true(restart_policy_wants(RESTART_ALWAYS, true));
        assert_true(restart_policy_wants(RESTART_ALWAYS, false));
        assert_false(restart_policy_wants(RESTART_ON_FAILURE, true));
        assert_true(restart_policy_wants(RESTART_ON_FAILURE, false));
        assert_false(restart_policy_wants(RESTART_NEVER, false));

        static const struct {
                usec_t base, max;
                unsigned step;
                uint64_t rnd;
                usec_t want;
        } cases[] = {
                { 100, 800, 0, 10, 100 },                            /* jitter below base is lifted to base */
                { 100, 800, 1, 10, 190 },                            /* 200 - 10% + 0 */
                { 100, 800, 1, 20, 200 },                            /* the middle of the band */
                { 100, 800, 1, 40, 220 },                            /* the top of the band */
                { 100, 800, 3, 80, 800 },                            /* 800 + 10% capped at max */
                { 100, 800, 3, 0, 720 },  { 100, 800, 30, 80, 800 }, /* no overflow on many steps */
                { 100, 50, 5, 7, 100 },                              /* max below base counts as base */
                { 0, 800, 4, 12345, 0 },                             /* no delay stays none */
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                assert_int_equal(restart_delay(cases[i].base, cases[i].max, cases[i].step, cases[i].rnd),
                                 cases[i].want);

        usec_t times[3];
        size_t n = 0;
        start_limit_record(times, &n, 3, 1000);
        start_limit_record(times, &n, 3, 2000);
        assert_false(start_limit_hit(times, n, 3, 5000, 2500));
        start_limit_record(times, &n, 3, 3000);
        assert_true(start_limit_hit(times, n, 3, 5000, 3000));
        assert_false(start_limit_hit(times, n, 3, 5000, 6001)); /* the first start is out of the interval */
        start_limit_record(times, &n, 3, 9000);                 /* the oldest drops out */
        assert_int_equal(n, 3);
        assert_int_equal(times[0], 2000);
        assert_int_equal(times[2], 9000);
}

/* ---- The state table through a fake context ---- */

#define FAKE_PID 999999999 /* no such process: nothing real is ever hit */

typedef struct Fake {
        int populated;
        int create_error;
        int spawn_error;
        int report;            /* what the exec report says: 0 or -errno */
        int reap_error;        /* 0: the exit below; -ENODATA: unknown (yet) */
        unsigned reap_unknown; /* this many -ENODATA before the exit */
        siginfo_t exit;
        unsigned created, removed, killed, signalled, spawned, main_signalled;
        pid_t signalled_main; /* the main process cgroup_signal was given, 0: none */
        int next_wd;          /* > 0: the watch descriptors handed out, counting up; 0: FAKE_WD */
        int report_pipe[2];
        UnitState transitions[64];
        size_t n_transitions;
} Fake;

static Fake fake;

static int dev_null(void) {
        return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* The unit's cgroup directory stands in as a memfd of this name, so that
 * what is left open can be counted (a unit keeps none: 10,000 units
 * would need 10,000 descriptors). */
#define FAKE_CGROUP "fake-cgroup"
#define FAKE_WD 7

static bool is_fake_cgroup(int fd) {
        char path[64], target[64];
        ssize_t n;

        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        n = readlink(path, target, sizeof(target) - 1);
        if (n < 0)
                return false;
        target[n] = '\0';
        return strneq(target, "/memfd:" FAKE_CGROUP " ", strlen("/memfd:" FAKE_CGROUP " "));
}

/* How many fake cgroup directories are open now. */
static unsigned fake_cgroups_open(void) {
        unsigned n = 0;

        for (int fd = 0; fd < 1024; fd++)
                n += is_fake_cgroup(fd);
        return n;
}

static int f_cgroup_create(UnitContext *c, const char *name, int *ret_fd) {
        if (fake.create_error < 0)
                return fake.create_error;
        fake.created++;
        *ret_fd = memfd_create(FAKE_CGROUP, MFD_CLOEXEC);
        return 0;
}

static int f_cgroup_open(UnitContext *c, const char *name, int *ret_fd) {
        *ret_fd = memfd_create(FAKE_CGROUP, MFD_CLOEXEC);
        return 0;
}

static int f_cgroup_remove(UnitContext *c, const char *name, int wd) {
        fake.removed++;
        return 0;
}

static int f_cgroup_watch(UnitContext *c, const char *name, int *ret_wd) {
        *ret_wd = fake.next_wd > 0 ? fake.next_wd : FAKE_WD;
        if (fake.next_wd > 0)
                fake.next_wd = fake.next_wd == INT_MAX ? 1 : fake.next_wd + 1; /* as the kernel wraps */
        return 0;
}

static void f_cgroup_unwatch(UnitContext *c, int wd) {
}

static int f_cgroup_populated(UnitContext *c, const char *name) {
        return fake.populated;
}

static int f_cgroup_kill(int fd) {
        assert_true(is_fake_cgroup(fd));
        fake.killed++;
        return 0;
}

static int f_cgroup_signal(UnitContext *c, const char *name, int sig, bool also_cont, const PidRef *main) {
        fake.signalled++;
        fake.signalled_main = pidref_is_set(main) ? main->pid : 0;
        return 1;
}

static int f_spawn(const SpawnParams *p, PidRef *ret, int *ret_report_fd) {
        assert_true(is_fake_cgroup(p->cgroup_fd)); /* the clone goes into the unit's cgroup */
        if (fake.spawn_error < 0)
                return fake.spawn_error;
        fake.spawned++;
        if (fake.report_pipe[0] < 0)
                assert_int_equal(pipe2(fake.report_pipe, O_CLOEXEC), 0);
        *ret = (PidRef) { .pid = FAKE_PID, .fd = dev_null() };
        *ret_report_fd = fcntl(fake.report_pipe[0], F_DUPFD_CLOEXEC, 3);
        fake.populated = 1;
        return 0;
}

static int f_read_report(int fd, SpawnStep *ret_step) {
        *ret_step = SPAWN_STEP_EXEC;
        return fake.report;
}

static int f_reap(PidRef *main, siginfo_t *ret) {
        if (fake.reap_unknown > 0) {
                fake.reap_unknown--;
                return -ENODATA;
        }
        if (fake.reap_error < 0)
                return fake.reap_error;
        *ret = fake.exit;
        return 0;
}

static int f_signal_main(const PidRef *p, int sig) {
        fake.main_signalled++;
        return 0;
}

static const UnitOps fake_ops = {
        .cgroup_create = f_cgroup_create,
        .cgroup_open = f_cgroup_open,
        .cgroup_remove = f_cgroup_remove,
        .cgroup_watch = f_cgroup_watch,
        .cgroup_unwatch = f_cgroup_unwatch,
        .cgroup_populated = f_cgroup_populated,
        .cgroup_kill = f_cgroup_kill,
        .cgroup_signal = f_cgroup_signal,
        .spawn = f_spawn,
        .read_report = f_read_report,
        .reap = f_reap,
        .signal_main = f_signal_main,
};

static void on_changed(Unit *u, UnitState old_state, void *userdata) {
        assert_int_equal(old_state == u->state, false);
        if (fake.n_transitions < ELEMENTSOF(fake.transitions))
                fake.transitions[fake.n_transitions++] = u->state;
}

typedef struct World {
        UnitContext ctx;
        ServiceConfig *config;
        Unit *unit;
} World;

static int world_setup(void **state) {
        World *w = calloc(1, sizeof(World));

        assert_non_null(w);
        fake = (Fake) { .report_pipe = { -EBADF, -EBADF } };
        fake.exit.si_pid = FAKE_PID;
        fake.exit.si_code = CLD_EXITED;
        assert_int_equal(sd_event_new(&w->ctx.event), 0);
        assert_int_equal(ports_new(40000, 40010, &w->ctx.ports), 0);
        w->ctx.devnull_fd = dev_null();
        w->ctx.ops = &fake_ops;
        w->ctx.state_changed = on_changed;
        w->config = service_config_new("svc", "test.conf", 1);
        assert_non_null(w->config);
        assert_int_equal(strv_extend(&w->config->command, "/bin/true"), 0);
        w->config->ready = READY_NOTIFY;
        assert_non_null(service_config_block(w->config, CONFIG_BLOCK_EXTRAS));
        w->config->extras->output = OUTPUT_NULL;
        assert_non_null(service_config_block(w->config, CONFIG_BLOCK_TUNING));
        w->config->tuning->start_limit_burst = 3;
        w->unit = unit_new(&w->ctx, "svc", w->config, -1);
        assert_non_null(w->unit);
        *state = w;
        return 0;
}

static int world_teardown(void **state) {
        World *w = *state;

        unit_free(w->unit);
        assert_null(unit_context_find_watch(&w->ctx, FAKE_WD)); /* the freed unit's watch is gone */
        unit_context_done(&w->ctx);
        service_config_unref(w->config);
        ports_free(w->ctx.ports);
        safe_close(w->ctx.devnull_fd);
        sd_event_unref(w->ctx.event);
        safe_close(fake.report_pipe[0]);
        safe_close(fake.report_pipe[1]);
        free(w);
        return 0;
}

/* The main process ends (as the reaper would report it). */
static void main_exits(Unit *u, int code, int status, bool leaves_processes) {
        fake.exit = (siginfo_t) {};
        fake.exit.si_pid = FAKE_PID;
        fake.exit.si_code = code;
        fake.exit.si_status = status;
        fake.populated = leaves_processes;
        unit_main_exited(u);
}

/* Brings the unit into state s by events only. */
static void reach(Unit *u, UnitState s) {
        switch (s) {
        case UNIT_INACTIVE:
                break;
        case UNIT_STARTING:
                unit_dispatch(u, UNIT_EVENT_START);
                break;
        case UNIT_RUNNING:
                unit_dispatch(u, UNIT_EVENT_START);
                unit_dispatch(u, UNIT_EVENT_EXEC_OK);
                unit_dispatch(u, UNIT_EVENT_READY);
                break;
        case UNIT_STOPPING:
                reach(u, UNIT_RUNNING);
                unit_dispatch(u, UNIT_EVENT_STOP);
                break;
        case UNIT_EXITED: /* as a oneshot; then the service is what it was */
                u->config->type = SERVICE_TYPE_ONESHOT;
                u->config->ready = READY_EXEC;
                unit_dispatch(u, UNIT_EVENT_START);
                unit_dispatch(u, UNIT_EVENT_EXEC_OK);
                main_exits(u, CLD_EXITED, 0, /* leaves_processes= */ false);
                u->config->type = SERVICE_TYPE_SIMPLE;
                u->config->ready = READY_NOTIFY;
                break;
        case UNIT_BACKOFF:
                reach(u, UNIT_RUNNING);
                main_exits(u, CLD_EXITED, 1, /* leaves_processes= */ false);
                break;
        case UNIT_FAILED:
                fake.create_error = -EIO;
                unit_dispatch(u, UNIT_EVENT_START);
                fake.create_error = 0;
                break;
        default:
                fail();
        }
        assert_int_equal(u->state, s);
}

/* Where each event leads from each state (the service: ready = notify,
 * restart = on-failure; processes run in starting, running and stopping;
 * adoption finds nothing kept, so what is there is stopped as leftover). */
static const UnitState expected[_UNIT_STATE_MAX][_UNIT_EVENT_MAX] = {
#define I UNIT_INACTIVE
#define S UNIT_STARTING
#define R UNIT_RUNNING
#define T UNIT_STOPPING
#define B UNIT_BACKOFF
#define F UNIT_FAILED
#define E UNIT_EXITED
        /*            START STOP RESTART EXEC_OK EXEC_FAILED MAIN_EXITED CGROUP TIMER READY WATCHDOG HEALTHY UNHEALTHY ADOPT LEFTOVER */
        [UNIT_INACTIVE] = { S, I, S, I, I, I, I, I, I, I, I, I, T, T },
        [UNIT_STARTING] = { S, T, T, S, T, T, S, T, R, S, S, T, S, S },
        [UNIT_RUNNING] = { R, T, T, R, R, T, R, T, R, T, R, T, R, R },
        [UNIT_STOPPING] = { T, T, T, T, T, T, T, T, T, T, T, T, T, T },
        [UNIT_BACKOFF] = { S, I, S, B, B, B, B, S, B, B, B, B, B, B },
        [UNIT_FAILED] = { S, F, S, F, F, F, F, F, F, F, F, F, F, F },
        [UNIT_EXITED] = { S, I, S, E, E, E, E, E, E, E, E, E, E, E },
#undef E
#undef I
#undef S
#undef R
#undef T
#undef B
#undef F
};

static void dispatch_as_it_happens(Unit *u, UnitEvent e) {
        switch (e) {
        case UNIT_EVENT_EXEC_FAILED:
                u->exec_step = SPAWN_STEP_EXEC;
                u->exec_error = ENOENT;
                break;
        case UNIT_EVENT_MAIN_EXITED:
                /* reaped: the main process is gone, one of its children stays */
                pidref_done(&u->main);
                break;
        case UNIT_EVENT_ADOPT:
        case UNIT_EVENT_LEFTOVER:
                fake.populated = 1; /* an earlier corrald left processes there */
                break;
        default:
                break;
        }
        unit_dispatch(u, e);
}

static void test_table_every_pair(void **state) {
        for (UnitState s = 0; s < _UNIT_STATE_MAX; s++)
                for (UnitEvent e = 0; e < _UNIT_EVENT_MAX; e++) {
                        World *w;
                        assert_int_equal(world_setup((void **) &w), 0);
                        reach(w->unit, s);
                        assert_int_equal(fake_cgroups_open(), 0);
                        print_message("%s + %s\n", unit_state_to_string(s), unit_event_to_string(e));
                        dispatch_as_it_happens(w->unit, e);
                        assert_string_equal(unit_state_to_string(w->unit->state), unit_state_to_string(expected[s][e]));
                        /* no state keeps the cgroup open; what runs has one */
                        assert_int_equal(fake_cgroups_open(), 0);
                        if (w->unit->state == UNIT_STARTING || w->unit->state == UNIT_RUNNING ||
                            w->unit->state == UNIT_STOPPING)
                                assert_true(w->unit->has_cgroup);
                        /* an inotify event finds the unit by its watch while it has a cgroup */
                        if (w->unit->has_cgroup)
                                assert_ptr_equal(unit_context_find_watch(&w->ctx, FAKE_WD), w->unit);
                        else
                                assert_null(unit_context_find_watch(&w->ctx, FAKE_WD));
                        /* what the state does not allow is released */
                        if (w->unit->state != UNIT_RUNNING)
                                assert_null(w->unit->watchdog);
                        if (w->unit->state != UNIT_STARTING)
                                assert_null(w->unit->exec);
                        if (unit_is_inactive(w->unit))
                                assert_null(w->unit->timer);
                        if (w->unit->state == UNIT_BACKOFF || w->unit->state == UNIT_STOPPING)
                                assert_non_null(w->unit->timer);
                        world_teardown((void **) &w);
                }
}

/* A oneshot: starting while it runs (ready when it exits 0), no start
 * timeout and no restart unless its section sets them; exited
 * afterwards, failed after a non-zero status. */
static void test_oneshot(void **state) {
        World *w = *state;
        Unit *u = w->unit;

        w->config->type = SERVICE_TYPE_ONESHOT;
        w->config->ready = READY_EXEC;
        unit_dispatch(u, UNIT_EVENT_START);
        unit_dispatch(u, UNIT_EVENT_EXEC_OK);
        assert_int_equal(u->state, UNIT_STARTING);
        assert_null(u->timer); /* start_timeout is not set: none */
        main_exits(u, CLD_EXITED, 0, /* leaves_processes= */ false);
        assert_int_equal(u->state, UNIT_EXITED);
        assert_int_equal(u->result, UNIT_SUCCESS);
        assert_true(unit_is_inactive(u));
        assert_null(u->timer);

        /* again, failing: not restarted (restart is not set) */
        unit_dispatch(u, UNIT_EVENT_START);
        assert_int_equal(fake.spawned, 2);
        unit_dispatch(u, UNIT_EVENT_EXEC_OK);
        main_exits(u, CLD_EXITED, 1, /* leaves_processes= */ false);
        assert_int_equal(u->state, UNIT_FAILED);
        assert_int_equal(u->result, UNIT_FAILURE_EXIT_CODE);

        /* restart = on-failure, written: it is */
        w->config->restart = RESTART_ON_FAILURE;
        w->config->restart_set = true;
        unit_reset_failure_counters(u); /* start_limit_burst is 3 here */
        unit_dispatch(u, UNIT_EVENT_START);
        unit_dispatch(u, UNIT_EVENT_EXEC_OK);
        main_exits(u, CLD_EXITED, 1, /* leaves_processes= */ false);
        assert_int_equal(u->state, UNIT_BACKOFF);
        unit_dispatch(u, UNIT_EVENT_STOP);

        /* start_timeout, written, bounds the run */
        w->config->start_timeout = 5 * USEC_PER_SEC;
        w->config->start_timeout_set = true;
        unit_reset_failure_counters(u);
        unit_dispatch(u, UNIT_EVENT_START);
        unit_dispatch(u, UNIT_EVENT_EXEC_OK);
        assert_non_null(u->timer);
        unit_dispatch(u, UNIT_EVENT_TIMER);
        assert_int_equal(u->state, UNIT_STOPPING);
        assert_int_equal(u->result, UNIT_FAILURE_TIMEOUT);
}

/* A stop ends when the main process is gone and the cgroup is empty, and
 * a start that came during it runs then. */
static void test_stop_then_start(void **state) {
        World *w = *state;
        Unit *u = w->unit;

        reach(u, UNIT_STOPPING);
        assert_int_equal(fake.signalled, 1);
        /* the main process first, through its pidfd, then the others */
        assert_true(fake.signalled_main > 0);
        assert_int_equal(fake.signalled_main, u->main.pid);
        unit_dispatch(u, UNIT_EVENT_START);
        main_exits(u, CLD_KILLED, SIGTERM, /* leaves_processes= */ true);
        assert_int_equal(u->state, UNIT_STOPPING);
        unit_dispatch(u, UNIT_EVENT_TIMER); /* the grace is over */
        assert_int_equal(fake.killed, 1);
        fake.populated = 0;
        unit_dispatch(u, UNIT_EVENT_CGROUP);
        assert_int_equal(u->state, UNIT_STARTING); /* the pending start */
        assert_int_equal(fake.removed, 1);
        assert_int_equal(fake.spawned, 2);
        assert_int_equal(u->result, UNIT_SUCCESS);
}

/* Many units in one context: an inotify event finds each by its watch
 * descriptor — also across the kernel's wrap back to small descriptors,
 * and once freed units' watches are gone (the map compacts). */
static void test_watches_many(void **state) {
        World *w = *state;
        Unit *units[300];

        fake.next_wd = INT_MAX - 99;
        for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                char name[16];
                if (i == 100)
                        assert_int_equal(fake.next_wd, 1); /* wrapped */
                snprintf(name, sizeof(name), "many@%zu", i);
                assert_non_null(units[i] = unit_new(&w->ctx, name, w->config, (int) i));
                reach(units[i], UNIT_RUNNING);
                assert_int_equal(units[i]->state, UNIT_RUNNING);
        }
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                assert_ptr_equal(unit_context_find_watch(&w->ctx, units[i]->watch_wd), units[i]);
        assert_null(unit_context_find_watch(&w->ctx, 500));
        for (size_t i = 0; i < ELEMENTSOF(units); i += 3) {
                int wd = units[i]->watch_wd;
                units[i] = unit_free(units[i]);
                assert_null(unit_context_find_watch(&w->ctx, wd));
        }
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (units[i])
                        assert_ptr_equal(unit_context_find_watch(&w->ctx, units[i]->watch_wd), units[i]);
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                unit_free(units[i]);
        assert_int_equal(w->ctx.n_watches - w->ctx.n_watches_dead, 0);
        fake.next_wd = 0;
}

/* A failed exec is a failed start: no restart, the error kept, and the
 * 127 of the child that could not exec is not the program's status. */
static void test_exec_failed(void **state) {
        World *w = *state;
        Unit *u = w->unit;

        reach(u, UNIT_STARTING);
        fake.report = -ENOENT;
        fake.populated = 0;
        unit_main_exited(u); /* the report is read first */
        assert_int_equal(u->state, UNIT_FAILED);
        assert_int_equal(u->result, UNIT_FAILURE_SPAWN);
        assert_int_equal(u->exit_code, 0);
        assert_non_null(strstr(u->error_text, "No such file or directory"));
        assert_int_equal(fake.removed, 1);
}

/* A crash loop restarts with backoff until the start limit. */
static void test_crash_loop_start_limit(void **state) {
        World *w = *state;
        Unit *u = w->unit;

        reach(u, UNIT_RUNNING);
        for (int i = 0; i < 2; i++) {
                main_exits(u, CLD_KILLED, SIGSEGV, /* leaves_processes= */ false);
                assert_int_equal(u->state, UNIT_BACKOFF);
                assert_int_equal(u->result, UNIT_FAILURE_SIGNAL);
                unit_dispatch(u, UNIT_EVENT_TIMER);
                assert_int_equal(u->state, UNIT_STARTING);
        }
        main_exits(u, CLD_EXITED, 2, /* leaves_processes= */ false);
        assert_int_equal(u->state, UNIT_FAILED);
        assert_int_equal(u->result, UNIT_FAILURE_START_LIMIT);
        assert_int_equal(u->n_restarts, 2);
        /* a request starts it again, counters reset */
        unit_dispatch(u, UNIT_EVENT_RESTART);
        assert_int_equal(u->state, UNIT_STARTING);
        assert_int_equal(u->n_restarts, 0);
}

/* The smallest bursts: the ring of start times is made at the second
 * start (the first, for a burst of 1), and the limit holds all the same. */
static void test_start_limit_small_bursts(void **state) {
        World *w = *state;
        Unit *u = w->unit;

        w->config->tuning->start_limit_burst = 1;
        reach(u, UNIT_RUNNING);
        main_exits(u, CLD_KILLED, SIGSEGV, /* leaves_processes= */ false);
        assert_int_equal(u->state, UNIT_FAILED);
        assert_int_equal(u->result, UNIT_FAILURE_START_LIMIT);

        World *w2;
        assert_int_equal(world_setup((void **) &w2), 0);
        w2->config->tuning->start_limit_burst = 2;
        reach(w2->unit, UNIT_RUNNING);
        assert_null(w2->unit->start_times); /* one start: no ring yet */
        main_exits(w2->unit, CLD_KILLED, SIGSEGV, /* leaves_processes= */ false);
        assert_int_equal(w2->unit->state, UNIT_BACKOFF);
        unit_dispatch(w2->unit, UNIT_EVENT_TIMER);
        assert_int_equal(w2->unit->state, UNIT_STARTING);
        assert_non_null(w2->unit->start_times);
        main_exits(w2->unit, CLD_KILLED, SIGSEGV, /* leaves_processes= */ false);
        assert_int_equal(w2->unit->state, UNIT_FAILED);
        assert_int_equal(w2->unit->result, UNIT_FAILURE_START_LIMIT);
        world_teardown((void **) &w2);
}

/* A unit shares its service's name, and keeps it when a reload gives it
 * another configuration and the first is gone. */
static void test_name_shared(void **state) {
        World *w = *state;
        ServiceConfig *next = service_config_new("svc", "next.conf", 1);

        assert_non_null(next);
        assert_ptr_equal(w->unit->name, w->config->name);
        unit_set_config(w->unit, next);
        service_config_unref(w->config);
        w->config = next;
        assert_string_equal(w->unit->name, "svc");
}

/* Out of file descriptors at a start: a restartable failure, not a
 * permanent one. */
static void test_transient_start_failure(void **state) {
        World *w = *state;
        Unit *u = w->unit;

        fake.create_error = -EMFILE;
        unit_dispatch(u, UNIT_EVENT_START);
        assert_int_equal(u->state, UNIT_BACKOFF);
        assert_int_equal(u->result, UNIT_FAILURE_RESOURCES);
        fake.create_error = 0;
        unit_dispatch(u, UNIT_EVENT_TIMER);
        assert_int_equal(u->state, UNIT_STARTING);

        /* so does a clone out of descriptors (10,000 units at the limit) */
        unit_dispatch(u, UNIT_EVENT_STOP);
        main_exits(u, CLD_KILLED, SIGTERM, /* leaves_processes= */ false);
        assert_int_equal(u->state, UNIT_INACTIVE);
        unit_reset_failure_counters(u); /* start_limit_burst is 3 here */
        fake.spawn_error = -EMFILE;
        unit_dispatch(u, UNIT_EVENT_START);
        assert_int_equal(u->state, UNIT_BACKOFF);
        assert_int_equal(u->result, UNIT_FAILURE_SPAWN);
        fake.spawn_error = 0;
        unit_dispatch(u, UNIT_EVENT_TIMER);
        assert_int_equal(u->state, UNIT_STARTING);

        /* any other resource error fails for good */
        World *w2;
        assert_int_equal(world_setup((void **) &w2), 0);
        fake.create_error = -EACCES;
        unit_dispatch(w2->unit, UNIT_EVENT_START);
        assert_int_equal(w2->unit->state, UNIT_FAILED);
        world_teardown((void **) &w2);
}

static int run_until(sd_event *e, Unit *u, UnitState s) {
        for (int i = 0; i < 1000 && u->state != s; i++)
                if (sd_event_run(e, 100 * USEC_PER_MSEC) < 0)
                        return -EIO;
        return u->state == s ? 0 : -ETIMEDOUT;
}

/* An adopted main process whose exit the kernel cannot tell yet is asked
 * again from the loop; one it never can tell counts as a failure. */
static void test_exit_unknown_retried(void **state) {
        World *w = *state;
        Unit *u = w->unit;

        reach(u, UNIT_RUNNING);
        fake.reap_unknown = 3;
        main_exits(u, CLD_KILLED, SIGSEGV, /* leaves_processes= */ false);
        assert_int_equal(u->state, UNIT_RUNNING); /* not judged yet */
        assert_non_null(u->exit_retry);
        assert_int_equal(run_until(w->ctx.event, u, UNIT_BACKOFF), 0);
        assert_int_equal(u->result, UNIT_FAILURE_SIGNAL);
        assert_int_equal(fake.reap_unknown, 0);
}

/* READY=1 while the exec report still reads EAGAIN (its write end held,
 * for a moment, by another unit's child that has not exec'd): only the
 * program speaks, so the message counts and the start is done. It was
 * dropped ("too early to listen"), and a MAINPID= with it. */
static void test_notify_before_exec_report(void **state) {
        World *w = *state;
        Unit *u = w->unit;
        struct ucred sender = { .pid = FAKE_PID };
        NotifyMessage msg = { .ready = true };

        fake.report = -EAGAIN;
        unit_dispatch(u, UNIT_EVENT_START);
        assert_int_equal(u->state, UNIT_STARTING);
        assert_non_null(u->exec);
        unit_notify(u, &sender, &msg);
        assert_int_equal(u->state, UNIT_RUNNING);
        assert_null(u->exec);
}

static void test_transitions_reported(void **state) {
        World *w = *state;
        Unit *u = w->unit;

        reach(u, UNIT_RUNNING);
        unit_dispatch(u, UNIT_EVENT_STOP);
        main_exits(u, CLD_KILLED, SIGTERM, /* leaves_processes= */ false);
        assert_int_equal(u->state, UNIT_INACTIVE);
        assert_int_equal(u->result, UNIT_SUCCESS); /* a requested stop by the stop signal is clean */
        static const UnitState want[] = { UNIT_STARTING, UNIT_RUNNING, UNIT_STOPPING, UNIT_INACTIVE };
        assert_int_equal(fake.n_transitions, ELEMENTSOF(want));
        for (size_t i = 0; i < ELEMENTSOF(want); i++)
                assert_int_equal(fake.transitions[i], want[i]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_persisted_roundtrip),
                cmocka_unit_test(test_persisted_table),
                cmocka_unit_test(test_restart_policy),
                cmocka_unit_test(test_table_every_pair),
                cmocka_unit_test_setup_teardown(test_stop_then_start, world_setup, world_teardown),
                cmocka_unit_test_setup_teardown(test_watches_many, world_setup, world_teardown),
                cmocka_unit_test_setup_teardown(test_oneshot, world_setup, world_teardown),
                cmocka_unit_test_setup_teardown(test_exec_failed, world_setup, world_teardown),
                cmocka_unit_test_setup_teardown(test_crash_loop_start_limit, world_setup, world_teardown),
                cmocka_unit_test_setup_teardown(test_start_limit_small_bursts, world_setup, world_teardown),
                cmocka_unit_test_setup_teardown(test_name_shared, world_setup, world_teardown),
                cmocka_unit_test_setup_teardown(test_transient_start_failure, world_setup, world_teardown),
                cmocka_unit_test_setup_teardown(test_exit_unknown_retried, world_setup, world_teardown),
                cmocka_unit_test_setup_teardown(test_transitions_reported, world_setup, world_teardown),
                cmocka_unit_test_setup_teardown(test_notify_before_exec_report, world_setup, world_teardown),
        };
        return cmocka_run_group_tests_name("unit", tests, NULL, NULL);
}
