#!/usr/bin/env bash
# 03-devcgroup-baseline: the device cgroup (cgroup v2: the runtime's eBPF program) is what
# guards RDMA devices: a node made by linux.devices without an allow rule in
# linux.resources.devices is there but cannot be opened ("Operation not permitted"); the
# same node with the rule opens. This is why crdma must add both.
# vm-timeout: 120
# shellcheck source=SCRIPTDIR/../lib.sh
. "${BASH_SOURCE[0]%/*}/../lib.sh"

for rt in crun runc; do
	step "$rt: uverbs0 in linux.devices, no allow rule"
	b=$WORK/$rt-noallow
	oci_bundle "$b" --device /dev/infiniband/uverbs0 -- \
		sh -c 'ls -l /dev/infiniband/uverbs0 && head -c1 /dev/infiniband/uverbs0'
	capture run_oci "$rt" "$b"
	show
	[[ $RC != 0 ]] || fail "$rt: opening uverbs0 without an allow rule succeeded"
	ok "$rt: exit status $RC (not 0)"
	assert_match "$OUT" 'crw-rw-rw- +1 root root 231, 192 [^\n]*/dev/infiniband/uverbs0' \
		"$rt: the node exists in the container (231:192)"
	assert_contains "$OUT" "head: cannot open '/dev/infiniband/uverbs0' for reading: Operation not permitted" \
		"$rt: open refused by the device cgroup"

	step "$rt: the same node with an allow rule opens (control)"
	b=$WORK/$rt-allow
	oci_bundle "$b" --device /dev/infiniband/uverbs0 --allow /dev/infiniband/uverbs0 -- \
		sh -c 'exec 3<>/dev/infiniband/uverbs0 && echo opened-read-write'
	capture run_oci "$rt" "$b"
	show
	assert_eq 0 "$RC" "$rt: exit status"
	assert_contains "$OUT" opened-read-write "$rt: uverbs0 opens read-write"
done
