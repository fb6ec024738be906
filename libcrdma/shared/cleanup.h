/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Scope-bound ownership helpers (systemd/crun style). Private to the build. */
#ifndef CRDMA_CLEANUP_H
#define CRDMA_CLEANUP_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <dirent.h>

#include "crdma.h"

static inline void crdma_freep(void *p)
{
        free(*(void **) p);
}

static inline void crdma_closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}

static inline void crdma_fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}

static inline void crdma_closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(crdma_freep)
#define _cleanup_close_ _cleanup_(crdma_closep)
#define _cleanup_fclose_ _cleanup_(crdma_fclosep)
#define _cleanup_closedir_ _cleanup_(crdma_closedirp)

/* Hand ownership out of a cleanup-scoped variable. */
#define TAKE_PTR(p)                                \
        ({                                         \
                __typeof__(p) _taken_ = (p);       \
                (p) = NULL;                        \
                _taken_;                           \
        })
#define TAKE_FD(fd)                                \
        ({                                         \
                int _taken_ = (fd);                \
                (fd) = -EBADF;                     \
                _taken_;                           \
        })

/* Define a NULL-safe pointer destructor usable with _cleanup_. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)    \
        static inline void func##p(type *p)        \
        {                                          \
                if (*p)                            \
                        func(*p);                  \
        }

/* The public objects, for every caller of <crdma.h> that includes this tier. */
DEFINE_TRIVIAL_CLEANUP_FUNC(struct crdma_request *, crdma_request_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct crdma_policy *, crdma_policy_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct crdma_device_list *, crdma_device_list_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct crdma_plan *, crdma_plan_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct crdma_container *, crdma_container_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct crdma_error *, crdma_error_free)

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

#endif
