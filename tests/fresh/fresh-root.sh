#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The README's first command on a machine that has nothing: a clean Debian 12
# root (debootstrap --variant=minbase bookworm), this source tree copied in as
# a clone has it, and `scripts/demo.sh` run there as root; then the hook it
# built answers --version and lists a shipped sysfs tree. Only what the demo
# installs itself is in the root, so a dependency the build needs but the
# `build` set lacks fails here, as it would for a new user.
#
#   tests/fresh/fresh-root.sh SOURCE_DIR
#
# Root, network (apt) and debootstrap needed; exit 77 without root or with
# CRDMA_SKIP_FRESH=1. CRDMA_FRESH_CACHE (default /var/cache/crdma-fresh) keeps
# the root's tarball between runs; an empty cache makes it anew (about 40 s).
# CRDMA_FRESH_MIRROR: debootstrap's mirror (default http://deb.debian.org/debian).
set -euo pipefail

src=$(cd "${1:?usage: fresh-root.sh SOURCE_DIR}" && pwd -P)
say() { printf 'fresh: %s\n' "$*"; }
die() {
	printf 'fresh: ERROR: %s\n' "$*" >&2
	exit 1
}
if [[ ${CRDMA_SKIP_FRESH:-0} == 1 ]]; then
	say "SKIP (CRDMA_SKIP_FRESH=1): the README's first command was not tried on a fresh root"
	exit 77
fi
if [[ $(id -u) != 0 ]]; then
	say "SKIP: needs root (debootstrap, chroot, apt-get in the root)"
	exit 77
fi
for tool in debootstrap unshare chroot git; do
	command -v "$tool" >/dev/null || die "$tool not found: scripts/install-deps.sh test installs it"
done

cache=${CRDMA_FRESH_CACHE:-/var/cache/crdma-fresh}
mirror=${CRDMA_FRESH_MIRROR:-http://deb.debian.org/debian}
tarball=$cache/bookworm-minbase.tar.gz
mkdir -p "$cache" /var/tmp
work=$(mktemp -d /var/tmp/crdma-fresh.XXXXXX)
root=$work/root
log=$work/log
cleanup() {
	# the root's mounts live in their own mount namespace and are gone with it
	rm -rf "$work"
}
trap cleanup EXIT
t0=$SECONDS

# tail_log WHAT: the end of the step's output (the root and its logs go with the run)
tail_log() {
	echo "--- last lines of the log ($1):"
	tail -n 40 "$log" | sed 's/^/  | /'
}

if [[ ! -s $tarball ]]; then
	say "making a Debian 12 minbase root (debootstrap, $mirror)"
	mkdir "$root"
	if ! debootstrap --variant=minbase bookworm "$root" "$mirror" >"$log" 2>&1; then
		tail_log debootstrap
		die "debootstrap failed; check the network and the mirror (CRDMA_FRESH_MIRROR)"
	fi
	tar -C "$root" --numeric-owner -cf - . | gzip -1 >"$tarball.tmp"
	mv "$tarball.tmp" "$tarball"
	say "root made and cached in $tarball ($((SECONDS - t0)) s)"
else
	mkdir "$root"
	tar -C "$root" --numeric-owner -xzf "$tarball" ||
		die "cannot unpack $tarball; remove it to make the root anew"
	say "root unpacked from $tarball ($((SECONDS - t0)) s)"
fi

# The machine's package sources and apt network settings (mirror, proxy) are
# the machine's, not the image's: the root gets the host's.
rm -f "$root/etc/apt/sources.list"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
	if [[ -f $f ]]; then cp "$f" "$root$f"; fi
done
for f in /etc/apt/apt.conf.d/*; do
	if [[ -f $f ]] && grep -q 'Acquire::' "$f"; then cp "$f" "$root$f"; fi
done
cp -L /etc/resolv.conf "$root/etc/resolv.conf"

# The tree as a clone has it: tracked files (with their working-tree changes)
# and new files not ignored; no build directory.
dst=/root/crdma
mkdir -p "$root$dst"
git -C "$src" ls-files -z --cached --others --exclude-standard |
	(cd "$src" && tar --null --no-recursion -cf - -T -) | tar -C "$root$dst" -xf -
[[ -x $root$dst/scripts/demo.sh ]] || die "copying $src into the root left no scripts/demo.sh"

# run_in_root SCRIPT: bash -c SCRIPT as root in the root, an explicit environment
run_in_root() {
	unshare --mount --propagation private /bin/bash -c '
		set -e
		r=$1
		mount --rbind /dev "$r/dev"
		mount -t proc proc "$r/proc"
		mount --rbind /sys "$r/sys"
		mount -t tmpfs -o mode=0755 tmpfs "$r/run"
		mkdir -p "$r/run/lock"
		exec chroot "$r" /usr/bin/env -i HOME=/root TERM=dumb \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			/bin/bash -c "$2"' run_in_root "$root" "$1"
}

say "in the root: cd $dst && scripts/demo.sh"
t1=$SECONDS
if ! run_in_root "cd $dst && scripts/demo.sh" >"$log" 2>&1; then
	tail_log "scripts/demo.sh"
	die "the README's first command failed on a fresh Debian 12 root after $((SECONDS - t1)) s"
fi
say "scripts/demo.sh passed in $((SECONDS - t1)) s; its report:"
sed 's/^/  | /' "$log"

hook=$dst/build/hook/crdma-hook
version=$(run_in_root "$hook --version") || die "$hook --version failed"
say "crdma-hook --version: $version"
want=$(sed -n "s/^ *version: '\(.*\)',$/\1/p;T;q" "$src/meson.build") # project()'s, the first
[[ $version == "crdma-hook $want" ]] ||
	die "crdma-hook --version does not name the project's version: $version"
devices=$(run_in_root "$hook devices --sysfs-root $dst/tests/data/sysfs/rxe") ||
	die "crdma-hook devices on tests/data/sysfs/rxe failed: $devices"
printf '%s\n' "$devices" | sed 's/^/  | /'
grep -q 'rxe0' <<<"$devices" && grep -q 'rxe1' <<<"$devices" ||
	die "crdma-hook devices did not list rxe0 and rxe1 of tests/data/sysfs/rxe"
say "passed in $((SECONDS - t0)) s"
