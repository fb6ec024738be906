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
        "$hook" "$@" >"$tmp/out" 2>"$tmp/err" <"${stdin:-/dev/null}"
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
# More nodes than a device program holds: refused while planning, naming the limit.
# (18,000 small files: on a tmpfs when there is one, seconds instead of a minute on disk.)
big=$(mktemp -d "$( [ -w /dev/shm ] && echo /dev/shm || echo "$tmp")/crdma-sys1024-XXXXXX")
trap 'rm -rf "$tmp" "$big"' EXIT
python3 "$data/gen-sysfs.py" --out "$big/sys" --many 1024 --lean --gids 1 >/dev/null
printf '%s\n' '{"version": 1, "devices": ["*"]}' >"$tmp/all-policy.json"
expect 1 '^crdma-hook: error: annotation io.crdma.devices="all": 1024 devices make 1025 device nodes, more than the 1024 a container can be given' '' -- --sysfs-root "$big/sys" --policy "$tmp/all-policy.json" plan -a io.crdma.devices=all
expect 0 '' '"/dev/infiniband/uverbs1023"' -- --sysfs-root "$big/sys" --policy "$tmp/all-policy.json" plan -a io.crdma.devices=all -a io.crdma.rdma-cm=false
rm -rf "$big"

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

# precreate and edit: the config-edit path, on the rxe tree and a cgroup v2
# root with the rdma controller; an explicit policy so /etc plays no part.
cg=$tmp/cgroup
mkdir -p "$cg"
echo "cpuset cpu io memory pids rdma" >"$cg/cgroup.controllers"
echo '{"version": 1}' >"$tmp/edit-policy.json"
roots=(--sysfs-root "$rxe" --cgroup-root "$cg" --policy "$tmp/edit-policy.json")
# check NAME COMMAND...: one more pass or fail.
check() {
        local name=$1
        shift
        if "$@"; then
                pass=$((pass + 1))
                echo "ok: $name"
        else
                fail=$((fail + 1))
                echo "FAIL: $name"
        fi
}
# stamp FILE: what an edit must leave alone (content, inode, mtime, mode, owner).
stamp() { echo "$(sha256sum <"$1") $(stat -c '%i %y %a %u:%g' "$1")"; }

# precreate: no io.crdma annotation passes the config through byte for byte.
printf ' {"ociVersion" : "1.0.2", "process":{"args":["sh"]},\n"n": 1E3,\t"annotations": {"org.x": "io.crdma.devices"}}  \n\n' >"$tmp/plain.json"
stdin=$tmp/plain.json expect 0 '' '' -- "${roots[@]}" precreate
check "precreate: an unannotated config comes back byte for byte" cmp -s "$tmp/plain.json" "$tmp/out"
# An annotated one comes back edited, in its own (compact) form, with the hook
# entry naming this very crdma-hook and the policy it was given.
cat >"$tmp/podman.json" <<'JSON'
{"ociVersion":"1.0.2","process":{"args":["sh"]},"annotations":{"io.crdma.devices":"rxe1","io.crdma.hca-handles":"3"}}
JSON
stdin=$tmp/podman.json expect 0 '' '"path":"/dev/infiniband/uverbs1"' -- "${roots[@]}" precreate
cp "$tmp/out" "$tmp/precreate-out.json"
check "precreate: the edited config is compact and carries the request" python3 - "$tmp/precreate-out.json" "$hook" "$tmp/edit-policy.json" <<'PY'
import json, os, sys
text = open(sys.argv[1]).read()
c = json.loads(text)
assert text.count("\n") <= 1, "not compact"
assert c["linux"]["resources"]["rdma"] == {"rxe1": {"hcaHandles": 3, "hcaObjects": 65536}}, c["linux"]["resources"]
assert [d["path"] for d in c["linux"]["devices"]] == ["/dev/infiniband/uverbs1", "/dev/infiniband/rdma_cm"]
h = c["hooks"]["createRuntime"]
assert len(h) == 1 and os.path.samefile(h[0]["path"], sys.argv[2]), h
assert h[0]["args"] == ["crdma-hook", "--policy", sys.argv[3], "createRuntime"], h
assert "poststop" not in c["hooks"]
PY
# The edited config edits to itself.
stdin=$tmp/precreate-out.json expect 0 '' '' -- "${roots[@]}" precreate
check "precreate: twice is once" cmp -s "$tmp/precreate-out.json" "$tmp/out"
# --runtime runc: no hook entry needed.
stdin=$tmp/podman.json expect 0 '' '"rdma":\{"rxe1":\{"hcaHandles":3' -- "${roots[@]}" precreate --runtime runc
check "precreate --runtime runc: no hook entry" bash -c '! grep -q hooks "$1"' _ "$tmp/out"
# Refused: exit 1, one error line, nothing on stdout (podman then aborts).
echo '{"process":{},"annotations":{"io.crdma.devices":"mlx5_9"}}' >"$tmp/bad-device.json"
stdin=$tmp/bad-device.json expect 1 '^crdma-hook: error: annotation io.crdma.devices: device mlx5_9: no such RDMA device on this host' '' -- "${roots[@]}" precreate
check "precreate: a refusal writes nothing on stdout" test ! -s "$tmp/out"
echo '{"process":{},"annotations":{"io.crdma.devices":"rxe0"}}' >"$tmp/no-rdma-cg.json"
mkdir -p "$tmp/cgroup-v1-no-rdma/memory"
stdin=$tmp/no-rdma-cg.json expect 1 '^crdma-hook: error: config.json: this kernel has no rdma cgroup controller' '' -- --sysfs-root "$rxe" --cgroup-root "$tmp/cgroup-v1-no-rdma" --policy "$tmp/edit-policy.json" precreate
printf '{"process":' >"$tmp/truncated.json"
stdin=$tmp/truncated.json expect 3 '^crdma-hook: error: config.json: invalid JSON: parse error: premature EOF' '' -- "${roots[@]}" precreate
# Usage errors.
expect 2 '^crdma-hook: error: precreate: unexpected argument "config.json": the config comes on standard input' '' -- precreate config.json
expect 2 '^crdma-hook: error: precreate: an option given does not apply to this command' '' -- precreate --dry-run
expect 2 '^crdma-hook: error: precreate: an option given does not apply to this command' '' -- -a io.crdma.devices=rxe0 precreate
expect 2 '^crdma-hook: error: --runtime docker: expected runc, crun, rootless or auto' '' -- --runtime docker precreate
expect 2 '^crdma-hook: error: edit: expected one BUNDLE directory or config.json file' '' -- edit
expect 2 '^crdma-hook: error: edit: expected one BUNDLE directory or config.json file' '' -- edit "$tmp" "$tmp"

# edit BUNDLE: in place, mode and owner kept, the file's indent kept.
bundle=$tmp/bundle
mkdir -p "$bundle"
printf '{\n  "ociVersion": "1.0.2",\n  "process": {\n    "args": [\n      "sh"\n    ]\n  },\n  "annotations": {\n    "io.crdma.devices": "rxe0"\n  }\n}\n' >"$bundle/config.json"
chmod 0600 "$bundle/config.json"
owner=$(id -u):$(id -g)
if [ "$(id -u)" -eq 0 ]; then
        chown 4242:4343 "$bundle/config.json"
        owner=4242:4343
fi
before=$(stamp "$bundle/config.json")
expect 0 '' '' -- "${roots[@]}" edit "$bundle"
check "edit: mode 0600 and owner $owner kept" test "$(stat -c '%a %u:%g' "$bundle/config.json")" = "600 $owner"
check "edit: the file changed" test "$(stamp "$bundle/config.json")" != "$before"
check "edit: devices added, two-space indent kept" python3 - "$bundle/config.json" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
c = json.loads(text)
assert [d["path"] for d in c["linux"]["devices"]] == ["/dev/infiniband/uverbs0", "/dev/infiniband/rdma_cm"]
assert c["annotations"] == {"io.crdma.devices": "rxe0"}
assert "\t" not in text and '\n  "linux": {\n    "devices": [\n      {\n        "path"' in text, text
assert text.endswith("}\n")
PY
check "edit: no temporary file left" test "$(ls -A "$bundle")" = config.json
# Again: nothing to change, and the file is not rewritten (same inode and mtime).
before=$(stamp "$bundle/config.json")
expect 0 "^crdma-hook: $bundle/config.json: nothing to change\$" '' -- "${roots[@]}" edit "$bundle"
check "edit twice: the file untouched" test "$(stamp "$bundle/config.json")" = "$before"
# --dry-run prints what it would write and leaves the file alone.
printf '{"process":{},"annotations":{"io.crdma.devices":"rxe1"}}' >"$tmp/dry.json"
before=$(stamp "$tmp/dry.json")
expect 0 '' '"path":"/dev/infiniband/uverbs1"' -- "${roots[@]}" edit --dry-run "$tmp/dry.json"
check "edit --dry-run: the file untouched" test "$(stamp "$tmp/dry.json")" = "$before"
# -a writes the annotations into the config, so the createRuntime hook sees
# the same request in the runtime's state; a CONFIG path works as well as a
# bundle.
printf '{"process":{},"annotations":{"org.other":"1"}}' >"$tmp/annotate.json"
expect 0 '' '' -- "${roots[@]}" edit -a io.crdma.devices=rxe1 -a io.crdma.hca-objects=77 "$tmp/annotate.json"
check "edit -a: annotations and devices in the file" python3 - "$tmp/annotate.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
assert c["annotations"] == {"org.other": "1", "io.crdma.devices": "rxe1", "io.crdma.hca-objects": "77"}, c
assert c["linux"]["devices"][0]["path"] == "/dev/infiniband/uverbs1"
assert c["linux"]["resources"]["rdma"]["rxe1"] == {"hcaHandles": 16, "hcaObjects": 77}
assert c["hooks"]["createRuntime"][0]["args"][-1] == "createRuntime"
PY
# A config that already has the shipped oci-hooks.json fragment (runc, crun,
# Slurm) gets no second entry, even in exclusive mode (which needs both).
fragment=$(dirname "$hook")/../oci/build-oci-hooks.json
python3 - "$fragment" "$tmp/with-hooks.json" <<'PY'
import json, sys
hooks = json.load(open(sys.argv[1]))["hooks"]
json.dump({"process": {}, "hooks": hooks,
           "annotations": {"io.crdma.devices": "rxe0", "io.crdma.netns": "exclusive"}},
          open(sys.argv[2], "w"), indent=4)
PY
expect 0 '' '' -- "${roots[@]}" edit "$tmp/with-hooks.json"
check "edit: the shipped hook entries are not repeated" python3 - "$tmp/with-hooks.json" "$fragment" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
assert c["hooks"] == json.load(open(sys.argv[2]))["hooks"], c["hooks"]
assert c["linux"]["devices"][0]["path"] == "/dev/infiniband/uverbs0"
PY
# The entries the edit writes are the shipped ones (one definition of the hook
# entry: path, env, timeout), but for the --policy the edit was given.
printf '%s\n' '{"process": {}, "annotations": {"io.crdma.devices": "rxe0", "io.crdma.netns": "exclusive"}}' \
        >"$tmp/bare-exclusive.json"
expect 0 '' '' -- "${roots[@]}" edit "$tmp/bare-exclusive.json"
check "edit: its hook entries equal the shipped fragment's" python3 - "$tmp/bare-exclusive.json" "$fragment" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
for entries in c["hooks"].values():
    for h in entries:
        i = h["args"].index("--policy")
        del h["args"][i:i + 2]
assert c["hooks"] == json.load(open(sys.argv[2]))["hooks"], (c["hooks"], sys.argv[2])
PY
# An unannotated config: nothing to change.
cp "$tmp/plain.json" "$tmp/plain-edit.json"
before=$(stamp "$tmp/plain-edit.json")
expect 0 'nothing to change$' '' -- "${roots[@]}" edit "$tmp/plain-edit.json"
check "edit: an unannotated config untouched" test "$(stamp "$tmp/plain-edit.json")" = "$before"
# Refusals leave the file as it was.
cp "$tmp/bad-device.json" "$tmp/bad-edit.json"
before=$(stamp "$tmp/bad-edit.json")
expect 1 '^crdma-hook: error: annotation io.crdma.devices: device mlx5_9: no such RDMA device' '' -- "${roots[@]}" edit "$tmp/bad-edit.json"
check "edit refused: the file untouched" test "$(stamp "$tmp/bad-edit.json")" = "$before"
# A symlinked config.json is refused: renaming over it would replace the link.
mkdir -p "$tmp/linked"
cp "$tmp/dry.json" "$tmp/link-target.json"
ln -s ../link-target.json "$tmp/linked/config.json"
before=$(stamp "$tmp/link-target.json")
expect 1 "^crdma-hook: error: $tmp/linked/config.json: is a symbolic link; edit the file it points to\$" '' -- "${roots[@]}" edit "$tmp/linked"
check "edit of a symlink: link and target untouched" test "$(stamp "$tmp/link-target.json")" = "$before" -a -L "$tmp/linked/config.json"
expect 3 "^crdma-hook: error: $tmp/nonexistent: No such file or directory\$" '' -- "${roots[@]}" edit "$tmp/nonexistent"
mkdir -p "$tmp/empty-bundle"
expect 3 "^crdma-hook: error: $tmp/empty-bundle/config.json: No such file or directory\$" '' -- "${roots[@]}" edit "$tmp/empty-bundle"

# status: rdma.max against rdma.current per cgroup, on a fake cgroup/sysfs/proc tree.
st=$tmp/status
mkdir -p "$st/cg" "$st/sys/class/infiniband/rxe0" "$st/proc/1/ns" "$st/proc/42/ns"
ln -s 'net:[4026531840]' "$st/proc/1/ns/net"
ln -s 'net:[4026532111]' "$st/proc/42/ns/net"
cgroup_files() { # cgroup_files REL RDMA_MAX RDMA_CURRENT PROCS
        mkdir -p "$st/cg/$1"
        printf '%b' "$2" >"$st/cg/$1/rdma.max"
        printf '%b' "$3" >"$st/cg/$1/rdma.current"
        printf '%b' "$4" >"$st/cg/$1/cgroup.procs"
}
echo 'cpu memory rdma' >"$st/cg/cgroup.controllers"
cgroup_files system.slice 'rxe0 hca_handle=max hca_object=max\nmlx5_3 hca_handle=max hca_object=max\n' '' ''
cgroup_files system.slice/runc-web.scope 'rxe0 hca_handle=4 hca_object=100\nmlx5_3 hca_handle=2 hca_object=max\n' 'rxe0 hca_handle=1 hca_object=3\n' '42\n'
cgroup_files system.slice/slurmstepd.scope/job_7/step_0 'rxe0 hca_handle=8 hca_object=max\n' 'rxe0 hca_handle=2 hca_object=9\n' ''
cgroup_files crdma-vm/plain 'rxe0 hca_handle=1 hca_object=max\n' '' ''
sroots=(--sysfs-root "$st/sys" --cgroup-root "$st/cg" --proc-root "$st/proc")
expect 0 '' '^CONTAINER +ENGINE +DEVICE +HCA_HANDLE +HCA_OBJECT +NETNS$' -- "${sroots[@]}" status
expect 0 '' '^web +runc +rxe0 +1/4 +3/100 +host$' -- "${sroots[@]}" status
expect 0 '' '^web +runc +mlx5_3 +0/2 +0/max +net:\[4026532111\]$' -- "${sroots[@]}" status
expect 0 '' '^job 7 step 0 +slurm +rxe0 +2/8 +9/max +host$' -- "${sroots[@]}" status
expect 0 '' '^/crdma-vm/plain +- +rxe0 +0/1 +0/max +host$' -- "${sroots[@]}" status
expect 0 '' '^netns mode: unknown; host netns: net:\[4026531840\]$' -- "${sroots[@]}" status
"$hook" "${sroots[@]}" status --json >"$tmp/status.json" 2>"$tmp/status.err"
check "status --json: one row per limited (cgroup, device), figures from the files" \
        python3 - "$tmp/status.json" "$data/status.schema.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
rows = [(r["cgroup"], r["container"], r["engine"], r["device"], r["hcaHandles"], r["hcaObjects"],
         r["deviceInHostNetns"], r["netns"]) for r in d["rdmaLimits"]]
assert rows == [
    ("crdma-vm/plain", None, None, "rxe0", {"used": 0, "limit": 1}, {"used": 0, "limit": "max"}, True, None),
    ("system.slice/runc-web.scope", "web", "runc", "rxe0", {"used": 1, "limit": 4}, {"used": 3, "limit": 100}, True, "net:[4026532111]"),
    ("system.slice/runc-web.scope", "web", "runc", "mlx5_3", {"used": 0, "limit": 2}, {"used": 0, "limit": "max"}, False, "net:[4026532111]"),
    ("system.slice/slurmstepd.scope/job_7/step_0", "job 7 step 0", "slurm", "rxe0", {"used": 2, "limit": 8}, {"used": 9, "limit": "max"}, True, None),
], rows
assert d["netnsMode"] is None and d["hostNetns"] == "net:[4026531840]", d
try:
    import jsonschema
except ImportError:
    print("status --json: python3-jsonschema not installed, schema not checked")
    sys.exit(0)
jsonschema.validate(d, json.load(open(sys.argv[2])))
PY
# Every line max/max: no row.
printf 'rxe0 hca_handle=max hca_object=max\n' >"$st/cg/crdma-vm/plain/rdma.max"
printf 'rxe0 hca_handle=max hca_object=max\n' >"$st/cg/system.slice/runc-web.scope/rdma.max"
printf 'rxe0 hca_handle=max hca_object=max\n' >"$st/cg/system.slice/slurmstepd.scope/job_7/step_0/rdma.max"
expect 0 '' '^no cgroup limits an RDMA device' -- "${sroots[@]}" status
check "status --json: no row when every line is max" python3 -c \
        'import json,sys; assert json.load(sys.stdin)["rdmaLimits"] == []' \
        < <("$hook" "${sroots[@]}" status --json)
expect 2 'status: unexpected argument "extra"' '' -- "${sroots[@]}" status extra
expect 2 'does not apply to this command' '' -- status --runtime runc
# No cgroup v2, no rdma controller: refused (impossible on this host), naming the file.
expect 1 "^crdma-hook: error: cgroup root $st/sys: not a cgroup v2 \\(unified\\) mount" '' -- --cgroup-root "$st/sys" --sysfs-root "$st/sys" --proc-root "$st/proc" status
echo 'cpu memory' >"$st/cg/cgroup.controllers"
expect 1 "^crdma-hook: error: $st/cg/cgroup.controllers: no rdma controller: the kernel is built without CONFIG_CGROUP_RDMA" '' -- "${sroots[@]}" status
expect 3 '^crdma-hook: error: cgroup root /nonexistent: cannot open the directory' '' -- --cgroup-root /nonexistent status

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
