/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crdma-hook plan [--annotation K=V]... [--config FILE|-]
 * crdma-hook policy */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "util.h"

/* The plan of --config's document (a config.json or a state: its
 * "annotations"), with --annotation pairs replacing a key it has. */
static int plan_of_config(struct cli *cli, struct crdma_plan **plan, struct crdma_error **err)
{
        bool is_stdin = strcmp(cli->config, "-") == 0;
        _cleanup_free_ char *text = NULL, *edited = NULL;
        size_t len = 0;
        int r = is_stdin ? crdma_read_fd(STDIN_FILENO, CRDMA_DOCUMENT_MAX, &text, &len)
                         : crdma_read_file(cli->config, CRDMA_DOCUMENT_MAX, &text, &len);
        if (r < 0) {
                fprintf(stderr, "crdma-hook: error: %s: cannot read it: %s\n",
                        is_stdin ? "standard input" : cli->config, strerror(-r));
                return -1;
        }
        if (cli->n_annotations > 0) {
                r = crdma_config_set_annotations(text, len, cli->annotations, cli->n_annotations,
                                                 &edited, err);
                if (r < 0)
                        return r;
                free(text);
                text = TAKE_PTR(edited);
                len = strlen(text);
        }
        return crdma_config_plan(cli->ctx, text, len, plan, err);
}

int cli_plan(struct cli *cli)
{
        if (cli->n_args > 0)
                return cli_usage_error("plan: unexpected argument \"%s\"", cli->args[0]);

        struct crdma_error *err = NULL;
        struct crdma_plan *plan = NULL;
        int r = cli->config ? plan_of_config(cli, &plan, &err)
                            : crdma_plan_from_request(cli->ctx, cli->annotations,
                                                      cli->n_annotations, &plan, &err);
        if (r < 0)
                return err ? cli_fail(err) : CLI_EXIT_SYSTEM;
        if (!plan) {
                fprintf(stderr, "crdma-hook: no io.crdma.* annotation: nothing to do\n");
                return CLI_EXIT_OK;
        }
        char *json = NULL;
        int status = CLI_EXIT_OK;
        if (crdma_plan_to_json(plan, true, &json, &err) < 0)
                status = cli_fail(err);
        else
                cli_print_json(json);
        free(json);
        crdma_plan_free(plan);
        return status;
}

int cli_policy(struct cli *cli)
{
        if (cli->n_args > 0)
                return cli_usage_error("policy: unexpected argument \"%s\"", cli->args[0]);
        struct crdma_error *err = NULL;
        struct crdma_policy *policy = NULL;
        char *json = NULL;
        if (crdma_policy_load(cli->ctx, &policy, &err) < 0 ||
            crdma_policy_to_json(policy, true, &json, &err) < 0) {
                crdma_policy_free(policy);
                return cli_fail(err);
        }
        cli_print_json(json);
        free(json);
        crdma_policy_free(policy);
        return CLI_EXIT_OK;
}
