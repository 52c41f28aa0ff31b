/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Handing freed heap back to the kernel after a wave of starts. */
#include "manager-heap.h"

#include <malloc.h>

void manager_heap_unit_changed(Manager *m, UnitState old_state, UnitState new_state) {
        if (old_state == new_state)
                return;
        if (new_state == UNIT_STARTING) {
                m->n_starting++;
                m->starts_since_trim++;
        }
        if (old_state == UNIT_STARTING && m->n_starting > 0)
                m->n_starting--;
        if (m->n_starting == 0 && m->starts_since_trim >= MANAGER_TRIM_STARTS) {
                m->starts_since_trim = 0;
                (void) malloc_trim(0);
        }
}
