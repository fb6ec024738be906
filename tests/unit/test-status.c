/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crdma_status_scan on fake cgroup, sysfs and proc trees: which cgroups are
 * rows, what the admin reads in each (usage against limit, the container and
 * engine, where the device's network namespace is), and the failures that
 * name the file to fix.  Plus the path rules of cgroup-owner.c on their own. */
#include <errno.h>
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

#include "cgroup-owner.h"
#include "cleanup.h"
#include "context.h"
#include "error.h"
#include "fixture.h"
#include "nl-replay.h"

#define HEX_A "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"
#define HEX_B "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
#define HEX_C "1111111111111111111111111111111111111111111111111111111111111111"
#define HEX_D "2222222222222222222222222222222222222222222222222222222222222222"
#define ALL_MAX "rxe0 hca_handle=max hca_object=max\nrxe1 hca_handle=max hca_object=max\n" \
                "mlx5_3 hca_handle=max hca_object=max\n"

static char root[64];

static void put(const char *rel, const char *text)
{
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", root, rel);
        fixture_write_file(path, text);
}

static void link_netns(const char *pid, const char *target)
{
        char dir[256], path[300];
        snprintf(dir, sizeof(dir), "%s/proc/%s/ns/x", root, pid);
        fixture_write_file(dir, "");
        unlink(dir);
        snprintf(path, sizeof(path), "%s/proc/%s/ns/net", root, pid);
        assert_int_equal(symlink(target, path), 0);
}

/* A cgroup with rdma.max `max`, rdma.current `current` (NULL: none, as when
 * it is removed between the two reads) and cgroup.procs `procs`. */
static void cgroup(const char *rel, const char *max, const char *current, const char *procs)
{
        char p[512];
        snprintf(p, sizeof(p), "cgroup/%s/rdma.max", rel);
        put(p, max);
        if (current) {
                snprintf(p, sizeof(p), "cgroup/%s/rdma.current", rel);
                put(p, current);
        }
        snprintf(p, sizeof(p), "cgroup/%s/cgroup.procs", rel);
        put(p, procs);
}

static struct crdma_context *context(void)
{
        struct crdma_context *ctx = NULL;
        char path[128];
        assert_int_equal(crdma_context_new(&ctx, NULL), 0);
        assert_int_equal(crdma_context_set_netlink(ctx, false, NULL), 0);
        snprintf(path, sizeof(path), "%s/cgroup", root);
        assert_int_equal(crdma_context_set_root(ctx, CRDMA_ROOT_CGROUP, path, NULL), 0);
        snprintf(path, sizeof(path), "%s/sys", root);
        assert_int_equal(crdma_context_set_root(ctx, CRDMA_ROOT_SYSFS, path, NULL), 0);
        snprintf(path, sizeof(path), "%s/proc", root);
        assert_int_equal(crdma_context_set_root(ctx, CRDMA_ROOT_PROC, path, NULL), 0);
        return ctx;
}

/* The host: rxe0 and rxe1 in its network namespace, mlx5_3 registered
 * (rdma.max lists it) but moved into a container's namespace. */
static int setup(void **state)
{
        (void) state;
        fixture_tmpdir(root, sizeof(root), "status");
        put("sys/class/infiniband/rxe0/node_type", "1: CA\n");
        put("sys/class/infiniband/rxe1/node_type", "1: CA\n");
        link_netns("1", "net:[4026531840]");
        link_netns("4242", "net:[4026532901]");
        link_netns("5151", "net:[4026532902]");
        put("cgroup/cgroup.controllers", "cpuset cpu io memory pids rdma\n");
        put("cgroup/cgroup.subtree_control", "memory pids rdma\n");
        put("cgroup/cgroup.procs", "1\n");
        return 0;
}

static int teardown(void **state)
{
        (void) state;
        return fixture_rm_tree(root);
}

static struct crdma_status *scan_ok(struct crdma_context *ctx)
{
        struct crdma_status *status = NULL;
        struct crdma_error *err = NULL;
        int r = crdma_status_scan(ctx, &status, &err);
        if (r < 0)
                fail_msg("crdma_status_scan: %s", crdma_error_message(err));
        assert_non_null(status);
        return status;
}

static size_t find_row(const struct crdma_status *s, const char *cgroup, const char *device)
{
        for (size_t i = 0; i < crdma_status_count(s); i++)
                if (strcmp(crdma_status_row_cgroup(s, i), cgroup) == 0 &&
                    strcmp(crdma_status_row_device(s, i), device) == 0)
                        return i;
        fail_msg("no row for cgroup %s device %s", cgroup, device);
        return SIZE_MAX;
}

static void assert_usage(int (*get)(const struct crdma_status *, size_t, uint64_t *, uint64_t *),
                         const struct crdma_status *s, size_t i, uint64_t used, uint64_t limit)
{
        uint64_t u = 42, l = 42;
        assert_int_equal(get(s, i, &u, &l), 0);
        assert_int_equal(u, used);
        assert_int_equal(l, limit);
}

static void assert_owner(const struct crdma_status *s, size_t i, const char *container,
                         const char *engine)
{
        if (container)
                assert_string_equal(crdma_status_row_container(s, i), container);
        else
                assert_null(crdma_status_row_container(s, i));
        if (engine)
                assert_string_equal(crdma_status_row_engine(s, i), engine);
        else
                assert_null(crdma_status_row_engine(s, i));
}

/* One cgroup of each engine's layout, with a limit on one device. */
static void test_rows_per_engine(void **state)
{
        (void) state;
        cgroup("system.slice", ALL_MAX, "", "");
        cgroup("system.slice/runc-web.scope",
               "rxe0 hca_handle=4 hca_object=100\nrxe1 hca_handle=max hca_object=max\n"
               "mlx5_3 hca_handle=max hca_object=max\n",
               "rxe0 hca_handle=1 hca_object=7\n", "4242\n4243\n");
        cgroup("machine.slice/libpod-" HEX_A ".scope", ALL_MAX, "", "");
        cgroup("machine.slice/libpod-" HEX_A ".scope/container",
               "rxe0 hca_handle=max hca_object=max\nrxe1 hca_handle=2 hca_object=max\n", "", "");
        cgroup("docker/" HEX_B, "rxe0 hca_handle=max hca_object=50\n",
               "rxe0 hca_handle=3 hca_object=50\n", "5151\n");
        cgroup("k8s.io/" HEX_C, "rxe1 hca_handle=16 hca_object=65536\n",
               "rxe1 hca_handle=0 hca_object=0\n", "");
        cgroup("system.slice/slurmstepd.scope/job_12/step_0",
               "rxe0 hca_handle=8 hca_object=max\n", "rxe0 hca_handle=8 hca_object=1\n", "");
        cgroup("system.slice/slurmstepd.scope/job_12/step_batch",
               "rxe0 hca_handle=1 hca_object=max\n", "", "");

        struct crdma_context *ctx = context();
        struct crdma_status *s = scan_ok(ctx);
        /* Every limited (cgroup, device) and nothing else: the all-max
         * cgroups and the devices left at max are not rows. */
        assert_int_equal(crdma_status_count(s), 6);

        size_t i = find_row(s, "system.slice/runc-web.scope", "rxe0");
        assert_owner(s, i, "web", "runc");
        assert_usage(crdma_status_row_hca_handles, s, i, 1, 4);
        assert_usage(crdma_status_row_hca_objects, s, i, 7, 100);
        assert_true(crdma_status_row_device_in_host_netns(s, i));
        assert_string_equal(crdma_status_row_netns(s, i), "net:[4026532901]");

        /* crun's "container" subgroup names its scope's container; nothing
         * charged yet is 0 used. */
        i = find_row(s, "machine.slice/libpod-" HEX_A ".scope/container", "rxe1");
        assert_owner(s, i, HEX_A, "podman");
        assert_usage(crdma_status_row_hca_handles, s, i, 0, 2);
        assert_usage(crdma_status_row_hca_objects, s, i, 0, CRDMA_UNLIMITED);
        assert_null(crdma_status_row_netns(s, i)); /* no process in it */

        i = find_row(s, "docker/" HEX_B, "rxe0");
        assert_owner(s, i, HEX_B, "docker");
        assert_usage(crdma_status_row_hca_handles, s, i, 3, CRDMA_UNLIMITED);
        assert_usage(crdma_status_row_hca_objects, s, i, 50, 50);
        assert_string_equal(crdma_status_row_netns(s, i), "net:[4026532902]");

        i = find_row(s, "k8s.io/" HEX_C, "rxe1");
        assert_owner(s, i, HEX_C, "containerd");

        i = find_row(s, "system.slice/slurmstepd.scope/job_12/step_0", "rxe0");
        assert_owner(s, i, "job 12 step 0", "slurm");
        assert_usage(crdma_status_row_hca_handles, s, i, 8, 8);
        i = find_row(s, "system.slice/slurmstepd.scope/job_12/step_batch", "rxe0");
        assert_owner(s, i, "job 12 step batch", "slurm");

        /* The tree's order: parents first, names sorted. */
        assert_string_equal(crdma_status_row_cgroup(s, 0), "docker/" HEX_B);
        assert_string_equal(crdma_status_row_cgroup(s, 5),
                            "system.slice/slurmstepd.scope/job_12/step_batch");

        assert_string_equal(crdma_status_host_netns(s), "net:[4026531840]");
        enum crdma_netns mode;
        assert_int_equal(crdma_status_netns_mode(s, &mode), -ENODATA); /* netlink off */

        /* Past the last row. */
        uint64_t u, l;
        assert_int_equal(crdma_status_row_hca_handles(s, 6, &u, &l), -ERANGE);
        assert_null(crdma_status_row_cgroup(s, 6));
        crdma_status_free(s);
        crdma_context_free(ctx);
}

/* A cgroup no documented layout names: shown by its path, no id guessed. */
static void test_unnamed_cgroups(void **state)
{
        (void) state;
        cgroup("crdma-vm/web", "rxe0 hca_handle=2 hca_object=max\n", "", "");
        cgroup("machine.slice/libpod-conmon-" HEX_A ".scope", "rxe0 hca_handle=2 hca_object=max\n",
               "", "");
        cgroup("kubepods/burstable/pod1234/" HEX_D, "rxe0 hca_handle=2 hca_object=max\n", "", "");
        struct crdma_context *ctx = context();
        struct crdma_status *s = scan_ok(ctx);
        assert_int_equal(crdma_status_count(s), 3);
        assert_owner(s, find_row(s, "crdma-vm/web", "rxe0"), NULL, NULL);
        assert_owner(s, find_row(s, "machine.slice/libpod-conmon-" HEX_A ".scope", "rxe0"), NULL,
                     NULL);
        /* The id is certain, the engine (containerd, CRI-O, cri-dockerd) is not. */
        assert_owner(s, find_row(s, "kubepods/burstable/pod1234/" HEX_D, "rxe0"), HEX_D, NULL);
        crdma_status_free(s);
        crdma_context_free(ctx);
}

/* Exclusive mode: mlx5_3 is in rdma.max but not in the host's class/infiniband. */
static void test_device_in_other_netns(void **state)
{
        (void) state;
        cgroup("system.slice/docker-" HEX_B ".scope",
               "rxe0 hca_handle=max hca_object=max\nmlx5_3 hca_handle=4 hca_object=1000\n",
               "mlx5_3 hca_handle=2 hca_object=20\n", "5151\n");
        struct nl_replay_pair p = { 0 };
        nl_replay_netns_mode(&p.sys, 0);
        nl_replay_error(&p.sys, 0, NULL);
        struct crdma_context *ctx = context();
        crdma_context_set_netlink_ops(ctx, &nl_replay_ops, &p);
        struct crdma_status *s = scan_ok(ctx);
        assert_int_equal(crdma_status_count(s), 1);
        assert_string_equal(crdma_status_row_device(s, 0), "mlx5_3");
        assert_false(crdma_status_row_device_in_host_netns(s, 0));
        /* The namespace to match it against: the container's process's. */
        assert_string_equal(crdma_status_row_netns(s, 0), "net:[4026532902]");
        assert_usage(crdma_status_row_hca_handles, s, 0, 2, 4);
        enum crdma_netns mode;
        assert_int_equal(crdma_status_netns_mode(s, &mode), 0);
        assert_int_equal(mode, CRDMA_NETNS_EXCLUSIVE);

        char *json = NULL;
        assert_int_equal(crdma_status_to_json(s, false, &json, NULL), 0);
        assert_non_null(strstr(json, "\"netnsMode\":\"exclusive\""));
        assert_non_null(strstr(json, "\"hostNetns\":\"net:[4026531840]\""));
        assert_non_null(strstr(json, "\"container\":\"" HEX_B "\",\"engine\":\"docker\","
                                     "\"device\":\"mlx5_3\",\"hcaHandles\":{\"used\":2,\"limit\":4},"
                                     "\"hcaObjects\":{\"used\":20,\"limit\":1000},"
                                     "\"deviceInHostNetns\":false,\"netns\":\"net:[4026532902]\""));
        free(json);
        crdma_status_free(s);
        crdma_context_free(ctx);
}

/* A cgroup removed while the walk reads it: its rdma.max read, its
 * rdma.current gone.  It is skipped and the scan goes on. */
static void test_vanished_cgroup(void **state)
{
        (void) state;
        cgroup("a-gone", "rxe0 hca_handle=2 hca_object=max\n", NULL, "");
        cgroup("b-here", "rxe0 hca_handle=3 hca_object=max\n", "", "");
        /* A name that is no directory and cannot be followed (cgroupfs has
         * no symlinks): not a cgroup. */
        char link[256];
        snprintf(link, sizeof(link), "%s/cgroup/c-link", root);
        assert_int_equal(symlink("b-here", link), 0);
        struct crdma_context *ctx = context();
        struct crdma_status *s = scan_ok(ctx);
        assert_int_equal(crdma_status_count(s), 1);
        assert_string_equal(crdma_status_row_cgroup(s, 0), "b-here");
        crdma_status_free(s);
        crdma_context_free(ctx);
}

/* Nothing limited anywhere: an empty status, and JSON with no rows. */
static void test_nothing_limited(void **state)
{
        (void) state;
        cgroup("system.slice", ALL_MAX, "rxe0 hca_handle=3 hca_object=9\n", "77\n");
        struct crdma_context *ctx = context();
        struct crdma_status *s = scan_ok(ctx);
        assert_int_equal(crdma_status_count(s), 0);
        char *json = NULL;
        assert_int_equal(crdma_status_to_json(s, false, &json, NULL), 0);
        assert_string_equal(json, "{\"netnsMode\":null,\"hostNetns\":\"net:[4026531840]\","
                                  "\"rdmaLimits\":[]}");
        free(json);
        crdma_status_free(s);
        crdma_context_free(ctx);
}

/* The scan fails with `errnum`, `kind` and exactly `expected`. */
static void expect_failure(const char *expected, int errnum, enum crdma_error_kind kind)
{
        struct crdma_context *ctx = context();
        struct crdma_status *s = NULL;
        struct crdma_error *err = NULL;
        assert_int_equal(crdma_status_scan(ctx, &s, &err), -errnum);
        assert_null(s);
        assert_non_null(err);
        assert_string_equal(crdma_error_message(err), expected);
        assert_int_equal(crdma_error_kind(err), kind);
        crdma_error_free(err);
        crdma_context_free(ctx);
}

/* `fmt` has one %s: the test tree's root. */
#define EXPECT_FAILURE(fmt, errnum, kind)                               \
        do {                                                            \
                char expected_[1024];                                   \
                snprintf(expected_, sizeof(expected_), fmt, root);      \
                expect_failure(expected_, errnum, kind);                \
        } while (0)

static void test_no_cgroup_v2(void **state)
{
        (void) state;
        char path[128];
        snprintf(path, sizeof(path), "%s/cgroup/cgroup.controllers", root);
        assert_int_equal(unlink(path), 0);
        put("cgroup/rdma/tasks", "");
        EXPECT_FAILURE("cgroup root %s/cgroup: not a cgroup v2 (unified) mount, it has no "
                       "cgroup.controllers; the RDMA status is read from cgroup v2's rdma.max: "
                       "give the cgroup2 mount (e.g. --cgroup-root /sys/fs/cgroup/unified on a "
                       "hybrid host), or boot with systemd.unified_cgroup_hierarchy=1",
                       ENOTSUP, CRDMA_ERROR_REFUSED);
}

static void test_no_rdma_controller(void **state)
{
        (void) state;
        put("cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
        EXPECT_FAILURE("%s/cgroup/cgroup.controllers: no rdma controller: the kernel is built "
                       "without CONFIG_CGROUP_RDMA, so no cgroup has RDMA limits to show",
                       ENOTSUP, CRDMA_ERROR_REFUSED);
}

static void test_malformed_rdma_max(void **state)
{
        (void) state;
        cgroup("system.slice/bad.scope", "rxe0 hca_handle=4 hca_object=100\nrxe1 hca_handle=-1\n",
               "", "");
        EXPECT_FAILURE("cgroup %s/cgroup/system.slice/bad.scope/rdma.max: line 2: not "
                       "\"<device> hca_handle=<n|max> hca_object=<n|max>\"",
                       EINVAL, CRDMA_ERROR_SYSTEM);
}

/* The path rules alone (cgroup-owner.c). */
static void test_owner_rules(void **state)
{
        (void) state;
        static const struct {
                const char *path, *engine, *id;
        } cases[] = {
                { "system.slice/runc-web.scope", "runc", "web" },
                { "system.slice/crun-db_1.scope", "crun", "db_1" },
                { "machine.slice/libpod-" HEX_A ".scope", "podman", HEX_A },
                { "libpod_parent/libpod-" HEX_A, "podman", HEX_A },
                { "user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" HEX_A ".scope",
                  "podman", HEX_A },
                { "system.slice/docker-" HEX_B ".scope", "docker", HEX_B },
                { "docker/" HEX_B, "docker", HEX_B },
                { "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod12.slice/"
                  "cri-containerd-" HEX_C ".scope", "containerd", HEX_C },
                { "default/" HEX_C, "containerd", HEX_C },
                { "kubepods.slice/kubepods-pod9.slice/crio-" HEX_D ".scope", "cri-o", HEX_D },
                { "kubepods/besteffort/pod9/crio-" HEX_D, "cri-o", HEX_D },
                { "system.slice/slurmstepd.scope/job_7/step_3", "slurm", "job 7 step 3" },
                { "system.slice/node1_slurmstepd.scope/job_7/step_extern", "slurm",
                  "job 7 step extern" },
                { "system.slice/slurmstepd.scope/job_7/step_interactive/user/task_0", "slurm",
                  "job 7 step interactive" },
                /* None of these names a container. */
                { "system.slice/slurmstepd.scope/job_7", NULL, NULL },
                { "system.slice/slurmstepd.scope/job_x/step_0", NULL, NULL },
                { "system.slice/slurmstepd.scope/job_7/step_foo", NULL, NULL },
                { "machine.slice/libpod-conmon-" HEX_A ".scope", NULL, NULL },
                { "kubepods.slice/crio-conmon-" HEX_D ".scope", NULL, NULL },
                { "system.slice/docker-abc.scope", NULL, NULL },
                { "system.slice/docker.service", NULL, NULL },
                { "system.slice/runc-.scope", NULL, NULL },
                { "crdma-vm/web", NULL, NULL },
                { "runc-web", NULL, NULL }, /* runc names scopes only through systemd */
                { "docker/" HEX_B "0", NULL, NULL },
                { "", NULL, NULL },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *engine = "unset";
                char *id = NULL;
                int r = crdma_cgroup_owner(cases[i].path, &engine, &id);
                if (cases[i].id) {
                        if (r != 1 || !id || strcmp(id, cases[i].id) != 0 ||
                            (engine == NULL) != (cases[i].engine == NULL) ||
                            (engine && strcmp(engine, cases[i].engine) != 0))
                                fail_msg("%s: got %d %s/%s, expected %s/%s", cases[i].path, r,
                                         engine ? engine : "(none)", id ? id : "(none)",
                                         cases[i].engine, cases[i].id);
                } else if (r != 0 || id || engine) {
                        fail_msg("%s: named %s/%s, expected nothing", cases[i].path,
                                 engine ? engine : "(none)", id ? id : "(none)");
                }
                free(id);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_rows_per_engine, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unnamed_cgroups, setup, teardown),
                cmocka_unit_test_setup_teardown(test_device_in_other_netns, setup, teardown),
                cmocka_unit_test_setup_teardown(test_vanished_cgroup, setup, teardown),
                cmocka_unit_test_setup_teardown(test_nothing_limited, setup, teardown),
                cmocka_unit_test_setup_teardown(test_no_cgroup_v2, setup, teardown),
                cmocka_unit_test_setup_teardown(test_no_rdma_controller, setup, teardown),
                cmocka_unit_test_setup_teardown(test_malformed_rdma_max, setup, teardown),
                cmocka_unit_test(test_owner_rules),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
