/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A forked child that joins a namespace, reports, and is reaped (nschild.h
 * says what the child may do and why). */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
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

int crdma_nschild_run(const struct crdma_nschild *job, int *wstatus, const char **step)
{
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
                *step = "socketpair";
                return -errno;
        }
        _cleanup_close_ int chan = sv[0];
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid < 0) {
                int e = errno;
                close(sv[1]);
                *step = "fork";
                return -e;
        }
        if (pid == 0) {
                close(sv[0]);
                run_child(job, parent, sv[1]);
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
