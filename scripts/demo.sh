#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The README demo, from a fresh Debian 12 machine as root: install the build
# dependencies, build crdma, boot Debian's own kernel under QEMU with
# Soft-RoCE (tests/vm installs QEMU, runc, crun, perftest... and fetches the
# kernel), start two real containers through crdma-hook and show what they
# get: devices, limits, and RDMA bandwidth/latency next to the host's.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh build
scripts/meson-setup.sh build
ninja -C build >/dev/null

log=$(mktemp /var/tmp/crdma-demo-XXXXXX.log)
trap 'rm -f "$log"' EXIT
echo "Booting a VM with rdma_rxe (Debian's kernel under QEMU TCG: about a minute)..."
status=0
tests/vm/run --keep --build-dir build "$PWD/tests/vm/demo/demo.sh" >"$log" 2>&1 || status=$?
run_dir=$(sed -n 's/.*run dir \([^ ,]*\),.*/\1/p' "$log" | head -n1)
result=${run_dir:+$run_dir/results/demo.log}
if [ -n "$result" ] && [ -s "$result" ]; then
        # The report, without the harness's step and check lines.
        sed -e '/^ok: /d' -e '/^== /d' -e '/^figure: /d' "$result"
fi
if [ "$status" -ne 0 ]; then
        echo
        echo "demo: the VM run failed (exit $status):"
        grep '^vm:' "$log" || cat "$log"
        echo "demo: run directory kept: ${run_dir:-none}"
        exit "$status"
fi
rm -rf "$run_dir"
