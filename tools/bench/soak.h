/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What the soak (soak.c) and its unit program (soak-unit.c) share: the
 * counters in $SOAK_DIR/counters, a file of sizeof(SoakCounters) bytes that
 * every unit maps shared and adds to atomically. */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "macro.h"

enum {
        SOAK_COUNT_EXEC,          /* soak-unit started (any mode) */
        SOAK_COUNT_READY,         /* READY=1 sent */
        SOAK_COUNT_MAINPID,       /* MAINPID=<child> sent */
        SOAK_COUNT_STATUS,        /* STATUS= sent */
        SOAK_COUNT_STATUS_BINARY, /* … of which with bytes >= 0x80 (random: invalid UTF-8) */
        SOAK_COUNT_WATCHDOG,      /* WATCHDOG=1 sent */
        SOAK_COUNT_DUPLICATE,     /* an incarnation found its unit's lock held */
        _SOAK_COUNT_MAX,
};

typedef struct SoakCounters {
        uint64_t n[_SOAK_COUNT_MAX];
} SoakCounters;
