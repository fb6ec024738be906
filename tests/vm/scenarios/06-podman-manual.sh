#!/usr/bin/env bash
# 06-podman-manual: podman (crun and runc) with RDMA by hand: `--device` for uverbs0 and
# rdma_cm gives a working rxe0. And the hooks.d template the crdma-hook scenarios build on:
# a --hooks-dir JSON file for stage createRuntime, `when` any annotation key matching
# ^io\.crdma\., runs its hook for a container with an io.crdma.* annotation (any key, so a
# typo reaches crdma-hook, which refuses it) with the OCI state on stdin, and not for one
# without.
# vm-timeout: 240
# shellcheck source=SCRIPTDIR/../lib.sh
. "${BASH_SOURCE[0]%/*}/../lib.sh"

for rt in crun runc; do
	step "podman --runtime $rt --device uverbs0 --device rdma_cm: ibv_devinfo -d rxe0"
	capture podman_run --runtime "$rt" \
		--device /dev/infiniband/uverbs0 --device /dev/infiniband/rdma_cm \
		-- sh -c 'ls /dev/infiniband; ibv_devinfo -d rxe0'
	show
	assert_eq 0 "$RC" "$rt: exit status"
	assert_contains "$OUT" $'rdma_cm\nuverbs0\n' "$rt: /dev/infiniband has exactly rdma_cm and uverbs0"
	assert_match "$OUT" $'hca_id:[[:space:]]+rxe0\n' "$rt: ibv_devinfo names the device"
	assert_match "$OUT" 'state:[[:space:]]+PORT_ACTIVE' "$rt: port state"
done

step "podman without --device: no /dev/infiniband"
capture podman_run -- sh -c 'ls -ld /dev/infiniband'
show
[[ $RC != 0 ]] || fail "/dev/infiniband exists in a podman container given no device"
assert_contains "$OUT" "No such file or directory" "no /dev/infiniband"

# ------------------------------------------------------------------ hooks.d template
hooks=$WORK/hooks.d
records=$WORK/hook-records
mkdir -p "$hooks" "$records"
recorder=$WORK/record-hook
cat >"$recorder" <<EOF2
#!/bin/sh
# a stand-in for crdma-hook: keep what the runtime hands over
n=\$(date +%s%N)
cat >"$records/\$n.state.json"
printf '%s\n' "\$@" >"$records/\$n.args" # argv[0] is lost to the #! interpreter
env >"$records/\$n.env"
EOF2
chmod 0755 "$recorder"
jq -n --arg path "$recorder" '{
	version: "1.0.0",
	hook: {path: $path, args: ["crdma-hook", "createRuntime"], env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]},
	when: {annotations: {"^io\\.crdma\\.": ".*"}},
	stages: ["createRuntime"]
}' >"$hooks/50-crdma-test.json"
note "$hooks/50-crdma-test.json:"
sed 's/^/   | /' "$hooks/50-crdma-test.json"
count() {
	local f n=0
	for f in "$records"/*.state.json; do [[ -e $f ]] && n=$((n + 1)); done
	echo "$n"
}

for rt in crun runc; do
	want_status=created
	[[ $rt == runc ]] && want_status=creating # runc runs createRuntime while "creating"
	rm -f "$records"/*

	step "podman --runtime $rt --hooks-dir, --annotation io.crdma.devices=rxe0: the hook runs"
	capture podman_run --runtime "$rt" --hooks-dir "$hooks" --name "hooked-$rt" \
		--annotation io.crdma.devices=rxe0 -- true
	show
	assert_eq 0 "$RC" "$rt: exit status"
	assert_eq 1 "$(count)" "$rt: hook invocations"
	state=$(cat "$records"/*.state.json)
	note "state on stdin: $state"
	assert_eq rxe0 "$(jq -r '.annotations["io.crdma.devices"]' <<<"$state")" "$rt: state .annotations[io.crdma.devices]"
	assert_eq "$want_status" "$(jq -r .status <<<"$state")" "$rt: state .status"
	assert_match "$(jq -r .pid <<<"$state")" '^[1-9][0-9]*$' "$rt: state .pid"
	assert_match "$(jq -r .id <<<"$state")" '^[0-9a-f]{64}$' "$rt: state .id"
	bundle=$(jq -r .bundle <<<"$state")
	assert_match "$bundle" '^/' "$rt: state .bundle"
	assert_eq createRuntime "$(cat "$records"/*.args)" "$rt: hook arguments after argv[0]"
	assert_contains "$(cat "$records"/*.env)" "PATH=/usr/sbin:/usr/bin:/sbin:/bin" "$rt: hook env"

	step "podman --runtime $rt --hooks-dir, only a misspelt io.crdma.* key: the hook still runs"
	rm -f "$records"/*
	capture podman_run --runtime "$rt" --hooks-dir "$hooks" --annotation io.crdma.devcies=rxe0 -- true
	assert_eq 0 "$RC" "$rt: exit status"
	assert_eq 1 "$(count)" "$rt: hook invocations for io.crdma.devcies"

	step "podman --runtime $rt --hooks-dir, no io.crdma.* annotation: the hook does not run"
	rm -f "$records"/*
	capture podman_run --runtime "$rt" --hooks-dir "$hooks" --annotation org.example.x=1 -- true
	assert_eq 0 "$RC" "$rt: exit status"
	assert_eq 0 "$(count)" "$rt: hook invocations"
done
