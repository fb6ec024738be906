#!/usr/bin/env bash
# 17-runtime-docker: Debian 12's own Docker (20.10, with its containerd 1.6) and containerd's
# ctr, reaching crdma through crdma-runtime alone: the daemon.json "runtimes" entry or
# `ctr run --runc-binary`, and the request in the container's environment (Docker 20.10 and
# plain ctr have no annotations), allowed by the policy. Proves: exactly the devices asked
# for, ibv_devinfo, memlock, rdma.max enforced (a second open is EAGAIN); a refused request
# shows crdma's line in docker run's / ctr run's error and runs nothing; a container with no
# request is untouched; docker exec and docker restart work without a second plan;
# docker rm -f leaves nothing behind; ib_write_bw between two containers, shim against the manual
# --device/--ulimit/--cap-add way, in the same run (ib_send_lat is 05's, 13's and the demo's).
# vm-timeout: 600
# shellcheck source=SCRIPTDIR/../lib.sh
. "${BASH_SOURCE[0]%/*}/../lib.sh"

need_hook
shim=$CRDMA_BUILD_DIR/runtime/crdma-runtime
[[ -x $shim ]] || fail "crdma-runtime not built at $shim"
tool=$CRDMA_VM_TOOLS/crdma-vm-open
[[ -x $tool ]] || fail "crdma-vm-open not found at $tool"
veth_ips

# The administrator's files: a policy that takes requests from the environment and names the
# hook, Docker's runtimes entry (its runtimeArgs give the shim the policy), and for ctr, which
# passes no arguments, the same policy at the default path (removed at exit).
policy=$WORK/policy.json
cat >"$policy" <<JSON
{"version": 1, "allow": {"environment": true},
 "runtime": {"runtimes": ["runc"], "hook": "$CRDMA_HOOK"}}
JSON
etc_policy_install "$policy"
trap 'engines_stop; etc_policy_restore' EXIT
step "containerd and dockerd up (state on the guest's tmpfs)"
t0=$(date +%s.%N)
engines_start crdma "$shim" --crdma-policy "$policy"
ok "dockerd up in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
cp "$WORK/daemon.json" "$CRDMA_ARTIFACTS/17-daemon.json"
run=$ENGINES_RUN
D info --format '{{json .Runtimes}}' | jq -e '.crdma' >/dev/null || fail "dockerd has no crdma runtime"

step "the image: a rootfs imported offline (the guest's /usr bound read-only)"
engines_image crdma-vm
common=(--network none -v /usr:/usr:ro -v "$CRDMA_VM_TOOLS:/opt/crdma-vm:ro")
for d in $(host_dir_binds); do [[ $d == /usr ]] || common+=(-v "$d:$d:ro"); done
ok "image crdma-vm imported"

# shellcheck disable=SC2016 # expanded in the container
# (its own cgroup's rdma.max: Docker gives the container a cgroup namespace, ctr does not)
show_view='ls /dev/infiniband; echo memlock=$(ulimit -l); cat "/sys/fs/cgroup$(sed -n "s/^0:://p" /proc/self/cgroup)/rdma.max" 2>&1'
step "docker run --runtime crdma -e CRDMA_DEVICES=rxe0 -e CRDMA_HCA_HANDLES=1 -e CRDMA_MEMLOCK=1G"
capture D run --rm --runtime crdma "${common[@]}" -e CRDMA_DEVICES=rxe0 -e CRDMA_HCA_HANDLES=1 \
	-e CRDMA_MEMLOCK=1G crdma-vm sh -c "$show_view; ibv_devinfo -d rxe0 | grep -E 'hca_id|state'; /opt/crdma-vm/crdma-vm-open -d rxe0 -n 2"
show
assert_contains "$OUT" $'rdma_cm\nuverbs0\nmemlock=1048576' "exactly rdma_cm and uverbs0, memlock 1 GiB (KiB)"
assert_not_contains "$OUT" "uverbs1" "no other device"
assert_contains "$OUT" "rxe0 hca_handle=1 hca_object=65536" "rdma.max in the container's cgroup"
assert_contains "$OUT" "hca_id:	rxe0" "ibv_devinfo -d rxe0 works"
assert_contains "$OUT" "PORT_ACTIVE" "ibv_devinfo: port active"
assert_contains "$OUT" "opened=1 errno=11 (EAGAIN)" "a second ibv_open_device: EAGAIN under hca-handles=1"
assert_eq 1 "$RC" "crdma-vm-open exit (the second open failed)"
ok "docker run through crdma-runtime: devices, memlock and limit in force"

step "a refused request: crdma's line in docker run's error, nothing runs"
capture D run --rm --runtime crdma "${common[@]}" -e CRDMA_DEVICES=rxe0 -e CRDMA_HCA_HANDLES=100000 \
	crdma-vm sh -c 'echo RAN'
show
assert_contains "$OUT" 'crdma-runtime: error: ' "docker run prints crdma-runtime's line"
assert_contains "$OUT" 'io.crdma.hca-handles="100000": above the limit 64' "... with the reason"
assert_not_contains "$OUT" RAN "the container did not run"
[[ $RC != 0 ]] || fail "docker run succeeded"
capture D run --rm --runtime crdma "${common[@]}" -e CRDMA_DEVICES=rxe0 -e CRDMA_HCA_HANDLE=1 \
	crdma-vm sh -c 'echo RAN'
assert_contains "$OUT" 'environment variable CRDMA_HCA_HANDLE: unknown' "a typo is refused, naming it"
assert_not_contains "$OUT" RAN "... and nothing ran"
assert_eq "" "$(D ps -aq)" "no container left behind"

step "no request: the same container as under runc"
crdma_view=$(D run --rm --runtime crdma "${common[@]}" crdma-vm sh -c "$show_view" 2>&1)
runc_view=$(D run --rm --runtime runc "${common[@]}" crdma-vm sh -c "$show_view" 2>&1)
printf '%s\n' "--- crdma:" "$crdma_view" "--- runc:" "$runc_view" | sed 's/^/   | /'
assert_eq "$runc_view" "$crdma_view" "what the container sees"
assert_not_contains "$crdma_view" uverbs "no RDMA device"

step "docker exec and docker restart: one plan per create, nothing twice"
id=$(D run -d --runtime crdma "${common[@]}" -e CRDMA_DEVICES=rxe1 crdma-vm sleep 600)
capture D exec "$id" sh -c "$show_view"
show
assert_contains "$OUT" $'rdma_cm\nuverbs1' "docker exec sees the devices"
# Docker writes the exec'd process from its own copy of the spec: crdma-runtime gives it the
# container's memlock (the policy's default, unlimited), as the container's own process has.
assert_contains "$OUT" "memlock=unlimited" "docker exec: the container's memlock, not Docker's 8 MiB"
# containerd's runc shim keeps the bundle under its --state dir.
bundle_config() { echo "$run/containerd/io.containerd.runtime.v2.task/moby/$id/config.json"; }
count_dev='[.linux.devices[]? | select(.path == "/dev/infiniband/uverbs1")] | length'
assert_eq 1 "$(jq "$count_dev" "$(bundle_config)")" "uverbs1 once in the bundle's config"
D restart -t 1 "$id" >/dev/null
capture D exec "$id" sh -c "$show_view"
show
assert_contains "$OUT" $'rdma_cm\nuverbs1' "after restart: the devices"
assert_eq 1 "$(jq "$count_dev" "$(bundle_config)")" "after restart: uverbs1 once"
assert_eq 1 "$(grep -c '^rxe1 ' <<<"$OUT")" "after restart: one rdma.max line for rxe1"
cg=/sys/fs/cgroup/docker/$id
[[ -d $cg ]] || fail "no cgroup $cg"
[[ -n $(find "$run" -name "$id*" -print -quit) ]] || fail "no runtime state under $run for $id"
D rm -f "$id" >/dev/null
until_ok 10 test ! -d "$cg"
left=$(find "$run" "$WORK/docker/containers" -name "$id*" 2>/dev/null)
assert_eq "" "$left" "no runtime state, bundle or container directory named for it"
ok "docker rm -f: cgroup, runtime state and bundle gone"

step "ib_write_bw between two Docker containers, crdma-runtime against the manual flags"
perf_docker() { # perf_docker LABEL SERVER-OPTS... -- CLIENT-OPTS... ; TEST PORT ITERS in PERF_T
	local label=$1 test=${PERF_T[0]} port=${PERF_T[1]} iters=${PERF_T[2]} spid src=0
	shift
	local -a sopts=() copts=()
	while [[ $1 != -- ]]; do sopts+=("$1"); shift; done
	shift
	copts=("$@")
	local -a base=(--network host -v /usr:/usr:ro)
	for d in $(host_dir_binds); do [[ $d == /usr ]] || base+=(-v "$d:$d:ro"); done
	perftest_args server "$test" "$port" "$iters"
	D run --rm "${base[@]}" "${sopts[@]}" crdma-vm "${PERF_CMD[@]}" >"$WORK/$label-server.log" 2>&1 &
	spid=$!
	wait_listen "$port" 90
	sleep "$PERF_SETTLE"
	perftest_args client "$test" "$port" "$iters"
	capture D run --rm "${base[@]}" "${copts[@]}" crdma-vm "${PERF_CMD[@]}"
	CLIENT=$OUT
	local crc=$RC
	wait "$spid" || src=$?
	SERVER=$(cat "$WORK/$label-server.log")
	perftest_show "docker $label" "docker $label"
	assert_eq 0 "$crc" "$label $test client exit status"
	assert_eq 0 "$src" "$label $test server exit status"
}
manual0=(--device /dev/infiniband/uverbs0 --device /dev/infiniband/rdma_cm --ulimit memlock=-1 --cap-add IPC_LOCK)
manual1=(--device /dev/infiniband/uverbs1 --device /dev/infiniband/rdma_cm --ulimit memlock=-1 --cap-add IPC_LOCK)
PERF_T=(ib_write_bw 18530 1000)
perf_docker crdma --runtime crdma -e CRDMA_DEVICES=rxe0 -- --runtime crdma -e CRDMA_DEVICES=rxe1
read -r _ _ _ bw_crdma _ <<<"$(grep -E '^ *65536 +1000 +' <<<"$CLIENT")"
PERF_T=(ib_write_bw 18531 1000)
perf_docker manual "${manual0[@]}" -- "${manual1[@]}"
read -r _ _ _ bw_manual _ <<<"$(grep -E '^ *65536 +1000 +' <<<"$CLIENT")"
awk -v a="$bw_crdma" -v b="$bw_manual" 'BEGIN { exit !(a > 0 && b > 0) }' ||
	fail "ib_write_bw averages: crdma '$bw_crdma', manual '$bw_manual'"
figure "ib_write_bw 64 KiB x 1000, Docker: crdma-runtime $bw_crdma MB/s, manual --device $bw_manual MB/s"

step "containerd 1.6: ctr run --runc-binary crdma-runtime, the same checks"
D save crdma-vm | C image import - >/dev/null
img=docker.io/library/crdma-vm:latest
mnt=(--mount "type=bind,src=/usr,dst=/usr,options=rbind:ro"
	--mount "type=bind,src=$CRDMA_VM_TOOLS,dst=/opt/crdma-vm,options=rbind:ro")
for d in $(host_dir_binds); do [[ $d == /usr ]] || mnt+=(--mount "type=bind,src=$d,dst=$d,options=rbind:ro"); done
# ctr gives the container no cgroup namespace: rdma.max is read from the guest while the
# container holds its one handle.
# shellcheck disable=SC2016 # expanded in the container
C run --rm --runc-binary "$shim" "${mnt[@]}" --env CRDMA_DEVICES=rxe1 \
	--env CRDMA_HCA_HANDLES=1 --env CRDMA_MEMLOCK=2G "$img" ctr-a \
	sh -c 'ls /dev/infiniband; echo memlock=$(ulimit -l); ibv_devinfo -d rxe1 | grep hca_id
	       exec /opt/crdma-vm/crdma-vm-open -d rxe1 -n 2 --hold' >"$WORK/ctr-a.log" 2>&1 &
ctr_pid=$!
until_ok 60 grep -q 'opened=' "$WORK/ctr-a.log"
rdma_max=$(cat /sys/fs/cgroup/crdma-vm/ctr-a/rdma.max)
C task kill ctr-a >/dev/null 2>&1 || true
wait "$ctr_pid" || true
OUT="$(cat "$WORK/ctr-a.log")"$'\n'"$rdma_max"
show
assert_contains "$OUT" $'rdma_cm\nuverbs1\nmemlock=2097152' "ctr: rdma_cm and uverbs1, memlock 2 GiB"
assert_contains "$rdma_max" "rxe1 hca_handle=1 hca_object=65536" "ctr: rdma.max of /crdma-vm/ctr-a"
assert_contains "$OUT" "hca_id:	rxe1" "ctr: ibv_devinfo"
assert_contains "$OUT" "opened=1 errno=11 (EAGAIN)" "ctr: a second open is EAGAIN"
capture C run --rm --runc-binary "$shim" "${mnt[@]}" --env CRDMA_DEVICES=mlx5_9 "$img" ctr-b sh -c 'echo RAN'
show
assert_contains "$OUT" "crdma-runtime: error: " "ctr run prints crdma-runtime's line"
assert_contains "$OUT" "mlx5_9" "... naming the device"
assert_not_contains "$OUT" RAN "... and nothing ran"
capture C run --rm --runc-binary "$shim" "${mnt[@]}" "$img" ctr-c sh -c "$show_view"
assert_not_contains "$OUT" uverbs "ctr, no request: no device"
C containers ls -q | grep -q . && fail "ctr containers left: $(C containers ls -q)"
ok "containerd: requests through crdma-runtime; refusals shown; nothing left"
