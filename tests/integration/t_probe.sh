#!/bin/sh
# t_probe.sh - `bpfd --probe [--json]` and `bpfd --selftest-xdp` against the real kernel.
# On the host (kernel 6.18 with its policy) and in the test VM (Debian 6.1) the
# expected answers differ; both sets are asserted.  The probe must be quick and
# leave nothing behind: no programs, links, pins, mounts, netns or interfaces.
. "$(dirname "$0")/lib.sh"

FEATURES="bpffs btf xdp tc tcx tracepoint kprobe uprobe freplace fentry xdp_link stats"

# Run the JSON probe once per test into $T_TMP/p.json; fail unless it exits 0.
probe_json() {
	"$BPFD" --probe --json >"$T_TMP/p.json" 2>"$T_TMP/p.err" ||
		fail "bpfd --probe --json exited $?: $(cat "$T_TMP/p.err")"
	jq -e . "$T_TMP/p.json" >/dev/null || fail "not valid JSON: $(cat "$T_TMP/p.json")"
}

avail() { jq -r --arg f "$1" '.features[$f].available' "$T_TMP/p.json"; }
errno_of() { jq -r --arg f "$1" '.features[$f].errno' "$T_TMP/p.json"; }
detail() { jq -r --arg f "$1" '.features[$f].detail' "$T_TMP/p.json"; }

expect_yes() {
	for f in "$@"; do
		[ "$(avail "$f")" = true ] || fail "$f should be available here: $(detail "$f")"
		[ "$(errno_of "$f")" = null ] || fail "$f available but errno $(errno_of "$f")"
	done
}

# expect_no FEATURE ERRNO|any TEXT: not available, with that errno and TEXT in the detail.
expect_no() {
	[ "$(avail "$1")" = false ] || fail "$1 should be unavailable here: $(detail "$1")"
	e=$(errno_of "$1")
	[ "$2" = any ] || [ "$e" = "$2" ] || fail "$1: errno $e, want $2 ($(detail "$1"))"
	detail "$1" | grep -qF -- "$3" || fail "$1: detail lacks '$3': $(detail "$1")"
}

test_json_schema() {
	probe_json
	[ "$(jq -r .kernel "$T_TMP/p.json")" = "$(uname -r)" ] || fail "kernel is not uname -r"
	for f in $FEATURES; do
		jq -e --arg f "$f" '.features[$f] | (.available|type) == "boolean" and
			((.errno|type) == "null" or (.errno|test("^E[A-Z0-9]+$"))) and
			(.detail|type) == "string" and (.detail|length) > 0 and
			(.available == (.errno == null))' "$T_TMP/p.json" >/dev/null ||
			fail "feature $f malformed: $(jq -c --arg f "$f" '.features[$f]' "$T_TMP/p.json")"
	done
	n=$(jq '.features | length' "$T_TMP/p.json")
	[ "$n" = 12 ] || fail "$n features, want 12"
}

# Text and JSON agree, every feature has a line "NAME yes|no DETAIL".
test_text_table() {
	probe_json
	"$BPFD" --probe >"$T_TMP/p.txt" 2>&1 || fail "bpfd --probe exited $?"
	head -n 1 "$T_TMP/p.txt" | grep -q "^kernel $(uname -r) " || fail "first line: $(head -n 1 "$T_TMP/p.txt")"
	for f in $FEATURES; do
		line=$(grep -E "^$f +(yes|no) +[^ ]" "$T_TMP/p.txt") ||
			fail "no line for $f in: $(cat "$T_TMP/p.txt")"
		want=no
		[ "$(avail "$f")" = true ] && want=yes
		echo "$line" | grep -qE "^$f +$want " || fail "text says '$line', JSON says $want"
	done
}

# What this project's two kernels allow (DEVELOPERS.md): the host (6.18, with its
# policy) and the test VM (Debian 6.1, BPFD_IN_VM=1).
test_features_match_kernel() {
	probe_json
	if [ "${BPFD_IN_VM:-0}" = 1 ]; then
		expect_yes bpffs btf xdp tc tracepoint uprobe kprobe freplace fentry xdp_link stats
		expect_no tcx EINVAL "kernel older than 6.6, tcx programs cannot be attached; use tc"
	else
		expect_yes bpffs btf xdp tc tcx tracepoint uprobe xdp_link stats
		expect_no freplace EPERM "one XDP/TC program per hook, no multi-program chains"
		expect_no fentry EPERM "fentry/fexit programs cannot be loaded"
		expect_no kprobe ENOENT "kprobe/kretprobe programs cannot be attached"
	fi
	detail xdp | grep -q '^native' || fail "XDP on veth should be native: $(detail xdp)"
}

# The bpffs line tells whether /sys/fs/bpf is mounted, as /proc/mounts does.
test_bpffs_detail() {
	probe_json
	if grep -q ' /sys/fs/bpf bpf ' /proc/mounts; then
		detail bpffs | grep -q '^mounted at /sys/fs/bpf' || fail "bpffs: $(detail bpffs)"
	else
		detail bpffs | grep -q 'not mounted at /sys/fs/bpf' || fail "bpffs: $(detail bpffs)"
	fi
}

# The probe reports its own duration, and it is no longer than the wall time around it.
# (How fast it is belongs in `make bench`, not in a timed test: a busy machine fails one.)
test_duration_reported() {
	start=$(date +%s%N)
	probe_json
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	self=$(jq .duration_ms "$T_TMP/p.json")
	echo "  probe: ${ms} ms wall, ${self} ms reported"
	[ "$self" -ge 0 ] 2>/dev/null || fail "duration_ms is not a number: $self"
	[ "$self" -le "$ms" ] || fail "reported ${self} ms > wall ${ms} ms"
}

# Snapshot of everything the probe could leave behind.
snapshot() {
	{
		echo "# programs named like the probe's"
		bpftool prog show -j 2>/dev/null |
			jq -r '.[] | select(.name // "" | test("^probe_")) | "\(.id) \(.name)"'
		echo "# links of those programs"
		bpftool link show -j 2>/dev/null | jq -r '.[] | "\(.prog_id)"' | while read -r id; do
			bpftool prog show id "$id" -j 2>/dev/null |
				jq -r 'select(.name // "" | test("^probe_")) | "link to \(.id)"'
		done
		echo "# mounts where the probe mounts bpffs and tracefs in its own namespace"
		awk '$5 == "/sys/fs/bpf" || $5 == "/sys/kernel/tracing" { print $5, $9 }' /proc/self/mountinfo
		echo "# pins"
		if grep -q ' /sys/fs/bpf bpf ' /proc/mounts; then
			find /sys/fs/bpf -mindepth 1 | sort
		fi
		echo "# network namespaces still held by a probe process"
		lsns -t net -n -o NS,COMMAND 2>/dev/null | grep -E -- '--(probe|selftest-xdp)' | grep -v grep
		echo "# named network namespaces of the probe (it makes only anonymous ones)"
		ip -all netns list 2>/dev/null | grep -E '^bpfd(probe|st)[0-9]*( |$)' | grep -v "^bpfdprobe$T_ID"
		echo "# probe interfaces in the root netns and in named netns"
		ip -o link show | awk -F': ' '$2 ~ /^bpfd(probe|st)/ { print $2 }'
		for ns in $(ip netns list | awk '{ print $1 }'); do
			ip -n "$ns" -o link show 2>/dev/null | awk -F': ' -v ns="$ns" '$2 ~ /^bpfd(probe|st)/ { print ns, $2 }'
		done
	} >"$1"
}

test_leaves_nothing() {
	snapshot "$T_TMP/before"
	probe_json
	"$BPFD" --probe >/dev/null 2>&1 || fail "text probe failed"
	"$BPFD" --selftest-xdp >/dev/null 2>&1 || fail "selftest failed"
	snapshot "$T_TMP/after"
	# only additions count: other tests may remove their own things meanwhile
	sort "$T_TMP/before" >"$T_TMP/before.s"
	sort "$T_TMP/after" >"$T_TMP/after.s"
	left=$(comm -13 "$T_TMP/before.s" "$T_TMP/after.s")
	[ -z "$left" ] || fail "left behind: $left"
}

# The daemon's own network namespace is never touched: the probe works in a netns.
test_private_netns() {
	ns="bpfdprobe$T_ID"
	ip netns add "$ns" || fail "cannot create netns $ns"
	on_exit "ip netns del $ns"
	ip netns exec "$ns" "$BPFD" --selftest-xdp >"$T_TMP/st.out" 2>&1 || fail "selftest in a netns: $(cat "$T_TMP/st.out")"
	[ "$(ip -n "$ns" -o link show | wc -l)" = 1 ] || fail "links left in $ns: $(ip -n "$ns" -o link show)"
}

test_selftest_xdp() {
	"$BPFD" --selftest-xdp >"$T_TMP/st.out" 2>"$T_TMP/st.err" ||
		fail "exit $?: $(cat "$T_TMP/st.err")"
	grep -qE '^selftest-xdp: ok \((native|skb), prog id [0-9]+\)$' "$T_TMP/st.out" ||
		fail "output: $(cat "$T_TMP/st.out")"
	id=$(sed -E 's/.*prog id ([0-9]+)\)$/\1/' "$T_TMP/st.out")
	! bpftool prog show id "$id" >/dev/null 2>&1 || fail "program $id still loaded after the self-test"
	grep -q '(native,' "$T_TMP/st.out" || fail "veth supports native XDP: $(cat "$T_TMP/st.out")"
}

# Without privileges the probe still answers (exit 0), with EPERM where it matters.
test_unprivileged() {
	command -v setpriv >/dev/null || fail "setpriv (util-linux) is missing"
	chmod 755 "$T_TMP"
	cp "$BPFD" "$T_TMP/bpfd" && chmod 755 "$T_TMP/bpfd"
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$T_TMP/bpfd" --probe --json >"$T_TMP/u.json" 2>"$T_TMP/u.err" ||
		fail "unprivileged probe exited $?: $(cat "$T_TMP/u.err")"
	for f in xdp tc tcx freplace stats; do
		jq -e --arg f "$f" '.features[$f] | .available == false and .errno == "EPERM"' \
			"$T_TMP/u.json" >/dev/null ||
			fail "unprivileged $f: $(jq -c --arg f "$f" '.features[$f]' "$T_TMP/u.json")"
	done
	grep -q 'not running as root' "$T_TMP/u.err" || fail "no hint about root: $(cat "$T_TMP/u.err")"
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$T_TMP/bpfd" --selftest-xdp >/dev/null 2>"$T_TMP/u2.err" && fail "unprivileged selftest succeeded"
	grep -q 'private network namespace' "$T_TMP/u2.err" || fail "selftest error: $(cat "$T_TMP/u2.err")"
}

test_usage() {
	"$BPFD" --json >/dev/null 2>"$T_TMP/e"; rc=$?
	[ $rc = 2 ] || fail "--json without --probe exited $rc"
	grep -q -- '--json goes with --probe' "$T_TMP/e" || fail "message: $(cat "$T_TMP/e")"
}

run_tests probe test_json_schema test_text_table test_features_match_kernel \
	test_bpffs_detail test_duration_reported test_leaves_nothing test_private_netns test_selftest_xdp \
	test_unprivileged test_usage
