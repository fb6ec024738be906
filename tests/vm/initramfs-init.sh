#!/bin/busybox sh
# shellcheck shell=dash
# /init of the crdma test initramfs (built by tests/vm/run; its hash keys the cache).
# Loads the modules (with their MODULE.PARAM=VALUE kernel arguments), mounts the host's root
# (9p, read-only) under a tmpfs overlay, mounts the writable results share at the same path as
# on the host, and switch_roots into tests/vm/guest-init.sh (named in the run directory's
# run.conf).
/bin/busybox mkdir -p /proc /sys /dev
/bin/busybox --install -s /bin
export PATH=/bin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

halt_now() {
	echo "crdma-vm-init: $*" >/dev/console
	echo "@@crdma-vm init-failed $*" >/dev/console
	sync
	poweroff -f
	echo o >/proc/sysrq-trigger
	sleep 5
	echo b >/proc/sysrq-trigger
}

read -r cmdline </proc/cmdline
# Module parameters on the kernel command line, MODULE.PARAM=VALUE, go to that module's
# insmod, as modprobe would do (busybox's insmod does not read /proc/cmdline): tests/vm/run
# boots the scenarios that need exclusive mode with ib_core.netns_mode=0. MODULE is the
# .ko file's name. None on the line (every other boot): plain insmod, as always.
modargs() { # modargs MODULE -> $margs
	margs=
	for arg in $cmdline; do
		case $arg in
		"$1".?*=*) margs="$margs ${arg#"$1".}" ;;
		esac
	done
}
while read -r m; do
	modargs "${m%.ko}"
	# shellcheck disable=SC2086 # margs: one word per parameter
	insmod "/lib/modules/$m" $margs || halt_now "insmod $m$margs failed"
done </modules.order

out=
for arg in $cmdline; do
	case $arg in
	crdma.out=*) out=${arg#crdma.out=} ;;
	esac
done
[ -n "$out" ] || halt_now "no crdma.out= on the kernel command line"

p9='trans=virtio,version=9p2000.L,msize=262144'
mkdir -p /lower /rw /newroot
mount -t 9p -o "$p9,ro,cache=loose" hostroot /lower || halt_now "cannot mount the host root (9p)"
mount -t tmpfs -o mode=0755 tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot ||
	halt_now "cannot mount the overlay root"
mkdir -p "/newroot$out"
mount -t 9p -o "$p9" crdmaout "/newroot$out" || halt_now "cannot mount the results share"
[ -f "/newroot$out/run.conf" ] || halt_now "no run.conf in $out"
guest_init=$(sed -n 's/^GUEST_INIT=//p' "/newroot$out/run.conf")
[ -x "/newroot$guest_init" ] || halt_now "guest init $guest_init is not executable"

mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
mount --move /dev /newroot/dev
exec switch_root /newroot "$guest_init" "$out"
