/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Allow rules for the syscalls RDMA stacks need (the plan's list) in a
 * linux.seccomp profile that denies by default.  A name counts when
 * libseccomp knows it on at least one of the profile's architectures
 * (runtimes skip a name an architecture lacks).  A rule that already allows
 * a syscall unconditionally is enough, and a syscall with rules on its
 * arguments is left to them; one that gives it another action
 * unconditionally is refused: libseccomp (2.5.4) keeps the first of two such
 * rules and drops the later allow without an error, so it would not apply. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "config-edit.h"
#include "config-tree.h"
#include "context.h"
#include "error.h"
#include "json-member.h"
#include "state.h"
#include "syscalls.h"

struct rule {
        yajl_val names, action, args;
};

static int read_rule(struct oci_edit *e, yajl_val v, size_t i, struct rule *out,
                     struct crdma_error **err)
{
        char where[64];
        snprintf(where, sizeof(where), "linux.seccomp.syscalls[%zu]", i);
        if (!YAJL_IS_OBJECT(v))
                return crdma_refuse(err, EINVAL, "%s: \"%s\" is not a JSON object", e->origin, where);
        snprintf(where, sizeof(where), "linux.seccomp.syscalls[%zu].names", i);
        int r = crdma_json_member_strings(e->origin, v, "names", where, &out->names, err);
        snprintf(where, sizeof(where), "linux.seccomp.syscalls[%zu].action", i);
        if (r >= 0)
                r = crdma_json_member(e->origin, v, "action", yajl_t_string, where, &out->action,
                                      err);
        snprintf(where, sizeof(where), "linux.seccomp.syscalls[%zu].args", i);
        if (r >= 0)
                r = crdma_json_member(e->origin, v, "args", yajl_t_array, where, &out->args, err);
        if (r >= 0 && !out->action)
                return crdma_refuse(err, EINVAL, "%s: linux.seccomp.syscalls[%zu] has no \"action\"",
                                    e->origin, i);
        if (out->args && out->args->u.array.len == 0)
                out->args = NULL;
        return r;
}

static bool is_allow(const struct rule *rule)
{
        return strcmp(rule->action->u.string, "SCMP_ACT_ALLOW") == 0;
}

/* args == [{"index": 0, "value": value, "op": "SCMP_CMP_EQ"}] */
static bool args_arg0_eq(yajl_val args, long long value)
{
        if (!args || args->u.array.len != 1 || !YAJL_IS_OBJECT(args->u.array.values[0]))
                return false;
        yajl_val a = args->u.array.values[0], *index = tree_slot(a, "index"),
                 *val = tree_slot(a, "value"), *op = tree_slot(a, "op");
        char want[24];
        snprintf(want, sizeof(want), "%lld", value);
        return index && YAJL_IS_NUMBER(*index) && strcmp((*index)->u.number.r, "0") == 0 && val &&
               YAJL_IS_NUMBER(*val) && strcmp((*val)->u.number.r, want) == 0 && op &&
               YAJL_IS_STRING(*op) && strcmp((*op)->u.string, "SCMP_CMP_EQ") == 0;
}

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

int oci_edit_check_seccomp(struct oci_edit *e, struct crdma_error **err)
{
        yajl_val sc = NULL, def = NULL, arches = NULL, rules = NULL;
        int r = e->linux_ ? crdma_json_member(e->origin, e->linux_, "seccomp", yajl_t_object,
                                              "linux.seccomp", &sc, err)
                          : 0;
        if (r >= 0 && sc)
                r = crdma_json_member(e->origin, sc, "defaultAction", yajl_t_string,
                                      "linux.seccomp.defaultAction", &def, err);
        if (r < 0 || !sc)
                return r;
        if (!def)
                return crdma_refuse(err, EINVAL, "%s: linux.seccomp has no \"defaultAction\"",
                                    e->origin);
        if (oci_seccomp_action_allows(def->u.string))
                return 0;
        r = crdma_json_member_strings(e->origin, sc, "architectures",
                                      "linux.seccomp.architectures", &arches, err);
        if (r >= 0)
                r = crdma_json_member(e->origin, sc, "syscalls", yajl_t_array,
                                      "linux.seccomp.syscalls", &rules, err);
        if (r < 0)
                return r;

        for (size_t s = 0; s < e->plan->n_syscalls; s++) {
                const struct crdma_plan_syscall *want = &e->plan->syscalls[s];
                r = known(e, arches, want->name, err);
                if (r < 0)
                        return r;
                if (r == 0) {
                        crdma_log(e->opts->ctx, CRDMA_LOG_DEBUG,
                                  "%s: no architecture the seccomp profile lists has %s",
                                  e->origin, want->name);
                        continue;
                }
                bool allowed = false, conditional = false;
                for (size_t i = 0; rules && i < rules->u.array.len; i++) {
                        struct rule rule = { 0 };
                        r = read_rule(e, rules->u.array.values[i], i, &rule, err);
                        if (r < 0)
                                return r;
                        if (!crdma_json_strings_contain(rule.names, want->name))
                                continue;
                        conditional |= rule.args != NULL;
                        if (is_allow(&rule) && (!rule.args || (want->arg0 >= 0 &&
                                                               args_arg0_eq(rule.args, want->arg0))))
                                allowed = true;
                        else if (!is_allow(&rule) && !rule.args)
                                return crdma_refuse(err, EEXIST,
                                                    "%s: linux.seccomp.syscalls[%zu] gives %s the "
                                                    "action %s, but RDMA stacks need it allowed; "
                                                    "remove %s from that rule",
                                                    e->origin, i, want->name,
                                                    rule.action->u.string, want->name);
                }
                if (allowed)
                        continue;
                /* Rules on its arguments are the profile's own case-by-case
                 * choice (podman's denies only audit netlink sockets), and
                 * libseccomp refuses a rule that overlaps one of them with
                 * another action ("seccomp_rule_add_array: File exists"). */
                if (conditional) {
                        crdma_log(e->opts->ctx, CRDMA_LOG_DEBUG,
                                  "%s: the seccomp profile has rules on %s's arguments; left "
                                  "as they are",
                                  e->origin, want->name);
                        continue;
                }
                if (want->arg0 == AF_NETLINK && strcmp(want->name, "socket") == 0)
                        e->allow_netlink_socket = true;
                else if (want->arg0 < 0)
                        e->allow[e->n_allow++] = want->name;
        }
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
