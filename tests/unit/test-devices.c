/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Device discovery on the fake sysfs trees of tests/data/sysfs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "context.h"
#include "devices.h"
#include "error.h"
#include "fixture.h"
#include "nl-replay.h"

static void assert_chardev(const struct crdma_device *d, size_t i, enum crdma_chardev_kind kind,
                           const char *name, unsigned major, unsigned minor, unsigned port)
{
        enum crdma_chardev_kind k;
        const char *n;
        unsigned ma, mi, p;
        assert_int_equal(crdma_device_chardev(d, i, &k, &n, &ma, &mi, &p), 0);
        assert_int_equal(k, kind);
        assert_string_equal(n, name);
        assert_int_equal(ma, major);
        assert_int_equal(mi, minor);
        assert_int_equal(p, port);
}

static void assert_port(const struct crdma_device *d, unsigned i, unsigned number,
                        const char *link, const char *state, const char *netdev)
{
        assert_int_equal(crdma_device_port_number(d, i), number);
        assert_string_equal(crdma_device_port_link_layer(d, i), link);
        assert_string_equal(crdma_device_port_state(d, i), state);
        if (netdev)
                assert_string_equal(crdma_device_port_netdev(d, i), netdev);
        else
                assert_null(crdma_device_port_netdev(d, i));
}

static void test_mixed(void **state)
{
        (void) state;
        struct crdma_context *ctx = fixture_context("mixed");
        struct crdma_device_list *list = fixture_scan(ctx);
        assert_int_equal(crdma_device_list_count(list), 6);
        const char *names[] = { "mlx5_0", "mlx5_1", "mlx5_2", "mlx5_3", "mlx5_4", "rxe0" };
        for (size_t i = 0; i < 6; i++) {
                const struct crdma_device *d = crdma_device_list_get(list, i);
                assert_string_equal(crdma_device_name(d), names[i]);
                assert_int_equal(crdma_device_index(d), -1); /* no netlink on a fake tree */
                assert_int_equal(crdma_device_node_type(d), 1);
                assert_string_equal(crdma_device_node_type_name(d), "CA");
                assert_int_equal(crdma_device_port_count(d), 1);
        }
        assert_null(crdma_device_list_get(list, 6));

        /* IB PF with IPoIB (netdev by dev_port). */
        const struct crdma_device *d = crdma_device_list_find(list, "mlx5_0");
        assert_string_equal(crdma_device_node_guid(d), "b859:9f03:00d4:1a2c");
        assert_string_equal(crdma_device_driver(d), "mlx5_core");
        assert_string_equal(crdma_device_pci_address(d), "0000:03:00.0");
        assert_false(crdma_device_is_vf(d));
        assert_null(crdma_device_pf_pci_address(d));
        assert_null(crdma_device_parent_netdev(d));
        assert_port(d, 0, 1, "InfiniBand", "ACTIVE", "ib0");
        assert_int_equal(crdma_device_port_gid_count(d, 0), 8);
        assert_int_equal(crdma_device_chardev_count(d), 3);
        assert_chardev(d, 0, CRDMA_CHARDEV_UVERBS, "uverbs0", 231, 192, 0);
        assert_chardev(d, 1, CRDMA_CHARDEV_UMAD, "umad0", 231, 0, 1);
        assert_chardev(d, 2, CRDMA_CHARDEV_ISSM, "issm0", 231, 64, 1);
        assert_int_equal(crdma_device_chardev(d, 3, NULL, NULL, NULL, NULL, NULL), -ERANGE);

        /* RoCE PF and its two VFs. */
        d = crdma_device_list_find(list, "mlx5_1");
        assert_string_equal(crdma_device_pci_address(d), "0000:04:00.0");
        assert_false(crdma_device_is_vf(d));
        assert_port(d, 0, 1, "Ethernet", "ACTIVE", "ens1f0");
        assert_chardev(d, 0, CRDMA_CHARDEV_UVERBS, "uverbs1", 231, 193, 0);
        for (int vf = 0; vf < 2; vf++) {
                char name[16], pci[16], netdev[16], uverbs[16];
                snprintf(name, sizeof(name), "mlx5_%d", 2 + vf);
                snprintf(pci, sizeof(pci), "0000:04:00.%d", 1 + vf);
                snprintf(netdev, sizeof(netdev), "ens1f0v%d", vf);
                snprintf(uverbs, sizeof(uverbs), "uverbs%d", 2 + vf);
                d = crdma_device_list_find(list, name);
                assert_true(crdma_device_is_vf(d));
                assert_string_equal(crdma_device_pci_address(d), pci);
                assert_string_equal(crdma_device_pf_pci_address(d), "0000:04:00.0");
                assert_string_equal(crdma_device_driver(d), "mlx5_core");
                assert_port(d, 0, 1, "Ethernet", "ACTIVE", netdev);
                assert_chardev(d, 0, CRDMA_CHARDEV_UVERBS, uverbs, 231, 194 + (unsigned) vf, 0);
        }

        /* A device without umad: only its uverbs. */
        d = crdma_device_list_find(list, "mlx5_4");
        assert_int_equal(crdma_device_chardev_count(d), 1);
        assert_chardev(d, 0, CRDMA_CHARDEV_UVERBS, "uverbs4", 231, 196, 0);
        assert_port(d, 0, 1, "Ethernet", "DOWN", "ens3f0");

        /* Soft-RoCE: no PCI parent, its netdev from `parent`. */
        d = crdma_device_list_find(list, "rxe0");
        assert_null(crdma_device_pci_address(d));
        assert_null(crdma_device_driver(d));
        assert_false(crdma_device_is_vf(d));
        assert_string_equal(crdma_device_parent_netdev(d), "veth0");
        assert_port(d, 0, 1, "Ethernet", "ACTIVE", "veth0");
        assert_chardev(d, 0, CRDMA_CHARDEV_UVERBS, "uverbs5", 231, 197, 0);
        assert_chardev(d, 1, CRDMA_CHARDEV_UMAD, "umad4", 231, 4, 1);
        assert_chardev(d, 2, CRDMA_CHARDEV_ISSM, "issm4", 231, 68, 1);

        assert_null(crdma_device_list_find(list, "mlx5_9"));
        unsigned maj = 0, min = 0;
        assert_int_equal(crdma_device_list_rdma_cm(list, &maj, &min), 0);
        assert_int_equal(maj, 10);
        assert_int_equal(min, 124);
        enum crdma_netns mode;
        assert_int_equal(crdma_device_list_netns_mode(list, &mode), -ENODATA);

        crdma_device_list_free(list);
        crdma_context_free(ctx);
}

static void test_rxe_json(void **state)
{
        (void) state;
        struct crdma_context *ctx = fixture_context("rxe");
        struct crdma_device_list *list = fixture_scan(ctx);
        char *json = NULL;
        assert_int_equal(crdma_device_list_to_json(list, false, &json, NULL), 0);
        assert_string_equal(json,
                "{\"devices\":["
                "{\"name\":\"rxe0\",\"index\":null,\"nodeType\":\"CA\",\"nodeGuid\":\"481b:2cff:fe3d:4e01\","
                "\"driver\":null,\"pciAddress\":null,\"sriovVf\":false,\"pfPciAddress\":null,"
                "\"parentNetdev\":\"veth0\",\"ports\":[{\"port\":1,\"linkLayer\":\"Ethernet\","
                "\"state\":\"ACTIVE\",\"netdev\":\"veth0\",\"gids\":8}],\"charDevices\":["
                "{\"kind\":\"uverbs\",\"path\":\"/dev/infiniband/uverbs0\",\"dev\":\"231:192\"},"
                "{\"kind\":\"umad\",\"path\":\"/dev/infiniband/umad0\",\"dev\":\"231:0\",\"port\":1},"
                "{\"kind\":\"issm\",\"path\":\"/dev/infiniband/issm0\",\"dev\":\"231:64\",\"port\":1}]},"
                "{\"name\":\"rxe1\",\"index\":null,\"nodeType\":\"CA\",\"nodeGuid\":\"481b:2cff:fe3d:4e02\","
                "\"driver\":null,\"pciAddress\":null,\"sriovVf\":false,\"pfPciAddress\":null,"
                "\"parentNetdev\":\"veth1\",\"ports\":[{\"port\":1,\"linkLayer\":\"Ethernet\","
                "\"state\":\"ACTIVE\",\"netdev\":\"veth1\",\"gids\":8}],\"charDevices\":["
                "{\"kind\":\"uverbs\",\"path\":\"/dev/infiniband/uverbs1\",\"dev\":\"231:193\"},"
                "{\"kind\":\"umad\",\"path\":\"/dev/infiniband/umad1\",\"dev\":\"231:1\",\"port\":1},"
                "{\"kind\":\"issm\",\"path\":\"/dev/infiniband/issm1\",\"dev\":\"231:65\",\"port\":1}]}],"
                "\"rdmaCm\":{\"path\":\"/dev/infiniband/rdma_cm\",\"dev\":\"10:124\"},\"netnsMode\":null}");
        free(json);
        crdma_device_list_free(list);
        crdma_context_free(ctx);
}

static void test_netlink_indexes(void **state)
{
        (void) state;
        struct nl_replay_pair p = { 0 };
        nl_replay_device(&p.get, 3, "rxe1");
        nl_replay_device(&p.get, 2, "rxe0");
        nl_replay_device(&p.get, 9, "gone0"); /* a device sysfs does not have */
        nl_replay_done(&p.get);
        nl_replay_netns_mode(&p.sys, 0);
        nl_replay_error(&p.sys, 0, NULL);
        struct crdma_context *ctx = fixture_context("rxe");
        crdma_context_set_netlink_ops(ctx, &nl_replay_ops, &p);
        struct crdma_device_list *list = fixture_scan(ctx);
        assert_int_equal(crdma_device_index(crdma_device_list_find(list, "rxe0")), 2);
        assert_int_equal(crdma_device_index(crdma_device_list_find(list, "rxe1")), 3);
        enum crdma_netns mode;
        assert_int_equal(crdma_device_list_netns_mode(list, &mode), 0);
        assert_int_equal(mode, CRDMA_NETNS_EXCLUSIVE);
        crdma_device_list_free(list);
        crdma_context_free(ctx);

        /* Netlink failing is not a scan failure: indexes stay unknown. */
        struct nl_replay_pair none = { 0 };
        ctx = fixture_context("rxe");
        crdma_context_set_netlink_ops(ctx, &nl_replay_ops, &none);
        list = fixture_scan(ctx);
        assert_int_equal(crdma_device_index(crdma_device_list_get(list, 0)), -1);
        assert_int_equal(crdma_device_list_netns_mode(list, &mode), -ENODATA);
        crdma_device_list_free(list);
        crdma_context_free(ctx);
}

static void test_missing_optional(void **state)
{
        (void) state;
        struct crdma_context *ctx = fixture_context("missing-optional");
        struct crdma_device_list *list = fixture_scan(ctx);
        assert_true(crdma_device_list_count(list) >= 1);
        crdma_device_list_free(list);
        crdma_context_free(ctx);
}

static void test_no_rdma(void **state)
{
        (void) state;
        const char *presets[] = { "none", "empty" };
        for (int i = 0; i < 2; i++) {
                struct crdma_context *ctx = fixture_context(presets[i]);
                struct crdma_device_list *list = fixture_scan(ctx);
                assert_int_equal(crdma_device_list_count(list), 0);
                crdma_device_list_free(list);
                crdma_context_free(ctx);
        }
}

static void broken(const char *preset, const char *file, const char *why)
{
        struct crdma_context *ctx = fixture_context(preset);
        struct crdma_device_list *list = (void *) 0x1;
        struct crdma_error *err = NULL;
        char expect[768];
        snprintf(expect, sizeof(expect), "%s/%s: %s", fixture_sysfs(preset), file, why);
        assert_int_equal(crdma_devices_scan(ctx, &list, &err), -EINVAL);
        assert_ptr_equal(list, (void *) 0x1);
        assert_int_equal(crdma_error_kind(err), CRDMA_ERROR_SYSTEM);
        if (strncmp(crdma_error_message(err), expect, strlen(expect)) != 0)
                fail_msg("got \"%s\", expected it to start with \"%s\"", crdma_error_message(err),
                         expect);
        crdma_error_free(err);
        crdma_context_free(ctx);
}

static void test_broken_trees(void **state)
{
        (void) state;
        broken("broken-dev", "class/infiniband_verbs/uverbs0/dev", "not \"<major>:<minor>\"");
        broken("broken-ibdev", "class/infiniband_verbs/uverbs1/ibdev",
               "names \"rxe7\", which is not in class/infiniband");
        broken("broken-node-type", "class/infiniband/rxe0/node_type", "not \"<number>: <type>\"");
        broken("broken-port", "class/infiniband/rxe0/ports/x", "not a port number");
        broken("broken-umad-port", "class/infiniband_mad/umad1/port", "not a port of its device");
        broken("broken-dup-uverbs", "class/infiniband_verbs/uverbs2/ibdev",
               "rxe0 already has uverbs0 for the same device");
        broken("broken-guid", "class/infiniband/rxe1/node_guid", "not a GUID");
}

static void test_bad_root(void **state)
{
        (void) state;
        struct crdma_context *ctx = NULL;
        struct crdma_error *err = NULL;
        assert_int_equal(crdma_context_new(&ctx, NULL), 0);
        assert_int_equal(crdma_context_set_root(ctx, CRDMA_ROOT_SYSFS, "/nonexistent/sys", &err), -ENOENT);
        assert_string_equal(crdma_error_message(err),
                            "sysfs root /nonexistent/sys: cannot open the directory: No such file or directory");
        crdma_error_free(err);
        crdma_context_free(ctx);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_mixed),          cmocka_unit_test(test_rxe_json),
                cmocka_unit_test(test_netlink_indexes), cmocka_unit_test(test_missing_optional),
                cmocka_unit_test(test_no_rdma),        cmocka_unit_test(test_broken_trees),
                cmocka_unit_test(test_bad_root),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
