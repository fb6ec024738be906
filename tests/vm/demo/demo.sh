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

# The pairs: lib.sh's perftest_pair (containers: server runc on rxe0, client crun on rxe1,
# both through crdma) and perftest_host_pair (the same two as host processes).
PERF_SERVER=("${hook[@]}" --annotation io.crdma.devices=rxe0 --annotation io.crdma.hca-handles=4
	--annotation io.crdma.memlock=1G)
PERF_CLIENT=("${hook[@]}" --annotation io.crdma.devices=rxe1 --annotation io.crdma.hca-handles=2)
PERF_WRAP=(sh -c "$show_inside; exec \"\$@\"" sh)
# server_limits BUNDLE: the rdma.max in force while the server runs, read from the host
server_limits() {
	SERVER_CG=$(bundle_cgroup "$1")
	SERVER_MAX=$(rdma_line "$SERVER_CG/rdma.max" rxe0 || echo "(none)")
}
PERF_ON_LISTEN=server_limits
# A pair's own lines (both sides' output, its checks) go to a log, which a failure shows: the
# check that failed exits the demo from inside the pair.
PAIR_LOG=$WORK/pair.log
demo_exit() {
	local st=$?
	if ((st != 0)) && [[ -s $PAIR_LOG ]]; then
		echo "--- the last perftest pair's output ($PAIR_LOG):"
		tail -n 40 "$PAIR_LOG"
	fi
	lib_cleanup
}
trap demo_exit EXIT
run_pair() { perftest_pair "$@" >"$PAIR_LOG"; }
host_pair() { perftest_host_pair "$@" >"$PAIR_LOG"; HOST=$CLIENT; }

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
