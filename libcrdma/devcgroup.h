/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Device cgroup for the inject path: let an already-created container open
 * the RDMA character devices it was given.  Private to libcrdma.
 *
 * cgroup v2 has no device files: the runtime (runc, crun) attached a
 * BPF_PROG_TYPE_CGROUP_DEVICE program that allows only its own list.  crdma
 * reads that program's instructions back, prepends a small self-contained
 * block of its own (the "prefix") that answers "allow" for the RDMA rules and
 * otherwise falls through to the runtime's first instruction with R1 = ctx
 * untouched, loads the result and swaps it in with one BPF_PROG_ATTACH
 * (BPF_F_REPLACE).  Every request outside the rules, and every mknod, gets
 * exactly the runtime's answer.
 *
 * Prefix layout (format 1; all ALU and jumps are 32-bit so no verifier ever
 * inserts zero-extensions into it, and every branch depends on the context,
 * so no dead-code pass rewrites it; see devcgroup-prog.c):
 *
 *   0  r0 = 0x6372646d                  "crdm": marks a crdma prefix
 *   1  r0 = (1 << 16) | n               format 1, n rules
 *   2  w2 = *(u32 *)(r1 + 0)            access_type
 *   3  w2 &= 0xffff                     device type (BPF_DEVCG_DEV_*)
 *   4  w3 = *(u32 *)(r1 + 0)
 *   5  w3 >>= 16                        access (BPF_DEVCG_ACC_*)
 *   6  w4 = *(u32 *)(r1 + 4)            major
 *   7  w5 = *(u32 *)(r1 + 8)            minor
 *   8  if w3 & 0xfff9 goto body         anything but read/write (mknod): not ours
 *   per rule i (9 + 3i):
 *      if w2 != TYPE goto +2
 *      if w4 != MAJOR goto +1
 *      if w5 == MINOR goto allow
 *   9+3n    goto body
 *   10+3n   allow: r0 = 1
 *   11+3n   exit
 *   12+3n   body: the runtime's own instructions, unchanged
 *
 * Rules in a prefix are sorted and unique, so a prefix is a function of the
 * rule set and can be compared instruction for instruction.
 *
 * Not durable: `runc update` / `crun update` with device rules (and a systemd
 * reload for systemd-managed cgroups) load the runtime's own program again and
 * drop the prefix.  Only the config-edit path survives those.
 */
#ifndef CRDMA_DEVCGROUP_H
#define CRDMA_DEVCGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>

#include "crdma.h"

struct crdma_devcg_rule {
        char type; /* 'c' (or 'b'); access is always read+write */
        unsigned major, minor;
};

/* What an apply changed, to put it back (all-or-nothing). */
struct crdma_devcg_undo;

#define CRDMA_DEVCG_PREFIX_MAGIC 0x6372646d /* "crdm" */
#define CRDMA_DEVCG_PREFIX_FORMAT 1
#define CRDMA_DEVCG_MAX_RULES 1024
/* Instructions in a prefix for n rules. */
#define CRDMA_DEVCG_PREFIX_LEN(n) (12 + 3 * (size_t) (n))
/* The name crdma's programs carry (bpftool prog show). */
#define CRDMA_DEVCG_PROG_NAME "crdma_devcg"

/* ------------------------------------------------------- pure (unit-tested) */

/* Check the rules and sort them into a new array without duplicates.
 * -EINVAL for a type other than 'c'/'b', a major over 4095 or a minor over
 * 1048575 (what a dev_t holds), or more than CRDMA_DEVCG_MAX_RULES. */
int crdma_devcg_rules_normalize(const struct crdma_devcg_rule *rules, size_t n,
                                struct crdma_devcg_rule **out, size_t *n_out);

/* Does `insns` start with a crdma prefix?  1 yes (then *rules / *n_rules are
 * the rules it allows, malloc'ed, and *prefix_len its length: the runtime's
 * instructions start there), 0 no, -EBADMSG when it starts with the marker
 * but is not a prefix this version writes (another format, or damaged).
 * rules/n_rules/prefix_len may be NULL. */
int crdma_devcg_v2_parse_prefix(const struct bpf_insn *insns, size_t n,
                                struct crdma_devcg_rule **rules, size_t *n_rules,
                                size_t *prefix_len);

/* The program to load: a prefix allowing `rules` followed by `runtime`.  When
 * `runtime` already starts with a crdma prefix, that prefix is replaced and
 * the rules it allowed are kept (union), so building twice gives the same
 * program as building once.  `runtime` must be a program the kernel could
 * have verified: no helper calls, no map or BTF references, every jump inside
 * it (else -EOPNOTSUPP / -EINVAL).  *changed (may be NULL) says whether the
 * result differs from `runtime`.  The zero-extension markers the verifier
 * adds on some architectures (mov32 rX, rX with imm 1) are turned back into
 * plain mov32 so the instructions load again. */
int crdma_devcg_v2_build(const struct bpf_insn *runtime, size_t n_runtime,
                         const struct crdma_devcg_rule *rules, size_t n,
                         struct bpf_insn **out, size_t *n_out, bool *changed);

/* A program of its own (format 2), for a cgroup that has no container's
 * program to extend (a Slurm job step): it denies every access to the devices
 * in `rules` (sorted and unique, crdma_devcg_rules_normalize) and allows all
 * else.  The kernel allows an access only when every program in effect does,
 * so attached next to others it can only narrow what they allow.
 *
 *   0  r0 = 0x6372646d                  "crdm"
 *   1  r0 = (2 << 16) | n               format 2, n rules
 *   2  w2 = *(u32 *)(r1 + 0)            access_type
 *   3  w2 &= 0xffff                     device type
 *   4  w4 = *(u32 *)(r1 + 4)            major
 *   5  w5 = *(u32 *)(r1 + 8)            minor
 *   per rule i (6 + 3i): as in the prefix, "goto deny" on a match
 *   6+3n  r0 = 1; exit                  allow
 *   8+3n  r0 = 0; exit                  deny
 */
#define CRDMA_DEVCG_DENY_FORMAT 2
#define CRDMA_DEVCG_DENY_LEN(n) (10 + 3 * (size_t) (n))
int crdma_devcg_v2_deny_program(const struct crdma_devcg_rule *rules, size_t n,
                                struct bpf_insn **out, size_t *n_out);

/* ------------------------------------------------------------- the kernel */

/* cgroup v2.  `cgroup_fd`: O_RDONLY|O_DIRECTORY fd of the container's cgroup;
 * `cgroup_name`: its path, for messages.  Each device program attached to
 * that cgroup itself gets the prefix (the kernel allows an access only when
 * every attached program does, so all must let the rules through) and is
 * replaced in place: BPF_F_ALLOW_MULTI|BPF_F_REPLACE when the cgroup is in
 * multi mode (runc, crun, systemd), else the same flags it had (the kernel
 * then swaps the single program).  A failure part-way puts the replaced ones
 * back.  No program attached: nothing to do (returns 0).  Programs attached to
 * ancestors are shared with other cgroups and are left alone (logged).
 * Running it again with rules already allowed changes nothing; with new rules
 * it rewrites our prefix (union), never stacking a second one.
 * `undo` may be NULL; else it receives the record on success (an empty one
 * when nothing changed).
 * Capabilities: CAP_SYS_ADMIN (opening the runtime's program by id needs it;
 * with it the query, the load and the attach need nothing more). */
int crdma_devcg_v2_allow(struct crdma_context *ctx, int cgroup_fd, const char *cgroup_name,
                         const struct crdma_devcg_rule *rules, size_t n,
                         struct crdma_devcg_undo **undo, struct crdma_error **err);

/* cgroup v2: attach crdma_devcg_v2_deny_program(rules) to the cgroup in
 * multi mode (BPF_F_ALLOW_MULTI), so that it applies to the cgroup and every
 * cgroup below it together with the programs there (a Slurm step's, attached
 * below it in override mode).  Attaching fails (EPERM, with the fix) where the
 * cgroup already has a program attached in another mode.  The same program
 * already attached: nothing to do.  Removed with the cgroup; there is no undo.
 * Needs CAP_SYS_ADMIN (reading the attached programs back by id). */
int crdma_devcg_v2_deny(struct crdma_context *ctx, int cgroup_fd, const char *cgroup_name,
                        const struct crdma_devcg_rule *rules, size_t n,
                        struct crdma_error **err);

/* cgroup v1: "c MAJ:MIN rw" to devices.allow in `devices_cgroup_fd` (the
 * container's directory in the devices hierarchy), for each rule not already
 * allowed read+write according to devices.list; one write per rule, and a
 * failure part-way takes back the ones written.  A cgroup in default-allow mode
 * (devices.list "a *:* rwm", a privileged container) is left alone: it lists
 * no deny exceptions to compare with.  Needs CAP_SYS_ADMIN. */
int crdma_devcg_v1_allow(struct crdma_context *ctx, int devices_cgroup_fd,
                         const char *cgroup_name, const struct crdma_devcg_rule *rules,
                         size_t n, struct crdma_devcg_undo **undo,
                         struct crdma_error **err);

/* Put back what the apply changed.  v2: re-attach each original program in
 * place of ours (fails with ENOENT and a message if ours was replaced by
 * someone else meanwhile: that program is left alone).  v1: devices.deny for
 * exactly the access bits that were not allowed before.  An undo that
 * succeeded is empty afterwards; calling it again does nothing. */
int crdma_devcg_undo(struct crdma_devcg_undo *undo, struct crdma_error **err);
void crdma_devcg_undo_free(struct crdma_devcg_undo *undo);

/* Did the apply change anything?  (false for an empty record or NULL) */
bool crdma_devcg_undo_changed(const struct crdma_devcg_undo *undo);

#endif
