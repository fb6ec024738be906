/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crdma-hook system [netns-mode [shared|exclusive]] */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "netlink.h"
#include "netns.h"

static int print_netns_mode(struct cli *cli)
{
        struct crdma_error *err = NULL;
        bool shared;
        if (crdma_nl_netns_shared(cli->ctx, &shared, &err) < 0)
                return cli_fail(err);
        printf("netns mode: %s\n", shared ? "shared" : "exclusive");
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
        const char *mode = cli->args[1];
        bool exclusive = strcmp(mode, "exclusive") == 0;
        if (!exclusive && strcmp(mode, "shared") != 0)
                return cli_usage_error("system netns-mode: \"%s\": expected shared or exclusive",
                                       mode);
        struct crdma_error *err = NULL;
        if (crdma_netns_set_mode(cli->ctx, exclusive, &err) < 0)
                return cli_fail(err);
        return print_netns_mode(cli);
}
