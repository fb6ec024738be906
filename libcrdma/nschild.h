/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one way libcrdma runs code inside another namespace: in a forked child.
 * setns() changes the calling thread, and runtimes link the library, so the
 * caller's thread never joins anything.  Audited here once:
 *  - in the child, between fork() (or clone) and _exit(): system calls, and snprintf
 *    into a buffer for a message; no allocation, no stdio stream, no lock (a
 *    threaded parent's other threads may have held one at fork); every
 *    buffer is allocated before the fork (or on the child's stack);
 *  - the child blocks every signal (the parent's handlers never run in it)
 *    and dies with SIGKILL if the parent dies (PR_SET_PDEATHSIG);
 *  - it reports over a SOCK_SEQPACKET pair, one send one message, sent with
 *    MSG_NOSIGNAL; it inherits the parent's fds and exits without exec;
 *  - a child that dies before reporting is seen, and crdma_wait_status()
 *    says how it ended, for the caller's message. */
#ifndef CRDMA_NSCHILD_H
#define CRDMA_NSCHILD_H

#include <stdbool.h>
#include <stddef.h>

struct crdma_nschild {
        int ns_fd;  /* an nsfs file to join (setns) */
        int nstype; /* CLONE_NEWNS, CLONE_NEWNET */
        /* In the child, after setns (setns_errno 0, or why it failed):
         * report over `chan` with crdma_nschild_send() and return the
         * child's exit status. */
        int (*child)(void *arg, int chan, int setns_errno);
        void *arg;
        /* In the parent: each message the child sent, in order, in `buf`. */
        void (*receive)(void *data, const char *msg, size_t len);
        void *data;
        char *buf;
        size_t buf_len;
        /* The child sends one message of at most buf_len bytes (<= 4 KiB):
         * then it runs as a vfork child (CLONE_VM|CLONE_VFORK, on a stack of
         * its own), the parent suspended until it ends and reading after,
         * with no page tables copied and no copy-on-write faults after it.
         * Otherwise a fork()ed child, read while it runs (a netlink dump
         * can outgrow a socket buffer). */
        bool one_small_message;
};

/* Run the job: fork, let the child work, receive its messages until it
 * ends, reap it.  0 when it ran (its wait status in *wstatus); -errno when
 * it could not start, *step naming the call ("socketpair", "fork"). */
int crdma_nschild_run(const struct crdma_nschild *job, int *wstatus, const char **step);

/* Whether one_small_message children run as vfork children in this build
 * (not under AddressSanitizer, which forks them: nschild.c). */
bool crdma_nschild_uses_vfork(void);

/* In the child: one message of `len` bytes from up to two pieces (a tag and
 * a payload; `b` may be NULL).  A failure is the parent's to notice. */
void crdma_nschild_send(int chan, const void *a, size_t a_len, const void *b, size_t b_len);

/* "exit status N" or "killed by signal N", for a child that did not report. */
void crdma_wait_status(int wstatus, char *buf, size_t len);

#endif
