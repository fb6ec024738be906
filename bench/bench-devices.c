/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Device discovery cost: scan a sysfs tree many times, print the figures.
 * Usage: bench-devices SYSFS_ROOT [RUNS] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <crdma.h>

static int cmp(const void *a, const void *b)
{
        double x = *(const double *) a, y = *(const double *) b;
        return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
        if (argc < 2) {
                fprintf(stderr, "usage: bench-devices SYSFS_ROOT [RUNS]\n");
                return 2;
        }
        int runs = argc > 2 ? atoi(argv[2]) : 200;
        if (runs < 1)
                runs = 1;
        struct crdma_error *err = NULL;
        struct crdma_context *ctx = NULL;
        /* A fake tree: the running kernel's netlink answers would not match it
         * (and would time the kernel, not the scan). */
        if (crdma_context_new(&ctx, &err) < 0 ||
            crdma_context_set_root(ctx, CRDMA_ROOT_SYSFS, argv[1], &err) < 0 ||
            crdma_context_set_netlink(ctx, false, &err) < 0) {
                fprintf(stderr, "bench-devices: %s\n", crdma_error_message(err));
                return 3;
        }
        double *ms = calloc((size_t) runs, sizeof(*ms));
        size_t devices = 0;
        for (int i = 0; i < runs; i++) {
                struct timespec a, b;
                struct crdma_device_list *list = NULL;
                clock_gettime(CLOCK_MONOTONIC, &a);
                if (crdma_devices_scan(ctx, &list, &err) < 0) {
                        fprintf(stderr, "bench-devices: %s\n", crdma_error_message(err));
                        return 3;
                }
                clock_gettime(CLOCK_MONOTONIC, &b);
                devices = crdma_device_list_count(list);
                crdma_device_list_free(list);
                ms[i] = (double) (b.tv_sec - a.tv_sec) * 1e3 + (double) (b.tv_nsec - a.tv_nsec) / 1e6;
        }
        qsort(ms, (size_t) runs, sizeof(*ms), cmp);
        double median = ms[runs / 2], p99 = ms[(runs * 99) / 100 < runs ? (runs * 99) / 100 : runs - 1];
        printf("%-8s %-6s %-10s %-10s %-10s\n", "DEVICES", "RUNS", "MEDIAN_MS", "P99_MS", "MIN_MS");
        printf("%-8zu %-6d %-10.3f %-10.3f %-10.3f\n", devices, runs, median, p99, ms[0]);
        printf("{\"bench\":\"devices-scan\",\"devices\":%zu,\"runs\":%d,\"median_ms\":%.3f,"
               "\"p99_ms\":%.3f,\"min_ms\":%.3f}\n",
               devices, runs, median, p99, ms[0]);
        free(ms);
        crdma_context_free(ctx);
        return 0;
}
