/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The plan as JSON: what `crdma-hook plan` prints, so a user sees exactly
 * what would be done. */
#include <stdio.h>

#include "error.h"
#include "json.h"
#include "plan.h"

static void gen_devices(yajl_gen g, const struct crdma_plan *plan)
{
        crdma_json_key(g, "devices");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < plan->n_devices; i++) {
                const struct crdma_plan_device *d = &plan->devices[i];
                yajl_gen_map_open(g);
                crdma_json_kv_str(g, "name", d->name);
                crdma_json_key(g, "index");
                if (d->index >= 0)
                        yajl_gen_integer(g, d->index);
                else
                        yajl_gen_null(g);
                crdma_json_kv_limit(g, "hcaHandles", d->hca_handles, "max");
                crdma_json_kv_limit(g, "hcaObjects", d->hca_objects, "max");
                yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
}

static void gen_nodes(yajl_gen g, const struct crdma_plan *plan)
{
        crdma_json_key(g, "deviceNodes");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < plan->n_nodes; i++) {
                const struct crdma_plan_node *n = &plan->nodes[i];
                char type[2] = { n->type, '\0' }, mode[8];
                snprintf(mode, sizeof(mode), "0%o", n->mode);
                yajl_gen_map_open(g);
                crdma_json_kv_str(g, "path", n->path);
                crdma_json_kv_str(g, "type", type);
                crdma_json_kv_int(g, "major", n->major);
                crdma_json_kv_int(g, "minor", n->minor);
                crdma_json_kv_str(g, "mode", mode);
                yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);

        crdma_json_key(g, "deviceCgroupRules");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < plan->n_nodes; i++) {
                const struct crdma_plan_node *n = &plan->nodes[i];
                char type[2] = { n->type, '\0' };
                yajl_gen_map_open(g);
                crdma_json_kv_bool(g, "allow", true);
                crdma_json_kv_str(g, "type", type);
                crdma_json_kv_int(g, "major", n->major);
                crdma_json_kv_int(g, "minor", n->minor);
                crdma_json_kv_str(g, "access", "rw");
                yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
}

static void gen_limits(yajl_gen g, const struct crdma_plan *plan)
{
        crdma_json_key(g, "rdmaMax");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < plan->n_devices; i++)
                crdma_json_str(g, plan->devices[i].rdma_max_line);
        yajl_gen_array_close(g);
        crdma_json_kv_str(g, "rdmaLimits", plan->best_effort ? "best-effort" : "strict");

        crdma_json_key(g, "rlimits");
        yajl_gen_array_open(g);
        yajl_gen_map_open(g);
        crdma_json_kv_str(g, "type", "RLIMIT_MEMLOCK");
        crdma_json_kv_limit(g, "soft", plan->memlock, "unlimited");
        crdma_json_kv_limit(g, "hard", plan->memlock, "unlimited");
        yajl_gen_map_close(g);
        yajl_gen_array_close(g);
}

static void gen_security(yajl_gen g, const struct crdma_plan *plan)
{
        crdma_json_key(g, "capabilities");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < plan->caps.n; i++)
                crdma_json_str(g, plan->caps.v[i]);
        yajl_gen_array_close(g);

        crdma_json_key(g, "seccompAllow");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < plan->n_syscalls; i++) {
                const struct crdma_plan_syscall *s = &plan->syscalls[i];
                yajl_gen_map_open(g);
                crdma_json_kv_str(g, "name", s->name);
                if (s->arg0 >= 0)
                        crdma_json_kv_int(g, "arg0", s->arg0);
                yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
}

static void gen_netns(yajl_gen g, const struct crdma_plan *plan)
{
        crdma_json_key(g, "netns");
        yajl_gen_map_open(g);
        bool excl = plan->netns == CRDMA_NETNS_EXCLUSIVE;
        crdma_json_kv_str(g, "mode", excl ? "exclusive" : "shared");
        if (excl) {
                crdma_json_kv_str(g, "systemMode", plan->netns_switch ? "switch-to-exclusive"
                                                                      : "require-exclusive");
                crdma_json_key(g, "move");
                yajl_gen_array_open(g);
                for (size_t i = 0; i < plan->n_devices; i++)
                        crdma_json_str(g, plan->devices[i].name);
                yajl_gen_array_close(g);
        }
        yajl_gen_map_close(g);
}

int crdma_plan_to_json(const struct crdma_plan *plan, bool pretty, char **json,
                       struct crdma_error **err)
{
        _cleanup_json_ yajl_gen g = crdma_json_new(pretty);
        if (!g)
                return crdma_fail_oom(err);
        yajl_gen_map_open(g);
        gen_devices(g, plan);
        gen_nodes(g, plan);
        gen_limits(g, plan);
        gen_security(g, plan);
        gen_netns(g, plan);
        yajl_gen_map_close(g);
        return crdma_json_finish(g, json, err);
}
