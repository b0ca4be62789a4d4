#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# vm.sh - QEMU test bed: fetch Debian's generic kernel, boot it, run one command
#
# Exit status of "run": the command's own, 124 when the VM did not boot, did
# not report a status or timed out, 125 when it could not be set up (no
# kernel, no bpfd), 2 on a usage error.  See tests/vm/README.
set -eu

here=$(cd "$(dirname "$0")" && pwd -P)
root=$(cd "$here/../.." && pwd -P)
VM_CACHE=${VM_CACHE:-/var/cache/bpfd-vm}
VM_BUILD=${VM_BUILD:-${BPFD_BUILD:-$root/build}/vm}
BUSYBOX=${BUSYBOX:-/bin/busybox}

# Loaded with insmod in this order (dependencies from modules.dep go first);
# a name the kernel builds in, or lacks, is logged and skipped.
FULL_MODULES=(virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev
	      virtio_pci netfs fscache 9pnet 9pnet_virtio 9p
	      veth dummy sch_ingress cls_bpf act_bpf)
MINIMAL_MODULES=(veth dummy sch_ingress cls_bpf act_bpf)
# loglevel=1: only KERN_EMERG (a panic) reaches the console
CMDLINE="console=ttyS0 quiet loglevel=1 panic=-1"
nokernel="no kernel: none could be fetched, none is cached in $VM_CACHE"

usage()
{
	cat <<'EOF'
usage: vm.sh fetch
       vm.sh run [--mode full|minimal] [--timeout SECONDS] [--share DIR]...
                 [--env K[=V]]... [--file PATH]... [--log FILE] -- CMD [ARG]...

fetch    download and unpack Debian's current generic amd64 kernel into
         $VM_CACHE (default /var/cache/bpfd-vm); instant when cached
run      boot it under QEMU and run CMD; its output goes to stdout, the
         exit status is CMD's (124: boot failure or timeout)

  --mode full     host root read-only over 9p, CMD runs chrooted in it in
                  the current directory (default)
  --mode minimal  initramfs with only busybox, modules, $BPFD (default
                  build/bpfd) and CMD, a busybox sh script if it is a file
  --share DIR     writable 9p share at the same path in the guest (full
                  mode; repeatable; default: the repository when the
                  current directory is in it, else the current directory)
  --env K=V       set K in CMD's environment; --env K copies the host's K
  --file PATH     also copy PATH into /test in the initramfs (minimal mode)
  --timeout SEC   kill the VM after SEC seconds (default 600)
  --log FILE      full console log (default build/vm/MODE.log)
EOF
}

msg() { echo "vm: $*" >&2; }
die() { local st=$1; shift; msg "$*"; exit "$st"; }

# quote for sh: 'it'\''s'
q() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }

is_static() { ! LC_ALL=C readelf -l "$1" 2>/dev/null | grep -q interpreter; }

# --- fetch -----------------------------------------------------------------

# The package linux-image-amd64 depends on; remembered until apt's lists
# change, since apt-cache takes most of a second.
apt_pick()
{
	local memo=$VM_CACHE/.resolved lists=/var/lib/apt/lists

	if [ -s "$memo" ] && [ "$memo" -nt "$lists" ]; then
		cat "$memo"
		return 0
	fi
	apt-cache depends linux-image-amd64 2>/dev/null | awk '
		$1 == "Depends:" && $2 ~ /^linux-image-[0-9].*-amd64$/ &&
		$2 !~ /cloud/ { print $2; exit }' | tee "$memo"
}

kernel_download()	# PKG VERSION DIR
{
	local tmp

	tmp=$(mktemp -d "$VM_CACHE/.fetch.XXXXXX")
	msg "downloading $1"
	if ! (cd "$tmp" && apt-get download "$1") >"$tmp/apt.log" 2>&1; then
		msg "apt-get download $1 failed: $(grep -m 1 '^E:' "$tmp/apt.log" ||
			tail -n 1 "$tmp/apt.log")"
		rm -rf "$tmp"
		return 1
	fi
	if ! dpkg-deb -x "$tmp"/*.deb "$tmp/root" ||
	   ! depmod -b "$tmp/root" "$2"; then
		msg "cannot unpack $1 (dpkg-deb -x, depmod)"
		rm -rf "$tmp"
		return 1
	fi
	if [ ! -f "$tmp/root/boot/vmlinuz-$2" ] ||
	   ! grep -q '/9p\.ko' "$tmp/root/lib/modules/$2/modules.dep"; then
		msg "$1 has no kernel image or no 9p module (a -cloud- flavour?)"
		rm -rf "$tmp"
		return 1
	fi
	rm -rf "$3"
	mv "$tmp/root" "$3"
	touch "$3/.stamp"
	rm -rf "$tmp"
	# keep only the kernel just fetched
	find "$VM_CACHE" -mindepth 1 -maxdepth 1 -type d ! -name '.*' \
		! -path "$3" -exec rm -rf {} +
}

# Sets kver and kdir.  Returns 1 when no kernel can be had (no network).
kernel_fetch()
{
	local pkg="" newest

	mkdir -p "$VM_CACHE" || { msg "cannot create $VM_CACHE"; return 1; }
	exec 8>"$VM_CACHE/.lock"
	flock 8
	if [ -n "${VM_KERNEL:-}" ]; then
		pkg=linux-image-$VM_KERNEL
	else
		pkg=$(apt_pick)
		if [ -z "$pkg" ]; then
			apt-get update -qq >/dev/null 2>&1 || true
			pkg=$(apt_pick)
		fi
	fi
	if [ -n "$pkg" ]; then
		kver=${pkg#linux-image-}
		kdir=$VM_CACHE/$kver
		if [ -f "$kdir/.stamp" ] ||
		   kernel_download "$pkg" "$kver" "$kdir"; then
			exec 8>&-
			return 0
		fi
	else
		msg "apt-cache depends linux-image-amd64 names no generic kernel"
	fi
	exec 8>&-
	newest=$(find "$VM_CACHE" -mindepth 2 -maxdepth 2 -name .stamp |
		 sort -V | tail -n 1)
	[ -n "$newest" ] || return 1
	kdir=${newest%/.stamp}
	kver=${kdir##*/}
	msg "using the cached kernel $kver instead"
}

# Sets kimg to the kernel to boot: the uncompressed vmlinux, made once from
# the xz-compressed bzImage, boots through PVH about 2.5 s faster under
# emulation than the bzImage, which decompresses itself.  VM_PVH=0: bzImage.
kernel_image()
{
	local bz=$kdir/boot/vmlinuz-$kver out=$kdir/vmlinux off

	kimg=$bz
	[ "${VM_PVH:-1}" != 0 ] || return 0
	if [ ! -f "$out" ] && [ ! -f "$out.none" ]; then
		off=$(LC_ALL=C grep -obUaP -m 1 '\xfd7zXZ\x00' "$bz" |
		      head -n 1 | cut -d: -f1)
		if [ -n "$off" ] &&
		   tail -c +"$((off + 1))" "$bz" |
		   xz -dc --single-stream >"$out.$$" 2>/dev/null &&
		   LC_ALL=C readelf -n "$out.$$" 2>/dev/null |
		   grep -q 'note type: (0x00000012)'; then	# PHYS32_ENTRY
			mv -f "$out.$$" "$out"
		else
			msg "no PVH vmlinux in $bz: booting the bzImage"
			rm -f "$out.$$"
			touch "$out.none"
		fi
	fi
	[ ! -f "$out" ] || kimg=$out
}

# --- initramfs ---------------------------------------------------------------

# Print, in load order, the modules of the fetched kernel that provide the
# names in $@ and their dependencies; log the ones built in or missing.
mod_order()
{
	local mdir=$kdir/lib/modules/$kver line key n
	local -A path=() deps=() seen=()

	while IFS= read -r line; do
		key=${line%%:*}
		n=${key##*/}
		n=${n%%.ko*}
		n=${n//-/_}
		path[$n]=$key
		deps[$n]=${line#*:}
	done <"$mdir/modules.dep"

	visit()
	{
		local m=$1 dep
		[ -z "${seen[$m]:-}" ] || return 0
		seen[$m]=1
		for dep in ${deps[$m]}; do
			dep=${dep##*/}
			dep=${dep%%.ko*}
			visit "${dep//-/_}"
		done
		echo "$m ${path[$m]}"
	}
	for n in "$@"; do
		n=${n//-/_}
		if [ -n "${path[$n]:-}" ]; then
			visit "$n"
		elif tr - _ <"$mdir/modules.builtin" | grep -q "/$n\.ko$"; then
			msg "module $n: built into $kver"
		else
			msg "module $n: not in kernel $kver, skipped"
		fi
	done
}

# stage DIR INIT MODULE...: the common part of both images
stage()
{
	local dir=$1 init=$2 n p

	shift 2
	mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,lib/vm-modules} \
		 "$dir"/{etc,proc,sys,dev,tmp,run}
	cp "$BUSYBOX" "$dir/bin/busybox"
	cp "$init" "$dir/init"
	chmod 755 "$dir/init"
	mod_order "$@" | while read -r n p; do
		cp "$kdir/lib/modules/$kver/$p" "$dir/lib/vm-modules/$n.ko"
		echo "$n" >>"$dir/lib/vm-modules/order"
	done
	touch "$dir/lib/vm-modules/order"
}

pack()	# DIR OUT
{
	(cd "$1" && find . | LC_ALL=C sort |
	 cpio -o -H newc -R 0:0 --quiet) | gzip -6 >"$2.tmp.$$"
	mv -f "$2.tmp.$$" "$2"
}

# Sets initrd to the cached full-mode image, rebuilt when an input changed.
initrd_full()
{
	local key stg

	key=$({ echo "$kver"; cat "$0" "$here/init-full" "$BUSYBOX"; } |
	      sha256sum | cut -d' ' -f1)
	initrd=$VM_BUILD/full-initrd.img
	if [ -f "$initrd" ] && [ "$(cat "$initrd.key" 2>/dev/null)" = "$key" ]; then
		return 0
	fi
	msg "building $initrd"
	stg=$(mktemp -d "$VM_BUILD/stage.XXXXXX")
	stage "$stg" "$here/init-full" "${FULL_MODULES[@]}"
	tr '\n' ' ' <"$stg/lib/vm-modules/order" >"$VM_BUILD/full-modules.txt"
	pack "$stg" "$initrd"
	rm -rf "$stg"
	echo "$key" >"$initrd.key"
}

# --- run -------------------------------------------------------------------

# Copy the console to the log; stream what CMD prints to stdout, vm-init
# messages to stderr; the status marker goes to file $2.
# A guest whose kernel reports a soft lockup three times (a vCPU stuck for
# a minute or more) never recovers: stop it then rather than at --timeout.
stream()	# LOG STATUSFILE PIDFILE LOCKUPFILE
{
	local awk=awk

	command -v mawk >/dev/null && awk="mawk -W interactive"
	# shellcheck disable=SC2016 # awk's own $0
	$awk -v logf="$1" -v stf="$2" -v pidf="$3" -v lockf="$4" '
	{
		sub(/\r$/, "")
		print >logf
		if ($0 ~ /watchdog: BUG: soft lockup/ && ++lockups == 3) {
			print $0 >lockf
			close(lockf)
			system("kill $(cat \"" pidf "\") 2>/dev/null")
		}
		if (done)
			next
		if ($0 ~ /^(vm-init|qemu-system-x86_64): /) {
			print >"/dev/stderr"
			next
		}
		if (!started) {
			if (index($0, "@@VM-CMD-START@@"))
				started = 1
			next
		}
		if ((i = index($0, "@@VM-EXIT-STATUS=")) > 0) {
			if (i > 1)
				print substr($0, 1, i - 1)
			s = substr($0, i + 17)
			sub(/@@.*/, "", s)
			print s >stf
			close(stf)
			done = 1
			fflush()
			next
		}
		print
		fflush()
	}'
}

# write_cmd FILE CWD ARGV...: the script CMD runs from (CWD may be empty)
write_cmd()
{
	local f=$1 cwd=$2 e a

	shift 2
	{
		[ -z "$cwd" ] || printf 'cd %s || exit 125\n' "$(q "$cwd")"
		for e in "${envs[@]}"; do
			printf 'export %s\n' "$(q "$e")"
		done
		printf 'exec'
		for a in "$@"; do
			printf ' %s' "$(q "$a")"
		done
		printf '\n'
	} >"$f"
}

setup_full()	# ARGV...
{
	local cwd s i=0 inside="" first=""
	local p9=security_model=none,multidevs=remap

	initrd_full
	cwd=$(pwd -P)
	# default share: this repository when we are in it, else the directory
	if [ ${#shares[@]} -eq 0 ]; then
		case $cwd/ in "$root"/*) shares=("$root") ;; *) shares=("$cwd") ;; esac
	fi
	{
		echo "vm_nshares=${#shares[@]}"
		for s in "${shares[@]}"; do
			[ -d "$s" ] || die 2 "--share $s: no such directory"
			s=$(cd "$s" && pwd -P)
			echo "vm_share$i=$(q "$s")"
			qemu+=(-virtfs "local,path=${s//,/,,},mount_tag=work$i,$p9")
			case $cwd/ in "$s"/*) inside=1 ;; esac
			[ "$i" -gt 0 ] || first=$s
			i=$((i + 1))
		done
		echo "vm_moddir=$(q "$kdir/lib/modules/$kver")"
	} >"$ctl/config"
	[ -n "$inside" ] || cwd=$first
	write_cmd "$ctl/cmd" "$cwd" "$@"
	qemu+=(-initrd "$initrd"
	       -virtfs "local,path=/,mount_tag=hostroot,$p9,readonly=on"
	       -virtfs "local,path=${ctl//,/,,},mount_tag=ctl,$p9")
}

setup_minimal()	# ARGV...
{
	local bpfd=${BPFD:-$root/build/bpfd} stg=$ctl/stage f

	[ -f "$bpfd" ] || die 125 "no $bpfd: build it first (make), or set BPFD"
	is_static "$bpfd" ||
		msg "warning: $bpfd is dynamically linked: it will not run here"
	stage "$stg" "$here/init-minimal" "${MINIMAL_MODULES[@]}"
	cp "$bpfd" "$stg/usr/bin/bpfd"
	# an embedded host's boot: inittab, rcS, and bpfd's own SysV/busybox init script
	cp -R "$here/minimal/rootfs/." "$stg/"
	cp "$root/dist/bpfd.init" "$stg/etc/init.d/bpfd"
	chmod 755 "$stg/etc/init.d/bpfd"
	mkdir -p "$stg/test"
	for f in "${files[@]}"; do
		cp -r "$f" "$stg/test/"
	done
	if [ -f "$1" ]; then
		cp "$1" "$stg/test/"
		f=/test/${1##*/}
		shift
		set -- sh "$f" "$@"
	fi
	write_cmd "$stg/test/.cmd" "" "$@"
	initrd=$VM_BUILD/minimal-initrd.img.$$
	pack "$stg" "$initrd"
	rm -rf "$stg"
	qemu+=(-initrd "$initrd")
}

cmd_run()
{
	local mode=full tmo=600 log="" start rc st="" sig="" pid
	local -a shares=() envs=() files=() qemu=()

	while [ $# -gt 0 ]; do
		case $1 in
		--) shift; break ;;
		-h|--help) usage; exit 0 ;;
		--*=*) set -- "${1%%=*}" "${1#*=}" "${@:2}"; continue ;;
		--mode|--timeout|--share|--env|--file|--log)
			[ $# -ge 2 ] || die 2 "$1 needs an argument" ;;
		*) usage >&2; exit 2 ;;
		esac
		case $1 in
		--mode) mode=$2 ;;
		--timeout) tmo=$2 ;;
		--share) shares+=("$2") ;;
		--log) log=$2 ;;
		--file)
			[ -e "$2" ] || die 2 "--file $2: not found"
			files+=("$2") ;;
		--env)
			case $2 in
			[A-Za-z_]*=*) envs+=("$2") ;;
			*=*) die 2 "--env $2: bad variable name" ;;
			*) [ -z "${!2+x}" ] || envs+=("$2=${!2}") ;;
			esac ;;
		esac
		shift 2
	done
	[ $# -gt 0 ] || die 2 "run: no command (vm.sh run [OPTIONS] -- CMD)"
	case $mode in full|minimal) ;; *) die 2 "--mode $mode: full or minimal" ;; esac
	case $tmo in ''|*[!0-9]*) die 2 "--timeout $tmo: not a number" ;; esac

	kernel_fetch || die 125 "$nokernel"
	kernel_image
	mkdir -p "$VM_BUILD"
	VM_BUILD=$(cd "$VM_BUILD" && pwd -P)
	[ -n "$log" ] || log=$VM_BUILD/$mode.log
	ctl=$(mktemp -d "$VM_BUILD/run.XXXXXX")
	trap 'rm -rf "$ctl" "$VM_BUILD/minimal-initrd.img.$$"' EXIT

	qemu=(qemu-system-x86_64 -m "${VM_MEM:-2048}" -smp "${VM_SMP:-2}"
	      -nodefaults -no-user-config -display none -no-reboot
	      -serial stdio -kernel "$kimg"
	      -append "$CMDLINE")
	# Plain emulation unless the CPU can virtualise (not on our machines),
	# with the vCPUs on one host thread: a thread per vCPU locks the guest
	# up (tests/vm/README).
	if [ "${VM_KVM:-auto}" != 0 ] && [ -w /dev/kvm ] &&
	   grep -qE '^flags.* (vmx|svm)( |$)' /proc/cpuinfo; then
		qemu+=(-enable-kvm -cpu host)
	else
		qemu+=(-accel "tcg,thread=${VM_TCG_THREAD:-single}")
	fi
	"setup_$mode" "$@"

	start=$SECONDS
	: >"$log.$$"
	# In the background so that a signal to us (make's timeout, ^C) is
	# handled now, not after qemu exits: timeout(1) gives qemu its own
	# process group, so nothing else would stop it.
	qemu+=(-pidfile "$ctl/qemu.pid")
	trap 'sig=1; kill "$(cat "$ctl/qemu.pid" 2>/dev/null)" 2>/dev/null' INT TERM HUP
	{
		if timeout -k 10 "$tmo" "${qemu[@]}" </dev/null 2>&1; then
			echo 0 >"$ctl/rc"
		else
			echo $? >"$ctl/rc"
		fi
	} | stream "$log.$$" "$ctl/marker" "$ctl/qemu.pid" "$ctl/lockup" &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		wait "$pid" || true
	done
	rc=$(cat "$ctl/rc" 2>/dev/null || echo 1)
	if [ -n "$sig" ]; then
		mv -f "$log.$$" "$log"
		die 130 "interrupted: $mode VM stopped, log $log"
	fi
	if [ -s "$ctl/dmesg" ]; then
		{ echo "----- guest dmesg -----"; cat "$ctl/dmesg"; } >>"$log.$$"
	fi
	mv -f "$log.$$" "$log"

	if [ -s "$ctl/status" ]; then
		st=$(cat "$ctl/status")
	elif [ -s "$ctl/marker" ]; then
		st=$(cat "$ctl/marker")
	fi
	if [ -n "$st" ]; then
		[ "$rc" != 124 ] || msg "warning: the VM hung after the command ended"
		msg "$mode VM: exit $st after $((SECONDS - start)) s, log $log"
		exit "$st"
	fi
	if [ -s "$ctl/lockup" ]; then
		msg "$mode VM stopped after $((SECONDS - start)) s: its kernel" \
		    "locked up ($(sed 's/^\[[ 0-9.]*\] //' "$ctl/lockup"))"
	elif [ "$rc" = 124 ]; then
		msg "$mode VM timed out after $tmo s (--timeout); killed"
	else
		msg "$mode VM stopped without reporting an exit status" \
		    "(qemu exit $rc): boot failure or kernel panic"
	fi
	msg "last lines of $log:"
	tail -n 25 "$log" >&2
	exit 124
}

case ${1:-} in
fetch)
	kernel_fetch || die 1 "$nokernel"
	echo "kernel $kver in $kdir"
	;;
run)
	shift
	cmd_run "$@"
	;;
-h|--help|help)
	usage
	;;
*)
	usage >&2
	exit 2
	;;
esac
