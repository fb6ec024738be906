#!/usr/bin/env bash
# 70-deb-podman: crdma as a site installs it, the Debian packages (scripts/build-deb.sh)
# with apt in the guest (its overlay root: the host is untouched), no build tree involved.
# Proves: podman finds the package's hooks.d file with no flag, and an annotated container
# gets its /dev/infiniband nodes, rdma.max and memlock; an unannotated container is exactly
# as before the install (its /dev, ulimit -l, cgroup files, capabilities); runc runs
# /usr/bin/crdma-hook from the shipped oci-hooks.json; Docker reaches /usr/bin/crdma-runtime
# through the shipped docker-daemon.json example; dpkg --purge leaves no hooks.d file, no
# policy, no program, and an annotated container then runs as an unannotated one did.
# vm-timeout: 420
# vm-needs: deb
# shellcheck source=SCRIPTDIR/../lib.sh
. "${BASH_SOURCE[0]%/*}/../lib.sh"

need_debs
need_cmd podman runc apt-get
tool=$CRDMA_VM_TOOLS/crdma-vm-open
[[ -x $tool ]] || fail "crdma-vm-open not found at $tool"
hooksd=/usr/share/containers/oci/hooks.d
export DEBIAN_FRONTEND=noninteractive
purge_quiet() { dpkg --purge crdma libcrdma-dev libcrdma0 >/dev/null 2>&1 || true; }
# Whatever happens, the next scenario of this boot sees the guest without the packages.
trap 'engines_stop; purge_quiet' EXIT

step "the guest without crdma"
# The guest runs the host's root: a crdma installed there, by dpkg or `meson install`,
# would make this no baseline. Removed here, in the guest's overlay only.
if [[ $(dpkg-query -W -f='${db:Status-Status}' crdma 2>/dev/null) == installed ]]; then
	purge_quiet
	note "the host has the crdma package installed: purged in the guest's overlay"
fi
for f in "$hooksd"/crdma-hook*.json /etc/containers/oci/hooks.d/crdma-hook*.json /usr/bin/crdma-hook \
	/usr/bin/crdma-runtime /usr/share/crdma /etc/crdma; do
	[[ -e $f ]] || continue
	rm -rf "$f"
	note "removed $f (the host's, not from a package) in the guest's overlay"
done
# What a user compares: the container's /dev, memlock limits, cgroup files, rdma.max and
# capabilities (no container id or time in it).
# shellcheck disable=SC2016 # expanded in the container
view='ls -1 /dev /dev/infiniband 2>&1; echo "memlock $(ulimit -S -l) $(ulimit -H -l)"
      ls -1 /sys/fs/cgroup; cat /sys/fs/cgroup/rdma.max 2>&1; grep ^Cap /proc/self/status'
capture podman_run -- sh -c "$view"
assert_eq 0 "$RC" "podman run without crdma: exit status"
before=$OUT
printf '%s\n' "$before" | sed 's/^/   | /'
assert_not_contains "$before" uverbs "no RDMA device before the install"

step "apt-get install crdma and libcrdma0 (.debs from scripts/build-deb.sh)"
# man-db's trigger would index every manual page under TCG (minutes): off, in the overlay.
rm -f /var/lib/man-db/auto-update
capture apt-get install -y --no-install-recommends "${DEB_FILES[crdma]}" "${DEB_FILES[libcrdma0]}"
show
assert_eq 0 "$RC" "apt-get install: exit status"
assert_eq "install ok installed $DEB_VERSION" "$(dpkg-query -W -f='${Status} ${Version}' crdma)" "crdma's dpkg status"
assert_eq "install ok installed $DEB_VERSION" "$(dpkg-query -W -f='${Status} ${Version}' libcrdma0)" "libcrdma0's dpkg status"
assert_contains "$(dpkg-query -W -f='${Conffiles}' crdma)" "/etc/crdma/policy.json" "crdma's conffiles"
assert_eq /usr/bin/crdma-hook "$(command -v crdma-hook)" "crdma-hook on PATH"
assert_eq "crdma-hook $DEB_VERSION" "$(crdma-hook --version)" "crdma-hook --version"
capture crdma-hook policy
assert_eq 0 "$RC" "crdma-hook policy: the installed /etc/crdma/policy.json is valid"
for f in crdma-hook.json crdma-hook-poststop.json; do
	assert_eq "crdma: $hooksd/$f" "$(dpkg -S "$hooksd/$f" 2>&1)" "$f belongs to the package"
	assert_eq /usr/bin/crdma-hook "$(jq -r .hook.path "$hooksd/$f")" "$f runs"
done
[[ ! -e $hooksd/crdma-hook-precreate.json ]] || fail "the precreate file is in $hooksd, which CRI-O reads"
ok "the precreate file stays in /usr/share/crdma/podman-hooks.d"

step "podman: an unannotated container is exactly as before the install"
capture podman_run -- sh -c "$view"
assert_eq 0 "$RC" "exit status"
assert_eq "$before" "$OUT" "the container's /dev, memlock, cgroup files, rdma.max, capabilities"
# (before the annotated run below: its hook may enable +rdma in podman's parent cgroup,
# which gives every later container rdma.* files)

step "podman, no --hooks-dir: an annotated container (rxe0, hca-handles=1, memlock=2G)"
# shellcheck disable=SC2016 # expanded in the container
capture podman_run --annotation io.crdma.devices=rxe0 --annotation io.crdma.hca-handles=1 \
	--annotation io.crdma.memlock=2G -v "$CRDMA_VM_TOOLS:/opt/crdma-vm:ro" \
	-- sh -c 'ls /dev/infiniband; echo "memlock $(ulimit -l)"
	          cat "/sys/fs/cgroup$(sed -n "s/^0:://p" /proc/self/cgroup)/rdma.max"
	          /opt/crdma-vm/crdma-vm-open -d rxe0 -n 2'
show
assert_contains "$OUT" $'rdma_cm\nuverbs0\n' "/dev/infiniband has exactly rdma_cm and uverbs0"
assert_contains "$OUT" "memlock 2097152" "ulimit -l (KiB)"
assert_contains "$OUT" "rxe0 hca_handle=1 hca_object=65536" "rdma.max in the container's cgroup"
assert_contains "$OUT" "opened=1 errno=11 (EAGAIN)" "a second ibv_open_device over hca_handle=1"

step "runc: /usr/bin/crdma-hook as createRuntime hook, from /usr/share/crdma/oci-hooks.json"
b=$WORK/runc-deb
# shellcheck disable=SC2016 # expanded in the container
oci_bundle "$b" --annotation io.crdma.devices=rxe1 --annotation io.crdma.memlock=1G \
	--jq ".hooks = $(jq -c .hooks /usr/share/crdma/oci-hooks.json)" \
	-- sh -c 'ls /dev/infiniband; echo "memlock $(ulimit -l)"'
assert_eq /usr/bin/crdma-hook "$(jq -r '.hooks.createRuntime[0].path' "$b/config.json")" "the bundle's createRuntime hook"
no_manual_devices "$b"
capture run_runc "$b"
show
assert_eq 0 "$RC" "runc run: exit status"
assert_contains "$OUT" $'rdma_cm\nuverbs1\nmemlock 1048576' "rdma_cm and uverbs1, memlock 1 GiB"

step "Docker: /usr/bin/crdma-runtime from examples/docker-daemon.json"
example=/usr/share/doc/crdma/examples/docker-daemon.json
runtime=$(jq -r .runtimes.crdma.path "$example")
assert_eq /usr/bin/crdma-runtime "$runtime" "$example names"
# Docker 20.10 passes no annotations: the request comes in CRDMA_* variables, which only a
# policy allowing them takes (the shipped one does not: crdma-policy(5)).
echo '{"version": 1, "allow": {"environment": true}}' >"$WORK/policy-env.json"
engines_start crdma "$runtime" --crdma-policy "$WORK/policy-env.json"
engines_image crdma-vm
common=(--network none -v /usr:/usr:ro)
for d in $(host_dir_binds); do [[ $d == /usr ]] || common+=(-v "$d:$d:ro"); done
# shellcheck disable=SC2016 # expanded in the container
capture D run --rm --runtime crdma "${common[@]}" -e CRDMA_DEVICES=rxe0 -e CRDMA_MEMLOCK=1G \
	crdma-vm sh -c 'ls /dev/infiniband; echo memlock=$(ulimit -l)'
show
assert_eq 0 "$RC" "docker run --runtime crdma: exit status"
assert_contains "$OUT" $'rdma_cm\nuverbs0\nmemlock=1048576' "rdma_cm and uverbs0, memlock 1 GiB"
engines_stop
ENGINES_DOCKERD='' ENGINES_CONTAINERD='' # stopped: the EXIT trap has nothing more to stop

step "podman: an unannotated container with the package, for the comparison after the purge"
capture podman_run -- sh -c "$view"
assert_eq 0 "$RC" "exit status"
installed=$OUT

step "dpkg --purge crdma libcrdma0: nothing left behind"
capture dpkg --purge crdma libcrdma0
show
assert_eq 0 "$RC" "dpkg --purge: exit status"
left=()
for f in "$hooksd"/crdma-hook*.json /usr/share/crdma /etc/crdma /usr/bin/crdma-hook \
	/usr/bin/crdma-runtime /usr/share/doc/crdma /usr/lib/*/libcrdma.so.0; do
	[[ -e $f || -L $f ]] && left+=("$f")
done
assert_eq "" "${left[*]}" "files left after the purge"
capture podman_run --annotation io.crdma.devices=rxe0 -- sh -c "$view"
assert_eq 0 "$RC" "podman run with an io.crdma.* annotation after the purge: no hook runs"
assert_eq "$installed" "$OUT" "the container is as an unannotated one was with the package"
