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

/* What cannot be undone for a container that is gone (a device left in a
 * pod's namespace) is a warning, on stderr and in the system log, and exit 3
 * so that the runtime says so too: runc logs the hook's stderr, podman warns
 * naming the hook; neither fails the container or its removal for it, crun
 * ignores a failed poststop. */
int cli_poststop(struct cli *cli)
{
        unsigned before = cli->warnings;
        int r = run_stage(cli, crdma_state_release);
        if (r == CLI_EXIT_OK && cli->warnings > before)
                return CLI_EXIT_SYSTEM;
        return r;
}
