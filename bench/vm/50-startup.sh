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

# Where B's extra time goes: the hook process alone, timed by a wrapper around it inside the
# same container starts, against the cost of any exec here (/bin/true, crdma-hook --version;
# under TCG each page the loader touches costs a 9p read or a guest page fault).
step "the hook alone inside a container start, and the exec floor"
cat >"$WORK/timed-hook" <<SH
#!/bin/bash
a=\$EPOCHREALTIME
$CRDMA_HOOK "\$@"
rc=\$?
echo "\$a \$EPOCHREALTIME" >>"$WORK/hook-times"
exit \$rc
SH
chmod +x "$WORK/timed-hook"
oci_bundle "$WORK/timed" --host-net --hook createRuntime "$WORK/timed-hook createRuntime" \
	--annotation io.crdma.devices=rxe0 -- /bin/true
for ((i = 0; i < 10; i++)); do
	crun run --bundle "$WORK/timed" timed </dev/null >/dev/null
	runc run --bundle "$WORK/timed" timed </dev/null >/dev/null
done
hook_ms=$(awk '{ printf "%.1f\n", ($2 - $1) * 1000 }' "$WORK/hook-times" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
exec_ms() { # exec_ms CMD...: median of 20 runs, ms
	local i a
	for ((i = 0; i < 20; i++)); do
		a=$EPOCHREALTIME
		"$@" >/dev/null 2>&1 || true
		awk -v a="$a" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f\n", (b - a) * 1000 }'
	done | sort -g | awk '{ v[NR] = $1 } END { print v[10] }'
}
true_ms=$(exec_ms /bin/true)
version_ms=$(exec_ms "$CRDMA_HOOK" --version)
note "hook process inside crun/runc starts (20): median $hook_ms ms; /bin/true $true_ms ms; crdma-hook --version $version_ms ms"
json+=("$(printf '{"bench":"startup-vm-breakdown","hook_in_start_median_ms":%s,"exec_true_median_ms":%s,"exec_hook_version_median_ms":%s}' \
	"$hook_ms" "$true_ms" "$version_ms")")
for j in "${json[@]}"; do figure "$j"; done
