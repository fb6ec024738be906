#!/usr/bin/env bash
# 61-exclusive-move: exclusive netns mode on a device that really moves (crdma_testdev, in a
# boot whose ib_core has netns_mode=0), under runc and crun with crdma-hook as createRuntime
# and poststop hook:
#  - io.crdma.netns=exclusive moves crdmatest0 into the container's network namespace at
#    createRuntime: the container sees it (sysfs, `rdma dev`), the host does not;
#  - the node in the container is the one the kernel made after the move (its sysfs dev
#    file), it opens inside and is EPERM from the host;
#  - a second container asking for the device another holds is refused, naming it;
#  - the device comes back when the container ends: a normal exit (poststop), `kill -9` of
#    its process then `delete`, `delete -f` of a running container, and the runtime itself
#    killed (the kernel's return when the namespace dies);
#  - the config-edit path: `crdma-hook edit` adds the createRuntime and poststop entries and
#    runc runs the bundle with the device moved in and back;
#  - fault injection on the real kernel: the second of two moves fails, the first device is
#    moved back and the container does not run; the createRuntime stage failing after the
#    move (as when a runtime kills a hook past its timeout): the device comes back;
#  - a named netns (a pod's) that outlives the container: poststop returns both devices; a
#    fault at the first return: poststop warns naming it (in runc's log: it exits 3), the
#    other comes back, and deleting the namespace returns the first;
#  - the move and the return, timed; start-up in exclusive mode against shared mode.
# vm-needs: exclusive testdev
# vm-timeout: 400
# shellcheck source=SCRIPTDIR/../lib.sh
. "${BASH_SOURCE[0]%/*}/../lib.sh"

need_hook
trap 'ip netns delete crdma-pod 2>/dev/null || true' EXIT
ibopen=$CRDMA_VM_TOOLS/crdma-vm-ibopen
[[ -x $ibopen ]] || fail "$ibopen is not built"
testdev_load 2
testdev_keep # rdma.max is set for its devices (lib.sh says why they stay)
policy=$WORK/policy.json
echo '{"version": 1, "devices": ["crdmatest*", "rxe*"]}' >"$policy"
hooks=(--hook createRuntime "$CRDMA_HOOK --policy $policy createRuntime"
	--hook poststop "$CRDMA_HOOK --policy $policy poststop"
	--bind "$CRDMA_VM_TOOLS:/opt/crdma-vm")
excl=(--annotation io.crdma.devices=crdmatest0 --annotation io.crdma.netns=exclusive)
# What a container shows: its view of the RDMA devices and an open(2) of each uverbs node.
# shellcheck disable=SC2016 # expanded in the container
view='ls /sys/class/infiniband; rdma dev 2>&1 | cut -d" " -f2; ls -ln /dev/infiniband;
for n in /dev/infiniband/uverbs*; do /opt/crdma-vm/crdma-vm-ibopen --node "$n" crdmatest0 | head -n1; done'

ms_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", (b - a) * 1000 }'; }

for rt in runc crun; do
	step "$rt: io.crdma.netns=exclusive moves crdmatest0 into the container's namespace"
	b=$WORK/$rt-held
	# shellcheck disable=SC2016 # expanded in the container
	oci_bundle "$b" "${hooks[@]}" "${excl[@]}" -- sh -c "$view; echo holding; sleep 120"
	t0=$EPOCHREALTIME
	start_oci "$rt" "$b" "$WORK/$rt-held.log"
	wait_for "$WORK/$rt-held.log" '^holding$|rror' 60
	figure "$rt: createRuntime to the container's first output, exclusive: $(ms_since "$t0") ms"
	OUT=$(cat "$WORK/$rt-held.log")
	show
	assert_contains "$OUT" "crdmatest0" "the container sees crdmatest0"
	assert_not_contains "$OUT" "crdmatest1" "... and not the device it did not ask for"
	assert_not_contains "$OUT" "rxe0" "... nor rxe, which stays in init_net"
	testdev_in_host && fail "crdmatest0 is still in the host's namespace"
	ok "the host's rdma dev and sysfs lost crdmatest0"
	pid=$($rt state "${b##*/}" | jq -r .pid)
	# The node the kernel made after the move: crdmatest0's uverbs entry in the container's
	# sysfs (infiniband_verbs lists every device, whatever its namespace) against the node
	# in the container's /dev.
	# shellcheck disable=SC2016 # expanded by the container's sh
	info=$(nsenter -t "$pid" -m sh -c 'for d in /sys/class/infiniband_verbs/uverbs*; do
		[ "$(cat "$d/ibdev")" = crdmatest0 ] || continue
		n=/dev/infiniband/${d##*/}; echo "crdmatest0 $(cat "$d/dev") $n $(stat -c %t:%T "$n")"; done')
	note "in the container: $info"
	read -r dev numbers node got <<<"$info"
	assert_eq crdmatest0 "$dev" "the container's uverbs device"
	assert_eq "$numbers" "$((16#${got%%:*})):$((16#${got##*:}))" "$node in the container is the moved device's ($numbers)"
	assert_contains "$OUT" "node=$node errno=0" "open(2) on $node inside the container"
	capture "$ibopen" --node "/dev/infiniband/${node##*/}" crdmatest0
	assert_contains "$OUT" "errno=1 (EPERM)" "open(2) on the host's ${node##*/}: EPERM (another namespace holds it)"

	step "$rt: a second container asking for crdmatest0 is refused, naming it"
	b2=$WORK/$rt-second
	# (crun 1.8 prints only "error executing hook": the hook's stderr goes to a file)
	oci_bundle "$b2" "${hooks[@]}" "${excl[@]}" --annotation "run.oci.hooks.stderr=$WORK/$rt-hook.err" \
		-- echo RAN
	capture run_oci "$rt" "$b2"
	OUT=${OUT//\\\"/\"}$'\n'$(cat "$WORK/$rt-hook.err" 2>/dev/null || true)
	show
	[[ $RC != 0 ]] || fail "the second container ran"
	assert_not_contains "$OUT" RAN "the second container's process"
	assert_contains "$OUT" "device crdmatest0: in another network namespace (exclusive mode: another container holds it)" \
		"the refusal names the device and why"
	"$rt" delete -f "${b2##*/}" >/dev/null 2>&1 || true

	step "$rt: the device comes back: kill -9 of the process, then delete"
	t0=$EPOCHREALTIME
	kill -9 "$pid"
	wait "$BG_PID" || true
	"$rt" delete -f "${b##*/}" >/dev/null 2>&1 || true
	testdev_back "$rt kill -9"
	figure "$rt: kill -9 to crdmatest0 back in init_net: $(ms_since "$t0") ms"

	step "$rt: a normal exit returns it (poststop)"
	b=$WORK/$rt-exit
	# shellcheck disable=SC2016
	oci_bundle "$b" "${hooks[@]}" "${excl[@]}" -- sh -c "$view"
	capture run_oci "$rt" "$b"
	show
	assert_eq 0 "$RC" "$rt run exit status"
	assert_contains "$OUT" "crdmatest0" "the container saw crdmatest0"
	testdev_back "$rt normal exit"

	step "$rt: delete -f of a running container returns it"
	b=$WORK/$rt-delete
	oci_bundle "$b" "${hooks[@]}" "${excl[@]}" -- sh -c 'echo holding; sleep 120'
	start_oci "$rt" "$b" "$WORK/$rt-delete.log"
	wait_for "$WORK/$rt-delete.log" '^holding$|rror' 60
	testdev_in_host && fail "crdmatest0 did not move"
	capture "$rt" delete -f "${b##*/}"
	[[ $RC == 0 ]] || note "$rt delete -f: exit $RC: $OUT (crun 1.8 once answered \"cannot open directory '/run/crun/<id>'\" here; the return is what this checks)"
	wait "$BG_PID" || true
	testdev_back "$rt delete -f"

	step "$rt: the runtime killed while the container runs: the kernel returns the device"
	b=$WORK/$rt-rtkill
	oci_bundle "$b" "${hooks[@]}" "${excl[@]}" -- sh -c 'echo holding; sleep 120'
	start_oci "$rt" "$b" "$WORK/$rt-rtkill.log"
	wait_for "$WORK/$rt-rtkill.log" '^holding$|rror' 60
	testdev_in_host && fail "crdmatest0 did not move"
	cpid=$($rt state "${b##*/}" | jq -r .pid)
	kill -9 "$BG_PID" # the runtime, not the container
	wait "$BG_PID" || true
	kill -9 "$cpid" 2>/dev/null || true
	testdev_back "$rt killed, then its container"
	"$rt" delete -f "${b##*/}" >/dev/null 2>&1 || true
done

step "the config-edit path: crdma-hook edit adds the createRuntime and poststop entries, runc runs it"
b=$WORK/edit-excl
oci_bundle "$b" --bind "$CRDMA_VM_TOOLS:/opt/crdma-vm" "${excl[@]}" -- sh -c "$view"
capture "$CRDMA_HOOK" --policy "$policy" edit --runtime runc "$b"
assert_eq 0 "$RC" "crdma-hook edit: exit status ($OUT)"
assert_eq '["createRuntime","poststop"]' \
	"$(jq -c '[(.hooks.createRuntime[]?, .hooks.poststop[]?) | .args[-1]]' "$b/config.json")" \
	"the edit's hook entries"
capture run_runc "$b"
show
assert_eq 0 "$RC" "runc run of the edited bundle"
assert_contains "$OUT" "crdmatest0" "the container saw crdmatest0"
assert_not_contains "$OUT" "crdmatest1" "... and only it"
testdev_back "edited bundle, normal exit"

FAULT_HOOK=$CRDMA_BUILD_DIR/tests/fault/crdma-hook-fault
if [[ -x $FAULT_HOOK ]]; then
	step "a fault at the second move: the first device is moved back, the container does not run"
	b=$WORK/fault-move
	oci_bundle "$b" --hook createRuntime "$FAULT_HOOK --policy $policy createRuntime" \
		--annotation io.crdma.devices=crdmatest0,crdmatest1 --annotation io.crdma.netns=exclusive \
		--jq '.hooks.createRuntime[0].env += ["CRDMA_FAULT=netns-move:2"]' -- echo RAN
	capture run_runc "$b"
	OUT=${OUT//\\\"/\"}
	show
	[[ $RC != 0 ]] || fail "the container ran"
	assert_not_contains "$OUT" RAN "the container's process"
	assert_contains "$OUT" "crdmatest1" "the hook names the device whose move failed"
	testdev_back "rollback after the failed second move"
	[[ -e /sys/class/infiniband/crdmatest1 ]] || fail "crdmatest1 left the host's namespace"
	ok "crdmatest1 never left"
	runc delete -f fault-move >/dev/null 2>&1 || true
else
	fail "$FAULT_HOOK is not built (tests/fault/meson.build)"
fi

step "a named network namespace (a pod's): poststop returns the devices while it lives on"
# A netns that outlives the container (a pod's, bind-mounted under /run/netns) keeps what was
# moved into it: the kernel returns devices only when a namespace dies, so poststop must.
ip netns add crdma-pod || fail "ip netns add crdma-pod"
pod_net='.linux.namespaces |= map(if .type == "network" then .path = "/run/netns/crdma-pod" else . end)'
# shellcheck disable=SC2054 # one annotation value
two=(--annotation io.crdma.devices=crdmatest0,crdmatest1 --annotation io.crdma.netns=exclusive)
b=$WORK/pod-return
oci_bundle "$b" "${hooks[@]}" "${two[@]}" --jq "$pod_net" -- sh -c "$view"
capture run_runc "$b"
show
assert_eq 0 "$RC" "runc run in /run/netns/crdma-pod"
assert_contains "$OUT" "crdmatest1" "the container saw both devices"
testdev_back "poststop, crdma-pod still alive"
[[ -e /sys/class/infiniband/crdmatest1 ]] || fail "crdmatest1 stayed in crdma-pod"
ok "crdmatest1 is back too"
ip netns exec crdma-pod ls /sys/class/infiniband | grep -q crdmatest &&
	fail "crdma-pod still holds a crdmatest device"
ok "crdma-pod holds no device"

step "a fault at the return: poststop warns, naming the device; the namespace's end returns it"
b=$WORK/fault-return
oci_bundle "$b" "${hooks[@]}" "${two[@]}" --jq "$pod_net" \
	--jq ".hooks.poststop[0].path = \"$FAULT_HOOK\" | .hooks.poststop[0].env += [\"CRDMA_FAULT=netns-return:1\"]" \
	-- sh -c "$view"
capture run_runc "$b"
OUT=${OUT//\\\"/\"}
show
assert_eq 0 "$RC" "runc run: the container's exit status, not poststop's"
# poststop exits 3 so that runc logs its stderr (it drops a hook's stderr on success)
assert_contains "$OUT" "exit status 3, stdout: , stderr: crdma-hook: warning: container fault-return: device crdmatest0: moving it back to the host's network namespace failed" \
	"runc's log has poststop's warning, naming the container and the device"
runc state fault-return >/dev/null 2>&1 && fail "runc kept fault-return after the failed poststop"
ok "runc removed the container all the same"
[[ -e /sys/class/infiniband/crdmatest1 ]] || fail "crdmatest1 was not returned"
ok "crdmatest1, whose return did not fail, is back"
testdev_in_host && fail "crdmatest0 is in the host's namespace: the injected fault did not hit"
ip netns exec crdma-pod ls /sys/class/infiniband | grep -qx crdmatest0 ||
	fail "crdmatest0 is neither in the host's namespace nor in crdma-pod"
ok "crdmatest0 stays in crdma-pod, as the warning says"
ip netns delete crdma-pod
testdev_back "ip netns delete crdma-pod (the kernel's return)"

step "the createRuntime stage failing after the move: the device comes back"
# As when a runtime kills a hook past its timeout after crdma-hook moved the device: a wrapper
# runs crdma-hook to the end, then fails the stage. (A SIGKILL inside crdma-hook's own window
# between the move and its exit is not hit this way: the move is its last step.)
failer=$WORK/fail-after-hook.sh
cat >"$failer" <<SH
#!/bin/bash
$CRDMA_HOOK --policy $policy createRuntime || exit
[[ ! -e /sys/class/infiniband/crdmatest0 ]] && echo "crdma-hook moved crdmatest0; failing the stage" >&2
exit 1
SH
chmod +x "$failer"
b=$WORK/stage-failed
oci_bundle "$b" --hook createRuntime "$failer" "${excl[@]}" -- echo RAN
capture run_runc "$b"
OUT=${OUT//\\\"/\"}
show
[[ $RC != 0 ]] || fail "the container ran"
assert_contains "$OUT" "crdma-hook moved crdmatest0; failing the stage" "the device had moved"
assert_not_contains "$OUT" RAN "the container's process"
runc delete -f stage-failed >/dev/null 2>&1 || true
testdev_back "createRuntime failed after the move"

step "start-up: shared mode against exclusive mode, runc, same device"
oci_bundle "$WORK/t-shared" --host-net "${hooks[@]}" --annotation io.crdma.devices=crdmatest0 -- true
oci_bundle "$WORK/t-excl" "${hooks[@]}" "${excl[@]}" -- true
shared_ms=() excl_ms=()
for i in 1 2 3 4 5; do
	t0=$EPOCHREALTIME
	run_runc "$WORK/t-shared" >/dev/null 2>&1 || fail "shared run $i"
	shared_ms+=("$(ms_since "$t0")")
	t0=$EPOCHREALTIME
	run_runc "$WORK/t-excl" >/dev/null 2>&1 || fail "exclusive run $i"
	excl_ms+=("$(ms_since "$t0")")
	testdev_back "exclusive run $i" >/dev/null
done
median() { printf '%s\n' "$@" | sort -n | sed -n 3p; }
figure "runc run, crdmatest0 via crdma-hook (median of 5): shared $(median "${shared_ms[@]}") ms, exclusive (move + return) $(median "${excl_ms[@]}") ms"
