/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Capability names, checked with libcap so a name is one the host knows. */
#include <errno.h>
#include <sys/capability.h>

#include "caps.h"

int crdma_cap_from_name(const char *name, int *value)
{
        cap_value_t v;
        if (cap_from_name(name, &v) < 0)
                return -EINVAL;
        *value = (int) v;
        return 0;
}
