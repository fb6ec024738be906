#!/bin/bash
# PID 1 of the crdma test VM, after switch_root onto the host's root (read-only 9p + tmpfs
# overlay). Sets up the fixtures (cgroup2, tmpfs, veth0/veth1, rxe0/rxe1), runs each scenario
# in its own process with a timeout, writes RUN_DIR/results/NAME.{log,status}, powers off.
# Usage (by the initramfs): guest-init.sh RUN_DIR
set -u
out=${1:?run directory}
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=dumb
cd /
# shellcheck source=/dev/null
. "$out/run.conf"
export CRDMA_REPO CRDMA_BUILD_DIR CRDMA_VM_TOOLS CRDMA_VM_OUT CRDMA_VM_KVER CRDMA_VM_BOOT
export CRDMA_VM_TESTDEV CRDMA_VM_SIW CRDMA_VM_MODROOT CRDMA_VM_DEBS
export CRDMA_HOOK=$CRDMA_BUILD_DIR/hook/crdma-hook

console() { echo "$*" >/dev/console; }
power_off() {
	sync
	busybox poweroff -f 2>/dev/null
	echo o >/proc/sysrq-trigger
	sleep 5
	echo b >/proc/sysrq-trigger
}
trap power_off EXIT
trap '' TERM INT HUP QUIT

# ------------------------------------------------------------------ fixtures
fixtures() ( # a subshell: set -e stays in it
	set -e
	mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
	# the host's /tmp paths run.conf names (a clone, a build dir) stay visible: bind them back
	if ((${#CRDMA_VM_HOST_TMP[@]})); then
		mkdir -p /.host-tmp
		mount --bind /tmp /.host-tmp
	fi
	mount -t tmpfs -o mode=1777 tmpfs /tmp
	for p in "${CRDMA_VM_HOST_TMP[@]}"; do
		mkdir -p "$p"
		mount --bind "/.host-tmp${p#/tmp}" "$p"
	done
	mount -t tmpfs -o mode=0755 tmpfs /run
	mkdir -p /run/lock /dev/shm /dev/pts /dev/mqueue
	mount -t tmpfs -o mode=1777 tmpfs /dev/shm
	mount -t devpts -o newinstance,gid=5,mode=0620,ptmxmode=0666 devpts /dev/pts
	mount -t mqueue mqueue /dev/mqueue
	ln -sfn /proc/self/fd /dev/fd
	ln -sfn /proc/self/fd/0 /dev/stdin
	ln -sfn /proc/self/fd/1 /dev/stdout
	ln -sfn /proc/self/fd/2 /dev/stderr
	hostname crdma-vm
	ip link set lo up
	ip link add veth0 type veth peer name veth1
	ip link set veth0 up
	ip link set veth1 up
	rdma link add rxe0 type rxe netdev veth0
	rdma link add rxe1 type rxe netdev veth1
	echo "cgroup.controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
	rdma link show
	ls -l /dev/infiniband
)
fixtures >"$out/fixtures.log" 2>&1
fixtures_rc=$?
if ((fixtures_rc)); then
	console "crdma-vm: fixture setup failed (exit $fixtures_rc):"
	sed 's/^/crdma-vm:   /' "$out/fixtures.log" >/dev/console
fi
console "@@crdma-vm ready kernel=$(uname -r) fixtures=$fixtures_rc"

# ------------------------------------------------------------------ scenarios
for entry in "${CRDMA_VM_SCENARIOS[@]}"; do
	limit=${entry%%:*}
	script=${entry#*:}
	name=$(basename "$script" .sh)
	log=$out/results/$name.log
	artifacts=$out/results/$name.d
	mkdir -p "$artifacts"
	console "@@crdma-vm begin $name"
	start=$(date +%s%N)
	# timeout signals its whole process group, the scenario and what it started: a session
	# of its own keeps that group apart from PID 1
	CRDMA_SCENARIO=$name CRDMA_ARTIFACTS=$artifacts CRDMA_FIXTURES_RC=$fixtures_rc \
		setsid -w timeout --kill-after=10 "$limit" bash "$script" </dev/null >"$log" 2>&1
	rc=$?
	end=$(date +%s%N)
	secs=$(((end - start) / 1000000000))
	if [[ $rc == 124 || $rc == 137 ]]; then
		echo "TIMEOUT: $name killed after ${limit}s" >>"$log"
	fi
	echo "$rc $secs" >"$out/results/$name.status"
	rmdir "$artifacts" 2>/dev/null
	sync
	console "@@crdma-vm end $name rc=$rc secs=$secs"
done
console "@@crdma-vm done"
