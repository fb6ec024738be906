/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A forked child that joins a namespace, reports, and is reaped (nschild.h
 * says what the child may do and why). */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "nschild.h"

void crdma_nschild_send(int chan, const void *a, size_t a_len, const void *b, size_t b_len)
{
        struct iovec iov[2] = { { (void *) a, a_len }, { (void *) b, b_len } };
        struct msghdr mh = { .msg_iov = iov, .msg_iovlen = b ? 2 : 1 };
        (void) sendmsg(chan, &mh, MSG_NOSIGNAL);
}

static _Noreturn void run_child(const struct crdma_nschild *job, pid_t parent, int chan)
{
        sigset_t all;
        sigfillset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        /* The parent may have died between fork() and prctl(). */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                _exit(127);
        int setns_errno = setns(job->ns_fd, job->nstype) < 0 ? errno : 0;
        _exit(job->child(job->arg, chan, setns_errno));
}

struct clone_args_local {
        const struct crdma_nschild *job;
        pid_t parent;
        int chan;
};

static int clone_entry(void *p)
{
        const struct clone_args_local *a = p;
        run_child(a->job, a->parent, a->chan);
}

#define CHILD_STACK (256 * 1024)

/* AddressSanitizer keeps its own record of the process's threads and stacks,
 * and a CLONE_VM child on a stack of ours runs inside it uninvited (its
 * sigaltstack interceptor reports an overflow there): sanitizer builds fork
 * every child. */
#if defined(__SANITIZE_ADDRESS__)
#define VFORK_OK false
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VFORK_OK false
#endif
#endif
#ifndef VFORK_OK
#define VFORK_OK true
#endif

bool crdma_nschild_uses_vfork(void)
{
        return VFORK_OK;
}

/* The vfork child: shares our memory (its own stack, our buffers) and runs
 * while this thread waits in clone(). */
static pid_t start_vfork_child(const struct crdma_nschild *job, pid_t parent, int chan)
{
        char *stack = mmap(NULL, CHILD_STACK, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (stack == MAP_FAILED)
                return -1;
        /* A guard page below it: an overflow faults instead of writing ours. */
        if (mprotect(stack, 4096, PROT_NONE) < 0) {
                int e = errno;
                munmap(stack, CHILD_STACK);
                errno = e;
                return -1;
        }
        struct clone_args_local a = { job, parent, chan };
        pid_t pid = clone(clone_entry, stack + CHILD_STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
        int e = errno;
        munmap(stack, CHILD_STACK);
        errno = e;
        return pid;
}

int crdma_nschild_run(const struct crdma_nschild *job, int *wstatus, const char **step)
{
        if (job->one_small_message && job->buf_len > 4096) {
                *step = "nschild (a small message is at most 4 KiB)";
                return -EINVAL;
        }
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
                *step = "socketpair";
                return -errno;
        }
        _cleanup_close_ int chan = sv[0];
        pid_t parent = getpid();
        pid_t pid;
        bool vfork_child = job->one_small_message && VFORK_OK;
        if (vfork_child) {
                /* The child keeps our end open: it shares nothing but memory. */
                pid = start_vfork_child(job, parent, sv[1]);
        } else {
                pid = fork();
                if (pid == 0) {
                        close(sv[0]);
                        run_child(job, parent, sv[1]);
                }
        }
        if (pid < 0) {
                int e = errno;
                close(sv[1]);
                *step = vfork_child ? "clone" : "fork";
                return -e;
        }
        close(sv[1]);
        /* To the end: the child's exit closes its side. */
        for (;;) {
                ssize_t n = recv(chan, job->buf, job->buf_len, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                job->receive(job->data, job->buf, (size_t) n);
        }
        while (waitpid(pid, wstatus, 0) < 0 && errno == EINTR)
                ;
        return 0;
}

void crdma_wait_status(int wstatus, char *buf, size_t len)
{
        if (WIFSIGNALED(wstatus))
                snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(wstatus),
                         sigabbrev_np(WTERMSIG(wstatus)) ? sigabbrev_np(WTERMSIG(wstatus)) : "?");
        else
                snprintf(buf, len, "exit status %d", WEXITSTATUS(wstatus));
}
