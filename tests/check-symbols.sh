#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# libcrdma.so exports exactly the functions <crdma.h> declares, each at the
# version node the map lists it under, and nothing else; a released node's
# symbols are frozen in tests/data/abi/NODE.symbols (the map must still list
# exactly those: a released stanza never changes).
#   check-symbols.sh LIB HEADER MAP ABI_DIR
set -euo pipefail
lib=$1 header=$2 map=$3 abi=$4
fail=0

# "sym@@NODE" for every symbol the map lists, from its "NODE { global: ...; }" blocks
listed=$(awk '
        /^[A-Za-z_][A-Za-z0-9_.]* *\{/ { node = $1; next }
        /^}/ { node = ""; next }
        node != "" && /^ *crdma_[a-z_0-9]+;/ { gsub(/[ ;]/, ""); print $0 "@@" node }
' "$map" | sort)
exported=$(nm -D --defined-only "$lib" | awk '$2 != "A" { print $3 }' | sort)
declared=$(grep -oE '\bcrdma_[a-z_0-9]+\(' "$header" | tr -d '(' | sort -u)

if [ "$exported" != "$listed" ]; then
        echo "libcrdma exports differ from its map (- listed, + exported):" >&2
        diff -u <(printf '%s\n' "$listed") <(printf '%s\n' "$exported") >&2 || true
        fail=1
fi
if [ "$declared" != "$(printf '%s\n' "$listed" | sed 's/@@.*//' | sort)" ]; then
        echo "the map lists other functions than <crdma.h> declares (- declared, + listed):" >&2
        diff -u <(printf '%s\n' "$declared") <(printf '%s\n' "$listed" | sed 's/@@.*//' | sort) >&2 || true
        fail=1
fi
for frozen in "$abi"/*.symbols; do
        node=$(basename "$frozen" .symbols)
        now=$(printf '%s\n' "$listed" | sed -n "s/@@$node\$//p")
        if [ "$now" != "$(sort "$frozen")" ]; then
                echo "released node $node changed (- released, + the map now):" >&2
                diff -u <(sort "$frozen") <(printf '%s\n' "$now") >&2 || true
                fail=1
        fi
done
[ "$fail" -eq 0 ] || exit 1
printf '%s\n' "$listed" | sed 's/.*@@//' | sort | uniq -c |
        awk '{ printf "%s%d at %s", (NR > 1 ? ", " : ""), $1, $2 } END { print "" }'
echo "all declared in crdma.h; released nodes unchanged: $(ls "$abi" | sed 's/\.symbols$//' | tr '\n' ' ')"
