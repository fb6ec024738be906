/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The bpf(2) calls of the cgroup v2 device cgroup (devcgroup-bpf.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "cleanup.h"
#include "context.h"
#include "devcgroup-bpf.h"
#include "devcgroup-internal.h"
#include "devcgroup.h"
#include "error.h"
#include "fault.h"

/* libbpf >= 1.0 returns -errno and sets errno; older ones return -1. */
static int bpf_result(int r)
{
        return r < 0 ? -errno : r;
}

int crdma_devcg_bpf_query(int cgroup_fd, uint32_t query_flags, uint32_t **ids, uint32_t *count,
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

int crdma_devcg_bpf_open(uint32_t id)
{
        return bpf_result(bpf_prog_get_fd_by_id(id));
}

int crdma_devcg_bpf_read(int fd, struct bpf_insn **out, size_t *n, uint32_t *type, char *name,
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

uint32_t crdma_devcg_bpf_id(int fd)
{
        struct bpf_prog_info info = { 0 };
        uint32_t len = sizeof(info);
        return bpf_obj_get_info_by_fd(fd, &info, &len) < 0 ? 0 : info.id;
}

int crdma_devcg_bpf_load(struct crdma_context *ctx, const char *cg, const struct bpf_insn *insns,
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
                return crdma_fail_errno_hint(err, e, CRDMA_DEVCG_HINT_CAPS,
                                            "cgroup %s: loading the device program failed", cg);
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
                                                "cgroup %s: the kernel refused crdma's device "
                                                "program (verifier: %s)",
                                                cg, last);
        }
        return crdma_fail_errno(err, e, "cgroup %s: loading the device program failed", cg);
}

int crdma_devcg_bpf_replace(int cgroup_fd, int prog_fd, int old_fd, uint32_t flags)
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

int crdma_devcg_bpf_attach(int cgroup_fd, int prog_fd, uint32_t flags)
{
        LIBBPF_OPTS(bpf_prog_attach_opts, o, .flags = flags);
        return bpf_result(bpf_prog_attach_opts(prog_fd, cgroup_fd, BPF_CGROUP_DEVICE, &o));
}
