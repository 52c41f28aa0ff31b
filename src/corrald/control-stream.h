/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A reply of units made as the client reads it: each step snapshots a few
 * units (unit-status.h), formats them (control-json.h) and hands out a
 * page (a line) when one is full. So a status of 4000 units needs neither
 * the whole reply in memory nor the loop for long: the client's socket
 * paces it. The units stay the manager's; one freed meanwhile is
 * forgotten (control_stream_forget()) and left out. */

#include <jansson.h>

#include "macro.h"
#include "unit-status.h"

/* The units one step formats; a unit with its processes counts for all
 * of them. */
#define CONTROL_STREAM_STEP_UNITS 64U

typedef struct ControlStream ControlStream;

/* A reply of the n units (a malloc'd array, taken) with flags, the first
 * n_detailed also with UNIT_STATUS_PROCESSES, and the members of extra
 * (taken, may be NULL) in the last page's result. bare: the pages are
 * lines of bare arrays of Unit objects and the last line is the result
 * without "units" (status "bare": true, docs/PROTOCOL.md). Returns 0 or
 * -ENOMEM (units and extra are freed then too). */
int control_stream_new(Unit **units, size_t n, UnitStatusFlags flags, size_t n_detailed, bool bare, json_t *extra,
                       ControlStream **ret);

/* Makes one step of the reply. Returns 0 when more is to come (with a
 * page's line in *ret when one was closed, NULL otherwise), 1 with the
 * last line in *ret when the reply is complete, -ENOMEM. Lines are
 * malloc'd, newline included, their length in *ret_len. */
int control_stream_step(ControlStream *s, char **ret, size_t *ret_len);

/* Leaves u out from now on: it is about to be freed. */
void control_stream_forget(ControlStream *s, const Unit *u);

/* How many units the reply carries (as asked). */
size_t control_stream_units(const ControlStream *s);

ControlStream *control_stream_free(ControlStream *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(ControlStream *, control_stream_free);
