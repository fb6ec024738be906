/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A runtime's-eye view of libcrdma: only <crdma.h>, linked against the
 * shared library.  Usage: consumer SYSFS_ROOT KEY=VALUE...
 * Prints the plan's device nodes and rdma.max lines, one per line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <crdma.h>

static int fail(struct crdma_error *err)
{
        fprintf(stderr, "consumer: %s (errno %d)\n", crdma_error_message(err), crdma_error_errno(err));
        int status = crdma_error_kind(err) == CRDMA_ERROR_REFUSED ? 1 : 3;
        crdma_error_free(err);
        return status;
}

int main(int argc, char **argv)
{
        if (argc < 2) {
                fprintf(stderr, "usage: consumer SYSFS_ROOT KEY=VALUE...\n");
                return 2;
        }
        struct crdma_kv *kv = calloc((size_t) argc, sizeof(*kv));
        size_t n = 0;
        for (int i = 2; i < argc; i++) {
                char *eq = strchr(argv[i], '=');
                if (!eq)
                        return 2;
                *eq = '\0';
                kv[n++] = (struct crdma_kv){ argv[i], eq + 1 };
        }

        struct crdma_error *err = NULL;
        struct crdma_context *ctx = NULL;
        struct crdma_plan *plan = NULL;
        int status = 0;

        /* The front door: the request in, the plan (or nothing) out.  The tree
         * is not the running kernel's, so RDMA netlink, which answers for it,
         * is off. */
        if (crdma_context_new(&ctx, &err) < 0 ||
            crdma_context_set_root(ctx, CRDMA_ROOT_SYSFS, argv[1], &err) < 0 ||
            crdma_context_set_netlink(ctx, false, &err) < 0 ||
            crdma_context_set_policy_path(ctx, NULL, &err) < 0 ||
            crdma_plan_from_request(ctx, kv, n, &plan, &err) < 0) {
                status = fail(err);
                goto out;
        }
        if (!plan) {
                printf("nothing requested\n");
                goto out;
        }
        for (size_t i = 0; i < crdma_plan_node_count(plan); i++) {
                const char *path;
                char type;
                unsigned maj, min, mode;
                crdma_plan_node(plan, i, &path, &type, &maj, &min, &mode);
                printf("node %s %c %u:%u %04o\n", path, type, maj, min, mode);
        }
        for (size_t i = 0; i < crdma_plan_device_count(plan); i++)
                printf("rdma.max %s\n", crdma_plan_rdma_max_line(plan, i));
        printf("version %s\n", crdma_version());
out:
        crdma_plan_free(plan);
        crdma_context_free(ctx);
        free(kv);
        return status;
}
