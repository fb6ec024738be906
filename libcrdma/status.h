/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crdma_status: the rdma controller's limits and usage per cgroup (status.c),
 * printed as JSON by status-json.c. */
#ifndef CRDMA_STATUS_H
#define CRDMA_STATUS_H

#include <stdbool.h>
#include <stdint.h>

#include "crdma.h"

/* One resource of one device in one cgroup. */
struct crdma_rdma_usage {
        uint64_t used;  /* rdma.current */
        uint64_t limit; /* rdma.max; CRDMA_UNLIMITED for "max" */
};

struct crdma_status_row {
        char *cgroup;        /* relative to the cgroup root */
        char *device;
        char *container;     /* NULL: the path names none */
        const char *engine;  /* static; NULL: unknown */
        struct crdma_rdma_usage hca_handles, hca_objects;
        bool device_in_host_netns;
        char *netns;         /* "net:[N]" of the cgroup's first process, or NULL */
};

struct crdma_status {
        struct crdma_status_row *rows;
        size_t n, allocated;
        char *host_netns;    /* "net:[N]" of <proc-root>/1, or NULL */
        bool netns_known;
        enum crdma_netns netns_mode;
};

#endif
