#!/usr/bin/env bash
# 53-runtime (benchmark, run by bench/run-vm.sh): container start-up through crdma-runtime on
# the real rxe kernel with Debian's engines, alternating A/B, ratio of medians:
#   docker run --rm IMAGE /bin/true: --runtime runc (A) against --runtime crdma (B), with no
#     request, and with one: A the manual way (--device uverbs0 --device rdma_cm --ulimit
#     memlock=-1), B -e CRDMA_DEVICES=rxe0;
#   ctr run --rm: --runc-binary runc (A) against crdma-runtime (B), the same two cases.
# Targets (issue 16): B/A at most 1.05 without a request, 1.10 with one.
# vm-timeout: 1500
# shellcheck source=SCRIPTDIR/../../tests/vm/lib.sh
. "$CRDMA_REPO/tests/vm/lib.sh"
# shellcheck source=SCRIPTDIR/../ab.sh
. "$CRDMA_REPO/bench/ab.sh"

need_hook
pairs=${CRDMA_BENCH_PAIRS:-20}
shim=$CRDMA_BUILD_DIR/runtime/crdma-runtime
policy=$WORK/policy.json
cat >"$policy" <<JSON
{"version": 1, "allow": {"environment": true}, "runtime": {"runtimes": ["runc"], "hook": "$CRDMA_HOOK"}}
JSON
# ctr's runc shim passes the shim no arguments: the policy at the default path (guest overlay).
mkdir -p /etc/crdma
[[ ! -e /etc/crdma/policy.json ]] || cp -a /etc/crdma/policy.json "$WORK/etc-policy.json"
cp "$policy" /etc/crdma/policy.json
etc_restore() {
	if [[ -e $WORK/etc-policy.json ]]; then cp -a "$WORK/etc-policy.json" /etc/crdma/policy.json
	else rm -f /etc/crdma/policy.json; fi
}
trap 'engines_stop; etc_restore' EXIT
engines_start crdma "$shim" --crdma-policy "$policy"
engines_image crdma-vm
base=(--rm --network none -v /usr:/usr:ro)
for d in $(host_dir_binds); do [[ $d == /usr ]] || base+=(-v "$d:$d:ro"); done
manual=(--device /dev/infiniband/uverbs0 --device /dev/infiniband/rdma_cm --ulimit memlock=-1)
D save crdma-vm | C image import - >/dev/null
img=docker.io/library/crdma-vm:latest
mnt=(--mount "type=bind,src=/usr,dst=/usr,options=rbind:ro")
for d in $(host_dir_binds); do [[ $d == /usr ]] || mnt+=(--mount "type=bind,src=$d,dst=$d,options=rbind:ro"); done

step "both ways give the container rxe0"
for way in "--runtime runc ${manual[*]}" "--runtime crdma -e CRDMA_DEVICES=rxe0"; do
	# shellcheck disable=SC2086 # options, split on purpose
	capture D run "${base[@]}" $way crdma-vm sh -c 'ls /dev/infiniband; ulimit -l'
	show
	assert_contains "$OUT" $'rdma_cm\nuverbs0' "docker run $way"
done
capture C run --rm --runc-binary "$shim" "${mnt[@]}" --env CRDMA_DEVICES=rxe0 "$img" chk sh -c 'ls /dev/infiniband'
assert_contains "$OUT" $'rdma_cm\nuverbs0' "ctr run through crdma-runtime"

n=0
a_docker() { D run "${base[@]}" --runtime runc crdma-vm /bin/true >/dev/null; }
b_docker() { D run "${base[@]}" --runtime crdma crdma-vm /bin/true >/dev/null; }
a_docker_req() { D run "${base[@]}" --runtime runc "${manual[@]}" crdma-vm /bin/true >/dev/null; }
b_docker_req() { D run "${base[@]}" --runtime crdma -e CRDMA_DEVICES=rxe0 crdma-vm /bin/true >/dev/null; }
a_ctr() { n=$((n + 1)); C run --rm --runc-binary /usr/sbin/runc "${mnt[@]}" "$img" "a$n" /bin/true >/dev/null; }
b_ctr() { n=$((n + 1)); C run --rm --runc-binary "$shim" "${mnt[@]}" "$img" "b$n" /bin/true >/dev/null; }
b_ctr_req() {
	n=$((n + 1))
	C run --rm --runc-binary "$shim" "${mnt[@]}" --env CRDMA_DEVICES=rxe0 "$img" "b$n" /bin/true >/dev/null
}
a_ctr_req() { # the manual way: the nodes by hand (ctr 1.6 has no memlock option)
	n=$((n + 1))
	C run --rm --runc-binary /usr/sbin/runc "${mnt[@]}" --device /dev/infiniband/uverbs0 \
		--device /dev/infiniband/rdma_cm "$img" "a$n" /bin/true >/dev/null
}
[[ -x /usr/sbin/runc ]] || fail "/usr/sbin/runc missing"

echo "# $(uname -r), $(nproc) cpus (TCG); load: $(cut -d' ' -f1-3 /proc/loadavg)"
ab_header
json=()
ab_time runtime-docker-none "$pairs" a_docker b_docker || fail "docker: a run failed"
json+=("$AB_JSON")
ab_time runtime-docker-request "$pairs" a_docker_req b_docker_req || fail "docker: a run failed"
json+=("$AB_JSON")
ab_time runtime-ctr-none "$pairs" a_ctr b_ctr || fail "ctr: a run failed"
json+=("$AB_JSON")
ab_time runtime-ctr-request "$pairs" a_ctr_req b_ctr_req || fail "ctr: a run failed"
json+=("$AB_JSON")
printf '%s\n' "${json[@]}"
for j in "${json[@]}"; do
	figure "$(jq -r '"\(.bench): A \(.a_median_ms) ms, B \(.b_median_ms) ms, B/A \(.ratio_of_medians)"' <<<"$j")"
done
