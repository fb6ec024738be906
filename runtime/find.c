/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which runtime to exec: the administrator's list, first found.  Names are
 * looked up in fixed system directories: the engine's PATH may differ per
 * engine, and a container's environment never decides what runs as root. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "shim.h"

static const char *const bin_dirs[] = {
        "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin",
};

static bool usable(const char *path, const struct stat *self)
{
        struct stat st;
        if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || access(path, X_OK) < 0)
                return false;
        /* An administrator who named crdma-runtime "runc" must not loop. */
        return !(self && st.st_dev == self->st_dev && st.st_ino == self->st_ino);
}

static enum crdma_runtime kind_of(const char *path)
{
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        if (strcmp(base, "runc") == 0)
                return CRDMA_RUNTIME_RUNC;
        if (strcmp(base, "crun") == 0)
                return CRDMA_RUNTIME_CRUN;
        return CRDMA_RUNTIME_AUTO;
}

int shim_find_runtime(const struct crdma_policy *policy, char *path, size_t size,
                      enum crdma_runtime *kind, struct crdma_error **err)
{
        struct stat self_st;
        const struct stat *self = stat("/proc/self/exe", &self_st) == 0 ? &self_st : NULL;
        char tried[512] = "";
        size_t n = crdma_policy_runtime_count(policy);
        for (size_t i = 0; i < n; i++) {
                const char *name = crdma_policy_runtime(policy, i);
                size_t t = strlen(tried);
                snprintf(tried + t, sizeof(tried) - t, "%s%s", t ? ", " : "", name);
                if (name[0] == '/') {
                        if (usable(name, self) && (size_t) snprintf(path, size, "%s", name) < size) {
                                *kind = kind_of(path);
                                return 0;
                        }
                        continue;
                }
                for (size_t d = 0; d < ELEMENTSOF(bin_dirs); d++) {
                        if ((size_t) snprintf(path, size, "%s/%s", bin_dirs[d], name) >= size)
                                continue;
                        if (usable(path, self)) {
                                *kind = kind_of(path);
                                return 0;
                        }
                }
        }
        return crdma_fail(err, ENOENT,
                          "no OCI runtime to run: none of %s is installed (names are looked up "
                          "in /usr/local/sbin, /usr/local/bin, /usr/sbin, /usr/bin, /sbin and "
                          "/bin); install runc or crun, or list the runtime's absolute path in "
                          "the policy's \"runtime\": {\"runtimes\": [...]}",
                          tried);
}
