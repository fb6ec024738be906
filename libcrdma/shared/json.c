/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "json.h"

yajl_gen crdma_json_new(bool pretty)
{
        yajl_gen g = yajl_gen_alloc(NULL);
        if (!g)
                return NULL;
        yajl_gen_config(g, yajl_gen_beautify, pretty ? 1 : 0);
        yajl_gen_config(g, yajl_gen_indent_string, "  ");
        /* Refuse to print invalid UTF-8 rather than pass it on. */
        yajl_gen_config(g, yajl_gen_validate_utf8, 1);
        return g;
}

void crdma_json_freep(yajl_gen *g)
{
        if (*g)
                yajl_gen_free(*g);
}

void crdma_json_str(yajl_gen g, const char *s)
{
        if (s)
                yajl_gen_string(g, (const unsigned char *) s, strlen(s));
        else
                yajl_gen_null(g);
}

void crdma_json_key(yajl_gen g, const char *key)
{
        yajl_gen_string(g, (const unsigned char *) key, strlen(key));
}

void crdma_json_kv_str(yajl_gen g, const char *key, const char *value)
{
        crdma_json_key(g, key);
        crdma_json_str(g, value);
}

void crdma_json_kv_int(yajl_gen g, const char *key, long long value)
{
        crdma_json_key(g, key);
        yajl_gen_integer(g, value);
}

void crdma_json_kv_bool(yajl_gen g, const char *key, bool value)
{
        crdma_json_key(g, key);
        yajl_gen_bool(g, value);
}

void crdma_json_kv_limit(yajl_gen g, const char *key, uint64_t value, const char *unlimited)
{
        crdma_json_key(g, key);
        if (value == CRDMA_UNLIMITED) {
                crdma_json_str(g, unlimited);
        } else {
                /* Exact decimal even past 2^63: write the digits as a number. */
                char buf[24];
                int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long) value);
                yajl_gen_number(g, buf, (size_t) n);
        }
}

int crdma_json_finish(yajl_gen g, char **out, struct crdma_error **err)
{
        const unsigned char *buf;
        size_t len;
        if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok)
                return crdma_fail(err, EINVAL, "JSON output: generator in a bad state "
                                  "(a string that is not UTF-8?)");
        char *copy = malloc(len + 1);
        if (!copy)
                return crdma_fail_oom(err);
        memcpy(copy, buf, len);
        copy[len] = '\0';
        *out = copy;
        return 0;
}
