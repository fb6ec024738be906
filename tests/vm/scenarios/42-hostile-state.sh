#!/usr/bin/env bash
# 42-hostile-state: OCI states whose pid is not the container's, given to crdma-hook by hand
# while a runc or crun container is held in its createRuntime stage (where the hook runs),
# on the real kernel:
#  - the pid of another host process, pid 1, a zombie, a pid that exited, the init of another
#    container, and the container's own pid after the container is gone and the number was
#    handed to a host process (pid reuse, forced through ns_last_pid): each refused with its
#    one line (exit 1), and the container, the other process and its cgroup untouched (no
#    /dev/infiniband in the container, rdma.max and RLIMIT_MEMLOCK as before);
#  - a state whose bundle is a symlink to the real bundle: refused;
#  - the runtime's own state, unchanged: the hook succeeds (the positive control);
#  - through the runtime: a 1 MiB io.crdma.devices annotation and a config.json nested 1,000
#    deep are refused with one line, and the container never runs.
# vm-timeout: 300
# shellcheck source=SCRIPTDIR/../lib.sh
. "${BASH_SOURCE[0]%/*}/../lib.sh"

need_hook
policy=$WORK/policy.json
echo '{"version": 1, "devices": ["rxe0"], "limits": {"memlock": "unlimited"}}' >"$policy"
hook=("$CRDMA_HOOK" --policy "$policy" createRuntime)
BGS=()
cleanup() {
	local p
	for p in "${BGS[@]}"; do kill "$p" 2>/dev/null || true; done
	lib_cleanup
}
trap cleanup EXIT

# gate: a createRuntime hook that saves the state the runtime passes and holds the container
# right there (before pivot_root), until GATE.go exists: the moment crdma-hook runs at
gate=$WORK/gate.sh
cat >"$gate" <<'GATE'
#!/bin/sh
cat >"$1.state"
i=0
while [ ! -e "$1.go" ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
GATE
chmod +x "$gate"
# created RUNTIME NAME: start NAME under RUNTIME and wait until it is held at the gate
declare -A CREATE_PID=()
created() {
	oci_bundle "$WORK/$2" --cgroup "/crdma-vm-42/$2" --hook createRuntime "$gate $WORK/$2" -- true
	CONTAINERS+=("$1 $2")
	"$1" create --bundle "$WORK/$2" "$2" </dev/null >"$WORK/$2.create.log" 2>&1 &
	CREATE_PID[$2]=$!
	wait_for "$WORK/$2.state" '"pid"' 60
}
# release NAME: let its runtime go on
release() { touch "$WORK/$1.go"; }
# state_of NAME [PID [BUNDLE]]: the state the runtime passed NAME's hooks, with
# io.crdma.devices=rxe0 and memlock=1G asked; PID and BUNDLE replace the real ones if given
state_of() {
	jq -c --argjson pid "${2:-null}" --arg bundle "${3:-}" \
		'{ociVersion: "1.0.2", id, status, pid: ($pid // .pid),
		  bundle: (if $bundle == "" then .bundle else $bundle end),
		  annotations: {"io.crdma.devices": "rxe0", "io.crdma.memlock": "1G"}}' "$WORK/$1.state"
}
# hook_with STATE: run the hook by hand; OUT, RC
hook_with() {
	local e=0
	[[ $- == *e* ]] && e=1
	set +e
	OUT=$("${hook[@]}" <<<"$1" 2>&1)
	RC=$?
	((e)) && set -e
	return 0
}
# untouched PID WHAT: the process's container view has no /dev/infiniband, its memlock is as
# before (MEMLOCK_BEFORE[PID]) and its cgroup's rdma.max too
declare -A MEMLOCK_BEFORE=() RDMA_BEFORE=()
remember() {
	MEMLOCK_BEFORE[$1]=$(prlimit --pid "$1" --memlock --output SOFT,HARD --noheadings)
	local cg
	cg=/sys/fs/cgroup$(sed -n 's/^0:://p' "/proc/$1/cgroup")
	RDMA_BEFORE[$1]=$(cat "$cg/rdma.max" 2>/dev/null || echo none)
}
untouched() {
	local cg
	cg=/sys/fs/cgroup$(sed -n 's/^0:://p' "/proc/$1/cgroup")
	assert_eq "${MEMLOCK_BEFORE[$1]}" "$(prlimit --pid "$1" --memlock --output SOFT,HARD --noheadings)" "$2: RLIMIT_MEMLOCK of process $1"
	assert_eq "${RDMA_BEFORE[$1]}" "$(cat "$cg/rdma.max" 2>/dev/null || echo none)" "$2: rdma.max of $cg"
}
no_nodes_in() { # PID ROOTFS WHAT
	capture nsenter -t "$1" -m -- ls "$2/dev/infiniband"
	assert_contains "$OUT" "No such file or directory" "$3: no /dev/infiniband in the container"
}
expect_refused() { # WHAT NEEDLE
	OUT=${OUT//\\\"/\"}
	show
	assert_eq 1 "$RC" "$1: exit status (refused)"
	assert_eq 1 "$(wc -l <<<"$OUT")" "$1: one line"
	assert_contains "$OUT" "$2" "$1: why"
}

for rt in runc crun; do
	step "$rt: containers A and B held where createRuntime hooks run"
	created "$rt" "$rt-A"
	created "$rt" "$rt-B"
	pa=$(jq .pid "$WORK/$rt-A.state") pb=$(jq .pid "$WORK/$rt-B.state")
	rootfs=$WORK/rootfs
	note "A: pid $pa, B: pid $pb"
	remember "$pa"

	step "$rt: the pid of another host process"
	sleep 1000 &
	victim=$!
	BGS+=("$victim")
	remember "$victim"
	hook_with "$(state_of "$rt-A" "$victim")"
	expect_refused "$rt other process" "crdma-hook: error: container $rt-A: process $victim: shares the pid namespace of crdma (the runtime's)"
	untouched "$victim" "$rt other process"

	step "$rt: pid 1"
	hook_with "$(state_of "$rt-A" 1)"
	expect_refused "$rt pid 1" "process 1: the init of crdma's pid namespace (the host's), never a created container's process"

	step "$rt: a zombie"
	bash -c 'sleep 0 & echo $! >'"$WORK/zombie"'; exec sleep 1000' &
	BGS+=("$!")
	sleep 1
	zombie=$(cat "$WORK/zombie")
	assert_match "$(cat "/proc/$zombie/stat")" "^$zombie \\(sleep\\) Z " "$rt: process $zombie is a zombie"
	hook_with "$(state_of "$rt-A" "$zombie")"
	expect_refused "$rt zombie" "process $zombie: has exited (a zombie)"

	step "$rt: a pid that exited"
	true &
	gone=$!
	wait "$gone"
	hook_with "$(state_of "$rt-A" "$gone")"
	expect_refused "$rt exited pid" "process $gone: no such process; the OCI state's pid names no live process"

	step "$rt: the init of another container (B) in A's state"
	remember "$pb"
	hook_with "$(state_of "$rt-A" "$pb")"
	expect_refused "$rt other container" "process $pb: in cgroup /crdma-vm-42/$rt-B, not in the container's linux.cgroupsPath \"/crdma-vm-42/$rt-A\""
	untouched "$pb" "$rt other container"
	no_nodes_in "$pb" "$rootfs" "$rt other container"

	step "$rt: a state whose bundle is a symlink to A's bundle"
	ln -sfn "$WORK/$rt-A" "$WORK/$rt-A-link"
	hook_with "$(state_of "$rt-A" "" "$WORK/$rt-A-link")"
	expect_refused "$rt symlinked bundle" "bundle $WORK/$rt-A-link: is a symbolic link or not a directory"

	step "$rt: after all that, container A is untouched"
	no_nodes_in "$pa" "$rootfs" "$rt A"
	untouched "$pa" "$rt A"

	step "$rt: A's own state: the hook succeeds"
	hook_with "$(state_of "$rt-A")"
	show
	assert_eq 0 "$RC" "$rt A: exit status"
	capture nsenter -t "$pa" -m -- ls "$rootfs/dev/infiniband"
	assert_match "$OUT" 'uverbs0' "$rt A: uverbs0 in the container"
	assert_eq "1073741824 1073741824" "$(prlimit --pid "$pa" --memlock --output SOFT,HARD --noheadings | xargs)" "$rt A: RLIMIT_MEMLOCK"

	step "$rt: A's state after A is gone and its pid went to a host process"
	state=$(state_of "$rt-A")
	release "$rt-A"
	release "$rt-B"
	wait "${CREATE_PID[$rt-A]}" "${CREATE_PID[$rt-B]}" || true
	"$rt" delete -f "$rt-A" >/dev/null 2>&1
	[[ ! -e /proc/$pa ]] || fail "$rt: A's process $pa is still there"
	reused=''
	for _ in 1 2 3 4 5; do
		bash -c 'echo $(('"$pa"' - 1)) >/proc/sys/kernel/ns_last_pid; sleep 1000 & echo $! >'"$WORK/reused"'; wait' &
		BGS+=("$!")
		sleep 0.5
		reused=$(cat "$WORK/reused")
		[[ $reused == "$pa" ]] && break
		kill "$reused" 2>/dev/null || true
	done
	assert_eq "$pa" "$reused" "$rt: a host process now has A's old pid"
	remember "$reused"
	hook_with "$state"
	expect_refused "$rt reused pid" "process $pa: shares the pid namespace of crdma"
	untouched "$reused" "$rt reused pid"
	kill "$reused"
	"$rt" delete -f "$rt-B" >/dev/null 2>&1 || true
done

for rt in runc crun; do
	step "$rt: a 1 MiB io.crdma.devices annotation, through the runtime"
	b=$WORK/$rt-big
	oci_bundle "$b" --hook createRuntime "${hook[*]}" --annotation "run.oci.hooks.stderr=$WORK/hook.err" \
		-- echo RAN
	# 1 MiB is past the kernel's limit for one argument: jq reads it from a file.
	head -c 1048576 /dev/zero | tr '\0' a >"$WORK/mib"
	jq --rawfile v "$WORK/mib" '.annotations["io.crdma.devices"] = $v' "$b/config.json" >"$b/c.new"
	mv "$b/c.new" "$b/config.json"
	rm -f "$WORK/hook.err"
	capture run_oci "$rt" "$b"
	OUT=$(cat "$WORK/hook.err" 2>/dev/null || echo "$OUT")
	OUT=${OUT//\\\"/\"}
	[[ $RC != 0 ]] || fail "$rt: the container ran"
	assert_contains "$OUT" "crdma-hook: error: container $rt-big: annotation io.crdma.devices: value longer than 64 KiB" "$rt 1 MiB annotation"
	"$rt" delete -f "$rt-big" >/dev/null 2>&1 || true

	# (10,000 levels: Go's encoding/json stops at 10,000, so runc would refuse it itself;
	# test-hostile-input covers 10,000 and 2 million levels in the hook.)
	step "$rt: config.json nested 1,000 deep, through the runtime"
	b=$WORK/$rt-deep
	oci_bundle "$b" --hook createRuntime "${hook[*]}" --annotation "run.oci.hooks.stderr=$WORK/hook.err" \
		--annotation io.crdma.devices=rxe0 -- echo RAN
	deep=$(printf '%*s' 1000 '' | tr ' ' '[')$(printf '%*s' 1000 '' | tr ' ' ']')
	jq -c '.' "$b/config.json" | sed "s/^{/{\"org.example.deep\":$deep,/" >"$b/config.json.new"
	mv "$b/config.json.new" "$b/config.json"
	rm -f "$WORK/hook.err"
	capture run_oci "$rt" "$b"
	all=$OUT$'\n'$(cat "$WORK/hook.err" 2>/dev/null || true)
	[[ $RC != 0 ]] || fail "$rt: the container ran"
	if [[ $all == *"crdma-hook: error:"* ]]; then
		assert_contains "$all" "config.json: nested deeper than 127 levels; not an OCI document" "$rt deep config"
	else
		# The runtime refuses the document before any hook runs: equally safe.
		note "$rt refused the config itself: $(head -c 200 <<<"$all")"
	fi
	assert_not_contains "$all" RAN "$rt deep config: the container's process"
	"$rt" delete -f "$rt-deep" >/dev/null 2>&1 || true
done
