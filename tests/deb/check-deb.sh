#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The Debian packages as a site gets them: scripts/build-deb.sh builds them out of the
# tree and holds them to lintian; then each .deb is read back as dpkg would install it
# (dpkg-deb), and the hook, the runtime and the library from the packages are run.
#
#   tests/deb/check-deb.sh SOURCE_ROOT OUTPUT_DIR
#
# Exit 0 all checks passed, 1 a check failed (the line says which), 77 skipped: not a
# Debian system, or the build dependencies are missing and this is not root (said why).
# shellcheck disable=SC2015 # "COND && ok ... || bad ...": ok only prints, it never fails
set -euo pipefail
src=${1:?usage: check-deb.sh SOURCE_ROOT OUTPUT_DIR}
out=${2:?usage: check-deb.sh SOURCE_ROOT OUTPUT_DIR}
prog=check-deb

fails=0
ok() { printf 'ok: %s\n' "$*"; }
bad() {
	printf 'FAIL: %s\n' "$*"
	fails=$((fails + 1))
}
skip() {
	printf 'SKIP: %s\n' "$*"
	exit 77
}

# ------------------------------------------------------------------ can we build at all?
command -v dpkg-query >/dev/null && command -v apt-get >/dev/null ||
	skip "not a Debian system (no dpkg-query/apt-get): the packages build on Debian 12"
missing=()
for p in $("$src/scripts/install-deps.sh" --list deb); do
	[[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) == installed ]] || missing+=("$p")
done
if ((${#missing[@]})) && [[ $(id -u) != 0 ]]; then
	skip "dpkg-buildpackage cannot run here: missing ${missing[*]}; run scripts/install-deps.sh deb as root (scripts/test.sh does)"
fi

# ------------------------------------------------------------------ build + lintian
# The build runs the unit suite (dh_auto_test), as a site's build does: about 40 s.
t0=$SECONDS
if ! "$src/scripts/build-deb.sh" --output "$out"; then
	echo "FAIL: scripts/build-deb.sh failed (its message above; build log $out/build.log, lintian $out/lintian.txt)"
	exit 1
fi
echo "$prog: scripts/build-deb.sh took $((SECONDS - t0)) s"

version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
triplet=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
deb() { echo "$out/${1}_${version}_$arch.deb"; }
for p in libcrdma0 libcrdma-dev crdma crdma-slurm; do
	[[ -f $(deb "$p") ]] && ok "$p: $(basename "$(deb "$p")")" || bad "$p: no $(deb "$p")"
done
((fails == 0)) || exit 1

# lintian: build-deb.sh fails on a tag not allowed; show what it said
echo "$prog: lintian's tags (all severities; errors and warnings outside the allow list failed the build):"
grep -E '^[EWIPX]: ' "$out/lintian.txt" | sort -u | sed 's/^/   | /' || echo '   | (none)'

# ------------------------------------------------------------------ contents
# has PKG PATH...: each PATH is in PKG's data (dpkg-deb -c), as file or symlink
listing=$(mktemp -d /var/tmp/crdma-check-deb.XXXXXX)
trap 'rm -rf "$listing"' EXIT
for p in libcrdma0 libcrdma-dev crdma crdma-slurm; do
	dpkg-deb -c "$(deb "$p")" | awk '{ p = $6; sub("^\\./", "/", p); print p ($7 == "->" ? " -> " $8 : "") }' \
		>"$listing/$p.list"
	dpkg-deb -x "$(deb "$p")" "$listing/root"
	mkdir -p "$listing/$p.ctrl"
	dpkg-deb -e "$(deb "$p")" "$listing/$p.ctrl"
done
has() {
	local p=$1 f
	shift
	for f in "$@"; do
		if grep -qxE "$f( -> .*)?" "$listing/$p.list"; then
			ok "$p has $(grep -xE "$f( -> .*)?" "$listing/$p.list" | head -n1)"
		else
			bad "$p lacks $f (dpkg-deb -c $(deb "$p")); it is installed by meson and listed in debian/$p.install?"
		fi
	done
}
has_not() {
	local p=$1 f
	shift
	for f in "$@"; do
		if grep -qE "$f" "$listing/$p.list"; then
			bad "$p must not ship $(grep -E "$f" "$listing/$p.list" | head -n1)"
		else
			ok "$p: nothing matching $f"
		fi
	done
}
lib=/usr/lib/$triplet
has libcrdma0 "$lib/libcrdma\.so\.0 -> libcrdma\.so\.0\.1\.0" "$lib/libcrdma\.so\.0\.1\.0"
has_not libcrdma0 '\.so$' '/usr/include'
has libcrdma-dev /usr/include/crdma\.h "$lib/libcrdma\.so -> libcrdma\.so\.0" \
	"$lib/pkgconfig/libcrdma\.pc" /usr/share/man/man3/libcrdma\.3\.gz
has crdma /usr/bin/crdma-hook /usr/bin/crdma-runtime /etc/crdma/policy\.json \
	/usr/share/crdma/policy\.json /usr/share/crdma/oci-hooks\.json \
	/usr/share/containers/oci/hooks\.d/crdma-hook\.json \
	/usr/share/containers/oci/hooks\.d/crdma-hook-poststop\.json \
	/usr/share/crdma/podman-hooks\.d/crdma-hook-precreate\.json \
	/usr/share/man/man8/crdma-hook\.8\.gz /usr/share/man/man8/crdma-runtime\.8\.gz \
	/usr/share/man/man5/crdma-policy\.5\.gz /usr/share/man/man7/crdma-annotations\.7\.gz \
	"/usr/share/doc/crdma/README\.Debian(\.gz)?" /usr/share/doc/crdma/copyright \
	/usr/share/doc/crdma/examples/docker-daemon\.json \
	/usr/share/doc/crdma/examples/containerd-config\.toml \
	/usr/share/doc/crdma/examples/runtimeclass\.yaml /usr/share/doc/crdma/examples/crio-crdma\.conf
has crdma-slurm "$lib/slurm-wlm/spank_crdma\.so" /usr/share/man/man8/spank_crdma\.8\.gz \
	"/usr/share/doc/crdma-slurm/examples/plugstack-crdma\.conf"
has_not crdma 'spank_crdma'
has_not crdma-slurm '^/etc/slurm'
# CRI-O refuses to start on a precreate stage in a directory it reads.
has_not crdma 'containers/oci/hooks\.d/.*precreate' '^/etc/containers' '/usr/share/crdma/engines'

# The conffile: dpkg keeps an administrator's changes and asks on upgrade.
conffiles=$(cat "$listing/crdma.ctrl/conffiles" 2>/dev/null || true)
if [[ $conffiles == /etc/crdma/policy.json ]]; then
	ok "crdma: DEBIAN/conffiles is exactly /etc/crdma/policy.json"
else
	bad "crdma: DEBIAN/conffiles is '${conffiles//$'\n'/ }', not /etc/crdma/policy.json"
fi
cmp -s "$listing/root/etc/crdma/policy.json" "$src/data/policy.json" &&
	ok "crdma: /etc/crdma/policy.json is data/policy.json (the built-in defaults)" ||
	bad "crdma: /etc/crdma/policy.json differs from data/policy.json"
# No maintainer script: installing crdma edits no engine's configuration.
for p in crdma libcrdma-dev crdma-slurm; do
	scripts=$(cd "$listing/$p.ctrl" && ls -- preinst postinst prerm postrm config 2>/dev/null || true)
	[[ -z $scripts ]] && ok "$p: no maintainer scripts" || bad "$p: maintainer scripts: $scripts"
done

# The installed files name the installed programs.
for f in usr/share/containers/oci/hooks.d/crdma-hook.json usr/share/containers/oci/hooks.d/crdma-hook-poststop.json \
	usr/share/crdma/podman-hooks.d/crdma-hook-precreate.json; do
	path=$(jq -r .hook.path "$listing/root/$f")
	[[ $path == /usr/bin/crdma-hook ]] && ok "/$f runs $path" || bad "/$f runs '$path', not /usr/bin/crdma-hook"
done
stages=$(jq -c .stages "$listing/root/usr/share/containers/oci/hooks.d/crdma-hook.json")
[[ $stages == '["createRuntime"]' ]] && ok "crdma-hook.json: stages $stages" || bad "crdma-hook.json: stages $stages"
path=$(jq -r .runtimes.crdma.path "$listing/root/usr/share/doc/crdma/examples/docker-daemon.json")
[[ $path == /usr/bin/crdma-runtime ]] && ok "examples/docker-daemon.json names $path" ||
	bad "examples/docker-daemon.json names '$path', not /usr/bin/crdma-runtime"

# ------------------------------------------------------------------ control data
# slurmstepd loads only a plugin of its own major.minor: the package depends on that slurmd.
slurm=$(dpkg-query -W -f='${Version}' libslurm-dev | sed -E 's/^([0-9]+:)?([0-9]+\.[0-9]+).*/\2/')
dep=$(dpkg-deb -f "$(deb crdma-slurm)" Depends)
[[ $dep == *"slurmd (>= $slurm), slurmd (<< $slurm.99~)"* ]] &&
	ok "crdma-slurm depends on the Slurm it was built for ($slurm)" || bad "crdma-slurm Depends: $dep"
[[ $(dpkg-deb -f "$(deb crdma-slurm)" Depends) == *libcrdma0* ]] &&
	ok "crdma-slurm depends on libcrdma0 (the plugin links libcrdma.so.0)" || bad "crdma-slurm Depends lacks libcrdma0: $dep"

dep=$(dpkg-deb -f "$(deb libcrdma-dev)" Depends)
[[ $dep == *"libcrdma0 (= $version)"* ]] && ok "libcrdma-dev depends on libcrdma0 (= $version)" ||
	bad "libcrdma-dev Depends: $dep"
grep -q "^libcrdma 0 libcrdma0 (>= " "$listing/libcrdma0.ctrl/shlibs" 2>/dev/null &&
	ok "libcrdma0: shlibs: $(cat "$listing/libcrdma0.ctrl/shlibs")" || bad "libcrdma0: no shlibs entry for libcrdma 0"
# The symbols control file against what the library exports (dpkg-gensymbols -c4 in the
# build already refused any difference; this is the user's view of it).
exported=$(nm -D --defined-only "$listing/root$lib/libcrdma.so.0.1.0" |
	awk '$2 ~ /^[TDBRV]$/ { print $3 }' | grep -v '^CRDMA_[0-9.]*@@' | sed 's/@@*/@/' | sort)
listed=$(awk '/^ crdma_/ { print $1 }' "$listing/libcrdma0.ctrl/symbols" | sort)
if [[ -n $exported && $exported == "$listed" ]]; then
	ok "libcrdma0: DEBIAN/symbols lists the $(wc -l <<<"$listed") exported symbols with their versions"
else
	bad "libcrdma0: DEBIAN/symbols and the library's exports differ: $(diff <(echo "$listed") <(echo "$exported") | grep '^[<>]' | head -n 5 | tr '\n' ' ')"
fi
nonprefix=$(grep -v '^crdma_' <<<"$exported" || true)
[[ -z $nonprefix ]] && ok "libcrdma0 exports only crdma_* symbols" || bad "libcrdma0 exports $nonprefix"
soname=$(objdump -p "$listing/root$lib/libcrdma.so.0.1.0" | awk '$1 == "SONAME" { print $2 }')
[[ $soname == libcrdma.so.0 ]] && ok "SONAME $soname" || bad "SONAME '$soname', not libcrdma.so.0"

# ------------------------------------------------------------------ the programs run
v=$("$listing/root/usr/bin/crdma-hook" --version 2>&1) || true
[[ $v == *"$version"* ]] && ok "crdma-hook --version: $v" || bad "crdma-hook --version: '$v' (want $version)"
# crdma-runtime has no version of its own: --version goes through to runc or crun.
if command -v runc >/dev/null || command -v crun >/dev/null; then
	v=$("$listing/root/usr/bin/crdma-runtime" --version 2>&1) || true
	[[ $v =~ (runc|crun)\ version ]] && ok "crdma-runtime --version reaches ${BASH_REMATCH[0]}" ||
		bad "crdma-runtime --version: '$v' (want runc's or crun's version)"
else
	echo "note: no runc or crun here: crdma-runtime --version not tried"
fi
v=$("$listing/root/usr/bin/crdma-hook" --policy "$listing/root/etc/crdma/policy.json" policy 2>&1) &&
	ok "crdma-hook policy accepts the shipped /etc/crdma/policy.json" ||
	bad "crdma-hook policy rejects the shipped /etc/crdma/policy.json: $v"
v=$(PKG_CONFIG_SYSROOT_DIR=$listing/root PKG_CONFIG_LIBDIR=$listing/root$lib/pkgconfig:/usr/lib/$triplet/pkgconfig:/usr/share/pkgconfig \
	pkg-config --modversion --cflags --libs libcrdma 2>&1) &&
	[[ $v == "$version"* ]] && ok "pkg-config libcrdma: ${v//$'\n'/ }" || bad "pkg-config libcrdma: $v"

if ((fails)); then
	echo "$prog: $fails check(s) failed; the packages are in $out"
	exit 1
fi
echo "$prog: all checks passed ($((SECONDS - t0)) s)"
