/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container a plan is applied to, and what /proc says of its process. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "container.h"
#include "context.h"
#include "error.h"

int crdma_container_new(pid_t pid, const char *rootfs, struct crdma_container **out,
                        struct crdma_error **err)
{
        if (pid <= 0 || !rootfs || rootfs[0] != '/')
                return crdma_fail(err, EINVAL, "crdma_container_new: a positive pid and an "
                                  "absolute rootfs path are required");
        struct crdma_container *c = calloc(1, sizeof(*c));
        if (!c || !(c->rootfs = strdup(rootfs))) {
                free(c);
                return crdma_fail_oom(err);
        }
        c->pid = pid;
        *out = c;
        return 0;
}

void crdma_container_free(struct crdma_container *c)
{
        if (!c)
                return;
        free(c->rootfs);
        crdma_strv_clear(&c->caps);
        crdma_strv_clear(&c->seccomp_allowed);
        for (size_t i = 0; i < c->n_ns; i++)
                free(c->ns[i].path);
        free(c->ns);
        free(c->cgroups_path);
        free(c);
}

static const char *const ns_oci_names[] = {
        [CRDMA_NS_MOUNT] = "mount", [CRDMA_NS_PID] = "pid",   [CRDMA_NS_NET] = "network",
        [CRDMA_NS_IPC] = "ipc",     [CRDMA_NS_UTS] = "uts",   [CRDMA_NS_USER] = "user",
};

int crdma_container_set_namespace(struct crdma_container *c, const char *type, const char *path,
                                  struct crdma_error **err)
{
        if (!c || !type)
                return crdma_fail(err, EINVAL, "crdma_container_set_namespace: NULL argument");
        int t = -1;
        for (int i = 0; i < (int) ELEMENTSOF(ns_oci_names); i++)
                if (strcmp(type, ns_oci_names[i]) == 0)
                        t = i;
        if (t < 0 && (strcmp(type, "cgroup") == 0 || strcmp(type, "time") == 0))
                t = CRDMA_NS_UNCHECKED;
        if (t < 0)
                return crdma_refuse(err, EINVAL, "namespace type \"%.32s\": not an OCI namespace "
                                    "type (pid, network, mount, ipc, uts, user, cgroup, time)",
                                    type);
        if (path && path[0] != '/')
                return crdma_refuse(err, EINVAL, "namespace %s path \"%.256s\": not absolute", type,
                                    path);
        if (t == CRDMA_NS_UNCHECKED)
                return 0;
        char *copy = NULL;
        if (path && !(copy = strdup(path)))
                return crdma_fail_oom(err);
        for (size_t i = 0; i < c->n_ns; i++)
                if (c->ns[i].type == t) {
                        free(c->ns[i].path);
                        c->ns[i].path = copy;
                        return 0;
                }
        struct crdma_container_ns *grown = realloc(c->ns, (c->n_ns + 1) * sizeof(*grown));
        if (!grown) {
                free(copy);
                return crdma_fail_oom(err);
        }
        c->ns = grown;
        c->ns[c->n_ns++] = (struct crdma_container_ns){ t, copy };
        return 0;
}

int crdma_container_set_cgroups_path(struct crdma_container *c, const char *path,
                                     struct crdma_error **err)
{
        if (!c)
                return crdma_fail(err, EINVAL, "crdma_container_set_cgroups_path: NULL argument");
        char *copy = NULL;
        if (path && path[0] && !(copy = strdup(path)))
                return crdma_fail_oom(err);
        free(c->cgroups_path);
        c->cgroups_path = copy;
        return 0;
}

static int set_names(struct crdma_strv *sv, const char *const *names, size_t n,
                     struct crdma_error **err)
{
        struct crdma_strv fresh = { 0 };
        for (size_t i = 0; i < n; i++)
                if (crdma_strv_push(&fresh, names[i]) < 0) {
                        crdma_strv_clear(&fresh);
                        return crdma_fail_oom(err);
                }
        crdma_strv_clear(sv);
        *sv = fresh;
        return 0;
}

int crdma_container_set_capabilities(struct crdma_container *c, const char *const *names, size_t n,
                                     struct crdma_error **err)
{
        int r = set_names(&c->caps, names, n, err);
        if (r >= 0)
                c->caps_known = true;
        return r;
}

int crdma_container_set_seccomp_allowed(struct crdma_container *c, const char *const *names,
                                        size_t n, struct crdma_error **err)
{
        int r = set_names(&c->seccomp_allowed, names, n, err);
        if (r >= 0)
                c->seccomp_filtered = true;
        return r;
}

void crdma_container_set_memlock(struct crdma_container *c, uint64_t soft, uint64_t hard)
{
        c->memlock_set = true;
        c->memlock_soft = soft;
        c->memlock_hard = hard;
}

void crdma_proc_cgroups_clear(struct crdma_proc_cgroups *cg)
{
        free(cg->unified);
        free(cg->devices);
        free(cg->rdma);
        *cg = (struct crdma_proc_cgroups){ 0 };
}

/* A cgroup path as the kernel prints it: absolute, no "." or ".." parts. */
bool crdma_cgroup_path_ok(const char *p)
{
        if (p[0] != '/')
                return false;
        for (const char *c = p; (c = strstr(c, "/.")); c++)
                if (c[2] == '\0' || c[2] == '/' || (c[2] == '.' && (c[3] == '\0' || c[3] == '/')))
                        return false;
        return true;
}

static bool has_controller(const char *list, const char *name)
{
        size_t len = strlen(name);
        for (const char *p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
                if (strncmp(p, name, len) == 0 && (p[len] == ',' || p[len] == '\0'))
                        return true;
        return false;
}

int crdma_proc_cgroups_parse(const char *text, struct crdma_proc_cgroups *out)
{
        struct crdma_proc_cgroups cg = { 0 };
        _cleanup_free_ char *copy = strdup(text);
        if (!copy)
                return -ENOMEM;
        char *save = NULL;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                /* hierarchy-ID:controller-list:cgroup-path */
                char *c1 = strchr(line, ':');
                char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c2)
                        goto bad;
                *c1 = *c2 = '\0';
                const char *ctrl = c1 + 1, *path = c2 + 1;
                if (!crdma_cgroup_path_ok(path))
                        goto bad;
                char **slot = NULL;
                if (strcmp(line, "0") == 0 && ctrl[0] == '\0')
                        slot = &cg.unified;
                else if (has_controller(ctrl, "devices"))
                        slot = &cg.devices;
                else if (has_controller(ctrl, "rdma"))
                        slot = &cg.rdma;
                if (slot && !*slot && !(*slot = strdup(path))) {
                        crdma_proc_cgroups_clear(&cg);
                        return -ENOMEM;
                }
        }
        *out = cg;
        return 0;
bad:
        crdma_proc_cgroups_clear(&cg);
        return -EINVAL;
}

/* The host id that id 0 of the process's user namespace maps to. */
static int map_root(const struct crdma_pinned *p, const char *file, unsigned *out,
                    struct crdma_error **err)
{
        _cleanup_free_ char *text = NULL;
        int r = crdma_read_text_at(p->piddir, file, CRDMA_TEXT_MAX, &text);
        if (r < 0)
                return crdma_fail_errno(err, r, "%s/%s: cannot read", p->proc, file);
        unsigned long inside, outside, count;
        int consumed = 0;
        for (const char *l = text; sscanf(l, " %lu %lu %lu%n", &inside, &outside, &count, &consumed) == 3;
             l += consumed) {
                if (inside == 0 && count > 0) {
                        *out = (unsigned) outside;
                        return 0;
                }
        }
        return crdma_fail(err, ENOENT, "%s/%s: the container's user namespace maps no root; "
                          "crdma cannot give its devices an owner there", p->proc, file);
}

int crdma_proc_root_ids(const struct crdma_pinned *p, uid_t *uid, gid_t *gid,
                        struct crdma_error **err)
{
        unsigned u, g;
        int r = map_root(p, "uid_map", &u, err);
        if (r >= 0)
                r = map_root(p, "gid_map", &g, err);
        if (r < 0)
                return r;
        *uid = u;
        *gid = g;
        return 0;
}
