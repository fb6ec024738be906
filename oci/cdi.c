/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CDI spec writer.  Each CDI device is what a container asking for that one
 * RDMA device would get from the plan, so the spec and the hook can never
 * disagree on what the policy allows. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cdi.h"
#include "cleanup.h"
#include "context.h"
#include "error.h"
#include "json.h"
#include "policy.h"

struct cdi_device {
        const char *name; /* owned by the device list */
        struct crdma_plan *plan;
};

struct cdi_devices {
        struct cdi_device *v;
        size_t n;
};

static void cdi_devices_clear(struct cdi_devices *d)
{
        for (size_t i = 0; i < d->n; i++)
                crdma_plan_free(d->v[i].plan);
        free(d->v);
        *d = (struct cdi_devices){ 0 };
}

static bool is_alnum(char c)
{
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool oci_cdi_name_valid(const char *name)
{
        size_t len = strlen(name);
        if (len == 0 || !is_alnum(name[0]) || !is_alnum(name[len - 1]))
                return false;
        for (size_t i = 1; i + 1 < len; i++)
                if (!is_alnum(name[i]) && !strchr("_.:-", name[i]))
                        return false;
        return true;
}

/* The plan for `io.crdma.devices=NAME`; *plan NULL when it is refused. */
static int plan_one(struct crdma_context *ctx, const char *name, bool rdma_cm,
                    const struct crdma_device_list *devices, const struct crdma_policy *policy,
                    struct crdma_plan **plan, struct crdma_error **err)
{
        const struct crdma_kv kv[] = {
                { "io.crdma.devices", name },
                /* Absent rdma_cm was warned about once already. */
                { "io.crdma.rdma-cm", rdma_cm ? "true" : "false" },
        };
        struct crdma_request *req = NULL;
        struct crdma_error *why = NULL;
        int r = crdma_request_from_annotations(kv, ELEMENTSOF(kv), &req, &why);
        if (r >= 0)
                r = crdma_plan_new(ctx, req, devices, policy, plan, &why);
        crdma_request_free(req);
        if (r >= 0)
                return 0;
        if (crdma_error_kind(why) != CRDMA_ERROR_REFUSED) {
                if (err)
                        *err = why;
                else
                        crdma_error_free(why);
                return r;
        }
        crdma_log(ctx, CRDMA_LOG_WARNING, "device %s: left out of the CDI spec: %s", name,
                  crdma_error_message(why));
        crdma_error_free(why);
        *plan = NULL;
        return 0;
}

static int select_devices(struct crdma_context *ctx, const struct crdma_device_list *devices,
                          const struct crdma_policy *policy, struct cdi_devices *out,
                          struct crdma_error **err)
{
        unsigned maj, min;
        bool rdma_cm = crdma_device_list_rdma_cm(devices, &maj, &min) == 0;

        for (size_t i = 0; i < crdma_device_list_count(devices); i++) {
                const char *name = crdma_device_name(crdma_device_list_get(devices, i));
                if (!crdma_policy_allows_device(policy, name)) {
                        crdma_log(ctx, CRDMA_LOG_DEBUG, "device %s: not allowed by %s: not in "
                                  "the CDI spec", name, policy->origin);
                        continue;
                }
                /* "all" means every device, in CDI and in io.crdma.devices. */
                const char *why = strcmp(name, OCI_CDI_ALL) == 0
                                          ? "crdma.io/hca=all names every device"
                                  : !oci_cdi_name_valid(name)
                                          ? "a CDI device name starts and ends with a letter "
                                            "or digit"
                                          : NULL;
                if (why) {
                        crdma_log(ctx, CRDMA_LOG_WARNING,
                                  "device %s: left out of the CDI spec: %s; rename the device "
                                  "(`rdma dev set %s name NEW`)", name, why, name);
                        continue;
                }
                struct crdma_plan *plan = NULL;
                int r = plan_one(ctx, name, rdma_cm, devices, policy, &plan, err);
                if (r < 0)
                        return r;
                if (!plan)
                        continue;
                struct cdi_device *grown = realloc(out->v, (out->n + 1) * sizeof(*grown));
                if (!grown) {
                        crdma_plan_free(plan);
                        return crdma_fail_oom(err);
                }
                out->v = grown;
                out->v[out->n++] = (struct cdi_device){ .name = name, .plan = plan };
        }
        if (out->n == 0)
                return crdma_refuse(err, ENODEV,
                                    "CDI spec: no RDMA device on this host is allowed by %s "
                                    "(%zu devices present; `crdma-hook devices` lists them, "
                                    "`crdma-hook --debug cdi` says why each is left out)",
                                    policy->origin, crdma_device_list_count(devices));
        if (!rdma_cm)
                crdma_log(ctx, CRDMA_LOG_WARNING,
                          "no rdma_cm on this host (rdma_ucm not loaded): the CDI devices get "
                          "verbs without the RDMA connection manager");
        return 0;
}

static void gen_node(yajl_gen g, const struct crdma_plan *plan, size_t i)
{
        const char *path, *access;
        char type;
        unsigned major, minor, mode;
        crdma_plan_node(plan, i, &path, &type, &major, &minor, &mode);
        crdma_plan_cgroup_rule(plan, i, NULL, NULL, NULL, &access);
        char type_s[2] = { type, '\0' };
        yajl_gen_map_open(g);
        crdma_json_kv_str(g, "path", path);
        crdma_json_kv_str(g, "type", type_s);
        crdma_json_kv_int(g, "major", major);
        crdma_json_kv_int(g, "minor", minor);
        /* The runtime makes the node itself: the plan's mode, not its own
         * default. */
        crdma_json_kv_int(g, "fileMode", mode);
        crdma_json_kv_str(g, "permissions", access);
        yajl_gen_map_close(g);
}

static bool node_listed(const struct cdi_devices *d, size_t upto_dev, size_t upto_node,
                        const char *path)
{
        for (size_t i = 0; i <= upto_dev && i < d->n; i++) {
                size_t n = i == upto_dev ? upto_node : crdma_plan_node_count(d->v[i].plan);
                for (size_t j = 0; j < n; j++) {
                        const char *p;
                        crdma_plan_node(d->v[i].plan, j, &p, NULL, NULL, NULL, NULL);
                        if (strcmp(p, path) == 0)
                                return true;
                }
        }
        return false;
}

static void gen_device(yajl_gen g, const char *name, const struct cdi_devices *d, size_t only)
{
        yajl_gen_map_open(g);
        crdma_json_kv_str(g, "name", name);
        crdma_json_key(g, "containerEdits");
        yajl_gen_map_open(g);
        crdma_json_key(g, "deviceNodes");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < d->n; i++) {
                if (only != SIZE_MAX && i != only)
                        continue;
                const struct crdma_plan *plan = d->v[i].plan;
                for (size_t j = 0; j < crdma_plan_node_count(plan); j++) {
                        const char *path;
                        crdma_plan_node(plan, j, &path, NULL, NULL, NULL, NULL);
                        /* "all": rdma_cm once. */
                        if (only == SIZE_MAX && node_listed(d, i, j, path))
                                continue;
                        gen_node(g, plan, j);
                }
        }
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
        yajl_gen_map_close(g);
}

int oci_cdi_spec(struct crdma_context *ctx, const struct crdma_device_list *devices,
                 const struct crdma_policy *policy, char **json, struct crdma_error **err)
{
        _cleanup_(cdi_devices_clear) struct cdi_devices d = { 0 };
        int r = select_devices(ctx, devices, policy, &d, err);
        if (r < 0)
                return r;

        /* CDI 0.5.0 first allowed a device name that starts with a digit. */
        const char *version = "0.3.0";
        for (size_t i = 0; i < d.n; i++)
                if (d.v[i].name[0] >= '0' && d.v[i].name[0] <= '9')
                        version = "0.5.0";

        _cleanup_json_ yajl_gen g = crdma_json_new(true);
        if (!g)
                return crdma_fail_oom(err);
        yajl_gen_map_open(g);
        crdma_json_kv_str(g, "cdiVersion", version);
        crdma_json_kv_str(g, "kind", OCI_CDI_KIND);
        crdma_json_key(g, "devices");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < d.n; i++)
                gen_device(g, d.v[i].name, &d, i);
        gen_device(g, OCI_CDI_ALL, &d, SIZE_MAX);
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
        return crdma_json_finish(g, json, err);
}

int crdma_cdi_spec(struct crdma_context *ctx, char **json, struct crdma_error **err)
{
        if (!ctx || !json)
                return crdma_fail(err, EINVAL, "crdma_cdi_spec: NULL argument");
        /* Every device the host has, each planned alone against one policy. */
        _cleanup_(crdma_policy_freep) struct crdma_policy *policy = NULL;
        _cleanup_(crdma_device_list_freep) struct crdma_device_list *devices = NULL;
        int r = crdma_policy_load(ctx, &policy, err);
        if (r >= 0)
                r = crdma_devices_scan(ctx, &devices, err);
        if (r >= 0)
                r = oci_cdi_spec(ctx, devices, policy, json, err);
        return r;
}
