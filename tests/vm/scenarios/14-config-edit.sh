#!/usr/bin/env bash
# 14-config-edit: the config-edit path, where the runtime itself applies the plan.
#  - `crdma-hook edit` on a bundle, then `runc run` (--runtime runc: linux.resources.rdma) and
#    `crun run` (default auto: crun ignores resources.rdma, so the edit adds a createRuntime
#    hook entry that writes rdma.max; and --runtime crun: the same entry under a parent
#    without +rdma (crun would refuse unified rdma.max there), else unified rdma.max, which crun applies
#    only when the parent cgroup has +rdma): /dev/infiniband, ulimit -l, ibv_devinfo, EAGAIN
#    past hca-handles=1, rdma.max of the container's cgroup; io.crdma.raw=true with a policy
#    that allows it gives CAP_NET_RAW (a hook could not);
#  - the kernel takes one device per rdma.max write: crun with a two-line unified rdma.max
#    fails, which is why two devices under crun go to the hook;
#  - podman's precreate stage (the shipped crdma-hook-precreate.json, alone in --hooks-dir)
#    under crun and runc: the same checks from inside the container; and with a seccomp
#    profile that denies the NUMA calls (Docker's gates them behind CAP_SYS_NICE; here
#    podman's own profile without mbind, get_mempolicy, set_mempolicy), get_mempolicy is
#    allowed after precreate, and stays denied with only the createRuntime hooks.d file (a
#    hook cannot change a seccomp filter).
# vm-timeout: 600
# shellcheck source=SCRIPTDIR/../lib.sh
. "${BASH_SOURCE[0]%/*}/../lib.sh"

need_hook
need_cmd podman
tool=$CRDMA_VM_TOOLS/crdma-vm-open
[[ -x $tool ]] || fail "crdma-vm-open not found at $tool"

policy=$WORK/policy.json
cat >"$policy" <<'JSON'
{"version": 1, "devices": ["rxe*"], "allow": {"netRaw": true}, "limits": {"memlock": "4G"}}
JSON
hook=("$CRDMA_HOOK" --policy "$policy")
# get_mempolicy(NULL, NULL, 0, NULL, 0): 0 unless seccomp denies it (x86_64: 239)
mempolicy='python3 -c "import ctypes, os; l = ctypes.CDLL(None, use_errno=True); r = l.syscall(239, 0, 0, 0, 0, 0); print(\"get_mempolicy:\", \"ok\" if r == 0 else os.strerror(ctypes.get_errno()))"'
probe="ls /dev/infiniband; echo \"memlock \$(ulimit -l)\";
       echo \"net_raw \$(( (0x\$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status) >> 13) & 1 ))\";
       $mempolicy; ibv_devinfo -d rxe0 | grep -E 'hca_id|state:';
       cat /sys/fs/cgroup/rdma.max 2>/dev/null | sed 's/^/rdma.max: /';
       /opt/crdma-vm/crdma-vm-open -d rxe0 -n 2"

# check_probe WHO: the probe's output in $OUT
check_probe() {
	assert_contains "$OUT" $'rdma_cm\nuverbs0\n' "$1: /dev/infiniband has rdma_cm and uverbs0"
	assert_contains "$OUT" "memlock 2097152" "$1: ulimit -l (KiB)"
	assert_match "$OUT" 'hca_id:[[:space:]]+rxe0' "$1: ibv_devinfo -d rxe0"
	assert_match "$OUT" 'state:[[:space:]]+PORT_ACTIVE' "$1: port state"
	assert_contains "$OUT" "opened=1 errno=11 (EAGAIN)" "$1: second ibv_open_device over hca_handle=1"
}

ann=(--annotation io.crdma.devices=rxe0 --annotation io.crdma.hca-handles=1
	--annotation io.crdma.memlock=2G --annotation io.crdma.raw=true)

# edit_run RUNTIME EDIT-RUNTIME [CGROUP]: a bundle edited by crdma-hook edit, run to the end
edit_run() {
	local rt=$1 how=$2 b=$WORK/$1-edit-$2
	oci_bundle "$b" --bind "$CRDMA_VM_TOOLS:/opt/crdma-vm" --cgroup "${3:-/crdma-vm-$rt/${b##*/}}" \
		"${ann[@]}" -- sh -c "$probe; cat /proc/self/cgroup"
	capture "${hook[@]}" edit --runtime "$how" "$b"
	assert_eq 0 "$RC" "crdma-hook edit --runtime $how: exit status ($OUT)"
	cp "$b/config.json" "$CRDMA_ARTIFACTS/${b##*/}.edited.json"
	EDITED=$b/config.json
	note "edited: $(jq -c '{devices: [.linux.devices[]?.path], rdma: .linux.resources.rdma,
		unified: .linux.resources.unified, hooks: [.hooks.createRuntime[]?.args[-1]],
		memlock: [.process.rlimits[]? | select(.type == "RLIMIT_MEMLOCK") | .soft],
		net_raw: (.process.capabilities.effective | index("CAP_NET_RAW") != null)}' "$EDITED")"
	capture run_oci "$rt" "$b"
	show
	assert_eq 0 "$RC" "$rt: exit status"
}

step "runc run after crdma-hook edit --runtime runc: the runtime applies everything"
edit_run runc runc
check_probe "runc (edit)"
assert_contains "$OUT" "net_raw 1" "runc (edit): CAP_NET_RAW granted through the config"
assert_eq null "$(jq -c .hooks.createRuntime "$EDITED")" "runc (edit): no hook entry needed"
assert_eq '{"rxe0":{"hcaHandles":1,"hcaObjects":65536}}' "$(jq -c .linux.resources.rdma "$EDITED")" \
	"runc (edit): linux.resources.rdma"

step "crun run after crdma-hook edit (auto): resources.rdma for runc, the hook entry for crun"
edit_run crun auto
check_probe "crun (edit, auto)"
assert_contains "$OUT" "net_raw 1" "crun (edit, auto): CAP_NET_RAW"
assert_eq '["createRuntime"]' "$(jq -c '[.hooks.createRuntime[].args[-1]]' "$EDITED")" \
	"crun (edit, auto): one createRuntime entry"

step "crun run after crdma-hook edit --runtime crun, on the host as it is (no +rdma above it)"
# crun refuses unified["rdma.max"] under a parent without +rdma ("the requested cgroup
# controller 'rdma' is not available") and does not enable it: the edit leaves the limit to
# the createRuntime entry, and the run works.
edit_run crun crun /crdma-vm-crun-bare/crun-edit-crun
check_probe "crun (edit, crun, no +rdma)"
assert_eq null "$(jq -c '.linux.resources.unified["rdma.max"]' "$EDITED")" \
	"crun (edit, crun, no +rdma): no unified rdma.max"
assert_eq 1 "$(jq '[.hooks.createRuntime[]? | select(.args[-1] == "createRuntime")] | length' "$EDITED")" \
	"crun (edit, crun, no +rdma): the createRuntime entry"

step "crun run after crdma-hook edit --runtime crun: unified rdma.max (the parent has +rdma)"
mkdir -p /sys/fs/cgroup/crdma-vm-crun-rdma
echo +rdma >/sys/fs/cgroup/cgroup.subtree_control
echo +rdma >/sys/fs/cgroup/crdma-vm-crun-rdma/cgroup.subtree_control
edit_run crun crun /crdma-vm-crun-rdma/crun-edit-crun
check_probe "crun (edit, crun)"
assert_eq '"rxe0 hca_handle=1 hca_object=65536"' "$(jq -c '.linux.resources.unified["rdma.max"]' "$EDITED")" \
	"crun (edit, crun): unified rdma.max"
assert_eq null "$(jq -c .hooks.createRuntime "$EDITED")" "crun (edit, crun): no hook entry"

step "crun with a two-line unified rdma.max (rxe0 and rxe1, hca_handle=1 each)"
# The kernel parses one device per rdma.max write, and reads "1\nrxe1" as 1: crun before
# 1.18 writes the value in one write, so rxe0 gets both limits and rxe1 none, silently
# (crun 1.18 writes line by line). Hence two devices under crun go to the hook.
b=$WORK/crun-unified-two
oci_bundle "$b" --bind "$CRDMA_VM_TOOLS:/opt/crdma-vm" --cgroup /crdma-vm-crun-rdma/crun-unified-two \
	--rdma-dev 0 --rdma-dev 1 \
	--jq '.linux.resources.unified = {"rdma.max": "rxe0 hca_handle=1\nrxe1 hca_handle=1"}' -- \
	sh -c '/opt/crdma-vm/crdma-vm-open -d rxe0 -n 2; exec /opt/crdma-vm/crdma-vm-open -d rxe1 -n 2 --hold'
log=$WORK/crun-unified-two.log
hold_oci crun "$b" "$log"
show
CG=$(bundle_cgroup "$b")
MAX0=$(rdma_line "$CG/rdma.max" rxe0 2>&1) || true
MAX1=$(rdma_line "$CG/rdma.max" rxe1 2>&1) || true
crun_version=$(crun --version | sed -n 's/^crun version //p')
figure "crun $crun_version, unified rdma.max \"rxe0 hca_handle=1\\nrxe1 hca_handle=1\": $MAX0; $MAX1"
crun kill crun-unified-two TERM 2>/dev/null
wait "$BG_PID" || true
IFS=. read -r major minor _ <<<"$crun_version"
if ((major == 1 && minor < 18)); then
	assert_eq "rxe0 hca_handle=1 hca_object=max" "$MAX0" "crun < 1.18: rxe0 limited"
	assert_eq "rxe1 hca_handle=max hca_object=max" "$MAX1" "crun < 1.18: rxe1 silently unlimited"
	assert_contains "$OUT" "device=rxe1 opened=2 errno=0" "crun < 1.18: two opens of rxe1 succeed"
else
	assert_eq "rxe1 hca_handle=1 hca_object=max" "$MAX1" "crun >= 1.18: rxe1 limited"
fi

step "crdma-hook edit --runtime crun with two devices: the hook entry, and both limits in force"
b=$WORK/crun-edit-two
oci_bundle "$b" --bind "$CRDMA_VM_TOOLS:/opt/crdma-vm" --cgroup /crdma-vm-crun/crun-edit-two \
	--annotation io.crdma.devices=rxe0,rxe1 --annotation io.crdma.hca-handles=1 -- \
	sh -c '/opt/crdma-vm/crdma-vm-open -d rxe0 -n 2; exec /opt/crdma-vm/crdma-vm-open -d rxe1 -n 2 --hold'
capture "${hook[@]}" edit --runtime crun "$b"
assert_eq 0 "$RC" "edit: exit status"
assert_eq '["createRuntime"]' "$(jq -c '[.hooks.createRuntime[].args[-1]]' "$b/config.json")" "edit: hook entry"
assert_eq null "$(jq -c '.linux.resources.unified' "$b/config.json")" "edit: no unified rdma.max"
log=$WORK/crun-edit-two.log
hold_oci crun "$b" "$log"
show
CG=$(bundle_cgroup "$b")
note "$CG/rdma.max: $(paste -sd';' "$CG/rdma.max")"
crun kill crun-edit-two TERM
wait "$BG_PID" || true
assert_eq 2 "$(grep -c 'opened=1 errno=11 (EAGAIN)' <<<"$OUT")" "crun (two devices): EAGAIN on rxe0 and rxe1"

# ---------------------------------------------------------------- podman precreate
hooks=$WORK/hooks.d
mkdir -p "$hooks" "$WORK/hooks-create.d"
[[ -f $CRDMA_BUILD_DIR/oci/build-crdma-hook-precreate.json ]] || fail "build-crdma-hook-precreate.json missing: rebuild"
jq --arg p "$policy" '.hook.args = [.hook.args[0], "--policy", $p] + .hook.args[1:]' \
	"$CRDMA_BUILD_DIR/oci/build-crdma-hook-precreate.json" >"$hooks/crdma-hook-precreate.json"
jq --arg p "$policy" '.hook.args = [.hook.args[0], "--policy", $p] + .hook.args[1:]' \
	"$CRDMA_BUILD_DIR/oci/build-crdma-hook.json" >"$WORK/hooks-create.d/crdma-hook.json"
note "precreate hooks.d: $(jq -c '{args: .hook.args, when, stages}' "$hooks/crdma-hook-precreate.json")"
profile=/usr/share/containers/seccomp.json
[[ -f $profile ]] || fail "$profile: podman's seccomp profile is missing"
nonuma=$WORK/seccomp-nonuma.json
jq '.syscalls |= map(.names -= ["mbind", "get_mempolicy", "set_mempolicy"])' "$profile" >"$nonuma"
note "$nonuma: $profile without mbind, get_mempolicy, set_mempolicy (default $(jq -r .defaultAction "$nonuma"))"

for rt in crun runc; do
	step "podman --runtime $rt, precreate hook only: ${ann[*]}"
	capture podman_run --runtime "$rt" --hooks-dir "$hooks" "${ann[@]}" \
		--security-opt "seccomp=$nonuma" -v "$CRDMA_VM_TOOLS:/opt/crdma-vm:ro" -- sh -c "$probe; true"
	show
	assert_eq 0 "$RC" "$rt (precreate): exit status"
	check_probe "$rt (precreate)"
	assert_contains "$OUT" "net_raw 1" "$rt (precreate): CAP_NET_RAW"
	assert_contains "$OUT" "get_mempolicy: ok" "$rt (precreate): the edited seccomp profile allows get_mempolicy"
	assert_contains "$OUT" "rdma.max: rxe0 hca_handle=1 hca_object=65536" "$rt (precreate): rdma.max inside"
done

step "podman --runtime runc, createRuntime hooks.d only: the profile still denies get_mempolicy"
capture podman_run --runtime runc --hooks-dir "$WORK/hooks-create.d" \
	--security-opt "seccomp=$nonuma" --annotation io.crdma.devices=rxe0 -- sh -c "$mempolicy"
show
assert_contains "$OUT" "get_mempolicy: " "createRuntime only: the probe ran"
assert_not_contains "$OUT" "get_mempolicy: ok" "createRuntime only: still denied (a hook cannot change seccomp)"

step "podman precreate, a refused request: the container does not run"
capture podman_run --runtime runc --hooks-dir "$hooks" --annotation io.crdma.devices=rxe0 \
	--annotation io.crdma.hca-handle=1 -- echo RAN
show
[[ $RC != 0 ]] || fail "the container ran"
assert_not_contains "$OUT" RAN "the container's process"
# podman drops a precreate hook's stderr (the line goes to syslog); plan shows the reason
capture "${hook[@]}" plan -a io.crdma.devices=rxe0 -a io.crdma.hca-handle=1
assert_contains "$OUT" "annotation io.crdma.hca-handle: unknown key" "crdma-hook plan: the reason"
