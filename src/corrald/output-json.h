/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Lines as the control protocol carries them (docs/PROTOCOL.md, "logs"):
 *     {"unit": "web@1", "stream": "stdout", "timestamp_usec": …, "seq": 12,
 *      "text": "…", "split": true, "partial": true}
 * ("split" and "partial" only when true), and the lines of several units
 * merged in time order within a size budget. */

#include <jansson.h>
#include <stddef.h>

#include "output.h"

/* The reply budget of a logs request: far enough below libcorral's 1 MiB
 * reply line that the estimate below can never overshoot it. */
#define OUTPUT_JSON_BUDGET ((size_t) 512 * 1024)

/* One line as a JSON object; text becomes valid UTF-8 (utf8_sanitize()).
 * Returns 0 with a new reference in *ret, or -ENOMEM. */
int output_line_to_json(const char *unit, const OutputLine *l, json_t **ret);

/* An upper bound of the bytes the line takes in compact JSON text. */
size_t output_line_json_size(const char *unit, const OutputLine *l);

/* The last max_lines lines from since on (0: all) across the n rings
 * (unit_output_ring()) of the units names[i], merged by time (equal times:
 * in the order of the rings, then of each ring), as a JSON array, oldest
 * first, keeping only the newest lines that fit in budget bytes. Returns
 * 0 with the array in *ret and, in *ret_omitted, how many of the last
 * max_lines were left out for the budget; -ENOMEM. */
int output_logs_json(const OutputRing *const *rings, const char *const *names, size_t n, size_t max_lines, usec_t since,
                     size_t budget, json_t **ret, size_t *ret_omitted);
