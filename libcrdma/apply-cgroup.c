/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Apply a plan to a cgroup and a process, not to a container: a Slurm job
 * step (spank_crdma), where there is no rootfs to make nodes in and no
 * namespace to move devices to, only the step's cgroup and its tasks, which
 * open the host's own /dev/infiniband nodes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "container.h"
#include "context.h"
#include "devcgroup.h"
#include "devices.h"
#include "error.h"
#include "plan.h"
#include "rlimit.h"

int crdma_process_cgroup(struct crdma_context *ctx, pid_t pid, char **path,
                         struct crdma_error **err)
{
        if (!ctx || !path || pid < 0)
                return crdma_fail(err, EINVAL, "crdma_process_cgroup: invalid argument");
        int proc = crdma_context_root_fd(ctx, CRDMA_ROOT_PROC, err);
        if (proc < 0)
                return proc;
        char rel[32];
        if (pid == 0)
                snprintf(rel, sizeof(rel), "self/cgroup");
        else
                snprintf(rel, sizeof(rel), "%d/cgroup", (int) pid);
        _cleanup_free_ char *text = NULL;
        int r = crdma_read_text_at(proc, rel, 1u << 16, &text);
        if (r < 0)
                return crdma_fail_errno(err, -r, "%s/%s: cannot read it",
                                        crdma_context_root_path(ctx, CRDMA_ROOT_PROC), rel);
        struct crdma_proc_cgroups pc = { 0 };
        r = crdma_proc_cgroups_parse(text, &pc);
        if (r < 0)
                return crdma_fail(err, -r, "%s/%s: not a cgroup list the kernel writes",
                                  crdma_context_root_path(ctx, CRDMA_ROOT_PROC), rel);
        if (!pc.unified) {
                crdma_proc_cgroups_clear(&pc);
                return crdma_fail(err, ENOENT, "%s/%s: the process is in no cgroup v2 (no \"0::\" "
                                  "line); crdma limits job steps on cgroup v2 only",
                                  crdma_context_root_path(ctx, CRDMA_ROOT_PROC), rel);
        }
        *path = TAKE_PTR(pc.unified);
        crdma_proc_cgroups_clear(&pc);
        return 0;
}

static bool plan_limits_rdma(const struct crdma_plan *plan)
{
        for (size_t i = 0; i < plan->n_devices; i++)
                if (plan->devices[i].hca_handles != CRDMA_UNLIMITED ||
                    plan->devices[i].hca_objects != CRDMA_UNLIMITED)
                        return true;
        return false;
}

struct cgroup_applied {
        struct crdma_subtree_undo *subtree;
        struct crdma_rdma_undo *rdma;
};

static void cgroup_roll_back(struct crdma_context *ctx, struct cgroup_applied *a)
{
        _cleanup_(crdma_error_freep) struct crdma_error *undo_err = NULL;
        if (a->rdma)
                crdma_cgroup_rdma_undo(a->rdma, &undo_err);
        if (a->subtree)
                crdma_cgroup_subtree_undo(a->subtree, undo_err ? NULL : &undo_err);
        if (undo_err)
                crdma_log(ctx, CRDMA_LOG_ERROR, "rolling back: %s", crdma_error_message(undo_err));
}

static void cgroup_applied_free(struct cgroup_applied *a)
{
        crdma_cgroup_rdma_undo_free(a->rdma);
        crdma_cgroup_subtree_undo_free(a->subtree);
}

static int apply_rdma_max(struct crdma_context *ctx, const struct crdma_plan *plan, int fd,
                          const char *cgroup, struct cgroup_applied *a, struct crdma_error **err)
{
        int r = crdma_cgroup_enable_rdma(ctx, cgroup, &a->subtree, err);
        if (r < 0)
                return r;
        _cleanup_free_ const char **lines = calloc(plan->n_devices, sizeof(*lines));
        if (!lines)
                return crdma_fail_oom(err);
        for (size_t i = 0; i < plan->n_devices; i++)
                lines[i] = plan->devices[i].rdma_max_line;
        return crdma_cgroup_rdma_max_set(ctx, fd, cgroup, lines, plan->n_devices, &a->rdma, err);
}

static bool plan_has_node(const struct crdma_plan *plan, unsigned major, unsigned minor)
{
        for (size_t i = 0; i < plan->n_nodes; i++)
                if (plan->nodes[i].type == 'c' && plan->nodes[i].major == major &&
                    plan->nodes[i].minor == minor)
                        return true;
        return false;
}

/* The device rules of every RDMA char device the host has (each device's
 * uverbs, umad and issm nodes, and rdma_cm) that the plan does not give. */
static int nodes_not_planned(struct crdma_context *ctx, const struct crdma_plan *plan,
                             struct crdma_devcg_rule **out, size_t *n_out,
                             struct crdma_error **err)
{
        _cleanup_(crdma_device_list_freep) struct crdma_device_list *list = NULL;
        int r = crdma_devices_scan(ctx, &list, err);
        if (r < 0)
                return r;
        size_t cap = 1;
        for (size_t i = 0; i < list->n; i++)
                cap += list->devs[i].n_chardevs;
        _cleanup_free_ struct crdma_devcg_rule *v = calloc(cap, sizeof(*v));
        if (!v)
                return crdma_fail_oom(err);
        size_t n = 0;
        for (size_t i = 0; i < list->n; i++)
                for (size_t j = 0; j < list->devs[i].n_chardevs; j++) {
                        const struct crdma_chardev *c = &list->devs[i].chardevs[j];
                        if (!plan_has_node(plan, c->major, c->minor))
                                v[n++] = (struct crdma_devcg_rule) { 'c', c->major, c->minor };
                }
        if (list->has_rdma_cm && !plan_has_node(plan, list->rdma_cm_major, list->rdma_cm_minor))
                v[n++] = (struct crdma_devcg_rule) { 'c', list->rdma_cm_major,
                                                     list->rdma_cm_minor };
        *out = TAKE_PTR(v);
        *n_out = n;
        return 0;
}

static int apply_devices(struct crdma_context *ctx, const struct crdma_plan *plan, int fd,
                         const char *cgroup, struct crdma_error **err)
{
        _cleanup_free_ struct crdma_devcg_rule *deny = NULL;
        size_t n = 0;
        int r = nodes_not_planned(ctx, plan, &deny, &n, err);
        if (r < 0)
                return r;
        return crdma_devcg_v2_deny(ctx, fd, cgroup, deny, n, err);
}

int crdma_plan_apply_cgroup(struct crdma_context *ctx, const struct crdma_plan *plan,
                            const char *cgroup, unsigned what, struct crdma_error **err)
{
        if (!ctx || !plan || !cgroup)
                return crdma_fail(err, EINVAL, "crdma_plan_apply_cgroup: NULL argument");
        if (!crdma_cgroup_path_ok(cgroup) || strcmp(cgroup, "/") == 0)
                return crdma_fail(err, EINVAL, "cgroup \"%s\": not a cgroup below the root (an "
                                  "absolute path from the cgroup root, no \".\" or \"..\")", cgroup);
        const unsigned known = CRDMA_CGROUP_APPLY_RDMA_MAX | CRDMA_CGROUP_APPLY_DEVICES;
        if (what & ~known)
                return crdma_fail(err, EINVAL, "crdma_plan_apply_cgroup: unknown flags 0x%x", what);
        if (plan->netns == CRDMA_NETNS_EXCLUSIVE)
                return crdma_refuse(err, EOPNOTSUPP, "netns=exclusive: moving a device needs a "
                                    "network namespace of the container's own; a cgroup has none");

        bool rdma_max = (what & CRDMA_CGROUP_APPLY_RDMA_MAX) && plan_limits_rdma(plan);
        bool devices = what & CRDMA_CGROUP_APPLY_DEVICES;
        if (!rdma_max && !devices)
                return 0; /* nothing asked or set by the policy: the cgroup stays as it is */

        struct crdma_cgroup_host host;
        int r = crdma_cgroup_host(ctx, &host, err);
        if (r < 0)
                return r;
        if (!host.v2)
                return crdma_refuse(err, EOPNOTSUPP, "%s is not a cgroup v2 (unified) mount; crdma "
                                    "limits a cgroup on cgroup v2 only (boot with "
                                    "systemd.unified_cgroup_hierarchy=1)",
                                    crdma_context_root_path(ctx, CRDMA_ROOT_CGROUP));
        if (rdma_max && !host.rdma) {
                const char *why = "the kernel's cgroup v2 has no rdma controller (CONFIG_CGROUP_RDMA)";
                if (!plan->best_effort)
                        return crdma_refuse(err, EOPNOTSUPP, "rdma.max: %s, so the RDMA limits "
                                            "cannot be enforced; the policy may allow this with "
                                            "\"limits\": {\"enforce\": \"best-effort\"}", why);
                crdma_log(ctx, CRDMA_LOG_WARNING, "rdma.max: %s; limits not enforced "
                          "(policy: best-effort)", why);
                rdma_max = false;
        }

        _cleanup_close_ int fd = crdma_cgroup_open(ctx, "", cgroup, err);
        if (fd < 0)
                return fd;
        struct cgroup_applied a = { 0 };
        r = rdma_max ? apply_rdma_max(ctx, plan, fd, cgroup, &a, err) : 0;
        /* Last: a device program cannot be taken back by another process's
         * hand once the cgroup's tasks run, and needs no undo of its own. */
        if (r >= 0 && devices)
                r = apply_devices(ctx, plan, fd, cgroup, err);
        if (r < 0)
                cgroup_roll_back(ctx, &a);
        cgroup_applied_free(&a);
        return r;
}

int crdma_plan_apply_memlock(struct crdma_context *ctx, const struct crdma_plan *plan, pid_t pid,
                             struct crdma_error **err)
{
        if (!ctx || !plan || pid < 0)
                return crdma_fail(err, EINVAL, "crdma_plan_apply_memlock: invalid argument");
        struct crdma_rlimit_undo undo;
        return crdma_memlock_raise(ctx, pid ? pid : getpid(), plan->memlock, &undo, err);
}
