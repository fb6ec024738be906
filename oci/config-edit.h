/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The config editor's parts, one file each: what each found in the config
 * (checked before anything changes) and what it will add. */
#ifndef CRDMA_OCI_CONFIG_EDIT_H
#define CRDMA_OCI_CONFIG_EDIT_H

#include <stdbool.h>
#include <yajl/yajl_tree.h>

#include "config.h"
#include "plan.h"

struct oci_edit {
        const char *origin;
        yajl_val root;
        const struct crdma_plan *plan;
        const struct oci_edit_options *opts;
        yajl_val linux_;  /* linux, when there */
        yajl_val process; /* process, when there */

        /* config-devices.c: linux.devices, linux.resources.devices */
        bool *node_there; /* per plan node: linux.devices has it */
        bool *rule_there; /* per plan node: linux.resources.devices allows it */

        /* config-rlimits.c */
        yajl_val memlock; /* the existing RLIMIT_MEMLOCK entry */
        bool raise_soft, raise_hard;

        /* config-rdma.c */
        bool *set_handles, *set_objects; /* per plan device: in linux.resources.rdma */
        bool rdma_runc;                  /* write linux.resources.rdma */
        bool rdma_unified;               /* write linux.resources.unified["rdma.max"] */
        const char *hook_for;            /* why the createRuntime hook is needed, or NULL */

        /* config-caps.c */
        bool caps_missing;

        /* config-seccomp.c */
        yajl_val seccomp;          /* linux.seccomp, when its default denies */
        const char **allow;        /* syscalls to allow unconditionally */
        size_t n_allow;
        bool allow_netlink_socket; /* socket(AF_NETLINK, ...) */

        /* config-hooks.c */
        bool add_create_runtime, add_poststop;
};

int oci_edit_check_devices(struct oci_edit *e, struct crdma_error **err);
int oci_edit_change_devices(struct oci_edit *e);
int oci_edit_check_rlimits(struct oci_edit *e, struct crdma_error **err);
int oci_edit_change_rlimits(struct oci_edit *e);
int oci_edit_check_rdma(struct oci_edit *e, struct crdma_error **err);
int oci_edit_change_rdma(struct oci_edit *e);
int oci_edit_check_caps(struct oci_edit *e, struct crdma_error **err);
int oci_edit_change_caps(struct oci_edit *e);
int oci_edit_check_seccomp(struct oci_edit *e, struct crdma_error **err);
int oci_edit_change_seccomp(struct oci_edit *e);
/* Rootless runtimes (config-mounts.c): bind mounts in place of linux.devices;
 * node_there then means "mounts has it". */
int oci_edit_check_mounts(struct oci_edit *e, struct crdma_error **err);
int oci_edit_change_mounts(struct oci_edit *e);
/* Runs last: needs hook_for from the rdma check. */
int oci_edit_check_hooks(struct oci_edit *e, struct crdma_error **err);
int oci_edit_change_hooks(struct oci_edit *e);

/* e->process, refused when absent: `what` says what it is needed for. */
int oci_edit_need_process(struct oci_edit *e, const char *what, struct crdma_error **err);

#endif
