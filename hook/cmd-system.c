/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crdma-hook system [netns-mode [shared|exclusive]] */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int print_netns_mode(struct cli *cli)
{
        struct crdma_error *err = NULL;
        enum crdma_netns mode;
        if (crdma_system_netns_mode(cli->ctx, &mode, &err) < 0)
                return cli_fail(err);
        printf("netns mode: %s\n", mode == CRDMA_NETNS_SHARED ? "shared" : "exclusive");
        return CLI_EXIT_OK;
}

int cli_system(struct cli *cli)
{
        if (cli->n_args == 0)
                return print_netns_mode(cli);
        if (strcmp(cli->args[0], "netns-mode") != 0)
                return cli_usage_error("system: unknown setting \"%s\"; expected netns-mode",
                                       cli->args[0]);
        if (cli->n_args == 1)
                return print_netns_mode(cli);
        if (cli->n_args > 2)
                return cli_usage_error("system netns-mode: unexpected argument \"%s\"",
                                       cli->args[2]);
        const char *name = cli->args[1];
        enum crdma_netns mode;
        if (strcmp(name, "exclusive") == 0)
                mode = CRDMA_NETNS_EXCLUSIVE;
        else if (strcmp(name, "shared") == 0)
                mode = CRDMA_NETNS_SHARED;
        else
                return cli_usage_error("system netns-mode: \"%s\": expected shared or exclusive",
                                       name);
        struct crdma_error *err = NULL;
        if (crdma_system_set_netns_mode(cli->ctx, mode, &err) < 0)
                return cli_fail(err);
        return print_netns_mode(cli);
}
