/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Apply a plan to a created, not yet started container (the OCI
 * createRuntime/prestart path), all or nothing. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "container.h"
#include "context.h"
#include "devcgroup.h"
#include "devnodes.h"
#include "error.h"
#include "fault.h"
#include "netlink.h"
#include "netns.h"
#include "plan.h"
#include "request.h"
#include "rlimit.h"

struct applied {
        struct crdma_devnodes_undo *nodes;
        struct crdma_devcg_undo *devcg;
        struct crdma_subtree_undo *subtree;
        struct crdma_rdma_undo *rdma;
        struct crdma_rlimit_undo memlock;
        struct crdma_netns_undo **moves;
        size_t n_moves;
};

/* Undo in reverse order; the first undo failure is appended to the error
 * that caused the rollback, so nothing left behind goes unreported. */
static void roll_back(struct crdma_context *ctx, struct applied *a, struct crdma_error **err)
{
        struct crdma_error *undo_err = NULL;
        for (size_t i = a->n_moves; i-- > 0;)
                crdma_netns_undo(ctx, a->moves[i], undo_err ? NULL : &undo_err);
        crdma_memlock_undo(&a->memlock, undo_err ? NULL : &undo_err);
        if (a->rdma)
                crdma_cgroup_rdma_undo(a->rdma, undo_err ? NULL : &undo_err);
        if (a->subtree)
                crdma_cgroup_subtree_undo(a->subtree, undo_err ? NULL : &undo_err);
        if (a->devcg)
                crdma_devcg_undo(a->devcg, undo_err ? NULL : &undo_err);
        if (a->nodes)
                crdma_devnodes_undo(a->nodes, undo_err ? NULL : &undo_err);
        if (undo_err) {
                crdma_log(ctx, CRDMA_LOG_ERROR, "rolling back: %s", crdma_error_message(undo_err));
                if (err && *err) {
                        char *full = NULL;
                        if (asprintf(&full, "%s; rolling back also failed: %s", (*err)->message,
                                     crdma_error_message(undo_err)) >= 0) {
                                free((*err)->message);
                                (*err)->message = full;
                        }
                }
                crdma_error_free(undo_err);
        }
}

static void applied_free(struct applied *a)
{
        for (size_t i = 0; i < a->n_moves; i++)
                crdma_netns_undo_free(a->moves[i]);
        free(a->moves);
        crdma_cgroup_rdma_undo_free(a->rdma);
        crdma_cgroup_subtree_undo_free(a->subtree);
        crdma_devcg_undo_free(a->devcg);
        crdma_devnodes_undo_free(a->nodes);
}

/* Capabilities and seccomp rules cannot be added to a process: refuse when
 * the plan needs a capability the container will not have. */
static int check_capabilities(const struct crdma_plan *plan, const struct crdma_container *c,
                              struct crdma_error **err)
{
        if (!c->caps_known)
                return 0;
        for (size_t i = 0; i < plan->caps.n; i++)
                if (!crdma_strv_contains(&c->caps, plan->caps.v[i]))
                        return crdma_refuse(err, EPERM,
                                            "capability %s: the plan grants it but the container "
                                            "is created without it, and a hook cannot add it; grant "
                                            "it in the container's configuration "
                                            "(process.capabilities; podman --cap-add, Kubernetes "
                                            "securityContext.capabilities.add)",
                                            plan->caps.v[i]);
        return 0;
}

/* runc and crun set the config's rlimits after the createRuntime hooks: a
 * memlock there below the plan would silently undo the raise. */
static int check_config_memlock(const struct crdma_plan *plan, const struct crdma_container *c,
                                struct crdma_error **err)
{
        if (!c->memlock_set)
                return 0;
        uint64_t lowest = c->memlock_soft < c->memlock_hard ? c->memlock_soft : c->memlock_hard;
        if (plan->memlock <= lowest)
                return 0;
        char have[32], want[32];
        crdma_format_limit(lowest, "unlimited", have, sizeof(have));
        crdma_format_limit(plan->memlock, "unlimited", want, sizeof(want));
        return crdma_refuse(err, EPERM,
                            "RLIMIT_MEMLOCK: the container's config sets it to %s bytes, which the "
                            "runtime applies after this hook, so crdma cannot raise it to %s here; "
                            "raise or remove it in process.rlimits (podman --ulimit memlock=...)",
                            have, want);
}

static void warn_seccomp(struct crdma_context *ctx, const struct crdma_plan *plan,
                         const struct crdma_container *c)
{
        if (!c->seccomp_filtered)
                return;
        char denied[256] = "";
        size_t o = 0;
        for (size_t i = 0; i < plan->n_syscalls; i++) {
                const char *name = plan->syscalls[i].name;
                if (crdma_strv_contains(&c->seccomp_allowed, name) || o >= sizeof(denied))
                        continue;
                o += (size_t) snprintf(denied + o, sizeof(denied) - o, "%s%s", o ? ", " : "", name);
        }
        if (o)
                crdma_log(ctx, CRDMA_LOG_WARNING,
                          "the container's seccomp profile does not allow %s, which RDMA stacks "
                          "(UCX, MPI, NUMA placement) may need; a hook cannot change it: allow "
                          "them in the container's seccomp profile",
                          denied);
}

/* `rel` under the directory `dirfd` (shown as `dir`), and its stat. */
static int open_ns(int dirfd, const char *dir, const char *rel, struct stat *st,
                   struct crdma_error **err)
{
        int fd = openat(dirfd, rel, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, st) < 0) {
                int e = errno;
                if (fd >= 0)
                        close(fd);
                return crdma_fail_errno(err, e, "%s/%s: cannot open", dir, rel);
        }
        return fd;
}

/* Does the container have a network namespace of its own (not init_net)?
 * On success *fd (may be NULL) is an fd of the container's. */
static int own_netns(struct crdma_context *ctx, const struct crdma_pinned *p, bool *own, int *fd,
                     struct crdma_error **err)
{
        int procfd = crdma_context_root_fd(ctx, CRDMA_ROOT_PROC, err);
        if (procfd < 0)
                return procfd;
        struct stat mine, init;
        _cleanup_close_ int nsfd = open_ns(p->piddir, p->proc, "ns/net", &mine, err);
        if (nsfd < 0)
                return nsfd;
        _cleanup_close_ int initfd = open_ns(procfd, crdma_context_root_path(ctx, CRDMA_ROOT_PROC),
                                             "1/ns/net", &init, err);
        if (initfd < 0)
                return initfd;
        *own = mine.st_dev != init.st_dev || mine.st_ino != init.st_ino;
        if (fd)
                *fd = TAKE_FD(nsfd);
        return 0;
}

/* Shared mode on a host in exclusive netns mode: a container in a network
 * namespace of its own gets EPERM opening devices left in init_net, so the
 * nodes would be useless.  Unknown mode (no netlink): nothing to check. */
static int check_shared(struct crdma_context *ctx, const struct crdma_pinned *p,
                        struct crdma_error **err)
{
        enum crdma_netns mode;
        bool own;
        if (!crdma_context_netlink(ctx) || crdma_nl_netns_mode(ctx, &mode, NULL) < 0 ||
            mode == CRDMA_NETNS_SHARED)
                return 0;
        int r = own_netns(ctx, p, &own, NULL, err);
        if (r < 0 || !own)
                return r;
        return crdma_refuse(err, EPERM,
                            "annotation io.crdma.netns=\"shared\" (the default): the host's RDMA "
                            "subsystem is in exclusive netns mode and the container has a network "
                            "namespace of its own, where devices left in the host's cannot be "
                            "opened; ask for io.crdma.netns=exclusive to move them, or run the "
                            "container in the host's network namespace");
}

/* Exclusive mode: the host must be (or become) exclusive and the container
 * must have a network namespace of its own.  Returns an fd of that netns. */
static int prepare_exclusive(struct crdma_context *ctx, const struct crdma_plan *plan,
                             const struct crdma_pinned *p, struct crdma_error **err)
{
        enum crdma_netns mode;
        int r = crdma_nl_netns_mode(ctx, &mode, err);
        if (r < 0)
                return r;
        bool shared = mode == CRDMA_NETNS_SHARED;
        if (shared && !plan->netns_switch)
                return crdma_refuse(err, EOPNOTSUPP,
                                    "annotation io.crdma.netns=\"exclusive\": the host's RDMA "
                                    "subsystem is in shared netns mode and the policy keeps it "
                                    "(netnsMode \"keep\"); set it at boot with \"options ib_core "
                                    "netns_mode=0\" in /etc/modprobe.d");
        /* Not undone by a rollback: the switch back to shared answers EBUSY
         * while any other network namespace exists, and this container's
         * does; the policy (netnsMode "exclusive") asked for it host-wide. */
        if (shared) {
                r = crdma_netns_set_mode(ctx, CRDMA_NETNS_EXCLUSIVE, err);
                if (r < 0)
                        return r;
                crdma_log(ctx, CRDMA_LOG_INFO, "switched the host's RDMA netns mode to exclusive");
        }
        bool own;
        _cleanup_close_ int fd = -EBADF;
        r = own_netns(ctx, p, &own, &fd, err);
        if (r < 0)
                return r;
        if (!own)
                return crdma_refuse(err, EINVAL,
                                    "annotation io.crdma.netns=\"exclusive\": the container shares "
                                    "the host's network namespace; exclusive mode moves devices "
                                    "into a namespace of its own (run it with a network namespace)");
        return TAKE_FD(fd);
}

static int apply_devcgroup(struct crdma_context *ctx, const struct crdma_plan *plan,
                           const struct crdma_cgroup_target *t, struct applied *a,
                           struct crdma_error **err)
{
        _cleanup_free_ struct crdma_devcg_rule *rules = calloc(plan->n_nodes ? plan->n_nodes : 1,
                                                               sizeof(*rules));
        if (!rules)
                return crdma_fail_oom(err);
        for (size_t i = 0; i < plan->n_nodes; i++)
                rules[i] = (struct crdma_devcg_rule){ plan->nodes[i].type, plan->nodes[i].major,
                                                      plan->nodes[i].minor };
        if (t->mode == CRDMA_CGROUP_V2) {
                _cleanup_close_ int fd = crdma_cgroup_open(ctx, "", t->path, err);
                if (fd < 0)
                        return fd;
                return crdma_devcg_v2_allow(ctx, fd, t->path, rules, plan->n_nodes, &a->devcg, err);
        }
        if (!t->devices_path)
                return crdma_fail(err, ENOENT, "the container's process is in no v1 devices "
                                  "cgroup; cannot allow its RDMA devices");
        _cleanup_close_ int fd = crdma_cgroup_open(ctx, "devices", t->devices_path, err);
        if (fd < 0)
                return fd;
        return crdma_devcg_v1_allow(ctx, fd, t->devices_path, rules, plan->n_nodes, &a->devcg, err);
}

static int apply_rdma_max(struct crdma_context *ctx, const struct crdma_plan *plan,
                          const struct crdma_cgroup_target *t, struct applied *a,
                          struct crdma_error **err)
{
        if (!t->rdma_available)
                return 0; /* checked before anything changed */
        const char *sub = t->mode == CRDMA_CGROUP_V2 ? "" : "rdma";
        if (t->mode == CRDMA_CGROUP_V2) {
                int r = crdma_cgroup_enable_rdma(ctx, t->path, &a->subtree, err);
                if (r < 0)
                        return r;
        }
        _cleanup_close_ int fd = crdma_cgroup_open(ctx, sub, t->path, err);
        if (fd < 0)
                return fd;
        _cleanup_free_ const char **lines = calloc(plan->n_devices ? plan->n_devices : 1,
                                                   sizeof(*lines));
        if (!lines)
                return crdma_fail_oom(err);
        for (size_t i = 0; i < plan->n_devices; i++)
                lines[i] = plan->devices[i].rdma_max_line;
        return crdma_cgroup_rdma_max_set(ctx, fd, t->path, lines, plan->n_devices, &a->rdma, err);
}

static int apply_moves(struct crdma_context *ctx, const struct crdma_plan *plan, int netns_fd,
                       struct applied *a, struct crdma_error **err)
{
        a->moves = calloc(plan->n_devices ? plan->n_devices : 1, sizeof(*a->moves));
        if (!a->moves)
                return crdma_fail_oom(err);
        for (size_t i = 0; i < plan->n_devices; i++) {
                int r = crdma_netns_move(ctx, plan->devices[i].name, netns_fd, &a->moves[a->n_moves], err);
                if (r < 0)
                        return r;
                a->n_moves++;
        }
        return 0;
}

static int check_rdma_controller(struct crdma_context *ctx, const struct crdma_plan *plan,
                                 const struct crdma_cgroup_target *t, struct crdma_error **err)
{
        if (t->rdma_available)
                return 0;
        const char *why = t->mode == CRDMA_CGROUP_V2
                                  ? "the kernel's cgroup v2 has no rdma controller (CONFIG_CGROUP_RDMA)"
                                  : "no v1 rdma hierarchy holds the container (CONFIG_CGROUP_RDMA, "
                                    "or the rdma hierarchy is not mounted)";
        if (!plan->best_effort)
                return crdma_refuse(err, EOPNOTSUPP,
                                    "rdma.max: %s, so the container's RDMA limits cannot be "
                                    "enforced; the policy may allow this with \"limits\": "
                                    "{\"enforce\": \"best-effort\"}", why);
        crdma_log(ctx, CRDMA_LOG_WARNING, "rdma.max: %s; limits not enforced (policy: best-effort)", why);
        return 0;
}

/* Everything checked before anything changes: the process (pinned), its
 * cgroups, the rdma controller, the owner of the nodes, the netns mode. */
struct prepared {
        struct crdma_pinned pin;
        struct crdma_cgroup_target target;
        uid_t uid;
        gid_t gid;
        int netns_fd; /* exclusive mode: the container's network namespace */
};

static void prepared_clear(struct prepared *p)
{
        crdma_pinned_clear(&p->pin);
        crdma_cgroup_target_clear(&p->target);
        if (p->netns_fd >= 0)
                close(p->netns_fd);
}

static int prepare(struct crdma_context *ctx, const struct crdma_plan *plan,
                   const struct crdma_container *c, struct prepared *p, struct crdma_error **err)
{
        /* Pin the process and check it is the container's: while the pidfd
         * stays live (checked again at the end) its pid names no other. */
        int r = crdma_container_pin(ctx, c, &p->pin, err);
        if (r >= 0)
                r = crdma_cgroup_target_init(ctx, &p->pin.cgroups, &p->target, err);
        if (r >= 0)
                r = check_rdma_controller(ctx, plan, &p->target, err);
        if (r >= 0)
                r = crdma_proc_root_ids(&p->pin, &p->uid, &p->gid, err);
        if (r >= 0 && plan->netns == CRDMA_NETNS_EXCLUSIVE) {
                p->netns_fd = prepare_exclusive(ctx, plan, &p->pin, err);
                r = p->netns_fd < 0 ? p->netns_fd : 0;
        } else if (r >= 0) {
                r = check_shared(ctx, &p->pin, err);
        }
        return r;
}

int crdma_plan_apply(struct crdma_context *ctx, const struct crdma_plan *plan,
                     const struct crdma_container *c, struct crdma_error **err)
{
        if (!ctx || !plan || !c)
                return crdma_fail(err, EINVAL, "crdma_plan_apply: NULL argument");

        int r = check_capabilities(plan, c, err);
        if (r >= 0)
                r = check_config_memlock(plan, c, err);
        if (r >= 0)
                r = crdma_devnodes_check_host(ctx, plan->nodes, plan->n_nodes, err);
        if (r < 0)
                return r;
        warn_seccomp(ctx, plan, c);

        struct prepared p = { .pin = { .pidfd = -EBADF, .piddir = -EBADF }, .netns_fd = -EBADF };
        r = prepare(ctx, plan, c, &p, err);
        if (r < 0) {
                prepared_clear(&p);
                return r;
        }

        /* Everything checked: now change things, remembering how to undo. */
        struct applied a = { 0 };
        r = crdma_devnodes_create(ctx, p.pin.piddir, c->rootfs, plan->nodes, plan->n_nodes, p.uid,
                                  p.gid, &a.nodes, err);
        if (r >= 0)
                r = apply_devcgroup(ctx, plan, &p.target, &a, err);
        if (r >= 0)
                r = apply_rdma_max(ctx, plan, &p.target, &a, err);
        if (r >= 0)
                r = crdma_memlock_raise(ctx, p.pin.pid, plan->memlock, &a.memlock, err);
        if (r >= 0 && p.netns_fd >= 0)
                r = apply_moves(ctx, plan, p.netns_fd, &a, err);
        if (r >= 0 && CRDMA_FAULT(ctx, "stall"))
                for (;;)
                        pause(); /* everything applied, nothing returned: killed here */
        if (r >= 0 && !crdma_pinned_alive(&p.pin))
                r = crdma_fail(err, ESRCH, "process %d: the container's process exited while crdma "
                               "applied its plan", (int) c->pid);
        if (r < 0)
                roll_back(ctx, &a, err);
        applied_free(&a);
        prepared_clear(&p);
        return r;
}

int crdma_release(struct crdma_context *ctx, const struct crdma_request *req,
                  const char *netns_path, struct crdma_error **err)
{
        if (!ctx || !req)
                return crdma_fail(err, EINVAL, "crdma_release: NULL argument");
        if (req->netns != CRDMA_NETNS_EXCLUSIVE || !netns_path)
                return 0;
        _cleanup_close_ int fd = open(netns_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return 0; /* gone with the container: the kernel returned them */
                return crdma_fail_errno(err, errno, "network namespace %s: cannot open", netns_path);
        }
        if (req->all_devices)
                return crdma_netns_return(ctx, fd, NULL, 0, err);
        return crdma_netns_return(ctx, fd, (const char *const *) req->devices.v, req->devices.n, err);
}
