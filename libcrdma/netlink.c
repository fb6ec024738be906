/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <rdma/rdma_netlink.h>

#include "cleanup.h"
#include "context.h"
#include "error.h"
#include "netlink.h"
#include "nschild.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct mnl_socket *, mnl_socket_close)

struct nlmsghdr *crdma_nl_request(void *buf, unsigned op, uint16_t flags)
{
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = RDMA_NL_GET_TYPE(RDMA_NL_NLDEV, op);
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
        nlh->nlmsg_seq = (uint32_t) time(NULL);
        return nlh;
}

/* The NLMSGERR_ATTR_MSG text in the TLVs at payload offset `off`. */
static void ext_ack_text_at(const struct nlmsghdr *nlh, size_t off, char *out, size_t len)
{
        if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || !out || len == 0)
                return;
        const struct nlattr *attr;
        mnl_attr_for_each(attr, nlh, off) {
                if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
                    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0) {
                        snprintf(out, len, "%s", mnl_attr_get_str(attr));
                        return;
                }
        }
}

/* The NLMSGERR_ATTR_MSG text of an extended ack, if the kernel sent one: the
 * TLVs follow the nlmsgerr, and the echoed request unless it was capped. */
static void ext_ack_text(const struct nlmsghdr *nlh, char *out, size_t len)
{
        const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
        size_t off = sizeof(*e);
        if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
                off += mnl_nlmsg_get_payload_len(&e->msg);
        ext_ack_text_at(nlh, off, out, len);
}

/* mnl hands control callbacks the same pointer as data callbacks. */
struct run_ctx {
        mnl_cb_t cb;
        void *cb_data;
        char *ext_ack;
        size_t ext_ack_len;
};

static int data_cb(const struct nlmsghdr *nlh, void *data)
{
        struct run_ctx *rc = data;
        return rc->cb(nlh, rc->cb_data);
}

static int error_cb(const struct nlmsghdr *nlh, void *data)
{
        struct run_ctx *rc = data;
        const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
        if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
                errno = EBADMSG;
                return MNL_CB_ERROR;
        }
        if (e->error == 0)
                return MNL_CB_STOP;
        ext_ack_text(nlh, rc->ext_ack, rc->ext_ack_len);
        errno = -e->error;
        return MNL_CB_ERROR;
}

/* The end of a dump.  mnl applies its own defaults only without a control
 * array: with one, an unset NLMSG_DONE entry would be skipped and a dump
 * never end.  Kernels since 4.x may put the dump's error in it. */
static int done_cb(const struct nlmsghdr *nlh, void *data)
{
        struct run_ctx *rc = data;
        int32_t e = 0;
        if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(e))
                memcpy(&e, mnl_nlmsg_get_payload(nlh), sizeof(e));
        if (e < 0) {
                ext_ack_text_at(nlh, sizeof(e), rc->ext_ack, rc->ext_ack_len);
                errno = -e;
                return MNL_CB_ERROR;
        }
        return MNL_CB_STOP;
}

static int noop_cb(const struct nlmsghdr *nlh, void *data)
{
        (void) nlh;
        (void) data;
        return MNL_CB_OK;
}

int crdma_nl_run(const void *buf, size_t len, uint32_t seq, uint32_t portid, mnl_cb_t cb,
                 void *cb_data, char *ext_ack, size_t ext_ack_len)
{
        struct run_ctx rc = { cb, cb_data, ext_ack, ext_ack_len };
        mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
                [NLMSG_NOOP] = noop_cb,
                [NLMSG_ERROR] = error_cb,
                [NLMSG_DONE] = done_cb,
        };
        errno = 0;
        int r = mnl_cb_run2(buf, len, seq, portid, data_cb, &rc, ctl, NLMSG_MIN_TYPE);
        if (r < 0)
                return errno ? -errno : -EIO;
        return r;
}

static int kernel_transact(void *data, struct nlmsghdr *req, mnl_cb_t cb, void *cb_data,
                           char *ext_ack, size_t ext_ack_len)
{
        (void) data;
        _cleanup_(mnl_socket_closep) struct mnl_socket *nl =
                mnl_socket_open2(NETLINK_RDMA, SOCK_CLOEXEC);
        if (!nl)
                return -errno;
        int one = 1;
        /* Best effort: older kernels just don't send the text. */
        (void) mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
        if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
                return -errno;
        uint32_t portid = mnl_socket_get_portid(nl);
        if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0)
                return -errno;

        /* Dumps come in datagrams of up to 32 KiB (MNL_SOCKET_DUMP_SIZE in newer libmnl). */
        char buf[32768];
        for (;;) {
                ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
                if (n < 0)
                        return -errno;
                int r = crdma_nl_run(buf, (size_t) n, req->nlmsg_seq, portid, cb, cb_data,
                                     ext_ack, ext_ack_len);
                if (r <= MNL_CB_STOP)
                        return r;
        }
}

/* ------------------------------------------- transact from another netns
 *
 * In a child that joined the namespace (nschild.h): it opens the RDMA
 * netlink socket there (a socket belongs to the namespace it was created
 * in, and the kernel checks that the *process* asking to move a device is
 * in the device's namespace), sends the request and passes every reply
 * datagram back; the parent parses them with the same code as its own
 * replies. */

enum child_msg {
        CHILD_PORTID = 1, /* u32: the netlink port id, for the parent's checks */
        CHILD_DATA,       /* one netlink datagram */
        CHILD_FAIL,       /* struct child_fail: a step failed */
};

enum child_step {
        STEP_SETNS = 1,
        STEP_SOCKET,
        STEP_SEND,
        STEP_RECV,
};

struct child_fail {
        int32_t step;
        int32_t error;
};

#define CHILD_BUF 32768

struct child_job {
        const struct nlmsghdr *req;
        char *buf; /* CHILD_BUF bytes, allocated before the fork */
};

static int child_failed(int chan, enum child_step step, int error)
{
        struct child_fail f = { step, error };
        uint32_t tag = CHILD_FAIL;
        crdma_nschild_send(chan, &tag, sizeof(tag), &f, sizeof(f));
        return 1;
}

static void child_send(int chan, uint32_t tag, const void *p, size_t len)
{
        crdma_nschild_send(chan, &tag, sizeof(tag), p, len);
}

static int child_transact(void *arg, int chan, int setns_errno)
{
        const struct child_job *job = arg;
        const struct nlmsghdr *req = job->req;
        if (setns_errno)
                return child_failed(chan, STEP_SETNS, setns_errno);
        int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_RDMA);
        if (nl < 0)
                return child_failed(chan, STEP_SOCKET, errno);
        int one = 1;
        (void) setsockopt(nl, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
        socklen_t sl = sizeof(sa);
        if (bind(nl, (struct sockaddr *) &sa, sizeof(sa)) < 0 ||
            getsockname(nl, (struct sockaddr *) &sa, &sl) < 0)
                return child_failed(chan, STEP_SOCKET, errno);
        child_send(chan, CHILD_PORTID, &sa.nl_pid, sizeof(sa.nl_pid));

        struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
        if (sendto(nl, req, req->nlmsg_len, 0, (struct sockaddr *) &kernel, sizeof(kernel)) < 0)
                return child_failed(chan, STEP_SEND, errno);

        for (;;) {
                struct iovec iov = { job->buf, CHILD_BUF };
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
                ssize_t n = recvmsg(nl, &mh, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return child_failed(chan, STEP_RECV, errno);
                if (mh.msg_flags & MSG_TRUNC)
                        return child_failed(chan, STEP_RECV, EMSGSIZE);
                child_send(chan, CHILD_DATA, job->buf, (size_t) n);
                /* The parent does the real parsing; here only: is this the end? */
                int left = (int) n;
                for (const struct nlmsghdr *h = (const void *) job->buf; NLMSG_OK(h, left);
                     h = NLMSG_NEXT(h, left))
                        if (h->nlmsg_seq == req->nlmsg_seq &&
                            (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR))
                                return 0;
        }
}

static const char *step_text(int32_t step)
{
        switch (step) {
        case STEP_SETNS: return "joining the network namespace (setns)";
        case STEP_SOCKET: return "opening RDMA netlink inside the network namespace";
        case STEP_SEND: return "sending inside the network namespace";
        default: return "receiving inside the network namespace";
        }
}

/* The parent's side: each tagged message from the child. */
struct child_replies {
        const struct nlmsghdr *req;
        mnl_cb_t cb;
        void *cb_data;
        char *ext_ack;
        size_t ext_ack_len;
        uint32_t portid;
        int result; /* > 0: no answer yet */
};

static void receive_reply(void *data, const char *msg, size_t n)
{
        struct child_replies *c = data;
        uint32_t tag;
        if (n < sizeof(tag) || c->result <= 0)
                return;
        memcpy(&tag, msg, sizeof(tag));
        const char *p = msg + sizeof(tag);
        size_t len = n - sizeof(tag);
        if (tag == CHILD_PORTID && len == sizeof(c->portid)) {
                memcpy(&c->portid, p, sizeof(c->portid));
        } else if (tag == CHILD_DATA) {
                int r = crdma_nl_run(p, len, c->req->nlmsg_seq, c->portid, c->cb, c->cb_data,
                                     c->ext_ack, c->ext_ack_len);
                if (r <= MNL_CB_STOP)
                        c->result = r;
        } else if (tag == CHILD_FAIL && len == sizeof(struct child_fail)) {
                struct child_fail f;
                memcpy(&f, p, sizeof(f));
                if (c->ext_ack && c->ext_ack_len)
                        snprintf(c->ext_ack, c->ext_ack_len, "%s", step_text(f.step));
                c->result = f.error > 0 ? -f.error : -EIO;
        }
}

static int kernel_transact_in_netns(void *data, int netns_fd, struct nlmsghdr *req, mnl_cb_t cb,
                                    void *cb_data, char *ext_ack, size_t ext_ack_len)
{
        (void) data;
        /* The child's receive buffer, and the parent's: tag + datagram. */
        _cleanup_free_ char *child_buf = aligned_alloc(NLMSG_ALIGNTO, CHILD_BUF);
        _cleanup_free_ char *buf = aligned_alloc(NLMSG_ALIGNTO, sizeof(uint32_t) + CHILD_BUF);
        if (!child_buf || !buf)
                return -ENOMEM;
        struct child_job job = { .req = req, .buf = child_buf };
        struct child_replies replies = { .req = req, .cb = cb, .cb_data = cb_data,
                                         .ext_ack = ext_ack, .ext_ack_len = ext_ack_len,
                                         .result = 1 };
        struct crdma_nschild ns = {
                .ns_fd = netns_fd, .nstype = CLONE_NEWNET, .child = child_transact, .arg = &job,
                .receive = receive_reply, .data = &replies,
                .buf = buf, .buf_len = sizeof(uint32_t) + CHILD_BUF,
        };
        int status;
        const char *step;
        int r = crdma_nschild_run(&ns, &status, &step);
        if (r < 0)
                return r;
        if (replies.result > 0) {
                if (ext_ack && ext_ack_len) {
                        char how[64];
                        crdma_wait_status(status, how, sizeof(how));
                        snprintf(ext_ack, ext_ack_len, "the helper process in the network "
                                 "namespace ended without an answer (%s)", how);
                }
                return -EIO;
        }
        return replies.result;
}

const struct crdma_netlink_ops crdma_netlink_kernel_ops = {
        .transact = kernel_transact,
        .transact_in_netns = kernel_transact_in_netns,
};

/* ---------------------------------------------------------------- queries */

struct dev_dump {
        struct crdma_nl_device *devs;
        size_t n;
        int error;
};

static int attr_cb(const struct nlattr *attr, void *data)
{
        const struct nlattr **tb = data;
        unsigned type = mnl_attr_get_type(attr);
        if (type < RDMA_NLDEV_ATTR_MAX)
                tb[type] = attr;
        return MNL_CB_OK;
}

static int dev_cb(const struct nlmsghdr *nlh, void *data)
{
        struct dev_dump *d = data;
        const struct nlattr *tb[RDMA_NLDEV_ATTR_MAX] = { 0 };
        if (mnl_attr_parse(nlh, 0, attr_cb, tb) < 0)
                return MNL_CB_ERROR;
        const struct nlattr *idx = tb[RDMA_NLDEV_ATTR_DEV_INDEX];
        const struct nlattr *name = tb[RDMA_NLDEV_ATTR_DEV_NAME];
        if (!idx || !name || mnl_attr_validate(idx, MNL_TYPE_U32) < 0 ||
            mnl_attr_validate(name, MNL_TYPE_NUL_STRING) < 0) {
                d->error = EBADMSG;
                return MNL_CB_OK;
        }
        struct crdma_nl_device *grown = realloc(d->devs, (d->n + 1) * sizeof(*grown));
        if (!grown) {
                d->error = ENOMEM;
                return MNL_CB_ERROR;
        }
        d->devs = grown;
        d->devs[d->n].index = mnl_attr_get_u32(idx);
        snprintf(d->devs[d->n].name, sizeof(d->devs[d->n].name), "%s", mnl_attr_get_str(name));
        d->n++;
        return MNL_CB_OK;
}

/* Send `req` from the caller's network namespace (netns_fd < 0) or from
 * inside `netns_fd`. */
static int transact_from(struct crdma_context *ctx, int netns_fd, struct nlmsghdr *req, mnl_cb_t cb,
                         void *cb_data, char *ext_ack, size_t ext_ack_len)
{
        const struct crdma_netlink_ops *ops = crdma_context_netlink(ctx);
        if (!ops)
                return -ENOSYS;
        if (netns_fd < 0)
                return ops->transact(ctx->nl_data, req, cb, cb_data, ext_ack, ext_ack_len);
        if (!ops->transact_in_netns)
                return -ENOSYS;
        return ops->transact_in_netns(ctx->nl_data, netns_fd, req, cb, cb_data, ext_ack,
                                      ext_ack_len);
}

static int devices_from(struct crdma_context *ctx, int netns_fd, struct crdma_nl_device **out,
                        size_t *n, struct crdma_error **err)
{
        if (!crdma_context_netlink(ctx))
                return crdma_fail(err, EOPNOTSUPP, "RDMA netlink: turned off "
                                  "(a sysfs root that is not the running kernel's)");
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct nlmsghdr *req = crdma_nl_request(buf, RDMA_NLDEV_CMD_GET, NLM_F_DUMP);
        struct dev_dump d = { 0 };
        char ack[256] = "";
        int r = transact_from(ctx, netns_fd, req, dev_cb, &d, ack, sizeof(ack));
        if (r >= 0 && d.error)
                r = -d.error;
        if (r < 0) {
                free(d.devs);
                return crdma_fail_errno(err, r, "RDMA netlink: listing devices%s failed%s%s",
                                        netns_fd >= 0 ? " in the network namespace" : "",
                                        ack[0] ? ": " : "", ack);
        }
        *out = d.devs;
        *n = d.n;
        return 0;
}

int crdma_nl_devices(struct crdma_context *ctx, struct crdma_nl_device **out, size_t *n,
                     struct crdma_error **err)
{
        return devices_from(ctx, -EBADF, out, n, err);
}

int crdma_nl_devices_in_netns(struct crdma_context *ctx, int netns_fd,
                              struct crdma_nl_device **out, size_t *n, struct crdma_error **err)
{
        if (netns_fd < 0)
                return crdma_fail(err, EBADF, "RDMA netlink: no network namespace given");
        return devices_from(ctx, netns_fd, out, n, err);
}

static int ack_only_cb(const struct nlmsghdr *nlh, void *data)
{
        (void) nlh;
        (void) data;
        return MNL_CB_OK;
}

int crdma_nl_set_netns_mode(struct crdma_context *ctx, enum crdma_netns mode, char *ext_ack,
                            size_t ext_ack_len)
{
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct nlmsghdr *req = crdma_nl_request(buf, RDMA_NLDEV_CMD_SYS_SET, 0);
        mnl_attr_put_u8(req, RDMA_NLDEV_SYS_ATTR_NETNS_MODE, mode == CRDMA_NETNS_SHARED ? 1 : 0);
        if (ext_ack && ext_ack_len)
                ext_ack[0] = '\0';
        return transact_from(ctx, -EBADF, req, ack_only_cb, NULL, ext_ack, ext_ack_len);
}

int crdma_nl_move_device(struct crdma_context *ctx, int from_netns_fd, uint32_t index,
                         int target_fd, char *ext_ack, size_t ext_ack_len)
{
        if (target_fd < 0)
                return -EBADF;
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct nlmsghdr *req = crdma_nl_request(buf, RDMA_NLDEV_CMD_SET, 0);
        mnl_attr_put_u32(req, RDMA_NLDEV_ATTR_DEV_INDEX, index);
        mnl_attr_put_u32(req, RDMA_NLDEV_NET_NS_FD, (uint32_t) target_fd);
        if (ext_ack && ext_ack_len)
                ext_ack[0] = '\0';
        return transact_from(ctx, from_netns_fd, req, ack_only_cb, NULL, ext_ack, ext_ack_len);
}

struct sys_get {
        int mode; /* -1 until seen */
};

static int sys_cb(const struct nlmsghdr *nlh, void *data)
{
        struct sys_get *s = data;
        const struct nlattr *tb[RDMA_NLDEV_ATTR_MAX] = { 0 };
        if (mnl_attr_parse(nlh, 0, attr_cb, tb) < 0)
                return MNL_CB_ERROR;
        const struct nlattr *mode = tb[RDMA_NLDEV_SYS_ATTR_NETNS_MODE];
        if (mode && mnl_attr_validate(mode, MNL_TYPE_U8) >= 0)
                s->mode = mnl_attr_get_u8(mode);
        return MNL_CB_OK;
}

int crdma_nl_netns_mode(struct crdma_context *ctx, enum crdma_netns *mode, struct crdma_error **err)
{
        if (!crdma_context_netlink(ctx))
                return crdma_fail(err, EOPNOTSUPP, "RDMA netlink: turned off "
                                  "(a sysfs root that is not the running kernel's)");
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct nlmsghdr *req = crdma_nl_request(buf, RDMA_NLDEV_CMD_SYS_GET, 0);
        struct sys_get s = { -1 };
        char ack[256] = "";
        int r = crdma_context_netlink(ctx)->transact(ctx->nl_data, req, sys_cb, &s, ack, sizeof(ack));
        if (r < 0)
                return crdma_fail_errno(err, r, "RDMA netlink: reading the netns mode failed%s%s",
                                        ack[0] ? ": " : "", ack);
        if (s.mode < 0)
                return crdma_fail(err, EBADMSG, "RDMA netlink: the kernel's reply has no netns mode; "
                                  "a kernel before 5.2 cannot switch RDMA namespaces");
        *mode = s.mode != 0 ? CRDMA_NETNS_SHARED : CRDMA_NETNS_EXCLUSIVE;
        return 0;
}
