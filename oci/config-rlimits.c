/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The plan's RLIMIT_MEMLOCK in process.rlimits: pinned memory for RDMA
 * needs it (CAP_IPC_LOCK works only in the init user namespace).  An entry
 * already there is raised to the plan's value, never lowered. */
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

/* process.rlimits[i], when it is the RLIMIT_MEMLOCK entry. */
static int check_entry(struct oci_edit *e, yajl_val rl, size_t i, struct crdma_error **err)
{
        yajl_val type;
        char where[64];
        snprintf(where, sizeof(where), "process.rlimits[%zu]", i);
        if (!YAJL_IS_OBJECT(rl))
                return crdma_refuse(err, EINVAL, "%s: \"%s\" is not a JSON object", e->origin,
                                    where);
        snprintf(where, sizeof(where), "process.rlimits[%zu].type", i);
        int r = crdma_json_member(e->origin, rl, "type", yajl_t_string, where, &type, err);
        if (r < 0 || !type || strcmp(type->u.string, "RLIMIT_MEMLOCK") != 0)
                return r;
        if (e->memlock)
                return crdma_refuse(err, EINVAL, "%s: process.rlimits has RLIMIT_MEMLOCK twice; "
                                    "runtimes refuse such a config", e->origin);
        e->memlock = rl;
        uint64_t soft = 0, hard = 0;
        bool has_soft, has_hard;
        snprintf(where, sizeof(where), "process.rlimits[%zu].soft", i);
        r = crdma_json_member_uint(e->origin, rl, "soft", UINT64_MAX, false, where, &has_soft,
                                   &soft, err);
        snprintf(where, sizeof(where), "process.rlimits[%zu].hard", i);
        if (r >= 0)
                r = crdma_json_member_uint(e->origin, rl, "hard", UINT64_MAX, false, where,
                                           &has_hard, &hard, err);
        if (r >= 0 && (!has_soft || !has_hard))
                return crdma_refuse(err, EINVAL, "%s: process.rlimits RLIMIT_MEMLOCK needs both "
                                    "\"soft\" and \"hard\"", e->origin);
        e->raise_soft = soft < e->plan->memlock;
        e->raise_hard = hard < e->plan->memlock;
        return r;
}

int oci_edit_check_rlimits(struct oci_edit *e, struct crdma_error **err)
{
        if (e->plan->memlock == 0)
                return 0;
        int r = oci_edit_need_process(e, "RLIMIT_MEMLOCK", err);
        yajl_val rls = NULL;
        if (r >= 0)
                r = crdma_json_member(e->origin, e->process, "rlimits", yajl_t_array,
                                      "process.rlimits", &rls, err);
        for (size_t i = 0; r >= 0 && rls && i < rls->u.array.len; i++)
                r = check_entry(e, rls->u.array.values[i], i, err);
        return r;
}

static yajl_val memlock_entry(uint64_t bytes)
{
        _cleanup_json_tree_ yajl_val d = tree_new(yajl_t_object);
        if (!d || tree_obj_append(d, "type", tree_new_string("RLIMIT_MEMLOCK")) < 0 ||
            tree_obj_append(d, "hard", tree_new_u64(bytes)) < 0 ||
            tree_obj_append(d, "soft", tree_new_u64(bytes)) < 0)
                return NULL;
        return TAKE_PTR(d);
}

int oci_edit_change_rlimits(struct oci_edit *e)
{
        uint64_t bytes = e->plan->memlock;
        if (bytes == 0)
                return 0;
        if (!e->memlock) {
                yajl_val rls = tree_ensure(e->process, "rlimits", yajl_t_array);
                return rls ? tree_arr_append(rls, memlock_entry(bytes)) : -ENOMEM;
        }
        if (e->raise_soft && tree_obj_replace(e->memlock, "soft", tree_new_u64(bytes)) < 0)
                return -ENOMEM;
        if (e->raise_hard && tree_obj_replace(e->memlock, "hard", tree_new_u64(bytes)) < 0)
                return -ENOMEM;
        return 0;
}
