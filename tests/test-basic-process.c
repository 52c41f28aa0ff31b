/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* process-util and pidref_verify(): table tests of the pure parsers of
 * /proc/PID/stat, statm, cmdline and a pidfd's fdinfo (comm with blanks,
 * parentheses and newlines in it, truncated and malformed lines), then the
 * verified reads on real processes: ourselves, a child that renamed itself,
 * the same child as a zombie and once reaped, and (as root) a child whose
 * PID was reaped and handed to another process with clone3(set_tid) — the
 * old PidRef must then answer -ESRCH, never the newcomer's data. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "macro.h"
#include "pidref.h"
#include "process-util.h"
#include "syscall.h"

/* assert_int_equal() that names the case of a table that failed. */
#define assert_case_int(i, got, want)                                                                      \
        do {                                                                                               \
                int _got = (got), _want = (want);                                                          \
                if (_got != _want)                                                                         \
                        print_error("case %zu: %s is %d, expected %d\n", (size_t) (i), #got, _got, _want); \
                assert_int_equal(_got, _want);                                                             \
        } while (0)

/* A /proc/PID/stat line of 52 fields as Linux 6.x writes it, with comm,
 * ppid (4), starttime (22) and rss (24) given. Returns buf. */
static char *stat_line(char *buf, size_t size, const char *comm, const char *ppid, const char *start, const char *rss) {
        snprintf(buf, size,
                 "4242 (%s) S %s 4242 4242 0 -1 4194560 120 0 0 0 3 1 0 0 20 0 1 0 %s 2293760 %s "
                 "18446744073709551615 94000000000000 94000000010000 140000000000000 0 0 0 0 0 1 0 0 17 1 0 0 0 0 "
                 "0 94000000020000 94000000021000 94000000030000 140000000001000 140000000001100 140000000001100 "
                 "140000000002000 0 0\n",
                 comm, ppid, start, rss);
        return buf;
}

static void test_stat_parse(_unused_ void **state) {
        static const struct {
                const char *comm, *ppid, *start;
                int ret_comm, ret_ppid, ret_start;
                pid_t ppid_value;
                uint64_t start_value;
        } cases[] = {
                { "bash", "1", "98765", 0, 0, 0, 1, 98765 },
                { "a b c", "77", "5", 0, 0, 0, 77, 5 },
                { "a) b (c", "77", "5", 0, 0, 0, 77, 5 },
                { ") S 1 2 3", "77", "5", 0, 0, 0, 77, 5 }, /* a comm that looks like fields */
                { "((()))", "0", "0", 0, 0, 0, 0, 0 },
                { "", "2", "18446744073709551615", 0, 0, 0, 2, UINT64_MAX },
                { "new\nline", "3", "4", 0, 0, 0, 3, 4 },
                { "kworker/u8:1-events_unbound", "2", "100", 0, 0, 0, 2, 100 },
                { "x", "2147483647", "1", 0, 0, 0, 2147483647, 1 },
                { "x", "2147483648", "1", 0, -EBADMSG, 0, 0, 1 }, /* not a pid_t */
                { "x", "-1", "1", 0, -EBADMSG, 0, 0, 1 },
                { "x", "1", "18446744073709551616", 0, 0, -EBADMSG, 1, 0 },
                { "x", "1", "12x", 0, 0, -EBADMSG, 1, 0 },
                { "x", "1", "+12", 0, 0, -EBADMSG, 1, 0 },
                { "x", "", "1", 0, -EBADMSG, -EBADMSG, 0, 0 }, /* two blanks in a row */
        };
        char buf[1024];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *comm = NULL;
                uint64_t start = 7;
                pid_t ppid = 7;

                stat_line(buf, sizeof(buf), cases[i].comm, cases[i].ppid, cases[i].start, "250");
                assert_case_int(i, proc_stat_parse_comm(buf, &comm), cases[i].ret_comm);
                assert_string_equal(comm, cases[i].comm);
                assert_case_int(i, proc_stat_parse_ppid(buf, &ppid), cases[i].ret_ppid);
                assert_int_equal(ppid, cases[i].ret_ppid == 0 ? cases[i].ppid_value : 7);
                assert_case_int(i, proc_stat_parse_start_time(buf, &start), cases[i].ret_start);
                assert_int_equal(start, cases[i].ret_start == 0 ? cases[i].start_value : 7);
        }
}

static void test_stat_malformed(_unused_ void **state) {
        static const struct {
                const char *buf;
                int ret_comm, ret_ppid, ret_start;
        } cases[] = {
                { "", -EBADMSG, -EBADMSG, -EBADMSG },
                { "4242 bash S 1 2 3\n", -EBADMSG, -EBADMSG, -EBADMSG },   /* no parentheses */
                { "4242 (bash S 1 2 3\n", -EBADMSG, -EBADMSG, -EBADMSG },  /* no ')' */
                { "4242 bash) S 1 2 3\n", -EBADMSG, -EBADMSG, -EBADMSG },  /* no '(' */
                { "4242 )bash( S 1 2 3\n", -EBADMSG, -EBADMSG, -EBADMSG }, /* wrong order */
                { "4242 (bash)", 0, -EBADMSG, -EBADMSG },                  /* ends after comm */
                { "4242 (bash) S", 0, -EBADMSG, -EBADMSG },
                { "4242 (bash) S 1", 0, 0, -EBADMSG }, /* truncated */
                { "4242 (bash) S 1\n", 0, 0, -EBADMSG },
                { "4242 (bash)S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19\n", 0, -EBADMSG, -EBADMSG },
                { "4242 (bash) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19\n", 0, 0, 0 }, /* 22 fields */
                { "4242 (bash) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19", 0, 0, 0 },   /* no newline */
                { "4242 (bash) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18\n", 0, 0, -EBADMSG },
                { "4242 (bash) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 \n", 0, 0, -EBADMSG },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *comm = NULL;
                uint64_t start;
                pid_t ppid;
                assert_case_int(i, proc_stat_parse_comm(cases[i].buf, &comm), cases[i].ret_comm);
                assert_case_int(i, proc_stat_parse_ppid(cases[i].buf, &ppid), cases[i].ret_ppid);
                assert_case_int(i, proc_stat_parse_start_time(cases[i].buf, &start), cases[i].ret_start);
                if (cases[i].ret_start == 0)
                        assert_int_equal(start, 19);
        }
}

static void test_stat_field(_unused_ void **state) {
        char buf[1024];
        const char *p;
        size_t n;

        stat_line(buf, sizeof(buf), "a) b", "1", "98765", "250");
        assert_int_equal(proc_stat_field(buf, 3, &p, &n), 0);
        assert_int_equal(n, 1);
        assert_true(*p == 'S');
        assert_int_equal(proc_stat_field(buf, 24, &p, &n), 0);
        assert_true(n == 3 && strneq(p, "250", 3));
        assert_int_equal(proc_stat_field(buf, 52, &p, &n), 0);
        assert_true(n == 1 && *p == '0' && p[1] == '\n');
        assert_int_equal(proc_stat_field(buf, 53, &p, &n), -EBADMSG);
        assert_int_equal(proc_stat_field(buf, 2, &p, &n), -EINVAL);
        assert_int_equal(proc_stat_field(buf, 1, &p, &n), -EINVAL);
}

static void test_statm_parse(_unused_ void **state) {
        static const struct {
                const char *buf;
                int ret;
                uint64_t pages;
        } cases[] = {
                { "2560 384 320 200 0 256 0\n", 0, 384 },
                { "0 0 0 0 0 0 0\n", 0, 0 }, /* a zombie */
                { "1 18446744073709551615 0 0 0 0 0\n", 0, UINT64_MAX },
                { "2560 384\n", 0, 384 },
                { "2560 384", 0, 384 },
                { "1 18446744073709551616 0 0 0 0 0\n", -EBADMSG, 0 },
                { "2560\n", -EBADMSG, 0 },
                { "2560", -EBADMSG, 0 },
                { "", -EBADMSG, 0 },
                { " 384 320\n", -EBADMSG, 0 },
                { "2560  384\n", -EBADMSG, 0 },
                { "2560 -384\n", -EBADMSG, 0 },
                { "2560 38x4\n", -EBADMSG, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint64_t pages = 7;
                assert_case_int(i, proc_statm_parse_rss(cases[i].buf, &pages), cases[i].ret);
                assert_int_equal(pages, cases[i].ret == 0 ? cases[i].pages : 7);
        }
}

static void test_cmdline_to_string(_unused_ void **state) {
        static const struct {
                const char *buf;
                size_t n;
                int ret;
                const char *line;
        } cases[] = {
                /* "\000" is a NUL: "sleep", NUL, "1000", NUL */
                { "sleep\0001000\000", 11, 0, "sleep 1000" },
                { "sleep\0001000", 10, 0, "sleep 1000" }, /* cut: no final NUL */
                { "sleep\00010", 8, 0, "sleep 10" },
                { "a b\0c\0\0\0", 8, 0, "a b c" },
                { "\0a\0", 3, 0, " a" }, /* an empty first argument */
                { "setproctitle: x y", 17, 0, "setproctitle: x y" },
                { "\0\0\0", 3, -ENODATA, NULL },
                { "", 0, -ENODATA, NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *s = NULL;

                assert_case_int(i, proc_cmdline_to_string(cases[i].buf, cases[i].n, &s), cases[i].ret);
                if (cases[i].line)
                        assert_string_equal(s, cases[i].line);
                else
                        assert_null(s);
        }
}

static void test_fdinfo_parse(_unused_ void **state) {
        static const struct {
                const char *buf;
                int ret;
                pid_t pid;
        } cases[] = {
                { "pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1234\nPid:\t4242\nNSpid:\t4242\n", 0, 4242 },
                { "Pid:\t1\n", 0, 1 },
                { "Pid: 17", 0, 17 },
                { "pos:\t0\nPid:\t-1\nNSpid:\t-1\n", -ESRCH, 0 },     /* reaped */
                { "pos:\t0\nPid:\t0\n", -EREMOTE, 0 },                /* another namespace */
                { "pos:\t0\nflags:\t02\nmnt_id:\t15\n", -ENOTTY, 0 }, /* not a pidfd */
                { "pos:\t0\nNSpid:\t4242\n", -ENOTTY, 0 },            /* NSpid is not Pid */
                { "pos:\t0\nXPid:\t4242\n", -ENOTTY, 0 },
                { "Pid:\t\n", -EBADMSG, 0 },
                { "Pid:\t42x\n", -EBADMSG, 0 },
                { "Pid:\t-2\n", -EBADMSG, 0 },
                { "Pid:\t2147483648\n", -EBADMSG, 0 },
                { "", -ENOTTY, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                pid_t pid = 7;
                assert_case_int(i, pidfd_fdinfo_parse_pid(cases[i].buf, &pid), cases[i].ret);
                assert_int_equal(pid, cases[i].ret == 0 ? cases[i].pid : 7);
        }
}

/* ---- Real processes ---- */

static void test_self(_unused_ void **state) {
        _cleanup_(pidref_done) PidRef self = PIDREF_NULL;
        _cleanup_free_ char *comm = NULL, *cmdline = NULL, *self_cmdline = NULL;
        char name[16] = {};
        uint64_t start, start_by_pid, rss;
        pid_t ppid;

        assert_int_equal(pidref_set_pid(&self, getpid()), 0);
        assert_int_equal(pidref_verify(&self), 0);

        assert_int_equal(prctl(PR_GET_NAME, name), 0);
        assert_int_equal(pidref_get_comm(&self, &comm), 0);
        assert_string_equal(comm, name);

        assert_int_equal(pidref_get_ppid(&self, &ppid), 0);
        assert_int_equal(ppid, getppid());

        assert_int_equal(pidref_get_start_time(&self, &start), 0);
        assert_int_equal(pid_get_start_time(getpid(), &start_by_pid), 0);
        assert_int_equal(start, start_by_pid);
        assert_true(start > 0);

        assert_int_equal(pidref_get_rss(&self, &rss), 0);
        assert_true(rss >= 64 * 1024); /* a cmocka binary needs more than 64 KiB */
        assert_true(rss % (uint64_t) sysconf(_SC_PAGESIZE) == 0);

        assert_int_equal(pidref_get_cmdline(&self, 4096, &cmdline), 0);
        assert_non_null(strstr(cmdline, "test-basic-process"));

        PidRef unset = PIDREF_NULL;
        assert_int_equal(pidref_verify(&unset), -ESRCH);
        assert_int_equal(pidref_get_comm(&unset, &self_cmdline), -ESRCH);
        assert_null(self_cmdline);
}

/* Forks a child that names itself `name`, then pauses until killed (and
 * dies with us). Returns once the name is set. */
static void fork_named_child(const char *name, PidRef *ret) {
        int p[2];
        char c;
        pid_t pid;

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                (void) prctl(PR_SET_NAME, name);
                (void) write(p[1], "x", 1);
                for (;;)
                        pause();
        }
        close(p[1]);
        assert_int_equal(read(p[0], &c, 1), 1);
        close(p[0]);
        assert_int_equal(pidref_set_pid(ret, pid), 0);
}

/* Blocks until the child has exited, leaving it a zombie. */
static void wait_exited_not_reaped(const PidRef *p) {
        siginfo_t si;

        assert_int_equal(pidref_wait(p, &si, WEXITED | WNOWAIT), 0);
        assert_int_equal(si.si_pid, p->pid);
}

static void test_child_zombie_reaped(_unused_ void **state) {
        _cleanup_(pidref_done_sigkill_wait) PidRef child = PIDREF_NULL;
        _cleanup_free_ char *comm = NULL, *zombie_comm = NULL, *cmdline = NULL, *gone = NULL;
        uint64_t start, zombie_start, rss, v;
        siginfo_t si;
        pid_t ppid;

        fork_named_child("a) b (c", &child);
        assert_int_equal(pidref_verify(&child), 0);
        assert_int_equal(pidref_get_comm(&child, &comm), 0);
        assert_string_equal(comm, "a) b (c");
        assert_int_equal(pidref_get_ppid(&child, &ppid), 0);
        assert_int_equal(ppid, getpid());
        assert_int_equal(pidref_get_start_time(&child, &start), 0);
        assert_int_equal(pidref_get_rss(&child, &rss), 0);
        assert_true(rss > 0);

        /* a zombie still answers, with its own data */
        assert_int_equal(pidref_kill(&child, SIGKILL), 0);
        wait_exited_not_reaped(&child);
        assert_int_equal(pidref_verify(&child), 0);
        assert_int_equal(pidref_get_start_time(&child, &zombie_start), 0);
        assert_int_equal(zombie_start, start);
        assert_int_equal(pidref_get_comm(&child, &zombie_comm), 0);
        assert_string_equal(zombie_comm, "a) b (c");
        assert_int_equal(pidref_get_rss(&child, &rss), 0);
        assert_int_equal(rss, 0);
        assert_int_equal(pidref_get_cmdline(&child, 4096, &cmdline), -ENODATA);

        /* reaped: nothing more, whatever /proc shows under that PID */
        assert_int_equal(pidref_wait(&child, &si, WEXITED), 0);
        assert_int_equal(pidref_verify(&child), -ESRCH);
        assert_int_equal(pidref_get_comm(&child, &gone), -ESRCH);
        assert_int_equal(pidref_get_ppid(&child, &ppid), -ESRCH);
        assert_int_equal(pidref_get_start_time(&child, &v), -ESRCH);
        assert_int_equal(pidref_get_rss(&child, &v), -ESRCH);
        assert_int_equal(pidref_get_cmdline(&child, 4096, &gone), -ESRCH);
        assert_null(gone);
        pidref_done(&child);
}

static void test_cmdline_bounded(_unused_ void **state) {
        _cleanup_(pidref_done_sigkill_wait) PidRef child = PIDREF_NULL;
        static const struct {
                size_t max;
                const char *line;
        } cases[] = {
                { 4096, "sleep 100000 0 0 0" },
                { 19, "sleep 100000 0 0 0" },
                { 18, "sleep 100000 0 0 0" },
                { 17, "sleep 100000 0 0" },
                { 12, "sleep 100000" },
                { 5, "sleep" },
                { 1, "s" },
        };
        _cleanup_free_ char *comm = NULL, *none = NULL;
        int p[2];
        char c;
        pid_t pid;

        /* the close-on-exec pipe reads EOF once the exec happened */
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                execl("/bin/sleep", "sleep", "100000", "0", "0", "0", (char *) NULL);
                _exit(127);
        }
        close(p[1]);
        assert_int_equal(read(p[0], &c, 1), 0);
        close(p[0]);
        assert_int_equal(pidref_set_pid(&child, pid), 0);

        assert_int_equal(pidref_get_comm(&child, &comm), 0);
        assert_string_equal(comm, "sleep");
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *line = NULL;

                assert_int_equal(pidref_get_cmdline(&child, cases[i].max, &line), 0);
                assert_string_equal(line, cases[i].line);
        }
        assert_int_equal(pidref_get_cmdline(&child, 0, &none), -ENODATA);
}

/* clone3() with set_tid (5.5; needs CAP_SYS_ADMIN in our PID namespace):
 * a child named `name` with exactly PID tid. Returns 0, -EEXIST when tid
 * is taken, -errno. */
static int clone_with_pid(pid_t tid, const char *name, PidRef *ret) {
        int pidfd = -EBADF, p[2];
        char c;
        struct corral_clone_args args = {
                .flags = CLONE_PIDFD,
                .pidfd = (uint64_t) (uintptr_t) &pidfd,
                .exit_signal = SIGCHLD,
                .set_tid = (uint64_t) (uintptr_t) &tid,
                .set_tid_size = 1,
        };
        pid_t pid;

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid = sys_clone3(&args);
        if (pid < 0) {
                close(p[0]);
                close(p[1]);
                return pid;
        }
        if (pid == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                (void) prctl(PR_SET_NAME, name);
                (void) write(p[1], "x", 1);
                for (;;)
                        pause();
        }
        close(p[1]);
        assert_int_equal(read(p[0], &c, 1), 1);
        close(p[0]);
        assert_int_equal(pid, tid);
        pidref_take(ret, pid, pidfd);
        return 0;
}

static void test_recycled_pid(_unused_ void **state) {
        _cleanup_(pidref_done_sigkill_wait) PidRef old = PIDREF_NULL, impostor = PIDREF_NULL;
        _cleanup_free_ char *comm = NULL, *impostor_comm = NULL;
        uint64_t v, old_start, impostor_start;
        siginfo_t si;
        pid_t ppid;
        int r = -EEXIST;

        if (geteuid() != 0)
                skip(); /* clone3(set_tid) needs CAP_SYS_ADMIN */

        for (int attempt = 0; attempt < 10 && r == -EEXIST; attempt++) {
                pidref_done_sigkill_wait(&old);
                fork_named_child("old", &old);
                assert_int_equal(pidref_get_start_time(&old, &old_start), 0);
                assert_int_equal(pidref_kill(&old, SIGKILL), 0);
                assert_int_equal(pidref_wait(&old, &si, WEXITED), 0); /* reaped: its PID is free */
                /* the PidRef keeps its PID and pidfd, as a stale one would */
                r = clone_with_pid(old.pid, "impostor", &impostor);
        }
        if (r == -EPERM || r == -ENOSYS || r == -EINVAL) {
                print_message("clone3(set_tid) refused (%s): cannot recycle a PID here\n", strerror(-r));
                skip();
        }
        assert_int_equal(r, 0);
        assert_int_equal(impostor.pid, old.pid);

        /* /proc/PID is the impostor's now... */
        assert_int_equal(pidref_get_comm(&impostor, &impostor_comm), 0);
        assert_string_equal(impostor_comm, "impostor");
        assert_int_equal(pid_get_start_time(old.pid, &impostor_start), 0);

        /* ...and the old PidRef must not take it for its own */
        assert_int_equal(pidref_verify(&old), -ESRCH);
        assert_int_equal(pidref_get_comm(&old, &comm), -ESRCH);
        assert_null(comm);
        assert_int_equal(pidref_get_ppid(&old, &ppid), -ESRCH);
        assert_int_equal(pidref_get_start_time(&old, &v), -ESRCH);
        assert_int_equal(pidref_get_rss(&old, &v), -ESRCH);
        assert_int_equal(pidref_get_cmdline(&old, 4096, &comm), -ESRCH);
        pidref_done(&old); /* reaped already */
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_stat_parse),
                cmocka_unit_test(test_stat_malformed),
                cmocka_unit_test(test_stat_field),
                cmocka_unit_test(test_statm_parse),
                cmocka_unit_test(test_cmdline_to_string),
                cmocka_unit_test(test_fdinfo_parse),
                cmocka_unit_test(test_self),
                cmocka_unit_test(test_child_zombie_reaped),
                cmocka_unit_test(test_cmdline_bounded),
                cmocka_unit_test(test_recycled_pid),
        };

        return cmocka_run_group_tests(tests, /* group_setup= */ NULL, /* group_teardown= */ NULL);
}
