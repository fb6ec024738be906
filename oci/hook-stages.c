/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The OCI hook stages as library calls, for anything that holds a runtime's
 * state JSON (crdma-hook, a runtime linking the library): crdma_state_inject()
 * (createRuntime, prestart) and crdma_state_release() (poststop).  This file
 * is where OCI's description of a container becomes a crdma_container. */
#include <errno.h>

#include "cleanup.h"
#include "error.h"
#include "log.h"
#include "plan.h"
#include "seccomp-profile.h"
#include "state.h"

static void oci_container_clearp(struct oci_container *c)
{
        oci_container_clear(c);
}

/* Of the plan's syscalls, those the profile lets through or leaves to rules
 * on their arguments (what the editor would not add a rule for). */
static int seccomp_allowed(const struct oci_container *oc, const struct crdma_plan *plan,
                           struct crdma_container *c, struct crdma_error **err)
{
        size_t n = crdma_plan_syscall_count(plan), k = 0;
        const char *names[n ? n : 1];
        for (size_t i = 0; i < n; i++) {
                const char *name;
                long long arg0;
                enum oci_seccomp_verdict v;
                crdma_plan_syscall(plan, i, &name, &arg0);
                int r = oci_seccomp_verdict(oc->config_path, oc->seccomp, name, arg0, &v, NULL,
                                            NULL, err);
                if (r < 0)
                        return r;
                if (v == OCI_SECCOMP_ALLOWED || v == OCI_SECCOMP_CONDITIONAL)
                        names[k++] = name;
        }
        return crdma_container_set_seccomp_allowed(c, names, k, err);
}

/* The container as its config describes it: what crdma_plan_apply() checks
 * the pid against, and what the process will have. */
static int describe(const struct oci_container *oc, const struct crdma_plan *plan,
                    struct crdma_container **out, struct crdma_error **err)
{
        _cleanup_(crdma_container_freep) struct crdma_container *c = NULL;
        int r = crdma_container_new(oc->pid, oc->rootfs, &c, err);
        if (r >= 0 && oc->caps_known)
                r = crdma_container_set_capabilities(c, oc->caps, oc->n_caps, err);
        if (r >= 0 && oc->seccomp_denies_by_default)
                r = seccomp_allowed(oc, plan, c, err);
        if (r >= 0 && oc->memlock_set)
                crdma_container_set_memlock(c, oc->memlock_soft, oc->memlock_hard);
        for (size_t i = 0; r >= 0 && i < oc->n_namespaces; i++)
                r = crdma_container_set_namespace(c, oc->namespaces[i].type,
                                                  oc->namespaces[i].path, err);
        if (r >= 0)
                r = crdma_container_set_cgroups_path(c, oc->cgroups_path, err);
        if (r < 0)
                return r;
        *out = TAKE_PTR(c);
        return 0;
}

/* The state (and its bundle's config) loaded, and the request in their
 * io.crdma.* annotations: *req NULL when nothing is asked.  A bad request's
 * error carries the container's id. */
static int load(const char *state, size_t len, bool need_pid, struct oci_container *oc,
                struct crdma_request **req, struct crdma_error **err)
{
        if (!state)
                return crdma_fail(err, EINVAL, "OCI state: NULL argument");
        int r = oci_container_load(state, len, need_pid, oc, err);
        if (r < 0)
                return r;
        /* A Kubernetes pod's sandbox gets the pod's annotations too; the
         * devices and limits are for the pod's containers. */
        if (oci_annotations_kubernetes_sandbox(&oc->annotations)) {
                *req = NULL;
                return 0;
        }
        r = crdma_request_from_annotations(oc->annotations.kv, oc->annotations.n, req, err);
        if (r < 0)
                crdma_error_prefix(err, "container %.64s", oc->id);
        return r;
}

int crdma_state_inject(struct crdma_context *ctx, const char *state, size_t len,
                       struct crdma_error **err)
{
        if (!ctx)
                return crdma_fail(err, EINVAL, "crdma_state_inject: NULL context");
        _cleanup_(oci_container_clearp) struct oci_container oc = { 0 };
        _cleanup_(crdma_request_freep) struct crdma_request *req = NULL;
        _cleanup_(crdma_plan_freep) struct crdma_plan *plan = NULL;
        _cleanup_(crdma_container_freep) struct crdma_container *container = NULL;
        int r = load(state, len, true, &oc, &req, err);
        if (r < 0 || !req)
                return r; /* no io.crdma.* annotation: not ours, nothing done */
        r = oci_container_details(&oc, err);
        if (r >= 0)
                r = crdma_plan_make(ctx, req, &plan, err);
        if (r >= 0)
                r = describe(&oc, plan, &container, err);
        if (r >= 0)
                r = crdma_plan_apply(ctx, plan, container, err);
        if (r < 0)
                crdma_error_prefix(err, "container %.64s", oc.id);
        return r;
}

/* After the container is gone the kernel frees its nodes (they live in its
 * rootfs), its cgroup and its rlimits, and returns moved devices to init_net
 * when the network namespace dies.  What it does not do: return devices from
 * a network namespace that outlives the container because a bind mount keeps
 * it (a pod's namespace under /run/netns).  A container that is gone is never
 * failed for that: the problem is logged as a warning. */
int crdma_state_release(struct crdma_context *ctx, const char *state, size_t len,
                        struct crdma_error **err)
{
        if (!ctx)
                return crdma_fail(err, EINVAL, "crdma_state_release: NULL context");
        _cleanup_(oci_container_clearp) struct oci_container oc = { 0 };
        _cleanup_(crdma_request_freep) struct crdma_request *req = NULL;
        int r = load(state, len, false, &oc, &req, err);
        if (r < 0 || !req)
                return r;
        _cleanup_(crdma_error_freep) struct crdma_error *why = NULL;
        if (oci_container_details(&oc, &why) < 0 ||
            crdma_release(ctx, req, oc.netns_path, &why) < 0)
                crdma_log(ctx, CRDMA_LOG_WARNING, "container %.64s: %s", oc.id,
                          crdma_error_message(why));
        return 0;
}
