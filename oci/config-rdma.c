/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The plan's rdma.max limits in a config.  runc applies
 * linux.resources.rdma (and enables +rdma in the parents itself); crun
 * ignores it and applies linux.resources.unified["rdma.max"] only on cgroup
 * v2, only when the parent already has +rdma (it refuses to start the
 * container otherwise), and in one write, which the kernel's rdma.max takes
 * for one device only.  What a config cannot carry for the chosen runtime,
 * the createRuntime hook writes (libcrdma's inject path). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cgroup.h"
#include "config-edit.h"
#include "config-tree.h"
#include "context.h"
#include "error.h"
#include "json-member.h"

static bool limited(const struct crdma_plan *plan)
{
        for (size_t i = 0; i < plan->n_devices; i++)
                if (plan->devices[i].hca_handles != CRDMA_UNLIMITED ||
                    plan->devices[i].hca_objects != CRDMA_UNLIMITED)
                        return true;
        return false;
}

/* Field `key` of linux.resources.rdma[dev] gets the plan's `want` unless
 * there is already a value at most that (the stricter one stands). */
static int check_field(struct oci_edit *e, yajl_val entry, const char *dev, const char *key,
                       uint64_t want, bool *set, struct crdma_error **err)
{
        char where[128];
        snprintf(where, sizeof(where), "linux.resources.rdma.%s.%s", dev, key);
        uint64_t have = 0;
        bool present = false;
        int r = entry ? crdma_json_member_uint(e->origin, entry, key, UINT32_MAX, false, where,
                                               &present, &have, err)
                      : 0;
        if (r < 0)
                return r;
        *set = want != CRDMA_UNLIMITED && (!present || have > want);
        return 0;
}

static int check_runc(struct oci_edit *e, yajl_val res, struct crdma_error **err)
{
        yajl_val rdma = NULL;
        int r = res ? crdma_json_member(e->origin, res, "rdma", yajl_t_object,
                                        "linux.resources.rdma", &rdma, err)
                    : 0;
        for (size_t i = 0; r >= 0 && i < e->plan->n_devices; i++) {
                const struct crdma_plan_device *d = &e->plan->devices[i];
                char where[128];
                snprintf(where, sizeof(where), "linux.resources.rdma.%s", d->name);
                yajl_val entry = NULL;
                if (rdma)
                        r = crdma_json_member(e->origin, rdma, d->name, yajl_t_object, where,
                                              &entry, err);
                if (r >= 0)
                        r = check_field(e, entry, d->name, "hcaHandles", d->hca_handles,
                                        &e->set_handles[i], err);
                if (r >= 0)
                        r = check_field(e, entry, d->name, "hcaObjects", d->hca_objects,
                                        &e->set_objects[i], err);
                e->rdma_runc |= e->set_handles[i] || e->set_objects[i];
        }
        return r;
}

static int check_unified(struct oci_edit *e, yajl_val res, struct crdma_error **err)
{
        const char *line = e->plan->devices[0].rdma_max_line;
        yajl_val unified = NULL, have = NULL;
        int r = res ? crdma_json_member(e->origin, res, "unified", yajl_t_object,
                                        "linux.resources.unified", &unified, err)
                    : 0;
        if (r >= 0 && unified)
                r = crdma_json_member(e->origin, unified, "rdma.max", yajl_t_string,
                                      "linux.resources.unified[\"rdma.max\"]", &have, err);
        if (r < 0)
                return r;
        if (have && strcmp(have->u.string, line) != 0)
                return crdma_refuse(err, EEXIST,
                                    "%s: linux.resources.unified[\"rdma.max\"] is already \"%s\", "
                                    "not the \"%s\" the request asks for; remove it and put the "
                                    "limits in the io.crdma annotations",
                                    e->origin, have->u.string, line);
        e->rdma_unified = !have;
        return 0;
}

/* crun takes unified["rdma.max"] only when the parent of the container's
 * cgroup already has +rdma.  Only an absolute cgroupsPath (cgroupfs) names
 * that parent before create; anything else (systemd's slice:prefix:name, a
 * path relative to crun's own cgroup, none) leaves rdma.max to the hook. */
static bool parent_enables_rdma(const struct oci_edit *e)
{
        const char *path = e->linux_ ? YAJL_GET_STRING(crdma_json_get(e->linux_, "cgroupsPath",
                                                                      yajl_t_string))
                                     : NULL;
        if (!path || path[0] != '/' || strchr(path, ':'))
                return false;
        char parent[4096];
        size_t n = strlen(path);
        while (n > 1 && path[n - 1] == '/')
                n--;
        while (n > 0 && path[n - 1] != '/')
                n--;
        while (n > 1 && path[n - 1] == '/')
                n--;
        if (n == 0 || n >= sizeof(parent))
                return false;
        memcpy(parent, path, n);
        parent[n] = '\0';
        return crdma_cgroup_enables_rdma(e->opts->ctx, parent);
}

int oci_edit_check_rdma(struct oci_edit *e, struct crdma_error **err)
{
        const struct crdma_plan *plan = e->plan;
        if (!limited(plan))
                return 0;
        if (!e->opts->rdma_controller) {
                if (!plan->best_effort)
                        return crdma_refuse(err, EOPNOTSUPP,
                                            "%s: this kernel has no rdma cgroup controller "
                                            "(CONFIG_CGROUP_RDMA) to enforce the request's hca "
                                            "limits; run on a kernel that has it, or set the "
                                            "policy's \"limits\": {\"enforce\": \"best-effort\"}",
                                            e->origin);
                crdma_log(e->opts->ctx, CRDMA_LOG_WARNING,
                          "%s: no rdma cgroup controller on this kernel: the hca limits are not "
                          "enforced (policy: best-effort)", e->origin);
                return 0;
        }

        yajl_val res = NULL;
        int r = e->linux_ ? crdma_json_member(e->origin, e->linux_, "resources", yajl_t_object,
                                              "linux.resources", &res, err)
                          : 0;
        if (r < 0)
                return r;
        switch (e->opts->runtime) {
        case CRDMA_RUNTIME_RUNC:
                return check_runc(e, res, err);
        case CRDMA_RUNTIME_CRUN:
                if (!e->opts->cgroup2)
                        e->hook_for = "crun applies no rdma limit on cgroup v1";
                else if (plan->n_devices > 1)
                        e->hook_for = "rdma.max takes one device per write, and crun writes "
                                      "linux.resources.unified in one";
                else if (!parent_enables_rdma(e))
                        e->hook_for = "crun refuses linux.resources.unified[\"rdma.max\"] "
                                      "unless the container's parent cgroup has +rdma, and "
                                      "does not enable it";
                else
                        return check_unified(e, res, err);
                return 0;
        case CRDMA_RUNTIME_AUTO:
        default:
                e->hook_for = "crun ignores linux.resources.rdma";
                return check_runc(e, res, err);
        }
}

static int change_runc(struct oci_edit *e)
{
        yajl_val lnx = tree_ensure(e->root, "linux", yajl_t_object);
        yajl_val res = lnx ? tree_ensure(lnx, "resources", yajl_t_object) : NULL;
        yajl_val rdma = res ? tree_ensure(res, "rdma", yajl_t_object) : NULL;
        if (!rdma)
                return -ENOMEM;
        for (size_t i = 0; i < e->plan->n_devices; i++) {
                const struct crdma_plan_device *d = &e->plan->devices[i];
                if (!e->set_handles[i] && !e->set_objects[i])
                        continue;
                yajl_val entry = tree_ensure(rdma, d->name, yajl_t_object);
                if (!entry)
                        return -ENOMEM;
                const struct {
                        bool set;
                        const char *key;
                        uint64_t value;
                } fields[] = {
                        { e->set_handles[i], "hcaHandles", d->hca_handles },
                        { e->set_objects[i], "hcaObjects", d->hca_objects },
                };
                for (size_t f = 0; f < 2; f++) {
                        if (!fields[f].set)
                                continue;
                        yajl_val v = tree_new_u64(fields[f].value);
                        int r = tree_slot(entry, fields[f].key)
                                        ? tree_obj_replace(entry, fields[f].key, v)
                                        : tree_obj_append(entry, fields[f].key, v);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int oci_edit_change_rdma(struct oci_edit *e)
{
        if (e->rdma_runc && change_runc(e) < 0)
                return -ENOMEM;
        if (!e->rdma_unified)
                return 0;
        yajl_val lnx = tree_ensure(e->root, "linux", yajl_t_object);
        yajl_val res = lnx ? tree_ensure(lnx, "resources", yajl_t_object) : NULL;
        yajl_val unified = res ? tree_ensure(res, "unified", yajl_t_object) : NULL;
        if (!unified)
                return -ENOMEM;
        return tree_obj_append(unified, "rdma.max",
                               tree_new_string(e->plan->devices[0].rdma_max_line));
}
