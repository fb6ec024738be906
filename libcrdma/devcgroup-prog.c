/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The cgroup v2 device program crdma loads: the runtime's instructions with
 * a prefix that allows the rules (layout in devcgroup.h).  Pure: no system
 * call, so the unit tests check it instruction for instruction.
 *
 * Why prepending is safe:
 *  - eBPF jumps are relative, and the runtime's jumps stay inside its own
 *    instructions (checked), so moving all of them down by the prefix length
 *    changes none of their targets;
 *  - the prefix never jumps into the runtime's code except to its first
 *    instruction, and reaches it with R1 (the context) untouched.  The
 *    runtime's code cannot depend on any other register at entry (the
 *    verifier rejects reading an uninitialised register), so the clobbered
 *    R0, R2-R5 are invisible to it;
 *  - the prefix returns only "allow", only for read/write of the listed
 *    devices; everything else (other devices, mknod) gets the runtime's own
 *    answer.
 *
 * What the kernel hands back (xlated instructions) is what the verifier
 * accepted, after its rewrites.  For a device program (no helpers, no maps,
 * context loads left as they are) those rewrites are: unreachable code
 * removed or hard-wired, `ja +0` removed, and on some 32-bit-subregister
 * architectures zero-extension markers inserted.  All of these load again
 * (the markers after the fix-up in runtime_check()); programs with helper
 * calls, map references or constant blinding do not, and are refused.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

#include "cleanup.h"
#include "devcgroup-internal.h"
#include "devcgroup.h"

#define PREFIX_HEADER(n) ((int32_t) ((CRDMA_DEVCG_PREFIX_FORMAT << 16) | (uint32_t) (n)))
#define MAX_MAJOR 0xfffu   /* dev_t: 12 bits */
#define MAX_MINOR 0xfffffu /* dev_t: 20 bits */

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
        return (struct bpf_insn) { .code = code, .dst_reg = dst, .src_reg = src, .off = off,
                                   .imm = imm };
}

static struct bpf_insn mov64_imm(uint8_t dst, int32_t imm)
{
        return insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
}

static struct bpf_insn ldx_w(uint8_t dst, uint8_t src, int16_t off)
{
        return insn(BPF_LDX | BPF_W | BPF_MEM, dst, src, off, 0);
}

static struct bpf_insn alu32_imm(uint8_t op, uint8_t dst, int32_t imm)
{
        return insn(BPF_ALU | op | BPF_K, dst, 0, 0, imm);
}

static struct bpf_insn jmp32_imm(uint8_t op, uint8_t dst, int32_t imm, int16_t off)
{
        return insn(BPF_JMP32 | op | BPF_K, dst, 0, off, imm);
}

static int rule_type_bpf(char type)
{
        return type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
}

static int rule_cmp(const void *a, const void *b)
{
        const struct crdma_devcg_rule *x = a, *y = b;
        if (x->type != y->type)
                return x->type < y->type ? -1 : 1;
        if (x->major != y->major)
                return x->major < y->major ? -1 : 1;
        if (x->minor != y->minor)
                return x->minor < y->minor ? -1 : 1;
        return 0;
}

int crdma_devcg_rules_normalize(const struct crdma_devcg_rule *rules, size_t n,
                                struct crdma_devcg_rule **out, size_t *n_out)
{
        if (n > CRDMA_DEVCG_MAX_RULES || (n && !rules))
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if ((rules[i].type != 'c' && rules[i].type != 'b') ||
                    rules[i].major > MAX_MAJOR || rules[i].minor > MAX_MINOR)
                        return -EINVAL;
        _cleanup_free_ struct crdma_devcg_rule *v = malloc((n ? n : 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        if (n)
                memcpy(v, rules, n * sizeof(*v));
        qsort(v, n, sizeof(*v), rule_cmp);
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
                if (m == 0 || rule_cmp(&v[m - 1], &v[i]) != 0)
                        v[m++] = v[i];
        *out = TAKE_PTR(v);
        *n_out = m;
        return 0;
}

/* The prefix for sorted, unique `rules`: CRDMA_DEVCG_PREFIX_LEN(n) instructions. */
static void prefix_emit(const struct crdma_devcg_rule *rules, size_t n, struct bpf_insn *p)
{
        size_t k = 0;
        p[k++] = mov64_imm(BPF_REG_0, CRDMA_DEVCG_PREFIX_MAGIC);
        p[k++] = mov64_imm(BPF_REG_0, PREFIX_HEADER(n));
        p[k++] = ldx_w(BPF_REG_2, BPF_REG_1, 0);
        p[k++] = alu32_imm(BPF_AND, BPF_REG_2, 0xffff);
        p[k++] = ldx_w(BPF_REG_3, BPF_REG_1, 0);
        p[k++] = alu32_imm(BPF_RSH, BPF_REG_3, 16);
        p[k++] = ldx_w(BPF_REG_4, BPF_REG_1, 4);
        p[k++] = ldx_w(BPF_REG_5, BPF_REG_1, 8);
        /* Access bits other than read and write (mknod): the runtime decides. */
        p[k++] = jmp32_imm(BPF_JSET, BPF_REG_3, 0xffff & ~CRDMA_DEVCG_ACC_RW,
                           (int16_t) (3 + 3 * n));
        for (size_t i = 0; i < n; i++) {
                p[k++] = jmp32_imm(BPF_JNE, BPF_REG_2, rule_type_bpf(rules[i].type), 2);
                p[k++] = jmp32_imm(BPF_JNE, BPF_REG_4, (int32_t) rules[i].major, 1);
                p[k++] = jmp32_imm(BPF_JEQ, BPF_REG_5, (int32_t) rules[i].minor,
                                   (int16_t) (3 * (n - i) - 2));
        }
        p[k++] = insn(BPF_JMP | BPF_JA, 0, 0, 2, 0);
        p[k++] = mov64_imm(BPF_REG_0, 1);
        p[k++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

int crdma_devcg_v2_parse_prefix(const struct bpf_insn *insns, size_t n,
                                struct crdma_devcg_rule **rules, size_t *n_rules,
                                size_t *prefix_len)
{
        const struct bpf_insn marker = mov64_imm(BPF_REG_0, CRDMA_DEVCG_PREFIX_MAGIC);
        if (n < 1 || memcmp(&insns[0], &marker, sizeof(marker)) != 0)
                return 0;
        /* From here on it claims to be ours: anything unexpected is an error. */
        if (n < 2 || insns[1].code != (BPF_ALU64 | BPF_MOV | BPF_K) ||
            insns[1].dst_reg != BPF_REG_0 || insns[1].src_reg || insns[1].off ||
            ((uint32_t) insns[1].imm >> 16) != CRDMA_DEVCG_PREFIX_FORMAT)
                return -EBADMSG;
        size_t count = (uint32_t) insns[1].imm & 0xffff;
        size_t len = CRDMA_DEVCG_PREFIX_LEN(count);
        /* A prefix never stands alone: the runtime's code follows it. */
        if (count > CRDMA_DEVCG_MAX_RULES || n <= len)
                return -EBADMSG;

        _cleanup_free_ struct crdma_devcg_rule *v = malloc((count ? count : 1) * sizeof(*v));
        _cleanup_free_ struct bpf_insn *expect = malloc(len * sizeof(*expect));
        if (!v || !expect)
                return -ENOMEM;
        for (size_t i = 0; i < count; i++) {
                const struct bpf_insn *r = &insns[9 + 3 * i];
                v[i].type = r[0].imm == BPF_DEVCG_DEV_BLOCK ? 'b' : 'c';
                v[i].major = (uint32_t) r[1].imm;
                v[i].minor = (uint32_t) r[2].imm;
                if (v[i].major > MAX_MAJOR || v[i].minor > MAX_MINOR ||
                    (i > 0 && rule_cmp(&v[i - 1], &v[i]) >= 0))
                        return -EBADMSG;
        }
        /* What we would write for these rules, instruction for instruction. */
        prefix_emit(v, count, expect);
        if (memcmp(expect, insns, len * sizeof(*expect)) != 0)
                return -EBADMSG;

        if (rules)
                *rules = TAKE_PTR(v);
        if (n_rules)
                *n_rules = count;
        if (prefix_len)
                *prefix_len = len;
        return 1;
}

/* Check that `in` is a program crdma can load again, into `out` (same length),
 * with zero-extension markers made plain. */
static int runtime_check(const struct bpf_insn *in, size_t n, struct bpf_insn *out)
{
        if (n == 0 || n > 1000000)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                struct bpf_insn x = in[i];
                uint8_t cls = BPF_CLASS(x.code), op = BPF_OP(x.code);
                /* R11 (BPF_REG_AX) only appears after constant blinding. */
                if (x.dst_reg > BPF_REG_10 || x.src_reg > BPF_REG_10)
                        return -EOPNOTSUPP;
                switch (cls) {
                case BPF_LD:
                        /* Only a plain 64-bit immediate: a map or BTF reference
                         * (src_reg != 0) holds ids, not fds, in a dump. */
                        if (x.code != (BPF_LD | BPF_IMM | BPF_DW) || x.src_reg != 0)
                                return -EOPNOTSUPP;
                        if (i + 1 >= n || in[i + 1].code != 0)
                                return -EINVAL;
                        out[i] = x;
                        out[i + 1] = in[i + 1];
                        i++;
                        continue;
                case BPF_ALU:
                        if (x.code == (BPF_ALU | BPF_MOV | BPF_X) && x.imm == 1 &&
                            x.off == 0 && x.dst_reg == x.src_reg)
                                x.imm = 0; /* zext marker: the same as a plain mov32 */
                        break;
                case BPF_JMP:
                case BPF_JMP32: {
                        if (op == BPF_CALL)
                                return -EOPNOTSUPP;
                        if (op == BPF_EXIT) {
                                if (cls != BPF_JMP)
                                        return -EINVAL;
                                break;
                        }
                        /* gotol (JMP32|JA) keeps its offset in imm. */
                        int64_t off = (cls == BPF_JMP32 && op == BPF_JA) ? x.imm : x.off;
                        int64_t target = (int64_t) i + 1 + off;
                        if (target < 0 || target >= (int64_t) n)
                                return -EINVAL;
                        break;
                }
                default:
                        break;
                }
                out[i] = x;
        }
        return 0;
}

int crdma_devcg_v2_build(const struct bpf_insn *runtime, size_t n_runtime,
                         const struct crdma_devcg_rule *rules, size_t n,
                         struct bpf_insn **out, size_t *n_out, bool *changed)
{
        if (!runtime && n_runtime)
                return -EINVAL;
        _cleanup_free_ struct crdma_devcg_rule *old = NULL;
        size_t n_old = 0, old_len = 0;
        int r = crdma_devcg_v2_parse_prefix(runtime, n_runtime, &old, &n_old, &old_len);
        if (r < 0)
                return r;

        /* The rules: those already in our prefix plus the new ones. */
        if (n > CRDMA_DEVCG_MAX_RULES)
                return -EINVAL;
        _cleanup_free_ struct crdma_devcg_rule *all = malloc((n_old + n + 1) * sizeof(*all));
        if (!all)
                return -ENOMEM;
        if (n_old)
                memcpy(all, old, n_old * sizeof(*all));
        if (n)
                memcpy(all + n_old, rules, n * sizeof(*all));
        _cleanup_free_ struct crdma_devcg_rule *set = NULL;
        size_t n_set = 0;
        r = crdma_devcg_rules_normalize(all, n_old + n, &set, &n_set);
        if (r < 0)
                return r;

        const struct bpf_insn *body = runtime + old_len;
        size_t n_body = n_runtime - old_len;
        /* Nothing to allow and no prefix yet: the program stays as it is. */
        size_t plen = (n_set || old_len) ? CRDMA_DEVCG_PREFIX_LEN(n_set) : 0;
        if (n_body > SIZE_MAX / sizeof(struct bpf_insn) - plen)
                return -E2BIG;
        _cleanup_free_ struct bpf_insn *prog = malloc((plen + n_body) * sizeof(*prog));
        if (!prog)
                return -ENOMEM;
        r = runtime_check(body, n_body, prog + plen);
        if (r < 0)
                return r;
        if (plen)
                prefix_emit(set, n_set, prog);

        /* Changed when the rule set is: the union holds the old rules, so the same count
         * means the same set.  (Not a byte comparison: the normalised zero-extension markers
         * would count as a change on every run.) */
        if (changed)
                *changed = old_len ? n_set != n_old : n_set > 0;
        *out = TAKE_PTR(prog);
        *n_out = plen + n_body;
        return 0;
}

int crdma_devcg_v2_deny_program(const struct crdma_devcg_rule *rules, size_t n,
                                struct bpf_insn **out, size_t *n_out)
{
        if ((n && !rules) || n > CRDMA_DEVCG_MAX_RULES || !out || !n_out)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (i > 0 && rule_cmp(&rules[i - 1], &rules[i]) >= 0)
                        return -EINVAL; /* not normalised */
        size_t len = CRDMA_DEVCG_DENY_LEN(n), k = 0;
        _cleanup_free_ struct bpf_insn *p = malloc(len * sizeof(*p));
        if (!p)
                return -ENOMEM;
        p[k++] = mov64_imm(BPF_REG_0, CRDMA_DEVCG_PREFIX_MAGIC);
        p[k++] = mov64_imm(BPF_REG_0, (int32_t) ((CRDMA_DEVCG_DENY_FORMAT << 16) | (uint32_t) n));
        p[k++] = ldx_w(BPF_REG_2, BPF_REG_1, 0);
        p[k++] = alu32_imm(BPF_AND, BPF_REG_2, 0xffff);
        p[k++] = ldx_w(BPF_REG_4, BPF_REG_1, 4);
        p[k++] = ldx_w(BPF_REG_5, BPF_REG_1, 8);
        for (size_t i = 0; i < n; i++) {
                p[k++] = jmp32_imm(BPF_JNE, BPF_REG_2, rule_type_bpf(rules[i].type), 2);
                p[k++] = jmp32_imm(BPF_JNE, BPF_REG_4, (int32_t) rules[i].major, 1);
                /* to "deny", past the allow block's two instructions */
                p[k++] = jmp32_imm(BPF_JEQ, BPF_REG_5, (int32_t) rules[i].minor,
                                   (int16_t) (3 * (n - i) - 1));
        }
        p[k++] = mov64_imm(BPF_REG_0, 1);
        p[k++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        p[k++] = mov64_imm(BPF_REG_0, 0);
        p[k++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        *out = TAKE_PTR(p);
        *n_out = len;
        return 0;
}
