#!/usr/bin/env bash
# 20-devcgroup-bpf: libcrdma's cgroup v2 device-program swap (crdma_devcg_v2_allow), the
# inject path's answer to 03-devcgroup-baseline, with crun and runc. A running container has
# uverbs0 and umad0 in linux.devices but no allow rule: both opens fail with EPERM. After
# crdma-vm-devcg CGROUP c:231:192 the cgroup has exactly one device program, crdma's (the
# runtime's instructions behind crdma's prefix): uverbs0 opens and `ibv_devinfo -d rxe0` works
# inside, umad0 (not in the rules) is still EPERM, /dev/null and /dev/zero (the runtime's own
# rules) still open. Running it again changes nothing (same program); new rules give one
# program with the union, never a second prefix. --undo puts the runtime's own program (same
# id) back and uverbs0 is EPERM again. Also records what each runtime attaches for a
# privileged (allow-all) container, and that crdma handles it. Last, cgroup v1
# (crdma_devcg_v1_allow) on a v1 devices hierarchy mounted next to cgroup2: devices.allow
# lets a process of that cgroup open uverbs0, undo takes exactly that back.
# vm-timeout: 240
# shellcheck source=SCRIPTDIR/../lib.sh
. "${BASH_SOURCE[0]%/*}/../lib.sh"

need_cmd crun runc jq
DEVCG=$CRDMA_BUILD_DIR/tests/vm/crdma-vm-devcg
[[ -x $DEVCG ]] || skip "$DEVCG is not built (tests/vm/meson.build builds it)"
[[ -c /dev/infiniband/uverbs0 && -c /dev/infiniband/umad0 ]] ||
	fail "the fixtures lack /dev/infiniband/uverbs0 or umad0"
read -r _ UV_MAJ UV_MIN _ < <(dev_numbers /dev/infiniband/uverbs0)
read -r _ UM_MAJ UM_MIN _ < <(dev_numbers /dev/infiniband/umad0)
UVERBS=c:$UV_MAJ:$UV_MIN
UMAD=c:$UM_MAJ:$UM_MIN
note "uverbs0 is $UVERBS, umad0 is $UMAD"
HAVE_BPFTOOL=0
command -v bpftool >/dev/null && HAVE_BPFTOOL=1

# wait_running RUNTIME NAME
wait_running() {
	local i st
	for ((i = 0; i < 150; i++)); do
		st=$("$1" state "$2" 2>/dev/null | jq -r .status 2>/dev/null || true)
		[[ $st == running ]] && return 0
		sleep 0.2
	done
	fail "$1: container $2 not running after 30 s (status '${st:-none}')"
}

# shellcheck disable=SC2016 # $d expands inside the container
# probe RUNTIME NAME: try to open each node inside the container (head -c0: open, read
# nothing); "open PATH" or head's error per node, in $OUT
PROBE='for d in /dev/infiniband/uverbs0 /dev/infiniband/umad0 /dev/null /dev/zero; do
	head -c0 "$d" && echo "open $d"; done; true'
probe() {
	capture "$1" exec "$2" sh -c "$PROBE"
	show
	assert_eq 0 "$RC" "$1: exec of the probe"
}
denied() { echo "head: cannot open '$1' for reading: Operation not permitted"; }

# prog_ids: the "id=N" of each program in the last capture of crdma-vm-devcg
prog_ids() { grep -o '^prog id=[0-9]*' <<<"$OUT" | cut -d= -f2 | tr '\n' ' ' | sed 's/ $//'; }

bpftool_show() {
	((HAVE_BPFTOOL)) || return 0
	capture bpftool cgroup show "$1"
	show
	assert_eq 0 "$RC" "bpftool cgroup show"
	assert_eq 1 "$(grep -c cgroup_device <<<"$OUT")" "bpftool: device programs on $1"
	[[ -z ${2:-} ]] || assert_match "$OUT" "cgroup_device +multi +$2" "bpftool: the program's name"
}

for rt in crun runc; do
	name=$rt-devcg
	b=$WORK/$name
	step "$rt: running container, uverbs0 and umad0 in linux.devices, no allow rule"
	oci_bundle "$b" --device /dev/infiniband/uverbs0 --device /dev/infiniband/umad0 -- sleep 600
	start_oci "$rt" "$b" "$WORK/$name.log"
	wait_running "$rt" "$name"
	cg=$(bundle_cgroup "$b")
	note "cgroup $cg"
	probe "$rt" "$name"
	assert_contains "$OUT" "$(denied /dev/infiniband/uverbs0)" "$rt: uverbs0 before"
	assert_contains "$OUT" "$(denied /dev/infiniband/umad0)" "$rt: umad0 before"
	assert_contains "$OUT" "open /dev/null" "$rt: /dev/null before"

	step "$rt: the runtime's device program"
	capture "$DEVCG" --query "$cg"
	show
	assert_eq 0 "$RC" "crdma-vm-devcg --query"
	assert_contains "$OUT" "count=1 " "$rt: one device program on the container's cgroup"
	assert_match "$OUT" 'flags=multi crdma=no' "$rt: attached with BPF_F_ALLOW_MULTI, no crdma prefix"
	orig_id=$(prog_ids)
	note "$rt's program: id $orig_id"
	bpftool_show "$cg"

	step "$rt: --undo (apply, probe in between, undo): the runtime's own program comes back"
	capture "$DEVCG" --undo --between "$rt exec $name sh -c '$PROBE' 2>&1 | sed 's/^/between: /'" \
		"$cg" "$UVERBS"
	show
	assert_eq 0 "$RC" "crdma-vm-devcg --undo"
	assert_contains "$OUT" "between: open /dev/infiniband/uverbs0" "$rt: uverbs0 opened while applied"
	assert_contains "$OUT" "undone" "$rt: undo"
	assert_eq "$orig_id" "$(prog_ids)" "$rt: after undo, the attached program id"
	assert_match "$OUT" 'crdma=no' "$rt: after undo, no crdma prefix"
	probe "$rt" "$name"
	assert_contains "$OUT" "$(denied /dev/infiniband/uverbs0)" "$rt: uverbs0 after undo"

	step "$rt: crdma-vm-devcg $cg $UVERBS"
	capture "$DEVCG" -v "$cg" "$UVERBS"
	show
	assert_eq 0 "$RC" "crdma-vm-devcg"
	assert_contains "$OUT" "changed=yes" "$rt: first apply"
	assert_contains "$OUT" "count=1 " "$rt: still one device program"
	assert_match "$OUT" "name=crdma_devcg insns=[0-9]+ flags=multi crdma=$UVERBS"$'\n' \
		"$rt: crdma's program, in multi mode, with the rule"
	new_id=$(prog_ids)
	[[ $new_id != "$orig_id" ]] || fail "$rt: the program id did not change"
	ok "$rt: program $orig_id replaced by $new_id"
	bpftool_show "$cg" crdma_devcg
	probe "$rt" "$name"
	assert_contains "$OUT" "open /dev/infiniband/uverbs0" "$rt: uverbs0 opens"
	assert_not_contains "$OUT" "$(denied /dev/infiniband/uverbs0)" "$rt: uverbs0"
	assert_contains "$OUT" "$(denied /dev/infiniband/umad0)" "$rt: umad0 (not in the rules) still"
	assert_contains "$OUT" "open /dev/null" "$rt: /dev/null (runtime's rule)"
	assert_contains "$OUT" "open /dev/zero" "$rt: /dev/zero (runtime's rule)"
	capture "$rt" exec "$name" ibv_devinfo -d rxe0
	show
	assert_eq 0 "$RC" "$rt: ibv_devinfo -d rxe0 inside"
	assert_match "$OUT" $'hca_id:[[:space:]]+rxe0\n' "$rt: ibv_devinfo names the device"
	assert_match "$OUT" 'state:[[:space:]]+PORT_ACTIVE' "$rt: ibv_devinfo port state"

	step "$rt: the same again: nothing changes"
	capture "$DEVCG" "$cg" "$UVERBS"
	show
	assert_eq 0 "$RC" "crdma-vm-devcg (second run)"
	assert_contains "$OUT" "changed=no" "$rt: second apply"
	assert_contains "$OUT" "count=1 " "$rt: one device program"
	assert_eq "$new_id" "$(prog_ids)" "$rt: the program id"

	step "$rt: more rules: one program with the union, not a second prefix"
	capture "$DEVCG" "$cg" c:10:124 "$UVERBS"
	show
	assert_eq 0 "$RC" "crdma-vm-devcg (union)"
	assert_contains "$OUT" "changed=yes" "$rt: union apply"
	assert_contains "$OUT" "count=1 " "$rt: one device program"
	assert_match "$OUT" "crdma=c:10:124,$UVERBS"$'\n' "$rt: the prefix's rules"
	insns_before=$(grep -o 'insns=[0-9]*' <<<"$OUT" | cut -d= -f2)
	capture "$DEVCG" "$cg" c:10:124
	assert_contains "$OUT" "changed=no" "$rt: a subset of the rules"
	assert_eq "$insns_before" "$(grep -o 'insns=[0-9]*' <<<"$OUT" | cut -d= -f2)" "$rt: instructions"
	probe "$rt" "$name"
	assert_contains "$OUT" "open /dev/infiniband/uverbs0" "$rt: uverbs0 still opens"
	assert_contains "$OUT" "$(denied /dev/infiniband/umad0)" "$rt: umad0 still"

	"$rt" delete -f "$name" >/dev/null 2>&1 || true
	wait "$BG_PID" 2>/dev/null || true

	step "$rt: a privileged container (linux.resources.devices allows everything)"
	name=$rt-devcg-priv
	b=$WORK/$name
	oci_bundle "$b" --device /dev/infiniband/uverbs0 \
		--jq '.linux.resources.devices = [{allow: true, access: "rwm"}]' -- sleep 600
	start_oci "$rt" "$b" "$WORK/$name.log"
	wait_running "$rt" "$name"
	cg=$(bundle_cgroup "$b")
	capture "$DEVCG" --query "$cg"
	show
	note "$rt, privileged: $(grep -c '^prog ' <<<"$OUT") device program(s) attached"
	probe "$rt" "$name"
	assert_contains "$OUT" "open /dev/infiniband/uverbs0" "$rt: privileged, uverbs0 before crdma"
	capture "$DEVCG" -v "$cg" "$UVERBS"
	show
	assert_eq 0 "$RC" "$rt: crdma-vm-devcg on the privileged container"
	probe "$rt" "$name"
	assert_contains "$OUT" "open /dev/infiniband/uverbs0" "$rt: privileged, uverbs0 after crdma"
	"$rt" delete -f "$name" >/dev/null 2>&1 || true
	wait "$BG_PID" 2>/dev/null || true
done

step "cgroup v1: devices.allow on a v1 devices hierarchy mounted next to cgroup2"
v1root=$WORK/v1-devices
mkdir -p "$v1root"
if ! mount -t cgroup -o devices crdma-v1 "$v1root" 2>"$WORK/v1-mount.err"; then
	note "v1 devices hierarchy not mountable here ($(cat "$WORK/v1-mount.err")): v1 not tested"
	exit 0
fi
v1=$v1root/crdma-v1
mkdir "$v1"
echo a >"$v1/devices.deny"
echo 'c 1:3 rwm' >"$v1/devices.allow"
V1_OPEN="echo \$\$ >$v1/cgroup.procs && head -c0 /dev/infiniband/uverbs0 && echo v1-opened"
capture sh -c "$V1_OPEN"
show
assert_contains "$OUT" "$(denied /dev/infiniband/uverbs0)" "v1: uverbs0 before"
capture "$DEVCG" -v --v1 --undo --between "$V1_OPEN" "$v1" "$UVERBS"
show
assert_eq 0 "$RC" "crdma-vm-devcg --v1 --undo"
assert_contains "$OUT" "changed=yes" "v1: apply"
assert_contains "$OUT" "v1-opened" "v1: uverbs0 opened while applied"
assert_contains "$OUT" "undone" "v1: undo"
assert_eq "c 1:3 rwm" "$(cat "$v1/devices.list")" "v1: devices.list after undo"
capture sh -c "$V1_OPEN"
assert_contains "$OUT" "$(denied /dev/infiniband/uverbs0)" "v1: uverbs0 after undo"
capture "$DEVCG" --v1 "$v1" "$UVERBS"
assert_contains "$OUT" "changed=yes" "v1: apply (kept)"
assert_eq "c 1:3 rwm
c $UV_MAJ:$UV_MIN rw" "$(cat "$v1/devices.list")" "v1: devices.list"
capture "$DEVCG" --v1 "$v1" "$UVERBS"
assert_contains "$OUT" "changed=no" "v1: second apply"
capture sh -c "$V1_OPEN"
assert_contains "$OUT" "v1-opened" "v1: uverbs0 opens"
rmdir "$v1"
umount "$v1root"
