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
# A container client starts ~0.5 s after the server listens, a plain one at once; in two
# runs without a pause ib_send_bw favoured the containers 1.43 to 1. With every client
# waiting this long after its server listens, on both sides, the host pair's ib_send_bw
# doubled (6.05 -> 11.82 MB/s): an early client was held back by its server under TCG.
settle=1
# The containers get RLIMIT_MEMLOCK unlimited from the hook (the default policy): the host
# pair runs with the same.
ulimit -l unlimited
g0=$(gid_index_ll rxe0) || fail "rxe0 has no link-local GID"
g1=$(gid_index_ll rxe1) || fail "rxe1 has no link-local GID"
hook="$CRDMA_HOOK createRuntime"

# args TEST SIDE PORT: the perftest command line of one side
args() {
	local test=$1 side=$2 port=$3 size iters
	case $test in
	ib_write_lat) size=8 iters=2000 ;;
	*) size=65536 iters=400 ;;
	esac
	if [[ $side == server ]]; then
		echo "$test -d rxe0 -x $g0 -p $port -s $size -n $iters -F"
	else
		echo "$test -d rxe1 -x $g1 -p $port -s $size -n $iters -F $VETH0_IP"
	fi
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
# host_pair TEST: both sides as plain processes in the guest; the client's figure in RES
host_pair() {
	local test=$1 spid out
	local -a sv cl
	port=$((port + 1))
	read -ra sv <<<"$(args "$test" server $port)"
	read -ra cl <<<"$(args "$test" client $port)"
	"${sv[@]}" >"$WORK/server.log" 2>&1 &
	spid=$!
	wait_listen $port 60
	sleep "$settle"
	out=$("${cl[@]}" 2>&1) || { echo "$out"; fail "host $test client failed"; }
	wait "$spid" || { cat "$WORK/server.log"; fail "host $test server failed"; }
	RES=$(result "$test" "$out") || { echo "$out"; fail "no $test result line"; }
}
# container_pair TEST: server in runc on rxe0, client in crun on rxe1, devices from the
# hook alone; the client's figure in RES
container_pair() {
	local test=$1 s c spid out
	local -a sv cl
	port=$((port + 1))
	s=$WORK/$test-s$port c=$WORK/$test-c$port
	read -ra sv <<<"$(args "$test" server $port)"
	read -ra cl <<<"$(args "$test" client $port)"
	oci_bundle "$s" --host-net --hook createRuntime "$hook" --annotation io.crdma.devices=rxe0 \
		-- "${sv[@]}"
	oci_bundle "$c" --host-net --hook createRuntime "$hook" --annotation io.crdma.devices=rxe1 \
		-- "${cl[@]}"
	no_manual_devices "$s"
	no_manual_devices "$c"
	start_oci runc "$s" "$WORK/server.log"
	spid=$BG_PID
	wait_listen $port 60
	sleep "$settle"
	out=$(run_crun "$c" 2>&1) || { echo "$out"; fail "container $test client failed"; }
	wait "$spid" || { cat "$WORK/server.log"; fail "container $test server failed"; }
	RES=$(result "$test" "$out") || { echo "$out"; fail "no $test result line"; }
}
no_manual_devices() {
	jq -e '.linux.devices == null and ([.linux.resources.devices[] | select(.major == 231)] | length) == 0' \
		"$1/config.json" >/dev/null || fail "$1 grants RDMA devices by hand"
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
