/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading OCI JSON documents (config.json, state) with bounds. */
#ifndef CRDMA_OCI_DOCUMENT_H
#define CRDMA_OCI_DOCUMENT_H

#include <stddef.h>
#include <yajl/yajl_tree.h>

#include "crdma.h"

/* OCI documents are small; a bound keeps a hostile one from costing much. */
#define OCI_DOCUMENT_MAX (16 * 1024 * 1024)

/* Parse `text` as a JSON object; `origin` names it in messages. */
int oci_document_parse(const char *text, size_t len, const char *origin, yajl_val *out,
                       struct crdma_error **err);
/* Read and parse a file, or stdin for "-". */
int oci_document_load(const char *path, yajl_val *out, struct crdma_error **err);

void oci_document_freep(yajl_val *v);
#define _cleanup_document_ __attribute__((cleanup(oci_document_freep)))

#endif
