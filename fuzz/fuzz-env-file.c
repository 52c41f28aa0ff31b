/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The environment file parser (src/basic/env-file.c): a file's bytes, up
 * to the reader's bound. Whatever it accepts is a vector of valid
 * assignments with distinct names; whatever it refuses names a line
 * within the input. */

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "env-file.h"
#include "strv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char **env = NULL;
        EnvFileError e = {};
        size_t lines = 1;
        int r;

        if (size > ENV_FILE_SIZE_MAX)
                return -1;
        for (size_t i = 0; i < size; i++)
                lines += data[i] == '\n';
        r = env_file_parse((const char *) data, size, &env, &e);
        if (r < 0) {
                assert(r == -EBADMSG || r == -ENOMEM);
                assert(!env);
                if (r == -EBADMSG)
                        assert(e.reason && e.line >= 1 && e.line <= lines);
                return 0;
        }
        assert(env);
        for (char **p = env; *p; p++) {
                const char *eq = strchr(*p, '=');
                assert(eq && env_file_name_is_valid(*p, (size_t) (eq - *p)));
                for (char **q = env; q < p; q++)
                        assert(!(strneq(*q, *p, (size_t) (eq - *p) + 1)));
        }
        strv_free(env);
        return 0;
}
