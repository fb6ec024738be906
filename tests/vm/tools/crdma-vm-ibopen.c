/* crdma-vm-ibopen: can this process use an RDMA device?  Opens its uverbs node directly
 * and through libibverbs (by name), and prints the errno of each:
 *
 *   node=/dev/infiniband/uverbs0 errno=1 (EPERM)
 *   ibv device=rxe0 listed=0 errno=19 (ENODEV)
 *
 * Usage: crdma-vm-ibopen [--node PATH] DEVICE
 * Exit: 0 every open succeeded, 1 one failed, 2 usage.
 * For scenario 30-netns: in exclusive RDMA netns mode a process outside the device's network
 * namespace gets EPERM from open(2) on the uverbs node (ib_uverbs_open) and does not see the
 * device in libibverbs' list. */
#ifndef _GNU_SOURCE /* the project build defines it; tests/vm/run's cc does not */
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <infiniband/verbs.h>

static const char *errno_name(int e)
{
	const char *n = e ? strerrorname_np(e) : NULL;
	return n ? n : "0";
}

int main(int argc, char **argv)
{
	const char *node = NULL, *name = NULL;
	int failed = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--node") && i + 1 < argc)
			node = argv[++i];
		else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else {
			fputs("usage: crdma-vm-ibopen [--node PATH] DEVICE\n", stderr);
			return 2;
		}
	}
	if (!name) {
		fputs("usage: crdma-vm-ibopen [--node PATH] DEVICE\n", stderr);
		return 2;
	}

	if (node) {
		int fd = open(node, O_RDWR | O_CLOEXEC);
		int e = fd < 0 ? errno : 0;
		printf("node=%s errno=%d (%s)\n", node, e, errno_name(e));
		if (fd >= 0)
			close(fd);
		failed |= fd < 0;
	}

	int n = 0, listed = 0, e = 0;
	struct ibv_device **list = ibv_get_device_list(&n);
	if (!list) {
		e = errno ? errno : EIO;
	} else {
		for (int i = 0; i < n; i++) {
			if (strcmp(ibv_get_device_name(list[i]), name) != 0)
				continue;
			listed = 1;
			errno = 0;
			struct ibv_context *ctx = ibv_open_device(list[i]);
			if (ctx)
				ibv_close_device(ctx);
			else
				e = errno ? errno : EIO;
			break;
		}
		if (!listed)
			e = ENODEV;
		ibv_free_device_list(list);
	}
	printf("ibv device=%s listed=%d errno=%d (%s)\n", name, listed, e, errno_name(e));
	failed |= e != 0;
	return failed ? 1 : 0;
}
