/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crdma-hook cdi [--output FILE] */
#include <stdlib.h>

#include "cli.h"

int cli_cdi(struct cli *cli)
{
        if (cli->n_args > 0)
                return cli_usage_error("cdi: unexpected argument \"%s\"", cli->args[0]);
        struct crdma_error *err = NULL;
        char *json = NULL;
        if (crdma_cdi_spec(cli->ctx, &json, &err) < 0)
                return cli_fail(err);
        int status = cli_emit(cli, json);
        free(json);
        return status;
}
