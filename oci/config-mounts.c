/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A rootless runtime (CRDMA_RUNTIME_ROOTLESS: rootless runc or crun, Slurm's
 * `srun --container`) cannot mknod: the plan's nodes reach the container as
 * bind mounts of the host's nodes instead of linux.devices entries, and only
 * nodes any user may open, since the runtime opens them as its user.  A
 * mount already at a node's path from the same source is kept; one from
 * another source is refused. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "cleanup.h"
#include "config-edit.h"
#include "config-tree.h"
#include "context.h"
#include "error.h"
#include "json-member.h"

/* The host's node at the plan's path: a character device with the plan's
 * numbers that anyone may read and write. */
static int check_host_node(struct oci_edit *e, const struct crdma_plan_node *n,
                           struct crdma_error **err)
{
        int dev = crdma_context_root_fd(e->opts->ctx, CRDMA_ROOT_DEV, err);
        if (dev < 0)
                return dev;
        struct stat st;
        const char *rel = n->path + strlen("/dev/");
        if (fstatat(dev, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return crdma_fail_errno(err, errno, "%s: the host's node for a rootless "
                                        "container's bind mount", n->path);
        if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != n->major || minor(st.st_rdev) != n->minor)
                return crdma_refuse(err, ENODEV, "%s: not the character device %u:%u the host's "
                                    "sysfs names", n->path, n->major, n->minor);
        if ((st.st_mode & (S_IROTH | S_IWOTH)) != (S_IROTH | S_IWOTH))
                return crdma_refuse(err, EACCES, "%s: mode %04o, owner %u: a rootless container "
                                    "opens it as its user, so it must be readable and writable "
                                    "by all (rdma-core's udev rules make uverbs and rdma_cm "
                                    "0666); do not ask for it rootless",
                                    n->path, (unsigned) (st.st_mode & 07777), (unsigned) st.st_uid);
        return 0;
}

/* mounts[i] against every plan node at its destination. */
static int check_mount(struct oci_edit *e, yajl_val m, size_t i, struct crdma_error **err)
{
        char where[48];
        snprintf(where, sizeof(where), "mounts[%zu]", i);
        if (!YAJL_IS_OBJECT(m))
                return crdma_refuse(err, EINVAL, "%s: \"%s\" is not a JSON object", e->origin,
                                    where);
        yajl_val dest, src;
        snprintf(where, sizeof(where), "mounts[%zu].destination", i);
        int r = crdma_json_member(e->origin, m, "destination", yajl_t_string, where, &dest, err);
        snprintf(where, sizeof(where), "mounts[%zu].source", i);
        if (r >= 0)
                r = crdma_json_member(e->origin, m, "source", yajl_t_string, where, &src, err);
        for (size_t j = 0; r >= 0 && dest && j < e->plan->n_nodes; j++) {
                const struct crdma_plan_node *n = &e->plan->nodes[j];
                if (strcmp(dest->u.string, n->path) != 0)
                        continue;
                if (!src || strcmp(src->u.string, n->path) != 0)
                        return crdma_refuse(err, EEXIST, "%s: mounts[%zu] already puts %s at %s, "
                                            "where crdma binds the host's RDMA node; remove "
                                            "that mount",
                                            e->origin, i, src ? src->u.string : "(no source)",
                                            n->path);
                e->node_there[j] = true;
        }
        return r;
}

int oci_edit_check_mounts(struct oci_edit *e, struct crdma_error **err)
{
        if (e->plan->netns == CRDMA_NETNS_EXCLUSIVE)
                return crdma_refuse(err, EOPNOTSUPP, "%s: netns=exclusive: a rootless runtime "
                                    "cannot move a device into the container's network "
                                    "namespace (that needs the createRuntime hook, as root)",
                                    e->origin);
        yajl_val mounts = NULL;
        int r = crdma_json_member(e->origin, e->root, "mounts", yajl_t_array, "mounts", &mounts,
                                  err);
        for (size_t i = 0; r >= 0 && mounts && i < mounts->u.array.len; i++)
                r = check_mount(e, mounts->u.array.values[i], i, err);
        for (size_t j = 0; r >= 0 && j < e->plan->n_nodes; j++)
                if (!e->node_there[j])
                        r = check_host_node(e, &e->plan->nodes[j], err);
        return r;
}

static yajl_val bind_mount(const struct crdma_plan_node *n)
{
        _cleanup_json_tree_ yajl_val m = tree_new(yajl_t_object);
        _cleanup_json_tree_ yajl_val opts = tree_new(yajl_t_array);
        /* nosuid and noexec, never nodev: the mount is a device node. */
        if (!m || !opts || tree_arr_append(opts, tree_new_string("bind")) < 0 ||
            tree_arr_append(opts, tree_new_string("nosuid")) < 0 ||
            tree_arr_append(opts, tree_new_string("noexec")) < 0 ||
            tree_obj_append(m, "destination", tree_new_string(n->path)) < 0 ||
            tree_obj_append(m, "type", tree_new_string("bind")) < 0 ||
            tree_obj_append(m, "source", tree_new_string(n->path)) < 0 ||
            tree_obj_append(m, "options", TAKE_PTR(opts)) < 0)
                return NULL;
        return TAKE_PTR(m);
}

int oci_edit_change_mounts(struct oci_edit *e)
{
        yajl_val mounts = NULL;
        for (size_t j = 0; j < e->plan->n_nodes; j++) {
                if (e->node_there[j])
                        continue;
                if (!mounts && !(mounts = tree_ensure(e->root, "mounts", yajl_t_array)))
                        return -ENOMEM;
                if (tree_arr_append(mounts, bind_mount(&e->plan->nodes[j])) < 0)
                        return -ENOMEM;
        }
        return 0;
}
