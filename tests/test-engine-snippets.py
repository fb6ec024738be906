#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The engine configuration examples installed for crdma-runtime
(share/crdma/engines, crdma-runtime(8) ENGINES), read back as their engines
read them: daemon.json with a JSON parser (dockerd refuses unknown keys), the
containerd and CRI-O files with a TOML parser (tomllib), the RuntimeClass as
the two-level YAML mapping it is.  Keys are checked exactly (containerd and
CRI-O ignore a misspelt key without a word), every file names the installed
crdma-runtime and the same runtime name, and the man page shows the same
snippets.

Usage: test-engine-snippets.py CRDMA_RUNTIME_PATH ENGINES_BUILD_DIR MAN_PAGE
"""
import json
import os
import re
import sys
import tomllib

RUNTIME, DIR, MAN = sys.argv[1], sys.argv[2], sys.argv[3]
NAME = "crdma"
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


def read(name):
    with open(os.path.join(DIR, name), encoding="utf-8") as f:
        return f.read()


# Docker: {"runtimes": {NAME: {"path": ...}}}, nothing else (dockerd refuses
# a key it does not know, and JSON takes no comment).
daemon = json.loads(read("docker-daemon.json"))
check(list(daemon) == ["runtimes"], "daemon.json: only \"runtimes\"")
check(list(daemon["runtimes"]) == [NAME], f"daemon.json: one runtime, {NAME}")
check(daemon["runtimes"][NAME] == {"path": RUNTIME},
      f"daemon.json: its path is {RUNTIME}, no runtimeArgs")

# containerd 1.6/1.7, config version 2.
cfg = tomllib.loads(read("containerd-config.toml"))
check(cfg.get("version") == 2, "containerd: version = 2")
check(list(cfg) == ["version", "plugins"], "containerd: version and plugins only")
cri = cfg["plugins"]
check(list(cri) == ["io.containerd.grpc.v1.cri"], "containerd: the 1.x CRI plugin only")
rts = cri["io.containerd.grpc.v1.cri"]["containerd"]["runtimes"]
check(list(cri["io.containerd.grpc.v1.cri"]) == ["containerd"]
      and list(cri["io.containerd.grpc.v1.cri"]["containerd"]) == ["runtimes"]
      and list(rts) == [NAME], f"containerd: one runtime, {NAME}")
rt = rts[NAME]
check(sorted(rt) == ["container_annotations", "options", "pod_annotations", "runtime_type"],
      "containerd: runtime_type, pod_annotations, container_annotations, options")
check(rt["runtime_type"] == "io.containerd.runc.v2", "containerd: the runc v2 shim")
check(rt["pod_annotations"] == ["io.crdma.*"] and rt["container_annotations"] == ["io.crdma.*"],
      "containerd: io.crdma.* pod and container annotations passed")
check(rt["options"] == {"BinaryName": RUNTIME}, f"containerd: BinaryName {RUNTIME}")
text = read("containerd-config.toml")
check('"io.containerd.cri.v1.runtime"' in text, "containerd: the 2.x plugin name in a comment")

# CRI-O: a runtime handler.
crio = tomllib.loads(read("crio-crdma.conf"))
check(list(crio) == ["crio"] and list(crio["crio"]) == ["runtime"]
      and list(crio["crio"]["runtime"]) == ["runtimes"]
      and list(crio["crio"]["runtime"]["runtimes"]) == [NAME], f"CRI-O: one handler, {NAME}")
check(crio["crio"]["runtime"]["runtimes"][NAME] == {"runtime_path": RUNTIME, "runtime_type": "oci"},
      f"CRI-O: runtime_path {RUNTIME}, runtime_type oci")


# Kubernetes: a RuntimeClass, a flat mapping with one nested level.
def yaml_map(text):
    out, parent = {}, None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = re.fullmatch(r"( *)([A-Za-z][A-Za-z0-9.]*):(?: (.*))?", line)
        if not m:
            raise ValueError(f"not a simple mapping line: {line!r}")
        indent, key, value = len(m.group(1)), m.group(2), m.group(3)
        if indent == 0:
            out[key] = value if value is not None else {}
            parent = key if value is None else None
        elif indent == 2 and parent is not None:
            out[parent][key] = value
        else:
            raise ValueError(f"unexpected indentation: {line!r}")
    return out


rc = yaml_map(read("runtimeclass.yaml"))
check(rc == {"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass",
             "metadata": {"name": NAME}, "handler": NAME},
      f"RuntimeClass {NAME} with handler {NAME} (node.k8s.io/v1)")

readme = read("README")
for f in ("docker-daemon.json", "containerd-config.toml", "runtimeclass.yaml", "crio-crdma.conf"):
    check(f"\n{f}\n" in readme, f"README describes {f}")
check(RUNTIME in readme and "@" not in readme, "README names the installed crdma-runtime")

# crdma-runtime(8) shows the same snippets (with /usr/local/bin, the default
# prefix, escaped as roff writes a dash).
with open(MAN, encoding="utf-8") as f:
    man = f.read().replace("\\-", "-")
for needle in ('[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.crdma]',
               '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.crdma.options]',
               'runtime_type = "io.containerd.runc.v2"',
               'pod_annotations = ["io.crdma.*"]', 'container_annotations = ["io.crdma.*"]',
               'BinaryName = "/usr/local/bin/crdma-runtime"',
               '[crio.runtime.runtimes.crdma]', 'runtime_path = "/usr/local/bin/crdma-runtime"',
               'handler: crdma', '"path": "/usr/local/bin/crdma-runtime"',
               'io.containerd.cri.v1.runtime', '--runc-binary'):
    check(needle in man, f"crdma-runtime(8) shows {needle}")

print(f"{passed} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
