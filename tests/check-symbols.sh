#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# libcrdma.so exports exactly the functions <crdma.h> declares, all at the
# version node of the map, and nothing else.
set -euo pipefail
lib=$1 header=$2
exported=$(nm -D --defined-only "$lib" | awk '$2 != "A" { print $3 }' | sort)
expected=$(grep -oE '\bcrdma_[a-z_0-9]+\(' "$header" | tr -d '(' | sort -u | sed 's/$/@@CRDMA_0.1/')
if [ "$exported" != "$expected" ]; then
        echo "libcrdma exports differ from <crdma.h> (- declared, + exported):" >&2
        diff -u <(printf '%s\n' "$expected") <(printf '%s\n' "$exported") >&2 || true
        exit 1
fi
echo "$(printf '%s\n' "$exported" | wc -l) symbols, all declared in crdma.h, all at CRDMA_0.1"
