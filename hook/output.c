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

static int write_all(int fd, const char *text, size_t len)
{
        while (len > 0) {
                ssize_t n = write(fd, text, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                text += n;
                len -= (size_t) n;
        }
        return 0;
}

/* Temp file in the target's directory, fsync, rename over the target, fsync
 * the directory so the rename survives a crash. */
int cli_write_atomic(const char *path, const char *text, mode_t mode, uid_t uid, gid_t gid,
                     const char **step)
{
        _cleanup_free_ char *dcopy = strdup(path), *bcopy = strdup(path), *tmp = NULL;
        if (!dcopy || !bcopy)
                return -ENOMEM;
        const char *dir = dirname(dcopy), *base = basename(bcopy);
        *step = "cannot open its directory";
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        if (asprintf(&tmp, "%s/.%s.XXXXXX", dir, base) < 0) {
                tmp = NULL;
                return -ENOMEM;
        }
        *step = "cannot create a temporary file next to it";
        _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        const char *tmp_base = strrchr(tmp, '/') + 1;
        int r = 0;
        *step = "cannot give the new file the mode and owner of the old one";
        if (fchmod(fd, mode) < 0 || (uid != (uid_t) -1 && fchown(fd, uid, gid) < 0))
                r = -errno;
        if (r == 0)
                *step = "cannot write it";
        if (r == 0)
                r = write_all(fd, text, strlen(text));
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (r == 0 && close(TAKE_FD(fd)) < 0)
                r = -errno;
        if (r == 0) {
                *step = "cannot rename the temporary file over it";
                if (renameat(dfd, tmp_base, dfd, base) < 0)
                        r = -errno;
        }
        if (r < 0) {
                unlinkat(dfd, tmp_base, 0);
                return r;
        }
        *step = "written, but its directory cannot be synced";
        return fsync(dfd) < 0 ? -errno : 0;
}

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
        int r = cli_write_atomic(cli->output, whole, 0644, (uid_t) -1, (gid_t) -1, &step);
        if (r < 0) {
                fprintf(stderr, "crdma-hook: error: --output %s: %s: %s\n", cli->output, step,
                        strerror(-r));
                return CLI_EXIT_SYSTEM;
        }
        return CLI_EXIT_OK;
}
