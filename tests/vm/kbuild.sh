# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# tests/vm/kbuild.sh — sourced by the module build scripts (testdev/build.sh, siw/build.sh):
# what building an out-of-tree module for exactly the Debian kernel the VM boots takes.
#
#   kbuild_init NAME KVER OUTDIR KO   checks the arguments, sets KB_CACHE, KB_WORK (removed at
#                                     exit), KB_LOG; exits 0 printing OUTDIR/KO when OUTDIR
#                                     holds a complete build with KVER's vermagic
#   kbuild_download PKG[=VERSION]     apt-get download into $KB_WORK/dl (one apt-get update
#                                     and a retry on failure); kbuild_deb PKG: its .deb
#   kbuild_headers                    linux-headers-KVER, fetched and cached: sets KB_HDIR and
#                                     KB_HVERSION (the kernel package's version, e.g. 6.1.192-3)
#   kbuild_make SRCDIR [MAKEVAR=...]  make modules in SRCDIR with the kernel's own compiler,
#                                     warnings as errors, then KO's vermagic checked and KO
#                                     installed in OUTDIR with the log; prints its path
#   kbuild_die STATUS MESSAGE         the message (and the log's end) on stderr, exit STATUS
#
# The headers: `apt-get download` of linux-headers-KVER and the two packages it depends on
# (its linux-headers-*-common at exactly its version, linux-kbuild-X.Y at a version its
# Depends accepts), `dpkg-deb -x` of all three into ${CRDMA_VM_CACHE:-/var/cache/crdma-vm}/
# headers-KVER, then the paths they hold as absolute ones (the arch Makefile's `include
# /usr/src/...-common/Makefile`, the /lib/modules/KVER/{build,source} links) pointed into that
# cache. Nothing is installed on the host. The kbuild binaries need libelf1 (objtool) and the
# kernel's own compiler (gcc-12 on 6.1), and the build needs make: scripts/install-deps.sh vm
# has them. Exit statuses: 2 usage, 3 what is needed cannot be had or the build failed.

kb_say() { printf '%s: %s\n' "$KB_NAME" "$*" >&2; }
kbuild_die() { # kbuild_die STATUS MESSAGE
	local st=$1
	shift
	if [[ -n ${KB_LOG:-} && -s $KB_LOG ]]; then
		echo "    --- last lines of the log:" >&2
		tail -n 25 "$KB_LOG" | sed 's/^/    | /' >&2
	fi
	printf '%s: ERROR: %s\n' "$KB_NAME" "$*" >&2
	exit "$st"
}
kb_vermagic_ok() { # kb_vermagic_ok KO: built for exactly $KB_KVER
	local v
	v=$(modinfo -F vermagic "$1" 2>/dev/null) || return 1
	[[ $v == "$KB_KVER "* ]]
}

kbuild_init() {
	KB_NAME=$1 KB_KVER=$2 KB_OUT=$3 KB_KO=$4 KB_LOG=
	[[ $KB_KVER =~ ^[0-9]+\.[0-9]+[0-9A-Za-z.+~-]*-amd64$ ]] ||
		kbuild_die 2 "KVER '$KB_KVER' is not a Debian amd64 kernel release (e.g. 6.1.0-57-amd64)"
	[[ $KB_OUT == /* ]] || KB_OUT=$PWD/$KB_OUT
	[[ $KB_OUT != *[[:space:]#]* ]] || kbuild_die 2 "OUTDIR '$KB_OUT': no spaces or '#'"
	KB_CACHE=${CRDMA_VM_CACHE:-/var/cache/crdma-vm}
	mkdir -p "$KB_CACHE" || kbuild_die 3 "cannot create the cache dir $KB_CACHE"
	KB_CACHE=$(cd "$KB_CACHE" && pwd -P)
	[[ $KB_CACHE != *[[:space:]#]* ]] || kbuild_die 2 "cache dir '$KB_CACHE': no spaces or '#' (the headers' Makefile names it)"
	if [[ -f $KB_OUT/.complete ]] && kb_vermagic_ok "$KB_OUT/$KB_KO"; then
		echo "$KB_OUT/$KB_KO"
		exit 0
	fi
	local c
	for c in apt-get dpkg-deb dpkg make modinfo; do
		command -v "$c" >/dev/null || kbuild_die 3 "$c not found: this needs a Debian 12 host with scripts/install-deps.sh vm installed"
	done
	KB_WORK=$(mktemp -d "$KB_CACHE/.$KB_NAME.XXXXXX")
	# shellcheck disable=SC2064 # the path now
	trap "rm -rf '$KB_WORK'" EXIT
	KB_LOG=$KB_WORK/log
	: >"$KB_LOG"
	KB_UPDATED=0
}

kbuild_download() {
	mkdir -p "$KB_WORK/dl"
	(cd "$KB_WORK/dl" && apt-get download -q "$1") >>"$KB_LOG" 2>&1 && return 0
	# the package lists may be stale: refresh once (root only), then try again
	if ((!KB_UPDATED)) && [[ $(id -u) == 0 ]]; then
		KB_UPDATED=1
		kb_say "apt-get update"
		DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$KB_LOG" 2>&1 || true
		(cd "$KB_WORK/dl" && apt-get download -q "$1") >>"$KB_LOG" 2>&1 && return 0
	fi
	return 1
}
kbuild_deb() {
	local f
	for f in "$KB_WORK/dl/$1"_*.deb; do
		[[ -f $f ]] && {
			echo "$f"
			return 0
		}
	done
	return 1
}
# kb_dep_fetch "NAME (OP VERSION)": download NAME at a version the relation accepts
kb_dep_fetch() {
	local spec=$1 name op want deb got
	[[ $spec =~ ^([^ ]+)( \(([<>=]+) ([^\)]+)\))?$ ]] || kbuild_die 3 "cannot read the dependency '$spec' of linux-headers-$KB_KVER"
	name=${BASH_REMATCH[1]} op=${BASH_REMATCH[3]} want=${BASH_REMATCH[4]}
	local pkg=$name
	[[ $op != = ]] || pkg=$name=$want
	kbuild_download "$pkg" ||
		kbuild_die 3 "cannot download $pkg (a dependency of linux-headers-$KB_KVER) with apt-get download"
	deb=$(kbuild_deb "$name") || kbuild_die 3 "apt-get download $name left no ${name}_*.deb"
	got=$(dpkg-deb -f "$deb" Version)
	if [[ -n $op ]] && ! dpkg --compare-versions "$got" "$op" "$want"; then
		kbuild_die 3 "$name $got does not satisfy linux-headers-$KB_KVER's dependency '$spec' (apt knows no suitable version: apt-get update, or a newer kernel)"
	fi
	printf '%s %s\n' "$name" "$got" >>"$KB_WORK/packages"
}

kbuild_headers() {
	local hcache=$KB_CACHE/headers-$KB_KVER hdeb d deb t l ncommon=0 nkbuild=0
	local -a deps
	KB_HDIR=$hcache/usr/src/linux-headers-$KB_KVER
	if [[ ! -f $hcache/.complete ]]; then
		kb_say "downloading linux-headers-$KB_KVER and its common headers and kbuild (into $hcache)"
		kbuild_download "linux-headers-$KB_KVER" ||
			kbuild_die 3 "cannot download linux-headers-$KB_KVER with apt-get download: the headers for the kernel the VM boots are needed to build $KB_KO (check the network and /etc/apt/sources.list*; when the mirror has dropped this kernel, tests/vm/run picks the newest one after apt-get update)"
		hdeb=$(kbuild_deb "linux-headers-$KB_KVER") || kbuild_die 3 "apt-get download left no linux-headers-${KB_KVER}_*.deb"
		printf '%s %s\n' "linux-headers-$KB_KVER" "$(dpkg-deb -f "$hdeb" Version)" >"$KB_WORK/packages"
		# Depends: linux-headers-KVER-common (= V), linux-kbuild-X.Y (>= V), linux-compiler-...
		# (the compiler is checked by kbuild_make, as a command)
		IFS=, read -ra deps <<<"$(dpkg-deb -f "$hdeb" Depends)"
		for d in "${deps[@]}"; do
			d=${d#"${d%%[![:space:]]*}"}
			d=${d%"${d##*[![:space:]]}"}
			case $d in
			linux-headers-*-common*)
				kb_dep_fetch "$d"
				ncommon=$((ncommon + 1))
				;;
			linux-kbuild-*)
				kb_dep_fetch "$d"
				nkbuild=$((nkbuild + 1))
				;;
			esac
		done
		((ncommon == 1 && nkbuild == 1)) ||
			kbuild_die 3 "linux-headers-$KB_KVER depends on $ncommon common-headers and $nkbuild kbuild packages, not one of each: an unexpected layout"
		mkdir -p "$KB_WORK/root"
		for deb in "$KB_WORK"/dl/*.deb; do
			dpkg-deb -x "$deb" "$KB_WORK/root" || kbuild_die 3 "dpkg-deb -x $deb failed"
		done
		rm -f "$KB_WORK"/dl/*.deb
		[[ -f $KB_WORK/root/usr/src/linux-headers-$KB_KVER/Makefile ]] ||
			kbuild_die 3 "linux-headers-$KB_KVER has no usr/src/linux-headers-$KB_KVER/Makefile"
		# The packages expect to live at /: point what they name absolutely into the cache.
		sed -i "s#^include /#include $hcache/#" "$KB_WORK/root/usr/src/linux-headers-$KB_KVER/Makefile"
		while IFS= read -r -d '' l; do
			t=$(readlink "$l")
			ln -sfn "$hcache$t" "$l"
		done < <(find "$KB_WORK/root" -type l -lname '/*' -print0)
		mv "$KB_WORK/packages" "$KB_WORK/root/.packages"
		rm -rf "$hcache"
		mv "$KB_WORK/root" "$hcache"
		touch "$hcache/.complete"
	fi
	[[ -f $KB_HDIR/Makefile ]] || kbuild_die 3 "the cached headers in $hcache lack usr/src/linux-headers-$KB_KVER/Makefile (remove $hcache to fetch them again)"
	KB_HPACKAGES=$hcache/.packages
	KB_HVERSION=$(sed -n "s/^linux-headers-$KB_KVER //p" "$KB_HPACKAGES")
	[[ -n $KB_HVERSION ]] || kbuild_die 3 "$KB_HPACKAGES names no linux-headers-$KB_KVER version (remove $hcache to fetch the headers again)"
}

kbuild_make() {
	local src=$1 kcc
	shift
	# The compiler the kernel was built with (Debian's .kernelvariables: CC = ... gcc-12)
	kcc=$(sed -n 's/^CC = .*)\(gcc-[0-9][0-9]*\)$/\1/p' "$KB_HDIR/.kernelvariables" 2>/dev/null || true)
	kcc=${kcc:-gcc}
	command -v "$kcc" >/dev/null ||
		kbuild_die 3 "$kcc (the compiler kernel $KB_KVER was built with) is not installed: scripts/install-deps.sh vm installs it"
	kb_say "building $KB_KO for $KB_KVER ($(tr '\n' ' ' <"$KB_HPACKAGES" | sed 's/ $//'))"
	make -C "$KB_HDIR" M="$src" KCFLAGS=-Werror "$@" modules >>"$KB_LOG" 2>&1 ||
		kbuild_die 3 "make -C $KB_HDIR M=$src modules failed (the log above)"
	kb_vermagic_ok "$src/$KB_KO" ||
		kbuild_die 3 "the built module's vermagic '$(modinfo -F vermagic "$src/$KB_KO" 2>&1)' is not for $KB_KVER"
	rm -rf "$KB_OUT.tmp"
	mkdir -p "$KB_OUT.tmp"
	cp "$src/$KB_KO" "$KB_OUT.tmp/"
	cp "$KB_LOG" "$KB_OUT.tmp/build.log"
	cp "$KB_HPACKAGES" "$KB_OUT.tmp/packages"
	[[ ! -f $KB_WORK/source-package ]] || cat "$KB_WORK/source-package" >>"$KB_OUT.tmp/packages"
	touch "$KB_OUT.tmp/.complete"
	rm -rf "$KB_OUT"
	mv "$KB_OUT.tmp" "$KB_OUT"
	echo "$KB_OUT/$KB_KO"
}
