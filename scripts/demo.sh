#!/bin/sh
# demo.sh - the README's main job: probe the host; then, inside the VM when the host
# refuses freplace, run the daemon on a veth pair and drive it with bpfctl.
# Usage: scripts/demo.sh            (host side; `make demo`: BPFD, BPFD_TESTBPF from make)
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
		set +e
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
	# no IPv6 chatter in the counters
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	sysctl -qw net.ipv6.conf.veth-demo.disable_ipv6=1
	say "start the daemon (rundir $tmp/run)"
	mkdir -p "$tmp/run"
	"$BPFD" --rundir "$tmp/run" &
	pid=$!
	i=0
	while [ ! -S "$tmp/run/bpfd.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	export BPFD_ENDPOINT="unix://$tmp/run/bpfd.sock"
	say "bpfctl list -a (every BPF program in this kernel)"
	"$BPFD" bpfctl list -a
	obj=${BPFD_TESTBPF:-$PWD/build/tests/bpf}/chain_xdp.bpf.o
	say "three counting XDP programs on veth-demo, priorities 50, 100, 200 (one dispatcher)"
	a=$(load chain_xdp 50)
	b=$(load chain_xdp_a 100)
	c=$(load chain_xdp_b 200)
	"$BPFD" bpfctl list
	say "xdp-loader (libxdp) sees the same chain"
	xdp-loader status veth-demo || true
	say "ping veth-demo from the namespace: every member counts"
	traffic
	counters "$a" "$b" "$c"
	say "a pass-only program at priority 75 with --proceed-on drop: the chain stops there"
	stop=$(load chain_xdp_a 75 --proceed-on drop)
	traffic
	counters "$a" "$stop" "$b" "$c"
	say "unload it: the members behind it count again"
	"$BPFD" bpfctl unload "$stop"
	traffic
	counters "$a" "$b" "$c"
	say "bpfctl get $b"
	"$BPFD" bpfctl get "$b"
	for id in "$a" "$b" "$c"; do "$BPFD" bpfctl unload "$id"; done
	say "all unloaded: no XDP program left on veth-demo"
	ip link show veth-demo | head -n 1
}

# load FUNCTION PRIORITY [xdp options] -> program id
load() {
	fn=$1 prio=$2
	shift 2
	# verdict = XDP_PASS (2), as a 4-byte little-endian global
	"$BPFD" bpfctl load-from-file -o json -p "$obj" -n "$fn" -g verdict=02000000 \
		xdp -i veth-demo -p "$prio" "$@" | jq -r .kernel_info.id
}

traffic() {
	ip netns exec "$ns" ping -q -c 5 -i 0.2 -W 1 10.99.0.1 | tail -n 2
}

# counters ID...: each program's packet counter, read from the map bpfd pinned
counters() {
	for id in "$@"; do
		info=$("$BPFD" bpfctl get -o json "$id")
		dir=$(echo "$info" | jq -r .info.map_pin_path)
		pos=$(echo "$info" | jq -r '.info.attach.xdp_attach_info.position')
		n=$(bpftool map lookup pinned "$dir/counter" key 0 0 0 0 |
			sed -n 's/.*"value": *\([0-9]*\).*/\1/p')
		printf '  program %-6s position %s  packets %s\n' "$id" "$pos" "$n"
	done
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
	BPFD="$BPFD" BPFD_TESTBPF="${BPFD_TESTBPF:-$PWD/build/tests/bpf}" \
		tests/vm/vm.sh run --env BPFD --env BPFD_TESTBPF $share -- scripts/demo.sh --inner
fi
