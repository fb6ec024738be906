/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /proc/<pid>/cgroup, the container's cgroup, +rdma and rdma.max on a fake
 * cgroup tree (plain files: what the library reads and writes). */
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
#include <unistd.h>
#include <cmocka.h>

#include "cgroup.h"
#include "container.h"
#include "context.h"
#include "error.h"
#include "fixture.h"

static char root[64];

static void put(const char *rel, const char *text)
{
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", root, rel);
        fixture_write_file(path, text);
}

static char *get(const char *rel)
{
        char path[256];
        static char buf[4096];
        snprintf(path, sizeof(path), "%s/%s", root, rel);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        fclose(f);
        return buf;
}

static struct crdma_context *ctx_for_root(void)
{
        struct crdma_context *ctx = NULL;
        assert_int_equal(crdma_context_new(&ctx, NULL), 0);
        assert_int_equal(crdma_context_set_root(ctx, CRDMA_ROOT_CGROUP, root, NULL), 0);
        return ctx;
}

static int setup(void **state)
{
        (void) state;
        fixture_tmpdir(root, sizeof(root), "cgroup");
        return 0;
}

static int teardown(void **state)
{
        (void) state;
        return fixture_rm_tree(root);
}

static void test_proc_cgroup_parse(void **state)
{
        (void) state;
        struct crdma_proc_cgroups pc;
        assert_int_equal(crdma_proc_cgroups_parse("0::/libpod_parent/libpod-abc\n", &pc), 0);
        assert_string_equal(pc.unified, "/libpod_parent/libpod-abc");
        assert_null(pc.devices);
        assert_null(pc.rdma);
        crdma_proc_cgroups_clear(&pc);

        assert_int_equal(crdma_proc_cgroups_parse("12:rdma:/docker/x\n11:cpu,cpuacct:/docker/x\n"
                                                  "5:devices:/docker/x\n1:name=systemd:/docker/x\n"
                                                  "0::/system.slice/docker.service\n", &pc), 0);
        assert_string_equal(pc.rdma, "/docker/x");
        assert_string_equal(pc.devices, "/docker/x");
        assert_string_equal(pc.unified, "/system.slice/docker.service");
        crdma_proc_cgroups_clear(&pc);

        const char *bad[] = { "0::relative\n", "garbage\n", "0:/x\n", "0::/a/../b\n", "0::/a/./b\n",
                              "5:devices:/..\n" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (crdma_proc_cgroups_parse(bad[i], &pc) != -EINVAL)
                        fail_msg("accepted %s", bad[i]);
        assert_int_equal(crdma_proc_cgroups_parse("0::/a/.hidden/b\n", &pc), 0);
        crdma_proc_cgroups_clear(&pc);
}

static void test_v2_target_and_rdma(void **state)
{
        (void) state;
        put("cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
        put("cgroup.subtree_control", "cpu memory pids\n");
        put("libpod_parent/cgroup.subtree_control", "rdma memory\n");
        put("libpod_parent/libpod-abc/cgroup.subtree_control", "");
        put("libpod_parent/libpod-abc/rdma.max", "rxe1 hca_handle=2 hca_object=max\n");
        struct crdma_context *ctx = ctx_for_root();

        struct crdma_proc_cgroups pc = { .unified = strdup("/libpod_parent/libpod-abc") };
        struct crdma_cgroup_target t;
        assert_int_equal(crdma_cgroup_target_init(ctx, &pc, &t, NULL), 0);
        assert_int_equal(t.mode, CRDMA_CGROUP_V2);
        assert_string_equal(t.path, "/libpod_parent/libpod-abc");
        assert_true(t.rdma_available);

        /* +rdma where missing (the root), not where present, not in the leaf. */
        assert_int_equal(crdma_cgroup_enable_rdma(ctx, t.path, NULL, NULL), 0);
        assert_string_equal(get("cgroup.subtree_control"), "+rdma"); /* a plain file: our write */
        assert_string_equal(get("libpod_parent/cgroup.subtree_control"), "rdma memory\n");
        assert_string_equal(get("libpod_parent/libpod-abc/cgroup.subtree_control"), "");

        /* rdma.max: one write per line; undo restores each device's line. */
        int fd = crdma_cgroup_open(ctx, "", t.path, NULL);
        assert_true(fd >= 0);
        const char *lines[] = { "rxe1 hca_handle=1 hca_object=10" };
        struct crdma_rdma_undo *undo = NULL;
        assert_int_equal(crdma_cgroup_rdma_max_set(ctx, fd, t.path, lines, 1, &undo, NULL), 0);
        assert_string_equal(get("libpod_parent/libpod-abc/rdma.max"), "rxe1 hca_handle=1 hca_object=10");
        assert_int_equal(crdma_cgroup_rdma_undo(undo, NULL), 0);
        assert_string_equal(get("libpod_parent/libpod-abc/rdma.max"), "rxe1 hca_handle=2 hca_object=max");
        crdma_cgroup_rdma_undo_free(undo);

        /* A device not in rdma.max goes back to max. */
        const char *other[] = { "rxe0 hca_handle=3 hca_object=4" };
        assert_int_equal(crdma_cgroup_rdma_max_set(ctx, fd, t.path, other, 1, &undo, NULL), 0);
        assert_int_equal(crdma_cgroup_rdma_undo(undo, NULL), 0);
        assert_string_equal(get("libpod_parent/libpod-abc/rdma.max"), "rxe0 hca_handle=max hca_object=max");
        crdma_cgroup_rdma_undo_free(undo);

        /* An SR-IOV host: rdma.max lists 150 devices, past a page. */
        char *big = malloc(150 * 48), *p = big;
        assert_non_null(big);
        for (int i = 0; i < 150; i++)
                p += sprintf(p, "mlx5_%d hca_handle=%s hca_object=max \n", i, i == 149 ? "7" : "max");
        put("libpod_parent/libpod-abc/rdma.max", big);
        assert_true(strlen(big) > 4096);
        free(big);
        const char *last[] = { "mlx5_149 hca_handle=2 hca_object=10" };
        assert_int_equal(crdma_cgroup_rdma_max_set(ctx, fd, t.path, last, 1, &undo, NULL), 0);
        assert_string_equal(get("libpod_parent/libpod-abc/rdma.max"), "mlx5_149 hca_handle=2 hca_object=10");
        assert_int_equal(crdma_cgroup_rdma_undo(undo, NULL), 0);
        assert_string_equal(get("libpod_parent/libpod-abc/rdma.max"), "mlx5_149 hca_handle=7 hca_object=max ");
        crdma_cgroup_rdma_undo_free(undo);
        close(fd);

        /* The root cgroup cannot carry rdma.max. */
        crdma_cgroup_target_clear(&t);
        free(pc.unified);
        pc.unified = strdup("/");
        struct crdma_error *err = NULL;
        assert_int_equal(crdma_cgroup_target_init(ctx, &pc, &t, &err), -EINVAL);
        assert_non_null(strstr(crdma_error_message(err), "root cgroup"));
        crdma_error_free(err);
        crdma_proc_cgroups_clear(&pc);

        /* No rdma controller in the kernel. */
        put("cgroup.controllers", "cpu memory pids\n");
        pc.unified = strdup("/libpod_parent/libpod-abc");
        assert_int_equal(crdma_cgroup_target_init(ctx, &pc, &t, NULL), 0);
        assert_false(t.rdma_available);
        crdma_cgroup_target_clear(&t);
        crdma_proc_cgroups_clear(&pc);
        crdma_context_free(ctx);
        teardown(NULL);
        setup(NULL);
}

static void test_v1_target(void **state)
{
        (void) state;
        put("devices/docker/x/devices.allow", "");
        put("rdma/docker/x/rdma.max", "");
        struct crdma_context *ctx = ctx_for_root();
        struct crdma_proc_cgroups pc = { .devices = strdup("/docker/x"), .rdma = strdup("/docker/x") };
        struct crdma_cgroup_target t;
        assert_int_equal(crdma_cgroup_target_init(ctx, &pc, &t, NULL), 0);
        assert_int_equal(t.mode, CRDMA_CGROUP_V1);
        assert_string_equal(t.path, "/docker/x");
        assert_string_equal(t.devices_path, "/docker/x");
        assert_true(t.rdma_available);
        crdma_cgroup_target_clear(&t);
        crdma_proc_cgroups_clear(&pc);

        /* A v1 host without the rdma hierarchy (this build machine's kind). */
        pc = (struct crdma_proc_cgroups){ .devices = strdup("/docker/x") };
        assert_int_equal(crdma_cgroup_target_init(ctx, &pc, &t, NULL), 0);
        assert_false(t.rdma_available);
        assert_null(t.path);
        crdma_cgroup_target_clear(&t);
        crdma_proc_cgroups_clear(&pc);

        struct crdma_error *err = NULL;
        assert_true(crdma_cgroup_open(ctx, "devices", "/docker/missing", &err) < 0);
        assert_non_null(strstr(crdma_error_message(err), "devices/docker/missing: cannot open"));
        crdma_error_free(err);
        crdma_context_free(ctx);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_proc_cgroup_parse),
                cmocka_unit_test(test_v2_target_and_rdma),
                cmocka_unit_test(test_v1_target),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
