/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The config editor: a plan applied to a config.json held faithfully
 * (document.h), and crdma's annotations set in one. */
#ifndef CRDMA_OCI_CONFIG_H
#define CRDMA_OCI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "crdma.h"
#include "document.h"

/* Set annotations (a key already there gets the new value in its place;
 * a new one goes at the end of "annotations", made when absent).  Setting
 * any in a config with a key given twice is refused, as applying a plan. */
int oci_config_set_annotations(struct oci_config *c, const struct crdma_kv *kv, size_t n,
                               struct crdma_error **err);

/* How to edit. */
struct oci_edit_options {
        /* Where the rdma limits go: runc reads linux.resources.rdma; crun reads
         * only linux.resources.unified["rdma.max"] (cgroup v2, one device);
         * auto writes the former and leaves crun to the createRuntime hook. */
        enum crdma_runtime runtime;
        bool cgroup2;         /* the host's cgroup hierarchy is v2 */
        bool rdma_controller; /* and its kernel has the rdma controller */
        /* The crdma-hook executable for a createRuntime/poststop entry, when
         * the plan has work only a hook can do; NULL: refuse such a plan. */
        const char *hook_path;
        const char *policy_path; /* given to that hook as --policy, or NULL */
        struct crdma_context *ctx; /* for warnings; may be NULL */
};

/* Apply a plan, idempotently (twice == once), each part in its own file:
 *  - linux.devices (config-devices.c): one {path, type, major, minor,
 *    fileMode, uid 0, gid 0} per plan node; an entry already at that path
 *    for the same device (type, major, minor) is kept as it is; one for
 *    another device refused;
 *  - linux.resources.devices (config-devices.c): {allow true, type, major,
 *    minor, access "rw"} per node, unless an allow rule for that device with
 *    at least "rw" is there and no later deny rule matches the device;
 *  - process.rlimits RLIMIT_MEMLOCK (config-rlimits.c): added at the plan's
 *    value, or its soft and hard each raised to it when lower (a higher one
 *    is kept);
 *  - rdma limits (config-rdma.c), capabilities (config-caps.c), seccomp
 *    allow rules (config-seccomp.c), and the hook entries for what only
 *    the createRuntime hook can do (config-hooks.c).
 * A config with a key given twice is refused first (document.h).  Every
 * check runs before the first change: a refused config is left as it was.
 * Only an out-of-memory failure can leave it partly edited; discard it
 * then. */
int oci_config_apply_plan(struct oci_config *c, const struct crdma_plan *plan,
                          const struct oci_edit_options *opts, struct crdma_error **err);

#endif
