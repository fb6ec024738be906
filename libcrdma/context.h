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

        /* RDMA netlink: the transport, and whether it is used at all
         * (crdma_context_set_netlink).  Read both through crdma_context_netlink. */
        const struct crdma_netlink_ops *nl_ops;
        void *nl_data;
        bool nl_enabled;
#ifdef CRDMA_FAULT_INJECTION
        struct crdma_fault fault; /* test builds only (fault.h) */
#endif
};

/* The directory fd of a root, opened on first use. */
int crdma_context_root_fd(struct crdma_context *ctx, enum crdma_root root,
                          struct crdma_error **err);
const char *crdma_context_root_path(const struct crdma_context *ctx, enum crdma_root root);

/* Test seam: replace the netlink transport and use it, as
 * crdma_context_set_netlink(ctx, true) would (NULL disables netlink). */
void crdma_context_set_netlink_ops(struct crdma_context *ctx,
                                   const struct crdma_netlink_ops *ops, void *data);
/* The netlink transport to speak through, or NULL when netlink is off. */
const struct crdma_netlink_ops *crdma_context_netlink(const struct crdma_context *ctx);


#endif
