#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/vm/testdev/build.sh KVER OUTDIR — build crdma_testdev.ko (test-only RDMA devices that
# can move between network namespaces; crdma_testdev.c says why) for exactly the Debian
# kernel KVER, e.g. 6.1.0-57-amd64, the one tests/vm/run boots, into OUTDIR/crdma_testdev.ko,
# against its headers fetched and cached by ../kbuild.sh (which says how).
#
# OUTDIR is reused when it holds a complete build with KVER's vermagic; tests/vm/run names it
# after a hash of this directory's files. Compiler warnings are errors (KCFLAGS=-Werror).
# Exit: 0 built or cached (its path on stdout), 2 usage, 3 the headers cannot be had or the
# build failed (with the reason and the log's end on stderr). Never a silent skip.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=../kbuild.sh
. "$here/../kbuild.sh"
(($# == 2)) || {
	echo "usage: tests/vm/testdev/build.sh KVER OUTDIR   (e.g. 6.1.0-57-amd64 /var/cache/crdma-vm/testdev-X)" >&2
	exit 2
}
kbuild_init testdev "$1" "$2" crdma_testdev.ko
kbuild_headers
mkdir -p "$KB_WORK/src"
cp "$here/crdma_testdev.c" "$here/Kbuild" "$KB_WORK/src/"
kbuild_make "$KB_WORK/src"
