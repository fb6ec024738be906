/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* OCI documents: the bounds crdma reads them within, and a whole
 * config.json held faithfully, to be edited in memory and written back
 * without losing or reordering anything crdma does not own: unknown fields,
 * extensions and annotations keep their place, numbers keep their exact text
 * (2^64-1, 1e3, -0), strings are re-escaped from their decoded UTF-8. */
#ifndef CRDMA_OCI_DOCUMENT_H
#define CRDMA_OCI_DOCUMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_tree.h>

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

struct oci_config; /* owns the yajl tree */

/* Parse `text` (`len` bytes, NUL not needed) as a config; `origin` names it
 * in messages ("config.json", a path, "standard input").  Refused, besides
 * invalid JSON, a non-object and oci_document_bounds: comments (the tree
 * would drop them) and strings with "\u0000" (a C string would cut them).
 * A key given twice is kept, and written back, for a config that asks
 * crdma nothing; oci_config_refuse_duplicate refuses it where crdma acts. */
int oci_config_parse(const char *text, size_t len, const char *origin, struct oci_config **out,
                     struct crdma_error **err);
/* Write it: `pretty` false is compact (no whitespace, no final newline);
 * true is yajl's beautified form with tab indents and a final newline, the
 * form crun's `spec` writes.  *out is NUL-terminated; the caller frees. */
int oci_config_write(const struct oci_config *c, bool pretty, char **out, struct crdma_error **err);
/* Write it the way `model` (the text it was parsed from) is written:
 * compact when that has no newline, else pretty with its indent unit. */
int oci_config_write_like(const struct oci_config *c, const char *model, size_t len, char **out,
                          struct crdma_error **err);
void oci_config_free(struct oci_config *c);
void oci_config_freep(struct oci_config **c);
#define _cleanup_config_ __attribute__((cleanup(oci_config_freep)))

/* The tree, for reading (the annotations, say).  Still owned by `c`. */
yajl_val oci_config_root(const struct oci_config *c);
/* The name it was parsed under. */
const char *oci_config_origin(const struct oci_config *c);
/* Refused when a key is given twice in it: runc reads the last, crun the
 * first, so what crdma reads may not be what the runtime uses. */
int oci_config_refuse_duplicate(const struct oci_config *c, struct crdma_error **err);

#endif
