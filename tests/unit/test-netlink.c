/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* RDMA netlink parsing against replies built like the kernel's. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "context.h"
#include "error.h"
#include "nl-replay.h"

static struct crdma_context *ctx_with(struct nl_replay_pair *p)
{
        struct crdma_context *ctx = NULL;
        assert_int_equal(crdma_context_new(&ctx, NULL), 0);
        crdma_context_set_netlink_ops(ctx, &nl_replay_ops, p);
        return ctx;
}

static void test_device_dump(void **state)
{
        (void) state;
        struct nl_replay_pair p = { 0 };
        nl_replay_device(&p.get, 0, "mlx5_0");
        nl_replay_device(&p.get, 7, "rxe0");
        nl_replay_done(&p.get);
        struct crdma_context *ctx = ctx_with(&p);
        struct crdma_nl_device *devs = NULL;
        size_t n = 0;
        assert_int_equal(crdma_nl_devices(ctx, &devs, &n, NULL), 0);
        assert_int_equal(p.get.seen_op, RDMA_NLDEV_CMD_GET);
        assert_int_equal(n, 2);
        assert_int_equal(devs[0].index, 0);
        assert_string_equal(devs[0].name, "mlx5_0");
        assert_int_equal(devs[1].index, 7);
        assert_string_equal(devs[1].name, "rxe0");
        free(devs);
        crdma_context_free(ctx);
}

static void test_kernel_error_with_ext_ack(void **state)
{
        (void) state;
        struct nl_replay_pair p = { 0 };
        nl_replay_error(&p.get, -EPERM, "Requires CAP_NET_ADMIN");
        struct crdma_context *ctx = ctx_with(&p);
        struct crdma_nl_device *devs = (void *) 0x1;
        size_t n = 99;
        struct crdma_error *err = NULL;
        assert_int_equal(crdma_nl_devices(ctx, &devs, &n, &err), -EPERM);
        assert_ptr_equal(devs, (void *) 0x1);
        assert_int_equal(n, 99);
        assert_string_equal(crdma_error_message(err),
                            "RDMA netlink: listing devices failed: Requires CAP_NET_ADMIN: "
                            "Operation not permitted");
        crdma_error_free(err);
        crdma_context_free(ctx);
}

static void test_malformed_device(void **state)
{
        (void) state;
        struct nl_replay_pair p = { 0 };
        /* A device message without its name. */
        struct nlmsghdr *nlh = nl_replay_msg(&p.get, RDMA_NL_GET_TYPE(RDMA_NL_NLDEV, RDMA_NLDEV_CMD_GET),
                                             NLM_F_MULTI);
        mnl_attr_put_u32(nlh, RDMA_NLDEV_ATTR_DEV_INDEX, 1);
        nl_replay_end(&p.get, nlh);
        nl_replay_done(&p.get);
        struct crdma_context *ctx = ctx_with(&p);
        struct crdma_nl_device *devs = NULL;
        size_t n = 0;
        struct crdma_error *err = NULL;
        assert_int_equal(crdma_nl_devices(ctx, &devs, &n, &err), -EBADMSG);
        crdma_error_free(err);
        crdma_context_free(ctx);
}

static void test_netns_mode(void **state)
{
        (void) state;
        for (int mode = 0; mode <= 1; mode++) {
                struct nl_replay_pair p = { 0 };
                nl_replay_netns_mode(&p.sys, (uint8_t) mode);
                nl_replay_error(&p.sys, 0, NULL);
                struct crdma_context *ctx = ctx_with(&p);
                enum crdma_netns got = mode ? CRDMA_NETNS_EXCLUSIVE : CRDMA_NETNS_SHARED;
                assert_int_equal(crdma_nl_netns_mode(ctx, &got, NULL), 0);
                assert_int_equal(p.sys.seen_op, RDMA_NLDEV_CMD_SYS_GET);
                /* the kernel's 1 is shared, 0 exclusive */
                assert_int_equal(got, mode == 1 ? CRDMA_NETNS_SHARED : CRDMA_NETNS_EXCLUSIVE);
                crdma_context_free(ctx);
        }
        /* A reply without the attribute (kernel before 5.2). */
        struct nl_replay_pair p = { 0 };
        nl_replay_error(&p.sys, 0, NULL);
        struct crdma_context *ctx = ctx_with(&p);
        enum crdma_netns got;
        struct crdma_error *err = NULL;
        assert_int_equal(crdma_nl_netns_mode(ctx, &got, &err), -EBADMSG);
        assert_non_null(strstr(crdma_error_message(err), "no netns mode"));
        crdma_error_free(err);
        crdma_context_free(ctx);
}

/* RDMA netlink is a setting of its own: on by default, turned off and on
 * again by crdma_context_set_netlink, and left alone by the sysfs root. */
static void test_set_netlink(void **state)
{
        (void) state;
        struct crdma_context *ctx = NULL;
        assert_int_equal(crdma_context_new(&ctx, NULL), 0);
        assert_ptr_equal(crdma_context_netlink(ctx), &crdma_netlink_kernel_ops);
        /* A sysfs root other than /sys no longer turns it off. */
        assert_int_equal(crdma_context_set_root(ctx, CRDMA_ROOT_SYSFS, "/", NULL), 0);
        assert_ptr_equal(crdma_context_netlink(ctx), &crdma_netlink_kernel_ops);
        crdma_context_free(ctx);

        struct nl_replay_pair p = { 0 };
        nl_replay_device(&p.get, 2, "rxe0");
        nl_replay_device(&p.get, 3, "rxe1");
        nl_replay_done(&p.get);
        nl_replay_netns_mode(&p.sys, 0);
        nl_replay_error(&p.sys, 0, NULL);
        ctx = ctx_with(&p);
        assert_int_equal(crdma_context_set_root(ctx, CRDMA_ROOT_SYSFS,
                                                CRDMA_TEST_DATA "/sysfs/rxe", NULL), 0);

        /* On, with the replayed kernel: the scan knows the mode and the indexes. */
        struct crdma_device_list *list = NULL;
        enum crdma_netns mode = CRDMA_NETNS_SHARED;
        assert_int_equal(crdma_devices_scan(ctx, &list, NULL), 0);
        assert_int_equal(crdma_device_list_netns_mode(list, &mode), 0);
        assert_int_equal(mode, CRDMA_NETNS_EXCLUSIVE);
        assert_int_equal(crdma_device_index(crdma_device_list_find(list, "rxe1")), 3);
        crdma_device_list_free(list);
        assert_int_equal(crdma_system_netns_mode(ctx, &mode, NULL), 0);
        assert_int_equal(mode, CRDMA_NETNS_EXCLUSIVE);

        /* Off: nothing is asked; the mode is unknown, the indexes -1, and
         * reading the mode now is refused. */
        assert_int_equal(crdma_context_set_netlink(ctx, false, NULL), 0);
        int get_calls = p.get.calls, sys_calls = p.sys.calls;
        assert_int_equal(crdma_devices_scan(ctx, &list, NULL), 0);
        assert_int_equal(crdma_device_list_netns_mode(list, &mode), -ENODATA);
        assert_int_equal(crdma_device_index(crdma_device_list_find(list, "rxe1")), -1);
        crdma_device_list_free(list);
        struct crdma_error *err = NULL;
        assert_int_equal(crdma_system_netns_mode(ctx, &mode, &err), -EOPNOTSUPP);
        assert_non_null(strstr(crdma_error_message(err), "RDMA netlink: turned off"));
        crdma_error_free(err);
        enum crdma_netns got;
        err = NULL;
        assert_int_equal(crdma_nl_netns_mode(ctx, &got, &err), -EOPNOTSUPP);
        crdma_error_free(err);
        assert_int_equal(p.get.calls, get_calls);
        assert_int_equal(p.sys.calls, sys_calls);

        /* On again: the same transport answers. */
        assert_int_equal(crdma_context_set_netlink(ctx, true, NULL), 0);
        assert_int_equal(crdma_devices_scan(ctx, &list, NULL), 0);
        assert_int_equal(crdma_device_list_netns_mode(list, &mode), 0);
        assert_int_equal(mode, CRDMA_NETNS_EXCLUSIVE);
        crdma_device_list_free(list);
        assert_true(p.sys.calls > sys_calls);

        /* Setting the sysfs root again changes nothing of that. */
        assert_int_equal(crdma_context_set_root(ctx, CRDMA_ROOT_SYSFS,
                                                CRDMA_TEST_DATA "/sysfs/mixed", NULL), 0);
        assert_int_equal(crdma_system_netns_mode(ctx, &mode, NULL), 0);
        err = NULL;
        assert_int_equal(crdma_context_set_netlink(NULL, false, &err), -EINVAL);
        crdma_error_free(err);
        crdma_context_free(ctx);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_device_dump),
                cmocka_unit_test(test_kernel_error_with_ext_ack),
                cmocka_unit_test(test_malformed_device),
                cmocka_unit_test(test_netns_mode),
                cmocka_unit_test(test_set_netlink),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
