#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The whole test suite, from a fresh Debian 12 machine, as root:
# installs what it needs, builds three times and runs every suite.
#  1. ASan + UBSan (+ LeakSanitizer) build, gcc: unit and integration suites
#     (the hook under real runc included), zero reports allowed.
#  2. libFuzzer build, clang: each fuzz target for CRDMA_FUZZ_SECONDS (20)
#     from its seed corpus; any crash, leak or report fails.
#  3. -Werror build: every suite; its meson summary ends the output.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh test

export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

echo "== sanitizer build (ASan, UBSan, LSan): unit and integration suites"
# -fno-sanitize-recover: a UBSan report stops the program, so it fails the
# test instead of scrolling by.
scripts/meson-setup.sh build-asan -Dbuildtype=debug -Db_sanitize=address,undefined \
        -Db_lundef=false -Dwerror=true -Dc_args=-fno-sanitize-recover=all
ninja -C build-asan
meson test -C build-asan --suite unit --suite integration --print-errorlogs

echo "== fuzzing (libFuzzer, ASan, UBSan): ${CRDMA_FUZZ_SECONDS:=20} s per target"
export CRDMA_FUZZ_SECONDS
CC=clang-14 scripts/meson-setup.sh build-ci-fuzz -Dfuzzing=true
ninja -C build-ci-fuzz
fuzz_status=0
meson test -C build-ci-fuzz --suite fuzz --print-errorlogs || fuzz_status=$?
cat build-ci-fuzz/tests/fuzz/*.out/summary
[ "$fuzz_status" -eq 0 ]

echo "== -Werror build: all suites"
scripts/meson-setup.sh build-ci -Dwerror=true
ninja -C build-ci
meson test -C build-ci --print-errorlogs
