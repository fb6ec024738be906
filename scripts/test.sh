#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The whole test suite, from a fresh Debian 12 machine, as root:
# installs what it needs, builds twice and runs every suite.
#  1. ASan + UBSan (+ LeakSanitizer) build: unit suite, zero reports allowed.
#  2. -Werror build: every suite; its meson summary ends the output.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh test

export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

echo "== sanitizer build (ASan, UBSan, LSan): unit suite"
scripts/meson-setup.sh build-asan -Dbuildtype=debug -Db_sanitize=address,undefined \
        -Db_lundef=false -Dwerror=true
ninja -C build-asan
meson test -C build-asan --suite unit --print-errorlogs

echo "== -Werror build: all suites"
scripts/meson-setup.sh build-ci -Dwerror=true
ninja -C build-ci
meson test -C build-ci --print-errorlogs
