/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "document.h"
#include "error.h"
#include "util.h"

void oci_document_freep(yajl_val *v)
{
        if (*v)
                yajl_tree_free(*v);
}

void oci_document_scan(const char *text, size_t len, struct oci_document_shape *shape)
{
        struct oci_document_shape sh = { 0 };
        unsigned depth = 0;
        bool in_string = false;
        for (size_t i = 0; i < len; i++) {
                char ch = text[i];
                if (in_string) {
                        if (ch == '"')
                                in_string = false;
                        else if (ch == '\\' && i + 1 < len) {
                                if (text[i + 1] == 'u' && i + 5 < len &&
                                    memcmp(text + i + 2, "0000", 4) == 0)
                                        sh.escaped_nul = true;
                                i++; /* the escaped character is never a quote */
                        }
                        continue;
                }
                /* yajl_tree_parse takes comments: a quote in one must not
                 * make the rest look like a string. */
                if (ch == '/' && i + 1 < len && (text[i + 1] == '*' || text[i + 1] == '/')) {
                        const char *end = text[i + 1] == '*' ? "*/" : "\n";
                        const char *found = memmem(text + i + 2, len - i - 2, end, strlen(end));
                        i = found ? (size_t) (found - text) + strlen(end) - 1 : len;
                        continue;
                }
                switch (ch) {
                case '"':
                        in_string = true;
                        sh.values++;
                        break;
                case '[':
                case '{':
                        if (++depth > sh.max_depth)
                                sh.max_depth = depth;
                        sh.values++;
                        break;
                case ']':
                case '}':
                        depth -= depth > 0;
                        break;
                case ',':
                        sh.values++; /* separates numbers, true, false, null too */
                        break;
                }
        }
        *shape = sh;
}

int oci_document_parse(const char *text, size_t len, const char *origin, yajl_val *out,
                       struct crdma_error **err)
{
        if (memchr(text, '\0', len))
                return crdma_fail(err, EINVAL, "%s: contains a NUL byte; not JSON", origin);
        struct oci_document_shape shape;
        oci_document_scan(text, len, &shape);
        if (shape.max_depth > OCI_DOCUMENT_MAX_DEPTH)
                return crdma_fail(err, EINVAL, "%s: nested deeper than %d levels; not an OCI "
                                  "document", origin, OCI_DOCUMENT_MAX_DEPTH);
        if (shape.values > OCI_DOCUMENT_MAX_VALUES)
                return crdma_fail(err, E2BIG, "%s: more than %d values; not an OCI document",
                                  origin, OCI_DOCUMENT_MAX_VALUES);
        _cleanup_free_ char *copy = strndup(text, len);
        if (!copy)
                return crdma_fail_oom(err);
        char errbuf[256] = "";
        yajl_val root = yajl_tree_parse(copy, errbuf, sizeof(errbuf));
        if (!root) {
                errbuf[strcspn(errbuf, "\n")] = '\0';
                return crdma_fail(err, EINVAL, "%s: invalid JSON: %s", origin,
                                  errbuf[0] ? errbuf : "parse error");
        }
        if (!YAJL_IS_OBJECT(root)) {
                yajl_tree_free(root);
                return crdma_fail(err, EINVAL, "%s: not a JSON object", origin);
        }
        *out = root;
        return 0;
}

int oci_document_load(const char *path, yajl_val *out, struct crdma_error **err)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        bool is_stdin = strcmp(path, "-") == 0;
        const char *name = is_stdin ? "standard input" : path;
        int r = is_stdin ? crdma_read_fd(STDIN_FILENO, CRDMA_DOCUMENT_MAX, &text, &len)
                         : crdma_read_file(path, CRDMA_DOCUMENT_MAX, &text, &len);
        if (r == -EFBIG)
                return crdma_fail(err, EFBIG, "%s: larger than 16 MiB; not an OCI document", name);
        if (r < 0)
                return crdma_fail_errno(err, r, "%s: cannot read", name);
        return oci_document_parse(text, len, name, out, err);
}
