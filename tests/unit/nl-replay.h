/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Netlink replay for unit tests: build the kernel's replies with libmnl and
 * hand them to libcrdma through its transport seam. */
#ifndef CRDMA_TEST_NL_REPLAY_H
#define CRDMA_TEST_NL_REPLAY_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <linux/netlink.h>
#include <rdma/rdma_netlink.h>

#include "netlink.h"

struct nl_replay {
        char buf[16384];
        size_t len;
        unsigned expect_op;  /* RDMA_NLDEV_CMD_* the request must carry */
        unsigned seen_op;
        int calls;
};

static inline struct nlmsghdr *nl_replay_msg(struct nl_replay *r, uint16_t type, uint16_t flags)
{
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(r->buf + r->len);
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = flags;
        return nlh;
}

static inline void nl_replay_end(struct nl_replay *r, struct nlmsghdr *nlh)
{
        r->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

static inline void nl_replay_device(struct nl_replay *r, uint32_t index, const char *name)
{
        struct nlmsghdr *nlh = nl_replay_msg(r, RDMA_NL_GET_TYPE(RDMA_NL_NLDEV, RDMA_NLDEV_CMD_GET),
                                             NLM_F_MULTI);
        mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_DEV_INDEX, index);
        mnl_attr_put_strz(nlh, RDMA_NLDEV_ATTR_DEV_NAME, name);
        nl_replay_end(r, nlh);
}

static inline void nl_replay_done(struct nl_replay *r)
{
        struct nlmsghdr *nlh = nl_replay_msg(r, NLMSG_DONE, NLM_F_MULTI);
        int zero = 0;
        mnl_nlmsg_put_extra_header(nlh, sizeof(zero));
        nl_replay_end(r, nlh);
}

/* NLMSG_ERROR with `error` (0 = ack) and an extended-ack text. */
static inline void nl_replay_error(struct nl_replay *r, int error, const char *text)
{
        struct nlmsghdr *nlh = nl_replay_msg(r, NLMSG_ERROR, text ? NLM_F_ACK_TLVS | NLM_F_CAPPED : 0);
        struct nlmsgerr *e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
        e->error = error;
        e->msg.nlmsg_len = sizeof(struct nlmsghdr);
        if (text)
                mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, text);
        nl_replay_end(r, nlh);
}

static inline void nl_replay_netns_mode(struct nl_replay *r, uint8_t mode)
{
        struct nlmsghdr *nlh = nl_replay_msg(r, RDMA_NL_GET_TYPE(RDMA_NL_NLDEV, RDMA_NLDEV_CMD_SYS_GET), 0);
        mnl_attr_put_u8(nlh, RDMA_NLDEV_SYS_ATTR_NETNS_MODE, mode);
        nl_replay_end(r, nlh);
}

/* Serves one queued reply per op: the dump for CMD_GET, else `sys`. */
struct nl_replay_pair {
        struct nl_replay get, sys;
};

static inline int nl_replay_transact(void *data, struct nlmsghdr *req, mnl_cb_t cb, void *cb_data,
                                     char *ext_ack, size_t ext_ack_len)
{
        struct nl_replay_pair *p = data;
        unsigned op = req->nlmsg_type & ((1u << 10) - 1);
        if ((req->nlmsg_type >> 10) != RDMA_NL_NLDEV)
                return -EPROTO;
        struct nl_replay *r = op == RDMA_NLDEV_CMD_GET ? &p->get : &p->sys;
        r->seen_op = op;
        r->calls++;
        if (r->len == 0)
                return -EPROTONOSUPPORT;
        int ret = crdma_nl_run(r->buf, r->len, 0, 0, cb, cb_data, ext_ack, ext_ack_len);
        /* The replies must end the transaction (NLMSG_DONE, an ack or an
         * error): the kernel transport would otherwise wait for more. */
        if (ret > MNL_CB_STOP)
                return -EPIPE;
        return ret;
}

static const struct crdma_netlink_ops nl_replay_ops = { .transact = nl_replay_transact };

#endif
