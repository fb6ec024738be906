/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Syscall names, checked with libseccomp; the plan's allow rules added to a
 * caller's libseccomp filter. */
#include <ctype.h>
#include <errno.h>
#include <seccomp.h>
#include <string.h>

#include "cleanup.h"
#include "error.h"
#include "plan.h"
#include "seccomp-bpf.h"
#include "syscalls.h"

int crdma_syscall_resolve(const char *name)
{
        int nr = seccomp_syscall_resolve_name(name);
        /* Negative pseudo-numbers name syscalls the architecture lacks. */
        if (nr == __NR_SCMP_ERROR || nr < 0)
                return -ENOENT;
        return nr;
}

int crdma_syscall_known_on(const char *name, const char *oci_arch)
{
        /* OCI spells libseccomp's "x86_64" as "SCMP_ARCH_X86_64". */
        static const char prefix[] = "SCMP_ARCH_";
        char token[32];
        if (strncmp(oci_arch, prefix, sizeof(prefix) - 1) != 0)
                return -EINVAL;
        const char *a = oci_arch + sizeof(prefix) - 1;
        size_t n = strlen(a);
        if (n == 0 || n >= sizeof(token))
                return -EINVAL;
        for (size_t i = 0; i <= n; i++)
                token[i] = (char) tolower((unsigned char) a[i]);
        uint32_t arch = seccomp_arch_resolve_name(token);
        if (arch == 0)
                return -EINVAL;
        int nr = seccomp_syscall_resolve_name_arch(arch, name);
        return nr != __NR_SCMP_ERROR && nr >= 0;
}

/* What the filter's program does with each of the plan's syscalls (at its
 * first argument): refused unless allow or `also_ok`.  libseccomp (2.5.4)
 * answers 0 to an allow rule where an unconditional rule with another action
 * is there, and keeps that one: only the program tells. */
static int check_verdicts(scmp_filter_ctx filter, const struct crdma_plan *plan, uint32_t also_ok,
                          struct crdma_error **err)
{
        _cleanup_free_ struct sock_filter *prog = NULL;
        size_t n = 0;
        int r = crdma_seccomp_export(filter, &prog, &n);
        if (r < 0)
                return crdma_fail(err, -r, "seccomp filter: cannot export its program to check it");
        for (size_t i = 0; i < plan->n_syscalls; i++) {
                const struct crdma_plan_syscall *s = &plan->syscalls[i];
                int nr = crdma_syscall_resolve(s->name);
                uint32_t verdict = 0;
                if (nr < 0)
                        continue;
                r = crdma_seccomp_verdict(prog, n, nr, s->arg0 < 0 ? 0 : (uint64_t) s->arg0,
                                          &verdict);
                if (r < 0)
                        return crdma_fail(err, -r, "seccomp filter: cannot run its program to "
                                          "check %s", s->name);
                if (verdict != SCMP_ACT_ALLOW && verdict != also_ok)
                        return crdma_refuse(err, EEXIST,
                                            "seccomp filter: it already has a rule with another "
                                            "action for %s, which RDMA stacks need allowed; drop "
                                            "that rule",
                                            s->name);
        }
        return 0;
}

int crdma_plan_apply_seccomp(const struct crdma_plan *plan, void *seccomp_filter,
                             struct crdma_error **err)
{
        if (!plan || !seccomp_filter)
                return crdma_fail(err, EINVAL, "crdma_plan_apply_seccomp: NULL argument");
        scmp_filter_ctx filter = seccomp_filter;
        uint32_t def = 0;
        int r = seccomp_attr_get(filter, SCMP_FLTATR_ACT_DEFAULT, &def);
        if (r < 0)
                return crdma_fail(err, -r, "seccomp filter: cannot read its default action");
        /* A filter that allows by default needs nothing; libseccomp refuses
         * rules whose action is the default one. */
        if (def == SCMP_ACT_ALLOW || def == SCMP_ACT_LOG)
                return 0;
        /* The checks run the native architecture's part of the program. */
        if (seccomp_arch_exist(filter, SCMP_ARCH_NATIVE) != 0)
                return crdma_fail(err, EINVAL, "seccomp filter: it has no rules for the native "
                                  "architecture, where crdma checks what its rules do");
        /* First a conflict, before any change: a syscall meets a rule whose
         * action is neither allow nor the default. */
        r = check_verdicts(filter, plan, def, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < plan->n_syscalls; i++) {
                const struct crdma_plan_syscall *s = &plan->syscalls[i];
                int nr = crdma_syscall_resolve(s->name);
                if (nr < 0)
                        continue;
                r = s->arg0 < 0 ? seccomp_rule_add(filter, SCMP_ACT_ALLOW, nr, 0)
                                : seccomp_rule_add(filter, SCMP_ACT_ALLOW, nr, 1,
                                                   SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t) s->arg0));
                if (r == -EEXIST)
                        return crdma_refuse(err, EEXIST,
                                            "seccomp filter: it already has a rule with another "
                                            "action for %s, which RDMA stacks need allowed; drop "
                                            "that rule",
                                            s->name);
                if (r < 0)
                        return crdma_fail(err, -r, "seccomp filter: cannot add an allow rule for %s",
                                          s->name);
        }
        /* Then that every one is allowed now. */
        return check_verdicts(filter, plan, SCMP_ACT_ALLOW, err);
}
