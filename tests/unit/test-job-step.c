/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The job-step path (CRDMA_0.4, what spank_crdma calls): a request from one
 * option's value, a process's cgroup from a fake /proc, and a plan applied
 * to a cgroup of a fake cgroup v2 tree (plain files). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <cmocka.h>

#include "crdma.h"
#include "fixture.h"
#include "request.h"

#define STEP "/system.slice/slurmstepd.scope/job_7/step_0"

struct fixture {
        char dir[64];
        struct crdma_context *ctx;
        struct crdma_device_list *devices;
};

static void put(struct fixture *f, const char *rel, const char *text)
{
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
        fixture_write_file(path, text);
}

static const char *get(struct fixture *f, const char *rel)
{
        static char buf[4096];
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
        FILE *fp = fopen(path, "r");
        if (!fp)
                return NULL;
        size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
        buf[n] = '\0';
        fclose(fp);
        return buf;
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        assert_non_null(f);
        fixture_tmpdir(f->dir, sizeof(f->dir), "job-step");
        f->ctx = fixture_context("rxe");
        f->devices = fixture_scan(f->ctx);
        put(f, "cgroup/cgroup.controllers", "cpuset cpu io memory pids rdma\n");
        put(f, "cgroup/cgroup.subtree_control", "cpu memory\n");
        put(f, "cgroup/system.slice/cgroup.subtree_control", "cpu memory\n");
        put(f, "cgroup/system.slice/slurmstepd.scope/cgroup.subtree_control", "cpu memory rdma\n");
        put(f, "cgroup/system.slice/slurmstepd.scope/job_7/cgroup.subtree_control", "cpu memory\n");
        put(f, "cgroup" STEP "/cgroup.subtree_control", "cpu memory\n");
        put(f, "cgroup" STEP "/rdma.max", "rxe0 hca_handle=max hca_object=max \n"
                                          "rxe1 hca_handle=max hca_object=max \n");
        char cg[128];
        snprintf(cg, sizeof(cg), "%s/cgroup", f->dir);
        assert_int_equal(crdma_context_set_root(f->ctx, CRDMA_ROOT_CGROUP, cg, NULL), 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        crdma_device_list_free(f->devices);
        crdma_context_free(f->ctx);
        assert_int_equal(fixture_rm_tree(f->dir), 0);
        free(f);
        return 0;
}

/* The option's value parsed, or its refusal's message. */
static struct crdma_request *option_ok(const char *spec)
{
        struct crdma_request *req = NULL;
        struct crdma_error *err = NULL;
        int r = crdma_request_from_option(spec, "--rdma", &req, &err);
        if (r < 0)
                fail_msg("%s: %s", spec, crdma_error_message(err));
        assert_non_null(req);
        return req;
}

static void option_refused(const char *spec, const char *message)
{
        struct crdma_request *req = NULL;
        struct crdma_error *err = NULL;
        assert_int_equal(crdma_request_from_option(spec, "--rdma", &req, &err), -EINVAL);
        assert_null(req);
        assert_non_null(err);
        if (!strstr(crdma_error_message(err), message))
                fail_msg("%s: \"%s\" has no \"%s\"", spec, crdma_error_message(err), message);
        crdma_error_free(err);
}

static void option_grammar(void **state)
{
        (void) state;
        struct crdma_request *req = option_ok("devices=mlx5_0,mlx5_1,hca-handles=4,memlock=1G");
        assert_int_equal(crdma_request_device_count(req), 2);
        assert_string_equal(crdma_request_device_name(req, 0), "mlx5_0");
        assert_string_equal(crdma_request_device_name(req, 1), "mlx5_1");
        assert_true(req->has_hca_handles);
        assert_int_equal(req->hca_handles, 4);
        assert_false(req->has_hca_objects);
        assert_int_equal(req->memlock, 1ull << 30);
        crdma_request_free(req);

        /* Keys in any order; the devices list may come last. */
        req = option_ok("hca-objects=max,rdma-cm=false,devices=rxe0,rxe1");
        assert_int_equal(crdma_request_device_count(req), 2);
        assert_false(req->rdma_cm);
        assert_int_equal(req->hca_objects, CRDMA_UNLIMITED);
        crdma_request_free(req);

        req = option_ok("devices=all");
        assert_true(crdma_request_all_devices(req));
        crdma_request_free(req);
}

static void option_refusals(void **state)
{
        (void) state;
        option_refused("", "--rdma: empty");
        option_refused("hca-handles=4", "--rdma devices: missing");
        option_refused("devices=rxe0,hca-handles=lots",
                       "--rdma hca-handles=\"lots\": must be an integer from 1 to 2147483647");
        option_refused("devices=rxe0,hca-handles=4,5", "--rdma \"5\": not key=value");
        option_refused("devices=rxe0,hca_handles=4", "--rdma hca_handles: unknown key");
        option_refused("devices=rxe0,io.crdma.hca-handles=4", "unknown key");
        option_refused("devices=rxe0,hca-handles=1,hca-handles=2", "--rdma hca-handles: given twice");
        option_refused("devices=rxe0,,hca-handles=1", "--rdma: has an empty item");
        option_refused("devices=rxe0,", "--rdma: has an empty item");
        option_refused("devices=rxe0,rxe0", "--rdma devices=\"rxe0,rxe0\": names rxe0 twice");
        option_refused("devices=all,rxe0", "cannot be combined");
        option_refused("devices=rxe0,memlock=-1", "--rdma memlock=\"-1\": must be bytes");
        option_refused("devices=rxe0,netns=private", "--rdma netns=\"private\"");
}

static void process_cgroup(void **state)
{
        struct fixture *f = *state;
        char proc[128];
        snprintf(proc, sizeof(proc), "%s/proc", f->dir);
        put(f, "proc/self/cgroup", "0::" STEP "/slurm\n");
        put(f, "proc/42/cgroup", "12:rdma:/x\n0::" STEP "/user/task_0\n");
        put(f, "proc/43/cgroup", "12:rdma:/x\n4:devices:/y\n");
        put(f, "proc/44/cgroup", "0::/a/../b\n");
        assert_int_equal(crdma_context_set_root(f->ctx, CRDMA_ROOT_PROC, proc, NULL), 0);

        char *path = NULL;
        assert_int_equal(crdma_process_cgroup(f->ctx, 0, &path, NULL), 0);
        assert_string_equal(path, STEP "/slurm");
        free(path);
        assert_int_equal(crdma_process_cgroup(f->ctx, 42, &path, NULL), 0);
        assert_string_equal(path, STEP "/user/task_0");
        free(path);

        struct crdma_error *err = NULL;
        assert_int_equal(crdma_process_cgroup(f->ctx, 43, &path, &err), -ENOENT);
        assert_non_null(strstr(crdma_error_message(err), "43/cgroup: the process is in no cgroup v2"));
        crdma_error_free(err);
        err = NULL;
        assert_true(crdma_process_cgroup(f->ctx, 44, &path, &err) < 0);
        assert_non_null(strstr(crdma_error_message(err), "44/cgroup: not a cgroup list"));
        crdma_error_free(err);
        err = NULL;
        assert_int_equal(crdma_process_cgroup(f->ctx, 45, &path, &err), -ENOENT);
        assert_non_null(strstr(crdma_error_message(err), "45/cgroup: cannot read it"));
        crdma_error_free(err);
}

static struct crdma_plan *plan_for(struct fixture *f, const char *policy, const char *spec)
{
        struct crdma_request *req = option_ok(spec);
        struct crdma_policy *pol = fixture_policy(policy);
        struct crdma_plan *plan = NULL;
        struct crdma_error *err = NULL;
        if (crdma_plan_new(f->ctx, req, f->devices, pol, &plan, &err) < 0)
                fail_msg("%s: %s", spec, crdma_error_message(err));
        crdma_policy_free(pol);
        crdma_request_free(req);
        return plan;
}

#define POLICY "{\"version\": 1, \"devices\": [\"rxe*\"]}"

/* The policy's refusals name the option, not an annotation. */
static void plan_refusal(struct fixture *f, const char *spec, const char *message)
{
        struct crdma_request *req = option_ok(spec);
        struct crdma_policy *pol = fixture_policy("{\"version\": 1, \"devices\": [\"rxe0\"], "
                                                  "\"defaults\": {\"hcaHandles\": 4}, "
                                                  "\"limits\": {\"hcaHandles\": 8}}");
        struct crdma_plan *plan = NULL;
        struct crdma_error *err = NULL;
        assert_true(crdma_plan_new(f->ctx, req, f->devices, pol, &plan, &err) < 0);
        assert_null(plan);
        if (!strstr(crdma_error_message(err), message))
                fail_msg("%s: \"%s\" has no \"%s\"", spec, crdma_error_message(err), message);
        crdma_error_free(err);
        crdma_policy_free(pol);
        crdma_request_free(req);
}

static void plan_refusals(void **state)
{
        struct fixture *f = *state;
        plan_refusal(f, "devices=rxe0,hca-handles=100",
                     "--rdma hca-handles=\"100\": above the limit 8 of");
        plan_refusal(f, "devices=rxe1", "--rdma devices: device rxe1 is not allowed by");
        plan_refusal(f, "devices=rxe0,umad=true", "--rdma umad=\"true\": not allowed by");
}

static void apply_rdma_max(void **state)
{
        struct fixture *f = *state;
        struct crdma_plan *plan = plan_for(f, POLICY, "devices=rxe0,hca-handles=1,hca-objects=20");
        assert_int_equal(crdma_plan_apply_cgroup(f->ctx, plan, STEP, CRDMA_CGROUP_APPLY_RDMA_MAX,
                                                 NULL), 0);
        assert_string_equal(get(f, "cgroup" STEP "/rdma.max"), "rxe0 hca_handle=1 hca_object=20");
        /* +rdma written where it was missing, from the root down; the step's own
         * subtree_control is not its ancestors' business. */
        assert_string_equal(get(f, "cgroup/cgroup.subtree_control"), "+rdma");
        assert_string_equal(get(f, "cgroup/system.slice/cgroup.subtree_control"), "+rdma");
        assert_string_equal(get(f, "cgroup/system.slice/slurmstepd.scope/cgroup.subtree_control"),
                            "cpu memory rdma\n");
        assert_string_equal(get(f, "cgroup/system.slice/slurmstepd.scope/job_7/cgroup.subtree_control"),
                            "+rdma");
        assert_string_equal(get(f, "cgroup" STEP "/cgroup.subtree_control"), "cpu memory\n");
        crdma_plan_free(plan);
}

static void apply_nothing_to_limit(void **state)
{
        struct fixture *f = *state;
        /* No limit asked, none by default: the cgroup is left as it was. */
        struct crdma_plan *plan = plan_for(f, "{\"version\": 1, \"devices\": [\"rxe*\"], "
                                              "\"defaults\": {\"hcaHandles\": \"max\", "
                                              "\"hcaObjects\": \"max\"}, \"limits\": {\"hcaHandles\": \"max\", "
                                              "\"hcaObjects\": \"max\"}}",
                                           "devices=rxe0");
        assert_int_equal(crdma_plan_apply_cgroup(f->ctx, plan, STEP, CRDMA_CGROUP_APPLY_RDMA_MAX,
                                                 NULL), 0);
        assert_string_equal(get(f, "cgroup/cgroup.subtree_control"), "cpu memory\n");
        assert_string_equal(get(f, "cgroup" STEP "/rdma.max"),
                            "rxe0 hca_handle=max hca_object=max \nrxe1 hca_handle=max hca_object=max \n");
        /* Nothing asked of the cgroup at all. */
        crdma_plan_free(plan);
        plan = plan_for(f, POLICY, "devices=rxe0,hca-handles=2");
        assert_int_equal(crdma_plan_apply_cgroup(f->ctx, plan, STEP, 0, NULL), 0);
        assert_string_equal(get(f, "cgroup/cgroup.subtree_control"), "cpu memory\n");
        crdma_plan_free(plan);
}

static void apply_refusals(void **state)
{
        struct fixture *f = *state;
        struct crdma_plan *plan = plan_for(f, POLICY, "devices=rxe0,hca-handles=1");
        struct crdma_error *err = NULL;

        assert_int_equal(crdma_plan_apply_cgroup(f->ctx, plan, STEP "/../../job_8",
                                                 CRDMA_CGROUP_APPLY_RDMA_MAX, &err), -EINVAL);
        assert_non_null(strstr(crdma_error_message(err), "not a cgroup below the root"));
        crdma_error_free(err);
        err = NULL;
        assert_int_equal(crdma_plan_apply_cgroup(f->ctx, plan, "/", CRDMA_CGROUP_APPLY_RDMA_MAX,
                                                 &err), -EINVAL);
        crdma_error_free(err);
        err = NULL;
        assert_int_equal(crdma_plan_apply_cgroup(f->ctx, plan, STEP, 1u << 5, &err), -EINVAL);
        crdma_error_free(err);
        err = NULL;

        /* A step whose cgroup vanished: named, nothing enabled is left behind. */
        assert_true(crdma_plan_apply_cgroup(f->ctx, plan, "/system.slice/gone",
                                            CRDMA_CGROUP_APPLY_RDMA_MAX, &err) < 0);
        assert_non_null(strstr(crdma_error_message(err), "system.slice/gone"));
        crdma_error_free(err);
        err = NULL;
        assert_string_equal(get(f, "cgroup/cgroup.subtree_control"), "cpu memory\n");

        /* No rdma controller: refused, or a warning under best-effort. */
        put(f, "cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
        assert_int_equal(crdma_plan_apply_cgroup(f->ctx, plan, STEP, CRDMA_CGROUP_APPLY_RDMA_MAX,
                                                 &err), -EOPNOTSUPP);
        assert_non_null(strstr(crdma_error_message(err), "no rdma controller"));
        assert_int_equal(crdma_error_kind(err), CRDMA_ERROR_REFUSED);
        crdma_error_free(err);
        err = NULL;
        crdma_plan_free(plan);
        plan = plan_for(f, "{\"version\": 1, \"devices\": [\"rxe*\"], "
                           "\"limits\": {\"enforce\": \"best-effort\"}}",
                        "devices=rxe0,hca-handles=1");
        assert_int_equal(crdma_plan_apply_cgroup(f->ctx, plan, STEP, CRDMA_CGROUP_APPLY_RDMA_MAX,
                                                 NULL), 0);
        assert_string_equal(get(f, "cgroup" STEP "/rdma.max"),
                            "rxe0 hca_handle=max hca_object=max \nrxe1 hca_handle=max hca_object=max \n");
        crdma_plan_free(plan);

        /* Not cgroup v2. */
        char cg[128];
        snprintf(cg, sizeof(cg), "%s/cgroup/cgroup.controllers", f->dir);
        assert_int_equal(unlink(cg), 0);
        plan = plan_for(f, POLICY, "devices=rxe0,hca-handles=1");
        assert_int_equal(crdma_plan_apply_cgroup(f->ctx, plan, STEP, CRDMA_CGROUP_APPLY_RDMA_MAX,
                                                 &err), -EOPNOTSUPP);
        assert_non_null(strstr(crdma_error_message(err), "not a cgroup v2 (unified) mount"));
        crdma_error_free(err);
        crdma_plan_free(plan);

        /* Exclusive mode needs a namespace of the container's own. */
        plan = plan_for(f, POLICY, "devices=rxe0,netns=exclusive");
        err = NULL;
        assert_int_equal(crdma_plan_apply_cgroup(f->ctx, plan, STEP, CRDMA_CGROUP_APPLY_RDMA_MAX,
                                                 &err), -EOPNOTSUPP);
        assert_non_null(strstr(crdma_error_message(err), "netns=exclusive"));
        crdma_error_free(err);
        crdma_plan_free(plan);
}

/* Devices gated: the device program is the last step, so where the kernel refuses it (here a
 * plain directory, no cgroup; or no privilege to load it) rdma.max is put back as it was. */
static void apply_devices_all_or_nothing(void **state)
{
        struct fixture *f = *state;
        struct crdma_plan *plan = plan_for(f, POLICY, "devices=rxe0,hca-handles=1");
        struct crdma_error *err = NULL;
        assert_true(crdma_plan_apply_cgroup(f->ctx, plan, STEP,
                                            CRDMA_CGROUP_APPLY_RDMA_MAX | CRDMA_CGROUP_APPLY_DEVICES,
                                            &err) < 0);
        assert_non_null(strstr(crdma_error_message(err), STEP));
        assert_non_null(strstr(crdma_error_message(err), "device program"));
        /* rxe0's line written back as it was (a real rdma.max merges lines; this file takes
         * the last write) */
        assert_string_equal(get(f, "cgroup" STEP "/rdma.max"), "rxe0 hca_handle=max hca_object=max ");
        crdma_error_free(err);
        crdma_plan_free(plan);
}

static void apply_memlock(void **state)
{
        struct fixture *f = *state;
        /* Raised for the caller, never lowered (this test's own process). */
        struct rlimit before;
        assert_int_equal(getrlimit(RLIMIT_MEMLOCK, &before), 0);
        struct crdma_plan *plan = plan_for(f, POLICY, "devices=rxe0,memlock=64K");
        assert_int_equal(crdma_plan_apply_memlock(f->ctx, plan, 0, NULL), 0);
        struct rlimit after;
        assert_int_equal(getrlimit(RLIMIT_MEMLOCK, &after), 0);
        assert_true(after.rlim_cur >= 65536 || after.rlim_cur == RLIM_INFINITY);
        if (before.rlim_cur >= 65536)
                assert_int_equal(after.rlim_cur, before.rlim_cur);
        crdma_plan_free(plan);

        struct crdma_error *err = NULL;
        plan = plan_for(f, POLICY, "devices=rxe0");
        assert_int_equal(crdma_plan_apply_memlock(f->ctx, plan, -1, &err), -EINVAL);
        crdma_error_free(err);
        crdma_plan_free(plan);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(option_grammar),
                cmocka_unit_test(option_refusals),
                cmocka_unit_test_setup_teardown(process_cgroup, setup, teardown),
                cmocka_unit_test_setup_teardown(plan_refusals, setup, teardown),
                cmocka_unit_test_setup_teardown(apply_rdma_max, setup, teardown),
                cmocka_unit_test_setup_teardown(apply_nothing_to_limit, setup, teardown),
                cmocka_unit_test_setup_teardown(apply_refusals, setup, teardown),
                cmocka_unit_test_setup_teardown(apply_devices_all_or_nothing, setup, teardown),
                cmocka_unit_test_setup_teardown(apply_memlock, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
