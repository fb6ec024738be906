/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* RLIMIT_MEMLOCK of a created container's init process: the user process it
 * execs inherits it.  CAP_IPC_LOCK works only in the init user namespace, so
 * the rlimit is the portable way to let RDMA pin memory. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "context.h"
#include "error.h"
#include "fault.h"
#include "rlimit.h"

static rlim_t to_rlim(uint64_t bytes)
{
        return bytes == CRDMA_UNLIMITED || bytes >= (uint64_t) RLIM_INFINITY ? RLIM_INFINITY
                                                                           : (rlim_t) bytes;
}

static void limit_text(rlim_t v, char *buf, size_t len)
{
        if (v == RLIM_INFINITY)
                snprintf(buf, len, "unlimited");
        else
                snprintf(buf, len, "%" PRIu64 " bytes", (uint64_t) v);
}

int crdma_memlock_raise(struct crdma_context *ctx, pid_t pid, uint64_t bytes,
                        struct crdma_rlimit_undo *undo, struct crdma_error **err)
{
        struct rlimit old;
        if (prlimit(pid, RLIMIT_MEMLOCK, NULL, &old) < 0)
                return crdma_fail_errno(err, errno, "process %d: reading RLIMIT_MEMLOCK failed",
                                        (int) pid);
        rlim_t want = to_rlim(bytes);
        struct rlimit raised = {
                .rlim_cur = old.rlim_cur == RLIM_INFINITY || old.rlim_cur >= want ? old.rlim_cur : want,
                .rlim_max = old.rlim_max == RLIM_INFINITY || old.rlim_max >= want ? old.rlim_max : want,
        };
        /* The soft limit may not pass the hard one. */
        if (raised.rlim_max != RLIM_INFINITY && raised.rlim_cur > raised.rlim_max)
                raised.rlim_max = raised.rlim_cur;
        *undo = (struct crdma_rlimit_undo){ .pid = pid, .old = old };
        if (raised.rlim_cur == old.rlim_cur && raised.rlim_max == old.rlim_max) {
                crdma_log(ctx, CRDMA_LOG_DEBUG, "process %d: RLIMIT_MEMLOCK already at least %" PRIu64,
                          (int) pid, bytes);
                return 0;
        }
        if (CRDMA_FAULT(ctx, "prlimit") || prlimit(pid, RLIMIT_MEMLOCK, &raised, NULL) < 0) {
                int e = errno;
                char soft[48], hard[48];
                limit_text(raised.rlim_cur, soft, sizeof(soft));
                limit_text(raised.rlim_max, hard, sizeof(hard));
                return crdma_fail_errno_hint(err, e, e == EPERM ? "the hook needs CAP_SYS_RESOURCE"
                                                                : NULL,
                                             "process %d: raising RLIMIT_MEMLOCK of the container "
                                             "to %s (hard %s) failed", (int) pid, soft, hard);
        }
        undo->changed = true;
        return 0;
}

int crdma_memlock_undo(const struct crdma_rlimit_undo *undo, struct crdma_error **err)
{
        if (!undo->changed)
                return 0;
        if (prlimit(undo->pid, RLIMIT_MEMLOCK, &undo->old, NULL) < 0 && errno != ESRCH)
                return crdma_fail_errno(err, errno, "process %d: restoring RLIMIT_MEMLOCK failed",
                                        (int) undo->pid);
        return 0;
}
