/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "spawn.h"

#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <linux/futex.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include "fileio.h"
#include "parse-util.h"
#include "rlimit-util.h"
#include "spawn-internal.h"
#include "syscall.h"
#include "user-util.h"

static const char *const spawn_step_table[_SPAWN_STEP_MAX] = {
        [SPAWN_STEP_CLONE] = "clone",      [SPAWN_STEP_SIGNALS] = "signals",
        [SPAWN_STEP_SETSID] = "setsid",    [SPAWN_STEP_STDIO] = "stdio",
        [SPAWN_STEP_CHDIR] = "chdir",      [SPAWN_STEP_UMASK] = "umask",
        [SPAWN_STEP_GROUPS] = "setgroups", [SPAWN_STEP_GID] = "setgid",
        [SPAWN_STEP_UID] = "setuid",       [SPAWN_STEP_FDS] = "close fds",
        [SPAWN_STEP_RLIMIT] = "setrlimit", [SPAWN_STEP_NO_NEW_PRIVS] = "no_new_privs",
        [SPAWN_STEP_EXEC] = "exec",
};

const char *spawn_step_to_string(SpawnStep s) {
        if (s < 0 || s >= _SPAWN_STEP_MAX)
                return NULL;
        return spawn_step_table[s];
}

void spawn_credentials_done(SpawnCredentials *c) {
        free(c->groups);
        free(c->home);
        free(c->shell);
        free(c->name);
        *c = (SpawnCredentials) {};
}

int spawn_credentials_resolve(const char *user, const char *group, SpawnCredentials *ret) {
        _cleanup_(spawn_credentials_done) SpawnCredentials c = {};
        _cleanup_(user_record_done) UserRecord u = {};
        int r;

        if (!user && !group) {
                *ret = (SpawnCredentials) {};
                return 0;
        }
        /* only a group: keep our own user */
        r = user ? user_lookup(user, &u) : user_lookup_uid(geteuid(), &u);
        if (r < 0)
                return r;
        c.set = true;
        c.uid = u.uid;
        c.gid = u.gid;
        if (group && (r = group_lookup(group, &c.gid)) < 0)
                return r;
        r = user_get_groups(u.name, c.gid, &c.groups, &c.n_groups);
        if (r < 0)
                return r;
        c.name = TAKE_PTR(u.name);
        c.home = TAKE_PTR(u.home);
        c.shell = TAKE_PTR(u.shell);
        *ret = c;
        c = (SpawnCredentials) {};
        return 0;
}

static bool is_executable_file(const char *path) {
        struct stat st;

        return stat(path, &st) >= 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111) && access(path, X_OK) >= 0;
}

int spawn_find_executable(const char *name, const char *search_path, char **ret_path) {
        char *p;

        if (strchr(name, '/')) {
                p = strdup(name);
                if (!p)
                        return -ENOMEM;
                *ret_path = p;
                return 0;
        }
        for (const char *dir = search_path; dir && *dir;) {
                size_t n = strcspn(dir, ":");
                if (n > 0) {
                        if (asprintf(&p, "%.*s/%s", (int) n, dir, name) < 0)
                                return -ENOMEM;
                        if (is_executable_file(p)) {
                                *ret_path = p;
                                return 0;
                        }
                        free(p);
                }
                dir += n + (dir[n] == ':');
        }
        return -ENOENT;
}

/* ---- The image: what the child reads, copied (spawn-internal.h) ---- */

static size_t strv_bytes(char *const *v, size_t *ret_n) {
        size_t bytes = 0, n = 0;

        for (; v && v[n]; n++)
                bytes += strlen(v[n]) + 1;
        *ret_n = n;
        return bytes;
}

static char *copy_string(const char *s, char **cursor) {
        size_t l = strlen(s) + 1;
        char *out = memcpy(*cursor, s, l);

        *cursor += l;
        return out;
}

/* v's strings at *cursor, its array (NULL-terminated) at *slots. */
static char *const *copy_strv(char *const *v, size_t n, char ***slots, char **cursor) {
        char **out = *slots;

        for (size_t i = 0; i < n; i++)
                out[i] = copy_string(v[i], cursor);
        out[n] = NULL;
        *slots += n + 1;
        return out;
}

static SpawnImage *spawn_image_new(const SpawnParams *p, int report_fd) {
        const SpawnCredentials *c = p->credentials;
        const char *directory = p->directory ?: "/";
        size_t n_argv, n_envp, n_limits = 0, n_groups = c && c->set ? c->n_groups : 0;
        size_t bytes = strv_bytes(p->argv, &n_argv) + strv_bytes(p->envp, &n_envp) + strlen(p->path) + 1 +
                       strlen(directory) + 1;
        SpawnImage *im;

        for (int i = 0; p->rlimits && i < RLIMIT_NLIMITS; i++)
                n_limits += p->rlimits_set[i];
        /* data[]: the two arrays of pointers, the limits, the groups, the
         * strings — in this order, so that each is aligned */
        size_t slots = (n_argv + 1 + n_envp + 1) * sizeof(char *);
        im = malloc(sizeof(SpawnImage) + slots + n_limits * sizeof(SpawnLimit) + n_groups * sizeof(gid_t) + bytes);
        if (!im)
                return NULL;
        *im = (SpawnImage) {
                .busy = SPAWN_BUSY,
                .umask = p->umask,
                .stdio = { p->stdin_fd, p->stdout_fd, p->stderr_fd },
                .report_fd = report_fd,
                .set_ids = c && c->set,
                .changes_ids = c && c->set && (c->uid != geteuid() || c->gid != getegid()),
                .uid = c && c->set ? c->uid : 0,
                .gid = c && c->set ? c->gid : 0,
                .n_groups = n_groups,
                .n_limits = n_limits,
                .no_new_privs = p->no_new_privs,
        };
        char **array = (char **) im->data;
        SpawnLimit *limits = (SpawnLimit *) ((char *) im->data + slots);
        gid_t *groups = (gid_t *) (limits + n_limits);
        char *cursor = (char *) (groups + n_groups);

        im->argv = copy_strv(p->argv, n_argv, &array, &cursor);
        im->envp = copy_strv(p->envp, n_envp, &array, &cursor);
        im->path = copy_string(p->path, &cursor);
        im->directory = copy_string(directory, &cursor);
        for (int i = 0, k = 0; p->rlimits && i < RLIMIT_NLIMITS; i++)
                if (p->rlimits_set[i])
                        limits[k++] = (SpawnLimit) { .resource = i, .rl = p->rlimits[i] };
        im->limits = limits;
        if (n_groups > 0)
                memcpy(groups, c->groups, n_groups * sizeof(gid_t));
        im->groups = groups;
        /* corrald raised its own soft limit of open files (main.c); the
         * program gets what it would have had (rlimit-util.h) */
        im->lower_nofile = rlimit_nofile_safe_get(&im->nofile);
        return im;
}

/* ---- Stacks and children in flight ---- */

#define SPAWN_STACK_SIZE (64U * 1024U)
#define SPAWN_STACKS_KEPT 4U

struct SpawnStack {
        SpawnStack *next; /* the free list */
        void *map;        /* a guard page, then the stack */
        size_t map_size;
};

static struct {
        SpawnImage *flight_head, *flight_tail;
        size_t n_flight;
        SpawnStack *free_stacks;
        size_t n_free;
        int dumpable; /* corrald's own, before any child changed its uid (-1: not read yet) */
} spawn_pool = { .dumpable = -1 };

static void spawn_stack_put(SpawnStack *s) {
        if (!s)
                return;
        if (spawn_pool.n_free >= SPAWN_STACKS_KEPT) {
                (void) munmap(s->map, s->map_size);
                free(s);
                return;
        }
        s->next = spawn_pool.free_stacks;
        spawn_pool.free_stacks = s;
        spawn_pool.n_free++;
}

static SpawnStack *spawn_stack_get(void) {
        SpawnStack *s = spawn_pool.free_stacks;
        size_t page = (size_t) sysconf(_SC_PAGESIZE);

        if (s) {
                spawn_pool.free_stacks = s->next;
                spawn_pool.n_free--;
                return s;
        }
        s = malloc(sizeof(*s));
        if (!s)
                return NULL;
        s->map_size = SPAWN_STACK_SIZE + page;
        s->map = mmap(NULL, s->map_size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
        if (s->map == MAP_FAILED) {
                free(s);
                return NULL;
        }
        /* an overflow faults (and kills only the child) */
        if (mprotect(s->map, page, PROT_NONE) < 0) {
                (void) munmap(s->map, s->map_size);
                free(s);
                return NULL;
        }
        return s;
}

static bool spawn_image_done(const SpawnImage *im) {
        return __atomic_load_n(&im->busy, __ATOMIC_ACQUIRE) == 0;
}

static void spawn_image_free(SpawnImage *im) {
        spawn_stack_put(im->stack);
        free(im);
}

size_t spawn_reclaim(void) {
        bool restore = false;

        for (SpawnImage **p = &spawn_pool.flight_head, *prev = NULL; *p;) {
                SpawnImage *im = *p;
                if (!spawn_image_done(im)) {
                        prev = im;
                        p = &im->next;
                        continue;
                }
                *p = im->next;
                if (spawn_pool.flight_tail == im)
                        spawn_pool.flight_tail = prev;
                spawn_pool.n_flight--;
                restore = restore || im->changes_ids;
                spawn_image_free(im);
        }
        /* A child that changed its uid or gid made the address space it
         * still shared not dumpable (commit_creds()): corrald's, which
         * would then dump no core and be owned by root in /proc. Back to
         * what it was, once no such child can change it again. */
        if (restore && spawn_pool.dumpable >= 0) {
                bool pending = false;
                for (SpawnImage *im = spawn_pool.flight_head; im && !pending; im = im->next)
                        pending = im->changes_ids;
                if (!pending)
                        (void) prctl(PR_SET_DUMPABLE, spawn_pool.dumpable, 0, 0, 0);
        }
        return spawn_pool.n_flight;
}

/* ---- Descriptor slots (spawn-internal.h) ---- */

#define SPAWN_SLOTS_MAX_FD 256 /* the child copies fds 0..this at most */

static struct {
        bool tried;
        int devnull;           /* what a slot holds between spawns */
        int fd[SPAWN_N_SLOTS]; /* stdin, stdout, stderr, report */
        int below;             /* one above the highest: what a child copies */
} slots = { .devnull = -EBADF, .fd = { -EBADF, -EBADF, -EBADF, -EBADF } };

void spawn_reserve_fds(void) {
        if (slots.tried)
                return;
        slots.tried = true;
        if (!SPAWN_SHARED_VM)
                return;
        slots.devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (slots.devnull < 0)
                return;
        int below = slots.devnull + 1;
        for (int i = 0; i < SPAWN_N_SLOTS; i++) {
                slots.fd[i] = fcntl(slots.devnull, F_DUPFD_CLOEXEC, 3);
                if (slots.fd[i] < 0)
                        return;
                below = MAX(below, slots.fd[i] + 1);
        }
        if (below <= SPAWN_SLOTS_MAX_FD)
                slots.below = below;
}

/* The child's descriptors into the slots; -errno. A source that cannot
 * be duplicated gives the child -EBADF, which it reports as its stdio step. */
static int slots_fill(SpawnImage *im) {
        for (int i = 0; i < SPAWN_N_SLOTS; i++) {
                int from = i < 3 ? im->stdio[i] : im->report_fd;

                if (from >= 0 && dup3(from, slots.fd[i], O_CLOEXEC) >= 0) {
                        if (i < 3)
                                im->stdio[i] = slots.fd[i];
                        else
                                im->report_fd = slots.fd[i];
                } else if (i < 3)
                        im->stdio[i] = -EBADF;
                else
                        return -errno;
        }
        im->unshare_below = slots.below;
        return 0;
}

/* Back to /dev/null: corrald must not hold the child's pipes (the report
 * pipe's end of file is how the exec shows). */
static void slots_empty(void) {
        for (int i = 0; i < SPAWN_N_SLOTS; i++)
                (void) dup3(slots.devnull, slots.fd[i], O_CLOEXEC);
}

/* Until the child has its own table (or has died). */
static void slots_wait_unshared(SpawnImage *im, int pidfd) {
        struct timespec timeout = { .tv_sec = 5 };
        uint32_t v;

        while ((v = __atomic_load_n(&im->busy, __ATOMIC_ACQUIRE)) == SPAWN_BUSY_SHARED_FDS) {
                long r = syscall(SYS_futex, &im->busy, FUTEX_WAIT, v, &timeout, NULL, 0);
                if (r < 0 && errno == ETIMEDOUT) {
                        /* stopped or frozen before its first step: it must
                         * not copy what the slots hold next */
                        (void) sys_pidfd_send_signal(pidfd, SIGKILL);
                        timeout = (struct timespec) { .tv_sec = 1 };
                }
        }
}

/* ---- Clone ---- */

static SpawnCounters counters;

const SpawnCounters *spawn_counters(void) {
        return &counters;
}

/* Whether a child that changes its uid or gid may run in corrald's
 * address space until its exec. Its new user may send it signals, and —
 * where the address space stays dumpable — ptrace it, read its memory
 * (/proc/PID/mem, process_vm_readv()) and dump its core: corrald's
 * memory. The kernel's commit_creds() sets the flag to fs.suid_dumpable:
 * 0 (not dumpable) and 2 (root only) shut the user out, 1 ("debug")
 * lets them in. So such a child is forked under 1, or when the setting
 * cannot be read. (Read at each such spawn: root may change it at any
 * time; a change between this read and the child's setresuid() is the
 * only window, and only root can open it.) */
bool spawn_may_share_memory(bool changes_ids) {
        char buf[16];

        if (!SPAWN_SHARED_VM)
                return false;
        if (!changes_ids)
                return true;
        if (read_small_file_at(AT_FDCWD, "/proc/sys/fs/suid_dumpable", buf, sizeof(buf), 0, NULL) < 0)
                return false;
        return buf[0] == '0' || buf[0] == '2';
}

/* Clones the child on its image; *im is the pool's from then on (and
 * freed here when the clone fails). */
static pid_t spawn_clone_image(SpawnImage *im, int cgroup_fd, int *ret_pidfd) {
        struct corral_clone_args args = {
                .flags = CLONE_PIDFD | CLONE_INTO_CGROUP,
                .pidfd = (uint64_t) (uintptr_t) ret_pidfd,
                .exit_signal = SIGCHLD,
                .cgroup = (uint64_t) cgroup_fd,
        };
        bool shared = spawn_may_share_memory(im->changes_ids);
        sigset_t all, saved;
        pid_t pid;

        (void) spawn_reclaim();
        /* only a child on corrald's memory changes corrald's flag */
        im->changes_ids = im->changes_ids && shared;
        if (im->changes_ids && spawn_pool.dumpable < 0)
                spawn_pool.dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
#if SPAWN_SHARED_VM
        if (shared) {
                im->stack = spawn_stack_get();
                if (!im->stack) {
                        free(im);
                        return -ENOMEM;
                }
                args.flags |= CLONE_VM | CLONE_CHILD_CLEARTID;
                args.child_tid = (uint64_t) (uintptr_t) &im->busy;
                args.stack = (uint64_t) (uintptr_t) im->stack->map;
                args.stack_size = im->stack->map_size;
                spawn_reserve_fds();
                if (slots.below > 0) {
                        int r = slots_fill(im);
                        if (r < 0) {
                                slots_empty();
                                spawn_image_free(im);
                                return r;
                        }
                        args.flags |= CLONE_FILES;
                        im->busy = SPAWN_BUSY_SHARED_FDS;
                }
        }
#endif
        /* No handler of corrald's may run in the child before it has reset
         * them: it starts with every signal blocked. */
        sigfillset(&all);
        (void) pthread_sigmask(SIG_SETMASK, &all, &saved);
#if SPAWN_SHARED_VM
        if (shared) {
                pid = spawn_clone3_shared_vm(&args, im);
                if (pid > 0 && (args.flags & CLONE_FILES))
                        slots_wait_unshared(im, *ret_pidfd);
                if (args.flags & CLONE_FILES)
                        slots_empty();
        } else
#endif
        {
                pid = sys_clone3(&args);
                if (pid == 0)
                        spawn_child_main(im);
        }
        (void) pthread_sigmask(SIG_SETMASK, &saved, NULL);
        if (pid < 0) {
                spawn_image_free(im);
                return pid;
        }
        if (shared)
                counters.shared++;
        else {
                counters.forked++;
                im->busy = 0; /* a forked child has its own copy */
        }
        im->next = NULL;
        if (spawn_pool.flight_tail)
                spawn_pool.flight_tail->next = im;
        else
                spawn_pool.flight_head = im;
        spawn_pool.flight_tail = im;
        spawn_pool.n_flight++;
        return pid;
}

static int read_report(int fd, SpawnReport *ret) {
        ssize_t n;

        do
                n = read(fd, ret, sizeof(*ret));
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        if (n == 0)
                return 0;
        if ((size_t) n != sizeof(*ret))
                return -EIO;
        return 1;
}

int spawn_read_report(int fd, SpawnStep *ret_step) {
        SpawnReport rep;
        int r = read_report(fd, &rep);

        if (r == -EAGAIN)
                return r;       /* not yet */
        (void) spawn_reclaim(); /* exec'd or failed: done with its image, or about to be */
        if (r <= 0)
                return r; /* 0: exec'd */
        if (ret_step)
                *ret_step = rep.step >= 0 && rep.step < _SPAWN_STEP_MAX ? rep.step : SPAWN_STEP_EXEC;
        return rep.error > 0 ? -rep.error : -EIO;
}

/* Clones the child; the parent keeps the report pipe's read end. */
static int spawn_clone(const SpawnParams *p, PidRef *ret, int *ret_report_fd, int pipe_flags) {
        _cleanup_close_ int pipe_r = -EBADF, pipe_w = -EBADF;
        int pipefd[2], pidfd = -EBADF;
        pid_t pid;

        if (pipe2(pipefd, O_CLOEXEC | pipe_flags) < 0)
                return -errno;
        pipe_r = pipefd[0];
        pipe_w = pipefd[1];
        /* Never on 0..2 (when corrald's own were closed): the child's
         * dup2()s would overwrite it and a failure would read as success. */
        if (pipe_w < 3) {
                int fd = fcntl(pipe_w, F_DUPFD_CLOEXEC, 3);
                if (fd < 0)
                        return -errno;
                safe_close(pipe_w);
                pipe_w = fd;
        }

        SpawnImage *im = spawn_image_new(p, pipe_w);
        if (!im)
                return -ENOMEM;
        pid = spawn_clone_image(im, p->cgroup_fd, &pidfd);
        if (pid < 0)
                return pid;
        pidref_take(ret, pid, pidfd);
        *ret_report_fd = TAKE_FD(pipe_r);
        return 0;
}

int spawn_child_async(const SpawnParams *p, PidRef *ret, int *ret_report_fd) {
        return spawn_clone(p, ret, ret_report_fd, O_NONBLOCK);
}

int spawn_child(const SpawnParams *p, PidRef *ret, SpawnStep *ret_step) {
        _cleanup_(pidref_done_sigkill_wait) PidRef child = PIDREF_NULL;
        _cleanup_close_ int report = -EBADF;
        SpawnStep step = SPAWN_STEP_CLONE;
        int r;

        r = spawn_clone(p, &child, &report, /* pipe_flags= */ 0);
        if (r >= 0)
                r = spawn_read_report(report, &step);
        if (r < 0) {
                if (ret_step)
                        *ret_step = step;
                return r; /* the cleanup reaps the child */
        }
        *ret = child;
        child = PIDREF_NULL;
        return 0;
}
