/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cgroup v2: narrow what a cgroup and everything below it may open, with a
 * program of crdma's own attached next to the others (multi mode), for a
 * cgroup with no container's program to extend (a Slurm job step).
 *
 * Multi mode composes with what a resource manager attaches below: the kernel
 * runs, for a cgroup, its own programs and those of every ancestor attached
 * with BPF_F_ALLOW_MULTI, and allows an access only when all of them do.  So
 * Slurm's programs (override mode on job_N and step_M/user, its task program
 * without flags) keep denying what they deny, and ours denies the rest.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

#include "cleanup.h"
#include "context.h"
#include "devcgroup-bpf.h"
#include "devcgroup-internal.h"
#include "devcgroup.h"
#include "error.h"

/* Is `want` already attached to the cgroup itself?  Best effort: a program
 * that cannot be read back counts as another one. */
static bool v2_deny_attached(int cgroup_fd, const struct bpf_insn *want, size_t n_want)
{
        _cleanup_free_ uint32_t *ids = NULL;
        uint32_t count = 0;
        if (crdma_devcg_bpf_query(cgroup_fd, 0, &ids, &count, NULL) < 0)
                return false;
        for (uint32_t i = 0; i < count; i++) {
                _cleanup_close_ int fd = crdma_devcg_bpf_open(ids[i]);
                if (fd < 0)
                        continue;
                _cleanup_free_ struct bpf_insn *insns = NULL;
                size_t n = 0;
                uint32_t type = 0;
                char name[BPF_OBJ_NAME_LEN + 16] = "";
                if (crdma_devcg_bpf_read(fd, &insns, &n, &type, name, sizeof(name)) < 0)
                        continue;
                if (strcmp(name, CRDMA_DEVCG_PROG_NAME) == 0 && n == n_want &&
                    memcmp(insns, want, n * sizeof(*insns)) == 0)
                        return true;
        }
        return false;
}

int crdma_devcg_v2_deny(struct crdma_context *ctx, int cgroup_fd, const char *cgroup_name,
                        const struct crdma_devcg_rule *rules, size_t n,
                        struct crdma_error **err)
{
        const char *cg = cgroup_name ? cgroup_name : "(cgroup)";
        _cleanup_free_ struct crdma_devcg_rule *set = NULL;
        size_t n_set = 0;
        int r = crdma_devcg_rules_normalize(rules, n, &set, &n_set);
        if (r < 0)
                return crdma_fail(err, -r, "cgroup %s: invalid device rules for the device program",
                                  cg);
        if (n_set == 0)
                return 0; /* nothing to deny */
        _cleanup_free_ struct bpf_insn *prog = NULL;
        size_t n_prog = 0;
        r = crdma_devcg_v2_deny_program(set, n_set, &prog, &n_prog);
        if (r < 0)
                return crdma_fail(err, -r, "cgroup %s: building the device program", cg);
        if (v2_deny_attached(cgroup_fd, prog, n_prog)) {
                crdma_log(ctx, CRDMA_LOG_DEBUG, "cgroup %s: crdma's device program is already "
                          "attached", cg);
                return 0;
        }

        _cleanup_close_ int fd = crdma_devcg_bpf_load(ctx, cg, prog, n_prog, err);
        if (fd < 0)
                return fd;
        r = crdma_devcg_bpf_attach(cgroup_fd, fd, BPF_F_ALLOW_MULTI);
        if (r == -EPERM) {
                uint32_t count = 0, flags = 0;
                if (crdma_devcg_bpf_query(cgroup_fd, 0, NULL, &count, &flags) == 0 && count > 0 &&
                    !(flags & BPF_F_ALLOW_MULTI))
                        return crdma_fail_errno_hint(err, -r, "detach it, or have its owner "
                                                     "attach it with BPF_F_ALLOW_MULTI",
                                                     "cgroup %s: attaching crdma's device program "
                                                     "failed: a program is attached there in "
                                                     "single or override mode, which admits no "
                                                     "other", cg);
                return crdma_fail_errno_hint(err, -r, CRDMA_DEVCG_HINT_CAPS,
                                             "cgroup %s: attaching crdma's device program failed",
                                             cg);
        }
        if (r < 0)
                return crdma_fail_errno_hint(err, -r, NULL,
                                             "cgroup %s: attaching crdma's device program failed",
                                             cg);
        crdma_log(ctx, CRDMA_LOG_DEBUG, "cgroup %s: device program denying %zu RDMA node(s) "
                  "attached", cg, n_set);
        return 0;
}
