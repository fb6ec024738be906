/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* request + devices + policy -> the exact list of what to do. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "caps.h"
#include "cleanup.h"
#include "context.h"
#include "devices.h"
#include "devcgroup.h"
#include "error.h"
#include "plan.h"
#include "policy.h"
#include "request.h"
#include "syscalls.h"

#define MODE_WORLD 0666 /* uverbs, rdma_cm: as the kernel's udev rules make them */
#define MODE_ROOT 0600  /* umad, issm: management, root only */

/* Syscalls RDMA stacks (verbs, UCX, MPI, NCCL) make that restrictive profiles
 * deny or gate behind CAP_SYS_NICE: verbs commands are ioctl/write on uverbs,
 * memory registration pins pages, NUMA placement uses the mempolicy calls,
 * CMA (UCX, Open MPI) copies with process_vm_*, and providers read device
 * state over netlink. */
static const struct crdma_plan_syscall rdma_syscalls[] = {
        { "ioctl", -1 },         { "mmap", -1 },          { "munmap", -1 },
        { "madvise", -1 },       { "mlock", -1 },         { "mlock2", -1 },
        { "munlock", -1 },       { "mlockall", -1 },      { "munlockall", -1 },
        { "mbind", -1 },         { "set_mempolicy", -1 }, { "get_mempolicy", -1 },
        { "process_vm_readv", -1 }, { "process_vm_writev", -1 },
        { "socket", AF_NETLINK },
};

void crdma_plan_free(struct crdma_plan *plan)
{
        if (!plan)
                return;
        for (size_t i = 0; i < plan->n_devices; i++) {
                free(plan->devices[i].name);
                free(plan->devices[i].rdma_max_line);
        }
        free(plan->devices);
        free(plan->nodes);
        free(plan->syscalls);
        crdma_strv_clear(&plan->caps);
        free(plan);
}

static void fmt_limit(uint64_t v, char *buf, size_t len)
{
        crdma_format_limit(v, "max", buf, len);
}

/* Bytes as a user writes them: "2G" rather than 2147483648 when exact. */
static void fmt_bytes(uint64_t v, char *buf, size_t len)
{
        static const char suffix[] = "TGMK";
        if (v != CRDMA_UNLIMITED && v != 0)
                for (int i = 0; i < 4; i++) {
                        unsigned shift = 40u - 10u * (unsigned) i;
                        if ((v & ((1ULL << shift) - 1)) == 0) {
                                snprintf(buf, len, "%llu%c", (unsigned long long) (v >> shift),
                                         suffix[i]);
                                return;
                        }
                }
        crdma_format_limit(v, "unlimited", buf, len);
}

static int add_device(struct crdma_plan *plan, const struct crdma_device *dev)
{
        struct crdma_plan_device *grown = realloc(plan->devices, (plan->n_devices + 1) * sizeof(*grown));
        if (!grown)
                return -ENOMEM;
        plan->devices = grown;
        struct crdma_plan_device *pd = &plan->devices[plan->n_devices];
        *pd = (struct crdma_plan_device){ .index = dev->index };
        pd->name = strdup(dev->name);
        if (!pd->name)
                return -ENOMEM;
        plan->n_devices++;
        return 0;
}

static int add_node(struct crdma_plan *plan, const char *name, unsigned major, unsigned minor,
                    unsigned mode)
{
        struct crdma_plan_node *grown = realloc(plan->nodes, (plan->n_nodes + 1) * sizeof(*grown));
        if (!grown)
                return -ENOMEM;
        plan->nodes = grown;
        struct crdma_plan_node *n = &plan->nodes[plan->n_nodes++];
        *n = (struct crdma_plan_node){ .type = 'c', .major = major, .minor = minor, .mode = mode };
        snprintf(n->path, sizeof(n->path), "/dev/infiniband/%s", name);
        return 0;
}

/* The devices the request names, in order, each allowed and present. */
static int select_devices(struct crdma_context *ctx, struct crdma_plan *plan,
                          const struct crdma_request *req, const struct crdma_device_list *list,
                          const struct crdma_policy *pol, struct crdma_error **err)
{
        char label[64];
        crdma_request_key_label(req, "devices", label, sizeof(label));
        if (req->all_devices) {
                for (size_t i = 0; i < list->n; i++)
                        if (crdma_policy_allows_device(pol, list->devs[i].name) &&
                            add_device(plan, &list->devs[i]) < 0)
                                return crdma_fail_oom(err);
                if (plan->n_devices == 0)
                        return crdma_refuse(err, ENODEV,
                                            "%s=\"all\": no RDMA device on this host is allowed "
                                            "by %s (%zu devices present; `crdma-hook devices` "
                                            "lists them)",
                                            label, pol->origin, list->n);
                return 0;
        }
        for (size_t i = 0; i < req->devices.n; i++) {
                const char *name = req->devices.v[i];
                if (!crdma_policy_allows_device(pol, name))
                        return crdma_refuse(err, EPERM,
                                            "%s: device %s is not allowed by %s; its \"devices\" "
                                            "patterns must match it",
                                            label, name, pol->origin);
                const struct crdma_device *dev = crdma_device_list_find(list, name);
                if (!dev && crdma_device_in_other_netns(ctx, name))
                        return crdma_refuse(err, EBUSY,
                                            "%s: device %s: in another network namespace "
                                            "(exclusive mode: another container holds it); it "
                                            "comes back when that container ends, or ask for "
                                            "another device (`crdma-hook devices` lists those "
                                            "here)",
                                            label, name);
                if (!dev)
                        return crdma_refuse(err, ENODEV,
                                            "%s: device %s: no such RDMA device on this host; "
                                            "`crdma-hook devices` lists them",
                                            label, name);
                if (add_device(plan, dev) < 0)
                        return crdma_fail_oom(err);
        }
        return 0;
}

static int check_limit(struct crdma_error **err, const struct crdma_request *req, const char *key,
                       bool given, uint64_t asked,
                       uint64_t def, uint64_t limit, const char *limit_key,
                       const struct crdma_policy *pol, bool bytes, uint64_t *out)
{
        uint64_t v = given ? asked : def;
        if (v > limit) {
                char a[32], l[32], label[64];
                (bytes ? fmt_bytes : fmt_limit)(v, a, sizeof(a));
                (bytes ? fmt_bytes : fmt_limit)(limit, l, sizeof(l));
                return crdma_refuse(err, EPERM,
                                    "%s=\"%s\": above the limit %s of %s (limits.%s); "
                                    "ask for at most %s",
                                    crdma_request_key_label(req, key, label, sizeof(label)), a, l,
                                    pol->origin, limit_key, l);
        }
        *out = v;
        return 0;
}

static int check_allowed(struct crdma_error **err, const struct crdma_request *req, bool asked,
                         bool allowed, const char *key, const char *value, const char *allow_key,
                         const struct crdma_policy *pol)
{
        char label[64];
        if (asked && !allowed)
                return crdma_refuse(err, EPERM,
                                    "%s=\"%s\": not allowed by %s; the administrator must set "
                                    "\"allow\": {\"%s\": true}",
                                    crdma_request_key_label(req, key, label, sizeof(label)), value,
                                    pol->origin, allow_key);
        return 0;
}

static int plan_nodes(struct crdma_context *ctx, struct crdma_plan *plan,
                      const struct crdma_request *req, const struct crdma_device_list *list,
                      const struct crdma_policy *pol, struct crdma_error **err)
{
        for (size_t i = 0; i < plan->n_devices; i++) {
                const struct crdma_device *dev = crdma_device_list_find(list, plan->devices[i].name);
                const struct crdma_chardev *uverbs = crdma_device_uverbs(dev);
                if (!uverbs)
                        return crdma_refuse(err, ENODEV,
                                            "device %s: has no uverbs char device in "
                                            "class/infiniband_verbs; load ib_uverbs", dev->name);
                if (add_node(plan, uverbs->name, uverbs->major, uverbs->minor, MODE_WORLD) < 0)
                        return crdma_fail_oom(err);
                if (!req->umad)
                        continue;
                size_t n_umad = 0;
                for (size_t c = 0; c < dev->n_chardevs; c++) {
                        const struct crdma_chardev *cd = &dev->chardevs[c];
                        if (cd->kind == CRDMA_CHARDEV_UMAD)
                                n_umad++;
                        else if (cd->kind != CRDMA_CHARDEV_ISSM || !pol->allow.issm)
                                continue;
                        if (add_node(plan, cd->name, cd->major, cd->minor, MODE_ROOT) < 0)
                                return crdma_fail_oom(err);
                }
                char label[64];
                if (n_umad == 0)
                        return crdma_refuse(err, ENODEV,
                                            "%s=\"true\": device %s has no umad char device; load "
                                            "ib_umad or drop the %s",
                                            crdma_request_key_label(req, "umad", label, sizeof(label)),
                                            dev->name, req->option ? "key" : "annotation");
        }

        if (!req->rdma_cm)
                return 0;
        if (!list->has_rdma_cm) {
                char label[64];
                if (req->rdma_cm_given)
                        return crdma_refuse(err, ENODEV,
                                            "%s=\"true\": this host has no rdma_cm "
                                            "(class/misc/rdma_cm); load rdma_ucm",
                                            crdma_request_key_label(req, "rdma-cm", label,
                                                                    sizeof(label)));
                crdma_log(ctx, CRDMA_LOG_WARNING,
                          "no rdma_cm on this host (rdma_ucm not loaded): the container gets "
                          "verbs without the RDMA connection manager");
                return 0;
        }
        if (add_node(plan, "rdma_cm", list->rdma_cm_major, list->rdma_cm_minor, MODE_WORLD) < 0)
                return crdma_fail_oom(err);
        return 0;
}

/* Every node is a device-cgroup rule, and the device program holds at most
 * CRDMA_DEVCG_MAX_RULES: refuse here, before anything is applied, rather
 * than half-way through. */
static int check_node_count(const struct crdma_plan *plan, const struct crdma_request *req,
                            struct crdma_error **err)
{
        if (plan->n_nodes <= CRDMA_DEVCG_MAX_RULES)
                return 0;
        char label[64];
        return crdma_refuse(err, E2BIG, "%s%s: %zu devices make %zu device nodes, more than the "
                            "%d a container can be given (each is a device-cgroup rule); ask for "
                            "fewer devices",
                            crdma_request_key_label(req, "devices", label, sizeof(label)),
                            req->all_devices ? "=\"all\"" : "", plan->n_devices, plan->n_nodes,
                            CRDMA_DEVCG_MAX_RULES);
}

static int plan_caps_and_syscalls(struct crdma_context *ctx, struct crdma_plan *plan,
                                  const struct crdma_request *req, const struct crdma_policy *pol,
                                  struct crdma_error **err)
{
        const char *caps[2];
        size_t n_caps = 0;
        if (req->raw)
                caps[n_caps++] = "CAP_NET_RAW";
        if (pol->allow.ipc_lock)
                caps[n_caps++] = "CAP_IPC_LOCK";
        for (size_t i = 0; i < n_caps; i++) {
                int v;
                if (crdma_cap_from_name(caps[i], &v) < 0)
                        return crdma_fail(err, EINVAL, "%s: unknown to libcap on this host", caps[i]);
                if (crdma_strv_push(&plan->caps, caps[i]) < 0)
                        return crdma_fail_oom(err);
        }

        plan->syscalls = calloc(ELEMENTSOF(rdma_syscalls), sizeof(*plan->syscalls));
        if (!plan->syscalls)
                return crdma_fail_oom(err);
        for (size_t i = 0; i < ELEMENTSOF(rdma_syscalls); i++) {
                if (crdma_syscall_resolve(rdma_syscalls[i].name) < 0) {
                        crdma_log(ctx, CRDMA_LOG_DEBUG, "syscall %s: not on this architecture",
                                  rdma_syscalls[i].name);
                        continue;
                }
                plan->syscalls[plan->n_syscalls++] = rdma_syscalls[i];
        }
        return 0;
}

int crdma_plan_new(struct crdma_context *ctx, const struct crdma_request *req,
                   const struct crdma_device_list *devices, const struct crdma_policy *policy,
                   struct crdma_plan **out, struct crdma_error **err)
{
        if (!ctx || !req || !devices || !policy || !out)
                return crdma_fail(err, EINVAL, "crdma_plan_new: NULL argument");

        _cleanup_(crdma_plan_freep) struct crdma_plan *plan = calloc(1, sizeof(*plan));
        if (!plan)
                return crdma_fail_oom(err);

        /* An image's ENV reaches every container made from it: the
         * environment is a source only where the administrator says so. */
        if (req->from_environment && !policy->allow.environment)
                return crdma_refuse(err, EPERM,
                                    "the container's CRDMA_* environment variables: %s does not "
                                    "take requests from a container's environment (an image's "
                                    "ENV reaches every container made from it); ask with "
                                    "io.crdma.* annotations, or the administrator sets "
                                    "\"allow\": {\"environment\": true}",
                                    policy->origin);
        int r = check_allowed(err, req, req->umad, policy->allow.umad, "umad", "true", "umad",
                              policy);
        if (r >= 0)
                r = check_allowed(err, req, req->raw, policy->allow.net_raw, "raw", "true", "netRaw",
                                  policy);
        if (r >= 0)
                r = check_allowed(err, req, req->netns == CRDMA_NETNS_EXCLUSIVE,
                                  policy->allow.exclusive, "netns", "exclusive", "exclusive",
                                  policy);
        uint64_t handles = 0, objects = 0;
        if (r >= 0)
                r = check_limit(err, req, "hca-handles", req->has_hca_handles, req->hca_handles,
                                policy->defaults.hca_handles, policy->limits.hca_handles,
                                "hcaHandles", policy, false, &handles);
        if (r >= 0)
                r = check_limit(err, req, "hca-objects", req->has_hca_objects, req->hca_objects,
                                policy->defaults.hca_objects, policy->limits.hca_objects,
                                "hcaObjects", policy, false, &objects);
        if (r >= 0)
                r = check_limit(err, req, "memlock", req->has_memlock, req->memlock,
                                policy->defaults.memlock, policy->limits.memlock, "memlock",
                                policy, true, &plan->memlock);
        if (r >= 0)
                r = select_devices(ctx, plan, req, devices, policy, err);
        if (r >= 0)
                r = plan_nodes(ctx, plan, req, devices, policy, err);
        if (r >= 0)
                r = check_node_count(plan, req, err);
        if (r >= 0)
                r = plan_caps_and_syscalls(ctx, plan, req, policy, err);
        if (r < 0)
                return r;

        for (size_t i = 0; i < plan->n_devices; i++) {
                struct crdma_plan_device *pd = &plan->devices[i];
                char h[24], o[24];
                pd->hca_handles = handles;
                pd->hca_objects = objects;
                fmt_limit(handles, h, sizeof(h));
                fmt_limit(objects, o, sizeof(o));
                if (asprintf(&pd->rdma_max_line, "%s hca_handle=%s hca_object=%s", pd->name, h, o) < 0) {
                        pd->rdma_max_line = NULL;
                        return crdma_fail_oom(err);
                }
        }
        plan->best_effort = policy->best_effort;
        plan->netns = req->netns;
        plan->netns_switch = req->netns == CRDMA_NETNS_EXCLUSIVE && policy->netns_switch;
        *out = TAKE_PTR(plan);
        return 0;
}

/* ----------------------------------------------------------- accessors */

size_t crdma_plan_device_count(const struct crdma_plan *plan) { return plan->n_devices; }

const char *crdma_plan_device_name(const struct crdma_plan *plan, size_t i)
{
        return i < plan->n_devices ? plan->devices[i].name : NULL;
}

size_t crdma_plan_node_count(const struct crdma_plan *plan) { return plan->n_nodes; }

int crdma_plan_node(const struct crdma_plan *plan, size_t i, const char **path, char *type,
                    unsigned *major, unsigned *minor, unsigned *mode)
{
        if (i >= plan->n_nodes)
                return -ERANGE;
        const struct crdma_plan_node *n = &plan->nodes[i];
        if (path)
                *path = n->path;
        if (type)
                *type = n->type;
        if (major)
                *major = n->major;
        if (minor)
                *minor = n->minor;
        if (mode)
                *mode = n->mode;
        return 0;
}

/* One allow rule per node: the rules follow the nodes exactly. */
size_t crdma_plan_cgroup_rule_count(const struct crdma_plan *plan) { return plan->n_nodes; }

int crdma_plan_cgroup_rule(const struct crdma_plan *plan, size_t i, char *type, unsigned *major,
                           unsigned *minor, const char **access)
{
        int r = crdma_plan_node(plan, i, NULL, type, major, minor, NULL);
        if (r >= 0 && access)
                *access = "rw";
        return r;
}

int crdma_plan_rdma_limit(const struct crdma_plan *plan, size_t i, uint64_t *hca_handles,
                          uint64_t *hca_objects)
{
        if (i >= plan->n_devices)
                return -ERANGE;
        if (hca_handles)
                *hca_handles = plan->devices[i].hca_handles;
        if (hca_objects)
                *hca_objects = plan->devices[i].hca_objects;
        return 0;
}

const char *crdma_plan_rdma_max_line(const struct crdma_plan *plan, size_t i)
{
        return i < plan->n_devices ? plan->devices[i].rdma_max_line : NULL;
}

bool crdma_plan_rdma_best_effort(const struct crdma_plan *plan) { return plan->best_effort; }
uint64_t crdma_plan_memlock(const struct crdma_plan *plan) { return plan->memlock; }
size_t crdma_plan_capability_count(const struct crdma_plan *plan) { return plan->caps.n; }

const char *crdma_plan_capability(const struct crdma_plan *plan, size_t i)
{
        return i < plan->caps.n ? plan->caps.v[i] : NULL;
}

size_t crdma_plan_syscall_count(const struct crdma_plan *plan) { return plan->n_syscalls; }

int crdma_plan_syscall(const struct crdma_plan *plan, size_t i, const char **name, long long *arg0)
{
        if (i >= plan->n_syscalls)
                return -ERANGE;
        if (name)
                *name = plan->syscalls[i].name;
        if (arg0)
                *arg0 = plan->syscalls[i].arg0;
        return 0;
}

enum crdma_netns crdma_plan_netns(const struct crdma_plan *plan) { return plan->netns; }
bool crdma_plan_netns_switch_system(const struct crdma_plan *plan) { return plan->netns_switch; }
