#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# meson setup DIR [OPTIONS]: configure anew, or reconfigure an existing DIR.
# meson's output goes to a log, shown (its end) when it fails.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
dir=$1
shift
reconfigure=()
[[ -f $dir/build.ninja ]] && reconfigure=(--reconfigure)
log=$(mktemp /var/tmp/crdma-meson-setup.XXXXXX.log)
run_logged "$log" "meson could not configure $dir: a dependency not found is named above (scripts/install-deps.sh build installs them; test for the test suite)" \
        meson setup "${reconfigure[@]}" "$dir" "$@" || exit 1
rm -f "$log"
