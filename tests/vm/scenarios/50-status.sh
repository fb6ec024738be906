#!/usr/bin/env bash
# 50-status: `crdma-hook status` on the real kernel: two containers from two runtimes, each
# given an rxe device with limits by the createRuntime hook, one of them holding it open
# (tools/crdma-vm-open --hold: two contexts, four PDs). Proves:
#  - each container's (cgroup, device) is a row, its container id and engine read from the
#    cgroup path (systemd-style scope names "crun-ID.scope" / "runc-ID.scope", which the
#    status rules document; with the cgroupfs driver the runtime takes the path as given);
#  - used/limit equal rdma.current/rdma.max read by hand from the cgroup files, a device
#    with nothing charged (not in rdma.current) using 0;
#  - netns: the device is in the host's network namespace (shared mode), the row's netns
#    is the link /proc/PID/ns/net of the cgroup's first process, the mode comes from RDMA
#    netlink;
#  - the table an administrator reads, printed into the log, says the same.
# vm-timeout: 120
# shellcheck source=SCRIPTDIR/../lib.sh
. "${BASH_SOURCE[0]%/*}/../lib.sh"

need_hook
need_cmd crun runc jq
tool=$CRDMA_VM_TOOLS/crdma-vm-open
[[ -x $tool ]] || fail "crdma-vm-open not found at $tool"

policy=$WORK/policy.json
echo '{"version": 1, "devices": ["rxe0", "rxe1"]}' >"$policy"
common=(--bind "$CRDMA_VM_TOOLS:/opt/crdma-vm" --hook createRuntime "$CRDMA_HOOK --policy $policy createRuntime")

# field FILE DEV KEY: KEY's value in DEV's line of rdma.max / rdma.current; 0 when DEV is
# not listed (rdma.current leaves out a device with nothing charged)
field() {
	local line
	line=$(rdma_line "$1" "$2") || {
		echo 0
		return 0
	}
	sed -E "s/.*(^| )$3=([^ ]+).*/\2/" <<<"$line"
}

step "crun: stat-a holds rxe0 open (2 contexts, 4 PDs) under hca-handles=3, hca-objects=50"
bundle_a=$WORK/stat-a
oci_bundle "$bundle_a" "${common[@]}" --cgroup /crdma-vm-50/crun-stat-a.scope \
	--annotation io.crdma.devices=rxe0 --annotation io.crdma.hca-handles=3 \
	--annotation io.crdma.hca-objects=50 -- /opt/crdma-vm/crdma-vm-open -d rxe0 -n 2 -p 4 --hold
hold_oci crun "$bundle_a" "$WORK/stat-a.log" 30
show
a_pid=$BG_PID
assert_contains "$OUT" "opened=2 errno=0" "stat-a: both opens under hca_handle=3"

step "runc: stat-b has rxe1 under hca-handles=2 and opens nothing"
bundle_b=$WORK/stat-b
oci_bundle "$bundle_b" "${common[@]}" --cgroup /crdma-vm-50/runc-stat-b.scope \
	--annotation io.crdma.devices=rxe1 --annotation io.crdma.hca-handles=2 -- \
	sh -c 'echo holding; exec sleep 120'
hold_oci runc "$bundle_b" "$WORK/stat-b.log" 30
b_pid=$BG_PID

step "crdma-hook status --json against the cgroup files"
capture "$CRDMA_HOOK" status --json
[[ $RC -eq 0 ]] || {
	show
	fail "crdma-hook status --json: exit $RC"
}
json=$OUT
printf "%s\n" "$json" >"$CRDMA_ARTIFACTS/50-status.json"
assert_eq shared "$(jq -r .netnsMode <<<"$json")" "netns mode from RDMA netlink"
assert_eq "$(readlink /proc/1/ns/net)" "$(jq -r .hostNetns <<<"$json")" "host netns"

# check NAME RUNTIME DEV: the row of NAME's cgroup against its files
check_row() {
	local name=$1 rt=$2 dev=$3 cg rel pid want got
	rel=crdma-vm-50/$rt-$name.scope
	cg=/sys/fs/cgroup/$rel
	note "$cg/rdma.max: $(rdma_line "$cg/rdma.max" "$dev" || echo none)"
	note "$cg/rdma.current: $(rdma_line "$cg/rdma.current" "$dev" || echo 'none (nothing charged)')"
	pid=$(head -n1 "$cg/cgroup.procs")
	want="$name $rt $dev"
	want+=" $(field "$cg/rdma.current" "$dev" hca_handle)/$(field "$cg/rdma.max" "$dev" hca_handle)"
	want+=" $(field "$cg/rdma.current" "$dev" hca_object)/$(field "$cg/rdma.max" "$dev" hca_object)"
	want+=" true $(readlink "/proc/$pid/ns/net")"
	got=$(jq -r --arg cg "$rel" --arg dev "$dev" '.rdmaLimits[] | select(.cgroup == $cg and .device == $dev)
		| "\(.container) \(.engine) \(.device) \(.hcaHandles.used)/\(.hcaHandles.limit)"
		+ " \(.hcaObjects.used)/\(.hcaObjects.limit) \(.deviceInHostNetns) \(.netns)"' <<<"$json")
	assert_eq "$want" "$got" "$name: status row = rdma.current/rdma.max, netns of pid $pid"
	ROW_USAGE=$(cut -d' ' -f4,5 <<<"$want")
}
check_row stat-a crun rxe0
a_usage=$ROW_USAGE
[[ ${a_usage%%/*} == 2 ]] || fail "stat-a: rdma.current should charge its 2 open contexts, shows $a_usage"
check_row stat-b runc rxe1
b_usage=$ROW_USAGE
assert_eq "0/2 0/65536" "$b_usage" "stat-b: nothing charged is 0 used (hcaObjects: the policy's default)"
assert_eq 1 "$(jq --arg cg crdma-vm-50/crun-stat-a.scope '[.rdmaLimits[] | select(.cgroup == $cg)] | length' <<<"$json")" \
	"stat-a: only its limited device is a row (rxe1 stays max/max there)"

step "crdma-hook status: the table"
capture "$CRDMA_HOOK" status
show
[[ $RC -eq 0 ]] || fail "crdma-hook status: exit $RC"
assert_match "$OUT" "(^|"$'\n'")CONTAINER +ENGINE +DEVICE +HCA_HANDLE +HCA_OBJECT +NETNS"$'\n' "table header"
assert_match "$OUT" "(^|"$'\n'")stat-a +crun +rxe0 +${a_usage% *} +${a_usage#* } +host"$'\n' "stat-a's line"
assert_match "$OUT" "(^|"$'\n'")stat-b +runc +rxe1 +0/2 +0/65536 +host"$'\n' "stat-b's line"
assert_match "$OUT" 'netns mode: shared; host netns: net:\[[0-9]+\]' "mode and host netns"

crun kill stat-a TERM
runc kill stat-b KILL
wait "$a_pid" "$b_pid" 2>/dev/null || true
