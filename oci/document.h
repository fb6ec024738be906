/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading OCI JSON documents (config.json, state) with bounds. */
#ifndef CRDMA_OCI_DOCUMENT_H
#define CRDMA_OCI_DOCUMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_tree.h>

#include "crdma.h"

/* OCI documents are small; CRDMA_DOCUMENT_MAX (crdma.h) bounds their size,
 * so a hostile one costs little. */

/* yajl_tree keeps every value as a node (about 100 bytes each) and frees
 * the tree recursively: a hostile document of tiny values or deep nesting
 * within CRDMA_DOCUMENT_MAX would cost gigabytes or the stack.  Real OCI
 * documents have a few thousand values and nest less than ten deep. */
#define OCI_DOCUMENT_MAX_DEPTH 127
#define OCI_DOCUMENT_MAX_VALUES (256 * 1024)

/* What a linear pass over JSON text finds, before any tree is built. */
struct oci_document_shape {
        unsigned max_depth;
        size_t values;    /* values and keys, at least */
        bool escaped_nul; /* a string holds "\u0000", which C strings cut */
};
void oci_document_scan(const char *text, size_t len, struct oci_document_shape *shape);

/* Parse `text` as a JSON object; `origin` names it in messages.  Refused
 * past OCI_DOCUMENT_MAX_DEPTH or OCI_DOCUMENT_MAX_VALUES. */
int oci_document_parse(const char *text, size_t len, const char *origin, yajl_val *out,
                       struct crdma_error **err);
/* Read and parse a file, or stdin for "-". */
int oci_document_load(const char *path, yajl_val *out, struct crdma_error **err);

void oci_document_freep(yajl_val *v);
#define _cleanup_document_ __attribute__((cleanup(oci_document_freep)))

#endif
