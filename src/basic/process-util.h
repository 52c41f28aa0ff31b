/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What /proc tells of a process, read through a PidRef and verified: each
 * pidref_get_*() reads /proc/PID/... and then checks with pidref_verify()
 * that the pidfd still refers to an unreaped process with that PID. So a
 * PID that was reaped and recycled between the caller's last look and the
 * read never yields another process's data: the answer is -ESRCH. A zombie
 * (exited, not yet reaped) still answers, with its own data.
 *
 * The parsers of the /proc buffers are pure (proc_*_parse_*): table-tested
 * and fuzzable without a process. */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pidref.h"

/* ---- Pure parsers ---- */

/* Finds field `field` (numbered as in proc_pid_stat(5): 3 state, 4 ppid,
 * 22 starttime, 24 rss; 3 or more) of the text of /proc/PID/stat. The
 * fields after comm are found from the last ')' of the buffer, since comm
 * (field 2) may hold anything, ')' and blanks included. Returns 0 with
 * *ret_start pointing into buf at the field and *ret_len its length (never
 * 0); -EBADMSG when the text has no "(comm)" or fewer fields; -EINVAL for
 * a field below 3. */
int proc_stat_field(const char *buf, unsigned field, const char **ret_start, size_t *ret_len);

/* Field 2, comm, without its parentheses: everything between the first
 * '(' and the last ')', as it is (prctl(PR_SET_NAME) takes any bytes but
 * NUL, up to 15; kernel workers show up to 63). Returns 0 with a malloc'd
 * string, -EBADMSG, -ENOMEM. */
int proc_stat_parse_comm(const char *buf, char **ret);

/* Field 4, the parent's PID: 0 for a process whose parent is outside our
 * PID namespace (PID 1, kthreadd). Returns 0 or -EBADMSG. */
int proc_stat_parse_ppid(const char *buf, pid_t *ret);

/* Field 22, the start time in clock ticks since boot (sysconf(_SC_CLK_TCK)
 * per second): with the PID it names one process for all time, as
 * persisted state needs. Returns 0 or -EBADMSG. */
int proc_stat_parse_start_time(const char *buf, uint64_t *ret);

/* The resident set size in pages, field 2 of /proc/PID/statm ("size
 * resident shared text lib data dt"). Returns 0 or -EBADMSG. */
int proc_statm_parse_rss(const char *buf, uint64_t *ret_pages);

/* The n bytes of /proc/PID/cmdline (arguments each ended by a NUL) as one
 * line: NULs between arguments become spaces, trailing NULs are dropped,
 * other bytes are kept. Returns 0 with a malloc'd string, -ENODATA when
 * there is no argument (a kernel thread, a zombie), -ENOMEM. */
int proc_cmdline_to_string(const char *buf, size_t n, char **ret);

/* ---- Verified reads ---- */

/* Each returns 0 and writes *ret on success; -ESRCH when the process is
 * gone (reaped, or its PID since reused); -EBADMSG when /proc says
 * something unparsable; -errno otherwise (-EREMOTE: the process is in a
 * PID namespace we cannot see). Nothing is written on failure. */

/* The parent's PID (0: none in our namespace, see proc_stat_parse_ppid). */
int pidref_get_ppid(const PidRef *p, pid_t *ret);

/* The name the process gave itself (comm, from /proc/PID/stat), malloc'd. */
int pidref_get_comm(const PidRef *p, char **ret);

/* The command line, from at most max bytes of /proc/PID/cmdline (a longer
 * one is cut at max), as by proc_cmdline_to_string(); malloc'd. Also
 * -ENODATA: no command line (a kernel thread or a zombie). */
int pidref_get_cmdline(const PidRef *p, size_t max, char **ret);

/* The resident set size in bytes (/proc/PID/statm times the page size). */
int pidref_get_rss(const PidRef *p, uint64_t *ret_bytes);

/* The start time in clock ticks since boot (/proc/PID/stat field 22). */
int pidref_get_start_time(const PidRef *p, uint64_t *ret);

/* Unverified, by bare PID (also declared in pidref.h, where it was first):
 * the start time of process pid. Returns 0, -ESRCH when there is no such
 * process, -EBADMSG. New code: pidref_get_start_time(). */
int pid_get_start_time(pid_t pid, uint64_t *ret);
