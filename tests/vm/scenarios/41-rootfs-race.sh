#!/usr/bin/env bash
# 41-rootfs-race: the rootfs swapped under crdma-hook, with runc and crun (configs without a
# /dev mount, so the hook works on the image's own /dev):
#  - deterministic: a createRuntime hook that runs just before crdma's swaps the rootfs
#    directory for an impostor directory, or for a symlink to a host directory, or swaps the
#    image's /dev for a symlink to /etc. The runtime's rootfs mount moved with the renamed
#    directory, so the path the hook reads from config.json now names a host directory: the
#    hook must refuse (one line), and nothing may appear in the impostor, the host directory
#    or /etc;
#  - racing: a background loop swaps /dev for a symlink to /etc or an impostor directory,
#    /dev/infiniband for a symlink to a host directory, and the rootfs itself for a symlink to
#    it, while containers with the hook start over and over; each run works or fails, and no
#    RDMA node appears outside the rootfs (host trees, decoy). (An impostor rootfs *directory*
#    is left to the deterministic cases: swapped before the runtime mounts it, it simply is
#    the container's rootfs, and nodes there are where they belong.) How many runs worked,
#    and how many the hook refused, is printed.
# vm-timeout: 500
# shellcheck source=SCRIPTDIR/../lib.sh
. "${BASH_SOURCE[0]%/*}/../lib.sh"

need_hook
policy=$WORK/policy.json
echo '{"version": 1, "devices": ["rxe0"]}' >"$policy"
decoy=/tmp/decoy-race
mkdir -p "$decoy/dev"
escapes=$WORK/escapes
: >"$escapes"

rdma_names() {
	find /etc /dev /run /mnt /opt /srv /home /tmp -xdev \
		\( -name infiniband -o -name 'uverbs*' -o -name rdma_cm -o -name 'umad*' -o -name 'issm*' \) \
		-not -path '/dev/infiniband*' -not -path '/tmp/[0-9][0-9]-*/*' 2>/dev/null | sort || true
}
rdma_before=$(rdma_names)

# swapper: a createRuntime hook run before crdma's; MODE and ROOTFS as arguments
swapper=$WORK/swap.sh
cat >"$swapper" <<'EOF'
#!/bin/sh
mode=$1 r=$2 decoy=$3
cat >/dev/null
case $mode in
dir) mv "$r" "$r.real" && mkdir -p "$r/dev" ;;
link) mv "$r" "$r.real" && ln -s "$decoy" "$r" ;;
dev-etc) mv "$r/dev" "$r/dev.real" && ln -s /etc "$r/dev" ;;
esac
EOF
chmod +x "$swapper"

# restore ROOTFS: put the real rootfs back; an impostor that holds an RDMA node is an escape
restore() {
	local r=$1
	if [[ -e $r.real ]]; then
		if [[ -d $r && ! -L $r ]] && [[ -n $(ls -A "$r/dev/infiniband" 2>/dev/null) ]]; then
			echo "impostor $r/dev/infiniband: $(ls -A "$r/dev/infiniband")" >>"$escapes"
		fi
		rm -rf "$r"
		mv "$r.real" "$r"
	fi
	if [[ -e $r/dev.real ]]; then
		rm -rf "${r:?}/dev"
		mv "$r/dev.real" "$r/dev"
	fi
	return 0
}
# decoy_rdma: RDMA names in the decoy host directory (the runtimes may put their own default
# nodes there when a swap sends them to it; those are not the hook's)
decoy_rdma() {
	find "$decoy" \( -name 'infiniband*' -o -name 'uverbs*' -o -name rdma_cm -o -name 'umad*' \) \
		2>/dev/null || true
}

for rt in runc crun; do
	for mode in dir link dev-etc; do
		step "$rt: rootfs swapped ($mode) by the hook that runs before crdma's"
		b=$WORK/$rt-swap-$mode
		r=$b.rootfs
		rm -rf "$r" "$r.real"
		make_rootfs "$r"
		oci_bundle "$b" --rootfs "$r" --host-net --annotation io.crdma.devices=rxe0 \
			--annotation "run.oci.hooks.stderr=$WORK/hook.err" \
			--hook createRuntime "$swapper $mode $r $decoy" \
			--hook createRuntime "$CRDMA_HOOK --policy $policy createRuntime" \
			--jq '.mounts |= map(select(.destination != "/dev"))' --jq '.root.readonly = false' \
			-- sh -c 'echo RAN; ls /dev/infiniband'
		rm -f "$WORK/hook.err"
		capture run_oci "$rt" "$b"
		OUT+=$'\n'$(cat "$WORK/hook.err" 2>/dev/null || true)
		OUT=${OUT//\\\"/\"}
		show
		"$rt" delete -f "${b##*/}" >/dev/null 2>&1 || true
		[[ $RC != 0 ]] || fail "$rt $mode: the container ran on a swapped rootfs"
		assert_contains "$OUT" "crdma-hook: error: container ${b##*/}: rootfs $r" "$rt $mode: the hook's one line"
		case $mode in
		dir) assert_contains "$OUT" "is not the container's root mount" "$rt $mode: why" ;;
		link) assert_contains "$OUT" "a symlink on the way" "$rt $mode: why" ;;
		dev-etc) assert_contains "$OUT" "/dev: is a symlink" "$rt $mode: why" ;;
		esac
		restore "$r"
		assert_eq "" "$(cat "$escapes")" "$rt $mode: RDMA nodes in an impostor rootfs"
		assert_eq "" "$(decoy_rdma)" "$rt $mode: RDMA names in the decoy host dir"
		assert_eq "$rdma_before" "$(rdma_names)" "$rt $mode: RDMA names outside the scratch dir"
	done
done

# racer ROOTFS: rename things in and around ROOTFS until $WORK/racer.stop exists (a kill
# could land while its mv runs on, and race the final restore)
racer() {
	local r=$1 i=0
	while [[ ! -e $WORK/racer.stop ]]; do
		i=$((i + 1))
		case $((i % 4)) in
		0) mv "$r/dev" "$r/dev.real" 2>/dev/null && ln -s /etc "$r/dev" ;;
		1) mv "$r/dev/infiniband" "$r/dev/ib.real" 2>/dev/null && ln -s "$decoy/dev" "$r/dev/infiniband" ;;
		2) mv "$r/dev" "$r/dev.real" 2>/dev/null && mkdir "$r/dev" ;;
		3) mv "$r" "$r.real" 2>/dev/null && ln -s "$decoy" "$r" ;;
		esac
		sleep 0.0$((RANDOM % 10))
		if [[ -L $r/dev/infiniband ]]; then
			rm -f "$r/dev/infiniband"
			mv "$r/dev/ib.real" "$r/dev/infiniband"
		fi
		restore "$r"
	done
}

runs=${CRDMA_RACE_RUNS:-8}
for rt in runc crun; do
	step "$rt: $runs containers started while a loop renames their rootfs's directories"
	b=$WORK/$rt-race
	r=$b.rootfs
	make_rootfs "$r"
	oci_bundle "$b" --rootfs "$r" --host-net --annotation io.crdma.devices=rxe0 \
		--annotation "run.oci.hooks.stderr=$WORK/hook.err" \
		--hook createRuntime "$CRDMA_HOOK --policy $policy createRuntime" \
		--jq '.mounts |= map(select(.destination != "/dev"))' --jq '.root.readonly = false' \
		-- sh -c 'ls /dev/infiniband | tr "\n" " "'
	rm -f "$WORK/racer.stop"
	racer "$r" &
	racer_pid=$!
	worked=0 with_nodes=0 refused=0 runtime_failed=0
	declare -A reasons=()
	for i in $(seq "$runs"); do
		rm -f "$WORK/hook.err"
		capture run_oci "$rt" "$b"
		"$rt" delete -f "${b##*/}" >/dev/null 2>&1 || true
		err=$(cat "$WORK/hook.err" 2>/dev/null || true)
		all=${OUT//\\\"/\"}$'\n'$err
		if [[ $RC == 0 ]]; then
			# What the container then sees is the racer's doing (it renames inside the
			# rootfs, which is its own); what matters is where the nodes went.
			worked=$((worked + 1))
			[[ $OUT != *uverbs0* ]] || with_nodes=$((with_nodes + 1))
		elif [[ $all == *"crdma-hook: error:"* ]]; then
			refused=$((refused + 1))
			line=$(grep -o 'crdma-hook: error: .*' <<<"$all" | head -n1)
			why=${line#*rootfs }
			why=${why#"$r"}
			reasons[${why:0:60}]=1
		else
			runtime_failed=$((runtime_failed + 1))
		fi
	done
	touch "$WORK/racer.stop"
	wait "$racer_pid" 2>/dev/null || true
	restore "$r"
	for why in "${!reasons[@]}"; do note "hook refused: ...$why"; done
	figure "rootfs race, $rt: $runs runs: $worked worked ($with_nodes saw uverbs0), $refused refused by the hook, $runtime_failed failed in the runtime"
	assert_eq "" "$(cat "$escapes")" "$rt race: RDMA nodes in an impostor rootfs"
	assert_eq "" "$(decoy_rdma)" "$rt race: RDMA names in the decoy host dir"
	assert_eq "$rdma_before" "$(rdma_names)" "$rt race: RDMA names outside the scratch dir"
	assert_eq "" "$(find /etc -maxdepth 1 \( -name 'infiniband*' -o -name 'uverbs*' -o -name 'rdma_cm*' \))" "$rt race: /etc"
done
