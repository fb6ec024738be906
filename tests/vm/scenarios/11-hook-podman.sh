#!/usr/bin/env bash
# 11-hook-podman: crdma-hook through podman's --hooks-dir with the hooks.d files crdma ships
# (built copies naming the built hook: $CRDMA_BUILD_DIR/oci/build-crdma-hook*.json), under
# crun and runc: `podman run --annotation io.crdma.devices=rxe0` gets exactly uverbs0 and
# rdma_cm, ibv_devinfo works, io.crdma.hca-handles / io.crdma.memlock are in force; a
# container without io.crdma.* annotations gets nothing; a refusal fails the run.
# vm-timeout: 300
# shellcheck source=SCRIPTDIR/../lib.sh
. "${BASH_SOURCE[0]%/*}/../lib.sh"

need_hook
need_cmd podman
tool=$CRDMA_VM_TOOLS/crdma-vm-open
[[ -x $tool ]] || fail "crdma-vm-open not found at $tool"
hooks=$WORK/hooks.d
mkdir -p "$hooks"
for f in crdma-hook.json crdma-hook-poststop.json; do
	[[ -f $CRDMA_BUILD_DIR/oci/build-$f ]] || fail "$CRDMA_BUILD_DIR/oci/build-$f missing: rebuild"
	cp "$CRDMA_BUILD_DIR/oci/build-$f" "$hooks/$f"
done
note "hooks.d: $(jq -c '{path: .hook.path, args: .hook.args, when, stages}' "$hooks/crdma-hook.json")"

for rt in crun runc; do
	step "podman --runtime $rt --annotation io.crdma.devices=rxe0 (hca-handles=1, memlock=2G)"
	capture podman_run --runtime "$rt" --hooks-dir "$hooks" \
		--annotation io.crdma.devices=rxe0 --annotation io.crdma.hca-handles=1 \
		--annotation io.crdma.memlock=2G -v "$CRDMA_VM_TOOLS:/opt/crdma-vm:ro" \
		-- sh -c 'ls /dev/infiniband; echo "memlock $(ulimit -l)";
		          ibv_devinfo -d rxe0 | grep -E "hca_id|state:";
		          /opt/crdma-vm/crdma-vm-open -d rxe0 -n 2'
	show
	assert_contains "$OUT" $'rdma_cm\nuverbs0\n' "$rt: /dev/infiniband has exactly rdma_cm and uverbs0"
	assert_contains "$OUT" "memlock 2097152" "$rt: ulimit -l (KiB)"
	assert_match "$OUT" 'hca_id:[[:space:]]+rxe0' "$rt: ibv_devinfo -d rxe0"
	assert_match "$OUT" 'state:[[:space:]]+PORT_ACTIVE' "$rt: port state"
	assert_contains "$OUT" "opened=1 errno=11 (EAGAIN)" "$rt: second ibv_open_device over hca_handle=1"

	step "podman --runtime $rt without io.crdma.* annotations: nothing"
	capture podman_run --runtime "$rt" --hooks-dir "$hooks" --annotation org.example=1 \
		-- sh -c 'ls /dev/infiniband 2>&1; true'
	show
	assert_eq 0 "$RC" "$rt: exit status"
	assert_contains "$OUT" "No such file or directory" "$rt: no /dev/infiniband"

	step "podman --runtime $rt with a typo'd key: refused, the container does not run"
	capture podman_run --runtime "$rt" --hooks-dir "$hooks" \
		--annotation io.crdma.devices=rxe0 --annotation io.crdma.hca-handle=1 \
		--annotation "run.oci.hooks.stderr=$WORK/hook.err" -- echo RAN
	[[ $rt != crun ]] || OUT+=$'\n'$(cat "$WORK/hook.err" 2>&1)
	OUT=${OUT//\\\"/\"}
	show
	[[ $RC != 0 ]] || fail "$rt: the container ran"
	assert_contains "$OUT" "annotation io.crdma.hca-handle: unknown key" "$rt: the hook's reason"
	assert_not_contains "$OUT" RAN "$rt: the container's process"
done
