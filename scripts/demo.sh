#!/bin/sh
# demo.sh - the README's main job: probe the host; then, inside the VM when the host
# refuses freplace, run the daemon on a veth pair and drive it with bpfctl.
# Usage: scripts/demo.sh            (host side; `make demo`)
#        scripts/demo.sh --inner    (the part that needs a full-featured kernel)
set -eu
cd "$(dirname "$0")/.."
BPFD=${BPFD:-$PWD/build/bpfd}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

inner() {
	grep -q ' /sys/fs/bpf bpf ' /proc/mounts || mount -t bpf bpf /sys/fs/bpf
	say "bpfd --probe on $(uname -r)"
	"$BPFD" --probe
	tmp=$(mktemp -d /tmp/bpfd-demo.XXXXXX)
	ns=bpfd-demo-$$
	cleanup() {
		[ -n "${pid:-}" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
		ip netns del "$ns" 2>/dev/null
		ip link del veth-demo 2>/dev/null
		umount -l "$tmp/run/fs" 2>/dev/null
		rm -rf "$tmp"
		return 0
	}
	trap cleanup EXIT
	say "veth pair: veth-demo (host, 10.99.0.1) <-> veth-demo-ns (netns $ns, 10.99.0.2)"
	ip netns add "$ns"
	ip link add veth-demo type veth peer name veth-demo-ns
	ip link set veth-demo-ns netns "$ns"
	ip addr add 10.99.0.1/24 dev veth-demo
	ip link set veth-demo up
	ip -n "$ns" addr add 10.99.0.2/24 dev veth-demo-ns
	ip -n "$ns" link set veth-demo-ns up
	say "start the daemon (rundir $tmp/run)"
	mkdir -p "$tmp/run"
	"$BPFD" --rundir "$tmp/run" &
	pid=$!
	i=0
	while [ ! -S "$tmp/run/bpfd.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	export BPFD_ENDPOINT="unix://$tmp/run/bpfd.sock"
	say "bpfctl list -a (every BPF program in this kernel)"
	"$BPFD" bpfctl list -a
	say "ping across the veth pair"
	ping -c 2 -W 1 10.99.0.2
}

if [ "${1:-}" = --inner ]; then
	inner
	exit 0
fi

say "bpfd --probe on the host ($(uname -r))"
grep -q ' /sys/fs/bpf bpf ' /proc/mounts || mount -t bpf bpf /sys/fs/bpf
"$BPFD" --probe
if "$BPFD" --probe --json | jq -e '.features.freplace.available' >/dev/null; then
	inner
else
	say "the host refuses freplace: running the rest inside the VM (Debian's 6.1 kernel)"
	share=
	case $BPFD in "$PWD"/*) ;; *) share="--share $PWD --share $(dirname "$BPFD")" ;; esac
	# shellcheck disable=SC2086
	BPFD="$BPFD" tests/vm/vm.sh run --env BPFD $share -- scripts/demo.sh --inner
fi
