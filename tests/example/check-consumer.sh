#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The example consumer (public API only, through libcrdma.so) prints the plan
# a request gets on a shipped tree; nothing asked is nothing planned; a typo is
# refused with exit 1.   check-consumer.sh CONSUMER SYSFS_TREE
set -euo pipefail
consumer=$1 tree=$2
fail=0
check() { # check WHAT EXPECTED ACTUAL
        if [ "$2" != "$3" ]; then
                printf 'FAIL %s\n--- expected\n%s\n--- got\n%s\n' "$1" "$2" "$3" >&2
                fail=1
        else
                echo "ok $1"
        fi
}
out=$("$consumer" "$tree" io.crdma.devices=rxe1 io.crdma.hca-handles=3 | grep -v '^version ')
check "a plan for rxe1" "node /dev/infiniband/uverbs1 c 231:193 0666
node /dev/infiniband/rdma_cm c 10:124 0666
rdma.max rxe1 hca_handle=3 hca_object=65536" "$out"
check "nothing asked" "nothing requested" "$("$consumer" "$tree" other.key=1)"
status=0
"$consumer" "$tree" io.crdma.devics=rxe1 2>/dev/null || status=$?
check "a typo refused" 1 "$status"
exit "$fail"
