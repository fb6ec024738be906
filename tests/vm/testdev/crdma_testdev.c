// SPDX-License-Identifier: GPL-2.0
/*
 * crdma_testdev: TEST-ONLY RDMA devices that can move between network namespaces.
 *
 * crdma's exclusive netns mode moves a container's RDMA device into the container's network
 * namespace (`rdma dev set DEV netns NS`, RDMA_NLDEV_CMD_SET with NET_NS_FD).  The kernel
 * (ib_device_set_netns_put) allows that only in exclusive mode and only for a device whose
 * driver has disassociate_ucontext, which the software drivers a VM can have do not (rxe;
 * Debian builds no siw).  This module registers `devices` (default 2) such devices,
 * crdmatest0, crdmatest1, ..., so that tests/vm can prove crdma's exclusive mode on the real
 * kernel it boots: two containers can each get one.
 *
 * The devices have no data path at all: no kernel verbs (so ib_core treats them as
 * "no kverbs provider" and only ib_uverbs attaches), no PD/CQ/QP/MR, no mmap, and no DMA
 * device (ib_register_device(..., NULL)).  They have exactly what ib_core and ib_uverbs need
 * to register a device, list it (`rdma dev`, sysfs), give it a /dev/infiniband/uverbsN node
 * and move it between namespaces.  libibverbs lists them nowhere (no user-space provider
 * matches RDMA_DRIVER_UNKNOWN); opening the uverbs node with open(2) is what tests use.
 *
 * Never load this on a real host: it exists for tests/vm only (tests/vm/testdev/build.sh).
 */
#include <linux/module.h>
#include <linux/string.h>
#include <rdma/ib_mad.h>
#include <rdma/ib_verbs.h>

#define TESTDEV_MAX 16
/* node GUIDs 02:63:72:64:00:00:00:NN ("\x02crd", the locally administered bit set) */
#define TESTDEV_GUID_BASE 0x0263726400000000ULL

static unsigned int devices = 2;
module_param(devices, uint, 0444);
MODULE_PARM_DESC(devices, "number of crdmatestN devices to register (1-16, default 2)");

struct testdev {
	struct ib_device ibdev; /* first: ib_alloc_device() requires offset 0 */
};

struct testdev_ucontext {
	struct ib_ucontext ibuc; /* first: INIT_RDMA_OBJ_SIZE() requires offset 0 */
};

static struct testdev *testdevs[TESTDEV_MAX];

/*
 * ib_core calls it once at registration (setup_device) to fill ibdev->attrs, which
 * `ibv_devinfo`-style queries and sysfs read; ib_uverbs' QUERY_DEVICE_EX calls it again.  No
 * driver-specific data goes in or out, so a non-empty udata is refused, as drivers do.
 */
static int testdev_query_device(struct ib_device *ibdev, struct ib_device_attr *attr,
				struct ib_udata *udata)
{
	if (udata && (udata->inlen || udata->outlen))
		return -EINVAL;
	attr->sys_image_guid = ibdev->node_guid;
	attr->page_size_cap = PAGE_SIZE;
	attr->max_pkeys = 1;
	return 0;
}

/*
 * ib_core's port cache (at registration and on every ib_query_port: `rdma link`, sysfs
 * ports/1/state, ib_uverbs' QUERY_PORT).  ib_core zeroes *attr first.  An active 1X SDR
 * InfiniBand port whose GID and P_Key tables have one entry each, matching
 * get_port_immutable.
 */
static int testdev_query_port(struct ib_device *ibdev, u32 port, struct ib_port_attr *attr)
{
	attr->state = IB_PORT_ACTIVE;
	attr->phys_state = IB_PORT_PHYS_STATE_LINK_UP;
	attr->max_mtu = IB_MTU_4096;
	attr->active_mtu = IB_MTU_4096;
	attr->gid_tbl_len = 1;
	attr->pkey_tbl_len = 1;
	attr->max_msg_sz = 0x80000000;
	attr->lid = 1 + (u32)(be64_to_cpu(ibdev->node_guid) & 0xff);
	attr->active_width = IB_WIDTH_1X;
	attr->active_speed = IB_SPEED_SDR;
	return 0;
}

/*
 * Mandatory: ib_register_device calls it for each port before anything else.  The
 * capabilities of an InfiniBand HCA port (as in the manual trial on 6.1.0-57); the MAD, CM
 * and SA clients still never attach, since they need kernel verbs.  Set directly:
 * ib_query_port() cannot be used here, the port's link layer is not known yet.
 */
static int testdev_get_port_immutable(struct ib_device *ibdev, u32 port,
				      struct ib_port_immutable *immutable)
{
	immutable->core_cap_flags = RDMA_CORE_PORT_IBA_IB;
	immutable->gid_tbl_len = 1;
	immutable->pkey_tbl_len = 1;
	immutable->max_mad_size = IB_MGMT_MAD_SIZE;
	return 0;
}

/*
 * On an InfiniBand port the GID table is the driver's (on RoCE it is ib_core's): ib_core
 * reads entry 0 into its cache at registration, sysfs ports/1/gids/0 shows it.  The one
 * entry: the link-local prefix and the node GUID.
 */
static int testdev_query_gid(struct ib_device *ibdev, u32 port, int index, union ib_gid *gid)
{
	if (index != 0)
		return -EINVAL;
	gid->global.subnet_prefix = cpu_to_be64(0xfe80000000000000ULL);
	gid->global.interface_id = ibdev->node_guid;
	return 0;
}

/* The P_Key table ib_core caches at registration: the one entry is the full default P_Key. */
static int testdev_query_pkey(struct ib_device *ibdev, u32 port, u16 index, u16 *pkey)
{
	if (index != 0)
		return -EINVAL;
	*pkey = 0xffff;
	return 0;
}

/*
 * ib_uverbs gives a device a uverbsN node only if its driver can allocate a user context
 * (ib_uverbs_add_one: -EOPNOTSUPP without alloc_ucontext).  ib_core allocates the object
 * (its size from INIT_RDMA_OBJ_SIZE below); there is nothing of the driver's to set up.
 */
static int testdev_alloc_ucontext(struct ib_ucontext *uctx, struct ib_udata *udata)
{
	return 0;
}

/* The pair of alloc_ucontext: ib_core frees the object itself. */
static void testdev_dealloc_ucontext(struct ib_ucontext *uctx)
{
}

/*
 * The reason this module exists.  ib_device_set_netns_put refuses (EOPNOTSUPP) to move a
 * device whose driver has none.  ib_uverbs calls it when the device goes away under open
 * files (a move to another namespace, an unregister), to revoke what the driver handed to
 * user space (mmaps, doorbells): these devices hand out nothing, so there is nothing to do.
 */
static void testdev_disassociate_ucontext(struct ib_ucontext *uctx)
{
}

static const struct ib_device_ops testdev_ops = {
	.owner = THIS_MODULE,
	.driver_id = RDMA_DRIVER_UNKNOWN, /* no provider of rdma-core claims it */

	.query_device = testdev_query_device,
	.query_port = testdev_query_port,
	.get_port_immutable = testdev_get_port_immutable,
	.query_gid = testdev_query_gid,
	.query_pkey = testdev_query_pkey,
	.alloc_ucontext = testdev_alloc_ucontext,
	.dealloc_ucontext = testdev_dealloc_ucontext,
	.disassociate_ucontext = testdev_disassociate_ucontext,

	INIT_RDMA_OBJ_SIZE(ib_ucontext, testdev_ucontext, ibuc),
};

static int testdev_add(unsigned int n)
{
	struct testdev *td;
	int err;

	td = ib_alloc_device(testdev, ibdev);
	if (!td)
		return -ENOMEM;
	td->ibdev.node_type = RDMA_NODE_IB_CA;
	td->ibdev.phys_port_cnt = 1;
	td->ibdev.num_comp_vectors = 1;
	td->ibdev.node_guid = cpu_to_be64(TESTDEV_GUID_BASE + n);
	strscpy(td->ibdev.node_desc, "crdma test device (tests/vm only)",
		sizeof(td->ibdev.node_desc));
	ib_set_device_ops(&td->ibdev, &testdev_ops);
	/* "%d": ib_core picks the lowest free number; NULL: no DMA device (no data path) */
	err = ib_register_device(&td->ibdev, "crdmatest%d", NULL);
	if (err) {
		ib_dealloc_device(&td->ibdev);
		return err;
	}
	testdevs[n] = td;
	return 0;
}

/* Works wherever the device is: ib_core unregisters it from any network namespace. */
static void testdev_remove(unsigned int n)
{
	if (!testdevs[n])
		return;
	ib_unregister_device(&testdevs[n]->ibdev);
	ib_dealloc_device(&testdevs[n]->ibdev);
	testdevs[n] = NULL;
}

static int __init testdev_init(void)
{
	unsigned int n;
	int err;

	if (devices < 1 || devices > TESTDEV_MAX) {
		pr_err("crdma_testdev: devices=%u: must be 1 to %d\n", devices, TESTDEV_MAX);
		return -EINVAL;
	}
	for (n = 0; n < devices; n++) {
		err = testdev_add(n);
		if (err) {
			pr_err("crdma_testdev: cannot register device %u: %d\n", n, err);
			while (n--)
				testdev_remove(n);
			return err;
		}
	}
	pr_info("crdma_testdev: %u test RDMA device(s) registered (tests only)\n", devices);
	return 0;
}

static void __exit testdev_exit(void)
{
	unsigned int n = TESTDEV_MAX;

	while (n--)
		testdev_remove(n);
}

module_init(testdev_init);
module_exit(testdev_exit);

MODULE_DESCRIPTION("crdma test-only RDMA devices that can move between network namespaces");
MODULE_LICENSE("GPL");
