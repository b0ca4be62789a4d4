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
	say "start the daemon (rundir $tmp/run, programs.d $tmp/programs.d)"
	mkdir -p "$tmp/run" "$tmp/programs.d"
	printf '[runtime]\nprograms_dir = "%s"\n' "$tmp/programs.d" >"$tmp/bpfd.toml"
	start
	say "bpfctl list -a (every BPF program in this kernel)"
	"$BPFD" bpfctl list -a
	obj=${BPFD_TESTBPF:-$PWD/build/tests/bpf}/chain_xdp.bpf.o
	say "three counting XDP programs on veth-demo, loaded at priorities 100, 50, 200 (one dispatcher)"
	a=$(load chain_xdp 100)
	b=$(load chain_xdp_a 50)
	c=$(load chain_xdp_b 200)
	"$BPFD" bpfctl list
	say "the priorities give the order: position 0 runs first"
	counters "$b" "$a" "$c"
	say "xdp-loader (libxdp) sees the same chain"
	xdp-loader status veth-demo || true
	say "ping veth-demo from the namespace: every member counts"
	traffic
	counters "$b" "$a" "$c"
	say "a pass-only program at priority 75 with --proceed-on drop: the chain stops there"
	stop=$(load chain_xdp_a 75 --proceed-on drop)
	traffic
	counters "$b" "$stop" "$a" "$c"
	"$BPFD" bpfctl unload "$stop"
	say "bpfctl get $a"
	"$BPFD" bpfctl get "$a"
	say "unload $b (priority 50): the others move up"
	"$BPFD" bpfctl unload "$b"
	counters "$a" "$c"
	say "a programs.d entry: loaded when bpfd starts"
	cat >"$tmp/programs.d/demo.toml" <<EOF
[[programs]]
name = "chain_xdp_a"
file_path = "$obj"
program_type = "Xdp"
global_data = { verdict = "02000000" }
xdp_attach = { iface = "veth-demo", priority = 10, proceed_on = ["pass", "dispatcher_return"] }
metadata = { owner = "demo" }
EOF
	cat "$tmp/programs.d/demo.toml"
	say "stop the daemon (the programs stay loaded) and start it again"
	restart
	grep 'programs.d' "$tmp/daemon.log" | sed 's/^[^ ]* //'
	"$BPFD" bpfctl list
	d=$("$BPFD" bpfctl list | awk '$5 == "programs.d/demo.toml" { print $1 }')
	traffic
	counters "$d" "$a" "$c"
	say "restart again: the entry is unchanged, its program is kept (same id, not loaded twice)"
	restart
	grep 'programs.d (start)' "$tmp/daemon.log" | tail -n 1 | sed 's/^[^ ]* //'
	"$BPFD" bpfctl list
	say "bpfctl save: what bpfd holds, as a programs.d file"
	"$BPFD" bpfctl save
	say "remove the file and bpfctl reload (SIGHUP does the same): its program goes"
	rm "$tmp/programs.d/demo.toml"
	"$BPFD" bpfctl reload
	for id in "$a" "$c"; do "$BPFD" bpfctl unload "$id"; done
	say "all unloaded: no XDP program left on veth-demo"
	ip link show veth-demo | head -n 1
}

# start the daemon (log in $tmp/daemon.log) and wait for its socket
start() {
	rm -f "$tmp/run/bpfd.sock"
	"$BPFD" --rundir "$tmp/run" -c "$tmp/bpfd.toml" >>"$tmp/daemon.log" 2>&1 &
	pid=$!
	i=0
	while [ ! -S "$tmp/run/bpfd.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	export BPFD_ENDPOINT="unix://$tmp/run/bpfd.sock"
}

restart() {
	kill -TERM "$pid"
	wait "$pid" || true
	start
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
