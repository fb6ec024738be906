/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Device nodes in a rootfs the container's user controls.  Needs root (mknod,
 * mount): the program skips (exit 77) otherwise.  The "container" is this
 * process: its mount namespace and a temporary rootfs. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cmocka.h>

#include "context.h"
#include "devnodes.h"
#include "error.h"
#include "fixture.h"

/* This process's <proc>/<pid> directory, as the pinned container's would be
 * (kept open for the test's life). */
static int self_dir(void)
{
        static int fd = -1;
        if (fd < 0)
                fd = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
        return fd;
}

static char rootfs[64];
/* Where a symlink in the rootfs would lead on the host: must stay empty. */
#define OUTSIDE "/tmp/crdma-test-devnodes-outside"
static char path[256];

static const char *at(const char *rel)
{
        snprintf(path, sizeof(path), "%s/%s", rootfs, rel);
        return path;
}

static const struct crdma_plan_node nodes[] = {
        { "/dev/infiniband/rdma_cm", 'c', 10, 124, 0666 },
        { "/dev/infiniband/uverbs0", 'c', 231, 192, 0666 },
        { "/dev/infiniband/umad0", 'c', 231, 0, 0600 },
};

static int fresh_rootfs(void **state)
{
        (void) state;
        if (rootfs[0]) {
                umount2(rootfs, MNT_DETACH);
                if (fixture_rm_tree(rootfs) < 0)
                        return -1;
        }
        /* A runtime binds the rootfs onto itself in the container's mount
         * namespace, and crdma requires that mount: so does this test, in a
         * mount namespace of its own. */
        static bool private_ns;
        if (!private_ns && (unshare(CLONE_NEWNS) < 0 ||
                            mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0))
                return -1;
        private_ns = true;
        fixture_tmpdir(rootfs, sizeof(rootfs), "devnodes");
        if (mount(rootfs, rootfs, NULL, MS_BIND, NULL) < 0)
                return -1;
        return mkdir(at("dev"), 0755);
}

static int cleanup_rootfs(void **state)
{
        (void) state;
        if (!rootfs[0])
                return 0;
        umount2(rootfs, MNT_DETACH);
        return fixture_rm_tree(rootfs) == 0 && fixture_rm_tree(OUTSIDE) == 0 ? 0 : -1;
}

static struct crdma_context *ctx_new(void)
{
        struct crdma_context *ctx = NULL;
        assert_int_equal(crdma_context_new(&ctx, NULL), 0);
        return ctx;
}

static void assert_chr(const char *rel, unsigned major, unsigned minor, unsigned mode)
{
        struct stat st;
        assert_int_equal(lstat(at(rel), &st), 0);
        assert_true(S_ISCHR(st.st_mode));
        assert_int_equal(major(st.st_rdev), major);
        assert_int_equal(minor(st.st_rdev), minor);
        assert_int_equal(st.st_mode & 07777, mode);
}

static bool exists(const char *rel)
{
        struct stat st;
        return lstat(at(rel), &st) == 0;
}

static int create(size_t n, struct crdma_devnodes_undo **undo, struct crdma_error **err)
{
        struct crdma_context *ctx = ctx_new();
        int r = crdma_devnodes_create(ctx, self_dir(), rootfs, nodes, n, 0, 0, undo, err);
        crdma_context_free(ctx);
        return r;
}

static void test_create_and_undo(void **state)
{
        (void) state;
        struct crdma_devnodes_undo *undo = NULL;
        assert_int_equal(create(3, &undo, NULL), 0);
        assert_chr("dev/infiniband/rdma_cm", 10, 124, 0666);
        assert_chr("dev/infiniband/uverbs0", 231, 192, 0666);
        assert_chr("dev/infiniband/umad0", 231, 0, 0600);

        /* Twice is harmless: nothing new made, the first undo still owns them. */
        struct crdma_devnodes_undo *again = NULL;
        assert_int_equal(create(3, &again, NULL), 0);
        assert_int_equal(crdma_devnodes_undo(again, NULL), 0);
        crdma_devnodes_undo_free(again);
        assert_true(exists("dev/infiniband/uverbs0"));

        assert_int_equal(crdma_devnodes_undo(undo, NULL), 0);
        crdma_devnodes_undo_free(undo);
        assert_false(exists("dev/infiniband"));
        assert_true(exists("dev"));
}

static void refused(size_t n, const char *needle)
{
        struct crdma_devnodes_undo *undo = NULL;
        struct crdma_error *err = NULL;
        assert_true(create(n, &undo, &err) < 0);
        assert_null(undo);
        if (!strstr(crdma_error_message(err), needle))
                fail_msg("\"%s\" lacks \"%s\"", crdma_error_message(err), needle);
        crdma_error_free(err);
}

static void test_dev_symlink(void **state)
{
        (void) state;
        assert_int_equal(rmdir(at("dev")), 0);
        assert_int_equal(mkdir(OUTSIDE, 0755), 0);
        assert_int_equal(symlink(OUTSIDE, at("dev")), 0);
        refused(2, "/dev: is a symlink");
        assert_int_equal(rmdir(OUTSIDE), 0); /* still empty */

        /* Relative escape: ../../.. stays inside the root with RESOLVE_IN_ROOT
         * but links are refused before that matters. */
        assert_int_equal(unlink(at("dev")), 0);
        assert_int_equal(symlink("../../../../etc", at("dev")), 0);
        refused(2, "/dev: is a symlink");
}

static void test_infiniband_symlink(void **state)
{
        (void) state;
        assert_int_equal(mkdir(OUTSIDE, 0755), 0);
        assert_int_equal(symlink(OUTSIDE, at("dev/infiniband")), 0);
        refused(2, "/dev/infiniband: is not a directory");
        assert_int_equal(rmdir(OUTSIDE), 0);
        assert_int_equal(unlink(at("dev/infiniband")), 0);
        assert_int_equal(symlink("/proc/1/root", at("dev/infiniband")), 0);
        refused(2, "/dev/infiniband: is not a directory");
}

static void test_existing_wrong_file(void **state)
{
        (void) state;
        assert_int_equal(mkdir(at("dev/infiniband"), 0755), 0);
        int fd = open(at("dev/infiniband/uverbs0"), O_CREAT | O_WRONLY, 0644);
        assert_true(fd >= 0);
        close(fd);
        /* rdma_cm (first) gets made, then uverbs0 conflicts: all undone. */
        refused(2, "/dev/infiniband/uverbs0: exists and is not the expected char device");
        assert_false(exists("dev/infiniband/rdma_cm"));
        struct stat st;
        assert_int_equal(lstat(at("dev/infiniband/uverbs0"), &st), 0);
        assert_true(S_ISREG(st.st_mode)); /* the container's file is left as it was */

        /* A node with other numbers, a fifo, a symlink: all refused. */
        assert_int_equal(unlink(at("dev/infiniband/uverbs0")), 0);
        assert_int_equal(mknod(at("dev/infiniband/uverbs0"), S_IFCHR | 0666, makedev(1, 3)), 0);
        refused(2, "exists and is not the expected char device");
        assert_int_equal(unlink(at("dev/infiniband/uverbs0")), 0);
        assert_int_equal(mkfifo(at("dev/infiniband/uverbs0"), 0666), 0);
        refused(2, "exists and is not the expected char device");
        assert_int_equal(unlink(at("dev/infiniband/uverbs0")), 0);
        assert_int_equal(symlink("/dev/null", at("dev/infiniband/uverbs0")), 0);
        refused(2, "exists and is not the expected char device");
        assert_false(exists("dev/infiniband/rdma_cm"));
}

static void test_no_dev(void **state)
{
        (void) state;
        assert_int_equal(rmdir(at("dev")), 0);
        refused(1, "/dev: cannot open as a directory");
}

int main(void)
{
        fixture_require_root("mknod and mount in a mount namespace of its own");
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(test_create_and_undo, fresh_rootfs),
                cmocka_unit_test_setup(test_dev_symlink, fresh_rootfs),
                cmocka_unit_test_setup(test_infiniband_symlink, fresh_rootfs),
                cmocka_unit_test_setup(test_existing_wrong_file, fresh_rootfs),
                cmocka_unit_test_setup(test_no_dev, fresh_rootfs),
        };
        return cmocka_run_group_tests(tests, NULL, cleanup_rootfs);
}
