/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "annotations.h"
#include "cleanup.h"
#include "error.h"
#include "request.h"

int oci_annotations_add(struct oci_annotations *a, const char *key, const char *value)
{
        struct crdma_kv *grown = realloc(a->kv, (a->n + 1) * sizeof(*grown));
        if (!grown)
                return -ENOMEM;
        a->kv = grown;
        a->kv[a->n++] = (struct crdma_kv){ key, value };
        return 0;
}

void oci_annotations_clear(struct oci_annotations *a)
{
        free(a->kv);
        a->kv = NULL;
        a->n = 0;
}

int oci_annotations_from_tree(yajl_val obj, struct oci_annotations *out, struct crdma_error **err)
{
        struct oci_annotations a = { 0 };
        if (!obj) {
                *out = a;
                return 0;
        }
        if (!YAJL_IS_OBJECT(obj))
                return crdma_refuse(err, EINVAL, "OCI \"annotations\": not a JSON object");
        size_t plen = strlen(CRDMA_ANNOTATION_PREFIX);
        for (size_t i = 0; i < YAJL_GET_OBJECT(obj)->len; i++) {
                const char *key = YAJL_GET_OBJECT(obj)->keys[i];
                yajl_val v = YAJL_GET_OBJECT(obj)->values[i];
                bool ours = strncmp(key, CRDMA_ANNOTATION_PREFIX, plen) == 0;
                if (!YAJL_IS_STRING(v)) {
                        if (!ours)
                                continue; /* not ours to judge */
                        oci_annotations_clear(&a);
                        return crdma_refuse(err, EINVAL, "annotation %.64s: value is not a string",
                                            key);
                }
                if (oci_annotations_add(&a, key, YAJL_GET_STRING(v)) < 0) {
                        oci_annotations_clear(&a);
                        return crdma_fail_oom(err);
                }
        }
        *out = a;
        return 0;
}

bool oci_annotations_ask_crdma(yajl_val doc)
{
        size_t plen = strlen(CRDMA_ANNOTATION_PREFIX);
        for (size_t i = 0; YAJL_IS_OBJECT(doc) && i < doc->u.object.len; i++) {
                yajl_val ann = doc->u.object.values[i];
                if (strcmp(doc->u.object.keys[i], "annotations") != 0 || !YAJL_IS_OBJECT(ann))
                        continue;
                for (size_t j = 0; j < ann->u.object.len; j++)
                        if (strncmp(ann->u.object.keys[j], CRDMA_ANNOTATION_PREFIX, plen) == 0)
                                return true;
        }
        return false;
}

bool oci_annotations_kubernetes_sandbox(const struct oci_annotations *a)
{
        for (size_t i = 0; i < a->n; i++)
                if ((strcmp(a->kv[i].key, "io.kubernetes.cri.container-type") == 0 ||
                     strcmp(a->kv[i].key, "io.kubernetes.cri-o.ContainerType") == 0) &&
                    a->kv[i].value && strcmp(a->kv[i].value, "sandbox") == 0)
                        return true;
        return false;
}

int oci_annotations_from_env(yajl_val env, struct oci_annotations *out, struct crdma_error **err)
{
        _cleanup_(oci_annotations_clear) struct oci_annotations a = { 0 };
        *out = a;
        if (!env)
                return 0;
        if (!YAJL_IS_ARRAY(env))
                return crdma_refuse(err, EINVAL, "OCI process.env: not a JSON array");
        size_t plen = strlen(CRDMA_ENV_PREFIX);
        for (size_t i = 0; i < YAJL_GET_ARRAY(env)->len; i++) {
                const char *var = YAJL_GET_STRING(YAJL_GET_ARRAY(env)->values[i]);
                if (!var || strncmp(var, CRDMA_ENV_PREFIX, plen) != 0)
                        continue;
                const char *eq = strchr(var, '=');
                size_t len = eq ? (size_t) (eq - var) : strlen(var);
                const char *key = crdma_request_key_for_env(var, len);
                if (!key)
                        return crdma_refuse(err, EINVAL,
                                            "environment variable %.*s: unknown; crdma knows "
                                            "CRDMA_DEVICES, CRDMA_NETNS, CRDMA_HCA_HANDLES, "
                                            "CRDMA_HCA_OBJECTS, CRDMA_MEMLOCK, CRDMA_RDMA_CM, "
                                            "CRDMA_UMAD and CRDMA_RAW (crdma-annotations(7))",
                                            (int) (len > 64 ? 64 : len), var);
                for (size_t j = 0; j < a.n; j++)
                        if (strcmp(a.kv[j].key, key) == 0)
                                return crdma_refuse(err, EINVAL,
                                                    "environment variable %.*s: given twice",
                                                    (int) len, var);
                if (oci_annotations_add(&a, key, eq ? eq + 1 : NULL) < 0)
                        return crdma_fail_oom(err);
        }
        *out = a;
        a = (struct oci_annotations){ 0 };
        return 0;
}
