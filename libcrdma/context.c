/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "context.h"
#include "error.h"

static const char *const default_root[CRDMA_ROOT_COUNT] = {
        [CRDMA_ROOT_SYSFS] = "/sys",
        [CRDMA_ROOT_DEV] = "/dev",
        [CRDMA_ROOT_CGROUP] = "/sys/fs/cgroup",
        [CRDMA_ROOT_PROC] = "/proc",
};

static const char *const root_name[CRDMA_ROOT_COUNT] = {
        [CRDMA_ROOT_SYSFS] = "sysfs root",
        [CRDMA_ROOT_DEV] = "dev root",
        [CRDMA_ROOT_CGROUP] = "cgroup root",
        [CRDMA_ROOT_PROC] = "proc root",
};

const char *crdma_version(void)
{
        return CRDMA_VERSION_STRING;
}

int crdma_context_new(struct crdma_context **out, struct crdma_error **err)
{
        struct crdma_context *ctx = calloc(1, sizeof(*ctx));
        if (!ctx)
                return crdma_fail_oom(err);

        for (int i = 0; i < CRDMA_ROOT_COUNT; i++) {
                ctx->root_fd[i] = -EBADF;
                ctx->root_is_default[i] = true;
                ctx->root_path[i] = strdup(default_root[i]);
        }
        ctx->policy_path = strdup(CRDMA_DEFAULT_POLICY_PATH);
        ctx->log_level = CRDMA_LOG_WARNING;
        ctx->nl_ops = &crdma_netlink_kernel_ops;
        ctx->nl_enabled = true;

        for (int i = 0; i < CRDMA_ROOT_COUNT; i++)
                if (!ctx->root_path[i]) {
                        crdma_context_free(ctx);
                        return crdma_fail_oom(err);
                }
        if (!ctx->policy_path) {
                crdma_context_free(ctx);
                return crdma_fail_oom(err);
        }
#ifdef CRDMA_FAULT_INJECTION
        int r = crdma_fault_from_env(ctx, err);
        if (r < 0) {
                crdma_context_free(ctx);
                return r;
        }
#endif
        *out = ctx;
        return 0;
}

void crdma_context_free(struct crdma_context *ctx)
{
        if (!ctx)
                return;
        for (int i = 0; i < CRDMA_ROOT_COUNT; i++) {
                if (ctx->root_fd[i] >= 0)
                        close(ctx->root_fd[i]);
                free(ctx->root_path[i]);
        }
        free(ctx->policy_path);
        free(ctx);
}

static int open_root(enum crdma_root root, const char *path, struct crdma_error **err)
{
        int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return crdma_fail_errno(err, errno, "%s %s: cannot open the directory",
                                        root_name[root], path);
        return fd;
}

int crdma_context_set_root(struct crdma_context *ctx, enum crdma_root root,
                           const char *path, struct crdma_error **err)
{
        if ((unsigned) root >= CRDMA_ROOT_COUNT || !path || path[0] == '\0')
                return crdma_fail(err, EINVAL, "crdma_context_set_root: invalid root or path");

        _cleanup_close_ int fd = open_root(root, path, err);
        if (fd < 0)
                return fd;
        char *copy = strdup(path);
        if (!copy)
                return crdma_fail_oom(err);

        if (ctx->root_fd[root] >= 0)
                close(ctx->root_fd[root]);
        free(ctx->root_path[root]);
        ctx->root_fd[root] = TAKE_FD(fd);
        ctx->root_path[root] = copy;
        ctx->root_is_default[root] = strcmp(path, default_root[root]) == 0;
        return 0;
}

int crdma_context_set_netlink(struct crdma_context *ctx, bool enabled, struct crdma_error **err)
{
        if (!ctx)
                return crdma_fail(err, EINVAL, "crdma_context_set_netlink: no context");
        ctx->nl_enabled = enabled;
        return 0;
}

int crdma_context_root_fd(struct crdma_context *ctx, enum crdma_root root,
                          struct crdma_error **err)
{
        if (ctx->root_fd[root] < 0) {
                int fd = open_root(root, ctx->root_path[root], err);
                if (fd < 0)
                        return fd;
                ctx->root_fd[root] = fd;
        }
        return ctx->root_fd[root];
}

const char *crdma_context_root_path(const struct crdma_context *ctx, enum crdma_root root)
{
        return ctx->root_path[root];
}

int crdma_context_set_policy_path(struct crdma_context *ctx, const char *path,
                                  struct crdma_error **err)
{
        char *copy = NULL;
        if (path) {
                if (path[0] == '\0')
                        return crdma_fail(err, EINVAL, "policy file: empty name");
                copy = strdup(path);
                if (!copy)
                        return crdma_fail_oom(err);
        }
        free(ctx->policy_path);
        ctx->policy_path = copy;
        ctx->policy_path_given = true;
        return 0;
}

void crdma_context_set_log(struct crdma_context *ctx, crdma_log_fn fn, void *userdata,
                           enum crdma_log_level max_level)
{
        ctx->log_fn = fn;
        ctx->log_data = userdata;
        ctx->log_level = max_level;
}

void crdma_context_set_netlink_ops(struct crdma_context *ctx,
                                   const struct crdma_netlink_ops *ops, void *data)
{
        ctx->nl_ops = ops;
        ctx->nl_data = data;
        /* Installing a transport is asking for it to be used. */
        ctx->nl_enabled = ops != NULL;
}

const struct crdma_netlink_ops *crdma_context_netlink(const struct crdma_context *ctx)
{
        return ctx->nl_enabled ? ctx->nl_ops : NULL;
}

void crdma_log(const struct crdma_context *ctx, enum crdma_log_level level,
               const char *fmt, ...)
{
        if (!ctx || !ctx->log_fn || level > ctx->log_level)
                return;
        char buf[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        ctx->log_fn(level, buf, ctx->log_data);
}
