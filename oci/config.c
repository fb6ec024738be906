/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The config editor: every part checks the faithful document's tree
 * (document.c) first, then every part changes it; the parts are
 * config-*.c, one concern each. */
#include <errno.h>
#include <stdlib.h>

#include "cleanup.h"
#include "config.h"
#include "config-edit.h"
#include "config-tree.h"
#include "error.h"
#include "json-member.h"
#include "plan.h"

int oci_config_set_annotations(struct oci_config *c, const struct crdma_kv *kv, size_t n,
                               struct crdma_error **err)
{
        const char *origin = oci_config_origin(c);
        yajl_val root = oci_config_root(c), ann;
        int r = n > 0 ? oci_config_refuse_duplicate(c, err) : 0;
        if (r >= 0)
                r = crdma_json_member(origin, root, "annotations", yajl_t_object, "annotations",
                                      &ann, err);
        if (r < 0 || n == 0)
                return r;
        if (!(ann = tree_ensure(root, "annotations", yajl_t_object)))
                return crdma_fail_oom(err);
        for (size_t i = 0; i < n; i++) {
                yajl_val v = tree_new_string(kv[i].value);
                r = tree_slot(ann, kv[i].key) ? tree_obj_replace(ann, kv[i].key, v)
                                              : tree_obj_append(ann, kv[i].key, v);
                if (r < 0)
                        return crdma_fail_oom(err);
        }
        return 0;
}

int oci_edit_need_process(struct oci_edit *e, const char *what, struct crdma_error **err)
{
        if (!e->process)
                return crdma_refuse(err, EINVAL, "%s: no \"process\" to set %s for", e->origin, what);
        return 0;
}

static bool rootless(const struct oci_edit *e)
{
        return e->opts->runtime == CRDMA_RUNTIME_ROOTLESS;
}

static int check(struct oci_edit *e, struct crdma_error **err)
{
        int r = crdma_json_member(e->origin, e->root, "linux", yajl_t_object, "linux", &e->linux_,
                                  err);
        if (r >= 0)
                r = crdma_json_member(e->origin, e->root, "process", yajl_t_object, "process",
                                      &e->process, err);
        /* Rootless: no nodes to make, no cgroup to write, no hook to run as
         * root; the limits come from whoever owns the cgroup (spank_crdma). */
        if (r >= 0 && rootless(e)) {
                r = oci_edit_check_mounts(e, err);
                if (r >= 0)
                        r = oci_edit_check_rlimits(e, err);
                if (r >= 0)
                        r = oci_edit_check_caps(e, err);
                if (r >= 0)
                        r = oci_edit_check_seccomp(e, err);
                return r;
        }
        if (r >= 0)
                r = oci_edit_check_devices(e, err);
        if (r >= 0)
                r = oci_edit_check_rlimits(e, err);
        if (r >= 0)
                r = oci_edit_check_rdma(e, err);
        if (r >= 0)
                r = oci_edit_check_caps(e, err);
        if (r >= 0)
                r = oci_edit_check_seccomp(e, err);
        if (r >= 0)
                r = oci_edit_check_hooks(e, err);
        return r;
}

int oci_config_apply_plan(struct oci_config *c, const struct crdma_plan *plan,
                          const struct oci_edit_options *opts, struct crdma_error **err)
{
        struct oci_edit e = { .origin = oci_config_origin(c), .root = oci_config_root(c),
                              .plan = plan, .opts = opts };
        size_t n = plan->n_nodes + plan->n_devices;
        _cleanup_free_ bool *flags = calloc(2 * n + 1, sizeof(bool));
        _cleanup_free_ const char **allow = calloc(plan->n_syscalls + 1, sizeof(*allow));
        if (!flags || !allow)
                return crdma_fail_oom(err);
        e.node_there = flags;
        e.rule_there = flags + plan->n_nodes;
        e.set_handles = flags + 2 * plan->n_nodes;
        e.set_objects = e.set_handles + plan->n_devices;
        e.allow = allow;

        int r = oci_config_refuse_duplicate(c, err);
        if (r >= 0)
                r = check(&e, err);
        if (r < 0)
                return r;
        if (rootless(&e)) {
                if (oci_edit_change_mounts(&e) < 0 || oci_edit_change_rlimits(&e) < 0 ||
                    oci_edit_change_caps(&e) < 0 || oci_edit_change_seccomp(&e) < 0)
                        return crdma_fail_oom(err);
                return 0;
        }
        if (oci_edit_change_devices(&e) < 0 || oci_edit_change_rlimits(&e) < 0 ||
            oci_edit_change_rdma(&e) < 0 || oci_edit_change_caps(&e) < 0 ||
            oci_edit_change_seccomp(&e) < 0 || oci_edit_change_hooks(&e) < 0)
                return crdma_fail_oom(err);
        return 0;
}
