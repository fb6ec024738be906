/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crdma-hook devices [--json] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *or_dash(const char *s)
{
        return s && s[0] ? s : "-";
}

/* "uverbs0 231:192, umad0 231:0" */
static void chardevs(const struct crdma_device *d, char *buf, size_t len)
{
        size_t o = 0;
        buf[0] = '\0';
        for (size_t i = 0; i < crdma_device_chardev_count(d) && o < len; i++) {
                const char *name;
                unsigned maj, min;
                crdma_device_chardev(d, i, NULL, &name, &maj, &min, NULL);
                int n = snprintf(buf + o, len - o, "%s%s %u:%u", i ? ", " : "", name, maj, min);
                if (n < 0)
                        break;
                o += (size_t) n;
        }
        if (!buf[0])
                snprintf(buf, len, "-");
}

static void print_rows(const struct crdma_device_list *list);

static void print_table(const struct crdma_device_list *list)
{
        if (crdma_device_list_count(list) == 0) {
                printf("no RDMA devices\n");
        } else {
                print_rows(list);
        }
        unsigned maj, min;
        if (crdma_device_list_rdma_cm(list, &maj, &min) == 0)
                printf("rdma_cm: /dev/infiniband/rdma_cm %u:%u\n", maj, min);
        else
                printf("rdma_cm: none (load rdma_ucm for the RDMA connection manager)\n");
}

static void print_rows(const struct crdma_device_list *list)
{
#define ROW "%-10s %-5s %-6s %-10s %-13s %-13s %-4s %-10s %-7s %-10s %s\n"
        printf(ROW, "DEVICE", "INDEX", "TYPE", "DRIVER", "PCI", "VF-OF", "PORT", "LINK", "STATE",
               "NETDEV", "CHAR DEVICES");
        for (size_t i = 0; i < crdma_device_list_count(list); i++) {
                const struct crdma_device *d = crdma_device_list_get(list, i);
                char index[16], cdevs[512];
                snprintf(index, sizeof(index), "%d", crdma_device_index(d));
                chardevs(d, cdevs, sizeof(cdevs));
                const char *driver = crdma_device_driver(d);
                if (!driver && crdma_device_parent_netdev(d))
                        driver = "(software)";
                unsigned ports = crdma_device_port_count(d);
                for (unsigned p = 0; p < (ports ? ports : 1); p++) {
                        char port[8] = "-";
                        if (ports)
                                snprintf(port, sizeof(port), "%u", crdma_device_port_number(d, p));
                        bool first = p == 0;
                        printf(ROW, first ? crdma_device_name(d) : "",
                               first ? (crdma_device_index(d) >= 0 ? index : "-") : "",
                               first ? or_dash(crdma_device_node_type_name(d)) : "",
                               first ? or_dash(driver) : "",
                               first ? or_dash(crdma_device_pci_address(d)) : "",
                               first ? or_dash(crdma_device_pf_pci_address(d)) : "", port,
                               or_dash(ports ? crdma_device_port_link_layer(d, p) : NULL),
                               or_dash(ports ? crdma_device_port_state(d, p) : NULL),
                               or_dash(ports ? crdma_device_port_netdev(d, p) : NULL),
                               first ? cdevs : "");
                }
        }
}

static const char *netns_mode(const struct crdma_device_list *list)
{
        enum crdma_netns mode;
        if (crdma_device_list_netns_mode(list, &mode) < 0)
                return "unknown (no RDMA netlink, or a fake --sysfs-root)";
        return mode == CRDMA_NETNS_SHARED ? "shared" : "exclusive";
}

int cli_devices(struct cli *cli)
{
        if (cli->n_args > 0)
                return cli_usage_error("devices: unexpected argument \"%s\"", cli->args[0]);
        struct crdma_error *err = NULL;
        struct crdma_device_list *list = NULL;
        if (crdma_devices_scan(cli->ctx, &list, &err) < 0)
                return cli_fail(err);
        if (cli->json) {
                char *json = NULL;
                if (crdma_device_list_to_json(list, true, &json, &err) < 0) {
                        crdma_device_list_free(list);
                        return cli_fail(err);
                }
                cli_print_json(json);
                free(json);
        } else {
                print_table(list);
                printf("netns mode: %s\n", netns_mode(list));
        }
        crdma_device_list_free(list);
        return CLI_EXIT_OK;
}
