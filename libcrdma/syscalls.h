/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef CRDMA_SYSCALLS_H
#define CRDMA_SYSCALLS_H

#include <stdbool.h>
#include <stdint.h>

/* Syscall number of `name` on the native architecture, or -ENOENT when
 * libseccomp knows no such syscall there. */
int crdma_syscall_resolve(const char *name);

/* Whether the architecture an OCI seccomp profile names `oci_arch`
 * ("SCMP_ARCH_X86_64") has syscall `name`: 1 yes, 0 no, -EINVAL when
 * libseccomp knows no such architecture. */
int crdma_syscall_known_on(const char *name, const char *oci_arch);

#endif
