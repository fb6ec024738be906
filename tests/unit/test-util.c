/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The strict parsers every annotation, policy value and sysfs file goes through. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "crdma.h"
#include "error.h"
#include "fixture.h"
#include "util.h"

static void test_decimal(void **state)
{
        (void) state;
        uint64_t v = 7;
        assert_int_equal(crdma_parse_decimal("0", 10, &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(crdma_parse_decimal("18446744073709551615", UINT64_MAX, &v), 0);
        assert_true(v == UINT64_MAX);
        assert_int_equal(crdma_parse_decimal("18446744073709551616", UINT64_MAX, &v), -ERANGE);
        assert_int_equal(crdma_parse_decimal("11", 10, &v), -ERANGE);
        v = 7;
        const char *bad[] = { "", "-0", "+1", "01", "00", " 1", "1 ", "1a", "0x1", "1.0", "１" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_equal(crdma_parse_decimal(bad[i], UINT64_MAX, &v), -EINVAL);
        assert_int_equal(v, 7); /* untouched on failure */
}

static void test_bytes(void **state)
{
        (void) state;
        uint64_t v;
        assert_int_equal(crdma_parse_bytes("unlimited", &v), 0);
        assert_true(v == CRDMA_UNLIMITED);
        assert_int_equal(crdma_parse_bytes("5", &v), 0);
        assert_int_equal(v, 5);
        assert_int_equal(crdma_parse_bytes("5K", &v), 0);
        assert_int_equal(v, 5120);
        assert_int_equal(crdma_parse_bytes("16777215T", &v), 0);
        assert_true(v == 16777215ULL << 40);
        assert_int_equal(crdma_parse_bytes("16777216T", &v), -ERANGE);
        /* The all-ones value means unlimited; a size may not collide with it. */
        assert_int_equal(crdma_parse_bytes("18446744073709551615", &v), -ERANGE);
        const char *bad[] = { "", "K", "1k", "1KB", "1KiB", "K1", "1 K", "-1K", "Unlimited", "inf" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_equal(crdma_parse_bytes(bad[i], &v), -EINVAL);
}

static void test_devnum(void **state)
{
        (void) state;
        unsigned maj = 1, min = 1;
        assert_int_equal(crdma_parse_devnum("231:192", &maj, &min), 0);
        assert_int_equal(maj, 231);
        assert_int_equal(min, 192);
        assert_int_equal(crdma_parse_devnum("4095:1048575", &maj, &min), 0);
        const char *bad[] = { "", ":", "231:", ":192", "231-192", "231:192:1", "4096:0",
                              "0:1048576", "a:b", "231: 192", "99999999999999999999:1" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (crdma_parse_devnum(bad[i], &maj, &min) != -EINVAL)
                        fail_msg("accepted \"%s\"", bad[i]);
}

static void test_device_names(void **state)
{
        (void) state;
        assert_true(crdma_device_name_valid("mlx5_0"));
        assert_true(crdma_device_name_valid("rxe0"));
        assert_true(crdma_device_name_valid("a.b-c_D9"));
        assert_true(crdma_device_name_valid("..."));
        char s63[64];
        memset(s63, 'x', 63);
        s63[63] = '\0';
        assert_true(crdma_device_name_valid(s63));
        const char *bad[] = { "", ".", "..", "a/b", "../x", "a b", "a\n", "a*", "é", "a:b" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_false(crdma_device_name_valid(bad[i]));
        char s64[65];
        memset(s64, 'x', 64);
        s64[64] = '\0';
        assert_false(crdma_device_name_valid(s64));
}

static void test_read_text(void **state)
{
        (void) state;
        char dir[64];
        fixture_tmpdir(dir, sizeof(dir), "util");
        int dfd = open(dir, O_RDONLY | O_DIRECTORY);
        assert_true(dfd >= 0);
        int fd = openat(dfd, "a", O_WRONLY | O_CREAT, 0644);
        assert_int_equal(write(fd, "4: ACTIVE\n\n", 11), 11);
        close(fd);
        char *text = NULL;
        assert_int_equal(crdma_read_text_at(dfd, "a", 64, &text), 0);
        assert_string_equal(text, "4: ACTIVE");
        free(text);
        assert_int_equal(crdma_read_text_at(dfd, "a", 4, &text), -EFBIG);
        assert_int_equal(crdma_read_text_at(dfd, "missing", 64, &text), -ENOENT);
        fd = openat(dfd, "nul", O_WRONLY | O_CREAT, 0644);
        assert_int_equal(write(fd, "a\0b", 3), 3);
        close(fd);
        assert_int_equal(crdma_read_text_at(dfd, "nul", 64, &text), -EINVAL);
        unlinkat(dfd, "a", 0);
        unlinkat(dfd, "nul", 0);
        close(dfd);
        rmdir(dir);
}

static void test_errors(void **state)
{
        (void) state;
        struct crdma_error *err = NULL;
        assert_int_equal(crdma_fail(&err, EINVAL, "x %d", 1), -EINVAL);
        /* The first error wins: a later one must not replace the cause. */
        assert_int_equal(crdma_fail(&err, ENOMEM, "second"), -ENOMEM);
        assert_string_equal(crdma_error_message(err), "x 1");
        assert_int_equal(crdma_error_errno(err), EINVAL);
        crdma_error_prefix(&err, "ctx %s", "p");
        assert_string_equal(crdma_error_message(err), "ctx p: x 1");
        crdma_error_free(err);
        err = NULL;
        assert_int_equal(crdma_fail_errno(&err, -ENOENT, "open %s", "f"), -ENOENT);
        assert_string_equal(crdma_error_message(err), "open f: No such file or directory");
        assert_int_equal(crdma_error_kind(err), CRDMA_ERROR_SYSTEM);
        crdma_error_free(err);
        err = NULL;
        assert_int_equal(crdma_refuse(&err, 0, "no"), -EIO); /* never a 0 "failure" */
        assert_int_equal(crdma_error_kind(err), CRDMA_ERROR_REFUSED);
        crdma_error_free(err);
        assert_int_equal(crdma_fail(NULL, EPERM, "ignored"), -EPERM);
        crdma_error_free(NULL);
        assert_null(crdma_error_message(NULL));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_decimal),   cmocka_unit_test(test_bytes),
                cmocka_unit_test(test_devnum),    cmocka_unit_test(test_device_names),
                cmocka_unit_test(test_read_text), cmocka_unit_test(test_errors),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
