#!/usr/bin/env bash
# 62-exclusive-podman: exclusive netns mode through podman's hooks.d (crdma-hook as
# createRuntime and poststop hook), on the moving test device, under crun and runc:
#  - `podman run --annotation io.crdma.netns=exclusive` moves crdmatest0 into the
#    container's namespace (it sees it, the host does not) and `podman run` ending returns it;
#  - `podman rm -f` of a running container returns it.
# (A podman pod is not here yet: `podman pod create` needs an infra image, which this offline
# guest has not got.)
# vm-needs: exclusive testdev
# vm-timeout: 400
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
in_host() { [[ -e /sys/class/infiniband/crdmatest0 ]]; }
back_in_host() {
	local end=$((SECONDS + 15))
	until in_host; do
		((SECONDS < end)) || fail "$1: crdmatest0 did not come back to the host's namespace"
		sleep 0.2
	done
	ok "$1: crdmatest0 is back in the host's namespace"
}

for rt in crun runc; do
	step "podman --runtime $rt, io.crdma.netns=exclusive: moved in, returned at the end"
	capture podman_run --runtime "$rt" --hooks-dir "$hooks" "${excl[@]}" -- sh -c "$view; echo ok-ran"
	show
	assert_eq 0 "$RC" "podman run exit status"
	assert_contains "$OUT" "crdmatest0" "the container sees crdmatest0"
	assert_not_contains "$OUT" "crdmatest1" "... and only it"
	assert_match "$OUT" 'uverbs[0-9]+' "... with its uverbs node"
	back_in_host "$rt: podman run ended"

	step "podman --runtime $rt: rm -f of a running container returns it"
	podman_run --runtime "$rt" --hooks-dir "$hooks" "${excl[@]}" --name "held-$rt" \
		-- sh -c 'echo holding; sleep 300' >"$WORK/held-$rt.log" 2>&1 &
	held=$!
	wait_for "$WORK/held-$rt.log" '^holding$|rror' 90
	in_host && fail "crdmatest0 did not move"
	ok "crdmatest0 left the host's namespace"
	podman_cmd rm -f -t 0 "held-$rt" >/dev/null
	wait "$held" || true
	back_in_host "$rt: podman rm -f"
done
