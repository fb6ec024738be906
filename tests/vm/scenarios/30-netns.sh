#!/usr/bin/env bash
# 30-netns: RDMA network namespaces on the real kernel. `crdma-hook system` shows the mode
# (shared at boot); switching to exclusive while another network namespace exists is refused
# (exit 1) with the boot-time fix and changes nothing; with no other namespace it switches
# (exit 0) and back. In exclusive mode a process in another network namespace gets EPERM
# opening the device's uverbs node while init_net opens it; libcrdma's fork+setns transport
# sees a namespace's own devices from inside it; moving rxe0 into a namespace is refused with
# the clear EOPNOTSUPP message (rxe cannot be disassociated), and in shared mode with the
# shared-mode message. Leaves the host in shared mode with no namespace of its own.
# vm-timeout: 180
# shellcheck source=SCRIPTDIR/../lib.sh
. "${BASH_SOURCE[0]%/*}/../lib.sh"

need_hook
need_cmd ip rdma unshare setpriv
tools=$CRDMA_BUILD_DIR/tests/vm
NETNS_TOOL=$tools/crdma-vm-netns
IBOPEN=$CRDMA_VM_TOOLS/crdma-vm-ibopen
for t in "$NETNS_TOOL" "$IBOPEN"; do
	[[ -x $t ]] || skip "$t is not built (tests/vm/meson.build builds it)"
done

BOOT_FIX='"options ib_core netns_mode=0" in /etc/modprobe.d/, or ib_core.netns_mode=0 on the kernel command line when ib_core is built in'
RXE_MSG='device rxe0: its driver cannot move between network namespaces (software devices such as rxe and siw); use shared mode, or an SR-IOV VF'

# The namespaces this scenario makes, and the mode it found: put back whatever happens.
netns_cleanup() {
	ip netns del crdma-x 2>/dev/null || true
	ip netns del crdma-y 2>/dev/null || true
	netns_mode_restore
}
trap netns_cleanup EXIT

# mode_now: "shared" or "exclusive", from crdma-hook system
mode_now() {
	local o
	o=$("$CRDMA_HOOK" system) || fail "crdma-hook system failed: $o"
	echo "${o#netns mode: }"
}


# ------------------------------------------------------------------ shared at boot
step "crdma-hook system: shared at boot"
capture "$CRDMA_HOOK" system
show
assert_eq 0 "$RC" "crdma-hook system exit status"
assert_eq "netns mode: shared" "$OUT" "crdma-hook system"
capture "$CRDMA_HOOK" system netns-mode
assert_eq "netns mode: shared" "$OUT" "crdma-hook system netns-mode"
capture rdma system show
show
assert_match "$OUT" 'netns shared' "iproute2 agrees"
assert_eq Y "$(cat /sys/module/ib_core/parameters/netns_mode)" "ib_core parameter netns_mode (live value)"

step "RDMA netlink dumps end: crdma-hook devices lists the devices with their kernel indexes"
capture timeout 30 "$CRDMA_HOOK" devices
show
assert_eq 0 "$RC" "crdma-hook devices: exit status (124: a dump that never ended)"
assert_match "$OUT" 'rxe0 +0 ' "rxe0 with index 0"

step "usage errors exit 2"
capture "$CRDMA_HOOK" system netns-mode private
show
assert_eq 2 "$RC" "netns-mode private: exit status"
capture "$CRDMA_HOOK" system bogus
assert_eq 2 "$RC" "system bogus: exit status"

step "switching needs CAP_NET_ADMIN"
capture setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
	"$CRDMA_HOOK" system netns-mode exclusive
show
assert_eq 3 "$RC" "as nobody: exit status"
assert_contains "$OUT" "needs CAP_NET_ADMIN in the initial user namespace: Operation not permitted" "as nobody"
assert_eq 1 "$(printf '%s\n' "$OUT" | wc -l)" "one line on stderr"

# ------------------------------------------------------------------ EBUSY
step "another network namespace exists: exclusive is refused with the boot-time fix"
ip netns add crdma-x
capture "$CRDMA_HOOK" system netns-mode exclusive
show
assert_eq 1 "$RC" "exit status"
assert_eq "crdma-hook: error: RDMA netns mode: cannot switch to exclusive while other network namespaces exist; set it at boot: $BOOT_FIX" \
	"$OUT" "the one-line refusal"
assert_eq shared "$(mode_now)" "mode after the refusal"
capture rdma system set netns exclusive
note "iproute2 for comparison (exit $RC): $OUT"

step "shared mode: every namespace sees every device; moving one is refused (shared-mode message)"
capture "$NETNS_TOOL" list /run/netns/crdma-x
show
assert_eq 0 "$RC" "list from inside crdma-x (forked child joins it): exit status"
assert_match "$OUT" $'\n[0-9]+ rxe0(\n|$)' "crdma-x sees rxe0"
assert_match "$OUT" $'\n[0-9]+ rxe1(\n|$)' "crdma-x sees rxe1"
capture "$NETNS_TOOL" move rxe0 /run/netns/crdma-x
show
assert_eq 1 "$RC" "move in shared mode: exit status (refused)"
assert_contains "$OUT" "device rxe0: the host's RDMA netns mode is shared, devices move between network namespaces only in exclusive mode; set it at boot: $BOOT_FIX" "move in shared mode"
capture "$NETNS_TOOL" return /run/netns/crdma-x rxe0 rxe1
show
assert_eq 0 "$RC" "return in shared mode (nothing to do): exit status"

# ------------------------------------------------------------------ exclusive
step "no other namespace: switch to exclusive"
ip netns del crdma-x
netns_mode_set exclusive
capture rdma system show
show
assert_match "$OUT" 'netns exclusive' "iproute2 agrees"
assert_eq N "$(cat /sys/module/ib_core/parameters/netns_mode)" "ib_core parameter netns_mode (live value)"
# setting the mode the kernel has is a no-op, even with namespaces around
ip netns add crdma-y
capture "$CRDMA_HOOK" system netns-mode exclusive
assert_eq 0 "$RC" "exclusive again while crdma-y exists: exit status"

step "exclusive isolation: init_net opens rxe0, another network namespace gets EPERM"
capture "$IBOPEN" --node /dev/infiniband/uverbs0 rxe0
show
assert_eq 0 "$RC" "init_net: exit status"
assert_contains "$OUT" "node=/dev/infiniband/uverbs0 errno=0 (0)" "init_net: open(uverbs0)"
assert_contains "$OUT" "ibv device=rxe0 listed=1 errno=0 (0)" "init_net: ibv_open_device(rxe0)"
capture unshare -n "$IBOPEN" --node /dev/infiniband/uverbs0 rxe0
show
assert_eq 1 "$RC" "unshare -n: exit status"
assert_contains "$OUT" "node=/dev/infiniband/uverbs0 errno=1 (EPERM)" "unshare -n: open(uverbs0)"
assert_match "$OUT" 'ibv device=rxe0 listed=0 errno=19 \(ENODEV\)|ibv device=rxe0 listed=1 errno=1 \(EPERM\)' \
	"unshare -n: libibverbs does not get rxe0"
capture ip netns exec crdma-y "$IBOPEN" --node /dev/infiniband/uverbs0 rxe0
show
assert_contains "$OUT" "node=/dev/infiniband/uverbs0 errno=1 (EPERM)" "ip netns exec crdma-y: open(uverbs0)"
capture ip netns exec crdma-y rdma dev show
note "rdma dev show inside crdma-y (exit $RC): ${OUT:-(nothing)}"

step "libcrdma from inside crdma-y (fork+setns transport): no device there"
capture "$NETNS_TOOL" list /run/netns/crdma-y
show
assert_eq 0 "$RC" "list: exit status"
assert_eq "devices: 0" "$OUT" "devices seen from inside crdma-y"
capture "$NETNS_TOOL" return /run/netns/crdma-y rxe0 rxe1
show
assert_eq 0 "$RC" "return with nothing there: exit status"

step "moving rxe0 into crdma-y: the kernel answers EOPNOTSUPP, crdma refuses clearly"
capture "$NETNS_TOOL" move rxe0 /run/netns/crdma-y
show
assert_eq 1 "$RC" "move: exit status (refused)"
assert_eq "error: $RXE_MSG" "$OUT" "move: message"
capture rdma dev set rxe0 netns crdma-y
note "iproute2 for comparison (exit $RC): $OUT"
capture rdma dev show rxe0
assert_eq 0 "$RC" "rxe0 is still in init_net"
capture "$NETNS_TOOL" list /run/netns/crdma-y
assert_eq "devices: 0" "$OUT" "and not in crdma-y"
capture "$NETNS_TOOL" move rxe0 /proc/1/ns/net
show
assert_eq 1 "$RC" "move into the host's own namespace: exit status (refused)"
assert_contains "$OUT" "shares the host's network namespace" "move into the host's own namespace"
capture "$NETNS_TOOL" move mlx5_9 /run/netns/crdma-y
show
assert_eq 1 "$RC" "unknown device: exit status (refused)"
assert_contains "$OUT" "device mlx5_9: no such RDMA device in the host's network namespace" "unknown device"

# ------------------------------------------------------------------ back to shared
step "back to shared: refused while crdma-y exists, done once it is gone"
capture "$CRDMA_HOOK" system netns-mode shared
show
assert_eq 1 "$RC" "shared while crdma-y exists: exit status"
assert_contains "$OUT" "cannot switch to shared while other network namespaces exist" "shared while crdma-y exists"
assert_eq exclusive "$(mode_now)" "mode after the refusal"
ip netns del crdma-y
netns_mode_set shared
assert_eq Y "$(cat /sys/module/ib_core/parameters/netns_mode)" "ib_core parameter netns_mode (live value)"
capture "$IBOPEN" --node /dev/infiniband/uverbs0 rxe0
assert_eq 0 "$RC" "rxe0 opens in init_net again"
