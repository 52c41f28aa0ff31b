/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control server's request handling, as pure code: the bytes one
 * client sends, split into lines as the server splits them (at most
 * CONTROL_REQUEST_MAX bytes), each parsed by control_request_parse()
 * (control-request.c), and the replies formatted by control-json.c — both
 * linked as they are, nothing renamed or stubbed.
 *
 * A request that parses must come out as docs/PROTOCOL.md describes it:
 * a method of the table, and params of the right types and bounds. Any
 * other line gives an error reply with a message. A status request (or a
 * unit method) names units of a small world of units with no cgroup and no
 * process; each is snapshot by unit_status_get() (unit-status.c) as the
 * daemon does and formatted: every reply must be one line of a JSON object
 * of the protocol's shape, and carry one unit per name.
 *
 * A reply of units is made as the daemon makes it, in pages
 * (control_pager_add()): every line at most 1 MiB, each but the last with
 * "more": true, the units of all pages one per name — or, for a status
 * with "bare", bare arrays and then the result. A request's names come
 * out each once, in the order first given.
 *
 * The first lines of an input may set up the world:
 *   STATUS=bytes      any bytes (no newline) as web@0's status text, web@1's
 *                     error text and web@0's health error, as a unit's
 *                     STATUS= or a file could give them: they must come out
 *                     as valid UTF-8, the same text when valid, no unit lost
 *   COPIES=n          a status of every unit lists the world n times
 *                     (1..5000), to fill pages
 *   PROCESSES=n       web@0, named in a status, has n processes (..2000),
 *                     each with the STATUS= bytes as its command line */

#include <assert.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config.h"
#include "control-json.h"
#include "control-request.h"
#include "control.h"
#include "log.h"
#include "strv.h"
#include "unit-status.h"
#include "unit.h"
#include "utf8.h"

#define FUZZ_USER_UID 65534

static const char fuzz_config[] =
        "[corral]\n"
        "cgroup = /corral\n"
        "[program:web]\n"
        "command = /bin/true ${PORT}\n"
        "instances = 2\n"
        "port = auto\n"
        "health_url = http://127.0.0.1:${PORT}/\n";

static struct {
        Config *config;
        Unit units[4];
        UnitHealthState health;  /* web@0's */
        unsigned long copies;    /* COPIES= */
        unsigned long processes; /* PROCESSES= */
} w = { .copies = 1 };

/* Units as the daemon holds them, without a cgroup (no statistics to read)
 * and without a process. */
static void world_init(void) {
        _cleanup_free_ char *error = NULL;

        w.health = (UnitHealthState) { .ok = true, .http_status = 200, .checks = 3 };
        log_set_max_level(LOG_ERR);
        assert(config_load_buffer("fuzz.conf", fuzz_config, sizeof(fuzz_config) - 1, &w.config, &error) >= 0);
        w.units[0] = (Unit) { .name = (char *) "web@0",
                              .config = w.config->services[0],
                              .instance = 0,
                              .state = UNIT_RUNNING,
                              .main = { .pid = 4242, .fd = -EBADF },
                              .port = 30000,
                              .health = &w.health };
        w.units[1] = (Unit) { .name = (char *) "web@1",
                              .config = w.config->services[0],
                              .instance = 1,
                              .state = UNIT_FAILED,
                              .result = UNIT_FAILURE_SPAWN,
                              .main = PIDREF_NULL,
                              .error_text = (char *) "exec /bin/true: No such file or directory" };
        w.units[2] = (Unit) { .name = (char *) "job-0000beef",
                              .instance = -1,
                              .is_job = true,
                              .owner_uid = FUZZ_USER_UID,
                              .state = UNIT_INACTIVE,
                              .main = PIDREF_NULL,
                              .exit_code = CLD_EXITED,
                              .exit_status = 3,
                              .result = UNIT_FAILURE_EXIT_CODE };
        w.units[3] = (Unit) { .name = (char *) "job-running",
                              .instance = -1,
                              .is_job = true,
                              .owner_uid = 0,
                              .state = UNIT_RUNNING,
                              .main = { .pid = 4343, .fd = -EBADF } };
        for (size_t i = 0; i < ELEMENTSOF(w.units); i++) {
                w.units[i].main_watch_fd = -EBADF; /* no cgroup either: has_cgroup is false */
                w.units[i].watch_wd = -1;
        }
        w.units[0].status_text = strdup("serving");
        assert(w.units[0].status_text);
}

static bool line_is(const char *p, size_t n, const char *key) {
        return n >= strlen(key) && strneq(p, key, strlen(key));
}

/* The set-up lines at the start of the input; returns where the requests
 * begin. */
static const char *world_set_up(const char *p, const char *end) {
        for (;;) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t n = nl ? (size_t) (nl - p) : (size_t) (end - p);

                if (line_is(p, n, "STATUS=")) {
                        char *text = strndup(p + strlen("STATUS="), n - strlen("STATUS="));
                        assert(text);
                        free(w.units[0].status_text);
                        w.units[0].status_text = text;
                        w.health.error = text;
                        w.units[1].error_text = text;
                } else if (line_is(p, n, "COPIES="))
                        w.copies = MIN(MAX(strtoul(p + strlen("COPIES="), NULL, 10), 1UL), 5000UL);
                else if (line_is(p, n, "PROCESSES="))
                        w.processes = MIN(strtoul(p + strlen("PROCESSES="), NULL, 10), 2000UL);
                else
                        return p;
                if (!nl)
                        return end;
                p = nl + 1;
        }
}

static void world_reset(void) {
        w.copies = 1;
        w.processes = 0;
        free(w.units[0].status_text);
        w.units[0].status_text = strdup("serving");
        assert(w.units[0].status_text);
        w.health.error = NULL;
        w.units[1].error_text = (char *) "exec /bin/true: No such file or directory";
}

/* A text of a unit as its Unit object has it: valid UTF-8, and the very
 * text when that was valid and short enough. */
static void check_text(const char *raw, json_t *value) {
        const char *out = json_string_value(value);

        assert(out && utf8_is_valid(out));
        assert(strlen(out) <= UNIT_STATUS_TEXT_MAX);
        if (utf8_is_valid(raw) && strlen(raw) <= UNIT_STATUS_TEXT_MAX)
                assert(streq(out, raw));
}

static void check_unit_texts(const Unit *u, json_t *o) {
        if (u->status_text)
                check_text(u->status_text, json_object_get(o, "status_text"));
        if (u->error_text)
                check_text(u->error_text, json_object_get(o, "error"));
        if (u->health && u->health->error)
                check_text(u->health->error, json_object_get(json_object_get(o, "health"), "error"));
}

static Unit *world_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(w.units); i++)
                if (streq(w.units[i].name, name))
                        return &w.units[i];
        return NULL;
}

/* One reply as docs/PROTOCOL.md has it: formatted as one line, and parsed
 * back to an object with "ok" and a "result" object or an "error". */
static json_t *check_reply(json_t *msg) {
        _cleanup_free_ char *line = NULL;
        size_t len = 0;
        json_t *reply, *ok, *e;

        assert(control_json_line(msg, &line, &len) >= 0);
        json_decref(msg);
        assert(len > 0 && line[len - 1] == '\n' && !memchr(line, '\n', len - 1));
        reply = json_loadb(line, len - 1, JSON_REJECT_DUPLICATES, /* error= */ NULL);
        assert(json_is_object(reply));
        ok = json_object_get(reply, "ok");
        assert(json_is_boolean(ok));
        if (json_is_true(ok))
                assert(json_is_object(json_object_get(reply, "result")));
        else {
                e = json_object_get(reply, "error");
                assert(json_is_object(e));
                assert(json_is_string(json_object_get(e, "errno")));
                assert(json_integer_value(json_object_get(e, "code")) > 0);
                assert(json_is_string(json_object_get(e, "message")));
        }
        return reply;
}

static void check_error(int error, const char *message) {
        json_t *msg = NULL;

        assert(error < 0 && message);
        assert(control_json_error(error, message, &msg) >= 0);
        json_decref(check_reply(msg));
}

/* What a request that parsed holds, by its method. */
static void check_request(const ControlRequest *req) {
        assert(control_method_to_string(req->method));
        assert(control_method_from_string(control_method_to_string(req->method)) == req->method);
        if (req->params_error < 0) {
                assert(req->params_error == -EINVAL && req->params_error_message);
                return;
        }
        assert(strv_length(req->units) == req->n_units);
        switch (req->method) {
        case CONTROL_METHOD_START:
        case CONTROL_METHOD_STOP:
        case CONTROL_METHOD_RESTART:
        case CONTROL_METHOD_FREEZE:
        case CONTROL_METHOD_THAW:
                assert(req->units);
                break;
        case CONTROL_METHOD_KILL:
                assert(req->units && req->signal >= 1 && req->signal <= SIGRTMAX);
                break;
        case CONTROL_METHOD_RUN:
                assert(req->argv && req->argv[0]);
                for (size_t i = 0; i < 3; i++)
                        assert(req->stdio[i] >= -1 && req->stdio[i] < CONTROL_FDS_MAX &&
                               (req->has_stdio || req->stdio[i] == -1));
                assert(req->stop_signal >= 0 && req->stop_signal <= SIGRTMAX);
                for (char **e = req->limits; e && *e; e++)
                        assert(strchr(*e, '=') && **e != '=');
                break;
        case CONTROL_METHOD_CANCEL:
        case CONTROL_METHOD_WAIT:
                assert(req->id);
                break;
        default:
                break;
        }
}

/* web@0's processes as PROCESSES= has them: cgroup.procs and /proc
 * would give them, through the same unit_status_set_text(). */
static void add_processes(UnitStatus *s) {
        s->processes = calloc(w.processes, sizeof(UnitProcess));
        assert(s->processes || w.processes == 0);
        for (; s->n_processes < w.processes; s->n_processes++) {
                UnitProcess *p = &s->processes[s->n_processes];
                p->pid = (pid_t) (100 + s->n_processes);
                p->ppid = 1;
                assert(unit_status_set_text(&p->cmdline, w.units[0].status_text, UNIT_STATUS_CMDLINE_MAX) >= 0);
        }
}

/* Unit u as its Unit object, checked: its texts, its processes within
 * their bounds. */
static json_t *unit_json(Unit *u, const char *name, UnitStatusFlags flags) {
        _cleanup_(unit_status_done) UnitStatus s = {};
        json_t *o, *processes;

        assert(unit_status_get(u, flags, &s) >= 0);
        assert(streq(s.name, name));
        if (u == &w.units[0] && (flags & UNIT_STATUS_PROCESSES))
                add_processes(&s);
        o = control_json_unit(&s);
        assert(o);
        check_unit_texts(u, o);
        processes = json_object_get(o, "processes");
        assert(!!processes == !!(flags & UNIT_STATUS_PROCESSES));
        if (processes) {
                size_t bytes = json_dumpb(processes, NULL, 0, JSON_COMPACT);
                assert(json_array_size(processes) <= s.n_processes);
                assert(bytes <= CONTROL_JSON_PROCESSES_MAX + 2);
                assert(json_is_true(json_object_get(o, "processes_truncated")) ==
                       (json_array_size(processes) < s.n_processes));
        }
        return o;
}

/* One line of a reply in pages: at most 1 MiB, ok, "more" as expected,
 * its units; bare: a page is a bare array of units (never empty), the
 * last line the result without them. Returns how many. */
static size_t check_page(char *line, size_t len, bool more, bool bare) {
        json_t *page, *units;
        size_t n;

        assert(len > 0 && len <= 1024 * 1024 && line[len - 1] == '\n' && !memchr(line, '\n', len - 1));
        page = json_loadb(line, len - 1, JSON_REJECT_DUPLICATES, /* error= */ NULL);
        free(line);
        if (bare) {
                assert(json_is_array(page) == more);
                n = json_array_size(page);
                assert(!more || n > 0);
                if (!more) {
                        assert(json_is_true(json_object_get(page, "ok")) && !json_object_get(page, "more"));
                        assert(!json_object_get(json_object_get(page, "result"), "units"));
                        assert(json_is_object(json_object_get(json_object_get(page, "result"), "daemon")));
                }
                json_decref(page);
                return n;
        }
        assert(json_is_true(json_object_get(page, "ok")));
        assert(json_is_true(json_object_get(page, "more")) == more);
        units = json_object_get(json_object_get(page, "result"), "units");
        assert(json_is_array(units));
        n = json_array_size(units);
        if (!more)
                assert(json_is_object(json_object_get(json_object_get(page, "result"), "daemon")));
        json_decref(page);
        return n;
}

/* The units a request names (a status naming none: every unit, COPIES=
 * times), snapshot and formatted as the daemon formats them, in pages:
 * one Unit object per name, in order. */
static void check_units_reply(const ControlRequest *req) {
        static const char *const all[] = { "web@0", "web@1", "job-0000beef", "job-running", NULL };
        const char *const *names = req->units ? (const char *const *) req->units : all;
        size_t n = req->units ? req->n_units : ELEMENTSOF(all) - 1, got = 0, len = 0;
        size_t copies = req->units ? 1 : w.copies;
        UnitStatusFlags flags = req->method == CONTROL_METHOD_STATUS ? UNIT_STATUS_STATS : 0;
        ControlPager pager = { .bare = req->bare };
        char *line = NULL;

        for (size_t i = 1; i < n; i++)
                for (size_t k = 0; k < i; k++)
                        assert(!streq(names[i], names[k])); /* each name once */
        for (size_t i = 0; i < n; i++)
                if (!world_find(names[i])) {
                        check_error(-ENOENT, "no such unit");
                        return;
                }
        for (size_t c = 0; c < copies; c++)
                for (size_t i = 0; i < n; i++) {
                        bool detailed = req->method == CONTROL_METHOD_STATUS && req->units && i < CONTROL_DETAILED_MAX;
                        json_t *o = unit_json(world_find(names[i]), names[i],
                                              flags | (detailed ? UNIT_STATUS_PROCESSES : 0));
                        int r = control_pager_add(&pager, o, &line, &len);
                        assert(r >= 0);
                        if (r > 0)
                                got += check_page(line, len, /* more= */ true, req->bare);
                }
        int r = control_pager_flush(&pager, &line, &len);
        assert(r >= 0 && (r > 0) == (req->bare && got < n * copies));
        if (r > 0)
                got += check_page(line, len, /* more= */ true, req->bare);
        assert(control_pager_finish(&pager,
                                    json_pack("{s:o}", "daemon", control_json_daemon("0.1.0", 1, "/corral", NULL)),
                                    &line, &len) >= 0);
        got += check_page(line, len, /* more= */ false, req->bare);
        assert(got == n * copies);
        control_pager_done(&pager);
}

static void fuzz_line(const char *line, size_t len) {
        _cleanup_(control_request_done) ControlRequest req = {};
        const char *error = NULL;
        int r;

        r = control_request_parse(line, len, &req, &error);
        if (r < 0) {
                assert(r == -EINVAL || r == -EOPNOTSUPP);
                check_error(r, error);
                return;
        }
        check_request(&req);
        if (req.params_error < 0)
                check_error(req.params_error, req.params_error_message);
        else if (req.units || req.method == CONTROL_METHOD_STATUS)
                check_units_reply(&req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *p = (const char *) data, *end = p + size;

        if (size > CONTROL_REQUEST_MAX)
                return -1; /* the server never holds more */
        if (!w.config)
                world_init();
        p = world_set_up(p, end);
        /* the server's framing: complete lines; the rest waits for more */
        for (const char *nl; (nl = memchr(p, '\n', (size_t) (end - p))); p = nl + 1)
                fuzz_line(p, (size_t) (nl - p));
        world_reset();
        return 0;
}
