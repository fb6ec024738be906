/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The library's messages go to the callback the caller set on the context
 * (crdma_context_set_log); the library never prints. */
#ifndef CRDMA_LOG_H
#define CRDMA_LOG_H

#include "crdma.h"

/* NULL ctx, or no callback: nothing. */
void crdma_log(const struct crdma_context *ctx, enum crdma_log_level level,
               const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
