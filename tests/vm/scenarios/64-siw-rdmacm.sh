#!/usr/bin/env bash
# 64-siw-rdmacm: shared RDMA netns mode, rdma_cm between containers in network namespaces of
# their own, carried by siw (Soft-iWARP, built for this kernel: Debian's has none) created in
# each namespace. rxe cannot do this (its routing and its one UDP socket live in init_net);
# siw opens its TCP sockets in the caller's namespace. Two pairs of namespaces, made as a
# network plugin would (bind-mounted under /run/netns, a veth pair each, the *same*
# addresses in both pairs, a siw link on each end); containers join them and get their
# namespace's siw device from crdma-hook (io.crdma.devices):
#  - each container sees only its own siw device's node (shared mode lists every device in
#    sysfs: which node opens is crdma's gating, not the namespace's);
#  - rping servers on the same address and port in two namespaces at once: both bind (the
#    rdma_cm port space is per namespace);
#  - each pair's client container reaches its own server (5 pings, both sides exit 0);
#  - a container in a namespace of neither pair, and the host, cannot reach the listeners.
# vm-needs: siw
# vm-timeout: 300
# shellcheck source=SCRIPTDIR/../lib.sh
. "${BASH_SOURCE[0]%/*}/../lib.sh"

need_hook
command -v rping >/dev/null || fail "rping is missing: scripts/install-deps.sh vm installs rdmacm-utils"
siw_load
nss=(crdma-siw-a crdma-siw-b crdma-siw-c crdma-siw-d crdma-siw-e)
# The namespaces, and the siw devices on their veths, stay for the rest of the boot: deleting
# them would unregister devices whose rdma.max the containers' (now removed) cgroups set, and
# Debian's 6.1 kernel then hits "kernel BUG at lib/list_debug.c" in rdmacg_unregister_device
# and the next scenario's containers hang (seen here; lib.sh's testdev_keep says the same).
for n in "${nss[@]}"; do
	[[ ! -e /run/netns/$n ]] || fail "$n exists already: 64-siw-rdmacm runs once per boot"
done

step "two namespace pairs with the same addresses, a siw link on each end; a fifth with only lo"
for n in "${nss[@]}"; do
	ip netns add "$n" || fail "ip netns add $n"
	ip -n "$n" link set lo up
done
pair() { # pair NS1 IF1 NS2 IF2: IF1 10.77.0.1/24 in NS1, IF2 10.77.0.2/24 in NS2
	ip link add "$2" type veth peer name "$4" || fail "ip link add $2"
	ip link set "$2" netns "$1"
	ip link set "$4" netns "$3"
	ip -n "$1" addr add 10.77.0.1/24 dev "$2"
	ip -n "$1" link set "$2" up
	ip -n "$3" addr add 10.77.0.2/24 dev "$4"
	ip -n "$3" link set "$4" up
}
pair crdma-siw-a sva crdma-siw-b svb
pair crdma-siw-c svc crdma-siw-d svd
for x in a b c d; do
	capture ip netns exec "crdma-siw-$x" rdma link add "siw$x" type siw netdev "sv$x"
	[[ $RC == 0 ]] || fail "rdma link add siw$x type siw netdev sv$x in crdma-siw-$x: exit $RC: $OUT"
done
for x in a b c d; do
	# (its netdev has a name only in its namespace: the host's rdma link shows none)
	capture ip netns exec "crdma-siw-$x" rdma link show "siw$x/1"
	assert_contains "$OUT" "siw$x/1 state ACTIVE physical_state LINK_UP netdev sv$x" "siw$x on sv$x, in crdma-siw-$x"
done

policy=$WORK/policy.json
echo '{"version": 1, "devices": ["siw*", "rxe*"]}' >"$policy"
hooks=(--hook createRuntime "$CRDMA_HOOK --policy $policy createRuntime"
	--hook poststop "$CRDMA_HOOK --policy $policy poststop")
in_ns() { # in_ns NS: the oci_bundle option that joins the container to /run/netns/NS
	printf -- '.linux.namespaces |= map(if .type == "network" then .path = "/run/netns/%s" else . end)' "$1"
}
# shellcheck disable=SC2016 # expanded in the container
show_view='echo "devices: $(ls /dev/infiniband | tr "\n" " ")"; '
server() { # server X: an rping server container in crdma-siw-X, with siwX; log in $WORK/srv-X.log
	oci_bundle "$WORK/srv-$1" "${hooks[@]}" --annotation "io.crdma.devices=siw$1" --jq "$(in_ns "crdma-siw-$1")" \
		-- sh -c "$show_view exec rping -s -a 10.77.0.1 -p 7174 -C 5 -v"
	start_oci runc "$WORK/srv-$1" "$WORK/srv-$1.log"
	SRV_PID=$BG_PID
}
client() { # client X [COUNT]: an rping client container in crdma-siw-X, with siwX, output in OUT
	local dev=siw$1
	[[ $1 != e ]] || dev=siwa # e has no siw link of its own: a's device, and no route
	oci_bundle "$WORK/cli-$1" "${hooks[@]}" --annotation "io.crdma.devices=$dev" --jq "$(in_ns "crdma-siw-$1")" \
		-- sh -c "$show_view exec timeout 60 rping -c -a 10.77.0.1 -p 7174 -C ${2:-5} -v -S 40"
	capture run_oci crun "$WORK/cli-$1"
}
listening() { # listening X: an rdma_cm listener on 7174 in crdma-siw-X (siw's own TCP listener)
	ip netns exec "crdma-siw-$1" ss -Htln 'sport = :7174' | grep -q .
}

step "rping servers on 10.77.0.1:7174 in crdma-siw-a and crdma-siw-c at the same time"
server a
srv_a=$SRV_PID
server c
srv_c=$SRV_PID
end=$((SECONDS + 60))
until listening a && listening c; do
	((SECONDS < end)) || fail "the servers did not both listen within 60 s: a: $(cat "$WORK/srv-a.log"); c: $(cat "$WORK/srv-c.log")"
	sleep 0.5
done
ok "both servers listen on 10.77.0.1:7174, each in its own namespace"

step "crdma-siw-b's client reaches a's server, crdma-siw-d's reaches c's"
for x in b d; do
	client "$x"
	show
	assert_eq 0 "$RC" "client in crdma-siw-$x: exit status"
	node=$(uverbs_of "siw$x") || fail "siw$x has no uverbs node"
	assert_contains "$OUT" "devices: rdma_cm ${node##*/} " "client $x: rdma_cm and siw$x's node (${node##*/}) alone"
	assert_eq 5 "$(grep -c '^ping data: rdma-ping-' <<<"$OUT")" "client $x: 5 pings"
done
for x in a c; do
	p=$srv_a
	[[ $x == a ]] || p=$srv_c
	rc=0
	wait "$p" || rc=$?
	OUT=$(cat "$WORK/srv-$x.log")
	show
	assert_eq 0 "$rc" "server in crdma-siw-$x: exit status"
	assert_eq 5 "$(grep -c '^server ping data: rdma-ping-' <<<"$OUT")" "server $x: 5 pings served"
	node=$(uverbs_of "siw$x") || fail "siw$x has no uverbs node"
	assert_contains "$OUT" "devices: rdma_cm ${node##*/} " "server $x: rdma_cm and siw$x's node (${node##*/}) alone"
done
step "a namespace of neither pair and the host cannot reach the listeners"
server a
srv_a=$SRV_PID
until_ok 60 listening a
client e 1
show
[[ $RC != 0 ]] || fail "the client in crdma-siw-e reached a listener"
assert_contains "$OUT" "rdma_resolve_addr: Network is unreachable" "crdma-siw-e: no route to 10.77.0.1"
capture timeout 30 rping -c -a 10.77.0.1 -p 7174 -C 1 -v
show
[[ $RC != 0 ]] || fail "the host reached a listener"
assert_contains "$OUT" "Network is unreachable" "the host (init_net): no route to 10.77.0.1"
kill "$srv_a" 2>/dev/null || true
runc delete -f srv-a >/dev/null 2>&1 || true
wait "$srv_a" 2>/dev/null || true
ok "rdma_cm over siw: per-namespace port spaces and reachability, crdma giving each container its device"
