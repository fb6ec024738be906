/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* OCI config.json: read with crdma_json_read, edit the tree, write it back
 * with yajl_gen.  yajl_tree keeps objects' keys in input order and each
 * number's text (u.number.r), so a write is faithful.
 * The edits themselves: devices and rlimits here, the rest in config-*.c. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "cleanup.h"
#include "config.h"
#include "config-edit.h"
#include "config-tree.h"
#include "document.h"
#include "error.h"
#include "json-member.h"
#include "plan.h"
#include "util.h"

struct oci_config {
        yajl_val root;
        char *origin;
        struct crdma_json_facts facts;
};

void oci_config_free(struct oci_config *c)
{
        if (!c)
                return;
        if (c->root)
                yajl_tree_free(c->root);
        free(c->origin);
        free(c);
}

void oci_config_freep(struct oci_config **c)
{
        oci_config_free(*c);
}

yajl_val oci_config_root(const struct oci_config *c)
{
        return c->root;
}

/* ---- parsing ---------------------------------------------------------- */

/* What the tree cannot hold to write back is refused: comments (yajl_tree
 * drops them) and "\u0000" (it cuts the string there). */
static const struct crdma_json_bounds faithful_bounds = {
        .what = "an OCI document",
        .max_bytes = CRDMA_DOCUMENT_MAX,
        .max_depth = OCI_DOCUMENT_MAX_DEPTH,
        .max_values = OCI_DOCUMENT_MAX_VALUES,
        .object = true,
        .keep_duplicates = true,
};

int oci_config_parse(const char *text, size_t len, const char *origin, struct oci_config **out,
                     struct crdma_error **err)
{
        _cleanup_config_ struct oci_config *c = calloc(1, sizeof(*c));
        if (!c || !(c->origin = strdup(origin)))
                return crdma_fail_oom(err);
        int r = crdma_json_read(text, len, &faithful_bounds, origin, &c->root, &c->facts, err);
        if (r < 0)
                return r;
        *out = TAKE_PTR(c);
        return 0;
}

int oci_config_refuse_duplicate(const struct oci_config *c, struct crdma_error **err)
{
        return crdma_json_refuse_duplicate(c->origin, &c->facts, err);
}

/* ---- writing ---------------------------------------------------------- */

static yajl_gen_status gen_value(yajl_gen g, yajl_val v)
{
        yajl_gen_status st = yajl_gen_status_ok;
        switch (v->type) {
        case yajl_t_string:
                return yajl_gen_string(g, (const unsigned char *) v->u.string, strlen(v->u.string));
        case yajl_t_number:
                /* The number's own text: exact past 2^63, 1e3 stays 1e3. */
                return yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
        case yajl_t_object:
                st = yajl_gen_map_open(g);
                for (size_t i = 0; st == yajl_gen_status_ok && i < v->u.object.len; i++) {
                        const char *k = v->u.object.keys[i];
                        st = yajl_gen_string(g, (const unsigned char *) k, strlen(k));
                        if (st == yajl_gen_status_ok)
                                st = gen_value(g, v->u.object.values[i]);
                }
                return st == yajl_gen_status_ok ? yajl_gen_map_close(g) : st;
        case yajl_t_array:
                st = yajl_gen_array_open(g);
                for (size_t i = 0; st == yajl_gen_status_ok && i < v->u.array.len; i++)
                        st = gen_value(g, v->u.array.values[i]);
                return st == yajl_gen_status_ok ? yajl_gen_array_close(g) : st;
        case yajl_t_true:
                return yajl_gen_bool(g, 1);
        case yajl_t_false:
                return yajl_gen_bool(g, 0);
        case yajl_t_null:
        case yajl_t_any:
                break;
        }
        return yajl_gen_null(g);
}

static void gen_freep(yajl_gen *g)
{
        if (*g)
                yajl_gen_free(*g);
}

static int write_with(const struct oci_config *c, bool pretty, const char *indent, char **out,
                      struct crdma_error **err)
{
        __attribute__((cleanup(gen_freep))) yajl_gen g = yajl_gen_alloc(NULL);
        if (!g)
                return crdma_fail_oom(err);
        yajl_gen_config(g, yajl_gen_beautify, pretty ? 1 : 0);
        yajl_gen_config(g, yajl_gen_indent_string, indent);
        yajl_gen_config(g, yajl_gen_validate_utf8, 1);
        yajl_gen_status st = gen_value(g, c->root);
        const unsigned char *buf = NULL;
        size_t len = 0;
        if (st == yajl_gen_status_ok)
                st = yajl_gen_get_buf(g, &buf, &len);
        if (st != yajl_gen_status_ok)
                return crdma_fail(err, EINVAL, "%s: cannot write it back (yajl_gen status %d)",
                                  c->origin, (int) st);
        char *copy = malloc(len + 1);
        if (!copy)
                return crdma_fail_oom(err);
        /* yajl 2.1 beautifies an empty object or array as "{\n\n<indent>}";
         * crun's and the usual form has one newline.  Raw newlines appear
         * only between tokens (strings carry "\n" escaped), so dropping
         * the second of two is safe. */
        size_t n = 0;
        for (size_t i = 0; i < len; i++)
                if (!(pretty && buf[i] == '\n' && n > 0 && copy[n - 1] == '\n'))
                        copy[n++] = (char) buf[i];
        copy[n] = '\0';
        *out = copy;
        return 0;
}

int oci_config_write(const struct oci_config *c, bool pretty, char **out, struct crdma_error **err)
{
        return write_with(c, pretty, "\t", out, err);
}

int oci_config_write_like(const struct oci_config *c, const char *model, size_t len, char **out,
                          struct crdma_error **err)
{
        /* The indent unit is the whitespace that starts the first indented
         * line: "\t" (runc, crun), two spaces (jq), four (python). */
        const char *nl = memchr(model, '\n', len);
        size_t tail = nl ? (size_t) (nl - model) : len;
        while (tail < len && model[tail] && strchr(" \t\r\n", model[tail]))
                tail++;
        if (tail == len) {
                /* No newline, or only after the document (jq -c, echo):
                 * compact, with that final newline kept. */
                char *text = NULL;
                int r = write_with(c, false, "", &text, err);
                if (r < 0 || !nl) {
                        *out = r < 0 ? *out : text;
                        return r;
                }
                char *grown = realloc(text, strlen(text) + 2);
                if (!grown) {
                        free(text);
                        return crdma_fail_oom(err);
                }
                *out = strcat(grown, "\n");
                return 0;
        }
        char indent[17] = "";
        size_t n = 0, rest = len - (size_t) (nl + 1 - model);
        while (n < rest && n < sizeof(indent) - 1 && (nl[1 + n] == ' ' || nl[1 + n] == '\t')) {
                indent[n] = nl[1 + n];
                n++;
        }
        return write_with(c, true, n ? indent : "\t", out, err);
}

/* ---- applying a plan -------------------------------------------------- */

static int check_devices(const struct oci_config *c, const struct crdma_plan *plan, yajl_val lnx,
                         struct oci_edit *e, struct crdma_error **err)
{
        yajl_val devs;
        int r = lnx ? crdma_json_member(c->origin, lnx, "devices", yajl_t_array, "linux.devices", &devs, err) : 0;
        if (r < 0 || !lnx || !devs)
                return r;
        for (size_t i = 0; i < devs->u.array.len; i++) {
                yajl_val d = devs->u.array.values[i], path, type;
                char where[64];
                snprintf(where, sizeof(where), "linux.devices[%zu]", i);
                if (!YAJL_IS_OBJECT(d))
                        return crdma_refuse(err, EINVAL, "%s: \"%s\" is not a JSON object",
                                            c->origin, where);
                snprintf(where, sizeof(where), "linux.devices[%zu].path", i);
                r = crdma_json_member(c->origin, d, "path", yajl_t_string, where, &path, err);
                if (r < 0)
                        return r;
                for (size_t j = 0; path && j < plan->n_nodes; j++) {
                        const struct crdma_plan_node *n = &plan->nodes[j];
                        if (strcmp(path->u.string, n->path) != 0)
                                continue;
                        uint64_t major = 0, minor = 0;
                        bool has_major, has_minor;
                        snprintf(where, sizeof(where), "linux.devices[%zu].type", i);
                        r = crdma_json_member(c->origin, d, "type", yajl_t_string, where, &type, err);
                        snprintf(where, sizeof(where), "linux.devices[%zu].major", i);
                        if (r >= 0)
                                r = crdma_json_member_uint(c->origin, d, "major", UINT32_MAX, false, where, &has_major,
                                                &major, err);
                        snprintf(where, sizeof(where), "linux.devices[%zu].minor", i);
                        if (r >= 0)
                                r = crdma_json_member_uint(c->origin, d, "minor", UINT32_MAX, false, where, &has_minor,
                                                &minor, err);
                        if (r < 0)
                                return r;
                        bool same = type && type->u.string[0] == n->type && !type->u.string[1] &&
                                    has_major && has_minor && major == n->major && minor == n->minor;
                        if (!same)
                                return crdma_refuse(err, EEXIST,
                                                    "%s: linux.devices already has %s as type %s "
                                                    "%s:%s, not the RDMA device %c %u:%u crdma adds "
                                                    "there; remove that entry",
                                                    c->origin, n->path, type ? type->u.string : "(none)",
                                                    has_major ? (*tree_slot(d, "major"))->u.number.r : "?",
                                                    has_minor ? (*tree_slot(d, "minor"))->u.number.r : "?",
                                                    n->type, n->major, n->minor);
                        e->node_there[j] = true;
                }
        }
        return 0;
}

static int check_rules(const struct oci_config *c, const struct crdma_plan *plan, yajl_val lnx,
                       struct oci_edit *e, struct crdma_error **err)
{
        yajl_val res = NULL, rules = NULL;
        int r = lnx ? crdma_json_member(c->origin, lnx, "resources", yajl_t_object, "linux.resources", &res, err) : 0;
        if (r >= 0 && res)
                r = crdma_json_member(c->origin, res, "devices", yajl_t_array, "linux.resources.devices", &rules, err);
        if (r < 0 || !rules)
                return r;
        /* Rules apply in order, the last match winning. */
        for (size_t i = 0; i < rules->u.array.len; i++) {
                yajl_val rule = rules->u.array.values[i], allow, type, access;
                char where[64];
                snprintf(where, sizeof(where), "linux.resources.devices[%zu]", i);
                if (!YAJL_IS_OBJECT(rule))
                        return crdma_refuse(err, EINVAL, "%s: \"%s\" is not a JSON object",
                                            c->origin, where);
                uint64_t major = 0, minor = 0;
                bool has_major, has_minor;
                snprintf(where, sizeof(where), "linux.resources.devices[%zu].allow", i);
                r = crdma_json_member(c->origin, rule, "allow", yajl_t_true, where, &allow, err);
                snprintf(where, sizeof(where), "linux.resources.devices[%zu].type", i);
                if (r >= 0)
                        r = crdma_json_member(c->origin, rule, "type", yajl_t_string, where, &type, err);
                snprintf(where, sizeof(where), "linux.resources.devices[%zu].major", i);
                if (r >= 0)
                        r = crdma_json_member_uint(c->origin, rule, "major", UINT32_MAX, true, where, &has_major, &major,
                                        err);
                snprintf(where, sizeof(where), "linux.resources.devices[%zu].minor", i);
                if (r >= 0)
                        r = crdma_json_member_uint(c->origin, rule, "minor", UINT32_MAX, true, where, &has_minor, &minor,
                                        err);
                snprintf(where, sizeof(where), "linux.resources.devices[%zu].access", i);
                if (r >= 0)
                        r = crdma_json_member(c->origin, rule, "access", yajl_t_string, where, &access, err);
                if (r < 0)
                        return r;
                const char *t = type ? type->u.string : "a", *a = access ? access->u.string : "rwm";
                bool allows = YAJL_IS_TRUE(allow);
                bool rw = strchr(a, 'r') && strchr(a, 'w'), r_or_w = strchr(a, 'r') || strchr(a, 'w');
                for (size_t j = 0; j < plan->n_nodes; j++) {
                        const struct crdma_plan_node *n = &plan->nodes[j];
                        bool matches = (strcmp(t, "a") == 0 || (t[0] == n->type && !t[1])) &&
                                       (!has_major || major == n->major) &&
                                       (!has_minor || minor == n->minor);
                        if (matches && allows && rw)
                                e->rule_there[j] = true;
                        else if (matches && !allows && r_or_w)
                                e->rule_there[j] = false;
                }
        }
        return 0;
}

static int check_memlock(const struct oci_config *c, const struct crdma_plan *plan, struct oci_edit *e,
                         struct crdma_error **err)
{
        if (plan->memlock == 0)
                return 0;
        int r = oci_edit_need_process(e, "RLIMIT_MEMLOCK", err);
        if (r < 0)
                return r;
        yajl_val rls;
        r = crdma_json_member(c->origin, e->process, "rlimits", yajl_t_array, "process.rlimits", &rls, err);
        for (size_t i = 0; r >= 0 && rls && i < rls->u.array.len; i++) {
                yajl_val rl = rls->u.array.values[i], type;
                char where[64];
                snprintf(where, sizeof(where), "process.rlimits[%zu]", i);
                if (!YAJL_IS_OBJECT(rl))
                        return crdma_refuse(err, EINVAL, "%s: \"%s\" is not a JSON object",
                                            c->origin, where);
                snprintf(where, sizeof(where), "process.rlimits[%zu].type", i);
                r = crdma_json_member(c->origin, rl, "type", yajl_t_string, where, &type, err);
                if (r < 0 || !type || strcmp(type->u.string, "RLIMIT_MEMLOCK") != 0)
                        continue;
                if (e->memlock)
                        return crdma_refuse(err, EINVAL, "%s: process.rlimits has RLIMIT_MEMLOCK "
                                            "twice; runtimes refuse such a config", c->origin);
                e->memlock = rl;
                uint64_t soft = 0, hard = 0;
                bool has_soft, has_hard;
                snprintf(where, sizeof(where), "process.rlimits[%zu].soft", i);
                r = crdma_json_member_uint(c->origin, rl, "soft", UINT64_MAX, false, where, &has_soft, &soft, err);
                snprintf(where, sizeof(where), "process.rlimits[%zu].hard", i);
                if (r >= 0)
                        r = crdma_json_member_uint(c->origin, rl, "hard", UINT64_MAX, false, where, &has_hard, &hard,
                                        err);
                if (r >= 0 && (!has_soft || !has_hard))
                        return crdma_refuse(err, EINVAL, "%s: process.rlimits RLIMIT_MEMLOCK needs "
                                            "both \"soft\" and \"hard\"", c->origin);
                e->raise_soft = soft < plan->memlock;
                e->raise_hard = hard < plan->memlock;
        }
        return r;
}

static yajl_val device_entry(const struct crdma_plan_node *n)
{
        yajl_val d = tree_new(yajl_t_object);
        char type[2] = { n->type, '\0' };
        if (d && (tree_obj_append(d, "path", tree_new_string(n->path)) < 0 ||
                  tree_obj_append(d, "type", tree_new_string(type)) < 0 ||
                  tree_obj_append(d, "major", tree_new_u64(n->major)) < 0 ||
                  tree_obj_append(d, "minor", tree_new_u64(n->minor)) < 0 ||
                  tree_obj_append(d, "fileMode", tree_new_u64(n->mode)) < 0 ||
                  tree_obj_append(d, "uid", tree_new_u64(0)) < 0 || tree_obj_append(d, "gid", tree_new_u64(0)) < 0)) {
                yajl_tree_free(d);
                return NULL;
        }
        return d;
}

static yajl_val allow_rule(const struct crdma_plan_node *n)
{
        yajl_val d = tree_new(yajl_t_object);
        char type[2] = { n->type, '\0' };
        if (d && (tree_obj_append(d, "allow", tree_new(yajl_t_true)) < 0 ||
                  tree_obj_append(d, "type", tree_new_string(type)) < 0 ||
                  tree_obj_append(d, "major", tree_new_u64(n->major)) < 0 ||
                  tree_obj_append(d, "minor", tree_new_u64(n->minor)) < 0 ||
                  tree_obj_append(d, "access", tree_new_string("rw")) < 0)) {
                yajl_tree_free(d);
                return NULL;
        }
        return d;
}

static yajl_val memlock_entry(uint64_t bytes)
{
        yajl_val d = tree_new(yajl_t_object);
        if (d && (tree_obj_append(d, "type", tree_new_string("RLIMIT_MEMLOCK")) < 0 ||
                  tree_obj_append(d, "hard", tree_new_u64(bytes)) < 0 ||
                  tree_obj_append(d, "soft", tree_new_u64(bytes)) < 0)) {
                yajl_tree_free(d);
                return NULL;
        }
        return d;
}

static int change(const struct oci_config *c, const struct crdma_plan *plan, const struct oci_edit *e)
{
        bool nodes = false, rules = false;
        for (size_t j = 0; j < plan->n_nodes; j++) {
                nodes |= !e->node_there[j];
                rules |= !e->rule_there[j];
        }
        yajl_val lnx = nodes || rules ? tree_ensure(c->root, "linux", yajl_t_object) : NULL;
        if ((nodes || rules) && !lnx)
                return -ENOMEM;
        if (nodes) {
                yajl_val devs = tree_ensure(lnx, "devices", yajl_t_array);
                for (size_t j = 0; j < plan->n_nodes; j++)
                        if (!devs || (!e->node_there[j] && tree_arr_append(devs, device_entry(&plan->nodes[j])) < 0))
                                return -ENOMEM;
        }
        if (rules) {
                yajl_val res = tree_ensure(lnx, "resources", yajl_t_object);
                yajl_val list = res ? tree_ensure(res, "devices", yajl_t_array) : NULL;
                for (size_t j = 0; j < plan->n_nodes; j++)
                        if (!list || (!e->rule_there[j] && tree_arr_append(list, allow_rule(&plan->nodes[j])) < 0))
                                return -ENOMEM;
        }
        if (plan->memlock == 0)
                return 0;
        if (!e->memlock) {
                yajl_val rls = tree_ensure(e->process, "rlimits", yajl_t_array);
                return rls ? tree_arr_append(rls, memlock_entry(plan->memlock)) : -ENOMEM;
        }
        if (e->raise_soft && tree_obj_replace(e->memlock, "soft", tree_new_u64(plan->memlock)) < 0)
                return -ENOMEM;
        if (e->raise_hard && tree_obj_replace(e->memlock, "hard", tree_new_u64(plan->memlock)) < 0)
                return -ENOMEM;
        return 0;
}

int oci_config_set_annotations(struct oci_config *c, const struct crdma_kv *kv, size_t n,
                               struct crdma_error **err)
{
        yajl_val ann;
        int r = n > 0 ? oci_config_refuse_duplicate(c, err) : 0;
        if (r >= 0)
                r = crdma_json_member(c->origin, c->root, "annotations", yajl_t_object,
                                      "annotations", &ann, err);
        if (r < 0 || n == 0)
                return r;
        if (!(ann = tree_ensure(c->root, "annotations", yajl_t_object)))
                return crdma_fail_oom(err);
        for (size_t i = 0; i < n; i++) {
                yajl_val v = tree_new_string(kv[i].value);
                r = tree_slot(ann, kv[i].key) ? tree_obj_replace(ann, kv[i].key, v)
                                              : tree_obj_append(ann, kv[i].key, v);
                if (r < 0)
                        return crdma_fail_oom(err);
        }
        return 0;
}

int oci_edit_need_process(struct oci_edit *e, const char *what, struct crdma_error **err)
{
        if (!e->process)
                return crdma_refuse(err, EINVAL, "%s: no \"process\" to set %s for", e->origin, what);
        return 0;
}

int oci_config_apply_plan(struct oci_config *c, const struct crdma_plan *plan,
                          const struct oci_edit_options *opts, struct crdma_error **err)
{
        struct oci_edit e = { .origin = c->origin, .root = c->root, .plan = plan, .opts = opts };
        size_t n = plan->n_nodes + plan->n_devices;
        _cleanup_free_ bool *flags = calloc(2 * n + 1, sizeof(bool));
        _cleanup_free_ const char **allow = calloc(plan->n_syscalls + 1, sizeof(*allow));
        if (!flags || !allow)
                return crdma_fail_oom(err);
        e.node_there = flags;
        e.rule_there = flags + plan->n_nodes;
        e.set_handles = flags + 2 * plan->n_nodes;
        e.set_objects = e.set_handles + plan->n_devices;
        e.allow = allow;

        int r = oci_config_refuse_duplicate(c, err);
        if (r >= 0)
                r = crdma_json_member(c->origin, c->root, "linux", yajl_t_object, "linux",
                                      &e.linux_, err);
        if (r >= 0)
                r = crdma_json_member(c->origin, c->root, "process", yajl_t_object, "process",
                                      &e.process, err);
        if (r >= 0)
                r = check_devices(c, plan, e.linux_, &e, err);
        if (r >= 0)
                r = check_rules(c, plan, e.linux_, &e, err);
        if (r >= 0)
                r = check_memlock(c, plan, &e, err);
        if (r >= 0)
                r = oci_edit_check_rdma(&e, err);
        if (r >= 0)
                r = oci_edit_check_caps(&e, err);
        if (r >= 0)
                r = oci_edit_check_seccomp(&e, err);
        if (r >= 0)
                r = oci_edit_check_hooks(&e, err);
        if (r < 0)
                return r;
        if (change(c, plan, &e) < 0 || oci_edit_change_rdma(&e) < 0 ||
            oci_edit_change_caps(&e) < 0 || oci_edit_change_seccomp(&e) < 0 ||
            oci_edit_change_hooks(&e) < 0)
                return crdma_fail_oom(err);
        return 0;
}
