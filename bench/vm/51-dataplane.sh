#!/usr/bin/env bash
# 51-dataplane (benchmark, run by bench/run-vm.sh): RDMA inside containers set up by
# crdma-hook against the same processes on the host, on rxe over the veth pair:
# ib_write_bw and ib_send_bw (64 KiB messages) and ib_write_lat (8 B), server on rxe0, client
# on rxe1, host pair and container pair (runc server, crun client, devices from the hook)
# alternating round by round; ratio of the medians (container / host).
# vm-timeout: 1200
# shellcheck source=SCRIPTDIR/../../tests/vm/lib.sh
. "$CRDMA_REPO/tests/vm/lib.sh"

need_hook
need_cmd ib_write_bw ib_send_bw ib_write_lat
veth_ips
rounds=7
# Every client waits PERF_SETTLE (1 s) after its server listens, host and container alike
# (lib.sh's perftest pair says why).
# The containers get RLIMIT_MEMLOCK unlimited from the hook (the default policy): the host
# pair runs with the same.
ulimit -l unlimited
hook=(--hook createRuntime "$CRDMA_HOOK createRuntime")
PERF_SERVER=("${hook[@]}" --annotation io.crdma.devices=rxe0)
PERF_CLIENT=("${hook[@]}" --annotation io.crdma.devices=rxe1)

# sizes TEST: message size and iterations
sizes() {
	case $1 in
	ib_write_lat) echo "8 2000" ;;
	*) echo "65536 400" ;;
	esac
}

# result TEST OUTPUT: the figure of one client run: average MB/s, or typical latency us
result() {
	local line
	if [[ $1 == ib_write_lat ]]; then
		line=$(grep -E '^ *8 +[0-9]+ +' <<<"$2") || return 1
		awk '{ print $5 }' <<<"$line"
	else
		line=$(grep -E '^ *65536 +[0-9]+ +' <<<"$2") || return 1
		awk '{ print $4 }' <<<"$line"
	fi
}

port=18600
RES=
# host_pair TEST / container_pair TEST: lib.sh's pairs (host processes; server in runc on
# rxe0, client in crun on rxe1, devices from the hook alone); the client's figure in RES
host_pair() {
	local size iters
	read -r size iters <<<"$(sizes "$1")"
	port=$((port + 1))
	perftest_host_pair "$1" "$port" "$iters" -s "$size" >/dev/null
	RES=$(result "$1" "$CLIENT") || { echo "$CLIENT"; fail "no $1 result line"; }
}
container_pair() {
	local size iters
	read -r size iters <<<"$(sizes "$1")"
	port=$((port + 1))
	perftest_pair "$1" "$port" "$iters" -s "$size" >/dev/null
	no_manual_devices "$WORK/$1-server-$port"
	no_manual_devices "$WORK/$1-client-$port"
	RES=$(result "$1" "$CLIENT") || { echo "$CLIENT"; fail "no $1 result line"; }
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "# $(uname -r), $(nproc) cpus (TCG); load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-14s %-6s %-12s %-12s %-8s %s\n' TEST ROUNDS HOST_MEDIAN CONT_MEDIAN RATIO UNIT
json=()
for test in ib_write_bw ib_send_bw ib_write_lat; do
	step "$test: $rounds rounds, host and container alternating"
	: >"$WORK/host" && : >"$WORK/cont"
	for ((r = 1; r <= rounds; r++)); do
		if ((r % 2)); then
			host_pair "$test" && h=$RES
			container_pair "$test" && k=$RES
		else
			container_pair "$test" && k=$RES
			host_pair "$test" && h=$RES
		fi
		note "round $r: host $h, container $k"
		echo "$h" >>"$WORK/host"
		echo "$k" >>"$WORK/cont"
	done
	hm=$(median <"$WORK/host")
	cm=$(median <"$WORK/cont")
	ratio=$(awk -v h="$hm" -v c="$cm" 'BEGIN { printf "%.3f", c / h }')
	unit="MB/s avg"
	[[ $test == ib_write_lat ]] && unit="us typical"
	printf '%-14s %-6s %-12s %-12s %-8s %s\n' "$test" "$rounds" "$hm" "$cm" "$ratio" "$unit"
	json+=("$(printf '{"bench":"dataplane-%s","rounds":%d,"unit":"%s","host_median":%s,"container_median":%s,"ratio":%s,"host":[%s],"container":[%s]}' \
		"$test" "$rounds" "$unit" "$hm" "$cm" "$ratio" "$(paste -sd, "$WORK/host")" "$(paste -sd, "$WORK/cont")")")
done
for j in "${json[@]}"; do figure "$j"; done
