/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crdma-runtime's steps, one file each. */
#ifndef CRDMA_RUNTIME_SHIM_H
#define CRDMA_RUNTIME_SHIM_H

#include <stddef.h>

#include "argv.h"
#include "crdma.h"

/* crdma-hook's exit statuses (DESIGN.md): the engine shows the message. */
enum {
        SHIM_EXIT_REFUSED = 1,
        SHIM_EXIT_USAGE = 2,
        SHIM_EXIT_SYSTEM = 3,
};

/* "crdma-runtime: error: MSG" on stderr and, when the engine gave --log, in
 * that file as the runtime writes its own errors (--log-format json: one
 * logrus-style object per line, which containerd's shim reads back and
 * Docker and ctr print).  Returns `code`. */
int shim_report(const struct shim_args *a, int code, const char *msg);
/* A warning: in the --log file (level "warning") when the engine gave one,
 * else on stderr. */
void shim_warn(const struct shim_args *a, const char *msg);

/* The first runtime of the policy's "runtime.runtimes" that is installed
 * (a bare name is looked up in the system's bin directories, never in
 * PATH or the container's environment), and never crdma-runtime itself;
 * *kind says which runtime's config fields the edit writes. */
int shim_find_runtime(const struct crdma_policy *policy, char *path, size_t size,
                      enum crdma_runtime *kind, struct crdma_error **err);

/* The request applied to the bundle's config.json (or crun's --config),
 * replaced atomically with its mode and owner kept; not written at all
 * when nothing is asked. */
int shim_edit_bundle(struct crdma_context *ctx, const struct crdma_policy *policy,
                     const struct shim_args *a, enum crdma_runtime kind,
                     struct crdma_error **err);

/* exec --process FILE into a container crdma planned: the process file
 * gets the container's RLIMIT_MEMLOCK where it has less. */
int shim_exec_process(struct crdma_context *ctx, const char *runtime, const struct shim_args *a,
                      struct crdma_error **err);

#endif
