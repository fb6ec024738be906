/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The front door: a request becomes a plan in one place, the same way for
 * every path (the hook's stages, the config editor, CDI, a runtime linking
 * the library). The request is parsed first, so a container that asks
 * nothing costs no policy read and no scan; the scan is the targeted one,
 * which finds each named device exactly as a full scan does. */
#include <errno.h>

#include "cleanup.h"
#include "devices.h"
#include "error.h"
#include "netlink.h"
#include "netns.h"
#include "plan.h"
#include "request.h"

int crdma_plan_make(struct crdma_context *ctx, const struct crdma_request *req,
                    struct crdma_plan **out, struct crdma_error **err)
{
        if (!req) {
                *out = NULL; /* nothing asked: no policy read, no scan */
                return 0;
        }
        _cleanup_(crdma_policy_freep) struct crdma_policy *policy = NULL;
        _cleanup_(crdma_device_list_freep) struct crdma_device_list *devices = NULL;
        int r = crdma_policy_load(ctx, &policy, err);
        if (r >= 0)
                r = req->netns == CRDMA_NETNS_EXCLUSIVE
                            ? crdma_devices_scan_exclusive(ctx, req, &devices, err)
                            : crdma_devices_scan_for(ctx, req, &devices, err);
        if (r >= 0)
                r = crdma_plan_new(ctx, req, devices, policy, out, err);
        return r;
}

int crdma_plan_for_request(struct crdma_context *ctx, const struct crdma_request *req,
                           struct crdma_plan **out, struct crdma_error **err)
{
        if (!ctx || !out)
                return crdma_fail(err, EINVAL, "crdma_plan_for_request: NULL argument");
        return crdma_plan_make(ctx, req, out, err);
}

int crdma_plan_from_request(struct crdma_context *ctx, const struct crdma_kv *request, size_t n,
                            struct crdma_plan **out, struct crdma_error **err)
{
        if (!ctx || (!request && n) || !out)
                return crdma_fail(err, EINVAL, "crdma_plan_from_request: NULL argument");
        _cleanup_(crdma_request_freep) struct crdma_request *req = NULL;
        int r = crdma_request_from_annotations(request, n, &req, err);
        if (r < 0)
                return r;
        return crdma_plan_make(ctx, req, out, err);
}

int crdma_container_inject(struct crdma_context *ctx, const struct crdma_container *container,
                           const struct crdma_kv *request, size_t n, struct crdma_error **err)
{
        if (!container)
                return crdma_fail(err, EINVAL, "crdma_container_inject: NULL container");
        _cleanup_(crdma_plan_freep) struct crdma_plan *plan = NULL;
        int r = crdma_plan_from_request(ctx, request, n, &plan, err);
        if (r < 0 || !plan)
                return r; /* an error, or nothing asked: nothing done */
        return crdma_plan_apply(ctx, plan, container, err);
}

int crdma_system_netns_mode(struct crdma_context *ctx, enum crdma_netns *mode,
                            struct crdma_error **err)
{
        if (!ctx || !mode)
                return crdma_fail(err, EINVAL, "crdma_system_netns_mode: NULL argument");
        return crdma_nl_netns_mode(ctx, mode, err);
}

int crdma_system_set_netns_mode(struct crdma_context *ctx, enum crdma_netns mode,
                                struct crdma_error **err)
{
        if (!ctx)
                return crdma_fail(err, EINVAL, "crdma_system_set_netns_mode: NULL context");
        if (mode != CRDMA_NETNS_SHARED && mode != CRDMA_NETNS_EXCLUSIVE)
                return crdma_fail(err, EINVAL, "crdma_system_set_netns_mode: unknown mode %d",
                                  (int) mode);
        return crdma_netns_set_mode(ctx, mode, err);
}
