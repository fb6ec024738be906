/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <seccomp.h>

#include "syscalls.h"

int crdma_syscall_resolve(const char *name)
{
        int nr = seccomp_syscall_resolve_name(name);
        /* Negative pseudo-numbers name syscalls the architecture lacks. */
        if (nr == __NR_SCMP_ERROR || nr < 0)
                return -ENOENT;
        return nr;
}
