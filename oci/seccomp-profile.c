/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One reading of an OCI seccomp profile (seccomp-profile.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config-tree.h"
#include "error.h"
#include "json-member.h"
#include "seccomp-profile.h"

bool oci_seccomp_action_allows(const char *action)
{
        return strcmp(action, "SCMP_ACT_ALLOW") == 0 || strcmp(action, "SCMP_ACT_LOG") == 0;
}

struct rule {
        yajl_val names, action, args;
};

static int read_rule(const char *origin, yajl_val v, size_t i, struct rule *out,
                     struct crdma_error **err)
{
        char where[64];
        snprintf(where, sizeof(where), "linux.seccomp.syscalls[%zu]", i);
        if (!YAJL_IS_OBJECT(v))
                return crdma_refuse(err, EINVAL, "%s: \"%s\" is not a JSON object", origin, where);
        snprintf(where, sizeof(where), "linux.seccomp.syscalls[%zu].names", i);
        int r = crdma_json_member_strings(origin, v, "names", where, &out->names, err);
        snprintf(where, sizeof(where), "linux.seccomp.syscalls[%zu].action", i);
        if (r >= 0)
                r = crdma_json_member(origin, v, "action", yajl_t_string, where, &out->action, err);
        snprintf(where, sizeof(where), "linux.seccomp.syscalls[%zu].args", i);
        if (r >= 0)
                r = crdma_json_member(origin, v, "args", yajl_t_array, where, &out->args, err);
        if (r >= 0 && !out->action)
                return crdma_refuse(err, EINVAL, "%s: linux.seccomp.syscalls[%zu] has no \"action\"",
                                    origin, i);
        if (out->args && out->args->u.array.len == 0)
                out->args = NULL;
        return r;
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

int oci_seccomp_verdict(const char *origin, yajl_val seccomp, const char *name, long long arg0,
                        enum oci_seccomp_verdict *out, size_t *rule_index, const char **action,
                        struct crdma_error **err)
{
        yajl_val rules = NULL;
        int r = crdma_json_member(origin, seccomp, "syscalls", yajl_t_array, "linux.seccomp.syscalls",
                                  &rules, err);
        if (r < 0)
                return r;
        bool allowed = false, conditional = false;
        for (size_t i = 0; rules && i < rules->u.array.len; i++) {
                struct rule rule = { 0 };
                r = read_rule(origin, rules->u.array.values[i], i, &rule, err);
                if (r < 0)
                        return r;
                if (!crdma_json_strings_contain(rule.names, name))
                        continue;
                bool allows = oci_seccomp_action_allows(rule.action->u.string);
                conditional |= rule.args != NULL;
                if (allows && (!rule.args || (arg0 >= 0 && args_arg0_eq(rule.args, arg0)))) {
                        allowed = true;
                } else if (!allows && !rule.args) {
                        /* libseccomp keeps the first of two unconditional rules:
                         * another action here wins over any allow added later. */
                        if (rule_index)
                                *rule_index = i;
                        if (action)
                                *action = rule.action->u.string;
                        *out = OCI_SECCOMP_OTHER;
                        return 0;
                }
        }
        *out = allowed ? OCI_SECCOMP_ALLOWED
               : conditional ? OCI_SECCOMP_CONDITIONAL
                             : OCI_SECCOMP_BY_DEFAULT;
        return 0;
}

int oci_seccomp_denies_by_default(const char *origin, yajl_val seccomp, bool *denies,
                                  struct crdma_error **err)
{
        *denies = false;
        if (!seccomp)
                return 0;
        yajl_val def = NULL;
        int r = crdma_json_member(origin, seccomp, "defaultAction", yajl_t_string,
                                  "linux.seccomp.defaultAction", &def, err);
        if (r < 0)
                return r;
        if (!def)
                return crdma_refuse(err, EINVAL, "%s: linux.seccomp has no \"defaultAction\"", origin);
        *denies = !oci_seccomp_action_allows(def->u.string);
        return 0;
}
