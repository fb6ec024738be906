/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A CDI spec (Container Device Interface, cncf-tags/container-device-interface)
 * for the RDMA devices the policy allows: podman, Docker, containerd, CRI-O
 * and Apptainer then give them with `--device crdma.io/hca=NAME`. */
#ifndef CRDMA_OCI_CDI_H
#define CRDMA_OCI_CDI_H

#include <stdbool.h>

#include "crdma.h"

#define OCI_CDI_KIND "crdma.io/hca"
#define OCI_CDI_ALL "all"

/* CDI's device-name rule (pkg/cdi/qualified-device.go ValidateDeviceName):
 * [A-Za-z0-9] first and last, [A-Za-z0-9_.:-] between. */
bool oci_cdi_name_valid(const char *name);

/* The spec of kind OCI_CDI_KIND: one CDI device per RDMA device for which
 * crdma_plan_new() accepts `io.crdma.devices=NAME` under `policy` (its uverbs
 * node, and rdma_cm when the host has it), in the order of `devices`, then
 * "all" with every node of those.  The policy's denials are left out (debug
 * log); a device the plan refuses otherwise, or whose name CDI cannot carry,
 * is left out with a warning.  No device left: refused (ENODEV).
 *
 * cdiVersion is the oldest that has every field used: "0.3.0" (CDI's
 * earliest, which podman 4.3's vendored CDI 0.5.2 and every later one
 * accepts), "0.5.0" when a device name starts with a digit.  CDI has no
 * field for rdma.max or RLIMIT_MEMLOCK: those come from the hook. */
int oci_cdi_spec(struct crdma_context *ctx, const struct crdma_device_list *devices,
                 const struct crdma_policy *policy, char **json, struct crdma_error **err);

#endif
