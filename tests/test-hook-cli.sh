#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# crdma-hook's command line as a user meets it: exit statuses, the one-line
# error format, and the output of devices / plan / policy on shipped trees.
set -uo pipefail
hook=$1
data=$2
tmp=$(mktemp -d /tmp/crdma-test-cli-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

# expect STATUS STDERR_REGEX [STDOUT_REGEX] -- ARGS...
expect() {
        local status=$1 err_re=$2 out_re=$3
        shift 4
        "$hook" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
        local got=$?
        local why=""
        [ "$got" -eq "$status" ] || why="exit $got, expected $status"
        if [ -z "$why" ] && [ -n "$err_re" ] && ! grep -Eq -- "$err_re" "$tmp/err"; then
                why="stderr does not match /$err_re/"
        fi
        if [ -z "$why" ] && [ -z "$err_re" ] && [ -s "$tmp/err" ]; then
                why="unexpected stderr"
        fi
        if [ -z "$why" ] && [ "$status" -ne 0 ] && [ "$(wc -l <"$tmp/err")" -ne 1 ]; then
                why="a failure must be exactly one line on stderr"
        fi
        if [ -z "$why" ] && [ -n "$out_re" ] && ! grep -Eq -- "$out_re" "$tmp/out"; then
                why="stdout does not match /$out_re/"
        fi
        if [ -n "$why" ]; then
                fail=$((fail + 1))
                echo "FAIL: crdma-hook $*: $why"
                sed 's/^/  stdout: /' "$tmp/out" | head -5
                sed 's/^/  stderr: /' "$tmp/err" | head -5
        else
                pass=$((pass + 1))
                echo "ok: crdma-hook $*"
        fi
}

rxe=$data/sysfs/rxe
mixed=$data/sysfs/mixed

# Usage errors: exit 2.
expect 2 '^crdma-hook: error: no command given; see crdma-hook --help$' '' --
expect 2 '^crdma-hook: error: frobnicate: unknown command' '' -- frobnicate
expect 2 '^crdma-hook: error: --bogus: unknown option' '' -- --bogus devices
expect 2 '^crdma-hook: error: --policy: empty file name$' '' -- --policy '' policy
expect 2 'does not apply to this command' '' -- devices -a io.crdma.devices=rxe0
expect 2 'expected KEY=VALUE' '' -- plan -a novalue
expect 2 'unexpected argument' '' -- devices extra
expect 0 '' '^Usage: crdma-hook' -- --help
expect 0 '' '^crdma-hook [0-9]+\.[0-9]+\.[0-9]+$' -- --version

# devices: table and JSON.
expect 0 '' '^rxe0 +- +CA +\(software\) +- +- +1 +Ethernet +ACTIVE +veth0 +uverbs0 231:192, umad0 231:0, issm0 231:64$' -- --sysfs-root "$rxe" devices
expect 0 '' '^rdma_cm: /dev/infiniband/rdma_cm 10:124$' -- --sysfs-root "$rxe" devices
expect 0 '' '^mlx5_2 +- +CA +mlx5_core +0000:04:00.1 +0000:04:00.0 +1 +Ethernet +ACTIVE +ens1f0v0 +uverbs2 231:194' -- devices --sysfs-root "$mixed"
expect 0 '' '"path": "/dev/infiniband/uverbs1"' -- --sysfs-root "$rxe" devices --json
expect 0 '' '^no RDMA devices$' -- --sysfs-root "$data/sysfs/none" devices
expect 3 '^crdma-hook: error: .*/sysfs/broken-dev/class/infiniband_verbs/uverbs0/dev: not "<major>:<minor>"' '' -- --sysfs-root "$data/sysfs/broken-dev" devices
expect 3 '^crdma-hook: error: sysfs root /nonexistent: cannot open the directory: No such file or directory$' '' -- --sysfs-root /nonexistent devices
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [x["name"] for x in d["devices"]] == ["rxe0","rxe1"]' \
        <("$hook" --sysfs-root "$rxe" devices --json) 2>/dev/null && pass=$((pass + 1)) ||
        { fail=$((fail + 1)); echo "FAIL: devices --json is not the expected JSON"; }

# plan: what a container would get; refusals exit 1.
expect 0 '' '"rxe0 hca_handle=4 hca_object=65536"' -- --sysfs-root "$rxe" plan -a io.crdma.devices=rxe0 -a io.crdma.hca-handles=4
expect 0 '' '"soft": 1073741824' -- --sysfs-root "$rxe" plan -a io.crdma.devices=rxe1 -a io.crdma.memlock=1G
expect 0 'no io.crdma.\* annotation: nothing to do' '' -- --sysfs-root "$rxe" plan -a other.key=1
expect 1 '^crdma-hook: error: annotation io.crdma.hca-handle: unknown key' '' -- --sysfs-root "$rxe" plan -a io.crdma.devices=rxe0 -a io.crdma.hca-handle=4
expect 1 '^crdma-hook: error: annotation io.crdma.umad="true": not allowed by built-in policy' '' -- --sysfs-root "$rxe" plan -a io.crdma.devices=rxe0 -a io.crdma.umad=true
expect 1 '^crdma-hook: error: annotation io.crdma.devices: device mlx5_9: no such RDMA device on this host' '' -- --sysfs-root "$rxe" plan -a io.crdma.devices=mlx5_9
expect 1 'annotation io.crdma.devices=".*": "\.\./x" is not a device name' '' -- --sysfs-root "$rxe" plan -a io.crdma.devices=../x
expect 1 'above the limit 64' '' -- --sysfs-root "$rxe" plan -a io.crdma.devices=rxe0 -a io.crdma.hca-handles=1000

# plan from an OCI config; --annotation overrides the config's value.
cat >"$tmp/config.json" <<'JSON'
{"ociVersion": "1.0.2", "process": {"args": ["sh"]},
 "annotations": {"io.crdma.devices": "rxe1", "io.crdma.hca-handles": "2", "org.other": "x"}}
JSON
expect 0 '' '"rxe1 hca_handle=2 hca_object=65536"' -- --sysfs-root "$rxe" plan --config "$tmp/config.json"
expect 0 '' '"rxe1 hca_handle=3 hca_object=65536"' -- --sysfs-root "$rxe" plan --config "$tmp/config.json" -a io.crdma.hca-handles=3
expect 3 ': invalid JSON: parse error' '' -- --sysfs-root "$rxe" plan --config <(echo '{"annotations":')
expect 1 'annotation io.crdma.devices: value is not a string' '' -- --sysfs-root "$rxe" plan --config <(echo '{"annotations":{"io.crdma.devices":1}}')

# policy: the effective policy, and a broken file is an error (never the defaults).
echo '{"version": 1, "limits": {"hcaHandles": 4}}' >"$tmp/policy.json"
expect 0 '' '"hcaHandles": 4' -- --policy "$tmp/policy.json" policy
echo '{"version": 1, "limits": {"hcaHandles": -4}}' >"$tmp/bad.json"
expect 3 'bad.json: "limits.hcaHandles": must not be negative' '' -- --policy "$tmp/bad.json" policy
expect 3 'missing.json: cannot read the policy: No such file or directory' '' -- --policy "$tmp/missing.json" policy
expect 1 'above the limit 4 of .*policy.json' '' -- --policy "$tmp/policy.json" --sysfs-root "$rxe" plan -a io.crdma.devices=rxe0 -a io.crdma.hca-handles=5

# Least privilege: no capability for the read-only commands; LD_PRELOAD refused.
if [ "$(id -u)" -eq 0 ]; then
        expect 0 '^crdma-hook: debug: capabilities kept: none$' '' -- --debug policy
fi
# Preload something harmless: libc, or under ASan its runtime (which must come first).
preload=$(ldd "$hook" | awk '/libasan\.so/ { print $3 }')
[ -n "$preload" ] || preload=$(ldd "$hook" | awk '/libc\.so/ { print $3 }')
LD_PRELOAD=$preload expect 1 '^crdma-hook: error: LD_PRELOAD is set: crdma-hook refuses to run' '' -- devices

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
