/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A container's annotations, as an OCI state or config carries them: the
 * JSON object, its io.crdma.* keys, and the strict request parser. */
#include <string.h>

#include "annotations.h"
#include "document.h"
#include "error.h"
#include "fuzz-common.h"
#include "json-read.h"
#include "request.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct crdma_error *err = NULL;
        _cleanup_json_tree_ yajl_val root = NULL;
        int r = crdma_json_read((const char *) data, size, &oci_document_bounds, "annotations",
                                &root, NULL, &err);
        if (r < 0) {
                fuzz_check_error(r, &err);
                return 0;
        }
        struct oci_annotations ann = { 0 };
        r = oci_annotations_from_tree(root, &ann, &err);
        if (r < 0) {
                fuzz_check_error(r, &err);
                return 0;
        }
        struct crdma_request *req = NULL;
        r = crdma_request_from_annotations(ann.kv, ann.n, &req, &err);
        if (r < 0) {
                fuzz_check_error(r, &err);
        } else if (req) {
                /* What was accepted holds to crdma-annotations(7). */
                size_t n = crdma_request_device_count(req);
                FUZZ_ASSERT(crdma_request_all_devices(req) ? n == 0 : n > 0, "%zu devices", n);
                FUZZ_ASSERT(n <= CRDMA_REQUEST_MAX_DEVICES, "%zu devices", n);
                for (size_t i = 0; i < n; i++) {
                        const char *name = crdma_request_device_name(req, i);
                        FUZZ_ASSERT(crdma_device_name_valid(name), "device name \"%s\"", name);
                }
                enum crdma_netns ns = crdma_request_netns(req);
                FUZZ_ASSERT(ns == CRDMA_NETNS_SHARED || ns == CRDMA_NETNS_EXCLUSIVE, "netns %d", ns);
        } else {
                /* Nothing asked: then no key may be ours. */
                for (size_t i = 0; i < ann.n; i++)
                        FUZZ_ASSERT(strncmp(ann.kv[i].key, CRDMA_ANNOTATION_PREFIX,
                                            strlen(CRDMA_ANNOTATION_PREFIX)) != 0,
                                    "%s ignored", ann.kv[i].key);
        }
        crdma_request_free(req);
        oci_annotations_clear(&ann);
        return 0;
}
