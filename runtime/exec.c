/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* exec --process FILE: the process gets its container's memlock
 * (crdma_state_exec_process).  The container's state comes from the real
 * runtime itself (`RUNTIME GLOBALS state ID`), the one place that knows
 * where its bundle is for runc and crun alike. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "shim.h"
#include "util.h"

extern char **environ;

/* The runtime's `state ID` on its stdout; -ENOENT when it fails (no such
 * container: the exec itself will say so). */
static int runtime_state(const char *runtime, const struct shim_args *a, char **out, size_t *len)
{
        _cleanup_free_ char **argv = calloc((size_t) a->command + 3, sizeof(*argv));
        if (!argv)
                return -ENOMEM;
        int n = 0;
        argv[n++] = (char *) runtime;
        for (int i = 1; i < a->command; i++)
                argv[n++] = a->argv[i];
        argv[n++] = (char *) "state";
        argv[n++] = (char *) a->id;
        argv[n] = NULL;
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        _cleanup_close_ int rd = fds[0];
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
        posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
        pid_t pid;
        int r = posix_spawn(&pid, runtime, &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        close(fds[1]);
        if (r != 0)
                return -r;
        r = crdma_read_fd(rd, CRDMA_DOCUMENT_MAX, out, len);
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (r >= 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
                free(*out);
                *out = NULL;
                r = -ENOENT;
        }
        return r;
}

int shim_exec_process(struct crdma_context *ctx, const char *runtime, const struct shim_args *a,
                      struct crdma_error **err)
{
        if (!a->process || !a->id)
                return 0; /* a process from the command line: runc gives it the container's */
        _cleanup_free_ char *state = NULL, *text = NULL, *out = NULL;
        size_t state_len = 0, len = 0;
        int r = runtime_state(runtime, a, &state, &state_len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return crdma_fail_errno(err, -r, "%s state %s: cannot run it", runtime, a->id);
        struct stat st;
        _cleanup_close_ int fd = open(a->process, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0)
                return crdma_fail_errno(err, errno, "%s: cannot open the exec process", a->process);
        if (!S_ISREG(st.st_mode))
                return crdma_refuse(err, EINVAL, "%s: not a regular file", a->process);
        r = crdma_read_fd(fd, CRDMA_DOCUMENT_MAX, &text, &len);
        if (r < 0)
                return crdma_fail_errno(err, -r, "%s: cannot read it", a->process);
        r = crdma_state_exec_process(ctx, state, state_len, text, len, &out, err);
        if (r < 0) {
                crdma_error_prefix(err, "%s", a->process);
                return r;
        }
        if (strlen(out) == len && memcmp(out, text, len) == 0)
                return 0;
        const char *step = "";
        r = crdma_write_file_atomic(a->process, out, st.st_mode & 07777, st.st_uid, st.st_gid,
                                    &step);
        return r < 0 ? crdma_fail_errno(err, -r, "%s: %s", a->process, step) : 0;
}
