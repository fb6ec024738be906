/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* OCI "annotations" objects (state or config JSON) -> crdma_kv lists. */
#ifndef CRDMA_OCI_ANNOTATIONS_H
#define CRDMA_OCI_ANNOTATIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_tree.h>

#include "crdma.h"

struct oci_annotations {
        struct crdma_kv *kv; /* points into the yajl tree it came from */
        size_t n;
};

/* `obj` is the value of an "annotations" key (NULL: none).  Keys and values
 * stay owned by the tree.  A non-object, or a non-string value under an
 * io.crdma. key, is refused. */
int oci_annotations_from_tree(yajl_val obj, struct oci_annotations *out,
                              struct crdma_error **err);
void oci_annotations_clear(struct oci_annotations *a);

/* Whether the document `doc` asks crdma anything: an io.crdma.* key in
 * its "annotations", in every copy of them where a key is given twice,
 * since the runtime may read another copy than crdma. */
bool oci_annotations_ask_crdma(yajl_val doc);

/* Whether the annotations mark a Kubernetes pod's sandbox (pause)
 * container: containerd's io.kubernetes.cri.container-type or CRI-O's
 * io.kubernetes.cri-o.ContainerType "sandbox".  Pod annotations reach it
 * too, but devices and limits are for the pod's application containers. */
bool oci_annotations_kubernetes_sandbox(const struct oci_annotations *a);

/* The container's CRDMA_* variables in `env` (an OCI process.env array,
 * NULL: none) as the io.crdma.* annotations they stand for, values owned by
 * the tree.  An unknown CRDMA_ variable or one given twice is refused: a
 * typo must not pass silently here either. */
int oci_annotations_from_env(yajl_val env, struct oci_annotations *out, struct crdma_error **err);

/* Add "KEY=VALUE" (a command-line --annotation); the strings must outlive `a`. */
int oci_annotations_add(struct oci_annotations *a, const char *key, const char *value);

#endif
