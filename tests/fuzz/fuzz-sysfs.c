/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Device discovery (crdma_devices_scan) over a sysfs tree the input
 * describes, written into a scratch directory for each run.  The input is
 * lines; each entry starts with a header line:
 *   @d PATH            a directory
 *   @f PATH            a file; its content is every byte up to the next
 *                      header line (so "1\n" for a one-line attribute)
 *   @l PATH TARGET     a symlink
 * PATH is relative, without "." or ".." components.  TARGET is relative
 * too: leading ".." components, then names, and it may not climb above the
 * tree, so the scanner only ever sees the tree (tests/fuzz/sysfs-seed.py
 * turns a tests/data/sysfs tree into such an input). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices.h"
#include "error.h"
#include "fuzz-common.h"
#include "request.h"
#include "util.h"

#define MAX_ENTRIES 1024
#define MAX_DEPTH 16

static char tree[4200];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        (void) argc, (void) argv;
        snprintf(tree, sizeof(tree), "%s/sys", fuzz_scratch_dir());
        return 0;
}

/* Split `path` (NUL-terminated, modified) into components; -1 if invalid. */
static int components(char *path, char **comp)
{
        int n = 0;
        for (char *save = NULL, *c = strtok_r(path, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                if (n == MAX_DEPTH || strcmp(c, ".") == 0 || strcmp(c, "..") == 0 ||
                    strlen(c) > NAME_MAX)
                        return -1;
                comp[n++] = c;
        }
        return n > 0 && path[0] != '/' ? n : -1;
}

/* The directory that will hold the last component, made as needed; never
 * through a symlink (O_NOFOLLOW), so entries land where their path says. */
static int parent_dir(int rootfd, char **comp, int n)
{
        int fd = dup(rootfd);
        for (int i = 0; fd >= 0 && i < n - 1; i++) {
                int next = openat(fd, comp[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0 && errno == ENOENT && mkdirat(fd, comp[i], 0755) == 0)
                        next = openat(fd, comp[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                close(fd);
                fd = next;
        }
        return fd;
}

/* Leading "..", at most `depth` of them, then plain names. */
static bool target_inside(const char *target, int depth)
{
        size_t len = strlen(target);
        if (len == 0 || len > 1024 || target[0] == '/' || target[len - 1] == '/' || strstr(target, "//"))
                return false;
        bool names = false;
        for (const char *p = target; *p;) {
                size_t clen = strcspn(p, "/");
                bool dotdot = clen == 2 && p[0] == '.' && p[1] == '.';
                if ((clen == 1 && p[0] == '.') || (dotdot && names) || (dotdot && --depth < 0))
                        return false;
                names |= !dotdot;
                p += clen + (p[clen] == '/');
        }
        return true;
}

/* The last parent directory used, kept open: entries come grouped by
 * directory, and reopening each path from the root made runs 3x slower. */
struct parent_cache {
        char path[PATH_MAX];
        int fd;
};

static int cached_parent(struct parent_cache *pc, int rootfd, char **comp, int n)
{
        char path[PATH_MAX] = "";
        size_t len = 0;
        for (int i = 0; i < n - 1; i++)
                len += (size_t) snprintf(path + len, sizeof(path) - len, "%s/", comp[i]);
        if (pc->fd >= 0 && strcmp(path, pc->path) == 0)
                return pc->fd;
        if (pc->fd >= 0)
                close(pc->fd);
        pc->fd = parent_dir(rootfd, comp, n);
        snprintf(pc->path, sizeof(pc->path), "%s", path);
        return pc->fd;
}

static void make_entry(int rootfd, struct parent_cache *pc, char kind, char *header,
                       const char *content, size_t clen)
{
        char *target = NULL;
        if (kind == 'l') {
                target = strchr(header, ' ');
                if (!target)
                        return;
                *target++ = '\0';
        }
        char *comp[MAX_DEPTH];
        int n = components(header, comp);
        if (n < 0 || (target && !target_inside(target, n - 1)))
                return;
        int dir = cached_parent(pc, rootfd, comp, n);
        if (dir < 0)
                return;
        const char *name = comp[n - 1];
        /* An entry that cannot be made (its name is taken) is left out. */
        if (kind == 'd') {
                if (mkdirat(dir, name, 0755) < 0)
                        return;
        } else if (kind == 'l') {
                if (symlinkat(target, dir, name) < 0)
                        return;
        } else {
                int fd = openat(dir, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (fd >= 0) {
                        if (write(fd, content, clen) != (ssize_t) clen)
                                abort();
                        close(fd);
                }
        }
}

static void build_tree(const char *data, size_t size)
{
        if (mkdir(tree, 0755) < 0)
                abort();
        int rootfd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                abort();
        const char *end = data + size;
        int entries = 0;
        struct parent_cache pc = { .fd = -EBADF };
        /* Each header line starts at the beginning or after a newline. */
        for (const char *p = data; p < end && entries < MAX_ENTRIES;) {
                const char *eol = memchr(p, '\n', (size_t) (end - p));
                const char *line_end = eol ? eol : end, *next = eol ? eol + 1 : end;
                size_t llen = (size_t) (line_end - p);
                if (llen < 4 || p[0] != '@' || !p[1] || !strchr("dfl", p[1]) || p[2] != ' ' ||
                    memchr(p, '\0', llen)) {
                        p = next;
                        continue;
                }
                /* The content runs to the next line that starts with '@'. */
                const char *c = next, *cend = next;
                while (cend < end && *cend != '@') {
                        const char *nl = memchr(cend, '\n', (size_t) (end - cend));
                        cend = nl ? nl + 1 : end;
                }
                char *header = strndup(p + 3, llen - 3);
                if (!header)
                        abort();
                make_entry(rootfd, &pc, p[1], header, c, (size_t) (cend - c));
                free(header);
                entries++;
                p = cend;
        }
        if (pc.fd >= 0)
                close(pc.fd);
        close(rootfd);
}

static char *list_json(const struct crdma_device_list *list);

static void check_list(const struct crdma_device_list *list)
{
        for (size_t i = 0; i < crdma_device_list_count(list); i++) {
                const struct crdma_device *d = crdma_device_list_get(list, i);
                FUZZ_ASSERT(crdma_device_name_valid(d->name), "device \"%s\"", d->name);
                for (unsigned p = 0; p < d->n_ports; p++)
                        FUZZ_ASSERT(d->ports[p].number >= 1 && d->ports[p].number <= 255 &&
                                            (p == 0 || d->ports[p - 1].number < d->ports[p].number),
                                    "%s: port %u after %u", d->name, d->ports[p].number,
                                    p ? d->ports[p - 1].number : 0);
                unsigned uverbs = 0;
                for (size_t c = 0; c < d->n_chardevs; c++) {
                        const struct crdma_chardev *cd = &d->chardevs[c];
                        if (cd->kind == CRDMA_CHARDEV_UVERBS) {
                                uverbs++;
                                continue;
                        }
                        bool found = false;
                        for (unsigned p = 0; p < d->n_ports; p++)
                                found |= d->ports[p].number == cd->port;
                        FUZZ_ASSERT(found, "%s: %s names port %u it lacks", d->name, cd->name, cd->port);
                }
                FUZZ_ASSERT(uverbs <= 1, "%s: %u uverbs devices", d->name, uverbs);
        }
        free(list_json(list));
}

static char *list_json(const struct crdma_device_list *list)
{
        char *json = NULL;
        struct crdma_error *err = NULL;
        int r = crdma_device_list_to_json(list, false, &json, &err);
        FUZZ_ASSERT(r >= 0, "a scanned list does not print: %s", crdma_error_message(err));
        return json;
}

static bool str_eq(const char *a, const char *b)
{
        return a == b || (a && b && strcmp(a, b) == 0);
}

/* What scan_device reads is the same in both scans; char devices are not
 * compared, the targeted scan reads them from the device's bus parent,
 * which a made-up tree need not keep in step with the class links. */
static void check_same_device(const struct crdma_device *a, const struct crdma_device *b)
{
        FUZZ_ASSERT(a->node_type == b->node_type && str_eq(a->node_type_name, b->node_type_name) &&
                            str_eq(a->node_guid, b->node_guid) && str_eq(a->driver, b->driver) &&
                            str_eq(a->pci_address, b->pci_address) && a->is_vf == b->is_vf &&
                            str_eq(a->pf_pci_address, b->pf_pci_address) &&
                            str_eq(a->parent_netdev, b->parent_netdev) && a->n_ports == b->n_ports,
                    "%s differs between the full and the targeted scan", a->name);
        for (unsigned p = 0; p < a->n_ports; p++)
                FUZZ_ASSERT(a->ports[p].number == b->ports[p].number &&
                                    str_eq(a->ports[p].link_layer, b->ports[p].link_layer) &&
                                    str_eq(a->ports[p].state, b->ports[p].state) &&
                                    str_eq(a->ports[p].netdev, b->ports[p].netdev) &&
                                    a->ports[p].gid_count == b->ports[p].gid_count,
                            "%s port %u differs between the scans", a->name, a->ports[p].number);
}

/* crdma_devices_scan_for, as the hook's inject path calls it. */
static void scan_for(struct crdma_context *ctx, const char *devices,
                     const struct crdma_device_list *full)
{
        struct crdma_kv kv = { "io.crdma.devices", devices };
        struct crdma_request *req = NULL;
        struct crdma_device_list *list = NULL;
        struct crdma_error *err = NULL;
        if (crdma_request_from_annotations(&kv, 1, &req, &err) < 0)
                fuzz_fail(__FILE__, __LINE__, "request", "%s", crdma_error_message(err));
        int r = crdma_devices_scan_for(ctx, req, &list, &err);
        if (r < 0) {
                fuzz_check_error(r, &err);
        } else {
                check_list(list);
                for (size_t i = 0; full && i < crdma_device_list_count(list); i++) {
                        const struct crdma_device *d = crdma_device_list_get(list, i);
                        const struct crdma_device *f = crdma_device_list_find(full, d->name);
                        FUZZ_ASSERT(f, "%s found only by the targeted scan", d->name);
                        check_same_device(f, d);
                }
        }
        crdma_device_list_free(list);
        crdma_request_free(req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        build_tree((const char *) data, size);
        struct crdma_context *ctx = NULL;
        struct crdma_device_list *list = NULL;
        struct crdma_error *err = NULL;
        if (crdma_context_new(&ctx, &err) < 0 ||
            crdma_context_set_root(ctx, CRDMA_ROOT_SYSFS, tree, &err) < 0 ||
            crdma_context_set_netlink(ctx, false, &err) < 0) /* the tree is the input, not this kernel */
                fuzz_fail(__FILE__, __LINE__, "setup", "%s", crdma_error_message(err));
        int r = crdma_devices_scan(ctx, &list, &err);
        if (r < 0)
                fuzz_check_error(r, &err);
        else
                check_list(list);
        /* The targeted scan ("all" is the full scan itself): the first few
         * devices by name, or names from the seeds' trees when the full scan
         * found nothing to name. */
        char names[3 * 64 + 3] = "";
        for (size_t i = 0; i < crdma_device_list_count(list) && i < 3; i++)
                snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", i ? "," : "",
                         crdma_device_name(crdma_device_list_get(list, i)));
        scan_for(ctx, names[0] ? names : "rxe0,mlx5_0,mlx5_2", list);
        crdma_device_list_free(list);
        crdma_context_free(ctx);
        fuzz_remove_tree(tree);
        return 0;
}
