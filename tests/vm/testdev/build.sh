#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/vm/testdev/build.sh KVER OUTDIR — build crdma_testdev.ko (test-only RDMA devices that
# can move between network namespaces; crdma_testdev.c says why) for exactly the Debian
# kernel KVER, e.g. 6.1.0-57-amd64, the one tests/vm/run boots, into OUTDIR/crdma_testdev.ko.
#
# The headers are fetched and cached as tests/vm/run fetches the kernel: `apt-get download`
# of linux-headers-KVER and of the two packages it depends on (its linux-headers-*-common, at
# exactly its version, and linux-kbuild-X.Y, at a version its Depends accepts), `dpkg-deb -x`
# of all three into ${CRDMA_VM_CACHE:-/var/cache/crdma-vm}/headers-KVER, then the paths they
# hold as absolute ones (the arch Makefile's `include /usr/src/...-common/Makefile`, the
# /lib/modules/KVER/{build,source} links) pointed into that cache. Nothing is installed on the
# host. The kbuild binaries need libelf1 (objtool) and the kernel's own compiler (gcc-12 on
# 6.1), and the build needs make: scripts/install-deps.sh vm has them.
#
# OUTDIR is reused when it holds a complete build with KVER's vermagic; tests/vm/run names it
# after a hash of this directory's files. Compiler warnings are errors (KCFLAGS=-Werror).
# Exit: 0 built or cached (its path on stdout), 2 usage, 3 the headers cannot be had or the
# build failed (with the reason and the log's end on stderr). Never a silent skip.
set -euo pipefail

prog=tests/vm/testdev/build.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
say() { printf 'testdev: %s\n' "$*" >&2; }
die() { # die STATUS MESSAGE
	local st=$1
	shift
	printf 'testdev: ERROR: %s\n' "$*" >&2
	exit "$st"
}
usage() {
	echo "usage: $prog KVER OUTDIR   (e.g. $prog 6.1.0-57-amd64 /var/cache/crdma-vm/testdev-X)" >&2
	exit 2
}
(($# == 2)) || usage
kver=$1 outdir=$2
[[ $kver =~ ^[0-9]+\.[0-9]+[0-9A-Za-z.+~-]*-amd64$ ]] || die 2 "KVER '$kver' is not a Debian amd64 kernel release (e.g. 6.1.0-57-amd64)"
[[ $outdir == /* ]] || outdir=$PWD/$outdir
[[ $outdir != *[[:space:]#]* ]] || die 2 "OUTDIR '$outdir': no spaces or '#'"
cache=${CRDMA_VM_CACHE:-/var/cache/crdma-vm}
mkdir -p "$cache" || die 3 "cannot create the cache dir $cache"
cache=$(cd "$cache" && pwd -P)
[[ $cache != *[[:space:]#]* ]] || die 2 "cache dir '$cache': no spaces or '#' (the headers' Makefile names it)"
ko=$outdir/crdma_testdev.ko

vermagic_ok() { # vermagic_ok KO: built for exactly $kver
	local v
	v=$(modinfo -F vermagic "$1" 2>/dev/null) || return 1
	[[ $v == "$kver "* ]]
}
if [[ -f $outdir/.complete ]] && vermagic_ok "$ko"; then
	echo "$ko"
	exit 0
fi

for c in apt-get dpkg-deb dpkg make modinfo; do
	command -v "$c" >/dev/null || die 3 "$c not found: this needs a Debian 12 host with scripts/install-deps.sh vm installed"
done

work=$(mktemp -d "$cache/.testdev.XXXXXX")
trap 'rm -rf "$work"' EXIT
log=$work/log
: >"$log"
show_log() { # the end of the log, on stderr
	[[ -s $log ]] || return 0
	echo "    --- last lines of the log:" >&2
	tail -n 25 "$log" | sed 's/^/    | /' >&2
}

# ------------------------------------------------------------------ the headers
updated=0
apt_download() { # apt_download PKG[=VERSION]: the .deb into $work/dl; once apt-get update, retry
	mkdir -p "$work/dl"
	(cd "$work/dl" && apt-get download -q "$1") >>"$log" 2>&1 && return 0
	# the package lists may be stale: refresh once (root only), then try again
	if ((!updated)) && [[ $(id -u) == 0 ]]; then
		updated=1
		say "apt-get update"
		DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$log" 2>&1 || true
		(cd "$work/dl" && apt-get download -q "$1") >>"$log" 2>&1 && return 0
	fi
	return 1
}
deb_of() { # deb_of PKG: the one downloaded .deb of PKG
	local f
	for f in "$work/dl/$1"_*.deb; do
		[[ -f $f ]] && {
			echo "$f"
			return 0
		}
	done
	return 1
}
# dep_fetch "NAME (OP VERSION)": download NAME at a version the relation accepts
dep_fetch() {
	local spec=$1 name op want deb got
	[[ $spec =~ ^([^ ]+)( \(([<>=]+) ([^\)]+)\))?$ ]] || die 3 "cannot read the dependency '$spec' of linux-headers-$kver"
	name=${BASH_REMATCH[1]} op=${BASH_REMATCH[3]} want=${BASH_REMATCH[4]}
	if [[ $op == = ]]; then
		apt_download "$name=$want" || {
			show_log
			die 3 "cannot download $name=$want (a dependency of linux-headers-$kver) with apt-get download"
		}
	else
		apt_download "$name" || {
			show_log
			die 3 "cannot download $name (a dependency of linux-headers-$kver) with apt-get download"
		}
	fi
	deb=$(deb_of "$name") || die 3 "apt-get download $name left no ${name}_*.deb"
	got=$(dpkg-deb -f "$deb" Version)
	if [[ -n $op ]] && ! dpkg --compare-versions "$got" "$op" "$want"; then
		die 3 "$name $got does not satisfy linux-headers-$kver's dependency '$spec' (apt knows no suitable version: apt-get update, or a newer kernel)"
	fi
	printf '%s %s\n' "$name" "$got" >>"$work/packages"
}

hcache=$cache/headers-$kver
hdir=$hcache/usr/src/linux-headers-$kver
if [[ ! -f $hcache/.complete ]]; then
	say "downloading linux-headers-$kver and its common headers and kbuild (into $hcache)"
	apt_download "linux-headers-$kver" || {
		show_log
		die 3 "cannot download linux-headers-$kver with apt-get download: the headers for the kernel the VM boots are needed to build crdma_testdev.ko (check the network and /etc/apt/sources.list*; when the mirror has dropped this kernel, tests/vm/run picks the newest one after apt-get update)"
	}
	hdeb=$(deb_of "linux-headers-$kver") || die 3 "apt-get download left no linux-headers-${kver}_*.deb"
	printf '%s %s\n' "linux-headers-$kver" "$(dpkg-deb -f "$hdeb" Version)" >"$work/packages"
	# Depends: linux-headers-KVER-common (= V), linux-kbuild-X.Y (>= V), linux-compiler-...
	# (the compiler is checked below, as a command)
	IFS=, read -ra deps <<<"$(dpkg-deb -f "$hdeb" Depends)"
	ncommon=0 nkbuild=0
	for d in "${deps[@]}"; do
		d=${d#"${d%%[![:space:]]*}"}
		d=${d%"${d##*[![:space:]]}"}
		case $d in
		linux-headers-*-common*)
			dep_fetch "$d"
			ncommon=$((ncommon + 1))
			;;
		linux-kbuild-*)
			dep_fetch "$d"
			nkbuild=$((nkbuild + 1))
			;;
		esac
	done
	((ncommon == 1 && nkbuild == 1)) ||
		die 3 "linux-headers-$kver depends on $ncommon common-headers and $nkbuild kbuild packages, not one of each: an unexpected layout"
	mkdir -p "$work/root"
	for deb in "$work"/dl/*.deb; do
		dpkg-deb -x "$deb" "$work/root" || die 3 "dpkg-deb -x $deb failed"
	done
	[[ -f $work/root/usr/src/linux-headers-$kver/Makefile ]] ||
		die 3 "linux-headers-$kver has no usr/src/linux-headers-$kver/Makefile"
	# The packages expect to live at /: point what they name absolutely into the cache.
	sed -i "s#^include /#include $hcache/#" "$work/root/usr/src/linux-headers-$kver/Makefile"
	while IFS= read -r -d '' l; do
		t=$(readlink "$l")
		ln -sfn "$hcache$t" "$l"
	done < <(find "$work/root" -type l -lname '/*' -print0)
	mv "$work/packages" "$work/root/.packages"
	rm -rf "$hcache"
	mv "$work/root" "$hcache"
	touch "$hcache/.complete"
fi
[[ -f $hdir/Makefile ]] || die 3 "the cached headers in $hcache lack usr/src/linux-headers-$kver/Makefile (remove $hcache to fetch them again)"

# The compiler the kernel was built with (Debian's .kernelvariables: CC = ... gcc-12)
kcc=$(sed -n 's/^CC = .*)\(gcc-[0-9][0-9]*\)$/\1/p' "$hdir/.kernelvariables" 2>/dev/null || true)
kcc=${kcc:-gcc}
command -v "$kcc" >/dev/null ||
	die 3 "$kcc (the compiler kernel $kver was built with) is not installed: scripts/install-deps.sh vm installs it"

# ------------------------------------------------------------------ the module
say "building crdma_testdev.ko for $kver ($(tr '\n' ' ' <"$hcache/.packages" | sed 's/ $//'))"
mkdir -p "$work/src"
cp "$here/crdma_testdev.c" "$here/Kbuild" "$work/src/"
if ! make -C "$hdir" M="$work/src" KCFLAGS=-Werror modules >>"$log" 2>&1; then
	show_log
	die 3 "make -C $hdir M=... modules failed (the log above)"
fi
vermagic_ok "$work/src/crdma_testdev.ko" ||
	die 3 "the built module's vermagic '$(modinfo -F vermagic "$work/src/crdma_testdev.ko" 2>&1)' is not for $kver"

rm -rf "$outdir.tmp"
mkdir -p "$outdir.tmp"
cp "$work/src/crdma_testdev.ko" "$outdir.tmp/"
cp "$log" "$outdir.tmp/build.log"
cp "$hcache/.packages" "$outdir.tmp/packages"
touch "$outdir.tmp/.complete"
rm -rf "$outdir"
mv "$outdir.tmp" "$outdir"
echo "$ko"
