/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What corralctl prints: tables, one unit in detail, events. Aligned
 * columns and colours only when stdout is a terminal; tab-separated plain
 * text when it is piped. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corral/corral.h"

/* Whether stdout is a terminal (decided once). */
bool output_tty(void);

/* How long the unit has been in its state (from since_usec, or the
 * uptime of a running unit from an older corrald), UINT64_MAX when
 * unknown. */
uint64_t unit_in_state_usec(const corral_unit *u);

/* The health of a unit in a table cell: "ok", "failing (3)", "unknown"
 * (no check has ended), "-" (no health checks). Returns buf. */
char *format_health_short(char *buf, size_t size, const corral_unit *u);

/* UNIT STATE PID SINCE RESTARTS REASON PORT HEALTH CPU MEM TASKS, one row
 * per unit of units[0..n). */
void print_units_table(const corral_unit *const *units, size_t n);

/* One unit the way systemctl status shows one. */
void print_unit_details(const corral_unit *u);

/* One line: time (UTC), unit, state (result), main PID. */
void print_event(const corral_event *e);
