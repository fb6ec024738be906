#!/usr/bin/env bash
# 50-startup (benchmark, run by bench/run-vm.sh): container start-up with and without
# crdma-hook on the real rxe kernel: `crun run` and `runc run` of /bin/true (A) against the
# same with a createRuntime crdma-hook asking for rxe0 (B), alternating A/B, ratio of medians.
# vm-timeout: 900
# shellcheck source=SCRIPTDIR/../../tests/vm/lib.sh
. "$CRDMA_REPO/tests/vm/lib.sh"
# shellcheck source=SCRIPTDIR/../ab.sh
. "$CRDMA_REPO/bench/ab.sh"

need_hook
pairs=30
hook=(--hook createRuntime "$CRDMA_HOOK createRuntime" --annotation io.crdma.devices=rxe0)
oci_bundle "$WORK/plain" --host-net -- /bin/true
oci_bundle "$WORK/hooked" --host-net "${hook[@]}" -- /bin/true
oci_bundle "$WORK/check" --host-net "${hook[@]}" -- sh -c 'ls /dev/infiniband; cat /proc/self/cgroup'

for rt in crun runc; do
	step "$rt: the hooked container gets its nodes"
	capture run_oci "$rt" "$WORK/check"
	show
	assert_eq 0 "$RC" "$rt run with the hook"
	assert_contains "$OUT" $'rdma_cm\nuverbs0' "$rt: nodes from the hook"
done

echo "# $(uname -r), $(nproc) cpus (TCG); load: $(cut -d' ' -f1-3 /proc/loadavg)"
ab_header
json=()
for rt in crun runc; do
	eval "a_$rt() { $rt run --bundle \"\$WORK/plain\" plain </dev/null >/dev/null; }"
	eval "b_$rt() { $rt run --bundle \"\$WORK/hooked\" hooked </dev/null >/dev/null; }"
	CONTAINERS+=("$rt plain" "$rt hooked")
	ab_time "startup-$rt-vm" "$pairs" "a_$rt" "b_$rt" || fail "$rt: a run failed"
	json+=("$AB_JSON")
done
for j in "${json[@]}"; do figure "$j"; done
