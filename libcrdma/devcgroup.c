/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Device cgroup, inject path (devcgroup.h): the undo record both cgroup
 * versions fill, and the messages their failed system calls give.  The work
 * is in devcgroup-prog.c (the v2 program), devcgroup-bpf.c and
 * devcgroup-v2.c (the v2 kernel side) and devcgroup-v1.c (devices.allow).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "devcgroup-internal.h"
#include "devcgroup.h"
#include "error.h"

/* ------------------------------------------------------------------ undo */

static void swaps_close(struct crdma_devcg_v2_swap *s, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                crdma_closep(&s[i].orig_fd);
                crdma_closep(&s[i].new_fd);
        }
}

void crdma_devcg_undo_free(struct crdma_devcg_undo *undo)
{
        if (!undo)
                return;
        swaps_close(undo->swaps, undo->n_swaps);
        free(undo->swaps);
        free(undo->changes);
        crdma_closep(&undo->cgroup_fd);
        free(undo->cgroup_name);
        free(undo);
}

bool crdma_devcg_undo_changed(const struct crdma_devcg_undo *undo)
{
        return undo && (undo->n_swaps > 0 || undo->n_changes > 0);
}

int crdma_devcg_undo_new(int version, int cgroup_fd, const char *name,
                         struct crdma_devcg_undo **out)
{
        _cleanup_(crdma_devcg_undo_freep) struct crdma_devcg_undo *u = calloc(1, sizeof(*u));
        if (!u)
                return -ENOMEM;
        u->version = version;
        u->cgroup_fd = -EBADF;
        u->cgroup_name = strdup(name);
        if (!u->cgroup_name)
                return -ENOMEM;
        u->cgroup_fd = fcntl(cgroup_fd, F_DUPFD_CLOEXEC, 3);
        if (u->cgroup_fd < 0)
                return -errno;
        *out = TAKE_PTR(u);
        return 0;
}

int crdma_devcg_undo(struct crdma_devcg_undo *undo, struct crdma_error **err)
{
        if (!undo)
                return 0;
        return undo->version == 2 ? crdma_devcg_v2_undo(undo, err) : crdma_devcg_v1_undo(undo, err);
}

/* -------------------------------------------------------------- messages */

int crdma_devcg_fail_sys_also(struct crdma_error **err, int e, const char *hint,
                              const char *also, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *what = NULL, *more = NULL;
        int r = vasprintf(&what, fmt, ap);
        va_end(ap);
        if (r < 0)
                return crdma_fail_oom(err);
        if (also && asprintf(&more, "%s%sand undoing the part already done failed too: %s",
                             hint ? hint : "", hint ? "; " : "", also) < 0)
                return crdma_fail_oom(err);
        return crdma_fail_errno_hint(err, e, more ? more : hint, "%s", what);
}
