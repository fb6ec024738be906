#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# crdma-runtime in front of real runc on the build machine, called as an
# engine calls it (runc's global options, create/start/run/state/delete):
# the config edit at create, untouched configs, requests from the
# environment under the policy, refusals in runc's --log format, everything
# else passed through.  Device numbers come from a fake sysfs tree (this
# kernel has no RDMA); tests/vm runs Docker and containerd through the shim.
# Usage: runtime-shim.sh CRDMA_RUNTIME SOURCE_DIR      (root; exit 77 = skipped)
set -uo pipefail
shim=$(realpath "$1")
src=$(realpath "$2")
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (runc)"; exit 77; }
command -v runc >/dev/null || { echo "SKIP: runc is not installed"; exit 77; }

tree=$src/tests/data/sysfs/rxe
work=$(mktemp -d /tmp/crdma-shim-XXXXXX)
state=$work/state
pass=0 fail=0
cleanup() {
        for c in $(runc --root "$state" list -q 2>/dev/null); do
                runc --root "$state" delete -f "$c" >/dev/null 2>&1
        done
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

# No rdma cgroup here: limits best-effort.  8 MiB memlock is runc's own here,
# so nothing needs CAP_SYS_RESOURCE (tests/vm raises it for real).
cat >"$work/policy.json" <<'JSON'
{"version": 1, "defaults": {"memlock": "8M"}, "limits": {"enforce": "best-effort", "memlock": "1G"}}
JSON
cat >"$work/policy-env.json" <<'JSON'
{"version": 1, "defaults": {"memlock": "8M"}, "limits": {"enforce": "best-effort", "memlock": "1G"},
 "allow": {"environment": true}}
JSON
# shim [POLICY] ARGS...: crdma-runtime as an engine runs it.
shim() {
        local policy=$work/policy.json
        if [[ $1 == *.json ]]; then policy=$1; shift; fi
        "$shim" --crdma-policy "$policy" --crdma-sysfs-root "$tree" --root "$state" \
                --log "$work/log.json" --log-format json "$@"
}

# bundle NAME ANNOTATIONS-JSON ENV-JSON CMD: a rootfs binding the host's
# /usr, /bin, /sbin, /lib, /lib64 read-only.
bundle() {
        local name=$1 ann=$2 env=$3 cmd=$4 b=$work/$1
        mkdir -p "$b/rootfs"
        for d in bin sbin lib lib64 usr etc proc dev sys tmp; do mkdir -p "$b/rootfs/$d"; done
        (cd "$b" && runc spec)
        jq --argjson ann "$ann" --argjson env "$env" --arg cmd "$cmd" '
          .process.terminal = false | .process.args = ["sh", "-c", $cmd]
          | .process.env += $env
          | .root = {path: "rootfs", readonly: true}
          | .annotations = $ann
          | .mounts += [ "/usr", "/bin", "/sbin", "/lib", "/lib64"
                         | {destination: ., type: "bind", source: ., options: ["rbind", "ro"]} ]' \
          "$b/config.json" >"$b/config.new" && mv "$b/config.new" "$b/config.json"
        chmod 0640 "$b/config.json"
}
fingerprint() { stat -c '%i %a %s' "$1"; sha256sum <"$1"; }

echo "== no request: the config is not rewritten, runc runs the container"
bundle crdma-shim-a '{"org.example": "x"}' '[]' 'ls /dev/infiniband 2>&1; echo RAN'
before=$(fingerprint "$work/crdma-shim-a/config.json")
out=$(shim run --bundle "$work/crdma-shim-a" crdma-shim-a 2>&1)
check "the container ran and has no /dev/infiniband" \
        grep -q RAN <<<"$out"
check "... no /dev/infiniband" grep -q 'No such file or directory' <<<"$out"
check "config.json: same inode, mode, size and bytes" \
        test "$(fingerprint "$work/crdma-shim-a/config.json")" = "$before"

echo "== annotations: create edits the bundle, start runs it"
bundle crdma-shim-b '{"io.crdma.devices": "rxe1"}' '[]' 'ls -ln /dev/infiniband; ulimit -l'
# runc's create options, values included, around the container id.
(cd / && shim create --pid-file "$work/b.pid" crdma-shim-b -b "$work/crdma-shim-b" \
        --no-new-keyring >"$work/b.out" 2>&1) || bad "create through the shim: $(cat "$work/b.out")"
check "--pid-file reached runc" test -s "$work/b.pid"
check "state passes through: created" \
        test "$(shim state crdma-shim-b | jq -r .status)" = created
cfg=$work/crdma-shim-b/config.json
check "config.json now has uverbs1 231:193 in linux.devices" \
        test "$(jq -c '[.linux.devices[] | select(.path == "/dev/infiniband/uverbs1") | .major, .minor]' "$cfg")" = '[231,193]'
check "... and its mode and owner kept (0640 root)" test "$(stat -c '%a %u' "$cfg")" = "640 0"
check "... and no temporary file left next to it" \
        test "$(find "$work/crdma-shim-b" -maxdepth 1 -name '.config.json.*' | wc -l)" -eq 0
shim start crdma-shim-b
for _ in $(seq 50); do [ "$(shim state crdma-shim-b 2>/dev/null | jq -r .status)" = stopped ] && break; sleep 0.1; done
out=$(cat "$work/b.out")
check "the container sees uverbs1 and rdma_cm, nothing else" \
        test "$(grep -c '^c' <<<"$out")" -eq 2
check "... uverbs1 is 231,193" grep -Eq '^crw-rw-rw- +1 +0 +0 +231, +193 .* uverbs1$' <<<"$out"
check "... ulimit -l is the policy's 8 MiB" grep -qx 8192 <<<"$out"
shim delete crdma-shim-b
check "delete passes through: gone" test -z "$(shim list -q | grep -x crdma-shim-b)"

echo "== exec --process FILE (Docker's docker exec): the container's memlock"
# A memlock below runc's own 8 MiB, so no CAP_SYS_RESOURCE is needed to see it applied.
cat >"$work/policy-4m.json" <<'JSON'
{"version": 1, "defaults": {"memlock": "4M"}, "limits": {"enforce": "best-effort"}}
JSON
bundle crdma-shim-x '{"io.crdma.devices": "rxe0"}' '[]' 'sleep 60'
shim "$work/policy-4m.json" create -b "$work/crdma-shim-x" crdma-shim-x >/dev/null 2>&1 &&
        shim start crdma-shim-x || bad "create/start crdma-shim-x"
jq -n '{args: ["sh", "-c", "ulimit -l"], cwd: "/", env: ["PATH=/usr/bin:/bin"], user: {uid: 0, gid: 0}}' \
        >"$work/process.json"
cp "$work/process.json" "$work/process-runc.json"
out=$(runc --root "$state" exec --process "$work/process-runc.json" crdma-shim-x 2>&1)
check "runc alone: an exec'd process from a file gets runc's 8 MiB, not the container's" test "$out" = 8192
out=$(shim "$work/policy-4m.json" exec --process "$work/process.json" crdma-shim-x 2>&1)
check "through the shim: the container's 4 MiB" test "$out" = 4096
check "... written into the process file" \
        test "$(jq -c '.rlimits' "$work/process.json")" = '[{"type":"RLIMIT_MEMLOCK","hard":4194304,"soft":4194304}]'
out=$(shim "$work/policy-4m.json" exec crdma-shim-x sh -c 'ulimit -l' 2>&1)
check "exec with a command line: runc's own rule gives the container's" test "$out" = 4096
bundle crdma-shim-y '{}' '[]' 'sleep 60'
shim create -b "$work/crdma-shim-y" crdma-shim-y >/dev/null 2>&1 && shim start crdma-shim-y
cp "$work/process-runc.json" "$work/process-y.json"
before=$(fingerprint "$work/process-y.json")
out=$(shim exec --process "$work/process-y.json" crdma-shim-y 2>&1)
check "a container with no request: the process file untouched" \
        test "$out" = 8192 -a "$(fingerprint "$work/process-y.json")" = "$before"
out=$(shim exec --process "$work/process-y.json" no-such-container 2>&1); rc=$?
check "no such container: runc's own error" test "$rc" -ne 0 -a "$(grep -c 'crdma-runtime' <<<"$out")" -eq 0
shim delete -f crdma-shim-x; shim delete -f crdma-shim-y

echo "== requests from the environment"
bundle crdma-shim-e '{}' '["CRDMA_DEVICES=rxe0"]' 'ls /dev/infiniband; echo RAN'
before=$(fingerprint "$work/crdma-shim-e/config.json")
: >"$work/log.json"
out=$(shim run -b "$work/crdma-shim-e" crdma-shim-e 2>&1); rc=$?
check "refused under a policy without allow.environment: exit 1" test "$rc" -eq 1
check "... one line on stderr naming the variables and the fix" \
        grep -qF "crdma-runtime: error: bundle $work/crdma-shim-e: the container's CRDMA_* environment variables: $work/policy.json does not take requests from a container's environment" <<<"$out"
check "... the same in --log as runc's JSON (level, msg, time)" \
        jq -e 'select(.level == "error" and (.msg | startswith("crdma-runtime: error: ")) and (.time | test("^[0-9-]+T[0-9:.]+Z$")))' "$work/log.json"
check "... nothing ran, nothing created, config untouched" \
        test "$(grep -c RAN <<<"$out")" -eq 0 -a -z "$(shim list -q)" -a \
             "$(fingerprint "$work/crdma-shim-e/config.json")" = "$before"
out=$(shim "$work/policy-env.json" run -b "$work/crdma-shim-e" crdma-shim-e 2>&1)
check "allowed by the policy: rdma_cm and uverbs0" test "$out" = $'rdma_cm\nuverbs0\nRAN'
check "... and the request is written as annotations for the hooks" \
        test "$(jq -r '.annotations["io.crdma.devices"]' "$work/crdma-shim-e/config.json")" = rxe0
bundle crdma-shim-t '{}' '["CRDMA_DEVICES=rxe0", "CRDMA_HCA_HANDLE=2"]' 'echo RAN'
out=$(shim "$work/policy-env.json" run -b "$work/crdma-shim-t" crdma-shim-t 2>&1); rc=$?
check "a typo in a variable: refused (exit 1), naming it" \
        test "$rc" -eq 1 -a "$(grep -c 'environment variable CRDMA_HCA_HANDLE: unknown' <<<"$out")" -eq 1

echo "== the bundle's config as a symlink, a missing hook"
bundle crdma-shim-l '{"io.crdma.devices": "rxe0"}' '[]' 'echo RAN'
mv "$work/crdma-shim-l/config.json" "$work/crdma-shim-l/real.json"
ln -s real.json "$work/crdma-shim-l/config.json"
out=$(shim run -b "$work/crdma-shim-l" crdma-shim-l 2>&1); rc=$?
check "a symlinked config.json: refused (exit 1), nothing ran" \
        test "$rc" -eq 1 -a "$(grep -c 'is a symbolic link' <<<"$out")" -eq 1 -a "$(grep -c RAN <<<"$out")" -eq 0
# AUTO (a runtime that is neither runc nor crun) needs the createRuntime entry for rdma.max.
mkdir -p "$work/bin" && ln -sf "$(command -v runc)" "$work/bin/other-runtime"
cat >"$work/policy-hook.json" <<JSON
{"version": 1, "runtime": {"runtimes": ["$work/bin/other-runtime"], "hook": "$work/no/crdma-hook"}}
JSON
bundle crdma-shim-h '{"io.crdma.devices": "rxe0"}' '[]' 'echo RAN'
mkdir -p "$work/cg" && echo "cpu memory rdma" >"$work/cg/cgroup.controllers" # a v2 host with rdma
out=$("$shim" --crdma-policy "$work/policy-hook.json" --crdma-sysfs-root "$tree" \
        --crdma-cgroup-root "$work/cg" --root "$state" run -b "$work/crdma-shim-h" crdma-shim-h 2>&1); rc=$?
check "a plan that needs the hook, none installed: refused (exit 1), naming the path" \
        test "$rc" -eq 1 -a "$(grep -c "and $work/no/crdma-hook is not installed" <<<"$out")" -eq 1

echo "== a Kubernetes sandbox: untouched"
bundle crdma-shim-k '{"io.kubernetes.cri.container-type": "sandbox", "io.crdma.devices": "rxe0"}' '[]' 'ls /dev/infiniband 2>&1'
before=$(fingerprint "$work/crdma-shim-k/config.json")
out=$(shim run -b "$work/crdma-shim-k" crdma-shim-k 2>&1)
check "no devices, config not rewritten" \
        test "$(grep -c 'No such file' <<<"$out")" -eq 1 -a "$(fingerprint "$work/crdma-shim-k/config.json")" = "$before"

echo "== pass-through and the runtime list"
check "--version is runc's" test "$("$shim" --crdma-policy "$work/policy.json" --version | head -1)" = "$(runc --version | head -1)"
cat >"$work/policy-list.json" <<JSON
{"version": 1, "runtime": {"runtimes": ["/nonexistent/runc", "no-such-runtime", "$(command -v runc)"]}}
JSON
check "the first installed runtime of the list runs" \
        test "$("$shim" --crdma-policy "$work/policy-list.json" --version | head -1)" = "$(runc --version | head -1)"
cat >"$work/policy-none.json" <<'JSON'
{"version": 1, "runtime": {"runtimes": ["no-such-runtime"]}}
JSON
out=$("$shim" --crdma-policy "$work/policy-none.json" --version 2>&1); rc=$?
check "none installed: exit 3, naming the list" \
        test "$rc" -eq 3 -a "$(grep -c 'none of no-such-runtime is installed' <<<"$out")" -eq 1
out=$("$shim" --crdma-policy "$work/policy.json" --crdma-policey x --version 2>&1); rc=$?
check "an unknown --crdma- option: usage error (exit 2)" test "$rc" -eq 2
echo '{"version": 1, "runtime": {"runtimes": "runc"}}' >"$work/policy-bad.json"
out=$("$shim" --crdma-policy "$work/policy-bad.json" state x 2>&1); rc=$?
check "an invalid policy: exit 3 with its reason, even for state" \
        test "$rc" -eq 3 -a "$(grep -c 'runtime.runtimes' <<<"$out")" -eq 1

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
