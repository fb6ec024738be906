/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Netlink replay for unit tests: build the kernel's replies with libmnl and
 * hand them to libcrdma through its transport seam.  Two players: a pair
 * that answers every request of an op with the same replies (nl_replay_ops),
 * and a script that expects each request in turn, checks what it carries
 * and from which network namespace it is spoken (nl_script_ops). */
#ifndef CRDMA_TEST_NL_REPLAY_H
#define CRDMA_TEST_NL_REPLAY_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>
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

/* ------------------------------------------------------------ the script */

struct nl_step {
        unsigned op;   /* RDMA_NLDEV_CMD_* the request must carry */
        bool in_netns; /* spoken from inside the container's namespace */
        struct nl_replay reply;
};

struct nl_script {
        struct nl_step steps[12];
        size_t n, next;
        int netns_fd; /* the namespace in-netns steps must be spoken in; < 0: any */
        /* what the last SET and SYS_SET requests carried; -1 none */
        int64_t set_index, set_ns_fd, sys_mode;
};

static inline void nl_script_init(struct nl_script *s, int netns_fd)
{
        memset(s, 0, sizeof(*s));
        s->netns_fd = netns_fd;
        s->set_index = s->set_ns_fd = s->sys_mode = -1;
}

/* The next request expected: its op, where it is spoken; fill in the reply. */
static inline struct nl_replay *nl_script_expect(struct nl_script *s, unsigned op, bool in_netns)
{
        assert_true(s->n < sizeof(s->steps) / sizeof(s->steps[0]));
        struct nl_step *st = &s->steps[s->n++];
        memset(st, 0, sizeof(*st));
        st->op = op;
        st->in_netns = in_netns;
        return &st->reply;
}

/* Every scripted request was made. */
static inline void nl_script_assert_done(const struct nl_script *s)
{
        assert_int_equal(s->next, s->n);
}

static inline bool nl_same_file(int a, int b)
{
        struct stat sa, sb;
        assert_int_equal(fstat(a, &sa), 0);
        assert_int_equal(fstat(b, &sb), 0);
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static inline int nl_script_attr_cb(const struct nlattr *attr, void *data)
{
        const struct nlattr **tb = data;
        if (mnl_attr_get_type(attr) < RDMA_NLDEV_ATTR_MAX)
                tb[mnl_attr_get_type(attr)] = attr;
        return MNL_CB_OK;
}

/* Answer `req`, spoken inside netns_fd (>= 0) or from the caller's namespace. */
static inline int nl_script_play(struct nl_script *s, int netns_fd, struct nlmsghdr *req,
                                 mnl_cb_t cb, void *cb_data, char *ext_ack, size_t ext_ack_len)
{
        if (s->next >= s->n)
                fail_msg("netlink request %u beyond the script", req->nlmsg_type & 0x3ff);
        struct nl_step *st = &s->steps[s->next++];
        assert_int_equal(req->nlmsg_type >> 10, RDMA_NL_NLDEV);
        assert_int_equal(req->nlmsg_type & ((1u << 10) - 1), st->op);
        assert_int_equal(netns_fd >= 0, st->in_netns);
        if (st->in_netns && s->netns_fd >= 0)
                assert_true(nl_same_file(netns_fd, s->netns_fd));

        const struct nlattr *tb[RDMA_NLDEV_ATTR_MAX] = { 0 };
        assert_true(mnl_attr_parse(req, 0, nl_script_attr_cb, tb) >= 0);
        if (st->op == RDMA_NLDEV_CMD_SET) {
                assert_non_null(tb[RDMA_NLDEV_ATTR_DEV_INDEX]);
                assert_non_null(tb[RDMA_NLDEV_NET_NS_FD]);
                assert_int_equal(mnl_attr_get_payload_len(tb[RDMA_NLDEV_NET_NS_FD]), 4);
                s->set_index = mnl_attr_get_u32(tb[RDMA_NLDEV_ATTR_DEV_INDEX]);
                s->set_ns_fd = mnl_attr_get_u32(tb[RDMA_NLDEV_NET_NS_FD]);
        }
        if (st->op == RDMA_NLDEV_CMD_SYS_SET) {
                assert_non_null(tb[RDMA_NLDEV_SYS_ATTR_NETNS_MODE]);
                s->sys_mode = mnl_attr_get_u8(tb[RDMA_NLDEV_SYS_ATTR_NETNS_MODE]);
        }
        int r = crdma_nl_run(st->reply.buf, st->reply.len, 0, 0, cb, cb_data, ext_ack, ext_ack_len);
        /* The reply ends the transaction, as the kernel transports need. */
        assert_true(r <= MNL_CB_STOP);
        return r;
}

static inline int nl_script_transact(void *data, struct nlmsghdr *req, mnl_cb_t cb, void *cb_data,
                                     char *ext_ack, size_t ext_ack_len)
{
        return nl_script_play(data, -EBADF, req, cb, cb_data, ext_ack, ext_ack_len);
}

static inline int nl_script_transact_in_netns(void *data, int netns_fd, struct nlmsghdr *req,
                                              mnl_cb_t cb, void *cb_data, char *ext_ack,
                                              size_t ext_ack_len)
{
        assert_true(netns_fd >= 0);
        return nl_script_play(data, netns_fd, req, cb, cb_data, ext_ack, ext_ack_len);
}

static const struct crdma_netlink_ops nl_script_ops = {
        .transact = nl_script_transact,
        .transact_in_netns = nl_script_transact_in_netns,
};

#endif
