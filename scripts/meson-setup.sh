#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# meson setup DIR [OPTIONS]: configure anew, or reconfigure an existing DIR.
set -euo pipefail
dir=$1
shift
if [ -f "$dir/build.ninja" ]; then
        meson setup --reconfigure "$dir" "$@" >/dev/null
else
        meson setup "$dir" "$@" >/dev/null
fi
