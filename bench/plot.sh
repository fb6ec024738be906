#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Plot hook time against device count from bench/run-hook.sh's output (its JSON lines):
# median wall time (points, lines) and p99 (error bar top) per stage and request, log-log.
# Usage: bench/plot.sh RUN_HOOK_OUTPUT PNG [TITLE]   (needs gnuplot: install-deps.sh bench)
set -euo pipefail
in=$1 png=$2 title=${3:-crdma-hook wall time against the RDMA devices on the host}
command -v gnuplot >/dev/null || { echo "bench/plot.sh: no gnuplot (scripts/install-deps.sh bench)" >&2; exit 2; }
dat=$(mktemp -d)
trap 'rm -rf "$dat"' EXIT
plots=()
series() { # series STAGE REQUEST-SELECTOR LABEL STYLE [BENCH]
	local f=$dat/$1-$2-${5:-hook}.dat
	grep "^{\"bench\":\"${5:-hook}\"" "$in" | jq -r --arg s "$1" --arg r "$2" '
	  select(.stage == $s and (if $r == "all" then .request == "all" else .request != "all" end))
	  | "\(.host_devices) \(.median_ms) \(.min_ms) \(.p99_ms)"' | sort -n >"$f"
	[ -s "$f" ] && plots+=("'$f' using 1:2:3:4 with yerrorlines $4 title '$3'")
	return 0
}
series none one "no io.crdma annotation (floor: exec, read state, exit)" "lw 2 dt 2 lc rgb '#888888'"
series createRuntime one "createRuntime, one device asked" "lw 2 lc rgb '#1f77b4'"
series createRuntime all "createRuntime, all devices asked" "lw 2 lc rgb '#d62728'"
series precreate one "precreate, one device asked" "lw 2 lc rgb '#2ca02c'"
series precreate all "precreate, all devices asked" "lw 2 lc rgb '#ff7f0e'"
series createRuntime one "createRuntime, one device asked, before the targeted scan" \
	"lw 2 dt 4 lc rgb '#9467bd'" hook-baseline
((${#plots[@]})) || { echo "bench/plot.sh: no hook figures in $in" >&2; exit 1; }
{
	echo "set terminal pngcairo size 960,600 font 'DejaVu Sans,11'"
	echo "set output '$png'"
	echo "set title '$title'"
	echo "set logscale xy"
	echo "set xlabel 'RDMA devices on the host (fake sysfs tree)'"
	echo "set ylabel 'wall time per hook run, ms (median; bars: min to p99)'"
	echo "set xtics (1, 8, 64, 256, 1024)"
	echo "set xrange [0.8:1400]"
	echo "set grid"
	echo "set key top left"
	echo "set arrow from 8,2 to 256,10 nohead dt 3 lc rgb '#444444'"
	echo "set label 'targets: 2 ms at 8, 10 ms at 256' at 9,1.6 tc rgb '#444444'"
	printf 'plot %s\n' "$(IFS=,; echo "${plots[*]}")"
} | gnuplot
echo "bench/plot.sh: wrote $png"
