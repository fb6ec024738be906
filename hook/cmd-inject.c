/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crdma-hook prestart | createRuntime | poststop: the OCI state on stdin. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "util.h"

/* The state text on stdin, then `stage` on it; a failure goes to the system
 * log too (crun drops a hook's stderr). */
static int run_stage(struct cli *cli, int (*stage)(struct crdma_context *, const char *, size_t,
                                                   struct crdma_error **))
{
        if (cli->n_args > 0)
                return cli_usage_error("unexpected argument \"%s\": the OCI state comes on "
                                       "standard input", cli->args[0]);
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = crdma_read_fd(STDIN_FILENO, CRDMA_DOCUMENT_MAX, &text, &len);
        if (r < 0) {
                fprintf(stderr, "crdma-hook: error: standard input: cannot read the OCI state: %s\n",
                        strerror(-r));
                return CLI_EXIT_SYSTEM;
        }
        struct crdma_error *err = NULL;
        if (stage(cli->ctx, text, len, &err) < 0)
                return cli_fail_logged(err);
        return CLI_EXIT_OK;
}

int cli_inject(struct cli *cli)
{
        return run_stage(cli, crdma_state_inject);
}

/* A container that is gone is never failed: what cannot be undone comes as
 * a warning (stderr and the system log); only a bad state or request fails. */
int cli_poststop(struct cli *cli)
{
        return run_stage(cli, crdma_state_release);
}
