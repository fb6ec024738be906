/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crdma_devices_scan_for: the targeted scan a hook does for one container
 * must find exactly what the full scan finds for the devices it names, and
 * a plan built from it must refuse what a full scan's plan refuses, with the
 * same words. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "context.h"
#include "devices.h"
#include "error.h"
#include "fixture.h"

static struct crdma_request *request(const char *devices, const char *umad)
{
        struct crdma_kv kv[] = { { "io.crdma.devices", devices }, { "io.crdma.umad", umad } };
        struct crdma_request *req = NULL;
        struct crdma_error *err = NULL;
        if (crdma_request_from_annotations(kv, umad ? 2 : 1, &req, &err) < 0)
                fail_msg("request %s: %s", devices, crdma_error_message(err));
        return req;
}

static char *json_of(struct crdma_device_list *list)
{
        char *json = NULL;
        assert_int_equal(crdma_device_list_to_json(list, false, &json, NULL), 0);
        crdma_device_list_free(list);
        return json;
}

static char *full_json(struct crdma_context *ctx)
{
        struct crdma_device_list *list = NULL;
        struct crdma_error *err = NULL;
        if (crdma_devices_scan(ctx, &list, &err) < 0)
                fail_msg("full scan: %s", crdma_error_message(err));
        return json_of(list);
}

static char *targeted_json(struct crdma_context *ctx, const char *devices)
{
        struct crdma_request *req = request(devices, NULL);
        struct crdma_device_list *list = NULL;
        struct crdma_error *err = NULL;
        if (crdma_devices_scan_for(ctx, req, &list, &err) < 0)
                fail_msg("targeted scan of %s: %s", devices, crdma_error_message(err));
        crdma_request_free(req);
        return json_of(list);
}

/* The full scan's JSON with only device `name` left in "devices" (device
 * objects are the only ones with a "name" key). */
static char *only_device(const char *full, const char *name)
{
        char key[96];
        snprintf(key, sizeof(key), "{\"name\":\"%s\"", name);
        const char *start = strstr(full, key);
        assert_non_null(start);
        const char *end = strstr(start + 1, ",{\"name\":\"");
        const char *tail = strstr(full, "],\"rdmaCm\":");
        assert_non_null(tail);
        if (!end || end > tail)
                end = tail;
        char *out = NULL;
        assert_true(asprintf(&out, "{\"devices\":[%.*s%s", (int) (end - start), start, tail) > 0);
        return out;
}

static void assert_same_for_each_device(const char *preset, const char *const *names, size_t n)
{
        struct crdma_context *ctx = fixture_context(preset);
        char *full = full_json(ctx);
        for (size_t i = 0; i < n; i++) {
                char *want = only_device(full, names[i]);
                char *got = targeted_json(ctx, names[i]);
                assert_string_equal(got, want);
                free(got);
                free(want);
        }
        free(full);
        crdma_context_free(ctx);
}

static void test_one_device_as_full_scan(void **state)
{
        (void) state;
        /* PCI PFs and VFs (char devices under the parent), IB and RoCE, and
         * rxe (no parent: char devices found through the class). */
        const char *mixed[] = { "mlx5_0", "mlx5_1", "mlx5_2", "mlx5_3", "mlx5_4", "rxe0" };
        assert_same_for_each_device("mixed", mixed, 6);
        const char *rxe[] = { "rxe0", "rxe1" };
        assert_same_for_each_device("rxe", rxe, 2);
}

static void test_every_name_or_all_is_full_scan(void **state)
{
        (void) state;
        struct crdma_context *ctx = fixture_context("mixed");
        char *full = full_json(ctx);
        /* Named in another order, PCI and rxe devices together. */
        char *named = targeted_json(ctx, "rxe0,mlx5_4,mlx5_3,mlx5_2,mlx5_1,mlx5_0");
        char *all = targeted_json(ctx, "all");
        assert_string_equal(named, full);
        assert_string_equal(all, full);
        free(all);
        free(named);
        free(full);
        crdma_context_free(ctx);
}

/* The message crdma_plan_new gives for `devices` after a scan of either
 * kind; both must be refusals. */
static char *plan_refusal(struct crdma_context *ctx, const char *devices, bool targeted)
{
        struct crdma_request *req = request(devices, NULL);
        struct crdma_policy *policy = fixture_policy("{\"version\": 1, \"devices\": [\"*\"]}");
        struct crdma_device_list *list = NULL;
        struct crdma_plan *plan = NULL;
        struct crdma_error *err = NULL;
        int r = targeted ? crdma_devices_scan_for(ctx, req, &list, &err)
                         : crdma_devices_scan(ctx, &list, &err);
        assert_int_equal(r, 0);
        assert_int_equal(crdma_plan_new(ctx, req, list, policy, &plan, &err), -ENODEV);
        assert_null(plan);
        assert_int_equal(crdma_error_kind(err), CRDMA_ERROR_REFUSED);
        char *msg = strdup(crdma_error_message(err));
        crdma_error_free(err);
        crdma_device_list_free(list);
        crdma_policy_free(policy);
        crdma_request_free(req);
        return msg;
}

static void test_missing_device_refused_alike(void **state)
{
        (void) state;
        struct crdma_context *ctx = fixture_context("mixed");
        const char *cases[] = { "mlx5_9", "mlx5_0,nosuch0", "rxe0,rxe1" };
        for (size_t i = 0; i < 3; i++) {
                char *full = plan_refusal(ctx, cases[i], false);
                char *targeted = plan_refusal(ctx, cases[i], true);
                assert_string_equal(targeted, full);
                assert_non_null(strstr(targeted, "no such RDMA device on this host"));
                free(targeted);
                free(full);
        }
        crdma_context_free(ctx);

        /* No class/infiniband at all. */
        ctx = fixture_context("none");
        char *full = plan_refusal(ctx, "mlx5_0", false);
        char *targeted = plan_refusal(ctx, "mlx5_0", true);
        assert_string_equal(targeted, full);
        free(targeted);
        free(full);
        crdma_context_free(ctx);
}

/* A broken tree is still reported for a device the request names; a
 * broken entry of a device it does not name does not fail the container. */
static void test_broken_trees(void **state)
{
        (void) state;
        struct {
                const char *preset, *devices;
                int want;
                const char *message; /* suffix after the tree path */
        } cases[] = {
                { "broken-node-type", "rxe0", -EINVAL, "/class/infiniband/rxe0/node_type: not" },
                { "broken-guid", "rxe1", -EINVAL, "/class/infiniband/rxe1/node_guid: not a GUID" },
                { "broken-umad-port", "rxe1", -EINVAL,
                  "/class/infiniband_mad/umad1/port: not a port of its device" },
                { "broken-dup-uverbs", "rxe0", -EINVAL,
                  "/class/infiniband_verbs/uverbs2/ibdev: rxe0 already has uverbs0" },
                /* uverbs1 names rxe7, not in class/infiniband: the full scan
                 * fails, a container asking for rxe0 does not. */
                { "broken-ibdev", "rxe0", 0, NULL },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct crdma_context *ctx = fixture_context(cases[i].preset);
                struct crdma_request *req = request(cases[i].devices, NULL);
                struct crdma_device_list *list = NULL;
                struct crdma_error *err = NULL;
                int r = crdma_devices_scan_for(ctx, req, &list, &err);
                if (r != cases[i].want)
                        fail_msg("%s: got %d (%s), want %d", cases[i].preset, r,
                                 err ? crdma_error_message(err) : "", cases[i].want);
                if (cases[i].message) {
                        assert_null(list);
                        if (!strstr(crdma_error_message(err), cases[i].message))
                                fail_msg("%s: \"%s\" lacks \"%s\"", cases[i].preset,
                                         crdma_error_message(err), cases[i].message);
                        crdma_error_free(err);
                } else {
                        assert_int_equal(crdma_device_list_count(list), 1);
                        const struct crdma_device *d = crdma_device_list_get(list, 0);
                        assert_string_equal(crdma_device_name(d), "rxe0");
                        assert_non_null(crdma_device_uverbs(d));
                        crdma_device_list_free(list);
                }
                crdma_request_free(req);
                crdma_context_free(ctx);
        }
}

static void test_null_request(void **state)
{
        (void) state;
        struct crdma_context *ctx = fixture_context("rxe");
        struct crdma_device_list *list = (void *) 0x1;
        struct crdma_error *err = NULL;
        assert_int_equal(crdma_devices_scan_for(ctx, NULL, &list, &err), -EINVAL);
        assert_ptr_equal(list, (void *) 0x1);
        crdma_error_free(err);
        crdma_context_free(ctx);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_one_device_as_full_scan),
                cmocka_unit_test(test_every_name_or_all_is_full_scan),
                cmocka_unit_test(test_missing_device_refused_alike),
                cmocka_unit_test(test_broken_trees),
                cmocka_unit_test(test_null_request),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
