/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An OCI state whose pid is not the container's: crdma_container_pin()
 * refuses it before anything reads or changes the process.  The fake proc
 * trees stand for this process (pidfd_open needs a live pid) seen as the
 * container's init, or as something else; the real /proc cases (pid 1, a
 * zombie, an exited pid, the hook's own process) need no fake.  The real
 * kernel's answers for runc and crun containers are in tests/vm 43. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "container.h"
#include "context.h"
#include "error.h"
#include "fixture.h"

struct fixture {
        char proc[64];
        char pid[16];
        struct crdma_context *ctx;
        struct crdma_context *real; /* the host's /proc */
};

static void put(const char *dir, const char *rel, const char *text)
{
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", dir, rel);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static void mkdirs(const char *dir, const char *rel)
{
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", dir, rel);
        assert_int_equal(mkdir(path, 0755), 0);
}

static void stat_line(struct fixture *f, char state)
{
        char rel[64], text[256];
        snprintf(rel, sizeof(rel), "%s/stat", f->pid);
        /* A comm with ") " in it: the parser must take the last ')'. */
        snprintf(text, sizeof(text), "%s (a) b) %c 1 1 1 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 "
                 "987654 1000000 100 18446744073709551615\n", f->pid, state);
        put(f->proc, rel, text);
}

/* <proc>/<pid> as a runc container's init: its own mnt, pid, net namespaces
 * (files distinct from those under self/ns), in cgroup /crdma/c1. */
static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        if (!f)
                return -1;
        fixture_tmpdir(f->proc, sizeof(f->proc), "pin");
        snprintf(f->pid, sizeof(f->pid), "%d", (int) getpid());
        char rel[64];
        mkdirs(f->proc, "self");
        mkdirs(f->proc, "self/ns");
        mkdirs(f->proc, f->pid);
        snprintf(rel, sizeof(rel), "%s/ns", f->pid);
        mkdirs(f->proc, rel);
        const char *ns[] = { "mnt", "pid", "net", "ipc", "uts", "user" };
        for (size_t i = 0; i < 6; i++) {
                char self[64];
                snprintf(self, sizeof(self), "self/ns/%s", ns[i]);
                put(f->proc, self, "host");
                snprintf(rel, sizeof(rel), "%s/ns/%s", f->pid, ns[i]);
                put(f->proc, rel, "container");
        }
        put(f->proc, "joined", "a namespace bound by a pod");
        stat_line(f, 'S');
        snprintf(rel, sizeof(rel), "%s/cgroup", f->pid);
        put(f->proc, rel, "0::/crdma/c1\n");
        if (crdma_context_new(&f->ctx, NULL) < 0 ||
            crdma_context_set_root(f->ctx, CRDMA_ROOT_PROC, f->proc, NULL) < 0 ||
            crdma_context_new(&f->real, NULL) < 0)
                return -1;
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        assert_int_equal(fixture_rm_tree(f->proc), 0);
        crdma_context_free(f->ctx);
        crdma_context_free(f->real);
        free(f);
        return 0;
}

static struct crdma_container *runc_like(pid_t pid)
{
        struct crdma_container *c = NULL;
        assert_int_equal(crdma_container_new(pid, "/rootfs", &c, NULL), 0);
        assert_int_equal(crdma_container_set_namespace(c, "mount", NULL, NULL), 0);
        assert_int_equal(crdma_container_set_namespace(c, "pid", NULL, NULL), 0);
        assert_int_equal(crdma_container_set_namespace(c, "network", NULL, NULL), 0);
        /* Entered later by some runtimes: accepted, never checked. */
        assert_int_equal(crdma_container_set_namespace(c, "cgroup", NULL, NULL), 0);
        assert_int_equal(crdma_container_set_cgroups_path(c, "/crdma/c1", NULL), 0);
        return c;
}

static void expect_refused(struct crdma_context *ctx, struct crdma_container *c, int errnum,
                           enum crdma_error_kind kind, const char *needle)
{
        struct crdma_error *err = NULL;
        struct crdma_pinned pin;
        assert_int_equal(crdma_container_pin(ctx, c, &pin, &err), -errnum);
        assert_non_null(err);
        assert_int_equal(crdma_error_kind(err), kind);
        if (!strstr(crdma_error_message(err), needle))
                fail_msg("\"%s\" lacks \"%s\"", crdma_error_message(err), needle);
        crdma_error_free(err);
        crdma_container_free(c);
}

static void test_container_init_pinned(void **state)
{
        struct fixture *f = *state;
        struct crdma_container *c = runc_like(getpid());
        struct crdma_error *err = NULL;
        struct crdma_pinned pin;
        if (crdma_container_pin(f->ctx, c, &pin, &err) < 0)
                fail_msg("%s", crdma_error_message(err));
        /* A pidfd of this very process, its /proc directory, its cgroups read once. */
        char link[64], target[64] = "";
        snprintf(link, sizeof(link), "/proc/self/fd/%d", pin.pidfd);
        assert_true(readlink(link, target, sizeof(target) - 1) > 0);
        assert_string_equal(target, "anon_inode:[pidfd]");
        assert_int_equal(pin.pid, getpid());
        assert_true(pin.piddir >= 0);
        assert_true(crdma_pinned_alive(&pin));
        assert_non_null(pin.cgroups.unified ? pin.cgroups.unified : pin.cgroups.devices);
        crdma_pinned_clear(&pin);
        assert_int_equal(pin.pidfd, -EBADF);
        crdma_container_free(c);
}

static void test_host_init_refused(void **state)
{
        struct fixture *f = *state;
        expect_refused(f->real, runc_like(1), EPERM, CRDMA_ERROR_REFUSED,
                       "process 1: the init of crdma's pid namespace (the host's), never a created "
                       "container's process");
}

static void test_shares_hook_namespace_refused(void **state)
{
        struct fixture *f = *state;
        /* The process's mount namespace is the hook's own. */
        char self[128], his[128];
        snprintf(self, sizeof(self), "%s/self/ns/mnt", f->proc);
        snprintf(his, sizeof(his), "%s/%s/ns/mnt", f->proc, f->pid);
        assert_int_equal(unlink(his), 0);
        assert_int_equal(link(self, his), 0);
        expect_refused(f->ctx, runc_like(getpid()), ESRCH, CRDMA_ERROR_REFUSED,
                       "shares the mnt namespace of crdma (the runtime's), but the container's "
                       "config gives the container one of its own; the OCI state's pid is not the "
                       "container's process");
        /* A config that shares the mount namespace on purpose is not refused
         * for it. */
        struct crdma_container *c = NULL;
        assert_int_equal(crdma_container_new(getpid(), "/rootfs", &c, NULL), 0);
        assert_int_equal(crdma_container_set_namespace(c, "network", NULL, NULL), 0);
        struct crdma_pinned pin;
        assert_int_equal(crdma_container_pin(f->ctx, c, &pin, NULL), 0);
        crdma_pinned_clear(&pin);
        crdma_container_free(c);
}

static void test_this_process_in_real_proc_refused(void **state)
{
        struct fixture *f = *state;
        /* This test process is no container: it shares the mount namespace
         * of "crdma" (itself). */
        expect_refused(f->real, runc_like(getpid()), ESRCH, CRDMA_ERROR_REFUSED,
                       "shares the mnt namespace of crdma");
}

static void test_joined_namespace(void **state)
{
        struct fixture *f = *state;
        char joined[128], his[128];
        snprintf(joined, sizeof(joined), "%s/joined", f->proc);
        snprintf(his, sizeof(his), "%s/%s/ns/net", f->proc, f->pid);
        struct crdma_container *c = runc_like(getpid());
        assert_int_equal(crdma_container_set_namespace(c, "network", joined, NULL), 0);
        expect_refused(f->ctx, c, ESRCH, CRDMA_ERROR_REFUSED,
                       "not in the net namespace /tmp/crdma-test-pin-");
        /* In the namespace the config joins: pinned. */
        assert_int_equal(unlink(his), 0);
        assert_int_equal(link(joined, his), 0);
        c = runc_like(getpid());
        assert_int_equal(crdma_container_set_namespace(c, "network", joined, NULL), 0);
        struct crdma_pinned pin;
        assert_int_equal(crdma_container_pin(f->ctx, c, &pin, NULL), 0);
        crdma_pinned_clear(&pin);
        crdma_container_free(c);
        /* A joined namespace that is gone cannot be checked: fail closed. */
        c = runc_like(getpid());
        assert_int_equal(crdma_container_set_namespace(c, "ipc", "/run/netns/none-such", NULL), 0);
        expect_refused(f->ctx, c, ENOENT, CRDMA_ERROR_SYSTEM,
                       "ipc namespace /run/netns/none-such (the container's config joins it): "
                       "cannot read it");
}

static void test_other_cgroup_refused(void **state)
{
        struct fixture *f = *state;
        struct crdma_container *c = runc_like(getpid());
        assert_int_equal(crdma_container_set_cgroups_path(c, "/crdma/c2", NULL), 0);
        expect_refused(f->ctx, c, ESRCH, CRDMA_ERROR_REFUSED,
                       "in cgroup /crdma/c1, not in the container's linux.cgroupsPath \"/crdma/c2\"");
        /* Unknown cgroupsPath: not checked. */
        c = runc_like(getpid());
        assert_int_equal(crdma_container_set_cgroups_path(c, NULL, NULL), 0);
        struct crdma_pinned pin;
        assert_int_equal(crdma_container_pin(f->ctx, c, &pin, NULL), 0);
        crdma_pinned_clear(&pin);
        crdma_container_free(c);
}

static void test_zombie_in_stat_refused(void **state)
{
        struct fixture *f = *state;
        stat_line(f, 'Z');
        expect_refused(f->ctx, runc_like(getpid()), ESRCH, CRDMA_ERROR_REFUSED,
                       "has exited (a zombie)");
        char rel[64];
        snprintf(rel, sizeof(rel), "%s/stat", f->pid);
        put(f->proc, rel, "garbage");
        expect_refused(f->ctx, runc_like(getpid()), EINVAL, CRDMA_ERROR_SYSTEM,
                       "/stat: not in the format the kernel writes");
}

static void test_real_zombie_refused(void **state)
{
        struct fixture *f = *state;
        pid_t child = fork();
        assert_true(child >= 0);
        if (child == 0)
                _exit(0);
        /* Not reaped yet: a zombie until waitpid. */
        siginfo_t si;
        assert_int_equal(waitid(P_PID, (id_t) child, &si, WEXITED | WNOWAIT), 0);
        expect_refused(f->real, runc_like(child), ESRCH, CRDMA_ERROR_REFUSED, "has exited (a zombie)");
        assert_int_equal(waitpid(child, NULL, 0), child);
        /* Reaped: the pid names nothing (until reused). */
        char msg[128];
        snprintf(msg, sizeof(msg), "process %d: no such process; the OCI state's pid names no live "
                 "process", (int) child);
        expect_refused(f->real, runc_like(child), ESRCH, CRDMA_ERROR_REFUSED, msg);
}

static void test_cgroups_path_forms(void **state)
{
        (void) state;
        /* cgroupfs, absolute: that cgroup or below. */
        assert_true(crdma_cgroups_path_matches("/crdma/c1", "/crdma/c1"));
        assert_true(crdma_cgroups_path_matches("/crdma/c1/", "/crdma/c1"));
        assert_true(crdma_cgroups_path_matches("/crdma/c1", "/crdma/c1/container"));
        assert_false(crdma_cgroups_path_matches("/crdma/c1", "/crdma/c10"));
        assert_false(crdma_cgroups_path_matches("/crdma/c1", "/crdma"));
        assert_false(crdma_cgroups_path_matches("/crdma/c1", "/other/crdma/c1"));
        /* cgroupfs, relative to the runtime's cgroup. */
        assert_true(crdma_cgroups_path_matches("crdma/c1", "/user.slice/crdma/c1"));
        assert_false(crdma_cgroups_path_matches("crdma/c1", "/user.slice/crdma/c11"));
        /* systemd: slice:prefix:name. */
        assert_true(crdma_cgroups_path_matches("machine.slice:libpod:abc",
                                               "/machine.slice/libpod-abc.scope"));
        assert_true(crdma_cgroups_path_matches("machine.slice:libpod:abc",
                                               "/machine.slice/libpod-abc.scope/container"));
        assert_true(crdma_cgroups_path_matches(
                "kubepods-burstable-pod1.slice:cri-containerd:abc",
                "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/"
                "cri-containerd-abc.scope"));
        assert_false(crdma_cgroups_path_matches("machine.slice:libpod:abc",
                                                "/machine.slice/libpod-abd.scope"));
        assert_false(crdma_cgroups_path_matches("machine.slice:libpod:abc",
                                                "/system.slice/libpod-abc.scope"));
        assert_true(crdma_cgroups_path_matches(":runc:abc", "/system.slice/runc-abc.scope"));
        assert_true(crdma_cgroups_path_matches("system.slice::abc", "/system.slice/abc.scope"));
        assert_true(crdma_cgroups_path_matches("-:x:y.slice", "/y.slice"));
        assert_false(crdma_cgroups_path_matches("a:b", "/a/b"));
        assert_false(crdma_cgroups_path_matches("/crdma/c1", NULL));
}

static void test_bad_namespace_settings(void **state)
{
        (void) state;
        struct crdma_container *c = NULL;
        struct crdma_error *err = NULL;
        assert_int_equal(crdma_container_new(42, "/rootfs", &c, NULL), 0);
        assert_int_equal(crdma_container_set_namespace(c, "netwrok", NULL, &err), -EINVAL);
        assert_non_null(strstr(crdma_error_message(err), "namespace type \"netwrok\": not an OCI "
                                                         "namespace type"));
        crdma_error_free(err);
        err = NULL;
        assert_int_equal(crdma_container_set_namespace(c, "network", "run/netns/x", &err), -EINVAL);
        assert_non_null(strstr(crdma_error_message(err), "not absolute"));
        crdma_error_free(err);
        crdma_container_free(c);
}

static void test_stat_parse(void **state)
{
        (void) state;
        char st;
        unsigned long long start;
        assert_int_equal(crdma_proc_stat_parse("7 (x) y) R 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 "
                                               "18 424242 20", &st, &start), 0);
        assert_int_equal(st, 'R');
        assert_int_equal(start, 424242);
        assert_int_equal(crdma_proc_stat_parse("7 (x) R 1 2", &st, &start), -EINVAL);
        assert_int_equal(crdma_proc_stat_parse("7 x R", &st, &start), -EINVAL);
        assert_int_equal(crdma_proc_stat_parse("7 (x) R 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 "
                                               "9x", &st, &start), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_container_init_pinned, setup, teardown),
                cmocka_unit_test_setup_teardown(test_host_init_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_shares_hook_namespace_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_this_process_in_real_proc_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_joined_namespace, setup, teardown),
                cmocka_unit_test_setup_teardown(test_other_cgroup_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_zombie_in_stat_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_real_zombie_refused, setup, teardown),
                cmocka_unit_test(test_cgroups_path_forms),
                cmocka_unit_test(test_bad_namespace_settings),
                cmocka_unit_test(test_stat_parse),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
