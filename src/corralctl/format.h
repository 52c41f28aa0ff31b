/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Pure formatting of what corralctl shows: durations as systemd rounds
 * them, byte counts, times of day. Table-tested in tests/test-format.c. */

#include <stddef.h>
#include <stdint.h>

#define FORMAT_DURATION_MAX 32

/* A duration with at most two units, rounded to the smaller one, the way
 * systemd shows how long ago something happened: "0", "850us", "77ms",
 * "34.6s", "5s", "1min 0s", "2h 5min", "3d 4h"; "-" for UINT64_MAX.
 * Returns buf. */
char *format_duration(char *buf, size_t size, uint64_t usec);

/* A byte count in IEC units ("512B", "4.0K", "3.9M"), "-" for
 * UINT64_MAX. Returns buf. */
char *format_bytes(char *buf, size_t size, uint64_t bytes);

/* A CLOCK_REALTIME time in µs as local time, like systemctl status:
 * "Wed 2026-12-02 04:55:01 UTC"; "-" for UINT64_MAX or 0. Returns buf. */
char *format_time_of_day(char *buf, size_t size, uint64_t usec);

/* The share of a CPU used between two samples: "12.5%", "-" when either
 * sample is absent, the clock did not move or the counter went back.
 * Returns buf. */
char *format_cpu_percent(char *buf, size_t size, uint64_t cpu_before, uint64_t cpu_after, uint64_t wall_usec);
