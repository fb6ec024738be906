/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef CRDMA_PLAN_H
#define CRDMA_PLAN_H

#include "crdma.h"
#include "util.h"

struct crdma_plan_node {
        char path[64]; /* "/dev/infiniband/uverbs0" */
        char type;     /* 'c' */
        unsigned major, minor;
        unsigned mode; /* permission bits */
};

struct crdma_plan_device {
        char *name;
        int index; /* kernel index, -1 unknown (resolved at apply time) */
        uint64_t hca_handles, hca_objects;
        char *rdma_max_line;
};

struct crdma_plan_syscall {
        const char *name; /* static */
        long long arg0;   /* -1: any */
};

struct crdma_plan {
        struct crdma_plan_device *devices;
        size_t n_devices;
        struct crdma_plan_node *nodes;
        size_t n_nodes;
        bool best_effort;
        uint64_t memlock;
        struct crdma_strv caps;
        struct crdma_plan_syscall *syscalls;
        size_t n_syscalls;
        enum crdma_netns netns;
        bool netns_switch;
};

/* The front door (front.c): the context's policy, a targeted scan and
 * crdma_plan_new() for a parsed request; every path plans through it.  A
 * NULL request (nothing asked) is a NULL plan, with nothing read. */
int crdma_plan_make(struct crdma_context *ctx, const struct crdma_request *req,
                    struct crdma_plan **out, struct crdma_error **err);

#endif
