# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/ab.sh: A/B timing helpers for the benchmark scripts (sourced).
#
#   ab_time NAME PAIRS FN_A FN_B
# runs FN_A and FN_B alternately PAIRS times (A first on odd pairs, B first on even ones, so
# a drift in load hits both), each call timed with $EPOCHREALTIME; any call failing stops the
# benchmark. Prints one table row and sets AB_JSON to a JSON object:
# median, p90 and min of each side in ms, the ratio of the medians (B/A) and the median of
# the per-pair ratios.

# stats FILE: "median p90 min" of the numbers in FILE (one a line)
ab_stats() {
	sort -g "$1" | awk '{ v[NR] = $1 } END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		i = int(NR * 0.9 + 0.999); if (i < 1) i = 1; if (i > NR) i = NR
		printf "%.3f %.3f %.3f\n", m, v[i], v[1] }'
}

ab_one() { # ab_one FN OUTFILE: time one call in ms, append it
	local t0 t1
	t0=$EPOCHREALTIME
	"$1" || { echo "ab: $1 failed" >&2; return 1; }
	t1=$EPOCHREALTIME
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) * 1000 }' >>"$2"
}

export AB_JSON=
ab_time() {
	local name=$1 pairs=$2 fa=$3 fb=$4 dir i
	dir=$(mktemp -d)
	for ((i = 1; i <= pairs; i++)); do
		local first=$fa second=$fb f1=a f2=b
		((i % 2)) || { first=$fb second=$fa f1=b f2=a; }
		if ! { ab_one "$first" "$dir/$f1" && ab_one "$second" "$dir/$f2"; }; then
			rm -rf "$dir"
			return 1
		fi
	done
	local ma pa na mb pb nb ratio pair
	read -r ma pa na < <(ab_stats "$dir/a")
	read -r mb pb nb < <(ab_stats "$dir/b")
	ratio=$(awk -v a="$ma" -v b="$mb" 'BEGIN { printf "%.3f", b / a }')
	paste "$dir/a" "$dir/b" | awk '{ printf "%.6f\n", $2 / $1 }' >"$dir/r"
	read -r pair _ < <(ab_stats "$dir/r")
	rm -rf "$dir"
	printf '%-28s %-6s %-10s %-10s %-10s %-10s %-8s %-8s\n' "$name" "$pairs" "$ma" "$pa" "$mb" "$pb" \
		"$ratio" "$pair"
	AB_JSON=$(printf '{"bench":"%s","pairs":%d,"a_median_ms":%s,"a_p90_ms":%s,"a_min_ms":%s,"b_median_ms":%s,"b_p90_ms":%s,"b_min_ms":%s,"ratio_of_medians":%s,"median_pair_ratio":%s}' \
		"$name" "$pairs" "$ma" "$pa" "$na" "$mb" "$pb" "$nb" "$ratio" "$pair")
}

ab_header() {
	printf '%-28s %-6s %-10s %-10s %-10s %-10s %-8s %-8s\n' BENCH PAIRS A_MED_MS A_P90_MS \
		B_MED_MS B_P90_MS B/A MED_PAIR
}
