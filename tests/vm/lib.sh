# shellcheck shell=bash
# tests/vm/lib.sh — helpers for the VM scenarios. A scenario starts with
#
#   #!/usr/bin/env bash
#   # NN-name: what it proves
#   # vm-timeout: 120                      (optional, seconds; default 180)
#   # shellcheck source=SCRIPTDIR/../lib.sh
#   . "${BASH_SOURCE[0]%/*}/../lib.sh"
#
# and runs as root inside the VM (tests/vm/guest-init.sh), with cgroup2 on /sys/fs/cgroup,
# tmpfs on /tmp /run /dev/shm, devpts, veth0/veth1 and rxe0 (on veth0) / rxe1 (on veth1).
# Exit 0 pass, 77 skip (`skip`), anything else fail (`fail`, or any failing command: set -e).
#
# Environment from the harness: CRDMA_REPO, CRDMA_BUILD_DIR, CRDMA_HOOK (the hook's path in
# the build dir, maybe not built yet), CRDMA_VM_TOOLS (dir with crdma-vm-open), CRDMA_SCENARIO,
# CRDMA_ARTIFACTS (a dir in the run directory for files worth keeping; kept with --keep),
# CRDMA_VM_BOOT (default, or exclusive: a "# vm-needs: exclusive" scenario's boot, ib_core
# loaded with netns_mode=0), CRDMA_VM_TESTDEV (crdma_testdev.ko when a scenario of the run has
# "# vm-needs: testdev", else empty; testdev_load below), CRDMA_VM_SIW and CRDMA_VM_MODROOT
# (siw.ko and the cached kernel tree, with "# vm-needs: siw"; siw_load), CRDMA_VM_DEBS (the directory of
# the Debian packages scripts/build-deb.sh built, when a scenario of the run has
# "# vm-needs: deb", else empty; need_debs below).
set -euo pipefail

if [[ -z ${CRDMA_ARTIFACTS:-} || $$ == 1 ]]; then
	echo "lib.sh: scenarios run inside the VM: use tests/vm/run" >&2
	exit 2
fi

# A scratch dir on the guest's tmpfs, one per scenario. Containers live here.
WORK=$(mktemp -d "/tmp/${CRDMA_SCENARIO:-scenario}.XXXXXX")
export WORK
# The guest has IPs on the veth pair once a scenario calls `veth_ips`.
VETH0_IP=192.168.77.1
VETH1_IP=192.168.77.2

# ------------------------------------------------------------------ reporting
step() { printf '\n== %s\n' "$*"; }
note() { printf '   %s\n' "$*"; }
ok() { printf 'ok: %s\n' "$*"; }
# figure MSG: a measured figure; tests/vm/run prints it under the scenario's result line
figure() { printf 'figure: %s\n' "$*"; }
fail() {
	printf 'FAIL: %s\n' "$*"
	exit 1
}
skip() {
	printf 'SKIP: %s\n' "$*"
	exit 77
}

# assert_eq EXPECTED ACTUAL WHAT
assert_eq() {
	if [[ $1 == "$2" ]]; then
		ok "$3: '$2'"
	else
		fail "$3: expected '$1', got '$2'"
	fi
}
# assert_contains TEXT NEEDLE WHAT  (fixed string)
assert_contains() {
	if [[ $1 == *"$2"* ]]; then
		ok "$3: contains '$2'"
	else
		printf '%s\n' "--- text searched:" "$1" "---"
		fail "$3: no '$2' in the text above"
	fi
}
# assert_not_contains TEXT NEEDLE WHAT
assert_not_contains() {
	if [[ $1 != *"$2"* ]]; then
		ok "$3: no '$2'"
	else
		printf '%s\n' "--- text searched:" "$1" "---"
		fail "$3: unexpected '$2' in the text above"
	fi
}
# assert_match TEXT ERE WHAT  (bash =~, extended regex, anywhere in TEXT)
assert_match() {
	if [[ $1 =~ $2 ]]; then
		ok "$3: matches /$2/"
	else
		printf '%s\n' "--- text searched:" "$1" "---"
		fail "$3: does not match /$2/"
	fi
}

# capture CMD...: run CMD, its stdout+stderr in $OUT, its exit status in $RC, never exits.
OUT='' RC=0
export OUT RC
capture() {
	local e=0
	[[ $- == *e* ]] && e=1
	set +e
	OUT=$("$@" 2>&1)
	RC=$?
	((e)) && set -e
	return 0
}
# show: print the last capture, indented
show() { printf '%s\n' "$OUT" | sed 's/^/   | /'; }

need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null || skip "$c is not installed on the host"
	done
}
# need_hook: skip (77) while crdma-hook is not built yet
need_hook() {
	[[ -x $CRDMA_HOOK ]] || skip "crdma-hook not built yet: $CRDMA_HOOK does not exist (build with meson, or pass --build-dir)"
}

# need_debs: fail unless the run built the Debian packages ("# vm-needs: deb"); sets
# DEB_VERSION and DEB_FILES (package name -> its .deb in $CRDMA_VM_DEBS)
declare -A DEB_FILES=()
DEB_VERSION=
need_debs() {
	local p f
	[[ -n ${CRDMA_VM_DEBS:-} ]] ||
		fail "no Debian packages in this run: the scenario needs a '# vm-needs: deb' line (tests/vm/run builds them then)"
	DEB_VERSION=$(sed -n '1s/^crdma (\([^)]*\)).*/\1/p' "$CRDMA_REPO/debian/changelog")
	[[ -n $DEB_VERSION ]] || fail "no version in the first line of $CRDMA_REPO/debian/changelog"
	for p in crdma libcrdma0 libcrdma-dev; do
		f=$CRDMA_VM_DEBS/${p}_${DEB_VERSION}_$(dpkg --print-architecture).deb
		[[ -f $f ]] || fail "$f missing: scripts/build-deb.sh --output $CRDMA_VM_DEBS did not make it"
		# shellcheck disable=SC2034 # for the scenarios
		DEB_FILES[$p]=$f
	done
}

# wait_for FILE ERE SECONDS: wait until FILE has a line matching ERE
wait_for() {
	local end=$((SECONDS + $3))
	while ((SECONDS < end)); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.5
	done
	printf '%s\n' "--- $1:"
	cat "$1" 2>/dev/null || true
	fail "waited $3 s for /$2/ in $1"
}

# rdma_line FILE DEV: DEV's line of an rdma.max / rdma.current file, trailing blanks cut
# (the kernel lists every RDMA device, each line ending in a blank)
rdma_line() {
	local line
	while read -r line; do
		[[ $line == "$2 "* ]] && {
			echo "$line"
			return 0
		}
	done <"$1"
	return 1
}

# wait_listen PORT SECONDS: wait until something listens on TCP PORT in the guest's netns
# (a server's stdout to a file is block-buffered: its banner shows only at exit)
wait_listen() {
	local end=$((SECONDS + $2))
	while ((SECONDS < end)); do
		[[ -n $(ss -Hltn "sport = :$1") ]] && return 0
		sleep 0.5
	done
	fail "nothing listens on TCP port $1 after $2 s"
}

# ------------------------------------------------------------------ host facts
# dev_numbers PATH -> "TYPE MAJOR MINOR MODE" of a device node (type c or b, mode octal)
dev_numbers() {
	local t maj min mode
	[[ -c $1 || -b $1 ]] || return 1
	read -r t maj min mode < <(stat -c '%F %t %T %a' "$1" | sed 's/^character special file/c/; s/^block special file/b/')
	echo "$t $((16#$maj)) $((16#$min)) $mode"
}
# gid_index RDMADEV IPV4 -> the port-1 GID table index holding ::ffff:IPV4 (RoCE v2)
gid_index() {
	local want
	local -a o
	IFS=. read -ra o <<<"$2"
	want=$(printf '0000:0000:0000:0000:0000:ffff:%02x%02x:%02x%02x' "${o[@]}")
	gid_find "$1" "$want"
}
# gid_index_ll RDMADEV -> the port-1 GID table index of the netdev's IPv6 link-local address.
# Between rxe0 and rxe1 of one guest only these GIDs carry traffic (see 05-perftest).
gid_index_ll() { gid_find "$1" 'fe80:*'; }
# gid_find RDMADEV GLOB: first port-1 GID index whose GID matches GLOB (builtins only: the
# table has 1024 entries and a fork per entry is slow under TCG)
gid_find() {
	local f gid
	for f in /sys/class/infiniband/"$1"/ports/1/gids/*; do
		read -r gid <"$f" || continue
		# shellcheck disable=SC2053 # $2 is a glob on purpose
		if [[ $gid == $2 ]]; then
			echo "${f##*/}"
			return 0
		fi
	done
	return 1
}

# json_array STRING...: a JSON array of the strings (jq 1.6 parses "-x" after --args as its
# own option, and -R stops at a NUL: one --arg per string)
json_array() {
	local -a a=()
	local i=0 x expr='['
	for x in "$@"; do
		a+=(--arg "v$i" "$x")
		expr+="\$v$i,"
		i=$((i + 1))
	done
	jq -cn "${a[@]}" "${expr%,}]"
}

# ------------------------------------------------------------------ rootfs and bundles
# make_rootfs DIR: a minimal rootfs that runs the host's programs. bin/sbin/lib* are the
# host's symlinks into usr (merged /usr) or bind mounts (see host_dir_binds); /usr is
# bind-mounted read-only by oci_bundle / podman_run; /etc gets copies of the few files the
# programs read (libibverbs.d names the verbs providers). Few forks: each costs ~0.2 s in TCG.
make_rootfs() {
	local r=$1 d
	local -a etc=()
	mkdir -p "$r"/{proc,sys,dev,tmp,run,root,mnt,usr,etc,var/tmp}
	chmod 1777 "$r/tmp" "$r/var/tmp"
	for d in bin sbin lib lib32 lib64 libx32; do
		if [[ -L /$d ]]; then
			ln -sfn "$(readlink "/$d")" "$r/$d"
		elif [[ -d /$d ]]; then
			mkdir -p "$r/$d"
		fi
	done
	for d in passwd group nsswitch.conf ld.so.cache ld.so.conf ld.so.conf.d hosts libibverbs.d; do
		[[ -e /etc/$d ]] && etc+=("/etc/$d")
	done
	cp -a "${etc[@]}" "$r/etc/"
}
# host_dir_binds: the host dirs a make_rootfs rootfs needs bind-mounted (read-only)
host_dir_binds() {
	local d
	echo /usr
	for d in bin sbin lib lib32 lib64 libx32; do
		[[ -d /$d && ! -L /$d ]] && echo "/$d"
	done
	return 0
}

# oci_bundle DIR [OPTION]... -- CMD...
# Writes DIR/config.json (from `runc spec`) for runc and crun. The root is read-only and
# shared by the scenario's bundles: $WORK/rootfs (make_rootfs), unless --rootfs.
#   --annotation KEY=VALUE   add an annotation
#   --hook STAGE 'PATH ARG...'  add a hook (args[0] = PATH's basename, then ARGs; split on
#                            blanks); env PATH=/usr/sbin:/usr/bin:/sbin:/bin
#   --device PATH            add PATH to linux.devices (type, numbers, mode from the host node)
#   --allow PATH             add an allow rule (rwm) for PATH's device to linux.resources.devices
#   --rdma-dev N             both of the above for /dev/infiniband/uverbsN
#   --rdma-cm                both of the above for /dev/infiniband/rdma_cm
#   --memlock BYTES|unlimited   process.rlimits RLIMIT_MEMLOCK (soft = hard)
#   --host-net               no network namespace (share the guest's veth pair and IPs)
#   --bind SRC[:DST]         bind-mount SRC (a guest path) read-only at DST (default SRC)
#   --cgroup PATH            linux.cgroupsPath (default /crdma-vm/<basename DIR>)
#   --env KEY=VALUE          add to process.env
#   --rootfs DIR             root.path (made with make_rootfs if missing)
#   --jq FILTER              any other edit, applied last (jq filter on the config)
# The container's cgroup is /sys/fs/cgroup/<cgroupsPath>. config.json is also copied to
# $CRDMA_ARTIFACTS/<basename DIR>.config.json.
oci_bundle() {
	local dir=$1 name filter cg stage path t maj min mode memlock='' d rootfs=$WORK/rootfs
	shift
	name=${dir##*/}
	cg=/crdma-vm/$name
	local -a jqargs=() extra=() cmd=()
	# shellcheck disable=SC2016 # $name, $cg, $cmd, $rootfs are jq variables
	filter='.process.terminal = false | .hostname = $name'
	local n=0
	while (($#)); do
		case $1 in
		--annotation)
			jqargs+=(--arg "a$n" "$2")
			filter+=" | .annotations[\$a$n | sub(\"=.*\"; \"\")] = (\$a$n | sub(\"^[^=]*=\"; \"\"))"
			shift 2
			;;
		--hook)
			stage=$2
			read -ra t <<<"$3"
			path=${t[0]}
			jqargs+=(--arg "s$n" "$stage" --arg "p$n" "$path" --argjson "h$n" "$(json_array "$(basename "$path")" "${t[@]:1}")")
			filter+=" | .hooks[\$s$n] += [{path: \$p$n, args: \$h$n, env: [\"PATH=/usr/sbin:/usr/bin:/sbin:/bin\"]}]"
			shift 3
			;;
		--device | --allow)
			[[ -c $2 || -b $2 ]] || fail "oci_bundle $1 $2: not a device node in the guest"
			read -r t maj min mode < <(dev_numbers "$2")
			if [[ $1 == --device ]]; then
				filter+=" | .linux.devices += [{type: \"$t\", path: \"$2\", major: $maj, minor: $min, fileMode: $((8#$mode)), uid: 0, gid: 0}]"
			else
				filter+=" | .linux.resources.devices += [{allow: true, type: \"$t\", major: $maj, minor: $min, access: \"rwm\"}]"
			fi
			shift 2
			;;
		--rdma-dev)
			set -- --device "/dev/infiniband/uverbs$2" --allow "/dev/infiniband/uverbs$2" "${@:3}"
			continue
			;;
		--rdma-cm)
			set -- --device /dev/infiniband/rdma_cm --allow /dev/infiniband/rdma_cm "${@:2}"
			continue
			;;
		--memlock)
			if [[ $2 == unlimited ]]; then memlock='"@UINT64_MAX@"'; else memlock=$2; fi
			filter+=" | .process.rlimits = ([.process.rlimits[]? | select(.type != \"RLIMIT_MEMLOCK\")] + [{type: \"RLIMIT_MEMLOCK\", soft: $memlock, hard: $memlock}])"
			shift 2
			;;
		--host-net)
			filter+=' | .linux.namespaces |= map(select(.type != "network"))'
			shift
			;;
		--bind)
			jqargs+=(--arg "b$n" "${2%%:*}" --arg "d$n" "${2#*:}")
			filter+=" | .mounts += [{destination: \$d$n, type: \"bind\", source: \$b$n, options: [\"rbind\", \"ro\", \"nosuid\", \"nodev\"]}]"
			shift 2
			;;
		--cgroup)
			cg=$2
			shift 2
			;;
		--rootfs)
			rootfs=$2
			shift 2
			;;
		--env)
			jqargs+=(--arg "e$n" "$2")
			filter+=" | .process.env += [\$e$n]"
			shift 2
			;;
		--jq)
			extra+=("$2")
			shift 2
			;;
		--)
			shift
			cmd=("$@")
			break
			;;
		*) fail "oci_bundle: unknown option $1" ;;
		esac
		n=$((n + 1))
	done
	((${#cmd[@]})) || fail "oci_bundle: no command (oci_bundle DIR [OPTION]... -- CMD...)"
	for d in $(host_dir_binds); do
		filter+=" | .mounts += [{destination: \"$d\", type: \"bind\", source: \"$d\", options: [\"rbind\", \"ro\", \"nosuid\", \"nodev\"]}]"
	done
	# shellcheck disable=SC2016
	filter+=' | .root = {path: $rootfs, readonly: true} | .linux.cgroupsPath = $cg
		| .process.args = $cmd'
	for t in "${extra[@]}"; do filter+=" | ($t)"; done

	[[ -d $rootfs ]] || make_rootfs "$rootfs"
	[[ -f $WORK/.spec.json ]] || (cd "$WORK" && runc spec && mv config.json .spec.json)
	mkdir -p "$dir"
	jq --arg name "$name" --arg cg "$cg" --arg rootfs "$rootfs" \
		--argjson cmd "$(json_array "${cmd[@]}")" "${jqargs[@]}" "$filter" "$WORK/.spec.json" \
		>"$dir/config.json"
	[[ -z $memlock ]] || sed -i 's/"@UINT64_MAX@"/18446744073709551615/g' "$dir/config.json"
	cp "$dir/config.json" "$CRDMA_ARTIFACTS/$name.config.json"
}

# ------------------------------------------------------------------ runtimes
# The container's name is its bundle's basename (also the default cgroup's last component).
CONTAINERS=() # "runtime name" pairs, deleted at exit
# run_oci RUNTIME BUNDLE: run the container in the foreground (stdio passed through);
# returns its exit status (or the runtime's, when it could not start it).
run_oci() {
	CONTAINERS+=("$1 ${2##*/}")
	"$1" run --bundle "$2" "${2##*/}" </dev/null
}
run_crun() { run_oci crun "$@"; }
run_runc() { run_oci runc "$@"; }
# start_oci RUNTIME BUNDLE LOG: run it in the background, output to LOG, its pid in BG_PID
export BG_PID=
start_oci() {
	CONTAINERS+=("$1 ${2##*/}")
	"$1" run --bundle "$2" "${2##*/}" </dev/null >"$3" 2>&1 &
	BG_PID=$!
}
# hold_oci RUNTIME BUNDLE LOG [SECONDS]: start a container whose process reports "holding"
# when it holds what it opened (tools/crdma-vm-open --hold), and wait for that (or for it to
# fail: its log then says why); default 90 s. Its output so far in OUT.
hold_oci() {
	start_oci "$1" "$2" "$3"
	wait_for "$3" '^holding$|exited|rror|not found' "${4:-90}"
	OUT=$(cat "$3")
}
# no_manual_devices BUNDLE: the bundle itself grants no RDMA device (they come from crdma)
no_manual_devices() {
	jq -e '.linux.devices == null and ([.linux.resources.devices[] | select(.major == 231)] | length) == 0' \
		"$1/config.json" >/dev/null || fail "$1 grants RDMA devices by hand"
}
# bundle_cgroup BUNDLE: the guest path of the container's cgroup (from linux.cgroupsPath)
bundle_cgroup() { echo "/sys/fs/cgroup$(jq -r .linux.cgroupsPath "$1/config.json")"; }

# ------------------------------------------------------------------ podman
# Storage on the guest's tmpfs (the overlay root cannot hold overlay storage), no network,
# cgroupfs, events to a file; conmon's /dev/log stall avoided by not using --log-level debug.
PODMAN_ROOTFS=$WORK/podman-rootfs
podman_global=(--root "$WORK/podman/root" --runroot /run/crdma-vm-podman/"${CRDMA_SCENARIO:-x}"
	--cgroup-manager cgroupfs --events-backend file --storage-driver overlay)
# podman_run [--runtime crun|runc] [--hooks-dir DIR] [RUN-OPTION]... -- CMD...
# `podman run --rm --network none RUN-OPTION... -v /usr:/usr:ro --rootfs $PODMAN_ROOTFS CMD`
podman_run() {
	local -a g=("${podman_global[@]}") opts=() cmd=()
	local d
	while (($#)); do
		case $1 in
		--runtime | --hooks-dir)
			g+=("$1" "$2")
			shift 2
			;;
		--)
			shift
			cmd=("$@")
			break
			;;
		*)
			opts+=("$1")
			shift
			;;
		esac
	done
	((${#cmd[@]})) || fail "podman_run: no command (podman_run [OPTION]... -- CMD...)"
	[[ -d $PODMAN_ROOTFS ]] || make_rootfs "$PODMAN_ROOTFS"
	for d in $(host_dir_binds); do opts+=(-v "$d:$d:ro"); done
	podman "${g[@]}" run --rm --network none "${opts[@]}" --rootfs "$PODMAN_ROOTFS" "${cmd[@]}" </dev/null
}
# podman_cmd ARGS...: any other podman command with the same storage (ps, inspect, ...)
podman_cmd() { podman "${podman_global[@]}" "$@"; }

# ------------------------------------------------------------------ Docker and containerd
# Debian 12's Docker (20.10) and containerd (1.6), state on the guest's tmpfs, no network
# set-up (`--network none` or `host`), cgroupfs. The CLIs: D (docker) and C (ctr, namespace
# crdma-vm), both on this scenario's sockets; /usr/bin/docker, not a newer client that a
# machine may have in /usr/local/bin.
ENGINES_RUN=/run/crdma-vm-engines
D() { /usr/bin/docker -H "unix://$ENGINES_RUN/docker.sock" "$@"; }
C() { ctr -a "$ENGINES_RUN/containerd.sock" -n crdma-vm "$@"; }
# until_ok SECONDS CMD...: retry CMD every 0.5 s until it succeeds; fail after SECONDS
until_ok() {
	local end=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		((SECONDS < end)) || fail "waited $1 s for: $*"
		sleep 0.5
	done
}
# engines_start [NAME PATH [ARG...]]: containerd, then dockerd with the OCI runtime NAME
# (daemon.json "runtimes": PATH, runtimeArgs ARG...) besides runc; $WORK/daemon.json.
# engines_stop (for an EXIT trap): every container removed, both daemons stopped.
engines_start() {
	local c
	for c in /usr/bin/docker /usr/sbin/dockerd /usr/bin/containerd /usr/bin/ctr; do
		[[ -x $c ]] || fail "$c is missing: scripts/install-deps.sh vm installs docker.io and containerd"
	done
	mkdir -p "$ENGINES_RUN" "$WORK/docker" "$WORK/containerd"
	local rt='{}'
	if (($#)); then
		rt=$(jq -n --arg name "$1" --arg path "$2" --argjson args "$(json_array "${@:3}")" \
			'{($name): {path: $path, runtimeArgs: $args}}')
	fi
	jq -n --argjson rt "$rt" '{
		"iptables": false, "bridge": "none", "exec-opts": ["native.cgroupdriver=cgroupfs"],
		"storage-driver": "overlay2", "runtimes": $rt}' >"$WORK/daemon.json"
	containerd -a "$ENGINES_RUN/containerd.sock" --root "$WORK/containerd" \
		--state "$ENGINES_RUN/containerd" >"$WORK/containerd.log" 2>&1 &
	ENGINES_CONTAINERD=$!
	until_ok 30 test -S "$ENGINES_RUN/containerd.sock"
	dockerd --containerd "$ENGINES_RUN/containerd.sock" --config-file "$WORK/daemon.json" \
		--data-root "$WORK/docker" --exec-root "$ENGINES_RUN/exec" \
		--pidfile "$ENGINES_RUN/docker.pid" -H "unix://$ENGINES_RUN/docker.sock" \
		>"$WORK/dockerd.log" 2>&1 &
	ENGINES_DOCKERD=$!
	until_ok 90 D info
}
# etc_policy_install FILE: FILE as /etc/crdma/policy.json, the default path (for ctr, which passes
# the shim no arguments); etc_policy_restore (for an EXIT trap) puts back what was there. /etc
# is the guest's overlay: the host's file is never touched.
etc_policy_install() {
	mkdir -p /etc/crdma
	[[ ! -e /etc/crdma/policy.json ]] || cp -a /etc/crdma/policy.json "$WORK/etc-policy.json"
	cp "$1" /etc/crdma/policy.json
}
etc_policy_restore() {
	if [[ -e $WORK/etc-policy.json ]]; then
		cp -a "$WORK/etc-policy.json" /etc/crdma/policy.json
	else
		rm -f /etc/crdma/policy.json
	fi
}
engines_stop() {
	local ids
	ids=$(D ps -aq 2>/dev/null) || true
	# shellcheck disable=SC2086 # one id per word
	[[ -z $ids ]] || D rm -f $ids >/dev/null 2>&1 || true
	[[ -z ${ENGINES_DOCKERD:-} ]] || { kill "$ENGINES_DOCKERD" 2>/dev/null; wait "$ENGINES_DOCKERD" 2>/dev/null; }
	[[ -z ${ENGINES_CONTAINERD:-} ]] || { kill "$ENGINES_CONTAINERD" 2>/dev/null; wait "$ENGINES_CONTAINERD" 2>/dev/null; }
	cp "$WORK"/dockerd.log "$WORK"/containerd.log "$CRDMA_ARTIFACTS/" 2>/dev/null || true
	lib_cleanup
}
# engines_image NAME: a make_rootfs rootfs imported offline as Docker image NAME (run it
# with the guest's /usr bound read-only: `-v /usr:/usr:ro`, plus host_dir_binds)
engines_image() {
	make_rootfs "$WORK/engines-rootfs"
	tar -C "$WORK/engines-rootfs" -c . | D import - "$1" >/dev/null
}

# ------------------------------------------------------------------ network
# veth_ips: 192.168.77.1/24 on veth0 (rxe0) and .2/24 on veth1 (rxe1); idempotent.
veth_ips() {
	ip addr replace "$VETH0_IP/24" dev veth0
	ip addr replace "$VETH1_IP/24" dev veth1
}

# ------------------------------------------------------------------ cleanup
lib_cleanup() {
	local c rt name
	for c in "${CONTAINERS[@]}"; do
		read -r rt name <<<"$c"
		"$rt" delete -f "$name" >/dev/null 2>&1 || true
	done
	if [[ -d $WORK/podman ]]; then
		podman_cmd rm -af -t 0 >/dev/null 2>&1 || true
	fi
	# the test devices go with the scenario that loaded them, wherever they are
	if ((${TESTDEV_LOADED:-0})); then
		rmmod crdma_testdev >/dev/null 2>&1 || true
	fi
}
trap lib_cleanup EXIT

# ------------------------------------------------------------------ RDMA netns mode
# netns_mode_set MODE: `crdma-hook system netns-mode MODE`, waiting out the kernel's
# asynchronous teardown of namespaces just deleted (EBUSY until their pernet exit has run);
# asserts success, and on failure shows which namespaces are still around.
netns_mode_set() {
	local i
	for i in $(seq 40); do
		capture "$CRDMA_HOOK" system netns-mode "$1"
		[[ $RC == 1 && $OUT == *"other network namespaces exist"* ]] || break
		sleep 0.5
	done
	note "after $i attempt(s):"
	show
	if [[ $RC != 0 ]]; then
		note "network namespaces still around:"
		ip netns list | sed 's/^/   | /' || true
		lsns -t net 2>/dev/null | sed 's/^/   | /' || true
		grep nsfs /proc/self/mountinfo | sed 's/^/   | /' || true
	fi
	assert_eq 0 "$RC" "crdma-hook system netns-mode $1: exit status"
	assert_eq "netns mode: $1" "$OUT" "crdma-hook system netns-mode $1: output"
}
# netns_mode_restore: back to shared whatever happened (for an EXIT trap), then lib_cleanup
netns_mode_restore() {
	local i
	for i in $(seq 40); do
		"$CRDMA_HOOK" system netns-mode shared >/dev/null 2>&1 && break
		sleep 0.5
	done
	lib_cleanup
}

# ------------------------------------------------------------------ the test RDMA device
# crdma_testdev.ko (tests/vm/testdev): test-only RDMA devices crdmatest0..N-1 that, unlike rxe,
# can move between network namespaces (in exclusive mode). They have no data path: no
# libibverbs provider lists them; open(2) on their uverbs node is what a test can do.
#   testdev_load [N]   insmod $CRDMA_VM_TESTDEV devices=N (default 2) and wait until every
#                      crdmatestI and its uverbs node exist; fails (never skips) without the
#                      module ("# vm-needs: testdev"). The scenario's exit unloads it
#                      (lib_cleanup), wherever its devices are then, unless testdev_keep;
#                      loaded already (a testdev_keep before), it checks the devices are back.
#   testdev_unload     rmmod it now; fails unless it and its devices are gone.
#   uverbs_of DEV [NETNS]   the /dev/infiniband/uverbsN of RDMA device DEV, looked up in the
#                      sysfs of network namespace NETNS (`ip netns exec`; default: ours);
#                      status 1 and no output when DEV has none.
TESTDEV_LOADED=0
uverbs_scan() { # uverbs_scan DEV: uverbs_of in this process's own sysfs view
	local f x
	for f in /sys/class/infiniband_verbs/uverbs*/ibdev; do
		[[ -r $f ]] || continue
		read -r x <"$f" 2>/dev/null || continue
		[[ $x == "$1" ]] || continue
		f=${f%/ibdev}
		echo "/dev/infiniband/${f##*/}"
		return 0
	done
	return 1
}
uverbs_of() {
	if [[ -n ${2:-} ]]; then
		# shellcheck disable=SC2016 # $1 is the inner shell's
		ip netns exec "$2" bash -c "$(declare -f uverbs_scan)"'; uverbs_scan "$1"' _ "$1"
	else
		uverbs_scan "$1"
	fi
}
testdev_load() {
	local n=${1:-2} i d node end
	[[ -n ${CRDMA_VM_TESTDEV:-} ]] ||
		fail "no crdma_testdev.ko in this run: the scenario needs a '# vm-needs: testdev' line (tests/vm/run builds the module then)"
	[[ -f $CRDMA_VM_TESTDEV ]] || fail "CRDMA_VM_TESTDEV=$CRDMA_VM_TESTDEV does not exist"
	if [[ -d /sys/module/crdma_testdev ]]; then
		# Left loaded by a scenario that called testdev_keep: its devices must be back.
		for ((i = 0; i < n; i++)); do
			[[ -e /sys/class/infiniband/crdmatest$i ]] ||
				fail "crdma_testdev is loaded already, without crdmatest$i in this namespace"
		done
		note "crdma_testdev is loaded already (testdev_keep): its $n devices are here"
		return 0
	fi
	capture insmod "$CRDMA_VM_TESTDEV" "devices=$n"
	[[ $RC == 0 ]] || fail "insmod $CRDMA_VM_TESTDEV devices=$n: exit $RC: $OUT; kernel: $(dmesg | tail -n 5)"
	TESTDEV_LOADED=1
	note "insmod $CRDMA_VM_TESTDEV devices=$n"
	for ((i = 0; i < n; i++)); do
		d=crdmatest$i
		end=$((SECONDS + 10))
		until [[ -e /sys/class/infiniband/$d ]] && node=$(uverbs_of "$d") && [[ -c $node ]]; do
			((SECONDS < end)) || fail "$d or its uverbs node did not appear within 10 s (kernel: $(dmesg | tail -n 5))"
			sleep 0.2
		done
		note "$d: $node"
	done
}
# testdev_keep: leave the module loaded at exit. A device whose rdma.max a container's cgroup
# set must not unregister after that cgroup is gone: Debian's 6.1 kernel then hits
# "kernel BUG at lib/list_debug.c" in rdmacg_unregister_device (the dead cgroup's resource
# pool is still on the device's list), seen in tests/vm 61-exclusive-move.
testdev_keep() { TESTDEV_LOADED=0; }
# testdev_in_host [DEV]: DEV (default crdmatest0) is in the guest's own network namespace (its
# sysfs entry and `rdma dev`); testdev_back WHAT [DEV]: wait up to 15 s for that, or fail
# saying DEV did not come back after WHAT
testdev_in_host() {
	local d=${1:-crdmatest0}
	[[ -e /sys/class/infiniband/$d ]] && rdma dev show "$d" >/dev/null 2>&1
}
testdev_back() {
	local d=${2:-crdmatest0} end=$((SECONDS + 15))
	until testdev_in_host "$d"; do
		((SECONDS < end)) || fail "$1: $d did not come back to the host's namespace"
		sleep 0.2
	done
	ok "$1: $d is back in the host's namespace"
}
testdev_unload() {
	capture rmmod crdma_testdev
	[[ $RC == 0 ]] || fail "rmmod crdma_testdev: exit $RC: $OUT"
	TESTDEV_LOADED=0
	[[ ! -d /sys/module/crdma_testdev ]] || fail "crdma_testdev is still loaded after rmmod"
	note "rmmod crdma_testdev"
}

# ------------------------------------------------------------------ siw
# siw_load (# vm-needs: siw): Soft-iWARP's module, built for this kernel from its own source,
# after what it needs from the kernel's modules (libcrc32c), from the cached kernel tree.
# It stays loaded: its links go with the namespaces the scenario deletes.
siw_load() {
	[[ -n ${CRDMA_VM_SIW:-} ]] ||
		fail "no siw.ko in this run: the scenario needs a '# vm-needs: siw' line (tests/vm/run builds the module then)"
	[[ -d /sys/module/siw ]] && return 0
	capture modprobe -d "$CRDMA_VM_MODROOT" -S "$CRDMA_VM_KVER" libcrc32c
	[[ $RC == 0 ]] || fail "modprobe libcrc32c (from $CRDMA_VM_MODROOT): exit $RC: $OUT"
	capture insmod "$CRDMA_VM_SIW"
	[[ $RC == 0 ]] || fail "insmod $CRDMA_VM_SIW: exit $RC: $OUT; kernel: $(dmesg | tail -n 5)"
	note "insmod $CRDMA_VM_SIW"
}

# ------------------------------------------------------------------ perftest
# The one perftest pair of tests/vm, the demo and bench/vm: a server on rxe0, a client on
# rxe1, over the link-local GIDs (05-perftest says why), the TCP exchange to VETH0_IP.
# Every client starts PERF_SETTLE seconds (default 1) after its server listens, containers
# and host processes alike: under TCG an early client is held back by its server, and a
# container client starts later than a plain one (bench/vm/51 saw ib_send_bw 1.43:1 in the
# containers' favour, and the host pair's double, without it).
#   perftest_pair TEST PORT ITERS [ARG...]: the server in a runc container, the client in a
#     crun one; their bundles get the oci_bundle options in PERF_SERVER and PERF_CLIENT (how
#     each gets its RDMA device), their commands the prefix PERF_WRAP (e.g. a shell that
#     shows what the container sees first); PERF_ON_LISTEN, if set, is called with the
#     server's bundle once it listens.
#   perftest_host_pair TEST PORT ITERS [ARG...]: the same two sides as plain processes.
# ARG... go to both sides (e.g. -s 65536). Both set SERVER and CLIENT (the outputs, also
# shown as "   | " lines) and fail unless both sides exit 0.
PERF_SERVER=() PERF_CLIENT=() PERF_WRAP=() PERF_ON_LISTEN=
PERF_SETTLE=${PERF_SETTLE:-1}
perftest_args() { # perftest_args SIDE TEST PORT ITERS [ARG...]: one side's command line
	local side=$1 test=$2 port=$3 iters=$4 g
	shift 4
	if [[ $side == server ]]; then
		g=$(gid_index_ll rxe0) || fail "rxe0 has no link-local GID"
		PERF_CMD=("$test" -d rxe0 -x "$g" -p "$port" -n "$iters" "$@" -F)
	else
		g=$(gid_index_ll rxe1) || fail "rxe1 has no link-local GID"
		PERF_CMD=("$test" -d rxe1 -x "$g" -p "$port" -n "$iters" "$@" -F "$VETH0_IP")
	fi
}
perftest_show() {
	printf '%s\n' "--- server ($1, rxe0):" "$SERVER" "--- client ($2, rxe1):" "$CLIENT" | sed 's/^/   | /'
}
perftest_pair() {
	local test=$1 port=$2 s=$WORK/$1-server-$2 c=$WORK/$1-client-$2 spid crc src=0
	perftest_args server "$@"
	oci_bundle "$s" --host-net "${PERF_SERVER[@]}" -- "${PERF_WRAP[@]}" "${PERF_CMD[@]}"
	perftest_args client "$@"
	oci_bundle "$c" --host-net "${PERF_CLIENT[@]}" -- "${PERF_WRAP[@]}" "${PERF_CMD[@]}"
	start_oci runc "$s" "$WORK/$test-server.log"
	spid=$BG_PID
	wait_listen "$port" 60
	[[ -z $PERF_ON_LISTEN ]] || "$PERF_ON_LISTEN" "$s"
	sleep "$PERF_SETTLE"
	capture run_crun "$c"
	CLIENT=$OUT crc=$RC
	wait "$spid" || src=$?
	SERVER=$(cat "$WORK/$test-server.log")
	perftest_show "runc" "crun"
	assert_eq 0 "$crc" "$test client exit status"
	assert_eq 0 "$src" "$test server exit status"
}
perftest_host_pair() {
	local test=$1 port=$2 spid crc src=0
	perftest_args server "$@"
	"${PERF_CMD[@]}" >"$WORK/$test-host-server.log" 2>&1 &
	spid=$!
	wait_listen "$port" 60
	sleep "$PERF_SETTLE"
	perftest_args client "$@"
	capture "${PERF_CMD[@]}"
	CLIENT=$OUT crc=$RC
	wait "$spid" || src=$?
	SERVER=$(cat "$WORK/$test-host-server.log")
	perftest_show "host process" "host process"
	assert_eq 0 "$crc" "host $test client exit status"
	assert_eq 0 "$src" "host $test server exit status"
}
