/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The config-edit path as library calls: crdma_plan_edit_config() and
 * crdma_config_edit() (crdma.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "annotations.h"
#include "cgroup.h"
#include "cleanup.h"
#include "config.h"
#include "context.h"
#include "error.h"
#include "json-member.h"
#include "log.h"
#include "plan.h"
#include "request.h"

static void annotations_freep(struct oci_annotations *a)
{
        oci_annotations_clear(a);
}

static int edit_parsed(struct crdma_context *ctx, const struct crdma_plan *plan,
                       struct oci_config *c, const char *config, size_t len,
                       enum crdma_runtime runtime,
                       const char *hook_path, char **out, struct crdma_error **err)
{
        if (runtime != CRDMA_RUNTIME_AUTO && runtime != CRDMA_RUNTIME_RUNC &&
            runtime != CRDMA_RUNTIME_CRUN && runtime != CRDMA_RUNTIME_ROOTLESS)
                return crdma_fail(err, EINVAL, "crdma_plan_edit_config: unknown runtime %d",
                                  (int) runtime);
        struct crdma_cgroup_host host;
        int r = crdma_cgroup_host(ctx, &host, err);
        if (r < 0)
                return r;
        struct oci_edit_options opts = {
                .runtime = runtime,
                .cgroup2 = host.v2,
                .rdma_controller = host.rdma,
                .hook_path = hook_path,
                .policy_path = ctx->policy_path_given ? ctx->policy_path : NULL,
                .ctx = ctx,
        };
        r = oci_config_apply_plan(c, plan, &opts, err);
        if (r >= 0)
                r = oci_config_write_like(c, config, len, out, err);
        return r;
}

int crdma_plan_edit_config(struct crdma_context *ctx, const struct crdma_plan *plan,
                           const char *config, size_t len, enum crdma_runtime runtime,
                           const char *hook_path, char **out, struct crdma_error **err)
{
        if (!ctx || !plan || !config || !out)
                return crdma_fail(err, EINVAL, "crdma_plan_edit_config: NULL argument");
        _cleanup_config_ struct oci_config *c = NULL;
        int r = oci_config_parse(config, len, "config.json", &c, err);
        if (r < 0)
                return r;
        return edit_parsed(ctx, plan, c, config, len, runtime, hook_path, out, err);
}

int crdma_plan_apply_config(struct crdma_context *ctx, const struct crdma_plan *plan,
                            const char *config, size_t len, enum crdma_runtime runtime,
                            const char *hook_path, char **out, struct crdma_error **err)
{
        return crdma_plan_edit_config(ctx, plan, config, len, runtime, hook_path, out, err);
}

/* The request in a parsed config: its io.crdma.* annotations, or, where
 * `sources` takes it and no annotation asks, its CRDMA_* variables, which
 * then go into the config as the annotations they stand for (*env_kv), so
 * the createRuntime and poststop entries see the same request.  *req NULL
 * when nothing is asked, and always for a Kubernetes sandbox container.  One
 * that asks is refused with a key given twice (document.h). */
static int request_of(struct crdma_context *ctx, const struct oci_config *c, unsigned sources,
                      struct oci_annotations *env_kv, struct crdma_request **req,
                      struct crdma_error **err)
{
        _cleanup_(annotations_freep) struct oci_annotations ann = { 0 };
        yajl_val root = oci_config_root(c);
        *req = NULL;
        int r = oci_annotations_ask_crdma(root) ? oci_config_refuse_duplicate(c, err) : 0;
        if (r >= 0)
                r = oci_annotations_from_tree(crdma_json_get(root, "annotations", yajl_t_any),
                                              &ann, err);
        if (r < 0)
                return r;
        if (oci_annotations_kubernetes_sandbox(&ann)) {
                crdma_log(ctx, CRDMA_LOG_DEBUG, "a Kubernetes sandbox container: nothing to do "
                          "(devices and limits go to the pod's containers)");
                return 0;
        }
        r = crdma_request_from_annotations(ann.kv, ann.n, req, err);
        if (r < 0 || *req || !(sources & CRDMA_SOURCE_ENVIRONMENT))
                return r;
        yajl_val process = crdma_json_get(root, "process", yajl_t_object);
        r = oci_annotations_from_env(process ? crdma_json_get(process, "env", yajl_t_any) : NULL,
                                     env_kv, err);
        if (r < 0)
                return r; /* names the variable */
        r = crdma_request_from_annotations(env_kv->kv, env_kv->n, req, err);
        if (r < 0) {
                crdma_error_prefix(err, "the container's CRDMA_* environment variables (as "
                                        "io.crdma.* annotations)");
                return r;
        }
        if (*req)
                (*req)->from_environment = true;
        return 0;
}

int crdma_config_plan(struct crdma_context *ctx, const char *config, size_t len,
                      struct crdma_plan **out, struct crdma_error **err)
{
        if (!ctx || !config || !out)
                return crdma_fail(err, EINVAL, "crdma_config_plan: NULL argument");
        _cleanup_config_ struct oci_config *c = NULL;
        _cleanup_(crdma_request_freep) struct crdma_request *req = NULL;
        _cleanup_(annotations_freep) struct oci_annotations env_kv = { 0 };
        int r = oci_config_parse(config, len, "config.json", &c, err);
        if (r >= 0)
                r = request_of(ctx, c, CRDMA_SOURCE_ANNOTATIONS, &env_kv, &req, err);
        if (r < 0)
                return r;
        return crdma_plan_make(ctx, req, out, err);
}

int crdma_config_edit_from(struct crdma_context *ctx, const char *config, size_t len,
                           unsigned sources, enum crdma_runtime runtime, const char *hook_path,
                           char **out, struct crdma_error **err)
{
        if (!ctx || !config || !out)
                return crdma_fail(err, EINVAL, "crdma_config_edit: NULL argument");
        /* Annotations are always a source: a config's own request is never
         * ignored. */
        if (!(sources & CRDMA_SOURCE_ANNOTATIONS) ||
            (sources & ~(unsigned) (CRDMA_SOURCE_ANNOTATIONS | CRDMA_SOURCE_ENVIRONMENT)))
                return crdma_fail(err, EINVAL, "crdma_config_edit_from: sources 0x%x: must "
                                  "include CRDMA_SOURCE_ANNOTATIONS, and nothing unknown",
                                  sources);
        _cleanup_config_ struct oci_config *c = NULL;
        _cleanup_(crdma_request_freep) struct crdma_request *req = NULL;
        _cleanup_(crdma_plan_freep) struct crdma_plan *plan = NULL;
        _cleanup_(annotations_freep) struct oci_annotations env_kv = { 0 };
        int r = oci_config_parse(config, len, "config.json", &c, err);
        if (r >= 0)
                r = request_of(ctx, c, sources, &env_kv, &req, err);
        if (r < 0)
                return r;
        if (!req) {
                /* Nothing asked: the config as it came. */
                char *copy = malloc(len + 1);
                if (!copy)
                        return crdma_fail_oom(err);
                memcpy(copy, config, len);
                copy[len] = '\0';
                *out = copy;
                return 0;
        }
        r = crdma_plan_make(ctx, req, &plan, err);
        if (r >= 0 && env_kv.n)
                r = oci_config_set_annotations(c, env_kv.kv, env_kv.n, err);
        if (r < 0)
                return r;
        return edit_parsed(ctx, plan, c, config, len, runtime, hook_path, out, err);
}

int crdma_config_edit(struct crdma_context *ctx, const char *config, size_t len,
                      enum crdma_runtime runtime, const char *hook_path, char **out,
                      struct crdma_error **err)
{
        return crdma_config_edit_from(ctx, config, len, CRDMA_SOURCE_ANNOTATIONS, runtime,
                                      hook_path, out, err);
}

int crdma_config_set_annotations(const char *config, size_t len, const struct crdma_kv *kv,
                                 size_t n, char **out, struct crdma_error **err)
{
        if (!config || (!kv && n) || !out)
                return crdma_fail(err, EINVAL, "crdma_config_set_annotations: NULL argument");
        _cleanup_config_ struct oci_config *c = NULL;
        int r = oci_config_parse(config, len, "config.json", &c, err);
        if (r >= 0)
                r = oci_config_set_annotations(c, kv, n, err);
        if (r >= 0)
                r = oci_config_write_like(c, config, len, out, err);
        return r;
}
