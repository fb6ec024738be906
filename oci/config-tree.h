/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading and building yajl_tree nodes for the config editor.
 *
 * Added nodes are built the way yajl_tree_parse builds its own (yajl's
 * src/yajl_tree.c): every node, object key, string and number text is one
 * malloc() block, and objects' keys/values and arrays' values are
 * realloc()able arrays, all of which yajl_tree_free() releases with free(). */
#ifndef CRDMA_OCI_CONFIG_TREE_H
#define CRDMA_OCI_CONFIG_TREE_H

#include <stdbool.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "crdma.h"

/* New nodes; NULL when out of memory. */
yajl_val tree_new(yajl_type type);
yajl_val tree_new_string(const char *s);
yajl_val tree_new_u64(uint64_t n);
yajl_val tree_new_i64(long long n);

/* Append `v` (taken: freed on failure) under a copy of `key`, or to an
 * array.  -ENOMEM on failure. */
int tree_obj_append(yajl_val obj, const char *key, yajl_val v);
int tree_arr_append(yajl_val arr, yajl_val v);
/* Replace obj[key] (which must be there) by `v` (taken). */
int tree_obj_replace(yajl_val obj, const char *key, yajl_val v);

/* Where obj[key]'s value is, NULL when absent. */
yajl_val *tree_slot(yajl_val obj, const char *key);
/* obj[key] as a `type` (object or array), made when absent or null.  Call
 * only after crdma_json_member() has checked the key. */
yajl_val tree_ensure(yajl_val obj, const char *key, yajl_type type);

#endif
