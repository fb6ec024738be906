/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A process exec'd into a crdma container (`runc exec --process FILE`) gets
 * the container's RLIMIT_MEMLOCK.  runc gives an exec'd process the rlimits
 * of its process file, or, with none there, its own, not the container's;
 * Docker builds that file from its own copy of the spec, which the config
 * edit never saw: without this, `docker exec` runs RDMA programs with the
 * engine's 8 MiB. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "config-tree.h"
#include "document.h"
#include "error.h"
#include "json-member.h"
#include "state.h"

static int copy_of(const char *text, size_t len, char **out, struct crdma_error **err)
{
        char *copy = malloc(len + 1);
        if (!copy)
                return crdma_fail_oom(err);
        memcpy(copy, text, len);
        copy[len] = '\0';
        *out = copy;
        return 0;
}

static bool get_u64(yajl_val v, uint64_t *out)
{
        if (!YAJL_IS_NUMBER(v) || !v->u.number.r || v->u.number.r[0] == '-')
                return false;
        char *end;
        errno = 0;
        unsigned long long n = strtoull(v->u.number.r, &end, 10);
        if (errno || *end)
                return false;
        *out = n;
        return true;
}

/* The process's RLIMIT_MEMLOCK raised to (soft, hard): the entry replaced
 * where it is lower, added where there is none. */
static int raise_memlock(yajl_val process, uint64_t soft, uint64_t hard, const char *origin,
                         struct crdma_error **err)
{
        yajl_val rlimits = crdma_json_get(process, "rlimits", yajl_t_any);
        if (rlimits && !YAJL_IS_ARRAY(rlimits))
                return crdma_refuse(err, EINVAL, "%s: \"rlimits\" is not a JSON array", origin);
        for (size_t i = 0; rlimits && i < YAJL_GET_ARRAY(rlimits)->len; i++) {
                yajl_val rl = YAJL_GET_ARRAY(rlimits)->values[i];
                const char *type = YAJL_GET_STRING(crdma_json_get(rl, "type", yajl_t_string));
                if (!type || strcmp(type, "RLIMIT_MEMLOCK") != 0)
                        continue;
                uint64_t have_soft = 0, have_hard = 0;
                if (!get_u64(crdma_json_get(rl, "soft", yajl_t_number), &have_soft) ||
                    !get_u64(crdma_json_get(rl, "hard", yajl_t_number), &have_hard))
                        return crdma_refuse(err, EINVAL, "%s: rlimits RLIMIT_MEMLOCK needs "
                                            "numeric \"soft\" and \"hard\"", origin);
                int r = 0;
                if (have_soft < soft)
                        r = tree_obj_replace(rl, "soft", tree_new_u64(soft));
                if (r >= 0 && have_hard < hard)
                        r = tree_obj_replace(rl, "hard", tree_new_u64(hard));
                return r < 0 ? crdma_fail_oom(err) : 0;
        }
        if (!rlimits && !(rlimits = tree_ensure(process, "rlimits", yajl_t_array)))
                return crdma_fail_oom(err);
        yajl_val entry = tree_new(yajl_t_object);
        if (!entry || tree_obj_append(entry, "type", tree_new_string("RLIMIT_MEMLOCK")) < 0 ||
            tree_obj_append(entry, "hard", tree_new_u64(hard)) < 0 ||
            tree_obj_append(entry, "soft", tree_new_u64(soft)) < 0 ||
            tree_arr_append(rlimits, entry) < 0)
                return crdma_fail_oom(err);
        return 0;
}

int crdma_state_exec_process(struct crdma_context *ctx, const char *state, size_t state_len,
                             const char *process, size_t len, char **out,
                             struct crdma_error **err)
{
        if (!ctx || !state || !process || !out)
                return crdma_fail(err, EINVAL, "crdma_state_exec_process: NULL argument");
        _cleanup_(oci_container_clear) struct oci_container oc = { 0 };
        int r = oci_container_load(state, state_len, false, &oc, err);
        if (r >= 0 && oc.annotations.n > 0)
                r = oci_container_details(&oc, err);
        if (r < 0)
                return r;
        /* Not crdma's container, or its config sets no memlock: as it came. */
        if (oc.annotations.n == 0 || !oc.memlock_set)
                return copy_of(process, len, out, err);
        _cleanup_config_ struct oci_config *p = NULL;
        r = oci_config_parse(process, len, "the exec process", &p, err);
        if (r >= 0)
                r = raise_memlock(oci_config_root(p), oc.memlock_soft, oc.memlock_hard,
                                  "the exec process", err);
        if (r >= 0)
                r = oci_config_write_like(p, process, len, out, err);
        return r;
}
