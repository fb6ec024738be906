/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* RDMA netlink (NETLINK_RDMA, RDMA_NL_NLDEV) behind a small transport seam so
 * unit tests replay captured or built replies. */
#ifndef CRDMA_NETLINK_H
#define CRDMA_NETLINK_H

#include <stddef.h>
#include <stdint.h>
#include <libmnl/libmnl.h>

#include "crdma.h"

struct crdma_context;

struct crdma_netlink_ops {
        /* Send `req` and run `cb` over every reply until the kernel is done
         * (NLMSG_DONE, or the ack of a non-dump request).  Returns 0 or a
         * negative errno (the kernel's, for an NLMSG_ERROR reply); `ext_ack`
         * (may be NULL) receives the kernel's extended-ack text, if any. */
        int (*transact)(void *data, struct nlmsghdr *req, mnl_cb_t cb, void *cb_data,
                        char *ext_ack, size_t ext_ack_len);
        /* Optional (NULL: not available): the same, spoken from inside the
         * network namespace `netns_fd`.  The kernel transport forks a child
         * that joins it (the caller's thread never does), opens the socket
         * there and hands the raw replies back, so `cb` runs in the caller. */
        int (*transact_in_netns)(void *data, int netns_fd, struct nlmsghdr *req, mnl_cb_t cb,
                                 void *cb_data, char *ext_ack, size_t ext_ack_len);
};

extern const struct crdma_netlink_ops crdma_netlink_kernel_ops;

struct crdma_nl_device {
        uint32_t index;
        char name[64];
};

/* RDMA_NLDEV_CMD_GET dump: every device's index and name. */
int crdma_nl_devices(struct crdma_context *ctx, struct crdma_nl_device **out, size_t *n,
                     struct crdma_error **err);

/* RDMA_NLDEV_CMD_SYS_GET: the netns mode (the kernel's attribute: 1 shared, 0 exclusive). */
int crdma_nl_netns_mode(struct crdma_context *ctx, enum crdma_netns *mode, struct crdma_error **err);

/* The same dump, seen from inside the network namespace `netns_fd` (in
 * exclusive mode: the devices that namespace holds). */
int crdma_nl_devices_in_netns(struct crdma_context *ctx, int netns_fd,
                              struct crdma_nl_device **out, size_t *n, struct crdma_error **err);

/* The calls below return 0 or the kernel's -errno, with its extended-ack
 * text (or "") in `ext_ack`, and leave the wording of failures to the
 * caller; -ENOSYS when the context has no netlink transport for the job. */

/* RDMA_NLDEV_CMD_SYS_SET to `mode`. */
int crdma_nl_set_netns_mode(struct crdma_context *ctx, enum crdma_netns mode, char *ext_ack,
                            size_t ext_ack_len);

/* RDMA_NLDEV_CMD_SET with DEV_INDEX `index` and NET_NS_FD `target_fd`: move a
 * device into the network namespace `target_fd`.  The request is spoken from
 * the network namespace `from_netns_fd` (the device's), or from the caller's
 * when it is negative.  `target_fd` must be open in the caller's process. */
int crdma_nl_move_device(struct crdma_context *ctx, int from_netns_fd, uint32_t index,
                         int target_fd, char *ext_ack, size_t ext_ack_len);

/* Run mnl's parser over one reply datagram with crdma's error handling:
 * returns MNL_CB_STOP (done), MNL_CB_OK (more to come) or a negative errno. */
int crdma_nl_run(const void *buf, size_t len, uint32_t seq, uint32_t portid, mnl_cb_t cb,
                 void *cb_data, char *ext_ack, size_t ext_ack_len);

/* Build a request header for RDMA_NL_NLDEV `op` in `buf`. */
struct nlmsghdr *crdma_nl_request(void *buf, unsigned op, uint16_t flags);

#endif
