/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crdma-runtime: an OCI runtime shim with runc's command line.  At create,
 * run and restore it applies the container's request to the bundle's
 * config.json (libcrdma's config edit, atomically, and only when something
 * is asked), then execs the real runtime the policy names, with argv,
 * environment and file descriptors as they came.  At exec --process, the
 * process file gets its container's memlock.  Every other subcommand goes
 * to the real runtime untouched.  crdma-runtime(8). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "argv.h"
#include "cleanup.h"
#include "crdma.h"
#include "shim.h"
#include "util.h"

extern char **environ;

static void context_freep(struct crdma_context **c)
{
        crdma_context_free(*c);
}

static void policy_freep(struct crdma_policy **p)
{
        crdma_policy_free(*p);
}

/* Warnings (best-effort limits, a device without rdma_cm) where the runtime
 * logs. */
static void log_warning(enum crdma_log_level level, const char *message, void *userdata)
{
        (void) level;
        shim_warn(userdata, message);
}

static int setup(const struct shim_args *a, struct crdma_context **out, struct crdma_error **err)
{
        static const enum crdma_root roots[SHIM_ROOT_COUNT] = {
                [SHIM_ROOT_SYSFS] = CRDMA_ROOT_SYSFS,
                [SHIM_ROOT_CGROUP] = CRDMA_ROOT_CGROUP,
        };
        _cleanup_(context_freep) struct crdma_context *ctx = NULL;
        int r = crdma_context_new(&ctx, err);
        if (r < 0)
                return r;
        crdma_context_set_log(ctx, log_warning, (void *) a, CRDMA_LOG_WARNING);
        if (a->policy) {
                /* The createRuntime entry runs from the bundle: an absolute path. */
                _cleanup_free_ char *abs = realpath(a->policy, NULL);
                r = crdma_context_set_policy_path(ctx, abs ? abs : a->policy, err);
        }
        for (int i = 0; r >= 0 && i < SHIM_ROOT_COUNT; i++)
                if (a->roots[i])
                        r = crdma_context_set_root(ctx, roots[i], a->roots[i], err);
        /* RDMA netlink describes the running kernel, not another sysfs tree. */
        if (r >= 0 && a->roots[SHIM_ROOT_SYSFS] && strcmp(a->roots[SHIM_ROOT_SYSFS], "/sys") != 0)
                r = crdma_context_set_netlink(ctx, false, err);
        if (r < 0)
                return r;
        *out = TAKE_PTR(ctx);
        return 0;
}

int main(int argc, char **argv)
{
        char why[512] = "";
        struct shim_args a;
        int r = shim_args_parse(argc, argv, &a, why, sizeof(why));
        if (r < 0) {
                struct shim_args none = { 0 };
                return shim_report(&none, SHIM_EXIT_USAGE, r == -ENOMEM ? "out of memory" : why);
        }

        struct crdma_error *err = NULL;
        char runtime[4096];
        enum crdma_runtime kind = CRDMA_RUNTIME_AUTO;
        {
                _cleanup_(context_freep) struct crdma_context *ctx = NULL;
                _cleanup_(policy_freep) struct crdma_policy *policy = NULL;
                r = setup(&a, &ctx, &err);
                if (r >= 0)
                        r = crdma_policy_load(ctx, &policy, &err);
                if (r >= 0)
                        r = shim_find_runtime(policy, runtime, sizeof(runtime), &kind, &err);
                if (r >= 0 && a.edits)
                        r = shim_edit_bundle(ctx, policy, &a, kind, &err);
                if (r >= 0 && a.execs)
                        r = shim_exec_process(ctx, runtime, &a, &err);
                /* The context's fds close here: the runtime gets the fds
                 * the engine gave, no more. */
        }
        if (r < 0) {
                int code = crdma_error_kind(err) == CRDMA_ERROR_REFUSED ? SHIM_EXIT_REFUSED
                                                                        : SHIM_EXIT_SYSTEM;
                r = shim_report(&a, code, crdma_error_message(err));
                crdma_error_free(err);
                shim_args_clear(&a);
                return r;
        }
        a.argv[0] = runtime;
        execve(runtime, a.argv, environ);
        snprintf(why, sizeof(why), "%.400s: cannot execute it: %s", runtime, strerror(errno));
        return shim_report(&a, SHIM_EXIT_SYSTEM, why);
}
