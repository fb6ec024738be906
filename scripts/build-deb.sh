#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Build crdma's Debian packages (debian/) and hold them to lintian.
#
#   scripts/build-deb.sh [--output DIR] [--if-changed] [--nocheck] [--no-deps]
#
# DIR (default: build-deb/ in the repository) gets the .debs, the .changes and
# .buildinfo, build.log (dpkg-buildpackage's output), lintian.txt (every tag,
# with lintian's explanations) and source.sha256 (what they were built from).
# dpkg-buildpackage writes its results into the parent directory of the source:
# it runs here on a copy of the tree (the files a clone has plus uncommitted
# changes; no build directories, no .git) in a temporary directory, so nothing
# lands beside the checkout.
#
#   --if-changed  do nothing when DIR already holds packages built from the same
#                 source (tests/vm/run uses it: one build per source change)
#   --nocheck     no unit suite during the build (DEB_BUILD_OPTIONS and
#                 DEB_BUILD_PROFILES nocheck); the packages are the same
#   --no-deps     do not install the build dependencies (they are still checked)
#
# The build dependencies come from the project's installer (scripts/install-deps.sh
# deb). Then lintian: any error or warning tag not in the allow list below fails.
# DEB_BUILD_OPTIONS from the environment is kept (default parallel=$(nproc)).
# Exit: 0 built and lintian-clean, 1 the build failed or lintian found a tag not
# allowed, 2 usage, 3 missing tools or build dependencies.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
. "$repo/scripts/lib.sh"
prog=build-deb.sh

# Lintian tags (errors and warnings) that cannot be fixed here, each with why; the
# packages have none today (lintian 2.116, Debian 12). Anything else fails the build:
# fix it in debian/, or add it here with the reason. A candidate is
# initial-upload-closes-no-bugs, should a lintian warn on a binary-only build: a
# native package made in the project's tree has no ITP bug to close.
declare -A lintian_allowed=()

say() { printf '%s: %s\n' "$prog" "$*"; }
die() { # die STATUS MESSAGE
	local st=$1
	shift
	printf '%s: error: %s\n' "$prog" "$*" >&2
	exit "$st"
}
usage() {
	sed -n '4,/^set -euo/{/^#/p}' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

out=$repo/build-deb
if_changed=0 nocheck=0 deps=1
while (($#)); do
	case $1 in
	--output)
		(($# >= 2)) || { usage >&2; exit 2; }
		out=$2
		shift 2
		;;
	--output=*) out=${1#*=}; shift ;;
	--if-changed) if_changed=1; shift ;;
	--nocheck) nocheck=1; shift ;;
	--no-deps) deps=0; shift ;;
	-h | --help) usage; exit 0 ;;
	*)
		echo "$prog: unknown argument '$1'" >&2
		usage >&2
		exit 2
		;;
	esac
done

[[ -f $repo/debian/control ]] || die 3 "$repo/debian/control is missing: this tree has no Debian packaging"
command -v dpkg-query >/dev/null || die 3 "this is not a Debian system (no dpkg-query): the packages build on Debian 12"

# ------------------------------------------------------------------ the source
# The files a clone has, plus uncommitted changes; without git, the tree less
# what .gitignore names (build directories) and .git itself.
list_files() {
	if [[ -e $repo/.git ]] && command -v git >/dev/null; then
		git -C "$repo" ls-files -z --cached --others --exclude-standard |
			while IFS= read -r -d '' f; do
				[[ -e $repo/$f || -L $repo/$f ]] && printf '%s\0' "$f"
			done
	else
		(cd "$repo" && find . -mindepth 1 \( -name .git -o -name 'build' -o -name 'build-*' \) -prune \
			-o \( -type f -o -type l \) -printf '%P\0')
	fi
}
files=$(mktemp /var/tmp/crdma-deb-files.XXXXXX)
trap 'rm -f "$files"' EXIT
list_files | LC_ALL=C sort -z >"$files"
[[ -s $files ]] || die 3 "no source files found under $repo"
# The hash covers every file's name, mode and content (a symlink's target): the tar
# stream of the list, with times and owners fixed.
source_hash=$(tar -C "$repo" --no-recursion --null --mtime=@0 --owner=0 --group=0 --numeric-owner \
	-cf - -T "$files" | sha256sum | cut -c1-64) || die 3 "cannot read the source tree $repo"

version=$(dpkg-parsechangelog -l "$repo/debian/changelog" -S Version) ||
	die 3 "cannot read the version from debian/changelog"
meson_version=$(sed -n "s/^ *version: *'\([^']*\)'.*/\1/p;T;q" "$repo/meson.build")
[[ $version == "$meson_version" || $version == "$meson_version"[+~]* ]] ||
	die 1 "debian/changelog's version $version is not meson.build's project version $meson_version: add a debian/changelog entry for $meson_version (dch -v $meson_version)"

mkdir -p "$out" || die 3 "cannot make the output directory $out"
out=$(cd "$out" && pwd -P)
case $out/ in
"$repo"/debian/* | "$repo"/debian/) die 2 "--output $out: not inside debian/ (dh_clean removes it)" ;;
esac
if ((if_changed)) && [[ -f $out/source.sha256 ]] &&
	[[ $(<"$out/source.sha256") == "$source_hash" ]] &&
	compgen -G "$out/crdma_${version}_*.deb" >/dev/null; then
	say "packages in $out are up to date (source $(cut -c1-12 <<<"$source_hash"))"
	exit 0
fi

# ------------------------------------------------------------------ dependencies
if ((deps)); then
	"$repo/scripts/install-deps.sh" deb ||
		die 3 "cannot install the build dependencies (scripts/install-deps.sh deb; its message above)"
fi
for t in dpkg-buildpackage dpkg-checkbuilddeps lintian fakeroot; do
	command -v "$t" >/dev/null || die 3 "$t is missing: run scripts/install-deps.sh deb as root"
done

# ------------------------------------------------------------------ build
work=$(mktemp -d "${TMPDIR:-/var/tmp}/crdma-deb.XXXXXX")
trap 'rm -f "$files"; rm -rf "$work"' EXIT
src=$work/crdma-$version
mkdir "$src"
tar -C "$repo" --no-recursion --null -cf - -T "$files" | tar -C "$src" -xf - ||
	die 3 "cannot copy the source tree to $src"

opts=${DEB_BUILD_OPTIONS:-}
[[ $opts == *parallel=* ]] || opts+=" parallel=$(nproc)"
profiles=${DEB_BUILD_PROFILES:-}
if ((nocheck)); then
	opts+=" nocheck"
	profiles+=" nocheck"
fi
export DEB_BUILD_OPTIONS=${opts# } DEB_BUILD_PROFILES=${profiles# }
[[ -n $DEB_BUILD_PROFILES ]] || unset DEB_BUILD_PROFILES

if ! unmet=$(cd "$src" && dpkg-checkbuilddeps 2>&1); then
	die 3 "${unmet#dpkg-checkbuilddeps: error: }; install them (scripts/install-deps.sh deb installs what debian/control's Build-Depends names: keep the two lists together)"
fi

rm -f "$out"/*.deb "$out"/*.ddeb "$out"/*.changes "$out"/*.buildinfo "$out"/source.sha256 \
	"$out"/lintian.txt
say "building crdma $version in $work (DEB_BUILD_OPTIONS='$DEB_BUILD_OPTIONS'); log: $out/build.log"
t0=$SECONDS
# shellcheck disable=SC2016 # $1 is the inner shell's
run_logged "$out/build.log" "the packages did not build: the log says which step failed (a dpkg-gensymbols diff: update debian/libcrdma0.symbols with the symbols libcrdma/libcrdma.map adds; dh_missing: a new installed file needs a line in a debian/*.install)" \
	bash -c 'cd "$1" && exec dpkg-buildpackage -us -uc -b' _ "$src" || exit 1
say "built in $((SECONDS - t0)) s"

shopt -s nullglob
results=("$work"/*.deb "$work"/*.ddeb "$work"/*.changes "$work"/*.buildinfo)
shopt -u nullglob
changes=$work/crdma_${version}_$(dpkg-architecture -qDEB_HOST_ARCH).changes
[[ -f $changes ]] || die 1 "dpkg-buildpackage made no $changes (log: $out/build.log)"
cp "${results[@]}" "$out/"
changes=$out/${changes##*/}

# ------------------------------------------------------------------ lintian
say "lintian on ${changes##*/}"
# Every tag, informational and pedantic ones included, with the explanations;
# only errors and warnings can fail.
lintian --info --display-info --pedantic --fail-on none "$changes" >"$out/lintian.txt" 2>&1 || {
	sed 's/^/  | /' "$out/lintian.txt" >&2
	die 3 "lintian itself failed on $changes (output above)"
}
bad=()
while IFS= read -r line; do
	[[ $line =~ ^([EWIPX]):\ ([^:]+):\ ([a-z0-9][a-z0-9+.-]*) ]] || continue
	sev=${BASH_REMATCH[1]} tag=${BASH_REMATCH[3]}
	if [[ $sev == [EW] && -z ${lintian_allowed[$tag]:-} ]]; then
		bad+=("$line")
		say "lintian: $line"
	elif [[ $sev == [EW] ]]; then
		say "lintian: $line (allowed: ${lintian_allowed[$tag]})"
	else
		say "lintian: $line"
	fi
done < <(grep -E '^[EWIPX]: ' "$out/lintian.txt" | sort -u)
if ((${#bad[@]})); then
	die 1 "lintian: ${#bad[@]} error/warning tag(s) not allowed (above; explanations in $out/lintian.txt): fix them in debian/, or, if one cannot be fixed, add it to lintian_allowed in scripts/build-deb.sh with the reason"
fi
echo "$source_hash" >"$out/source.sha256"
debs=$(cd "$out" && printf '%s ' ./*.deb)
say "done: ${debs//.\//}in $out"
