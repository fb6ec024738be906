#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Install what crdma needs on Debian 12, as root, without questions. Every
# package a script or test calls a tool from is in one of these sets.
#   install-deps.sh build      compiler, meson and the libraries the build links
#   install-deps.sh test       + what the test suite needs (scripts/test.sh)
#   install-deps.sh vm         what tests/vm/run and the demo's VM need
#   install-deps.sh deb        + what scripts/build-deb.sh needs (the Debian packages)
#   install-deps.sh bench      gnuplot for docs/benchmarks.md's plot (not in CI)
#   install-deps.sh --list SET...   print the packages, install nothing
# apt's output goes to a log, shown (its end) only when apt fails.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# linux-libc-dev (through libc6-dev) has <rdma/rdma_netlink.h>.
build=(meson ninja-build pkg-config gcc libc6-dev
       libmnl-dev libyajl-dev libseccomp-dev libcap-dev libbpf-dev)
# libcmocka-dev: the unit tests; libibverbs-dev: the VM test tools meson builds;
# libslurm-dev: <slurm/spank.h>, so the suite builds and tests spank_crdma.so;
# binutils: nm for the exported-symbols test; mandoc: the man-page lint;
# runc: the integration suite; jq, python3: the CLI and schema checks;
# clang-14, libclang-rt-14-dev: libFuzzer and clang's sanitizers (tests/fuzz);
# llvm-14: llvm-symbolizer, for file:line in their reports; debootstrap, git:
# tests/fresh (a clean Debian 12 root, the source tree as a clone has it).
test=(libcmocka-dev libibverbs-dev libslurm-dev binutils mandoc runc jq python3 clang-14
      libclang-rt-14-dev llvm-14 debootstrap git)
# scripts/build-deb.sh: dpkg-buildpackage (dpkg-dev), debhelper, fakeroot, lintian, and
# what debian/control's Build-Depends adds to the build set for the unit suite the
# package build runs (cmocka, jq, python3). The test set has it all (the deb suite).
deb=(debhelper dpkg-dev fakeroot lintian libcmocka-dev jq python3)
# docker.io, containerd: 17-runtime-docker runs Debian's Docker and ctr through crdma-runtime.
# The harness: QEMU, the initramfs (busybox, kmod's depmod/modprobe, cpio, and
# xz-utils/zstd for .ko.xz/.ko.zst modules), a lock (util-linux's flock),
# pgrep (procps). The guest runs the host's root: the runtimes, RDMA user space,
# perftest, iproute2's ip and rdma, jq, python3, bpftool (20-devcgroup-bpf).
# gcc, libc6-dev, libibverbs-dev: the harness compiles the verbs test tools
# when the build has none (a build with only the build set, as the demo's).
# make, gcc-12, libelf1: tests/vm/testdev/build.sh builds the test RDMA device
# module against the VM kernel's headers (apt-get download'ed into the cache,
# their names carry the kernel's ABI number, so they are not listed here):
# Debian's 6.1 kernels are built with gcc-12, kbuild's objtool needs libelf1.
# slurmctld, slurmd, slurm-client, munge: 18-slurm runs Debian's Slurm on one node;
# charliecloud-runtime: its ch-run, an unprivileged container runtime, in a job step there;
# catatonit: podman 4 builds a pod's infra image from it, offline (62-exclusive-podman).
# rdmacm-utils: rping between containers over siw (64-siw-rdmacm).
vm=(qemu-system-x86 busybox-static kmod cpio gzip xz-utils zstd util-linux procps
    crun runc podman conmon docker.io containerd iproute2 rdma-core ibverbs-providers
    ibverbs-utils perftest jq python3 bpftool gcc libc6-dev libibverbs-dev make gcc-12 libelf1
    slurmctld slurmd slurm-client munge charliecloud-runtime catatonit rdmacm-utils)
# gnuplot-nox: bench/plot.sh draws the hook-time plot as PNG (pngcairo).
bench=(gnuplot-nox)

list=0
if [[ ${1:-} == --list ]]; then
        list=1
        shift
fi
[[ $# -gt 0 ]] || { echo "usage: install-deps.sh [--list] build|test|vm|deb|bench..." >&2; exit 2; }
want=()
for set in "$@"; do
        case $set in
        build) want+=("${build[@]}") ;;
        test) want+=("${build[@]}" "${test[@]}" "${deb[@]}") ;;
        deb) want+=("${build[@]}" "${deb[@]}") ;;
        vm) want+=("${vm[@]}") ;;
        bench) want+=("${bench[@]}") ;;
        *) echo "install-deps.sh: unknown set '$set' (build, test, vm, deb, bench)" >&2; exit 2 ;;
        esac
done
if ((list)); then
        printf '%s\n' "${want[@]}" | sort -u
        exit 0
fi

# The one rule for "installed": dpkg's own status of the package.
installed() {
        [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]
}
missing=()
for p in $(printf '%s\n' "${want[@]}" | sort -u); do
        installed "$p" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
        echo "install-deps.sh: missing packages: ${missing[*]}; run as root or install them" >&2
        exit 3
fi
echo "installing: ${missing[*]}"
log=$(mktemp /var/tmp/crdma-apt.XXXXXX.log)
export DEBIAN_FRONTEND=noninteractive
run_logged "$log" "apt-get could not update its package lists: check the network and /etc/apt/sources.list*" \
        apt-get update -q || exit 3
run_logged "$log" "apt-get could not install them: the log says which package and why (a mirror out of date: apt-get update; a held package: apt-mark showhold)" \
        apt-get install -y -q --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" || exit 3
rm -f "$log"
