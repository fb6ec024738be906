/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Pinning the container's process before crdma acts on it.
 *
 * The OCI state's "pid" is a number: by the time the hook runs, the process
 * may have exited and the number been reused, or the state may simply name
 * some other process.  Acting on the wrong one would put device nodes in
 * another mount namespace, raise another process's RLIMIT_MEMLOCK, or write
 * another cgroup's rdma.max.  So: take a pidfd first, read what identifies
 * the process through one /proc/<pid> directory fd (its state, namespaces
 * and cgroup), compare that with what the container's config asked for, and
 * check the pidfd is still live afterwards: a live pidfd means the number was
 * never free in between, so every read was of the pinned process. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "container.h"
#include "context.h"
#include "error.h"

/* /proc/<pid>/ns file of each checked type. */
static const char *const ns_proc_names[] = {
        [CRDMA_NS_MOUNT] = "mnt", [CRDMA_NS_PID] = "pid", [CRDMA_NS_NET] = "net",
        [CRDMA_NS_IPC] = "ipc",   [CRDMA_NS_UTS] = "uts", [CRDMA_NS_USER] = "user",
};

int crdma_proc_stat_parse(const char *text, char *state, unsigned long long *start)
{
        /* "pid (comm) S ppid ...": comm may hold blanks and ')'. */
        const char *p = strrchr(text, ')');
        if (!p || p[1] != ' ' || !p[2] || p[3] != ' ')
                return -EINVAL;
        char st = p[2];
        p += 3;
        /* starttime is field 22; the state is field 3. */
        for (int field = 4; field < 22; field++) {
                p = strchr(p + 1, ' ');
                if (!p)
                        return -EINVAL;
        }
        unsigned long long v;
        int used = 0;
        if (sscanf(p, " %llu%n", &v, &used) != 1 || (p[used] != ' ' && p[used] != '\0'))
                return -EINVAL;
        *state = st;
        *start = v;
        return 0;
}

/* `name` is one path component of `path`, which starts with '/'. */
static bool has_component(const char *path, const char *name, size_t len)
{
        for (const char *p = path; (p = strchr(p, '/')); p++)
                if (strncmp(p + 1, name, len) == 0 && (p[1 + len] == '/' || p[1 + len] == '\0'))
                        return true;
        return false;
}

/* systemd's form, "slice:prefix:name" (runc and crun with the systemd
 * driver): the process is in the unit "prefix-name.scope", or "name" itself
 * when it is a slice, under the slice. */
static bool systemd_path_matches(const char *cg, const char *proc_path)
{
        const char *c1 = strchr(cg, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2 || strchr(c2 + 1, ':') || !c2[1])
                return false;
        const char *name = c2 + 1;
        size_t slice_len = (size_t) (c1 - cg), prefix_len = (size_t) (c2 - c1 - 1);
        if (slice_len > 0 && !(slice_len == 1 && cg[0] == '-') &&
            !has_component(proc_path, cg, slice_len))
                return false;
        size_t name_len = strlen(name);
        if (name_len > 6 && strcmp(name + name_len - 6, ".slice") == 0)
                return has_component(proc_path, name, name_len);
        char unit[512];
        int n = snprintf(unit, sizeof(unit), "%.*s-%s.scope", (int) prefix_len, c1 + 1, name);
        if (n < 0 || (size_t) n >= sizeof(unit))
                return false;
        if (has_component(proc_path, unit, (size_t) n))
                return true;
        /* No prefix: some runtimes drop the dash. */
        return prefix_len == 0 && has_component(proc_path, unit + 1, (size_t) n - 1);
}

bool crdma_cgroups_path_matches(const char *cg, const char *proc_path)
{
        if (!cg || !proc_path || proc_path[0] != '/')
                return false;
        if (strchr(cg, ':'))
                return systemd_path_matches(cg, proc_path);
        size_t len = strlen(cg);
        while (len > 1 && cg[len - 1] == '/')
                len--;
        if (cg[0] == '/') {
                /* Absolute: that cgroup or one below it (crun may add a
                 * sub-cgroup for the container's processes). */
                if (len == 1)
                        return true;
                return strncmp(proc_path, cg, len) == 0 &&
                       (proc_path[len] == '\0' || proc_path[len] == '/');
        }
        /* Relative: below the runtime's own cgroup, wherever that is. */
        for (const char *p = proc_path; (p = strchr(p, '/')); p++)
                if (strncmp(p + 1, cg, len) == 0 && (p[1 + len] == '\0' || p[1 + len] == '/'))
                        return true;
        return false;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
        return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

static int check_namespaces(struct crdma_context *ctx, int procfd, int piddir,
                            const struct crdma_container *c, struct crdma_error **err)
{
        const char *proc = crdma_context_root_path(ctx, CRDMA_ROOT_PROC);
        for (size_t i = 0; i < c->n_ns; i++) {
                const char *ns = ns_proc_names[c->ns[i].type];
                char rel[16];
                snprintf(rel, sizeof(rel), "ns/%s", ns);
                struct stat his, want;
                if (fstatat(piddir, rel, &his, 0) < 0)
                        return crdma_fail_errno(err, errno, "%s/%d/%s: cannot read the container "
                                                "process's namespace", proc, (int) c->pid, rel);
                if (c->ns[i].path) {
                        if (stat(c->ns[i].path, &want) < 0)
                                return crdma_fail_errno(err, errno, "%s namespace %s (the "
                                                        "container's config joins it): cannot "
                                                        "read it", ns, c->ns[i].path);
                        if (!same_file(&his, &want))
                                return crdma_refuse(err, ESRCH, "process %d: not in the %s "
                                                    "namespace %s that the container's config "
                                                    "joins; the OCI state's pid is not the "
                                                    "container's process", (int) c->pid, ns,
                                                    c->ns[i].path);
                        continue;
                }
                char self[24];
                snprintf(self, sizeof(self), "self/ns/%s", ns);
                if (fstatat(procfd, self, &want, 0) < 0)
                        return crdma_fail_errno(err, errno, "%s/%s: cannot read crdma's own "
                                                "namespace", proc, self);
                if (same_file(&his, &want))
                        return crdma_refuse(err, ESRCH, "process %d: shares the %s namespace of "
                                            "crdma (the runtime's), but the container's config "
                                            "gives the container one of its own; the OCI state's "
                                            "pid is not the container's process", (int) c->pid, ns);
        }
        return 0;
}

/* <proc>/<pid>/cgroup, read once: checked here, used by the apply. */
static int read_cgroups(struct crdma_pinned *p, struct crdma_error **err)
{
        _cleanup_free_ char *text = NULL;
        int r = crdma_read_text_at(p->piddir, "cgroup", CRDMA_TEXT_MAX, &text);
        if (r < 0)
                return crdma_fail_errno(err, r, "%s/cgroup: cannot read the container process's "
                                        "cgroups", p->proc);
        if (crdma_proc_cgroups_parse(text, &p->cgroups) < 0)
                return crdma_fail(err, EINVAL, "%s/cgroup: not in the format the kernel writes",
                                  p->proc);
        return 0;
}

static int check_cgroup(const struct crdma_pinned *p, const struct crdma_container *c,
                        struct crdma_error **err)
{
        if (!c->cgroups_path)
                return 0;
        const struct crdma_proc_cgroups *pc = &p->cgroups;
        /* Hybrid hosts: the v1 devices or rdma hierarchy holds the container
         * where the unified one holds systemd's view. */
        bool in = crdma_cgroups_path_matches(c->cgroups_path, pc->unified) ||
                  crdma_cgroups_path_matches(c->cgroups_path, pc->devices) ||
                  crdma_cgroups_path_matches(c->cgroups_path, pc->rdma);
        const char *where = pc->unified ? pc->unified : pc->devices ? pc->devices : "(none)";
        if (!in)
                return crdma_refuse(err, ESRCH, "process %d: in cgroup %.256s, not in the "
                                    "container's linux.cgroupsPath \"%.256s\"; the OCI state's "
                                    "pid is not the container's process", (int) c->pid, where,
                                    c->cgroups_path);
        return 0;
}

void crdma_pinned_clear(struct crdma_pinned *p)
{
        if (p->pidfd >= 0)
                close(p->pidfd);
        if (p->piddir >= 0)
                close(p->piddir);
        free(p->proc);
        crdma_proc_cgroups_clear(&p->cgroups);
        *p = (struct crdma_pinned){ .pidfd = -EBADF, .piddir = -EBADF };
}

bool crdma_pinned_alive(const struct crdma_pinned *p)
{
        return syscall(SYS_pidfd_send_signal, p->pidfd, 0, NULL, 0) == 0 || errno == EPERM;
}

static int open_pidfd(pid_t pid, struct crdma_error **err)
{
        int pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        if (pidfd < 0 && errno == ESRCH)
                return crdma_refuse(err, ESRCH, "process %d: no such process; the OCI state's pid "
                                    "names no live process (the container exited?)", (int) pid);
        if (pidfd < 0 && errno == ENOSYS)
                return crdma_fail(err, ENOSYS, "pidfd_open: the kernel lacks it (Linux 5.3+); "
                                  "crdma pins the container's process with it before acting");
        if (pidfd < 0)
                return crdma_fail_errno(err, errno, "process %d: cannot pin the container's process "
                                        "(pidfd_open)", (int) pid);
        return pidfd;
}

static int check_state(const struct crdma_pinned *p, unsigned long long *start,
                       struct crdma_error **err)
{
        _cleanup_free_ char *stat_text = NULL;
        int r = crdma_read_text_at(p->piddir, "stat", CRDMA_TEXT_MAX, &stat_text);
        if (r < 0)
                return crdma_fail_errno(err, r, "%s/stat: cannot read the container's process",
                                        p->proc);
        char state;
        if (crdma_proc_stat_parse(stat_text, &state, start) < 0)
                return crdma_fail(err, EINVAL, "%s/stat: not in the format the kernel writes",
                                  p->proc);
        if (state == 'Z' || state == 'X')
                return crdma_refuse(err, ESRCH, "process %d: has exited (a zombie); the OCI "
                                    "state's pid is not a created container's process", (int) p->pid);
        return 0;
}

static int pin(struct crdma_context *ctx, const struct crdma_container *c,
               struct crdma_pinned *p, struct crdma_error **err)
{
        int procfd = crdma_context_root_fd(ctx, CRDMA_ROOT_PROC, err);
        if (procfd < 0)
                return procfd;
        if (c->pid == 1)
                return crdma_refuse(err, EPERM, "process 1: the init of crdma's pid namespace "
                                    "(the host's), never a created container's process; the OCI "
                                    "state does not come from the container's runtime");
        p->pid = c->pid;
        p->pidfd = open_pidfd(c->pid, err);
        if (p->pidfd < 0)
                return p->pidfd;
        char rel[16];
        snprintf(rel, sizeof(rel), "%d", (int) c->pid);
        if (asprintf(&p->proc, "%s/%s", crdma_context_root_path(ctx, CRDMA_ROOT_PROC), rel) < 0) {
                p->proc = NULL;
                return crdma_fail_oom(err);
        }
        p->piddir = openat(procfd, rel, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (p->piddir < 0)
                return crdma_fail_errno(err, errno, "%s: cannot open the container's process",
                                        p->proc);
        unsigned long long start;
        int r = check_state(p, &start, err);
        if (r >= 0)
                r = check_namespaces(ctx, procfd, p->piddir, c, err);
        if (r >= 0)
                r = read_cgroups(p, err);
        if (r >= 0)
                r = check_cgroup(p, c, err);
        if (r < 0)
                return r;
        /* Still live: the pid was never free, every read above was of it. */
        if (!crdma_pinned_alive(p))
                return crdma_refuse(err, ESRCH, "process %d: exited while crdma checked it; the "
                                    "container is gone", (int) c->pid);
        crdma_log(ctx, CRDMA_LOG_DEBUG, "pinned process %d (started at tick %llu), %zu namespace(s)%s "
                  "checked", (int) c->pid, start, c->n_ns, c->cgroups_path ? " and its cgroup" : "");
        return 0;
}

int crdma_container_pin(struct crdma_context *ctx, const struct crdma_container *c,
                        struct crdma_pinned *out, struct crdma_error **err)
{
        struct crdma_pinned p = { .pidfd = -EBADF, .piddir = -EBADF };
        int r = pin(ctx, c, &p, err);
        if (r < 0) {
                crdma_pinned_clear(&p);
                return r;
        }
        *out = p;
        return 0;
}
