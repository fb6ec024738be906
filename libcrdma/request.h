/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef CRDMA_REQUEST_H
#define CRDMA_REQUEST_H

#include "crdma.h"
#include "util.h"

#define CRDMA_ANNOTATION_PREFIX "io.crdma."
/* Bounds on what a container may ask, so hostile input costs little. */
#define CRDMA_REQUEST_MAX_DEVICES 1024
#define CRDMA_ANNOTATION_MAX_VALUE 65536

struct crdma_request {
        bool all_devices;
        struct crdma_strv devices; /* in the order given */
        enum crdma_netns netns;
        bool has_hca_handles, has_hca_objects, has_memlock;
        uint64_t hca_handles, hca_objects, memlock; /* CRDMA_UNLIMITED: max */
        bool rdma_cm, rdma_cm_given;
        bool umad;
        bool raw;
};

#endif
