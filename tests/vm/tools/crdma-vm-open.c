/* crdma-vm-open: open an RDMA device N times (each open is one rdma cgroup hca_handle),
 * optionally allocate protection domains (hca_objects) on the first context, keep it all
 * open, and report how far it got:
 *
 *   opened=1 errno=11 (EAGAIN)
 *   pds=10 errno=0 (0)
 *
 * Usage: crdma-vm-open [-d DEVICE] [-n OPENS] [-p PDS] [--hold]
 *   --hold   after printing, keep everything open until SIGTERM or SIGINT
 * Exit: 0 every open/alloc succeeded, 1 one failed (see errno), 2 usage, 3 no such device.
 * Built by tests/vm/meson.build, or by tests/vm/run with cc when the build lacks it. */
#ifndef _GNU_SOURCE /* the project build defines it; tests/vm/run's cc does not */
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <infiniband/verbs.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static const char *errno_name(int e)
{
	const char *n = e ? strerrorname_np(e) : NULL;
	return n ? n : "0";
}

static int parse_count(const char *s, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 100000)
		return -1;
	*out = v;
	return 0;
}

static void usage(FILE *f)
{
	fputs("usage: crdma-vm-open [-d DEVICE] [-n OPENS] [-p PDS] [--hold]\n", f);
}

int main(int argc, char **argv)
{
	const char *devname = NULL;
	long nopen = 1, npd = 0, opened = 0, pds = 0;
	int hold = 0, open_err = 0, pd_err = 0, ndev = 0, i;
	struct ibv_device **list, *dev = NULL;
	struct ibv_context **ctx;
	struct ibv_pd **pd;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-d") && i + 1 < argc) {
			devname = argv[++i];
		} else if (!strcmp(argv[i], "-n") && i + 1 < argc) {
			if (parse_count(argv[++i], &nopen) || nopen < 1) {
				usage(stderr);
				return 2;
			}
		} else if (!strcmp(argv[i], "-p") && i + 1 < argc) {
			if (parse_count(argv[++i], &npd)) {
				usage(stderr);
				return 2;
			}
		} else if (!strcmp(argv[i], "--hold")) {
			hold = 1;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}

	list = ibv_get_device_list(&ndev);
	if (!list) {
		int e = errno;
		printf("no device list: errno=%d (%s)\n", e, errno_name(e));
		return 3;
	}
	for (i = 0; i < ndev; i++) {
		if (!devname || !strcmp(ibv_get_device_name(list[i]), devname)) {
			dev = list[i];
			break;
		}
	}
	if (!dev) {
		printf("device %s not found among %d device(s)\n", devname ? devname : "(any)", ndev);
		ibv_free_device_list(list);
		return 3;
	}

	ctx = calloc((size_t)nopen, sizeof(*ctx));
	pd = calloc((size_t)(npd ? npd : 1), sizeof(*pd));
	if (!ctx || !pd) {
		perror("calloc");
		return 3;
	}
	for (opened = 0; opened < nopen; opened++) {
		errno = 0;
		ctx[opened] = ibv_open_device(dev);
		if (!ctx[opened]) {
			open_err = errno ? errno : EIO;
			break;
		}
	}
	printf("device=%s opened=%ld errno=%d (%s)\n", ibv_get_device_name(dev), opened, open_err,
	       errno_name(open_err));
	if (npd && opened) {
		for (pds = 0; pds < npd; pds++) {
			errno = 0;
			pd[pds] = ibv_alloc_pd(ctx[0]);
			if (!pd[pds]) {
				pd_err = errno ? errno : EIO;
				break;
			}
		}
		printf("pds=%ld errno=%d (%s)\n", pds, pd_err, errno_name(pd_err));
	}
	fflush(stdout);

	if (hold) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		printf("holding\n");
		fflush(stdout);
		while (!stop)
			pause();
	}

	while (pds > 0)
		ibv_dealloc_pd(pd[--pds]);
	while (opened > 0)
		ibv_close_device(ctx[--opened]);
	free(pd);
	free(ctx);
	ibv_free_device_list(list);
	return open_err || pd_err ? 1 : 0;
}
