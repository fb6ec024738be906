/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef CRDMA_DEVICES_H
#define CRDMA_DEVICES_H

#include "crdma.h"

struct crdma_chardev {
        enum crdma_chardev_kind kind;
        char name[32]; /* "uverbs0": node /dev/infiniband/<name> */
        unsigned major, minor;
        unsigned port; /* umad/issm: port number; uverbs: 0 */
};

struct crdma_port {
        unsigned number;
        char *link_layer; /* "InfiniBand", "Ethernet"; NULL if unknown */
        char *state;      /* "ACTIVE", "DOWN", ...; NULL if unknown */
        char *netdev;     /* NULL if none */
        unsigned gid_count;
};

struct crdma_device {
        char *name;
        int index; /* -1: unknown */
        int node_type;
        char *node_type_name;
        char *node_guid;
        char *driver;
        char *pci_address;
        bool is_vf;
        char *pf_pci_address;
        char *parent_netdev;
        struct crdma_port *ports;
        unsigned n_ports;
        struct crdma_chardev *chardevs;
        size_t n_chardevs;
        /* In another network namespace (exclusive mode): not in this one's
         * class/infiniband, so only its char devices are known, from the
         * classes that list every device whatever its namespace.  Only
         * crdma_devices_scan_exclusive() makes such entries. */
        bool elsewhere;
};

struct crdma_device_list {
        struct crdma_device *devs;
        size_t n;
        bool has_rdma_cm;
        unsigned rdma_cm_major, rdma_cm_minor;
        /* RDMA netns mode, when netlink could tell. */
        bool netns_known;
        enum crdma_netns netns_mode;
};

/* crdma_devices_scan_for() for an exclusive-mode request: a named device
 * that is in another network namespace is listed too, marked `elsewhere`
 * (a pod's second container asks for the device its first one moved into the
 * pod's namespace; crdma_netns_move() then tells that namespace from any
 * other). */
int crdma_devices_scan_exclusive(struct crdma_context *ctx, const struct crdma_request *req,
                                 struct crdma_device_list **out, struct crdma_error **err);

/* The uverbs char device of a device, or NULL. */
const struct crdma_chardev *crdma_device_uverbs(const struct crdma_device *dev);
/* Whether an RDMA device `name` that this network namespace does not see
 * exists elsewhere: class/infiniband_verbs lists every device's uverbs node
 * whatever namespace the device is in (exclusive mode), class/infiniband
 * only this namespace's. */
bool crdma_device_in_other_netns(struct crdma_context *ctx, const char *name);
/* Whether this network namespace sees RDMA device `name`: class/infiniband
 * lists it (every device in shared mode; this namespace's in exclusive). */
bool crdma_device_in_this_netns(struct crdma_context *ctx, const char *name);

#endif
