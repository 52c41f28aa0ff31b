/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control server's request handling: the bytes one client sends.
 *
 * client_handle_line() and the handlers are static in control.c and work
 * on a Client of a ControlServer of a Manager, so a target that stopped at
 * json_loadb() would fuzz jansson rather than corrald. This file includes
 * control.c instead and builds the smallest world around it: a Manager
 * with a Config, a CgroupTree that only has a path, and a few units with
 * no cgroup and no process. The calls by which a handler would act
 * (manager_start_unit, unit_kill, manager_run_job, …) are renamed below to
 * stubs that change nothing, so every method's parameter checks and reply
 * are reached without starting or signalling anything.
 *
 * Each input goes through the real framing (client_process: lines, up to
 * CONTROL_REQUEST_MAX bytes as client_read allows), twice: from root, who
 * may do everything, and from an ordinary user with status_public = yes,
 * who gets EPERM for the changing methods. Every reply must be a JSON
 * object as docs/PROTOCOL.md describes it, and there are never more
 * replies than requests. */

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "config.h"
#include "log.h"
#include "manager.h"
#include "unit.h"

static int fuzz_manager_start_unit(Manager *m, Unit *u);
static int fuzz_manager_stop_unit(Manager *m, Unit *u);
static int fuzz_manager_restart_unit(Manager *m, Unit *u);
static int fuzz_manager_reload(Manager *m, ReloadCounts *ret_counts);
static int fuzz_manager_run_job(Manager *m, const JobSpec *spec, Unit **ret);
static int fuzz_manager_cancel_job(Manager *m, Unit *u, int sig, usec_t grace);
static int fuzz_unit_kill(Unit *u, int sig);
static int fuzz_unit_freeze(Unit *u, bool freeze);
static void fuzz_unit_dispatch(Unit *u, UnitEvent event);

#define manager_start_unit fuzz_manager_start_unit
#define manager_stop_unit fuzz_manager_stop_unit
#define manager_restart_unit fuzz_manager_restart_unit
#define manager_reload fuzz_manager_reload
#define manager_run_job fuzz_manager_run_job
#define manager_cancel_job fuzz_manager_cancel_job
#define unit_kill fuzz_unit_kill
#define unit_freeze fuzz_unit_freeze
#define unit_dispatch fuzz_unit_dispatch

#include "control.c"

#undef manager_start_unit
#undef manager_stop_unit
#undef manager_restart_unit
#undef manager_reload
#undef manager_run_job
#undef manager_cancel_job
#undef unit_kill
#undef unit_freeze
#undef unit_dispatch

#define FUZZ_USER_UID 65534

static const char fuzz_config[] = "[corral]\n"
                                  "cgroup = /corral\n"
                                  "[program:web]\n"
                                  "command = /bin/true ${PORT}\n"
                                  "instances = 2\n"
                                  "port = auto\n"
                                  "health_url = http://127.0.0.1:${PORT}/\n";

static struct {
        sd_event *event;
        int fd;        /* what the clients' io sources watch (never readable) */
        Config *config;
        CgroupTree tree;
        Unit units[4];
        Unit *unit_list[4];
        Manager manager;
        ControlServer server;
} w;

/* ---- the stubs: check what the real ones get, change nothing ---- */

static int fuzz_manager_start_unit(Manager *m, Unit *u) {
        assert(m == &w.manager && u);
        return u->is_job ? -EBUSY : 0;
}

static int fuzz_manager_stop_unit(Manager *m, Unit *u) {
        assert(m == &w.manager && u);
        return 0;
}

static int fuzz_manager_restart_unit(Manager *m, Unit *u) {
        assert(m == &w.manager && u);
        return 0;
}

static int fuzz_manager_reload(Manager *m, ReloadCounts *ret_counts) {
        assert(m == &w.manager);
        *ret_counts = (ReloadCounts) { .unchanged = 1 };
        return 0;
}

static int fuzz_manager_cancel_job(Manager *m, Unit *u, int sig, usec_t grace) {
        assert(m == &w.manager && u && u->is_job);
        return 0;
}

/* What the real one refuses without touching anything; otherwise the
 * running job stands for the new one. */
static int fuzz_manager_run_job(Manager *m, const JobSpec *spec, Unit **ret) {
        assert(m == &w.manager && spec && spec->argv && spec->argv[0]);
        if (spec->name && !config_name_is_valid(spec->name))
                return -EINVAL;
        if (spec->name && manager_find_unit(m, spec->name))
                return -EEXIST;
        if (spec->cwd && spec->cwd[0] != '/')
                return -EINVAL;
        for (char **e = spec->env; e && *e; e++)
                if (!strchr(*e, '='))
                        return -EINVAL;
        *ret = &w.units[3];
        return 0;
}

static int fuzz_unit_kill(Unit *u, int sig) {
        assert(u && sig >= 1 && sig <= SIGRTMAX);
        return u->state == UNIT_RUNNING ? 1 : -ESRCH;
}

static int fuzz_unit_freeze(Unit *u, bool freeze) {
        assert(u);
        return u->state == UNIT_RUNNING ? 0 : -ESRCH;
}

static void fuzz_unit_dispatch(Unit *u, UnitEvent event) {
        assert(u && event == UNIT_EVENT_STOP);
}

/* ---- the world ---- */

static int on_never(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        return 0;
}

static int on_never_time(sd_event_source *s, uint64_t usec, void *userdata) {
        return 0;
}

static void world_init(void) {
        _cleanup_free_ char *error = NULL;
        int fds[2];

        log_set_max_level(LOG_ERR);
        assert(sd_event_new(&w.event) >= 0);
        assert(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) >= 0);
        w.fd = fds[0]; /* fds[1] stays open, unused: fds[0] never reads EOF */
        assert(config_load_buffer("fuzz.conf", fuzz_config, sizeof(fuzz_config) - 1, &w.config, &error) >= 0);
        w.tree = (CgroupTree) { .path = (char *) "/corral", .root_fd = -EBADF, .supervisor_fd = -EBADF,
                                .inotify_fd = -EBADF };

        w.units[0] = (Unit) { .name = (char *) "web@0", .config = w.config->services[0], .instance = 0,
                              .state = UNIT_RUNNING, .main = { .pid = 4242, .fd = -EBADF }, .port = 30000,
                              .status_text = (char *) "serving", .health_ok = true, .health_http_status = 200,
                              .health_checks = 3 };
        w.units[1] = (Unit) { .name = (char *) "web@1", .config = w.config->services[0], .instance = 1,
                              .state = UNIT_FAILED, .result = UNIT_FAILURE_SPAWN, .main = PIDREF_NULL,
                              .error_text = (char *) "exec /bin/true: No such file or directory" };
        w.units[2] = (Unit) { .name = (char *) "job-0000beef", .instance = -1, .is_job = true,
                              .owner_uid = FUZZ_USER_UID, .state = UNIT_INACTIVE, .main = PIDREF_NULL,
                              .exit_code = CLD_EXITED, .exit_status = 3, .result = UNIT_FAILURE_EXIT_CODE };
        w.units[3] = (Unit) { .name = (char *) "job-running", .instance = -1, .is_job = true, .owner_uid = 0,
                              .state = UNIT_RUNNING, .main = { .pid = 4343, .fd = -EBADF } };
        for (size_t i = 0; i < ELEMENTSOF(w.units); i++) {
                w.units[i].ctx = &w.manager.unit_ctx;
                w.units[i].stdio[0] = w.units[i].stdio[1] = w.units[i].stdio[2] = -EBADF;
                w.units[i].cgroup_fd = -EBADF; /* no statistics to read */
                w.units[i].watch_wd = -1;
                w.unit_list[i] = &w.units[i];
        }

        w.manager = (Manager) { .event = w.event, .config = w.config, .cgroup = &w.tree, .units = w.unit_list,
                                .n_units = ELEMENTSOF(w.unit_list), .devnull_fd = -EBADF };
        w.server = (ControlServer) { .manager = &w.manager, .fd = -EBADF };

}

/* A client as on_accept() makes one, holding data as client_read() would
 * have read it. */
static Client *client_new_fuzz(uid_t uid, const uint8_t *data, size_t size) {
        Client *c = calloc(1, sizeof(Client));

        assert(c);
        c->server = &w.server;
        c->fd = -EBADF;
        c->cred = (struct ucred) { .pid = 1, .uid = uid, .gid = uid };
        c->next = w.server.clients;
        w.server.clients = c;
        w.server.n_clients++;
        assert(sd_event_add_io(w.event, &c->io, w.fd, EPOLLIN, on_never, c) >= 0);
        assert(sd_event_add_time_relative(w.event, &c->timer, CLOCK_MONOTONIC, w.config->control_timeout,
                                          USEC_PER_MSEC, on_never_time, c) >= 0);
        assert(sd_event_source_set_enabled(c->timer, SD_EVENT_OFF) >= 0);
        c->in = malloc(CONTROL_REQUEST_MAX);
        assert(c->in);
        memcpy(c->in, data, size);
        c->n_in = size;
        return c;
}

/* One reply line as docs/PROTOCOL.md has it. */
static void check_reply(const char *line, size_t len) {
        json_t *reply = json_loadb(line, len, JSON_REJECT_DUPLICATES, /* error= */ NULL), *ok, *e;

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
        json_decref(reply);
}

static void run_client(uid_t uid, bool status_public, const uint8_t *data, size_t size) {
        size_t requests = 0, replies = 0;
        Client *c;

        w.config->status_public = status_public;
        c = client_new_fuzz(uid, data, size);
        for (size_t i = 0; i < size; i++)
                requests += data[i] == '\n';

        if (client_process(c) == -ENOBUFS) {
                /* dropped as too far behind: c is gone */
                assert(w.server.n_clients == 0 && !w.server.clients);
                return;
        }
        assert(c->n_out <= CONTROL_OUTPUT_MAX);
        for (size_t pos = 0; pos < c->n_out; replies++) {
                char *nl = memchr(c->out + pos, '\n', c->n_out - pos);

                assert(nl); /* only whole lines are queued */
                check_reply(c->out + pos, (size_t) (nl - (c->out + pos)));
                pos = (size_t) (nl - c->out) + 1;
        }
        assert(replies <= requests);
        client_free(c);
        assert(w.server.n_clients == 0 && !w.server.clients);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size > CONTROL_REQUEST_MAX)
                return -1; /* client_read() never holds more */
        if (!w.event)
                world_init();

        run_client(/* uid= */ 0, /* status_public= */ false, data, size);
        run_client(FUZZ_USER_UID, /* status_public= */ true, data, size);
        return 0;
}
