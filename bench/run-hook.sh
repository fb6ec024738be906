#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Hook cost: crdma-hook createRuntime (and precreate, when the hook has it) on
# generated sysfs trees of 1, 8, 64, 256 and 1024 mlx5 devices, for a request
# of one device and of "all", plus the floor (an unannotated container).
# Median and p99 wall time and peak RSS of the hook process over many runs.
# Usage: bench/run-hook.sh [BUILD_DIR] [RUNS]     (root; a benchmark, not a test)
# Prints bench-hook's table rows, then one JSON line per case.
# CRDMA_BENCH_BASELINE=OTHER_BUILD_DIR adds createRuntime and precreate rows (one device) of
# that build's hook, marked "hook-baseline" (e.g. a build from before a change).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath "${1:-$src/build}")
runs=${2:-200}
hook=$build/hook/crdma-hook
bench=$build/bench/bench-hook
[ "$(id -u)" -eq 0 ] || { echo "bench/run-hook.sh: needs root (mknod, cgroups, setns)" >&2; exit 77; }
work=$(mktemp -d /tmp/crdma-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT

stages=(createRuntime)
if "$hook" --help 2>&1 | grep -qw precreate; then
        stages+=(precreate)
else
        echo "# crdma-hook has no precreate command in this build: precreate not measured" >&2
fi
echo "# $(date -u +%FT%TZ) $(uname -r) $(nproc) cpus; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# crdma $(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown), runs per case: $runs"
json=()
row() { # row ARGS...: one bench-hook case; keep the table row, collect the JSON
        local out
        out=$("$bench" --hook "$hook" --work "$work" "$@")
        sed -n 2p <<<"$out"
        json+=("$(sed -n 3p <<<"$out")")
}
printf '%-14s %-8s %-12s %-6s %-6s %-10s %-10s %-10s %-8s %-8s\n' STAGE HOST_DEV REQUEST NODES RUNS \
        MEDIAN_MS P99_MS MIN_MS CPU_MS RSS_KIB
for n in 1 8 64 256 1024; do
        python3 "$src/tests/data/gen-sysfs.py" --out "$work/sys$n" --many "$n" >/dev/null
        # Large "all" requests cost more per run: fewer runs keep the total sane.
        all_runs=$runs
        [ "$n" -ge 256 ] && all_runs=$(( runs / 4 > 20 ? runs / 4 : 20 ))
        row --sysfs "$work/sys$n" --devices mlx5_0 --stage none --runs "$runs"
        for stage in "${stages[@]}"; do
                row --sysfs "$work/sys$n" --devices mlx5_0 --stage "$stage" --runs "$runs"
                if [ "$n" -lt 1024 ]; then
                        row --sysfs "$work/sys$n" --devices all --stage "$stage" --runs "$all_runs"
                        continue
                fi
                # 1024 devices + rdma_cm are 1025 device rules: more than the
                # library's device-cgroup limit (CRDMA_DEVCG_MAX_RULES, 1024).
                # Show what the hook answers instead of a figure.
                if out=$("$bench" --hook "$hook" --work "$work" --sysfs "$work/sys$n" \
                        --devices all --stage "$stage" --runs 1 2>&1); then
                        sed -n 2p <<<"$out"
                        json+=("$(sed -n 3p <<<"$out")")
                else
                        echo "# $stage, $n devices, all: the hook fails: $(grep 'crdma-hook: error' <<<"$out")"
                fi
        done
        if [ -n "${CRDMA_BENCH_BASELINE:-}" ]; then
                base=$(realpath "$CRDMA_BENCH_BASELINE")/hook/crdma-hook
                for stage in "${stages[@]}"; do
                        "$base" --help 2>&1 | grep -qw "$stage" || continue
                        out=$("$bench" --hook "$base" --work "$work" --sysfs "$work/sys$n" \
                                --devices mlx5_0 --stage "$stage" --runs "$all_runs")
                        echo "$(sed -n 2p <<<"$out") (baseline)"
                        json+=("$(sed -n 3p <<<"$out" | sed 's/^{"bench":"hook"/{"bench":"hook-baseline"/')")
                done
        fi
        rm -rf "$work/sys$n"
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%s\n' "${json[@]}"
