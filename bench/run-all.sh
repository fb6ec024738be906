#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every benchmark in one dated run, for docs/benchmarks.md: hook cost (run-hook.sh), start-up
# on this host (run-startup.sh), then the VM ones (run-vm.sh: start-up with crun and runc,
# data plane, scale), and the plot. Output also goes to OUT_DIR/benchmarks-raw.txt.
# Usage: bench/run-all.sh BUILD_DIR OUT_DIR [HOOK_RUNS] [STARTUP_PAIRS]   (root)
# CRDMA_BENCH_BASELINE=OTHER_BUILD_DIR: see run-hook.sh.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath "$1")
out=$(realpath "$2")
runs=${3:-300}
pairs=${4:-100}
mkdir -p "$out"
raw=$out/benchmarks-raw.txt
{
	echo "# bench/run-all.sh $build $out $runs $pairs"
	echo "# $(date -u +%FT%TZ) on $(uname -n): $(uname -r), $(nproc) cpus, $(awk '/MemTotal/ { print $2 " kB" }' /proc/meminfo); crdma $(git -C "$src" describe --always --dirty 2>/dev/null || echo unknown)"
	echo "## hook cost"
	"$src/bench/run-hook.sh" "$build" "$runs"
	echo "## start-up on this host"
	"$src/bench/run-startup.sh" "$build" "$pairs"
	echo "## VM"
	# A failed VM benchmark is reported in its place; the others' figures stand.
	"$src/bench/run-vm.sh" "$build" || echo "# bench/run-vm.sh: exit status $?"
	echo "# finished $(date -u +%FT%TZ)"
} 2>&1 | tee "$raw"
"$src/bench/plot.sh" "$raw" "$out/benchmarks-hook-time.png"
