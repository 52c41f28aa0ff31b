/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The methods of the control protocol: a parsed request in, the manager's
 * API called, a reply queued on the client. */

#include "control-request.h"
#include "control-server.h"

/* Answers req on c: the permission for its method first, then its params,
 * then the method itself. Returns 0, or -ENOBUFS when c was dropped, or
 * -ENOMEM. */
int control_methods_dispatch(ControlClient *c, const ControlRequest *req);

/* Logs req's outcome on c (c->last_error) in the audit trail when req
 * changes something or was refused, and counts it for the metrics. */
void control_methods_audit(ControlClient *c, const ControlRequest *req);

/* {"unit": Unit} of u, as run, cancel and wait answer; NULL when out of
 * memory. */
json_t *control_methods_unit_result(const Unit *u);

/* The units as an array of Unit objects (without stats); NULL when out of
 * memory. */
json_t *control_methods_units_json(Unit **units);

/* Logs how many refused requests of uid the audit trail held back (a
 * ControlRateLimitFlush). */
void control_methods_log_refused_held_back(uid_t uid, unsigned suppressed, void *userdata);
