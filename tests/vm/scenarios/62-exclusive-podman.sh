#!/usr/bin/env bash
# 62-exclusive-podman: exclusive netns mode through podman's hooks.d (crdma-hook as
# createRuntime and poststop hook), on the moving test device, under crun and runc:
#  - `podman run --annotation io.crdma.netns=exclusive` moves crdmatest0 into the
#    container's namespace (it sees it, the host does not) and `podman run` ending returns it;
#  - `podman rm -f` of a running container returns it;
#  - crdma-hook killed in the middle of its work, by the runtime past the hook's timeout
#    (the fault build stalls after the move): podman run fails, the device comes back;
#  - a podman pod (its infra image built offline from catatonit): the device moves into the
#    pod's namespace once, a second container of the pod sees and opens it, containers of the
#    pod ending leave it there while the pod lives, a container outside the pod asking for it
#    is refused with a message naming it, and `podman pod rm -f` returns it.
# vm-needs: exclusive testdev
# vm-timeout: 600
# shellcheck source=SCRIPTDIR/../lib.sh
. "${BASH_SOURCE[0]%/*}/../lib.sh"

need_hook
need_cmd podman
testdev_load 2
testdev_keep # rdma.max is set for its devices (lib.sh says why they stay)
policy=$WORK/policy.json
echo '{"version": 1, "devices": ["crdmatest*", "rxe*"]}' >"$policy"
hooks=$WORK/hooks.d
mkdir -p "$hooks"
for stage in createRuntime poststop; do
	jq -n --arg hook "$CRDMA_HOOK" --arg policy "$policy" --arg stage "$stage" '{
		version: "1.0.0",
		hook: {path: $hook, args: ["crdma-hook", "--policy", $policy, $stage],
		       env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], timeout: 30},
		when: {annotations: {"^io\\.crdma\\.": ".*"}}, stages: [$stage]}' >"$hooks/crdma-$stage.json"
done
excl=(--annotation io.crdma.devices=crdmatest0 --annotation io.crdma.netns=exclusive)
# shellcheck disable=SC2016 # expanded in the container
view='ls /sys/class/infiniband; ls /dev/infiniband'

for rt in crun runc; do
	step "podman --runtime $rt, io.crdma.netns=exclusive: moved in, returned at the end"
	capture podman_run --runtime "$rt" --hooks-dir "$hooks" "${excl[@]}" -- sh -c "$view; echo ok-ran"
	show
	assert_eq 0 "$RC" "podman run exit status"
	assert_contains "$OUT" "crdmatest0" "the container sees crdmatest0"
	assert_not_contains "$OUT" "crdmatest1" "... and only it"
	assert_match "$OUT" 'uverbs[0-9]+' "... with its uverbs node"
	testdev_back "$rt: podman run ended"

	step "podman --runtime $rt: rm -f of a running container returns it"
	podman_run --runtime "$rt" --hooks-dir "$hooks" "${excl[@]}" --name "held-$rt" \
		-- sh -c 'echo holding; sleep 300' >"$WORK/held-$rt.log" 2>&1 &
	held=$!
	wait_for "$WORK/held-$rt.log" '^holding$|rror' 90
	testdev_in_host && fail "crdmatest0 did not move"
	ok "crdmatest0 left the host's namespace"
	podman_cmd rm -f -t 0 "held-$rt" >/dev/null
	wait "$held" || true
	testdev_back "$rt: podman rm -f"
done

# ------------------------------------------------------------------ the hook killed
fault_hook=$CRDMA_BUILD_DIR/tests/fault/crdma-hook-fault
[[ -x $fault_hook ]] || fail "$fault_hook is not built (tests/fault/meson.build)"
stall=$WORK/hooks-stall
mkdir -p "$stall"
cp "$hooks/crdma-poststop.json" "$stall/"
# The fault build's "stall": everything applied (the device moved), then it waits to be killed.
jq -n --arg hook "$fault_hook" --arg policy "$policy" '{
	version: "1.0.0",
	hook: {path: $hook, args: ["crdma-hook-fault", "--policy", $policy, "createRuntime"],
	       env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "CRDMA_FAULT=stall"], timeout: 5},
	when: {annotations: {"^io\\.crdma\\.": ".*"}}, stages: ["createRuntime"]}' >"$stall/crdma-createRuntime.json"
for rt in crun runc; do
	step "podman --runtime $rt: crdma-hook killed past its timeout after the move: the device comes back"
	rm -f "$WORK/moved-$rt"
	( for _ in $(seq 100); do testdev_in_host || { touch "$WORK/moved-$rt"; break; }; sleep 0.1; done ) &
	watcher=$!
	capture podman_run --runtime "$rt" --hooks-dir "$stall" "${excl[@]}" -- echo RAN
	wait "$watcher" || true
	show
	assert_eq 1 "$((RC != 0))" "podman run fails"
	assert_not_contains "$OUT" RAN "the container's process did not run"
	[[ -e $WORK/moved-$rt ]] || fail "crdmatest0 never left the host: the hook did not get to the move"
	ok "the hook moved crdmatest0, then was killed"
	testdev_back "$rt: the hook killed"
done

# ------------------------------------------------------------------ a pod
step "a podman pod: crdmatest0 moves into the pod's namespace once, every container uses it"
need_cmd catatonit
pod=crdma-pod
# No infra image configured: podman 4 builds localhost/podman-pause from catatonit, offline.
capture podman_cmd pod create --name "$pod" --network none
show
assert_eq 0 "$RC" "podman pod create"
# Podman 4.3 with --cgroup-manager cgroupfs on cgroup v2 attaches a deny-all device program
# (`w0 = 0; exit`) to the pod's own cgroup, so no container of the pod, its infra included,
# can even open /dev/null ("mknod `/dev/null`: Operation not permitted"). Under systemd, as on
# a real host, no such program exists; this guest has no systemd, so it is detached here.
podcg=/sys/fs/cgroup$(podman_cmd pod inspect --format '{{.CgroupPath}}' "$pod")
[[ -d $podcg ]] || fail "the pod's cgroup $podcg does not exist"
for id in $(bpftool -j cgroup show "$podcg" | jq -r '.[] | select(.attach_type == "cgroup_device" or .attach_type == "device") | .id'); do
	note "detaching podman's deny-all device program $id from $podcg: $(bpftool prog dump xlated id "$id" | tr -s ' \n' ' ')"
	bpftool cgroup detach "$podcg" device id "$id" || fail "bpftool cgroup detach $podcg device id $id"
done
[[ -d $PODMAN_ROOTFS ]] || make_rootfs "$PODMAN_ROOTFS"
# pod_run [RUN-OPTION]... -- CMD...: podman run in the pod, crdma's hooks, the host's /usr
pod_run() {
	local -a opts=()
	while [[ $1 != -- ]]; do opts+=("$1"); shift; done
	shift
	podman "${podman_global[@]}" --hooks-dir "$hooks" run --rm --pod "$pod" "${opts[@]}" \
		--annotation "run.oci.hooks.stderr=$WORK/pod-hook.err" \
		-v /usr:/usr:ro --rootfs "$PODMAN_ROOTFS" "$@" </dev/null
}
# (crun 1.8 prints only "error executing hook": the hook's stderr goes to that file)
hook_err() { cat "$WORK/pod-hook.err" 2>/dev/null || true; }
# shellcheck disable=SC2016 # expanded in the container
use='ls /sys/class/infiniband; for n in /dev/infiniband/uverbs*; do
	msg=$( { : <>"$n"; } 2>&1 ) && echo "$n opens" || echo "$n: ${msg##*: }"; done'
pod_run "${excl[@]}" --name pod-a -- sh -c "$use; echo holding; sleep 300" >"$WORK/pod-a.log" 2>&1 &
pod_a=$!
wait_for "$WORK/pod-a.log" '^holding$|rror' 120
sed 's/^/   | pod-a: /' "$WORK/pod-a.log"
assert_contains "$(cat "$WORK/pod-a.log")" "crdmatest0" "the pod's first container sees crdmatest0"
testdev_in_host && fail "crdmatest0 did not move into the pod's namespace"
ok "crdmatest0 left the host's namespace for the pod's"
capture pod_run "${excl[@]}" -- sh -c "$use"
OUT+=$'\n'$(hook_err)
show
assert_eq 0 "$RC" "the pod's second container: exit status"
assert_contains "$OUT" "crdmatest0" "the second container sees crdmatest0 (moved once, not again)"
assert_match "$OUT" '/dev/infiniband/uverbs[0-9]+ opens' "... and opens its node"
testdev_in_host && fail "the second container's poststop took crdmatest0 from the pod while pod-a uses it"
ok "the second container ended: crdmatest0 stays in the pod's namespace"

step "a container outside the pod asking for crdmatest0: refused, naming it"
rm -f "$WORK/pod-hook.err"
capture podman_run --hooks-dir "$hooks" "${excl[@]}" --annotation "run.oci.hooks.stderr=$WORK/pod-hook.err" \
	-- sh -c 'echo ran-outside'
OUT+=$'\n'$(hook_err)
show
assert_eq 1 "$((RC != 0))" "podman run outside the pod fails"
assert_contains "$OUT" "device crdmatest0: in another network namespace (exclusive mode: another container holds it)" \
	"the refusal names the device and why"
assert_not_contains "$OUT" "ran-outside" "nothing ran"

step "the pod's containers end, then the pod: crdmatest0 back in the host's namespace"
podman_cmd rm -f -t 0 pod-a >/dev/null
wait "$pod_a" || true
testdev_in_host && fail "pod-a's poststop took crdmatest0 from the pod while the pod lives"
ok "no container left, the pod alive: crdmatest0 still the pod's"
podman_cmd pod rm -f "$pod" >/dev/null
testdev_back "podman pod rm -f"
