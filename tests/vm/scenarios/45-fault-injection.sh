#!/usr/bin/env bash
# 45-fault-injection: every step of the inject path fails in turn on the real kernel, and the
# container and host are left exactly as before. A runc and a crun container (cgroup v2) get a
# createRuntime hook that, at the real point of the lifecycle, snapshots the container's
# /dev/infiniband, its cgroup's rdma.max, the +rdma of its ancestors' cgroup.subtree_control,
# the device programs attached to its cgroup (ids: the runtime's own program must be back),
# its RLIMIT_MEMLOCK and the host's RDMA devices; then for each step runs the fault build
# (tests/fault/crdma-hook-fault, CRDMA_FAULT=STEP[:N]): mknod 1st/2nd/3rd, chown of
# /dev/infiniband and of a node, the BPF program load, the BPF_F_REPLACE attach, +rdma in an
# ancestor (crun: runc enables it itself), rdma.max for the 1st and 2nd device, prlimit. Each
# must exit 3 with one stderr line naming the step, and leave the snapshot unchanged. Then the
# installed crdma-hook runs with CRDMA_FAULT=mknod set, ignores it and applies the plan (the
# snapshot changes, so the comparison can fail), and the container sees its devices.
# Not here: cgroup v1 devices.allow (the guest is pure v2) and the netns moves (rxe cannot
# move, EOPNOTSUPP, see 31): tests/unit/test-fault.c drives those on fake trees and replayed
# netlink.
# vm-timeout: 150
# shellcheck source=SCRIPTDIR/../lib.sh
. "${BASH_SOURCE[0]%/*}/../lib.sh"

need_hook
need_cmd runc crun jq rdma
FAULT_HOOK=$CRDMA_BUILD_DIR/tests/fault/crdma-hook-fault
DEVCG=$CRDMA_BUILD_DIR/tests/vm/crdma-vm-devcg
[[ -x $FAULT_HOOK ]] || skip "$FAULT_HOOK is not built (tests/fault/meson.build)"
[[ -x $DEVCG ]] || skip "$DEVCG is not built"

policy=$WORK/policy.json
echo '{"version": 1, "devices": ["rxe*"], "limits": {"memlock": "4G"}}' >"$policy"

# The hook: snapshot, each fault, snapshot; then the installed hook for real. Runs as the
# runtime's createRuntime hook (the container is created, its process waits, pivot_root has
# not happened: the rootfs path is valid in its mount namespace).
wrapper=$WORK/fault-hook.sh
cat >"$wrapper" <<'EOF'
#!/bin/bash
# fault-hook.sh CONF OUTDIR: see 45-fault-injection.sh
set -u
. "$1"
out=$2
state=$(cat)
pid=$(jq -r .pid <<<"$state")
bundle=$(jq -r .bundle <<<"$state")
rootfs=$(jq -r .root.path "$bundle/config.json")
cg=/sys/fs/cgroup$(jq -r .linux.cgroupsPath "$bundle/config.json")
echo "$pid" >"$out/pid"
# Few forks (each costs ~0.2 s under TCG): files are read with builtins; /proc/PID/root
# walks the container's mount namespace (its /dev) without nsenter.
lines() {
	local l
	while IFS= read -r l; do echo "$l"; done <"$1"
}
snap() {
	local d=$cg l
	echo "## /dev/infiniband"
	ls -ln "/proc/$pid/root$rootfs/dev/infiniband" 2>&1 | sed 1d
	echo "## rdma.max"
	lines "$cg/rdma.max" 2>&1 || echo "(no rdma.max)"
	echo "## subtree_control"
	while [[ $d != /sys/fs/cgroup ]]; do
		d=${d%/*}
		read -r l <"$d/cgroup.subtree_control"
		echo "$d: $l"
	done
	echo "## device programs"
	"$DEVCG" --query "$cg" 2>&1
	echo "## memlock"
	while read -r l; do [[ $l == "Max locked memory"* ]] && echo "$l"; done <"/proc/$pid/limits"
	echo "## rdma devices (init_net)"
	rdma dev show 2>&1
}
snap >"$out/before"
for s in $STEPS; do
	CRDMA_FAULT=$s "$FAULT_HOOK" --policy "$POLICY" createRuntime <<<"$state" >"$out/$s.out" 2>"$out/$s.err"
	echo $? >"$out/$s.rc"
	snap >"$out/$s.after"
done
CRDMA_FAULT=mknod "$HOOK" --policy "$POLICY" createRuntime <<<"$state" >"$out/real.out" 2>&1
echo $? >"$out/real.rc"
snap >"$out/applied"
exit 0
EOF
chmod +x "$wrapper"

# expected STEP RUNTIME: the text the step's error line must hold
expected() {
	case $1 in
	mknod) echo "/dev/infiniband/uverbs0: creating the device node (c 231:192) in the container failed: Operation not permitted; the hook needs CAP_MKNOD" ;;
	mknod:2) echo "/dev/infiniband/uverbs1: creating the device node (c 231:193) in the container failed: Operation not permitted" ;;
	mknod:3) echo "/dev/infiniband/rdma_cm: creating the device node (c $CM_NUM) in the container failed: Operation not permitted" ;;
	chown) echo "/dev/infiniband: setting its owner to 0:0 failed: Operation not permitted" ;;
	chown:2) echo "/dev/infiniband/uverbs0: setting the owner of the device node to 0:0 (the container's root) failed: Operation not permitted" ;;
	bpf-load) echo "cgroup $2: loading the device program failed: Operation not permitted; the hook needs CAP_SYS_ADMIN" ;;
	bpf-replace) echo "cgroup $2: replacing its device program (id " ;;
	subtree_control) echo "/cgroup.subtree_control: writing \"+rdma\" to enable the rdma controller for the container's cgroup failed (a cgroup with processes of its own cannot enable controllers for its children): Device or resource busy" ;;
	rdma.max) echo "cgroup $2/rdma.max: writing \"rxe0 hca_handle=2 hca_object=65536\" failed: Invalid argument" ;;
	rdma.max:2) echo "cgroup $2/rdma.max: writing \"rxe1 hca_handle=2 hca_object=65536\" failed: Invalid argument" ;;
	prlimit) echo "raising RLIMIT_MEMLOCK of the container to 1073741824 bytes (hard 1073741824 bytes) failed: Operation not permitted; the hook needs CAP_SYS_RESOURCE" ;;
	*) fail "no expected message for step $1" ;;
	esac
}
read -r _ maj min _ < <(dev_numbers /dev/infiniband/rdma_cm)
CM_NUM=$maj:$min

for rt in runc crun; do
	name=fault-$rt
	cgpath=/crdma-fault-$rt/$name
	steps="mknod mknod:2 mknod:3 chown chown:2 bpf-load bpf-replace rdma.max rdma.max:2 prlimit"
	# runc puts +rdma in the parent itself; crun leaves it to crdma.
	[[ $rt == runc ]] || steps="$steps subtree_control"
	out=$WORK/$rt.out
	mkdir -p "$out"
	cat >"$WORK/$rt.conf" <<EOF
FAULT_HOOK=$FAULT_HOOK
HOOK=$CRDMA_HOOK
POLICY=$policy
DEVCG=$DEVCG
STEPS="$steps"
EOF
	step "$rt: each step fails in turn in the createRuntime hook: $steps"
	t0=$SECONDS
	b=$WORK/$name
	oci_bundle "$b" --hook createRuntime "$wrapper $WORK/$rt.conf $out" --cgroup "$cgpath" \
		--annotation io.crdma.devices=rxe0,rxe1 --annotation io.crdma.hca-handles=2 \
		--annotation io.crdma.memlock=1G -- sh -c 'ls /dev/infiniband; echo "memlock $(ulimit -l)"'
	capture run_oci "$rt" "$b"
	show
	assert_eq 0 "$RC" "$rt: the container ran"
	before=$(cat "$out/before")
	printf '%s\n' "--- before:" "$before" | sed 's/^/   | /'
	assert_contains "$before" "crdma=no" "$rt: the runtime's own device program before"
	for s in $steps; do
		rc=$(cat "$out/$s.rc")
		err=$(cat "$out/$s.err")
		lines=$(grep -c '' "$out/$s.err" || true)
		note "$s: exit $rc: $err"
		assert_eq 3 "$rc" "$rt: CRDMA_FAULT=$s: exit status"
		assert_eq 1 "$lines" "$rt: CRDMA_FAULT=$s: lines on stderr"
		assert_contains "$err" "crdma-hook: error: container $name: " "$rt: CRDMA_FAULT=$s: the error line"
		assert_contains "$err" "$(expected "$s" "$cgpath")" "$rt: CRDMA_FAULT=$s: names the step"
		assert_not_contains "$err" "failed too" "$rt: CRDMA_FAULT=$s: the rollback"
		assert_not_contains "$err" "rolling back also failed" "$rt: CRDMA_FAULT=$s: the rollback"
		if ! diff -u "$out/before" "$out/$s.after" >"$WORK/diff"; then
			sed 's/^/   | /' "$WORK/diff"
			fail "$rt: CRDMA_FAULT=$s: the container or host changed"
		fi
		ok "$rt: CRDMA_FAULT=$s: nodes, rdma.max, subtree_control, device programs, memlock, devices as before"
	done

	step "$rt: the installed crdma-hook ignores CRDMA_FAULT=mknod and applies the plan"
	applied=$(cat "$out/applied")
	note "exit $(cat "$out/real.rc"): $(cat "$out/real.out")"
	printf '%s\n' "--- after the installed hook:" "$applied" | sed 's/^/   | /'
	assert_eq 0 "$(cat "$out/real.rc")" "$rt: installed hook exit status"
	assert_match "$applied" $'## /dev/infiniband\ncrw-rw-rw- 1 0 0 +10, +[0-9]+ [^\n]* rdma_cm\ncrw-rw-rw- 1 0 0 +231, 192 [^\n]* uverbs0\ncrw-rw-rw- 1 0 0 +231, 193 [^\n]* uverbs1\n' "$rt: nodes made"
	assert_contains "$applied" "rxe0 hca_handle=2 hca_object=65536" "$rt: rdma.max rxe0"
	assert_contains "$applied" "rxe1 hca_handle=2 hca_object=65536" "$rt: rdma.max rxe1"
	assert_contains "$applied" "crdma=c:10:$min,c:231:192,c:231:193" "$rt: crdma's device program"
	assert_match "$applied" $'## memlock\nMax locked memory +1073741824 +1073741824 +bytes' "$rt: RLIMIT_MEMLOCK raised"
	assert_contains "$OUT" $'rdma_cm\nuverbs0\nuverbs1\nmemlock 1048576' "$rt: the container's view"
	n=$(wc -w <<<"$steps")
	figure "$rt: $n injected faults, each exit 3 with one line naming the step and the container and host left as before ($((SECONDS - t0)) s)"
done
