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

/* A time span with its two largest units ("2h 3min", "1s 250ms", "0"),
 * "-" for UINT64_MAX. Returns buf. */
char *format_span_short(char *buf, size_t size, uint64_t usec);

/* A byte count in IEC units ("512B", "4.0K", "3.9M"), "-" for
 * UINT64_MAX. Returns buf. */
char *format_bytes(char *buf, size_t size, uint64_t bytes);

/* UNIT STATE PID UPTIME RESTARTS CPU MEM TASKS, one row per unit. */
void print_units_table(const corral_units *units);

/* One unit the way systemctl status shows one, with its last lines: from
 * logs (corral_read_logs() for this unit) when corrald keeps them, from the
 * journal when logs names the unit as a journal one or is NULL. */
void print_unit_details(const corral_unit *u, const corral_logs *logs);

/* One line: time (UTC), unit, state (result), main PID. */
void print_event(const corral_event *e);
