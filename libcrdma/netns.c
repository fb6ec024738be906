/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* RDMA network namespaces: the host's netns mode, and moving devices into a
 * container's network namespace and back.
 *
 * Kernel facts this rests on (drivers/infiniband/core/device.c, nldev.c):
 * - SYS_SET of the mode answers EBUSY while any network namespace other
 *   than init_net exists (setting the mode it already has succeeds);
 * - SET with NET_NS_FD needs CAP_NET_ADMIN in the initial user namespace (the
 *   RDMA netlink admin check) and in the target namespace's owner; it answers
 *   EOPNOTSUPP in shared mode and for drivers that cannot disassociate user
 *   contexts (rxe, siw); it works only on a device in the *calling process's*
 *   network namespace (ENODEV otherwise), so moving a device back must be
 *   done by a process inside the container's namespace;
 * - in exclusive mode a netlink socket sees only the devices of its own
 *   namespace; a device returns to init_net when its namespace is freed;
 * - on kernels without a same-namespace check, "moving" a device into the
 *   namespace it is in still disables and re-enables it, cutting off its
 *   users: refused here. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/nsfs.h>

#include "cleanup.h"
#include "context.h"
#include "devices.h"
#include "error.h"
#include "fault.h"
#include "netlink.h"
#include "netns.h"
#include "util.h"

#define BOOT_EXCLUSIVE                                                                       \
        "\"options ib_core netns_mode=0\" in /etc/modprobe.d/, or ib_core.netns_mode=0 on "  \
        "the kernel command line when ib_core is built in"

struct crdma_netns_undo {
        char name[64];
        int netns_fd; /* our own duplicate; -EBADF: nothing to undo */
};

static const char *colon(const char *ack)
{
        return ack[0] ? ": " : "";
}

static int need_netlink(struct crdma_context *ctx, const char *what, struct crdma_error **err)
{
        if (!crdma_context_netlink(ctx))
                return crdma_fail(err, EOPNOTSUPP, "%s: RDMA netlink is turned off "
                                  "(a sysfs root that is not the running kernel's)", what);
        return 0;
}

/* ---------------------------------------------------------------- mode */

int crdma_netns_set_mode(struct crdma_context *ctx, enum crdma_netns netns_mode,
                         struct crdma_error **err)
{
        bool exclusive = netns_mode == CRDMA_NETNS_EXCLUSIVE;
        const char *mode = exclusive ? "exclusive" : "shared";
        int r = need_netlink(ctx, "RDMA netns mode", err);
        if (r < 0)
                return r;
        char ack[256] = "";
        r = crdma_nl_set_netns_mode(ctx, netns_mode, ack, sizeof(ack));
        if (r >= 0) {
                crdma_log(ctx, CRDMA_LOG_INFO, "RDMA netns mode: %s", mode);
                return 0;
        }
        switch (r) {
        case -EBUSY:
                if (exclusive)
                        return crdma_refuse(err, EBUSY, "RDMA netns mode: cannot switch to "
                                            "exclusive while other network namespaces exist; "
                                            "set it at boot: " BOOT_EXCLUSIVE);
                return crdma_refuse(err, EBUSY, "RDMA netns mode: cannot switch to shared while "
                                    "other network namespaces exist; set it at boot: remove "
                                    "netns_mode=0 from the ib_core options in /etc/modprobe.d/ "
                                    "(or ib_core.netns_mode=0 from the kernel command line)");
        case -EPROTONOSUPPORT:
                return crdma_fail_errno(err, EPROTONOSUPPORT, "RDMA netns mode: no RDMA "
                                        "netlink in this kernel (is ib_core loaded?)");
        case -EPERM:
                return crdma_fail_errno(err, EPERM, "RDMA netns mode: switching to %s needs "
                                        "CAP_NET_ADMIN in the initial user namespace%s%s",
                                        mode, colon(ack), ack);
        default:
                return crdma_fail_errno(err, r, "RDMA netns mode: switching to %s failed%s%s",
                                        mode, colon(ack), ack);
        }
}

/* ---------------------------------------------------------------- helpers */

/* `fd` must be a network namespace file (nsfs). */
static int check_netns_fd(int fd, const char *what, struct crdma_error **err)
{
        if (fd < 0)
                return crdma_fail(err, EBADF, "%s: no network namespace file given", what);
        int type = ioctl(fd, NS_GET_NSTYPE);
        if (type < 0)
                return crdma_fail_errno(err, errno, "%s: not a namespace file", what);
        if (type != CLONE_NEWNET)
                return crdma_fail(err, EINVAL, "%s: not a network namespace file", what);
        return 0;
}

/* The initial network namespace: <proc-root>/1/ns/net. */
static int open_init_netns(struct crdma_context *ctx, struct crdma_error **err)
{
        int proc = crdma_context_root_fd(ctx, CRDMA_ROOT_PROC, err);
        if (proc < 0)
                return proc;
        const char *root = crdma_context_root_path(ctx, CRDMA_ROOT_PROC);
        _cleanup_close_ int fd = openat(proc, "1/ns/net", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return crdma_fail_errno(err, errno, "%s/1/ns/net: cannot open the host's network "
                                        "namespace", root);
        int r = check_netns_fd(fd, "1/ns/net under the proc root", err);
        if (r < 0)
                return r;
        return TAKE_FD(fd);
}

static bool same_netns(int a, int b)
{
        struct stat sa, sb;
        return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
               sa.st_ino == sb.st_ino;
}

static const struct crdma_nl_device *find(const struct crdma_nl_device *devs, size_t n,
                                          const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(devs[i].name, name) == 0)
                        return &devs[i];
        return NULL;
}

/* Is `name` in the network namespace `netns_fd`?  false when it cannot be told. */
static bool in_netns(struct crdma_context *ctx, int netns_fd, const char *name)
{
        _cleanup_free_ struct crdma_nl_device *devs = NULL;
        size_t n = 0;
        struct crdma_error *e = NULL;
        if (crdma_nl_devices_in_netns(ctx, netns_fd, &devs, &n, &e) < 0) {
                crdma_log(ctx, CRDMA_LOG_DEBUG, "%s", crdma_error_message(e));
                crdma_error_free(e);
                return false;
        }
        return find(devs, n, name) != NULL;
}

/* ---------------------------------------------------------------- move */

static int move_failed(struct crdma_context *ctx, const char *name, int r, const char *ack,
                       struct crdma_error **err)
{
        switch (r) {
        case -EOPNOTSUPP: {
                /* The kernel says EOPNOTSUPP for shared mode too: tell them apart. */
                enum crdma_netns mode;
                struct crdma_error *e = NULL;
                if (crdma_nl_netns_mode(ctx, &mode, &e) >= 0 && mode == CRDMA_NETNS_SHARED)
                        return crdma_refuse(err, EOPNOTSUPP, "device %s: the host's RDMA netns "
                                            "mode is shared, devices move between network "
                                            "namespaces only in exclusive mode; set it at "
                                            "boot: " BOOT_EXCLUSIVE, name);
                crdma_error_free(e);
                return crdma_refuse(err, EOPNOTSUPP, "device %s: its driver cannot move between "
                                    "network namespaces (software devices such as rxe and siw); "
                                    "use shared mode, or an SR-IOV VF", name);
        }
        case -EPERM:
                return crdma_fail_errno(err, EPERM, "device %s: moving it into the container's "
                                        "network namespace needs CAP_NET_ADMIN in the initial "
                                        "user namespace and over the container's network "
                                        "namespace%s%s", name, colon(ack), ack);
        case -ENODEV:
                return crdma_fail_errno(err, ENODEV, "device %s: moving it into the container's "
                                        "network namespace failed (it went away, or it is not "
                                        "in the caller's network namespace)%s%s",
                                        name, colon(ack), ack);
        default:
                return crdma_fail_errno(err, r, "device %s: moving it into the container's "
                                        "network namespace failed%s%s", name, colon(ack), ack);
        }
}

int crdma_netns_move(struct crdma_context *ctx, const char *name, int netns_fd,
                     struct crdma_netns_undo **undo, struct crdma_error **err)
{
        if (!name || !name[0] || !undo)
                return crdma_fail(err, EINVAL, "crdma_netns_move: invalid arguments");
        if (strlen(name) >= sizeof(((struct crdma_netns_undo *) NULL)->name))
                return crdma_refuse(err, EINVAL, "device %.64s...: name too long", name);
        char what[128];
        snprintf(what, sizeof(what), "device %s: the container's network namespace", name);
        int r = need_netlink(ctx, what, err);
        if (r < 0)
                return r;
        r = check_netns_fd(netns_fd, what, err);
        if (r < 0)
                return r;
        _cleanup_close_ int init = open_init_netns(ctx, err);
        if (init < 0)
                return init;
        if (same_netns(init, netns_fd))
                return crdma_refuse(err, EINVAL, "device %s: the container shares the host's "
                                    "network namespace; exclusive mode needs a container with "
                                    "its own network namespace", name);

        _cleanup_free_ struct crdma_nl_device *devs = NULL;
        size_t n = 0;
        r = crdma_nl_devices(ctx, &devs, &n, err);
        if (r < 0) {
                crdma_error_prefix(err, "device %s", name);
                return r;
        }

        _cleanup_free_ struct crdma_netns_undo *u = calloc(1, sizeof(*u));
        if (!u)
                return crdma_fail_oom(err);
        snprintf(u->name, sizeof(u->name), "%s", name);
        u->netns_fd = -EBADF;

        const struct crdma_nl_device *dev = find(devs, n, name);
        if (!dev) {
                /* Applying twice is harmless: already there is done. */
                if (in_netns(ctx, netns_fd, name)) {
                        crdma_log(ctx, CRDMA_LOG_INFO, "device %s: already in the container's "
                                  "network namespace", name);
                        *undo = TAKE_PTR(u);
                        return 0;
                }
                if (crdma_device_in_other_netns(ctx, name))
                        return crdma_refuse(err, EBUSY, "device %s: in another network namespace "
                                            "(exclusive mode: another container holds it); it "
                                            "comes back when that container ends, or ask for "
                                            "another device (`crdma-hook devices` lists those "
                                            "here)", name);
                return crdma_refuse(err, ENODEV, "device %s: no such RDMA device in the host's "
                                    "network namespace", name);
        }

        /* Everything that can fail is done before the move: after it, only success. */
        u->netns_fd = fcntl(netns_fd, F_DUPFD_CLOEXEC, 3);
        if (u->netns_fd < 0)
                return crdma_fail_errno(err, errno, "%s", what);

        char ack[256] = "";
        r = CRDMA_FAULT(ctx, "netns-move")
                    ? -errno
                    : crdma_nl_move_device(ctx, -EBADF, dev->index, netns_fd, ack, sizeof(ack));
        if (r < 0) {
                close(u->netns_fd);
                return move_failed(ctx, name, r, ack, err);
        }
        crdma_log(ctx, CRDMA_LOG_INFO, "device %s (index %u): moved into the container's network "
                  "namespace", name, dev->index);
        *undo = TAKE_PTR(u);
        return 0;
}

/* ---------------------------------------------------------------- back */

static int move_back(struct crdma_context *ctx, int netns_fd, const char *const *names, size_t n,
                     struct crdma_error **err)
{
        int r = need_netlink(ctx, "moving RDMA devices back to the host", err);
        if (r < 0)
                return r;
        r = check_netns_fd(netns_fd, "moving RDMA devices back to the host: the container's "
                           "network namespace", err);
        if (r < 0)
                return r;
        /* Opened before the child joins the container's namespace: the
         * request names it by this fd, which the child inherits. */
        _cleanup_close_ int init = open_init_netns(ctx, err);
        if (init < 0)
                return init;
        if (same_netns(init, netns_fd))
                return 0;
        /* In shared mode no device is outside init_net (the mode can change
         * only while no other namespace exists), and every namespace sees
         * every device: nothing to move. */
        enum crdma_netns mode;
        struct crdma_error *e = NULL;
        if (crdma_nl_netns_mode(ctx, &mode, &e) >= 0 && mode == CRDMA_NETNS_SHARED)
                return 0;
        crdma_error_free(e);

        _cleanup_free_ struct crdma_nl_device *devs = NULL;
        size_t ndevs = 0;
        r = crdma_nl_devices_in_netns(ctx, netns_fd, &devs, &ndevs, err);
        if (r < 0) {
                crdma_error_prefix(err, "moving RDMA devices back to the host");
                return r;
        }
        int first = 0;
        for (size_t i = 0; i < (names ? n : ndevs); i++) {
                const char *name = names ? names[i] : devs[i].name;
                const struct crdma_nl_device *dev = find(devs, ndevs, name);
                if (!dev) {
                        crdma_log(ctx, CRDMA_LOG_DEBUG, "device %s: not in the container's "
                                  "network namespace", name);
                        continue;
                }
                char ack[256] = "";
                r = CRDMA_FAULT(ctx, "netns-return")
                            ? -errno
                            : crdma_nl_move_device(ctx, netns_fd, dev->index, init, ack,
                                                   sizeof(ack));
                if (r < 0) {
                        if (first == 0)
                                first = crdma_fail_errno_hint(
                                        err, r, "it comes back when that namespace is deleted "
                                                "(a pod's: when the pod is removed)",
                                        "device %s: moving it back to the host's network "
                                        "namespace failed%s%s", name, colon(ack), ack);
                        continue;
                }
                crdma_log(ctx, CRDMA_LOG_INFO, "device %s: moved back to the host's network "
                          "namespace", name);
        }
        return first;
}

int crdma_netns_undo(struct crdma_context *ctx, struct crdma_netns_undo *undo,
                     struct crdma_error **err)
{
        if (!undo || undo->netns_fd < 0)
                return 0;
        const char *name = undo->name;
        int r = move_back(ctx, undo->netns_fd, &name, 1, err);
        if (r < 0)
                return r;
        close(undo->netns_fd);
        undo->netns_fd = -EBADF;
        return 0;
}

void crdma_netns_undo_free(struct crdma_netns_undo *undo)
{
        if (!undo)
                return;
        if (undo->netns_fd >= 0)
                close(undo->netns_fd);
        free(undo);
}

/* Is any process (other than this one) still in the network namespace?  In
 * a pod the namespace outlives each container and its siblings may use the
 * devices; only a namespace held by nothing but a bind mount needs them back. */
static int netns_in_use(struct crdma_context *ctx, int netns_fd, bool *in_use,
                        struct crdma_error **err)
{
        struct stat target;
        if (fstat(netns_fd, &target) < 0)
                return crdma_fail_errno(err, errno, "network namespace: fstat");
        int procfd = crdma_context_root_fd(ctx, CRDMA_ROOT_PROC, err);
        if (procfd < 0)
                return procfd;
        struct crdma_strv pids = { 0 };
        int r = crdma_dir_list(procfd, ".", &pids);
        if (r < 0)
                return crdma_fail_errno(err, r, "%s: cannot list processes",
                                        crdma_context_root_path(ctx, CRDMA_ROOT_PROC));
        *in_use = false;
        char self[16];
        snprintf(self, sizeof(self), "%d", (int) getpid());
        for (size_t i = 0; i < pids.n && !*in_use; i++) {
                uint64_t pid;
                if (crdma_parse_decimal(pids.v[i], INT32_MAX, &pid) < 0 || strcmp(pids.v[i], self) == 0)
                        continue;
                char rel[48];
                struct stat st;
                snprintf(rel, sizeof(rel), "%s/ns/net", pids.v[i]);
                /* A process that exits meanwhile just is not counted. */
                if (fstatat(procfd, rel, &st, 0) == 0 && st.st_dev == target.st_dev &&
                    st.st_ino == target.st_ino)
                        *in_use = true;
        }
        crdma_strv_clear(&pids);
        return 0;
}

int crdma_netns_return(struct crdma_context *ctx, int netns_fd, const char *const *names,
                       size_t n, struct crdma_error **err)
{
        if (names && n == 0)
                return 0;
        bool in_use;
        int r = netns_in_use(ctx, netns_fd, &in_use, err);
        if (r < 0)
                return r;
        if (in_use) {
                crdma_log(ctx, CRDMA_LOG_DEBUG, "network namespace still has processes (a pod's "
                          "other containers): its devices stay; the kernel returns them when it "
                          "is freed");
                return 0;
        }
        return move_back(ctx, netns_fd, names, n, err);
}
