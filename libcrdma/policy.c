/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The administrator's policy, /etc/crdma/policy.json (crdma-policy(5)). */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "cleanup.h"
#include "context.h"
#include "error.h"
#include "json.h"
#include "json-member.h"
#include "json-read.h"
#include "policy.h"

/* A policy has a few dozen values and nests three levels. */
#define POLICY_MAX_BYTES (1024 * 1024)
#define POLICY_MAX_DEPTH 32
#define POLICY_MAX_VALUES 65536

/* Everything wrong in it refused, a key given twice included: the policy
 * must not say two things.  Comments are skipped, as yajl_tree_parse
 * always did here. */
static const struct crdma_json_bounds policy_bounds = {
        .what = "a policy file",
        .max_bytes = POLICY_MAX_BYTES,
        .max_depth = POLICY_MAX_DEPTH,
        .max_values = POLICY_MAX_VALUES,
        .comments = true,
};

static const char *const builtin_device_globs[] = { "mlx5_*", "rxe*" };
static const char *const builtin_runtimes[] = { "runc", "crun" };

struct parser {
        struct crdma_policy *p;
        struct crdma_error **err;
        struct crdma_limits given_defaults; /* 0: not in the file */
};

static int bad(struct parser *ps, const char *key, const char *fmt, const char *detail)
{
        return crdma_fail(ps->err, EINVAL, "%s: \"%s\": %s%s; see crdma-policy(5)",
                          ps->p->origin, key, fmt, detail ? detail : "");
}

static void set_builtin(struct crdma_policy *p)
{
        p->defaults = (struct crdma_limits){ 16, 65536, CRDMA_UNLIMITED };
        p->limits = (struct crdma_limits){ 64, 1048576, CRDMA_UNLIMITED };
        p->allow.exclusive = true;
}

static struct crdma_policy *policy_new(const char *origin)
{
        struct crdma_policy *p = calloc(1, sizeof(*p));
        if (!p)
                return NULL;
        p->origin = strdup(origin);
        if (!p->origin) {
                free(p);
                return NULL;
        }
        set_builtin(p);
        for (size_t i = 0; i < ELEMENTSOF(builtin_runtimes); i++)
                if (crdma_strv_push(&p->runtimes, builtin_runtimes[i]) < 0) {
                        crdma_policy_free(p);
                        return NULL;
                }
        return p;
}

void crdma_policy_free(struct crdma_policy *p)
{
        if (!p)
                return;
        free(p->origin);
        crdma_strv_clear(&p->devices);
        crdma_strv_clear(&p->runtimes);
        free(p->runtime_hook);
        free(p);
}

static int set_builtin_devices(struct crdma_policy *p)
{
        for (size_t i = 0; i < ELEMENTSOF(builtin_device_globs); i++)
                if (crdma_strv_push(&p->devices, builtin_device_globs[i]) < 0)
                        return -ENOMEM;
        return 0;
}

/* Every key of `obj` is one of `known`: a typo must not pass silently. */
static int check_object(struct parser *ps, yajl_val obj, const char *where,
                        const char *const *known, size_t n_known)
{
        size_t n = YAJL_GET_OBJECT(obj)->len;
        for (size_t i = 0; i < n; i++) {
                const char *k = YAJL_GET_OBJECT(obj)->keys[i];
                char full[160];
                snprintf(full, sizeof(full), "%s%s%.100s", where, where[0] ? "." : "", k);
                bool ok = false;
                for (size_t j = 0; j < n_known; j++)
                        ok |= strcmp(k, known[j]) == 0;
                if (!ok)
                        return bad(ps, full, "unknown key", NULL);
        }
        return 0;
}

static const char *number_text(yajl_val v)
{
        return YAJL_IS_NUMBER(v) ? v->u.number.r : NULL;
}

/* An integer in [min, max] written as a JSON integer. */
static int get_integer(struct parser *ps, yajl_val v, const char *key, uint64_t min,
                       uint64_t max, uint64_t *out)
{
        const char *t = number_text(v);
        char range[80];
        snprintf(range, sizeof(range), " (from %llu to %llu)", (unsigned long long) min,
                 (unsigned long long) max);
        if (!t)
                return bad(ps, key, "must be an integer", range);
        if (t[0] == '-')
                return bad(ps, key, "must not be negative", range);
        if (strpbrk(t, ".eE"))
                return bad(ps, key, "must be an integer", range);
        uint64_t n;
        int r = crdma_parse_decimal(t, UINT64_MAX, &n);
        if (r < 0 || n > max)
                return bad(ps, key, "is too large", range);
        if (n < min)
                return bad(ps, key, "is too small", range);
        *out = n;
        return 0;
}

/* hcaHandles / hcaObjects: 1..INT_MAX or "max". */
static int get_rdma_limit(struct parser *ps, yajl_val v, const char *key, uint64_t *out)
{
        const char *s = YAJL_GET_STRING(v);
        if (s) {
                if (strcmp(s, "max") != 0)
                        return bad(ps, key, "must be an integer from 1 to 2147483647 or \"max\"",
                                   NULL);
                *out = CRDMA_UNLIMITED;
                return 0;
        }
        return get_integer(ps, v, key, 1, CRDMA_RDMA_MAX_LIMIT, out);
}

/* memlock: bytes as an integer, or a string "64G" / "unlimited". */
static int get_memlock(struct parser *ps, yajl_val v, const char *key, uint64_t *out)
{
        const char *s = YAJL_GET_STRING(v);
        if (s) {
                int r = crdma_parse_bytes(s, out);
                if (r == -ERANGE)
                        return bad(ps, key, "is too large", NULL);
                if (r < 0 || *out == 0)
                        return bad(ps, key, "must be bytes with an optional K, M, G or T "
                                   "suffix (at least 1), or \"unlimited\"", NULL);
                return 0;
        }
        return get_integer(ps, v, key, 1, UINT64_MAX - 1, out);
}

static int get_bool(struct parser *ps, yajl_val v, const char *key, bool *out)
{
        if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
                return bad(ps, key, "must be true or false", NULL);
        *out = YAJL_IS_TRUE(v);
        return 0;
}

static int get_enforce(struct parser *ps, yajl_val v, const char *key)
{
        const char *s = YAJL_GET_STRING(v);
        if (!s || (strcmp(s, "strict") != 0 && strcmp(s, "best-effort") != 0))
                return bad(ps, key, "must be \"strict\" or \"best-effort\"", NULL);
        ps->p->best_effort = strcmp(s, "best-effort") == 0;
        return 0;
}

/* obj[key], NULL when absent; its name in messages, "where.key", in `full`. */
static yajl_val member(yajl_val obj, const char *where, const char *key, char *full, size_t size)
{
        snprintf(full, size, "%s.%s", where, key);
        return crdma_json_get(obj, key, yajl_t_any);
}

static int parse_limits(struct parser *ps, yajl_val obj, const char *where,
                        struct crdma_limits *l, bool with_enforce)
{
        static const char *const keys[] = { "hcaHandles", "hcaObjects", "memlock", "enforce" };
        if (!YAJL_IS_OBJECT(obj))
                return bad(ps, where, "must be an object", NULL);
        int r = check_object(ps, obj, where, keys, with_enforce ? 4 : 3);
        char full[64];
        yajl_val v;
        if (r >= 0 && (v = member(obj, where, "hcaHandles", full, sizeof(full))))
                r = get_rdma_limit(ps, v, full, &l->hca_handles);
        if (r >= 0 && (v = member(obj, where, "hcaObjects", full, sizeof(full))))
                r = get_rdma_limit(ps, v, full, &l->hca_objects);
        if (r >= 0 && (v = member(obj, where, "memlock", full, sizeof(full))))
                r = get_memlock(ps, v, full, &l->memlock);
        if (r >= 0 && with_enforce && (v = member(obj, where, "enforce", full, sizeof(full))))
                r = get_enforce(ps, v, full);
        return r;
}

static int parse_devices(struct parser *ps, yajl_val v)
{
        if (!YAJL_IS_ARRAY(v))
                return bad(ps, "devices", "must be an array of device name patterns", NULL);
        for (size_t i = 0; i < YAJL_GET_ARRAY(v)->len; i++) {
                yajl_val item = YAJL_GET_ARRAY(v)->values[i];
                const char *s = YAJL_GET_STRING(item);
                char key[32];
                snprintf(key, sizeof(key), "devices[%zu]", i);
                /* Patterns match device names; keep them to name characters
                 * plus glob syntax so a typo cannot match everything. */
                if (!s || s[0] == '\0' || strlen(s) > 63 ||
                    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-*?[]!") != strlen(s))
                        return bad(ps, key, "must be a device name or shell pattern of "
                                   "[A-Za-z0-9_.-*?[]!], 1 to 63 characters", NULL);
                if (crdma_strv_contains(&ps->p->devices, s))
                        return bad(ps, key, "repeats an earlier pattern", NULL);
                if (crdma_strv_push(&ps->p->devices, s) < 0)
                        return crdma_fail_oom(ps->err);
        }
        return 0;
}

static int parse_allow(struct parser *ps, yajl_val obj)
{
        static const char *const keys[] = { "umad",      "issm",      "netRaw",
                                            "ipcLock",   "exclusive", "environment" };
        if (!YAJL_IS_OBJECT(obj))
                return bad(ps, "allow", "must be an object", NULL);
        int r = check_object(ps, obj, "allow", keys, ELEMENTSOF(keys));
        bool *slot[] = { &ps->p->allow.umad, &ps->p->allow.issm, &ps->p->allow.net_raw,
                         &ps->p->allow.ipc_lock, &ps->p->allow.exclusive,
                         &ps->p->allow.environment };
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(keys); i++) {
                char full[32];
                yajl_val v = member(obj, "allow", keys[i], full, sizeof(full));
                if (v)
                        r = get_bool(ps, v, full, slot[i]);
        }
        return r;
}

/* A default the file gives must be within the limit; a built-in default
 * follows a lower limit, so lowering a limit alone is enough. */
static int settle_default(struct parser *ps, const char *name, uint64_t given, uint64_t lim,
                          uint64_t *def)
{
        if (given == 0) {
                if (*def > lim)
                        *def = lim;
                return 0;
        }
        if (given > lim) {
                char key[48];
                snprintf(key, sizeof(key), "defaults.%s", name);
                return bad(ps, key, "is above limits.", name);
        }
        *def = given;
        return 0;
}

static int parse_version(struct parser *ps, yajl_val v)
{
        const char *t = number_text(v);
        if (!v)
                return bad(ps, "version", "is missing; the first line of a policy is "
                           "\"version\": 1", NULL);
        if (!t || strcmp(t, "1") != 0)
                return bad(ps, "version", "must be 1 (the only policy format so far)", NULL);
        return 0;
}

static int parse_netns_mode(struct parser *ps, yajl_val v)
{
        const char *s = YAJL_GET_STRING(v);
        if (!s || (strcmp(s, "keep") != 0 && strcmp(s, "exclusive") != 0))
                return bad(ps, "netnsMode", "must be \"keep\" or \"exclusive\"", NULL);
        ps->p->netns_switch = strcmp(s, "exclusive") == 0;
        return 0;
}

/* A runtime crdma-runtime may exec: a bare name (looked up in the system's
 * bin directories) or an absolute path, with no shell or path tricks. */
static bool runtime_name_ok(const char *s)
{
        size_t n = strlen(s);
        if (s[0] == '/')
                return n <= 255 && s[n - 1] != '/' && !strstr(s, "/../") && !strstr(s, "/./") &&
                       !strstr(s, "//") && !(n >= 3 && strcmp(s + n - 3, "/..") == 0) &&
                       !(n >= 2 && strcmp(s + n - 2, "/.") == 0);
        return n >= 1 && n <= 63 && strspn(s, ".") != n &&
               strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+-") == n;
}

static int parse_runtime(struct parser *ps, yajl_val obj)
{
        static const char *const keys[] = { "runtimes", "hook" };
        if (!YAJL_IS_OBJECT(obj))
                return bad(ps, "runtime", "must be an object", NULL);
        int r = check_object(ps, obj, "runtime", keys, ELEMENTSOF(keys));
        yajl_val v = crdma_json_get(obj, "runtimes", yajl_t_any);
        if (r >= 0 && v) {
                if (!YAJL_IS_ARRAY(v) || YAJL_GET_ARRAY(v)->len == 0 ||
                    YAJL_GET_ARRAY(v)->len > 16)
                        return bad(ps, "runtime.runtimes", "must be an array of 1 to 16 OCI "
                                   "runtimes (names such as \"runc\" or absolute paths)", NULL);
                crdma_strv_clear(&ps->p->runtimes);
                for (size_t i = 0; i < YAJL_GET_ARRAY(v)->len; i++) {
                        const char *s = YAJL_GET_STRING(YAJL_GET_ARRAY(v)->values[i]);
                        char key[40];
                        snprintf(key, sizeof(key), "runtime.runtimes[%zu]", i);
                        if (!s || !runtime_name_ok(s))
                                return bad(ps, key, "must be a program name of [A-Za-z0-9_.+-] "
                                           "or an absolute path", NULL);
                        if (crdma_strv_push(&ps->p->runtimes, s) < 0)
                                return crdma_fail_oom(ps->err);
                }
        }
        v = crdma_json_get(obj, "hook", yajl_t_any);
        if (r >= 0 && v) {
                const char *s = YAJL_GET_STRING(v);
                if (!s || s[0] != '/' || !runtime_name_ok(s))
                        return bad(ps, "runtime.hook", "must be the absolute path of crdma-hook",
                                   NULL);
                free(ps->p->runtime_hook);
                if (!(ps->p->runtime_hook = strdup(s)))
                        return crdma_fail_oom(ps->err);
        }
        return r;
}

static int settle_defaults(struct parser *ps)
{
        struct crdma_limits *d = &ps->p->defaults;
        const struct crdma_limits *g = &ps->given_defaults, *l = &ps->p->limits;
        int r = settle_default(ps, "hcaHandles", g->hca_handles, l->hca_handles, &d->hca_handles);
        if (r >= 0)
                r = settle_default(ps, "hcaObjects", g->hca_objects, l->hca_objects,
                                   &d->hca_objects);
        if (r >= 0)
                r = settle_default(ps, "memlock", g->memlock, l->memlock, &d->memlock);
        return r;
}

static int parse_top(struct parser *ps, yajl_val root)
{
        static const char *const keys[] = { "version", "devices",   "defaults", "limits",
                                            "allow",   "netnsMode", "runtime" };
        if (!YAJL_IS_OBJECT(root))
                return crdma_fail(ps->err, EINVAL, "%s: must be a JSON object; see crdma-policy(5)",
                                  ps->p->origin);
        int r = check_object(ps, root, "", keys, ELEMENTSOF(keys));
        if (r >= 0)
                r = parse_version(ps, crdma_json_get(root, "version", yajl_t_any));
        yajl_val v = crdma_json_get(root, "devices", yajl_t_any);
        if (r >= 0 && v)
                r = parse_devices(ps, v);
        else if (r >= 0 && set_builtin_devices(ps->p) < 0)
                r = crdma_fail_oom(ps->err);
        if (r >= 0 && (v = crdma_json_get(root, "defaults", yajl_t_any)))
                r = parse_limits(ps, v, "defaults", &ps->given_defaults, false);
        if (r >= 0 && (v = crdma_json_get(root, "limits", yajl_t_any)))
                r = parse_limits(ps, v, "limits", &ps->p->limits, true);
        if (r >= 0 && (v = crdma_json_get(root, "allow", yajl_t_any)))
                r = parse_allow(ps, v);
        if (r >= 0 && (v = crdma_json_get(root, "netnsMode", yajl_t_any)))
                r = parse_netns_mode(ps, v);
        if (r >= 0 && (v = crdma_json_get(root, "runtime", yajl_t_any)))
                r = parse_runtime(ps, v);
        return r < 0 ? r : settle_defaults(ps);
}

int crdma_policy_parse(const char *json, size_t len, const char *origin,
                       struct crdma_policy **out, struct crdma_error **err)
{
        _cleanup_(crdma_policy_freep) struct crdma_policy *p = policy_new(origin ? origin : "policy");
        if (!p)
                return crdma_fail_oom(err);
        _cleanup_json_tree_ yajl_val root = NULL;
        int r = crdma_json_read(json, len, &policy_bounds, p->origin, &root, NULL, err);
        if (r < 0)
                return r;
        struct parser ps = { .p = p, .err = err };
        r = parse_top(&ps, root);
        if (r < 0)
                return r;
        *out = TAKE_PTR(p);
        return 0;
}

static int load_builtin(struct crdma_policy **out, struct crdma_error **err)
{
        struct crdma_policy *p = policy_new("built-in policy");
        if (!p || set_builtin_devices(p) < 0) {
                crdma_policy_free(p);
                return crdma_fail_oom(err);
        }
        *out = p;
        return 0;
}

int crdma_policy_load(struct crdma_context *ctx, struct crdma_policy **out,
                      struct crdma_error **err)
{
        if (!ctx->policy_path)
                return load_builtin(out, err);

        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = crdma_read_file(ctx->policy_path, POLICY_MAX_BYTES, &text, &len);
        if (r == -ENOENT && !ctx->policy_path_given) {
                crdma_log(ctx, CRDMA_LOG_DEBUG, "%s: not found, using the built-in policy",
                          ctx->policy_path);
                return load_builtin(out, err);
        }
        if (r == -EFBIG)
                return crdma_fail(err, EFBIG, "%s: larger than 1 MiB; not a policy file",
                                  ctx->policy_path);
        if (r < 0)
                return crdma_fail_errno(err, r, "%s: cannot read the policy", ctx->policy_path);
        return crdma_policy_parse(text, len, ctx->policy_path, out, err);
}

bool crdma_policy_allows_device(const struct crdma_policy *p, const char *name)
{
        for (size_t i = 0; i < p->devices.n; i++)
                if (fnmatch(p->devices.v[i], name, 0) == 0)
                        return true;
        return false;
}

static void gen_limits(yajl_gen g, const char *key, const struct crdma_limits *l,
                       const char *enforce)
{
        crdma_json_key(g, key);
        yajl_gen_map_open(g);
        crdma_json_kv_limit(g, "hcaHandles", l->hca_handles, "max");
        crdma_json_kv_limit(g, "hcaObjects", l->hca_objects, "max");
        crdma_json_kv_limit(g, "memlock", l->memlock, "unlimited");
        if (enforce)
                crdma_json_kv_str(g, "enforce", enforce);
        yajl_gen_map_close(g);
}

int crdma_policy_to_json(const struct crdma_policy *p, bool pretty, char **json,
                         struct crdma_error **err)
{
        _cleanup_json_ yajl_gen g = crdma_json_new(pretty);
        if (!g)
                return crdma_fail_oom(err);
        yajl_gen_map_open(g);
        crdma_json_kv_int(g, "version", 1);
        crdma_json_key(g, "devices");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < p->devices.n; i++)
                crdma_json_str(g, p->devices.v[i]);
        yajl_gen_array_close(g);
        gen_limits(g, "defaults", &p->defaults, NULL);
        gen_limits(g, "limits", &p->limits, p->best_effort ? "best-effort" : "strict");
        crdma_json_key(g, "allow");
        yajl_gen_map_open(g);
        crdma_json_kv_bool(g, "umad", p->allow.umad);
        crdma_json_kv_bool(g, "issm", p->allow.issm);
        crdma_json_kv_bool(g, "netRaw", p->allow.net_raw);
        crdma_json_kv_bool(g, "ipcLock", p->allow.ipc_lock);
        crdma_json_kv_bool(g, "exclusive", p->allow.exclusive);
        crdma_json_kv_bool(g, "environment", p->allow.environment);
        yajl_gen_map_close(g);
        crdma_json_kv_str(g, "netnsMode", p->netns_switch ? "exclusive" : "keep");
        crdma_json_key(g, "runtime");
        yajl_gen_map_open(g);
        crdma_json_key(g, "runtimes");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < p->runtimes.n; i++)
                crdma_json_str(g, p->runtimes.v[i]);
        yajl_gen_array_close(g);
        if (p->runtime_hook)
                crdma_json_kv_str(g, "hook", p->runtime_hook);
        yajl_gen_map_close(g);
        yajl_gen_map_close(g);
        return crdma_json_finish(g, json, err);
}

size_t crdma_policy_runtime_count(const struct crdma_policy *p) { return p ? p->runtimes.n : 0; }

const char *crdma_policy_runtime(const struct crdma_policy *p, size_t i)
{
        return p && i < p->runtimes.n ? p->runtimes.v[i] : NULL;
}

const char *crdma_policy_runtime_hook(const struct crdma_policy *p)
{
        return p ? p->runtime_hook : NULL;
}
