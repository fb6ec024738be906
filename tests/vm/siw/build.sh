#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/vm/siw/build.sh KVER OUTDIR — build siw.ko (Soft-iWARP, the kernel's own
# drivers/infiniband/sw/siw) for exactly the Debian kernel KVER the VM boots, into
# OUTDIR/siw.ko. Debian's kernel has `# CONFIG_RDMA_SIW is not set`; siw is what carries
# rdma_cm per network namespace in shared mode (its TCP sockets are opened in the caller's
# namespace; rxe's one UDP socket lives in init_net), which 64-siw-rdmacm shows.
#
# The source is the kernel's own: `apt-get download linux-source-X.Y=V`, V the version of
# KVER's headers package (6.1.192-3 for 6.1.0-57-amd64: the same source tree), and only
# drivers/infiniband/sw/siw extracted from its tarball, cached as siw-src-V (the 140 MB
# package is not kept). The headers: ../kbuild.sh. Warnings are errors.
# Exit: 0 built or cached (its path on stdout), 2 usage, 3 the source or headers cannot be
# had or the build failed (the reason on stderr). Never a silent skip.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=../kbuild.sh
. "$here/../kbuild.sh"
(($# == 2)) || {
	echo "usage: tests/vm/siw/build.sh KVER OUTDIR   (e.g. 6.1.0-57-amd64 /var/cache/crdma-vm/siw-X)" >&2
	exit 2
}
kbuild_init siw "$1" "$2" siw.ko
for c in tar xz; do
	command -v "$c" >/dev/null || kbuild_die 3 "$c not found (scripts/install-deps.sh vm)"
done
kbuild_headers

series=$(sed -E 's/^([0-9]+\.[0-9]+).*/\1/' <<<"$KB_KVER")
pkg=linux-source-$series
scache=$KB_CACHE/siw-src-$KB_HVERSION
sub=drivers/infiniband/sw/siw
if [[ ! -f $scache/.complete ]]; then
	kb_say "downloading $pkg=$KB_HVERSION (the kernel's source, about 140 MB) for $sub"
	kbuild_download "$pkg=$KB_HVERSION" ||
		kbuild_die 3 "cannot download $pkg=$KB_HVERSION with apt-get download: siw.ko must be built from the source of exactly the kernel the VM boots (linux-headers-$KB_KVER $KB_HVERSION); check the network and /etc/apt/sources.list* (bookworm-security carries the newest)"
	deb=$(kbuild_deb "$pkg") || kbuild_die 3 "apt-get download left no ${pkg}_*.deb"
	got=$(dpkg-deb -f "$deb" Version)
	[[ $got == "$KB_HVERSION" ]] || kbuild_die 3 "$pkg is $got, the kernel's headers $KB_HVERSION"
	mkdir -p "$KB_WORK/src-root"
	# the package holds usr/src/linux-source-X.Y.tar.xz; only siw's directory is taken out
	dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$pkg.tar.xz" |
		tar -xJ -C "$KB_WORK/src-root" "$pkg/$sub" >>"$KB_LOG" 2>&1 ||
		kbuild_die 3 "cannot extract $pkg/$sub from $deb"
	[[ -f $KB_WORK/src-root/$pkg/$sub/siw_main.c ]] || kbuild_die 3 "$deb has no $sub/siw_main.c"
	rm -f "$deb"
	rm -rf "$scache"
	mv "$KB_WORK/src-root/$pkg/$sub" "$scache"
	echo "$pkg $got" >"$scache/.package"
	touch "$scache/.complete"
fi
cp "$scache/.package" "$KB_WORK/source-package"
mkdir -p "$KB_WORK/src"
cp "$scache"/*.[ch] "$KB_WORK/src/"
cp "$here/Kbuild" "$KB_WORK/src/"
kbuild_make "$KB_WORK/src"
