/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Device cgroup, inject path: cgroup v2 (prefix the runtime's eBPF device
 * program) and cgroup v1 (devices.allow).  See devcgroup.h for the prefix.
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
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "cleanup.h"
#include "context.h"
#include "devcgroup.h"
#include "error.h"
#include "fault.h"
#include "util.h"

/* ------------------------------------------------------------ instructions */

#define ACC_RW (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)
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
        p[k++] = jmp32_imm(BPF_JSET, BPF_REG_3, 0xffff & ~ACC_RW, (int16_t) (3 + 3 * n));
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

/* ------------------------------------------------------------------ undo */

struct devcg_v2_swap {
        int orig_fd;         /* the runtime's program, kept alive for undo */
        int new_fd;          /* ours, as attached */
        uint32_t orig_id, new_id;
        uint32_t attach_flags; /* the cgroup's flags for BPF_CGROUP_DEVICE */
};

struct devcg_v1_change {
        struct crdma_devcg_rule rule;
        unsigned missing; /* BPF_DEVCG_ACC_* bits we added */
};

struct crdma_devcg_undo {
        int version; /* 1 or 2 */
        int cgroup_fd;
        char *cgroup_name;
        struct devcg_v2_swap *swaps;
        size_t n_swaps;
        struct devcg_v1_change *changes;
        size_t n_changes;
};

static void swaps_close(struct devcg_v2_swap *s, size_t n)
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
DEFINE_TRIVIAL_CLEANUP_FUNC(struct crdma_devcg_undo *, crdma_devcg_undo_free)

bool crdma_devcg_undo_changed(const struct crdma_devcg_undo *undo)
{
        return undo && (undo->n_swaps > 0 || undo->n_changes > 0);
}

static int undo_new(int version, int cgroup_fd, const char *name, struct crdma_devcg_undo **out)
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


/* -------------------------------------------------------------- cgroup v2 */

/* Opening another process's program by id takes CAP_SYS_ADMIN; with it, loading, attaching
 * and reading instructions need nothing more (CAP_BPF and CAP_NET_ADMIN are not enough). */
#define HINT_CAPS "; the hook needs CAP_SYS_ADMIN to open, load and attach device programs"

/* "<what>: <strerror>[<hint>][; and putting back ... failed too: <also>]".
 * crdma_fail_errno puts strerror last; a hint has to come after it. */
static int fail_vsys(struct crdma_error **err, int e, const char *hint, const char *also,
                     const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
static int fail_vsys(struct crdma_error **err, int e, const char *hint, const char *also,
                     const char *fmt, va_list ap)
{
        if (e < 0)
                e = -e;
        _cleanup_free_ char *what = NULL;
        if (vasprintf(&what, fmt, ap) < 0)
                return crdma_fail_oom(err);
        char buf[128];
        const char *s = strerror_r(e, buf, sizeof(buf));
        return crdma_fail(err, e, "%s: %s%s%s%s", what, s, hint ? hint : "",
                          also ? "; and undoing the part already done failed too: " : "",
                          also ? also : "");
}

static int fail_sys(struct crdma_error **err, int e, const char *hint, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int fail_sys(struct crdma_error **err, int e, const char *hint, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = fail_vsys(err, e, hint, NULL, fmt, ap);
        va_end(ap);
        return r;
}

static int fail_sys_also(struct crdma_error **err, int e, const char *hint, const char *also,
                         const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int fail_sys_also(struct crdma_error **err, int e, const char *hint, const char *also,
                         const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = fail_vsys(err, e, hint, also, fmt, ap);
        va_end(ap);
        return r;
}

/* libbpf >= 1.0 returns -errno and sets errno; older ones return -1. */
static int bpf_result(int r)
{
        return r < 0 ? -errno : r;
}

static int query_progs(int cgroup_fd, uint32_t query_flags, uint32_t **ids, uint32_t *count,
                       uint32_t *attach_flags)
{
        uint32_t cap = 64;
        for (int tries = 0; tries < 8; tries++) {
                _cleanup_free_ uint32_t *v = calloc(cap, sizeof(*v));
                if (!v)
                        return -ENOMEM;
                LIBBPF_OPTS(bpf_prog_query_opts, q, .query_flags = query_flags, .prog_ids = v,
                            .prog_cnt = cap);
                int r = bpf_result(bpf_prog_query_opts(cgroup_fd, BPF_CGROUP_DEVICE, &q));
                if (r == -ENOSPC && q.prog_cnt > cap) {
                        cap = q.prog_cnt;
                        continue;
                }
                if (r < 0)
                        return r;
                if (ids)
                        *ids = TAKE_PTR(v);
                *count = q.prog_cnt;
                if (attach_flags)
                        *attach_flags = q.attach_flags;
                return 0;
        }
        return -EAGAIN;
}

/* A program's xlated instructions. */
static int prog_insns(int fd, struct bpf_insn **out, size_t *n, uint32_t *type, char *name,
                      size_t name_len)
{
        struct bpf_prog_info info = { 0 };
        uint32_t len = sizeof(info);
        int r = bpf_result(bpf_obj_get_info_by_fd(fd, &info, &len));
        if (r < 0)
                return r;
        *type = info.type;
        snprintf(name, name_len, "%s", info.name[0] ? info.name : "(no name)");
        /* The kernel hides the instructions from callers without CAP_BPF
         * (CAP_SYS_ADMIN before 5.8): xlated_prog_len is 0 then. */
        uint32_t bytes = info.xlated_prog_len;
        if (bytes == 0 || bytes % sizeof(struct bpf_insn) != 0)
                return -EPERM;
        _cleanup_free_ struct bpf_insn *v = malloc(bytes);
        if (!v)
                return -ENOMEM;
        memset(&info, 0, sizeof(info));
        info.xlated_prog_len = bytes;
        info.xlated_prog_insns = (uint64_t) (uintptr_t) v;
        len = sizeof(info);
        r = bpf_result(bpf_obj_get_info_by_fd(fd, &info, &len));
        if (r < 0)
                return r;
        if (info.xlated_prog_len != bytes)
                return -EAGAIN; /* a program does not change: not the one we asked */
        *out = TAKE_PTR(v);
        *n = bytes / sizeof(struct bpf_insn);
        return 0;
}

static uint32_t prog_id_of(int fd)
{
        struct bpf_prog_info info = { 0 };
        uint32_t len = sizeof(info);
        return bpf_obj_get_info_by_fd(fd, &info, &len) < 0 ? 0 : info.id;
}

static int prog_load(struct crdma_context *ctx, const char *cg, const struct bpf_insn *insns,
                     size_t n, struct crdma_error **err)
{
        int fd = CRDMA_FAULT(ctx, "bpf-load")
                         ? -errno
                         : bpf_result(bpf_prog_load(BPF_PROG_TYPE_CGROUP_DEVICE,
                                                    CRDMA_DEVCG_PROG_NAME, "GPL", insns, n, NULL));
        if (fd >= 0)
                return fd;
        int e = -fd;
        if (e == EPERM || e == EACCES)
                return fail_sys(err, e, HINT_CAPS, "cgroup %s: loading the device program failed",
                                cg);
        /* Again with the verifier's log, for the message. */
        size_t log_size = 64 * 1024;
        _cleanup_free_ char *log = calloc(1, log_size);
        if (log) {
                LIBBPF_OPTS(bpf_prog_load_opts, o, .log_buf = log, .log_size = (uint32_t) log_size,
                            .log_level = 1);
                int fd2 = bpf_result(bpf_prog_load(BPF_PROG_TYPE_CGROUP_DEVICE,
                                                   CRDMA_DEVCG_PROG_NAME, "GPL", insns, n, &o));
                if (fd2 >= 0)
                        return fd2; /* a transient failure */
                log[log_size - 1] = '\0';
                crdma_log(ctx, CRDMA_LOG_DEBUG, "cgroup %s: verifier log:\n%s", cg, log);
                /* The last non-empty line says why. */
                size_t l = strlen(log);
                while (l > 0 && log[l - 1] == '\n')
                        log[--l] = '\0';
                char *last = strrchr(log, '\n');
                last = last ? last + 1 : log;
                if (*last)
                        return crdma_fail_errno(err, e,
                                                "cgroup %s: the kernel refused the device program "
                                                "with crdma's rules prepended (verifier: %s)",
                                                cg, last);
        }
        return crdma_fail_errno(err, e, "cgroup %s: loading the device program failed", cg);
}

/* One program attached to the cgroup, and what to do with it. */
struct v2_prog {
        uint32_t id;
        int orig_fd;
        int new_fd; /* -EBADF: it already allows the rules */
        char name[BPF_OBJ_NAME_LEN + 16];
        size_t n_orig, n_new;
};

static void v2_progs_free(struct v2_prog *p, size_t n)
{
        for (size_t i = 0; p && i < n; i++) {
                crdma_closep(&p[i].orig_fd);
                crdma_closep(&p[i].new_fd);
        }
        free(p);
}

static int attach_replace(int cgroup_fd, int prog_fd, int old_fd, uint32_t flags)
{
        /* Multi mode: swap exactly `old_fd` (ENOENT if it is gone).  Single
         * mode (flags 0 or ALLOW_OVERRIDE): attaching with the same flags is
         * the kernel's replace; BPF_F_REPLACE is only valid with ALLOW_MULTI. */
        LIBBPF_OPTS(bpf_prog_attach_opts, o, .flags = flags);
        if (flags & BPF_F_ALLOW_MULTI) {
                o.flags |= BPF_F_REPLACE;
                o.replace_prog_fd = old_fd;
        }
        return bpf_result(bpf_prog_attach_opts(prog_fd, cgroup_fd, BPF_CGROUP_DEVICE, &o));
}

static bool ids_contain(const uint32_t *ids, uint32_t n, uint32_t id)
{
        for (uint32_t i = 0; i < n; i++)
                if (ids[i] == id)
                        return true;
        return false;
}

/* Put the runtime's programs back, last swap first.  Swaps that succeed
 * are dropped from the record; the first failure is reported. */
static int v2_undo(struct crdma_devcg_undo *u, struct crdma_error **err)
{
        if (u->n_swaps == 0)
                return 0;
        int ret = 0;
        /* Single mode has no BPF_F_REPLACE to check that ours is still there. */
        _cleanup_free_ uint32_t *ids = NULL;
        uint32_t n_ids = 0, flags = 0;
        int q = query_progs(u->cgroup_fd, 0, &ids, &n_ids, &flags);

        for (size_t k = u->n_swaps; k-- > 0;) {
                struct devcg_v2_swap *s = &u->swaps[k];
                int r;
                if (!(s->attach_flags & BPF_F_ALLOW_MULTI) && q < 0)
                        r = q;
                else if (!(s->attach_flags & BPF_F_ALLOW_MULTI) &&
                         !ids_contain(ids, n_ids, s->new_id))
                        r = -ENOENT;
                else
                        r = attach_replace(u->cgroup_fd, s->orig_fd, s->new_fd, s->attach_flags);
                if (r == 0) {
                        crdma_closep(&s->orig_fd);
                        crdma_closep(&s->new_fd);
                        s->orig_fd = s->new_fd = -EBADF;
                        continue;
                }
                if (ret == 0) {
                        if (r == -ENOENT)
                                ret = crdma_fail(err, ENOENT,
                                                 "cgroup %s: putting back the runtime's device "
                                                 "program (id %" PRIu32 ") failed: crdma's program "
                                                 "(id %" PRIu32 ") is no longer attached, "
                                                 "something else replaced it; left as it is",
                                                 u->cgroup_name, s->orig_id, s->new_id);
                        else
                                ret = fail_sys(err, r, HINT_CAPS,
                                               "cgroup %s: putting back the runtime's device "
                                               "program (id %" PRIu32 ") in place of crdma's (id "
                                               "%" PRIu32 ") failed",
                                               u->cgroup_name, s->orig_id, s->new_id);
                }
        }
        /* Keep the failed ones (in their order) for the caller to retry or drop. */
        size_t m = 0;
        for (size_t k = 0; k < u->n_swaps; k++)
                if (u->swaps[k].orig_fd >= 0)
                        u->swaps[m++] = u->swaps[k];
        u->n_swaps = m;
        return ret;
}

static int v2_build_error(struct crdma_error **err, int r, const char *cg, const struct v2_prog *p)
{
        switch (r) {
        case -EOPNOTSUPP:
                return crdma_fail(err, EOPNOTSUPP,
                                  "cgroup %s: the device program (id %" PRIu32 ", %s) uses helper "
                                  "calls, maps or blinded constants, which crdma cannot load "
                                  "again with its rules prepended; give the container its RDMA "
                                  "devices in the OCI config (crdma-hook edit or precreate) "
                                  "instead",
                                  cg, p->id, p->name);
        case -EBADMSG:
                return crdma_fail(err, EBADMSG,
                                  "cgroup %s: the device program (id %" PRIu32 ", %s) starts with "
                                  "a crdma prefix this version does not know (another crdma "
                                  "version?); recreate the container",
                                  cg, p->id, p->name);
        case -ENOMEM:
                return crdma_fail_oom(err);
        default:
                return crdma_fail(err, -r,
                                  "cgroup %s: the device program (id %" PRIu32 ", %s) has "
                                  "instructions crdma does not understand (%s); recreate the "
                                  "container or give it the devices in its OCI config",
                                  cg, p->id, p->name, strerror(-r));
        }
}

/* One pass: -EAGAIN when the cgroup's programs changed under us (retry). */
static int v2_apply_once(struct crdma_context *ctx, int cgroup_fd, const char *cg,
                         const struct crdma_devcg_rule *rules, size_t n,
                         struct crdma_devcg_undo **undo, struct crdma_error **err)
{
        _cleanup_free_ uint32_t *ids = NULL;
        uint32_t count = 0, flags = 0;
        int r = query_progs(cgroup_fd, 0, &ids, &count, &flags);
        if (r < 0)
                return fail_sys(err, r, r == -EPERM ? HINT_CAPS : "; is it a cgroup v2 directory?",
                                "cgroup %s: listing its device programs (BPF_PROG_QUERY) failed",
                                cg);

        _cleanup_(crdma_devcg_undo_freep) struct crdma_devcg_undo *u = NULL;
        r = undo_new(2, cgroup_fd, cg, &u);
        if (r < 0)
                return fail_sys(err, r, NULL, "cgroup %s: recording the change", cg);
        if (count == 0) {
                crdma_log(ctx, CRDMA_LOG_DEBUG,
                        "cgroup %s: no device program attached to it: nothing to replace", cg);
                *undo = TAKE_PTR(u);
                return 0;
        }

        struct v2_prog *progs = calloc(count, sizeof(*progs));
        if (!progs)
                return crdma_fail_oom(err);
        for (uint32_t i = 0; i < count; i++)
                progs[i].orig_fd = progs[i].new_fd = -EBADF;
        size_t n_change = 0;
        for (uint32_t i = 0; i < count; i++) {
                struct v2_prog *p = &progs[i];
                p->id = ids[i];
                snprintf(p->name, sizeof(p->name), "?");
                p->orig_fd = bpf_result(bpf_prog_get_fd_by_id(p->id));
                if (p->orig_fd == -ENOENT) {
                        v2_progs_free(progs, count);
                        return -EAGAIN;
                }
                if (p->orig_fd < 0) {
                        r = fail_sys(err, p->orig_fd,
                                     HINT_CAPS ", and no LSM policy may deny it the program",
                                     "cgroup %s: opening its device program (id %" PRIu32
                                     ") failed",
                                     cg, p->id);
                        p->orig_fd = -EBADF;
                        v2_progs_free(progs, count);
                        return r;
                }
                _cleanup_free_ struct bpf_insn *orig = NULL, *built = NULL;
                uint32_t type = 0;
                r = prog_insns(p->orig_fd, &orig, &p->n_orig, &type, p->name, sizeof(p->name));
                if (r == -EAGAIN || r == -ENOENT) {
                        v2_progs_free(progs, count);
                        return -EAGAIN;
                }
                if (r < 0) {
                        r = fail_sys(err, r, HINT_CAPS,
                                     "cgroup %s: reading the instructions of its device program "
                                     "(id %" PRIu32 ") failed",
                                     cg, p->id);
                        v2_progs_free(progs, count);
                        return r;
                }
                if (type != BPF_PROG_TYPE_CGROUP_DEVICE) {
                        r = crdma_fail(err, EINVAL,
                                       "cgroup %s: program %" PRIu32 " attached as a device "
                                       "program has type %" PRIu32,
                                       cg, p->id, type);
                        v2_progs_free(progs, count);
                        return r;
                }
                bool changed = false;
                r = crdma_devcg_v2_build(orig, p->n_orig, rules, n, &built, &p->n_new, &changed);
                if (r < 0) {
                        r = v2_build_error(err, r, cg, p);
                        v2_progs_free(progs, count);
                        return r;
                }
                if (!changed) {
                        crdma_log(ctx, CRDMA_LOG_DEBUG,
                                "cgroup %s: device program %" PRIu32 " (%s, %zu instructions) "
                                "already allows the devices",
                                cg, p->id, p->name, p->n_orig);
                        continue;
                }
                p->new_fd = prog_load(ctx, cg, built, p->n_new, err);
                if (p->new_fd < 0) {
                        r = p->new_fd;
                        p->new_fd = -EBADF;
                        v2_progs_free(progs, count);
                        return r;
                }
                n_change++;
        }

        u->swaps = calloc(n_change ? n_change : 1, sizeof(*u->swaps));
        if (!u->swaps) {
                v2_progs_free(progs, count);
                return crdma_fail_oom(err);
        }
        for (uint32_t i = 0; i < count; i++) {
                struct v2_prog *p = &progs[i];
                if (p->new_fd < 0)
                        continue;
                r = CRDMA_FAULT(ctx, "bpf-replace")
                            ? -errno
                            : attach_replace(cgroup_fd, p->new_fd, p->orig_fd, flags);
                if (r < 0) {
                        /* Put back what this pass already swapped. */
                        struct crdma_error *rb_err = NULL;
                        int rb = v2_undo(u, &rb_err);
                        if (r == -ENOENT && rb == 0) {
                                crdma_error_free(rb_err);
                                v2_progs_free(progs, count);
                                return -EAGAIN;
                        }
                        const char *hint = HINT_CAPS;
                        if (r == -EINVAL && (flags & BPF_F_ALLOW_MULTI))
                                hint = "; replacing a program in place (BPF_F_REPLACE) needs "
                                       "Linux 5.6 or later";
                        r = fail_sys_also(err, r, hint, rb < 0 ? crdma_error_message(rb_err) : NULL,
                                          "cgroup %s: replacing its device program (id %" PRIu32
                                          ", %s) failed",
                                          cg, p->id, p->name);
                        crdma_error_free(rb_err);
                        v2_progs_free(progs, count);
                        return r;
                }
                struct devcg_v2_swap *s = &u->swaps[u->n_swaps++];
                s->orig_fd = TAKE_FD(p->orig_fd);
                s->new_fd = TAKE_FD(p->new_fd);
                s->orig_id = p->id;
                s->new_id = prog_id_of(s->new_fd);
                s->attach_flags = flags;
                crdma_log(ctx, CRDMA_LOG_DEBUG,
                        "cgroup %s: device program %" PRIu32 " (%s, %zu instructions) replaced by "
                        "%" PRIu32 " (%zu instructions)",
                        cg, s->orig_id, p->name, p->n_orig, s->new_id, p->n_new);
        }
        v2_progs_free(progs, count);
        *undo = TAKE_PTR(u);
        return 0;
}

int crdma_devcg_v2_allow(struct crdma_context *ctx, int cgroup_fd, const char *cgroup_name,
                         const struct crdma_devcg_rule *rules, size_t n,
                         struct crdma_devcg_undo **undo, struct crdma_error **err)
{
        const char *cg = cgroup_name ? cgroup_name : "(container)";
        _cleanup_free_ struct crdma_devcg_rule *set = NULL;
        size_t n_set = 0;
        int r = crdma_devcg_rules_normalize(rules, n, &set, &n_set);
        if (r < 0)
                return crdma_fail(err, -r, "cgroup %s: invalid device rules for the device program",
                                  cg);

        struct crdma_devcg_undo *u = NULL;
        for (int attempt = 0;; attempt++) {
                r = v2_apply_once(ctx, cgroup_fd, cg, set, n_set, &u, err);
                if (r != -EAGAIN)
                        break;
                if (attempt == 5)
                        return crdma_fail(err, EAGAIN,
                                          "cgroup %s: its device programs kept changing while "
                                          "crdma replaced them; is another tool updating the "
                                          "container?",
                                          cg);
        }
        if (r < 0)
                return r;

        /* Programs on ancestors also run (multi mode) and may still deny. */
        uint32_t eff = 0, own = 0;
        if (query_progs(cgroup_fd, BPF_F_QUERY_EFFECTIVE, NULL, &eff, NULL) == 0 &&
            query_progs(cgroup_fd, 0, NULL, &own, NULL) == 0 && eff > own)
                crdma_log(ctx, CRDMA_LOG_WARNING,
                        "cgroup %s: %" PRIu32 " device program(s) of parent cgroups also apply; "
                        "crdma leaves them alone and they may still deny the devices",
                        cg, eff - own);

        if (undo)
                *undo = u;
        else
                crdma_devcg_undo_free(u);
        return 0;
}

/* -------------------------------------------------------------- cgroup v1 */

struct v1_entry {
        char type; /* 'a', 'b', 'c' */
        long major, minor; /* -1: '*' */
        unsigned access;
};

static int v1_parse_num(const char *s, size_t len, long *out)
{
        if (len == 1 && s[0] == '*') {
                *out = -1;
                return 0;
        }
        char buf[16];
        if (len == 0 || len >= sizeof(buf))
                return -EBADMSG;
        memcpy(buf, s, len);
        buf[len] = '\0';
        uint64_t v;
        if (crdma_parse_decimal(buf, UINT32_MAX, &v) < 0)
                return -EBADMSG;
        *out = (long) v;
        return 0;
}

static unsigned access_bits(const char *s, size_t len, bool *ok)
{
        unsigned a = 0;
        *ok = len > 0;
        for (size_t i = 0; i < len; i++) {
                switch (s[i]) {
                case 'r':
                        a |= BPF_DEVCG_ACC_READ;
                        break;
                case 'w':
                        a |= BPF_DEVCG_ACC_WRITE;
                        break;
                case 'm':
                        a |= BPF_DEVCG_ACC_MKNOD;
                        break;
                default:
                        *ok = false;
                }
        }
        return a;
}

/* "c 231:192 rwm" */
static int v1_parse_line(const char *line, size_t len, struct v1_entry *e)
{
        if (len < 7 || !strchr("abc", line[0]) || line[1] != ' ')
                return -EBADMSG;
        e->type = line[0];
        const char *p = line + 2, *end = line + len;
        const char *colon = memchr(p, ':', (size_t) (end - p));
        if (!colon)
                return -EBADMSG;
        const char *space = memchr(colon, ' ', (size_t) (end - colon));
        if (!space)
                return -EBADMSG;
        if (v1_parse_num(p, (size_t) (colon - p), &e->major) < 0 ||
            v1_parse_num(colon + 1, (size_t) (space - colon - 1), &e->minor) < 0)
                return -EBADMSG;
        bool ok;
        e->access = access_bits(space + 1, (size_t) (end - space - 1), &ok);
        return ok ? 0 : -EBADMSG;
}

static bool v1_covers(const struct v1_entry *e, const struct crdma_devcg_rule *r)
{
        return (e->type == 'a' || e->type == r->type) &&
               (e->major < 0 || (unsigned long) e->major == r->major) &&
               (e->minor < 0 || (unsigned long) e->minor == r->minor);
}

static void access_text(unsigned bits, char buf[4])
{
        size_t k = 0;
        if (bits & BPF_DEVCG_ACC_READ)
                buf[k++] = 'r';
        if (bits & BPF_DEVCG_ACC_WRITE)
                buf[k++] = 'w';
        if (bits & BPF_DEVCG_ACC_MKNOD)
                buf[k++] = 'm';
        buf[k] = '\0';
}

/* One rule per write(), as the kernel wants it.  `injected`: an errno the
 * write fails with (fault injection), after `line` is filled in. */
static int v1_write_rule(int fd, const struct crdma_devcg_rule *r, unsigned bits, char line[48],
                         int injected)
{
        char acc[4];
        access_text(bits, acc);
        int len = snprintf(line, 48, "%c %u:%u %s", r->type, r->major, r->minor, acc);
        if (injected)
                return -injected;
        char buf[50];
        memcpy(buf, line, (size_t) len);
        buf[len] = '\n';
        ssize_t w;
        do
                w = write(fd, buf, (size_t) len + 1);
        while (w < 0 && errno == EINTR);
        if (w < 0)
                return -errno;
        return w == len + 1 ? 0 : -EIO;
}

static int v1_undo(struct crdma_devcg_undo *u, struct crdma_error **err)
{
        if (u->n_changes == 0)
                return 0;
        _cleanup_close_ int fd = openat(u->cgroup_fd, "devices.deny",
                                        O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return fail_sys(err, errno, "; the hook needs CAP_SYS_ADMIN",
                                "cgroup %s: opening devices.deny to take back the RDMA devices "
                                "failed",
                                u->cgroup_name);
        int ret = 0;
        size_t m = 0;
        for (size_t i = 0; i < u->n_changes; i++) {
                char line[48];
                int r = v1_write_rule(fd, &u->changes[i].rule, u->changes[i].missing, line, 0);
                if (r < 0) {
                        if (ret == 0)
                                ret = fail_sys(err, r, "; the hook needs CAP_SYS_ADMIN",
                                               "cgroup %s: writing \"%s\" to devices.deny failed",
                                               u->cgroup_name, line);
                        u->changes[m++] = u->changes[i];
                }
        }
        u->n_changes = m;
        return ret;
}

int crdma_devcg_v1_allow(struct crdma_context *ctx, int devices_cgroup_fd,
                         const char *cgroup_name, const struct crdma_devcg_rule *rules,
                         size_t n, struct crdma_devcg_undo **undo,
                         struct crdma_error **err)
{
        const char *cg = cgroup_name ? cgroup_name : "(container)";
        _cleanup_free_ struct crdma_devcg_rule *set = NULL;
        size_t n_set = 0;
        int r = crdma_devcg_rules_normalize(rules, n, &set, &n_set);
        if (r < 0)
                return crdma_fail(err, -r, "cgroup %s: invalid device rules for devices.allow", cg);

        /* What the container may already do: undo must never take that away. */
        _cleanup_free_ char *list = NULL;
        {
                _cleanup_close_ int lfd = openat(devices_cgroup_fd, "devices.list",
                                                 O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
                if (lfd < 0)
                        return fail_sys(err, errno, "; is it a directory of the v1 devices "
                                        "hierarchy?",
                                        "cgroup %s: opening devices.list failed", cg);
                size_t len = 0;
                r = crdma_read_fd(lfd, 1 << 20, &list, &len);
                if (r < 0)
                        return fail_sys(err, r, NULL, "cgroup %s: reading devices.list failed", cg);
                if (memchr(list, '\0', len))
                        return crdma_fail(err, EBADMSG, "cgroup %s: devices.list holds a NUL byte",
                                          cg);
        }

        _cleanup_free_ struct devcg_v1_change *changes = calloc(n_set ? n_set : 1,
                                                                 sizeof(*changes));
        if (!changes)
                return crdma_fail_oom(err);
        size_t n_changes = 0;
        for (size_t i = 0; i < n_set; i++) {
                unsigned have = 0;
                for (const char *line = list; *line;) {
                        const char *nl = strchr(line, '\n');
                        size_t len = nl ? (size_t) (nl - line) : strlen(line);
                        if (len > 0) {
                                struct v1_entry e;
                                if (v1_parse_line(line, len, &e) < 0)
                                        return crdma_fail(err, EBADMSG,
                                                          "cgroup %s: devices.list: unexpected "
                                                          "line \"%.*s\"",
                                                          cg, (int) (len > 64 ? 64 : len), line);
                                if (v1_covers(&e, &set[i]))
                                        have |= e.access;
                        }
                        line += len + (nl ? 1 : 0);
                }
                unsigned missing = ACC_RW & ~have;
                if (missing) {
                        changes[n_changes].rule = set[i];
                        changes[n_changes].missing = missing;
                        n_changes++;
                } else {
                        crdma_log(ctx, CRDMA_LOG_DEBUG, "cgroup %s: %c %u:%u already allowed (rw)",
                                cg, set[i].type, set[i].major, set[i].minor);
                }
        }

        _cleanup_(crdma_devcg_undo_freep) struct crdma_devcg_undo *u = NULL;
        r = undo_new(1, devices_cgroup_fd, cg, &u);
        if (r < 0)
                return fail_sys(err, r, NULL, "cgroup %s: recording the change", cg);
        if (n_changes > 0) {
                _cleanup_close_ int fd = openat(devices_cgroup_fd, "devices.allow",
                                                O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
                if (fd < 0)
                        return fail_sys(err, errno, "; the hook needs CAP_SYS_ADMIN",
                                        "cgroup %s: opening devices.allow failed", cg);
                u->changes = TAKE_PTR(changes);
                for (size_t i = 0; i < n_changes; i++) {
                        char line[48];
                        int injected = CRDMA_FAULT(ctx, "devices.allow") ? errno : 0;
                        r = v1_write_rule(fd, &u->changes[i].rule, ACC_RW, line, injected);
                        if (r < 0) {
                                /* Take back the ones already written. */
                                struct crdma_error *rb_err = NULL;
                                u->n_changes = i;
                                int rb = v1_undo(u, &rb_err);
                                r = fail_sys_also(err, r,
                                                  "; the hook needs CAP_SYS_ADMIN, and the parent "
                                                  "cgroup must allow the device",
                                                  rb < 0 ? crdma_error_message(rb_err) : NULL,
                                                  "cgroup %s: writing \"%s\" to devices.allow "
                                                  "failed",
                                                  cg, line);
                                crdma_error_free(rb_err);
                                return r;
                        }
                        u->n_changes = i + 1;
                        crdma_log(ctx, CRDMA_LOG_DEBUG, "cgroup %s: wrote \"%s\" to devices.allow",
                                cg, line);
                }
        }
        if (undo)
                *undo = TAKE_PTR(u);
        return 0;
}

/* ------------------------------------------------------------------- undo */

int crdma_devcg_undo(struct crdma_devcg_undo *undo, struct crdma_error **err)
{
        if (!undo)
                return 0;
        return undo->version == 2 ? v2_undo(undo, err) : v1_undo(undo, err);
}
