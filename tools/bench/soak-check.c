/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The checks and figures of the soak (soak-check.h). */
#include "soak-check.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "process-util.h"
#include "test-util.h"

/* ---- processes ---- */

typedef struct Proc {
        pid_t pid;
        uint64_t start;
        char cgroup[512];
} Proc;

static bool environ_has(const char *buf, size_t n, const char *entry) {
        size_t len = strlen(entry);

        for (size_t i = 0; i < n;) {
                const char *e = buf + i;
                size_t l = strnlen(e, n - i);
                if (l == len && memcmp(e, entry, len) == 0)
                        return true;
                i += l + 1;
        }
        return false;
}

static int proc_cgroup(pid_t pid, char *buf, size_t size) {
        _cleanup_free_ char *p = NULL, *text = NULL;
        const char *line;

        if (asprintf(&p, "/proc/%d/cgroup", (int) pid) < 0)
                abort();
        if (read_full_file_at(AT_FDCWD, p, 65536, &text, NULL) < 0)
                return -ESRCH;
        line = strncmp(text, "0::", 3) == 0 ? text : strstr(text, "\n0::");
        if (!line)
                return -ENOENT;
        line += line[0] == '\n' ? 4 : 3;
        snprintf(buf, size, "%.*s", (int) strcspn(line, "\n"), line);
        return 0;
}

/* The live processes with the marker (zombies have no environment). */
static size_t marker_procs(const char *marker, Proc *v, size_t max) {
        _cleanup_free_ char *entry = NULL;
        DIR *d = opendir("/proc");
        size_t n = 0;

        if (!d || asprintf(&entry, "CORRAL_TEST_MARKER=%s", marker) < 0)
                abort();
        for (struct dirent *de; (de = readdir(d)) && n < max;) {
                _cleanup_free_ char *p = NULL, *buf = NULL;
                size_t size = 0;
                pid_t pid = (pid_t) atoi(de->d_name);
                if (pid <= 0)
                        continue;
                if (asprintf(&p, "/proc/%d/environ", (int) pid) < 0)
                        abort();
                if (read_full_file_at(AT_FDCWD, p, 1 << 20, &buf, &size) < 0 || !environ_has(buf, size, entry))
                        continue;
                Proc x = { .pid = pid };
                if (pid_get_start_time(pid, &x.start) < 0 || proc_cgroup(pid, x.cgroup, sizeof(x.cgroup)) < 0)
                        continue; /* gone meanwhile */
                v[n++] = x;
        }
        closedir(d);
        return n;
}

static void proc_describe(const Proc *x, const char *what) {
        _cleanup_free_ char *p = NULL, *cmd = NULL;
        size_t n = 0;

        if (asprintf(&p, "/proc/%d/cmdline", (int) x->pid) < 0)
                abort();
        if (read_full_file_at(AT_FDCWD, p, 4096, &cmd, &n) < 0)
                cmd = strdup("?");
        for (size_t i = 0; i + 1 < n; i++)
                if (cmd[i] == '\0')
                        cmd[i] = ' ';
        fprintf(stderr, "soak: %s: pid %d in %s: %s\n", what, (int) x->pid, x->cgroup, cmd);
}

/* The unit a cgroup path below units_cgroup belongs to ("" for none). */
static void cgroup_unit(const char *cgroup, const char *units_cgroup, char *buf, size_t size) {
        size_t l = strlen(units_cgroup);

        buf[0] = '\0';
        if (strncmp(cgroup, units_cgroup, l) != 0 || cgroup[l] != '/')
                return;
        snprintf(buf, size, "%.*s", (int) strcspn(cgroup + l + 1, "/"), cgroup + l + 1);
}

#define PROCS_MAX 8192
static Proc procs[PROCS_MAX], procs2[PROCS_MAX];

unsigned check_escapes(const char *marker, const char *units_cgroup) {
        static struct {
                pid_t pid;
                uint64_t start;
        } seen[256];
        static size_t n_seen;
        size_t n = marker_procs(marker, procs, PROCS_MAX);
        unsigned escapes = 0;

        for (size_t i = 0; i < n; i++) {
                char unit[256];
                bool known = false;
                cgroup_unit(procs[i].cgroup, units_cgroup, unit, sizeof(unit));
                if (unit[0] && !streq(unit, "supervisor"))
                        continue;
                for (size_t k = 0; k < n_seen; k++)
                        known = known || (seen[k].pid == procs[i].pid && seen[k].start == procs[i].start);
                if (known)
                        continue;
                if (n_seen < ELEMENTSOF(seen)) {
                        seen[n_seen].pid = procs[i].pid;
                        seen[n_seen++].start = procs[i].start;
                }
                proc_describe(&procs[i], "ESCAPE (outside the units' cgroups)");
                escapes++;
        }
        return escapes;
}

/* name → state of every unit c reports; NULL on error. */
static corral_units *units_now(corral *c) {
        corral_units *u = NULL;
        return corral_status(c, NULL, &u) < 0 ? NULL : u;
}

static const char *unit_state_of(const corral_units *u, const char *name) {
        for (size_t i = 0; i < corral_units_count(u); i++)
                if (streq_ptr(corral_unit_name(corral_units_get(u, i)), name))
                        return corral_unit_state(corral_units_get(u, i)) ?: "?";
        return NULL;
}

static bool stray(const corral_units *u, const Proc *x, const char *units_cgroup) {
        char unit[256];
        const char *state;

        cgroup_unit(x->cgroup, units_cgroup, unit, sizeof(unit));
        if (!unit[0] || streq(unit, "supervisor"))
                return false; /* an escape, counted as such */
        state = unit_state_of(u, unit);
        return !state || streq(state, "inactive") || streq(state, "failed") || streq(state, "exited");
}

unsigned check_strays(corral *c, const char *marker, const char *units_cgroup) {
        corral_units *u = units_now(c);
        size_t n, n2;
        unsigned strays = 0;

        if (!u)
                return 0;
        n = marker_procs(marker, procs, PROCS_MAX);
        corral_units_free(u);
        sleep(2);
        u = units_now(c);
        n2 = marker_procs(marker, procs2, PROCS_MAX);
        for (size_t i = 0; u && i < n; i++) {
                bool again = false;
                for (size_t k = 0; k < n2 && !again; k++)
                        again = procs2[k].pid == procs[i].pid && procs2[k].start == procs[i].start;
                if (!again || !stray(u, &procs[i], units_cgroup))
                        continue;
                char unit[256];
                cgroup_unit(procs[i].cgroup, units_cgroup, unit, sizeof(unit));
                const char *state = unit_state_of(u, unit);
                fprintf(stderr, "soak: STRAY: unit %s is %s\n", unit, state ?: "not reported");
                proc_describe(&procs[i], "STRAY");
                strays++;
        }
        corral_units_free(u);
        return strays;
}

/* The cgroups below dir_fs (relative names, "a" and "a/b"), into v. */
static size_t list_cgroups(const char *fs, const char *rel, char (*v)[256], size_t n, size_t max) {
        _cleanup_free_ char *p = NULL;
        DIR *d;

        if (asprintf(&p, "%s%s%s", fs, rel[0] ? "/" : "", rel) < 0)
                abort();
        d = opendir(p);
        if (!d)
                return n;
        for (struct dirent *de; (de = readdir(d)) && n < max;) {
                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                int k = snprintf(v[n], sizeof(v[n]), "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
                if (k < 0 || (size_t) k >= sizeof(v[n]))
                        continue;
                char sub[256];
                memcpy(sub, v[n], (size_t) k + 1);
                n = list_cgroups(fs, sub, v, n + 1, max);
        }
        closedir(d);
        return n;
}

static char cgroups[4096][256], cgroups2[4096][256];

static bool leaked(const corral_units *u, const char *rel) {
        if (streq(rel, "supervisor"))
                return false;
        return strchr(rel, '/') || !unit_state_of(u, rel);
}

unsigned check_leaks(corral *c, const char *units_cgroup) {
        _cleanup_free_ char *fs = test_cgroup_fs_path(units_cgroup);
        corral_units *u = units_now(c);
        size_t n, n2;
        unsigned leaks = 0;

        if (!u)
                return 0;
        n = list_cgroups(fs, "", cgroups, 0, ELEMENTSOF(cgroups));
        for (size_t i = 0; i < n; i++)
                if (!leaked(u, cgroups[i]))
                        cgroups[i][0] = '\0';
        corral_units_free(u);
        sleep(2);
        u = units_now(c);
        n2 = list_cgroups(fs, "", cgroups2, 0, ELEMENTSOF(cgroups2));
        for (size_t i = 0; u && i < n; i++) {
                bool again = false;
                if (!cgroups[i][0])
                        continue;
                for (size_t k = 0; k < n2 && !again; k++)
                        again = streq(cgroups2[k], cgroups[i]);
                if (!again || !leaked(u, cgroups[i]))
                        continue;
                fprintf(stderr, "soak: LEAK: cgroup %s/%s belongs to no unit corrald reports\n", units_cgroup,
                        cgroups[i]);
                leaks++;
        }
        corral_units_free(u);
        return leaks;
}

unsigned check_marker_anywhere(const char *marker) {
        size_t n = 0;

        for (unsigned i = 0; i < 50; i++) {
                n = marker_procs(marker, procs, PROCS_MAX);
                if (n == 0)
                        return 0;
                usleep(100 * 1000);
        }
        for (size_t i = 0; i < n; i++)
                proc_describe(&procs[i], "ALIVE after corrald's shutdown");
        return (unsigned) n;
}

unsigned check_subtree_removable(const char *units_cgroup) {
        _cleanup_free_ char *fs = test_cgroup_fs_path(units_cgroup);
        size_t n;
        unsigned left = 0;
        struct stat st;

        if (stat(fs, &st) < 0)
                return 0; /* corrald removed it */
        n = list_cgroups(fs, "", cgroups, 0, ELEMENTSOF(cgroups));
        fprintf(stderr, "soak: after the shutdown, %s holds %zu cgroups\n", units_cgroup, n);
        for (size_t i = n; i > 0; i--) { /* children come after their parent */
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s/%s", fs, cgroups[i - 1]) < 0)
                        abort();
                if (rmdir(p) < 0) {
                        fprintf(stderr, "soak: LEAK: cannot remove %s: %m\n", p);
                        left++;
                }
        }
        if (rmdir(fs) < 0) {
                fprintf(stderr, "soak: LEAK: cannot remove %s: %m\n", fs);
                left++;
        }
        return left;
}

int cgroup_own(char **ret) {
        char buf[512];
        int r = proc_cgroup(getpid(), buf, sizeof(buf));

        if (r < 0)
                return r;
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

/* ---- corrald's memory and descriptors ---- */

void sample_daemon(pid_t pid, Sample *s) {
        _cleanup_free_ char *p = NULL, *text = NULL;
        const char *l;
        DIR *d;

        if (asprintf(&p, "/proc/%d/smaps_rollup", (int) pid) < 0)
                abort();
        if (read_full_file_at(AT_FDCWD, p, 65536, &text, NULL) >= 0) {
                if ((l = strstr(text, "\nRss:")))
                        s->rss_kb = strtoul(l + 5, NULL, 10);
                if ((l = strstr(text, "\nAnonymous:")))
                        s->anon_kb = strtoul(l + 11, NULL, 10);
        }
        p = mfree(p);
        if (asprintf(&p, "/proc/%d/fd", (int) pid) < 0)
                abort();
        d = opendir(p);
        s->fds = 0;
        for (struct dirent *de; d && (de = readdir(d));)
                s->fds += de->d_name[0] != '.';
        if (d)
                closedir(d);
}

void series_add(Series *s, Sample x, double value) {
        if (s->n >= ELEMENTSOF(s->v))
                return;
        x.value = value;
        s->v[s->n++] = x;
}

/* Least squares of value = a + b·units + c·t, per incarnation (its own
 * a: each one's means taken out, what grows while one corrald runs) or
 * over all samples (one a: what grows from one corrald to the next). The
 * number of units is a regressor because it moves: ended jobs are kept
 * (up to 1000) and a reload adds and removes services, and what they
 * cost is not growth. Returns c, per minute; *ret_per_unit is b. */
static double slope(const Series *s, bool within, double *ret_per_unit) {
        double suu = 0, stt = 0, sut = 0, suv = 0, stv = 0, det;

        for (unsigned i = 0; i < s->n; i++) {
                double mt = 0, mu = 0, mv = 0;
                unsigned k = 0;
                for (unsigned j = 0; j < s->n; j++)
                        if (!within || s->v[j].incarnation == s->v[i].incarnation) {
                                mt += s->v[j].t;
                                mu += s->v[j].units;
                                mv += s->v[j].value;
                                k++;
                        }
                double t = s->v[i].t - mt / k, u = s->v[i].units - mu / k, v = s->v[i].value - mv / k;
                suu += u * u;
                stt += t * t;
                sut += u * t;
                suv += u * v;
                stv += t * v;
        }
        det = suu * stt - sut * sut;
        if (fabs(det) < 1e-9) { /* units constant (or t): value over time alone */
                *ret_per_unit = 0;
                return stt > 0 ? stv / stt * 60.0 : 0.0;
        }
        *ret_per_unit = (stt * suv - sut * stv) / det;
        return (suu * stv - sut * suv) / det * 60.0;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return (x > y) - (x < y);
}

/* Prints one series; returns whether it is flat: neither slope, over the
 * whole run, grows it by more than the allowance. */
static bool series_print(const char *name, const Series *s, double allowance_min, double allowance_frac,
                         unsigned minutes) {
        double v[ELEMENTSOF(s->v)], max = 0, median, within, all, allow;

        if (s->n == 0) {
                printf("%s: no samples\n", name);
                return false;
        }
        for (unsigned i = 0; i < s->n; i++) {
                v[i] = s->v[i].value;
                max = fmax(max, v[i]);
        }
        qsort(v, s->n, sizeof(double), cmp_double);
        median = v[s->n / 2];
        double per_unit_within, per_unit_all;
        within = slope(s, true, &per_unit_within);
        all = slope(s, false, &per_unit_all);
        allow = fmax(allowance_min, allowance_frac * median);
        /* judged over the run: within one corrald, adopted units have no
         * output pipes nor rings until they next start, so a new corrald
         * warms up for a while (printed, not judged); a leak adds up
         * across them all */
        bool flat = all * minutes <= allow;
        printf("%s: first %.0f, last %.0f, max %.0f, median %.0f; growth beyond what the number of units "
               "explains: %+.1f/min over the run (%+.2f per unit; judged), %+.1f/min within incarnations (%+.2f "
               "per unit; adopted units warm up); allowed growth over the run %.0f: %s\n",
               name, s->v[0].value, s->v[s->n - 1].value, max, median, all, per_unit_all, within, per_unit_within,
               allow, flat ? "flat" : "GROWING");
        printf("%s series (incarnation:value at t s, units):", name);
        for (unsigned i = 0; i < s->n; i++)
                printf(" %u:%.0f@%.0f,%u", s->v[i].incarnation, s->v[i].value, s->v[i].t, s->v[i].units);
        printf("\n");
        return flat;
}

bool report(const Report *r) {
        static const char *const counter_name[_SOAK_COUNT_MAX] = {
                "unit execs",
                "READY=1",
                "MAINPID=",
                "STATUS=",
                "STATUS= with bytes >= 0x80",
                "WATCHDOG=1",
                "duplicate incarnations (lock)",
        };
        unsigned total = 0;

        printf("soak: seed %llu, %u minutes, %u units\n", (unsigned long long) r->seed, r->minutes, r->units);
        printf("ops:");
        for (unsigned i = 0; i < r->n_ops; i++) {
                printf(" %s %u", r->op_names[i], r->ops_done[i]);
                total += r->ops_done[i];
        }
        printf(" (total %u)\n", total);
        for (unsigned i = 0; i < r->n_ops; i++)
                if (r->ops_failed[i])
                        printf("  %s refused or failed %u times; first: %s\n", r->op_names[i], r->ops_failed[i],
                               r->first_error[i]);
        printf("reloads changed the configuration: %u services added, %u removed, %u changed, %u rescaled; "
               "job_max refusals %u\n",
               r->reload_added, r->reload_removed, r->reload_changed, r->reload_scaled, r->job_eagain);
        printf("notify (sent by units):");
        for (unsigned i = 0; i < _SOAK_COUNT_MAX; i++)
                printf("%s %s %llu", i ? "," : "", counter_name[i], (unsigned long long) r->counters->n[i]);
        printf("\n");
        printf("corrald: %u incarnations (%u restarts after SIGKILL); adoptions: %u units adopted, %u leftover "
               "cgroups stopped, %u restarted (main process gone), %u restarted (configuration changed); "
               "final shutdown: exit status %d\n",
               r->incarnations, r->incarnations - 1, r->adopted, r->leftover_stopped, r->main_gone, r->changed_away,
               r->shutdown_status);
        printf("settles: %u (%u did not settle within 90 s; %u units not up after a settle's start --all)\n",
               r->settles, r->unsettled, r->start_again);
        printf("duplicates: %u\n", r->duplicates);
        printf("escapes: %u (of which alive after the final shutdown: %u)\n", r->escapes, r->left_after_shutdown);
        printf("strays (processes in inactive/failed/unknown units at a settle): %u\n", r->strays);
        printf("leaked cgroups: %u (of which not removable after the final shutdown: %u)\n", r->leaks,
               r->subtree_leaks);
        bool flat = series_print("rss_kib", r->rss, 512, 0.05, r->minutes);
        flat = series_print("anon_kib", r->anon, 512, 0.05, r->minutes) && flat;
        flat = series_print("fds", r->fds, 2, 0, r->minutes) && flat;
        return flat;
}
