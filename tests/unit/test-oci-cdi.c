/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The CDI spec and Apptainer cgroups TOML: golden files under tests/data/cdi
 * (CRDMA_UPDATE_GOLDEN=1 rewrites them), and what each leaves out or
 * refuses.  tests/test-cdi-apptainer.py parses the same outputs back against
 * CDI's and Apptainer's schemas. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "apptainer.h"
#include "cdi.h"
#include "cleanup.h"
#include "fixture.h"
#include "util.h"

#define DATA CRDMA_TEST_DATA "/cdi/"

struct fixture {
        struct crdma_context *ctx;
        struct crdma_device_list *devices;
        char logged[4096];
};

static void capture_log(enum crdma_log_level level, const char *msg, void *data)
{
        struct fixture *f = data;
        size_t o = strlen(f->logged);
        snprintf(f->logged + o, sizeof(f->logged) - o, "%d %s\n", level, msg);
}

static struct fixture *load(const char *tree)
{
        struct fixture *f = calloc(1, sizeof(*f));
        assert_non_null(f);
        f->ctx = fixture_context(tree);
        crdma_context_set_log(f->ctx, capture_log, f, CRDMA_LOG_DEBUG);
        f->devices = fixture_scan(f->ctx);
        f->logged[0] = '\0';
        return f;
}

static void unload(struct fixture *f)
{
        crdma_device_list_free(f->devices);
        crdma_context_free(f->ctx);
        free(f);
}

static void assert_golden(const char *name, const char *got)
{
        char path[512];
        snprintf(path, sizeof(path), DATA "%s", name);
        if (getenv("CRDMA_UPDATE_GOLDEN")) {
                FILE *out = fopen(path, "w");
                assert_non_null(out);
                fputs(got, out);
                fclose(out);
        }
        char *want = NULL;
        size_t len = 0;
        if (crdma_read_file(path, 1 << 20, &want, &len) < 0)
                fail_msg("cannot read %s", path);
        if (strcmp(want, got) != 0)
                fail_msg("%s differs from the output:\n%s", path, got);
        free(want);
}

static char *spec_ok(struct fixture *f, const char *policy_json)
{
        struct crdma_policy *p = fixture_policy(policy_json);
        struct crdma_error *err = NULL;
        char *json = NULL;
        if (oci_cdi_spec(f->ctx, f->devices, p, &json, &err) < 0)
                fail_msg("%s", crdma_error_message(err));
        crdma_policy_free(p);
        return json;
}

/* ---- CDI ---------------------------------------------------------------- */

static void test_cdi_rxe(void **state)
{
        (void) state;
        struct fixture *f = load("rxe");
        char *json = spec_ok(f, "{\"version\":1}");
        /* rxe0, rxe1, then all with rdma_cm once. */
        assert_golden("rxe.json", json);
        assert_string_equal(f->logged, "");
        free(json);
        unload(f);
}

static void test_cdi_mixed(void **state)
{
        (void) state;
        struct fixture *f = load("mixed");
        char *json = spec_ok(f, "{\"version\":1}");
        assert_golden("mixed.json", json);
        free(json);
        unload(f);
}

/* Devices the policy denies are not in the spec, and not in "all". */
static void test_cdi_policy_denies(void **state)
{
        (void) state;
        struct fixture *f = load("mixed");
        char *json = spec_ok(f, "{\"version\":1,\"devices\":[\"rxe*\",\"mlx5_2\"]}");
        assert_golden("mixed-policy.json", json);
        for (const char *denied = "mlx5_0\0mlx5_1\0mlx5_3\0mlx5_4\0uverbs0\0uverbs1\0uverbs3\0"
                                  "uverbs4\0";
             *denied; denied += strlen(denied) + 1)
                if (strstr(json, denied))
                        fail_msg("%s is in the spec, but the policy denies it:\n%s", denied, json);
        assert_non_null(strstr(json, "\"name\": \"mlx5_2\""));
        assert_non_null(strstr(f->logged, "device mlx5_0: not allowed by policy.json"));
        free(json);
        unload(f);
}

static void test_cdi_nothing_allowed(void **state)
{
        (void) state;
        struct fixture *f = load("mixed");
        struct crdma_policy *p = fixture_policy("{\"version\":1,\"devices\":[\"ib*\"]}");
        struct crdma_error *err = NULL;
        char *json = NULL;
        assert_int_equal(oci_cdi_spec(f->ctx, f->devices, p, &json, &err), -ENODEV);
        assert_null(json);
        assert_int_equal(crdma_error_kind(err), CRDMA_ERROR_REFUSED);
        assert_string_equal(crdma_error_message(err),
                            "CDI spec: no RDMA device on this host is allowed by policy.json "
                            "(6 devices present; `crdma-hook devices` lists them, "
                            "`crdma-hook --debug cdi` says why each is left out)");
        crdma_error_free(err);
        crdma_policy_free(p);
        unload(f);

        f = load("none");
        p = fixture_policy("{\"version\":1}");
        assert_int_equal(oci_cdi_spec(f->ctx, f->devices, p, &json, NULL), -ENODEV);
        crdma_policy_free(p);
        unload(f);
}

static void test_cdi_names(void **state)
{
        (void) state;
        const char *good[] = { "rxe0", "mlx5_0", "0rxe", "a", "7", "ib.0", "a-b_c.d:e", "all" };
        const char *bad[] = { "", "_rxe", "rxe_", "rxe-", ".a", "a.", "a b", "a/b", "rxé" };
        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                if (!oci_cdi_name_valid(good[i]))
                        fail_msg("\"%s\" refused", good[i]);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (oci_cdi_name_valid(bad[i]))
                        fail_msg("\"%s\" accepted", bad[i]);
}

/* ---- Apptainer ---------------------------------------------------------- */

static struct crdma_request *request(const char *const *ann)
{
        struct crdma_request *req = NULL;
        struct crdma_error *err = NULL;
        if (fixture_request(ann, &req, &err) < 0)
                fail_msg("%s", crdma_error_message(err));
        return req;
}

/* The TOML for a request, or the refusal's message (in *toml, kind checked). */
static int toml_for(struct fixture *f, const char *policy_json, const char *const *ann,
                    char **toml)
{
        struct crdma_policy *p = fixture_policy(policy_json);
        struct crdma_request *req = request(ann);
        struct crdma_plan *plan = NULL;
        struct crdma_error *err = NULL;
        int r = crdma_plan_new(f->ctx, req, f->devices, p, &plan, &err);
        if (r < 0)
                fail_msg("%s", crdma_error_message(err));
        r = oci_apptainer_cgroups(req, plan, toml, &err);
        if (r < 0) {
                assert_int_equal(crdma_error_kind(err), CRDMA_ERROR_REFUSED);
                *toml = strdup(crdma_error_message(err));
                crdma_error_free(err);
        }
        crdma_plan_free(plan);
        crdma_request_free(req);
        crdma_policy_free(p);
        return r;
}

#define NO_LIMITS                                                                          \
        "{\"version\":1,\"limits\":{\"hcaHandles\":\"max\",\"hcaObjects\":\"max\"},"        \
        "\"allow\":{\"umad\":true,\"netRaw\":true,\"exclusive\":true}}"

static void test_toml_golden(void **state)
{
        (void) state;
        struct fixture *f = load("mixed");
        char *toml = NULL;
        const char *all[] = { "io.crdma.devices=all", "io.crdma.hca-handles=4", NULL };
        assert_int_equal(toml_for(f, "{\"version\":1,\"devices\":[\"rxe*\",\"mlx5_[12]\"]}",
                                  all, &toml), 0);
        assert_golden("mixed-all.toml", toml);
        free(toml);

        /* "max" is the kernel's S32_MAX: uint32 fields cannot say "max". */
        const char *max[] = { "io.crdma.devices=rxe0,mlx5_1", "io.crdma.hca-handles=max",
                              "io.crdma.hca-objects=1000", NULL };
        assert_int_equal(toml_for(f, NO_LIMITS, max, &toml), 0);
        assert_golden("rxe0-mlx5_1-max.toml", toml);
        free(toml);
        unload(f);
}

static void test_toml_refuses(void **state)
{
        (void) state;
        struct fixture *f = load("rxe");
        struct {
                const char *ann, *message;
        } cases[] = {
                { "io.crdma.memlock=1G", "annotation io.crdma.memlock: Apptainer's cgroups file "
                  "cannot set RLIMIT_MEMLOCK" },
                { "io.crdma.umad=true", "annotation io.crdma.umad=\"true\": the crdma.io/hca CDI "
                  "devices Apptainer gets carry no umad node" },
                { "io.crdma.raw=true", "annotation io.crdma.raw=\"true\": Apptainer's cgroups "
                  "file cannot grant CAP_NET_RAW" },
                { "io.crdma.netns=exclusive", "annotation io.crdma.netns=\"exclusive\": "
                  "Apptainer's cgroups file cannot move RDMA devices" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *ann[] = { "io.crdma.devices=rxe0", cases[i].ann, NULL };
                char *toml = NULL;
                assert_int_equal(toml_for(f, NO_LIMITS, ann, &toml), -EOPNOTSUPP);
                if (strncmp(toml, cases[i].message, strlen(cases[i].message)) != 0)
                        fail_msg("%s: got \"%s\"", cases[i].ann, toml);
                free(toml);
        }
        unload(f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cdi_rxe),
                cmocka_unit_test(test_cdi_mixed),
                cmocka_unit_test(test_cdi_policy_denies),
                cmocka_unit_test(test_cdi_nothing_allowed),
                cmocka_unit_test(test_cdi_names),
                cmocka_unit_test(test_toml_golden),
                cmocka_unit_test(test_toml_refuses),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
