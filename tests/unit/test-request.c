/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Annotations -> request: every key, every kind of bad value. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "error.h"
#include "request.h"

static struct crdma_request *parse_ok(const struct crdma_kv *kv, size_t n)
{
        struct crdma_request *req = NULL;
        struct crdma_error *err = NULL;
        int r = crdma_request_from_annotations(kv, n, &req, &err);
        if (r < 0)
                fail_msg("unexpected refusal: %s", crdma_error_message(err));
        assert_null(err);
        return req;
}

/* Refused (kind REFUSED, exit 1) with a message containing `needle`. */
static void refused(const struct crdma_kv *kv, size_t n, const char *needle)
{
        struct crdma_request *req = (void *) 0x1;
        struct crdma_error *err = NULL;
        int r = crdma_request_from_annotations(kv, n, &req, &err);
        assert_true(r < 0);
        assert_ptr_equal(req, (void *) 0x1); /* outputs untouched on failure */
        assert_non_null(err);
        assert_int_equal(crdma_error_kind(err), CRDMA_ERROR_REFUSED);
        if (!strstr(crdma_error_message(err), needle))
                fail_msg("message \"%s\" lacks \"%s\"", crdma_error_message(err), needle);
        crdma_error_free(err);
}

static void refused1(const char *key, const char *value, const char *needle)
{
        bool devices = strcmp(key, "io.crdma.devices") == 0;
        struct crdma_kv kv[] = { { "io.crdma.devices", devices ? value : "mlx5_0" }, { key, value } };
        refused(kv, devices ? 1 : 2, needle);
}

static void test_no_crdma_annotation_is_nothing(void **state)
{
        (void) state;
        struct crdma_kv kv[] = { { "io.kubernetes.pod", "x" }, { "io.crdmax.devices", "all" },
                                 { "io.crdma", "all" } };
        struct crdma_request *req = (void *) 0x1;
        assert_int_equal(crdma_request_from_annotations(kv, 3, &req, NULL), 0);
        assert_null(req);
        assert_int_equal(crdma_request_from_annotations(NULL, 0, &req, NULL), 0);
        assert_null(req);
}

static void test_defaults(void **state)
{
        (void) state;
        struct crdma_kv kv[] = { { "io.crdma.devices", "rxe0" } };
        struct crdma_request *req = parse_ok(kv, 1);
        assert_false(req->all_devices);
        assert_int_equal(req->devices.n, 1);
        assert_string_equal(req->devices.v[0], "rxe0");
        assert_int_equal(req->netns, CRDMA_NETNS_SHARED);
        assert_false(req->has_hca_handles);
        assert_false(req->has_hca_objects);
        assert_false(req->has_memlock);
        assert_true(req->rdma_cm);
        assert_false(req->rdma_cm_given);
        assert_false(req->umad);
        assert_false(req->raw);
        crdma_request_free(req);
}

static void test_every_key(void **state)
{
        (void) state;
        struct crdma_kv kv[] = {
                { "io.crdma.devices", "mlx5_0,mlx5_1,rxe.a-b_c" },
                { "io.crdma.netns", "exclusive" },
                { "io.crdma.hca-handles", "2147483647" },
                { "io.crdma.hca-objects", "max" },
                { "io.crdma.memlock", "64G" },
                { "io.crdma.rdma-cm", "false" },
                { "io.crdma.umad", "true" },
                { "io.crdma.raw", "true" },
                { "unrelated", "kept out" },
        };
        struct crdma_request *req = parse_ok(kv, 9);
        assert_int_equal(req->devices.n, 3);
        assert_string_equal(req->devices.v[0], "mlx5_0");
        assert_string_equal(req->devices.v[1], "mlx5_1");
        assert_string_equal(req->devices.v[2], "rxe.a-b_c");
        assert_int_equal(req->netns, CRDMA_NETNS_EXCLUSIVE);
        assert_true(req->has_hca_handles);
        assert_int_equal(req->hca_handles, 2147483647);
        assert_true(req->has_hca_objects);
        assert_true(req->hca_objects == CRDMA_UNLIMITED);
        assert_true(req->memlock == 64ULL << 30);
        assert_false(req->rdma_cm);
        assert_true(req->rdma_cm_given);
        assert_true(req->umad);
        assert_true(req->raw);
        crdma_request_free(req);
}

static void test_all_and_units(void **state)
{
        (void) state;
        static const struct {
                const char *v;
                uint64_t bytes;
        } mem[] = {
                { "1", 1 }, { "1K", 1024 }, { "3M", 3ULL << 20 }, { "1G", 1ULL << 30 },
                { "2T", 2ULL << 40 }, { "unlimited", CRDMA_UNLIMITED },
                { "18446744073709551614", UINT64_MAX - 1 },
        };
        for (size_t i = 0; i < sizeof(mem) / sizeof(mem[0]); i++) {
                struct crdma_kv kv[] = { { "io.crdma.devices", "all" }, { "io.crdma.memlock", mem[i].v } };
                struct crdma_request *req = parse_ok(kv, 2);
                assert_true(req->all_devices);
                assert_int_equal(req->devices.n, 0);
                assert_true(req->memlock == mem[i].bytes);
                crdma_request_free(req);
        }
        struct crdma_kv kv[] = { { "io.crdma.devices", "all" }, { "io.crdma.netns", "shared" },
                                 { "io.crdma.hca-handles", "1" } };
        struct crdma_request *req = parse_ok(kv, 3);
        assert_int_equal(req->hca_handles, 1);
        assert_int_equal(req->netns, CRDMA_NETNS_SHARED);
        crdma_request_free(req);
}

static void test_bad_devices(void **state)
{
        (void) state;
        refused1("io.crdma.devices", "", "empty");
        refused1("io.crdma.devices", ",", "empty item");
        refused1("io.crdma.devices", "mlx5_0,", "empty item");
        refused1("io.crdma.devices", ",mlx5_0", "empty item");
        refused1("io.crdma.devices", "mlx5_0,,mlx5_1", "empty item");
        refused1("io.crdma.devices", "../x", "not a device name");
        refused1("io.crdma.devices", "..", "not a device name");
        refused1("io.crdma.devices", ".", "not a device name");
        refused1("io.crdma.devices", "mlx5_0/../../etc", "not a device name");
        refused1("io.crdma.devices", "mlx5 0", "not a device name");
        refused1("io.crdma.devices", "mlx5_0\n", "not a device name");
        refused1("io.crdma.devices", "m\xc3\xa9x", "not a device name");
        refused1("io.crdma.devices", "mlx5_*", "not a device name");
        refused1("io.crdma.devices", "mlx5_0,mlx5_0", "names mlx5_0 twice");
        refused1("io.crdma.devices", "all,mlx5_0", "cannot be combined");
}

static void test_long_and_many_devices(void **state)
{
        (void) state;
        char name64[65];
        memset(name64, 'a', 64);
        name64[64] = '\0';
        refused1("io.crdma.devices", name64, "longer than 63");
        name64[63] = '\0';
        struct crdma_kv ok[] = { { "io.crdma.devices", name64 } };
        crdma_request_free(parse_ok(ok, 1));

        /* 1025 distinct names: bounded. */
        size_t cap = 1025 * 8;
        char *list = calloc(1, cap);
        size_t o = 0;
        for (int i = 0; i < 1025; i++)
                o += (size_t) snprintf(list + o, cap - o, "%sd%d", i ? "," : "", i);
        refused1("io.crdma.devices", list, "more than 1024");
        free(list);

        char *huge = malloc(1024 * 1024 + 1);
        memset(huge, 'a', 1024 * 1024);
        huge[1024 * 1024] = '\0';
        struct crdma_kv kv[] = { { "io.crdma.devices", huge } };
        refused(kv, 1, "longer than 64 KiB");
        free(huge);
}

static void test_bad_numbers(void **state)
{
        (void) state;
        const char *keys[] = { "io.crdma.hca-handles", "io.crdma.hca-objects" };
        for (int k = 0; k < 2; k++) {
                refused1(keys[k], "", "must be an integer");
                refused1(keys[k], "0", "must be an integer");
                refused1(keys[k], "-1", "must be an integer");
                refused1(keys[k], "+1", "must be an integer");
                refused1(keys[k], "01", "leading zero");
                refused1(keys[k], "1 ", "must be an integer");
                refused1(keys[k], " 1", "must be an integer");
                refused1(keys[k], "1.5", "must be an integer");
                refused1(keys[k], "1e3", "must be an integer");
                refused1(keys[k], "0x10", "must be an integer");
                refused1(keys[k], "12abc", "must be an integer");
                refused1(keys[k], "MAX", "must be an integer");
                refused1(keys[k], "unlimited", "must be an integer");
                refused1(keys[k], "2147483648", "too large");
                refused1(keys[k], "99999999999999999999999", "too large");
        }
        refused1("io.crdma.memlock", "", "must be bytes");
        refused1("io.crdma.memlock", "0", "must be bytes");
        refused1("io.crdma.memlock", "-1", "must be bytes");
        refused1("io.crdma.memlock", "1g", "must be bytes");
        refused1("io.crdma.memlock", "1GB", "must be bytes");
        refused1("io.crdma.memlock", "G", "must be bytes");
        refused1("io.crdma.memlock", "1.5G", "must be bytes");
        refused1("io.crdma.memlock", "max", "must be bytes");
        refused1("io.crdma.memlock", "18446744073709551615", "too large");
        refused1("io.crdma.memlock", "16777216T", "too large");
        refused1("io.crdma.memlock", "99999999999999999999999", "too large");
}

static void test_bad_enums_and_bools(void **state)
{
        (void) state;
        refused1("io.crdma.netns", "", "must be \"shared\" or \"exclusive\"");
        refused1("io.crdma.netns", "Exclusive", "must be \"shared\" or \"exclusive\"");
        refused1("io.crdma.netns", "host", "must be \"shared\" or \"exclusive\"");
        const char *bools[] = { "io.crdma.rdma-cm", "io.crdma.umad", "io.crdma.raw" };
        for (int i = 0; i < 3; i++) {
                refused1(bools[i], "", "must be \"true\" or \"false\"");
                refused1(bools[i], "yes", "must be \"true\" or \"false\"");
                refused1(bools[i], "1", "must be \"true\" or \"false\"");
                refused1(bools[i], "TRUE", "must be \"true\" or \"false\"");
                refused1(bools[i], "true ", "must be \"true\" or \"false\"");
        }
}

static void test_keys(void **state)
{
        (void) state;
        refused1("io.crdma.device", "mlx5_0", "io.crdma.device: unknown key");
        refused1("io.crdma.Devices", "mlx5_0", "unknown key");
        refused1("io.crdma.", "x", "unknown key");
        refused1("io.crdma.hca_handles", "1", "unknown key");

        struct crdma_kv no_devices[] = { { "io.crdma.memlock", "1G" } };
        refused(no_devices, 1, "io.crdma.devices: missing");
        struct crdma_kv twice[] = { { "io.crdma.devices", "a" }, { "io.crdma.umad", "true" },
                                    { "io.crdma.umad", "false" } };
        refused(twice, 3, "io.crdma.umad: given twice");
        struct crdma_kv nullv[] = { { "io.crdma.devices", NULL } };
        refused(nullv, 1, "has no value");
}

static void test_messages_are_safe(void **state)
{
        (void) state;
        /* A hostile value is quoted printable and short in the message. */
        struct crdma_kv kv[] = { { "io.crdma.devices", "a" },
                                 { "io.crdma.netns", "x\n\"evil\"\x1b[31m and a very long tail "
                                                     "that goes on and on and on and on and on" } };
        struct crdma_error *err = NULL;
        struct crdma_request *req = NULL;
        assert_true(crdma_request_from_annotations(kv, 2, &req, &err) < 0);
        const char *m = crdma_error_message(err);
        assert_null(strchr(m, '\n'));
        assert_null(strchr(m, '\x1b'));
        assert_non_null(strstr(m, "x\\x0a\\x22evil\\x22\\x1b"));
        assert_non_null(strstr(m, "...\""));
        assert_true(strlen(m) < 200);
        crdma_error_free(err);

        /* A key is named as given, but its control characters are escaped:
         * the hook's error stays one line (fuzzing found keys printed raw). */
        struct crdma_kv key[] = { { "io.crdma.devices", "a" }, { "io.crdma.x\nFAKE\x7f", "1" } };
        err = NULL;
        assert_true(crdma_request_from_annotations(key, 2, &req, &err) < 0);
        m = crdma_error_message(err);
        assert_null(strchr(m, '\n'));
        assert_non_null(strstr(m, "io.crdma.x\\x0aFAKE\\x7f: unknown key"));
        crdma_error_free(err);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_no_crdma_annotation_is_nothing),
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_every_key),
                cmocka_unit_test(test_all_and_units),
                cmocka_unit_test(test_bad_devices),
                cmocka_unit_test(test_long_and_many_devices),
                cmocka_unit_test(test_bad_numbers),
                cmocka_unit_test(test_bad_enums_and_bools),
                cmocka_unit_test(test_keys),
                cmocka_unit_test(test_messages_are_safe),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
