#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The README demo, from a fresh Debian 12 machine as root: install the build
# dependencies, build crdma, boot Debian's own kernel under QEMU with
# Soft-RoCE (tests/vm installs QEMU, runc, crun, perftest... and fetches the
# kernel), start two real containers through crdma-hook and show what they
# get: devices, limits, and RDMA bandwidth/latency next to the host's.
# Each step's output goes to a log in the run directory; a failed step shows
# the log's end and what to do.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

mkdir -p /var/tmp
run_dir=$(mktemp -d /var/tmp/crdma-demo.XXXXXX)
echo "Installing the build dependencies and building crdma (logs in $run_dir)..."
scripts/install-deps.sh build
scripts/meson-setup.sh build
run_logged "$run_dir/build.log" "the build failed: the compiler's message is above; scripts/install-deps.sh build installs what it needs, rm -rf build starts anew" \
        ninja -C build

echo "Booting a VM with rdma_rxe (Debian's kernel under QEMU TCG: about a minute)..."
status=0
tests/vm/run --run-dir "$run_dir/vm" --keep --build-dir build "$PWD/tests/vm/demo/demo.sh" \
        >"$run_dir/vm.log" 2>&1 </dev/null || status=$?
result=$run_dir/vm/results/demo.log
if [ -s "$result" ]; then
        # The report, without the harness's step and check lines.
        sed -e '/^ok: /d' -e '/^== /d' -e '/^figure: /d' "$result"
fi
if [ "$status" -ne 0 ]; then
        echo
        echo "demo: the VM run failed (tests/vm/run exit $status); its output:"
        grep -E '^vm:|^    ' "$run_dir/vm.log" | tail -n 60 || tail -n 60 "$run_dir/vm.log"
        echo "demo: everything is kept in $run_dir (vm.log, vm/console.log, vm/results/);"
        echo "demo: tests/vm/README.md says what each exit status means (3: no QEMU, kernel or boot)"
        exit "$status"
fi
rm -rf "$run_dir"
