/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The plan's capabilities (CAP_NET_RAW for raw packet QPs, CAP_IPC_LOCK when
 * the policy grants it) in process.capabilities: bounding, permitted and
 * effective, the sets a runtime gives the container's first process.
 * Nothing else is added, and nothing is taken away. */
#include <errno.h>
#include <stdio.h>

#include "config-edit.h"
#include "config-tree.h"
#include "error.h"
#include "json-member.h"

static const char *const sets[] = { "bounding", "permitted", "effective" };

static int capabilities(struct oci_edit *e, yajl_val *out, struct crdma_error **err)
{
        return crdma_json_member(e->origin, e->process, "capabilities", yajl_t_object,
                                 "process.capabilities", out, err);
}

int oci_edit_check_caps(struct oci_edit *e, struct crdma_error **err)
{
        if (e->plan->caps.n == 0)
                return 0;
        int r = oci_edit_need_process(e, "capabilities", err);
        yajl_val caps = NULL;
        if (r >= 0)
                r = capabilities(e, &caps, err);
        for (size_t s = 0; r >= 0 && s < sizeof(sets) / sizeof(sets[0]); s++) {
                char where[64];
                snprintf(where, sizeof(where), "process.capabilities.%s", sets[s]);
                yajl_val set = NULL;
                if (caps)
                        r = crdma_json_member_strings(e->origin, caps, sets[s], where, &set,
                                                      err);
                for (size_t i = 0; r >= 0 && i < e->plan->caps.n; i++)
                        e->caps_missing |= !crdma_json_strings_contain(set, e->plan->caps.v[i]);
        }
        return r;
}

int oci_edit_change_caps(struct oci_edit *e)
{
        if (!e->caps_missing)
                return 0;
        yajl_val caps = tree_ensure(e->process, "capabilities", yajl_t_object);
        for (size_t s = 0; caps && s < sizeof(sets) / sizeof(sets[0]); s++) {
                yajl_val set = tree_ensure(caps, sets[s], yajl_t_array);
                for (size_t i = 0; set && i < e->plan->caps.n; i++)
                        if (!crdma_json_strings_contain(set, e->plan->caps.v[i]) &&
                            tree_arr_append(set, tree_new_string(e->plan->caps.v[i])) < 0)
                                return -ENOMEM;
                if (!set)
                        return -ENOMEM;
        }
        return caps ? 0 : -ENOMEM;
}
