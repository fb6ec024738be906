#!/usr/bin/env bash
# 04-rdma-max-manual: the rdma cgroup controller limits what a container opens, set by hand:
# runc applies linux.resources.rdma (hca_handle and hca_object), an open past the limit
# fails with EAGAIN, and rdma.max / rdma.current in the container's cgroup show it. crun
# ignores linux.resources.rdma and does not enable +rdma; it applies
# linux.resources.unified["rdma.max"] once +rdma is enabled in the parent.
# vm-timeout: 150
# shellcheck source=SCRIPTDIR/../lib.sh
. "${BASH_SOURCE[0]%/*}/../lib.sh"

tool=$CRDMA_VM_TOOLS/crdma-vm-open
[[ -x $tool ]] || fail "crdma-vm-open not found at $tool (tests/vm/run builds it)"
# run the tool in the container from /opt/crdma-vm (a read-only bind of its dir)
common=(--rdma-dev 0 --bind "$CRDMA_VM_TOOLS:/opt/crdma-vm")

# hold RUNTIME BUNDLE: start it, wait until the tool holds its handles; the tool's report in
# REPORT, rxe0's lines of the cgroup's rdma.max and rdma.current in MAX and CUR; stop it
hold() {
	local rt=$1 b=$2 log=$WORK/${2##*/}.log
	hold_oci "$rt" "$b" "$log" 60
	REPORT=$OUT
	CG=$(bundle_cgroup "$b")
	MAX=$(rdma_line "$CG/rdma.max" rxe0 2>&1) || true
	CUR=$(rdma_line "$CG/rdma.current" rxe0 2>&1) || true
	printf '%s\n' "$REPORT" | sed 's/^/   | /'
	note "$CG/rdma.max: $(paste -sd';' "$CG/rdma.max" 2>/dev/null || echo '(no such file)')"
	note "$CG/rdma.current: $(paste -sd';' "$CG/rdma.current" 2>/dev/null || echo '(no such file)')"
	"$rt" kill "${b##*/}" TERM
	wait "$BG_PID" || true
}

step "runc: linux.resources.rdma {rxe0: hcaHandles 1, hcaObjects 2}; open rxe0 twice, 3 PDs"
b=$WORK/runc-rdma
oci_bundle "$b" "${common[@]}" \
	--jq '.linux.resources.rdma = {"rxe0": {"hcaHandles": 1, "hcaObjects": 2}}' \
	-- /opt/crdma-vm/crdma-vm-open -d rxe0 -n 2 -p 3 --hold
hold runc "$b"
assert_contains "$REPORT" "opened=1 errno=11 (EAGAIN)" "runc: second ibv_open_device over hca_handle=1"
assert_contains "$REPORT" "pds=2 errno=11 (EAGAIN)" "runc: third ibv_alloc_pd over hca_object=2"
assert_eq "rxe0 hca_handle=1 hca_object=2" "$MAX" "runc: rdma.max"
assert_eq "rxe0 hca_handle=1 hca_object=2" "$CUR" "runc: rdma.current while held"

step "runc: no rdma limit: both opens succeed and rdma.max says max (runc enabled +rdma)"
b=$WORK/runc-nolimit
oci_bundle "$b" "${common[@]}" -- /opt/crdma-vm/crdma-vm-open -d rxe0 -n 2 --hold
hold runc "$b"
assert_contains "$REPORT" "opened=2 errno=0" "runc: two opens without a limit"
assert_eq "rxe0 hca_handle=max hca_object=max" "$MAX" "runc: rdma.max without a limit"
assert_eq "rxe0 hca_handle=2 hca_object=0" "$CUR" "runc: rdma.current while held"

step "crun: linux.resources.rdma is ignored; the cgroup has no rdma files"
b=$WORK/crun-rdma
oci_bundle "$b" "${common[@]}" --cgroup /crdma-vm-crun/crun-rdma \
	--jq '.linux.resources.rdma = {"rxe0": {"hcaHandles": 1}}' \
	-- /opt/crdma-vm/crdma-vm-open -d rxe0 -n 2 --hold
hold crun "$b"
assert_contains "$REPORT" "opened=2 errno=0" "crun: linux.resources.rdma not applied"
[[ ! -e $CG/rdma.max ]] || fail "crun: $CG/rdma.max exists"
ok "crun: no rdma.max in $CG (+rdma not enabled by crun)"
note "/sys/fs/cgroup/crdma-vm-crun/cgroup.subtree_control: $(cat /sys/fs/cgroup/crdma-vm-crun/cgroup.subtree_control)"

step "crun: linux.resources.unified rdma.max without +rdma in the parent"
b=$WORK/crun-unified-norc
oci_bundle "$b" "${common[@]}" --cgroup /crdma-vm-crun2/crun-unified-norc \
	--jq '.linux.resources.unified = {"rdma.max": "rxe0 hca_handle=1"}' \
	-- /opt/crdma-vm/crdma-vm-open -d rxe0 -n 2
capture run_crun "$b"
show
[[ $RC != 0 ]] || fail "crun: started a container whose rdma.max it cannot write"
ok "crun: refused to start it (exit $RC)"
assert_contains "$OUT" "the requested cgroup controller \`rdma\` is not available" "crun: the error"

step "crun: linux.resources.unified rdma.max with +rdma enabled in the parent by hand"
mkdir -p /sys/fs/cgroup/crdma-vm-crun3
echo +rdma >/sys/fs/cgroup/cgroup.subtree_control
echo +rdma >/sys/fs/cgroup/crdma-vm-crun3/cgroup.subtree_control
b=$WORK/crun-unified
oci_bundle "$b" "${common[@]}" --cgroup /crdma-vm-crun3/crun-unified \
	--jq '.linux.resources.unified = {"rdma.max": "rxe0 hca_handle=1"}' \
	-- /opt/crdma-vm/crdma-vm-open -d rxe0 -n 2 --hold
hold crun "$b"
assert_contains "$REPORT" "opened=1 errno=11 (EAGAIN)" "crun: second open over the unified limit"
assert_eq "rxe0 hca_handle=1 hca_object=max" "$MAX" "crun: rdma.max"
assert_eq "rxe0 hca_handle=1 hca_object=0" "$CUR" "crun: rdma.current while held"
