/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The child's side of a spawn (spawn-internal.h): from clone3() to
 * execve(), on an image the parent copied. With SPAWN_SHARED_VM the child
 * shares corrald's memory while corrald runs on, so nothing here may
 * write outside the child's own stack: system calls are made directly
 * (libc's wrappers set errno, which is corrald's thread's), no libc
 * function is called, and the sanitizers' instrumentation (which writes
 * shadow memory and may report through the runtime) is off here. */
#include <fcntl.h>
#include <linux/futex.h>
#include <limits.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "spawn-internal.h"

#define CHILD_CODE __attribute__((no_sanitize("address", "undefined"), noinline))

#if SPAWN_SHARED_VM
/* A system call without libc: the result, or -errno. */
static inline __attribute__((always_inline)) long sys6(long n, long a, long b, long c, long d, long e, long f) {
        register long r10 __asm__("r10") = d;
        register long r8 __asm__("r8") = e;
        register long r9 __asm__("r9") = f;
        long ret;

        __asm__ volatile("syscall"
                         : "=a"(ret)
                         : "0"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                         : "rcx", "r11", "memory");
        return ret;
}

/* The kernel's struct sigaction on x86_64 (not libc's). */
struct kernel_sigaction {
        void (*handler)(int);
        unsigned long flags;
        void (*restorer)(void);
        uint64_t mask;
};

pid_t spawn_clone3_shared_vm(struct corral_clone_args *args, void *image) {
        register void *fn __asm__("r12") = (void *) spawn_child_main;
        register void *arg __asm__("r13") = image;
        long ret;

        /* In the child, every register but rax, rcx and r11 is as in the
         * parent, and rsp is the top of the new stack (16-byte aligned):
         * call spawn_child_main(image), which does not return. */
        __asm__ volatile(
                "syscall\n\t"
                "test %%rax, %%rax\n\t"
                "jnz 1f\n\t"
                "xor %%ebp, %%ebp\n\t"
                "mov %%r13, %%rdi\n\t"
                "call *%%r12\n\t"
                "mov $231, %%eax\n\t" /* exit_group(127), never reached */
                "mov $127, %%edi\n\t"
                "syscall\n\t"
                "hlt\n"
                "1:"
                : "=a"(ret)
                : "0"((long) SYS_clone3), "D"(args), "S"(sizeof(*args)), "r"(fn), "r"(arg)
                : "rcx", "r11", "memory");
        return (pid_t) ret;
}
#else
/* A forked child has memory of its own: libc's wrapper will do. */
static long sys6(long n, long a, long b, long c, long d, long e, long f) {
        long r = syscall(n, a, b, c, d, e, f);
        return r < 0 ? -errno : r;
}
#endif

#define sys1(n, a) sys6(n, (long) (a), 0, 0, 0, 0, 0)
#define sys2(n, a, b) sys6(n, (long) (a), (long) (b), 0, 0, 0, 0)
#define sys3(n, a, b, c) sys6(n, (long) (a), (long) (b), (long) (c), 0, 0, 0)
#define sys4(n, a, b, c, d) sys6(n, (long) (a), (long) (b), (long) (c), (long) (d), 0, 0)
#define sys5(n, a, b, c, d, e) sys6(n, (long) (a), (long) (b), (long) (c), (long) (d), (long) (e), 0)

CHILD_CODE _noreturn_ static void child_fail(const SpawnImage *im, SpawnStep step, long error) {
        SpawnReport rep = { .step = step, .error = (int) -error };

        (void) sys3(SYS_write, im->report_fd, &rep, sizeof(rep));
        for (;;)
                (void) sys1(SYS_exit_group, 127);
}

/* Every disposition back to the default (a handler of corrald's must not
 * run here, and SIG_IGN would survive the exec), then nothing blocked:
 * the parent blocked everything around the clone. */
CHILD_CODE static long child_signals(void) {
        long r;

#if SPAWN_SHARED_VM
        struct kernel_sigaction sa = { .handler = SIG_DFL };
        uint64_t none = 0;

        for (int sig = 1; sig < _NSIG; sig++)
                (void) sys4(SYS_rt_sigaction, sig, &sa, NULL, sizeof(sa.mask)); /* SIGKILL, SIGSTOP fail: fine */
        r = sys4(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof(none));
#else
        struct sigaction sa = { .sa_handler = SIG_DFL };
        sigset_t none;

        for (int sig = 1; sig < _NSIG; sig++)
                (void) sigaction(sig, &sa, NULL);
        sigemptyset(&none);
        r = sigprocmask(SIG_SETMASK, &none, NULL) < 0 ? -errno : 0;
#endif
        return r;
}

CHILD_CODE static long child_stdio(const SpawnImage *im) {
        int from[3] = { im->stdio[0], im->stdio[1], im->stdio[2] };
        long r;

        /* A source that is itself 0..2 but not its own target moves up
         * first, so that no dup3() overwrites a source still to be used. */
        for (int i = 0; i < 3; i++)
                if (from[i] >= 0 && from[i] < 3 && from[i] != i) {
                        r = sys3(SYS_fcntl, from[i], F_DUPFD_CLOEXEC, 3);
                        if (r < 0)
                                return r;
                        from[i] = (int) r;
                }
        for (int i = 0; i < 3; i++) {
                if (from[i] == i)
                        r = sys3(SYS_fcntl, i, F_SETFD, 0);
                else
                        r = sys3(SYS_dup3, from[i], i, 0);
                if (r < 0)
                        return r;
        }
        return 0;
}

CHILD_CODE _noreturn_ void spawn_child_main(void *image) {
        const SpawnImage *im = image;
        long r;

        if (im->unshare_below > 0) {
                /* first, as corrald waits for it */
                r = sys3(SYS_close_range, im->unshare_below, UINT_MAX, CLOSE_RANGE_UNSHARE);
                if (r < 0) {
                        SpawnReport rep = { .step = SPAWN_STEP_FDS, .error = (int) -r };
                        (void) sys3(SYS_write, im->report_fd, &rep, sizeof(rep));
                }
                __atomic_store_n((uint32_t *) &im->busy, SPAWN_BUSY, __ATOMIC_RELEASE);
                (void) sys3(SYS_futex, &im->busy, FUTEX_WAKE, 1);
                if (r < 0)
                        for (;;)
                                (void) sys1(SYS_exit_group, 127);
        }
        if ((r = child_signals()) < 0)
                child_fail(im, SPAWN_STEP_SIGNALS, r);
        if ((r = sys6(SYS_setsid, 0, 0, 0, 0, 0, 0)) < 0)
                child_fail(im, SPAWN_STEP_SETSID, r);
        if ((r = child_stdio(im)) < 0)
                child_fail(im, SPAWN_STEP_STDIO, r);
        (void) sys1(SYS_umask, im->umask);
        /* corrald raised its own soft limit of open files (main.c); the
         * program gets what it would have had, unless limit_nofile says.
         * Then those configured, before giving up root: a hard limit may
         * be raised only by root. */
        if (im->lower_nofile && (r = sys4(SYS_prlimit64, 0, RLIMIT_NOFILE, &im->nofile, NULL)) < 0)
                child_fail(im, SPAWN_STEP_RLIMIT, r);
        for (size_t i = 0; i < im->n_limits; i++)
                if ((r = sys4(SYS_prlimit64, 0, im->limits[i].resource, &im->limits[i].rl, NULL)) < 0)
                        child_fail(im, SPAWN_STEP_RLIMIT, r);
        if (im->set_ids) {
                if ((r = sys2(SYS_setgroups, im->n_groups, im->groups)) < 0)
                        child_fail(im, SPAWN_STEP_GROUPS, r);
                if ((r = sys3(SYS_setresgid, im->gid, im->gid, im->gid)) < 0)
                        child_fail(im, SPAWN_STEP_GID, r);
                if ((r = sys3(SYS_setresuid, im->uid, im->uid, im->uid)) < 0)
                        child_fail(im, SPAWN_STEP_UID, r);
        }
        /* As the target user (as systemd enters WorkingDirectory=): root
         * would enter directories the user may not, and the outcome would
         * tell the user which paths exist below them. */
        if ((r = sys1(SYS_chdir, im->directory)) < 0)
                child_fail(im, SPAWN_STEP_CHDIR, r);
        if (im->no_new_privs && (r = sys5(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) < 0)
                child_fail(im, SPAWN_STEP_NO_NEW_PRIVS, r);
        /* Every descriptor but stdio closes at exec; the report pipe stays
         * open until then (5.11). */
        if ((r = sys3(SYS_close_range, 3, UINT_MAX, CLOSE_RANGE_CLOEXEC)) < 0)
                child_fail(im, SPAWN_STEP_FDS, r);
        r = sys3(SYS_execve, im->path, im->argv, im->envp);
        child_fail(im, SPAWN_STEP_EXEC, r);
}
