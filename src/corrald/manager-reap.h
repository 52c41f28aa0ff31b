/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

typedef struct Manager Manager;

/* Adds the SIGCHLD source and the reaping walk it arms to m's loop. */
int manager_reaper_setup(Manager *m);
