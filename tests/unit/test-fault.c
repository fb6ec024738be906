/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fault injection (libcrdma/fault.h, the test-only build): each step of
 * crdma_plan_apply fails in turn as its system call would, and the error
 * names the step while everything done before it is taken back.
 *
 * The "container" is a child process (its own RLIMIT_MEMLOCK; for the
 * exclusive-mode tests its own network namespace), a temporary rootfs (root
 * only: mknod), a cgroup v1 tree of plain files, and a proc root whose
 * <pid>/cgroup points into that tree while <pid>/ns is the child's real
 * namespaces.  The RDMA netlink conversation is a replayed script.  The BPF
 * steps need a real cgroup v2 kernel: tests/vm/scenarios/45-fault-injection. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "cgroup.h"
#include "cleanup.h"
#include "context.h"
#include "error.h"
#include "fault.h"
#include "fixture.h"
#include "nl-replay.h"

#define MEMLOCK_BEFORE (64 * 1024)

/* ------------------------------------------------------------ netlink script */

static void nl_devices(struct nl_replay *r, bool rxe0, bool rxe1)
{
        if (rxe0)
                nl_replay_device(r, 1, "rxe0");
        if (rxe1)
                nl_replay_device(r, 2, "rxe1");
        nl_replay_done(r);
}

static void nl_mode_exclusive(struct nl_replay *r)
{
        nl_replay_netns_mode(r, 0);
        nl_replay_error(r, 0, NULL);
}

/* ------------------------------------------------------------------ files */

static void put(const char *dir, const char *rel, const char *text)
{
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, rel);
        fixture_write_file(path, text);
}

static const char *get(const char *dir, const char *rel)
{
        static char buf[4096];
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, rel);
        FILE *f = fopen(path, "r");
        if (!f)
                return "(none)";
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        fclose(f);
        return buf;
}

static void link_to(const char *dir, const char *rel, const char *target)
{
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, rel);
        assert_int_equal(symlink(target, path), 0);
}

static bool exists(const char *dir, const char *rel)
{
        char path[512];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", dir, rel);
        return lstat(path, &st) == 0;
}

/* ---------------------------------------------------------------- fixture */

struct fixture {
        char base[64];
        char rootfs[96], cgroup[96], proc[96];
        pid_t child;
        bool own_netns;
        struct nl_script s;
        struct crdma_context *ctx;
        struct crdma_device_list *devices;
};

/* The container's process: a mount namespace of its own where the rootfs is
 * bound onto itself (as runc and crun do, and as crdma requires), a lower
 * RLIMIT_MEMLOCK than its hard limit (so raising it needs no
 * CAP_SYS_RESOURCE), maybe a network namespace of its own. */
static pid_t start_child(const char *rootfs, bool netns, bool *own_netns)
{
        int p[2];
        assert_int_equal(pipe(p), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(p[0]);
                struct rlimit rl;
                char ok = unshare(CLONE_NEWNS) == 0 &&
                          mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
                          mount(rootfs, rootfs, NULL, MS_BIND, NULL) == 0 &&
                          getrlimit(RLIMIT_MEMLOCK, &rl) == 0;
                rl.rlim_cur = MEMLOCK_BEFORE;
                ok = ok && setrlimit(RLIMIT_MEMLOCK, &rl) == 0;
                char ns = netns && unshare(CLONE_NEWNET) == 0;
                if (write(p[1], &ok, 1) != 1 || write(p[1], &ns, 1) != 1)
                        _exit(1);
                close(p[1]);
                for (;;)
                        pause();
        }
        close(p[1]);
        char ok = 0, ns = 0;
        assert_int_equal(read(p[0], &ok, 1), 1);
        assert_int_equal(read(p[0], &ns, 1), 1);
        close(p[0]);
        assert_true(ok);
        *own_netns = ns;
        return pid;
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        assert_non_null(f);
        *state = f;
        if (geteuid() != 0)
                return 0; /* every test skips: mknod and setns need root */
        fixture_tmpdir(f->base, sizeof(f->base), "fault");
        /* The script checks that a request is spoken inside a namespace, not
         * which: the library opens the child's itself, from the proc root. */
        nl_script_init(&f->s, -EBADF);
        snprintf(f->rootfs, sizeof(f->rootfs), "%s/rootfs", f->base);
        snprintf(f->cgroup, sizeof(f->cgroup), "%s/cgroup", f->base);
        snprintf(f->proc, sizeof(f->proc), "%s/proc", f->base);
        put(f->rootfs, "etc/hostname", "c1\n");
        char dev[128];
        snprintf(dev, sizeof(dev), "%s/dev", f->rootfs);
        assert_int_equal(mkdir(dev, 0755), 0);

        /* cgroup v1: a devices and an rdma hierarchy (no cgroup.controllers at the top) */
        put(f->cgroup, "devices/c1/devices.list", "c 1:3 rwm\nc *:* m\n");
        put(f->cgroup, "devices/c1/devices.allow", "");
        put(f->cgroup, "devices/c1/devices.deny", "");
        put(f->cgroup, "rdma/c1/rdma.max", "rxe0 hca_handle=max hca_object=max\n"
                                           "rxe1 hca_handle=max hca_object=max\n");
        f->child = start_child(f->rootfs, true, &f->own_netns);

        char rel[64], target[64];
        snprintf(rel, sizeof(rel), "%d/cgroup", (int) f->child);
        put(f->proc, rel, "11:devices:/c1\n7:rdma:/c1\n0::/\n");
        snprintf(rel, sizeof(rel), "%d/uid_map", (int) f->child);
        put(f->proc, rel, "         0          0 4294967295\n");
        snprintf(rel, sizeof(rel), "%d/gid_map", (int) f->child);
        put(f->proc, rel, "         0          0 4294967295\n");
        snprintf(rel, sizeof(rel), "%d/ns", (int) f->child);
        snprintf(target, sizeof(target), "/proc/%d/ns", (int) f->child);
        link_to(f->proc, rel, target);
        snprintf(rel, sizeof(rel), "%d/stat", (int) f->child);
        snprintf(target, sizeof(target), "/proc/%d/stat", (int) f->child);
        link_to(f->proc, rel, target);
        put(f->proc, "1/cmdline", "init");
        snprintf(target, sizeof(target), "/proc/%d/ns", (int) getpid());
        link_to(f->proc, "1/ns", target);

        f->ctx = fixture_context("rxe");
        assert_int_equal(crdma_context_set_root(f->ctx, CRDMA_ROOT_CGROUP, f->cgroup, NULL), 0);
        assert_int_equal(crdma_context_set_root(f->ctx, CRDMA_ROOT_PROC, f->proc, NULL), 0);
        assert_int_equal(crdma_devices_scan(f->ctx, &f->devices, NULL), 0);
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        if (f->child > 0) {
                kill(f->child, SIGKILL);
                waitpid(f->child, NULL, 0);
        }
        if (f->ctx)
                nl_script_assert_done(&f->s);
        crdma_device_list_free(f->devices);
        crdma_context_free(f->ctx);
        if (f->base[0])
                assert_int_equal(fixture_rm_tree(f->base), 0);
        free(f);
        return 0;
}

static struct fixture *fixture(void **state, bool exclusive)
{
        struct fixture *f = *state;
        if (geteuid() != 0)
                skip();
        if (exclusive) {
                if (!f->own_netns)
                        skip();
                crdma_context_set_netlink_ops(f->ctx, &nl_script_ops, &f->s);
        }
        return f;
}

static struct crdma_plan *plan_for(struct fixture *f, bool exclusive)
{
        const char *kv[] = { "io.crdma.devices=rxe0,rxe1", "io.crdma.hca-handles=3",
                             "io.crdma.memlock=1M", exclusive ? "io.crdma.netns=exclusive" : NULL,
                             NULL };
        struct crdma_plan *plan = fixture_plan_ok(f->ctx, f->devices, "{\"version\": 1}", kv);
        /* The order the checkpoints count in. */
        const char *path = NULL;
        assert_int_equal(crdma_plan_node(plan, 0, &path, NULL, NULL, NULL, NULL), 0);
        assert_string_equal(path, "/dev/infiniband/uverbs0");
        assert_int_equal(crdma_plan_node(plan, 1, &path, NULL, NULL, NULL, NULL), 0);
        assert_string_equal(path, "/dev/infiniband/uverbs1");
        assert_int_equal(crdma_plan_node(plan, 2, &path, NULL, NULL, NULL, NULL), 0);
        assert_string_equal(path, "/dev/infiniband/rdma_cm");
        return plan;
}

static uint64_t memlock_of(pid_t pid)
{
        struct rlimit rl;
        assert_int_equal(prlimit(pid, RLIMIT_MEMLOCK, NULL, &rl), 0);
        return rl.rlim_cur;
}

/* Apply with `step`:`nth` armed; it fails with `errnum` and a message
 * holding `needle`.  Returns the message (static). */
static const char *apply_fails(struct fixture *f, bool exclusive, const char *step, unsigned nth,
                               int errnum, const char *needle)
{
        static char message[1024];
        struct crdma_plan *plan = plan_for(f, exclusive);
        struct crdma_container *c = NULL;
        assert_int_equal(crdma_container_new(f->child, f->rootfs, &c, NULL), 0);
        assert_int_equal(crdma_fault_set(f->ctx, step, nth), 0);
        struct crdma_error *err = NULL;
        int r = crdma_plan_apply(f->ctx, plan, c, &err);
        assert_int_equal(crdma_fault_set(f->ctx, NULL, 0), 0);
        if (r != -errnum)
                fail_msg("%s:%u: apply returned %d (%s), not %d", step, nth, r,
                         err ? crdma_error_message(err) : "no error", -errnum);
        snprintf(message, sizeof(message), "%s", crdma_error_message(err));
        if (!strstr(message, needle))
                fail_msg("%s:%u: \"%s\" lacks \"%s\"", step, nth, message, needle);
        /* No rollback failed along the way. */
        assert_null(strstr(message, "rolling back also failed"));
        assert_null(strstr(message, "undoing the part already done failed"));
        crdma_error_free(err);
        crdma_container_free(c);
        crdma_plan_free(plan);
        return message;
}

/* As before: no node, no /dev/infiniband, the original memlock.  What the
 * device cgroup and rdma.max saw is checked per test (plain files keep the
 * last write, not the kernel's state). */
static void assert_untouched(struct fixture *f)
{
        assert_false(exists(f->rootfs, "dev/infiniband"));
        assert_true(exists(f->rootfs, "dev"));
        assert_int_equal(memlock_of(f->child), MEMLOCK_BEFORE);
}

static void assert_devcg_untouched(struct fixture *f)
{
        assert_string_equal(get(f->cgroup, "devices/c1/devices.allow"), "");
        assert_string_equal(get(f->cgroup, "devices/c1/devices.deny"), "");
}

/* devices.allow got both rules and devices.deny took both back. */
static void assert_devcg_taken_back(struct fixture *f)
{
        assert_string_equal(get(f->cgroup, "devices/c1/devices.allow"),
                            "c 10:124 rw\nc 231:192 rw\nc 231:193 rw\n");
        assert_string_equal(get(f->cgroup, "devices/c1/devices.deny"),
                            "c 10:124 rw\nc 231:192 rw\nc 231:193 rw\n");
}

static void assert_rdma_max_untouched(struct fixture *f)
{
        assert_string_equal(get(f->cgroup, "rdma/c1/rdma.max"),
                            "rxe0 hca_handle=max hca_object=max\n"
                            "rxe1 hca_handle=max hca_object=max\n");
}

/* The last write to rdma.max is rxe0's old line (undo runs last to first). */
static void assert_rdma_max_restored(struct fixture *f)
{
        assert_string_equal(get(f->cgroup, "rdma/c1/rdma.max"), "rxe0 hca_handle=max hca_object=max");
}

/* ------------------------------------------------------------------ tests */

static void test_switch(void **state)
{
        struct fixture *f = *state;
        struct crdma_fault fault;
        struct crdma_error *err = NULL;
        assert_int_equal(crdma_fault_parse("mknod:2", &fault, NULL), 0);
        assert_string_equal(fault.step, "mknod");
        assert_int_equal(fault.nth, 2);
        assert_int_equal(fault.errnum, EPERM);
        assert_int_equal(crdma_fault_parse("", &fault, NULL), 0);
        assert_null(fault.step);
        assert_int_equal(crdma_fault_parse("mknd", &fault, &err), -EINVAL);
        assert_string_equal(crdma_error_message(err),
                            "CRDMA_FAULT=mknd: unknown step; the steps are mknod, chown, "
                            "devices.allow, bpf-load, bpf-replace, subtree_control, rdma.max, "
                            "prlimit, netns-move, netns-return, stall");
        crdma_error_free(err);
        const char *bad[] = { "mknod:", "mknod:0", "mknod:x", "mknod:1:2", "mknod:1001" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                err = NULL;
                assert_int_equal(crdma_fault_parse(bad[i], &fault, &err), -EINVAL);
                crdma_error_free(err);
        }
        /* Setting a fault needs a context, not root: a plain one when the
         * fixture has none. */
        struct crdma_context *plain = NULL;
        if (!f->ctx)
                assert_int_equal(crdma_context_new(&plain, NULL), 0);
        struct crdma_context *ctx = f->ctx ? f->ctx : plain;
        assert_int_equal(crdma_fault_set(ctx, "nope", 1), -EINVAL);
        assert_int_equal(crdma_fault_set(ctx, "prlimit", 0), -EINVAL);
        assert_int_equal(crdma_fault_set(ctx, "prlimit", 1), 0);
        assert_int_equal(crdma_fault_set(ctx, NULL, 0), 0);
        crdma_context_free(plain);
}

/* The switch itself: the 2nd time, once. */
static void test_nth_hit_once(void **state)
{
        struct fixture *f = *state;
        if (!f->ctx)
                skip();
        assert_int_equal(crdma_fault_set(f->ctx, "rdma.max", 2), 0);
        assert_false(CRDMA_FAULT(f->ctx, "rdma.max"));
        assert_false(CRDMA_FAULT(f->ctx, "prlimit"));
        errno = 0;
        assert_true(CRDMA_FAULT(f->ctx, "rdma.max"));
        assert_int_equal(errno, EINVAL);
        assert_false(CRDMA_FAULT(f->ctx, "rdma.max"));
        assert_int_equal(crdma_fault_set(f->ctx, NULL, 0), 0);
}

static void test_mknod(void **state)
{
        struct fixture *f = fixture(state, false);
        static const char *const node[] = { "uverbs0", "uverbs1", "rdma_cm" };
        static const char *const numbers[] = { "(c 231:192)", "(c 231:193)", "(c 10:124)" };
        for (unsigned nth = 1; nth <= 3; nth++) {
                char needle[256];
                snprintf(needle, sizeof(needle), "%s/dev/infiniband/%s: creating the device node "
                         "%s in the container failed: Operation not permitted; the hook needs "
                         "CAP_MKNOD", f->rootfs, node[nth - 1], numbers[nth - 1]);
                apply_fails(f, false, "mknod", nth, EPERM, needle);
                assert_untouched(f);
                assert_devcg_untouched(f);
                assert_rdma_max_untouched(f);
        }
}

static void test_chown(void **state)
{
        struct fixture *f = fixture(state, false);
        char needle[256];
        /* 1st: /dev/infiniband itself (made by crdma), 2nd: uverbs0, 3rd: uverbs1 */
        snprintf(needle, sizeof(needle), "%s/dev/infiniband: setting its owner to 0:0 failed: "
                 "Operation not permitted", f->rootfs);
        apply_fails(f, false, "chown", 1, EPERM, needle);
        assert_untouched(f);
        snprintf(needle, sizeof(needle), "%s/dev/infiniband/uverbs1: setting the owner of the "
                 "device node to 0:0 (the container's root) failed: Operation not permitted",
                 f->rootfs);
        apply_fails(f, false, "chown", 3, EPERM, needle);
        assert_untouched(f);
        assert_devcg_untouched(f);
}

/* Nodes the image already has stay when a later step fails. */
static void test_existing_node_kept(void **state)
{
        struct fixture *f = fixture(state, false);
        char path[256];
        snprintf(path, sizeof(path), "%s/dev/infiniband", f->rootfs);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/dev/infiniband/uverbs0", f->rootfs);
        assert_int_equal(mknod(path, S_IFCHR | 0666, makedev(231, 192)), 0);
        /* uverbs0 exists (its mknod says EEXIST), uverbs1 is made, rdma_cm fails */
        apply_fails(f, false, "mknod", 3, EPERM, "/dev/infiniband/rdma_cm: creating");
        assert_true(exists(f->rootfs, "dev/infiniband/uverbs0"));
        assert_false(exists(f->rootfs, "dev/infiniband/uverbs1"));
        assert_false(exists(f->rootfs, "dev/infiniband/rdma_cm"));
}

static void test_devices_allow(void **state)
{
        struct fixture *f = fixture(state, false);
        apply_fails(f, false, "devices.allow", 1, EPERM,
                    "cgroup /c1: writing \"c 10:124 rw\" to devices.allow failed: Operation not "
                    "permitted; the hook needs CAP_SYS_ADMIN");
        assert_untouched(f);
        assert_devcg_untouched(f); /* nothing written, nothing to take back */

        apply_fails(f, false, "devices.allow", 3, EPERM,
                    "cgroup /c1: writing \"c 231:193 rw\" to devices.allow failed");
        assert_untouched(f);
        /* the two written, and exactly those two denied again */
        assert_string_equal(get(f->cgroup, "devices/c1/devices.allow"),
                            "c 10:124 rw\nc 231:192 rw\n");
        assert_string_equal(get(f->cgroup, "devices/c1/devices.deny"),
                            "c 10:124 rw\nc 231:192 rw\n");
        assert_rdma_max_untouched(f);
}

static void test_rdma_max(void **state)
{
        struct fixture *f = fixture(state, false);
        apply_fails(f, false, "rdma.max", 1, EINVAL,
                    "cgroup /c1/rdma.max: writing \"rxe0 hca_handle=3 hca_object=65536\" failed: "
                    "Invalid argument");
        assert_untouched(f);
        assert_devcg_taken_back(f);
        assert_rdma_max_untouched(f);

        put(f->cgroup, "devices/c1/devices.allow", "");
        put(f->cgroup, "devices/c1/devices.deny", "");
        apply_fails(f, false, "rdma.max", 2, EINVAL,
                    "cgroup /c1/rdma.max: writing \"rxe1 hca_handle=3 hca_object=65536\" failed");
        assert_untouched(f);
        assert_devcg_taken_back(f);
        assert_rdma_max_restored(f);
}

static void test_prlimit(void **state)
{
        struct fixture *f = fixture(state, false);
        char needle[256];
        snprintf(needle, sizeof(needle), "process %d: raising RLIMIT_MEMLOCK of the container to "
                 "1048576 bytes", (int) f->child);
        const char *msg = apply_fails(f, false, "prlimit", 1, EPERM, needle);
        assert_non_null(strstr(msg, "failed: Operation not permitted; the hook needs "
                                    "CAP_SYS_RESOURCE"));
        assert_untouched(f);
        assert_devcg_taken_back(f);
        assert_rdma_max_restored(f);
}

/* Without a fault the same apply succeeds: the checkpoints sit on the path
 * that really runs, and the fixture is one crdma can apply to. */
static void test_no_fault_applies(void **state)
{
        struct fixture *f = fixture(state, false);
        struct crdma_plan *plan = plan_for(f, false);
        struct crdma_container *c = NULL;
        assert_int_equal(crdma_container_new(f->child, f->rootfs, &c, NULL), 0);
        struct crdma_error *err = NULL;
        if (crdma_plan_apply(f->ctx, plan, c, &err) < 0)
                fail_msg("%s", crdma_error_message(err));
        assert_true(exists(f->rootfs, "dev/infiniband/rdma_cm"));
        assert_true(exists(f->rootfs, "dev/infiniband/uverbs1"));
        assert_int_equal(memlock_of(f->child), 1 << 20);
        assert_string_equal(get(f->cgroup, "devices/c1/devices.deny"), "");
        assert_string_equal(get(f->cgroup, "rdma/c1/rdma.max"), "rxe1 hca_handle=3 hca_object=65536");
        crdma_container_free(c);
        crdma_plan_free(plan);
}

/* Exclusive mode: the moves come last; the second one fails, the first is
 * moved back from inside the container's namespace, then the rest is undone. */
static void test_netns_move(void **state)
{
        struct fixture *f = fixture(state, true);
        struct nl_script *s = &f->s;
        nl_mode_exclusive(nl_script_expect(s, RDMA_NLDEV_CMD_SYS_GET, false)); /* prepare_exclusive */
        nl_devices(nl_script_expect(s, RDMA_NLDEV_CMD_GET, false), true, true);
        apply_fails(f, true, "netns-move", 1, EPERM,
                    "device rxe0: moving it into the container's network namespace needs "
                    "CAP_NET_ADMIN in the initial user namespace and over the container's network "
                    "namespace: Operation not permitted");
        assert_untouched(f);
        assert_devcg_taken_back(f);
        assert_rdma_max_restored(f);

        put(f->cgroup, "devices/c1/devices.allow", "");
        put(f->cgroup, "devices/c1/devices.deny", "");
        put(f->cgroup, "rdma/c1/rdma.max", "rxe0 hca_handle=max hca_object=max\n");
        nl_mode_exclusive(nl_script_expect(s, RDMA_NLDEV_CMD_SYS_GET, false));
        nl_devices(nl_script_expect(s, RDMA_NLDEV_CMD_GET, false), true, true);
        nl_replay_error(nl_script_expect(s, RDMA_NLDEV_CMD_SET, false), 0, NULL); /* rxe0 moved */
        nl_devices(nl_script_expect(s, RDMA_NLDEV_CMD_GET, false), false, true);
        /* rollback: rxe0 back, asked from inside the container's namespace */
        nl_mode_exclusive(nl_script_expect(s, RDMA_NLDEV_CMD_SYS_GET, false));
        nl_devices(nl_script_expect(s, RDMA_NLDEV_CMD_GET, true), true, false);
        nl_replay_error(nl_script_expect(s, RDMA_NLDEV_CMD_SET, true), 0, NULL);
        apply_fails(f, true, "netns-move", 2, EPERM,
                    "device rxe1: moving it into the container's network namespace needs "
                    "CAP_NET_ADMIN");
        assert_int_equal(s->next, s->n); /* the move back was made */
        assert_untouched(f);
        assert_devcg_taken_back(f);
        assert_rdma_max_restored(f);
}

/* A failed move back during the rollback is reported with the cause. */
static void test_netns_move_rollback_fails(void **state)
{
        struct fixture *f = fixture(state, true);
        struct nl_script *s = &f->s;
        nl_mode_exclusive(nl_script_expect(s, RDMA_NLDEV_CMD_SYS_GET, false));
        nl_devices(nl_script_expect(s, RDMA_NLDEV_CMD_GET, false), true, true);
        nl_replay_error(nl_script_expect(s, RDMA_NLDEV_CMD_SET, false), 0, NULL);
        nl_devices(nl_script_expect(s, RDMA_NLDEV_CMD_GET, false), false, true);
        nl_mode_exclusive(nl_script_expect(s, RDMA_NLDEV_CMD_SYS_GET, false));
        nl_devices(nl_script_expect(s, RDMA_NLDEV_CMD_GET, true), true, false);
        nl_replay_error(nl_script_expect(s, RDMA_NLDEV_CMD_SET, true), -EBUSY, "Device is busy");

        struct crdma_plan *plan = plan_for(f, true);
        struct crdma_container *c = NULL;
        assert_int_equal(crdma_container_new(f->child, f->rootfs, &c, NULL), 0);
        assert_int_equal(crdma_fault_set(f->ctx, "netns-move", 2), 0);
        struct crdma_error *err = NULL;
        assert_int_equal(crdma_plan_apply(f->ctx, plan, c, &err), -EPERM);
        assert_non_null(strstr(crdma_error_message(err),
                               "device rxe1: moving it into the container's network namespace "
                               "needs CAP_NET_ADMIN"));
        assert_non_null(strstr(crdma_error_message(err),
                               "; rolling back also failed: device rxe0: moving it back to the "
                               "host's network namespace failed: Device is busy: Device or "
                               "resource busy; it comes back when that namespace is deleted "
                               "(a pod's: when the pod is removed)"));
        crdma_error_free(err);
        crdma_container_free(c);
        crdma_plan_free(plan);
        /* What could be undone, was. */
        assert_untouched(f);
        assert_devcg_taken_back(f);
}

/* Release (poststop): a failed move back is an error naming the device; there
 * is nothing to roll back. */
static void test_netns_return(void **state)
{
        struct fixture *f = fixture(state, true);
        struct nl_script *s = &f->s;
        /* The proc root lists no process in the child's namespace: not in use. */
        char netns[64];
        snprintf(netns, sizeof(netns), "/proc/%d/ns/net", (int) f->child);
        nl_mode_exclusive(nl_script_expect(s, RDMA_NLDEV_CMD_SYS_GET, false));
        nl_devices(nl_script_expect(s, RDMA_NLDEV_CMD_GET, true), true, false);
        struct crdma_kv kv[] = { { "io.crdma.devices", "rxe0" }, { "io.crdma.netns", "exclusive" } };
        struct crdma_request *req = NULL;
        assert_int_equal(crdma_request_from_annotations(kv, 2, &req, NULL), 0);
        char rel[32];
        snprintf(rel, sizeof(rel), "%d", (int) f->child);
        char dir[256];
        snprintf(dir, sizeof(dir), "%s/%s", f->proc, rel);
        assert_int_equal(fixture_rm_tree(dir), 0);
        assert_int_equal(crdma_fault_set(f->ctx, "netns-return", 1), 0);
        struct crdma_error *err = NULL;
        assert_int_equal(crdma_release(f->ctx, req, netns, &err), -ENODEV);
        assert_string_equal(crdma_error_message(err), "device rxe0: moving it back to the host's "
                            "network namespace failed: No such device; it comes back when "
                            "that namespace is deleted (a pod's: when the pod is removed)");
        crdma_error_free(err);
        crdma_request_free(req);
}

/* cgroup v2 "+rdma" in the ancestors (the v2 device program cannot run on a
 * plain tree, so this step is driven on its own here, and in apply by the VM):
 * when the second ancestor's write fails, the first one's is taken back. */
static void test_subtree_control(void **state)
{
        struct fixture *f = *state;
        if (!f->ctx)
                skip();
        char root[128];
        snprintf(root, sizeof(root), "%s/v2", f->base);
        put(root, "cgroup.controllers", "cpu memory pids rdma\n");
        put(root, "cgroup.subtree_control", "cpu memory\n");
        put(root, "pod/cgroup.subtree_control", "memory\n");
        put(root, "pod/c1/cgroup.subtree_control", "");
        struct crdma_context *ctx = NULL;
        assert_int_equal(crdma_context_new(&ctx, NULL), 0);
        assert_int_equal(crdma_context_set_root(ctx, CRDMA_ROOT_CGROUP, root, NULL), 0);

        assert_int_equal(crdma_fault_set(ctx, "subtree_control", 2), 0);
        struct crdma_error *err = NULL;
        struct crdma_subtree_undo *undo = NULL;
        assert_int_equal(crdma_cgroup_enable_rdma(ctx, "/pod/c1", &undo, &err), -EBUSY);
        assert_null(undo);
        char want[512];
        snprintf(want, sizeof(want), "cgroup %s/pod/cgroup.subtree_control: writing \"+rdma\" "
                 "to enable the rdma controller for the container's cgroup failed (a cgroup "
                 "with processes of its own cannot enable controllers for its children): Device "
                 "or resource busy", root);
        assert_string_equal(crdma_error_message(err), want);
        crdma_error_free(err);
        /* The root got +rdma, then -rdma (a plain file keeps the last write). */
        assert_string_equal(get(root, "cgroup.subtree_control"), "-rdma");
        assert_string_equal(get(root, "pod/cgroup.subtree_control"), "memory\n");

        /* Without a fault: both enabled; the undo takes them back. */
        put(root, "cgroup.subtree_control", "cpu memory\n");
        assert_int_equal(crdma_fault_set(ctx, NULL, 0), 0);
        assert_int_equal(crdma_cgroup_enable_rdma(ctx, "/pod/c1", &undo, NULL), 0);
        assert_string_equal(get(root, "cgroup.subtree_control"), "+rdma");
        assert_string_equal(get(root, "pod/cgroup.subtree_control"), "+rdma");
        assert_string_equal(get(root, "pod/c1/cgroup.subtree_control"), "");
        assert_int_equal(crdma_cgroup_subtree_undo(undo, NULL), 0);
        assert_string_equal(get(root, "cgroup.subtree_control"), "-rdma");
        assert_string_equal(get(root, "pod/cgroup.subtree_control"), "-rdma");
        crdma_cgroup_subtree_undo_free(undo);
        crdma_context_free(ctx);
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
        const struct CMUnitTest tests[] = {
                T(test_switch),
                T(test_nth_hit_once),
                T(test_mknod),
                T(test_chown),
                T(test_existing_node_kept),
                T(test_devices_allow),
                T(test_rdma_max),
                T(test_prlimit),
                T(test_no_fault_applies),
                T(test_netns_move),
                T(test_netns_move_rollback_fails),
                T(test_netns_return),
                T(test_subtree_control),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
