#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Device discovery on generated trees of 1, 8, 64, 256 and 1024 mlx5 devices.
# Usage: bench/run-devices.sh [BUILD_DIR]   (a benchmark, not a test)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
work=$(mktemp -d /tmp/crdma-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
for n in 1 8 64 256 1024; do
        python3 "$src/tests/data/gen-sysfs.py" --out "$work/$n" --many "$n" >/dev/null
        "$build/bench/bench-devices" "$work/$n" 200 | sed -n '2,3p'
done
