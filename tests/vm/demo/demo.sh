#!/usr/bin/env bash
# The README demo, run in the VM by scripts/demo.sh (tests/vm/run boots it): what crdma
# gives two real containers on a real RDMA kernel, shown as a user would look at it.
# vm-timeout: 240
# shellcheck source=SCRIPTDIR/../lib.sh
. "${BASH_SOURCE[0]%/*}/../lib.sh"

need_hook
say() { printf '%s\n' "$*"; }
title() { printf '\n### %s\n' "$*"; }

veth_ips
g0=$(gid_index_ll rxe0) || fail "rxe0 has no link-local GID"
g1=$(gid_index_ll rxe1) || fail "rxe1 has no link-local GID"
policy=$WORK/policy.json
cat >"$policy" <<'JSON'
{"version": 1, "devices": ["rxe*"], "limits": {"hcaHandles": 8, "memlock": "4G"}}
JSON

title "The host: Linux $(uname -r), Soft-RoCE over a veth pair"
"$CRDMA_HOOK" devices | sed 's/^/  /'

title "The administrator's policy ($policy)"
sed 's/^/  /' "$policy"

title "Two containers ask for RDMA with annotations; crdma-hook is their createRuntime hook"
say "  server: runc, io.crdma.devices=rxe0 io.crdma.hca-handles=4 io.crdma.memlock=1G"
say "  client: crun, io.crdma.devices=rxe1 io.crdma.hca-handles=2"
hook=(--hook createRuntime "$CRDMA_HOOK --policy $policy createRuntime")
show_inside='echo "  /dev/infiniband: $(ls /dev/infiniband | tr "\n" " ")"; echo "  ulimit -l: $(ulimit -l) KiB"'

# run_pair TEST PORT ITERS: server (runc, rxe0) and client (crun, rxe1), both through crdma
run_pair() {
	local test=$1 port=$2 iters=$3 s=$WORK/server-$1 c=$WORK/client-$1
	oci_bundle "$s" --host-net "${hook[@]}" --annotation io.crdma.devices=rxe0 \
		--annotation io.crdma.hca-handles=4 --annotation io.crdma.memlock=1G -- \
		sh -c "$show_inside; exec $test -d rxe0 -x $g0 -p $port -n $iters -F"
	oci_bundle "$c" --host-net "${hook[@]}" --annotation io.crdma.devices=rxe1 \
		--annotation io.crdma.hca-handles=2 -- \
		sh -c "$show_inside; exec $test -d rxe1 -x $g1 -p $port -n $iters -F $VETH0_IP"
	start_oci runc "$s" "$WORK/$test-server.log"
	local spid=$BG_PID
	wait_listen "$port" 60
	SERVER_CG=$(bundle_cgroup "$s")
	SERVER_MAX=$(rdma_line "$SERVER_CG/rdma.max" rxe0 || echo "(none)")
	capture run_crun "$c"
	CLIENT=$OUT
	[[ $RC == 0 ]] || fail "$test client failed (exit $RC): $CLIENT"
	wait "$spid" || fail "$test server failed: $(cat "$WORK/$test-server.log")"
	SERVER=$(cat "$WORK/$test-server.log")
}

# host_pair TEST PORT ITERS: the same two processes on the host, no container
host_pair() {
	local test=$1 port=$2 iters=$3
	"$test" -d rxe0 -x "$g0" -p "$port" -n "$iters" -F >"$WORK/host-server.log" 2>&1 &
	local spid=$!
	wait_listen "$port" 60
	HOST=$("$test" -d rxe1 -x "$g1" -p "$port" -n "$iters" -F "$VETH0_IP" 2>&1) || fail "host $test: $HOST"
	wait "$spid" || fail "host $test server: $(cat "$WORK/host-server.log")"
}

bw() { grep -E '^ *65536 +[0-9]+ +' <<<"$1" | awk '{ print $4 }'; }
lat() { grep -E '^ *2 +[0-9]+ +' <<<"$1" | awk '{ print $5 }'; }

run_pair ib_write_bw 18600 2000
title "Inside the server container (runc)"
head -2 <<<"$SERVER"
title "Inside the client container (crun)"
head -2 <<<"$CLIENT"
title "Limits in force, read from the host"
say "  server cgroup $SERVER_CG/rdma.max: $SERVER_MAX"
cbw=$(bw "$CLIENT")
run_pair ib_send_lat 18601 2000
clat=$(lat "$CLIENT")
host_pair ib_write_bw 18602 2000
hbw=$(bw "$HOST")
host_pair ib_send_lat 18603 2000
hlat=$(lat "$HOST")

title "RDMA between the containers vs the same test on the host (Soft-RoCE under QEMU TCG)"
printf '  %-34s %14s %14s\n' "test" "containers" "host"
printf '  %-34s %11s MB/s %9s MB/s\n' "ib_write_bw 64 KiB x 2000, average" "$cbw" "$hbw"
printf '  %-34s %12s us %12s us\n' "ib_send_lat 2 B x 2000, typical" "$clat" "$hlat"
figure "ib_write_bw containers $cbw MB/s, host $hbw MB/s; ib_send_lat containers $clat us, host $hlat us"

title "What crdma refuses: a device, a key or a limit outside the policy (the runtime's error)"
for kv in io.crdma.devices=mlx5_0 io.crdma.umad=true io.crdma.hca-handles=64 io.crdma.memlock=lots; do
	b=$WORK/refused
	rm -rf "$b"
	anns=(--annotation "$kv")
	[[ $kv == io.crdma.devices=* ]] || anns+=(--annotation io.crdma.devices=rxe0)
	oci_bundle "$b" "${hook[@]}" "${anns[@]}" -- true
	capture run_oci runc "$b"
	OUT=${OUT//\\\"/\"}
	say "  $kv:"
	grep -o 'crdma-hook: error: .*' <<<"$OUT" | sed 's/\\n.*//; s/^/    /'
	runc delete -f refused >/dev/null 2>&1 || true
done
