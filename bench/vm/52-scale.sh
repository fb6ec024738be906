#!/usr/bin/env bash
# 52-scale (benchmark, run by bench/run-vm.sh): 200 containers started and stopped one after
# the other with crdma-hook (crun and runc in turn) leak nothing in the host: open files,
# cgroups, device nodes, mounts, processes and memory counted before and after; four
# containers running all along keep their rdma.max; then 16 hooks at once on 16 distinct
# containers (8 crun, 8 runc created in parallel) all succeed.
# vm-timeout: 1500
# shellcheck source=SCRIPTDIR/../../tests/vm/lib.sh
. "$CRDMA_REPO/tests/vm/lib.sh"

need_hook
total=200
hook=(--hook createRuntime "$CRDMA_HOOK createRuntime")

# counters: one "name value" a line. Open files are counted exactly, as the entries of
# every /proc/PID/fd (fs/file-nr is a per-CPU counter read without summing: it moves in
# steps of 32 on its own); processes without the kernel's threads (children of kthreadd).
counters() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	echo "open_fds $(find /proc/[0-9]*/fd -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)"
	echo "cgroups $(find /sys/fs/cgroup -type d | wc -l)"
	echo "char_nodes $(find /dev /tmp /run -xdev -type c 2>/dev/null | wc -l)"
	echo "mounts $(wc -l </proc/self/mountinfo)"
	echo "processes $(ps -e -o pid=,ppid= | awk '$1 != 2 && $2 != 2' | wc -l)"
	echo "net_namespaces $(find /proc/[0-9]*/ns/net -maxdepth 0 -printf '%l\n' 2>/dev/null | sort -u | wc -l)"
	echo "bpf_progs $(find /proc/[0-9]*/fdinfo -mindepth 1 -maxdepth 1 -exec grep -l '^prog_id' {} + 2>/dev/null | wc -l)"
	echo "mem_available_kib $(awk '$1 == "MemAvailable:" { print $2 }' /proc/meminfo)"
	echo "shmem_kib $(awk '$1 == "Shmem:" { print $2 }' /proc/meminfo)"
	echo "slab_unreclaimable_kib $(awk '$1 == "SUnreclaim:" { print $2 }' /proc/meminfo)"
}
# sequence NAME BUNDLE: $total containers of BUNDLE one after the other (crun and runc in
# turn); prints the counters' table and sets SEQ_JSON (counters before/after) and SEQ_LEAKS
SEQ_JSON='' SEQ_LEAKS=()
sequence() {
	local name=$1 bundle=$2 before after t0 secs i rt n bv av d
	before=$(counters)
	ps -e -o pid=,ppid=,comm= | awk '$1 != 2 && $2 != 2 && $3 !~ /^(ps|awk|diff|sed)$/' >"$WORK/ps.before"
	t0=$SECONDS
	for ((i = 1; i <= total; i++)); do
		rt=crun
		((i % 2)) || rt=runc
		"$rt" run --bundle "$bundle" "$name$i" </dev/null >"$WORK/seq.log" 2>&1 ||
			{ cat "$WORK/seq.log"; fail "$name: container $i ($rt) failed"; }
	done
	secs=$((SECONDS - t0))
	after=$(counters)
	note "$name: $total containers in ${secs}s"
	printf '%-24s %-10s %-10s %s\n' COUNTER BEFORE AFTER DELTA
	SEQ_JSON="{\"bench\":\"scale-$name\",\"containers\":$total,\"seconds\":$secs"
	SEQ_LEAKS=()
	while read -r n bv; do
		av=$(awk -v n="$n" '$1 == n { print $2 }' <<<"$after")
		d=$((av - bv))
		printf '%-24s %-10s %-10s %s\n' "$n" "$bv" "$av" "$d"
		SEQ_JSON+=",\"${n}_before\":$bv,\"${n}_after\":$av"
		case $n in
		mem_available_kib | shmem_kib | slab_unreclaimable_kib) ;; # compared with the control
		*) ((d == 0)) || SEQ_LEAKS+=("$n $d") ;;
		esac
	done <<<"$before"
	SEQ_JSON+="}"
	if ((${#SEQ_LEAKS[@]})); then
		note "processes now and not before:"
		ps -e -o pid=,ppid=,comm= | awk '$1 != 2 && $2 != 2 && $3 !~ /^(ps|awk|diff|sed)$/' | diff "$WORK/ps.before" - | sed 's/^/   | /' || true
	fi
}

step "four long-running containers with limits (2 crun, 2 runc)"
for i in 1 2 3 4; do
	rt=crun
	((i > 2)) && rt=runc
	oci_bundle "$WORK/keep$i" --host-net "${hook[@]}" --annotation io.crdma.devices=rxe$((i % 2)) \
		--annotation io.crdma.hca-handles=$i --annotation io.crdma.hca-objects=$((100 * i)) \
		-- sleep 100000
	start_oci "$rt" "$WORK/keep$i" "$WORK/keep$i.log"
done
declare -A before_max=()
for i in 1 2 3 4; do
	cg=$(bundle_cgroup "$WORK/keep$i")
	end=$((SECONDS + 60))
	until line=$(rdma_line "$cg/rdma.max" rxe$((i % 2)) 2>/dev/null) && [[ $line != *max*max* ]]; do
		((SECONDS < end)) || { cat "$WORK/keep$i.log"; fail "keep$i: no rdma.max after 60 s"; }
		sleep 0.5
	done
	assert_eq "rxe$((i % 2)) hca_handle=$i hca_object=$((100 * i))" "$line" "keep$i rdma.max"
	before_max[$i]=$line
done

step "control: $total containers without the hook, one after the other"
oci_bundle "$WORK/ctl" --host-net -- /bin/true
sequence control "$WORK/ctl"
control_json=$SEQ_JSON
control_leaks=("${SEQ_LEAKS[@]}")
figure "$control_json"

step "$total containers with the hook, one after the other"
oci_bundle "$WORK/seq" --host-net "${hook[@]}" --annotation io.crdma.devices=rxe0 \
	--annotation io.crdma.hca-handles=4 -- sh -c 'test -c /dev/infiniband/uverbs0'
sequence hooked "$WORK/seq"
figure "$SEQ_JSON"
((${#SEQ_LEAKS[@]} == 0)) || fail "leaks with the hook: ${SEQ_LEAKS[*]} (without it: ${control_leaks[*]:-none})"
ok "open fds, cgroups, char device nodes, mounts, processes, network namespaces and BPF programs unchanged"

for i in 1 2 3 4; do
	line=$(rdma_line "$(bundle_cgroup "$WORK/keep$i")/rdma.max" rxe$((i % 2)))
	assert_eq "${before_max[$i]}" "$line" "keep$i rdma.max after the $total containers"
done

step "16 hooks at once: 8 crun and 8 runc containers created in parallel"
for i in $(seq 1 16); do
	oci_bundle "$WORK/par$i" --host-net "${hook[@]}" --annotation io.crdma.devices=rxe$((i % 2)) \
		--annotation io.crdma.hca-handles="$i" -- sleep 100000
done
t0=$EPOCHREALTIME
pids=()
for i in $(seq 1 16); do
	rt=crun
	((i > 8)) && rt=runc
	CONTAINERS+=("$rt par$i")
	"$rt" create --bundle "$WORK/par$i" "par$i" </dev/null >"$WORK/par$i.log" 2>&1 &
	pids+=($!)
done
failed=0
for i in $(seq 1 16); do
	wait "${pids[$((i - 1))]}" || { failed=$((failed + 1)); cat "$WORK/par$i.log"; }
done
ms=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", (b - a) * 1000 }')
assert_eq 0 "$failed" "containers whose create (with the hook) failed"
good=0
for i in $(seq 1 16); do
	rt=crun
	((i > 8)) && rt=runc
	pid=$("$rt" state "par$i" | jq -r .pid)
	line=$(rdma_line "$(bundle_cgroup "$WORK/par$i")/rdma.max" rxe$((i % 2)) || true)
	if [[ -c /proc/$pid/root/dev/infiniband/uverbs$((i % 2)) && $line == "rxe$((i % 2)) hca_handle=$i hca_object="* ]]; then
		good=$((good + 1))
	else
		note "par$i: node or rdma.max missing (rdma.max: '$line')"
	fi
	"$rt" delete -f "par$i" >/dev/null 2>&1
done
assert_eq 16 "$good" "containers with their node and their own rdma.max"
figure "{\"bench\":\"scale-parallel\",\"containers\":16,\"succeeded\":$good,\"wall_ms\":$ms}"
