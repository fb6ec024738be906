#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Build crdma and show what it does, from a fresh Debian 12 machine as root.
#
# Until the VM demo lands (tests/vm), this runs crdma-hook against a FAKE
# sysfs tree shipped in tests/data/sysfs/rxe: the two Soft-RoCE devices the
# VM has.  Nothing here touches the host's devices or containers.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh build
scripts/meson-setup.sh build
ninja -C build >/dev/null

hook=build/hook/crdma-hook
tree=tests/data/sysfs/rxe
run() {
        echo
        echo "\$ crdma-hook $*"
        "$hook" "$@" || echo "(exit status $?)"
}
echo "crdma demo on the fake sysfs tree $tree (not this host's devices)"
run --sysfs-root "$tree" devices
run --sysfs-root "$tree" devices --json
run --sysfs-root "$tree" plan -a io.crdma.devices=rxe0 -a io.crdma.hca-handles=4 \
        -a io.crdma.memlock=1G
echo
echo "refusals (exit 1, one line naming the annotation):"
run --sysfs-root "$tree" plan -a io.crdma.devices=rxe0 -a io.crdma.umad=true
run --sysfs-root "$tree" plan -a io.crdma.devices=rxe0 -a io.crdma.hca-handle=4
run --sysfs-root "$tree" plan -a io.crdma.devices=mlx5_9
