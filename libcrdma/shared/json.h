/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small helpers over yajl_gen for the JSON crdma prints (json-read.h reads). */
#ifndef CRDMA_JSON_H
#define CRDMA_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <yajl/yajl_gen.h>

#include "crdma.h"

yajl_gen crdma_json_new(bool pretty);
void crdma_json_freep(yajl_gen *g);
#define _cleanup_json_ __attribute__((cleanup(crdma_json_freep)))

void crdma_json_str(yajl_gen g, const char *s);  /* NULL -> null */
void crdma_json_key(yajl_gen g, const char *key);
void crdma_json_kv_str(yajl_gen g, const char *key, const char *value);
void crdma_json_kv_int(yajl_gen g, const char *key, long long value);
void crdma_json_kv_bool(yajl_gen g, const char *key, bool value);
/* A limit: a number, or the string `unlimited` for CRDMA_UNLIMITED. */
void crdma_json_kv_limit(yajl_gen g, const char *key, uint64_t value, const char *unlimited);

/* Copy the generated text out (caller frees). */
int crdma_json_finish(yajl_gen g, char **out, struct crdma_error **err);

#endif
