#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# check-release.sh HOOK LIBCRDMA_SO FAULT_HOOK TEST_DATA
# The fault-injection switch exists only in the test build: the installed hook and
# library contain no "CRDMA_FAULT" and ignore the variable; the fault hook reads it.
set -uo pipefail
hook=$1 lib=$2 fault_hook=$3 data=$4
status=0
bad() {
	echo "FAIL: $*"
	status=1
}

# grep -a: binutils' strings is not on every machine that runs the tests.
for f in "$hook" "$lib"; do
	n=$(grep -a -c -e CRDMA_FAULT -e 'fault injection' "$f")
	[[ $n == 0 ]] || bad "$f: holds the fault-injection switch ($n lines with CRDMA_FAULT)"
done
# The same search finds it where it is: the check above can fail.
grep -a -q CRDMA_FAULT "$fault_hook" || bad "$fault_hook: no CRDMA_FAULT in the fault build"

devices=(--sysfs-root "$data/sysfs/rxe" devices)
want=$("$hook" "${devices[@]}" 2>&1) || bad "crdma-hook devices failed: $want"
for spec in mknod netns-move:2 no-such-step; do
	out=$(CRDMA_FAULT=$spec "$hook" "${devices[@]}" 2>&1)
	rc=$?
	[[ $rc == 0 && $out == "$want" ]] ||
		bad "crdma-hook with CRDMA_FAULT=$spec: exit $rc, output changed: $out"
done

out=$(CRDMA_FAULT=no-such-step "$fault_hook" "${devices[@]}" 2>&1)
rc=$?
[[ $rc == 3 && $out == "crdma-hook: error: CRDMA_FAULT=no-such-step: unknown step; the steps are mknod, "* ]] ||
	bad "crdma-hook-fault with an unknown step: exit $rc, \"$out\""
out=$(CRDMA_FAULT=mknod:0 "$fault_hook" "${devices[@]}" 2>&1)
rc=$?
[[ $rc == 3 && $out == *"CRDMA_FAULT=mknod:0: N counts from 1"* ]] ||
	bad "crdma-hook-fault with mknod:0: exit $rc, \"$out\""
# A step never reached changes nothing.
out=$(CRDMA_FAULT=mknod "$fault_hook" "${devices[@]}" 2>&1)
rc=$?
[[ $rc == 0 && $out == "$want" ]] || bad "crdma-hook-fault devices with CRDMA_FAULT=mknod: exit $rc"

((status)) || echo "ok: the release hook and library ignore and lack CRDMA_FAULT; the fault hook reads it"
exit $status
