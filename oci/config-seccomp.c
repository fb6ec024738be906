/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Allow rules for the syscalls RDMA stacks need (the plan's list) in a
 * linux.seccomp profile that denies by default, from the one reading of a
 * profile (seccomp-profile.h).  A name counts when libseccomp knows it on at
 * least one of the profile's architectures (runtimes skip a name an
 * architecture lacks).  A rule that already lets a syscall through is
 * enough, and a syscall with rules on its arguments is left to them; one that
 * gives it another action unconditionally is refused: libseccomp (2.5.4)
 * keeps the first of two such rules and drops the later allow without an
 * error, so it would not apply. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "config-edit.h"
#include "config-tree.h"
#include "context.h"
#include "error.h"
#include "json-member.h"
#include "seccomp-profile.h"
#include "syscalls.h"

/* 1 when some listed architecture has it (the native one when none is).
 * Every one is checked: an unknown one is refused wherever it is listed. */
static int known(struct oci_edit *e, yajl_val arches, const char *name, struct crdma_error **err)
{
        if (!arches || arches->u.array.len == 0)
                return crdma_syscall_resolve(name) >= 0;
        int found = 0;
        for (size_t i = 0; i < arches->u.array.len; i++) {
                const char *arch = arches->u.array.values[i]->u.string;
                int r = crdma_syscall_known_on(name, arch);
                if (r < 0)
                        return crdma_refuse(err, EINVAL,
                                            "%s: linux.seccomp.architectures[%zu] \"%s\" is no "
                                            "architecture libseccomp knows; fix the profile",
                                            e->origin, i, arch);
                found |= r > 0;
        }
        return found;
}

/* What the plan's syscall `want` needs from the profile: nothing (allowed, or
 * left to rules on its arguments), an allow rule, or a refusal. */
static int check_one(struct oci_edit *e, yajl_val sc, yajl_val arches,
                     const struct crdma_plan_syscall *want, struct crdma_error **err)
{
        int r = known(e, arches, want->name, err);
        if (r <= 0) {
                if (r == 0)
                        crdma_log(e->opts->ctx, CRDMA_LOG_DEBUG,
                                  "%s: no architecture the seccomp profile lists has %s",
                                  e->origin, want->name);
                return r;
        }
        enum oci_seccomp_verdict v;
        size_t rule = 0;
        const char *action = NULL;
        r = oci_seccomp_verdict(e->origin, sc, want->name, want->arg0, &v, &rule, &action, err);
        if (r < 0)
                return r;
        switch (v) {
        case OCI_SECCOMP_ALLOWED:
                return 0;
        case OCI_SECCOMP_OTHER:
                return crdma_refuse(err, EEXIST, "%s: linux.seccomp.syscalls[%zu] gives %s the "
                                    "action %s, but RDMA stacks need it allowed; remove %s from "
                                    "that rule", e->origin, rule, want->name, action, want->name);
        case OCI_SECCOMP_CONDITIONAL:
                /* libseccomp refuses a rule that overlaps one of them with another
                 * action ("seccomp_rule_add_array: File exists"). */
                crdma_log(e->opts->ctx, CRDMA_LOG_DEBUG,
                          "%s: the seccomp profile has rules on %s's arguments; left as they are",
                          e->origin, want->name);
                return 0;
        case OCI_SECCOMP_BY_DEFAULT:
                break;
        }
        if (want->arg0 == AF_NETLINK && strcmp(want->name, "socket") == 0)
                e->allow_netlink_socket = true;
        else if (want->arg0 < 0)
                e->allow[e->n_allow++] = want->name;
        return 0;
}

int oci_edit_check_seccomp(struct oci_edit *e, struct crdma_error **err)
{
        yajl_val sc = NULL, arches = NULL;
        bool denies = false;
        int r = e->linux_ ? crdma_json_member(e->origin, e->linux_, "seccomp", yajl_t_object,
                                              "linux.seccomp", &sc, err)
                          : 0;
        if (r >= 0)
                r = oci_seccomp_denies_by_default(e->origin, sc, &denies, err);
        if (r < 0 || !denies)
                return r;
        r = crdma_json_member_strings(e->origin, sc, "architectures",
                                      "linux.seccomp.architectures", &arches, err);
        for (size_t s = 0; r >= 0 && s < e->plan->n_syscalls; s++)
                r = check_one(e, sc, arches, &e->plan->syscalls[s], err);
        if (r < 0)
                return r;
        e->seccomp = sc;
        return 0;
}

/* {"names": [...], "action": "SCMP_ACT_ALLOW"[, "args": [arg0 == value]]}.
 * Each node joins the rule as soon as it is made, so freeing the rule frees
 * everything on failure. */
static yajl_val allow_rule(const char *const *names, size_t n, long long arg0)
{
        yajl_val rule = tree_new(yajl_t_object);
        if (!rule)
                return NULL;
        yajl_val list = tree_new(yajl_t_array), args, arg;
        if (tree_obj_append(rule, "names", list) < 0)
                goto fail;
        for (size_t i = 0; i < n; i++)
                if (tree_arr_append(list, tree_new_string(names[i])) < 0)
                        goto fail;
        if (tree_obj_append(rule, "action", tree_new_string("SCMP_ACT_ALLOW")) < 0)
                goto fail;
        if (arg0 < 0)
                return rule;
        if (tree_obj_append(rule, "args", args = tree_new(yajl_t_array)) < 0 ||
            tree_arr_append(args, arg = tree_new(yajl_t_object)) < 0 ||
            tree_obj_append(arg, "index", tree_new_u64(0)) < 0 ||
            tree_obj_append(arg, "value", tree_new_i64(arg0)) < 0 ||
            tree_obj_append(arg, "op", tree_new_string("SCMP_CMP_EQ")) < 0)
                goto fail;
        return rule;
fail:
        yajl_tree_free(rule);
        return NULL;
}

int oci_edit_change_seccomp(struct oci_edit *e)
{
        if (!e->seccomp || (e->n_allow == 0 && !e->allow_netlink_socket))
                return 0;
        yajl_val rules = tree_ensure(e->seccomp, "syscalls", yajl_t_array);
        if (!rules)
                return -ENOMEM;
        if (e->n_allow > 0 && tree_arr_append(rules, allow_rule(e->allow, e->n_allow, -1)) < 0)
                return -ENOMEM;
        static const char *const socket_name[] = { "socket" };
        if (e->allow_netlink_socket &&
            tree_arr_append(rules, allow_rule(socket_name, 1, AF_NETLINK)) < 0)
                return -ENOMEM;
        return 0;
}
