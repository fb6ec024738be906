/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef CRDMA_CAPS_H
#define CRDMA_CAPS_H

/* "CAP_NET_RAW" -> its number; -EINVAL for a name libcap does not know. */
int crdma_cap_from_name(const char *name, int *value);

#endif
