#!/usr/bin/env bash
# 31-exclusive-hook: exclusive RDMA netns mode with real containers and crdma-hook (runc):
#  - the host switched to exclusive before any other network namespace exists (the boot-time
#    setting a real host would use), with crdma-hook system;
#  - a container in its own netns asking io.crdma.netns=exclusive for rxe0 is refused with the
#    clear EOPNOTSUPP reason (rxe cannot move between namespaces), and rxe0 stays in init_net;
#  - isolation: a container in its own netns given uverbs0 by hand (no crdma) gets EPERM from
#    open(2) on the node and does not see rxe0 in libibverbs;
#  - crdma refuses a shared request from a container with its own netns in this mode (its nodes
#    would be useless), while a container in the host's netns works through the hook;
#  - the mode goes back to shared at the end.
# vm-timeout: 200
# shellcheck source=SCRIPTDIR/../lib.sh
. "${BASH_SOURCE[0]%/*}/../lib.sh"

need_hook
ibopen=$CRDMA_VM_TOOLS/crdma-vm-ibopen
[[ -x $ibopen ]] || skip "$ibopen is not built"
hook=(--hook createRuntime "$CRDMA_HOOK createRuntime" --bind "$CRDMA_VM_TOOLS:/opt/crdma-vm")

trap netns_mode_restore EXIT

step "switch the host to exclusive RDMA netns mode while no other network namespace exists"
netns_mode_set exclusive

step "runc, own netns, io.crdma.netns=exclusive for rxe0: refused, rxe0 stays in the host's netns"
b=$WORK/excl
oci_bundle "$b" "${hook[@]}" --annotation io.crdma.devices=rxe0 --annotation io.crdma.netns=exclusive \
	--annotation run.oci.hooks.stderr=/dev/null -- echo RAN
capture run_runc "$b"
OUT=${OUT//\\\"/\"}
show
[[ $RC != 0 ]] || fail "the container ran"
assert_contains "$OUT" "crdma-hook: error: container excl: device rxe0: its driver cannot move between network namespaces (software devices such as rxe and siw); use shared mode, or an SR-IOV VF" "the hook's reason"
assert_not_contains "$OUT" RAN "the container's process"
capture rdma dev show rxe0
assert_eq 0 "$RC" "rxe0 still visible in the host's network namespace"

step "isolation: runc, own netns, uverbs0 + rdma_cm given by hand (no crdma)"
b=$WORK/isolated
oci_bundle "$b" --rdma-dev 0 --rdma-cm --bind "$CRDMA_VM_TOOLS:/opt/crdma-vm" -- \
	/opt/crdma-vm/crdma-vm-ibopen --node /dev/infiniband/uverbs0 rxe0
capture run_runc "$b"
show
assert_contains "$OUT" "node=/dev/infiniband/uverbs0 errno=1 (EPERM)" "open(2) on uverbs0 from another netns"
assert_contains "$OUT" "ibv device=rxe0 listed=0" "libibverbs does not list rxe0 there"

step "crdma refuses a shared request from a container with its own netns in this mode"
b=$WORK/sharedown
oci_bundle "$b" "${hook[@]}" --annotation io.crdma.devices=rxe0 -- echo RAN
capture run_runc "$b"
OUT=${OUT//\\\"/\"}
show
[[ $RC != 0 ]] || fail "the container ran"
assert_contains "$OUT" "the host's RDMA subsystem is in exclusive netns mode and the container has a network namespace of its own" "the hook's reason"

step "runc in the host's netns, io.crdma.devices=rxe0 through the hook: works"
b=$WORK/hostnet
oci_bundle "$b" --host-net "${hook[@]}" --annotation io.crdma.devices=rxe0 -- \
	/opt/crdma-vm/crdma-vm-ibopen --node /dev/infiniband/uverbs0 rxe0
capture run_runc "$b"
show
assert_eq 0 "$RC" "exit status"
assert_contains "$OUT" "node=/dev/infiniband/uverbs0 errno=0" "open(2) on uverbs0"
assert_contains "$OUT" "ibv device=rxe0 listed=1 errno=0" "ibv_open_device on rxe0"

step "back to shared mode"
netns_mode_set shared
