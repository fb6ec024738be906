/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crdma-hook apptainer-cgroups -a io.crdma.devices=... [-a ...] [--output FILE] */
#include <stdlib.h>

#include "cli.h"

int cli_apptainer_cgroups(struct cli *cli)
{
        if (cli->n_args > 0)
                return cli_usage_error("apptainer-cgroups: unexpected argument \"%s\"",
                                       cli->args[0]);
        struct crdma_error *err = NULL;
        char *toml = NULL;
        if (crdma_apptainer_cgroups(cli->ctx, cli->annotations, cli->n_annotations, &toml,
                                    &err) < 0)
                return cli_fail(err);
        if (!toml)
                return cli_usage_error("apptainer-cgroups: no io.crdma.* annotation; give the "
                                       "request as -a io.crdma.devices=NAME[,NAME...] "
                                       "[-a io.crdma.hca-handles=N] [-a io.crdma.hca-objects=N]");
        int status = cli_emit(cli, toml);
        free(toml);
        return status;
}
