/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Device cgroup: the cgroup v2 program crdma builds (exact prefix layout, idempotence, what it
 * refuses to reload) and the cgroup v1 devices.allow / devices.deny writes, on regular files in
 * a temp dir.  What the built program does in a kernel is proven by tests/vm (20-devcgroup-bpf). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cleanup.h"
#include "crdma.h"
#include "devcgroup.h"
#include "error.h"
#include "fixture.h"

#define INSN(c, d, s, o, i) ((struct bpf_insn) { .code = (c), .dst_reg = (d), .src_reg = (s), \
                                                 .off = (o), .imm = (i) })
#define MOV64_IMM(d, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define MOV32_IMM(d, i) INSN(BPF_ALU | BPF_MOV | BPF_K, d, 0, 0, i)
#define MOV32_REG(d, s) INSN(BPF_ALU | BPF_MOV | BPF_X, d, s, 0, 0)
#define LDX_W(d, s, o) INSN(BPF_LDX | BPF_W | BPF_MEM, d, s, o, 0)
#define ALU32_IMM(op, d, i) INSN(BPF_ALU | (op) | BPF_K, d, 0, 0, i)
#define JMP_IMM(op, d, i, o) INSN(BPF_JMP | (op) | BPF_K, d, 0, o, i)
#define JMP_REG(op, d, s, o) INSN(BPF_JMP | (op) | BPF_X, d, s, o, 0)
#define JMP32_IMM(op, d, i, o) INSN(BPF_JMP32 | (op) | BPF_K, d, 0, o, i)
#define JA(o) INSN(BPF_JMP | BPF_JA, 0, 0, o, 0)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* What a runtime with "deny everything" attaches. */
static const struct bpf_insn deny_all[] = {
        MOV64_IMM(BPF_REG_0, 0),
        EXIT(),
};

/* The shape runc 1.1 and crun emit: load type/access/major/minor into R2-R5, one block per
 * rule (here: c 1:3 rwm and c *:* m, using R1 as a scratch register for the access check, as
 * they do), then deny. */
static const struct bpf_insn runc_like[] = {
        LDX_W(BPF_REG_2, BPF_REG_1, 0),
        ALU32_IMM(BPF_AND, BPF_REG_2, 0xffff),
        LDX_W(BPF_REG_3, BPF_REG_1, 0),
        ALU32_IMM(BPF_RSH, BPF_REG_3, 16),
        LDX_W(BPF_REG_4, BPF_REG_1, 4),
        LDX_W(BPF_REG_5, BPF_REG_1, 8),
        /* c 1:3 rwm */
        JMP_IMM(BPF_JNE, BPF_REG_2, BPF_DEVCG_DEV_CHAR, 4),
        JMP_IMM(BPF_JNE, BPF_REG_4, 1, 3),
        JMP_IMM(BPF_JNE, BPF_REG_5, 3, 2),
        MOV32_IMM(BPF_REG_0, 1),
        EXIT(),
        /* c *:* m */
        JMP_IMM(BPF_JNE, BPF_REG_2, BPF_DEVCG_DEV_CHAR, 5),
        MOV32_REG(BPF_REG_1, BPF_REG_3),
        ALU32_IMM(BPF_AND, BPF_REG_1, BPF_DEVCG_ACC_MKNOD),
        JMP_REG(BPF_JNE, BPF_REG_1, BPF_REG_3, 2),
        MOV32_IMM(BPF_REG_0, 1),
        EXIT(),
        MOV32_IMM(BPF_REG_0, 0),
        EXIT(),
};

static const struct crdma_devcg_rule uverbs0 = { 'c', 231, 192 };
static const struct crdma_devcg_rule rdma_cm = { 'c', 10, 124 };
static const struct crdma_devcg_rule umad0 = { 'c', 231, 0 };

static bool insn_eq(struct bpf_insn a, struct bpf_insn b)
{
        return memcmp(&a, &b, sizeof(a)) == 0;
}

#define assert_insn(got, want) assert_true(insn_eq((got), (want)))

static void test_normalize(void **state)
{
        (void) state;
        const struct crdma_devcg_rule in[] = { uverbs0, rdma_cm, uverbs0, umad0, rdma_cm };
        struct crdma_devcg_rule *out = NULL;
        size_t n = 0;
        assert_int_equal(crdma_devcg_rules_normalize(in, 5, &out, &n), 0);
        assert_int_equal(n, 3);
        /* sorted by type, major, minor; duplicates gone */
        assert_int_equal(out[0].major, 10);
        assert_int_equal(out[1].minor, 0);
        assert_int_equal(out[2].minor, 192);
        free(out);

        const struct crdma_devcg_rule bad[] = {
                { 'a', 1, 1 }, { 'c', 4096, 0 }, { 'c', 1, 1 << 20 }, { 'x', 1, 1 },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(crdma_devcg_rules_normalize(&bad[i], 1, &out, &n), -EINVAL);
        const struct crdma_devcg_rule max = { 'b', 4095, (1 << 20) - 1 };
        assert_int_equal(crdma_devcg_rules_normalize(&max, 1, &out, &n), 0);
        free(out);
        assert_int_equal(crdma_devcg_rules_normalize(NULL, 0, &out, &n), 0);
        assert_int_equal(n, 0);
        free(out);
}

/* The exact layout documented in devcgroup.h, for two rules on a deny-all program. */
static void test_prefix_layout(void **state)
{
        (void) state;
        const struct crdma_devcg_rule rules[] = { uverbs0, rdma_cm };
        struct bpf_insn *p = NULL;
        size_t n = 0;
        bool changed = false;
        assert_int_equal(crdma_devcg_v2_build(deny_all, 2, rules, 2, &p, &n, &changed), 0);
        assert_true(changed);
        assert_int_equal(n, CRDMA_DEVCG_PREFIX_LEN(2) + 2);
        assert_int_equal(n, 20);

        size_t k = 0;
        assert_insn(p[k++], MOV64_IMM(BPF_REG_0, 0x6372646d));
        assert_insn(p[k++], MOV64_IMM(BPF_REG_0, (1 << 16) | 2));
        assert_insn(p[k++], LDX_W(BPF_REG_2, BPF_REG_1, 0));
        assert_insn(p[k++], ALU32_IMM(BPF_AND, BPF_REG_2, 0xffff));
        assert_insn(p[k++], LDX_W(BPF_REG_3, BPF_REG_1, 0));
        assert_insn(p[k++], ALU32_IMM(BPF_RSH, BPF_REG_3, 16));
        assert_insn(p[k++], LDX_W(BPF_REG_4, BPF_REG_1, 4));
        assert_insn(p[k++], LDX_W(BPF_REG_5, BPF_REG_1, 8));
        /* mknod or any unknown access bit: straight to the runtime's code (index 18) */
        assert_insn(p[k++], JMP32_IMM(BPF_JSET, BPF_REG_3, 0xfff9, 18 - 8 - 1));
        /* rules sorted: 10:124 first; a miss goes to the next rule, a hit to "allow" (16) */
        assert_insn(p[k++], JMP32_IMM(BPF_JNE, BPF_REG_2, BPF_DEVCG_DEV_CHAR, 2));
        assert_insn(p[k++], JMP32_IMM(BPF_JNE, BPF_REG_4, 10, 1));
        assert_insn(p[k++], JMP32_IMM(BPF_JEQ, BPF_REG_5, 124, 16 - 11 - 1));
        assert_insn(p[k++], JMP32_IMM(BPF_JNE, BPF_REG_2, BPF_DEVCG_DEV_CHAR, 2));
        assert_insn(p[k++], JMP32_IMM(BPF_JNE, BPF_REG_4, 231, 1));
        assert_insn(p[k++], JMP32_IMM(BPF_JEQ, BPF_REG_5, 192, 16 - 14 - 1));
        assert_insn(p[k++], JA(18 - 15 - 1));
        assert_insn(p[k++], MOV64_IMM(BPF_REG_0, 1));
        assert_insn(p[k++], EXIT());
        /* then the runtime's instructions, untouched */
        assert_int_equal(k, 18);
        assert_memory_equal(p + 18, deny_all, sizeof(deny_all));

        /* No register but R0 and R2-R5 is written, R1 (ctx) and R10 never. */
        for (size_t i = 0; i < 18; i++) {
                uint8_t cls = BPF_CLASS(p[i].code);
                if (cls == BPF_ALU || cls == BPF_ALU64 || cls == BPF_LDX)
                        assert_true(p[i].dst_reg == BPF_REG_0 ||
                                    (p[i].dst_reg >= BPF_REG_2 && p[i].dst_reg <= BPF_REG_5));
                /* no jump lands beyond the first runtime instruction */
                if ((cls == BPF_JMP || cls == BPF_JMP32) && BPF_OP(p[i].code) != BPF_EXIT)
                        assert_true((long) i + 1 + p[i].off <= 18);
        }
        free(p);

        /* A block device rule checks BPF_DEVCG_DEV_BLOCK. */
        const struct crdma_devcg_rule blk = { 'b', 8, 0 };
        assert_int_equal(crdma_devcg_v2_build(deny_all, 2, &blk, 1, &p, &n, NULL), 0);
        assert_insn(p[9], JMP32_IMM(BPF_JNE, BPF_REG_2, BPF_DEVCG_DEV_BLOCK, 2));
        free(p);
}

/* Runs the subset of eBPF the deny program uses on one access: the device program's answer. */
static int deny_eval(const struct bpf_insn *p, size_t n, char type, unsigned major, unsigned minor)
{
        uint32_t ctx[3] = { (type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR) |
                                    ((BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE) << 16),
                            major, minor };
        uint64_t reg[11] = { 0 };
        for (size_t pc = 0; pc < n; pc++) {
                struct bpf_insn x = p[pc];
                if (x.code == (BPF_ALU64 | BPF_MOV | BPF_K))
                        reg[x.dst_reg] = (uint64_t) (int64_t) x.imm;
                else if (x.code == (BPF_LDX | BPF_W | BPF_MEM) && x.src_reg == BPF_REG_1)
                        reg[x.dst_reg] = ctx[x.off / 4];
                else if (x.code == (BPF_ALU | BPF_AND | BPF_K))
                        reg[x.dst_reg] = (uint32_t) reg[x.dst_reg] & (uint32_t) x.imm;
                else if (x.code == (BPF_JMP32 | BPF_JNE | BPF_K))
                        pc += (uint32_t) reg[x.dst_reg] != (uint32_t) x.imm ? x.off : 0;
                else if (x.code == (BPF_JMP32 | BPF_JEQ | BPF_K))
                        pc += (uint32_t) reg[x.dst_reg] == (uint32_t) x.imm ? x.off : 0;
                else if (x.code == (BPF_JMP | BPF_EXIT))
                        return (int) reg[BPF_REG_0];
                else
                        fail_msg("instruction %zu (code 0x%02x) outside the deny program's subset",
                                 pc, x.code);
        }
        fail_msg("ran off the end of the program");
        return -1;
}

/* The standalone program for a Slurm step: the layout in devcgroup.h, and what it answers. */
static void test_deny_program(void **state)
{
        (void) state;
        const struct crdma_devcg_rule rules[] = { rdma_cm, umad0, { 'c', 231, 193 } };
        struct bpf_insn *p = NULL;
        size_t n = 0;
        assert_int_equal(crdma_devcg_v2_deny_program(rules, 3, &p, &n), 0);
        assert_int_equal(n, CRDMA_DEVCG_DENY_LEN(3));
        assert_insn(p[0], MOV64_IMM(BPF_REG_0, 0x6372646d));
        assert_insn(p[1], MOV64_IMM(BPF_REG_0, (2 << 16) | 3));
        assert_insn(p[6], JMP32_IMM(BPF_JNE, BPF_REG_2, BPF_DEVCG_DEV_CHAR, 2));
        assert_insn(p[7], JMP32_IMM(BPF_JNE, BPF_REG_4, 10, 1));
        /* the first rule's hit lands on "deny" (8 + 3n = 17) */
        assert_insn(p[8], JMP32_IMM(BPF_JEQ, BPF_REG_5, 124, 17 - 8 - 1));
        assert_insn(p[15], MOV64_IMM(BPF_REG_0, 1));
        assert_insn(p[17], MOV64_IMM(BPF_REG_0, 0));
        assert_insn(p[18], EXIT());

        /* denied: exactly the rules */
        assert_int_equal(deny_eval(p, n, 'c', 10, 124), 0);
        assert_int_equal(deny_eval(p, n, 'c', 231, 0), 0);
        assert_int_equal(deny_eval(p, n, 'c', 231, 193), 0);
        /* allowed: the device asked for, and everything that is not RDMA */
        assert_int_equal(deny_eval(p, n, 'c', 231, 192), 1);
        assert_int_equal(deny_eval(p, n, 'c', 1, 3), 1);
        assert_int_equal(deny_eval(p, n, 'b', 231, 193), 1);
        assert_int_equal(deny_eval(p, n, 'c', 10, 125), 1);

        /* The container path never takes it for a prefix of its own to extend. */
        assert_int_equal(crdma_devcg_v2_parse_prefix(p, n, NULL, NULL, NULL), -EBADMSG);
        free(p);

        /* No rule: allow all.  Rules not normalised: refused. */
        assert_int_equal(crdma_devcg_v2_deny_program(NULL, 0, &p, &n), 0);
        assert_int_equal(n, CRDMA_DEVCG_DENY_LEN(0));
        assert_int_equal(deny_eval(p, n, 'c', 231, 192), 1);
        free(p);
        const struct crdma_devcg_rule unsorted[] = { umad0, rdma_cm };
        assert_int_equal(crdma_devcg_v2_deny_program(unsorted, 2, &p, &n), -EINVAL);
}

static void test_runc_like(void **state)
{
        (void) state;
        struct bpf_insn *p = NULL;
        size_t n = 0;
        assert_int_equal(crdma_devcg_v2_build(runc_like, ELEMENTSOF(runc_like), &uverbs0, 1, &p, &n,
                                              NULL),
                         0);
        assert_int_equal(n, CRDMA_DEVCG_PREFIX_LEN(1) + ELEMENTSOF(runc_like));
        assert_memory_equal(p + CRDMA_DEVCG_PREFIX_LEN(1), runc_like, sizeof(runc_like));
        /* the jset over mknod lands exactly on the runtime's first instruction */
        assert_int_equal(8 + 1 + p[8].off, CRDMA_DEVCG_PREFIX_LEN(1));
        free(p);
}

static void test_idempotent(void **state)
{
        (void) state;
        const struct crdma_devcg_rule both[] = { uverbs0, rdma_cm };
        struct bpf_insn *once = NULL, *twice = NULL, *more = NULL, *direct = NULL;
        size_t n1 = 0, n2 = 0, n3 = 0, n4 = 0;
        bool changed = true;

        assert_int_equal(crdma_devcg_v2_build(runc_like, ELEMENTSOF(runc_like), both, 2, &once,
                                              &n1, &changed),
                         0);
        assert_true(changed);

        /* Our prefix is recognised, with its rules and length. */
        struct crdma_devcg_rule *rules = NULL;
        size_t n_rules = 0, plen = 0;
        assert_int_equal(crdma_devcg_v2_parse_prefix(once, n1, &rules, &n_rules, &plen), 1);
        assert_int_equal(n_rules, 2);
        assert_int_equal(rules[0].major, 10);
        assert_int_equal(rules[1].minor, 192);
        assert_int_equal(plen, CRDMA_DEVCG_PREFIX_LEN(2));
        free(rules);
        assert_int_equal(crdma_devcg_v2_parse_prefix(runc_like, ELEMENTSOF(runc_like), NULL, NULL,
                                                     NULL),
                         0);

        /* The same rules again, in another order, or a subset: nothing changes. */
        const struct crdma_devcg_rule swapped[] = { rdma_cm, uverbs0, rdma_cm };
        assert_int_equal(crdma_devcg_v2_build(once, n1, swapped, 3, &twice, &n2, &changed), 0);
        assert_false(changed);
        assert_int_equal(n2, n1);
        assert_memory_equal(twice, once, n1 * sizeof(*once));
        free(twice);
        assert_int_equal(crdma_devcg_v2_build(once, n1, &uverbs0, 1, &twice, &n2, &changed), 0);
        assert_false(changed);
        free(twice);
        assert_int_equal(crdma_devcg_v2_build(once, n1, NULL, 0, &twice, &n2, &changed), 0);
        assert_false(changed);
        free(twice);

        /* A new rule: one prefix with the union, never a second prefix. */
        assert_int_equal(crdma_devcg_v2_build(once, n1, &umad0, 1, &more, &n3, &changed), 0);
        assert_true(changed);
        const struct crdma_devcg_rule all3[] = { umad0, uverbs0, rdma_cm };
        assert_int_equal(crdma_devcg_v2_build(runc_like, ELEMENTSOF(runc_like), all3, 3, &direct,
                                              &n4, NULL),
                         0);
        assert_int_equal(n3, n4);
        assert_memory_equal(more, direct, n3 * sizeof(*more));
        assert_int_equal(n3, CRDMA_DEVCG_PREFIX_LEN(3) + ELEMENTSOF(runc_like));

        /* No rules and no prefix: the runtime's program as it is. */
        assert_int_equal(crdma_devcg_v2_build(deny_all, 2, NULL, 0, &twice, &n2, &changed), 0);
        assert_false(changed);
        assert_int_equal(n2, 2);
        free(twice);

        free(once);
        free(more);
        free(direct);
}

static void test_parse_damaged(void **state)
{
        (void) state;
        struct bpf_insn *p = NULL;
        size_t n = 0;
        assert_int_equal(crdma_devcg_v2_build(deny_all, 2, &uverbs0, 1, &p, &n, NULL), 0);

        /* A prefix alone (nothing of the runtime after it) */
        assert_int_equal(crdma_devcg_v2_parse_prefix(p, CRDMA_DEVCG_PREFIX_LEN(1), NULL, NULL,
                                                     NULL),
                         -EBADMSG);
        /* another format */
        struct bpf_insn *q = malloc(n * sizeof(*q));
        assert_non_null(q);
        memcpy(q, p, n * sizeof(*q));
        q[1].imm = (2 << 16) | 1;
        assert_int_equal(crdma_devcg_v2_parse_prefix(q, n, NULL, NULL, NULL), -EBADMSG);
        /* a count that does not match the rules */
        memcpy(q, p, n * sizeof(*q));
        q[1].imm = (1 << 16) | 0;
        assert_int_equal(crdma_devcg_v2_parse_prefix(q, n, NULL, NULL, NULL), -EBADMSG);
        /* one jump changed */
        memcpy(q, p, n * sizeof(*q));
        q[11].off = 2;
        assert_int_equal(crdma_devcg_v2_parse_prefix(q, n, NULL, NULL, NULL), -EBADMSG);
        /* build refuses to guess */
        struct bpf_insn *out = NULL;
        size_t n_out = 0;
        assert_int_equal(crdma_devcg_v2_build(q, n, &uverbs0, 1, &out, &n_out, NULL), -EBADMSG);
        assert_null(out);
        free(q);
        free(p);
}

static void test_runtime_refused(void **state)
{
        (void) state;
        struct bpf_insn *out = NULL;
        size_t n = 0;

        const struct bpf_insn call[] = {
                INSN(BPF_JMP | BPF_CALL, 0, 0, 0, 14), MOV64_IMM(BPF_REG_0, 0), EXIT(),
        };
        assert_int_equal(crdma_devcg_v2_build(call, 3, &uverbs0, 1, &out, &n, NULL), -EOPNOTSUPP);
        const struct bpf_insn map[] = {
                INSN(BPF_LD | BPF_IMM | BPF_DW, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, 7),
                INSN(0, 0, 0, 0, 0), MOV64_IMM(BPF_REG_0, 0), EXIT(),
        };
        assert_int_equal(crdma_devcg_v2_build(map, 4, &uverbs0, 1, &out, &n, NULL), -EOPNOTSUPP);
        const struct bpf_insn blinded[] = {
                MOV64_IMM(11, 5), MOV64_IMM(BPF_REG_0, 0), EXIT(),
        };
        assert_int_equal(crdma_devcg_v2_build(blinded, 3, &uverbs0, 1, &out, &n, NULL),
                         -EOPNOTSUPP);
        const struct bpf_insn out_of_range[] = {
                JA(5), MOV64_IMM(BPF_REG_0, 0), EXIT(),
        };
        assert_int_equal(crdma_devcg_v2_build(out_of_range, 3, &uverbs0, 1, &out, &n, NULL),
                         -EINVAL);
        const struct bpf_insn backwards[] = {
                JA(-2), MOV64_IMM(BPF_REG_0, 0), EXIT(),
        };
        assert_int_equal(crdma_devcg_v2_build(backwards, 3, &uverbs0, 1, &out, &n, NULL), -EINVAL);
        assert_int_equal(crdma_devcg_v2_build(NULL, 0, &uverbs0, 1, &out, &n, NULL), -EINVAL);
        assert_null(out);

        /* A plain 64-bit immediate is fine; a zero-extension marker becomes a plain mov32. */
        const struct bpf_insn ok[] = {
                INSN(BPF_LD | BPF_IMM | BPF_DW, BPF_REG_0, 0, 0, 1), INSN(0, 0, 0, 0, 0),
                INSN(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_0, BPF_REG_0, 0, 1),
                EXIT(),
        };
        assert_int_equal(crdma_devcg_v2_build(ok, 4, &uverbs0, 1, &out, &n, NULL), 0);
        size_t b = CRDMA_DEVCG_PREFIX_LEN(1);
        assert_int_equal(n, b + 4);
        assert_memory_equal(out + b, ok, 2 * sizeof(*ok));
        assert_insn(out[b + 2], MOV32_REG(BPF_REG_0, BPF_REG_0));
        free(out);
}

/* ------------------------------------------------------------------ v1 */

struct v1_dir {
        char path[64];
        int fd;
};

static void v1_setup(struct v1_dir *d, const char *list)
{
        fixture_tmpdir(d->path, sizeof(d->path), "devcg");
        d->fd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(d->fd >= 0);
        const char *names[] = { "devices.list", "devices.allow", "devices.deny" };
        for (size_t i = 0; i < 3; i++) {
                int fd = openat(d->fd, names[i], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                assert_true(fd >= 0);
                if (i == 0)
                        assert_int_equal(write(fd, list, strlen(list)), (ssize_t) strlen(list));
                close(fd);
        }
}

static char *v1_read(struct v1_dir *d, const char *name)
{
        static char buf[4096];
        int fd = openat(d->fd, name, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        assert_true(n >= 0);
        buf[n] = '\0';
        close(fd);
        return buf;
}

static void v1_teardown(struct v1_dir *d)
{
        const char *names[] = { "devices.list", "devices.allow", "devices.deny" };
        for (size_t i = 0; i < 3; i++)
                unlinkat(d->fd, names[i], 0);
        close(d->fd);
        assert_int_equal(rmdir(d->path), 0);
}

static void test_v1_allow_and_undo(void **state)
{
        (void) state;
        struct v1_dir d;
        /* what runc writes for a default container: no RDMA */
        v1_setup(&d, "c 1:3 rwm\nc 1:5 rwm\nc *:* m\nb *:* m\nc 136:* rwm\n");
        const struct crdma_devcg_rule rules[] = { uverbs0, rdma_cm, uverbs0 };
        struct crdma_devcg_undo *undo = NULL;
        struct crdma_error *err = NULL;
        assert_int_equal(crdma_devcg_v1_allow(NULL, d.fd, "/sys/fs/cgroup/devices/c1", rules, 3,
                                              &undo, &err),
                         0);
        assert_null(err);
        assert_true(crdma_devcg_undo_changed(undo));
        assert_string_equal(v1_read(&d, "devices.allow"), "c 10:124 rw\nc 231:192 rw\n");
        assert_string_equal(v1_read(&d, "devices.deny"), "");

        assert_int_equal(crdma_devcg_undo(undo, &err), 0);
        assert_string_equal(v1_read(&d, "devices.deny"), "c 10:124 rw\nc 231:192 rw\n");
        /* done: a second undo writes nothing */
        assert_false(crdma_devcg_undo_changed(undo));
        assert_int_equal(crdma_devcg_undo(undo, &err), 0);
        assert_string_equal(v1_read(&d, "devices.deny"), "c 10:124 rw\nc 231:192 rw\n");
        crdma_devcg_undo_free(undo);
        v1_teardown(&d);
}

/* Undo never takes away what the container had before. */
static void test_v1_already_allowed(void **state)
{
        (void) state;
        struct v1_dir d;
        v1_setup(&d, "c 231:192 r\nc 10:* rwm\n");
        const struct crdma_devcg_rule rules[] = { uverbs0, rdma_cm };
        struct crdma_devcg_undo *undo = NULL;
        assert_int_equal(crdma_devcg_v1_allow(NULL, d.fd, "c2", rules, 2, &undo, NULL), 0);
        /* rdma_cm was covered by 10:*; uverbs0 only lacked write */
        assert_string_equal(v1_read(&d, "devices.allow"), "c 231:192 rw\n");
        assert_int_equal(crdma_devcg_undo(undo, NULL), 0);
        assert_string_equal(v1_read(&d, "devices.deny"), "c 231:192 w\n");
        crdma_devcg_undo_free(undo);
        v1_teardown(&d);

        /* A privileged container (default allow): nothing to write, nothing to undo. */
        v1_setup(&d, "a *:* rwm\n");
        undo = NULL;
        assert_int_equal(crdma_devcg_v1_allow(NULL, d.fd, "c3", rules, 2, &undo, NULL), 0);
        assert_non_null(undo);
        assert_false(crdma_devcg_undo_changed(undo));
        assert_string_equal(v1_read(&d, "devices.allow"), "");
        assert_int_equal(crdma_devcg_undo(undo, NULL), 0);
        assert_string_equal(v1_read(&d, "devices.deny"), "");
        crdma_devcg_undo_free(undo);
        v1_teardown(&d);
}

/* devices.list is scanned once for all rules: what one rule has may come from several lines,
 * and one line may cover several rules (the last line has no newline). */
static void test_v1_list_lines_and_rules(void **state)
{
        (void) state;
        struct v1_dir d;
        v1_setup(&d, "c 231:* r\nc 231:192 w\nc 10:124 r\nb *:* rwm");
        const struct crdma_devcg_rule rules[] = { uverbs0, rdma_cm, umad0 };
        struct crdma_devcg_undo *undo = NULL;
        assert_int_equal(crdma_devcg_v1_allow(NULL, d.fd, "c4", rules, 3, &undo, NULL), 0);
        /* uverbs0 has r from 231:* and w from 231:192; the others lack w */
        assert_string_equal(v1_read(&d, "devices.allow"), "c 10:124 rw\nc 231:0 rw\n");
        assert_int_equal(crdma_devcg_undo(undo, NULL), 0);
        assert_string_equal(v1_read(&d, "devices.deny"), "c 10:124 w\nc 231:0 w\n");
        crdma_devcg_undo_free(undo);
        v1_teardown(&d);
}

static void test_v1_errors(void **state)
{
        (void) state;
        struct v1_dir d;
        struct crdma_devcg_undo *undo = NULL;
        struct crdma_error *err = NULL;

        v1_setup(&d, "c 1:3 rwm\nthis is not a rule\n");
        assert_int_equal(crdma_devcg_v1_allow(NULL, d.fd, "/cg/x", &uverbs0, 1, &undo, &err),
                         -EBADMSG);
        assert_null(undo);
        assert_string_equal(crdma_error_message(err),
                            "cgroup /cg/x: devices.list: unexpected line \"this is not a rule\"");
        crdma_error_free(err);
        err = NULL;
        v1_teardown(&d);

        /* not a devices cgroup directory */
        v1_setup(&d, "");
        unlinkat(d.fd, "devices.allow", 0);
        assert_int_equal(crdma_devcg_v1_allow(NULL, d.fd, "/cg/y", &uverbs0, 1, &undo, &err),
                         -ENOENT);
        assert_null(undo);
        assert_string_equal(crdma_error_message(err),
                            "cgroup /cg/y: opening devices.allow failed: No such file or "
                            "directory; the hook needs CAP_SYS_ADMIN");
        crdma_error_free(err);
        err = NULL;
        unlinkat(d.fd, "devices.list", 0);
        assert_int_equal(crdma_devcg_v1_allow(NULL, d.fd, "/cg/y", &uverbs0, 1, &undo, &err),
                         -ENOENT);
        assert_string_equal(crdma_error_message(err),
                            "cgroup /cg/y: opening devices.list failed: No such file or "
                            "directory; is it a directory of the v1 devices hierarchy?");
        crdma_error_free(err);
        err = NULL;
        unlinkat(d.fd, "devices.deny", 0);
        close(d.fd);
        assert_int_equal(rmdir(d.path), 0);

        const struct crdma_devcg_rule bad = { 'c', 5000, 0 };
        assert_int_equal(crdma_devcg_v1_allow(NULL, -EBADF, "/cg/z", &bad, 1, &undo, &err),
                         -EINVAL);
        crdma_error_free(err);
}

/* cgroup v2 on a directory that is no cgroup: a one-line error naming the cgroup (EBADF from
 * the kernel as root, EPERM without CAP_NET_ADMIN, ENOSYS under a seccomp filter). */
static void test_v2_not_a_cgroup(void **state)
{
        (void) state;
        char dir[64];
        fixture_tmpdir(dir, sizeof(dir), "devcg-v2");
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        struct crdma_devcg_undo *undo = NULL;
        struct crdma_error *err = NULL;
        int r = crdma_devcg_v2_allow(NULL, fd, dir, &uverbs0, 1, &undo, &err);
        assert_true(r < 0);
        assert_null(undo);
        char want[128];
        snprintf(want, sizeof(want),
                 "cgroup %s: listing its device programs (BPF_PROG_QUERY) failed: ", dir);
        assert_non_null(err);
        assert_memory_equal(crdma_error_message(err), want, strlen(want));
        crdma_error_free(err);
        close(fd);
        rmdir(dir);

        /* NULL undo and an empty record are fine */
        crdma_devcg_undo_free(NULL);
        assert_int_equal(crdma_devcg_undo(NULL, NULL), 0);
        assert_false(crdma_devcg_undo_changed(NULL));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_normalize),
                cmocka_unit_test(test_prefix_layout),
                cmocka_unit_test(test_runc_like),
                cmocka_unit_test(test_deny_program),
                cmocka_unit_test(test_idempotent),
                cmocka_unit_test(test_parse_damaged),
                cmocka_unit_test(test_runtime_refused),
                cmocka_unit_test(test_v1_allow_and_undo),
                cmocka_unit_test(test_v1_already_allowed),
                cmocka_unit_test(test_v1_list_lines_and_rules),
                cmocka_unit_test(test_v1_errors),
                cmocka_unit_test(test_v2_not_a_cgroup),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
