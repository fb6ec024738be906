/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* RDMA network namespaces: the host's netns mode and moving devices into a
 * container's network namespace and back (the "exclusive" mode of
 * io.crdma.netns).  Private to the library and the hook. */
#ifndef CRDMA_NETNS_H
#define CRDMA_NETNS_H

#include <stdbool.h>
#include <stddef.h>

#include "crdma.h"

struct crdma_context;

/* RDMA_NLDEV_CMD_SYS_SET to `mode`.  Setting the mode the kernel already has succeeds.  EBUSY (other
 * network namespaces exist) is a refusal whose message gives the boot-time
 * setting; EPERM names CAP_NET_ADMIN. */
int crdma_netns_set_mode(struct crdma_context *ctx, enum crdma_netns mode,
                         struct crdma_error **err);

/* Move RDMA device `name` (index from a dump in the caller's network
 * namespace) into the network namespace `netns_fd` (an open nsfs file, e.g.
 * /proc/PID/ns/net).  On success *undo says how to move it back: it holds its
 * own duplicate of `netns_fd`.  A device that is already in that namespace
 * succeeds with an undo that does nothing.  Refusals (nothing moved): the
 * device is unknown here, its driver cannot move (rxe, siw), the host is in
 * shared mode, the target is the host's own network namespace. */
struct crdma_netns_undo;
int crdma_netns_move(struct crdma_context *ctx, const char *name, int netns_fd,
                     struct crdma_netns_undo **undo, struct crdma_error **err);

/* Move the device back into the initial network namespace (the one of
 * <proc-root>/1/ns/net).  The request is spoken from inside the target
 * namespace by a forked child; the caller's thread never calls setns().
 * A device no longer in that namespace is fine.  Doing it twice is harmless. */
int crdma_netns_undo(struct crdma_context *ctx, struct crdma_netns_undo *undo,
                     struct crdma_error **err);
void crdma_netns_undo_free(struct crdma_netns_undo *undo);

/* For poststop: move back every device of `names` that is in the network
 * namespace `netns_fd` (e.g. a pod's bind-mounted namespace that outlives
 * the container).  `names` NULL: every device found there (io.crdma.devices
 * "all": in exclusive mode those are invisible from the host's namespace, so
 * the caller cannot list them).  Devices not found there are fine; in shared
 * mode, or when `netns_fd` is the initial namespace, there is nothing to do.
 * Every device is tried; the first failure is returned. */
int crdma_netns_return(struct crdma_context *ctx, int netns_fd, const char *const *names,
                       size_t n, struct crdma_error **err);

#endif
