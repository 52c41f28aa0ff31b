/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "manager-runtime.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "strv.h"

#define RUNTIME_SUFFIX ".conf"

/* The services folder, created when missing; refused unless it is
 * corrald's own and nobody else may write it. */
static int runtime_dir_open(Manager *m, int *ret_fd) {
        _cleanup_free_ char *dir = NULL;
        struct stat st = {};
        int r;

        r = config_runtime_services_dir(m->config, &dir);
        if (r < 0)
                return r;
        r = dir_open_private(dir, 0700, ret_fd, &st);
        if (r == -EPERM)
                log_error("%s: owned by UID %u with mode %04o: runtime services need a folder only corrald may write",
                          dir, (unsigned) st.st_uid, (unsigned) (st.st_mode & 07777));
        return r;
}

static bool service_is_runtime(Manager *m, const ServiceConfig *s) {
        _cleanup_free_ char *dir = NULL;
        size_t n;

        if (config_runtime_services_dir(m->config, &dir) < 0 || !s->file)
                return false;
        n = strlen(dir);
        return strneq(s->file, dir, n) && s->file[n] == '/';
}

_printf_(3, 4) static int runtime_errorf(char **ret_error, int r, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        if (ret_error && vasprintf(ret_error, format, ap) < 0)
                *ret_error = NULL;
        va_end(ap);
        return r;
}

/* The file's text for service name with body, checked as the loader
 * would check it (label names the request in messages). */
static int runtime_text(Manager *m, const char *label, const char *name, const char *body, char **ret,
                        char **ret_error) {
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *text = NULL;
        ServiceConfig *other;
        int r;

        if (!config_name_is_valid(name) || streq(name, CONFIG_RESERVED_NAME))
                return runtime_errorf(ret_error, -EINVAL, "%s: invalid service name '%.64s'", label, name);
        other = config_find_service(m->config, name);
        if (other && !service_is_runtime(m, other))
                return runtime_errorf(ret_error, -EEXIST, "%s: [program:%s] is defined in %s:%u, not through the API",
                                      label, name, other->file, other->line);
        for (const char *l = body; l && *l; l += strcspn(l, "\n"), l += *l == '\n') {
                const char *p = l + strspn(l, " \t");
                if (*p == '[')
                        return runtime_errorf(ret_error, -EINVAL,
                                              "%s: a section header in the body: give the keys of one service", label);
        }
        size_t blen = body ? strlen(body) : 0;
        if (asprintf(&text, "[program:%s]\n%s%s", name, body ?: "", blen > 0 && body[blen - 1] != '\n' ? "\n" : "") < 0)
                return -ENOMEM;
        /* checked against the [corral] settings that apply (after the
         * section, so that line numbers are the request's own) */
        _cleanup_free_ char *check = NULL;
        if (asprintf(&check, "%s[corral]\nport_range = %u-%u\n", text, m->config->port_min, m->config->port_max) < 0)
                return -ENOMEM;
        r = config_load_buffer(label, check, strlen(check), &c, ret_error);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(text);
        return 0;
}

/* Replaces NAME.conf with text (NULL: removes it), atomically. */
static int runtime_store(int dfd, const char *name, const char *text) {
        char file[CONFIG_NAME_MAX + 16], tmp[CONFIG_NAME_MAX + 24];
        _cleanup_close_ int fd = -EBADF;
        size_t n;

        snprintf(file, sizeof(file), "%s" RUNTIME_SUFFIX, name);
        if (!text)
                return unlinkat(dfd, file, 0) < 0 && errno != ENOENT ? -errno : fsync(dfd) < 0 ? -errno : 0;
        snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        n = strlen(text);
        for (size_t done = 0; done < n;) {
                ssize_t k = write(fd, text + done, n - done);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        int e = -errno;
                        (void) unlinkat(dfd, tmp, 0);
                        return e;
                }
                done += (size_t) k;
        }
        if (fsync(fd) < 0 || renameat(dfd, tmp, dfd, file) < 0) {
                int e = -errno;
                (void) unlinkat(dfd, tmp, 0);
                return e;
        }
        return fsync(dfd) < 0 ? -errno : 0;
}

/* What NAME.conf holds now (NULL: nothing). */
static int runtime_read(int dfd, const char *name, char **ret) {
        char file[CONFIG_NAME_MAX + 16];
        int r;

        snprintf(file, sizeof(file), "%s" RUNTIME_SUFFIX, name);
        r = read_full_file_at(dfd, file, CONFIG_FILE_SIZE_MAX, ret, /* ret_size= */ NULL);
        if (r == -ENOENT) {
                *ret = NULL;
                return 0;
        }
        return r;
}

typedef struct RuntimeChange {
        char *name;
        char *text; /* the new text; NULL: removed */
        char *old;  /* what was there; NULL: nothing */
} RuntimeChange;

static void runtime_changes_free(RuntimeChange *c, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(c[i].name);
                free(c[i].text);
                free(c[i].old);
        }
        free(c);
}

/* Writes every change, reloads, and puts the old files back when the
 * reload refuses the whole (then nothing changed). */
static int runtime_commit(Manager *m, RuntimeChange *c, size_t n, ReloadCounts *ret_counts, char **ret_error) {
        _cleanup_close_ int dfd = -EBADF;
        size_t written = 0;
        int r;

        r = runtime_dir_open(m, &dfd);
        if (r < 0)
                return runtime_errorf(ret_error, r, "cannot open the runtime services folder: %s", strerror(-r));
        for (size_t i = 0; i < n && r >= 0; i++)
                if ((r = runtime_read(dfd, c[i].name, &c[i].old)) >= 0 &&
                    (r = runtime_store(dfd, c[i].name, c[i].text)) >= 0)
                        written = i + 1;
        if (r >= 0) {
                r = manager_reload(m, ret_counts);
                if (r < 0 && ret_error && m->reload_error)
                        *ret_error = strdup(m->reload_error);
        } else
                (void) runtime_errorf(ret_error, r, "cannot store runtime service %s: %s", c[written].name,
                                      strerror(-r));
        for (size_t i = 0; r < 0 && i < written; i++)
                (void) runtime_store(dfd, c[i].name, c[i].old);
        return r;
}

int manager_runtime_add(Manager *m, const char *name, const char *body, ReloadCounts *ret_counts, char **ret_error) {
        _cleanup_free_ char *label = NULL;
        RuntimeChange *c = calloc(1, sizeof(RuntimeChange));
        int r;

        if (!c || asprintf(&label, "add %.64s", name) < 0 || !(c->name = strdup(name))) {
                runtime_changes_free(c, 1);
                return -ENOMEM;
        }
        r = runtime_text(m, label, name, body, &c->text, ret_error);
        if (r >= 0)
                r = runtime_commit(m, c, 1, ret_counts, ret_error);
        runtime_changes_free(c, 1);
        return r;
}

/* The runtime service name, or why it is not one. */
static int runtime_find(Manager *m, const char *name, char **ret_error) {
        ServiceConfig *s = config_find_service(m->config, name);

        if (!s)
                return runtime_errorf(ret_error, -ENOENT, "no such service: %.64s", name);
        if (!service_is_runtime(m, s))
                return runtime_errorf(ret_error, -EPERM, "[program:%s] is defined in %s:%u: edit the file and reload",
                                      name, s->file, s->line);
        return 0;
}

int manager_runtime_remove(Manager *m, const char *name, ReloadCounts *ret_counts, char **ret_error) {
        RuntimeChange *c = calloc(1, sizeof(RuntimeChange));
        int r;

        if (!c || !(c->name = strdup(name))) {
                runtime_changes_free(c, 1);
                return -ENOMEM;
        }
        r = runtime_find(m, name, ret_error);
        if (r >= 0)
                r = runtime_commit(m, c, 1, ret_counts, ret_error);
        runtime_changes_free(c, 1);
        return r;
}

/* body without its "instances =" lines, then the new count. */
static int body_with_instances(const char *text, unsigned instances, char **ret) {
        _cleanup_free_ char *out = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&out, &n);
        const char *l = strchr(text, '\n'); /* after the section header */

        if (!f)
                return -ENOMEM;
        for (l = l ? l + 1 : ""; *l; l += strcspn(l, "\n"), l += *l == '\n') {
                const char *p = l + strspn(l, " \t");
                size_t len = strcspn(l, "\n");
                if (strneq(p, "instances", 9) && strchr(" \t=", p[9]))
                        continue;
                fprintf(f, "%.*s\n", (int) len, l);
        }
        if (instances > 0)
                fprintf(f, "instances = %u\n", instances);
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(out);
        return 0;
}

int manager_runtime_scale(Manager *m, const char *name, unsigned instances, ReloadCounts *ret_counts,
                          char **ret_error) {
        _cleanup_free_ char *current = NULL, *body = NULL, *label = NULL;
        _cleanup_close_ int dfd = -EBADF;
        int r;

        r = runtime_find(m, name, ret_error);
        if (r < 0)
                return r;
        r = runtime_dir_open(m, &dfd);
        if (r >= 0)
                r = runtime_read(dfd, name, &current);
        if (r >= 0 && !current)
                r = -ENOENT;
        if (r < 0)
                return runtime_errorf(ret_error, r, "cannot read runtime service %s: %s", name, strerror(-r));
        r = body_with_instances(current, instances, &body);
        if (r < 0)
                return r;
        if (asprintf(&label, "scale %.64s", name) < 0)
                return -ENOMEM;
        RuntimeChange *c = calloc(1, sizeof(RuntimeChange));
        if (!c || !(c->name = strdup(name))) {
                runtime_changes_free(c, 1);
                return -ENOMEM;
        }
        r = runtime_text(m, label, name, body, &c->text, ret_error);
        if (r >= 0)
                r = runtime_commit(m, c, 1, ret_counts, ret_error);
        runtime_changes_free(c, 1);
        return r;
}

static bool list_has(const RuntimeService *list, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (streq(list[i].name, name))
                        return true;
        return false;
}

int manager_runtime_apply(Manager *m, const RuntimeService *list, size_t n, ReloadCounts *ret_counts,
                          char **ret_error) {
        size_t cap = n + m->config->n_services + 1; /* the reload replaces m->config */
        RuntimeChange *c = calloc(cap, sizeof(RuntimeChange));
        size_t k = 0;
        int r = 0;

        if (!c)
                return -ENOMEM;
        for (size_t i = 0; i < n && r >= 0; i++) {
                _cleanup_free_ char *label = NULL;
                if (list_has(list, i, list[i].name))
                        r = runtime_errorf(ret_error, -EINVAL, "apply: %.64s is listed twice", list[i].name);
                else if (asprintf(&label, "apply %.64s", list[i].name) < 0 || !(c[k].name = strdup(list[i].name)))
                        r = -ENOMEM;
                else
                        r = runtime_text(m, label, list[i].name, list[i].body, &c[k++].text, ret_error);
        }
        /* runtime services not in the list go */
        for (size_t i = 0; i < m->config->n_services && r >= 0; i++) {
                const ServiceConfig *s = m->config->services[i];
                if (!service_is_runtime(m, s) || list_has(list, n, s->name))
                        continue;
                if (!(c[k++].name = strdup(s->name)))
                        r = -ENOMEM;
        }
        if (r >= 0)
                r = runtime_commit(m, c, k, ret_counts, ret_error);
        runtime_changes_free(c, cap);
        return r;
}

/* The lines of the section that starts at line (1-based) of text. */
static int section_text(const char *text, unsigned line, char **ret) {
        const char *p = text, *end;

        for (unsigned i = 1; i < line && *p; i++)
                p += strcspn(p, "\n"), p += *p == '\n';
        end = p + strcspn(p, "\n");
        while (*end) {
                const char *next = end + 1, *q = next + strspn(next, " \t");
                if (*q == '[')
                        break;
                end = next + strcspn(next, "\n");
        }
        *ret = strndup(p, (size_t) (end - p));
        return *ret ? 0 : -ENOMEM;
}

int manager_service_source(Manager *m, const char *name, char **ret_file, unsigned *ret_line, bool *ret_runtime,
                           char **ret_text) {
        _cleanup_free_ char *text = NULL, *section = NULL, *file = NULL;
        ServiceConfig *s = config_find_service(m->config, name);
        int r;

        if (!s)
                return -ENOENT;
        r = read_full_file_at(AT_FDCWD, s->file, CONFIG_FILE_SIZE_MAX, &text, /* ret_size= */ NULL);
        if (r >= 0)
                r = section_text(text, s->line, &section);
        if (r >= 0 && !(file = strdup(s->file)))
                r = -ENOMEM;
        if (r < 0)
                return r;
        *ret_file = TAKE_PTR(file);
        *ret_line = s->line;
        *ret_runtime = service_is_runtime(m, s);
        *ret_text = TAKE_PTR(section);
        return 0;
}
