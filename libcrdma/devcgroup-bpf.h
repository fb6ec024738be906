/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The bpf(2) calls the cgroup v2 device cgroup makes, through libbpf: list a
 * cgroup's device programs, open one and read its instructions back, load
 * ours, swap one for another.  Private to the devcgroup*.c files.  Each
 * returns >= 0 or -errno, whatever the libbpf version reports.
 */
#ifndef CRDMA_DEVCGROUP_BPF_H
#define CRDMA_DEVCGROUP_BPF_H

#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>

#include "crdma.h"

/* Opening another process's program by id takes CAP_SYS_ADMIN; with it, loading, attaching
 * and reading instructions need nothing more (CAP_BPF and CAP_NET_ADMIN are not enough). */
#define CRDMA_DEVCG_HINT_CAPS \
        "the hook needs CAP_SYS_ADMIN to open, load and attach device programs"

/* The ids of the BPF_CGROUP_DEVICE programs on `cgroup_fd` (BPF_PROG_QUERY with
 * `query_flags`), as many as there are.  ids and attach_flags may be NULL. */
int crdma_devcg_bpf_query(int cgroup_fd, uint32_t query_flags, uint32_t **ids, uint32_t *count,
                          uint32_t *attach_flags);

/* An fd of program `id`: -ENOENT when it is gone. */
int crdma_devcg_bpf_open(uint32_t id);

/* A program's xlated instructions, its type and its name (for messages).  -EPERM when the
 * kernel hides the instructions; -EAGAIN when their length changed between two reads. */
int crdma_devcg_bpf_read(int fd, struct bpf_insn **out, size_t *n, uint32_t *type, char *name,
                         size_t name_len);

/* The id of the program `fd` refers to; 0 when unknown. */
uint32_t crdma_devcg_bpf_id(int fd);

/* Load `insns` as a device program named CRDMA_DEVCG_PROG_NAME; returns its fd.  A refusal
 * names the verifier's reason (`cg` is the cgroup, for the message). */
int crdma_devcg_bpf_load(struct crdma_context *ctx, const char *cg, const struct bpf_insn *insns,
                         size_t n, struct crdma_error **err);

/* Attach `prog_fd` to `cgroup_fd` in place of `old_fd`, in the cgroup's mode `flags`. */
int crdma_devcg_bpf_replace(int cgroup_fd, int prog_fd, int old_fd, uint32_t flags);

/* Attach `prog_fd` to `cgroup_fd` next to what is there, with `flags`. */
int crdma_devcg_bpf_attach(int cgroup_fd, int prog_fd, uint32_t flags);

#endif
