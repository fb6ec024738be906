/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host's cgroup layout, as a runtime on it will see it: the config
 * editor picks where rdma limits go from this, before any container exists. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cgroup-host.h"
#include "cleanup.h"
#include "context.h"
#include "error.h"
#include "util.h"

static bool word_in(const char *list, const char *word)
{
        size_t n = strlen(word);
        for (const char *p = list; (p = strstr(p, word)); p += n)
                if ((p == list || p[-1] == ' ' || p[-1] == '\n') &&
                    (p[n] == '\0' || p[n] == ' ' || p[n] == '\n'))
                        return true;
        return false;
}

int crdma_cgroup_host(struct crdma_context *ctx, struct crdma_cgroup_host *out,
                      struct crdma_error **err)
{
        int root = crdma_context_root_fd(ctx, CRDMA_ROOT_CGROUP, err);
        if (root < 0)
                return root;
        *out = (struct crdma_cgroup_host){ 0 };
        _cleanup_free_ char *controllers = NULL;
        int r = crdma_read_text_at(root, "cgroup.controllers", 4096, &controllers);
        if (r >= 0) {
                /* cgroup2 mounted at the root: the unified layout. */
                out->v2 = true;
                out->rdma = word_in(controllers, "rdma");
                return 0;
        }
        if (r != -ENOENT)
                return crdma_fail(err, -r, "%s/cgroup.controllers: cannot read it",
                                  crdma_context_root_path(ctx, CRDMA_ROOT_CGROUP));
        /* v1 or hybrid: runtimes use the v1 hierarchies, rdma's among them
         * when the kernel has it and it is mounted. */
        struct stat st;
        out->rdma = fstatat(root, "rdma", &st, 0) == 0 && S_ISDIR(st.st_mode);
        return 0;
}
