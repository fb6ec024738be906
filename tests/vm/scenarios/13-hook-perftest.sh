#!/usr/bin/env bash
# 13-hook-perftest: RDMA traffic between two containers that got their devices from
# crdma-hook alone (createRuntime hook in config.json; no linux.devices, no allow rules, no
# rlimits by hand): a runc container serves ib_write_bw / ib_send_lat on rxe0, a crun
# container is the client on rxe1. GID choice and -n counts as in 05-perftest.
# vm-timeout: 200
# shellcheck source=SCRIPTDIR/../lib.sh
. "${BASH_SOURCE[0]%/*}/../lib.sh"

need_hook
veth_ips
g0=$(gid_index_ll rxe0) || fail "rxe0 has no link-local GID"
g1=$(gid_index_ll rxe1) || fail "rxe1 has no link-local GID"
hook=(--hook createRuntime "$CRDMA_HOOK createRuntime")

# perf TEST PORT ITERS: server (runc, rxe0) and client (crun, rxe1); sets CLIENT, SERVER
perf() {
	local test=$1 port=$2 iters=$3 s=$WORK/$1-server c=$WORK/$1-client
	oci_bundle "$s" --host-net "${hook[@]}" --annotation io.crdma.devices=rxe0 -- \
		"$test" -d rxe0 -x "$g0" -p "$port" -n "$iters" -F
	oci_bundle "$c" --host-net "${hook[@]}" --annotation io.crdma.devices=rxe1 -- \
		"$test" -d rxe1 -x "$g1" -p "$port" -n "$iters" -F "$VETH0_IP"
	jq -e '.linux.devices == null and ([.linux.resources.devices[] | select(.major == 231)] | length) == 0' \
		"$s/config.json" >/dev/null || fail "the bundle already grants RDMA devices by hand"
	start_oci runc "$s" "$WORK/$test-server.log"
	local spid=$BG_PID
	wait_listen "$port" 60
	capture run_crun "$c"
	CLIENT=$OUT
	local crc=$RC src=0
	wait "$spid" || src=$?
	SERVER=$(cat "$WORK/$test-server.log")
	printf '%s\n' "--- server (runc, rxe0):" "$SERVER" "--- client (crun, rxe1):" "$CLIENT" | sed 's/^/   | /'
	assert_eq 0 "$crc" "$test client exit status"
	assert_eq 0 "$src" "$test server exit status"
}

step "ib_write_bw -n 1000 (64 KiB messages), devices from crdma-hook"
perf ib_write_bw 18525 1000
line=$(grep -E '^ *65536 +1000 +' <<<"$CLIENT") || fail "no result line for 65536 bytes x 1000"
read -r _ _ peak avg _ <<<"$line"
awk -v a="$avg" 'BEGIN { exit !(a > 0) }' || fail "average bandwidth $avg is not > 0"
ok "ib_write_bw rxe1 -> rxe0 through crdma: average $avg MB/s (peak $peak)"

step "ib_send_lat -n 1000 (2-byte messages), devices from crdma-hook"
perf ib_send_lat 18526 1000
line=$(grep -E '^ *2 +1000 +' <<<"$CLIENT") || fail "no result line for 2 bytes x 1000"
read -r _ _ tmin _ ttyp tavg _ <<<"$line"
awk -v a="$tavg" 'BEGIN { exit !(a > 0) }' || fail "average latency $tavg is not > 0"
ok "ib_send_lat rxe1 <-> rxe0 through crdma: typical $ttyp us, average $tavg us (min $tmin)"
