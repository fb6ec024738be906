/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A command's document to stdout, or to --output FILE atomically: a runtime
 * that reads the file at any moment (podman rescans /etc/cdi on every run)
 * sees the old one or the new one whole, never half of it. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "util.h"

int cli_emit(struct cli *cli, const char *text)
{
        /* yajl's pretty printer may end with a newline of its own. */
        size_t len = strlen(text);
        _cleanup_free_ char *whole = NULL;
        if (asprintf(&whole, "%s%s", text, len && text[len - 1] == '\n' ? "" : "\n") < 0) {
                fprintf(stderr, "crdma-hook: error: out of memory\n");
                return CLI_EXIT_SYSTEM;
        }
        if (!cli->output) {
                if (fputs(whole, stdout) < 0 || fflush(stdout) != 0) {
                        fprintf(stderr, "crdma-hook: error: standard output: %s\n",
                                strerror(errno));
                        return CLI_EXIT_SYSTEM;
                }
                return CLI_EXIT_OK;
        }
        const char *step = "";
        /* Runtimes read it as any user: 0644 whatever the umask. */
        int r = crdma_write_file_atomic(cli->output, whole, 0644, (uid_t) -1, (gid_t) -1, &step);
        if (r < 0) {
                fprintf(stderr, "crdma-hook: error: --output %s: %s: %s\n", cli->output, step,
                        strerror(-r));
                return CLI_EXIT_SYSTEM;
        }
        return CLI_EXIT_OK;
}
