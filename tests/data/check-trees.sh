#!/bin/sh
# SPDX-License-Identifier: MIT
# Regenerate every preset with gen-sysfs.py and compare it with the trees
# committed under tests/data/sysfs/: file contents, symlink targets (not what
# they point at) and the set of names.  Exit 0 when they match, 1 on drift,
# 2 when the check itself cannot run.
#
# To refresh the committed trees after changing the generator:
#   rm -rf tests/data/sysfs/*/ && python3 tests/data/gen-sysfs.py --preset all --out tests/data/sysfs
set -u

here=$(cd "$(dirname "$0")" && pwd) || exit 2
python=${PYTHON:-python3}
committed=$here/sysfs

tmp=$(mktemp -d "${TMPDIR:-/tmp}/crdma-check-trees.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 2' HUP INT TERM

if ! "$python" "$here/gen-sysfs.py" --preset all --out "$tmp/gen"; then
	echo "check-trees: gen-sysfs.py failed" >&2
	exit 2
fi

# diff -r without following symlinks (GNU diffutils >= 3.3); elsewhere the
# same comparison in Python: names, kinds, link targets, file contents.
if diff --no-dereference /dev/null /dev/null >/dev/null 2>&1; then
	cmp_trees() { diff -r --no-dereference "$1" "$2"; }
else
	cmp_trees() {
		"$python" - "$1" "$2" <<'PY'
import os, sys
def walk(root):
    out = {}
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(d, n)
            r = os.path.relpath(p, root)
            if os.path.islink(p):
                out[r] = ("link", os.readlink(p))
            elif os.path.isdir(p):
                out[r] = ("dir", None)
            else:
                with open(p, "rb") as f:
                    out[r] = ("file", f.read())
    return out
a, b = walk(sys.argv[1]), walk(sys.argv[2])
bad = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
for k in bad:
    print("differ: %s (%s vs %s)" % (k, a.get(k, ("missing",))[0],
                                     b.get(k, ("missing",))[0]))
sys.exit(1 if bad else 0)
PY
	}
fi

status=0
for d in "$tmp/gen"/*/; do
	name=$(basename "$d")
	if [ ! -d "$committed/$name" ]; then
		echo "check-trees: preset $name is generated but not committed" >&2
		status=1
	elif ! cmp_trees "$committed/$name" "$tmp/gen/$name"; then
		echo "check-trees: committed tree $name differs from gen-sysfs.py output" >&2
		status=1
	fi
done
for d in "$committed"/*/; do
	name=$(basename "$d")
	if [ ! -d "$tmp/gen/$name" ]; then
		echo "check-trees: committed tree $name is not a gen-sysfs.py preset" >&2
		status=1
	fi
done
[ $status -eq 0 ] && echo "check-trees: all presets match"
exit $status
