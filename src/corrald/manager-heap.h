/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Handing freed heap back to the kernel after a wave of starts. */

#include "manager.h"

/* Starts at least this many, then none starting: the heap is trimmed. */
#define MANAGER_TRIM_STARTS 64

/* After each state change of a unit (on_unit_changed()): counts the units
 * starting, and once none is after at least MANAGER_TRIM_STARTS starts —
 * corrald's own start, a reload, many restarts — gives the free pages
 * inside the heap back (malloc_trim()). What each start allocates and
 * frees again (argument lists, the exec report's event source and paths)
 * lies between what the units keep, and glibc returns only the top of the
 * heap by itself: at 1000 units, ~400 KiB stayed resident. */
void manager_heap_unit_changed(Manager *m, UnitState old_state, UnitState new_state);
