/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef CRDMA_CONTEXT_H
#define CRDMA_CONTEXT_H

#include "crdma.h"
#include "fault.h"
#include "log.h"
#include "netlink.h"

#define CRDMA_ROOT_COUNT 4
#define CRDMA_DEFAULT_POLICY_PATH "/etc/crdma/policy.json"

struct crdma_context {
        int root_fd[CRDMA_ROOT_COUNT]; /* -EBADF until first use */
        char *root_path[CRDMA_ROOT_COUNT];
        bool root_is_default[CRDMA_ROOT_COUNT];

        char *policy_path;      /* NULL: built-in defaults */
        bool policy_path_given; /* a given file must exist; the default may not */

        crdma_log_fn log_fn;
        void *log_data;
        enum crdma_log_level log_level;

        /* RDMA netlink; NULL means "not available" (e.g. a fake sysfs root). */
        const struct crdma_netlink_ops *nl_ops;
        void *nl_data;
#ifdef CRDMA_FAULT_INJECTION
        struct crdma_fault fault; /* test builds only (fault.h) */
#endif
};

/* The directory fd of a root, opened on first use. */
int crdma_context_root_fd(struct crdma_context *ctx, enum crdma_root root,
                          struct crdma_error **err);
const char *crdma_context_root_path(const struct crdma_context *ctx, enum crdma_root root);

/* Test seam: replace the netlink transport (NULL disables netlink). */
void crdma_context_set_netlink_ops(struct crdma_context *ctx,
                                   const struct crdma_netlink_ops *ops, void *data);


#endif
