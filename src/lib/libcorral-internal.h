/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the files of libcorral share. Nothing here is exported: the version
 * script (libcorral.sym) makes every symbol but corral_* local. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corral/corral.h"

/* docs/PROTOCOL.md: a request is at most 64 KiB, newline included. */
#define CORRAL_REQUEST_MAX ((size_t) 64 * 1024)
/* docs/PROTOCOL.md: a request carries at most 3 descriptors. */
#define CORRAL_FDS_MAX 3
/* Our own bound on a reply or event line, newline included; a long reply
 * comes in pages (docs/PROTOCOL.md, "more": true), each a line, of at most
 * CORRAL_REPLY_TOTAL_MAX bytes in all. */
#define CORRAL_REPLY_MAX ((size_t) 1024 * 1024)
#define CORRAL_REPLY_TOTAL_MAX ((size_t) 256 * 1024 * 1024)

struct corral {
        int fd;
        bool subscribed;
        bool broken; /* a connection error left the stream out of step */
        char *buf;   /* bytes received but not yet consumed */
        size_t buf_len;
        size_t buf_size;
        char *last_error; /* the message of the last error reply */
};

/* ---- conn.c: the socket and its lines ---- */

/* Connects a new SOCK_STREAM|SOCK_CLOEXEC socket to the Unix socket path.
 * Returns 0 with the fd in *ret_fd, or -errno. */
int conn_connect(const char *path, int *ret_fd);

/* Sends len bytes (one complete line, newline included), retrying short
 * writes and EINTR, without SIGPIPE. Returns 0 or -errno. */
int conn_send(corral *c, const char *data, size_t len);

/* Sends a line as conn_send() does, with the n_fds descriptors of fds
 * (SCM_RIGHTS, at most CORRAL_FDS_MAX) attached to its first byte: one
 * sendmsg() carries them with as much of the line as the socket takes,
 * the rest follows. Returns 0 or -errno; -EBADF (a closed descriptor)
 * leaves the connection usable, nothing having been sent. */
int conn_send_fds(corral *c, const char *data, size_t len, const int *fds, size_t n_fds);

/* The deadline of a timeout in milliseconds (-1: for ever) on
 * CLOCK_MONOTONIC, in milliseconds, for conn_read_line(). */
int64_t conn_deadline(int timeout_ms);

/* Reads the next line, waiting until deadline (-1: for ever). Returns 0
 * with a malloc'd, NUL-terminated copy without the newline in *ret.
 * Errors: -ETIMEDOUT, -ECONNRESET (EOF), -E2BIG (longer than
 * CORRAL_REPLY_MAX), -ENOMEM, recv()/poll() errors. Every error but
 * -ETIMEDOUT and -ENOMEM marks the connection broken. */
int conn_read_line(corral *c, int64_t deadline, char **ret);

/* ---- request.c: one request, one reply ---- */

/* Sends {"method": method, "params": params} (params may be NULL; the
 * call takes the reference in any case) and reads the reply, all of its
 * pages joined. Returns 0 with a new reference to the reply's "result"
 * object in *ret (when ret is not NULL), the negative "code" of an error
 * reply (its message then in c->last_error), -E2BIG for a reply of more
 * than CORRAL_REPLY_TOTAL_MAX, or a connection error. */
int request_call(corral *c, const char *method, json_t *params, json_t **ret);

/* request_call() with n_fds descriptors sent with the request's first
 * byte (conn_send_fds()). */
int request_call_fds(corral *c, const char *method, json_t *params, const int *fds, size_t n_fds, json_t **ret);

/* request_call() that gives each page of the reply, its "result" object
 * (borrowed: valid during the call), to on_page as it arrives instead of
 * joining them. A negative return of on_page is returned once the rest of
 * the reply has been read (and not given to it). */
typedef int (*request_page_handler)(json_t *page, void *userdata);
/* And on_bare (may be NULL: such a line is then -EBADMSG) each line that
 * is a bare array (status "bare"), its text unparsed, as the page. */
typedef int (*request_bare_handler)(const char *json, size_t len, void *userdata);
int request_call_pages(corral *c, const char *method, json_t *params, request_page_handler on_page,
                       request_bare_handler on_bare, void *userdata);

/* Builds a JSON array of strings from a NULL-terminated vector. Returns 0,
 * -EINVAL for a NULL entry or invalid UTF-8, -ENOMEM. */
int json_string_array(const char *const *l, json_t **ret);

/* ---- corral.c: what jobs.c builds on ---- */

/* Clears corral_last_error() at the start of a call; -EINVAL for NULL. */
int call_begin(corral *c);

/* The params of a run request for spec. Returns 0, -EINVAL, -ENOMEM. */
int run_params(const corral_job_spec *spec, json_t **ret);

/* Sends method with {"id": id} plus extra's fields (extra may be NULL; it
 * is taken in any case); returns the result's "unit" as a list of one in
 * *ret when ret is not NULL. */
int job_call(corral *c, const char *method, const char *id, json_t *extra, corral_units **ret);

/* Turns c into an event stream with params (may be NULL; taken). */
int subscribe_with(corral *c, json_t *params);

/* ---- objects.c: units and events ---- */

/* Builds a corral_units from a JSON array of unit objects (a reference is
 * taken). Returns 0, -EBADMSG when an element is not an object with a
 * string "name", -ENOMEM. */
int units_new(json_t *array, corral_units **ret);

/* Builds a corral_event from one event line; takes line in any case.
 * Returns 0, -ENOMSG when the line is a JSON object that is not an event
 * (to be skipped), -EBADMSG when it is not JSON or its "event" is not an
 * object with a string "unit", -ENOMEM. */
int event_new(char *line, corral_event **ret);

/* Parses one reply line from corrald: 0 with its result in *ret (owned
 * by the caller) and in *ret_more whether more lines (pages) of the same
 * reply follow, the error the reply names as -errno (its message kept for
 * corral_last_error()), -EBADMSG for anything else. Linked as it is by
 * fuzz/fuzz-reply.c. */
int request_reply_parse(corral *c, const char *line, json_t **ret, bool *ret_more);

/* Adds a page's result to the reply so far: its arrays ("units") are
 * appended to those of the pages before, its other members replace
 * theirs. 0 or -ENOMEM. Linked as it is by fuzz/fuzz-reply.c. */
int request_result_merge(json_t *reply, json_t *page);
