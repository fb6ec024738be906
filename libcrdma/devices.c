/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* RDMA device discovery from sysfs (class/infiniband, infiniband_verbs,
 * infiniband_mad, misc/rdma_cm), with kernel indexes from RDMA netlink. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "context.h"
#include "devices.h"
#include "error.h"
#include "netlink.h"
#include "request.h"
#include "util.h"

/* sysfs attributes are one short line; anything longer is not sysfs. */
#define ATTR_MAX 4096

struct scan {
        struct crdma_context *ctx;
        const char *root; /* sysfs root path, for messages */
        struct crdma_device_list *list;
        struct crdma_error **err;
        /* Only some devices are in the list (a targeted scan): a char device
         * of another device is skipped, not a broken tree. */
        bool partial;
        /* A named device in another network namespace is listed, `elsewhere`. */
        bool elsewhere;
};

static void device_clear(struct crdma_device *d)
{
        free(d->name);
        free(d->node_type_name);
        free(d->node_guid);
        free(d->driver);
        free(d->pci_address);
        free(d->pf_pci_address);
        free(d->parent_netdev);
        for (unsigned i = 0; i < d->n_ports; i++) {
                free(d->ports[i].link_layer);
                free(d->ports[i].state);
                free(d->ports[i].netdev);
        }
        free(d->ports);
        free(d->chardevs);
}

void crdma_device_list_free(struct crdma_device_list *list)
{
        if (!list)
                return;
        for (size_t i = 0; i < list->n; i++)
                device_clear(&list->devs[i]);
        free(list->devs);
        free(list);
}

static int broken(struct scan *s, const char *cls, const char *entry, const char *file,
                  const char *why)
{
        return crdma_fail(s->err, EINVAL,
                          "%s/class/%s/%s/%s: %s; the sysfs tree is inconsistent (a kernel or "
                          "driver bug, or a wrong --sysfs-root)",
                          s->root, cls, entry, file, why);
}

/* Read an attribute: 0 with *out set, or -ENOENT (and similar) for a missing
 * optional one.  Other errors are reported against the file. */
static int read_attr_at(struct scan *s, int dirfd, const char *rel, const char *cls,
                        const char *entry, const char *file, bool required, char **out)
{
        int r = crdma_read_text_at(dirfd, rel, ATTR_MAX, out);
        if (r >= 0)
                return 0;
        /* Absent, or present but not readable for this object (the kernel
         * answers EINVAL/ENODATA for unset gid_attrs entries). */
        bool missing = r == -ENOENT || r == -ENOTDIR || r == -EINVAL || r == -ENODATA;
        if (missing && !required)
                return r;
        if (missing)
                return broken(s, cls, entry, file, "missing");
        return crdma_fail_errno(s->err, r, "%s/class/%s/%s/%s: cannot read", s->root, cls,
                                entry, file);
}

/* An attribute of an object whose directory is `dirfd`. */
static int read_attr(struct scan *s, int dirfd, const char *cls, const char *entry,
                     const char *file, bool required, char **out)
{
        return read_attr_at(s, dirfd, file, cls, entry, file, required, out);
}

/* An attribute of class/<cls>/<entry>, opened from the class directory. */
static int read_class_attr(struct scan *s, int classfd, const char *cls, const char *entry,
                           const char *file, char **out)
{
        char rel[NAME_MAX + 16];
        snprintf(rel, sizeof(rel), "%s/%s", entry, file);
        return read_attr_at(s, classfd, rel, cls, entry, file, true, out);
}

/* "4: ACTIVE" -> 4 and "ACTIVE". */
static int parse_numbered(const char *text, int *num, char **name)
{
        const char *colon = strchr(text, ':');
        if (!colon || colon == text || colon[1] != ' ' || colon[2] == '\0')
                return -EINVAL;
        char digits[12];
        size_t len = (size_t) (colon - text);
        if (len >= sizeof(digits))
                return -EINVAL;
        memcpy(digits, text, len);
        digits[len] = '\0';
        uint64_t v;
        if (crdma_parse_decimal(digits, INT_MAX, &v) < 0)
                return -EINVAL;
        char *copy = strdup(colon + 2);
        if (!copy)
                return -ENOMEM;
        *num = (int) v;
        *name = copy;
        return 0;
}

static bool guid_valid(const char *g)
{
        /* xxxx:xxxx:xxxx:xxxx */
        if (strlen(g) != 19)
                return false;
        for (int i = 0; i < 19; i++) {
                if (i % 5 == 4) {
                        if (g[i] != ':')
                                return false;
                } else if (!((g[i] >= '0' && g[i] <= '9') || (g[i] >= 'a' && g[i] <= 'f') ||
                             (g[i] >= 'A' && g[i] <= 'F'))) {
                        return false;
                }
        }
        return true;
}

static bool pci_address_like(const char *s)
{
        /* DDDD:BB:DD.F */
        unsigned dom, bus, dev, fn;
        char end;
        return strlen(s) == 12 && sscanf(s, "%4x:%2x:%2x.%1x%c", &dom, &bus, &dev, &fn, &end) == 4;
}

/* Last path component of a symlink's target, or NULL (errno set). */
static char *link_basename(int dirfd, const char *path)
{
        char target[PATH_MAX];
        ssize_t n = readlinkat(dirfd, path, target, sizeof(target) - 1);
        if (n < 0)
                return NULL;
        target[n] = '\0';
        while (n > 1 && target[n - 1] == '/')
                target[--n] = '\0';
        const char *slash = strrchr(target, '/');
        return strdup(slash ? slash + 1 : target);
}

/* The netdev of a port of a PCI device: the device/net/<if> whose dev_port
 * (or, on older drivers, dev_id) is port - 1, as ibdev2netdev does. */
static char *pci_port_netdev(int devfd, unsigned port)
{
        struct crdma_strv nets = { 0 };
        if (crdma_dir_list(devfd, "device/net", &nets) < 0)
                return NULL;
        char *found = NULL;
        for (size_t i = 0; i < nets.n && !found; i++) {
                char path[NAME_MAX + 32];
                _cleanup_free_ char *text = NULL;
                unsigned long v;
                char *end;
                snprintf(path, sizeof(path), "device/net/%s/dev_port", nets.v[i]);
                if (crdma_read_text_at(devfd, path, ATTR_MAX, &text) >= 0) {
                        v = strtoul(text, &end, 10);
                } else {
                        snprintf(path, sizeof(path), "device/net/%s/dev_id", nets.v[i]);
                        if (crdma_read_text_at(devfd, path, ATTR_MAX, &text) < 0)
                                continue;
                        v = strtoul(text, &end, 16);
                }
                if (end != text && *end == '\0' && v + 1 == port)
                        found = strdup(nets.v[i]);
        }
        crdma_strv_clear(&nets);
        return found;
}

static int port_cmp(const void *a, const void *b)
{
        const struct crdma_port *x = a, *y = b;
        return (x->number > y->number) - (x->number < y->number);
}

static int scan_port(struct scan *s, int devfd, struct crdma_device *dev, const char *entry)
{
        char file[NAME_MAX + 16];
        snprintf(file, sizeof(file), "ports/%s", entry);
        uint64_t num;
        if (crdma_parse_decimal(entry, 255, &num) < 0 || num == 0)
                return broken(s, "infiniband", dev->name, file, "not a port number (1-255)");

        struct crdma_port *grown = realloc(dev->ports, (dev->n_ports + 1) * sizeof(*grown));
        if (!grown)
                return crdma_fail_oom(s->err);
        dev->ports = grown;
        struct crdma_port *p = &dev->ports[dev->n_ports++];
        *p = (struct crdma_port){ .number = (unsigned) num };

        _cleanup_close_ int pfd = openat(devfd, file, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (pfd < 0)
                return broken(s, "infiniband", dev->name, file, "not a directory");

        int r = read_attr(s, pfd, "infiniband", dev->name, "link_layer", false, &p->link_layer);
        if (r < 0 && *s->err)
                return r;

        _cleanup_free_ char *state = NULL;
        r = read_attr(s, pfd, "infiniband", dev->name, "state", false, &state);
        if (r < 0 && *s->err)
                return r;
        if (state) {
                int code;
                if (parse_numbered(state, &code, &p->state) < 0) {
                        snprintf(file, sizeof(file), "ports/%s/state", entry);
                        return broken(s, "infiniband", dev->name, file, "not \"<number>: <state>\"");
                }
        }

        (void) crdma_dir_count(pfd, "gids", &p->gid_count);

        /* RoCE: the netdev of the default GID; IB: IPoIB by dev_port. */
        if (crdma_read_text_at(pfd, "gid_attrs/ndevs/0", ATTR_MAX, &p->netdev) < 0 ||
            p->netdev[0] == '\0') {
                free(p->netdev);
                p->netdev = pci_port_netdev(devfd, p->number);
        }
        return 0;
}

static int scan_ports(struct scan *s, int devfd, struct crdma_device *dev)
{
        struct crdma_strv entries = { 0 };
        int r = crdma_dir_list(devfd, "ports", &entries);
        if (r == -ENOENT)
                return 0; /* switches and some software devices have none */
        if (r < 0)
                return crdma_fail_errno(s->err, r, "%s/class/infiniband/%s/ports: cannot read",
                                        s->root, dev->name);
        for (size_t i = 0; i < entries.n && r >= 0; i++)
                r = scan_port(s, devfd, dev, entries.v[i]);
        crdma_strv_clear(&entries);
        if (r >= 0 && dev->n_ports > 1)
                qsort(dev->ports, dev->n_ports, sizeof(*dev->ports), port_cmp);
        return r;
}

static int scan_device(struct scan *s, int classfd, const char *name, struct crdma_device *dev)
{
        *dev = (struct crdma_device){ .index = -1 };
        if (!crdma_device_name_valid(name))
                return broken(s, "infiniband", name, "", "not a valid RDMA device name");
        dev->name = strdup(name);
        if (!dev->name)
                return crdma_fail_oom(s->err);

        _cleanup_close_ int devfd = openat(classfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (devfd < 0)
                return broken(s, "infiniband", name, "", "not a directory");

        _cleanup_free_ char *node_type = NULL;
        int r = read_attr(s, devfd, "infiniband", name, "node_type", true, &node_type);
        if (r < 0)
                return r;
        if (parse_numbered(node_type, &dev->node_type, &dev->node_type_name) < 0)
                return broken(s, "infiniband", name, "node_type", "not \"<number>: <type>\"");

        r = read_attr(s, devfd, "infiniband", name, "node_guid", true, &dev->node_guid);
        if (r < 0)
                return r;
        if (!guid_valid(dev->node_guid))
                return broken(s, "infiniband", name, "node_guid",
                              "not a GUID (xxxx:xxxx:xxxx:xxxx)");

        /* The parent bus device: PCI address, driver, SR-IOV role.  Only
         * software devices (rxe, siw) have none, and they name their netdev
         * in `parent` instead. */
        _cleanup_free_ char *bus_dev = link_basename(devfd, "device");
        if (!bus_dev) {
                r = read_attr(s, devfd, "infiniband", name, "parent", false, &dev->parent_netdev);
                if (r < 0 && *s->err)
                        return r;
        } else {
                if (pci_address_like(bus_dev))
                        dev->pci_address = TAKE_PTR(bus_dev);
                dev->driver = link_basename(devfd, "device/driver");
                dev->pf_pci_address = link_basename(devfd, "device/physfn");
                if (dev->pf_pci_address) {
                        dev->is_vf = true;
                        if (!pci_address_like(dev->pf_pci_address))
                                return broken(s, "infiniband", name, "device/physfn",
                                              "not a link to a PCI function");
                }
        }

        return scan_ports(s, devfd, dev);
}

static int device_cmp(const void *a, const void *b)
{
        const struct crdma_device *x = a, *y = b;
        return strverscmp(x->name, y->name);
}

static struct crdma_device *find_device(struct crdma_device_list *list, const char *name)
{
        for (size_t i = 0; i < list->n; i++)
                if (strcmp(list->devs[i].name, name) == 0)
                        return &list->devs[i];
        return NULL;
}

static bool has_port(const struct crdma_device *dev, unsigned port)
{
        for (unsigned i = 0; i < dev->n_ports; i++)
                if (dev->ports[i].number == port)
                        return true;
        return false;
}

/* "uverbs12" with the expected prefix and a decimal suffix. */
static bool chardev_name_ok(const char *name, const char *prefix)
{
        size_t plen = strlen(prefix);
        uint64_t v;
        return strncmp(name, prefix, plen) == 0 && strlen(name) < sizeof(((struct crdma_chardev *) 0)->name) &&
               crdma_parse_decimal(name + plen, 1u << 20, &v) == 0;
}

/* One char device of class/<cls>, read from `classfd` (the class directory,
 * or the <cls> directory of a device's parent, which holds the same entries).
 * `only`: accept it only for that device, skip it for any other. */
static int scan_chardev(struct scan *s, int classfd, const char *cls, const char *name,
                        enum crdma_chardev_kind kind, const struct crdma_device *only)
{
        /* Attributes by path from the class directory: one open each, no
         * directory fd per char device. */
        _cleanup_free_ char *ibdev = NULL, *devnum = NULL, *port_text = NULL;
        int r = read_class_attr(s, classfd, cls, name, "ibdev", &ibdev);
        if (r < 0)
                return r;
        if (only && strcmp(only->name, ibdev) != 0)
                return 0; /* a sibling on the same parent */
        struct crdma_device *dev = find_device(s->list, ibdev);
        if (!dev && s->partial)
                return 0; /* a device the targeted scan was not asked for */
        if (!dev) {
                char why[128];
                snprintf(why, sizeof(why), "names \"%.63s\", which is not in class/infiniband", ibdev);
                return broken(s, cls, name, "ibdev", why);
        }

        struct crdma_chardev cd = { .kind = kind };
        snprintf(cd.name, sizeof(cd.name), "%.31s", name); /* length checked by chardev_name_ok */
        r = read_class_attr(s, classfd, cls, name, "dev", &devnum);
        if (r < 0)
                return r;
        if (crdma_parse_devnum(devnum, &cd.major, &cd.minor) < 0)
                return broken(s, cls, name, "dev", "not \"<major>:<minor>\"");

        if (kind != CRDMA_CHARDEV_UVERBS) {
                r = read_class_attr(s, classfd, cls, name, "port", &port_text);
                if (r < 0)
                        return r;
                uint64_t port;
                /* A device elsewhere has no ports to check against from here. */
                if (crdma_parse_decimal(port_text, 255, &port) < 0 ||
                    (!dev->elsewhere && !has_port(dev, (unsigned) port)))
                        return broken(s, cls, name, "port", "not a port of its device");
                cd.port = (unsigned) port;
        }

        for (size_t i = 0; i < dev->n_chardevs; i++) {
                const struct crdma_chardev *o = &dev->chardevs[i];
                if (o->kind == kind && o->port == cd.port) {
                        char why[160];
                        snprintf(why, sizeof(why), "%s already has %s for the same %s", dev->name,
                                 o->name, kind == CRDMA_CHARDEV_UVERBS ? "device" : "port");
                        return broken(s, cls, name, "ibdev", why);
                }
        }

        struct crdma_chardev *grown = realloc(dev->chardevs, (dev->n_chardevs + 1) * sizeof(*grown));
        if (!grown)
                return crdma_fail_oom(s->err);
        dev->chardevs = grown;
        dev->chardevs[dev->n_chardevs++] = cd;
        return 0;
}

/* Every subdirectory named <prefix><N> of `path` (class/<cls>, or a
 * device's parent's <cls> directory); class attribute files such as
 * abi_version are skipped.  A missing directory is no char device (module
 * not loaded). */
static int scan_chardev_dir(struct scan *s, int sysfd, const char *path, const char *cls,
                            const struct crdma_device *only)
{
        _cleanup_close_ int fd = openat(sysfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return 0;
                return crdma_fail_errno(s->err, errno, "%s/%s: cannot open", s->root, path);
        }
        struct crdma_strv names = { 0 };
        int r = crdma_dir_list(fd, ".", &names);
        if (r < 0)
                return crdma_fail_errno(s->err, r, "%s/%s: cannot read", s->root, path);
        bool verbs = strcmp(cls, "infiniband_verbs") == 0;
        for (size_t i = 0; i < names.n && r >= 0; i++) {
                const char *n = names.v[i];
                enum crdma_chardev_kind kind;
                if (verbs && chardev_name_ok(n, "uverbs"))
                        kind = CRDMA_CHARDEV_UVERBS;
                else if (!verbs && chardev_name_ok(n, "umad"))
                        kind = CRDMA_CHARDEV_UMAD;
                else if (!verbs && chardev_name_ok(n, "issm"))
                        kind = CRDMA_CHARDEV_ISSM;
                else
                        continue; /* class attributes such as abi_version */
                r = scan_chardev(s, fd, cls, n, kind, only);
        }
        crdma_strv_clear(&names);
        return r;
}

static int scan_chardev_class(struct scan *s, int sysfd, const char *cls)
{
        char path[64];
        snprintf(path, sizeof(path), "class/%s", cls);
        return scan_chardev_dir(s, sysfd, path, cls, NULL);
}

/* The char devices of the listed devices only.  The kernel makes a device's
 * uverbs and umad/issm children of the device's own parent (ib_uverbs and
 * ib_umad set dev.parent = ib_device->dev.parent), so for a device with a
 * parent they are in class/infiniband/<dev>/device/<cls>: a few reads instead
 * of one per char device on the host.  A device with no parent (rxe, siw)
 * has its char devices under devices/virtual: then one pass over the class,
 * reading each entry's ibdev, finds them for every listed device at once. */
static int scan_chardevs_targeted(struct scan *s, int sysfd, const char *cls)
{
        struct crdma_device_list *list = s->list;
        for (size_t i = 0; i < list->n; i++) {
                char link[NAME_MAX + 32];
                snprintf(link, sizeof(link), "class/infiniband/%s/device", list->devs[i].name);
                if (faccessat(sysfd, link, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                        return scan_chardev_class(s, sysfd, cls);
        }
        for (size_t i = 0; i < list->n; i++) {
                char path[NAME_MAX + 64];
                snprintf(path, sizeof(path), "class/infiniband/%s/device/%s", list->devs[i].name, cls);
                int r = scan_chardev_dir(s, sysfd, path, cls, &list->devs[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int chardev_cmp(const void *a, const void *b)
{
        const struct crdma_chardev *x = a, *y = b;
        if (x->kind != y->kind)
                return (int) x->kind - (int) y->kind;
        return (x->port > y->port) - (x->port < y->port);
}

static int scan_rdma_cm(struct scan *s, int sysfd)
{
        _cleanup_free_ char *devnum = NULL;
        int r = crdma_read_text_at(sysfd, "class/misc/rdma_cm/dev", ATTR_MAX, &devnum);
        if (r == -ENOENT)
                return 0; /* rdma_ucm not loaded */
        if (r < 0)
                return crdma_fail_errno(s->err, r, "%s/class/misc/rdma_cm/dev: cannot read", s->root);
        if (crdma_parse_devnum(devnum, &s->list->rdma_cm_major, &s->list->rdma_cm_minor) < 0)
                return broken(s, "misc", "rdma_cm", "dev", "not \"<major>:<minor>\"");
        s->list->has_rdma_cm = true;
        return 0;
}

/* Kernel indexes and the netns mode; absent netlink is not an error. */
static void add_netlink_facts(struct crdma_context *ctx, struct crdma_device_list *list)
{
        if (!crdma_context_netlink(ctx))
                return;
        struct crdma_error *e = NULL;
        struct crdma_nl_device *nl = NULL;
        size_t n = 0;
        if (crdma_nl_devices(ctx, &nl, &n, &e) < 0) {
                crdma_log(ctx, CRDMA_LOG_DEBUG, "%s", crdma_error_message(e));
                crdma_error_free(e);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                struct crdma_device *dev = find_device(list, nl[i].name);
                if (dev)
                        dev->index = (int) nl[i].index;
        }
        free(nl);

        e = NULL;
        if (crdma_nl_netns_mode(ctx, &list->netns_mode, &e) >= 0) {
                list->netns_known = true;
        } else {
                crdma_log(ctx, CRDMA_LOG_DEBUG, "%s", crdma_error_message(e));
                crdma_error_free(e);
        }
}

static int scan_class_infiniband(struct scan *s, int sysfd)
{
        _cleanup_close_ int fd = openat(sysfd, "class/infiniband", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return 0; /* no RDMA on this host */
                return crdma_fail_errno(s->err, errno, "%s/class/infiniband: cannot open", s->root);
        }
        struct crdma_strv names = { 0 };
        int r = crdma_dir_list(fd, ".", &names);
        if (r < 0)
                return crdma_fail_errno(s->err, r, "%s/class/infiniband: cannot read", s->root);
        struct crdma_device_list *list = s->list;
        list->devs = calloc(names.n ? names.n : 1, sizeof(*list->devs));
        if (!list->devs)
                r = crdma_fail_oom(s->err);
        /* Counted before each scan so a failure frees what it filled. */
        for (size_t i = 0; i < names.n && r >= 0; i++)
                r = scan_device(s, fd, names.v[i], &list->devs[list->n++]);
        crdma_strv_clear(&names);
        if (r >= 0 && list->n > 1)
                qsort(list->devs, list->n, sizeof(*list->devs), device_cmp);
        return r;
}

/* Only the devices named: a name the host lacks is left out of the list, so
 * crdma_plan_new refuses it exactly as after a full scan. */
static int scan_named_devices(struct scan *s, int sysfd, const struct crdma_strv *names)
{
        _cleanup_close_ int fd = openat(sysfd, "class/infiniband", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return 0; /* no RDMA on this host */
                return crdma_fail_errno(s->err, errno, "%s/class/infiniband: cannot open", s->root);
        }
        struct crdma_device_list *list = s->list;
        list->devs = calloc(names->n ? names->n : 1, sizeof(*list->devs));
        if (!list->devs)
                return crdma_fail_oom(s->err);
        for (size_t i = 0; i < names->n; i++) {
                /* Request names are validated ([A-Za-z0-9_.-], never . or ..),
                 * so this stays one entry of the class directory. */
                if (!crdma_device_name_valid(names->v[i]) ||
                    find_device(list, names->v[i]))
                        continue;
                if (faccessat(fd, names->v[i], F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT && s->elsewhere &&
                            crdma_device_in_other_netns(s->ctx, names->v[i])) {
                                struct crdma_device *d = &list->devs[list->n];
                                *d = (struct crdma_device){ .index = -1, .elsewhere = true };
                                d->name = strdup(names->v[i]);
                                if (!d->name)
                                        return crdma_fail_oom(s->err);
                                list->n++;
                                continue;
                        }
                        if (errno == ENOENT)
                                continue;
                        return crdma_fail_errno(s->err, errno, "%s/class/infiniband/%s: cannot read",
                                                s->root, names->v[i]);
                }
                int r = scan_device(s, fd, names->v[i], &list->devs[list->n++]);
                if (r < 0)
                        return r;
        }
        if (list->n > 1)
                qsort(list->devs, list->n, sizeof(*list->devs), device_cmp);
        return 0;
}

static void sort_chardevs(struct crdma_device_list *list)
{
        for (size_t i = 0; i < list->n; i++)
                if (list->devs[i].n_chardevs > 1)
                        qsort(list->devs[i].chardevs, list->devs[i].n_chardevs,
                              sizeof(struct crdma_chardev), chardev_cmp);
}

/* names NULL: every device (the full scan); `elsewhere`: see
 * crdma_devices_scan_exclusive(). */
static int devices_scan(struct crdma_context *ctx, const struct crdma_strv *names, bool elsewhere,
                        struct crdma_device_list **out, struct crdma_error **err)
{
        int sysfd = crdma_context_root_fd(ctx, CRDMA_ROOT_SYSFS, err);
        if (sysfd < 0)
                return sysfd;

        _cleanup_(crdma_device_list_freep) struct crdma_device_list *list = calloc(1, sizeof(*list));
        if (!list)
                return crdma_fail_oom(err);

        /* Helpers test "*s->err" to tell a fatal error from a missing
         * optional file, so they always get an error slot of their own. */
        struct crdma_error *local = NULL;
        struct scan s = { ctx, crdma_context_root_path(ctx, CRDMA_ROOT_SYSFS), list, &local,
                          names != NULL, elsewhere };

        int r;
        if (names) {
                r = scan_named_devices(&s, sysfd, names);
                if (r >= 0)
                        r = scan_chardevs_targeted(&s, sysfd, "infiniband_verbs");
                if (r >= 0)
                        r = scan_chardevs_targeted(&s, sysfd, "infiniband_mad");
        } else {
                r = scan_class_infiniband(&s, sysfd);
                if (r >= 0)
                        r = scan_chardev_class(&s, sysfd, "infiniband_verbs");
                if (r >= 0)
                        r = scan_chardev_class(&s, sysfd, "infiniband_mad");
        }
        if (r >= 0)
                r = scan_rdma_cm(&s, sysfd);
        if (r < 0) {
                if (err && !*err)
                        *err = local;
                else
                        crdma_error_free(local);
                return r;
        }
        sort_chardevs(list);
        add_netlink_facts(ctx, list);
        *out = TAKE_PTR(list);
        return 0;
}

int crdma_devices_scan(struct crdma_context *ctx, struct crdma_device_list **out,
                       struct crdma_error **err)
{
        return devices_scan(ctx, NULL, false, out, err);
}

int crdma_devices_scan_for(struct crdma_context *ctx, const struct crdma_request *req,
                           struct crdma_device_list **out, struct crdma_error **err)
{
        if (!req)
                return crdma_fail(err, EINVAL, "crdma_devices_scan_for: NULL request");
        return devices_scan(ctx, req->all_devices ? NULL : &req->devices, false, out, err);
}

int crdma_devices_scan_exclusive(struct crdma_context *ctx, const struct crdma_request *req,
                                 struct crdma_device_list **out, struct crdma_error **err)
{
        if (!req)
                return crdma_fail(err, EINVAL, "crdma_devices_scan_exclusive: NULL request");
        return devices_scan(ctx, req->all_devices ? NULL : &req->devices, !req->all_devices, out,
                            err);
}

/* ----------------------------------------------------------- accessors */

size_t crdma_device_list_count(const struct crdma_device_list *list)
{
        return list ? list->n : 0;
}

const struct crdma_device *crdma_device_list_get(const struct crdma_device_list *list, size_t i)
{
        return list && i < list->n ? &list->devs[i] : NULL;
}

const struct crdma_device *crdma_device_list_find(const struct crdma_device_list *list,
                                                  const char *name)
{
        return list && name ? find_device((struct crdma_device_list *) list, name) : NULL;
}

int crdma_device_list_rdma_cm(const struct crdma_device_list *list, unsigned *major,
                              unsigned *minor)
{
        if (!list || !list->has_rdma_cm)
                return -ENOENT;
        if (major)
                *major = list->rdma_cm_major;
        if (minor)
                *minor = list->rdma_cm_minor;
        return 0;
}

int crdma_device_list_netns_mode(const struct crdma_device_list *list, enum crdma_netns *mode)
{
        if (!list || !list->netns_known)
                return -ENODATA;
        *mode = list->netns_mode;
        return 0;
}

const struct crdma_chardev *crdma_device_uverbs(const struct crdma_device *dev)
{
        for (size_t i = 0; i < dev->n_chardevs; i++)
                if (dev->chardevs[i].kind == CRDMA_CHARDEV_UVERBS)
                        return &dev->chardevs[i];
        return NULL;
}

const char *crdma_device_name(const struct crdma_device *dev) { return dev->name; }
int crdma_device_index(const struct crdma_device *dev) { return dev->index; }
int crdma_device_node_type(const struct crdma_device *dev) { return dev->node_type; }
const char *crdma_device_node_type_name(const struct crdma_device *dev) { return dev->node_type_name; }
const char *crdma_device_node_guid(const struct crdma_device *dev) { return dev->node_guid; }
const char *crdma_device_driver(const struct crdma_device *dev) { return dev->driver; }
const char *crdma_device_pci_address(const struct crdma_device *dev) { return dev->pci_address; }
bool crdma_device_is_vf(const struct crdma_device *dev) { return dev->is_vf; }
const char *crdma_device_pf_pci_address(const struct crdma_device *dev) { return dev->pf_pci_address; }
const char *crdma_device_parent_netdev(const struct crdma_device *dev) { return dev->parent_netdev; }
unsigned crdma_device_port_count(const struct crdma_device *dev) { return dev->n_ports; }

unsigned crdma_device_port_number(const struct crdma_device *dev, unsigned i)
{
        return i < dev->n_ports ? dev->ports[i].number : 0;
}

const char *crdma_device_port_link_layer(const struct crdma_device *dev, unsigned i)
{
        return i < dev->n_ports ? dev->ports[i].link_layer : NULL;
}

const char *crdma_device_port_state(const struct crdma_device *dev, unsigned i)
{
        return i < dev->n_ports ? dev->ports[i].state : NULL;
}

const char *crdma_device_port_netdev(const struct crdma_device *dev, unsigned i)
{
        return i < dev->n_ports ? dev->ports[i].netdev : NULL;
}

unsigned crdma_device_port_gid_count(const struct crdma_device *dev, unsigned i)
{
        return i < dev->n_ports ? dev->ports[i].gid_count : 0;
}

size_t crdma_device_chardev_count(const struct crdma_device *dev) { return dev->n_chardevs; }

int crdma_device_chardev(const struct crdma_device *dev, size_t i, enum crdma_chardev_kind *kind,
                         const char **name, unsigned *major, unsigned *minor, unsigned *port)
{
        if (i >= dev->n_chardevs)
                return -ERANGE;
        const struct crdma_chardev *c = &dev->chardevs[i];
        if (kind)
                *kind = c->kind;
        if (name)
                *name = c->name;
        if (major)
                *major = c->major;
        if (minor)
                *minor = c->minor;
        if (port)
                *port = c->port;
        return 0;
}

bool crdma_device_in_other_netns(struct crdma_context *ctx, const char *name)
{
        int sysfd = crdma_context_root_fd(ctx, CRDMA_ROOT_SYSFS, NULL);
        if (sysfd < 0)
                return false;
        struct crdma_strv nodes = { 0 };
        if (crdma_dir_list(sysfd, "class/infiniband_verbs", &nodes) < 0)
                return false;
        bool found = false;
        for (size_t i = 0; !found && i < nodes.n; i++) {
                char path[PATH_MAX];
                _cleanup_free_ char *ibdev = NULL;
                snprintf(path, sizeof(path), "class/infiniband_verbs/%s/ibdev", nodes.v[i]);
                found = crdma_read_text_at(sysfd, path, CRDMA_TEXT_MAX, &ibdev) >= 0 &&
                        strcmp(ibdev, name) == 0;
        }
        crdma_strv_clear(&nodes);
        return found;
}

bool crdma_device_in_this_netns(struct crdma_context *ctx, const char *name)
{
        int sysfd = crdma_context_root_fd(ctx, CRDMA_ROOT_SYSFS, NULL);
        if (sysfd < 0 || !crdma_device_name_valid(name))
                return false;
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "class/infiniband/%s", name);
        /* The class entry is a link into the device's sysfs directory. */
        return faccessat(sysfd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}
