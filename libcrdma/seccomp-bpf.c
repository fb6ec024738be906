/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a libseccomp filter really does with a syscall: its exported BPF
 * program, run in user space.  crdma_plan_apply_seccomp() needs it because
 * seccomp_rule_add() returns 0 for an allow rule it drops (an unconditional
 * rule with another action already there wins). */
#include <errno.h>
#include <seccomp.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cleanup.h"
#include "seccomp-bpf.h"
#include "util.h"

/* The kernel's limit on a program (BPF_MAXINSNS). */
#define PROG_MAX_INSNS 4096

static int alu(uint16_t op, uint32_t a, uint32_t v, uint32_t *out)
{
        switch (op) {
        case BPF_ADD: *out = a + v; return 0;
        case BPF_SUB: *out = a - v; return 0;
        case BPF_MUL: *out = a * v; return 0;
        case BPF_OR: *out = a | v; return 0;
        case BPF_AND: *out = a & v; return 0;
        case BPF_XOR: *out = a ^ v; return 0;
        case BPF_NEG: *out = -a; return 0;
        case BPF_DIV:
        case BPF_MOD:
                if (v == 0)
                        return -EINVAL;
                *out = op == BPF_DIV ? a / v : a % v;
                return 0;
        case BPF_LSH:
        case BPF_RSH:
                if (v >= 32)
                        return -EINVAL;
                *out = op == BPF_LSH ? a << v : a >> v;
                return 0;
        default:
                return -EINVAL;
        }
}

static int jump(uint16_t op, uint32_t a, uint32_t v, bool *taken)
{
        switch (op) {
        case BPF_JEQ: *taken = a == v; return 0;
        case BPF_JGT: *taken = a > v; return 0;
        case BPF_JGE: *taken = a >= v; return 0;
        case BPF_JSET: *taken = (a & v) != 0; return 0;
        default: return -EINVAL;
        }
}

int crdma_seccomp_bpf_run(const struct sock_filter *prog, size_t n,
                          const struct seccomp_data *data, uint32_t *verdict)
{
        uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = { 0 };
        for (size_t pc = 0; pc < n; pc++) {
                const struct sock_filter *f = &prog[pc];
                uint32_t k = f->k, v = BPF_SRC(f->code) == BPF_X ? x : k;
                bool taken = false;
                size_t skip = 0;
                switch (BPF_CLASS(f->code)) {
                case BPF_LD:
                case BPF_LDX: {
                        uint32_t *dst = BPF_CLASS(f->code) == BPF_LD ? &a : &x;
                        if (f->code == (BPF_LD | BPF_W | BPF_ABS)) {
                                /* seccomp_data in native byte order, as the kernel reads it. */
                                if (k % 4 != 0 || k > sizeof(*data) - 4)
                                        return -EINVAL;
                                memcpy(dst, (const char *) data + k, 4);
                        } else if (BPF_MODE(f->code) == BPF_IMM) {
                                *dst = k;
                        } else if (BPF_MODE(f->code) == BPF_LEN) {
                                *dst = sizeof(*data);
                        } else if (BPF_MODE(f->code) == BPF_MEM && k < BPF_MEMWORDS) {
                                *dst = mem[k];
                        } else {
                                return -EINVAL;
                        }
                        break;
                }
                case BPF_ST:
                case BPF_STX:
                        if (k >= BPF_MEMWORDS)
                                return -EINVAL;
                        mem[k] = BPF_CLASS(f->code) == BPF_ST ? a : x;
                        break;
                case BPF_ALU:
                        if (alu(BPF_OP(f->code), a, v, &a) < 0)
                                return -EINVAL;
                        break;
                case BPF_JMP:
                        if (BPF_OP(f->code) == BPF_JA)
                                skip = k;
                        else if (jump(BPF_OP(f->code), a, v, &taken) < 0)
                                return -EINVAL;
                        else
                                skip = taken ? f->jt : f->jf;
                        if (skip >= n - pc - 1)
                                return -EINVAL;
                        pc += skip;
                        break;
                case BPF_RET:
                        if (BPF_RVAL(f->code) == BPF_K)
                                *verdict = k;
                        else if (BPF_RVAL(f->code) == BPF_A)
                                *verdict = a;
                        else
                                return -EINVAL;
                        return 0;
                case BPF_MISC:
                        if (BPF_MISCOP(f->code) == BPF_TAX)
                                x = a;
                        else if (BPF_MISCOP(f->code) == BPF_TXA)
                                a = x;
                        else
                                return -EINVAL;
                        break;
                default:
                        return -EINVAL;
                }
        }
        return -EINVAL; /* fell off the end: the kernel refuses such a program */
}

int crdma_seccomp_export(void *filter, struct sock_filter **prog, size_t *n)
{
        _cleanup_close_ int fd = memfd_create("crdma-seccomp", MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        int r = seccomp_export_bpf(filter, fd);
        if (r < 0)
                return r;
        if (lseek(fd, 0, SEEK_SET) < 0)
                return -errno;
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        r = crdma_read_fd(fd, PROG_MAX_INSNS * sizeof(struct sock_filter), &text, &len);
        if (r < 0)
                return r;
        if (len == 0 || len % sizeof(struct sock_filter) != 0)
                return -EINVAL;
        /* crdma_read_fd's buffer comes from malloc: aligned for any type. */
        *prog = (struct sock_filter *) (void *) TAKE_PTR(text);
        *n = len / sizeof(struct sock_filter);
        return 0;
}

int crdma_seccomp_verdict(const struct sock_filter *prog, size_t n, int nr, uint64_t arg0,
                          uint32_t *verdict)
{
        struct seccomp_data data = {
                .nr = nr,
                .arch = seccomp_arch_native(),
                .args = { arg0 },
        };
        return crdma_seccomp_bpf_run(prog, n, &data, verdict);
}
