/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The config edit at create: BUNDLE/config.json (crun's --config), as the
 * engine wrote it, replaced atomically by the edited one.  A config that
 * asks nothing is read and left alone, byte for byte and inode for inode. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "shim.h"
#include "util.h"

/* The crdma-hook a config's createRuntime entry runs, when one is needed:
 * the policy's, else the installed one.  NULL when it is not there, so a
 * plan that needs it is refused at create rather than at the hook's exec. */
static const char *hook_of(const struct crdma_policy *policy, const char **missing)
{
        const char *hook = crdma_policy_runtime_hook(policy);
        if (!hook)
                hook = CRDMA_HOOK_INSTALLED;
        if (access(hook, X_OK) == 0)
                return hook;
        *missing = hook;
        return NULL;
}

int shim_edit_bundle(struct crdma_context *ctx, const struct crdma_policy *policy,
                     const struct shim_args *a, enum crdma_runtime kind,
                     struct crdma_error **err)
{
        /* crun reads --config as given (from its working directory), except
         * the name config.json, which it reads from the bundle. */
        const char *bundle = a->bundle ? a->bundle : ".";
        const char *name = a->config ? a->config : "config.json";
        _cleanup_free_ char *path = NULL;
        if (strcmp(name, "config.json") != 0)
                path = strdup(name);
        else if (asprintf(&path, "%s/%s", bundle, name) < 0)
                path = NULL;
        if (!path)
                return crdma_fail_oom(err);
        /* The file itself: renaming over a symlink would replace the link. */
        struct stat st;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ELOOP)
                return crdma_refuse(err, ELOOP, "%s: is a symbolic link; the engine's bundle "
                                    "must hold the config itself", path);
        if (fd < 0)
                return crdma_fail_errno(err, errno, "%s: cannot open the bundle's config", path);
        if (fstat(fd, &st) < 0)
                return crdma_fail_errno(err, errno, "%s: cannot stat it", path);
        if (!S_ISREG(st.st_mode))
                return crdma_refuse(err, EINVAL, "%s: not a regular file", path);
        _cleanup_free_ char *text = NULL, *out = NULL;
        size_t len = 0;
        int r = crdma_read_fd(fd, CRDMA_DOCUMENT_MAX, &text, &len);
        if (r < 0)
                return crdma_fail_errno(err, -r, "%s: cannot read it", path);
        const char *missing = NULL;
        const char *hook = hook_of(policy, &missing);
        const unsigned sources = CRDMA_SOURCE_ANNOTATIONS | CRDMA_SOURCE_ENVIRONMENT;
        r = crdma_config_edit_from(ctx, text, len, sources, kind, hook, &out, err);
        if (r < 0 && missing) {
                /* Refused without a hook: was the hook what it lacked? */
                struct crdma_error *with_err = NULL;
                _cleanup_free_ char *with = NULL;
                if (crdma_config_edit_from(ctx, text, len, sources, kind, missing, &with,
                                           &with_err) >= 0) {
                        crdma_error_free(*err);
                        *err = NULL;
                        return crdma_refuse(err, ENOENT,
                                            "bundle %s: the request needs crdma-hook as a "
                                            "createRuntime hook, and %s is not installed; install "
                                            "it, or name it in the policy's \"runtime\": "
                                            "{\"hook\": ...}",
                                            bundle, missing);
                }
                crdma_error_free(with_err);
        }
        if (r < 0) {
                /* The library names the file "config.json": say whose. */
                crdma_error_prefix(err, "bundle %s", bundle);
                return r;
        }
        if (strlen(out) == len && memcmp(out, text, len) == 0)
                return 0; /* nothing asked: not rewritten */
        const char *step = "";
        r = crdma_write_file_atomic(path, out, st.st_mode & 07777, st.st_uid, st.st_gid, &step);
        if (r < 0)
                return crdma_fail_errno(err, -r, "%s: %s", path, step);
        return 0;
}
