/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef CRDMA_SYSCALLS_H
#define CRDMA_SYSCALLS_H

#include <stdint.h>

/* Syscall number of `name` on the native architecture, or -ENOENT when
 * libseccomp knows no such syscall there. */
int crdma_syscall_resolve(const char *name);

#endif
