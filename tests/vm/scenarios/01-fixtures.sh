#!/usr/bin/env bash
# 01-fixtures: the VM has what every other scenario relies on: rdma_rxe devices rxe0 (on
# veth0) and rxe1 (on veth1), their character devices with the kernel's numbers, and the
# rdma controller in cgroup v2.
# vm-timeout: 60
# shellcheck source=SCRIPTDIR/../lib.sh
. "${BASH_SOURCE[0]%/*}/../lib.sh"

step "fixture setup in the guest"
[[ ${CRDMA_FIXTURES_RC:-1} == 0 ]] || fail "guest fixture setup failed (exit $CRDMA_FIXTURES_RC), see fixtures.log in the run directory"
ok "guest fixture setup exited 0"
note "kernel $(uname -r)"

step "rdma link: rxe0 on veth0, rxe1 on veth1"
capture rdma link show
show
assert_eq 0 "$RC" "rdma link show exit status"
assert_match "$OUT" 'link rxe0/1 state ACTIVE physical_state LINK_UP netdev veth0' "rxe0"
assert_match "$OUT" 'link rxe1/1 state ACTIVE physical_state LINK_UP netdev veth1' "rxe1"
capture ibv_devices
show
assert_match "$OUT" '(^|[[:space:]])rxe0[[:space:]]' "ibv_devices lists rxe0"
assert_match "$OUT" '(^|[[:space:]])rxe1[[:space:]]' "ibv_devices lists rxe1"

step "/dev/infiniband nodes: type, major:minor and mode as the kernel publishes them"
# shellcheck disable=SC2012 # the listing is for the reader
ls -l /dev/infiniband | sed 's/^/   | /'
# expected "TYPE MAJOR MINOR MODE" (vm-notes.md, DESIGN.md "Facts")
declare -A want=(
	[uverbs0]="c 231 192 666" [uverbs1]="c 231 193 666"
	[umad0]="c 231 0 600" [umad1]="c 231 1 600"
	[issm0]="c 231 64 600" [issm1]="c 231 65 600"
	[rdma_cm]="c 10 124 666"
)
for n in uverbs0 uverbs1 umad0 umad1 issm0 issm1 rdma_cm; do
	got=$(dev_numbers "/dev/infiniband/$n") || fail "/dev/infiniband/$n missing or not a device node"
	assert_eq "${want[$n]}" "$got" "/dev/infiniband/$n (type major minor mode)"
done
# the same numbers are in sysfs, where crdma reads them from
assert_eq "231:192" "$(cat /sys/class/infiniband_verbs/uverbs0/dev)" "sysfs infiniband_verbs/uverbs0/dev"
assert_eq "rxe0" "$(cat /sys/class/infiniband_verbs/uverbs0/ibdev)" "sysfs infiniband_verbs/uverbs0/ibdev"
assert_eq "231:193" "$(cat /sys/class/infiniband_verbs/uverbs1/dev)" "sysfs infiniband_verbs/uverbs1/dev"
assert_eq "10:124" "$(cat /sys/class/misc/rdma_cm/dev)" "sysfs misc/rdma_cm/dev"

step "cgroup v2 with the rdma controller"
assert_eq cgroup2fs "$(stat -f -c %T /sys/fs/cgroup)" "/sys/fs/cgroup filesystem"
ctl=$(cat /sys/fs/cgroup/cgroup.controllers)
note "cgroup.controllers: $ctl"
assert_match " $ctl " ' rdma ' "cgroup.controllers lists rdma"

step "rdma netns mode"
capture rdma system show
show
assert_match "$OUT" 'netns shared' "rdma system netns mode is shared at boot"

step "guest mounts podman and the runtimes need"
for m in /tmp /run /dev/shm; do
	assert_eq tmpfs "$(stat -f -c %T "$m")" "$m filesystem"
done
assert_eq devpts "$(stat -f -c %T /dev/pts)" "/dev/pts filesystem"
