/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crdma-hook prestart | createRuntime | poststop: the OCI state on stdin. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cleanup.h"
#include "document.h"
#include "state.h"
#include "util.h"

static int read_state(struct cli *cli, bool need_pid, struct oci_container *c)
{
        if (cli->n_args > 0)
                return cli_usage_error("unexpected argument \"%s\": the OCI state comes on "
                                       "standard input", cli->args[0]);
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = crdma_read_fd(STDIN_FILENO, OCI_DOCUMENT_MAX, &text, &len);
        if (r < 0) {
                fprintf(stderr, "crdma-hook: error: standard input: cannot read the OCI state: %s\n",
                        strerror(-r));
                return CLI_EXIT_SYSTEM;
        }
        struct crdma_error *err = NULL;
        if (oci_container_load(text, len, need_pid, c, &err) < 0)
                return cli_fail(err);
        return CLI_EXIT_OK;
}

/* The request in the container's annotations; *req NULL: nothing asked. */
static int request_of(struct oci_container *c, struct crdma_request **req)
{
        struct crdma_error *err = NULL;
        if (crdma_request_from_annotations(c->annotations.kv, c->annotations.n, req, &err) < 0)
                return cli_fail_in(err, c->id);
        return CLI_EXIT_OK;
}

static int describe(struct oci_container *oc, struct crdma_container **out, struct crdma_error **err)
{
        struct crdma_container *c = NULL;
        int r = crdma_container_new(oc->pid, oc->rootfs, &c, err);
        if (r >= 0 && oc->caps_known)
                r = crdma_container_set_capabilities(c, oc->caps, oc->n_caps, err);
        if (r >= 0 && oc->seccomp_denies_by_default)
                r = crdma_container_set_seccomp_allowed(c, oc->seccomp_allowed,
                                                        oc->n_seccomp_allowed, err);
        if (r >= 0 && oc->memlock_set)
                crdma_container_set_memlock(c, oc->memlock_soft, oc->memlock_hard);
        for (size_t i = 0; r >= 0 && i < oc->n_namespaces; i++)
                r = crdma_container_set_namespace(c, oc->namespaces[i].type, oc->namespaces[i].path,
                                                  err);
        if (r >= 0)
                r = crdma_container_set_cgroups_path(c, oc->cgroups_path, err);
        if (r < 0) {
                crdma_container_free(c);
                return r;
        }
        *out = c;
        return 0;
}

int cli_inject(struct cli *cli)
{
        struct oci_container oc = { 0 };
        int status = read_state(cli, true, &oc);
        if (status != CLI_EXIT_OK)
                return status;

        struct crdma_request *req = NULL;
        struct crdma_policy *policy = NULL;
        struct crdma_device_list *devices = NULL;
        struct crdma_plan *plan = NULL;
        struct crdma_container *container = NULL;
        struct crdma_error *err = NULL;

        status = request_of(&oc, &req);
        if (status != CLI_EXIT_OK || !req)
                goto out; /* no io.crdma.* annotation: not ours, exit 0 at once */

        if (oci_container_details(&oc, &err) < 0 ||
            crdma_policy_load(cli->ctx, &policy, &err) < 0 ||
            crdma_devices_scan_for(cli->ctx, req, &devices, &err) < 0 ||
            crdma_plan_new(cli->ctx, req, devices, policy, &plan, &err) < 0 ||
            describe(&oc, &container, &err) < 0 ||
            crdma_plan_apply(cli->ctx, plan, container, &err) < 0) {
                status = cli_fail_in(err, oc.id);
        }
out:
        crdma_container_free(container);
        crdma_plan_free(plan);
        crdma_device_list_free(devices);
        crdma_policy_free(policy);
        crdma_request_free(req);
        oci_container_clear(&oc);
        return status;
}

/* After the container is gone: the kernel frees its nodes (they live in its
 * rootfs), its cgroup and its rlimits, and returns moved devices to init_net
 * when the network namespace dies.  What it does not do: return devices from
 * a network namespace that outlives the container because a bind mount keeps
 * it (a pod's namespace under /run/netns).  Poststop never fails a container
 * that is already gone: problems are reported, the status stays 0 unless the
 * request itself is invalid. */
int cli_poststop(struct cli *cli)
{
        struct oci_container oc = { 0 };
        int status = read_state(cli, false, &oc);
        if (status != CLI_EXIT_OK)
                return status;
        struct crdma_request *req = NULL;
        struct crdma_error *err = NULL;
        status = request_of(&oc, &req);
        if (status == CLI_EXIT_OK && req &&
            (oci_container_details(&oc, &err) < 0 ||
             crdma_release(cli->ctx, req, oc.netns_path, &err) < 0)) {
                /* The container is gone: report, never fail it. */
                cli_warn_in(err, oc.id);
        }
        crdma_request_free(req);
        oci_container_clear(&oc);
        return status;
}
