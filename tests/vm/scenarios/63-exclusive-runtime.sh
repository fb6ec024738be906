#!/usr/bin/env bash
# 63-exclusive-runtime: exclusive netns mode through crdma-runtime, the shim (crdma_testdev in
# a netns_mode=0 boot), under Debian's Docker 20.10 and containerd's ctr. The request comes
# from the environment (CRDMA_NETNS=exclusive, allowed by the policy); the shim's edit adds
# the createRuntime and poststop entries that move the device:
#  - docker run: crdmatest0 in the container's namespace (sysfs, `rdma dev`), gone from the
#    host's; its node is the one the kernel made after the move and opens inside, EPERM from
#    the host;
#  - a second docker run asking for it is refused, docker run's error naming the device;
#  - it comes back on docker stop, on docker kill -s KILL, and on docker rm -f;
#  - ctr run --runc-binary crdma-runtime: moved in, used, back when the task ends.
# vm-needs: exclusive testdev
# vm-timeout: 400
# shellcheck source=SCRIPTDIR/../lib.sh
. "${BASH_SOURCE[0]%/*}/../lib.sh"

need_hook
shim=$CRDMA_BUILD_DIR/runtime/crdma-runtime
[[ -x $shim ]] || fail "crdma-runtime not built at $shim"
ibopen=$CRDMA_VM_TOOLS/crdma-vm-ibopen
[[ -x $ibopen ]] || fail "$ibopen is not built"
testdev_load 2
testdev_keep # rdma.max is set for its devices (lib.sh says why they stay)

policy=$WORK/policy.json
cat >"$policy" <<JSON
{"version": 1, "devices": ["crdmatest*", "rxe*"], "allow": {"environment": true},
 "runtime": {"runtimes": ["runc"], "hook": "$CRDMA_HOOK"}}
JSON
# ctr passes the shim no arguments: the same policy at the default path (put back at exit).
etc_policy_install "$policy"
trap 'engines_stop; etc_policy_restore' EXIT


step "containerd and dockerd up, the crdma runtime in daemon.json"
engines_start crdma "$shim" --crdma-policy "$policy"
engines_image crdma-vm
common=(--network none -v /usr:/usr:ro -v "$CRDMA_VM_TOOLS:/opt/crdma-vm:ro")
for d in $(host_dir_binds); do [[ $d == /usr ]] || common+=(-v "$d:$d:ro"); done
excl=(-e CRDMA_DEVICES=crdmatest0 -e CRDMA_NETNS=exclusive)
# shellcheck disable=SC2016 # expanded in the container
view='ls /sys/class/infiniband; rdma dev 2>&1 | cut -d" " -f2; ls /dev/infiniband
for d in /sys/class/infiniband_verbs/uverbs*; do
	[ "$(cat "$d/ibdev")" = crdmatest0 ] || continue
	n=/dev/infiniband/${d##*/}; echo "node $n $(cat "$d/dev") $(stat -c %t:%T "$n")"
	/opt/crdma-vm/crdma-vm-ibopen --node "$n" crdmatest0 | head -n1
done'

# hold_excl [PREFIX]: a detached container asking for crdmatest0 in exclusive mode, running
# PREFIX then "echo holding; sleep 600"; its id in id once it printed "holding", the device moved
logs_have() { D logs "$1" 2>&1 | grep -q "$2"; }
hold_excl() {
	id=$(D run -d --runtime crdma "${common[@]}" "${excl[@]}" crdma-vm sh -c "${1:-}echo holding; sleep 600")
	until_ok 60 logs_have "$id" holding
	testdev_in_host && fail "crdmatest0 did not move (the container's output: $(D logs "$id" 2>&1))"
	return 0
}

step "docker run --runtime crdma -e CRDMA_NETNS=exclusive: crdmatest0 moves into the container"
hold_excl "$view; "
OUT=$(D logs "$id" 2>&1)
show
assert_contains "$OUT" "crdmatest0" "the container sees crdmatest0"
assert_not_contains "$OUT" "crdmatest1" "... and not the device it did not ask for"
testdev_in_host && fail "crdmatest0 is still in the host's namespace"
ok "the host's rdma dev and sysfs lost crdmatest0"
read -r _ node numbers got <<<"$(grep '^node ' <<<"$OUT")"
[[ -n $node ]] || fail "no crdmatest0 node in the container"
assert_eq "$numbers" "$((16#${got%%:*})):$((16#${got##*:}))" "$node in the container is the moved device's ($numbers)"
assert_contains "$OUT" "node=$node errno=0" "open(2) on $node inside the container"
capture "$ibopen" --node "$node" crdmatest0
assert_contains "$OUT" "errno=1 (EPERM)" "open(2) on the host's ${node##*/}: EPERM"

step "a second docker run asking for crdmatest0: refused, naming it"
capture D run --rm --runtime crdma "${common[@]}" "${excl[@]}" crdma-vm echo RAN
show
[[ $RC != 0 ]] || fail "the second container ran"
assert_not_contains "$OUT" RAN "the second container's process"
assert_contains "$OUT" "device crdmatest0: in another network namespace (exclusive mode: another container holds it)" \
	"docker run's error names the device and why"

step "docker stop: back in the host"
D stop -t 1 "$id" >/dev/null
testdev_back "docker stop"
D rm "$id" >/dev/null

step "docker kill -s KILL: back in the host"
hold_excl
D kill -s KILL "$id" >/dev/null
testdev_back "docker kill -s KILL"
D rm "$id" >/dev/null

step "docker rm -f of a running container: back in the host"
hold_excl
D rm -f "$id" >/dev/null
testdev_back "docker rm -f"

step "ctr run --runc-binary crdma-runtime: moved in, used, back"
D save crdma-vm | C image import - >/dev/null
img=docker.io/library/crdma-vm:latest
mnt=(--mount "type=bind,src=/usr,dst=/usr,options=rbind:ro"
	--mount "type=bind,src=$CRDMA_VM_TOOLS,dst=/opt/crdma-vm,options=rbind:ro")
for d in $(host_dir_binds); do [[ $d == /usr ]] || mnt+=(--mount "type=bind,src=$d,dst=$d,options=rbind:ro"); done
capture C run --rm --runc-binary "$shim" "${mnt[@]}" --env CRDMA_DEVICES=crdmatest0 \
	--env CRDMA_NETNS=exclusive "$img" ctr-excl sh -c "$view"
show
assert_eq 0 "$RC" "ctr run exit status"
assert_contains "$OUT" "crdmatest0" "the ctr container saw crdmatest0"
assert_contains "$OUT" "errno=0" "... and opened its node"
testdev_back "ctr task ended"
C containers ls -q | grep -q . && fail "ctr containers left: $(C containers ls -q)"
ok "Docker and containerd: exclusive mode through crdma-runtime"
