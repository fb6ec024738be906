#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""crdma-hook cdi and apptainer-cgroups, read back the way their consumers read
them: the CDI spec against the rules of the CDI library podman 4.3 vendors
(container-device-interface v0.5.2: strict fields, versions 0.1.0-0.5.0, name
rules) and CDI's minimum-version rules (specs-go/version.go); the TOML with a
real TOML parser (tomllib) against Apptainer's cgroups.Config, whose rdma
field is map[string]{hcaHandles, hcaObjects *uint32} (go-toml silently drops
unknown keys, so an exact key check is the only guard against a typo).

Usage: test-cdi-apptainer.py CRDMA_HOOK TESTS_DATA_DIR
"""
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import tomllib

HOOK, DATA = sys.argv[1], sys.argv[2]
SYSFS = os.path.join(DATA, "sysfs")
failures = []
passed = 0


def check(ok, what):
    global passed
    if ok:
        passed += 1
        print(f"ok: {what}")
    else:
        failures.append(what)
        print(f"FAIL: {what}")


def hook(*args, umask=None):
    def pre():
        if umask is not None:
            os.umask(umask)
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    p = subprocess.run([HOOK, *args], capture_output=True, text=True, preexec_fn=pre,
                       env=env, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


# ---- CDI, as pkg/cdi of container-device-interface v0.5.2 validates ------

PODMAN_43_VERSIONS = {"0.1.0", "0.2.0", "0.3.0", "0.4.0", "0.5.0"}
SPEC_KEYS = {"cdiVersion", "kind", "devices", "containerEdits"}
DEVICE_KEYS = {"name", "containerEdits"}
EDITS_KEYS = {"env", "deviceNodes", "hooks", "mounts"}
NODE_KEYS = {"path", "hostPath", "type", "major", "minor", "fileMode", "permissions", "uid", "gid"}
NAME_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_.:-]*[A-Za-z0-9])?$")
VENDOR_RE = re.compile(r"^[A-Za-z]([A-Za-z0-9_.-]*[A-Za-z0-9])?$")
CLASS_RE = re.compile(r"^[A-Za-z]([A-Za-z0-9_-]*[A-Za-z0-9])?$")


def cdi_errors(spec):
    """What CDI 0.5.2 (podman 4.3) would refuse, or [] if it loads."""
    errs = []
    if set(spec) - SPEC_KEYS:
        errs.append(f"unknown spec fields {set(spec) - SPEC_KEYS}")
    if spec.get("cdiVersion") not in PODMAN_43_VERSIONS:
        errs.append(f"cdiVersion {spec.get('cdiVersion')!r} not accepted by podman 4.3")
    vendor, _, cls = spec.get("kind", "").partition("/")
    if not VENDOR_RE.match(vendor) or not CLASS_RE.match(cls):
        errs.append(f"kind {spec.get('kind')!r}")
    names = set()
    needs_050 = False
    for d in spec.get("devices", []):
        if set(d) - DEVICE_KEYS:
            errs.append(f"unknown device fields {set(d) - DEVICE_KEYS}")
        name = d.get("name", "")
        if not NAME_RE.match(name):
            errs.append(f"device name {name!r}")
        if name in names:
            errs.append(f"device {name!r} twice")
        names.add(name)
        needs_050 |= name[:1].isdigit()
        edits = d.get("containerEdits", {})
        if set(edits) - EDITS_KEYS:
            errs.append(f"{name}: unknown edit fields {set(edits) - EDITS_KEYS}")
        if not any(edits.get(k) for k in EDITS_KEYS):
            errs.append(f"{name}: empty device edits")
        for n in edits.get("deviceNodes", []):
            if set(n) - NODE_KEYS:
                errs.append(f"{name}: unknown node fields {set(n) - NODE_KEYS}")
            if not n.get("path"):
                errs.append(f"{name}: node without path")
            if n.get("type", "") not in {"", "b", "c", "u", "p"}:
                errs.append(f"{name}: node type {n.get('type')!r}")
            if set(n.get("permissions", "")) - set("rwm"):
                errs.append(f"{name}: permissions {n.get('permissions')!r}")
            for k in ("major", "minor"):
                if not isinstance(n.get(k, 0), int):
                    errs.append(f"{name}: {k} not an integer")
            if not 0 <= n.get("fileMode", 0) < 2**32:
                errs.append(f"{name}: fileMode")
            needs_050 |= bool(n.get("hostPath"))
    if needs_050 and spec.get("cdiVersion") in {"0.1.0", "0.2.0", "0.3.0", "0.4.0"}:
        errs.append("a digit-first device name or hostPath needs cdiVersion 0.5.0")
    return errs


def nodes(spec, name):
    for d in spec["devices"]:
        if d["name"] == name:
            return [(n["path"], n["type"], n["major"], n["minor"], n["fileMode"],
                     n["permissions"]) for n in d["containerEdits"]["deviceNodes"]]
    return None


def cdi(args, what):
    status, out, err = hook(*args)
    check(status == 0, f"{what}: exit 0" + ("" if status == 0 else f" (got {status}: {err})"))
    try:
        spec = json.loads(out)
    except ValueError as e:
        check(False, f"{what}: JSON ({e})")
        return {"devices": []}, err
    errs = cdi_errors(spec)
    check(not errs, f"{what}: loads in CDI 0.5.2 {errs if errs else ''}")
    return spec, err


def uverbs(minor):
    return (f"/dev/infiniband/uverbs{minor - 192}", "c", 231, minor, 0o666, "rw")


RDMA_CM = ("/dev/infiniband/rdma_cm", "c", 10, 124, 0o666, "rw")

spec, err = cdi(["--sysfs-root", f"{SYSFS}/rxe", "cdi"], "rxe tree")
check(spec.get("cdiVersion") == "0.3.0" and spec.get("kind") == "crdma.io/hca",
      "rxe tree: cdiVersion 0.3.0, kind crdma.io/hca")
check([d["name"] for d in spec["devices"]] == ["rxe0", "rxe1", "all"], "rxe tree: rxe0, rxe1, all")
check(nodes(spec, "rxe0") == [uverbs(192), RDMA_CM], "rxe0: uverbs0 231:192 and rdma_cm 10:124")
check(nodes(spec, "rxe1") == [uverbs(193), RDMA_CM], "rxe1: uverbs1 231:193 and rdma_cm")
check(sorted(nodes(spec, "all")) == sorted([uverbs(192), uverbs(193), RDMA_CM]),
      "all: both uverbs and rdma_cm once")
check(err == "", "rxe tree: nothing on stderr")

with tempfile.TemporaryDirectory(prefix="crdma-test-cdi-") as tmp:
    def tree(preset, renames=(), drop=()):
        """A copy of a shipped tree with devices renamed and files dropped."""
        root = os.path.join(tmp, f"{preset}-{len(os.listdir(tmp))}")
        shutil.copytree(os.path.join(SYSFS, preset), root, symlinks=True)
        for old, new in renames:
            link = os.path.join(root, "class/infiniband", old)
            target = os.readlink(link)
            src = os.path.normpath(os.path.join(os.path.dirname(link), target))
            os.rename(src, os.path.join(os.path.dirname(src), new))
            os.unlink(link)
            os.symlink(os.path.join(os.path.dirname(target), new),
                       os.path.join(root, "class/infiniband", new))
            for dirpath, _, files in os.walk(root):
                if "ibdev" in files:
                    p = os.path.join(dirpath, "ibdev")
                    with open(p) as f:
                        if f.read().strip() == old:
                            with open(p, "w") as f:
                                f.write(new + "\n")
        for rel in drop:
            p = os.path.join(root, rel)
            if os.path.islink(p) or os.path.isfile(p):
                os.unlink(p)
            else:
                shutil.rmtree(p)
        return root

    allow_all = os.path.join(tmp, "allow-all.json")
    with open(allow_all, "w") as f:
        json.dump({"version": 1, "devices": ["*"]}, f)

    # Names CDI cannot carry are left out with a warning; a digit-first name
    # needs cdiVersion 0.5.0.
    names = tree("mixed", [("mlx5_3", "9x.y"), ("mlx5_4", "rxe_"), ("mlx5_2", "all")])
    spec, err = cdi(["--sysfs-root", names, "--policy", allow_all, "cdi"], "renamed devices")
    check([d["name"] for d in spec["devices"]] == ["9x.y", "mlx5_0", "mlx5_1", "rxe0", "all"],
          f"renamed devices: 'rxe_' and a device named 'all' left out "
          f"({[d['name'] for d in spec['devices']]})")
    check(spec.get("cdiVersion") == "0.5.0", "digit-first device name: cdiVersion 0.5.0")
    check("device all: left out of the CDI spec" in err and
          "device rxe_: left out of the CDI spec" in err, "renamed devices: both warned about")

    # A device the plan refuses (no uverbs) is absent; no rdma_cm: one warning.
    bare = tree("rxe", drop=["class/infiniband_verbs/uverbs1",
                             "devices/virtual/infiniband_verbs/uverbs1", "class/misc/rdma_cm"])
    spec, err = cdi(["--sysfs-root", bare, "cdi"], "no uverbs1, no rdma_cm")
    check([d["name"] for d in spec["devices"]] == ["rxe0", "all"] and
          nodes(spec, "rxe0") == [uverbs(192)] and nodes(spec, "all") == [uverbs(192)],
          "rxe1 without uverbs left out; no rdma_cm node")
    check(err.count("no rdma_cm on this host") == 1, "no rdma_cm: warned once")

    # Nothing allowed: refused, one line.
    status, out, err = hook("--sysfs-root", f"{SYSFS}/none", "cdi")
    check(status == 1 and out == "" and err.count("\n") == 1 and
          err.startswith("crdma-hook: error: CDI spec: no RDMA device on this host is allowed"),
          f"no device: exit 1, one line ({status}, {err!r})")

    # --output: atomic, 0644 whatever the umask, replaces the old file.
    out_dir = os.path.join(tmp, "cdi")
    os.mkdir(out_dir)
    target = os.path.join(out_dir, "crdma.json")
    with open(target, "w") as f:
        f.write("old")
    status, out, err = hook("--sysfs-root", f"{SYSFS}/rxe", "cdi", "--output", target, umask=0o077)
    with open(target) as f:
        written = f.read()
    check(status == 0 and out == "" and err == "", "--output: exit 0, nothing on stdout")
    check(stat.S_IMODE(os.stat(target).st_mode) == 0o644, "--output: mode 0644 under umask 077")
    check(json.loads(written) == json.loads(hook("--sysfs-root", f"{SYSFS}/rxe", "cdi")[1]) and
          written.endswith("}\n"), "--output: the same spec as stdout, one final newline")
    check(os.listdir(out_dir) == ["crdma.json"], "--output: no temporary file left")
    status, out, err = hook("--sysfs-root", f"{SYSFS}/rxe", "cdi", "--output",
                            os.path.join(tmp, "missing", "crdma.json"))
    check(status == 3 and err.count("\n") == 1 and "cannot open its directory" in err,
          f"--output in a missing directory: exit 3, one line ({err!r})")

    # ---- Apptainer: TOML parsed back against its cgroups.Config --------------

    CONFIG_KEYS = {"devices", "memory", "cpu", "pids", "blockIO", "hugepageLimits", "network",
                   "rdma", "unified"}
    RDMA_KEYS = {"hcaHandles", "hcaObjects"}

    def toml_errors(doc):
        errs = []
        if set(doc) - CONFIG_KEYS:
            errs.append(f"keys Apptainer does not know: {set(doc) - CONFIG_KEYS}")
        if set(doc) != {"rdma"}:
            errs.append(f"tables other than rdma: {set(doc)}")
        for dev, lim in doc.get("rdma", {}).items():
            if not isinstance(lim, dict) or set(lim) != RDMA_KEYS:
                errs.append(f"rdma.{dev}: keys {lim}")
                continue
            for k, v in lim.items():
                if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < 2**32:
                    errs.append(f"rdma.{dev}.{k} = {v!r} is not a uint32")
        return errs

    def toml(args, what):
        status, out, err = hook(*args)
        check(status == 0, f"{what}: exit 0" + ("" if status == 0 else f" (got {status}: {err})"))
        try:
            doc = tomllib.loads(out)
        except tomllib.TOMLDecodeError as e:
            check(False, f"{what}: TOML ({e})")
            return {}
        errs = toml_errors(doc)
        check(not errs, f"{what}: fits Apptainer's cgroups.Config {errs if errs else ''}")
        return doc

    doc = toml(["--sysfs-root", f"{SYSFS}/rxe", "apptainer-cgroups", "-a", "io.crdma.devices=all",
                "-a", "io.crdma.hca-handles=4", "-a", "io.crdma.hca-objects=100"], "rxe all")
    check(doc.get("rdma") == {"rxe0": {"hcaHandles": 4, "hcaObjects": 100},
                              "rxe1": {"hcaHandles": 4, "hcaObjects": 100}},
          "rxe all: rxe0 and rxe1 with 4 handles, 100 objects")

    doc = toml(["--sysfs-root", f"{SYSFS}/rxe", "apptainer-cgroups", "-a",
                "io.crdma.devices=rxe1"], "policy defaults")
    check(doc.get("rdma") == {"rxe1": {"hcaHandles": 16, "hcaObjects": 65536}},
          "rxe1: the policy's defaults (16, 65536)")

    no_limits = os.path.join(tmp, "no-limits.json")
    with open(no_limits, "w") as f:
        json.dump({"version": 1, "devices": ["*"],
                   "limits": {"hcaHandles": "max", "hcaObjects": "max"}}, f)
    doc = toml(["--sysfs-root", names, "--policy", no_limits, "apptainer-cgroups", "-a",
                "io.crdma.devices=9x.y,rxe0", "-a", "io.crdma.hca-objects=max"],
               "dotted name, max")
    check(doc.get("rdma") == {"9x.y": {"hcaHandles": 16, "hcaObjects": 2147483647},
                              "rxe0": {"hcaHandles": 16, "hcaObjects": 2147483647}},
          "a device name with a dot stays one key; max is 2147483647")

    for ann, status_want, msg in [
            ("io.crdma.memlock=1G", 1, "cannot set RLIMIT_MEMLOCK"),
            ("io.crdma.hca-handles=1000", 1, "above the limit 64"),
            ("io.crdma.devices=mlx5_0", 1, "no such RDMA device"),
    ]:
        anns = ["-a", "io.crdma.devices=rxe0"] if not ann.startswith("io.crdma.devices") else []
        status, out, err = hook("--sysfs-root", f"{SYSFS}/rxe", "apptainer-cgroups", *anns,
                                "-a", ann)
        check(status == status_want and out == "" and err.count("\n") == 1 and msg in err,
              f"apptainer-cgroups -a {ann}: exit {status_want}, one line ({status}, {err!r})")

    status, out, err = hook("--sysfs-root", f"{SYSFS}/rxe", "apptainer-cgroups")
    check(status == 2 and "no io.crdma.* annotation" in err, "apptainer-cgroups with no request: exit 2")
    status, out, err = hook("--sysfs-root", f"{SYSFS}/rxe", "cdi", "-a", "io.crdma.devices=rxe0")
    check(status == 2 and "does not apply to this command" in err, "cdi -a: exit 2")

print(f"{passed} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
