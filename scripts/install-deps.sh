#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Install what crdma needs on Debian 12, as root, without questions.
#   install-deps.sh build      compiler, meson and the libraries
#   install-deps.sh test       + what the unit suite needs
#   install-deps.sh bench      gnuplot for docs/benchmarks.md's plot (not in CI)
set -euo pipefail

build=(meson ninja-build pkg-config gcc libc6-dev python3
       libibverbs-dev libmnl-dev libyajl-dev libseccomp-dev libcap-dev libbpf-dev)
# clang-14 and libclang-rt-14-dev: libFuzzer and clang's sanitizers for
# tests/fuzz; llvm-14: llvm-symbolizer, for file:line in their reports.
test=(libcmocka-dev binutils mandoc runc jq clang-14 libclang-rt-14-dev llvm-14)
# gnuplot-nox: bench/plot.sh draws the hook-time plot as PNG (pngcairo).
bench=(gnuplot-nox)

want=()
for set in "$@"; do
        case $set in
        build) want+=("${build[@]}") ;;
        test) want+=("${build[@]}" "${test[@]}") ;;
        bench) want+=("${bench[@]}") ;;
        *) echo "install-deps.sh: unknown set '$set' (build, test, bench)" >&2; exit 2 ;;
        esac
done

missing=()
for p in "${want[@]}"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
        echo "install-deps.sh: missing packages: ${missing[*]}; run as root or install them" >&2
        exit 3
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
