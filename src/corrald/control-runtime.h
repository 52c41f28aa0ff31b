/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The methods that change what runs and may wait for it (docs/PROTOCOL.md,
 * "Requests that wait", "Runtime services"): start, stop and restart of
 * unit patterns through manager_request_new(); add, remove, scale, apply
 * and cat of runtime services through manager-runtime.h; reload with
 * "wait". With params.wait the answer comes once every unit reached its
 * goal, with one outcome per unit. */

#include "control-request.h"
#include "control-server.h"

/* start, stop, restart: the patterns (or all) resolved, checked, done.
 * Returns 0, or -ENOBUFS when c was dropped, -ENOMEM. */
int control_runtime_units(ControlClient *c, const ControlRequest *req);

/* add, remove, scale, apply, cat; and reload when it waits. Returns as
 * above. */
int control_runtime_method(ControlClient *c, const ControlRequest *req);
