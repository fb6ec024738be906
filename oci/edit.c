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

static void annotations_freep(struct oci_annotations *a)
{
        oci_annotations_clear(a);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct crdma_request *, crdma_request_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct crdma_policy *, crdma_policy_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct crdma_device_list *, crdma_device_list_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct crdma_plan *, crdma_plan_free)

static int edit_parsed(struct crdma_context *ctx, const struct crdma_plan *plan,
                       struct oci_config *c, const char *config, size_t len,
                       enum crdma_runtime runtime,
                       const char *hook_path, char **out, struct crdma_error **err)
{
        if (runtime != CRDMA_RUNTIME_AUTO && runtime != CRDMA_RUNTIME_RUNC &&
            runtime != CRDMA_RUNTIME_CRUN)
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

int crdma_config_edit(struct crdma_context *ctx, const char *config, size_t len,
                      enum crdma_runtime runtime, const char *hook_path, char **out,
                      struct crdma_error **err)
{
        if (!ctx || !config || !out)
                return crdma_fail(err, EINVAL, "crdma_config_edit: NULL argument");
        _cleanup_config_ struct oci_config *c = NULL;
        int r = oci_config_parse(config, len, "config.json", &c, err);
        if (r < 0)
                return r;

        _cleanup_(annotations_freep) struct oci_annotations ann = { 0 };
        _cleanup_(crdma_request_freep) struct crdma_request *req = NULL;
        _cleanup_(crdma_policy_freep) struct crdma_policy *policy = NULL;
        _cleanup_(crdma_device_list_freep) struct crdma_device_list *devices = NULL;
        _cleanup_(crdma_plan_freep) struct crdma_plan *plan = NULL;
        const char *path[] = { "annotations", NULL };
        r = oci_annotations_from_tree(yajl_tree_get(oci_config_root(c), path, yajl_t_any), &ann,
                                      err);
        if (r >= 0)
                r = crdma_request_from_annotations(ann.kv, ann.n, &req, err);
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
        r = crdma_policy_load(ctx, &policy, err);
        if (r >= 0)
                r = crdma_devices_scan_for(ctx, req, &devices, err);
        if (r >= 0)
                r = crdma_plan_new(ctx, req, devices, policy, &plan, err);
        if (r < 0)
                return r;
        return edit_parsed(ctx, plan, c, config, len, runtime, hook_path, out, err);
}
