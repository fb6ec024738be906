/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The rootfs path crdma reads from config.json, swapped after the runtime
 * mounted the rootfs: renamed and replaced by an impostor directory, or by a
 * symlink to a host directory.  crdma_devnodes_create must refuse and make
 * nothing, anywhere.  Needs root (mount, mknod): the program skips (exit 77)
 * otherwise.  The "container" is this process in a mount namespace of its
 * own.  With real runc and crun: tests/vm 41. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

static char base[64];
static char path[256];
static int host_ns = -1; /* the mount namespace the test started in */

static const char *at(const char *rel)
{
        snprintf(path, sizeof(path), "%s/%s", base, rel);
        return path;
}

static const struct crdma_plan_node nodes[] = {
        { "/dev/infiniband/uverbs0", 'c', 231, 192, 0666 },
};

static int setup(void **state)
{
        (void) state;
        if (host_ns < 0)
                host_ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
        if (host_ns < 0 || unshare(CLONE_NEWNS) < 0 ||
            mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return -1;
        fixture_tmpdir(base, sizeof(base), "rootfs");
        if (mkdir(at("rootfs"), 0755) < 0 || mkdir(at("rootfs/dev"), 0755) < 0 ||
            mkdir(at("host"), 0755) < 0 || mkdir(at("host/dev"), 0755) < 0)
                return -1;
        /* The runtime's doing: the rootfs bound onto itself. */
        char r[128];
        snprintf(r, sizeof(r), "%s/rootfs", base);
        return mount(r, r, NULL, MS_BIND, NULL);
}

static int teardown(void **state)
{
        (void) state;
        if (!base[0])
                return 0;
        umount2(at("rootfs"), MNT_DETACH);
        umount2(at("rootfs.real"), MNT_DETACH);
        return fixture_rm_tree(base) == 0 ? 0 : -1;
}

static void refused(const char *needle)
{
        struct crdma_context *ctx = NULL;
        struct crdma_devnodes_undo *undo = NULL;
        struct crdma_error *err = NULL;
        assert_int_equal(crdma_context_new(&ctx, NULL), 0);
        int r = crdma_devnodes_create(ctx, self_dir(), at("rootfs"), nodes, 1, 0, 0, &undo, &err);
        crdma_context_free(ctx);
        if (r >= 0)
                fail_msg("made the nodes in a swapped rootfs");
        assert_null(undo);
        if (!strstr(crdma_error_message(err), needle))
                fail_msg("\"%s\" lacks \"%s\"", crdma_error_message(err), needle);
        crdma_error_free(err);
}

/* Rename as the attacker does: from the host's mount namespace, where the
 * rootfs is no mount point (the kernel refuses to rename one in its own). */
static void host_rename(const char *from, const char *to)
{
        char f[256];
        snprintf(f, sizeof(f), "%s", at(from));
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                _exit(setns(host_ns, CLONE_NEWNS) == 0 && rename(f, at(to)) == 0 ? 0 : 1);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static bool exists(const char *rel)
{
        struct stat st;
        return lstat(at(rel), &st) == 0;
}

static void test_renamed_and_replaced(void **state)
{
        (void) state;
        /* The mount moves with the renamed directory; the impostor at the
         * old path is a plain host directory. */
        host_rename("rootfs", "rootfs.real");
        assert_int_equal(mkdir(at("rootfs"), 0755), 0);
        assert_int_equal(mkdir(at("rootfs/dev"), 0755), 0);
        refused("is not the container's root mount in its mount namespace");
        assert_false(exists("rootfs/dev/infiniband"));
        assert_false(exists("rootfs.real/dev/infiniband"));
}

static void test_replaced_by_symlink(void **state)
{
        (void) state;
        host_rename("rootfs", "rootfs.real");
        char host[128];
        snprintf(host, sizeof(host), "%s/host", base);
        assert_int_equal(symlink(host, at("rootfs")), 0);
        refused("a symlink on the way");
        assert_false(exists("host/dev/infiniband"));
        /* A symlink to the real, mounted rootfs is refused too: crdma does
         * not resolve the path through links at all. */
        assert_int_equal(unlink(at("rootfs")), 0);
        assert_int_equal(symlink("rootfs.real", at("rootfs")), 0);
        refused("a symlink on the way");
        assert_false(exists("rootfs.real/dev/infiniband"));
}

static void test_mounted_rootfs_works(void **state)
{
        (void) state;
        struct crdma_context *ctx = NULL;
        struct crdma_devnodes_undo *undo = NULL;
        struct crdma_error *err = NULL;
        assert_int_equal(crdma_context_new(&ctx, NULL), 0);
        int r = crdma_devnodes_create(ctx, self_dir(), at("rootfs"), nodes, 1, 0, 0, &undo, &err);
        if (r < 0)
                fail_msg("%s", crdma_error_message(err));
        assert_true(exists("rootfs/dev/infiniband/uverbs0"));
        assert_int_equal(crdma_devnodes_undo(undo, NULL), 0);
        crdma_devnodes_undo_free(undo);
        crdma_context_free(ctx);
        assert_false(exists("rootfs/dev/infiniband"));
}

int main(void)
{
        fixture_require_root("mount and mknod in a mount namespace of its own");
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_mounted_rootfs_works, setup, teardown),
                cmocka_unit_test_setup_teardown(test_renamed_and_replaced, setup, teardown),
                cmocka_unit_test_setup_teardown(test_replaced_by_symlink, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
