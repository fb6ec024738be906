/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The status as JSON: what `crdma-hook status --json` prints, for
 * monitoring (schema: libcrdma(3), tests/data/status.schema.json). */
#include <errno.h>

#include "error.h"
#include "json.h"
#include "status.h"

/* {"used": N, "limit": N | "max"}: "max" is the kernel's word in rdma.max. */
static void gen_usage(yajl_gen g, const char *key, const struct crdma_rdma_usage *u)
{
        crdma_json_key(g, key);
        yajl_gen_map_open(g);
        crdma_json_kv_limit(g, "used", u->used, "max");
        crdma_json_kv_limit(g, "limit", u->limit, "max");
        yajl_gen_map_close(g);
}

static void gen_row(yajl_gen g, const struct crdma_status_row *row)
{
        yajl_gen_map_open(g);
        crdma_json_kv_str(g, "cgroup", row->cgroup);
        crdma_json_kv_str(g, "container", row->container);
        crdma_json_kv_str(g, "engine", row->engine);
        crdma_json_kv_str(g, "device", row->device);
        gen_usage(g, "hcaHandles", &row->hca_handles);
        gen_usage(g, "hcaObjects", &row->hca_objects);
        crdma_json_kv_bool(g, "deviceInHostNetns", row->device_in_host_netns);
        crdma_json_kv_str(g, "netns", row->netns);
        yajl_gen_map_close(g);
}

int crdma_status_to_json(const struct crdma_status *status, bool pretty, char **json,
                         struct crdma_error **err)
{
        if (!status || !json)
                return crdma_fail(err, EINVAL, "crdma_status_to_json: NULL argument");
        _cleanup_json_ yajl_gen g = crdma_json_new(pretty);
        if (!g)
                return crdma_fail_oom(err);
        yajl_gen_map_open(g);
        crdma_json_kv_str(g, "netnsMode",
                          !status->netns_known                          ? NULL
                          : status->netns_mode == CRDMA_NETNS_EXCLUSIVE ? "exclusive"
                                                                        : "shared");
        crdma_json_kv_str(g, "hostNetns", status->host_netns);
        crdma_json_key(g, "rdmaLimits");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < status->n; i++)
                gen_row(g, &status->rows[i]);
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
        return crdma_json_finish(g, json, err);
}
