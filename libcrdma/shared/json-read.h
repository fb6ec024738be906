/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one way crdma reads a JSON document (the policy, an OCI state, a
 * config.json): bounded before yajl builds its tree, every key given once. */
#ifndef CRDMA_JSON_READ_H
#define CRDMA_JSON_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_tree.h>

#include "cleanup.h"
#include "crdma.h"

/* yajl_tree keeps every value as a node (about 100 bytes each) and frees a
 * tree recursively: tiny values or deep nesting within a small file would
 * cost gigabytes or the stack.  So a first pass with yajl's event parser,
 * which holds neither, judges the text before any tree is built. */
struct crdma_json_bounds {
        const char *what;      /* "an OCI document": the end of the messages */
        size_t max_bytes;      /* larger: EFBIG */
        unsigned max_depth;    /* arrays and objects nested deeper: EINVAL */
        size_t max_values;     /* more keys and values: E2BIG */
        bool object;           /* the document must be a JSON object */
        bool comments;         /* skipped, as yajl_tree_parse does; else refused */
        /* What yajl_tree hides, noted in the facts for the caller to judge
         * rather than refused here: a "\u0000" (the tree cuts the string
         * there) and a key given twice in one object (the tree keeps both;
         * runc reads the last, yajl_tree_get and crun the first). */
        bool keep_escaped_nul;
        bool keep_duplicates;
};

struct crdma_json_facts {
        unsigned depth;        /* the deepest nesting */
        size_t values;         /* keys and values */
        bool escaped_nul;      /* a string or key holds "\u0000" */
        size_t duplicates;     /* 0, or how often duplicate[] is given */
        char duplicate[160];   /* the first key given twice, as a path: "linux.devices[0].type" */
};

/* Parse `len` bytes of `text` (no NUL needed, none allowed) into *out
 * within `b`; `origin` starts every message ("config.json", a path).
 * *facts (may be NULL) is filled on success. */
int crdma_json_read(const char *text, size_t len, const struct crdma_json_bounds *b,
                    const char *origin, yajl_val *out, struct crdma_json_facts *facts,
                    struct crdma_error **err);

/* The refusal of a document whose facts name a duplicate, for a caller
 * that kept it and now acts on the document:
 * `<origin>: key "root" appears twice; ...`.  0 when there is none. */
int crdma_json_refuse_duplicate(const char *origin, const struct crdma_json_facts *facts,
                                struct crdma_error **err);

DEFINE_TRIVIAL_CLEANUP_FUNC(yajl_val, yajl_tree_free)
#define _cleanup_json_tree_ _cleanup_(yajl_tree_freep)

#endif
