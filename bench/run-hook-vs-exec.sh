#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The hook's cost against an exec: crdma-hook createRuntime for one device, and for a
# container without io.crdma.* annotations ("none"), each run alternating with an exec of
# /bin/true spawned the same way (bench-hook --control), on a generated one-device host.
# With a baseline build, the two builds' hooks alternate too, round by round, so both
# meet the same load.  Prints a row per build, stage and round, then the median ratio
# hook / exec of each build and stage over the rounds, and one JSON line each.
# Usage: bench/run-hook-vs-exec.sh BUILD_DIR [BASELINE_BUILD_DIR] [RUNS] [ROUNDS]
#        (root; a benchmark, not a test)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath "${1:?usage: run-hook-vs-exec.sh BUILD_DIR [BASELINE_BUILD_DIR] [RUNS] [ROUNDS]}")
baseline=${2:+$(realpath "$2")}
runs=${3:-300}
rounds=${4:-3}
bench=$build/bench/bench-hook
[ "$(id -u)" -eq 0 ] || { echo "bench/run-hook-vs-exec.sh: needs root (mknod, cgroups, setns)" >&2; exit 77; }
work=$(mktemp -d /tmp/crdma-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
python3 "$src/tests/data/gen-sysfs.py" --out "$work/sys1" --many 1 >/dev/null

builds=(new)
declare -A hook=([new]=$build/hook/crdma-hook)
if [ -n "$baseline" ]; then
        builds+=(baseline)
        hook[baseline]=$baseline/hook/crdma-hook
fi
echo "# $(date -u +%FT%TZ) $(uname -r) $(nproc) cpus; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# crdma $(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown); new: $build${baseline:+; baseline: $baseline}; runs per case: $runs"
printf '%-9s %-14s %-6s %-10s %-10s %-8s\n' BUILD STAGE ROUND HOOK_MS EXEC_MS RATIO
declare -A ratios=()
for ((r = 1; r <= rounds; r++)); do
        order=("${builds[@]}")
        # the baseline first on even rounds
        if ((r % 2 == 0)) && [ ${#builds[@]} -eq 2 ]; then order=(baseline new); fi
        for b in "${order[@]}"; do
                for stage in none createRuntime; do
                        out=$("$bench" --hook "${hook[$b]}" --work "$work" --sysfs "$work/sys1" \
                                --devices mlx5_0 --stage "$stage" --runs "$runs" --control /bin/true)
                        json=$(sed -n '/^{/p' <<<"$out")
                        h=$(sed 's/.*"median_ms":\([0-9.]*\).*/\1/' <<<"$json")
                        c=$(sed 's/.*"control_median_ms":\([0-9.]*\).*/\1/' <<<"$json")
                        x=$(sed 's/.*"ratio_of_medians":\([0-9.]*\).*/\1/' <<<"$json")
                        printf '%-9s %-14s %-6s %-10s %-10s %-8s\n' "$b" "$stage" "$r" "$h" "$c" "$x"
                        ratios[$b.$stage]+="$x "
                done
        done
done
median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "# median over $rounds rounds of the ratio hook / exec of /bin/true (medians of $runs runs):"
for b in "${builds[@]}"; do
        for stage in none createRuntime; do
                m=$(median <<<"${ratios[$b.$stage]}")
                echo "#   $b $stage: $m"
                printf '{"bench":"hook-vs-exec","build":"%s","stage":"%s","rounds":%d,"runs":%d,"median_ratio":%s,"ratios":[%s]}\n' \
                        "$b" "$stage" "$rounds" "$runs" "$m" "$(tr ' ' ',' <<<"${ratios[$b.$stage]% }")"
        done
done
