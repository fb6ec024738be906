/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "error.h"
#include "json-member.h"
#include "util.h"

yajl_val crdma_json_get(yajl_val obj, const char *key, yajl_type type)
{
        if (!YAJL_IS_OBJECT(obj))
                return NULL;
        for (size_t i = 0; i < obj->u.object.len; i++)
                if (strcmp(obj->u.object.keys[i], key) == 0) {
                        yajl_val v = obj->u.object.values[i];
                        return type == yajl_t_any || v->type == type ? v : NULL;
                }
        return NULL;
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

int crdma_json_member(const char *origin, yajl_val obj, const char *key, yajl_type type,
                      const char *where, yajl_val *out, struct crdma_error **err)
{
        yajl_val v = crdma_json_get(obj, key, yajl_t_any);
        *out = NULL;
        if (!v || YAJL_IS_NULL(v))
                return 0;
        bool ok = type == yajl_t_true ? YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v) : v->type == type;
        if (!ok)
                return crdma_refuse(err, EINVAL, "%s: \"%s\" is not %s", origin, where,
                                    type_name(type));
        *out = v;
        return 0;
}

int crdma_json_member_uint(const char *origin, yajl_val obj, const char *key, uint64_t limit,
                           bool minus_one_absent, const char *where, bool *present,
                           uint64_t *out, struct crdma_error **err)
{
        yajl_val v;
        int r = crdma_json_member(origin, obj, key, yajl_t_number, where, &v, err);
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

int crdma_json_member_strings(const char *origin, yajl_val obj, const char *key,
                              const char *where, yajl_val *out, struct crdma_error **err)
{
        int r = crdma_json_member(origin, obj, key, yajl_t_array, where, out, err);
        for (size_t i = 0; r >= 0 && *out && i < (*out)->u.array.len; i++)
                if (!YAJL_IS_STRING((*out)->u.array.values[i]))
                        return crdma_refuse(err, EINVAL, "%s: \"%s[%zu]\" is not a string", origin,
                                            where, i);
        return r;
}

bool crdma_json_strings_contain(yajl_val arr, const char *s)
{
        for (size_t i = 0; arr && i < arr->u.array.len; i++)
                if (strcmp(arr->u.array.values[i]->u.string, s) == 0)
                        return true;
        return false;
}
