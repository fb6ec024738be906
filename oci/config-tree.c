/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-tree.h"

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
