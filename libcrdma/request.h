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
        /* From the container's CRDMA_* variables, not its annotations: only
         * a policy with allow.environment plans it (an image's ENV reaches
         * every container made from it). */
        bool from_environment;
        /* From a command-line option (Slurm's "--rdma"), named so in every
         * message; NULL: from io.crdma.* annotations. */
        char *option;
};

/* How messages name `key` ("hca-handles") of this request: "annotation
 * io.crdma.hca-handles", or "--rdma hca-handles"; returns buf. */
const char *crdma_request_key_label(const struct crdma_request *req, const char *key, char *buf,
                                    size_t len);

#define CRDMA_ENV_PREFIX "CRDMA_"
/* The io.crdma.* key the variable `name` (its first `len` bytes, CRDMA_NAME)
 * stands for: CRDMA_HCA_HANDLES is io.crdma.hca-handles.  NULL: none. */
const char *crdma_request_key_for_env(const char *name, size_t len);

#endif
