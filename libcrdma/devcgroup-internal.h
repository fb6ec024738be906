/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the devcgroup*.c files share and nothing else in the library sees:
 * the undo record both cgroup versions fill, and the one message shape
 * their system-call failures take.  The rest of libcrdma uses devcgroup.h.
 *
 *   devcgroup-prog.c  build and verify the v2 program (pure, unit-tested)
 *   devcgroup-bpf.c   the bpf(2) calls, through libbpf (devcgroup-bpf.h)
 *   devcgroup-v2.c    swap the cgroup's programs for ours, and back
 *   devcgroup-v1.c    devices.list, devices.allow, devices.deny
 *   devcgroup.c       the undo record and the messages
 */
#ifndef CRDMA_DEVCGROUP_INTERNAL_H
#define CRDMA_DEVCGROUP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>

#include "cleanup.h"
#include "devcgroup.h"

/* The access every rule grants: read and write, never mknod. */
#define CRDMA_DEVCG_ACC_RW (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)

/* v2: one program swapped in the cgroup. */
struct crdma_devcg_v2_swap {
        int orig_fd;         /* the runtime's program, kept alive for undo */
        int new_fd;          /* ours, as attached */
        uint32_t orig_id, new_id;
        uint32_t attach_flags; /* the cgroup's flags for BPF_CGROUP_DEVICE */
};

/* v1: one rule written to devices.allow. */
struct crdma_devcg_v1_change {
        struct crdma_devcg_rule rule;
        unsigned missing; /* BPF_DEVCG_ACC_* bits we added */
};

struct crdma_devcg_undo {
        int version; /* 1 or 2 */
        int cgroup_fd;
        char *cgroup_name;
        struct crdma_devcg_v2_swap *swaps;
        size_t n_swaps;
        struct crdma_devcg_v1_change *changes;
        size_t n_changes;
};

DEFINE_TRIVIAL_CLEANUP_FUNC(struct crdma_devcg_undo *, crdma_devcg_undo_free)

/* An empty record for `version` on a dup of `cgroup_fd`: -ENOMEM or -errno. */
int crdma_devcg_undo_new(int version, int cgroup_fd, const char *name,
                         struct crdma_devcg_undo **out);

/* Each version's half of crdma_devcg_undo (devcgroup-v1.c, devcgroup-v2.c). */
int crdma_devcg_v1_undo(struct crdma_devcg_undo *u, struct crdma_error **err);
int crdma_devcg_v2_undo(struct crdma_devcg_undo *u, struct crdma_error **err);

/* crdma_fail_errno_hint() ("<what>: <strerror(e)>; <hint>"), and "; and undoing the part
 * already done failed too: <also>" after it when `also` is not NULL. */
int crdma_devcg_fail_sys_also(struct crdma_error **err, int e, const char *hint,
                              const char *also, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

#endif
