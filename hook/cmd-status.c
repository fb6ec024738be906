/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crdma-hook status [--json]: which cgroups hold which RDMA devices, under
 * what limits, using how much (crdma_status_scan). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* "used/limit", the kernel's "max" for no limit. */
static void usage_text(char *buf, size_t len, uint64_t used, uint64_t limit)
{
        if (limit == CRDMA_UNLIMITED)
                snprintf(buf, len, "%llu/max", (unsigned long long) used);
        else
                snprintf(buf, len, "%llu/%llu", (unsigned long long) used,
                         (unsigned long long) limit);
}

/* The container, as `docker ps` shortens a 64-hex id; a cgroup no layout
 * names is shown by its path, from the root ("/crdma-vm/web"). */
static void who(const struct crdma_status *s, size_t i, char *buf, size_t len)
{
        const char *id = crdma_status_row_container(s, i);
        if (!id)
                snprintf(buf, len, "/%s", crdma_status_row_cgroup(s, i));
        else if (strlen(id) == 64 && strspn(id, "0123456789abcdef") == 64)
                snprintf(buf, len, "%.12s", id);
        else
                snprintf(buf, len, "%s", id);
}

/* Where the device is: the host's network namespace, or (exclusive mode)
 * another one, shown as the cgroup's process's when it has one. */
static const char *device_netns(const struct crdma_status *s, size_t i)
{
        if (crdma_status_row_device_in_host_netns(s, i))
                return "host";
        const char *netns = crdma_status_row_netns(s, i);
        return netns ? netns : "other";
}

static void print_table(const struct crdma_status *s)
{
        size_t n = crdma_status_count(s);
        if (n == 0) {
                printf("no cgroup limits an RDMA device (rdma.max is \"max\" everywhere)\n");
        } else {
#define ROW "%-28s %-10s %-10s %-14s %-16s %s\n"
                printf(ROW, "CONTAINER", "ENGINE", "DEVICE", "HCA_HANDLE", "HCA_OBJECT", "NETNS");
                for (size_t i = 0; i < n; i++) {
                        char name[512], handles[48], objects[48];
                        uint64_t used = 0, limit = 0;
                        who(s, i, name, sizeof(name));
                        crdma_status_row_hca_handles(s, i, &used, &limit);
                        usage_text(handles, sizeof(handles), used, limit);
                        crdma_status_row_hca_objects(s, i, &used, &limit);
                        usage_text(objects, sizeof(objects), used, limit);
                        const char *engine = crdma_status_row_engine(s, i);
                        printf(ROW, name, engine ? engine : "-", crdma_status_row_device(s, i),
                               handles, objects, device_netns(s, i));
                }
#undef ROW
        }
        enum crdma_netns mode;
        const char *host = crdma_status_host_netns(s);
        printf("netns mode: %s; host netns: %s\n",
               crdma_status_netns_mode(s, &mode) < 0 ? "unknown"
               : mode == CRDMA_NETNS_SHARED          ? "shared"
                                                     : "exclusive",
               host ? host : "unknown");
}

int cli_status(struct cli *cli)
{
        if (cli->n_args > 0)
                return cli_usage_error("status: unexpected argument \"%s\"", cli->args[0]);
        struct crdma_error *err = NULL;
        struct crdma_status *status = NULL;
        if (crdma_status_scan(cli->ctx, &status, &err) < 0)
                return cli_fail(err);
        if (cli->json) {
                char *json = NULL;
                if (crdma_status_to_json(status, true, &json, &err) < 0) {
                        crdma_status_free(status);
                        return cli_fail(err);
                }
                cli_print_json(json);
                free(json);
        } else {
                print_table(status);
        }
        crdma_status_free(status);
        return CLI_EXIT_OK;
}
