/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef CRDMA_SECCOMP_BPF_H
#define CRDMA_SECCOMP_BPF_H

#include <stddef.h>
#include <stdint.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

/* Run a classic BPF seccomp program on `data` as the kernel would, and put
 * its return value (SECCOMP_RET_*, action and data) in *verdict.  -EINVAL
 * for a program the kernel would not load or that does not return. */
int crdma_seccomp_bpf_run(const struct sock_filter *prog, size_t n,
                          const struct seccomp_data *data, uint32_t *verdict);

/* A libseccomp filter's (scmp_filter_ctx) program as it exports it: *prog
 * (malloc()ed, the caller frees) holds *n instructions.  Exporting a large
 * filter takes milliseconds: export once, run it many times. */
int crdma_seccomp_export(void *filter, struct sock_filter **prog, size_t *n);

/* The verdict `prog` gives syscall `nr` on the native architecture with
 * first argument `arg0` (the others 0).  libseccomp has no call that says
 * which rule a syscall meets, and silently keeps the first of two rules that
 * differ only in their action. */
int crdma_seccomp_verdict(const struct sock_filter *prog, size_t n, int nr, uint64_t arg0,
                          uint32_t *verdict);

#endif
