/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cgroup v1: allow the rules through devices.allow, take them back through
 * devices.deny.  devices.list says what the container may already do; it is
 * read and parsed once per apply, and undo takes back only the access bits
 * crdma added.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/bpf.h>

#include "cleanup.h"
#include "context.h"
#include "devcgroup-internal.h"
#include "devcgroup.h"
#include "error.h"
#include "fault.h"
#include "util.h"

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

int crdma_devcg_v1_undo(struct crdma_devcg_undo *u, struct crdma_error **err)
{
        if (u->n_changes == 0)
                return 0;
        _cleanup_close_ int fd = openat(u->cgroup_fd, "devices.deny",
                                        O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return crdma_fail_errno_hint(err, errno, "the hook needs CAP_SYS_ADMIN",
                                            "cgroup %s: opening devices.deny to take back the "
                                            "RDMA devices failed",
                                            u->cgroup_name);
        int ret = 0;
        size_t m = 0;
        for (size_t i = 0; i < u->n_changes; i++) {
                char line[48];
                int r = v1_write_rule(fd, &u->changes[i].rule, u->changes[i].missing, line, 0);
                if (r < 0) {
                        if (ret == 0)
                                ret = crdma_fail_errno_hint(err, r,
                                                           "the hook needs CAP_SYS_ADMIN",
                                                           "cgroup %s: writing \"%s\" to "
                                                           "devices.deny failed",
                                                           u->cgroup_name, line);
                        u->changes[m++] = u->changes[i];
                }
        }
        u->n_changes = m;
        return ret;
}

/* devices.list, whole. */
static int v1_read_list(int dirfd, const char *cg, char **out, struct crdma_error **err)
{
        _cleanup_close_ int fd = openat(dirfd, "devices.list",
                                        O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return crdma_fail_errno_hint(err, errno,
                                            "is it a directory of the v1 devices hierarchy?",
                                            "cgroup %s: opening devices.list failed", cg);
        _cleanup_free_ char *list = NULL;
        size_t len = 0;
        int r = crdma_read_fd(fd, 1 << 20, &list, &len);
        if (r < 0)
                return crdma_fail_errno_hint(err, r, NULL, "cgroup %s: reading devices.list failed",
                                            cg);
        if (memchr(list, '\0', len))
                return crdma_fail(err, EBADMSG, "cgroup %s: devices.list holds a NUL byte", cg);
        *out = TAKE_PTR(list);
        return 0;
}

/* One pass over devices.list: have[i] |= the access some line grants rules[i]. */
static int v1_list_scan(const char *list, const char *cg, const struct crdma_devcg_rule *rules,
                        size_t n, unsigned *have, struct crdma_error **err)
{
        for (const char *line = list; *line;) {
                const char *nl = strchr(line, '\n');
                size_t len = nl ? (size_t) (nl - line) : strlen(line);
                if (len > 0) {
                        struct v1_entry e;
                        if (v1_parse_line(line, len, &e) < 0)
                                return crdma_fail(err, EBADMSG,
                                                  "cgroup %s: devices.list: unexpected line "
                                                  "\"%.*s\"",
                                                  cg, (int) (len > 64 ? 64 : len), line);
                        for (size_t i = 0; i < n; i++)
                                if (v1_covers(&e, &rules[i]))
                                        have[i] |= e.access;
                }
                line += len + (nl ? 1 : 0);
        }
        return 0;
}

/* The rules devices.list does not yet allow read+write, with the bits each lacks: what to
 * write, and what undo may take back (never what the container could do before). */
static int v1_changes(struct crdma_context *ctx, int dirfd, const char *cg,
                      const struct crdma_devcg_rule *rules, size_t n,
                      struct crdma_devcg_v1_change **out, size_t *n_out,
                      struct crdma_error **err)
{
        _cleanup_free_ char *list = NULL;
        int r = v1_read_list(dirfd, cg, &list, err);
        if (r < 0)
                return r;
        _cleanup_free_ struct crdma_devcg_v1_change *changes = calloc(n ? n : 1, sizeof(*changes));
        _cleanup_free_ unsigned *have = calloc(n ? n : 1, sizeof(*have));
        if (!changes || !have)
                return crdma_fail_oom(err);
        /* No rules: nothing to compare the list with. */
        if (n > 0) {
                r = v1_list_scan(list, cg, rules, n, have, err);
                if (r < 0)
                        return r;
        }
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
                unsigned missing = CRDMA_DEVCG_ACC_RW & ~have[i];
                if (missing)
                        changes[m++] = (struct crdma_devcg_v1_change){ rules[i], missing };
                else
                        crdma_log(ctx, CRDMA_LOG_DEBUG, "cgroup %s: %c %u:%u already allowed (rw)",
                                cg, rules[i].type, rules[i].major, rules[i].minor);
        }
        *out = TAKE_PTR(changes);
        *n_out = m;
        return 0;
}

/* Write u->changes[0..n) to devices.allow, counting them in u->n_changes; a failure takes
 * back the ones written. */
static int v1_write_changes(struct crdma_context *ctx, int dirfd, const char *cg,
                            struct crdma_devcg_undo *u, size_t n, struct crdma_error **err)
{
        _cleanup_close_ int fd = openat(dirfd, "devices.allow",
                                        O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return crdma_fail_errno_hint(err, errno, "the hook needs CAP_SYS_ADMIN",
                                            "cgroup %s: opening devices.allow failed", cg);
        for (size_t i = 0; i < n; i++) {
                char line[48];
                int injected = CRDMA_FAULT(ctx, "devices.allow") ? errno : 0;
                int r = v1_write_rule(fd, &u->changes[i].rule, CRDMA_DEVCG_ACC_RW, line, injected);
                if (r < 0) {
                        _cleanup_(crdma_error_freep) struct crdma_error *rb_err = NULL;
                        u->n_changes = i;
                        int rb = crdma_devcg_v1_undo(u, &rb_err);
                        return crdma_devcg_fail_sys_also(
                                err, r,
                                "the hook needs CAP_SYS_ADMIN, and the parent cgroup must "
                                "allow the device",
                                rb < 0 ? crdma_error_message(rb_err) : NULL,
                                "cgroup %s: writing \"%s\" to devices.allow failed", cg, line);
                }
                u->n_changes = i + 1;
                crdma_log(ctx, CRDMA_LOG_DEBUG, "cgroup %s: wrote \"%s\" to devices.allow", cg,
                        line);
        }
        return 0;
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

        _cleanup_free_ struct crdma_devcg_v1_change *changes = NULL;
        size_t n_changes = 0;
        r = v1_changes(ctx, devices_cgroup_fd, cg, set, n_set, &changes, &n_changes, err);
        if (r < 0)
                return r;

        _cleanup_(crdma_devcg_undo_freep) struct crdma_devcg_undo *u = NULL;
        r = crdma_devcg_undo_new(1, devices_cgroup_fd, cg, &u);
        if (r < 0)
                return crdma_fail_errno_hint(err, r, NULL, "cgroup %s: recording the change", cg);
        if (n_changes > 0) {
                u->changes = TAKE_PTR(changes);
                r = v1_write_changes(ctx, devices_cgroup_fd, cg, u, n_changes, err);
                if (r < 0)
                        return r;
        }
        if (undo)
                *undo = TAKE_PTR(u);
        return 0;
}
