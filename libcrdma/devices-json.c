/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The device list as JSON: what `crdma-hook devices --json` prints. */
#include <errno.h>
#include <stdio.h>

#include "devices.h"
#include "error.h"
#include "json.h"

static const char *const chardev_kind_name[] = {
        [CRDMA_CHARDEV_UVERBS] = "uverbs",
        [CRDMA_CHARDEV_UMAD] = "umad",
        [CRDMA_CHARDEV_ISSM] = "issm",
};

static void devnum(yajl_gen g, unsigned major, unsigned minor)
{
        char buf[32];
        snprintf(buf, sizeof(buf), "%u:%u", major, minor);
        crdma_json_kv_str(g, "dev", buf);
}

static void gen_device(yajl_gen g, const struct crdma_device *d)
{
        yajl_gen_map_open(g);
        crdma_json_kv_str(g, "name", d->name);
        crdma_json_key(g, "index");
        if (d->index >= 0)
                yajl_gen_integer(g, d->index);
        else
                yajl_gen_null(g);
        crdma_json_kv_str(g, "nodeType", d->node_type_name);
        crdma_json_kv_str(g, "nodeGuid", d->node_guid);
        crdma_json_kv_str(g, "driver", d->driver);
        crdma_json_kv_str(g, "pciAddress", d->pci_address);
        crdma_json_kv_bool(g, "sriovVf", d->is_vf);
        crdma_json_kv_str(g, "pfPciAddress", d->pf_pci_address);
        crdma_json_kv_str(g, "parentNetdev", d->parent_netdev);

        crdma_json_key(g, "ports");
        yajl_gen_array_open(g);
        for (unsigned i = 0; i < d->n_ports; i++) {
                const struct crdma_port *p = &d->ports[i];
                yajl_gen_map_open(g);
                crdma_json_kv_int(g, "port", p->number);
                crdma_json_kv_str(g, "linkLayer", p->link_layer);
                crdma_json_kv_str(g, "state", p->state);
                crdma_json_kv_str(g, "netdev", p->netdev);
                crdma_json_kv_int(g, "gids", p->gid_count);
                yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);

        crdma_json_key(g, "charDevices");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < d->n_chardevs; i++) {
                const struct crdma_chardev *c = &d->chardevs[i];
                char path[64];
                snprintf(path, sizeof(path), "/dev/infiniband/%s", c->name);
                yajl_gen_map_open(g);
                crdma_json_kv_str(g, "kind", chardev_kind_name[c->kind]);
                crdma_json_kv_str(g, "path", path);
                devnum(g, c->major, c->minor);
                if (c->kind != CRDMA_CHARDEV_UVERBS)
                        crdma_json_kv_int(g, "port", c->port);
                yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
}

int crdma_device_list_to_json(const struct crdma_device_list *list, bool pretty, char **json,
                              struct crdma_error **err)
{
        _cleanup_json_ yajl_gen g = crdma_json_new(pretty);
        if (!g)
                return crdma_fail_oom(err);
        yajl_gen_map_open(g);
        crdma_json_key(g, "devices");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < list->n; i++)
                gen_device(g, &list->devs[i]);
        yajl_gen_array_close(g);

        crdma_json_key(g, "rdmaCm");
        if (list->has_rdma_cm) {
                yajl_gen_map_open(g);
                crdma_json_kv_str(g, "path", "/dev/infiniband/rdma_cm");
                devnum(g, list->rdma_cm_major, list->rdma_cm_minor);
                yajl_gen_map_close(g);
        } else {
                yajl_gen_null(g);
        }
        crdma_json_kv_str(g, "netnsMode",
                          list->netns_known ? (list->netns_mode == CRDMA_NETNS_SHARED ? "shared" : "exclusive") : NULL);
        yajl_gen_map_close(g);
        return crdma_json_finish(g, json, err);
}
