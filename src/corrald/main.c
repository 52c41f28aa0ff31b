/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <getopt.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/utsname.h>

#include <systemd/sd-event.h>

#include "cgroup.h"
#include "config.h"
#include "control.h"
#include "listen-address.h"
#include "log.h"
#include "manager.h"
#include "metrics-collector.h"
#include "metrics-http.h"
#include "notify-fdstore.h"
#include "rlimit-util.h"
#include "spawn.h"
#include "strv.h"

static char **arg_config_files = NULL;
static bool arg_check_config = false;

static void help(void) {
        printf("Usage: corrald [OPTIONS]\n"
               "\n"
               "Runs the services of the configuration, each in a cgroup of its own,\n"
               "and stops them so that nothing they started survives.\n"
               "\n"
               "  -c, --config FILE   read FILE instead of %s and\n"
               "                      %s/*.conf (may be given more than once)\n"
               "      --check-config  validate the configuration and exit\n"
               "  -h, --help          show this help and exit\n"
               "      --version       show the version and exit\n"
               "\n"
               "SIGTERM or SIGINT stops every unit and exits; SIGHUP reloads the configuration;\n"
               "SIGUSR1 reopens the units' output files.\n"
               "Exit status: 0 after a clean stop, 6 for an invalid configuration, 1 otherwise.\n",
               CONFIG_DEFAULT_FILE, CONFIG_DEFAULT_DROPIN_DIR);
}

/* Returns 1 to go on, 0 to exit with success, -EINVAL on bad usage. */
static int parse_argv(int argc, char *argv[]) {
        enum { ARG_CHECK_CONFIG = 0x100, ARG_VERSION };
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "check-config", no_argument, NULL, ARG_CHECK_CONFIG },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "c:h", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        if (strv_extend(&arg_config_files, optarg) < 0)
                                return log_error_errno(ENOMEM, "out of memory");
                        break;
                case ARG_CHECK_CONFIG:
                        arg_check_config = true;
                        break;
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("corrald %s\n", CORRAL_VERSION);
                        return 0;
                default:
                        return -EINVAL;
                }
        if (optind < argc) {
                log_error("unexpected argument '%s'; see --help", argv[optind]);
                return -EINVAL;
        }
        return 1;
}

static bool kernel_is_recent_enough(void) {
        struct utsname u;
        unsigned major = 0, minor = 0;

        if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &major, &minor) != 2)
                return true; /* cannot tell: the feature checks decide */
        return major > 5 || (major == 5 && minor >= 14);
}

static bool under_systemd_service(const char *own) {
        const char *last = strrchr(own, '/');
        size_t n;

        if (!getenv("INVOCATION_ID") || !last)
                return false;
        n = strlen(last);
        return n > strlen(".service") && streq(last + n - strlen(".service"), ".service");
}

/* The subtree: "cgroup =" if configured; our own cgroup when systemd
 * started us as a service (Delegate=yes); otherwise <own cgroup>/corral. */
static int choose_subtree(const Config *c, const char *own, char **ret, bool *ret_delegated) {
        char *p;

        *ret_delegated = false;
        if (c->cgroup)
                p = strdup(c->cgroup);
        else if (under_systemd_service(own)) {
                p = strdup(own);
                *ret_delegated = true;
        } else if (asprintf(&p, "%s/corral", streq(own, "/") ? "" : own) < 0)
                p = NULL;
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

static int open_tree(const Config *c, CgroupTree **ret) {
        _cleanup_free_ char *mount = NULL, *own = NULL, *path = NULL;
        bool delegated;
        pid_t owner = 0;
        int r;

        if (!kernel_is_recent_enough())
                return log_error_errno(ENOTSUP, "Linux 5.14 or newer is needed (cgroup.kill)");
        r = cgroup_find_mount(&mount);
        if (r == -ENOENT)
                return log_error_errno(r, "no cgroup2 hierarchy is mounted (none in /proc/self/mountinfo)");
        if (r < 0)
                return log_error_errno(r, "cannot read /proc/self/mountinfo: %m");
        r = cgroup_get_own(&own);
        if (r < 0)
                return log_error_errno(r, "cannot find our own cgroup in /proc/self/cgroup: %m");
        r = choose_subtree(c, own, &path, &delegated);
        if (r < 0)
                return log_error_errno(r, "out of memory");
        r = cgroup_tree_open(mount, path, delegated, ret, &owner);
        switch (r) {
        case 0:
                log_info("owning cgroup %s (%s%s)", path, mount, streq(path, "/") ? "" : path);
                return 0;
        case -EBUSY:
                if (owner > 0)
                        return log_error_errno(r, "cgroup %s is owned by another corrald (PID %d)", path, owner);
                return log_error_errno(r, "cgroup %s is owned by another corrald", path);
        case -EOPNOTSUPP:
                return log_error_errno(r, "%s%s has no cgroup.kill: Linux 5.14 or newer is needed", mount, path);
        case -EROFS:
                return log_error_errno(r, "the cgroup2 hierarchy at %s is read-only", mount);
        case -ENOENT:
                return log_error_errno(r, "cannot create cgroup %s under %s: its parent does not exist", path, mount);
        case -EINVAL:
                return log_error_errno(r, "cannot use cgroup %s: corral needs a cgroup below the root", path);
        default:
                return log_error_errno(r, "cannot set up cgroup %s under %s: %m", path, mount);
        }
}

static int block_signals(void) {
        sigset_t mask;

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGUSR1);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        signal(SIGPIPE, SIG_IGN);
        return 0;
}

/* Enters the supervisor leaf and becomes the subreaper and signal owner
 * that the manager expects. */
static int setup_process(CgroupTree *tree) {
        int r;

        r = cgroup_tree_enter_supervisor(tree);
        if (r < 0)
                return log_error_errno(r, "cannot move into %s/%s: %m", tree->path, CGROUP_SUPERVISOR);
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
                return log_error_errno(errno, "cannot become a subreaper: %m");
        r = block_signals();
        if (r < 0)
                return log_error_errno(r, "cannot block signals: %m");
        return 0;
}

/* What the metrics' callbacks get: the counters and the units. */
typedef struct MetricsWiring {
        MetricsCollector *collector;
        Manager *manager;
} MetricsWiring;

static int metrics_render(void *userdata, char **ret_text, size_t *ret_len) {
        MetricsWiring *w = userdata;
        return metrics_collector_render(w->collector, w->manager, ret_text, ret_len);
}

static void metrics_request_done(const char *method, const char *outcome, void *userdata) {
        MetricsWiring *w = userdata;
        metrics_collector_count_request(w->collector, method, outcome);
}

/* The metrics: a manager subscriber, the control socket's hooks, and GET
 * /metrics where metrics_listen says. */
static int setup_metrics(MetricsWiring *w, ControlServer *control, MetricsHttp **ret_http) {
        const char *where = w->manager->config->metrics_listen;
        ListenAddress a;
        int r;

        r = manager_subscribe(w->manager, metrics_collector_on_event, w->collector);
        if (r < 0)
                return log_error_errno(r, "cannot set up the metrics: %m");
        metrics_collector_set_loaded(w->collector, now(CLOCK_REALTIME));
        control_set_hooks(control, &(ControlHooks) { .metrics = metrics_render,
                                                     .request_done = metrics_request_done,
                                                     .userdata = w });
        if (!where)
                return 0;
        r = listen_address_parse(where, &a);
        if (r >= 0)
                r = metrics_http_new(w->manager->event, &a, metrics_render, w, ret_http);
        if (r < 0)
                return log_error_errno(r, "cannot serve the metrics on %s (metrics_listen): %m", where);
        log_info("serving the metrics at http://%s/metrics", where);
        return 0;
}

static int run(Config *config_in, FdStore *store) {
        _cleanup_(config_freep) Config *config = config_in;
        _cleanup_(cgroup_tree_freep) CgroupTree *tree = NULL;
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(metrics_collector_freep) MetricsCollector *collector = metrics_collector_new();
        _cleanup_(manager_freep) Manager *m = NULL;
        _cleanup_(control_freep) ControlServer *control = NULL;
        _cleanup_(metrics_http_freep) MetricsHttp *http = NULL;
        MetricsWiring wiring = { .collector = collector };
        int r, k;

        r = rlimit_nofile_bump(); /* a few descriptors a unit; children get 1024 again (spawn.c) */
        if (r < 0)
                log_warning_errno(r, "cannot raise the soft limit of open files: %m, ignoring");
        if (geteuid() != 0)
                log_notice(
                        "running unprivileged as UID %u: units run as this user (user= and group= of others "
                        "fail), and only limits the delegated subtree allows apply",
                        (unsigned) geteuid());
        r = open_tree(config, &tree);
        if (r < 0)
                return r;
        r = setup_process(tree);
        if (r < 0)
                goto release;
        r = sd_event_new(&event);
        if (r < 0) {
                log_error_errno(r, "cannot create the event loop: %m");
                goto release;
        }
        r = manager_new(event, config, arg_config_files, tree, &m);
        if (r < 0) {
                log_error_errno(r, "cannot set up: %m");
                goto release;
        }
        TAKE_PTR(config);
        TAKE_PTR(tree);
        m->unit_ctx.fd_store = store; /* adopted units take their output pipes back */

        r = control_open(m, &control);
        if (r == -EADDRINUSE)
                log_error_errno(r, "control socket %s is in use by another process", m->config->control_socket);
        else if (r < 0)
                log_error_errno(r, "cannot listen on control socket %s: %m", m->config->control_socket);
        else
                r = manager_subscribe(m, control_on_manager_event, control);
        wiring.manager = m;
        if (r >= 0)
                r = collector ? setup_metrics(&wiring, control, &http)
                              : log_error_errno(-ENOMEM, "cannot set up the metrics: %m");
        if (r >= 0)
                manager_subscribe_output(m, control_on_output_line, control);
        if (r >= 0)
                r = manager_startup(m);
        if (r >= 0)
                (void) fd_store_release_unclaimed(store); /* every adoption is done */
        if (r < 0)
                manager_shutdown(m); /* stop what did start, then exit */
        k = sd_event_loop(event);
        if (k < 0)
                r = log_error_errno(k, "event loop failed: %m");
        k = cgroup_tree_release(m->cgroup);
        if (k < 0)
                log_warning_errno(k, "cannot remove cgroup %s: %m", m->cgroup->path);
        return r;

release:
        k = cgroup_tree_release(tree);
        if (k < 0)
                log_warning_errno(k, "cannot remove cgroup %s: %m", tree->path);
        return r;
}

#define EXIT_NOT_CONFIGURED 6

int main(int argc, char *argv[]) {
        /* Declared first, freed last: after the manager, whose units drop
         * their pipes from it. */
        _cleanup_(fd_store_freep) FdStore *store = NULL;
        _cleanup_(config_freep) Config *config = NULL;
        bool config_error = false;
        _cleanup_free_ char *error = NULL;
        int r;

        /* First, before anything opens a descriptor: what systemd kept for
         * us (fds 3… by LISTEN_FDS) becomes ours, with FD_CLOEXEC. */
        r = fd_store_new(&store);
        if (r < 0) {
                log_error_errno(r, "out of memory");
                goto finish;
        }
        spawn_reserve_fds(); /* low in the table, for the children (spawn-internal.h) */
        r = parse_argv(argc, argv);
        if (r <= 0)
                goto finish;

        r = config_load(arg_config_files, &config, &error);
        if (r < 0) {
                log_error("%s", error ?: "cannot load the configuration");
                config_error = true;
                goto finish;
        }
        if (arg_check_config) {
                printf("configuration OK: %zu service%s\n", config->n_services, config->n_services == 1 ? "" : "s");
                goto finish;
        }
        log_set_max_level(config->log_level);
        log_set_target(config->log_target);
        r = run(TAKE_PTR(config), store);

finish:
        strv_free(arg_config_files);
        /* 6: LSB "not configured", so that systemd's RestartPreventExitStatus=
         * does not restart a daemon whose configuration is invalid; the same
         * for --check-config, so that one status means one thing. */
        if (r < 0 && config_error)
                return EXIT_NOT_CONFIGURED;
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
