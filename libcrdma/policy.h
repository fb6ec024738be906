/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef CRDMA_POLICY_H
#define CRDMA_POLICY_H

#include "crdma.h"
#include "util.h"

/* rdma.max values are C ints in the kernel (rdmacg parse_resource). */
#define CRDMA_RDMA_MAX_LIMIT 2147483647ULL

struct crdma_limits {
        uint64_t hca_handles; /* CRDMA_UNLIMITED: "max" */
        uint64_t hca_objects;
        uint64_t memlock;     /* bytes; CRDMA_UNLIMITED: "unlimited" */
};

struct crdma_policy {
        char *origin; /* file name or "built-in defaults", for messages */
        struct crdma_strv devices; /* shell globs of device names */
        struct crdma_limits defaults;
        struct crdma_limits limits;
        bool best_effort; /* limits.enforce: "best-effort" */
        struct {
                bool umad, issm, net_raw, ipc_lock, exclusive;
                bool environment; /* requests from a container's CRDMA_* variables */
        } allow;
        bool netns_switch; /* netnsMode "exclusive" (else "keep") */
        /* runtime: what crdma-runtime execs (names or absolute paths, the
         * first found wins) and the hook a config's createRuntime entry runs
         * (NULL: the installed crdma-hook). */
        struct crdma_strv runtimes;
        char *runtime_hook;
};

/* True when `name` matches one of the policy's device globs. */
bool crdma_policy_allows_device(const struct crdma_policy *p, const char *name);

#endif
