/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* request + devices + policy -> plan, asserted field by field. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "context.h"
#include "devices.h"
#include "error.h"
#include "fixture.h"
#include "plan.h"
#include "policy.h"
#include "request.h"

struct fixture {
        struct crdma_context *ctx;
        struct crdma_device_list *devices;
        char logged[1024];
};

static void capture_log(enum crdma_log_level level, const char *msg, void *data)
{
        struct fixture *f = data;
        snprintf(f->logged, sizeof(f->logged), "%d %s", level, msg);
}

static void load_tree(struct fixture *f, const char *dir)
{
        crdma_device_list_free(f->devices);
        crdma_context_free(f->ctx);
        f->ctx = fixture_context(dir);
        crdma_context_set_log(f->ctx, capture_log, f, CRDMA_LOG_WARNING);
        f->devices = fixture_scan(f->ctx);
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        load_tree(f, "mixed");
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        crdma_device_list_free(f->devices);
        crdma_context_free(f->ctx);
        free(f);
        return 0;
}

#define BUILTIN "{\"version\":1}"

/* Annotations as "key=value" strings, NULL-terminated. */
static int make_plan(struct fixture *f, const char *policy_json, const char *const *ann,
                     struct crdma_plan **out, struct crdma_error **err)
{
        return fixture_plan(f->ctx, f->devices, policy_json, ann, out, err);
}

static struct crdma_plan *plan_ok(struct fixture *f, const char *policy_json, const char *const *ann)
{
        struct crdma_plan *plan = NULL;
        struct crdma_error *err = NULL;
        if (make_plan(f, policy_json, ann, &plan, &err) < 0)
                fail_msg("refused: %s", crdma_error_message(err));
        return plan;
}

static void refused(struct fixture *f, const char *policy_json, const char *const *ann, int errnum,
                    const char *message)
{
        struct crdma_plan *plan = (void *) 0x1;
        struct crdma_error *err = NULL;
        int r = make_plan(f, policy_json, ann, &plan, &err);
        if (r >= 0)
                fail_msg("not refused: %s", ann[0]);
        assert_ptr_equal(plan, (void *) 0x1);
        assert_int_equal(r, -errnum);
        assert_int_equal(crdma_error_kind(err), CRDMA_ERROR_REFUSED);
        if (strcmp(crdma_error_message(err), message) != 0)
                fail_msg("got      \"%s\"\nexpected \"%s\"", crdma_error_message(err), message);
        crdma_error_free(err);
}

static void assert_node(const struct crdma_plan *plan, size_t i, const char *path, unsigned major,
                        unsigned minor, unsigned mode)
{
        const char *p, *access;
        char type, rtype;
        unsigned ma, mi, mo, rma, rmi;
        assert_int_equal(crdma_plan_node(plan, i, &p, &type, &ma, &mi, &mo), 0);
        assert_string_equal(p, path);
        assert_int_equal(type, 'c');
        assert_int_equal(ma, major);
        assert_int_equal(mi, minor);
        assert_int_equal(mo, mode);
        /* Each node has its allow rule, with the same numbers. */
        assert_int_equal(crdma_plan_cgroup_rule(plan, i, &rtype, &rma, &rmi, &access), 0);
        assert_int_equal(rtype, 'c');
        assert_int_equal(rma, major);
        assert_int_equal(rmi, minor);
        assert_string_equal(access, "rw");
}

static void test_one_device_defaults(void **state)
{
        struct fixture *f = *state;
        const char *ann[] = { "io.crdma.devices=rxe0", NULL };
        struct crdma_plan *plan = plan_ok(f, BUILTIN, ann);

        assert_int_equal(crdma_plan_device_count(plan), 1);
        assert_string_equal(crdma_plan_device_name(plan, 0), "rxe0");
        assert_int_equal(crdma_plan_node_count(plan), 2);
        assert_int_equal(crdma_plan_cgroup_rule_count(plan), 2);
        assert_node(plan, 0, "/dev/infiniband/uverbs5", 231, 197, 0666);
        assert_node(plan, 1, "/dev/infiniband/rdma_cm", 10, 124, 0666);
        assert_int_equal(crdma_plan_node(plan, 2, NULL, NULL, NULL, NULL, NULL), -ERANGE);

        uint64_t h, o;
        assert_int_equal(crdma_plan_rdma_limit(plan, 0, &h, &o), 0);
        assert_int_equal(h, 16);
        assert_int_equal(o, 65536);
        assert_string_equal(crdma_plan_rdma_max_line(plan, 0), "rxe0 hca_handle=16 hca_object=65536");
        assert_false(crdma_plan_rdma_best_effort(plan));
        assert_true(crdma_plan_memlock(plan) == CRDMA_UNLIMITED);
        assert_int_equal(crdma_plan_capability_count(plan), 0);
        assert_int_equal(crdma_plan_netns(plan), CRDMA_NETNS_SHARED);
        assert_false(crdma_plan_netns_switch_system(plan));

        /* The seccomp allow list, validated for this architecture. */
        const char *want[] = { "ioctl", "mmap", "munmap", "madvise", "mlock", "mlock2", "munlock",
                               "mlockall", "munlockall", "mbind", "set_mempolicy", "get_mempolicy",
                               "process_vm_readv", "process_vm_writev", "socket" };
        assert_int_equal(crdma_plan_syscall_count(plan), 15);
        for (size_t i = 0; i < 15; i++) {
                const char *name;
                long long arg0;
                assert_int_equal(crdma_plan_syscall(plan, i, &name, &arg0), 0);
                assert_string_equal(name, want[i]);
                assert_int_equal(arg0, strcmp(name, "socket") == 0 ? AF_NETLINK : -1);
        }
        crdma_plan_free(plan);
}

static void test_json(void **state)
{
        struct fixture *f = *state;
        const char *ann[] = { "io.crdma.devices=mlx5_1", "io.crdma.hca-handles=2",
                              "io.crdma.hca-objects=max", "io.crdma.memlock=1G",
                              "io.crdma.rdma-cm=false", "io.crdma.netns=exclusive", NULL };
        struct crdma_plan *plan = plan_ok(
                f, "{\"version\":1,\"limits\":{\"hcaObjects\":\"max\"},\"netnsMode\":\"exclusive\"}", ann);
        char *json = NULL;
        assert_int_equal(crdma_plan_to_json(plan, false, &json, NULL), 0);
        assert_string_equal(json,
                "{\"devices\":[{\"name\":\"mlx5_1\",\"index\":null,\"hcaHandles\":2,\"hcaObjects\":\"max\"}],"
                "\"deviceNodes\":[{\"path\":\"/dev/infiniband/uverbs1\",\"type\":\"c\",\"major\":231,"
                "\"minor\":193,\"mode\":\"0666\"}],"
                "\"deviceCgroupRules\":[{\"allow\":true,\"type\":\"c\",\"major\":231,\"minor\":193,"
                "\"access\":\"rw\"}],"
                "\"rdmaMax\":[\"mlx5_1 hca_handle=2 hca_object=max\"],\"rdmaLimits\":\"strict\","
                "\"rlimits\":[{\"type\":\"RLIMIT_MEMLOCK\",\"soft\":1073741824,\"hard\":1073741824}],"
                "\"capabilities\":[],"
                "\"seccompAllow\":[{\"name\":\"ioctl\"},{\"name\":\"mmap\"},{\"name\":\"munmap\"},"
                "{\"name\":\"madvise\"},{\"name\":\"mlock\"},{\"name\":\"mlock2\"},{\"name\":\"munlock\"},"
                "{\"name\":\"mlockall\"},{\"name\":\"munlockall\"},{\"name\":\"mbind\"},"
                "{\"name\":\"set_mempolicy\"},{\"name\":\"get_mempolicy\"},"
                "{\"name\":\"process_vm_readv\"},{\"name\":\"process_vm_writev\"},"
                "{\"name\":\"socket\",\"arg0\":16}],"
                "\"netns\":{\"mode\":\"exclusive\",\"systemMode\":\"switch-to-exclusive\","
                "\"move\":[\"mlx5_1\"]}}");
        assert_true(crdma_plan_netns_switch_system(plan));
        free(json);
        crdma_plan_free(plan);
}

static void test_all_follows_policy(void **state)
{
        struct fixture *f = *state;
        const char *ann[] = { "io.crdma.devices=all", NULL };
        struct crdma_plan *plan = plan_ok(f, BUILTIN, ann);
        const char *names[] = { "mlx5_0", "mlx5_1", "mlx5_2", "mlx5_3", "mlx5_4", "rxe0" };
        assert_int_equal(crdma_plan_device_count(plan), 6);
        for (size_t i = 0; i < 6; i++)
                assert_string_equal(crdma_plan_device_name(plan, i), names[i]);
        assert_int_equal(crdma_plan_node_count(plan), 7); /* 6 uverbs + rdma_cm */
        crdma_plan_free(plan);

        plan = plan_ok(f, "{\"version\":1,\"devices\":[\"rxe*\",\"mlx5_[23]\"]}", ann);
        assert_int_equal(crdma_plan_device_count(plan), 3);
        assert_string_equal(crdma_plan_device_name(plan, 0), "mlx5_2");
        assert_string_equal(crdma_plan_device_name(plan, 1), "mlx5_3");
        assert_string_equal(crdma_plan_device_name(plan, 2), "rxe0");
        crdma_plan_free(plan);

        refused(f, "{\"version\":1,\"devices\":[\"ib*\"]}", ann, ENODEV,
                "annotation io.crdma.devices=\"all\": no RDMA device on this host is allowed by "
                "policy.json (6 devices present; `crdma-hook devices` lists them)");
}

static void test_device_refusals(void **state)
{
        struct fixture *f = *state;
        const char *outside[] = { "io.crdma.devices=rxe0,mlx5_1", NULL };
        refused(f, "{\"version\":1,\"devices\":[\"rxe*\"]}", outside, EPERM,
                "annotation io.crdma.devices: device mlx5_1 is not allowed by policy.json; its "
                "\"devices\" patterns must match it");
        const char *absent[] = { "io.crdma.devices=mlx5_9", NULL };
        refused(f, BUILTIN, absent, ENODEV,
                "annotation io.crdma.devices: device mlx5_9: no such RDMA device on this host; "
                "`crdma-hook devices` lists them");
}

static void test_umad_and_issm(void **state)
{
        struct fixture *f = *state;
        const char *ann[] = { "io.crdma.devices=mlx5_0,rxe0", "io.crdma.umad=true", NULL };
        refused(f, BUILTIN, ann, EPERM,
                "annotation io.crdma.umad=\"true\": not allowed by policy.json; the administrator "
                "must set \"allow\": {\"umad\": true}");

        struct crdma_plan *plan = plan_ok(f, "{\"version\":1,\"allow\":{\"umad\":true}}", ann);
        assert_int_equal(crdma_plan_node_count(plan), 5);
        assert_node(plan, 0, "/dev/infiniband/uverbs0", 231, 192, 0666);
        assert_node(plan, 1, "/dev/infiniband/umad0", 231, 0, 0600);
        assert_node(plan, 2, "/dev/infiniband/uverbs5", 231, 197, 0666);
        assert_node(plan, 3, "/dev/infiniband/umad4", 231, 4, 0600);
        assert_node(plan, 4, "/dev/infiniband/rdma_cm", 10, 124, 0666);
        crdma_plan_free(plan);

        /* issm only with allow.issm, and only alongside umad. */
        plan = plan_ok(f, "{\"version\":1,\"allow\":{\"umad\":true,\"issm\":true}}", ann);
        assert_int_equal(crdma_plan_node_count(plan), 7);
        assert_node(plan, 1, "/dev/infiniband/umad0", 231, 0, 0600);
        assert_node(plan, 2, "/dev/infiniband/issm0", 231, 64, 0600);
        assert_node(plan, 5, "/dev/infiniband/issm4", 231, 68, 0600);
        crdma_plan_free(plan);
        const char *no_umad[] = { "io.crdma.devices=rxe0", NULL };
        plan = plan_ok(f, "{\"version\":1,\"allow\":{\"umad\":true,\"issm\":true}}", no_umad);
        assert_int_equal(crdma_plan_node_count(plan), 2);
        crdma_plan_free(plan);

        const char *on_4[] = { "io.crdma.devices=mlx5_4", "io.crdma.umad=true", NULL };
        refused(f, "{\"version\":1,\"allow\":{\"umad\":true}}", on_4, ENODEV,
                "annotation io.crdma.umad=\"true\": device mlx5_4 has no umad char device; load "
                "ib_umad or drop the annotation");
}

static void test_capabilities(void **state)
{
        struct fixture *f = *state;
        const char *raw[] = { "io.crdma.devices=mlx5_1", "io.crdma.raw=true", NULL };
        refused(f, BUILTIN, raw, EPERM,
                "annotation io.crdma.raw=\"true\": not allowed by policy.json; the administrator "
                "must set \"allow\": {\"netRaw\": true}");
        struct crdma_plan *plan = plan_ok(f, "{\"version\":1,\"allow\":{\"netRaw\":true,\"ipcLock\":true}}", raw);
        assert_int_equal(crdma_plan_capability_count(plan), 2);
        assert_string_equal(crdma_plan_capability(plan, 0), "CAP_NET_RAW");
        assert_string_equal(crdma_plan_capability(plan, 1), "CAP_IPC_LOCK");
        assert_null(crdma_plan_capability(plan, 2));
        crdma_plan_free(plan);
        const char *plain[] = { "io.crdma.devices=mlx5_1", NULL };
        plan = plan_ok(f, "{\"version\":1,\"allow\":{\"netRaw\":true}}", plain);
        assert_int_equal(crdma_plan_capability_count(plan), 0); /* allowed is not granted */
        crdma_plan_free(plan);
}

static void test_exclusive(void **state)
{
        struct fixture *f = *state;
        const char *ann[] = { "io.crdma.devices=mlx5_2", "io.crdma.netns=exclusive", NULL };
        refused(f, "{\"version\":1,\"allow\":{\"exclusive\":false}}", ann, EPERM,
                "annotation io.crdma.netns=\"exclusive\": not allowed by policy.json; the "
                "administrator must set \"allow\": {\"exclusive\": true}");
        struct crdma_plan *plan = plan_ok(f, BUILTIN, ann);
        assert_int_equal(crdma_plan_netns(plan), CRDMA_NETNS_EXCLUSIVE);
        assert_false(crdma_plan_netns_switch_system(plan)); /* netnsMode keep */
        crdma_plan_free(plan);
}

static void test_limits(void **state)
{
        struct fixture *f = *state;
        const char *over[] = { "io.crdma.devices=rxe0", "io.crdma.hca-handles=65", NULL };
        refused(f, BUILTIN, over, EPERM,
                "annotation io.crdma.hca-handles=\"65\": above the limit 64 of policy.json "
                "(limits.hcaHandles); ask for at most 64");
        const char *max[] = { "io.crdma.devices=rxe0", "io.crdma.hca-objects=max", NULL };
        refused(f, BUILTIN, max, EPERM,
                "annotation io.crdma.hca-objects=\"max\": above the limit 1048576 of policy.json "
                "(limits.hcaObjects); ask for at most 1048576");
        const char *mem[] = { "io.crdma.devices=rxe0", "io.crdma.memlock=2G", NULL };
        refused(f, "{\"version\":1,\"limits\":{\"memlock\":\"1G\"}}", mem, EPERM,
                "annotation io.crdma.memlock=\"2G\": above the limit 1G of policy.json "
                "(limits.memlock); ask for at most 1G");

        const char *at[] = { "io.crdma.devices=rxe0,mlx5_0", "io.crdma.hca-handles=64",
                             "io.crdma.memlock=1G", NULL };
        struct crdma_plan *plan = plan_ok(f, "{\"version\":1,\"limits\":{\"memlock\":\"1G\"}}", at);
        assert_string_equal(crdma_plan_rdma_max_line(plan, 0), "rxe0 hca_handle=64 hca_object=65536");
        assert_string_equal(crdma_plan_rdma_max_line(plan, 1), "mlx5_0 hca_handle=64 hca_object=65536");
        assert_null(crdma_plan_rdma_max_line(plan, 2));
        assert_true(crdma_plan_memlock(plan) == 1ULL << 30);
        crdma_plan_free(plan);

        /* The policy's default memlock applies when the request says nothing. */
        const char *none[] = { "io.crdma.devices=rxe0", NULL };
        plan = plan_ok(f, "{\"version\":1,\"defaults\":{\"memlock\":\"64M\",\"hcaHandles\":\"max\"},"
                          "\"limits\":{\"hcaHandles\":\"max\",\"enforce\":\"best-effort\"}}", none);
        assert_true(crdma_plan_memlock(plan) == 64ULL << 20);
        assert_string_equal(crdma_plan_rdma_max_line(plan, 0), "rxe0 hca_handle=max hca_object=65536");
        assert_true(crdma_plan_rdma_best_effort(plan));
        crdma_plan_free(plan);
}

/* A copy of a shipped tree with some files removed. */
static void tree_without(char *dir, size_t len, const char *preset, const char *const *remove)
{
        fixture_tmpdir(dir, len, "plan");
        assert_int_equal(fixture_copy_tree(fixture_sysfs(preset), dir), 0);
        for (; *remove; remove++) {
                char path[512];
                snprintf(path, sizeof(path), "%s/%s", dir, *remove);
                assert_int_equal(fixture_rm_tree(path), 0);
        }
}

static void remove_tree(const char *dir)
{
        assert_int_equal(fixture_rm_tree(dir), 0);
}

static void test_rdma_cm_missing(void **state)
{
        struct fixture *f = *state;
        char dir[64];
        const char *rm[] = { "class/misc", NULL };
        tree_without(dir, sizeof(dir), "rxe", rm);
        load_tree(f, dir);

        const char *defaulted[] = { "io.crdma.devices=rxe1", NULL };
        struct crdma_plan *plan = plan_ok(f, BUILTIN, defaulted);
        assert_int_equal(crdma_plan_node_count(plan), 1);
        assert_node(plan, 0, "/dev/infiniband/uverbs1", 231, 193, 0666);
        assert_string_equal(f->logged, "4 no rdma_cm on this host (rdma_ucm not loaded): the container "
                                       "gets verbs without the RDMA connection manager");
        crdma_plan_free(plan);

        const char *asked[] = { "io.crdma.devices=rxe1", "io.crdma.rdma-cm=true", NULL };
        refused(f, BUILTIN, asked, ENODEV,
                "annotation io.crdma.rdma-cm=\"true\": this host has no rdma_cm "
                "(class/misc/rdma_cm); load rdma_ucm");
        const char *declined[] = { "io.crdma.devices=rxe1", "io.crdma.rdma-cm=false", NULL };
        f->logged[0] = '\0';
        plan = plan_ok(f, BUILTIN, declined);
        assert_string_equal(f->logged, "");
        crdma_plan_free(plan);
        remove_tree(dir);
        load_tree(f, "mixed");
}

static void test_no_uverbs(void **state)
{
        struct fixture *f = *state;
        char dir[64];
        const char *rm[] = { "class/infiniband_verbs/uverbs1", NULL };
        tree_without(dir, sizeof(dir), "rxe", rm);
        load_tree(f, dir);
        const char *ann[] = { "io.crdma.devices=rxe1", NULL };
        refused(f, BUILTIN, ann, ENODEV,
                "device rxe1: has no uverbs char device in class/infiniband_verbs; load ib_uverbs");
        remove_tree(dir);
        load_tree(f, "mixed");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_one_device_defaults),
                cmocka_unit_test(test_json),
                cmocka_unit_test(test_all_follows_policy),
                cmocka_unit_test(test_device_refusals),
                cmocka_unit_test(test_umad_and_issm),
                cmocka_unit_test(test_capabilities),
                cmocka_unit_test(test_exclusive),
                cmocka_unit_test(test_limits),
                cmocka_unit_test(test_rdma_cm_missing),
                cmocka_unit_test(test_no_uverbs),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
