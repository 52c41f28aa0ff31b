/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests of the cgroup module: table tests of its pure parsers (no root
 * needed), then the real operations on a cgroup2 subtree of this test's own
 * (root): the locked tree, unit cgroups, cgroup.events watches, cgroup.kill
 * and cgroup_signal_all() on trees of real processes made by test-forker,
 * listing, and cgroup_tree_release() (in a forked child, so that the test
 * runner itself never moves). Every real test removes its cgroup and every
 * process it started in its teardown, also when it fails. */

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "cgroup.h"
#include "fileio.h"
#include "pidref.h"
#include "spawn.h"
#include "strv.h"
#include "syscall.h"
#include "test-util.h"

#define NAME_64 "a123456789b123456789c123456789d123456789e123456789f123456789g123"
#define NAME_65 NAME_64 "h"
#define PIDS_MAX 8
#define PROCS_MAX 8
#define TIMEOUT (10 * USEC_PER_SEC)

/* ---- Parsers ---- */

/* A hybrid system (Debian 12 booted with systemd's hybrid layout): many
 * cgroup v1 mounts, one cgroup2 in the middle, optional fields everywhere. */
static const char mountinfo_hybrid[] =
        "22 27 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
        "23 27 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:14 - proc proc rw\n"
        "24 27 0:5 / /dev rw,nosuid,relatime shared:2 - devtmpfs udev rw,size=8155232k,nr_inodes=2038808,mode=755\n"
        "27 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro\n"
        "31 22 0:27 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9"
        " - tmpfs tmpfs ro,size=4096k,nr_inodes=1024,mode=755\n"
        "32 31 0:29 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11"
        " - cgroup cgroup rw,xattr,name=systemd\n"
        "35 31 0:32 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:15"
        " - cgroup cgroup rw,cpu,cpuacct\n"
        "36 31 0:33 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,memory\n"
        "37 31 0:34 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,pids\n"
        "33 31 0:30 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10"
        " - cgroup2 cgroup2 rw,nsdelegate\n"
        "38 31 0:35 / /sys/fs/cgroup/blkio rw,nosuid,nodev,noexec,relatime shared:18 - cgroup cgroup rw,blkio\n"
        "39 31 0:36 / /sys/fs/cgroup/devices rw,nosuid,nodev,noexec,relatime shared:19 - cgroup cgroup rw,devices\n"
        "40 31 0:37 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:20 - cgroup cgroup rw,freezer\n"
        "41 31 0:38 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:21"
        " - cgroup cgroup rw,net_cls,net_prio\n"
        "42 31 0:39 / /sys/fs/cgroup/perf_event rw,nosuid,nodev,noexec,relatime shared:22"
        " - cgroup cgroup rw,perf_event\n"
        "43 31 0:40 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:23 - cgroup cgroup rw,cpuset\n"
        "44 31 0:41 / /sys/fs/cgroup/rdma rw,nosuid,nodev,noexec,relatime shared:24 - cgroup cgroup rw,rdma\n"
        "45 31 0:42 / /sys/fs/cgroup/misc rw,nosuid,nodev,noexec,relatime shared:25 - cgroup cgroup rw,misc\n";

static void test_parse_mountinfo(_unused_ void **state) {
        static const struct {
                const char *input;
                int ret;
                const char *mount;
        } cases[] = {
                { mountinfo_hybrid, 0, "/sys/fs/cgroup/unified" },
                /* the unified layout */
                { "29 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4"
                  " - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n",
                  0, "/sys/fs/cgroup" },
                /* no trailing newline, no optional fields */
                { "41 31 0:38 / /x rw - cgroup2 cgroup2 rw", 0, "/x" },
                /* several optional fields before " - " */
                { "41 31 0:38 / /y rw,relatime shared:10 master:3 propagate_from:2 unbindable - cgroup2 none rw\n", 0,
                  "/y" },
                /* octal escapes of the kernel's show_path(): space, tab, newline, backslash */
                { "41 31 0:38 / /mnt/my\\040cgroup rw,relatime - cgroup2 none rw\n", 0, "/mnt/my cgroup" },
                { "41 31 0:38 / /mnt/a\\011b\\012c\\134d rw - cgroup2 none rw\n", 0, "/mnt/a\tb\nc\\d" },
                { "41 31 0:38 / /mnt/end\\040 rw - cgroup2 none rw\n", 0, "/mnt/end " },
                /* not an escape: kept as it is */
                { "41 31 0:38 / /mnt/x\\9 rw - cgroup2 none rw\n", 0, "/mnt/x\\9" },
                /* the first cgroup2 mount wins */
                { "1 0 0:1 / /first rw - cgroup2 cgroup2 rw\n"
                  "2 0 0:2 / /second rw - cgroup2 cgroup2 rw\n",
                  0, "/first" },
                /* empty lines are skipped */
                { "\n\n1 0 0:1 / /c rw - cgroup2 cgroup2 rw\n\n", 0, "/c" },
                /* no cgroup2 */
                { "", -ENOENT, NULL },
                { "\n", -ENOENT, NULL },
                { "32 31 0:29 / /sys/fs/cgroup/systemd rw shared:11 - cgroup cgroup rw,name=systemd\n", -ENOENT, NULL },
                { "1 0 0:1 / /x rw - cgroup2fs none rw\n", -ENOENT, NULL },
                { "1 0 0:1 / /x rw - tmpfs cgroup2 rw\n", -ENOENT, NULL },
                /* malformed lines */
                { "garbage\n", -EBADMSG, NULL },
                { "1 0 0:1 /\n", -EBADMSG, NULL },
                { "1 0 0:1 / /x\n", -EBADMSG, NULL },
                { "1 0 0:1 / /x rw cgroup2 cgroup2 rw\n", -EBADMSG, NULL },
                { "22 27 0:21 / /sys rw shared:7 - sysfs sysfs rw\nbroken line\n1 0 0:1 / /c rw - cgroup2 c rw\n",
                  -EBADMSG, NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char sentinel[] = "unchanged", *mount = sentinel;
                int r = cgroup_parse_mountinfo(cases[i].input, &mount);

                if (r != cases[i].ret)
                        fail_msg("case %zu: %d, expected %d", i, r, cases[i].ret);
                if (r < 0) {
                        assert_ptr_equal(mount, sentinel);
                        continue;
                }
                assert_string_equal(mount, cases[i].mount);
                free(mount);
        }
}

static void test_parse_proc_cgroup(_unused_ void **state) {
        static const struct {
                const char *input;
                int ret;
                const char *path;
        } cases[] = {
                { "12:misc:/\n"
                  "11:rdma:/\n"
                  "10:cpuset:/\n"
                  "9:perf_event:/\n"
                  "8:net_cls,net_prio:/\n"
                  "7:freezer:/\n"
                  "6:devices:/system.slice/corral.service\n"
                  "5:blkio:/system.slice/corral.service\n"
                  "4:pids:/system.slice/corral.service\n"
                  "3:memory:/system.slice/corral.service\n"
                  "2:cpu,cpuacct:/system.slice/corral.service\n"
                  "1:name=systemd:/system.slice/corral.service\n"
                  "0::/x/y\n",
                  0, "/x/y" },
                { "0::/system.slice/corral.service\n", 0, "/system.slice/corral.service" },
                { "0::/\n", 0, "/" },
                { "1:name=systemd:/a\n0::/x/y", 0, "/x/y" },
                /* "0::" only counts at the start of a line */
                { "2:cpu:/0::/z\n0::/right\n", 0, "/right" },
                /* v1 only */
                { "12:pids:/\n1:name=systemd:/user.slice\n", -ENOENT, NULL },
                { "", -ENOENT, NULL },
                { "\n", -ENOENT, NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char sentinel[] = "unchanged", *path = sentinel;
                int r = cgroup_parse_proc_cgroup(cases[i].input, &path);

                if (r != cases[i].ret)
                        fail_msg("case %zu: %d, expected %d", i, r, cases[i].ret);
                if (r < 0) {
                        assert_ptr_equal(path, sentinel);
                        continue;
                }
                assert_string_equal(path, cases[i].path);
                free(path);
        }
}

static void test_parse_events(_unused_ void **state) {
        static const struct {
                const char *input;
                int ret;
                bool populated, frozen;
        } cases[] = {
                { "populated 1\nfrozen 0\n", 0, true, false },
                { "populated 0\nfrozen 0\n", 0, false, false },
                { "populated 0\nfrozen 1\n", 0, false, true },
                { "populated 1\n", 0, true, false },
                { "populated 1", 0, true, false },
                { "frozen 1\npopulated 1\n", 0, true, true },
                { "populated 1\n\nfrozen 0\n\n", 0, true, false },
                /* unknown keys that newer kernels may add are ignored */
                { "populated 0\nfrozen 0\nsomething_new 42\n", 0, false, false },
                { "future_key x y z\npopulated 1\n", 0, true, false },
                /* missing "populated" */
                { "frozen 0\n", -EBADMSG, false, false },
                { "", -EBADMSG, false, false },
                { "\n", -EBADMSG, false, false },
                /* bad values */
                { "populated 2\nfrozen 0\n", -EBADMSG, false, false },
                { "populated 10\n", -EBADMSG, false, false },
                { "populated \n", -EBADMSG, false, false },
                { "populated  1\n", -EBADMSG, false, false },
                { "populated 1 \n", -EBADMSG, false, false },
                { "populated yes\n", -EBADMSG, false, false },
                { "populated 1\nfrozen x\n", -EBADMSG, false, false },
                /* a line without a value */
                { "populated\n", -EBADMSG, false, false },
                { "populated 1\ngarbage\n", -EBADMSG, false, false },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                CgroupEvents ev = { .populated = true, .frozen = true };
                int r = cgroup_parse_events(cases[i].input, &ev);

                if (r != cases[i].ret)
                        fail_msg("case %zu (%s): %d, expected %d", i, cases[i].input, r, cases[i].ret);
                if (r < 0) {
                        /* output parameters are written only on success */
                        assert_true(ev.populated);
                        assert_true(ev.frozen);
                        continue;
                }
                if (ev.populated != cases[i].populated || ev.frozen != cases[i].frozen)
                        fail_msg("case %zu: populated %d frozen %d", i, ev.populated, ev.frozen);
        }
}

static void test_parse_procs(_unused_ void **state) {
        static const struct {
                const char *input;
                int ret;
                size_t n;
                pid_t pids[PIDS_MAX];
        } cases[] = {
                { "", 0, 0, { 0 } },
                { "\n", 0, 0, { 0 } },
                { "1\n", 0, 1, { 1 } },
                { "4242", 0, 1, { 4242 } },
                { "1\n22\n333\n", 0, 3, { 1, 22, 333 } },
                { "1\n22\n333", 0, 3, { 1, 22, 333 } },
                { "5\n\n6\n\n", 0, 2, { 5, 6 } },
                { "2147483647\n", 0, 1, { 2147483647 } },
                /* garbage */
                { "abc\n", -EBADMSG, 0, { 0 } },
                { "12x\n", -EBADMSG, 0, { 0 } },
                { "1\n2\nthree\n", -EBADMSG, 0, { 0 } },
                { " 1\n", -EBADMSG, 0, { 0 } },
                { "1 \n", -EBADMSG, 0, { 0 } },
                { "1 2\n", -EBADMSG, 0, { 0 } },
                { "-1\n", -EBADMSG, 0, { 0 } },
                { "+1\n", -EBADMSG, 0, { 0 } },
                { "0x10\n", -EBADMSG, 0, { 0 } },
                /* zero and out of range */
                { "0\n", -EBADMSG, 0, { 0 } },
                { "1\n0\n", -EBADMSG, 0, { 0 } },
                { "2147483648\n", -EBADMSG, 0, { 0 } },
                { "99999999999999999999999\n", -EBADMSG, 0, { 0 } },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                pid_t sentinel_pids[1], *pids = sentinel_pids;
                size_t n = 4711;
                int r = cgroup_parse_procs(cases[i].input, &pids, &n);

                if (r != cases[i].ret)
                        fail_msg("case %zu (%s): %d, expected %d", i, cases[i].input, r, cases[i].ret);
                if (r < 0) {
                        assert_ptr_equal(pids, sentinel_pids);
                        assert_int_equal(n, 4711);
                        continue;
                }
                assert_int_equal(n, cases[i].n);
                if (n == 0)
                        assert_null(pids);
                for (size_t j = 0; j < n; j++)
                        assert_int_equal(pids[j], cases[i].pids[j]);
                free(pids);
        }
}

/* Past the first allocation (64 PIDs), as a busy unit's cgroup.procs. */
static void test_parse_procs_many(_unused_ void **state) {
        const size_t count = 5000;
        _cleanup_free_ char *buf = malloc(count * 12 + 1);
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0, len = 0;

        assert_non_null(buf);
        for (size_t i = 0; i < count; i++)
                len += (size_t) sprintf(buf + len, "%zu\n", 100000 + i);
        assert_int_equal(cgroup_parse_procs(buf, &pids, &n), 0);
        assert_int_equal(n, count);
        for (size_t i = 0; i < count; i++)
                assert_int_equal(pids[i], (pid_t) (100000 + i));
}

static void test_name_is_valid(_unused_ void **state) {
        static const char *const valid[] = {
                "web", "web@0", "web@12", "job-7f3a", "a_b", "A", "0", "Supervisor", "supervisor2", "@", "-", NAME_64,
        };
        static const char *const invalid[] = {
                "",  ".",   "..",   ".control", "a.b",       "memory.max", "supervisor", NAME_65,        "a/b",
                "/", "a b", "a\tb", "web\n",    "w\xc3\xbc", "a:b",        "a$b",        "cgroup.procs",
        };

        for (size_t i = 0; i < ELEMENTSOF(valid); i++)
                if (!cgroup_name_is_valid(valid[i]))
                        fail_msg("\"%s\" should be valid", valid[i]);
        for (size_t i = 0; i < ELEMENTSOF(invalid); i++)
                if (cgroup_name_is_valid(invalid[i]))
                        fail_msg("\"%s\" should be invalid", invalid[i]);
}

static void test_path_is_valid(_unused_ void **state) {
        static const char *const valid[] = {
                "/", "/a", "/a/b", "/system.slice/corral.service", "/a/.b", "/...", "/a/b..", "/corral/web@0",
        };
        static const char *const invalid[] = {
                "", "a", "a/b", "//", "/a/", "/a//b", "/.", "/..", "/a/.", "/a/..", "/a/./b", "/a/../b", "/./a", "///",
        };

        for (size_t i = 0; i < ELEMENTSOF(valid); i++)
                if (!cgroup_path_is_valid(valid[i]))
                        fail_msg("\"%s\" should be valid", valid[i]);
        for (size_t i = 0; i < ELEMENTSOF(invalid); i++)
                if (cgroup_path_is_valid(invalid[i]))
                        fail_msg("\"%s\" should be invalid", invalid[i]);
}

/* ---- The real thing: fixture ---- */

typedef struct Fixture {
        char *path;    /* this test's cgroup path, "/corral-test-cgroup-PID-N" */
        char *fs_path; /* and where it is in the filesystem */
        CgroupTree *tree;
        PidRef procs[PROCS_MAX]; /* every process the test started */
        size_t n_procs;
        int null_fd;
        char *marker;
} Fixture;

/* cgroup_tree_open() on the test's cgroup2 mount. */
static int tree_open(const char *path, bool delegated, CgroupTree **ret, pid_t *ret_owner) {
        return cgroup_tree_open(test_cgroup_mount(), path, delegated, ret, ret_owner);
}

static int fixture_new(void **state, bool open_tree) {
        Fixture *f = calloc(1, sizeof(*f));

        if (!f)
                return -1;
        for (size_t i = 0; i < PROCS_MAX; i++)
                f->procs[i] = PIDREF_NULL;
        f->path = test_cgroup_path("cgroup");
        f->fs_path = test_cgroup_fs_path(f->path);
        f->marker = test_marker_new("cgroup");
        f->null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        *state = f;
        if (f->null_fd < 0)
                return -1;
        if (open_tree && tree_open(f->path, /* delegated= */ false, &f->tree, /* ret_owner= */ NULL) < 0)
                return -1;
        return 0;
}

static int setup_tree(void **state) {
        return fixture_new(state, /* open_tree= */ true);
}

static int setup_bare(void **state) {
        return fixture_new(state, /* open_tree= */ false);
}

/* Removes everything, also after a failed assertion: the cgroup subtree
 * (cgroup.kill, then rmdir), then our own children, reaped through their
 * pidfds. Fails the test if a process or a zombie is left. */
static int teardown(void **state) {
        Fixture *f = *state;
        int ret = 0;

        if (!f)
                return 0;
        f->tree = cgroup_tree_free(f->tree);
        if (test_cgroup_destroy(f->path) < 0 || test_cgroup_exists(f->path)) {
                fprintf(stderr, "teardown: could not remove %s\n", f->path);
                ret = -1;
        }
        for (size_t i = 0; i < f->n_procs; i++)
                pidref_done_sigkill_wait(&f->procs[i]);
        if (test_count_marker(f->marker) != 0) {
                fprintf(stderr, "teardown: processes with marker %s survived\n", f->marker);
                ret = -1;
        }
        if (test_count_zombie_children(getpid()) != 0) {
                fprintf(stderr, "teardown: zombie children left\n");
                ret = -1;
        }
        safe_close(f->null_fd);
        free(f->path);
        free(f->fs_path);
        free(f->marker);
        free(f);
        *state = NULL;
        return ret;
}

static PidRef *fixture_add_proc(Fixture *f) {
        assert_true(f->n_procs < PROCS_MAX);
        return &f->procs[f->n_procs++];
}

/* Starts test-forker with args (NULL-terminated) straight inside the cgroup
 * at cgroup_fd, with the fixture's marker in its environment. */
static PidRef *spawn_forker(Fixture *f, int cgroup_fd, const char *a1, const char *a2, const char *a3) {
        _cleanup_free_ char *helper = test_helper_path("test-forker");
        _cleanup_free_ char *env_marker = NULL;
        char *argv[] = { helper, (char *) a1, (char *) a2, (char *) a3, NULL };
        SpawnStep step = _SPAWN_STEP_INVALID;
        PidRef *ref = fixture_add_proc(f);

        assert_true(asprintf(&env_marker, "CORRAL_TEST_MARKER=%s", f->marker) >= 0);
        char *envp[] = { env_marker, NULL };
        SpawnParams p = {
                .path = helper,
                .argv = argv,
                .envp = envp,
                .umask = 022,
                .stdin_fd = f->null_fd,
                .stdout_fd = f->null_fd,
                .stderr_fd = STDERR_FILENO,
                .cgroup_fd = cgroup_fd,
        };
        int r = spawn_child(&p, ref, &step);
        if (r < 0)
                fail_msg("spawn %s %s: %s at step %s", helper, a1, strerror(-r), spawn_step_to_string(step));
        assert_true(pidref_is_set(ref));
        return ref;
}

/* Reaps one of our children and returns how it ended. */
static siginfo_t reap(PidRef *ref) {
        siginfo_t si = {};

        assert_int_equal(pidref_wait(ref, &si, WEXITED), 0);
        pidref_done(ref);
        return si;
}

static size_t procs_count(int fd) {
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;

        assert_int_equal(cgroup_read_procs(fd, &pids, &n), 0);
        return n;
}

static bool procs_contains(int fd, pid_t pid) {
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;

        assert_int_equal(cgroup_read_procs(fd, &pids, &n), 0);
        for (size_t i = 0; i < n; i++)
                if (pids[i] == pid)
                        return true;
        return false;
}

typedef struct ProcsWait {
        int fd;
        size_t n;
} ProcsWait;

static bool procs_reached(void *userdata) {
        ProcsWait *w = userdata;

        return procs_count(w->fd) >= w->n;
}

static void wait_procs(int fd, size_t n) {
        ProcsWait w = { fd, n };

        if (!test_wait_for(procs_reached, &w, TIMEOUT))
                fail_msg("the cgroup holds %zu processes, expected %zu", procs_count(fd), n);
        assert_int_equal(procs_count(fd), n);
}

static bool is_empty(void *userdata) {
        CgroupEvents ev;

        assert_int_equal(cgroup_read_events(*(int *) userdata, &ev), 0);
        return !ev.populated;
}

static void wait_empty(int fd) {
        assert_true(test_wait_for(is_empty, &fd, TIMEOUT));
}

static bool populated(int fd) {
        CgroupEvents ev;

        assert_int_equal(cgroup_read_events(fd, &ev), 0);
        return ev.populated;
}

static bool dir_exists_at(int dirfd, const char *name) {
        struct stat st;

        return fstatat(dirfd, name, &st, /* flags= */ 0) >= 0 && S_ISDIR(st.st_mode);
}

static bool path_exists(const char *path) {
        return access(path, F_OK) >= 0;
}

/* The unified cgroup of a process, from /proc/PID/cgroup. */
static char *proc_cgroup(pid_t pid) {
        _cleanup_free_ char *buf = NULL;
        char file[64], *path = NULL;

        snprintf(file, sizeof(file), "/proc/%d/cgroup", (int) pid);
        assert_int_equal(read_full_file_at(AT_FDCWD, file, 64 * 1024, &buf, NULL), 0);
        assert_int_equal(cgroup_parse_proc_cgroup(buf, &path), 0);
        return path;
}

static void assert_proc_cgroup(pid_t pid, const char *expected) {
        _cleanup_free_ char *path = proc_cgroup(pid);

        assert_string_equal(path, expected);
}

/* ---- The tree ---- */

/* tree_open() in a forked child, which reports what came back: record
 * locks do not conflict within one process, so only another process can
 * see ours. */
static int tree_open_elsewhere(Fixture *f, const char *path, pid_t *ret_owner) {
        struct {
                int r;
                pid_t owner;
        } rep = { INT_MIN, -1 };
        PidRef *ref = fixture_add_proc(f);
        int fds[2];
        pid_t pid;

        assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                CgroupTree *t = NULL;

                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                rep.r = tree_open(path, /* delegated= */ false, &t, ret_owner ? &rep.owner : NULL);
                _exit(write(fds[1], &rep, sizeof(rep)) == sizeof(rep) ? 0 : 1);
        }
        safe_close(fds[1]);
        assert_int_equal(pidref_set_pid(ref, pid), 0);
        assert_int_equal(read(fds[0], &rep, sizeof(rep)), sizeof(rep));
        safe_close(fds[0]);
        siginfo_t si = reap(ref);
        assert_int_equal(si.si_code, CLD_EXITED);
        if (ret_owner)
                *ret_owner = rep.owner;
        return rep.r;
}

static void test_tree_open(void **state) {
        Fixture *f = *state;
        pid_t owner = -1;

        /* setup_tree opened it: created, locked, inotify ready */
        assert_true(path_exists(f->fs_path));
        assert_true(f->tree->created);
        assert_false(f->tree->delegated);
        assert_string_equal(f->tree->path, f->path);
        assert_string_equal(f->tree->fs_path, f->fs_path);
        assert_true(f->tree->root_fd >= 0);
        assert_true(f->tree->inotify_fd >= 0);

        /* the lock: another process cannot take it, and learns who holds
         * it (from the lock itself: there is no supervisor leaf); the
         * directory stays */
        assert_true(f->tree->lock_fd >= 0);
        assert_int_equal(tree_open_elsewhere(f, f->path, &owner), -EBUSY);
        assert_int_equal(owner, getpid());
        assert_int_equal(tree_open_elsewhere(f, f->path, /* ret_owner= */ NULL), -EBUSY);
        assert_true(path_exists(f->fs_path));

        /* once released, it opens again, and is not ours to remove */
        f->tree = cgroup_tree_free(f->tree);
        assert_int_equal(tree_open(f->path, /* delegated= */ false, &f->tree, /* ret_owner= */ NULL), 0);
        assert_false(f->tree->created);
}

/* corrald killed during a mass start: its children that have not exec'd
 * yet still hold copies of all its fds. The lock must go with corrald all
 * the same. Here "corrald" is a forked process that opens the tree and
 * forks a child that keeps its fds (and never exec's); it is SIGKILLed,
 * and the tree opens at once while that child still holds the lock's fd. */
static void test_tree_lock_dies_with_owner(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *lock_path = NULL;
        _cleanup_close_ int child_pidfd = -EBADF;
        int up[2] = { -EBADF, -EBADF }, hold[2] = { -EBADF, -EBADF };
        PidRef *owner = fixture_add_proc(f);
        pid_t pid, child = 0;

        assert_true(asprintf(&lock_path, "%s/cgroup.threads", f->fs_path) >= 0);
        assert_int_equal(pipe2(up, O_CLOEXEC), 0);
        assert_int_equal(pipe2(hold, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                CgroupTree *t = NULL;
                char c;

                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (tree_open(f->path, /* delegated= */ false, &t, /* ret_owner= */ NULL) < 0)
                        _exit(1);
                pid_t k = fork();
                if (k == 0) {
                        /* holds every fd of its parent until hold[] closes */
                        safe_close(hold[1]);
                        (void) !read(hold[0], &c, 1);
                        _exit(0);
                }
                (void) !write(up[1], &k, sizeof(k));
                for (;;)
                        pause();
        }
        assert_int_equal(pidref_set_pid(owner, pid), 0);
        up[1] = safe_close(up[1]);
        hold[0] = safe_close(hold[0]);
        assert_int_equal(read(up[0], &child, sizeof(child)), sizeof(child));
        child_pidfd = sys_pidfd_open(child);
        assert_true(child_pidfd >= 0);

        assert_int_equal(pidref_kill(owner, SIGKILL), 0);
        siginfo_t si = reap(owner);
        assert_int_equal(si.si_code, CLD_KILLED);
        /* the child lives on with its copy of the lock's fd … */
        bool holds = false, holds_dir = false;
        _cleanup_free_ char *fd_dir = NULL;
        assert_true(asprintf(&fd_dir, "/proc/%d/fd", (int) child) >= 0);
        DIR *d = opendir(fd_dir);
        assert_non_null(d);
        for (struct dirent *de; (de = readdir(d));) {
                char target[PATH_MAX] = {}, link[PATH_MAX];
                snprintf(link, sizeof(link), "%s/%s", fd_dir, de->d_name);
                if (readlink(link, target, sizeof(target) - 1) > 0 && streq(target, lock_path))
                        holds = true;
                if (streq(target, f->fs_path)) /* where a flock() would be */
                        holds_dir = true;
        }
        closedir(d);
        assert_true(holds || holds_dir);
        /* … and the tree is ours at once */
        assert_int_equal(tree_open(f->path, /* delegated= */ false, &f->tree, /* ret_owner= */ NULL), 0);

        hold[1] = safe_close(hold[1]);
        struct pollfd p = { .fd = child_pidfd, .events = POLLIN };
        assert_int_equal(poll(&p, 1, 10 * 1000), 1);
        up[0] = safe_close(up[0]);
}

static void test_tree_open_errors(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *missing = NULL, *missing_fs = NULL;
        CgroupTree *t = NULL;

        assert_true(asprintf(&missing, "%s/no-such-parent/sub", f->path) >= 0);
        missing_fs = test_cgroup_fs_path(missing);
        assert_int_equal(tree_open(missing, /* delegated= */ false, &t, /* ret_owner= */ NULL), -ENOENT);
        assert_null(t);
        assert_false(path_exists(missing_fs));

        /* delegated: the cgroup must exist already, nothing is created */
        assert_int_equal(tree_open(f->path, /* delegated= */ true, &t, /* ret_owner= */ NULL), -ENOENT);
        assert_null(t);
        assert_false(path_exists(f->fs_path));

        assert_int_equal(tree_open("/", /* delegated= */ false, &t, /* ret_owner= */ NULL), -EINVAL);
        assert_int_equal(tree_open("relative", /* delegated= */ false, &t, /* ret_owner= */ NULL), -EINVAL);
        assert_int_equal(tree_open("/a/../b", /* delegated= */ false, &t, /* ret_owner= */ NULL), -EINVAL);
        assert_null(t);
}

static void test_tree_list(void **state) {
        Fixture *f = *state;
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_close_ int a = -EBADF, b = -EBADF;

        /* empty: an empty vector, not NULL */
        assert_int_equal(cgroup_tree_list(f->tree, &names), 0);
        assert_non_null(names);
        assert_int_equal(strv_length(names), 0);
        names = strv_free(names);

        assert_int_equal(cgroup_unit_create(f->tree, "web@0", &a), 0);
        assert_int_equal(cgroup_unit_create(f->tree, "job-7f3a", &b), 0);
        assert_int_equal(mkdirat(f->tree->root_fd, CGROUP_SUPERVISOR, 0755), 0);
        assert_int_equal(mkdirat(f->tree->root_fd, ".control", 0755), 0);
        assert_int_equal(mkdirat(f->tree->root_fd, ".hidden", 0755), 0);

        assert_int_equal(cgroup_tree_list(f->tree, &names), 0);
        assert_int_equal(strv_length(names), 2);
        bool web = false, job = false;
        for (size_t i = 0; names[i]; i++) {
                if (streq(names[i], "web@0"))
                        web = true;
                else if (streq(names[i], "job-7f3a"))
                        job = true;
                else
                        fail_msg("unexpected name %s", names[i]);
        }
        assert_true(web && job);
}

/* A forked child enters the supervisor leaf; the parent checks where it
 * is, that the lock names it as the owner, that release refuses while a
 * unit is left and then moves the child back and removes the subtree. The
 * test runner itself never moves. */
static int child_step(int to_parent, int from_parent, int r) {
        char go;

        if (write(to_parent, &r, sizeof(r)) != sizeof(r) || read(from_parent, &go, 1) != 1)
                _exit(3);
        return 0;
}

static int parent_step(int from_child, int to_child, bool go) {
        int r = INT_MIN;

        if (read(from_child, &r, sizeof(r)) != sizeof(r))
                fail_msg("the child died");
        if (go)
                assert_int_equal(write(to_child, "g", 1), 1);
        return r;
}

static PidRef *fork_child(Fixture *f, int fds_up[2], int fds_down[2]) {
        PidRef *ref = fixture_add_proc(f);
        pid_t pid;

        assert_int_equal(pipe2(fds_up, O_CLOEXEC), 0);
        assert_int_equal(pipe2(fds_down, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                safe_close(fds_up[0]);
                safe_close(fds_down[1]);
                return NULL;
        }
        fds_up[1] = safe_close(fds_up[1]);
        fds_down[0] = safe_close(fds_down[0]);
        assert_int_equal(pidref_set_pid(ref, pid), 0);
        return ref;
}

static void close_pair(int fds[2]) {
        fds[0] = safe_close(fds[0]);
        fds[1] = safe_close(fds[1]);
}

static void test_tree_enter_release(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *own = NULL, *supervisor = NULL, *supervisor_fs = NULL;
        _cleanup_close_ int unit = -EBADF;
        int up[2] = { -EBADF, -EBADF }, down[2] = { -EBADF, -EBADF };
        pid_t owner = 0;
        PidRef *child;

        assert_int_equal(cgroup_get_own(&own), 0);
        assert_true(asprintf(&supervisor, "%s/" CGROUP_SUPERVISOR, f->path) >= 0);
        supervisor_fs = test_cgroup_fs_path(supervisor);
        assert_int_equal(cgroup_unit_create(f->tree, "left-over", &unit), 0);

        child = fork_child(f, up, down);
        if (!child) {
                child_step(up[1], down[0], cgroup_tree_enter_supervisor(f->tree));
                child_step(up[1], down[0], cgroup_tree_release(f->tree));
                child_step(up[1], down[0], cgroup_tree_release(f->tree));
                _exit(0);
        }

        assert_int_equal(parent_step(up[0], down[1], /* go= */ false), 0);
        assert_proc_cgroup(child->pid, supervisor);
        /* the lock is held (by us, who opened the tree); the owner is named */
        assert_int_equal(tree_open_elsewhere(f, f->path, &owner), -EBUSY);
        assert_int_equal(owner, getpid());
        /* the supervisor is not a unit */
        _cleanup_strv_free_ char **names = NULL;
        assert_int_equal(cgroup_tree_list(f->tree, &names), 0);
        assert_int_equal(strv_length(names), 1);
        assert_string_equal(names[0], "left-over");
        assert_int_equal(write(down[1], "g", 1), 1);

        /* a unit cgroup is left: nothing moves, nothing is removed */
        assert_int_equal(parent_step(up[0], down[1], /* go= */ false), -EBUSY);
        assert_proc_cgroup(child->pid, supervisor);
        assert_true(path_exists(supervisor_fs));
        assert_true(path_exists(f->fs_path));
        unit = safe_close(unit);
        assert_int_equal(cgroup_unit_remove(f->tree, "left-over"), 0);
        assert_int_equal(write(down[1], "g", 1), 1);

        /* now: back where it came from, and the subtree is gone */
        assert_int_equal(parent_step(up[0], down[1], /* go= */ false), 0);
        assert_proc_cgroup(child->pid, own);
        assert_false(path_exists(supervisor_fs));
        assert_false(path_exists(f->fs_path));
        assert_int_equal(write(down[1], "g", 1), 1);

        siginfo_t si = reap(child);
        assert_int_equal(si.si_code, CLD_EXITED);
        assert_int_equal(si.si_status, 0);
        close_pair(up);
        close_pair(down);
}

/* Delegated (systemd's Delegate=yes): the subtree is the cgroup we were
 * started in. Release must move us back into it, remove the supervisor
 * leaf, and leave the subtree itself. Done in a forked child that first
 * moves itself into the test cgroup, as systemd would have started it. */
static void test_tree_release_delegated(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *supervisor = NULL, *supervisor_fs = NULL;
        int up[2] = { -EBADF, -EBADF }, down[2] = { -EBADF, -EBADF };
        PidRef *child;

        assert_int_equal(mkdir(f->fs_path, 0755), 0);
        assert_true(asprintf(&supervisor, "%s/" CGROUP_SUPERVISOR, f->path) >= 0);
        supervisor_fs = test_cgroup_fs_path(supervisor);

        child = fork_child(f, up, down);
        if (!child) {
                CgroupTree *t = NULL;
                _cleanup_free_ char *procs = NULL;
                int r;

                if (asprintf(&procs, "%s/cgroup.procs", f->fs_path) < 0)
                        _exit(4);
                child_step(up[1], down[0], write_string_file_at(AT_FDCWD, procs, "0"));
                r = tree_open(f->path, /* delegated= */ true, &t, /* ret_owner= */ NULL);
                child_step(up[1], down[0], r);
                if (r < 0)
                        _exit(5);
                child_step(up[1], down[0], cgroup_tree_enter_supervisor(t));
                child_step(up[1], down[0], cgroup_tree_release(t));
                _exit(0);
        }

        assert_int_equal(parent_step(up[0], down[1], /* go= */ true), 0);
        assert_int_equal(parent_step(up[0], down[1], /* go= */ true), 0);
        assert_int_equal(parent_step(up[0], down[1], /* go= */ false), 0);
        assert_proc_cgroup(child->pid, supervisor);
        assert_int_equal(write(down[1], "g", 1), 1);

        int r = parent_step(up[0], down[1], /* go= */ false);
        _cleanup_free_ char *where = proc_cgroup(child->pid);
        if (r != 0)
                fail_msg(
                        "cgroup_tree_release() of a delegated tree: %s; the caller is still in %s and the "
                        "supervisor leaf was %s",
                        strerror(-r), where, path_exists(supervisor_fs) ? "left" : "removed");
        assert_string_equal(where, f->path);
        assert_false(path_exists(supervisor_fs));
        assert_true(path_exists(f->fs_path));
        assert_int_equal(write(down[1], "g", 1), 1);

        siginfo_t si = reap(child);
        assert_int_equal(si.si_code, CLD_EXITED);
        assert_int_equal(si.si_status, 0);
        close_pair(up);
        close_pair(down);
}

/* ---- Unit cgroups ---- */

static void test_unit_create_remove(void **state) {
        Fixture *f = *state;
        _cleanup_close_ int fd = -EBADF, fd2 = -EBADF;
        int bad = 4711;

        assert_int_equal(cgroup_unit_create(f->tree, "web@0", &fd), 0);
        assert_true(fd >= 0);
        assert_true(dir_exists_at(f->tree->root_fd, "web@0"));
        assert_false(populated(fd));
        assert_int_equal(procs_count(fd), 0);

        assert_int_equal(cgroup_unit_open(f->tree, "web@0", &fd2), 0);
        assert_true(fd2 >= 0);
        fd2 = safe_close(fd2);
        /* with a cgroup below it: that goes too */
        assert_int_equal(mkdirat(fd, "sub", 0755), 0);
        assert_int_equal(mkdirat(fd, "sub/deeper", 0755), 0);
        assert_int_equal(cgroup_unit_remove(f->tree, "web@0"), 0);
        assert_false(dir_exists_at(f->tree->root_fd, "web@0"));
        fd = safe_close(fd);
        assert_int_equal(cgroup_unit_create(f->tree, "web@0", &fd), 0);

        assert_int_equal(cgroup_unit_remove(f->tree, "web@0"), 0);
        assert_false(dir_exists_at(f->tree->root_fd, "web@0"));
        /* already gone: fine */
        assert_int_equal(cgroup_unit_remove(f->tree, "web@0"), 0);
        assert_int_equal(cgroup_unit_open(f->tree, "web@0", &bad), -ENOENT);
        assert_int_equal(bad, 4711);

        /* names are checked before anything touches the filesystem */
        assert_int_equal(cgroup_unit_create(f->tree, "a.b", &bad), -EINVAL);
        assert_int_equal(cgroup_unit_create(f->tree, "cgroup.procs", &bad), -EINVAL);
        assert_int_equal(cgroup_unit_create(f->tree, CGROUP_SUPERVISOR, &bad), -EINVAL);
        assert_int_equal(cgroup_unit_create(f->tree, "../escape", &bad), -EINVAL);
        assert_int_equal(cgroup_unit_create(f->tree, "", &bad), -EINVAL);
        assert_int_equal(cgroup_unit_create(f->tree, NAME_65, &bad), -EINVAL);
        assert_int_equal(cgroup_unit_open(f->tree, "a.b", &bad), -EINVAL);
        assert_int_equal(cgroup_unit_remove(f->tree, ".control"), -EINVAL);
        assert_int_equal(bad, 4711);
        assert_false(dir_exists_at(f->tree->root_fd, "a.b"));

        /* the longest name works */
        assert_int_equal(cgroup_unit_create(f->tree, NAME_64, &fd2), 0);
        assert_int_equal(cgroup_unit_remove(f->tree, NAME_64), 0);
}

static void test_unit_create_reuses_empty(void **state) {
        Fixture *f = *state;
        _cleanup_close_ int fd = -EBADF, fd2 = -EBADF;
        struct stat before, after;

        /* a leftover of an earlier run, empty */
        assert_int_equal(mkdirat(f->tree->root_fd, "job-1", 0755), 0);
        assert_int_equal(fstatat(f->tree->root_fd, "job-1", &before, 0), 0);
        assert_int_equal(cgroup_unit_create(f->tree, "job-1", &fd), 1);
        assert_int_equal(fstat(fd, &after), 0);
        assert_int_equal(before.st_ino, after.st_ino);

        /* and again, through the fd we already hold */
        assert_int_equal(cgroup_unit_create(f->tree, "job-1", &fd2), 1);
        assert_int_equal(cgroup_unit_remove(f->tree, "job-1"), 0);
}

static void test_unit_create_populated(void **state) {
        Fixture *f = *state;
        _cleanup_close_ int fd = -EBADF;
        int fd2 = 4711;
        PidRef *main_proc;

        assert_int_equal(cgroup_unit_create(f->tree, "busy", &fd), 0);
        main_proc = spawn_forker(f, fd, "tree", "0", /* a3= */ NULL);
        wait_procs(fd, 1);
        assert_true(procs_contains(fd, main_proc->pid));
        assert_true(populated(fd));

        assert_int_equal(cgroup_unit_create(f->tree, "busy", &fd2), -EBUSY);
        assert_int_equal(fd2, 4711);
        assert_int_equal(cgroup_unit_remove(f->tree, "busy"), -EBUSY);
        assert_true(dir_exists_at(f->tree->root_fd, "busy"));
        assert_int_equal(test_count_marker(f->marker), 1);

        assert_int_equal(cgroup_kill(fd), 0);
        wait_empty(fd);
        siginfo_t si = reap(main_proc);
        assert_int_equal(si.si_code, CLD_KILLED);
        assert_int_equal(si.si_status, SIGKILL);
        assert_int_equal(cgroup_unit_remove(f->tree, "busy"), 0);
        assert_false(dir_exists_at(f->tree->root_fd, "busy"));
}

static void test_unit_remove_nested(void **state) {
        Fixture *f = *state;
        _cleanup_close_ int fd = -EBADF, inner = -EBADF;

        assert_int_equal(cgroup_unit_create(f->tree, "nest", &fd), 0);
        assert_int_equal(mkdirat(fd, "a", 0755), 0);
        assert_int_equal(mkdirat(fd, "a/b", 0755), 0);
        assert_int_equal(mkdirat(fd, "a/b/c", 0755), 0);
        assert_int_equal(mkdirat(fd, "d", 0755), 0);
        assert_int_equal(mkdirat(fd, ".control", 0755), 0);

        /* a process deep down: -EBUSY, the unit stays */
        inner = openat(fd, "a/b/c", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(inner >= 0);
        PidRef *p = spawn_forker(f, inner, "tree", "0", /* a3= */ NULL);
        wait_procs(inner, 1);
        assert_int_equal(cgroup_unit_remove(f->tree, "nest"), -EBUSY);
        assert_true(dir_exists_at(f->tree->root_fd, "nest"));
        assert_true(dir_exists_at(fd, "a/b/c"));

        assert_int_equal(cgroup_kill(fd), 0);
        wait_empty(fd);
        reap(p);
        inner = safe_close(inner);
        assert_int_equal(cgroup_unit_remove(f->tree, "nest"), 0);
        assert_false(dir_exists_at(f->tree->root_fd, "nest"));
}

/* ---- cgroup.events ---- */

typedef struct WatchHits {
        int wd;
        unsigned hits, others;
} WatchHits;

static void on_watch(int wd, void *userdata) {
        WatchHits *h = userdata;

        if (wd == h->wd)
                h->hits++;
        else
                h->others++;
}

/* Waits (poll on the inotify fd, bounded) until the watch fires and the
 * unit's cgroup.events says `want`. */
static void wait_watch(Fixture *f, int fd, WatchHits *h, bool want) {
        usec_t end = now(CLOCK_MONOTONIC) + TIMEOUT;

        for (;;) {
                struct pollfd p = { .fd = f->tree->inotify_fd, .events = POLLIN };
                usec_t n = now(CLOCK_MONOTONIC);

                if (n >= end)
                        fail_msg("no cgroup.events change to populated %d", want);
                int k = poll(&p, 1, (int) ((end - n) / USEC_PER_MSEC) + 1);
                assert_true(k >= 0);
                if (k == 0)
                        continue;
                unsigned before = h->hits;
                assert_int_equal(cgroup_tree_read_watches(f->tree, on_watch, h), 0);
                assert_true(h->hits > before);
                if (populated(fd) == want)
                        return;
        }
}

static void test_unit_watch(void **state) {
        Fixture *f = *state;
        _cleanup_close_ int fd = -EBADF;
        WatchHits h = { .wd = -1 };
        int bad = 4711;

        assert_int_equal(cgroup_unit_create(f->tree, "watched", &fd), 0);
        assert_int_equal(cgroup_unit_watch(f->tree, "watched", &h.wd), 0);
        assert_true(h.wd >= 0);
        assert_int_equal(cgroup_unit_watch(f->tree, "no-such-unit", &bad), -ENOENT);
        assert_int_equal(cgroup_unit_watch(f->tree, "a.b", &bad), -EINVAL);
        assert_int_equal(bad, 4711);
        /* nothing pending: reading is a no-op */
        assert_int_equal(cgroup_tree_read_watches(f->tree, on_watch, &h), 0);
        assert_int_equal(h.hits, 0);

        PidRef *p = spawn_forker(f, fd, "tree", "0", /* a3= */ NULL);
        wait_watch(f, fd, &h, /* want= */ true);

        assert_int_equal(pidref_kill(p, SIGTERM), 0);
        wait_watch(f, fd, &h, /* want= */ false);
        assert_int_equal(h.others, 0);
        siginfo_t si = reap(p);
        assert_int_equal(si.si_code, CLD_KILLED);
        assert_int_equal(si.si_status, SIGTERM);

        cgroup_unit_unwatch(f->tree, h.wd);
        cgroup_unit_unwatch(f->tree, -1);
        assert_int_equal(cgroup_unit_remove(f->tree, "watched"), 0);
        /* IN_IGNORED of a removed watch is not reported */
        assert_int_equal(cgroup_tree_read_watches(f->tree, on_watch, &h), 0);
        assert_int_equal(h.others, 0);
}

/* ---- Killing ---- */

static void test_kill_tree(void **state) {
        Fixture *f = *state;
        _cleanup_close_ int fd = -EBADF;

        assert_int_equal(cgroup_unit_create(f->tree, "tree", &fd), 0);
        PidRef *p = spawn_forker(f, fd, "tree", "50", "ignore");
        wait_procs(fd, 51);
        assert_int_equal(test_count_marker(f->marker), 51);

        /* SIGTERM is ignored by all 51: they are all reached, none dies */
        assert_int_equal(cgroup_signal_all(fd, SIGTERM, /* also_cont= */ true), 51);
        usleep(100 * 1000);
        assert_int_equal(procs_count(fd), 51);

        assert_int_equal(cgroup_kill(fd), 0);
        wait_empty(fd);
        assert_int_equal(procs_count(fd), 0);
        assert_int_equal(test_count_marker(f->marker), 0);
        siginfo_t si = reap(p);
        assert_int_equal(si.si_code, CLD_KILLED);
        assert_int_equal(si.si_status, SIGKILL);

        /* empty: nothing to signal */
        assert_int_equal(cgroup_signal_all(fd, SIGTERM, /* also_cont= */ false), 0);
        assert_int_equal(cgroup_kill(fd), 0);
        assert_int_equal(cgroup_unit_remove(f->tree, "tree"), 0);
}

/* cgroup_list_pids() (what `corralctl status` counts as tasks): a
 * cgroup.procs longer than the one read() it is first read with, a
 * subcgroup's processes, none missed once the subcgroup is gone. */
static void test_list_pids(void **state) {
        Fixture *f = *state;
        _cleanup_close_ int fd = -EBADF, inner = -EBADF;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;

        assert_int_equal(cgroup_unit_create(f->tree, "many", &fd), 0);
        PidRef *p = spawn_forker(f, fd, "tree", "299", /* a3= */ NULL);
        wait_procs(fd, 300);
        assert_int_equal(cgroup_list_pids(fd, &pids, &n), 0);
        assert_int_equal(n, 300);
        for (size_t i = 1; i < n; i++)
                assert_true(pids[i - 1] < pids[i]);
        pids = mfree(pids);

        assert_int_equal(mkdirat(fd, "inner", 0755), 0);
        inner = openat(fd, "inner", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(inner >= 0);
        PidRef *q = spawn_forker(f, inner, "tree", "2", /* a3= */ NULL);
        wait_procs(inner, 3);
        assert_int_equal(cgroup_list_pids(fd, &pids, &n), 0);
        assert_int_equal(n, 303);
        pids = mfree(pids);

        assert_int_equal(cgroup_kill(inner), 0);
        wait_empty(inner);
        assert_int_equal(reap(q).si_status, SIGKILL);
        inner = safe_close(inner);
        assert_int_equal(unlinkat(fd, "inner", AT_REMOVEDIR), 0);
        assert_int_equal(cgroup_list_pids(fd, &pids, &n), 0);
        assert_int_equal(n, 300);

        assert_int_equal(cgroup_kill(fd), 0);
        wait_empty(fd);
        assert_int_equal(reap(p).si_status, SIGKILL);
        assert_int_equal(cgroup_unit_remove(f->tree, "many"), 0);
}

/* cgroup.kill of the unit cgroup name at *fd, whose main process p ends
 * by SIGKILL; then the cgroup goes, and *fd is closed. */
static void kill_and_remove(Fixture *f, int *fd, PidRef *p, const char *name) {
        assert_int_equal(cgroup_kill(*fd), 0);
        wait_empty(*fd);
        assert_int_equal(reap(p).si_status, SIGKILL);
        assert_int_equal(cgroup_unit_remove(f->tree, name), 0);
        *fd = safe_close(*fd);
}

/* A unit cgroup name of three processes, signalled with no main process
 * given (cgroup_unit_signal() by name, else cgroup_signal_all_first() on
 * its fd): all three end by SIGTERM. */
static void signal_three_without_main(Fixture *f, const char *name, bool by_name) {
        _cleanup_close_ int fd = -EBADF;

        assert_int_equal(cgroup_unit_create(f->tree, name, &fd), 0);
        PidRef *p = spawn_forker(f, fd, "tree", "2", /* a3= */ NULL);
        wait_procs(fd, 3);
        assert_int_equal(by_name ? cgroup_unit_signal(f->tree, name, SIGTERM, /* also_cont= */ false, NULL)
                                 : cgroup_signal_all_first(fd, SIGTERM, /* also_cont= */ false, /* first= */ NULL),
                         3);
        wait_empty(fd);
        assert_int_equal(reap(p).si_status, SIGTERM);
        assert_int_equal(cgroup_unit_remove(f->tree, name), 0);
}

/* The main process given first is signalled once, not again when its
 * PID is listed; gone (its pidfd says so), the listing alone decides. */
static void test_signal_all_first(void **state) {
        Fixture *f = *state;
        _cleanup_close_ int fd = -EBADF;

        assert_int_equal(cgroup_unit_create(f->tree, "first", &fd), 0);
        PidRef *p = spawn_forker(f, fd, "tree", "20", "ignore");
        wait_procs(fd, 21);
        assert_int_equal(cgroup_signal_all_first(fd, SIGTERM, /* also_cont= */ true, p), 21);
        usleep(100 * 1000);
        assert_int_equal(procs_count(fd), 21);

        assert_int_equal(cgroup_kill(fd), 0);
        wait_empty(fd);
        siginfo_t si = {};
        assert_int_equal(pidref_wait(p, &si, WEXITED), 0); /* reaped, its pidfd still open */
        assert_int_equal(si.si_status, SIGKILL);
        assert_int_equal(cgroup_signal_all_first(fd, SIGTERM, /* also_cont= */ false, p), 0);
        pidref_done(p);
        assert_int_equal(cgroup_unit_remove(f->tree, "first"), 0);

        /* none given: as cgroup_signal_all() */
        signal_three_without_main(f, "first", /* by_name= */ false);
}

/* Whether the process *userdata ignores SIGTERM (SigIgn in its status). */
static bool ignores_term(void *userdata) {
        char path[64];
        _cleanup_free_ char *buf = NULL;
        const char *p;

        snprintf(path, sizeof(path), "/proc/%d/status", *(pid_t *) userdata);
        if (read_full_file_at(AT_FDCWD, path, 1 << 16, &buf, NULL) < 0 || !(p = strstr(buf, "SigIgn:")))
                return false;
        return strtoull(p + strlen("SigIgn:"), NULL, 16) & (1ULL << (SIGTERM - 1));
}

/* cgroup_unit_signal(): a unit of its main alone is signalled through
 * the pidfd and a look by path; others in the cgroup or in a cgroup below
 * it (the top's listing shows only the main) are reached by the passes,
 * the main not twice; no main given, the listing alone. */
static void test_unit_signal(void **state) {
        Fixture *f = *state;
        _cleanup_close_ int fd = -EBADF, inner = -EBADF;

        assert_int_equal(cgroup_unit_signal(f->tree, "a.b", SIGTERM, false, NULL), -EINVAL);
        assert_int_equal(cgroup_unit_signal(f->tree, "no-such-unit", SIGTERM, false, NULL), -ENOENT);

        /* alone, ignoring SIGTERM: signalled once, still there */
        assert_int_equal(cgroup_unit_create(f->tree, "alone", &fd), 0);
        PidRef *p = spawn_forker(f, fd, "tree", "0", "ignore");
        wait_procs(fd, 1);
        assert_true(test_wait_for(ignores_term, &p->pid, 10 * USEC_PER_SEC));
        assert_int_equal(cgroup_unit_signal(f->tree, "alone", SIGTERM, /* also_cont= */ true, p), 1);
        usleep(50 * 1000);
        assert_int_equal(procs_count(fd), 1);
        kill_and_remove(f, &fd, p, "alone");

        /* with 10 children: 11, each once */
        assert_int_equal(cgroup_unit_create(f->tree, "family", &fd), 0);
        p = spawn_forker(f, fd, "tree", "10", "ignore");
        wait_procs(fd, 11);
        assert_int_equal(cgroup_unit_signal(f->tree, "family", SIGTERM, /* also_cont= */ true, p), 11);
        kill_and_remove(f, &fd, p, "family");

        /* the main alone in the top, three below it: the link count sends
         * the look to the passes, which find them */
        assert_int_equal(cgroup_unit_create(f->tree, "nested", &fd), 0);
        assert_int_equal(mkdirat(fd, "inner", 0755), 0);
        inner = openat(fd, "inner", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(inner >= 0);
        p = spawn_forker(f, fd, "tree", "0", /* a3= */ NULL);
        PidRef *q = spawn_forker(f, inner, "tree", "2", /* a3= */ NULL);
        wait_procs(fd, 1);
        wait_procs(inner, 3);
        assert_int_equal(cgroup_unit_signal(f->tree, "nested", SIGTERM, /* also_cont= */ false, p), 4);
        wait_empty(fd);
        assert_int_equal(test_count_marker(f->marker), 0);
        assert_int_equal(reap(p).si_status, SIGTERM);
        assert_int_equal(reap(q).si_status, SIGTERM);
        inner = safe_close(inner);
        fd = safe_close(fd);
        assert_int_equal(cgroup_unit_remove(f->tree, "nested"), 0);

        /* no main given */
        signal_three_without_main(f, "nomain", /* by_name= */ true);
}

/* cgroup_unit_read_events(), by path: populated, then not. */
static void test_unit_read_events(void **state) {
        Fixture *f = *state;
        _cleanup_close_ int fd = -EBADF;
        CgroupEvents ev;

        assert_int_equal(cgroup_unit_read_events(f->tree, "a/b", &ev), -EINVAL);
        assert_int_equal(cgroup_unit_read_events(f->tree, "no-such-unit", &ev), -ENOENT);
        assert_int_equal(cgroup_unit_create(f->tree, "events", &fd), 0);
        assert_int_equal(cgroup_unit_read_events(f->tree, "events", &ev), 0);
        assert_false(ev.populated);
        PidRef *p = spawn_forker(f, fd, "tree", "0", /* a3= */ NULL);
        wait_procs(fd, 1);
        assert_int_equal(cgroup_unit_read_events(f->tree, "events", &ev), 0);
        assert_true(ev.populated);
        assert_int_equal(cgroup_kill(fd), 0);
        wait_empty(fd);
        assert_int_equal(cgroup_unit_read_events(f->tree, "events", &ev), 0);
        assert_false(ev.populated);
        assert_int_equal(reap(p).si_status, SIGKILL);
        assert_int_equal(cgroup_unit_remove(f->tree, "events"), 0);
}

static void test_signal_all_term(void **state) {
        Fixture *f = *state;
        _cleanup_close_ int fd = -EBADF;

        assert_int_equal(cgroup_unit_create(f->tree, "term", &fd), 0);
        PidRef *p = spawn_forker(f, fd, "tree", "5", /* a3= */ NULL);
        wait_procs(fd, 6);

        assert_int_equal(cgroup_signal_all(fd, SIGTERM, /* also_cont= */ false), 6);
        wait_empty(fd);
        assert_int_equal(test_count_marker(f->marker), 0);
        siginfo_t si = reap(p);
        assert_int_equal(si.si_code, CLD_KILLED);
        assert_int_equal(si.si_status, SIGTERM);
        assert_int_equal(cgroup_unit_remove(f->tree, "term"), 0);
}

static void test_signal_all_nested(void **state) {
        Fixture *f = *state;
        _cleanup_close_ int fd = -EBADF, inner = -EBADF, deeper = -EBADF;

        assert_int_equal(cgroup_unit_create(f->tree, "outer", &fd), 0);
        assert_int_equal(mkdirat(fd, "inner", 0755), 0);
        assert_int_equal(mkdirat(fd, "inner/deeper", 0755), 0);
        inner = openat(fd, "inner", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        deeper = openat(fd, "inner/deeper", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(inner >= 0 && deeper >= 0);

        PidRef *a = spawn_forker(f, fd, "tree", "0", /* a3= */ NULL);
        PidRef *b = spawn_forker(f, inner, "tree", "3", /* a3= */ NULL);
        PidRef *c = spawn_forker(f, deeper, "tree", "2", /* a3= */ NULL);
        wait_procs(fd, 1);
        wait_procs(inner, 4);
        wait_procs(deeper, 3);
        assert_int_equal(test_count_marker(f->marker), 8);

        assert_int_equal(cgroup_signal_all(fd, SIGTERM, /* also_cont= */ false), 8);
        wait_empty(fd);
        assert_int_equal(test_count_marker(f->marker), 0);
        assert_int_equal(reap(a).si_status, SIGTERM);
        assert_int_equal(reap(b).si_status, SIGTERM);
        assert_int_equal(reap(c).si_status, SIGTERM);
        inner = safe_close(inner);
        deeper = safe_close(deeper);
        assert_int_equal(cgroup_unit_remove(f->tree, "outer"), 0);
}

/* A stopped process acts on SIGTERM only with the SIGCONT that follows. */
static void test_signal_all_stopped(void **state) {
        Fixture *f = *state;
        _cleanup_close_ int fd = -EBADF;

        assert_int_equal(cgroup_unit_create(f->tree, "stopped", &fd), 0);
        PidRef *p = spawn_forker(f, fd, "stopped", /* a2= */ NULL, /* a3= */ NULL);
        wait_procs(fd, 2);
        assert_int_equal(cgroup_signal_all(fd, SIGTERM, /* also_cont= */ true), 2);
        wait_empty(fd);
        assert_int_equal(reap(p).si_status, SIGTERM);
        assert_int_equal(cgroup_unit_remove(f->tree, "stopped"), 0);
}

static int run_parsers(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_mountinfo),  cmocka_unit_test(test_parse_proc_cgroup),
                cmocka_unit_test(test_parse_events),     cmocka_unit_test(test_parse_procs),
                cmocka_unit_test(test_parse_procs_many), cmocka_unit_test(test_name_is_valid),
                cmocka_unit_test(test_path_is_valid),
        };

        return cmocka_run_group_tests_name("parsers", tests, /* group_setup= */ NULL, /* group_teardown= */ NULL);
}

static int run_real(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_tree_open, setup_tree, teardown),
                cmocka_unit_test_setup_teardown(test_tree_lock_dies_with_owner, setup_bare, teardown),
                cmocka_unit_test_setup_teardown(test_tree_open_errors, setup_bare, teardown),
                cmocka_unit_test_setup_teardown(test_tree_list, setup_tree, teardown),
                cmocka_unit_test_setup_teardown(test_tree_enter_release, setup_tree, teardown),
                cmocka_unit_test_setup_teardown(test_tree_release_delegated, setup_bare, teardown),
                cmocka_unit_test_setup_teardown(test_unit_create_remove, setup_tree, teardown),
                cmocka_unit_test_setup_teardown(test_unit_create_reuses_empty, setup_tree, teardown),
                cmocka_unit_test_setup_teardown(test_unit_create_populated, setup_tree, teardown),
                cmocka_unit_test_setup_teardown(test_unit_remove_nested, setup_tree, teardown),
                cmocka_unit_test_setup_teardown(test_unit_watch, setup_tree, teardown),
                cmocka_unit_test_setup_teardown(test_kill_tree, setup_tree, teardown),
                cmocka_unit_test_setup_teardown(test_list_pids, setup_tree, teardown),
                cmocka_unit_test_setup_teardown(test_signal_all_first, setup_tree, teardown),
                cmocka_unit_test_setup_teardown(test_unit_signal, setup_tree, teardown),
                cmocka_unit_test_setup_teardown(test_unit_read_events, setup_tree, teardown),
                cmocka_unit_test_setup_teardown(test_signal_all_term, setup_tree, teardown),
                cmocka_unit_test_setup_teardown(test_signal_all_nested, setup_tree, teardown),
                cmocka_unit_test_setup_teardown(test_signal_all_stopped, setup_tree, teardown),
        };

        return cmocka_run_group_tests_name("real cgroups", tests, /* group_setup= */ NULL, /* group_teardown= */ NULL);
}

int main(void) {
        int r;

        /* The parsers need nothing; the rest needs root on cgroup2. */
        r = run_parsers();
        if (r != 0)
                return r;
        test_require_cgroup2_root();
        return run_real();
}
