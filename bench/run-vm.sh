#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The benchmarks that need a real RDMA kernel, in one QEMU boot of tests/vm/run:
#   startup    crun and runc start-up with and without crdma-hook (bench/vm/50-startup.sh)
#   dataplane  ib_write_bw, ib_send_bw, ib_write_lat: containers vs host (51-dataplane.sh)
#   scale      200 containers in sequence, leaks, rdma.max; 16 hooks at once (52-scale.sh)
#   runtime    docker run and ctr run through crdma-runtime against runc alone (53-runtime.sh)
# Usage: bench/run-vm.sh [BUILD_DIR] [startup|dataplane|scale|runtime]...   (root; default: all)
# Each benchmark's figures come as JSON lines under its result line; the run directory
# (with each benchmark's full log in results/) is kept.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath "${1:-$src/build}")
shift || true
names=("$@")
((${#names[@]})) || names=(startup dataplane scale runtime)
scripts=()
for n in "${names[@]}"; do
	f=$(ls "$src"/bench/vm/[0-9]*-"$n".sh 2>/dev/null) || { echo "bench/run-vm.sh: no benchmark '$n'" >&2; exit 2; }
	scripts+=("$f")
done
echo "# $(date -u +%FT%TZ) host load: $(cut -d' ' -f1-3 /proc/loadavg); crdma $(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)"
exec "$src/tests/vm/run" --build-dir "$build" --keep "${scripts[@]}"
