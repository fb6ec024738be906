/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crdma-hook apptainer-cgroups -a io.crdma.devices=... [-a ...] [--output FILE] */
#include <stdlib.h>

#include "apptainer.h"
#include "cli.h"

int cli_apptainer_cgroups(struct cli *cli)
{
        if (cli->n_args > 0)
                return cli_usage_error("apptainer-cgroups: unexpected argument \"%s\"",
                                       cli->args[0]);
        struct crdma_error *err = NULL;
        struct crdma_request *req = NULL;
        if (crdma_request_from_annotations(cli->annotations.kv, cli->annotations.n, &req, &err) < 0)
                return cli_fail(err);
        if (!req)
                return cli_usage_error("apptainer-cgroups: no io.crdma.* annotation; give the "
                                       "request as -a io.crdma.devices=NAME[,NAME...] "
                                       "[-a io.crdma.hca-handles=N] [-a io.crdma.hca-objects=N]");
        struct crdma_policy *policy = NULL;
        struct crdma_device_list *devices = NULL;
        struct crdma_plan *plan = NULL;
        char *toml = NULL;
        int status;
        if (crdma_policy_load(cli->ctx, &policy, &err) < 0 ||
            crdma_devices_scan(cli->ctx, &devices, &err) < 0 ||
            crdma_plan_new(cli->ctx, req, devices, policy, &plan, &err) < 0 ||
            oci_apptainer_cgroups(req, plan, &toml, &err) < 0)
                status = cli_fail(err);
        else
                status = cli_emit(cli, toml);
        free(toml);
        crdma_plan_free(plan);
        crdma_device_list_free(devices);
        crdma_policy_free(policy);
        crdma_request_free(req);
        return status;
}
