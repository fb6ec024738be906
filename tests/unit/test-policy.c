/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /etc/crdma/policy.json: every key, every kind of bad value, the defaults. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cleanup.h"
#include "context.h"
#include "error.h"
#include "fixture.h"
#include "policy.h"

static struct crdma_policy *parse_ok(const char *json)
{
        struct crdma_policy *p = NULL;
        struct crdma_error *err = NULL;
        if (crdma_policy_parse(json, strlen(json), "test.json", &p, &err) < 0)
                fail_msg("policy refused: %s\n%s", crdma_error_message(err), json);
        return p;
}

static void bad(const char *json, const char *needle)
{
        struct crdma_policy *p = (void *) 0x1;
        struct crdma_error *err = NULL;
        int r = crdma_policy_parse(json, strlen(json), "test.json", &p, &err);
        if (r >= 0)
                fail_msg("policy accepted: %s", json);
        assert_ptr_equal(p, (void *) 0x1);
        assert_int_equal(r, -EINVAL);
        assert_int_equal(crdma_error_kind(err), CRDMA_ERROR_SYSTEM);
        const char *m = crdma_error_message(err);
        if (!strstr(m, needle) || strncmp(m, "test.json: ", 11) != 0)
                fail_msg("message \"%s\" lacks \"%s\"", m, needle);
        crdma_error_free(err);
}

static void assert_builtin(const struct crdma_policy *p)
{
        assert_int_equal(p->devices.n, 2);
        assert_string_equal(p->devices.v[0], "mlx5_*");
        assert_string_equal(p->devices.v[1], "rxe*");
        assert_int_equal(p->defaults.hca_handles, 16);
        assert_int_equal(p->defaults.hca_objects, 65536);
        assert_true(p->defaults.memlock == CRDMA_UNLIMITED);
        assert_int_equal(p->limits.hca_handles, 64);
        assert_int_equal(p->limits.hca_objects, 1048576);
        assert_true(p->limits.memlock == CRDMA_UNLIMITED);
        assert_false(p->allow.umad);
        assert_false(p->allow.issm);
        assert_false(p->allow.net_raw);
        assert_false(p->allow.ipc_lock);
        assert_true(p->allow.exclusive);
        assert_false(p->netns_switch);
        assert_false(p->best_effort);
        assert_false(p->allow.environment);
        assert_int_equal(crdma_policy_runtime_count(p), 2);
        assert_string_equal(crdma_policy_runtime(p, 0), "runc");
        assert_string_equal(crdma_policy_runtime(p, 1), "crun");
        assert_null(crdma_policy_runtime(p, 2));
        assert_null(crdma_policy_runtime_hook(p));
}

/* The example in DESIGN.md and crdma-policy(5) is the built-in policy. */
static const char *design_example =
        "{\n"
        "  \"version\": 1,\n"
        "  \"devices\": [\"mlx5_*\", \"rxe*\"],\n"
        "  \"defaults\": { \"hcaHandles\": 16, \"hcaObjects\": 65536, \"memlock\": \"unlimited\" },\n"
        "  \"limits\":   { \"hcaHandles\": 64, \"hcaObjects\": 1048576, \"memlock\": \"unlimited\" },\n"
        "  \"allow\":    { \"umad\": false, \"issm\": false, \"netRaw\": false, \"ipcLock\": false, \"exclusive\": true },\n"
        "  \"netnsMode\": \"keep\"\n"
        "}\n";

static void test_example_equals_builtin(void **state)
{
        (void) state;
        struct crdma_policy *p = parse_ok(design_example);
        assert_builtin(p);
        crdma_policy_free(p);
        p = parse_ok("{\"version\": 1}");
        assert_builtin(p);
        crdma_policy_free(p);
}

static void test_every_key(void **state)
{
        (void) state;
        struct crdma_policy *p = parse_ok(
                "{\"version\":1,\"devices\":[\"mlx5_[0-3]\",\"rxe0\",\"?b*\"],"
                "\"defaults\":{\"hcaHandles\":2,\"hcaObjects\":\"max\",\"memlock\":1073741824},"
                "\"limits\":{\"hcaHandles\":2147483647,\"hcaObjects\":\"max\",\"memlock\":\"2G\","
                "\"enforce\":\"best-effort\"},"
                "\"allow\":{\"umad\":true,\"issm\":true,\"netRaw\":true,\"ipcLock\":true,\"exclusive\":false},"
                "\"netnsMode\":\"exclusive\"}");
        assert_int_equal(p->devices.n, 3);
        assert_int_equal(p->defaults.hca_handles, 2);
        assert_true(p->defaults.hca_objects == CRDMA_UNLIMITED);
        assert_true(p->defaults.memlock == 1ULL << 30);
        assert_int_equal(p->limits.hca_handles, 2147483647);
        assert_true(p->limits.hca_objects == CRDMA_UNLIMITED);
        assert_true(p->limits.memlock == 2ULL << 30);
        assert_true(p->best_effort);
        assert_true(p->allow.umad && p->allow.issm && p->allow.net_raw && p->allow.ipc_lock);
        assert_false(p->allow.exclusive);
        assert_true(p->netns_switch);

        assert_true(crdma_policy_allows_device(p, "mlx5_0"));
        assert_true(crdma_policy_allows_device(p, "mlx5_3"));
        assert_false(crdma_policy_allows_device(p, "mlx5_4"));
        assert_false(crdma_policy_allows_device(p, "mlx5_10"));
        assert_true(crdma_policy_allows_device(p, "rxe0"));
        assert_false(crdma_policy_allows_device(p, "rxe1"));
        assert_true(crdma_policy_allows_device(p, "ibp0"));
        crdma_policy_free(p);

        p = parse_ok("{\"version\":1,\"devices\":[],\"limits\":{\"enforce\":\"strict\"}}");
        assert_int_equal(p->devices.n, 0);
        assert_false(crdma_policy_allows_device(p, "mlx5_0"));
        assert_false(p->best_effort);
        crdma_policy_free(p);
}

static void test_lower_limit_lowers_builtin_default(void **state)
{
        (void) state;
        struct crdma_policy *p = parse_ok("{\"version\":1,\"limits\":{\"hcaHandles\":4,\"memlock\":\"1G\"}}");
        assert_int_equal(p->limits.hca_handles, 4);
        assert_int_equal(p->defaults.hca_handles, 4);
        assert_true(p->defaults.memlock == 1ULL << 30);
        assert_int_equal(p->defaults.hca_objects, 65536);
        crdma_policy_free(p);
        /* ... but a default the admin wrote above the limit is an error. */
        bad("{\"version\":1,\"defaults\":{\"hcaHandles\":8},\"limits\":{\"hcaHandles\":4}}",
            "\"defaults.hcaHandles\": is above limits.hcaHandles");
        bad("{\"version\":1,\"defaults\":{\"memlock\":\"unlimited\"},\"limits\":{\"memlock\":\"1G\"}}",
            "\"defaults.memlock\": is above limits.memlock");
        bad("{\"version\":1,\"defaults\":{\"hcaObjects\":\"max\"},\"limits\":{\"hcaObjects\":10}}",
            "\"defaults.hcaObjects\": is above limits.hcaObjects");
}

static void test_structure_errors(void **state)
{
        (void) state;
        bad("", "invalid JSON");
        bad("{", "invalid JSON");
        bad("{\"version\":1,}", "invalid JSON");
        bad("[]", "must be a JSON object");
        bad("1", "must be a JSON object");
        bad("{}", "\"version\": is missing");
        bad("{\"version\":2}", "\"version\": must be 1");
        bad("{\"version\":0}", "\"version\": must be 1");
        bad("{\"version\":1.0}", "\"version\": must be 1");
        bad("{\"version\":\"1\"}", "\"version\": must be 1");
        bad("{\"version\":1,\"version\":1}", "key \"version\" appears twice");
        bad("{\"version\":1,\"device\":[]}", "\"device\": unknown key");
        bad("{\"version\":1,\"Devices\":[]}", "\"Devices\": unknown key");
        bad("{\"version\":1,\"defaults\":{\"hcahandles\":1}}", "\"defaults.hcahandles\": unknown key");
        bad("{\"version\":1,\"defaults\":{\"enforce\":\"strict\"}}", "\"defaults.enforce\": unknown key");
        bad("{\"version\":1,\"allow\":{\"rdmaCm\":true}}", "\"allow.rdmaCm\": unknown key");
        bad("{\"version\":1,\"limits\":{\"hcaHandles\":1,\"hcaHandles\":2}}", "key \"limits.hcaHandles\" appears twice");
        bad("{\"version\":1,\"defaults\":[]}", "\"defaults\": must be an object");
        bad("{\"version\":1,\"limits\":null}", "\"limits\": must be an object");
        bad("{\"version\":1,\"allow\":true}", "\"allow\": must be an object");
}

/* A key given twice, anywhere: the policy must not say two things.  The
 * one reader refuses it (json-read.h), naming the key by its path; it is
 * the admin's file, so a system error like every policy fault. */
static void test_duplicate_keys(void **state)
{
        (void) state;
        bad("{\"version\":1,\"allow\":{\"umad\":false,\"netRaw\":false,\"umad\":true}}",
            "key \"allow.umad\" appears twice");
        bad("{\"version\":1,\"netnsMode\":\"keep\",\"netnsMode\":\"keep\",\"netnsMode\":\"exclusive\"}",
            "key \"netnsMode\" appears 3 times");
        /* Before anything else is judged: an unknown key or a bad value. */
        bad("{\"version\":1,\"devices\":[],\"x\":1,\"devices\":[\"*\"]}",
            "key \"devices\" appears twice");
        struct crdma_policy *p = (void *) 0x1;
        struct crdma_error *err = NULL;
        const char *json = "{\"version\":1,\"limits\":{\"memlock\":\"1G\",\"memlock\":\"unlimited\"}}";
        assert_int_equal(crdma_policy_parse(json, strlen(json), "policy.json", &p, &err), -EINVAL);
        assert_string_equal(crdma_error_message(err),
                            "policy.json: key \"limits.memlock\" appears twice; JSON readers differ "
                            "on which one counts (runc takes the last, yajl the first); keep one");
        crdma_error_free(err);
        /* The same key in two objects is no duplicate. */
        p = parse_ok("{\"version\":1,\"defaults\":{\"memlock\":\"1G\"},\"limits\":{\"memlock\":\"2G\"}}");
        assert_int_equal(p->defaults.memlock, 1ULL << 30);
        crdma_policy_free(p);
}

static void test_value_errors(void **state)
{
        (void) state;
        const char *keys[] = { "hcaHandles", "hcaObjects" };
        const char *where[] = { "defaults", "limits" };
        char json[256], needle[128];
        for (int w = 0; w < 2; w++)
                for (int k = 0; k < 2; k++) {
                        static const struct {
                                const char *v, *why;
                        } cases[] = {
                                { "-1", "must not be negative" }, { "0", "is too small" },
                                { "2147483648", "is too large" },
                                { "99999999999999999999999", "is too large" },
                                { "1.5", "must be an integer" }, { "1e3", "must be an integer" },
                                { "\"8\"", "must be an integer" }, { "\"unlimited\"", "must be an integer" },
                                { "true", "must be an integer" }, { "null", "must be an integer" },
                                { "[]", "must be an integer" },
                        };
                        for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
                                snprintf(json, sizeof(json), "{\"version\":1,\"%s\":{\"%s\":%s}}",
                                         where[w], keys[k], cases[c].v);
                                snprintf(needle, sizeof(needle), "\"%s.%s\": %s", where[w], keys[k],
                                         cases[c].why);
                                bad(json, needle);
                        }
                }
        bad("{\"version\":1,\"limits\":{\"memlock\":-5}}", "\"limits.memlock\": must not be negative");
        bad("{\"version\":1,\"limits\":{\"memlock\":0}}", "\"limits.memlock\": is too small");
        bad("{\"version\":1,\"limits\":{\"memlock\":\"0\"}}", "\"limits.memlock\": must be bytes");
        bad("{\"version\":1,\"limits\":{\"memlock\":\"1g\"}}", "\"limits.memlock\": must be bytes");
        bad("{\"version\":1,\"limits\":{\"memlock\":\"-1G\"}}", "\"limits.memlock\": must be bytes");
        bad("{\"version\":1,\"limits\":{\"memlock\":\"99999999999T\"}}", "\"limits.memlock\": is too large");
        bad("{\"version\":1,\"limits\":{\"memlock\":18446744073709551615}}", "\"limits.memlock\": is too large");
        bad("{\"version\":1,\"limits\":{\"memlock\":false}}", "\"limits.memlock\": must be an integer");
        bad("{\"version\":1,\"limits\":{\"enforce\":\"besteffort\"}}", "\"limits.enforce\": must be");
        bad("{\"version\":1,\"limits\":{\"enforce\":true}}", "\"limits.enforce\": must be");
        bad("{\"version\":1,\"allow\":{\"umad\":\"true\"}}", "\"allow.umad\": must be true or false");
        bad("{\"version\":1,\"allow\":{\"exclusive\":1}}", "\"allow.exclusive\": must be true or false");
        bad("{\"version\":1,\"netnsMode\":\"shared\"}", "\"netnsMode\": must be \"keep\" or \"exclusive\"");
        bad("{\"version\":1,\"netnsMode\":1}", "\"netnsMode\": must be");
        bad("{\"version\":1,\"devices\":\"mlx5_*\"}", "\"devices\": must be an array");
        bad("{\"version\":1,\"devices\":[1]}", "\"devices[0]\": must be a device name");
        bad("{\"version\":1,\"devices\":[\"rxe0\",\"\"]}", "\"devices[1]\": must be a device name");
        bad("{\"version\":1,\"devices\":[\"../etc\"]}", "\"devices[0]\": must be a device name");
        bad("{\"version\":1,\"devices\":[\"mlx5 *\"]}", "\"devices[0]\": must be a device name");
        bad("{\"version\":1,\"devices\":[\"rxe0\",\"rxe0\"]}", "\"devices[1]\": repeats");
}

static void test_bounds(void **state)
{
        (void) state;
        struct crdma_policy *p = NULL;
        struct crdma_error *err = NULL;
        const char with_nul[] = "{\"version\":1}\0{}";
        assert_int_equal(crdma_policy_parse(with_nul, sizeof(with_nul) - 1, "x", &p, &err), -EINVAL);
        assert_non_null(strstr(crdma_error_message(err), "NUL byte"));
        crdma_error_free(err);
        err = NULL;
        /* An escaped NUL would cut a device pattern short. */
        bad("{\"version\":1,\"devices\":[\"rxe\\u00000\"]}",
            "a string or key holds \"\\u0000\", which crdma cannot keep");
        /* Far more values than a policy has, within the size bound. */
        char *many = malloc(8 * 70000 + 64), *m = many;
        m += sprintf(m, "{\"version\":1,\"x\":[0");
        for (int i = 0; i < 70000; i++)
                m += sprintf(m, ",0");
        strcpy(m, "]}");
        assert_int_equal(crdma_policy_parse(many, strlen(many), "x", &p, &err), -E2BIG);
        assert_string_equal(crdma_error_message(err),
                            "x: more than 65536 values; not a policy file");
        crdma_error_free(err);
        err = NULL;
        free(many);
        size_t big = 1024 * 1024 + 1;
        char *text = malloc(big);
        memset(text, ' ', big);
        assert_int_equal(crdma_policy_parse(text, big, "x", &p, &err), -EFBIG);
        crdma_error_free(err);
        free(text);
}

static char tmpdir[64];

static void write_file(const char *name, const char *text)
{
        char path[128];
        snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static void test_load(void **state)
{
        (void) state;
        struct crdma_context *ctx = NULL;
        struct crdma_policy *p = NULL;
        struct crdma_error *err = NULL;
        char path[128];
        assert_int_equal(crdma_context_new(&ctx, NULL), 0);

        /* An explicit NULL path: built-in defaults. */
        assert_int_equal(crdma_context_set_policy_path(ctx, NULL, NULL), 0);
        assert_int_equal(crdma_policy_load(ctx, &p, NULL), 0);
        assert_builtin(p);
        assert_string_equal(p->origin, "built-in policy");
        crdma_policy_free(p);

        /* A given file that is missing is an error, never a fallback. */
        snprintf(path, sizeof(path), "%s/missing.json", tmpdir);
        assert_int_equal(crdma_context_set_policy_path(ctx, path, NULL), 0);
        assert_int_equal(crdma_policy_load(ctx, &p, &err), -ENOENT);
        assert_non_null(strstr(crdma_error_message(err), "missing.json: cannot read the policy"));
        crdma_error_free(err);
        err = NULL;

        /* The default path, missing: defaults (checked on a context whose
         * default path we point at a missing file the way the library does). */
        free(ctx->policy_path);
        ctx->policy_path = strdup(path);
        ctx->policy_path_given = false;
        assert_int_equal(crdma_policy_load(ctx, &p, NULL), 0);
        assert_builtin(p);
        crdma_policy_free(p);

        /* An invalid file is an error even at the default path. */
        write_file("bad.json", "{\"version\":1,\"limits\":{\"hcaHandles\":-1}}");
        snprintf(path, sizeof(path), "%s/bad.json", tmpdir);
        free(ctx->policy_path);
        ctx->policy_path = strdup(path);
        assert_int_equal(crdma_policy_load(ctx, &p, &err), -EINVAL);
        assert_non_null(strstr(crdma_error_message(err), "bad.json: \"limits.hcaHandles\": must not be negative"));
        crdma_error_free(err);
        err = NULL;

        /* A directory is not a policy. */
        assert_int_equal(crdma_context_set_policy_path(ctx, tmpdir, NULL), 0);
        assert_int_equal(crdma_policy_load(ctx, &p, &err), -EISDIR);
        crdma_error_free(err);

        /* The shipped example (data/policy.json) is the built-in policy. */
        assert_int_equal(crdma_context_set_policy_path(ctx, CRDMA_TEST_DATA "/../../data/policy.json", NULL), 0);
        assert_int_equal(crdma_policy_load(ctx, &p, NULL), 0);
        assert_builtin(p);
        crdma_policy_free(p);

        write_file("good.json", design_example);
        snprintf(path, sizeof(path), "%s/good.json", tmpdir);
        assert_int_equal(crdma_context_set_policy_path(ctx, path, NULL), 0);
        assert_int_equal(crdma_policy_load(ctx, &p, NULL), 0);
        assert_builtin(p);
        assert_string_equal(p->origin, path);

        char *json = NULL;
        assert_int_equal(crdma_policy_to_json(p, false, &json, NULL), 0);
        assert_string_equal(json,
                "{\"version\":1,\"devices\":[\"mlx5_*\",\"rxe*\"],"
                "\"defaults\":{\"hcaHandles\":16,\"hcaObjects\":65536,\"memlock\":\"unlimited\"},"
                "\"limits\":{\"hcaHandles\":64,\"hcaObjects\":1048576,\"memlock\":\"unlimited\",\"enforce\":\"strict\"},"
                "\"allow\":{\"umad\":false,\"issm\":false,\"netRaw\":false,\"ipcLock\":false,\"exclusive\":true,"
                "\"environment\":false},"
                "\"netnsMode\":\"keep\",\"runtime\":{\"runtimes\":[\"runc\",\"crun\"]}}");
        /* What it prints, it reads back the same. */
        struct crdma_policy *again = parse_ok(json);
        assert_builtin(again);
        crdma_policy_free(again);
        free(json);
        crdma_policy_free(p);
        crdma_context_free(ctx);
}

/* The runtime shim's section: which runtime it execs, which hook a config
 * entry runs; and whether a container's environment may ask. */
static void test_runtime_section(void **state)
{
        (void) state;
        struct crdma_policy *p = parse_ok("{\"version\":1,\"allow\":{\"environment\":true},"
                                          "\"runtime\":{\"runtimes\":[\"/opt/bin/runc\",\"crun\","
                                          "\"runc-1.1\"],\"hook\":\"/usr/bin/crdma-hook\"}}");
        assert_true(p->allow.environment);
        assert_int_equal(crdma_policy_runtime_count(p), 3);
        assert_string_equal(crdma_policy_runtime(p, 0), "/opt/bin/runc");
        assert_string_equal(crdma_policy_runtime(p, 2), "runc-1.1");
        assert_string_equal(crdma_policy_runtime_hook(p), "/usr/bin/crdma-hook");
        char *json = NULL;
        assert_int_equal(crdma_policy_to_json(p, false, &json, NULL), 0);
        assert_non_null(strstr(json, "\"runtime\":{\"runtimes\":[\"/opt/bin/runc\",\"crun\","
                                     "\"runc-1.1\"],\"hook\":\"/usr/bin/crdma-hook\"}"));
        crdma_policy_free(p);
        free(json);
        /* A section without runtimes keeps the built-in list. */
        p = parse_ok("{\"version\":1,\"runtime\":{\"hook\":\"/x/crdma-hook\"}}");
        assert_int_equal(crdma_policy_runtime_count(p), 2);
        crdma_policy_free(p);

        bad("{\"version\":1,\"runtime\":[]}", "\"runtime\": must be an object");
        bad("{\"version\":1,\"runtime\":{\"runtime\":[\"runc\"]}}", "\"runtime.runtime\": unknown key");
        bad("{\"version\":1,\"runtime\":{\"runtimes\":[]}}", "\"runtime.runtimes\": must be an array");
        bad("{\"version\":1,\"runtime\":{\"runtimes\":\"runc\"}}", "\"runtime.runtimes\": must be an array");
        const char *names[] = { "\"\"", "\"../runc\"", "\"bin/runc\"", "\"run c\"", "\"..\"",
                                "\"/usr/../bin/runc\"", "\"/usr/bin/\"", "\"$(id)\"", "1" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                char text[128];
                snprintf(text, sizeof(text), "{\"version\":1,\"runtime\":{\"runtimes\":[\"runc\",%s]}}",
                         names[i]);
                bad(text, "\"runtime.runtimes[1]\": must be a program name");
        }
        bad("{\"version\":1,\"runtime\":{\"hook\":\"crdma-hook\"}}",
            "\"runtime.hook\": must be the absolute path of crdma-hook");
        bad("{\"version\":1,\"allow\":{\"environment\":\"yes\"}}",
            "\"allow.environment\": must be true or false");
}

/* yajl_tree_free recurses: 300,000 levels crashed it (fuzzing found the
 * gap); the parser refuses deep nesting before yajl builds anything. */
static void test_deep_nesting(void **state)
{
        (void) state;
        size_t n = 500000;
        char *json = malloc(2 * n + 16), *p = json;
        p += sprintf(p, "/* \" */");  /* a quote in a comment hides nothing */
        memset(p, '[', n);
        memset(p + n, ']', n);
        p[2 * n] = '\0';
        bad(json, "nested deeper than 32 levels; not a policy file");
        free(json);
        bad("{\"version\":1,\"devices\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
            "nested deeper than 32 levels");
        /* Brackets in strings do not count. */
        bad("{\"version\":1,\"devices\":[\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[ \"]}",
            "\"devices[0]\": must be a device name");
}

static int setup(void **state)
{
        (void) state;
        fixture_tmpdir(tmpdir, sizeof(tmpdir), "policy");
        return 0;
}

static int teardown(void **state)
{
        (void) state;
        return fixture_rm_tree(tmpdir) == 0 ? 0 : -1;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_example_equals_builtin),
                cmocka_unit_test(test_every_key),
                cmocka_unit_test(test_lower_limit_lowers_builtin_default),
                cmocka_unit_test(test_structure_errors),
                cmocka_unit_test(test_duplicate_keys),
                cmocka_unit_test(test_value_errors),
                cmocka_unit_test(test_bounds),
                cmocka_unit_test(test_deep_nesting),
                cmocka_unit_test(test_runtime_section),
                cmocka_unit_test(test_load),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
