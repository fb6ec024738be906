/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Device nodes in a created container's /dev/infiniband.
 *
 * The rootfs belongs to the container's user: everything inside it is
 * resolved fd-relative with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS |
 * RESOLVE_NO_MAGICLINKS), nodes are made with mknodat on the verified
 * directory fd, and an existing node is accepted only if it is the same char
 * device.  The work happens in a forked child that joins the container's
 * mount namespace, never in the caller's thread: runtimes link this library. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "cleanup.h"
#include "context.h"
#include "devnodes.h"
#include "error.h"
#include "fault.h"
#include "nschild.h"

#define RESOLVE_SAFE (RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)

struct crdma_devnodes_undo {
        int mntns_fd;
        char *rootfs;
        bool dir_created;
        struct crdma_strv created; /* node names made by us */
};

/* What the child reports: a fixed header, then one byte per node. */
struct child_report {
        int errnum;
        int dir_created;
        char message[480];
};

void crdma_devnodes_undo_free(struct crdma_devnodes_undo *undo)
{
        if (!undo)
                return;
        if (undo->mntns_fd >= 0)
                close(undo->mntns_fd);
        free(undo->rootfs);
        crdma_strv_clear(&undo->created);
        free(undo);
}

static int open_beneath(int dirfd, const char *path)
{
        struct open_how how = {
                .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                .resolve = RESOLVE_SAFE,
        };
        long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
        return fd < 0 ? -errno : (int) fd;
}

static const char *node_name(const char *path)
{
        const char *slash = strrchr(path, '/');
        return slash ? slash + 1 : path;
}

/* "<what>: <strerror>[; <hint>]" into the report: the parent passes it on as it is. */
static int child_vfail(struct child_report *rep, int errnum, const char *hint, const char *fmt,
                       va_list ap) __attribute__((format(printf, 4, 0)));
static int child_vfail(struct child_report *rep, int errnum, const char *hint, const char *fmt,
                       va_list ap)
{
        rep->errnum = errnum;
        int o = vsnprintf(rep->message, sizeof(rep->message), fmt, ap);
        if (o >= 0 && (size_t) o < sizeof(rep->message)) {
                char buf[128];
                snprintf(rep->message + o, sizeof(rep->message) - (size_t) o, ": %s%s%s",
                         strerror_r(errnum, buf, sizeof(buf)), hint ? "; " : "", hint ? hint : "");
        }
        return -errnum;
}

static int child_fail(struct child_report *rep, int errnum, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int child_fail(struct child_report *rep, int errnum, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = child_vfail(rep, errnum, NULL, fmt, ap);
        va_end(ap);
        return r;
}

static int child_fail_hint(struct child_report *rep, int errnum, const char *hint,
                           const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int child_fail_hint(struct child_report *rep, int errnum, const char *hint,
                           const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = child_vfail(rep, errnum, hint, fmt, ap);
        va_end(ap);
        return r;
}

/* The rootfs path comes from config.json and is resolved here, long after
 * the runtime mounted the rootfs in the container's mount namespace: a
 * directory on that path renamed and replaced since, or a symlink on it,
 * would point the hook at a host directory.  The runtime's rootfs is a mount
 * of its own there (runc and crun bind it onto itself, podman's is an
 * overlay), and a renamed directory takes its mount along: require a mount
 * root reached without symlinks. */
static int open_rootfs(const char *rootfs, struct child_report *rep)
{
        struct open_how how = {
                .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        _cleanup_close_ int fd = (int) syscall(SYS_openat2, AT_FDCWD, rootfs, &how, sizeof(how));
        if (fd < 0 && errno == ELOOP)
                return child_fail(rep, ELOOP, "rootfs %s: a symlink on the way; crdma resolves "
                                  "the rootfs path only through real directories (give the "
                                  "runtime the resolved path)", rootfs);
        if (fd < 0)
                return child_fail(rep, errno, "rootfs %s: cannot open in the container's mount "
                                  "namespace", rootfs);
        struct statx stx;
        if (statx(fd, "", AT_EMPTY_PATH, 0, &stx) < 0)
                return child_fail(rep, errno, "rootfs %s: cannot stat", rootfs);
        if (!(stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
                return child_fail(rep, EOPNOTSUPP, "rootfs %s: the kernel cannot tell a mount "
                                  "root (STATX_ATTR_MOUNT_ROOT, Linux 5.8+)", rootfs);
        if (!(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
                return child_fail(rep, EXDEV, "rootfs %s: is not the container's root mount in its "
                                  "mount namespace (was the directory renamed or replaced since "
                                  "the runtime mounted it?)", rootfs);
        return TAKE_FD(fd);
}

/* /dev/infiniband of the rootfs as a verified directory fd; *created tells
 * whether it was made here. */
static int open_infiniband(int setns_errno, const char *rootfs, bool create, bool *created,
                           struct child_report *rep)
{
        if (setns_errno)
                return child_fail(rep, setns_errno, "joining the container's mount namespace failed");
        _cleanup_close_ int root = open_rootfs(rootfs, rep);
        if (root < 0)
                return root;
        _cleanup_close_ int dev = open_beneath(root, "dev");
        if (dev == -ENOSYS)
                return child_fail(rep, ENOSYS, "rootfs %s: the kernel has no openat2 (Linux 5.6+); "
                                  "crdma does not resolve paths in a container's rootfs without it",
                                  rootfs);
        if (dev == -ELOOP || dev == -EXDEV)
                return child_fail(rep, -dev, "rootfs %s/dev: is a symlink; crdma does not follow "
                                  "links in a container's rootfs", rootfs);
        if (dev < 0)
                return child_fail(rep, -dev, "rootfs %s/dev: cannot open as a directory", rootfs);

        *created = false;
        if (create) {
                if (mkdirat(dev, "infiniband", 0755) == 0)
                        *created = true;
                else if (errno != EEXIST)
                        return child_fail(rep, errno, "rootfs %s/dev/infiniband: cannot create",
                                          rootfs);
        }
        int ib = open_beneath(dev, "infiniband");
        if (ib == -ELOOP || ib == -EXDEV || ib == -ENOTDIR)
                return child_fail(rep, -ib, "rootfs %s/dev/infiniband: is not a directory (a "
                                  "symlink or a file); crdma does not follow links in a container's "
                                  "rootfs", rootfs);
        if (ib < 0)
                return child_fail(rep, -ib, "rootfs %s/dev/infiniband: cannot open", rootfs);
        return ib;
}

/* What a child is asked to do: create `nodes`, or remove `remove`. */
struct child_job {
        struct crdma_context *ctx;
        const char *rootfs;
        const struct crdma_plan_node *nodes;
        size_t n;
        uid_t uid;
        gid_t gid;
        const struct crdma_strv *remove;
        bool remove_dir;
};

/* Make one node (or find it there) and check it is the char device planned. */
static int make_node(const struct child_job *job, int ib, size_t i, unsigned char *made,
                     struct child_report *rep)
{
        const struct crdma_plan_node *node = &job->nodes[i];
        const char *name = node_name(node->path);
        dev_t want = makedev(node->major, node->minor);
        if (!CRDMA_FAULT(job->ctx, "mknod") && mknodat(ib, name, S_IFCHR | node->mode, want) == 0) {
                made[i] = 1;
                if (CRDMA_FAULT(job->ctx, "chown") ||
                    fchownat(ib, name, job->uid, job->gid, AT_SYMLINK_NOFOLLOW) < 0)
                        return child_fail(rep, errno, "rootfs %s/dev/infiniband/%s: setting the "
                                          "owner of the device node to %u:%u (the container's "
                                          "root) failed", job->rootfs, name,
                                          (unsigned) job->uid, (unsigned) job->gid);
        } else if (errno != EEXIST) {
                int e = errno;
                return child_fail_hint(rep, e, e == EPERM ? "the hook needs CAP_MKNOD" : NULL,
                                       "rootfs %s/dev/infiniband/%s: creating the device node "
                                       "(%c %u:%u) in the container failed", job->rootfs, name,
                                       node->type, node->major, node->minor);
        }
        /* Made by us or already there: it must be this char device. */
        struct stat st;
        if (fstatat(ib, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISCHR(st.st_mode) ||
            st.st_rdev != want)
                return child_fail_hint(rep, EEXIST, "remove it from the image",
                                       "rootfs %s/dev/infiniband/%s: exists and is not the "
                                       "expected char device", job->rootfs, name);
        return 0;
}

static int child_create(void *arg, int chan, int setns_errno)
{
        const struct child_job *job = arg;
        struct child_report rep = { 0 };
        unsigned char made[job->n ? job->n : 1];
        memset(made, 0, sizeof(made));
        bool dir_created = false;
        /* Exact modes: no umask in between. */
        umask(0);
        int ib = open_infiniband(setns_errno, job->rootfs, true, &dir_created, &rep);
        if (ib >= 0 && dir_created &&
            (CRDMA_FAULT(job->ctx, "chown") || fchownat(ib, "", job->uid, job->gid, AT_EMPTY_PATH) < 0))
                child_fail(&rep, errno, "rootfs %s/dev/infiniband: setting its owner to %u:%u "
                           "failed", job->rootfs, (unsigned) job->uid, (unsigned) job->gid);
        for (size_t i = 0; ib >= 0 && i < job->n && rep.errnum == 0; i++)
                make_node(job, ib, i, made, &rep);
        if (rep.errnum == 0 && ib < 0)
                rep.errnum = EIO;
        rep.dir_created = dir_created;
        /* Report what exists now even on failure, so the parent can undo it. */
        crdma_nschild_send(chan, &rep, sizeof(rep), made, sizeof(made));
        return rep.errnum ? 1 : 0;
}

static int child_remove(void *arg, int chan, int setns_errno)
{
        const struct child_job *job = arg;
        struct child_report rep = { 0 };
        bool unused;
        int ib = open_infiniband(setns_errno, job->rootfs, false, &unused, &rep);
        for (size_t i = 0; ib >= 0 && i < job->remove->n; i++) {
                const char *name = job->remove->v[i];
                struct stat st;
                /* Only a char device: never follow or remove something else. */
                if (fstatat(ib, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISCHR(st.st_mode) &&
                    unlinkat(ib, name, 0) < 0 && rep.errnum == 0)
                        child_fail(&rep, errno, "rootfs %s/dev/infiniband/%s: cannot remove",
                                   job->rootfs, name);
        }
        if (ib >= 0 && job->remove_dir) {
                _cleanup_close_ int dev = -EBADF;
                struct child_report ignored = { 0 };
                _cleanup_close_ int root = open_rootfs(job->rootfs, &ignored);
                if (root >= 0)
                        dev = open_beneath(root, "dev");
                /* Not empty (the container made something): leave it. */
                if (dev >= 0 && unlinkat(dev, "infiniband", AT_REMOVEDIR) < 0 && errno != ENOTEMPTY &&
                    rep.errnum == 0)
                        child_fail(&rep, errno, "rootfs %s/dev/infiniband: cannot remove",
                                   job->rootfs);
        }
        crdma_nschild_send(chan, &rep, sizeof(rep), NULL, 0);
        return rep.errnum ? 1 : 0;
}

/* The child's one message: the report, then `extra_len` bytes. */
struct child_answer {
        struct child_report *rep;
        unsigned char *extra;
        size_t extra_len;
        bool complete;
};

static void receive_report(void *data, const char *msg, size_t len)
{
        struct child_answer *a = data;
        if (a->complete || len != sizeof(*a->rep) + a->extra_len)
                return;
        memcpy(a->rep, msg, sizeof(*a->rep));
        if (a->extra_len)
                memcpy(a->extra, msg + sizeof(*a->rep), a->extra_len);
        a->rep->message[sizeof(a->rep->message) - 1] = '\0';
        a->complete = true;
}

static int run_child(int mntns_fd, struct child_job *job, int (*child)(void *, int, int),
                     struct child_report *rep, unsigned char *extra, size_t extra_len,
                     struct crdma_error **err)
{
        _cleanup_free_ char *buf = malloc(sizeof(*rep) + extra_len);
        if (!buf)
                return crdma_fail_oom(err);
        struct child_answer answer = { .rep = rep, .extra = extra, .extra_len = extra_len };
        struct crdma_nschild ns = {
                .ns_fd = mntns_fd, .nstype = CLONE_NEWNS, .child = child, .arg = job,
                .receive = receive_report, .data = &answer,
                .buf = buf, .buf_len = sizeof(*rep) + extra_len,
                .one_small_message = sizeof(*rep) + extra_len <= 4096,
        };
        int status;
        const char *step;
        int r = crdma_nschild_run(&ns, &status, &step);
        if (r < 0)
                return crdma_fail_errno(err, -r, "device nodes: %s", step);
        if (!answer.complete) {
                char how[64];
                crdma_wait_status(status, how, sizeof(how));
                return crdma_fail(err, EIO, "device nodes: the helper process in the container's "
                                  "mount namespace ended without a report (%s)", how);
        }
        return 0;
}

int crdma_devnodes_check_host(struct crdma_context *ctx, const struct crdma_plan_node *nodes,
                              size_t n, struct crdma_error **err)
{
        int devfd = crdma_context_root_fd(ctx, CRDMA_ROOT_DEV, err);
        if (devfd < 0)
                return devfd;
        const char *dev = crdma_context_root_path(ctx, CRDMA_ROOT_DEV);
        for (size_t i = 0; i < n; i++) {
                /* "/dev/infiniband/uverbs0" -> "infiniband/uverbs0" under the dev root */
                if (strncmp(nodes[i].path, "/dev/", 5) != 0)
                        continue;
                const char *rel = nodes[i].path + 5;
                struct stat st;
                if (fstatat(devfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno != ENOENT)
                                return crdma_fail_errno(err, errno, "%s/%s: cannot read the "
                                                        "host's device node", dev, rel);
                        crdma_log(ctx, CRDMA_LOG_DEBUG, "%s/%s: no host node (made in the "
                                  "container from sysfs's numbers)", dev, rel);
                        continue;
                }
                dev_t want = makedev(nodes[i].major, nodes[i].minor);
                if (!S_ISCHR(st.st_mode) || st.st_rdev != want)
                        return crdma_refuse(err, ESTALE, "%s/%s: the host's node is %s %u:%u but "
                                            "sysfs gives the device %u:%u; the host's /dev and "
                                            "/sys disagree (a stale or foreign node: let udev "
                                            "remake it, or point --dev-root and --sysfs-root at "
                                            "the same host)", dev, rel,
                                            S_ISCHR(st.st_mode) ? "c" : "not a char device,",
                                            major(st.st_rdev), minor(st.st_rdev),
                                            nodes[i].major, nodes[i].minor);
        }
        return 0;
}

int crdma_devnodes_create(struct crdma_context *ctx, int piddir, const char *rootfs,
                          const struct crdma_plan_node *nodes, size_t n, uid_t uid, gid_t gid,
                          struct crdma_devnodes_undo **undo, struct crdma_error **err)
{
        _cleanup_close_ int mntns = openat(piddir, "ns/mnt", O_RDONLY | O_CLOEXEC);
        if (mntns < 0)
                return crdma_fail_errno(err, errno, "ns/mnt of the container's process: cannot "
                                        "open its mount namespace");

        struct crdma_devnodes_undo *u = calloc(1, sizeof(*u));
        if (!u || !(u->rootfs = strdup(rootfs))) {
                free(u);
                return crdma_fail_oom(err);
        }
        u->mntns_fd = TAKE_FD(mntns);

        _cleanup_free_ unsigned char *made = calloc(n ? n : 1, 1);
        if (!made) {
                crdma_devnodes_undo_free(u);
                return crdma_fail_oom(err);
        }
        struct child_report rep;
        struct child_job job = { .ctx = ctx, .rootfs = rootfs, .nodes = nodes, .n = n,
                                 .uid = uid, .gid = gid };
        int r = run_child(u->mntns_fd, &job, child_create, &rep, made, n ? n : 1, err);
        if (r < 0) {
                crdma_devnodes_undo_free(u);
                return r;
        }
        u->dir_created = rep.dir_created;
        for (size_t i = 0; i < n; i++)
                if (made[i] && crdma_strv_push(&u->created, node_name(nodes[i].path)) < 0)
                        r = crdma_fail_oom(err);
        if (r >= 0 && rep.errnum)
                r = crdma_fail(err, rep.errnum, "%s", rep.message);
        if (r < 0) {
                crdma_devnodes_undo(u, NULL);
                crdma_devnodes_undo_free(u);
                return r;
        }
        for (size_t i = 0; i < n; i++)
                crdma_log(ctx, CRDMA_LOG_DEBUG, "%s %s", made[i] ? "created" : "already present:",
                          nodes[i].path);
        *undo = u;
        return 0;
}

int crdma_devnodes_undo(struct crdma_devnodes_undo *undo, struct crdma_error **err)
{
        if (undo->created.n == 0 && !undo->dir_created)
                return 0;
        struct child_report rep;
        struct child_job job = { .rootfs = undo->rootfs, .remove = &undo->created,
                                 .remove_dir = undo->dir_created };
        int r = run_child(undo->mntns_fd, &job, child_remove, &rep, NULL, 0, err);
        if (r >= 0 && rep.errnum)
                r = crdma_fail(err, rep.errnum, "%s", rep.message);
        return r;
}
