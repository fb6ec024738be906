#!/usr/bin/env bash
# 60-testdev-smoke: the test RDMA device the exclusive-mode scenarios stand on, with no crdma
# code involved, in a boot whose ib_core was loaded with netns_mode=0:
#  - the RDMA subsystem is in exclusive mode from boot (ib_core's parameter, `rdma system`);
#  - insmod crdma_testdev registers crdmatest0 and crdmatest1: in `rdma dev`, ports ACTIVE,
#    each with a /dev/infiniband/uverbsN node (231:192+N, 0666, as its sysfs dev file says)
#    that opens from the host's namespace;
#  - `rdma dev set crdmatest1 netns NS` moves it: the host's `rdma dev` and
#    /sys/class/infiniband lose it, NS shows it alone (rxe stays in init_net), its uverbs node
#    opens inside NS and is EPERM from the host; moved back from inside NS (to init_net,
#    named with `ip netns attach`), it opens from the host again;
#  - a deleted namespace gives its device back to init_net;
#  - two namespaces hold one device each and see only their own;
#  - rmmod removes both devices while they are in those namespaces.
# vm-needs: exclusive testdev
# vm-timeout: 240
# shellcheck source=SCRIPTDIR/../lib.sh
. "${BASH_SOURCE[0]%/*}/../lib.sh"

need_cmd ip rdma insmod rmmod
IBOPEN=$CRDMA_VM_TOOLS/crdma-vm-ibopen
[[ -x $IBOPEN ]] || fail "$IBOPEN is missing (tests/vm/run builds it)"
NS_A=crdma-td-a NS_B=crdma-td-b NS_INIT=crdma-td-init

smoke_cleanup() {
	lib_cleanup # unloads crdma_testdev first, wherever its devices are
	local ns
	for ns in "$NS_A" "$NS_B" "$NS_INIT"; do ip netns del "$ns" 2>/dev/null || true; done
}
trap smoke_cleanup EXIT

# rdma_devs [NETNS]: `rdma dev show` there (default: here), into OUT/RC, shown
rdma_devs() {
	if [[ -n ${1:-} ]]; then capture ip netns exec "$1" rdma dev show; else capture rdma dev show; fi
	show
	assert_eq 0 "$RC" "rdma dev show${1:+ in $1}: exit status"
}
# open_node NODE DEV [NETNS]: crdma-vm-ibopen's line for open(2) on NODE, from NETNS or here
open_node() {
	if [[ -n ${3:-} ]]; then
		capture ip netns exec "$3" "$IBOPEN" --node "$1" "$2"
	else
		capture "$IBOPEN" --node "$1" "$2"
	fi
	OUT=$(grep '^node=' <<<"$OUT" || true)
	note "open($1)${3:+ in $3}: $OUT"
}
# wait_back DEV: until DEV is in the host's namespace again (the kernel returns a device from a
# freed namespace asynchronously)
wait_back() {
	local end=$((SECONDS + 30))
	until rdma dev show "$1" >/dev/null 2>&1; do
		((SECONDS < end)) || fail "$1 did not come back to the host's network namespace within 30 s"
		sleep 0.5
	done
	ok "$1 is back in the host's network namespace"
}

# ------------------------------------------------------------------ the boot
step "the boot: ib_core loaded with netns_mode=0, the subsystem in exclusive mode"
assert_eq exclusive "${CRDMA_VM_BOOT:-}" "CRDMA_VM_BOOT (tests/vm/run's boot for '# vm-needs: exclusive')"
assert_eq N "$(cat /sys/module/ib_core/parameters/netns_mode)" "ib_core parameter netns_mode"
capture rdma system show
show
assert_eq 0 "$RC" "rdma system show: exit status"
assert_match "$OUT" 'netns exclusive' "rdma system"

# ------------------------------------------------------------------ load
step "insmod crdma_testdev devices=2: crdmatest0 and crdmatest1 with uverbs nodes"
testdev_load 2
rdma_devs
assert_match "$OUT" '[0-9]+: crdmatest0: node_type ca ' "rdma dev: crdmatest0"
assert_match "$OUT" '[0-9]+: crdmatest1: node_type ca ' "rdma dev: crdmatest1"
assert_contains "$OUT" ": rxe0: " "rdma dev: the fixtures' rxe0 as well"
capture rdma link show crdmatest0/1
show
assert_match "$OUT" 'state ACTIVE physical_state LINK_UP' "rdma link: crdmatest0 port 1"
for d in crdmatest0 crdmatest1; do
	node=$(uverbs_of "$d") || fail "$d has no uverbs node in /sys/class/infiniband_verbs"
	IFS=: read -r maj min <"/sys/class/infiniband_verbs/${node##*/}/dev"
	assert_eq "c $maj $min 666" "$(dev_numbers "$node")" "$d: $node matches its sysfs dev file"
	assert_eq 231 "$maj" "$d: uverbs major"
	((min >= 192)) || fail "$d: uverbs minor $min is below 192"
	open_node "$node" "$d"
	assert_eq "node=$node errno=0 (0)" "$OUT" "$d: open(2) on its node from the host's namespace"
done

# ------------------------------------------------------------------ one move, and back
step "rdma dev set crdmatest1 netns $NS_A"
ip netns add "$NS_A"
capture rdma dev set crdmatest1 netns "$NS_A"
show
assert_eq 0 "$RC" "rdma dev set crdmatest1 netns $NS_A: exit status"
rdma_devs
assert_not_contains "$OUT" ": crdmatest1: " "the host's rdma dev"
assert_contains "$OUT" ": crdmatest0: " "the host's rdma dev keeps crdmatest0"
[[ ! -e /sys/class/infiniband/crdmatest1 ]] || fail "/sys/class/infiniband/crdmatest1 is still in the host's sysfs"
ok "the host's /sys/class/infiniband has no crdmatest1"
rdma_devs "$NS_A"
assert_contains "$OUT" ": crdmatest1: " "rdma dev in $NS_A"
assert_not_contains "$OUT" ": crdmatest0: " "rdma dev in $NS_A"
assert_not_contains "$OUT" ": rxe0: " "rdma dev in $NS_A (rxe stays in init_net)"
ip netns exec "$NS_A" test -e /sys/class/infiniband/crdmatest1 ||
	fail "/sys/class/infiniband/crdmatest1 is missing in $NS_A's sysfs"
ok "$NS_A's /sys/class/infiniband has crdmatest1"
node1=$(uverbs_of crdmatest1 "$NS_A") || fail "crdmatest1 has no uverbs node seen from $NS_A"
[[ -c $node1 ]] || fail "$node1 is not a character device"
open_node "$node1" crdmatest1 "$NS_A"
assert_eq "node=$node1 errno=0 (0)" "$OUT" "open(2) on $node1 inside $NS_A"
open_node "$node1" crdmatest1
assert_eq "node=$node1 errno=1 (EPERM)" "$OUT" "open(2) on $node1 from the host's namespace"

step "back: from inside $NS_A, rdma dev set crdmatest1 netns $NS_INIT (PID 1's, init_net)"
# iproute2 6.1 takes only a name under /run/netns: give init_net one
ip netns attach "$NS_INIT" 1
capture ip netns exec "$NS_A" rdma dev set crdmatest1 netns "$NS_INIT"
show
assert_eq 0 "$RC" "rdma dev set crdmatest1 netns $NS_INIT in $NS_A: exit status"
rdma_devs
assert_contains "$OUT" ": crdmatest1: " "the host's rdma dev"
rdma_devs "$NS_A"
assert_not_contains "$OUT" ": crdmatest1: " "rdma dev in $NS_A"
node1=$(uverbs_of crdmatest1) || fail "crdmatest1 has no uverbs node back in the host's namespace"
open_node "$node1" crdmatest1
assert_eq "node=$node1 errno=0 (0)" "$OUT" "open(2) on $node1 from the host's namespace again"

step "a deleted namespace gives its device back"
capture rdma dev set crdmatest1 netns "$NS_A"
assert_eq 0 "$RC" "rdma dev set crdmatest1 netns $NS_A: exit status ($OUT)"
capture rdma dev show crdmatest1
[[ $RC != 0 ]] || fail "crdmatest1 still in the host's namespace after the move: $OUT"
ip netns del "$NS_A"
wait_back crdmatest1

# ------------------------------------------------------------------ two namespaces
step "two namespaces, one device each: $NS_A gets crdmatest0, $NS_B crdmatest1"
ip netns add "$NS_A"
ip netns add "$NS_B"
capture rdma dev set crdmatest0 netns "$NS_A"
assert_eq 0 "$RC" "rdma dev set crdmatest0 netns $NS_A: exit status ($OUT)"
capture rdma dev set crdmatest1 netns "$NS_B"
assert_eq 0 "$RC" "rdma dev set crdmatest1 netns $NS_B: exit status ($OUT)"
rdma_devs "$NS_A"
assert_contains "$OUT" ": crdmatest0: " "rdma dev in $NS_A"
assert_not_contains "$OUT" ": crdmatest1: " "rdma dev in $NS_A"
rdma_devs "$NS_B"
assert_contains "$OUT" ": crdmatest1: " "rdma dev in $NS_B"
assert_not_contains "$OUT" ": crdmatest0: " "rdma dev in $NS_B"
rdma_devs
assert_not_contains "$OUT" ": crdmatest" "the host's rdma dev"
node0=$(uverbs_of crdmatest0 "$NS_A") || fail "crdmatest0 has no uverbs node seen from $NS_A"
open_node "$node0" crdmatest0 "$NS_A"
assert_eq "node=$node0 errno=0 (0)" "$OUT" "open(2) on crdmatest0's node inside $NS_A"
open_node "$node0" crdmatest0 "$NS_B"
assert_eq "node=$node0 errno=1 (EPERM)" "$OUT" "open(2) on crdmatest0's node from $NS_B"

# ------------------------------------------------------------------ unload
step "rmmod crdma_testdev while its devices are in $NS_A and $NS_B"
testdev_unload
rdma_devs "$NS_A"
assert_not_contains "$OUT" ": crdmatest" "rdma dev in $NS_A"
rdma_devs "$NS_B"
assert_not_contains "$OUT" ": crdmatest" "rdma dev in $NS_B"
rdma_devs
assert_not_contains "$OUT" ": crdmatest" "the host's rdma dev"
assert_contains "$OUT" ": rxe0: " "the host's rdma dev keeps rxe0"
