/* crdma-vm-netns: libcrdma's RDMA network-namespace code on a real kernel (scenario 30-netns).
 *
 *   crdma-vm-netns move DEVICE NETNS_FILE [--undo]   crdma_netns_move (then crdma_netns_undo)
 *   crdma-vm-netns list NETNS_FILE                   the devices seen from inside NETNS_FILE
 *                                                    (a forked child joins it: the real
 *                                                    fork+setns transport)
 *   crdma-vm-netns return NETNS_FILE DEVICE...       crdma_netns_return (poststop)
 *
 * Prints "ok", a device list one per line ("INDEX NAME"), or the library's one-line error.
 * Exit: 0 done, 1 refused, 2 usage, 3 system error (as crdma-hook). Links the internal
 * library (private API). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "context.h"
#include "error.h"
#include "netlink.h"
#include "netns.h"

static int usage(void)
{
	fputs("usage: crdma-vm-netns move DEVICE NETNS_FILE [--undo]\n"
	      "       crdma-vm-netns list NETNS_FILE\n"
	      "       crdma-vm-netns return NETNS_FILE DEVICE...\n",
	      stderr);
	return 2;
}

static int failed(struct crdma_error *err)
{
	printf("error: %s\n", crdma_error_message(err));
	int st = crdma_error_kind(err) == CRDMA_ERROR_REFUSED ? 1 : 3;
	crdma_error_free(err);
	return st;
}

static int open_netns(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fprintf(stderr, "crdma-vm-netns: %s: %s\n", path, strerror(errno));
	return fd;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return usage();
	struct crdma_context *ctx = NULL;
	struct crdma_error *err = NULL;
	if (crdma_context_new(&ctx, &err) < 0)
		return failed(err);
	int st = 0;

	if (!strcmp(argv[1], "move") && (argc == 4 || (argc == 5 && !strcmp(argv[4], "--undo")))) {
		int fd = open_netns(argv[3]);
		if (fd < 0)
			return 3;
		struct crdma_netns_undo *undo = NULL;
		if (crdma_netns_move(ctx, argv[2], fd, &undo, &err) < 0) {
			st = failed(err);
		} else {
			printf("ok: moved\n");
			if (argc == 5) {
				if (crdma_netns_undo(ctx, undo, &err) < 0)
					st = failed(err);
				else
					printf("ok: moved back\n");
			}
		}
		crdma_netns_undo_free(undo);
		close(fd);
	} else if (!strcmp(argv[1], "list") && argc == 3) {
		int fd = open_netns(argv[2]);
		if (fd < 0)
			return 3;
		struct crdma_nl_device *devs = NULL;
		size_t n = 0;
		if (crdma_nl_devices_in_netns(ctx, fd, &devs, &n, &err) < 0) {
			st = failed(err);
		} else {
			printf("devices: %zu\n", n);
			for (size_t i = 0; i < n; i++)
				printf("%u %s\n", devs[i].index, devs[i].name);
		}
		free(devs);
		close(fd);
	} else if (!strcmp(argv[1], "return") && argc >= 4) {
		int fd = open_netns(argv[2]);
		if (fd < 0)
			return 3;
		if (crdma_netns_return(ctx, fd, (const char *const *) argv + 3, (size_t) (argc - 3),
				       &err) < 0)
			st = failed(err);
		else
			printf("ok: returned\n");
		close(fd);
	} else {
		st = usage();
	}
	crdma_context_free(ctx);
	return st;
}
