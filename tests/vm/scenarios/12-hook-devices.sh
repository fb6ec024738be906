#!/usr/bin/env bash
# 12-hook-devices: `crdma-hook devices` on the real kernel: both rxe devices with their
# kernel index (RDMA netlink), GUID, port, netdev and char devices as sysfs and
# /dev/infiniband have them, rdma_cm, and the netns mode; `--json` says the same.
# vm-timeout: 60
# shellcheck source=SCRIPTDIR/../lib.sh
. "${BASH_SOURCE[0]%/*}/../lib.sh"

need_hook
step "crdma-hook devices"
capture "$CRDMA_HOOK" devices
show
assert_eq 0 "$RC" "exit status"
assert_match "$OUT" $'\nrxe0 +[0-9]+ +CA +\\(software\\) +- +- +1 +Ethernet +ACTIVE +veth0 +uverbs0 231:192, umad0 231:0, issm0 231:64' "rxe0's row"
assert_match "$OUT" $'\nrxe1 +[0-9]+ +CA +\\(software\\) +- +- +1 +Ethernet +ACTIVE +veth1 +uverbs1 231:193, umad1 231:1, issm1 231:65' "rxe1's row"
assert_match "$OUT" $'rdma_cm: /dev/infiniband/rdma_cm 10:[0-9]+\n' "rdma_cm line"
assert_contains "$OUT" "netns mode: shared" "netns mode (RDMA netlink)"

step "crdma-hook devices --json against sysfs, /dev and rdma(8)"
capture "$CRDMA_HOOK" devices --json
assert_eq 0 "$RC" "exit status"
json=$OUT
for dev in rxe0 rxe1; do
	guid=$(cat "/sys/class/infiniband/$dev/node_guid")
	assert_eq "$guid" "$(jq -r --arg d "$dev" '.devices[] | select(.name == $d) | .nodeGuid' <<<"$json")" "$dev nodeGuid = sysfs"
	index=$(rdma -j dev show "$dev" | jq -r '.[0].ifindex')
	assert_eq "$index" "$(jq -r --arg d "$dev" '.devices[] | select(.name == $d) | .index' <<<"$json")" "$dev index = rdma dev show"
	n=${dev#rxe}
	read -r _ maj min _ < <(dev_numbers "/dev/infiniband/uverbs$n")
	assert_eq "$maj:$min" "$(jq -r --arg d "$dev" '.devices[] | select(.name == $d) | .charDevices[] | select(.kind == "uverbs") | .dev' <<<"$json")" "$dev uverbs = /dev/infiniband/uverbs$n"
done
read -r _ maj min _ < <(dev_numbers /dev/infiniband/rdma_cm)
assert_eq "$maj:$min" "$(jq -r .rdmaCm.dev <<<"$json")" "rdma_cm = /dev/infiniband/rdma_cm"
assert_eq shared "$(jq -r .netnsMode <<<"$json")" "netnsMode"
