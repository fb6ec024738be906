#!/usr/bin/env bash
# 16-cdi-podman: `crdma-hook cdi --output /etc/cdi/crdma.json` writes a spec podman 4.3 loads;
# under crun and runc `podman run --device crdma.io/hca=rxe0` gets exactly uverbs0 and
# rdma_cm (0666, the host's numbers) and a working rxe0, `crdma.io/hca=all` both devices, an
# unknown name fails the run. CDI carries no limit: alone, a second ibv_open_device succeeds;
# with the createRuntime hook (--hooks-dir, io.crdma.* annotations) next to CDI, rdma.max and
# RLIMIT_MEMLOCK are in force and the nodes stay as CDI made them. And the number the
# Apptainer TOML uses for "max" (2147483647) reads back as max from rdma.max.
# vm-timeout: 420
# shellcheck source=SCRIPTDIR/../lib.sh
. "${BASH_SOURCE[0]%/*}/../lib.sh"

need_hook
need_cmd podman jq
tool=$CRDMA_VM_TOOLS/crdma-vm-open
[[ -x $tool ]] || fail "crdma-vm-open not found at $tool"

step "crdma-hook cdi --output /etc/cdi/crdma.json"
mkdir -p /etc/cdi
capture "$CRDMA_HOOK" cdi --output /etc/cdi/crdma.json
show
assert_eq 0 "$RC" "crdma-hook cdi: exit status"
spec=/etc/cdi/crdma.json
cp "$spec" "$CRDMA_ARTIFACTS/crdma.json" 2>/dev/null || true
note "$(jq -c '{cdiVersion, kind, devices: [.devices[] | {name, nodes: [.containerEdits.deviceNodes[] | "\(.path) \(.major):\(.minor)"]}]}' "$spec")"
assert_eq "644" "$(stat -c %a "$spec")" "spec file mode"
assert_eq "0.3.0 crdma.io/hca" "$(jq -r '"\(.cdiVersion) \(.kind)"' "$spec")" "cdiVersion and kind"
assert_eq "rxe0 rxe1 all" "$(jq -r '[.devices[].name] | join(" ")' "$spec")" "CDI devices"
for n in uverbs0 uverbs1 rdma_cm; do
	read -r _ maj min mode < <(dev_numbers "/dev/infiniband/$n")
	assert_eq "$maj $min" "$(jq -r --arg p "/dev/infiniband/$n" \
		'[.devices[] | select(.name == "all") | .containerEdits.deviceNodes[] | select(.path == $p)][0] | "\(.major) \(.minor)"' "$spec")" \
		"all: $n has the host's numbers ($mode)"
done

hooks=$WORK/hooks.d
mkdir -p "$hooks"
for f in crdma-hook.json crdma-hook-poststop.json; do
	[[ -f $CRDMA_BUILD_DIR/oci/build-$f ]] || fail "$CRDMA_BUILD_DIR/oci/build-$f missing: rebuild"
	cp "$CRDMA_BUILD_DIR/oci/build-$f" "$hooks/$f"
done

for rt in crun runc; do
	step "podman --runtime $rt --device crdma.io/hca=rxe0 (CDI alone: no limits)"
	capture podman_run --runtime "$rt" --device crdma.io/hca=rxe0 -v "$CRDMA_VM_TOOLS:/opt/crdma-vm:ro" \
		-- sh -c 'ls /dev/infiniband; stat -c "%n %a" /dev/infiniband/*;
		          ibv_devinfo -d rxe0 | grep -E "hca_id|state:";
		          /opt/crdma-vm/crdma-vm-open -d rxe0 -n 2'
	show
	assert_eq 0 "$RC" "$rt: exit status"
	assert_contains "$OUT" $'rdma_cm\nuverbs0\n' "$rt: /dev/infiniband has exactly rdma_cm and uverbs0"
	assert_contains "$OUT" $'/dev/infiniband/rdma_cm 666\n/dev/infiniband/uverbs0 666' "$rt: nodes 0666 (fileMode)"
	assert_match "$OUT" 'hca_id:[[:space:]]+rxe0' "$rt: ibv_devinfo -d rxe0"
	assert_match "$OUT" 'state:[[:space:]]+PORT_ACTIVE' "$rt: port state"
	assert_contains "$OUT" "opened=2 errno=0" "$rt: two ibv_open_device: CDI sets no rdma.max"

	step "podman --runtime $rt --device crdma.io/hca=all"
	capture podman_run --runtime "$rt" --device crdma.io/hca=all -- sh -c 'ls /dev/infiniband; ibv_devices'
	show
	assert_eq 0 "$RC" "$rt: exit status"
	assert_contains "$OUT" $'rdma_cm\nuverbs0\nuverbs1\n' "$rt: rdma_cm, uverbs0, uverbs1"
	assert_match "$OUT" $'rxe0[[:space:]]+[0-9a-f]{16}\n[[:space:]]*rxe1' "$rt: ibv_devices lists rxe0 and rxe1"

	step "podman --runtime $rt --device crdma.io/hca=rxe0 + createRuntime hook (hca-handles=1, memlock=2G)"
	capture podman_run --runtime "$rt" --hooks-dir "$hooks" --device crdma.io/hca=rxe0 \
		--annotation io.crdma.devices=rxe0 --annotation io.crdma.hca-handles=1 \
		--annotation io.crdma.memlock=2G -v "$CRDMA_VM_TOOLS:/opt/crdma-vm:ro" \
		-- sh -c 'ls /dev/infiniband; echo "memlock $(ulimit -l)";
		          ibv_devinfo -d rxe0 | grep -E "hca_id";
		          /opt/crdma-vm/crdma-vm-open -d rxe0 -n 2'
	show
	assert_contains "$OUT" $'rdma_cm\nuverbs0\n' "$rt: the nodes CDI made, nothing added"
	assert_contains "$OUT" "memlock 2097152" "$rt: ulimit -l (KiB) from the hook"
	assert_match "$OUT" 'hca_id:[[:space:]]+rxe0' "$rt: ibv_devinfo -d rxe0"
	assert_contains "$OUT" "opened=1 errno=11 (EAGAIN)" "$rt: second ibv_open_device over hca_handle=1"

	step "podman --runtime $rt --device crdma.io/hca=mlx5_9: no such CDI device, no container"
	capture podman_run --runtime "$rt" --device crdma.io/hca=mlx5_9 -- echo RAN
	show
	[[ $RC != 0 ]] || fail "$rt: the container ran"
	assert_contains "$OUT" "unresolvable CDI devices crdma.io/hca=mlx5_9" "$rt: podman's reason"
	assert_not_contains "$OUT" RAN "$rt: the container's process"
done

step "Apptainer's TOML writes 2147483647 for max: the kernel reads it back as max"
capture "$CRDMA_HOOK" apptainer-cgroups -a io.crdma.devices=rxe0 -a io.crdma.hca-handles=3
show
assert_eq 0 "$RC" "apptainer-cgroups: exit status"
assert_contains "$OUT" $'[rdma.rxe0]\nhcaHandles = 3\nhcaObjects = 65536' "rxe0's table"
cg=/sys/fs/cgroup/crdma-vm-16
mkdir -p "$cg"
grep -qw rdma /sys/fs/cgroup/cgroup.subtree_control || echo +rdma >/sys/fs/cgroup/cgroup.subtree_control
# What opencontainers/cgroups writes for {hcaHandles: 3, hcaObjects: 2147483647}.
echo "rxe0 hca_handle=3 hca_object=2147483647" >"$cg/rdma.max"
assert_eq "rxe0 hca_handle=3 hca_object=max" "$(rdma_line "$cg/rdma.max" rxe0)" "rdma.max"
rmdir "$cg"
