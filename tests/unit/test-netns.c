/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* RDMA netns mode and device moves: the message flow against replayed kernel
 * replies.  Each expected request is a step of a script: its op, whether it
 * is spoken from inside the container's namespace, and the reply to give.
 * The fork+setns transport itself needs root: the VM test proves it. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "cleanup.h"
#include "context.h"
#include "error.h"
#include "fixture.h"
#include "netns.h"
#include "nl-replay.h"

/* ---------------------------------------------------------------- fixture */

struct fixture {
        char proc[64];     /* fake proc root: 1/ns/net -> this process's netns ("init") */
        int self_netns;    /* this process's netns */
        int other_netns;   /* the "container's": a namespace of its own */
        struct nl_script s;
        struct crdma_context *ctx;
};

/* A network namespace other than ours: a child unshares one (in a user
 * namespace of its own when not root) and we keep a file of it. */
static int open_other_netns(void)
{
        int p[2];
        assert_int_equal(pipe(p), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(p[0]);
                char ok = unshare(CLONE_NEWNET) == 0 ||
                          unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0;
                if (write(p[1], &ok, 1) != 1)
                        _exit(1);
                pause();
                _exit(0);
        }
        close(p[1]);
        char ok = 0;
        assert_int_equal(read(p[0], &ok, 1), 1);
        close(p[0]);
        int fd = -1;
        if (ok) {
                char path[64];
                snprintf(path, sizeof(path), "/proc/%d/ns/net", (int) pid);
                fd = open(path, O_RDONLY | O_CLOEXEC);
        }
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return fd;
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        assert_non_null(f);
        f->other_netns = open_other_netns();
        fixture_tmpdir(f->proc, sizeof(f->proc), "netns");
        char path[128];
        snprintf(path, sizeof(path), "%s/1", f->proc);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/1/ns", f->proc);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/1/ns/net", f->proc);
        assert_int_equal(symlink("/proc/self/ns/net", path), 0);
        f->self_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        assert_true(f->self_netns >= 0);

        nl_script_init(&f->s, f->other_netns);
        assert_int_equal(crdma_context_new(&f->ctx, NULL), 0);
        assert_int_equal(crdma_context_set_root(f->ctx, CRDMA_ROOT_PROC, f->proc, NULL), 0);
        crdma_context_set_netlink_ops(f->ctx, &nl_script_ops, &f->s);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        if (!f)
                return 0;
        nl_script_assert_done(&f->s);
        crdma_context_free(f->ctx);
        assert_int_equal(fixture_rm_tree(f->proc), 0);
        close(f->self_netns);
        if (f->other_netns >= 0)
                close(f->other_netns);
        free(f);
        return 0;
}

/* Moves need a second network namespace: without root or user namespaces
 * there is none to be had, and those tests skip. */
static struct fixture *with_other_netns(void **state)
{
        struct fixture *f = *state;
        if (f->other_netns < 0)
                skip();
        return f;
}

static void reply_devices(struct nl_replay *r, const char *const *names, const uint32_t *idx,
                          size_t n)
{
        for (size_t i = 0; i < n; i++)
                nl_replay_device(r, idx[i], names[i]);
        nl_replay_done(r);
}

/* ---------------------------------------------------------------- mode */

static void test_set_mode(void **state)
{
        struct fixture *f = *state;
        nl_replay_error(nl_script_expect(&f->s, RDMA_NLDEV_CMD_SYS_SET, false), 0, NULL);
        nl_replay_error(nl_script_expect(&f->s, RDMA_NLDEV_CMD_SYS_SET, false), 0, NULL);
        assert_int_equal(crdma_netns_set_mode(f->ctx, CRDMA_NETNS_EXCLUSIVE, NULL), 0);
        assert_int_equal(f->s.sys_mode, 0);
        assert_int_equal(crdma_netns_set_mode(f->ctx, CRDMA_NETNS_SHARED, NULL), 0);
        assert_int_equal(f->s.sys_mode, 1);
}

static void test_set_mode_busy(void **state)
{
        struct fixture *f = *state;
        nl_replay_error(nl_script_expect(&f->s, RDMA_NLDEV_CMD_SYS_SET, false), -EBUSY, NULL);
        nl_replay_error(nl_script_expect(&f->s, RDMA_NLDEV_CMD_SYS_SET, false), -EBUSY, NULL);
        struct crdma_error *err = NULL;
        assert_int_equal(crdma_netns_set_mode(f->ctx, CRDMA_NETNS_EXCLUSIVE, &err), -EBUSY);
        assert_int_equal(crdma_error_kind(err), CRDMA_ERROR_REFUSED);
        assert_string_equal(crdma_error_message(err),
                            "RDMA netns mode: cannot switch to exclusive while other network "
                            "namespaces exist; set it at boot: \"options ib_core netns_mode=0\" "
                            "in /etc/modprobe.d/, or ib_core.netns_mode=0 on the kernel command "
                            "line when ib_core is built in");
        crdma_error_free(err);
        err = NULL;
        assert_int_equal(crdma_netns_set_mode(f->ctx, CRDMA_NETNS_SHARED, &err), -EBUSY);
        assert_int_equal(crdma_error_kind(err), CRDMA_ERROR_REFUSED);
        assert_non_null(strstr(crdma_error_message(err), "cannot switch to shared"));
        crdma_error_free(err);
}

static void test_set_mode_eperm(void **state)
{
        struct fixture *f = *state;
        nl_replay_error(nl_script_expect(&f->s, RDMA_NLDEV_CMD_SYS_SET, false), -EPERM, NULL);
        struct crdma_error *err = NULL;
        assert_int_equal(crdma_netns_set_mode(f->ctx, CRDMA_NETNS_EXCLUSIVE, &err), -EPERM);
        assert_int_equal(crdma_error_kind(err), CRDMA_ERROR_SYSTEM);
        assert_string_equal(crdma_error_message(err),
                            "RDMA netns mode: switching to exclusive needs CAP_NET_ADMIN in the "
                            "initial user namespace: Operation not permitted");
        crdma_error_free(err);
}

static void test_set_mode_other_error_keeps_ext_ack(void **state)
{
        struct fixture *f = *state;
        nl_replay_error(nl_script_expect(&f->s, RDMA_NLDEV_CMD_SYS_SET, false), -EINVAL,
                        "Unknown attribute");
        struct crdma_error *err = NULL;
        assert_int_equal(crdma_netns_set_mode(f->ctx, CRDMA_NETNS_SHARED, &err), -EINVAL);
        assert_string_equal(crdma_error_message(err),
                            "RDMA netns mode: switching to shared failed: Unknown attribute: "
                            "Invalid argument");
        crdma_error_free(err);
}

static void test_no_netlink(void **state)
{
        struct fixture *f = with_other_netns(state);
        crdma_context_set_netlink_ops(f->ctx, NULL, NULL);
        struct crdma_error *err = NULL;
        assert_int_equal(crdma_netns_set_mode(f->ctx, CRDMA_NETNS_EXCLUSIVE, &err), -EOPNOTSUPP);
        crdma_error_free(err);
        err = NULL;
        struct crdma_netns_undo *u = NULL;
        assert_int_equal(crdma_netns_move(f->ctx, "rxe0", f->other_netns, &u, &err), -EOPNOTSUPP);
        assert_null(u);
        crdma_error_free(err);
}

/* ---------------------------------------------------------------- move */

static void test_move_and_undo(void **state)
{
        struct fixture *f = with_other_netns(state);
        static const char *const host[] = { "mlx5_0", "mlx5_1" };
        static const uint32_t host_idx[] = { 0, 3 };
        reply_devices(nl_script_expect(&f->s, RDMA_NLDEV_CMD_GET, false), host, host_idx, 2);
        nl_replay_error(nl_script_expect(&f->s, RDMA_NLDEV_CMD_SET, false), 0, NULL);

        struct crdma_netns_undo *u = NULL;
        assert_int_equal(crdma_netns_move(f->ctx, "mlx5_1", f->other_netns, &u, NULL), 0);
        assert_non_null(u);
        assert_int_equal(f->s.set_index, 3);
        assert_int_equal(f->s.set_ns_fd, f->other_netns);

        /* Back: the mode, the dump inside the namespace, SET from inside it
         * naming the host's namespace (the proc root's 1/ns/net). */
        nl_replay_netns_mode(nl_script_expect(&f->s, RDMA_NLDEV_CMD_SYS_GET, false), 0);
        nl_replay_error(&f->s.steps[f->s.n - 1].reply, 0, NULL);
        static const char *const inside[] = { "mlx5_1" };
        static const uint32_t inside_idx[] = { 3 };
        reply_devices(nl_script_expect(&f->s, RDMA_NLDEV_CMD_GET, true), inside, inside_idx, 1);
        nl_replay_error(nl_script_expect(&f->s, RDMA_NLDEV_CMD_SET, true), 0, NULL);
        f->s.set_index = f->s.set_ns_fd = -1;
        assert_int_equal(crdma_netns_undo(f->ctx, u, NULL), 0);
        assert_int_equal(f->s.set_index, 3);

        /* Twice: nothing more to do, no request. */
        assert_int_equal(crdma_netns_undo(f->ctx, u, NULL), 0);
        crdma_netns_undo_free(u);
}

/* The fd that SET names when moving back is the host's namespace: catch it
 * while the request is made. */
static int64_t seen_back_fd_same_as_self = -1;
static int self_netns_fd = -1;

static int check_back_transact(void *data, int netns_fd, struct nlmsghdr *req, mnl_cb_t cb,
                               void *cb_data, char *ext_ack, size_t ext_ack_len)
{
        struct nl_script *s = data;
        int r = nl_script_transact_in_netns(s, netns_fd, req, cb, cb_data, ext_ack, ext_ack_len);
        if ((req->nlmsg_type & ((1u << 10) - 1)) == RDMA_NLDEV_CMD_SET)
                seen_back_fd_same_as_self = nl_same_file((int) s->set_ns_fd, self_netns_fd);
        return r;
}

static void test_return_names_init_netns(void **state)
{
        struct fixture *f = with_other_netns(state);
        static const struct crdma_netlink_ops ops = {
                .transact = nl_script_transact,
                .transact_in_netns = check_back_transact,
        };
        crdma_context_set_netlink_ops(f->ctx, &ops, &f->s);
        self_netns_fd = f->self_netns;
        seen_back_fd_same_as_self = -1;

        nl_replay_netns_mode(nl_script_expect(&f->s, RDMA_NLDEV_CMD_SYS_GET, false), 0);
        nl_replay_error(&f->s.steps[f->s.n - 1].reply, 0, NULL);
        static const char *const inside[] = { "rxe0", "mlx5_1" };
        static const uint32_t inside_idx[] = { 1, 3 };
        reply_devices(nl_script_expect(&f->s, RDMA_NLDEV_CMD_GET, true), inside, inside_idx, 2);
        nl_replay_error(nl_script_expect(&f->s, RDMA_NLDEV_CMD_SET, true), 0, NULL);

        /* mlx5_9 is not in there: fine. */
        static const char *const names[] = { "mlx5_9", "mlx5_1" };
        assert_int_equal(crdma_netns_return(f->ctx, f->other_netns, names, 2, NULL), 0);
        assert_int_equal(f->s.set_index, 3);
        assert_int_equal(seen_back_fd_same_as_self, 1);
}

static void test_return_all(void **state)
{
        struct fixture *f = with_other_netns(state);
        nl_replay_netns_mode(nl_script_expect(&f->s, RDMA_NLDEV_CMD_SYS_GET, false), 0);
        nl_replay_error(&f->s.steps[f->s.n - 1].reply, 0, NULL);
        static const char *const inside[] = { "mlx5_1", "mlx5_2" };
        static const uint32_t inside_idx[] = { 3, 4 };
        reply_devices(nl_script_expect(&f->s, RDMA_NLDEV_CMD_GET, true), inside, inside_idx, 2);
        nl_replay_error(nl_script_expect(&f->s, RDMA_NLDEV_CMD_SET, true), 0, NULL);
        nl_replay_error(nl_script_expect(&f->s, RDMA_NLDEV_CMD_SET, true), 0, NULL);
        /* NULL names: whatever is in there ("all"). */
        assert_int_equal(crdma_netns_return(f->ctx, f->other_netns, NULL, 0, NULL), 0);
        assert_int_equal(f->s.set_index, 4);
        /* An empty list: nothing, no request. */
        static const char *const none[] = { "x" };
        assert_int_equal(crdma_netns_return(f->ctx, f->other_netns, none, 0, NULL), 0);
}

static void test_return_failure_names_device(void **state)
{
        struct fixture *f = with_other_netns(state);
        nl_replay_netns_mode(nl_script_expect(&f->s, RDMA_NLDEV_CMD_SYS_GET, false), 0);
        nl_replay_error(&f->s.steps[f->s.n - 1].reply, 0, NULL);
        static const char *const inside[] = { "mlx5_1", "mlx5_2" };
        static const uint32_t inside_idx[] = { 3, 4 };
        reply_devices(nl_script_expect(&f->s, RDMA_NLDEV_CMD_GET, true), inside, inside_idx, 2);
        nl_replay_error(nl_script_expect(&f->s, RDMA_NLDEV_CMD_SET, true), -EPERM,
                        "Missing CAP_NET_ADMIN in the target net namespace");
        /* The next device is still tried. */
        nl_replay_error(nl_script_expect(&f->s, RDMA_NLDEV_CMD_SET, true), 0, NULL);

        static const char *const names[] = { "mlx5_1", "mlx5_2" };
        struct crdma_error *err = NULL;
        assert_int_equal(crdma_netns_return(f->ctx, f->other_netns, names, 2, &err), -EPERM);
        assert_int_equal(f->s.set_index, 4);
        assert_string_equal(crdma_error_message(err),
                            "device mlx5_1: moving it back to the host's network namespace failed: "
                            "Missing CAP_NET_ADMIN in the target net namespace: Operation not "
                            "permitted; it comes back when that namespace is deleted (a "
                            "pod's: when the pod is removed)");
        crdma_error_free(err);
}

static void test_return_shared_mode_is_nothing(void **state)
{
        struct fixture *f = with_other_netns(state);
        nl_replay_netns_mode(nl_script_expect(&f->s, RDMA_NLDEV_CMD_SYS_GET, false), 1);
        nl_replay_error(&f->s.steps[f->s.n - 1].reply, 0, NULL);
        static const char *const names[] = { "mlx5_1" };
        assert_int_equal(crdma_netns_return(f->ctx, f->other_netns, names, 1, NULL), 0);
        /* The host's own namespace: nothing to ask. */
        assert_int_equal(crdma_netns_return(f->ctx, f->self_netns, names, 1, NULL), 0);
}

static void test_move_rxe_refused(void **state)
{
        struct fixture *f = with_other_netns(state);
        static const char *const host[] = { "rxe0" };
        static const uint32_t host_idx[] = { 1 };
        reply_devices(nl_script_expect(&f->s, RDMA_NLDEV_CMD_GET, false), host, host_idx, 1);
        nl_replay_error(nl_script_expect(&f->s, RDMA_NLDEV_CMD_SET, false), -EOPNOTSUPP, NULL);
        /* Which EOPNOTSUPP: the mode tells (exclusive here). */
        nl_replay_netns_mode(nl_script_expect(&f->s, RDMA_NLDEV_CMD_SYS_GET, false), 0);
        nl_replay_error(&f->s.steps[f->s.n - 1].reply, 0, NULL);

        struct crdma_netns_undo *u = NULL;
        struct crdma_error *err = NULL;
        assert_int_equal(crdma_netns_move(f->ctx, "rxe0", f->other_netns, &u, &err), -EOPNOTSUPP);
        assert_null(u);
        assert_int_equal(crdma_error_kind(err), CRDMA_ERROR_REFUSED);
        assert_string_equal(crdma_error_message(err),
                            "device rxe0: its driver cannot move between network namespaces "
                            "(software devices such as rxe and siw); use shared mode, or an "
                            "SR-IOV VF");
        crdma_error_free(err);
}

static void test_move_in_shared_mode_refused(void **state)
{
        struct fixture *f = with_other_netns(state);
        static const char *const host[] = { "mlx5_1" };
        static const uint32_t host_idx[] = { 3 };
        reply_devices(nl_script_expect(&f->s, RDMA_NLDEV_CMD_GET, false), host, host_idx, 1);
        nl_replay_error(nl_script_expect(&f->s, RDMA_NLDEV_CMD_SET, false), -EOPNOTSUPP, NULL);
        nl_replay_netns_mode(nl_script_expect(&f->s, RDMA_NLDEV_CMD_SYS_GET, false), 1);
        nl_replay_error(&f->s.steps[f->s.n - 1].reply, 0, NULL);

        struct crdma_netns_undo *u = NULL;
        struct crdma_error *err = NULL;
        assert_int_equal(crdma_netns_move(f->ctx, "mlx5_1", f->other_netns, &u, &err), -EOPNOTSUPP);
        assert_null(u);
        assert_int_equal(crdma_error_kind(err), CRDMA_ERROR_REFUSED);
        assert_string_equal(crdma_error_message(err),
                            "device mlx5_1: the host's RDMA netns mode is shared, devices move "
                            "between network namespaces only in exclusive mode; set it at boot: "
                            "\"options ib_core netns_mode=0\" in /etc/modprobe.d/, or "
                            "ib_core.netns_mode=0 on the kernel command line when ib_core is "
                            "built in");
        crdma_error_free(err);
}

static void test_move_eperm(void **state)
{
        struct fixture *f = with_other_netns(state);
        static const char *const host[] = { "mlx5_1" };
        static const uint32_t host_idx[] = { 3 };
        reply_devices(nl_script_expect(&f->s, RDMA_NLDEV_CMD_GET, false), host, host_idx, 1);
        nl_replay_error(nl_script_expect(&f->s, RDMA_NLDEV_CMD_SET, false), -EPERM, NULL);
        struct crdma_netns_undo *u = NULL;
        struct crdma_error *err = NULL;
        assert_int_equal(crdma_netns_move(f->ctx, "mlx5_1", f->other_netns, &u, &err), -EPERM);
        assert_null(u);
        assert_int_equal(crdma_error_kind(err), CRDMA_ERROR_SYSTEM);
        assert_non_null(strstr(crdma_error_message(err), "needs CAP_NET_ADMIN"));
        crdma_error_free(err);
}

/* The dumps of a move whose device is in neither namespace: the host's has only rxe0, the
 * container's none. */
static void expect_in_neither(struct fixture *f)
{
        static const char *const host[] = { "rxe0" };
        static const uint32_t host_idx[] = { 1 };
        reply_devices(nl_script_expect(&f->s, RDMA_NLDEV_CMD_GET, false), host, host_idx, 1);
        nl_replay_done(nl_script_expect(&f->s, RDMA_NLDEV_CMD_GET, true));
}

static void test_move_unknown_device(void **state)
{
        struct fixture *f = with_other_netns(state);
        expect_in_neither(f);

        struct crdma_netns_undo *u = NULL;
        struct crdma_error *err = NULL;
        assert_int_equal(crdma_netns_move(f->ctx, "mlx5_7", f->other_netns, &u, &err), -ENODEV);
        assert_null(u);
        assert_int_equal(crdma_error_kind(err), CRDMA_ERROR_REFUSED);
        assert_string_equal(crdma_error_message(err),
                            "device mlx5_7: no such RDMA device in the host's network namespace");
        crdma_error_free(err);
}

/* Exclusive mode: a device in neither the host's nor the container's namespace, which
 * class/infiniband_verbs still lists, is another container's: refused as busy, naming it. */
static void test_move_held_by_another(void **state)
{
        struct fixture *f = with_other_netns(state);
        char dir[64], path[160];
        fixture_tmpdir(dir, sizeof(dir), "held");
        snprintf(path, sizeof(path), "%s/class/infiniband_verbs/uverbs3/ibdev", dir);
        fixture_write_file(path, "mlx5_7\n");
        assert_int_equal(crdma_context_set_root(f->ctx, CRDMA_ROOT_SYSFS, dir, NULL), 0);
        expect_in_neither(f);

        struct crdma_netns_undo *u = NULL;
        struct crdma_error *err = NULL;
        assert_int_equal(crdma_netns_move(f->ctx, "mlx5_7", f->other_netns, &u, &err), -EBUSY);
        assert_null(u);
        assert_int_equal(crdma_error_kind(err), CRDMA_ERROR_REFUSED);
        assert_non_null(strstr(crdma_error_message(err), "device mlx5_7: in another network "
                                                         "namespace (exclusive mode: another "
                                                         "container holds it)"));
        crdma_error_free(err);
        assert_int_equal(fixture_rm_tree(dir), 0);
}

static void test_move_already_there(void **state)
{
        struct fixture *f = with_other_netns(state);
        nl_replay_done(nl_script_expect(&f->s, RDMA_NLDEV_CMD_GET, false));
        static const char *const inside[] = { "mlx5_1" };
        static const uint32_t inside_idx[] = { 3 };
        reply_devices(nl_script_expect(&f->s, RDMA_NLDEV_CMD_GET, true), inside, inside_idx, 1);

        struct crdma_netns_undo *u = NULL;
        assert_int_equal(crdma_netns_move(f->ctx, "mlx5_1", f->other_netns, &u, NULL), 0);
        assert_non_null(u);
        /* We did not move it: undoing does not either (no request). */
        assert_int_equal(crdma_netns_undo(f->ctx, u, NULL), 0);
        crdma_netns_undo_free(u);
}

static void test_move_into_host_netns_refused(void **state)
{
        struct fixture *f = with_other_netns(state);
        struct crdma_netns_undo *u = NULL;
        struct crdma_error *err = NULL;
        assert_int_equal(crdma_netns_move(f->ctx, "mlx5_1", f->self_netns, &u, &err), -EINVAL);
        assert_null(u);
        assert_int_equal(crdma_error_kind(err), CRDMA_ERROR_REFUSED);
        assert_non_null(strstr(crdma_error_message(err), "shares the host's network namespace"));
        crdma_error_free(err);
}

static void test_move_target_not_netns(void **state)
{
        struct fixture *f = with_other_netns(state);
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        struct crdma_netns_undo *u = NULL;
        struct crdma_error *err = NULL;
        assert_true(crdma_netns_move(f->ctx, "mlx5_1", fd, &u, &err) < 0);
        assert_null(u);
        assert_non_null(strstr(crdma_error_message(err), "not a namespace file"));
        crdma_error_free(err);
        err = NULL;
        static const char *const names[] = { "mlx5_1" };
        assert_true(crdma_netns_return(f->ctx, fd, names, 1, &err) < 0);
        crdma_error_free(err);
        close(fd);
}

/* The real fork+setns transport, as far as this machine allows: without
 * root the child cannot join the namespace, without ib_core it cannot open
 * RDMA netlink; either way the answer comes back, naming the step. */
static void test_kernel_transport_reports_child_failure(void **state)
{
        struct fixture *f = with_other_netns(state);
        crdma_context_set_netlink_ops(f->ctx, &crdma_netlink_kernel_ops, NULL);
        struct crdma_nl_device *devs = NULL;
        size_t n = 0;
        struct crdma_error *err = NULL;
        int r = crdma_nl_devices_in_netns(f->ctx, f->other_netns, &devs, &n, &err);
        if (r == 0) {
                /* A machine with RDMA and the rights: a fresh namespace holds no device
                 * in exclusive mode, every device in shared mode. */
                enum crdma_netns mode;
                struct crdma_nl_device *mine = NULL;
                size_t n_mine = 0;
                assert_int_equal(crdma_nl_netns_mode(f->ctx, &mode, NULL), 0);
                bool shared = mode == CRDMA_NETNS_SHARED;
                assert_int_equal(crdma_nl_devices(f->ctx, &mine, &n_mine, NULL), 0);
                assert_int_equal(n, shared ? n_mine : 0);
                for (size_t i = 0; shared && i < n; i++)
                        assert_string_equal(devs[i].name, mine[i].name);
                free(mine);
                free(devs);
                return;
        }
        const char *m = crdma_error_message(err);
        assert_non_null(strstr(m, "RDMA netlink: listing devices in the network namespace failed: "));
        assert_true(strstr(m, "joining the network namespace (setns)") ||
                    strstr(m, "opening RDMA netlink inside the network namespace"));
        crdma_error_free(err);
}

static void test_undo_free_null(void **state)
{
        (void) state;
        crdma_netns_undo_free(NULL);
        assert_int_equal(crdma_netns_undo(NULL, NULL, NULL), 0);
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
        const struct CMUnitTest tests[] = {
                T(test_set_mode),
                T(test_set_mode_busy),
                T(test_set_mode_eperm),
                T(test_set_mode_other_error_keeps_ext_ack),
                T(test_no_netlink),
                T(test_move_and_undo),
                T(test_return_names_init_netns),
                T(test_return_all),
                T(test_return_failure_names_device),
                T(test_return_shared_mode_is_nothing),
                T(test_move_rxe_refused),
                T(test_move_in_shared_mode_refused),
                T(test_move_eperm),
                T(test_move_unknown_device),
                T(test_move_held_by_another),
                T(test_move_already_there),
                T(test_move_into_host_netns_refused),
                T(test_move_target_not_netns),
                T(test_kernel_transport_reports_child_failure),
                cmocka_unit_test(test_undo_free_null),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
