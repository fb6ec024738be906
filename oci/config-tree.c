/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-tree.h"
#include "error.h"
#include "util.h"

yajl_val tree_new(yajl_type type)
{
        yajl_val v = calloc(1, sizeof(*v));
        if (v)
                v->type = type;
        return v;
}

yajl_val tree_new_string(const char *s)
{
        yajl_val v = tree_new(yajl_t_string);
        if (v && !(v->u.string = strdup(s))) {
                free(v);
                v = NULL;
        }
        return v;
}

yajl_val tree_new_u64(uint64_t n)
{
        yajl_val v = tree_new(yajl_t_number);
        if (!v)
                return NULL;
        char buf[24];
        snprintf(buf, sizeof(buf), "%llu", (unsigned long long) n);
        if (!(v->u.number.r = strdup(buf))) {
                free(v);
                return NULL;
        }
        v->u.number.d = (double) n;
        v->u.number.flags = YAJL_NUMBER_DOUBLE_VALID;
        if (n <= LLONG_MAX) {
                v->u.number.i = (long long) n;
                v->u.number.flags |= YAJL_NUMBER_INT_VALID;
        }
        return v;
}

int tree_obj_append(yajl_val obj, const char *key, yajl_val v)
{
        if (!v)
                return -ENOMEM;
        size_t n = obj->u.object.len;
        char *k = strdup(key);
        const char **keys = k ? realloc((void *) obj->u.object.keys, (n + 1) * sizeof(*keys)) : NULL;
        if (keys)
                obj->u.object.keys = keys;
        yajl_val *values = keys ? realloc(obj->u.object.values, (n + 1) * sizeof(*values)) : NULL;
        if (!values) {
                free(k);
                yajl_tree_free(v);
                return -ENOMEM;
        }
        obj->u.object.values = values;
        keys[n] = k;
        values[n] = v;
        obj->u.object.len = n + 1;
        return 0;
}

int tree_arr_append(yajl_val arr, yajl_val v)
{
        if (!v)
                return -ENOMEM;
        size_t n = arr->u.array.len;
        yajl_val *values = realloc(arr->u.array.values, (n + 1) * sizeof(*values));
        if (!values) {
                yajl_tree_free(v);
                return -ENOMEM;
        }
        arr->u.array.values = values;
        values[n] = v;
        arr->u.array.len = n + 1;
        return 0;
}

yajl_val *tree_slot(yajl_val obj, const char *key)
{
        for (size_t i = 0; i < obj->u.object.len; i++)
                if (strcmp(obj->u.object.keys[i], key) == 0)
                        return &obj->u.object.values[i];
        return NULL;
}

yajl_val tree_ensure(yajl_val obj, const char *key, yajl_type type)
{
        yajl_val *s = tree_slot(obj, key);
        if (s && (*s)->type == type)
                return *s;
        yajl_val v = tree_new(type);
        if (!v)
                return NULL;
        if (s) { /* null */
                yajl_tree_free(*s);
                *s = v;
                return v;
        }
        return tree_obj_append(obj, key, v) < 0 ? NULL : v;
}

static const char *type_name(yajl_type t)
{
        switch (t) {
        case yajl_t_object:
                return "a JSON object";
        case yajl_t_array:
                return "a JSON array";
        case yajl_t_string:
                return "a string";
        case yajl_t_number:
                return "a number";
        default:
                return "true or false";
        }
}

int tree_member(const char *origin, yajl_val obj, const char *key, yajl_type type,
                const char *where, yajl_val *out, struct crdma_error **err)
{
        yajl_val v = NULL;
        size_t found = 0;
        *out = NULL;
        for (size_t i = 0; i < obj->u.object.len; i++)
                if (strcmp(obj->u.object.keys[i], key) == 0) {
                        v = obj->u.object.values[i];
                        found++;
                }
        if (found > 1)
                return crdma_refuse(err, EINVAL, "%s: \"%s\" is given %zu times; which one counts "
                                    "depends on the runtime", origin, where, found);
        if (!v || YAJL_IS_NULL(v))
                return 0;
        bool ok = type == yajl_t_true ? YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v) : v->type == type;
        if (!ok)
                return crdma_refuse(err, EINVAL, "%s: \"%s\" is not %s", origin, where,
                                    type_name(type));
        *out = v;
        return 0;
}

int tree_member_uint(const char *origin, yajl_val obj, const char *key, uint64_t limit,
                     bool minus_one_absent, const char *where, bool *present, uint64_t *out,
                     struct crdma_error **err)
{
        yajl_val v;
        int r = tree_member(origin, obj, key, yajl_t_number, where, &v, err);
        *present = false;
        if (r < 0 || !v)
                return r;
        if (minus_one_absent && strcmp(v->u.number.r, "-1") == 0)
                return 0;
        if (crdma_parse_decimal(v->u.number.r, limit, out) < 0)
                return crdma_refuse(err, EINVAL, "%s: \"%s\" is %s, not an integer from 0 to %llu",
                                    origin, where, v->u.number.r, (unsigned long long) limit);
        *present = true;
        return 0;
}

yajl_val tree_new_i64(long long n)
{
        if (n >= 0)
                return tree_new_u64((uint64_t) n);
        yajl_val v = tree_new(yajl_t_number);
        if (!v)
                return NULL;
        char buf[24];
        snprintf(buf, sizeof(buf), "%lld", n);
        if (!(v->u.number.r = strdup(buf))) {
                free(v);
                return NULL;
        }
        v->u.number.i = n;
        v->u.number.d = (double) n;
        v->u.number.flags = YAJL_NUMBER_INT_VALID | YAJL_NUMBER_DOUBLE_VALID;
        return v;
}

int tree_obj_replace(yajl_val obj, const char *key, yajl_val v)
{
        yajl_val *s = tree_slot(obj, key);
        if (!v || !s) {
                yajl_tree_free(v);
                return -ENOMEM;
        }
        yajl_tree_free(*s);
        *s = v;
        return 0;
}

int tree_member_strings(const char *origin, yajl_val obj, const char *key, const char *where,
                        yajl_val *out, struct crdma_error **err)
{
        int r = tree_member(origin, obj, key, yajl_t_array, where, out, err);
        for (size_t i = 0; r >= 0 && *out && i < (*out)->u.array.len; i++)
                if (!YAJL_IS_STRING((*out)->u.array.values[i]))
                        return crdma_refuse(err, EINVAL, "%s: \"%s[%zu]\" is not a string", origin,
                                            where, i);
        return r;
}

bool tree_strings_contain(yajl_val arr, const char *s)
{
        for (size_t i = 0; arr && i < arr->u.array.len; i++)
                if (strcmp(arr->u.array.values[i]->u.string, s) == 0)
                        return true;
        return false;
}
