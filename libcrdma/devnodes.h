/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef CRDMA_DEVNODES_H
#define CRDMA_DEVNODES_H

#include <sys/types.h>

#include "crdma.h"
#include "plan.h"

struct crdma_devnodes_undo;

/* Make `nodes` under /dev/infiniband of `rootfs` in the mount namespace of
 * the process whose <proc>/<pid> directory is `piddir` (the pinned
 * container's), owned by uid:gid (the host ids of the container's root).
 * Existing nodes must be the same char device.  *undo removes what this call
 * made. */
int crdma_devnodes_create(struct crdma_context *ctx, int piddir, const char *rootfs,
                          const struct crdma_plan_node *nodes, size_t n, uid_t uid, gid_t gid,
                          struct crdma_devnodes_undo **undo, struct crdma_error **err);
/* Before injecting: each node the host has under the dev root must be the
 * char device sysfs gave (as libnvidia-container checks st_rdev); a node the
 * host lacks is fine (made in the container from sysfs's numbers). */
int crdma_devnodes_check_host(struct crdma_context *ctx, const struct crdma_plan_node *nodes,
                              size_t n, struct crdma_error **err);
int crdma_devnodes_undo(struct crdma_devnodes_undo *undo, struct crdma_error **err);
void crdma_devnodes_undo_free(struct crdma_devnodes_undo *undo);

#endif
