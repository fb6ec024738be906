#!/usr/bin/env bash
# 10-hook-oci: crdma-hook as a createRuntime hook in config.json (what runc, crun and Slurm
# users configure), on the real kernel, with crun and with runc:
#  - an annotated container lists exactly uverbs0 and rdma_cm, ibv_devinfo -d rxe0 works,
#    io.crdma.hca-handles=1 makes the second ibv_open_device fail with EAGAIN and rdma.max /
#    rdma.current of its cgroup show it, io.crdma.memlock=1G shows in `ulimit -l`;
#  - the runtime's eBPF device program still denies a node crdma did not plan (umad0);
#  - an unannotated container gets nothing and the hook exits 0;
#  - refusals (a device outside the policy, umad under the default policy, a typo, a bad
#    number): the runtime reports the hook's one line and the container never runs. runc
#    passes the hook's stderr on in its error; crun 1.8 drops it unless the container has the
#    annotation run.oci.hooks.stderr=FILE (crun(1)), which is how the line is read here.
# vm-timeout: 240
# shellcheck source=SCRIPTDIR/../lib.sh
. "${BASH_SOURCE[0]%/*}/../lib.sh"

need_hook
tool=$CRDMA_VM_TOOLS/crdma-vm-open
[[ -x $tool ]] || fail "crdma-vm-open not found at $tool"

policy=$WORK/policy.json
cat >"$policy" <<'JSON'
{"version": 1, "devices": ["rxe0"], "limits": {"memlock": "4G"}}
JSON
hook_args="$CRDMA_HOOK --policy $policy createRuntime"
common=(--bind "$CRDMA_VM_TOOLS:/opt/crdma-vm" --hook createRuntime "$hook_args")

for rt in crun runc; do
	step "$rt: io.crdma.devices=rxe0, hca-handles=1, memlock=1G; umad0 present but not planned"
	b=$WORK/$rt-hook
	oci_bundle "$b" "${common[@]}" --cgroup "/crdma-vm-$rt/$rt-hook" \
		--annotation io.crdma.devices=rxe0 --annotation io.crdma.hca-handles=1 \
		--annotation io.crdma.memlock=1G --device /dev/infiniband/umad0 -- \
		sh -c 'ls /dev/infiniband; echo "memlock $(ulimit -l)";
		       head -c1 /dev/infiniband/umad0 2>&1 | sed "s/^/umad0: /";
		       ibv_devinfo -d rxe0 | grep -E "hca_id|state:";
		       exec /opt/crdma-vm/crdma-vm-open -d rxe0 -n 2 --hold'
	log=$WORK/$rt-hook.log
	hold_oci "$rt" "$b" "$log"
	show
	CG=$(bundle_cgroup "$b")
	MAX=$(rdma_line "$CG/rdma.max" rxe0 2>&1) || true
	CUR=$(rdma_line "$CG/rdma.current" rxe0 2>&1) || true
	note "$CG/rdma.max: $MAX; rdma.current: $CUR"
	"$rt" kill "${b##*/}" TERM
	wait "$BG_PID" || true

	assert_match "$OUT" $'^rdma_cm\numad0\nuverbs0\n' "$rt: /dev/infiniband (umad0 from config.json, the rest from crdma)"
	assert_contains "$OUT" "memlock 1048576" "$rt: ulimit -l (KiB) raised by the hook"
	assert_contains "$OUT" "umad0: head: cannot open '/dev/infiniband/umad0' for reading: Operation not permitted" \
		"$rt: a node crdma did not plan stays denied by the runtime's device program"
	assert_match "$OUT" 'hca_id:[[:space:]]+rxe0' "$rt: ibv_devinfo -d rxe0"
	assert_match "$OUT" 'state:[[:space:]]+PORT_ACTIVE' "$rt: port state"
	assert_contains "$OUT" "opened=1 errno=11 (EAGAIN)" "$rt: second ibv_open_device over hca_handle=1"
	assert_eq "rxe0 hca_handle=1 hca_object=65536" "$MAX" "$rt: rdma.max written by the hook"
	assert_eq "rxe0 hca_handle=1 hca_object=0" "$CUR" "$rt: rdma.current while held"

	step "$rt: no io.crdma.* annotation: untouched, the hook exits 0"
	b=$WORK/$rt-plain
	oci_bundle "$b" "${common[@]}" --annotation org.example=1 -- \
		sh -c 'ls /dev/infiniband 2>&1; echo "memlock $(ulimit -l)"'
	capture run_oci "$rt" "$b"
	show
	assert_eq 0 "$RC" "$rt: exit status"
	assert_contains "$OUT" "'/dev/infiniband': No such file or directory" "$rt: no /dev/infiniband"
	assert_not_contains "$OUT" "crdma-hook" "$rt: the hook said nothing"

	step "$rt: refusals reach the user as the hook's one line; the container never runs"
	for case in 'io.crdma.devices=rxe1|annotation io.crdma.devices: device rxe1 is not allowed by' \
		'io.crdma.umad=true|annotation io.crdma.umad="true": not allowed by' \
		'io.crdma.hca-handle=4|annotation io.crdma.hca-handle: unknown key' \
		'io.crdma.hca-handles=99999999999|annotation io.crdma.hca-handles="99999999999": too large'; do
		kv=${case%%|*} msg=${case#*|}
		b=$WORK/$rt-refused
		rm -rf "$b"
		anns=(--annotation "$kv" --annotation "run.oci.hooks.stderr=$WORK/hook.err")
		[[ $kv == io.crdma.devices=* ]] || anns+=(--annotation io.crdma.devices=rxe0)
		oci_bundle "$b" "${common[@]}" --cgroup "/crdma-vm-$rt/refused" "${anns[@]}" -- echo RAN
		rm -f "$WORK/hook.err"
		capture run_oci "$rt" "$b"
		[[ $rt != crun ]] || OUT+=$'\n'$(cat "$WORK/hook.err" 2>&1)
		OUT=${OUT//\\\"/\"}
		[[ $RC != 0 ]] || fail "$rt: $kv: the container ran"
		assert_contains "$OUT" "crdma-hook: error: container $rt-refused: $msg" "$rt: $kv"
		assert_not_contains "$OUT" RAN "$rt: $kv: the container's process"
		[[ ! -e /sys/fs/cgroup/crdma-vm-$rt/refused ]] || fail "$rt: $kv: its cgroup was left behind"
		"$rt" delete -f "$rt-refused" >/dev/null 2>&1 || true
	done
done
