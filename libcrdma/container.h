/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef CRDMA_CONTAINER_H
#define CRDMA_CONTAINER_H

#include "crdma.h"
#include "util.h"

struct crdma_container {
        pid_t pid;
        char *rootfs;
        bool caps_known;
        struct crdma_strv caps;
        bool seccomp_filtered;
        struct crdma_strv seccomp_allowed;
        bool memlock_set;
        uint64_t memlock_soft, memlock_hard;
};

/* The cgroup paths of a process, from <proc>/<pid>/cgroup. */
struct crdma_proc_cgroups {
        char *unified;  /* "0::<path>" */
        char *devices;  /* v1 "devices" hierarchy */
        char *rdma;     /* v1 "rdma" hierarchy */
};

int crdma_proc_cgroups_read(struct crdma_context *ctx, pid_t pid, struct crdma_proc_cgroups *out,
                            struct crdma_error **err);
void crdma_proc_cgroups_clear(struct crdma_proc_cgroups *cg);

/* The host uid/gid of the root of the process's user namespace. */
int crdma_proc_root_ids(struct crdma_context *ctx, pid_t pid, uid_t *uid, gid_t *gid,
                        struct crdma_error **err);

/* Parse the text of a /proc/<pid>/cgroup file. */
int crdma_proc_cgroups_parse(const char *text, struct crdma_proc_cgroups *out);

#endif
