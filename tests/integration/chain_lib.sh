# chain_lib.sh - helpers of the t_xdp_*.sh, t_tc_*.sh and t_tcx*.sh tests (sourced after
# lib.sh): a private daemon and a veth pair with the peer in a netns per test, chain test
# programs loaded through bpfctl, their counters, positions from bpfctl.
XDP_OBJ="$BPFD_TESTBPF/chain_xdp.bpf.o"
TC_OBJ="$BPFD_TESTBPF/chain_tc.bpf.o"

# Value of counter[0] (u64, little endian) in the map pinned at $1, through bpftool.
counter() {
	bpftool -j map lookup pinned "$1" key 0 0 0 0 2>/dev/null |
		jq -r '[.value[] | ltrimstr("0x") | ascii_downcase] | reverse | join("")' |
		{ read -r hex && printf '%d\n' "0x${hex:-0}"; } || echo -1
}

map_dir() {
	ctl get -o json "$1" | jq -r '.info.map_pin_path'
}

# Does the kernel have feature $1?  Otherwise skip with the probe's reason.
need_feature() {
	have_feature "$1" ||
		skip "the kernel lacks $1: $(jq -r --arg f "$1" '.features[$f].detail' "$T_TMP/probe.json")"
}

# Each test: its own directory, daemon (extra args go to bpfd) and veth pair: $IF (root
# namespace, where programs attach) <-> peer in netns $NS, addresses $NET.1 (IF) and
# $NET.2 (peer) in a random 10.x.y.0/24.  Names and subnet are unique per test: several
# tests and scripts run at once.  The kernel probe runs once per script.
chain_setup() {
	[ "$(id -u)" = 0 ] || skip "needs root"
	[ -f "$XDP_OBJ" ] || skip "chain test objects not built ($XDP_OBJ)"
	ensure_bpffs
	top=$T_TMP
	[ -s "$top/probe.json" ] || "$BPFD" --probe --json >"$top/probe.json" 2>/dev/null
	T_TMP=$(mktemp -d "$top/t.XXXXXX")
	cp "$top/probe.json" "$T_TMP/probe.json"
	start_daemon "$@"
	sfx=$(basename "$T_TMP" | cut -c3-)$T_ID
	IF=$(printf 'c%.14s' "$sfx")
	NS="chns$sfx"
	NET="10.$(( $(od -An -N1 -tu1 /dev/urandom) % 150 + 100 )).$(od -An -N1 -tu1 /dev/urandom | tr -d ' ')"
	PEER="p$(printf '%.14s' "$sfx")"
	make_veth_ns "$IF" "$PEER" "$NS"
	ip addr add "$NET.1/24" dev "$IF"
	ip -n "$NS" addr add "$NET.2/24" dev "$PEER"
	# Static neighbours both ways: no ARP in the tests' pings.  A chain that drops
	# (ARP too) leaves the peer's entry INCOMPLETE or FAILED, and the next ping then
	# depends on the kernel's re-resolution timers against the emulated VM's speed.
	ip -n "$NS" neigh replace "$NET.1" dev "$PEER" nud permanent \
		lladdr "$(cat "/sys/class/net/$IF/address")" ||
		fail "cannot add a static neighbour in $NS"
	ip neigh replace "$NET.2" dev "$IF" nud permanent \
		lladdr "$(ip netns exec "$NS" cat "/sys/class/net/$PEER/address")" ||
		fail "cannot add a static neighbour on $IF"
	# the peer's IPv6 chatter would show in the counters
	ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
	sysctl -qw "net.ipv6.conf.$IF.disable_ipv6=1" 2>/dev/null
	IFINDEX=$(cat "/sys/class/net/$IF/ifindex")
	on_exit "ip link set dev $IF xdp off 2>/dev/null; tc qdisc del dev $IF clsact 2>/dev/null"
}

# Stop the test's daemon (programs stay) and start it again.
chain_restart() {
	stop_daemon
	rm -f "$BPFD_SOCK"
	start_daemon "$@"
}

# Does the kernel allow freplace (chains)?  Skip with the probe's reason otherwise.
need_chains() {
	need_feature freplace
}

# verdict as 4 little-endian bytes, for -g verdict=...
verdict_hex() {
	printf '%08x' $(( $1 & 0xffffffff )) | sed 's/../& /g' |
		awk '{for (i = NF; i > 0; i--) printf "%s", $i}'
}

# load-from-file ARGS... -> program id (files of its own: several loads run at once)
cload() {
	f=$(mktemp "$T_TMP/load.XXXXXX")
	ctl load-from-file -o json "$@" >"$f" 2>"$f.err" ||
		fail "load-from-file $*: $(cat "$f" "$f.err")"
	jq -r '.kernel_info.id' "$f"
}

# load_xdp PRIO VERDICT FUNC [bpfctl xdp options...] -> program id
load_xdp() {
	prio=$1 v=$2 fn=$3
	shift 3
	cload -p "$XDP_OBJ" -n "$fn" -g "verdict=$(verdict_hex "$v")" xdp -i "$IF" -p "$prio" "$@"
}

# tc PRIO VERDICT [bpfctl kind options...] -> program id (ingress)
load_tc() {
	prio=$1 v=$2
	shift 2
	cload -p "$TC_OBJ" -n chain_tc -g "verdict=$(verdict_hex "$v")" tc -i "$IF" \
		-d ingress -p "$prio" "$@"
}

load_tcx() {
	prio=$1 v=$2
	shift 2
	cload -p "$TC_OBJ" -n chain_tc -g "verdict=$(verdict_hex "$v")" tcx -i "$IF" \
		-d ingress -p "$prio" "$@"
}

# Counter of program $1 (its counter map, pinned by bpfd; the directory is asked for
# once: every bpfctl call costs most of a second in the emulated VM).
pcount() {
	[ -s "$T_TMP/mapdir.$1" ] || map_dir "$1" >"$T_TMP/mapdir.$1"
	counter "$(cat "$T_TMP/mapdir.$1")/counter"
}

# Position / attach mode / proceed-on of program $1 as bpfctl get reports them.
position() {
	ctl get -o json "$1" | jq -r '.info.attach | to_entries[0].value.position'
}
attach_mode() {
	ctl get -o json "$1" | jq -r '.info.attach_mode'
}
proceed_on() {
	ctl get -o json "$1" | jq -c '.info.attach | to_entries[0].value.proceed_on'
}

# want_order ID... : bpfctl list shows these programs at positions 0, 1, ... (one call)
want_order() {
	ctl list -o json >"$T_TMP/list.json" || fail "bpfctl list"
	i=0
	for id in "$@"; do
		p=$(jq -r --argjson id "$id" '.[] | select(.kernel_info.id == $id) |
			.info.attach | to_entries[0].value.position' "$T_TMP/list.json")
		[ "$p" = "$i" ] || fail "program $id at position '$p', want $i: $(jq -c \
			'[.[] | [.kernel_info.id, (.info.attach | to_entries[0].value | .priority, .position)]]' \
			"$T_TMP/list.json")"
		i=$((i + 1))
	done
}

# Ping the IF end from the netns: $1 packets; fails the test when $2 = must and the
# pings do not get through, or when $2 = mustnot and they do.
ping_if() {
	# must: keep sending until $1 replies or 10 s (slow under emulation; the
	# neighbours are static, see chain_setup)
	_w=
	[ "${2:-}" = must ] && _w="-w 10"
	# shellcheck disable=SC2086
	if ip netns exec "$NS" ping -c "$1" -i 0.2 -W 1 $_w "$NET.1" >"$T_TMP/ping.out" 2>&1; then
		[ "${2:-}" = mustnot ] && fail "ping got through"
	elif [ "${2:-}" = must ]; then
		# what a failure needs to be understood: ping's own words, both neighbour
		# tables, the filters and the XDP state on $IF
		fail "ping $NET.1 from $NS failed: $(tail -n 3 "$T_TMP/ping.out")
$NS: $(ip -n "$NS" -s neigh show)
root: $(ip -s neigh show dev "$IF")
tc: $(tc filter show dev "$IF" ingress)
link: $(ip -d link show dev "$IF" | grep -i xdp)"
	fi
	return 0
}

# Assert program $1 is at position $2.
want_pos() {
	p=$(position "$1")
	[ "$p" = "$2" ] || fail "program $1 at position $p, want $2: $(ctl get "$1" | grep -E 'Priority|Position')"
}

# The libxdp pin directories of $IF.
xdp_dirs() {
	ls -d /sys/fs/bpf/xdp/dispatch-"$IFINDEX"-* 2>/dev/null
}

# direct_proceed_on_refused "ACTION..." LOAD-ARGS...: where programs are attached directly
# (no freplace), load-from-file LOAD-ARGS --proceed-on ACTION... is refused with the
# reason and nothing is loaded or recorded; without --proceed-on it attaches directly.
direct_proceed_on_refused() {
	_po=$1
	shift
	ls -A "$BPFD_RUNDIR/programs" >"$T_TMP/before" 2>&1
	# shellcheck disable=SC2086
	if ctl load-from-file "$@" --proceed-on $_po >"$T_TMP/out" 2>&1; then
		fail "loaded with proceed-on but attached directly: $(cat "$T_TMP/out")"
	fi
	grep -q "proceed-on applies only in a dispatcher chain" "$T_TMP/out" ||
		fail "message does not say why: $(cat "$T_TMP/out")"
	grep -q "freplace" "$T_TMP/out" || fail "message does not name the cause: $(cat "$T_TMP/out")"
	ls -A "$BPFD_RUNDIR/programs" >"$T_TMP/after" 2>&1
	cmp -s "$T_TMP/before" "$T_TMP/after" || fail "records changed: $(cat "$T_TMP/after")"
	[ "$(ctl list -o json | jq length)" = 0 ] || fail "something was loaded: $(ctl list)"
	_a=$(cload "$@")
	[ "$(attach_mode "$_a")" = direct ] || fail "attach mode $(attach_mode "$_a")"
	ctl unload "$_a" || fail "unload"
}
