/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "document.h"

const struct crdma_json_bounds oci_document_bounds = {
        .what = "an OCI document",
        .max_bytes = CRDMA_DOCUMENT_MAX,
        .max_depth = OCI_DOCUMENT_MAX_DEPTH,
        .max_values = OCI_DOCUMENT_MAX_VALUES,
        .object = true,
        .comments = true,
        .keep_escaped_nul = true,
        .keep_duplicates = true,
};
