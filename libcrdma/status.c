/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crdma_status_scan: who holds which RDMA device, under what limit, using
 * how much of it.
 *
 * The rdma controller says it all per cgroup: rdma.max lists every RDMA
 * device the kernel registered (whatever its network namespace) with its
 * limits, rdma.current the devices with something charged.  The walk reads
 * them in every directory under the context's cgroup root, fd-relative, so a
 * test tree of plain files is read the same way.  Cgroups come and go while
 * it walks (containers exit): one that vanishes (ENOENT on open, ENODEV on
 * reading a removed cgroup's file) is skipped. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup-owner.h"
#include "cgroup.h"
#include "cleanup.h"
#include "context.h"
#include "devices.h"
#include "error.h"
#include "log.h"
#include "netlink.h"
#include "status.h"
#include "util.h"

/* Deeper than any engine nests (kubepods with QoS slices is 5). */
#define WALK_DEPTH_MAX 64

/* One line of rdma.max or rdma.current. */
struct rdma_line {
        char device[64];
        uint64_t hca_handle, hca_object;
};

struct rdma_file {
        struct rdma_line *lines;
        size_t n;
};

static void rdma_file_clear(struct rdma_file *f)
{
        free(f->lines);
        *f = (struct rdma_file){ 0 };
}

struct walk {
        struct crdma_context *ctx;
        struct crdma_status *status;
        const char *root; /* the cgroup root's path, for messages */
        int proc_fd;
};

static void row_clear(struct crdma_status_row *row)
{
        free(row->cgroup);
        free(row->device);
        free(row->container);
        free(row->netns);
}

void crdma_status_free(struct crdma_status *status)
{
        if (!status)
                return;
        for (size_t i = 0; i < status->n; i++)
                row_clear(&status->rows[i]);
        free(status->rows);
        free(status->host_netns);
        free(status);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct crdma_status *, crdma_status_free)

/* ------------------------------------------------------------ the files */

/* "max" or a decimal. */
static int parse_value(const char *s, uint64_t *out)
{
        if (strcmp(s, "max") == 0) {
                *out = CRDMA_UNLIMITED;
                return 0;
        }
        return crdma_parse_decimal(s, INT64_MAX, out);
}

/* "<device> hca_handle=<n|max> hca_object=<n|max>": the kernel's format
 * for both files.  A resource a newer kernel adds is ignored; one it leaves
 * out is `absent` (max for a limit, 0 for usage). */
static int parse_line(char *line, uint64_t absent, struct rdma_line *out)
{
        char *save = NULL;
        const char *device = strtok_r(line, " ", &save);
        if (!device || !crdma_device_name_valid(device))
                return -EINVAL;
        struct rdma_line l = { .hca_handle = absent, .hca_object = absent };
        snprintf(l.device, sizeof(l.device), "%s", device);
        for (char *tok; (tok = strtok_r(NULL, " ", &save));) {
                char *eq = strchr(tok, '=');
                if (!eq)
                        return -EINVAL;
                *eq = '\0';
                uint64_t *slot = strcmp(tok, "hca_handle") == 0   ? &l.hca_handle
                                 : strcmp(tok, "hca_object") == 0 ? &l.hca_object
                                                                  : NULL;
                uint64_t v;
                if (parse_value(eq + 1, &v) < 0)
                        return -EINVAL;
                if (slot)
                        *slot = v;
        }
        *out = l;
        return 0;
}

/* Read and parse `name` (rdma.max or rdma.current) in the cgroup `dirfd`.
 * -ENOENT / -ENODEV: the file is not there (no rdma controller for this
 * cgroup) or the cgroup was removed; the caller decides.  Other failures
 * fill *err naming the file. */
static int read_rdma_file(const struct walk *w, int dirfd, const char *rel, const char *name,
                          uint64_t absent, struct rdma_file *out, struct crdma_error **err)
{
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        _cleanup_free_ char *text = NULL;
        int r = fd < 0 ? -errno : crdma_read_fd(fd, CRDMA_RDMA_MAX_FILE_MAX, &text, NULL);
        if (r == -ENOENT || r == -ENODEV)
                return r;
        if (r < 0)
                return crdma_fail_errno(err, -r, "cgroup %s/%s/%s: cannot read it", w->root, rel,
                                        name);

        struct rdma_file f = { 0 };
        unsigned lineno = 0;
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                lineno++;
                struct rdma_line *grown = reallocarray(f.lines, f.n + 1, sizeof(*f.lines));
                if (!grown) {
                        rdma_file_clear(&f);
                        return crdma_fail_oom(err);
                }
                f.lines = grown;
                if (parse_line(line, absent, &f.lines[f.n]) < 0) {
                        rdma_file_clear(&f);
                        return crdma_fail(err, EINVAL, "cgroup %s/%s/%s: line %u: not \"<device> "
                                          "hca_handle=<n|max> hca_object=<n|max>\"", w->root, rel,
                                          name, lineno);
                }
                f.n++;
        }
        *out = f;
        return 0;
}

static const struct rdma_line *find_line(const struct rdma_file *f, const char *device)
{
        for (size_t i = 0; i < f->n; i++)
                if (strcmp(f->lines[i].device, device) == 0)
                        return &f->lines[i];
        return NULL;
}

static bool limited(const struct rdma_line *l)
{
        return l->hca_handle != CRDMA_UNLIMITED || l->hca_object != CRDMA_UNLIMITED;
}

/* The first pid in cgroup.procs into `pid` ("" when none).  -ENOENT/-ENODEV:
 * the cgroup is gone. */
static int first_process(int dirfd, char *pid, size_t size)
{
        pid[0] = '\0';
        _cleanup_close_ int fd = openat(dirfd, "cgroup.procs", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        /* One short read: the file may list thousands of pids. */
        char buf[32];
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        size_t len = strspn(buf, "0123456789");
        if (len > 0 && len < size && (buf[len] == '\n' || buf[len] == '\0'))
                snprintf(pid, size, "%.*s", (int) len, buf);
        return 0;
}

/* "net:[N]" for <proc-root>/PID/ns/net, or *out NULL when it cannot be read
 * (the process exited; another user's process without CAP_SYS_PTRACE). */
static int netns_of(const struct walk *w, const char *pid, char **out)
{
        *out = NULL;
        char rel[48], link[64];
        snprintf(rel, sizeof(rel), "%s/ns/net", pid);
        ssize_t n = readlinkat(w->proc_fd, rel, link, sizeof(link) - 1);
        if (n < 0) {
                crdma_log(w->ctx, CRDMA_LOG_DEBUG, "%s/%s: cannot read the link: %s",
                          crdma_context_root_path(w->ctx, CRDMA_ROOT_PROC), rel, strerror(errno));
                return 0;
        }
        link[n] = '\0';
        *out = strdup(link);
        return *out ? 0 : -ENOMEM;
}

/* ------------------------------------------------------------ one cgroup */

static int add_row(struct crdma_status *s, struct crdma_status_row *row)
{
        if (s->n == s->allocated) {
                size_t want = s->allocated ? 2 * s->allocated : 16;
                struct crdma_status_row *grown = reallocarray(s->rows, want, sizeof(*grown));
                if (!grown)
                        return -ENOMEM;
                s->rows = grown;
                s->allocated = want;
        }
        s->rows[s->n++] = *row;
        return 0;
}

static int visit(struct walk *w, int dirfd, const char *rel, struct crdma_error **err)
{
        _cleanup_(rdma_file_clear) struct rdma_file max = { 0 };
        int r = read_rdma_file(w, dirfd, rel, "rdma.max", CRDMA_UNLIMITED, &max, err);
        if (r == -ENOENT || r == -ENODEV)
                return 0; /* no rdma controller here (the parent lacks +rdma), or removed */
        if (r < 0)
                return r;
        bool any = false;
        for (size_t i = 0; i < max.n && !any; i++)
                any = limited(&max.lines[i]);
        if (!any)
                return 0;

        _cleanup_(rdma_file_clear) struct rdma_file current = { 0 };
        r = read_rdma_file(w, dirfd, rel, "rdma.current", 0, &current, err);
        if (r == -ENOENT || r == -ENODEV)
                return 0; /* removed between the two reads */
        if (r < 0)
                return r;
        char pid[16];
        r = first_process(dirfd, pid, sizeof(pid));
        if (r == -ENOENT || r == -ENODEV)
                return 0;
        if (r < 0)
                return crdma_fail_errno(err, -r, "cgroup %s/%s/cgroup.procs: cannot read it",
                                        w->root, rel);
        _cleanup_free_ char *netns = NULL;
        if (pid[0] && netns_of(w, pid, &netns) < 0)
                return crdma_fail_oom(err);
        const char *engine;
        _cleanup_free_ char *container = NULL;
        if (crdma_cgroup_owner(rel, &engine, &container) < 0)
                return crdma_fail_oom(err);

        for (size_t i = 0; i < max.n; i++) {
                const struct rdma_line *m = &max.lines[i];
                if (!limited(m))
                        continue; /* unlimited: rdma.max lists every device of the host */
                const struct rdma_line *c = find_line(&current, m->device);
                struct crdma_status_row row = {
                        .cgroup = strdup(rel),
                        .device = strdup(m->device),
                        .container = container ? strdup(container) : NULL,
                        .engine = engine,
                        .hca_handles = { c ? c->hca_handle : 0, m->hca_handle },
                        .hca_objects = { c ? c->hca_object : 0, m->hca_object },
                        .device_in_host_netns = crdma_device_in_this_netns(w->ctx, m->device),
                        .netns = netns ? strdup(netns) : NULL,
                };
                if (!row.cgroup || !row.device || (container && !row.container) ||
                    (netns && !row.netns) || add_row(w->status, &row) < 0) {
                        row_clear(&row);
                        return crdma_fail_oom(err);
                }
        }
        return 0;
}

/* ------------------------------------------------------------ the walk */

static int compare_names(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Visit the cgroup `dirfd` at `rel` ("" for the root, which has no
 * rdma.max), then its children in name order. */
static int walk(struct walk *w, int dirfd, const char *rel, unsigned depth,
                struct crdma_error **err)
{
        if (rel[0]) {
                int r = visit(w, dirfd, rel, err);
                if (r < 0)
                        return r;
        }
        if (depth >= WALK_DEPTH_MAX) {
                crdma_log(w->ctx, CRDMA_LOG_WARNING, "cgroup %s/%s: deeper than %u levels: not "
                          "read below", w->root, rel, WALK_DEPTH_MAX);
                return 0;
        }
        _cleanup_(crdma_strv_clear) struct crdma_strv names = { 0 };
        int r = crdma_dir_list(dirfd, ".", &names);
        if (r == -ENOENT || r == -ENODEV)
                return 0;
        if (r < 0)
                return crdma_fail_errno(err, -r, "cgroup %s/%s: cannot list it", w->root,
                                        rel[0] ? rel : ".");
        if (names.n > 1)
                qsort(names.v, names.n, sizeof(*names.v), compare_names);
        for (size_t i = 0; i < names.n; i++) {
                /* Control files fail with ENOTDIR; a child removed meanwhile
                 * with ENOENT; cgroupfs has no symlinks (ELOOP: a test tree's). */
                _cleanup_close_ int child = openat(dirfd, names.v[i], O_RDONLY | O_DIRECTORY |
                                                   O_NOFOLLOW | O_CLOEXEC);
                if (child < 0) {
                        if (errno == ENOTDIR || errno == ENOENT || errno == ELOOP)
                                continue;
                        return crdma_fail_errno(err, errno, "cgroup %s/%s%s%s: cannot open it",
                                                w->root, rel, rel[0] ? "/" : "", names.v[i]);
                }
                _cleanup_free_ char *child_rel = NULL;
                if (asprintf(&child_rel, "%s%s%s", rel, rel[0] ? "/" : "", names.v[i]) < 0)
                        return crdma_fail_oom(err);
                r = walk(w, child, child_rel, depth + 1, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* What the scan reads besides the tree: the host's network namespace and
 * RDMA netns mode, both only informative (unknown is not an error). */
static int host_facts(struct walk *w, struct crdma_status *s)
{
        if (netns_of(w, "1", &s->host_netns) < 0)
                return -ENOMEM;
        if (!crdma_context_netlink(w->ctx))
                return 0;
        struct crdma_error *e = NULL;
        if (crdma_nl_netns_mode(w->ctx, &s->netns_mode, &e) >= 0) {
                s->netns_known = true;
        } else {
                crdma_log(w->ctx, CRDMA_LOG_DEBUG, "%s", crdma_error_message(e));
                crdma_error_free(e);
        }
        return 0;
}

int crdma_status_scan(struct crdma_context *ctx, struct crdma_status **out,
                      struct crdma_error **err)
{
        if (!ctx || !out)
                return crdma_fail(err, EINVAL, "crdma_status_scan: NULL argument");
        const char *root = crdma_context_root_path(ctx, CRDMA_ROOT_CGROUP);
        struct crdma_cgroup_host host;
        int r = crdma_cgroup_host(ctx, &host, err);
        if (r < 0)
                return r;
        if (!host.v2)
                return crdma_refuse(err, ENOTSUP, "cgroup root %s: not a cgroup v2 (unified) "
                                    "mount, it has no cgroup.controllers; the RDMA status is read "
                                    "from cgroup v2's rdma.max: give the cgroup2 mount (e.g. "
                                    "--cgroup-root /sys/fs/cgroup/unified on a hybrid host), or "
                                    "boot with systemd.unified_cgroup_hierarchy=1", root);
        if (!host.rdma)
                return crdma_refuse(err, ENOTSUP, "%s/cgroup.controllers: no rdma controller: "
                                    "the kernel is built without CONFIG_CGROUP_RDMA, so no cgroup "
                                    "has RDMA limits to show", root);
        int cgroup_fd = crdma_context_root_fd(ctx, CRDMA_ROOT_CGROUP, err);
        if (cgroup_fd < 0)
                return cgroup_fd;
        int proc_fd = crdma_context_root_fd(ctx, CRDMA_ROOT_PROC, err);
        if (proc_fd < 0)
                return proc_fd;
        /* The sysfs root answers which devices are in the host's namespace. */
        r = crdma_context_root_fd(ctx, CRDMA_ROOT_SYSFS, err);
        if (r < 0)
                return r;

        _cleanup_(crdma_status_freep) struct crdma_status *s = calloc(1, sizeof(*s));
        if (!s)
                return crdma_fail_oom(err);
        struct walk w = { .ctx = ctx, .status = s, .root = root, .proc_fd = proc_fd };
        if (host_facts(&w, s) < 0)
                return crdma_fail_oom(err);
        r = walk(&w, cgroup_fd, "", 0, err);
        if (r < 0)
                return r;
        *out = TAKE_PTR(s);
        return 0;
}

/* ------------------------------------------------------------ accessors */

static const struct crdma_status_row *row_at(const struct crdma_status *s, size_t i)
{
        return s && i < s->n ? &s->rows[i] : NULL;
}

size_t crdma_status_count(const struct crdma_status *status)
{
        return status ? status->n : 0;
}

const char *crdma_status_row_cgroup(const struct crdma_status *status, size_t i)
{
        const struct crdma_status_row *row = row_at(status, i);
        return row ? row->cgroup : NULL;
}

const char *crdma_status_row_device(const struct crdma_status *status, size_t i)
{
        const struct crdma_status_row *row = row_at(status, i);
        return row ? row->device : NULL;
}

const char *crdma_status_row_container(const struct crdma_status *status, size_t i)
{
        const struct crdma_status_row *row = row_at(status, i);
        return row ? row->container : NULL;
}

const char *crdma_status_row_engine(const struct crdma_status *status, size_t i)
{
        const struct crdma_status_row *row = row_at(status, i);
        return row ? row->engine : NULL;
}

static int usage(const struct crdma_rdma_usage *u, uint64_t *used, uint64_t *limit)
{
        if (!u)
                return -ERANGE;
        if (used)
                *used = u->used;
        if (limit)
                *limit = u->limit;
        return 0;
}

int crdma_status_row_hca_handles(const struct crdma_status *status, size_t i, uint64_t *used,
                                 uint64_t *limit)
{
        const struct crdma_status_row *row = row_at(status, i);
        return usage(row ? &row->hca_handles : NULL, used, limit);
}

int crdma_status_row_hca_objects(const struct crdma_status *status, size_t i, uint64_t *used,
                                 uint64_t *limit)
{
        const struct crdma_status_row *row = row_at(status, i);
        return usage(row ? &row->hca_objects : NULL, used, limit);
}

bool crdma_status_row_device_in_host_netns(const struct crdma_status *status, size_t i)
{
        const struct crdma_status_row *row = row_at(status, i);
        return row && row->device_in_host_netns;
}

const char *crdma_status_row_netns(const struct crdma_status *status, size_t i)
{
        const struct crdma_status_row *row = row_at(status, i);
        return row ? row->netns : NULL;
}

const char *crdma_status_host_netns(const struct crdma_status *status)
{
        return status ? status->host_netns : NULL;
}

int crdma_status_netns_mode(const struct crdma_status *status, enum crdma_netns *mode)
{
        if (!status || !status->netns_known)
                return -ENODATA;
        if (mode)
                *mode = status->netns_mode;
        return 0;
}
