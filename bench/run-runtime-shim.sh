#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# crdma-runtime's start-up cost on the build machine: `runc run` of /bin/true alone (A)
# against the same through crdma-runtime (B), alternating in one run, for a container that
# asks nothing and for one that asks for a device (io.crdma.devices=rxe0 from the fake
# sysfs tree: the edit writes linux.devices and the rest, runc applies them; no hook runs).
# Each B run gets a fresh copy of its bundle's config, as an engine writes one per create.
# With a request, A runs the config as the shim edited it (the same nodes and rules, written
# by hand), so B/A is the shim's own cost.
# Targets (issue 16): B/A at most 1.05 without a request, 1.10 with one.  The same with
# Docker and ctr on the real kernel: bench/run-vm.sh runtime.
# Usage: bench/run-runtime-shim.sh [BUILD_DIR] [PAIRS]     (root; a benchmark, not a test)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath "${1:-$src/build}")
pairs=${2:-100}
shim=$build/runtime/crdma-runtime
# shellcheck source=SCRIPTDIR/ab.sh
. "$src/bench/ab.sh"
[ "$(id -u)" -eq 0 ] || { echo "bench/run-runtime-shim.sh: needs root (runc)" >&2; exit 77; }
command -v runc >/dev/null || { echo "bench/run-runtime-shim.sh: runc is not installed" >&2; exit 77; }
[ -x "$shim" ] || { echo "bench/run-runtime-shim.sh: no $shim (build first)" >&2; exit 2; }

work=$(mktemp -d /tmp/crdma-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
cat >"$work/policy.json" <<'JSON'
{"version": 1, "defaults": {"memlock": "8M"}, "limits": {"enforce": "best-effort", "memlock": "1G"}}
JSON
mkdir -p "$work/rootfs"
for d in bin sbin lib lib64 usr etc proc dev sys tmp; do mkdir -p "$work/rootfs/$d"; done
(cd "$work" && runc spec && mv config.json spec.json)
# spec NAME ANNOTATIONS-JSON: the config an engine would write, kept as NAME.json
spec() {
	jq --arg rootfs "$work/rootfs" --argjson ann "$2" '
	  .process.terminal = false | .process.args = ["/bin/true"] | .annotations = $ann
	  | .root = {path: $rootfs, readonly: true}
	  | .mounts += [ "/usr", "/bin", "/sbin", "/lib", "/lib64"
	                 | {destination: ., type: "bind", source: ., options: ["rbind", "ro"]} ]' \
		"$work/spec.json" >"$work/$1.json"
	mkdir -p "$work/$1"
}
spec plain '{}'
spec asked '{"io.crdma.devices": "rxe0"}'
shim_args=(--crdma-policy "$work/policy.json" --crdma-sysfs-root "$src/tests/data/sysfs/rxe")
n=0
fresh() { cp "$work/$1.json" "$work/$1/config.json"; }
runc_alone() { n=$((n + 1)); fresh "$1"; runc run --bundle "$work/$1" "crdma-bench-$n" </dev/null >/dev/null; }
through_shim() {
	n=$((n + 1)); fresh "$1"
	"$shim" "${shim_args[@]}" run --bundle "$work/$1" "crdma-bench-$n" </dev/null >/dev/null
}
a_plain() { runc_alone plain; }
b_plain() { through_shim plain; }
a_asked() { runc_alone edited; }
b_asked() { through_shim asked; }
# The shim's edit must be visible: the asked-for container has its nodes.
fresh asked
jq '.process.args = ["sh", "-c", "ls /dev/infiniband"]' "$work/asked.json" >"$work/asked/config.json"
out=$("$shim" "${shim_args[@]}" run --bundle "$work/asked" crdma-bench-check </dev/null 2>&1)
[ "$out" = $'rdma_cm\nuverbs0' ] || { echo "the shim's container lacks its nodes: $out" >&2; exit 1; }
# A's config for the request: the shim's edit of asked.json, run by runc alone.
cp "$work/asked.json" "$work/asked/config.json"
"$shim" "${shim_args[@]}" create --bundle "$work/asked" crdma-bench-edit </dev/null >/dev/null
runc delete -f crdma-bench-edit
cp "$work/asked/config.json" "$work/edited.json"
mkdir -p "$work/edited"

echo "# $(date -u +%FT%TZ) $(uname -r) $(nproc) cpus, $(runc --version | head -n1); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# crdma $(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown); A = runc run /bin/true, B = crdma-runtime run (execs runc)"
ab_header
ab_time shim-no-request "$pairs" a_plain b_plain
json_plain=$AB_JSON
ab_time shim-request-rxe0 "$pairs" a_asked b_asked
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$json_plain"
echo "$AB_JSON"
