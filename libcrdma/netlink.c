/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <rdma/rdma_netlink.h>

#include "cleanup.h"
#include "context.h"
#include "error.h"
#include "netlink.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct mnl_socket *, mnl_socket_close)

struct nlmsghdr *crdma_nl_request(void *buf, unsigned op, uint16_t flags)
{
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = RDMA_NL_GET_TYPE(RDMA_NL_NLDEV, op);
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
        nlh->nlmsg_seq = (uint32_t) time(NULL);
        return nlh;
}

/* The NLMSGERR_ATTR_MSG text of an extended ack, if the kernel sent one. */
static void ext_ack_text(const struct nlmsghdr *nlh, char *out, size_t len)
{
        const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
        if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || !out || len == 0)
                return;
        size_t off = sizeof(*e);
        if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
                off += mnl_nlmsg_get_payload_len(&e->msg);
        const struct nlattr *attr;
        mnl_attr_for_each(attr, nlh, off) {
                if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
                    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0) {
                        snprintf(out, len, "%s", mnl_attr_get_str(attr));
                        return;
                }
        }
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

int crdma_nl_run(const void *buf, size_t len, uint32_t seq, uint32_t portid, mnl_cb_t cb,
                 void *cb_data, char *ext_ack, size_t ext_ack_len)
{
        struct run_ctx rc = { cb, cb_data, ext_ack, ext_ack_len };
        mnl_cb_t ctl[NLMSG_MIN_TYPE] = { [NLMSG_ERROR] = error_cb };
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

const struct crdma_netlink_ops crdma_netlink_kernel_ops = {
        .transact = kernel_transact,
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

int crdma_nl_devices(struct crdma_context *ctx, struct crdma_nl_device **out, size_t *n,
                     struct crdma_error **err)
{
        if (!ctx->nl_ops)
                return crdma_fail(err, EOPNOTSUPP, "RDMA netlink: not used with a fake sysfs root");
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct nlmsghdr *req = crdma_nl_request(buf, RDMA_NLDEV_CMD_GET, NLM_F_DUMP);
        struct dev_dump d = { 0 };
        char ack[256] = "";
        int r = ctx->nl_ops->transact(ctx->nl_data, req, dev_cb, &d, ack, sizeof(ack));
        if (r >= 0 && d.error)
                r = -d.error;
        if (r < 0) {
                free(d.devs);
                return crdma_fail_errno(err, r, "RDMA netlink: listing devices failed%s%s",
                                        ack[0] ? ": " : "", ack);
        }
        *out = d.devs;
        *n = d.n;
        return 0;
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

int crdma_nl_netns_shared(struct crdma_context *ctx, bool *shared, struct crdma_error **err)
{
        if (!ctx->nl_ops)
                return crdma_fail(err, EOPNOTSUPP, "RDMA netlink: not used with a fake sysfs root");
        char buf[MNL_SOCKET_BUFFER_SIZE];
        struct nlmsghdr *req = crdma_nl_request(buf, RDMA_NLDEV_CMD_SYS_GET, 0);
        struct sys_get s = { -1 };
        char ack[256] = "";
        int r = ctx->nl_ops->transact(ctx->nl_data, req, sys_cb, &s, ack, sizeof(ack));
        if (r < 0)
                return crdma_fail_errno(err, r, "RDMA netlink: reading the netns mode failed%s%s",
                                        ack[0] ? ": " : "", ack);
        if (s.mode < 0)
                return crdma_fail(err, EBADMSG, "RDMA netlink: the kernel's reply has no netns mode; "
                                  "a kernel before 5.2 cannot switch RDMA namespaces");
        *shared = s.mode != 0;
        return 0;
}
