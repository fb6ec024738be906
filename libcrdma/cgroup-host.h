/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef CRDMA_CGROUP_HOST_H
#define CRDMA_CGROUP_HOST_H

#include <stdbool.h>

#include "crdma.h"

struct crdma_cgroup_host {
        bool v2;   /* cgroup2 at the context's cgroup root (not v1, not hybrid) */
        bool rdma; /* the rdma controller is there for containers */
};

int crdma_cgroup_host(struct crdma_context *ctx, struct crdma_cgroup_host *out,
                      struct crdma_error **err);

#endif
