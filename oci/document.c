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

int oci_document_parse(const char *text, size_t len, const char *origin, yajl_val *out,
                       struct crdma_error **err)
{
        if (memchr(text, '\0', len))
                return crdma_fail(err, EINVAL, "%s: contains a NUL byte; not JSON", origin);
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
        int r = is_stdin ? crdma_read_fd(STDIN_FILENO, OCI_DOCUMENT_MAX, &text, &len)
                         : crdma_read_file(path, OCI_DOCUMENT_MAX, &text, &len);
        if (r == -EFBIG)
                return crdma_fail(err, EFBIG, "%s: larger than 16 MiB; not an OCI document", name);
        if (r < 0)
                return crdma_fail_errno(err, r, "%s: cannot read", name);
        return oci_document_parse(text, len, name, out, err);
}
