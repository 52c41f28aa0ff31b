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

bool rlimit_nofile_safe_get(struct rlimit *ret) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur <= RLIMIT_NOFILE_SAFE)
                return false;
        *ret = (struct rlimit) { .rlim_cur = RLIMIT_NOFILE_SAFE, .rlim_max = rl.rlim_max };
        return true;
}
