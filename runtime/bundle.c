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
static const char *hook_of(const struct crdma_policy *policy)
{
        const char *hook = crdma_policy_runtime_hook(policy);
        if (!hook)
                hook = CRDMA_HOOK_INSTALLED;
        return access(hook, X_OK) == 0 ? hook : NULL;
}

int shim_edit_bundle(struct crdma_context *ctx, const struct crdma_policy *policy,
                     const struct shim_args *a, enum crdma_runtime kind,
                     struct crdma_error **err)
{
        _cleanup_free_ char *path = NULL;
        if (a->config)
                path = strdup(a->config);
        else if (asprintf(&path, "%s/config.json", a->bundle ? a->bundle : ".") < 0)
                path = NULL;
        if (!path)
                return crdma_fail_oom(err);
        /* The file itself: renaming over a symlink would replace the link. */
        struct stat st;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
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
        const char *hook = hook_of(policy);
        r = crdma_config_edit_from(ctx, text, len,
                                   CRDMA_SOURCE_ANNOTATIONS | CRDMA_SOURCE_ENVIRONMENT, kind, hook,
                                   &out, err);
        if (r < 0) {
                crdma_error_prefix(err, "%s", path);
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
