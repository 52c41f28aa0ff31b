/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "rlimit-util.h"

#include <errno.h>
#include <sys/resource.h>

int rlimit_nofile_bump(void) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
                return -errno;
        if (rl.rlim_cur >= rl.rlim_max)
                return 0;
        rl.rlim_cur = rl.rlim_max;
        return setrlimit(RLIMIT_NOFILE, &rl) < 0 ? -errno : 0;
}

int rlimit_nofile_safe(void) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
                return -errno;
        if (rl.rlim_cur <= RLIMIT_NOFILE_SAFE)
                return 0;
        rl.rlim_cur = RLIMIT_NOFILE_SAFE;
        return setrlimit(RLIMIT_NOFILE, &rl) < 0 ? -errno : 0;
}
