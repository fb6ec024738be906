/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one forked-child helper (nschild.h): messages arrive whole and in
 * order, setns failures reach the child's code, a child that dies silently
 * is seen with how it ended, the parent's signal handlers never run in it. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "cleanup.h"
#include "nschild.h"

struct got {
        char text[256];
        size_t n;
};

static void collect(void *data, const char *msg, size_t len)
{
        struct got *g = data;
        if (g->n + len + 1 < sizeof(g->text)) {
                memcpy(g->text + g->n, msg, len);
                g->n += len;
                g->text[g->n++] = '|';
                g->text[g->n] = '\0';
        }
}

static int child_three(void *arg, int chan, int setns_errno)
{
        (void) arg;
        char line[32];
        snprintf(line, sizeof(line), "setns=%d", setns_errno);
        crdma_nschild_send(chan, line, strlen(line), NULL, 0);
        crdma_nschild_send(chan, "two", 3, NULL, 0);
        crdma_nschild_send(chan, "th", 2, "ree", 3);
        return 7;
}

/* Both ways of running the child: a fork()ed one, and the vfork one for a
 * child that sends one small message. */
static bool vfork_mode;

static void run(int ns_fd, int nstype, int (*child)(void *, int, int), struct got *g, int *status)
{
        char buf[64];
        struct crdma_nschild job = { .ns_fd = ns_fd, .nstype = nstype, .child = child,
                                     .receive = collect, .data = g, .buf = buf,
                                     .buf_len = sizeof(buf), .one_small_message = vfork_mode };
        const char *step = NULL;
        assert_int_equal(crdma_nschild_run(&job, status, &step), 0);
}

static void messages_in_order(void **state)
{
        (void) state;
        _cleanup_close_ int ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
        assert_true(ns >= 0);
        struct got g = { 0 };
        int status;
        run(ns, CLONE_NEWNS, child_three, &g, &status);
        /* Joining one's own mount namespace needs CAP_SYS_ADMIN. */
        assert_string_equal(g.text, geteuid() == 0 ? "setns=0|two|three|" : "setns=1|two|three|");
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 7);
}

static void setns_failure_reaches_child(void **state)
{
        (void) state;
        struct got g = { 0 };
        int status;
        run(-1, CLONE_NEWNET, child_three, &g, &status);
        char want[64];
        snprintf(want, sizeof(want), "setns=%d|two|three|", EBADF);
        assert_string_equal(g.text, want);
}

static int child_dies(void *arg, int chan, int setns_errno)
{
        (void) arg, (void) chan, (void) setns_errno;
        kill(getpid(), SIGKILL);
        return 0;
}

static void silent_death_seen(void **state)
{
        (void) state;
        struct got g = { 0 };
        int status;
        run(-1, CLONE_NEWNET, child_dies, &g, &status);
        assert_int_equal(g.n, 0);
        assert_true(WIFSIGNALED(status));
        char how[64];
        crdma_wait_status(status, how, sizeof(how));
        assert_string_equal(how, "killed by signal 9 (KILL)");
        crdma_wait_status(7 << 8, how, sizeof(how));
        assert_string_equal(how, "exit status 7");
}

static volatile sig_atomic_t handled;
static void on_usr1(int sig)
{
        (void) sig;
        handled = 1;
}

static int child_signals_itself(void *arg, int chan, int setns_errno)
{
        (void) arg, (void) setns_errno;
        kill(getpid(), SIGUSR1); /* blocked: stays pending, the handler never runs */
        const char *what = handled ? "handler ran" : "blocked";
        crdma_nschild_send(chan, what, strlen(what), NULL, 0);
        return 0;
}

static void parent_handlers_never_run(void **state)
{
        (void) state;
        struct sigaction sa = { .sa_handler = on_usr1 }, old;
        sigaction(SIGUSR1, &sa, &old);
        struct got g = { 0 };
        int status;
        run(-1, CLONE_NEWNET, child_signals_itself, &g, &status);
        sigaction(SIGUSR1, &old, NULL);
        assert_string_equal(g.text, "blocked|");
        assert_true(WIFEXITED(status));
        assert_int_equal(handled, 0);
}

static int child_one(void *arg, int chan, int setns_errno)
{
        int *seen = arg;
        *seen = 42; /* the parent's memory: a vfork child shares it */
        char line[32];
        snprintf(line, sizeof(line), "one setns=%d", setns_errno);
        crdma_nschild_send(chan, line, strlen(line), NULL, 0);
        return 3;
}

static void vfork_child_reports(void **state)
{
        (void) state;
        int seen = 0;
        char buf[64];
        struct got g = { 0 };
        struct crdma_nschild job = { .ns_fd = -1, .nstype = CLONE_NEWNET, .child = child_one,
                                     .arg = &seen, .receive = collect, .data = &g, .buf = buf,
                                     .buf_len = sizeof(buf), .one_small_message = true };
        int status;
        const char *step = NULL;
        assert_int_equal(crdma_nschild_run(&job, &status, &step), 0);
        char want[64];
        snprintf(want, sizeof(want), "one setns=%d|", EBADF);
        assert_string_equal(g.text, want);
        assert_int_equal(WEXITSTATUS(status), 3);
        /* A vfork child shares our memory; the sanitizer build forks it. */
        assert_int_equal(seen, crdma_nschild_uses_vfork() ? 42 : 0);
        /* A vfork child's message must fit a socket buffer: refused above 4 KiB. */
        char big[8192];
        job.buf = big;
        job.buf_len = sizeof(big);
        assert_int_equal(crdma_nschild_run(&job, &status, &step), -EINVAL);
}

static void silent_death_seen_vfork(void **state)
{
        vfork_mode = true;
        silent_death_seen(state);
        parent_handlers_never_run(state);
        vfork_mode = false;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(vfork_child_reports),
                cmocka_unit_test(silent_death_seen_vfork),
                cmocka_unit_test(messages_in_order),
                cmocka_unit_test(setns_failure_reaches_child),
                cmocka_unit_test(silent_death_seen),
                cmocka_unit_test(parent_handlers_never_run),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
