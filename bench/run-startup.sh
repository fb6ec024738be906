#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Start-up overhead on the build machine: `runc run` of /bin/true without (A) and with (B)
# crdma-hook as a createRuntime hook asking for one device, alternating A/B in one run.
# This host has no RDMA: the hook reads the committed fake sysfs tree tests/data/sysfs/rxe
# and makes the nodes from it (as tests/integration/runc-inject.sh does); the VM version
# (bench/run-vm.sh) uses real rxe devices with crun and runc.
# Usage: bench/run-startup.sh [BUILD_DIR] [PAIRS]     (root; a benchmark, not a test)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath "${1:-$src/build}")
pairs=${2:-100}
hook=$build/hook/crdma-hook
# shellcheck source=SCRIPTDIR/ab.sh
. "$src/bench/ab.sh"
[ "$(id -u)" -eq 0 ] || { echo "bench/run-startup.sh: needs root (runc)" >&2; exit 77; }
command -v runc >/dev/null || { echo "bench/run-startup.sh: runc is not installed" >&2; exit 77; }
[ -x "$hook" ] || { echo "bench/run-startup.sh: no $hook (build first)" >&2; exit 2; }

work=$(mktemp -d /tmp/crdma-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
# The sandbox may lack CAP_SYS_RESOURCE: keep memlock at runc's default (no raise), as
# runc-inject.sh does; no rdma cgroup on this host, hence best-effort.
cat >"$work/policy.json" <<'JSON'
{"version": 1, "defaults": {"memlock": "8M"}, "limits": {"enforce": "best-effort", "memlock": "1G"}}
JSON
mkdir -p "$work/rootfs"
for d in bin sbin lib lib64 usr etc proc dev sys tmp; do mkdir -p "$work/rootfs/$d"; done
(cd "$work" && runc spec && mv config.json spec.json)
# bundle NAME HOOK(yes|no)
bundle() {
	mkdir -p "$work/$1"
	jq --arg hook "$hook" --arg tree "$src/tests/data/sysfs/rxe" --arg policy "$work/policy.json" \
		--arg rootfs "$work/rootfs" --arg with "$2" '
	  .process.terminal = false | .process.args = ["/bin/true"]
	  | .root = {path: $rootfs, readonly: true}
	  | .mounts += [ "/usr", "/bin", "/sbin", "/lib", "/lib64"
	                 | {destination: ., type: "bind", source: ., options: ["rbind", "ro"]} ]
	  | if $with == "yes" then
	      .annotations = {"io.crdma.devices": "rxe0"}
	      | .hooks.createRuntime = [{path: $hook,
	          args: ["crdma-hook", "--sysfs-root", $tree, "--policy", $policy, "createRuntime"],
	          env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]}]
	    else . end' "$work/spec.json" >"$work/$1/config.json"
}
bundle plain no
bundle hooked yes
n=0
run_plain() { n=$((n + 1)); runc run --bundle "$work/plain" "crdma-bench-a$n" </dev/null >/dev/null; }
run_hooked() { n=$((n + 1)); runc run --bundle "$work/hooked" "crdma-bench-b$n" </dev/null >/dev/null; }
# The hook's work must be visible: check one hooked container for its nodes first.
jq '.process.args = ["sh", "-c", "ls /dev/infiniband"]' "$work/hooked/config.json" >"$work/check.json"
mkdir -p "$work/check" && mv "$work/check.json" "$work/check/config.json"
out=$(runc run --bundle "$work/check" crdma-bench-check </dev/null 2>&1)
[ "$out" = $'rdma_cm\nuverbs0' ] || { echo "the hooked container lacks its nodes: $out" >&2; exit 1; }

echo "# $(date -u +%FT%TZ) $(uname -r) $(nproc) cpus, $(runc --version | head -n1); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# crdma $(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown); A = runc run /bin/true, B = the same with crdma-hook createRuntime (io.crdma.devices=rxe0, fake sysfs)"
ab_header
ab_time startup-runc-host "$pairs" run_plain run_hooked
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$AB_JSON"
