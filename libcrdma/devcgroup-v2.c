/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cgroup v2: give a created container its devices by swapping each device
 * program attached to its cgroup for the same program with crdma's prefix
 * (devcgroup-prog.c), all or none, and put the runtime's back on undo.
 *
 * One pass opens, reads, builds and loads every program before it swaps any,
 * so a program crdma cannot rebuild leaves the cgroup as it was.  A program
 * that disappears meanwhile (the runtime updated the container) restarts the
 * pass.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

#include "cleanup.h"
#include "context.h"
#include "devcgroup-bpf.h"
#include "devcgroup-internal.h"
#include "devcgroup.h"
#include "error.h"
#include "fault.h"

/* One program attached to the cgroup, and what to do with it. */
struct v2_prog {
        uint32_t id;
        int orig_fd;
        int new_fd; /* -EBADF: it already allows the rules */
        char name[BPF_OBJ_NAME_LEN + 16];
        size_t n_orig, n_new;
};

/* The cgroup's programs in one pass, closed and freed as one. */
struct v2_progs {
        struct v2_prog *v;
        size_t n;
        size_t n_change; /* those with a new_fd */
};

static void v2_progs_done(struct v2_progs *ps)
{
        for (size_t i = 0; ps->v && i < ps->n; i++) {
                crdma_closep(&ps->v[i].orig_fd);
                crdma_closep(&ps->v[i].new_fd);
        }
        free(ps->v);
}

static bool ids_contain(const uint32_t *ids, uint32_t n, uint32_t id)
{
        for (uint32_t i = 0; i < n; i++)
                if (ids[i] == id)
                        return true;
        return false;
}

/* Swap `s` back; -ENOENT when ours is no longer attached.  Single mode has no BPF_F_REPLACE
 * to check that ours is still there: `q`, `ids` are the cgroup's programs, queried once. */
static int v2_swap_back(const struct crdma_devcg_undo *u, const struct crdma_devcg_v2_swap *s,
                        int q, const uint32_t *ids, uint32_t n_ids)
{
        if (!(s->attach_flags & BPF_F_ALLOW_MULTI) && q < 0)
                return q;
        if (!(s->attach_flags & BPF_F_ALLOW_MULTI) && !ids_contain(ids, n_ids, s->new_id))
                return -ENOENT;
        return crdma_devcg_bpf_replace(u->cgroup_fd, s->orig_fd, s->new_fd, s->attach_flags);
}

static int v2_swap_back_error(const struct crdma_devcg_undo *u,
                              const struct crdma_devcg_v2_swap *s, int r,
                              struct crdma_error **err)
{
        if (r == -ENOENT)
                return crdma_fail(err, ENOENT,
                                  "cgroup %s: putting back the runtime's device program (id "
                                  "%" PRIu32 ") failed: crdma's program (id %" PRIu32 ") is no "
                                  "longer attached, something else replaced it; left as it is",
                                  u->cgroup_name, s->orig_id, s->new_id);
        return crdma_fail_errno_hint(err, r, CRDMA_DEVCG_HINT_CAPS,
                                    "cgroup %s: putting back the runtime's device program (id "
                                    "%" PRIu32 ") in place of crdma's (id %" PRIu32 ") failed",
                                    u->cgroup_name, s->orig_id, s->new_id);
}

/* Put the runtime's programs back, last swap first.  Swaps that succeed
 * are dropped from the record; the first failure is reported. */
int crdma_devcg_v2_undo(struct crdma_devcg_undo *u, struct crdma_error **err)
{
        if (u->n_swaps == 0)
                return 0;
        int ret = 0;
        _cleanup_free_ uint32_t *ids = NULL;
        uint32_t n_ids = 0, flags = 0;
        int q = crdma_devcg_bpf_query(u->cgroup_fd, 0, &ids, &n_ids, &flags);

        for (size_t k = u->n_swaps; k-- > 0;) {
                struct crdma_devcg_v2_swap *s = &u->swaps[k];
                int r = v2_swap_back(u, s, q, ids, n_ids);
                if (r == 0) {
                        crdma_closep(&s->orig_fd);
                        crdma_closep(&s->new_fd);
                        s->orig_fd = s->new_fd = -EBADF;
                } else if (ret == 0) {
                        ret = v2_swap_back_error(u, s, r, err);
                }
        }
        /* Keep the failed ones (in their order) for the caller to retry or drop. */
        size_t m = 0;
        for (size_t k = 0; k < u->n_swaps; k++)
                if (u->swaps[k].orig_fd >= 0)
                        u->swaps[m++] = u->swaps[k];
        u->n_swaps = m;
        return ret;
}

static int v2_build_error(struct crdma_error **err, int r, const char *cg, const struct v2_prog *p)
{
        switch (r) {
        case -EOPNOTSUPP:
                return crdma_fail(err, EOPNOTSUPP,
                                  "cgroup %s: the device program (id %" PRIu32 ", %s) uses helper "
                                  "calls, maps or blinded constants, which crdma cannot load "
                                  "again with its rules prepended; give the container its RDMA "
                                  "devices in the OCI config (crdma-hook edit or precreate) "
                                  "instead",
                                  cg, p->id, p->name);
        case -EBADMSG:
                return crdma_fail(err, EBADMSG,
                                  "cgroup %s: the device program (id %" PRIu32 ", %s) starts with "
                                  "a crdma prefix this version does not know (another crdma "
                                  "version?); recreate the container",
                                  cg, p->id, p->name);
        case -ENOMEM:
                return crdma_fail_oom(err);
        default:
                return crdma_fail(err, -r,
                                  "cgroup %s: the device program (id %" PRIu32 ", %s) has "
                                  "instructions crdma does not understand (%s); recreate the "
                                  "container or give it the devices in its OCI config",
                                  cg, p->id, p->name, strerror(-r));
        }
}

/* Open program `p->id` and read it back: -EAGAIN when it went away meanwhile. */
static int v2_prog_open(const char *cg, struct v2_prog *p, struct bpf_insn **insns,
                        struct crdma_error **err)
{
        snprintf(p->name, sizeof(p->name), "?");
        int fd = crdma_devcg_bpf_open(p->id);
        if (fd == -ENOENT)
                return -EAGAIN;
        if (fd < 0)
                return crdma_fail_errno_hint(err, fd,
                                            CRDMA_DEVCG_HINT_CAPS
                                            ", and no LSM policy may deny it the program",
                                            "cgroup %s: opening its device program (id %" PRIu32
                                            ") failed",
                                            cg, p->id);
        p->orig_fd = fd;
        uint32_t type = 0;
        int r = crdma_devcg_bpf_read(p->orig_fd, insns, &p->n_orig, &type, p->name,
                                     sizeof(p->name));
        if (r == -EAGAIN || r == -ENOENT)
                return -EAGAIN;
        if (r < 0)
                return crdma_fail_errno_hint(err, r, CRDMA_DEVCG_HINT_CAPS,
                                            "cgroup %s: reading the instructions of its device "
                                            "program (id %" PRIu32 ") failed",
                                            cg, p->id);
        if (type != BPF_PROG_TYPE_CGROUP_DEVICE)
                return crdma_fail(err, EINVAL,
                                  "cgroup %s: program %" PRIu32 " attached as a device program "
                                  "has type %" PRIu32,
                                  cg, p->id, type);
        return 0;
}

/* Program `p->id` with the rules: loaded into p->new_fd (returns 1), or 0 when it already
 * allows them. */
static int v2_prog_prepare(struct crdma_context *ctx, const char *cg, struct v2_prog *p,
                           const struct crdma_devcg_rule *rules, size_t n,
                           struct crdma_error **err)
{
        _cleanup_free_ struct bpf_insn *orig = NULL, *built = NULL;
        int r = v2_prog_open(cg, p, &orig, err);
        if (r < 0)
                return r;
        bool changed = false;
        r = crdma_devcg_v2_build(orig, p->n_orig, rules, n, &built, &p->n_new, &changed);
        if (r < 0)
                return v2_build_error(err, r, cg, p);
        if (!changed) {
                crdma_log(ctx, CRDMA_LOG_DEBUG,
                        "cgroup %s: device program %" PRIu32 " (%s, %zu instructions) already "
                        "allows the devices",
                        cg, p->id, p->name, p->n_orig);
                return 0;
        }
        int fd = crdma_devcg_bpf_load(ctx, cg, built, p->n_new, err);
        if (fd < 0)
                return fd;
        p->new_fd = fd;
        return 1;
}

/* Every program in `ids`, prepared; nothing attached yet. */
static int v2_prepare_all(struct crdma_context *ctx, const char *cg, const uint32_t *ids,
                          uint32_t count, const struct crdma_devcg_rule *rules, size_t n,
                          struct v2_progs *ps, struct crdma_error **err)
{
        ps->v = calloc(count, sizeof(*ps->v));
        if (!ps->v)
                return crdma_fail_oom(err);
        ps->n = count;
        for (size_t i = 0; i < ps->n; i++) {
                ps->v[i].orig_fd = ps->v[i].new_fd = -EBADF;
                ps->v[i].id = ids[i];
        }
        for (size_t i = 0; i < ps->n; i++) {
                int r = v2_prog_prepare(ctx, cg, &ps->v[i], rules, n, err);
                if (r < 0)
                        return r;
                ps->n_change += (size_t) r;
        }
        return 0;
}

/* A swap failed: put back what this pass already swapped.  -EAGAIN (retry) when the
 * runtime's program was replaced meanwhile and nothing was left changed. */
static int v2_swap_failed(const char *cg, const struct v2_prog *p, uint32_t flags, int r,
                          struct crdma_devcg_undo *u, struct crdma_error **err)
{
        _cleanup_(crdma_error_freep) struct crdma_error *rb_err = NULL;
        int rb = crdma_devcg_v2_undo(u, &rb_err);
        if (r == -ENOENT && rb == 0)
                return -EAGAIN;
        const char *hint = CRDMA_DEVCG_HINT_CAPS;
        if (r == -EINVAL && (flags & BPF_F_ALLOW_MULTI))
                hint = "; replacing a program in place (BPF_F_REPLACE) needs Linux 5.6 or later";
        return crdma_devcg_fail_sys_also(err, r, hint,
                                         rb < 0 ? crdma_error_message(rb_err) : NULL,
                                         "cgroup %s: replacing its device program (id %" PRIu32
                                         ", %s) failed",
                                         cg, p->id, p->name);
}

/* Swap in each program prepared with a new_fd, recording each swap in `u`. */
static int v2_swap_all(struct crdma_context *ctx, int cgroup_fd, const char *cg,
                       struct v2_progs *ps, uint32_t flags, struct crdma_devcg_undo *u,
                       struct crdma_error **err)
{
        u->swaps = calloc(ps->n_change ? ps->n_change : 1, sizeof(*u->swaps));
        if (!u->swaps)
                return crdma_fail_oom(err);
        for (size_t i = 0; i < ps->n; i++) {
                struct v2_prog *p = &ps->v[i];
                if (p->new_fd < 0)
                        continue;
                int r = CRDMA_FAULT(ctx, "bpf-replace")
                                ? -errno
                                : crdma_devcg_bpf_replace(cgroup_fd, p->new_fd, p->orig_fd, flags);
                if (r < 0)
                        return v2_swap_failed(cg, p, flags, r, u, err);
                struct crdma_devcg_v2_swap *s = &u->swaps[u->n_swaps++];
                s->orig_fd = TAKE_FD(p->orig_fd);
                s->new_fd = TAKE_FD(p->new_fd);
                s->orig_id = p->id;
                s->new_id = crdma_devcg_bpf_id(s->new_fd);
                s->attach_flags = flags;
                crdma_log(ctx, CRDMA_LOG_DEBUG,
                        "cgroup %s: device program %" PRIu32 " (%s, %zu instructions) replaced by "
                        "%" PRIu32 " (%zu instructions)",
                        cg, s->orig_id, p->name, p->n_orig, s->new_id, p->n_new);
        }
        return 0;
}

/* One pass: -EAGAIN when the cgroup's programs changed under us (retry). */
static int v2_apply_once(struct crdma_context *ctx, int cgroup_fd, const char *cg,
                         const struct crdma_devcg_rule *rules, size_t n,
                         struct crdma_devcg_undo **undo, struct crdma_error **err)
{
        _cleanup_free_ uint32_t *ids = NULL;
        uint32_t count = 0, flags = 0;
        int r = crdma_devcg_bpf_query(cgroup_fd, 0, &ids, &count, &flags);
        if (r < 0)
                return crdma_fail_errno_hint(err, r,
                                            r == -EPERM ? CRDMA_DEVCG_HINT_CAPS
                                                        : "is it a cgroup v2 directory?",
                                            "cgroup %s: listing its device programs "
                                            "(BPF_PROG_QUERY) failed",
                                            cg);

        _cleanup_(crdma_devcg_undo_freep) struct crdma_devcg_undo *u = NULL;
        r = crdma_devcg_undo_new(2, cgroup_fd, cg, &u);
        if (r < 0)
                return crdma_fail_errno_hint(err, r, NULL, "cgroup %s: recording the change", cg);
        if (count == 0) {
                crdma_log(ctx, CRDMA_LOG_DEBUG,
                        "cgroup %s: no device program attached to it: nothing to replace", cg);
                *undo = TAKE_PTR(u);
                return 0;
        }

        _cleanup_(v2_progs_done) struct v2_progs progs = { 0 };
        r = v2_prepare_all(ctx, cg, ids, count, rules, n, &progs, err);
        if (r < 0)
                return r;
        r = v2_swap_all(ctx, cgroup_fd, cg, &progs, flags, u, err);
        if (r < 0)
                return r;
        *undo = TAKE_PTR(u);
        return 0;
}

int crdma_devcg_v2_allow(struct crdma_context *ctx, int cgroup_fd, const char *cgroup_name,
                         const struct crdma_devcg_rule *rules, size_t n,
                         struct crdma_devcg_undo **undo, struct crdma_error **err)
{
        const char *cg = cgroup_name ? cgroup_name : "(container)";
        _cleanup_free_ struct crdma_devcg_rule *set = NULL;
        size_t n_set = 0;
        int r = crdma_devcg_rules_normalize(rules, n, &set, &n_set);
        if (r < 0)
                return crdma_fail(err, -r, "cgroup %s: invalid device rules for the device program",
                                  cg);

        _cleanup_(crdma_devcg_undo_freep) struct crdma_devcg_undo *u = NULL;
        for (int attempt = 0;; attempt++) {
                r = v2_apply_once(ctx, cgroup_fd, cg, set, n_set, &u, err);
                if (r != -EAGAIN)
                        break;
                if (attempt == 5)
                        return crdma_fail(err, EAGAIN,
                                          "cgroup %s: its device programs kept changing while "
                                          "crdma replaced them; is another tool updating the "
                                          "container?",
                                          cg);
        }
        if (r < 0)
                return r;

        /* Programs on ancestors also run (multi mode) and may still deny. */
        uint32_t eff = 0, own = 0;
        if (crdma_devcg_bpf_query(cgroup_fd, BPF_F_QUERY_EFFECTIVE, NULL, &eff, NULL) == 0 &&
            crdma_devcg_bpf_query(cgroup_fd, 0, NULL, &own, NULL) == 0 && eff > own)
                crdma_log(ctx, CRDMA_LOG_WARNING,
                        "cgroup %s: %" PRIu32 " device program(s) of parent cgroups also apply; "
                        "crdma leaves them alone and they may still deny the devices",
                        cg, eff - own);

        if (undo)
                *undo = TAKE_PTR(u);
        return 0;
}
