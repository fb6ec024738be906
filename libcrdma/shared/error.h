/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef CRDMA_ERROR_H
#define CRDMA_ERROR_H

#include "crdma.h"

struct crdma_error {
        int errnum;
        enum crdma_error_kind kind;
        char *message;
};

/* Fill *err (when err is not NULL and empty) and return -errnum, so a
 * failure is one line: `return crdma_fail(err, EINVAL, "...")`. */
int crdma_fail(struct crdma_error **err, int errnum, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* Same, with ": <strerror(errnum)>" appended: for failed system calls. */
int crdma_fail_errno(struct crdma_error **err, int errnum, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* "<what>: <strerror(errnum)>; <hint>" (hint NULL: none), the one shape of
 * a failed system call with what to do about it. */
int crdma_fail_errno_hint(struct crdma_error **err, int errnum, const char *hint,
                          const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A refusal (exit 1 in crdma-hook). */
int crdma_refuse(struct crdma_error **err, int errnum, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Prefix an existing error's message with "<prefix>: ". */
void crdma_error_prefix(struct crdma_error **err, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* Map an errno to a failure with a generic message when nothing better is
 * known (out of memory). */
int crdma_fail_oom(struct crdma_error **err);

#endif
