/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What only a hook can do goes to hooks.createRuntime (and hooks.poststop):
 * the netns moves of exclusive mode need the container's pid, and rdma.max
 * for crun needs +rdma in the parents and one write per device.  The entry
 * runs this very crdma-hook, with an explicit environment; the inject path
 * finds the config edit's work done and does the rest. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config-edit.h"
#include "config-tree.h"
#include "error.h"
#include "json-member.h"

/* The entry's env and timeout: CRDMA_HOOK_ENV and CRDMA_HOOK_TIMEOUT, the one
 * definition (meson.build) the shipped hooks.d files use too.  Runtimes give a
 * hook no environment of their own. */

static bool is_crdma_hook(const char *path, const char *ours)
{
        const char *base = strrchr(path, '/');
        return strcmp(path, ours) == 0 || strcmp(base ? base + 1 : path, "crdma-hook") == 0;
}

/* Whether hooks[stage] (or, for createRuntime, its twin prestart) already
 * runs crdma-hook with that stage. */
static int has_entry(struct oci_edit *e, yajl_val hooks, const char *stage, bool *found,
                     struct crdma_error **err)
{
        const char *stages[] = { stage, strcmp(stage, "createRuntime") == 0 ? "prestart" : NULL };
        *found = false;
        for (size_t s = 0; s < 2 && stages[s]; s++) {
                char where[64];
                snprintf(where, sizeof(where), "hooks.%s", stages[s]);
                yajl_val list;
                int r = crdma_json_member(e->origin, hooks, stages[s], yajl_t_array, where, &list,
                                          err);
                for (size_t i = 0; r >= 0 && list && i < list->u.array.len; i++) {
                        yajl_val h = list->u.array.values[i], path, args;
                        snprintf(where, sizeof(where), "hooks.%s[%zu]", stages[s], i);
                        if (!YAJL_IS_OBJECT(h))
                                return crdma_refuse(err, EINVAL, "%s: \"%s\" is not a JSON object",
                                                    e->origin, where);
                        snprintf(where, sizeof(where), "hooks.%s[%zu].path", stages[s], i);
                        r = crdma_json_member(e->origin, h, "path", yajl_t_string, where, &path,
                                              err);
                        snprintf(where, sizeof(where), "hooks.%s[%zu].args", stages[s], i);
                        if (r >= 0)
                                r = crdma_json_member_strings(e->origin, h, "args", where,
                                                              &args, err);
                        if (r >= 0 && path && is_crdma_hook(path->u.string, e->opts->hook_path ?: "") &&
                            crdma_json_strings_contain(args, stages[s]))
                                *found = true;
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

int oci_edit_check_hooks(struct oci_edit *e, struct crdma_error **err)
{
        bool exclusive = e->plan->netns == CRDMA_NETNS_EXCLUSIVE;
        const char *why = exclusive ? "exclusive mode moves the devices into the container's "
                                      "network namespace, which needs its pid"
                                    : e->hook_for;
        if (!why)
                return 0;
        if (!e->opts->hook_path)
                return crdma_refuse(err, EINVAL,
                                    "%s: the request needs crdma-hook as a createRuntime hook (%s), "
                                    "and no hook path was given",
                                    e->origin, why);
        yajl_val hooks = NULL;
        int r = crdma_json_member(e->origin, e->root, "hooks", yajl_t_object, "hooks", &hooks,
                                  err);
        bool found = false;
        if (r >= 0 && hooks)
                r = has_entry(e, hooks, "createRuntime", &found, err);
        e->add_create_runtime = !found;
        if (r >= 0 && hooks && exclusive)
                r = has_entry(e, hooks, "poststop", &found, err);
        e->add_poststop = exclusive && !found;
        return r;
}

static yajl_val hook_entry(const struct oci_edit_options *opts, const char *stage)
{
        yajl_val h = tree_new(yajl_t_object);
        if (!h)
                return NULL;
        yajl_val args, env;
        if (tree_obj_append(h, "path", tree_new_string(opts->hook_path)) < 0 ||
            tree_obj_append(h, "args", args = tree_new(yajl_t_array)) < 0 ||
            tree_arr_append(args, tree_new_string("crdma-hook")) < 0)
                goto fail;
        if (opts->policy_path && (tree_arr_append(args, tree_new_string("--policy")) < 0 ||
                                  tree_arr_append(args, tree_new_string(opts->policy_path)) < 0))
                goto fail;
        if (tree_arr_append(args, tree_new_string(stage)) < 0 ||
            tree_obj_append(h, "env", env = tree_new(yajl_t_array)) < 0 ||
            tree_arr_append(env, tree_new_string(CRDMA_HOOK_ENV)) < 0 ||
            tree_obj_append(h, "timeout", tree_new_u64(CRDMA_HOOK_TIMEOUT)) < 0)
                goto fail;
        return h;
fail:
        yajl_tree_free(h);
        return NULL;
}

int oci_edit_change_hooks(struct oci_edit *e)
{
        if (!e->add_create_runtime && !e->add_poststop)
                return 0;
        yajl_val hooks = tree_ensure(e->root, "hooks", yajl_t_object);
        const char *stages[] = { e->add_create_runtime ? "createRuntime" : NULL,
                                 e->add_poststop ? "poststop" : NULL };
        for (size_t s = 0; s < 2; s++) {
                if (!stages[s])
                        continue;
                yajl_val list = hooks ? tree_ensure(hooks, stages[s], yajl_t_array) : NULL;
                if (!list || tree_arr_append(list, hook_entry(e->opts, stages[s])) < 0)
                        return -ENOMEM;
        }
        return 0;
}
