/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The plan's device nodes in linux.devices (what the runtime creates in the
 * container's /dev) and in linux.resources.devices (what its device cgroup
 * allows): an entry or rule already there for the same device is kept. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "config-edit.h"
#include "config-tree.h"
#include "error.h"
#include "json-member.h"
#include "json-read.h"

/* linux.devices[i], against every plan node at its path. */
static int check_entry(struct oci_edit *e, yajl_val d, size_t i, struct crdma_error **err)
{
        yajl_val path, type;
        char where[64];
        snprintf(where, sizeof(where), "linux.devices[%zu]", i);
        if (!YAJL_IS_OBJECT(d))
                return crdma_refuse(err, EINVAL, "%s: \"%s\" is not a JSON object", e->origin,
                                    where);
        snprintf(where, sizeof(where), "linux.devices[%zu].path", i);
        int r = crdma_json_member(e->origin, d, "path", yajl_t_string, where, &path, err);
        for (size_t j = 0; r >= 0 && path && j < e->plan->n_nodes; j++) {
                const struct crdma_plan_node *n = &e->plan->nodes[j];
                if (strcmp(path->u.string, n->path) != 0)
                        continue;
                uint64_t major = 0, minor = 0;
                bool has_major, has_minor;
                snprintf(where, sizeof(where), "linux.devices[%zu].type", i);
                r = crdma_json_member(e->origin, d, "type", yajl_t_string, where, &type, err);
                snprintf(where, sizeof(where), "linux.devices[%zu].major", i);
                if (r >= 0)
                        r = crdma_json_member_uint(e->origin, d, "major", UINT32_MAX, false, where,
                                                   &has_major, &major, err);
                snprintf(where, sizeof(where), "linux.devices[%zu].minor", i);
                if (r >= 0)
                        r = crdma_json_member_uint(e->origin, d, "minor", UINT32_MAX, false, where,
                                                   &has_minor, &minor, err);
                if (r < 0)
                        return r;
                bool same = type && type->u.string[0] == n->type && !type->u.string[1] &&
                            has_major && has_minor && major == n->major && minor == n->minor;
                if (!same)
                        return crdma_refuse(err, EEXIST,
                                            "%s: linux.devices already has %s as type %s %s:%s, "
                                            "not the RDMA device %c %u:%u crdma adds there; "
                                            "remove that entry",
                                            e->origin, n->path, type ? type->u.string : "(none)",
                                            has_major ? (*tree_slot(d, "major"))->u.number.r : "?",
                                            has_minor ? (*tree_slot(d, "minor"))->u.number.r : "?",
                                            n->type, n->major, n->minor);
                e->node_there[j] = true;
        }
        return r;
}

static int check_entries(struct oci_edit *e, struct crdma_error **err)
{
        yajl_val devs = NULL;
        int r = e->linux_ ? crdma_json_member(e->origin, e->linux_, "devices", yajl_t_array,
                                              "linux.devices", &devs, err) : 0;
        for (size_t i = 0; r >= 0 && devs && i < devs->u.array.len; i++)
                r = check_entry(e, devs->u.array.values[i], i, err);
        return r;
}

/* linux.resources.devices[i]: does it allow (or deny) a plan node?  Rules
 * apply in order, the last match winning. */
static int check_rule(struct oci_edit *e, yajl_val rule, size_t i, struct crdma_error **err)
{
        yajl_val allow, type, access;
        uint64_t major = 0, minor = 0;
        bool has_major, has_minor;
        char where[64];
        snprintf(where, sizeof(where), "linux.resources.devices[%zu]", i);
        if (!YAJL_IS_OBJECT(rule))
                return crdma_refuse(err, EINVAL, "%s: \"%s\" is not a JSON object", e->origin,
                                    where);
        snprintf(where, sizeof(where), "linux.resources.devices[%zu].allow", i);
        int r = crdma_json_member(e->origin, rule, "allow", yajl_t_true, where, &allow, err);
        snprintf(where, sizeof(where), "linux.resources.devices[%zu].type", i);
        if (r >= 0)
                r = crdma_json_member(e->origin, rule, "type", yajl_t_string, where, &type, err);
        snprintf(where, sizeof(where), "linux.resources.devices[%zu].major", i);
        if (r >= 0)
                r = crdma_json_member_uint(e->origin, rule, "major", UINT32_MAX, true, where,
                                           &has_major, &major, err);
        snprintf(where, sizeof(where), "linux.resources.devices[%zu].minor", i);
        if (r >= 0)
                r = crdma_json_member_uint(e->origin, rule, "minor", UINT32_MAX, true, where,
                                           &has_minor, &minor, err);
        snprintf(where, sizeof(where), "linux.resources.devices[%zu].access", i);
        if (r >= 0)
                r = crdma_json_member(e->origin, rule, "access", yajl_t_string, where, &access,
                                      err);
        if (r < 0)
                return r;
        const char *t = type ? type->u.string : "a", *a = access ? access->u.string : "rwm";
        bool allows = YAJL_IS_TRUE(allow);
        bool rw = strchr(a, 'r') && strchr(a, 'w'), r_or_w = strchr(a, 'r') || strchr(a, 'w');
        for (size_t j = 0; j < e->plan->n_nodes; j++) {
                const struct crdma_plan_node *n = &e->plan->nodes[j];
                bool matches = (strcmp(t, "a") == 0 || (t[0] == n->type && !t[1])) &&
                               (!has_major || major == n->major) &&
                               (!has_minor || minor == n->minor);
                if (matches && allows && rw)
                        e->rule_there[j] = true;
                else if (matches && !allows && r_or_w)
                        e->rule_there[j] = false;
        }
        return 0;
}

static int check_rules(struct oci_edit *e, struct crdma_error **err)
{
        yajl_val res = NULL, rules = NULL;
        int r = e->linux_ ? crdma_json_member(e->origin, e->linux_, "resources", yajl_t_object,
                                              "linux.resources", &res, err) : 0;
        if (r >= 0 && res)
                r = crdma_json_member(e->origin, res, "devices", yajl_t_array,
                                      "linux.resources.devices", &rules, err);
        for (size_t i = 0; r >= 0 && rules && i < rules->u.array.len; i++)
                r = check_rule(e, rules->u.array.values[i], i, err);
        return r;
}

int oci_edit_check_devices(struct oci_edit *e, struct crdma_error **err)
{
        int r = check_entries(e, err);
        return r < 0 ? r : check_rules(e, err);
}

static yajl_val device_entry(const struct crdma_plan_node *n)
{
        _cleanup_json_tree_ yajl_val d = tree_new(yajl_t_object);
        char type[2] = { n->type, '\0' };
        if (!d || tree_obj_append(d, "path", tree_new_string(n->path)) < 0 ||
            tree_obj_append(d, "type", tree_new_string(type)) < 0 ||
            tree_obj_append(d, "major", tree_new_u64(n->major)) < 0 ||
            tree_obj_append(d, "minor", tree_new_u64(n->minor)) < 0 ||
            tree_obj_append(d, "fileMode", tree_new_u64(n->mode)) < 0 ||
            tree_obj_append(d, "uid", tree_new_u64(0)) < 0 ||
            tree_obj_append(d, "gid", tree_new_u64(0)) < 0)
                return NULL;
        return TAKE_PTR(d);
}

static yajl_val allow_rule(const struct crdma_plan_node *n)
{
        _cleanup_json_tree_ yajl_val d = tree_new(yajl_t_object);
        char type[2] = { n->type, '\0' };
        if (!d || tree_obj_append(d, "allow", tree_new(yajl_t_true)) < 0 ||
            tree_obj_append(d, "type", tree_new_string(type)) < 0 ||
            tree_obj_append(d, "major", tree_new_u64(n->major)) < 0 ||
            tree_obj_append(d, "minor", tree_new_u64(n->minor)) < 0 ||
            tree_obj_append(d, "access", tree_new_string("rw")) < 0)
                return NULL;
        return TAKE_PTR(d);
}

/* An entry made by `make` for each plan node that `there` says `list`
 * lacks (a NULL `list`: out of memory). */
static int append_missing(yajl_val list, const struct crdma_plan *plan, const bool *there,
                          yajl_val (*make)(const struct crdma_plan_node *))
{
        for (size_t j = 0; j < plan->n_nodes; j++)
                if (!list || (!there[j] && tree_arr_append(list, make(&plan->nodes[j])) < 0))
                        return -ENOMEM;
        return 0;
}

int oci_edit_change_devices(struct oci_edit *e)
{
        bool nodes = false, rules = false;
        for (size_t j = 0; j < e->plan->n_nodes; j++) {
                nodes |= !e->node_there[j];
                rules |= !e->rule_there[j];
        }
        if (!nodes && !rules)
                return 0;
        yajl_val lnx = tree_ensure(e->root, "linux", yajl_t_object);
        if (!lnx)
                return -ENOMEM;
        int r = nodes ? append_missing(tree_ensure(lnx, "devices", yajl_t_array), e->plan,
                                       e->node_there, device_entry) : 0;
        if (r < 0 || !rules)
                return r;
        yajl_val res = tree_ensure(lnx, "resources", yajl_t_object);
        return append_missing(res ? tree_ensure(res, "devices", yajl_t_array) : NULL, e->plan,
                              e->rule_there, allow_rule);
}
