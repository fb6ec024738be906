/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container's cgroups: where they are, rdma.max in them. */
#ifndef CRDMA_CGROUP_H
#define CRDMA_CGROUP_H

#include "container.h"
#include "crdma.h"

/* An rdma.max or rdma.current of 1 MiB: 64 bytes a device, 16384 devices. */
#define CRDMA_RDMA_MAX_FILE_MAX (1u << 20)

enum crdma_cgroup_mode {
        CRDMA_CGROUP_V1 = 1,      /* legacy or hybrid: per-controller hierarchies */
        CRDMA_CGROUP_V2 = 2,      /* unified */
};

struct crdma_cgroup_target {
        enum crdma_cgroup_mode mode;
        char *path;          /* v2: the container's cgroup; v1: its rdma cgroup (or NULL) */
        char *devices_path;  /* v1: its devices cgroup (or NULL) */
        bool rdma_available; /* the kernel has the rdma controller where it is needed */
};

/* The host's cgroup layout at the context's cgroup root, as a runtime on it
 * sees it before any container exists (the config editor picks where rdma
 * limits go from it). */
struct crdma_cgroup_host {
        bool v2;   /* cgroup2 at the root (not v1, not hybrid) */
        bool rdma; /* the rdma controller is there for containers */
};
int crdma_cgroup_host(struct crdma_context *ctx, struct crdma_cgroup_host *out,
                      struct crdma_error **err);

/* Where the container's process lives, and whether rdma.max can be set there. */
int crdma_cgroup_target_init(struct crdma_context *ctx, const struct crdma_proc_cgroups *pc,
                             struct crdma_cgroup_target *out, struct crdma_error **err);
void crdma_cgroup_target_clear(struct crdma_cgroup_target *t);

/* v2: whether the cgroup `path` (absolute, from the root) exists and has
 * "rdma" in its cgroup.subtree_control, so its children have rdma.max. */
bool crdma_cgroup_enables_rdma(struct crdma_context *ctx, const char *path);

/* An O_DIRECTORY fd of <cgroup-root>/<sub>/<path> ("" sub for v2). */
int crdma_cgroup_open(struct crdma_context *ctx, const char *sub, const char *path,
                      struct crdma_error **err);

/* v2: put "+rdma" in cgroup.subtree_control of every ancestor of `path`
 * that lacks it (crun never does; runc does).  All or nothing; *undo (may
 * be NULL) takes back what this call enabled. */
struct crdma_subtree_undo;
int crdma_cgroup_enable_rdma(struct crdma_context *ctx, const char *path,
                             struct crdma_subtree_undo **undo, struct crdma_error **err);
int crdma_cgroup_subtree_undo(struct crdma_subtree_undo *undo, struct crdma_error **err);
void crdma_cgroup_subtree_undo_free(struct crdma_subtree_undo *undo);

struct crdma_rdma_undo;
/* Write each "<dev> hca_handle=.. hca_object=.." line to rdma.max of the
 * cgroup at `dirfd`; *undo restores each device's previous line. */
int crdma_cgroup_rdma_max_set(struct crdma_context *ctx, int dirfd, const char *where,
                              const char *const *lines, size_t n, struct crdma_rdma_undo **undo,
                              struct crdma_error **err);
int crdma_cgroup_rdma_undo(struct crdma_rdma_undo *undo, struct crdma_error **err);
void crdma_cgroup_rdma_undo_free(struct crdma_rdma_undo *undo);

/* Write `text` to the file `name` in `dirfd` with one write(2). */
int crdma_cgroup_write(int dirfd, const char *name, const char *text);

#endif
