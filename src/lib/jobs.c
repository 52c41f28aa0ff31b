/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libcorral 0.2: jobs with descriptors, stop options and limits; cancel
 * with a signal and a grace; wait with a timeout; results as an enum; the
 * stream of job events. */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "libcorral-internal.h"
#include "macro.h"

/* ---- results ---- */

static const char *const result_table[] = {
        [CORRAL_RESULT_SUCCESS] = "success",
        [CORRAL_RESULT_EXIT_CODE] = "exit-code",
        [CORRAL_RESULT_SIGNAL] = "signal",
        [CORRAL_RESULT_CORE_DUMP] = "core-dump",
        [CORRAL_RESULT_TIMEOUT] = "timeout",
        [CORRAL_RESULT_CANCELLED] = "cancelled",
        [CORRAL_RESULT_SPAWN_FAILED] = "spawn-failed",
        [CORRAL_RESULT_RESOURCES] = "resources",
        [CORRAL_RESULT_OOM_KILL] = "oom-kill",
        [CORRAL_RESULT_WATCHDOG] = "watchdog",
        [CORRAL_RESULT_START_LIMIT] = "start-limit",
        [CORRAL_RESULT_UNHEALTHY] = "unhealthy",
        [CORRAL_RESULT_EXIT_UNKNOWN] = "exit-unknown",
};

corral_result corral_result_from_string(const char *s) {
        if (!s)
                return CORRAL_RESULT_NONE;
        for (size_t i = 0; i < ELEMENTSOF(result_table); i++)
                if (result_table[i] && streq(result_table[i], s))
                        return (corral_result) i;
        /* What corrald 0.1 called a failed exec. */
        if (streq(s, "spawn"))
                return CORRAL_RESULT_SPAWN_FAILED;
        return CORRAL_RESULT_OTHER;
}

const char *corral_result_to_string(corral_result r) {
        if ((unsigned) r >= ELEMENTSOF(result_table))
                return NULL;
        return result_table[r];
}

corral_result corral_unit_result_enum(const corral_unit *u) {
        return corral_result_from_string(corral_unit_result(u));
}

corral_result corral_event_result_enum(const corral_event *e) {
        return corral_result_from_string(corral_event_result(e));
}

/* ---- run ---- */

/* The descriptors to send, each once, and "stdio": for each of the job's
 * fd 0, 1, 2 the index of its descriptor among those sent, or null. */
static int stdio_params(const corral_job_options *o, int fds[static CORRAL_FDS_MAX], size_t *ret_n, json_t **ret) {
        const int want[3] = { o->stdin_fd, o->stdout_fd, o->stderr_fd };
        json_auto_t *stdio = json_array();
        size_t n = 0;

        if (!stdio)
                return -ENOMEM;
        for (size_t i = 0; i < 3; i++) {
                size_t j;

                if (want[i] < 0) {
                        if (json_array_append_new(stdio, json_null()) < 0)
                                return -ENOMEM;
                        continue;
                }
                if (fcntl(want[i], F_GETFD) < 0)
                        return -EBADF;
                for (j = 0; j < n && fds[j] != want[i]; j++)
                        ;
                if (j == n)
                        fds[n++] = want[i];
                if (json_array_append_new(stdio, json_integer((json_int_t) j)) < 0)
                        return -ENOMEM;
        }
        *ret_n = n;
        *ret = TAKE_PTR(stdio);
        return 0;
}

/* {"memory_max": "1G", …} from "KEY=VALUE" entries. */
static int limits_params(const char *const *limits, json_t **ret) {
        json_auto_t *o = json_object();

        if (!o)
                return -ENOMEM;
        for (; limits && *limits; limits++) {
                const char *eq = strchr(*limits, '=');
                _cleanup_free_ char *key = NULL;

                if (!eq || eq == *limits)
                        return -EINVAL;
                key = strndup(*limits, (size_t) (eq - *limits));
                if (!key)
                        return -ENOMEM;
                /* json_string() refuses invalid UTF-8 (and fails on OOM). */
                if (json_object_set_new(o, key, json_string(eq + 1)) < 0)
                        return -EINVAL;
        }
        *ret = TAKE_PTR(o);
        return 0;
}

static const char *kill_mode_name(corral_kill_mode m) {
        switch (m) {
        case CORRAL_KILL_CONTROL_GROUP:
                return "control-group";
        case CORRAL_KILL_MIXED:
                return "mixed";
        default:
                return NULL;
        }
}

/* Adds what o asks for but stdio to params. */
static int stop_params(const corral_job_options *o, json_t *params) {
        json_t *limits;
        int r;

        if (o->stop_signal < 0 || o->stop_signal > SIGRTMAX || o->stop_timeout_usec > INT64_MAX)
                return -EINVAL;
        if (o->kill_mode != CORRAL_KILL_DEFAULT && !kill_mode_name(o->kill_mode))
                return -EINVAL;
        if (o->stop_signal > 0 && json_object_set_new(params, "stop_signal", json_integer(o->stop_signal)) < 0)
                return -ENOMEM;
        if (o->stop_timeout_usec > 0 &&
            json_object_set_new(params, "stop_timeout_usec", json_integer((json_int_t) o->stop_timeout_usec)) < 0)
                return -ENOMEM;
        if (o->kill_mode != CORRAL_KILL_DEFAULT &&
            json_object_set_new(params, "kill_mode", json_string(kill_mode_name(o->kill_mode))) < 0)
                return -ENOMEM;
        if (!o->limits)
                return 0;
        r = limits_params(o->limits, &limits);
        if (r < 0)
                return r;
        return json_object_set_new(params, "limits", limits) < 0 ? -ENOMEM : 0;
}

/* The caller's options, copied into a full-sized struct: what an older
 * caller's struct lacks reads as zero (the default). */
static int options_copy(const corral_job_options *opts, corral_job_options *ret) {
        *ret = (corral_job_options) { .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1 };
        if (!opts)
                return 0;
        if (opts->size < offsetof(corral_job_options, flags) + sizeof(opts->flags))
                return -EINVAL;
        memcpy(ret, opts, MIN(opts->size, sizeof(*ret)));
        if (!(ret->flags & CORRAL_JOB_STDIO))
                ret->stdin_fd = ret->stdout_fd = ret->stderr_fd = -1;
        return 0;
}

static const char *result_id(json_t *result) {
        return json_string_value(json_object_get(result, "id"));
}

int corral_run_with(corral *c, const corral_job_spec *spec, const corral_job_options *opts, char **ret_id) {
        json_auto_t *params = NULL, *result = NULL;
        corral_job_options o;
        int fds[CORRAL_FDS_MAX];
        size_t n_fds = 0;
        int r = call_begin(c);

        if (r >= 0)
                r = options_copy(opts, &o);
        if (r >= 0)
                r = run_params(spec, &params);
        if (r >= 0)
                r = stop_params(&o, params);
        if (r >= 0 && (o.flags & CORRAL_JOB_STDIO)) {
                json_t *stdio;

                r = stdio_params(&o, fds, &n_fds, &stdio);
                if (r >= 0 && json_object_set_new(params, "stdio", stdio) < 0)
                        r = -ENOMEM;
        }
        if (r < 0)
                return r;
        r = request_call_fds(c, "run", TAKE_PTR(params), fds, n_fds, &result);
        if (r < 0)
                return r;
        if (!result_id(result))
                return -EBADMSG;
        if (ret_id && !(*ret_id = strdup(result_id(result))))
                return -ENOMEM;
        return 0;
}

/* ---- cancel, wait ---- */

int corral_cancel_with(corral *c, const char *id, int sig, uint64_t grace_usec) {
        json_t *extra;
        int r = call_begin(c);

        if (r < 0)
                return r;
        if (sig < 0 || sig > SIGRTMAX || (grace_usec != CORRAL_GRACE_DEFAULT && grace_usec > INT64_MAX))
                return -EINVAL;
        extra = json_object();
        if (!extra)
                return -ENOMEM;
        if ((sig > 0 && json_object_set_new(extra, "signal", json_integer(sig)) < 0) ||
            (grace_usec != CORRAL_GRACE_DEFAULT &&
             json_object_set_new(extra, "grace_usec", json_integer((json_int_t) grace_usec)) < 0)) {
                json_decref(extra);
                return -ENOMEM;
        }
        return job_call(c, "cancel", id, extra, /* ret= */ NULL);
}

int corral_wait_timeout(corral *c, const char *id, int timeout_ms, corral_units **ret) {
        json_t *extra = NULL;

        if (timeout_ms >= 0) {
                extra = json_pack("{s:I}", "timeout_usec", (json_int_t) timeout_ms * 1000);
                if (!extra)
                        return -ENOMEM;
        }
        return job_call(c, "wait", id, extra, ret);
}

/* ---- events ---- */

int corral_subscribe_jobs(corral *c) {
        json_t *params = json_pack("{s:b}", "jobs", 1);

        if (!params)
                return -ENOMEM;
        return subscribe_with(c, params);
}
