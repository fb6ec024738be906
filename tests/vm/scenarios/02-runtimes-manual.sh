#!/usr/bin/env bash
# 02-runtimes-manual: what a user does by hand today, with no crdma: config.json entries
# for /dev/infiniband/uverbs0 and rdma_cm (linux.devices + linux.resources.devices allow
# rules) give a crun or runc container a working rxe0; without them the container has no
# /dev/infiniband at all.
# vm-timeout: 120
# shellcheck source=SCRIPTDIR/../lib.sh
. "${BASH_SOURCE[0]%/*}/../lib.sh"

for rt in crun runc; do
	step "$rt: container with uverbs0 + rdma_cm in linux.devices and allow rules"
	b=$WORK/$rt-rdma
	oci_bundle "$b" --rdma-dev 0 --rdma-cm -- \
		sh -c 'ls /dev/infiniband; ibv_devinfo -d rxe0'
	note "linux.devices: $(jq -c '[.linux.devices[] | "\(.path) \(.major):\(.minor)"]' "$b/config.json")"
	capture run_oci "$rt" "$b"
	show
	assert_eq 0 "$RC" "$rt: exit status of ls + ibv_devinfo -d rxe0"
	assert_contains "$OUT" $'rdma_cm\nuverbs0\n' "$rt: /dev/infiniband has exactly rdma_cm and uverbs0"
	assert_not_contains "$OUT" uverbs1 "$rt: the container's /dev/infiniband"
	assert_match "$OUT" $'hca_id:[[:space:]]+rxe0\n' "$rt: ibv_devinfo names the device"
	assert_match "$OUT" 'state:[[:space:]]+PORT_ACTIVE' "$rt: ibv_devinfo port state"
	assert_match "$OUT" 'link_layer:[[:space:]]+Ethernet' "$rt: ibv_devinfo link layer (RoCE)"

	step "$rt: the same container without those entries"
	b=$WORK/$rt-plain
	oci_bundle "$b" -- sh -c 'ls -ld /dev/infiniband; ibv_devinfo -d rxe0'
	capture run_oci "$rt" "$b"
	show
	[[ $RC != 0 ]] || fail "$rt: ibv_devinfo succeeded in a container given no RDMA device"
	ok "$rt: exit status $RC (not 0)"
	assert_contains "$OUT" "ls: cannot access '/dev/infiniband': No such file or directory" \
		"$rt: /dev/infiniband absent"
done
