/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config.json held faithfully: read with crdma_json_read, written back with
 * yajl_gen.  yajl_tree keeps objects' keys in input order and each number's
 * text (u.number.r), so a write is faithful. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "cleanup.h"
#include "document.h"
#include "error.h"
#include "json.h"

const struct crdma_json_bounds oci_document_bounds = {
        .what = "an OCI document",
        .max_bytes = CRDMA_DOCUMENT_MAX,
        .max_depth = OCI_DOCUMENT_MAX_DEPTH,
        .max_values = OCI_DOCUMENT_MAX_VALUES,
        .object = true,
        .comments = true,
        .keep_escaped_nul = true,
        .keep_duplicates = true,
};

/* What the tree cannot hold to write back is refused: comments (yajl_tree
 * drops them) and "\u0000" (it cuts the string there). */
static const struct crdma_json_bounds faithful_bounds = {
        .what = "an OCI document",
        .max_bytes = CRDMA_DOCUMENT_MAX,
        .max_depth = OCI_DOCUMENT_MAX_DEPTH,
        .max_values = OCI_DOCUMENT_MAX_VALUES,
        .object = true,
        .keep_duplicates = true,
};

struct oci_config {
        yajl_val root;
        char *origin;
        struct crdma_json_facts facts;
};

void oci_config_free(struct oci_config *c)
{
        if (!c)
                return;
        if (c->root)
                yajl_tree_free(c->root);
        free(c->origin);
        free(c);
}

void oci_config_freep(struct oci_config **c)
{
        oci_config_free(*c);
}

yajl_val oci_config_root(const struct oci_config *c)
{
        return c->root;
}

const char *oci_config_origin(const struct oci_config *c)
{
        return c->origin;
}

int oci_config_refuse_duplicate(const struct oci_config *c, struct crdma_error **err)
{
        return crdma_json_refuse_duplicate(c->origin, &c->facts, err);
}

int oci_config_parse(const char *text, size_t len, const char *origin, struct oci_config **out,
                     struct crdma_error **err)
{
        _cleanup_config_ struct oci_config *c = calloc(1, sizeof(*c));
        if (!c || !(c->origin = strdup(origin)))
                return crdma_fail_oom(err);
        int r = crdma_json_read(text, len, &faithful_bounds, origin, &c->root, &c->facts, err);
        if (r < 0)
                return r;
        *out = TAKE_PTR(c);
        return 0;
}

/* ---- writing ---------------------------------------------------------- */

static yajl_gen_status gen_value(yajl_gen g, yajl_val v)
{
        yajl_gen_status st = yajl_gen_status_ok;
        switch (v->type) {
        case yajl_t_string:
                return yajl_gen_string(g, (const unsigned char *) v->u.string, strlen(v->u.string));
        case yajl_t_number:
                /* The number's own text: exact past 2^63, 1e3 stays 1e3. */
                return yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
        case yajl_t_object:
                st = yajl_gen_map_open(g);
                for (size_t i = 0; st == yajl_gen_status_ok && i < v->u.object.len; i++) {
                        const char *k = v->u.object.keys[i];
                        st = yajl_gen_string(g, (const unsigned char *) k, strlen(k));
                        if (st == yajl_gen_status_ok)
                                st = gen_value(g, v->u.object.values[i]);
                }
                return st == yajl_gen_status_ok ? yajl_gen_map_close(g) : st;
        case yajl_t_array:
                st = yajl_gen_array_open(g);
                for (size_t i = 0; st == yajl_gen_status_ok && i < v->u.array.len; i++)
                        st = gen_value(g, v->u.array.values[i]);
                return st == yajl_gen_status_ok ? yajl_gen_array_close(g) : st;
        case yajl_t_true:
                return yajl_gen_bool(g, 1);
        case yajl_t_false:
                return yajl_gen_bool(g, 0);
        case yajl_t_null:
        case yajl_t_any:
                break;
        }
        return yajl_gen_null(g);
}

static int write_with(const struct oci_config *c, bool pretty, const char *indent, char **out,
                      struct crdma_error **err)
{
        _cleanup_json_ yajl_gen g = yajl_gen_alloc(NULL);
        if (!g)
                return crdma_fail_oom(err);
        yajl_gen_config(g, yajl_gen_beautify, pretty ? 1 : 0);
        yajl_gen_config(g, yajl_gen_indent_string, indent);
        yajl_gen_config(g, yajl_gen_validate_utf8, 1);
        yajl_gen_status st = gen_value(g, c->root);
        const unsigned char *buf = NULL;
        size_t len = 0;
        if (st == yajl_gen_status_ok)
                st = yajl_gen_get_buf(g, &buf, &len);
        if (st != yajl_gen_status_ok)
                return crdma_fail(err, EINVAL, "%s: cannot write it back (yajl_gen status %d)",
                                  c->origin, (int) st);
        char *copy = malloc(len + 1);
        if (!copy)
                return crdma_fail_oom(err);
        /* yajl 2.1 beautifies an empty object or array as "{\n\n<indent>}";
         * crun's and the usual form has one newline.  Raw newlines appear
         * only between tokens (strings carry "\n" escaped), so dropping
         * the second of two is safe. */
        size_t n = 0;
        for (size_t i = 0; i < len; i++)
                if (!(pretty && buf[i] == '\n' && n > 0 && copy[n - 1] == '\n'))
                        copy[n++] = (char) buf[i];
        copy[n] = '\0';
        *out = copy;
        return 0;
}

int oci_config_write(const struct oci_config *c, bool pretty, char **out, struct crdma_error **err)
{
        return write_with(c, pretty, "\t", out, err);
}

/* Compact, and the model's final newline (jq -c, echo) when it has one. */
static int write_compact(const struct oci_config *c, bool newline, char **out,
                         struct crdma_error **err)
{
        _cleanup_free_ char *text = NULL;
        int r = write_with(c, false, "", &text, err);
        if (r < 0)
                return r;
        if (newline) {
                char *grown = realloc(text, strlen(text) + 2);
                if (!grown)
                        return crdma_fail_oom(err);
                text = strcat(grown, "\n");
        }
        *out = TAKE_PTR(text);
        return 0;
}

int oci_config_write_like(const struct oci_config *c, const char *model, size_t len, char **out,
                          struct crdma_error **err)
{
        /* The indent unit is the whitespace that starts the first indented
         * line: "\t" (runc, crun), two spaces (jq), four (python). */
        const char *nl = memchr(model, '\n', len);
        size_t tail = nl ? (size_t) (nl - model) : len;
        while (tail < len && model[tail] && strchr(" \t\r\n", model[tail]))
                tail++;
        if (tail == len) /* no newline, or only after the document */
                return write_compact(c, nl != NULL, out, err);
        char indent[17] = "";
        size_t n = 0, rest = len - (size_t) (nl + 1 - model);
        while (n < rest && n < sizeof(indent) - 1 && (nl[1 + n] == ' ' || nl[1 + n] == '\t')) {
                indent[n] = nl[1 + n];
                n++;
        }
        return write_with(c, true, n ? indent : "\t", out, err);
}
