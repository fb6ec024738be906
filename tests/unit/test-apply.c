/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crdma_plan_apply's refusals that come before anything changes: what a
 * hook cannot do to a created container (capabilities, a memlock the runtime
 * would lower again).  The rest of apply is proven on real runtimes
 * (tests/integration, tests/vm). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cmocka.h>

#include "context.h"
#include "error.h"
#include "fixture.h"

struct fixture {
        struct crdma_context *ctx;
        struct crdma_device_list *devices;
        struct crdma_plan *plan;
        char proc[64];
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        assert_non_null(f);
        const char *kv[] = { "io.crdma.devices=rxe0", "io.crdma.raw=true", "io.crdma.memlock=1G",
                             NULL };
        /* An empty proc root: a check that passes reaches /proc and fails
         * there, so nothing on this machine is ever touched. */
        fixture_tmpdir(f->proc, sizeof(f->proc), "apply");
        f->ctx = fixture_context("rxe");
        assert_int_equal(crdma_context_set_root(f->ctx, CRDMA_ROOT_PROC, f->proc, NULL), 0);
        f->devices = fixture_scan(f->ctx);
        f->plan = fixture_plan_ok(f->ctx, f->devices, "{\"version\":1,\"allow\":{\"netRaw\":true}}",
                                  kv);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        crdma_plan_free(f->plan);
        crdma_device_list_free(f->devices);
        crdma_context_free(f->ctx);
        assert_int_equal(fixture_rm_tree(f->proc), 0);
        free(f);
        return 0;
}

static struct crdma_container *container(const char *const *caps, size_t n)
{
        struct crdma_container *c = NULL;
        assert_int_equal(crdma_container_new(getpid(), "/nonexistent-rootfs", &c, NULL), 0);
        if (caps)
                assert_int_equal(crdma_container_set_capabilities(c, caps, n, NULL), 0);
        return c;
}

static void expect(struct fixture *f, struct crdma_container *c, int errnum,
                   enum crdma_error_kind kind, const char *needle)
{
        struct crdma_error *err = NULL;
        assert_int_equal(crdma_plan_apply(f->ctx, f->plan, c, &err), -errnum);
        assert_int_equal(crdma_error_kind(err), kind);
        if (!strstr(crdma_error_message(err), needle))
                fail_msg("\"%s\" lacks \"%s\"", crdma_error_message(err), needle);
        crdma_error_free(err);
        crdma_container_free(c);
}

static void test_capability_refused(void **state)
{
        struct fixture *f = *state;
        const char *caps[] = { "CAP_KILL", "CAP_CHOWN" };
        expect(f, container(caps, 2), EPERM, CRDMA_ERROR_REFUSED,
               "capability CAP_NET_RAW: the plan grants it but the container is created without "
               "it, and a hook cannot add it");
}

static void test_capability_present_goes_on(void **state)
{
        struct fixture *f = *state;
        const char *caps[] = { "CAP_NET_RAW" };
        /* Past the checks: the (empty) proc root is the next thing read. */
        expect(f, container(caps, 1), ENOENT, CRDMA_ERROR_SYSTEM, ": cannot open the container's process");
        /* Capabilities unknown (no process.capabilities): not checked. */
        expect(f, container(NULL, 0), ENOENT, CRDMA_ERROR_SYSTEM, "cannot open the container's process");
}

static void test_config_memlock(void **state)
{
        struct fixture *f = *state;
        const char *caps[] = { "CAP_NET_RAW" };
        struct crdma_container *c = container(caps, 1);
        crdma_container_set_memlock(c, 65536, 65536);
        expect(f, c, EPERM, CRDMA_ERROR_REFUSED,
               "RLIMIT_MEMLOCK: the container's config sets it to 65536 bytes, which the runtime "
               "applies after this hook, so crdma cannot raise it to 1073741824 here");
        /* A config memlock at least the plan's is fine. */
        c = container(caps, 1);
        crdma_container_set_memlock(c, 1ULL << 30, CRDMA_UNLIMITED);
        expect(f, c, ENOENT, CRDMA_ERROR_SYSTEM, "cannot open the container's process");
}

/* A dev root whose infiniband/ holds `uverbs0` made by `make` (NULL: none). */
static void dev_root_with(struct fixture *f, char *dir, int (*make)(const char *))
{
        char path[128];
        fixture_tmpdir(dir, 64, "dev");
        snprintf(path, sizeof(path), "%s/infiniband", dir);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/infiniband/uverbs0", dir);
        if (make)
                assert_int_equal(make(path), 0);
        assert_int_equal(crdma_context_set_root(f->ctx, CRDMA_ROOT_DEV, dir, NULL), 0);
}

static void dev_root_remove(const char *dir)
{
        assert_int_equal(fixture_rm_tree(dir), 0);
}

static int make_file(const char *path)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
        return fd < 0 ? -1 : close(fd);
}

static int make_null(const char *path)
{
        return mknod(path, S_IFCHR | 0666, makedev(1, 3));
}

static int make_right(const char *path)
{
        return mknod(path, S_IFCHR | 0666, makedev(231, 192));
}

/* The host's node is checked against sysfs before anything is done. */
static void test_host_node_checked(void **state)
{
        struct fixture *f = *state;
        const char *caps[] = { "CAP_NET_RAW" };
        char dir[64];
        dev_root_with(f, dir, make_file);
        expect(f, container(caps, 1), ESTALE, CRDMA_ERROR_REFUSED,
               "/infiniband/uverbs0: the host's node is not a char device, 0:0 but sysfs gives the "
               "device 231:192; the host's /dev and /sys disagree");
        dev_root_remove(dir);
        /* No host node: made from sysfs's numbers; the next check is reached. */
        dev_root_with(f, dir, NULL);
        expect(f, container(caps, 1), ENOENT, CRDMA_ERROR_SYSTEM, "cannot open the container's process");
        dev_root_remove(dir);
}

static void test_host_node_numbers_checked(void **state)
{
        struct fixture *f = *state;
        if (geteuid() != 0)
                skip(); /* mknod */
        const char *caps[] = { "CAP_NET_RAW" };
        char dir[64];
        dev_root_with(f, dir, make_null);
        expect(f, container(caps, 1), ESTALE, CRDMA_ERROR_REFUSED,
               "/infiniband/uverbs0: the host's node is c 1:3 but sysfs gives the device 231:192");
        dev_root_remove(dir);
        dev_root_with(f, dir, make_right);
        expect(f, container(caps, 1), ENOENT, CRDMA_ERROR_SYSTEM, "cannot open the container's process");
        dev_root_remove(dir);
}

static void test_bad_container(void **state)
{
        (void) state;
        struct crdma_container *c = NULL;
        struct crdma_error *err = NULL;
        assert_int_equal(crdma_container_new(0, "/r", &c, &err), -EINVAL);
        crdma_error_free(err);
        err = NULL;
        assert_int_equal(crdma_container_new(1, "relative", &c, &err), -EINVAL);
        crdma_error_free(err);
        assert_null(c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_capability_refused),
                cmocka_unit_test(test_capability_present_goes_on),
                cmocka_unit_test(test_config_memlock),
                cmocka_unit_test_setup_teardown(test_host_node_checked, setup, teardown),
                cmocka_unit_test_setup_teardown(test_host_node_numbers_checked, setup, teardown),
                cmocka_unit_test(test_bad_container),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
