/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading members of a tree crdma_json_read built: the one accessor set of
 * the policy, the OCI state and config.json, and the config editor. */
#ifndef CRDMA_JSON_MEMBER_H
#define CRDMA_JSON_MEMBER_H

#include <stdbool.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "crdma.h"

/* The reader refuses a key given twice, or notes it for the caller, who
 * refuses it before acting on the document: a lookup here meets each key
 * once wherever crdma acts.  (Where a caller kept one only to learn that
 * it has nothing to do, a lookup finds the first.) */

/* obj[key] when it is a `type` (yajl_t_any: anything, null included), else
 * NULL, as is a NULL or non-object `obj`: for readers that word their own
 * messages (the policy) or take what the runtime validated (the state). */
yajl_val crdma_json_get(yajl_val obj, const char *key, yajl_type type);

/* obj[key] into *out, NULL when absent or null; a value of another type is
 * refused, `where` naming it ("linux.devices[2].major") in a message that
 * starts with `origin`.  yajl_t_true stands for either boolean. */
int crdma_json_member(const char *origin, yajl_val obj, const char *key, yajl_type type,
                      const char *where, yajl_val *out, struct crdma_error **err);
/* obj[key] as an exact integer 0..limit; absent: *present false.  `-1` is
 * accepted as absent when `minus_one_absent` (runc's wildcard). */
int crdma_json_member_uint(const char *origin, yajl_val obj, const char *key, uint64_t limit,
                           bool minus_one_absent, const char *where, bool *present,
                           uint64_t *out, struct crdma_error **err);
/* An array of strings at obj[key]: absent is an empty one; anything but
 * strings in it is refused. */
int crdma_json_member_strings(const char *origin, yajl_val obj, const char *key,
                              const char *where, yajl_val *out, struct crdma_error **err);
/* Whether array `arr` of strings (NULL: none) holds `s`. */
bool crdma_json_strings_contain(yajl_val arr, const char *s);

#endif
