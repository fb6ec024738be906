/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crdma-hook cdi [--output FILE] */
#include <stdlib.h>

#include "cdi.h"
#include "cli.h"

int cli_cdi(struct cli *cli)
{
        if (cli->n_args > 0)
                return cli_usage_error("cdi: unexpected argument \"%s\"", cli->args[0]);
        struct crdma_error *err = NULL;
        struct crdma_policy *policy = NULL;
        struct crdma_device_list *devices = NULL;
        char *json = NULL;
        int status;
        if (crdma_policy_load(cli->ctx, &policy, &err) < 0 ||
            crdma_devices_scan(cli->ctx, &devices, &err) < 0 ||
            oci_cdi_spec(cli->ctx, devices, policy, &json, &err) < 0)
                status = cli_fail(err);
        else
                status = cli_emit(cli, json);
        free(json);
        crdma_device_list_free(devices);
        crdma_policy_free(policy);
        return status;
}
