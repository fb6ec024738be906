/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef CRDMA_RLIMIT_H
#define CRDMA_RLIMIT_H

#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "crdma.h"

struct crdma_rlimit_undo {
        pid_t pid;
        bool changed;
        struct rlimit old;
};

/* Raise RLIMIT_MEMLOCK of `pid` (soft and hard) to `bytes` (CRDMA_UNLIMITED:
 * infinity); a limit already higher is kept: crdma only raises. */
int crdma_memlock_raise(struct crdma_context *ctx, pid_t pid, uint64_t bytes,
                        struct crdma_rlimit_undo *undo, struct crdma_error **err);
int crdma_memlock_undo(const struct crdma_rlimit_undo *undo, struct crdma_error **err);

#endif
