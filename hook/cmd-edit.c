/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crdma-hook precreate: podman's precreate stage, config on stdin, the
 *   edited config on stdout.
 * crdma-hook edit [--runtime R] [--dry-run] [-a K=V]... BUNDLE|CONFIG: edit
 *   a config.json in place, atomically, keeping its mode and owner. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "util.h"

static enum crdma_runtime runtime_of(const struct cli *cli)
{
        if (cli->runtime && strcmp(cli->runtime, "runc") == 0)
                return CRDMA_RUNTIME_RUNC;
        if (cli->runtime && strcmp(cli->runtime, "crun") == 0)
                return CRDMA_RUNTIME_CRUN;
        if (cli->runtime && strcmp(cli->runtime, "rootless") == 0)
                return CRDMA_RUNTIME_ROOTLESS;
        return CRDMA_RUNTIME_AUTO;
}

/* The hook entry a config may need runs this very executable. */
static char *self_path(void)
{
        char buf[4096];
        ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
        if (n <= 0)
                return NULL;
        buf[n] = '\0';
        return strdup(buf);
}

static int edit_text(struct cli *cli, const char *text, size_t len, char **out)
{
        _cleanup_free_ char *self = self_path();
        if (!self) {
                fprintf(stderr, "crdma-hook: error: /proc/self/exe: cannot read it: %s\n",
                        strerror(errno));
                return CLI_EXIT_SYSTEM;
        }
        struct crdma_error *err = NULL;
        /* podman drops a precreate hook's stderr: the system log keeps the
         * reason (journalctl -t crdma-hook). */
        if (crdma_config_edit(cli->ctx, text, len, runtime_of(cli), self, out, &err) < 0)
                return cli->hook_stage ? cli_fail_logged(err) : cli_fail(err);
        return CLI_EXIT_OK;
}

int cli_precreate(struct cli *cli)
{
        if (cli->n_args > 0)
                return cli_usage_error("precreate: unexpected argument \"%s\": the config comes "
                                       "on standard input", cli->args[0]);
        _cleanup_free_ char *text = NULL, *out = NULL;
        size_t len = 0;
        int r = crdma_read_fd(STDIN_FILENO, CRDMA_DOCUMENT_MAX, &text, &len);
        if (r < 0) {
                fprintf(stderr, "crdma-hook: error: standard input: cannot read the OCI config: "
                        "%s\n", strerror(-r));
                return CLI_EXIT_SYSTEM;
        }
        r = edit_text(cli, text, len, &out);
        if (r != CLI_EXIT_OK)
                return r;
        if (fputs(out, stdout) < 0 || fflush(stdout) != 0) {
                fprintf(stderr, "crdma-hook: error: standard output: %s\n", strerror(errno));
                return CLI_EXIT_SYSTEM;
        }
        return CLI_EXIT_OK;
}

/* --annotation pairs written into the config, so the inject path (which
 * reads them from the runtime's state) sees the same request. */
static int add_annotations(struct cli *cli, char **text, size_t *len)
{
        if (cli->n_annotations == 0)
                return CLI_EXIT_OK;
        for (size_t i = 0; i < cli->n_annotations; i++)
                for (size_t j = 0; j < i; j++)
                        if (strcmp(cli->annotations[i].key, cli->annotations[j].key) == 0)
                                return cli_usage_error("--annotation %s: given twice",
                                                       cli->annotations[i].key);
        struct crdma_error *err = NULL;
        char *out = NULL;
        if (crdma_config_set_annotations(*text, *len, cli->annotations, cli->n_annotations, &out,
                                         &err) < 0)
                return cli_fail(err);
        free(*text);
        *text = out;
        *len = strlen(out);
        return CLI_EXIT_OK;
}

int cli_edit(struct cli *cli)
{
        if (cli->n_args != 1)
                return cli_usage_error("edit: expected one BUNDLE directory or config.json file");
        const char *arg = cli->args[0];
        struct stat st;
        if (stat(arg, &st) < 0) {
                fprintf(stderr, "crdma-hook: error: %s: %s\n", arg, strerror(errno));
                return CLI_EXIT_SYSTEM;
        }
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s%s", arg, S_ISDIR(st.st_mode) ? "/config.json" : "") < 0) {
                fprintf(stderr, "crdma-hook: error: out of memory\n");
                return CLI_EXIT_SYSTEM;
        }
        /* The file itself: renaming over a symlink would replace the link. */
        _cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                int e = fd < 0 ? errno : EINVAL;
                fprintf(stderr, "crdma-hook: error: %s: %s\n", path,
                        e == ELOOP ? "is a symbolic link; edit the file it points to"
                        : fd >= 0  ? "not a regular file"
                                   : strerror(e));
                return fd < 0 && e != ELOOP ? CLI_EXIT_SYSTEM : CLI_EXIT_REFUSED;
        }
        _cleanup_free_ char *text = NULL, *out = NULL;
        size_t len = 0;
        int r = crdma_read_fd(fd, CRDMA_DOCUMENT_MAX, &text, &len);
        if (r < 0) {
                fprintf(stderr, "crdma-hook: error: %s: cannot read it: %s\n", path, strerror(-r));
                return CLI_EXIT_SYSTEM;
        }
        _cleanup_free_ char *before = strndup(text, len);
        if (!before)
                return CLI_EXIT_SYSTEM;
        r = add_annotations(cli, &text, &len);
        if (r == CLI_EXIT_OK)
                r = edit_text(cli, text, len, &out);
        if (r != CLI_EXIT_OK)
                return r;
        if (cli->dry_run) {
                size_t n = strlen(out);
                printf("%s%s", out, n && out[n - 1] == '\n' ? "" : "\n");
                return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_SYSTEM;
        }
        if (strcmp(before, out) == 0) {
                fprintf(stderr, "crdma-hook: %s: nothing to change\n", path);
                return CLI_EXIT_OK;
        }
        const char *step = "";
        r = crdma_write_file_atomic(path, out, st.st_mode & 07777, st.st_uid, st.st_gid, &step);
        if (r < 0) {
                fprintf(stderr, "crdma-hook: error: %s: %s: %s\n", path, step, strerror(-r));
                return CLI_EXIT_SYSTEM;
        }
        return CLI_EXIT_OK;
}
