#!/usr/bin/env bash
# 40-rootfs-links: hostile container images against crdma-hook (createRuntime), with runc and
# crun, on configs without a /dev mount (so the image's own /dev is what the hook meets):
#  - /dev a symlink to /etc; /dev/infiniband a symlink to ../../../../etc, to /proc/1/root,
#    to a host directory; /dev/infiniband/uverbs0 already there as a regular file, a FIFO, or
#    a char device with other numbers (1:3): the hook refuses with its one clear line and the
#    container never runs;
#  - nothing is created or changed outside the container's rootfs: the host trees (/etc, /dev,
#    /run, /tmp, /home, /opt, /srv, /mnt) listed with type, mode and device numbers are the same
#    after the annotated run as before it (for /dev -> /etc: as after the same run without the
#    annotation, since the runtime itself puts its default nodes where the link points), and no
#    RDMA node appears;
#  - a plain image (a real /dev directory): the hook succeeds and its nodes are inside the
#    rootfs only.
# vm-timeout: 400
# shellcheck source=SCRIPTDIR/../lib.sh
. "${BASH_SOURCE[0]%/*}/../lib.sh"

need_hook
policy=$WORK/policy.json
echo '{"version": 1, "devices": ["rxe0"]}' >"$policy"
decoy=/tmp/decoy-host-dir
mkdir -p "$decoy/dev"

# host_tree: every entry of the host trees an escaping hook could write to, with what makes
# it what it is (type, mode, owner; device numbers in /dev), the scenario's scratch dir left
# out. One stat per entry, by find itself: the trees on the 9p root are slow to list, and a
# node made anywhere shows as a new entry of type c or b; only /dev's nodes are stat'ed again
# for their numbers (a node replaced by one with other numbers).
host_tree() {
	{
		find /etc /dev /run /mnt /opt /srv /home /tmp -xdev \
			-path "$WORK" -prune -o -printf '%p %y %m %U:%G\n'
		find /dev -xdev \( -type c -o -type b \) -print0 | xargs -0 stat -c '%n %t:%T'
	} 2>/dev/null | grep -v -E '^/run/(runc|crun)/' | sort || true
}
# rdma_names: RDMA-looking names anywhere in those trees, /dev/infiniband itself excepted
rdma_names() {
	find /etc /dev /run /mnt /opt /srv /home /tmp -xdev \
		\( -name infiniband -o -name 'uverbs*' -o -name rdma_cm -o -name 'umad*' -o -name 'issm*' \) \
		-not -path '/dev/infiniband*' -not -path '/tmp/[0-9][0-9]-*/*' 2>/dev/null | sort || true
}

# image CASE ROOTFS: make the hostile rootfs for CASE
image() {
	local r=$2
	rm -rf "$r"
	make_rootfs "$r"
	case $1 in
	dev-to-etc) rmdir "$r/dev" && ln -s /etc "$r/dev" ;;
	ib-up-etc) ln -s ../../../../etc "$r/dev/infiniband" ;;
	ib-proc1) ln -s /proc/1/root "$r/dev/infiniband" ;;
	ib-host-dir) ln -s "$decoy/dev" "$r/dev/infiniband" ;;
	uverbs-file) mkdir "$r/dev/infiniband" && echo not-a-device >"$r/dev/infiniband/uverbs0" ;;
	uverbs-fifo) mkdir "$r/dev/infiniband" && mkfifo "$r/dev/infiniband/uverbs0" ;;
	uverbs-other) mkdir "$r/dev/infiniband" && mknod -m 666 "$r/dev/infiniband/uverbs0" c 1 3 ;;
	plain) ;;
	*) fail "image: unknown case $1" ;;
	esac
}

# run_case RUNTIME CASE ANNOTATED: run `ls /dev/infiniband` in a container of the CASE image,
# with or without io.crdma.devices; output in OUT (the hook's stderr appended), status in RC
run_case() {
	local rt=$1 case=$2 b=$WORK/$1-$2
	local -a anns=(--annotation "run.oci.hooks.stderr=$WORK/hook.err")
	[[ $3 == yes ]] && anns+=(--annotation io.crdma.devices=rxe0)
	image "$case" "$b.rootfs"
	rm -rf "$b"
	oci_bundle "$b" --rootfs "$b.rootfs" --host-net \
		--hook createRuntime "$CRDMA_HOOK --policy $policy createRuntime" "${anns[@]}" \
		--jq '.mounts |= map(select(.destination != "/dev"))' \
		--jq '.root.readonly = false' -- sh -c 'echo RAN; ls -l /dev/infiniband/'
	rm -f "$WORK/hook.err"
	capture run_oci "$rt" "$b"
	OUT+=$'\n'$(cat "$WORK/hook.err" 2>/dev/null || true)
	OUT=${OUT//\\\"/\"}
	"$rt" delete -f "${b##*/}" >/dev/null 2>&1 || true
}

declare -A refusal=(
	[dev-to-etc]='/dev: is a symlink; crdma does not follow links'
	[ib-up-etc]='/dev/infiniband: is not a directory (a symlink or a file)'
	[ib-proc1]='/dev/infiniband: is not a directory (a symlink or a file)'
	[ib-host-dir]='/dev/infiniband: is not a directory (a symlink or a file)'
	[uverbs-file]='/dev/infiniband/uverbs0: exists and is not the expected char device'
	[uverbs-fifo]='/dev/infiniband/uverbs0: exists and is not the expected char device'
	[uverbs-other]='/dev/infiniband/uverbs0: exists and is not the expected char device'
)
rdma_before=$(rdma_names)
tree=$(host_tree) # each case starts from the trees the last one left (listing them costs ~5 s)
for rt in runc crun; do
	for case in dev-to-etc ib-up-etc ib-proc1 ib-host-dir uverbs-file uverbs-fifo uverbs-other plain; do
		step "$rt, image with $case"
		# Where the image sends the runtime itself outside the rootfs (its default
		# nodes, with no /dev mount), compare with the same run without crdma.
		baseline_rc=0
		after_baseline=$tree
		if [[ $case == dev-to-etc ]]; then
			run_case "$rt" "$case" no
			baseline_rc=$RC
			note "without the annotation: exit $RC"
			after_baseline=$(host_tree)
		fi
		run_case "$rt" "$case" yes
		show
		after_hook=$(host_tree)
		if [[ $case == plain ]]; then
			assert_eq 0 "$RC" "$rt $case: exit status"
			assert_match "$OUT" 'crw-rw-rw- +1 root +root +231, +192 .* uverbs0' "$rt $case: uverbs0 in the container"
			assert_match "$(ls -l "$WORK/$rt-$case.rootfs/dev/infiniband/")" 'uverbs0' "$rt $case: the nodes are inside its rootfs"
		elif [[ $baseline_rc != 0 && $OUT != *"crdma-hook: error:"* ]]; then
			# The runtime itself refuses the image before the hook runs.
			note "the runtime fails this image without crdma too (exit $baseline_rc)"
			assert_not_contains "$OUT" RAN "$rt $case: the container's process"
		else
			[[ $baseline_rc == 0 ]] || note "the runtime fails this image without crdma too (exit $baseline_rc), after the hook"
			[[ $RC != 0 ]] || fail "$rt $case: the container ran"
			assert_contains "$OUT" "crdma-hook: error: container $rt-$case: rootfs" "$rt $case: the hook's one line"
			assert_contains "$OUT" "${refusal[$case]}" "$rt $case: why"
			assert_not_contains "$OUT" RAN "$rt $case: the container's process"
		fi
		if [[ $after_hook != "$after_baseline" ]]; then
			diff <(echo "$after_baseline") <(echo "$after_hook") | sed 's/^/   | /' || true
			fail "$rt $case: the host trees changed"
		fi
		ok "$rt $case: host trees unchanged by the hook ($(wc -l <<<"$after_hook") entries)"
		assert_eq "" "$(ls -A "$decoy/dev")" "$rt $case: the decoy host dir"
		tree=$after_hook
	done
done
assert_eq "$rdma_before" "$(rdma_names)" "RDMA names outside /dev/infiniband and the scratch dirs"
