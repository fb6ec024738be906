/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A whole OCI config.json, edited in memory and written back without losing
 * or reordering anything crdma does not own: unknown fields, extensions and
 * annotations keep their place, numbers keep their exact text (2^64-1, 1e3,
 * -0), strings are re-escaped from their decoded UTF-8. */
#ifndef CRDMA_OCI_CONFIG_H
#define CRDMA_OCI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_tree.h>

#include "crdma.h"
#include "document.h"

struct oci_config; /* owns the yajl tree */

/* Parse `text` (`len` bytes, NUL not needed) as a config; `origin` names it
 * in messages ("config.json", a path, "standard input").  Refused, besides
 * invalid JSON, a non-object and oci_document_bounds: comments (the tree
 * would drop them) and strings with "\u0000" (a C string would cut them).
 * A key given twice is kept, and written back, for a config that asks
 * crdma nothing; oci_config_refuse_duplicate refuses it where crdma acts. */
int oci_config_parse(const char *text, size_t len, const char *origin, struct oci_config **out,
                     struct crdma_error **err);
/* Write it: `pretty` false is compact (no whitespace, no final newline);
 * true is yajl's beautified form with tab indents and a final newline, the
 * form crun's `spec` writes.  *out is NUL-terminated; the caller frees. */
int oci_config_write(const struct oci_config *c, bool pretty, char **out, struct crdma_error **err);
/* Write it the way `model` (the text it was parsed from) is written:
 * compact when that has no newline, else pretty with its indent unit. */
int oci_config_write_like(const struct oci_config *c, const char *model, size_t len, char **out,
                          struct crdma_error **err);
void oci_config_free(struct oci_config *c);
void oci_config_freep(struct oci_config **c);
#define _cleanup_config_ __attribute__((cleanup(oci_config_freep)))

/* The tree, for reading (the annotations, say).  Still owned by `c`. */
yajl_val oci_config_root(const struct oci_config *c);
/* Refused when a key is given twice in it: runc reads the last, crun the
 * first, so what crdma reads may not be what the runtime uses. */
int oci_config_refuse_duplicate(const struct oci_config *c, struct crdma_error **err);

/* Set annotations (a key already there gets the new value in its place;
 * a new one goes at the end of "annotations", made when absent).  Setting
 * any in a config with a key given twice is refused, as applying a plan. */
int oci_config_set_annotations(struct oci_config *c, const struct crdma_kv *kv, size_t n,
                               struct crdma_error **err);

/* How to edit. */
struct oci_edit_options {
        /* Where the rdma limits go: runc reads linux.resources.rdma; crun reads
         * only linux.resources.unified["rdma.max"] (cgroup v2, one device);
         * auto writes the former and leaves crun to the createRuntime hook. */
        enum crdma_runtime runtime;
        bool cgroup2;         /* the host's cgroup hierarchy is v2 */
        bool rdma_controller; /* and its kernel has the rdma controller */
        /* The crdma-hook executable for a createRuntime/poststop entry, when
         * the plan has work only a hook can do; NULL: refuse such a plan. */
        const char *hook_path;
        const char *policy_path; /* given to that hook as --policy, or NULL */
        struct crdma_context *ctx; /* for warnings; may be NULL */
};

/* Apply a plan, idempotently (twice == once):
 *  - linux.devices: one {path, type, major, minor, fileMode, uid 0, gid 0}
 *    per plan node; an entry already at that path for the same device
 *    (type, major, minor) is kept as it is; one for another device refused;
 *  - linux.resources.devices: {allow true, type, major, minor, access "rw"}
 *    per node, unless an allow rule for that device with at least "rw" is
 *    there and no later deny rule matches the device;
 *  - process.rlimits RLIMIT_MEMLOCK: added at the plan's value, or its soft
 *    and hard each raised to it when lower (a higher one is kept);
 *  - rdma limits (config-rdma.c), capabilities (config-caps.c), seccomp
 *    allow rules (config-seccomp.c), and the hook entries for what only
 *    the createRuntime hook can do (config-hooks.c).
 * A config with a key given twice is refused first.  Every check runs
 * before the first change: a refused config is left as it was.  Only an out-of-memory failure can leave it partly edited; discard it
 * then. */
int oci_config_apply_plan(struct oci_config *c, const struct crdma_plan *plan,
                          const struct oci_edit_options *opts, struct crdma_error **err);

#endif
