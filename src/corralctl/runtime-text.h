/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The text corralctl makes for runtime services: the command of "add",
 * the sections of "apply FILE". Pure functions of their input. */

/* The command words as the value of "command =": each word single-quoted
 * as the configuration's word splitting expects (a ' as '\''), $ left as
 * it is (${PORT}, $$). Returns a malloc'd string or NULL (out of memory). */
char *command_quote(char *const *words);

/* The [program:NAME] sections of an INI text as names and bodies (two
 * NULL-terminated vectors of the same length). Returns 0, -EINVAL with
 * *ret_line the line (1-based) of anything else than comments and blank
 * lines before the first section, or of another section; -ENOMEM. */
int apply_file_parse(const char *text, char ***ret_names, char ***ret_bodies, unsigned *ret_line);
