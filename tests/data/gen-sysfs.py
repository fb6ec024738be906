#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write fake sysfs trees for crdma's unit tests and README demo.

The trees copy the layout and the file formats of Linux 6.1 (see
tests/data/sysfs/README.md for every fact and the kernel function it comes
from): real relative symlinks, real directory nesting, attribute text exactly
as the kernel prints it (including the trailing newline).

  gen-sysfs.py --out DIR --preset NAME        one preset (DIR must be new/empty)
  gen-sysfs.py --out DIR --preset all         every preset, as DIR/<name>/
  gen-sysfs.py --out DIR --mlx5 N [--vfs-per-pf K] [--ib I] [--rxe M]
  gen-sysfs.py --out DIR --many N             N mlx5 RoCE PFs, for scale tests
  gen-sysfs.py --list                         preset names
  gen-sysfs.py --summary --preset NAME        what a preset holds (no files)

Emulation rules (kept in every tree):
  * an attribute whose read() fails on a real kernel (EINVAL for an empty GID
    slot's gid_attrs/ndevs/N and gid_attrs/types/N) is ABSENT here;
  * git stores no empty directory, so none is generated: a directory that is
    empty on a real kernel (gid_attrs/ndevs on an InfiniBand port, gids/ on a
    port with a zero-length GID table) is absent.  The one exception is
    class/infiniband of the `empty` preset, which holds a zero-byte `.keep`
    regular file; sysfs class directories hold only symlinks (devices) and
    regular files (class attributes such as infiniband_verbs/abi_version), so
    a scanner that takes only the symlinks as devices ignores it;
  * GID tables are shortened (default 16 entries a port, 8 in the committed
    presets; a real mlx5 RoCE port has its firmware's roce_address_table_size
    entries, rxe has 1024).  Use --gids to change it.
  * no device nodes (/dev) are made: sysfs only.

Python 3 standard library only.  Output is deterministic (check-trees.sh
relies on it).
"""

import argparse
import ipaddress
import os
import sys

# ---------------------------------------------------------------- constants
# drivers/infiniband/core/uverbs_main.c: IB_UVERBS_MAJOR, IB_UVERBS_BASE_MINOR,
# IB_UVERBS_NUM_FIXED_MINOR; beyond the fixed minors a dynamic major is used.
UVERBS_MAJOR = 231
UVERBS_BASE_MINOR = 192
UVERBS_NUM_FIXED_MINOR = 32
# drivers/infiniband/core/user_mad.c: IB_UMAD_MAJOR, IB_UMAD_NUM_FIXED_MINOR,
# IB_ISSM_MINOR_BASE; RDMA_MAX_PORTS (core_priv.h) = 8192.
UMAD_MAJOR = 231
UMAD_NUM_FIXED_MINOR = 64
RDMA_MAX_PORTS = 8192
UMAD_NUM_DYNAMIC_MINOR = RDMA_MAX_PORTS - UMAD_NUM_FIXED_MINOR
# Dynamic majors come from alloc_chrdev_region() at module load and differ
# from host to host; these two values are examples (from the 511..384 range
# the kernel falls back to when 254..234 are taken).
UVERBS_DYN_MAJOR = 511
UMAD_DYN_MAJOR = 510
# ucma.c registers rdma_cm as a misc device with MISC_DYNAMIC_MINOR: 124 is
# an example (a common value), not a constant.
MISC_MAJOR = 10
RDMA_CM_MINOR = 124

IB_USER_VERBS_ABI_VERSION = 6     # class attribute infiniband_verbs/abi_version
IB_USER_MAD_ABI_VERSION = 5       # class attribute infiniband_mad/abi_version
RDMA_USER_CM_ABI_VERSION = 4      # misc/rdma_cm/abi_version
MLX5_IB_UVERBS_ABI_VERSION = 1    # uverbsN/abi_version of an mlx5 device
RXE_UVERBS_ABI_VERSION = 2        # uverbsN/abi_version of an rxe device

PORT_STATE = {0: "NOP", 1: "DOWN", 2: "INIT", 3: "ARMED", 4: "ACTIVE",
              5: "ACTIVE_DEFER"}
PHYS_STATE = {1: "Sleep", 2: "Polling", 3: "Disabled",
              4: "PortConfigurationTraining", 5: "LinkUp",
              6: "LinkErrorRecovery", 7: "Phy Test"}
GID_TYPE_V1 = "IB/RoCE v1"     # ib_cache_gid_type_str(IB_GID_TYPE_IB/ROCE)
GID_TYPE_V2 = "RoCE v2"        # ib_cache_gid_type_str(IB_GID_TYPE_ROCE_UDP_ENCAP)

IB_PORT_CM_SUP = 1 << 16
MLX5_IB_CAP_MASK = 0x2659e848   # a ConnectX-5/6 IB port as ibstat shows it

MELLANOX = 0x15b3
# device id -> (model, PCI class, board_id, fw_ver)
MLX5_MODELS = {
    0x1015: ("ConnectX-4 Lx", 0x020000, "MT_2420110034", "14.32.1010"),
    0x1016: ("ConnectX-4 Lx VF", 0x020000, "MT_2420110034", "14.32.1010"),
    0x1017: ("ConnectX-5", 0x020000, "MT_0000000008", "16.35.2000"),
    0x1018: ("ConnectX-5 VF", 0x020000, "MT_0000000008", "16.35.2000"),
    0x101b: ("ConnectX-6", 0x020700, "MT_0000000222", "20.36.1010"),
    0x101c: ("ConnectX-6 VF", 0x020700, "MT_0000000222", "20.36.1010"),
}
VF_DEVICE = {0x1015: 0x1016, 0x1017: 0x1018, 0x101b: 0x101c}


# ---------------------------------------------------------------- helpers
def guid_str(b):
    """node_guid/sys_image_guid format: sysfs.c node_guid_show()."""
    assert len(b) == 8
    return ":".join("%02x%02x" % (b[i], b[i + 1]) for i in range(0, 8, 2))


def gid_str(b):
    """GID format: "%pI6" (8 groups of 4 hex digits, never compressed)."""
    assert len(b) == 16
    return ":".join("%02x%02x" % (b[i], b[i + 1]) for i in range(0, 16, 2))


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def eui48_to_eui64(mac):
    """addrconf_addr_eui48(): flip the U/L bit, insert ff:fe (rxe GUIDs)."""
    m = mac_bytes(mac)
    return bytes([m[0] ^ 2, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]])


def mlx_guid(mac):
    """Mellanox-style node GUID from the base MAC: OUI, 03:00, NIC part."""
    m = mac_bytes(mac)
    return bytes([m[0], m[1], m[2], 0x03, 0x00, m[3], m[4], m[5]])


def link_local_gid(iid):
    return bytes([0xfe, 0x80] + [0] * 6) + iid


def ipv4_gid(ip):
    return bytes([0] * 10 + [0xff, 0xff]) + ipaddress.IPv4Address(ip).packed


ZERO_GID = bytes(16)


def rate_str(speed, width):
    """sysfs.c rate_show(): speed name -> deci-Gb/s per lane."""
    per_lane = {"SDR": 25, "DDR": 50, "QDR": 100, "FDR10": 100, "FDR": 140,
                "EDR": 250, "HDR": 500, "NDR": 1000}[speed]
    rate = per_lane * width
    return "%d%s Gb/sec (%dX %s)" % (rate // 10, ".5" if rate % 10 else "",
                                     width, speed)


# ---------------------------------------------------------------- model
class Net:
    def __init__(self, name, ifindex, mac, path, kind="ether", ipv4=None,
                 operstate="up", dev_port=0, pci=None, peer=None):
        self.name, self.ifindex, self.mac = name, ifindex, mac
        self.path, self.kind, self.ipv4 = path, kind, ipv4
        self.operstate, self.dev_port, self.pci = operstate, dev_port, pci
        self.peer = peer


class Port:
    def __init__(self, num, link_layer, state, phys_state, rate, cap_mask,
                 lid=0, sm_lid=0, gid_tbl_len=0, gids=(), pkeys=(0xffff,),
                 mad=True, netdev=None):
        self.num, self.link_layer = num, link_layer
        self.state, self.phys_state, self.rate = state, phys_state, rate
        self.cap_mask, self.lid, self.sm_lid = cap_mask, lid, sm_lid
        self.lmc, self.sm_sl = 0, 0
        self.gid_tbl_len = gid_tbl_len
        # populated entries: list of (gid bytes, type string, ndev name|None)
        self.gids = list(gids)
        self.pkeys = list(pkeys)
        self.mad = mad          # rdma_cap_ib_mad(): gets umadN/issmN
        self.netdev = netdev


class Pci:
    def __init__(self, addr, bridge, device, numa=0, pf=None):
        self.addr, self.bridge, self.device = addr, bridge, device
        self.numa, self.pf = numa, pf
        self.vfs = []
        self.totalvfs = 0
        model = MLX5_MODELS[device]
        self.klass = model[1]
        self.subsys_device = 0x0008 if device != 0x1015 else 0x0016

    @property
    def path(self):
        return "devices/%s/%s" % (self.bridge, self.addr)


class IbDev:
    def __init__(self, name, kind, node_guid, sys_image_guid, fw_ver,
                 node_desc, ports, pci=None, attrs=None, uverbs_abi=1):
        self.name, self.kind = name, kind
        self.node_guid, self.sys_image_guid = node_guid, sys_image_guid
        self.fw_ver, self.node_desc = fw_ver, node_desc
        self.ports, self.pci = ports, pci
        self.attrs = attrs or {}     # driver attributes (mlx5, rxe)
        self.uverbs_abi = uverbs_abi

    @property
    def path(self):
        if self.pci:
            return "%s/infiniband/%s" % (self.pci.path, self.name)
        return "devices/virtual/infiniband/%s" % self.name


class System:
    def __init__(self, gids=16):
        self.gids = gids            # GID table length used for every port
        self.nets, self.pcis, self.devs = [], [], []
        self.rdma = True            # ib_core loaded: class/infiniband exists
        self.uverbs = True          # ib_uverbs loaded
        self.umad = True            # ib_umad loaded
        self.ucm = True             # rdma_ucm loaded
        self.lean = False           # --lean: skip attributes no scanner needs
        self.next_ifindex = 1
        self.add_net("lo", "00:00:00:00:00:00", kind="loopback",
                     operstate="unknown")

    # -- netdevs
    def add_net(self, name, mac, kind="ether", ipv4=None, operstate="up",
                pci=None, dev_port=0):
        path = ("%s/net/%s" % (pci.path, name) if pci
                else "devices/virtual/net/%s" % name)
        n = Net(name, self.next_ifindex, mac, path, kind, ipv4, operstate,
                dev_port, pci)
        self.next_ifindex += 1
        self.nets.append(n)
        return n

    def add_veth_pair(self, a, b, mac_a, mac_b, ip_a=None, ip_b=None):
        na = self.add_net(a, mac_a, "veth", ip_a)
        nb = self.add_net(b, mac_b, "veth", ip_b)
        na.peer, nb.peer = nb, na
        return na, nb

    # -- RoCE GID table as roce_gid_mgmt.c fills it: the default (link-local,
    # from the MAC) GID first, then one entry per IP address, one per GID
    # type the port supports (mlx5: RoCE v1 and v2; rxe: RoCE v2 only).
    def roce_gids(self, net, types):
        iid = eui48_to_eui64(net.mac)
        out = [(link_local_gid(iid), t, net.name) for t in types]
        if net.ipv4:
            out += [(ipv4_gid(net.ipv4), t, net.name) for t in types]
        return out[: self.gids]

    # -- mlx5
    def add_mlx5_pf(self, name, addr, bridge, device, link_layer, mac,
                    netdev, ipv4=None, numa=0, up=True, roce=True,
                    node_desc=None, lid=0, sm_lid=0, speed=("EDR", 4)):
        pci = Pci(addr, bridge, device, numa)
        self.pcis.append(pci)
        guid = mlx_guid(mac)
        return self._mlx5(name, pci, guid, guid, link_layer, mac, netdev,
                          ipv4, up, roce, node_desc, lid, sm_lid, speed)

    def add_mlx5_vf(self, name, pf_dev, index, mac, netdev, ipv4=None,
                    up=True, node_guid=bytes(8)):
        pf = pf_dev.pci
        bus, devfn = pf.addr.rsplit(":", 1)
        slot, fn = devfn.split(".")
        rid = (int(slot, 16) << 3 | int(fn)) + 1 + index   # offset 1, stride 1
        addr = "%s:%02x.%d" % (bus, rid >> 3, rid & 7)
        pci = Pci(addr, pf.bridge, VF_DEVICE[pf.device], pf.numa, pf=pf)
        pf.vfs.append(pci)
        self.pcis.append(pci)
        ll = pf_dev.ports[0].link_layer
        return self._mlx5(name, pci, node_guid, pf_dev.sys_image_guid, ll,
                          mac, netdev, ipv4, up, True, None,
                          0, 0, pf_dev.speed)

    def _mlx5(self, name, pci, guid, sysguid, link_layer, mac, netdev, ipv4,
              up, roce, node_desc, lid, sm_lid, speed):
        model, _, board, fw = MLX5_MODELS[pci.device]
        if link_layer == "InfiniBand":
            # IPoIB: 20-byte hardware address = 4 bytes (flags, QPN) + GID.
            port_gid = link_local_gid(guid)
            hw = bytes([0x00, 0x00, 0x10, 0x49]) + port_gid
            ipaddr = ":".join("%02x" % x for x in hw)
            net = self.add_net(netdev, ipaddr, "infiniband", ipv4,
                               "up" if up else "down", pci, dev_port=0)
            gids = [(port_gid, GID_TYPE_V1, None)]
            port = Port(1, "InfiniBand", 4 if up else 1, 5 if up else 2,
                        rate_str(*speed), MLX5_IB_CAP_MASK, lid=lid,
                        sm_lid=sm_lid, gid_tbl_len=self.gids, gids=gids,
                        pkeys=[0xffff] + [0] * (min(self.gids, 8) - 1),
                        netdev=net)
        else:
            net = self.add_net(netdev, mac, "ether", ipv4,
                               "up" if up else "down", pci, dev_port=0)
            if roce:
                gids = self.roce_gids(net, (GID_TYPE_V1, GID_TYPE_V2))
                port = Port(1, "Ethernet", 4 if up else 1, 5 if up else 3,
                            rate_str(*speed) if up else rate_str("QDR", 4),
                            IB_PORT_CM_SUP, gid_tbl_len=self.gids, gids=gids,
                            netdev=net)
            else:
                # RoCE disabled (devlink enable_roce false): raw Ethernet
                # profile, core_cap_flags RAW_PACKET only -> no MAD -> no
                # umad/issm; gid_tbl_len 0; no IB_PORT_CM_SUP.
                port = Port(1, "Ethernet", 4 if up else 1, 5 if up else 3,
                            rate_str(*speed) if up else rate_str("QDR", 4),
                            0, gid_tbl_len=0, gids=(), mad=False, netdev=net)
        attrs = {"hw_rev": "0", "hca_type": "MT%d" % pci.device,
                 "board_id": board, "fw_pages": "%d" % (65536 + 4096 * len(self.devs)),
                 "reg_pages": "0"}
        d = IbDev(name, "mlx5", guid, sysguid, fw,
                  node_desc or "%s %s" % ("node1", name), [port], pci, attrs,
                  MLX5_IB_UVERBS_ABI_VERSION)
        d.speed = speed
        d.model = model
        self.devs.append(d)
        return d

    # -- rxe (soft RoCE): rxe_register_device() / rxe_init_port_param()
    def add_rxe(self, name, net):
        guid = eui48_to_eui64(net.mac)
        port = Port(1, "Ethernet", 4 if net.operstate == "up" else 1,
                    5 if net.operstate == "up" else 3,
                    # ib_get_eth_speed(): veth reports SPEED_10000 -> 1X FDR10
                    rate_str("FDR10", 1), IB_PORT_CM_SUP,
                    gid_tbl_len=self.gids,
                    gids=self.roce_gids(net, (GID_TYPE_V2,)), netdev=net)
        d = IbDev(name, "rxe", guid, guid, "", "rxe", [port], None,
                  {"parent": net.name}, RXE_UVERBS_ABI_VERSION)
        self.devs.append(d)
        return d


# ---------------------------------------------------------------- tree
def kernfs_target(link, target):
    """The relative target sysfs writes for a symlink (kernfs_get_target_path:
    climb from the link's directory to the closest directory that is an
    ancestor of the target's PARENT, then descend), so a link to an ancestor
    still names it: umad0/device -> ../../../0000:03:00.0, not ../.."""
    up = os.path.relpath(os.path.dirname(target), os.path.dirname(link))
    name = os.path.basename(target)
    return name if up == "." else up + "/" + name


class Tree:
    """In-memory tree: relpath -> ('f', text) | ('l', target relpath)."""

    def __init__(self):
        self.e = {}

    def file(self, path, text):
        self.e[path] = ("f", text)

    def attr(self, path, value):
        self.e[path] = ("f", "%s\n" % value)

    def link(self, path, target):
        self.e[path] = ("l", target)

    def drop(self, prefix):
        for k in [k for k in self.e if k == prefix or k.startswith(prefix + "/")]:
            del self.e[k]

    def write(self, out):
        made = set()
        for path in sorted(self.e):
            kind, val = self.e[path]
            full = os.path.join(out, path)
            parent = os.path.dirname(full)
            if parent not in made:
                os.makedirs(parent, exist_ok=True)
                made.add(parent)
            if kind == "f":
                fd = os.open(full, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                try:
                    os.write(fd, val.encode())
                finally:
                    os.close(fd)
            else:
                os.symlink(kernfs_target(path, val), full)


def char_devs(sysm):
    """Assign uverbs/umad numbers in registration order, as the ida does."""
    out = []
    uv = 0
    um = 0
    for d in sysm.devs:
        base = d.pci.path if d.pci else "devices/virtual"
        ent = {"dev": d, "uverbs": None, "umad": []}
        if sysm.uverbs:
            if uv < UVERBS_NUM_FIXED_MINOR:
                mm = (UVERBS_MAJOR, UVERBS_BASE_MINOR + uv)
            else:
                mm = (UVERBS_DYN_MAJOR, uv - UVERBS_NUM_FIXED_MINOR)
            ent["uverbs"] = (uv, mm, "%s/infiniband_verbs/uverbs%d" % (base, uv))
            uv += 1
        if sysm.umad:
            for p in d.ports:
                if not p.mad:
                    continue
                if um < UMAD_NUM_FIXED_MINOR:
                    umm = (UMAD_MAJOR, um)
                    ism = (UMAD_MAJOR, UMAD_NUM_FIXED_MINOR + um)
                else:
                    umm = (UMAD_DYN_MAJOR, um - UMAD_NUM_FIXED_MINOR)
                    ism = (UMAD_DYN_MAJOR,
                           UMAD_NUM_DYNAMIC_MINOR + um - UMAD_NUM_FIXED_MINOR)
                ent["umad"].append((um, p.num, umm, ism,
                                    "%s/infiniband_mad/umad%d" % (base, um),
                                    "%s/infiniband_mad/issm%d" % (base, um)))
                um += 1
        out.append(ent)
    return out


def emit(sysm):
    t = Tree()
    full = not sysm.lean
    # ---- PCI functions
    for p in sysm.pcis:
        P = p.path
        t.attr(P + "/vendor", "0x%04x" % MELLANOX)
        t.attr(P + "/device", "0x%04x" % p.device)
        t.attr(P + "/numa_node", p.numa)
        t.link(P + "/driver", "bus/pci/drivers/mlx5_core")
        t.link("bus/pci/drivers/mlx5_core/" + p.addr, P)
        if full:
            t.attr(P + "/subsystem_vendor", "0x%04x" % MELLANOX)
            t.attr(P + "/subsystem_device", "0x%04x" % p.subsys_device)
            t.attr(P + "/class", "0x%06x" % p.klass)
            t.attr(P + "/revision", "0x00")
            t.file(P + "/uevent",
                   "DRIVER=mlx5_core\nPCI_CLASS=%X\nPCI_ID=%04X:%04X\n"
                   "PCI_SUBSYS_ID=%04X:%04X\nPCI_SLOT_NAME=%s\n"
                   "MODALIAS=pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X\n"
                   % (p.klass, MELLANOX, p.device, MELLANOX, p.subsys_device,
                      p.addr, MELLANOX, p.device, MELLANOX, p.subsys_device,
                      p.klass >> 16, (p.klass >> 8) & 0xff, p.klass & 0xff))
            t.link(P + "/subsystem", "bus/pci")
            t.link("bus/pci/devices/" + p.addr, P)
        if p.pf is None and p.totalvfs:
            t.attr(P + "/sriov_totalvfs", p.totalvfs)
            t.attr(P + "/sriov_numvfs", len(p.vfs))
            t.attr(P + "/sriov_offset", 1)
            t.attr(P + "/sriov_stride", 1)
            t.attr(P + "/sriov_vf_device", "%x" % VF_DEVICE[p.device])
            t.attr(P + "/sriov_drivers_autoprobe", 1)
            for i, vf in enumerate(p.vfs):
                t.link("%s/virtfn%d" % (P, i), vf.path)
        if p.pf is not None:
            t.link(P + "/physfn", p.pf.path)
    # ---- netdevs
    for n in sysm.nets:
        N = n.path
        if n.kind == "infiniband":
            ntype, alen = 32, 20          # ARPHRD_INFINIBAND, INFINIBAND_ALEN
        elif n.kind == "loopback":
            ntype, alen = 772, 6          # ARPHRD_LOOPBACK
        else:
            ntype, alen = 1, 6            # ARPHRD_ETHER
        t.attr(N + "/address", n.mac)
        t.attr(N + "/type", ntype)
        t.attr(N + "/ifindex", n.ifindex)
        t.attr(N + "/dev_id", "0x0")
        t.attr(N + "/dev_port", n.dev_port)
        t.attr(N + "/operstate", n.operstate)
        if full:
            t.attr(N + "/addr_len", alen)
            t.attr(N + "/iflink", n.peer.ifindex if n.peer else n.ifindex)
            t.attr(N + "/mtu", {"infiniband": 2044,
                                "loopback": 65536}.get(n.kind, 1500))
            t.file(N + "/uevent", "INTERFACE=%s\nIFINDEX=%d\n"
                   % (n.name, n.ifindex))
            t.link(N + "/subsystem", "class/net")
        if n.pci:
            t.link(N + "/device", n.pci.path)
        t.link("class/net/" + n.name, N)
    # ---- RDMA devices
    if sysm.rdma:
        if not sysm.devs:
            t.file("class/infiniband/.keep", "")
        for d in sysm.devs:
            D = d.path
            t.attr(D + "/node_type", "1: CA")
            t.attr(D + "/node_guid", guid_str(d.node_guid))
            t.attr(D + "/sys_image_guid", guid_str(d.sys_image_guid))
            t.attr(D + "/fw_ver", d.fw_ver)
            t.attr(D + "/node_desc", d.node_desc)
            if full:
                t.file(D + "/uevent", "NAME=%s\n" % d.name)
                t.link(D + "/subsystem", "class/infiniband")
            if d.pci:
                t.link(D + "/device", d.pci.path)
            for k in sorted(d.attrs):
                if full or k in ("hca_type", "board_id", "parent"):
                    t.attr(D + "/" + k, d.attrs[k])
            for p in d.ports:
                Q = "%s/ports/%d" % (D, p.num)
                t.attr(Q + "/state", "%d: %s" % (p.state, PORT_STATE[p.state]))
                t.attr(Q + "/phys_state", "%d: %s" % (p.phys_state,
                                                      PHYS_STATE[p.phys_state]))
                t.attr(Q + "/link_layer", p.link_layer)
                t.attr(Q + "/rate", p.rate)
                t.attr(Q + "/lid", "0x%x" % p.lid)
                t.attr(Q + "/sm_lid", "0x%x" % p.sm_lid)
                t.attr(Q + "/lid_mask_count", p.lmc)
                t.attr(Q + "/sm_sl", p.sm_sl)
                t.attr(Q + "/cap_mask", "0x%08x" % p.cap_mask)
                for i in range(p.gid_tbl_len):
                    g = p.gids[i] if i < len(p.gids) else None
                    t.attr("%s/gids/%d" % (Q, i), gid_str(g[0] if g else ZERO_GID))
                    if g:
                        t.attr("%s/gid_attrs/types/%d" % (Q, i), g[1])
                        if g[2]:
                            t.attr("%s/gid_attrs/ndevs/%d" % (Q, i), g[2])
                for i, k in enumerate(p.pkeys):
                    t.attr("%s/pkeys/%d" % (Q, i), "0x%04x" % k)
            t.link("class/infiniband/" + d.name, D)
    # ---- char devices
    if sysm.uverbs:
        t.attr("class/infiniband_verbs/abi_version", IB_USER_VERBS_ABI_VERSION)
    if sysm.umad:
        t.attr("class/infiniband_mad/abi_version", IB_USER_MAD_ABI_VERSION)
    for ent in char_devs(sysm):
        d = ent["dev"]
        if ent["uverbs"]:
            n, (ma, mi), U = ent["uverbs"]
            t.attr(U + "/dev", "%d:%d" % (ma, mi))
            t.attr(U + "/ibdev", d.name)
            t.attr(U + "/abi_version", d.uverbs_abi)
            if full:
                t.file(U + "/uevent", "MAJOR=%d\nMINOR=%d\n"
                       "DEVNAME=infiniband/uverbs%d\nDEVMODE=0666\n"
                       % (ma, mi, n))
                t.link(U + "/subsystem", "class/infiniband_verbs")
            if d.pci:
                t.link(U + "/device", d.pci.path)
            t.link("class/infiniband_verbs/uverbs%d" % n, U)
        for (n, port, umm, ism, U, S) in ent["umad"]:
            for name, path, (ma, mi) in (("umad%d" % n, U, umm),
                                         ("issm%d" % n, S, ism)):
                t.attr(path + "/dev", "%d:%d" % (ma, mi))
                t.attr(path + "/ibdev", d.name)
                t.attr(path + "/port", port)
                if full:
                    t.file(path + "/uevent", "MAJOR=%d\nMINOR=%d\n"
                           "DEVNAME=infiniband/%s\n" % (ma, mi, name))
                    t.link(path + "/subsystem", "class/infiniband_mad")
                if d.pci:
                    t.link(path + "/device", d.pci.path)
                t.link("class/infiniband_mad/" + name, path)
    if sysm.ucm:
        M = "devices/virtual/misc/rdma_cm"
        t.attr(M + "/dev", "%d:%d" % (MISC_MAJOR, RDMA_CM_MINOR))
        t.attr(M + "/abi_version", RDMA_USER_CM_ABI_VERSION)
        t.file(M + "/uevent", "MAJOR=%d\nMINOR=%d\nDEVNAME=infiniband/rdma_cm\n"
               "DEVMODE=0666\n" % (MISC_MAJOR, RDMA_CM_MINOR))
        t.link(M + "/subsystem", "class/misc")
        t.link("class/misc/rdma_cm", M)
    return t


# ---------------------------------------------------------------- presets
def sys_rxe(gids=8):
    s = System(gids)
    a, b = s.add_veth_pair("veth0", "veth1", "4a:1b:2c:3d:4e:01",
                           "4a:1b:2c:3d:4e:02", "10.0.0.1", "10.0.0.2")
    s.add_rxe("rxe0", a)
    s.add_rxe("rxe1", b)
    return s


def sys_mixed(gids=8):
    s = System(gids)
    s.add_mlx5_pf("mlx5_0", "0000:03:00.0", "pci0000:00/0000:00:02.0", 0x101b,
                  "InfiniBand", "b8:59:9f:d4:1a:2c", "ib0", "192.168.200.1",
                  lid=3, sm_lid=1, speed=("HDR", 4))
    pf = s.add_mlx5_pf("mlx5_1", "0000:04:00.0", "pci0000:00/0000:00:03.0",
                       0x1017, "Ethernet", "b8:59:9f:d4:2b:10", "ens1f0",
                       "192.168.100.1", speed=("EDR", 4))
    pf.pci.totalvfs = 8
    s.add_mlx5_vf("mlx5_2", pf, 0, "02:1c:42:00:00:01", "ens1f0v0")
    s.add_mlx5_vf("mlx5_3", pf, 1, "02:1c:42:00:00:02", "ens1f0v1")
    s.add_mlx5_pf("mlx5_4", "0000:81:00.0", "pci0000:80/0000:80:01.0", 0x1015,
                  "Ethernet", "24:8a:07:8a:11:20", "ens3f0", None, numa=1,
                  up=False, roce=False, speed=("EDR", 1))
    a, _ = s.add_veth_pair("veth0", "veth1", "4a:1b:2c:3d:4e:01",
                           "4a:1b:2c:3d:4e:02", "10.0.0.1", "10.0.0.2")
    s.add_rxe("rxe0", a)
    return s


def sys_empty(gids=8):
    return System(gids)          # modules loaded, no device


def sys_none(gids=8):
    s = System(gids)
    s.rdma = s.uverbs = s.umad = s.ucm = False
    return s


U0 = "devices/virtual/infiniband_verbs/uverbs0"
U1 = "devices/virtual/infiniband_verbs/uverbs1"
RXE0 = "devices/virtual/infiniband/rxe0"
RXE1 = "devices/virtual/infiniband/rxe1"


def mut_dev(t):
    t.attr(U0 + "/dev", "231-192")


def mut_ibdev(t):
    t.attr(U1 + "/ibdev", "rxe7")


def mut_node_type(t):
    t.attr(RXE0 + "/node_type", "banana")


def mut_port(t):
    src = RXE0 + "/ports/1/"
    for k, v in list(t.e.items()):
        if k.startswith(src) and "/" not in k[len(src):]:
            t.e[RXE0 + "/ports/x/" + k[len(src):]] = v


def mut_umad_port(t):
    t.attr("devices/virtual/infiniband_mad/umad1/port", 9)


def mut_dup_uverbs(t):
    U2 = "devices/virtual/infiniband_verbs/uverbs2"
    t.attr(U2 + "/dev", "231:194")
    t.attr(U2 + "/ibdev", "rxe0")
    t.attr(U2 + "/abi_version", RXE_UVERBS_ABI_VERSION)
    t.file(U2 + "/uevent", "MAJOR=231\nMINOR=194\nDEVNAME=infiniband/uverbs2\n"
           "DEVMODE=0666\n")
    t.link(U2 + "/subsystem", "class/infiniband_verbs")
    t.link("class/infiniband_verbs/uverbs2", U2)


def mut_guid(t):
    t.attr(RXE1 + "/node_guid", "48:1b:2c:ff:fe:3d:4e:02")


def mut_missing_optional(t):
    t.drop(RXE0 + "/fw_ver")
    t.drop(RXE0 + "/ports/1/rate")
    t.drop(RXE0 + "/ports/1/gid_attrs")


# name -> (builder, mutation or None, defect file (relative) or None)
PRESETS = {
    "mixed": (sys_mixed, None, None),
    "rxe": (sys_rxe, None, None),
    "broken-dev": (sys_rxe, mut_dev, U0 + "/dev"),
    "broken-ibdev": (sys_rxe, mut_ibdev, U1 + "/ibdev"),
    "broken-node-type": (sys_rxe, mut_node_type, RXE0 + "/node_type"),
    "broken-port": (sys_rxe, mut_port, RXE0 + "/ports/x"),
    "broken-umad-port": (sys_rxe, mut_umad_port,
                         "devices/virtual/infiniband_mad/umad1/port"),
    "broken-dup-uverbs": (sys_rxe, mut_dup_uverbs,
                          "devices/virtual/infiniband_verbs/uverbs2/ibdev"),
    "broken-guid": (sys_rxe, mut_guid, RXE1 + "/node_guid"),
    "missing-optional": (sys_rxe, mut_missing_optional, None),
    "empty": (sys_empty, None, None),
    "none": (sys_none, None, None),
}


def sys_mlx5(n, vfs=0, ib=0, rxe=0, gids=16):
    if n > 240:
        sys.exit("gen-sysfs.py: --mlx5 takes at most 240 PFs (use --many)")
    if vfs > 127:
        sys.exit("gen-sysfs.py: --vfs-per-pf takes at most 127")
    s = System(gids)
    pfs = []
    for i in range(n):
        bus = 0x03 + i
        bridge = "pci0000:00/0000:00:%02x.%d" % (1 + i // 8, i % 8)
        addr = "0000:%02x:00.0" % bus
        mac = "b8:59:9f:d4:%02x:%02x" % (i >> 8, i & 0xff)
        if i < ib:
            d = s.add_mlx5_pf("mlx5_%d" % i, addr, bridge, 0x101b,
                              "InfiniBand", mac, "ib%d" % i,
                              "192.168.200.%d" % (i + 1), lid=i + 2, sm_lid=1,
                              speed=("HDR", 4))
        else:
            d = s.add_mlx5_pf("mlx5_%d" % i, addr, bridge, 0x1017, "Ethernet",
                              mac, "enp%ds0f0" % bus,
                              "192.168.100.%d" % (i + 1), speed=("EDR", 4))
            d.pci.totalvfs = max(vfs, 8)
        pfs.append(d)
    k = n
    for i, pf in enumerate(pfs):
        if pf.ports[0].link_layer != "Ethernet":
            continue
        for j in range(vfs):
            s.add_mlx5_vf("mlx5_%d" % k, pf, j,
                          "02:1c:%02x:%02x:00:%02x" % (i >> 8, i & 0xff, j),
                          "%sv%d" % (pf.ports[0].netdev.name, j))
            k += 1
    for j in range(0, rxe, 2):
        a, b = s.add_veth_pair("veth%d" % j, "veth%d" % (j + 1),
                               "4a:1b:2c:%02x:%02x:01" % (j >> 8, j & 0xff),
                               "4a:1b:2c:%02x:%02x:02" % (j >> 8, j & 0xff),
                               "10.%d.%d.1" % (j >> 8, j & 0xff),
                               "10.%d.%d.2" % (j >> 8, j & 0xff))
        s.add_rxe("rxe%d" % j, a)
        if j + 1 < rxe:
            s.add_rxe("rxe%d" % (j + 1), b)
    return s


def sys_many(n, gids=16):
    """n mlx5 RoCE PFs spread over PCI domains (200 buses a domain)."""
    s = System(gids)
    for i in range(n):
        dom, j = divmod(i, 200)
        bus = 0x10 + j
        bridge = "pci%04x:00/%04x:00:%02x.%d" % (dom, dom, 1 + j // 8, j % 8)
        addr = "%04x:%02x:00.0" % (dom, bus)
        mac = "b8:59:9f:%02x:%02x:%02x" % (0xe0 + (i >> 16), (i >> 8) & 0xff,
                                           i & 0xff)
        ifn = ("enP%dp%ds0f0" % (dom, bus)) if dom else ("enp%ds0f0" % bus)
        ip = "172.%d.%d.%d" % (16 + (i >> 16), (i >> 8) & 0xff, i & 0xff)
        s.add_mlx5_pf("mlx5_%d" % i, addr, bridge, 0x1017, "Ethernet", mac,
                      ifn, ip, numa=dom % 2, speed=("EDR", 4))
    return s


def build_preset(name):
    builder, mut, _ = PRESETS[name]
    s = builder()
    t = emit(s)
    if mut:
        mut(t)
    return s, t


# ---------------------------------------------------------------- summary
def summary(sysm):
    lines = []
    nets = {n.name: n for n in sysm.nets}
    for ent in char_devs(sysm):
        d = ent["dev"]
        where = d.pci.addr if d.pci else "virtual"
        rel = ""
        if d.pci and d.pci.pf:
            rel = " VF of %s" % d.pci.pf.addr
        elif d.pci and d.pci.vfs:
            rel = " PF of %s" % ",".join(v.addr for v in d.pci.vfs)
        lines.append("%s  %s (%s)%s  node_guid %s" % (
            d.name, where, getattr(d, "model", d.kind), rel,
            guid_str(d.node_guid)))
        if ent["uverbs"]:
            n, mm, _ = ent["uverbs"]
            lines.append("    uverbs%d %d:%d" % (n, mm[0], mm[1]))
        for (n, port, umm, ism, _, _) in ent["umad"]:
            lines.append("    umad%d %d:%d issm%d %d:%d (port %d)" % (
                n, umm[0], umm[1], n, ism[0], ism[1], port))
        if not ent["umad"]:
            lines.append("    no umad/issm")
        for p in d.ports:
            lines.append("    port %d %s %s %s netdev %s (ifindex %d)%s" % (
                p.num, p.link_layer, PORT_STATE[p.state], p.rate,
                p.netdev.name, p.netdev.ifindex,
                "" if not d.attrs.get("parent") else " parent"))
    if sysm.ucm:
        lines.append("rdma_cm %d:%d" % (MISC_MAJOR, RDMA_CM_MINOR))
    lines.append("netdevs: " + " ".join("%s(%d)" % (n.name, n.ifindex)
                                        for n in sysm.nets))
    return "\n".join(lines)


# ---------------------------------------------------------------- main
def ensure_new(path):
    if os.path.lexists(path) and (not os.path.isdir(path) or os.listdir(path)):
        sys.exit("gen-sysfs.py: %s exists and is not an empty directory" % path)
    os.makedirs(path, exist_ok=True)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", metavar="DIR")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--preset", metavar="NAME")
    g.add_argument("--mlx5", type=int, metavar="N")
    g.add_argument("--many", type=int, metavar="N")
    ap.add_argument("--vfs-per-pf", type=int, default=0, metavar="K")
    ap.add_argument("--ib", type=int, default=0, metavar="N",
                    help="how many of the --mlx5 PFs are InfiniBand")
    ap.add_argument("--rxe", type=int, default=0, metavar="N")
    ap.add_argument("--gids", type=int, default=None, metavar="N",
                    help="GID table length a port (default 16 for --mlx5, "
                    "4 for --many)")
    ap.add_argument("--lean", action="store_true",
                    help="--mlx5/--many: leave out uevent, subsystem and "
                    "bus/pci links and the PCI/netdev/mlx5 attributes no RDMA "
                    "scan reads (faster, for scale tests)")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--summary", action="store_true")
    a = ap.parse_args(argv)
    if a.gids is not None and a.gids < 1:
        ap.error("--gids must be at least 1")
    if a.preset and (a.gids is not None or a.lean):
        ap.error("presets have a fixed layout: no --gids/--lean")

    if a.list:
        print("\n".join(PRESETS))
        return 0
    if a.preset == "all":
        if a.summary:
            for name in PRESETS:
                print("== %s\n%s\n" % (name, summary(build_preset(name)[0])))
            return 0
        if not a.out:
            ap.error("--out is required")
        os.makedirs(a.out, exist_ok=True)
        for name in PRESETS:
            ensure_new(os.path.join(a.out, name))
            build_preset(name)[1].write(os.path.join(a.out, name))
        return 0
    if a.preset:
        if a.preset not in PRESETS:
            ap.error("unknown preset %r (try --list)" % a.preset)
        s, t = build_preset(a.preset)
    elif a.mlx5 is not None:
        if a.ib > a.mlx5:
            ap.error("--ib must not exceed --mlx5")
        s = sys_mlx5(a.mlx5, a.vfs_per_pf, a.ib, a.rxe,
                     16 if a.gids is None else a.gids)
        s.lean = a.lean
        t = emit(s)
    elif a.many is not None:
        s = sys_many(a.many, 4 if a.gids is None else a.gids)
        s.lean = a.lean
        t = emit(s)
    else:
        ap.error("one of --preset, --mlx5, --many is required")
    if a.summary:
        print(summary(s))
        return 0
    if not a.out:
        ap.error("--out is required")
    ensure_new(a.out)
    t.write(a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
