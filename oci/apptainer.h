/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Apptainer's `--apply-cgroups FILE`: a TOML form of the OCI LinuxResources
 * (apptainer internal/pkg/cgroups/config_linux.go).  crdma writes only its
 * `rdma` table: a map from device name to {hcaHandles, hcaObjects}, both
 * uint32.  The devices themselves come from CDI (`--device crdma.io/hca=...`). */
#ifndef CRDMA_OCI_APPTAINER_H
#define CRDMA_OCI_APPTAINER_H

#include "crdma.h"

/* The kernel's rdma.max "max" is S32_MAX (kernel/cgroup/rdma.c), and the
 * TOML's uint32 fields cannot say "max": this number says it. */
#define OCI_APPTAINER_RDMA_MAX 2147483647ULL

/* One `[rdma.NAME]` table per plan device with its hcaHandles and
 * hcaObjects.  What the file cannot carry is refused, never dropped: an
 * io.crdma.memlock, umad, raw or exclusive netns request. */
int oci_apptainer_cgroups(const struct crdma_request *req, const struct crdma_plan *plan,
                          char **toml, struct crdma_error **err);

#endif
