#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# crdma-hook as a createRuntime hook in config.json, with real runc on the
# build machine (real namespaces and cgroups; the device numbers come from a
# fake sysfs tree, since this kernel has no RDMA: the nodes exist but cannot
# be opened here — tests/vm proves they work on a real RDMA kernel).
# Usage: runc-inject.sh CRDMA_HOOK SOURCE_DIR      (root; exit 77 = skipped)
set -uo pipefail
hook=$(realpath "$1")
src=$(realpath "$2")
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (runc)"; exit 77; }
command -v runc >/dev/null || { echo "SKIP: runc is not installed"; exit 77; }

tree=$src/tests/data/sysfs/rxe
work=$(mktemp -d /tmp/crdma-it-XXXXXX)
pass=0 fail=0
cleanup() {
        for c in $(runc list -q 2>/dev/null | grep '^crdma-it-'); do runc delete -f "$c" >/dev/null 2>&1; done
        rm -rf "$work"
}
trap cleanup EXIT
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { # check DESCRIPTION COMMAND...
        local what=$1
        shift
        if "$@"; then ok "$what"; else bad "$what"; fi
}

# Raising a hard rlimit needs CAP_SYS_RESOURCE, which some sandboxes (this
# build machine's kind among them) drop even for root.  Without it, the
# policy keeps memlock at 8 MiB (runc's own limit here, so nothing to raise)
# and the raise itself is left to tests/vm.
if (( (0x$(awk '/^CapEff:/ { print $2 }' /proc/self/status) >> 24) & 1 )); then
        can_raise=yes
        cat >"$work/policy.json" <<'JSON'
{"version": 1, "limits": {"enforce": "best-effort"}}
JSON
else
        can_raise=no
        echo "note: no CAP_SYS_RESOURCE here: memlock stays at 8 MiB; tests/vm covers the raise"
        cat >"$work/policy.json" <<'JSON'
{"version": 1, "defaults": {"memlock": "8M"}, "limits": {"enforce": "best-effort", "memlock": "1G"}}
JSON
fi
# (This host has no rdma cgroup: the policy says best-effort for limits.)

# A sanitizer build's hook runs with the environment config.json gives it,
# not ours: hand it our sanitizer options, its reports going to files that
# the end of this test requires to be absent (scripts/test.sh runs this
# suite against the ASan+UBSan build).
hook_env='["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]'
if [ -n "${ASAN_OPTIONS:-}${UBSAN_OPTIONS:-}" ]; then
        hook_env=$(jq -cn --arg a "${ASAN_OPTIONS:-}:log_path=$work/asan" \
                          --arg u "${UBSAN_OPTIONS:-}:log_path=$work/ubsan" \
                   '["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "ASAN_OPTIONS=" + $a, "UBSAN_OPTIONS=" + $u]')
fi

# bundle NAME ANNOTATIONS-JSON CMD: a bundle whose rootfs binds the host's
# /usr, /bin, /sbin, /lib, /lib64 read-only, with crdma-hook in createRuntime.
bundle() {
        local name=$1 ann=$2 cmd=$3 b=$work/$1
        mkdir -p "$b/rootfs"
        for d in bin sbin lib lib64 usr etc proc dev sys tmp; do mkdir -p "$b/rootfs/$d"; done
        (cd "$b" && runc spec)
        jq --arg hook "$hook" --arg tree "$tree" --arg policy "$work/policy.json" --argjson env "$hook_env" \
           --argjson ann "$ann" --arg cmd "$cmd" '
          .process.terminal = false | .process.args = ["sh", "-c", $cmd]
          | .root = {path: "rootfs", readonly: true}
          | .annotations = $ann
          | .mounts += [ "/usr", "/bin", "/sbin", "/lib", "/lib64"
                         | {destination: ., type: "bind", source: ., options: ["rbind", "ro"]} ]
          | .hooks.createRuntime = [{path: $hook,
                args: ["crdma-hook", "--sysfs-root", $tree, "--policy", $policy, "createRuntime"],
                env: $env}]' \
          "$b/config.json" >"$b/config.new" && mv "$b/config.new" "$b/config.json"
}

echo "== annotated container: nodes, device cgroup, memlock"
if [ $can_raise = yes ]; then
        ann='{"io.crdma.devices": "rxe1", "io.crdma.memlock": "1G"}' want_memlock=1048576
else
        ann='{"io.crdma.devices": "rxe1"}' want_memlock=8192
fi
bundle crdma-it-a "$ann" 'ls -ln /dev/infiniband; ulimit -l'
(cd "$work/crdma-it-a" && runc create crdma-it-a >"$work/a.create" 2>&1) ||
        { bad "runc create with the hook: $(cat "$work/a.create")"; }
cg=$(awk -F: '$2 == "devices" { print $3 }' "/proc/$(runc state crdma-it-a | jq .pid)/cgroup")
check "devices.list of $cg allows uverbs1 (231:193) and rdma_cm (10:124)" \
        grep -qx 'c 231:193 rw' "/sys/fs/cgroup/devices$cg/devices.list"
check "... and rdma_cm" grep -qx 'c 10:124 rw' "/sys/fs/cgroup/devices$cg/devices.list"
runc start crdma-it-a
for _ in $(seq 50); do [ "$(runc state crdma-it-a 2>/dev/null | jq -r .status)" = stopped ] && break; sleep 0.1; done
out=$(cat "$work/a.create")
check "uverbs1 is char 231,193 mode 0666 in the container" \
        grep -Eq '^crw-rw-rw- +1 +0 +0 +231, +193 .* uverbs1$' <<<"$out"
check "rdma_cm is char 10,124 mode 0666" grep -Eq '^crw-rw-rw- +1 +0 +0 +10, +124 .* rdma_cm$' <<<"$out"
check "only those two nodes (no umad, no issm, no other uverbs)" \
        test "$(grep -c '^c' <<<"$out")" -eq 2
check "ulimit -l is $want_memlock KiB" grep -qx "$want_memlock" <<<"$out"
runc delete crdma-it-a

echo "== running the hook twice is harmless"
bundle crdma-it-b '{"io.crdma.devices": "rxe0"}' 'ls /dev/infiniband'
jq '.hooks.createRuntime += .hooks.createRuntime' "$work/crdma-it-b/config.json" >"$work/b.json" &&
        mv "$work/b.json" "$work/crdma-it-b/config.json"
out=$(cd "$work/crdma-it-b" && runc run crdma-it-b 2>&1)
check "two hook runs: exit 0 and the same two nodes" test "$out" = $'rdma_cm\nuverbs0'

echo "== unannotated container: untouched"
bundle crdma-it-c '{"org.example": "x"}' 'ls /dev/infiniband 2>&1; ulimit -l'
out=$(cd "$work/crdma-it-c" && runc run crdma-it-c 2>&1)
check "no /dev/infiniband, default memlock, hook silent" \
        test "$out" = $'ls: /dev/infiniband: No such file or directory\n8192' -o \
             "$out" = $'ls: cannot access \'/dev/infiniband\': No such file or directory\n8192'

echo "== refusals: the runtime reports the hook's one line, the container does not run"
for case in 'io.crdma.umad=true|annotation io.crdma.umad="true": not allowed by' \
            'io.crdma.hca-handle=4|annotation io.crdma.hca-handle: unknown key' \
            'io.crdma.memlock=lots|annotation io.crdma.memlock="lots": must be bytes' \
            'io.crdma.memlock=2G|annotation io.crdma.memlock="2G": above the limit 1G'; do
        kv=${case%%|*} msg=${case#*|}
        ann=$(jq -n --arg k "${kv%%=*}" --arg v "${kv#*=}" '{"io.crdma.devices": "rxe0"} + {($k): $v}')
        bundle crdma-it-r "$ann" 'echo RAN'
        out=$(cd "$work/crdma-it-r" && runc run crdma-it-r 2>&1)
        # runc quotes the hook's stderr inside msg="...": undo its escaping.
        out=${out//\\\"/\"}
        check "$kv: refused with \"$msg\"" grep -qF "crdma-hook: error: container crdma-it-r: $msg" <<<"$out"
        check "$kv: the container never ran" test "$(grep -c RAN <<<"$out")" -eq 0
        runc delete -f crdma-it-r >/dev/null 2>&1
        rm -rf "$work/crdma-it-r"
done

echo "== a memlock in config.json that the runtime would apply after the hook"
bundle crdma-it-m '{"io.crdma.devices": "rxe0", "io.crdma.memlock": "1M"}' 'echo RAN'
jq '.process.rlimits = [{type: "RLIMIT_MEMLOCK", soft: 65536, hard: 65536}]' \
        "$work/crdma-it-m/config.json" >"$work/m.json" && mv "$work/m.json" "$work/crdma-it-m/config.json"
out=$(cd "$work/crdma-it-m" && runc run crdma-it-m 2>&1)
out=${out//\\\"/\"}
check "refused: the runtime would lower memlock again after the hook" \
        grep -qF "RLIMIT_MEMLOCK: the container's config sets it to 65536 bytes, which the runtime applies after this hook" <<<"$out"
check "... and the container never ran" test "$(grep -c RAN <<<"$out")" -eq 0

if [ -n "${ASAN_OPTIONS:-}${UBSAN_OPTIONS:-}" ]; then
        reports=$(find "$work" -maxdepth 1 -name 'asan.*' -o -maxdepth 1 -name 'ubsan.*')
        check "no sanitizer report from any hook run" test -z "$reports"
        for r in $reports; do echo "--- $r:"; cat "$r"; done
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
