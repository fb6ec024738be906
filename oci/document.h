/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* OCI documents (the state, config.json): the bounds crdma reads them
 * within (json-read.h is the reader). */
#ifndef CRDMA_OCI_DOCUMENT_H
#define CRDMA_OCI_DOCUMENT_H

#include "crdma.h"
#include "json-read.h"

/* Real OCI documents have a few thousand values and nest less than ten
 * deep; CRDMA_DOCUMENT_MAX (crdma.h) bounds their size.  127 levels is also
 * what yajl_gen can write back: it refuses to open a 128th. */
#define OCI_DOCUMENT_MAX_DEPTH 127
#define OCI_DOCUMENT_MAX_VALUES (256 * 1024)

/* An OCI state or config.json as runtimes read it (comments included, as
 * yajl takes them), for the inject path: a "\u0000" and a key given twice
 * are noted for oci_container_load to judge. */
extern const struct crdma_json_bounds oci_document_bounds;

#endif
