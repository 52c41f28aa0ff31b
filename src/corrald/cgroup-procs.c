/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The processes of a cgroup and of the cgroups below it: listed, their
 * memory summed, and each signalled once (cgroup.h). */
#include "cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "pidref.h"

/* How many times cgroup_signal_all() re-reads the tree looking for
 * processes forked meanwhile; past that, cgroup.kill does the rest. */
#define SIGNAL_PASSES_MAX 16

typedef struct PidSet {
        pid_t *pids;
        size_t n, allocated;
} PidSet;

static void pid_set_done(PidSet *s) {
        free(s->pids);
        *s = (PidSet) {};
}

static int pid_set_add(PidSet *s, pid_t pid) {
        if (s->n == s->allocated) {
                size_t a = s->allocated ? s->allocated * 2 : 64;
                pid_t *p = reallocarray(s->pids, a, sizeof(pid_t));
                if (!p)
                        return -ENOMEM;
                s->pids = p;
                s->allocated = a;
        }
        s->pids[s->n++] = pid;
        return 0;
}

static int pid_compare(const void *a, const void *b) {
        pid_t x = *(const pid_t *) a, y = *(const pid_t *) b;
        return (x > y) - (x < y);
}

static void pid_set_sort(PidSet *s) {
        if (s->n > 1)
                qsort(s->pids, s->n, sizeof(pid_t), pid_compare);
}

static bool pid_set_contains(const PidSet *s, pid_t pid) {
        return s->n > 0 && bsearch(&pid, s->pids, s->n, sizeof(pid_t), pid_compare);
}

static int collect_procs(int fd, PidSet *s);

static int collect_child(int fd, int sub, const char *name, void *userdata) {
        return sub >= 0 ? collect_procs(sub, userdata) : 0; /* gone meanwhile, or not to be opened */
}

/* Adds the PIDs of the cgroup at fd and of every cgroup below it to *s. */
static int collect_procs(int fd, PidSet *s) {
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        int r;

        r = cgroup_read_procs(fd, &pids, &n);
        if (r < 0)
                return r == -ENOENT || r == -ENODEV ? 0 : r; /* being removed */
        for (size_t i = 0; i < n; i++)
                if ((r = pid_set_add(s, pids[i])) < 0)
                        return r;
        /* The children after cgroup.procs, like the listing: a child made
         * meanwhile is seen either way. */
        return cgroup_for_each_child(fd, collect_child, s);
}

/* One pass: opens pidfds for the processes not signalled yet, then reads
 * the tree again; a process still listed then and still alive when the
 * signal arrives is proven to be the one that was in the cgroup (a PID
 * recycled in between would not be listed). Returns how many were new. */
static int signal_pass(int fd, int sig, bool also_cont, PidSet *done, int *count) {
        _cleanup_(pid_set_done) PidSet before = {}, after = {};
        PidRef *refs = NULL;
        size_t n_refs = 0;
        uint64_t flat_id = 0; /* the cgroup's id, when it has no children */
        struct stat st;
        int r;

        if (fstat(fd, &st) >= 0 && st.st_nlink == 2)
                flat_id = (uint64_t) st.st_ino;
        r = collect_procs(fd, &before);
        if (r < 0)
                return r;
        refs = calloc(before.n ?: 1, sizeof(PidRef));
        if (!refs)
                return -ENOMEM;
        for (size_t i = 0; i < before.n; i++) {
                if (pid_set_contains(done, before.pids[i]))
                        continue;
                refs[n_refs] = PIDREF_NULL;
                if (pidref_set_pid(&refs[n_refs], before.pids[i]) >= 0)
                        n_refs++;
        }
        if (n_refs == 0) { /* nothing new: no need to look again */
                free(refs);
                return 0;
        }
        /* A PID read may have been reused before its pidfd was opened: each
         * must still be here. Mostly the cgroup has no children and its
         * processes say so themselves (their pidfd's cgroup id); else the
         * listing is read again. */
        bool here_all = flat_id > 0;
        for (size_t i = 0; here_all && i < n_refs; i++) {
                uint64_t id;
                here_all = pidref_get_cgroup_id(&refs[i], &id) >= 0 && id == flat_id;
        }
        r = here_all ? 0 : collect_procs(fd, &after);
        if (r >= 0) {
                pid_set_sort(&after);
                for (size_t i = 0; i < n_refs; i++) {
                        if ((here_all || pid_set_contains(&after, refs[i].pid)) && pidref_kill(&refs[i], sig) >= 0) {
                                (*count)++;
                                if (also_cont)
                                        (void) pidref_kill(&refs[i], SIGCONT);
                        }
                        if ((r = pid_set_add(done, refs[i].pid)) < 0)
                                break;
                }
        }
        for (size_t i = 0; i < n_refs; i++)
                pidref_done(&refs[i]);
        free(refs);
        pid_set_sort(done);
        return r < 0 ? r : (int) n_refs;
}

int cgroup_list_pids(int fd, pid_t **ret, size_t *ret_n) {
        _cleanup_(pid_set_done) PidSet s = {};
        int r = collect_procs(fd, &s);

        if (r < 0)
                return r;
        pid_set_sort(&s);
        *ret = TAKE_PTR(s.pids);
        *ret_n = s.n;
        return 0;
}

uint64_t cgroup_pids_rss(const pid_t *pids, size_t n) {
        uint64_t total = 0, page = (uint64_t) sysconf(_SC_PAGESIZE);

        for (size_t i = 0; i < n; i++) {
                char path[64], buf[256];
                unsigned long long size, resident;

                snprintf(path, sizeof(path), "/proc/%d/statm", pids[i]);
                if (read_small_file_at(AT_FDCWD, path, buf, sizeof(buf), /* slack= */ 0, /* ret_len= */ NULL) < 0)
                        continue; /* gone meanwhile */
                if (sscanf(buf, "%llu %llu", &size, &resident) == 2)
                        total += resident * page;
        }
        return total;
}

int cgroup_signal_others(int fd, int sig, bool also_cont, pid_t skip) {
        _cleanup_(pid_set_done) PidSet done = {};
        int count = 0;

        if (skip > 0) {
                int r = pid_set_add(&done, skip);
                if (r < 0)
                        return r;
        }
        for (int pass = 0; pass < SIGNAL_PASSES_MAX; pass++) {
                int r = signal_pass(fd, sig, also_cont, &done, &count);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
        }
        return count;
}

bool cgroup_signal_first(const PidRef *first, int sig, bool also_cont) {
        if (!pidref_is_set(first) || pidref_kill(first, sig) < 0)
                return false;
        if (also_cont)
                (void) pidref_kill(first, SIGCONT);
        return true;
}

int cgroup_signal_all_first(int fd, int sig, bool also_cont, const PidRef *first) {
        /* Through the pidfd the caller holds: no listing to prove it is
         * the process it was, and the passes only look for others (one
         * read of cgroup.procs for a unit of one process, not two). */
        bool sent = cgroup_signal_first(first, sig, also_cont);
        int r = cgroup_signal_others(fd, sig, also_cont, sent ? first->pid : 0);

        return r < 0 ? r : r + sent;
}

int cgroup_signal_all(int fd, int sig, bool also_cont) {
        return cgroup_signal_all_first(fd, sig, also_cont, /* first= */ NULL);
}
