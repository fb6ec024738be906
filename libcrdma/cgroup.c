/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rdma.max in the container's cgroup (v1 rdma hierarchy or v2), and the
 * "+rdma" the v2 ancestors need.  Files are written fd-relative to the
 * context's cgroup root, so tests run on a plain directory tree.  libcgroup
 * is not used here: it finds hierarchies through /proc/mounts of the running
 * host and cannot work relative to a given root. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "context.h"
#include "error.h"
#include "fault.h"
#include "util.h"

void crdma_cgroup_target_clear(struct crdma_cgroup_target *t)
{
        free(t->path);
        free(t->devices_path);
        *t = (struct crdma_cgroup_target){ 0 };
}

static bool word_in(const char *list, const char *word)
{
        size_t len = strlen(word);
        for (const char *p = list; (p = strstr(p, word)); p += len)
                if ((p == list || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0' || p[len] == '\n'))
                        return true;
        return false;
}

int crdma_cgroup_host(struct crdma_context *ctx, struct crdma_cgroup_host *out,
                      struct crdma_error **err)
{
        int root = crdma_context_root_fd(ctx, CRDMA_ROOT_CGROUP, err);
        if (root < 0)
                return root;
        *out = (struct crdma_cgroup_host){ 0 };
        /* A unified mount has cgroup.controllers at its top; a v1/hybrid one
         * is a tmpfs of per-controller mounts, rdma's among them when the
         * kernel has it and it is mounted. */
        _cleanup_free_ char *controllers = NULL;
        int r = crdma_read_text_at(root, "cgroup.controllers", CRDMA_TEXT_MAX, &controllers);
        if (r >= 0) {
                out->v2 = true;
                out->rdma = word_in(controllers, "rdma");
                return 0;
        }
        if (r != -ENOENT)
                return crdma_fail(err, -r, "%s/cgroup.controllers: cannot read it",
                                  crdma_context_root_path(ctx, CRDMA_ROOT_CGROUP));
        struct stat st;
        out->rdma = fstatat(root, "rdma", &st, 0) == 0 && S_ISDIR(st.st_mode);
        return 0;
}

int crdma_cgroup_open(struct crdma_context *ctx, const char *sub, const char *path,
                      struct crdma_error **err)
{
        int root = crdma_context_root_fd(ctx, CRDMA_ROOT_CGROUP, err);
        if (root < 0)
                return root;
        _cleanup_free_ char *rel = NULL;
        /* "/" is the root cgroup: "." relative to the hierarchy. */
        const char *p = path[1] ? path + 1 : ".";
        if (asprintf(&rel, "%s%s%s", sub, sub[0] ? "/" : "", p) < 0)
                return crdma_fail_oom(err);
        int fd = openat(root, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return crdma_fail_errno(err, errno, "cgroup %s/%s: cannot open",
                                        crdma_context_root_path(ctx, CRDMA_ROOT_CGROUP), rel);
        return fd;
}

bool crdma_cgroup_enables_rdma(struct crdma_context *ctx, const char *path)
{
        if (!ctx || !path || path[0] != '/')
                return false;
        _cleanup_close_ int fd = crdma_cgroup_open(ctx, "", path, NULL);
        _cleanup_free_ char *control = NULL;
        return fd >= 0 &&
               crdma_read_text_at(fd, "cgroup.subtree_control", CRDMA_TEXT_MAX, &control) >= 0 &&
               word_in(control, "rdma");
}

int crdma_cgroup_target_init(struct crdma_context *ctx, const struct crdma_proc_cgroups *pc,
                             struct crdma_cgroup_target *out, struct crdma_error **err)
{
        struct crdma_cgroup_host host;
        int r = crdma_cgroup_host(ctx, &host, err);
        if (r < 0)
                return r;
        struct crdma_cgroup_target t = { 0 };
        if (host.v2) {
                if (!pc->unified)
                        return crdma_fail(err, ENOENT, "cgroup %s is unified (v2) but the "
                                          "container's process is in no v2 cgroup",
                                          crdma_context_root_path(ctx, CRDMA_ROOT_CGROUP));
                if (strcmp(pc->unified, "/") == 0)
                        return crdma_fail(err, EINVAL, "the container's process is in the root "
                                          "cgroup; rdma.max cannot be set there (is the runtime "
                                          "managing cgroups?)");
                t.mode = CRDMA_CGROUP_V2;
                t.path = strdup(pc->unified);
                t.rdma_available = host.rdma;
        } else {
                t.mode = CRDMA_CGROUP_V1;
                if (pc->devices && !(t.devices_path = strdup(pc->devices))) {
                        crdma_cgroup_target_clear(&t);
                        return crdma_fail_oom(err);
                }
                t.rdma_available = pc->rdma && host.rdma;
                if (pc->rdma)
                        t.path = strdup(pc->rdma);
        }
        if ((t.mode == CRDMA_CGROUP_V2 || pc->rdma) && !t.path) {
                crdma_cgroup_target_clear(&t);
                return crdma_fail_oom(err);
        }
        *out = t;
        return 0;
}

int crdma_cgroup_write(int dirfd, const char *name, const char *text)
{
        /* O_TRUNC: what a shell redirection does; cgroupfs ignores it, and a
         * plain file in a test tree then holds exactly what was written. */
        _cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        size_t len = strlen(text);
        ssize_t n = write(fd, text, len);
        if (n < 0)
                return -errno;
        return (size_t) n == len ? 0 : -EIO;
}

struct crdma_subtree_undo {
        struct crdma_strv where; /* the cgroups we put +rdma in, top down */
        int *fds;                /* their directories */
        size_t n;
};

void crdma_cgroup_subtree_undo_free(struct crdma_subtree_undo *undo)
{
        if (!undo)
                return;
        for (size_t i = 0; i < undo->n; i++)
                crdma_closep(&undo->fds[i]);
        free(undo->fds);
        crdma_strv_clear(&undo->where);
        free(undo);
}

/* Take +rdma back, deepest first: the kernel refuses "-rdma" in a cgroup
 * while a child still has it in its own subtree_control. */
int crdma_cgroup_subtree_undo(struct crdma_subtree_undo *undo, struct crdma_error **err)
{
        int first = 0;
        while (undo->n > 0) {
                size_t i = undo->n - 1;
                int r = crdma_cgroup_write(undo->fds[i], "cgroup.subtree_control", "-rdma");
                if (r < 0) {
                        first = crdma_fail_errno(err, r, "cgroup %s/cgroup.subtree_control: "
                                                 "disabling the rdma controller crdma enabled "
                                                 "failed",
                                                 i < undo->where.n ? undo->where.v[i] : "?");
                        break; /* its ancestors would refuse too */
                }
                crdma_closep(&undo->fds[i]);
                undo->n--;
        }
        return first;
}

/* +rdma in one cgroup; 1 and *fd (its directory) when written here. */
static int enable_rdma_in(struct crdma_context *ctx, int root, const char *cgroup, int *fd_out,
                          struct crdma_error **err)
{
        const char *rel = cgroup[0] ? cgroup + 1 : ".";
        _cleanup_close_ int fd = openat(root, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        _cleanup_free_ char *control = NULL;
        int r = fd < 0 ? -errno
                       : crdma_read_text_at(fd, "cgroup.subtree_control", CRDMA_TEXT_MAX, &control);
        bool wrote = false;
        if (r >= 0 && !word_in(control, "rdma")) {
                r = CRDMA_FAULT(ctx, "subtree_control")
                            ? -errno
                            : crdma_cgroup_write(fd, "cgroup.subtree_control", "+rdma");
                wrote = r >= 0;
                if (wrote)
                        crdma_log(ctx, CRDMA_LOG_DEBUG, "cgroup %s: enabled +rdma",
                                  cgroup[0] ? cgroup : "/");
        }
        if (r < 0)
                return crdma_fail_errno(err, r, "cgroup %s%s/cgroup.subtree_control: writing "
                                        "\"+rdma\" to enable the rdma controller for the "
                                        "container's cgroup failed%s",
                                        crdma_context_root_path(ctx, CRDMA_ROOT_CGROUP), cgroup,
                                        r == -EBUSY ? " (a cgroup with processes of its own "
                                                      "cannot enable controllers for its "
                                                      "children)" : "");
        if (wrote)
                *fd_out = TAKE_FD(fd);
        return wrote;
}

int crdma_cgroup_enable_rdma(struct crdma_context *ctx, const char *path,
                             struct crdma_subtree_undo **undo, struct crdma_error **err)
{
        int root = crdma_context_root_fd(ctx, CRDMA_ROOT_CGROUP, err);
        if (root < 0)
                return root;
        struct crdma_subtree_undo *u = calloc(1, sizeof(*u));
        size_t len = strlen(path);
        if (!u || !(u->fds = calloc(len + 1, sizeof(*u->fds)))) {
                free(u);
                return crdma_fail_oom(err);
        }
        /* "/a/b/c" needs it in "" (the root), "/a" and "/a/b". */
        int r = 0;
        for (size_t i = 0; i < len && r >= 0; i++) {
                if (i > 0 && path[i] != '/')
                        continue;
                _cleanup_free_ char *ancestor = strndup(path, i);
                if (!ancestor) {
                        r = crdma_fail_oom(err);
                        break;
                }
                int fd = -EBADF;
                r = enable_rdma_in(ctx, root, ancestor, &fd, err);
                if (r > 0) {
                        char shown[4096];
                        snprintf(shown, sizeof(shown), "%s%s",
                                 crdma_context_root_path(ctx, CRDMA_ROOT_CGROUP), ancestor);
                        u->fds[u->n++] = fd;
                        if (crdma_strv_push(&u->where, shown) < 0)
                                r = crdma_fail_oom(err);
                }
        }
        if (r < 0) {
                /* Leave the ancestors as they were, and report the first error. */
                crdma_cgroup_subtree_undo(u, NULL);
                crdma_cgroup_subtree_undo_free(u);
                return r;
        }
        if (undo)
                *undo = u;
        else
                crdma_cgroup_subtree_undo_free(u);
        return 0;
}

struct crdma_rdma_undo {
        int dirfd;
        char *where;
        struct crdma_strv lines; /* previous line per device we wrote */
};

void crdma_cgroup_rdma_undo_free(struct crdma_rdma_undo *undo)
{
        if (!undo)
                return;
        if (undo->dirfd >= 0)
                close(undo->dirfd);
        free(undo->where);
        crdma_strv_clear(&undo->lines);
        free(undo);
}

/* The current rdma.max line of `dev`, or its unlimited default. */
static int previous_line(const char *current, const char *dev, char **out)
{
        size_t len = strlen(dev);
        for (const char *p = current; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
                if (strncmp(p, dev, len) == 0 && p[len] == ' ') {
                        *out = strndup(p, strcspn(p, "\n"));
                        return *out ? 0 : -ENOMEM;
                }
        }
        return asprintf(out, "%s hca_handle=max hca_object=max", dev) < 0 ? -ENOMEM : 0;
}

int crdma_cgroup_rdma_max_set(struct crdma_context *ctx, int dirfd, const char *where,
                              const char *const *lines, size_t n, struct crdma_rdma_undo **undo,
                              struct crdma_error **err)
{
        /* rdma.max lists every RDMA device of the host, a line each: more
         * than a page on an SR-IOV host with a hundred VFs. */
        _cleanup_free_ char *current = NULL;
        size_t len = 0;
        _cleanup_close_ int fd = openat(dirfd, "rdma.max", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        int r = fd < 0 ? -errno : crdma_read_fd(fd, CRDMA_RDMA_MAX_FILE_MAX, &current, &len);
        if (r < 0)
                return crdma_fail_errno(err, r, "cgroup %s/rdma.max: cannot read (is the rdma "
                                        "controller enabled for this cgroup?)", where);

        struct crdma_rdma_undo *u = calloc(1, sizeof(*u));
        if (!u || !(u->where = strdup(where)) || (u->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3)) < 0) {
                if (u)
                        u->dirfd = -1;
                crdma_cgroup_rdma_undo_free(u);
                return crdma_fail_oom(err);
        }
        for (size_t i = 0; i < n; i++) {
                char dev[64];
                snprintf(dev, sizeof(dev), "%.*s", (int) strcspn(lines[i], " "), lines[i]);
                _cleanup_free_ char *prev = NULL;
                r = previous_line(current, dev, &prev);
                if (r >= 0)
                        r = crdma_strv_push(&u->lines, prev);
                if (r < 0) {
                        crdma_cgroup_rdma_undo(u, NULL);
                        crdma_cgroup_rdma_undo_free(u);
                        return crdma_fail_oom(err);
                }
                r = CRDMA_FAULT(ctx, "rdma.max") ? -errno
                                                 : crdma_cgroup_write(dirfd, "rdma.max", lines[i]);
                if (r < 0) {
                        /* Undo the lines written so far, not this one. */
                        free(u->lines.v[--u->lines.n]);
                        u->lines.v[u->lines.n] = NULL;
                        crdma_cgroup_rdma_undo(u, NULL);
                        crdma_cgroup_rdma_undo_free(u);
                        return crdma_fail_errno(err, r, "cgroup %s/rdma.max: writing \"%s\" failed",
                                                where, lines[i]);
                }
                crdma_log(ctx, CRDMA_LOG_DEBUG, "cgroup %s/rdma.max: %s", where, lines[i]);
        }
        *undo = u;
        return 0;
}

int crdma_cgroup_rdma_undo(struct crdma_rdma_undo *undo, struct crdma_error **err)
{
        int first = 0;
        for (size_t i = undo->lines.n; i-- > 0;) {
                int r = crdma_cgroup_write(undo->dirfd, "rdma.max", undo->lines.v[i]);
                if (r < 0 && first == 0)
                        first = crdma_fail_errno(err, r, "cgroup %s/rdma.max: restoring \"%s\" failed",
                                                 undo->where, undo->lines.v[i]);
        }
        return first;
}
