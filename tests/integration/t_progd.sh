#!/bin/sh
# t_progd.sh - programs.d: [[programs]] files loaded at start, after a restart nothing
# loaded twice (same ids), a changed entry replaced, a removed file unloaded, a broken
# file reported with file, line and key while the others load, SIGHUP and bpfctl
# reload, bpfctl save round trip (save, unload all, restart with the saved file: the
# same programs, kinds, attach points, priorities, globals and metadata).
# Host kinds here (tracepoint, uprobe, TCX, one XDP program); XDP and TC chains with
# priorities where the kernel allows freplace (the VM).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prog_lib.sh"

# Tests of bpfd's own logic run on the host; in the VM (ten times slower) only those
# whose kernel side differs: chains, and the kinds the host refuses.
host_only() {
	[ "${BPFD_IN_VM:-0}" = 1 ] &&
		skip "programs.d logic, the same on every kernel: it runs on the host"
	return 0
}

# A private daemon whose programs_dir is $PD.
pd_start() {
	prog_checks
	T_TMP=$PROG_TOP/t.$(date +%s%N)
	mkdir "$T_TMP" || fail "mkdir $T_TMP"
	PD=$T_TMP/programs.d
	mkdir -p "$PD"
	printf '[runtime]\nprograms_dir = "%s"\n' "$PD" >"$T_TMP/bpfd.toml"
	start_daemon -c "$T_TMP/bpfd.toml"
	DAEMON_LOG=$T_TMP/daemon.log
}

pd_restart() {
	stop_daemon
	rm -f "$BPFD_SOCK"
	start_daemon -c "$T_TMP/bpfd.toml"
}

# "ID NAME SOURCE" of every program bpfd lists, sorted by name then source.
rows() {
	ctl list >"$T_TMP/list" || fail "list"
	while read -r _id _name _type _time _src _rest; do
		case $_id in [0-9]*) echo "$_id $_name $_src" ;; esac
	done <"$T_TMP/list" | sort -k2,3
}

# The id of the program named $1 from source $2 (empty when none).
id_of() {
	rows | while read -r _i _n _s; do
		[ "$_n" = "$1" ] && [ "$_s" = "$2" ] && echo "$_i"
	done
}

tp_entry() {	# step metadata-value
	cat <<EOF
[[programs]]
name = "tp_count"
file_path = "$COUNTER_OBJ"
program_type = "Tracepoint"
tracepoint_attach = { tracepoint = "syscalls/sys_enter_getppid" }
global_data = { step = [$1, 0, 0, 0, 0, 0, 0, 0] }
metadata = { app = "$2" }
EOF
}

up_entry() {
	cat <<EOF
[[programs]]
name = "up_count"
file_path = "$COUNTER_OBJ"
uprobe_attach = { target = "$TRIG", fn_name = "bpfd_test_func" }
EOF
}

test_start_restart_same_ids() {
	host_only
	pd_start
	build_trig
	{ tp_entry 2 one; echo; up_entry; } >"$PD/a.toml"
	pd_restart
	rows >"$T_TMP/r1"
	[ "$(wc -l <"$T_TMP/r1")" = 2 ] || fail "want 2 programs: $(cat "$T_TMP/list") $(tail "$DAEMON_LOG")"
	grep -q ' tp_count programs.d/a.toml$' "$T_TMP/r1" || fail "tp_count: $(cat "$T_TMP/r1")"
	grep -q ' up_count programs.d/a.toml$' "$T_TMP/r1" || fail "up_count: $(cat "$T_TMP/r1")"
	id=$(id_of tp_count programs.d/a.toml)
	get "$id"
	[ "$(field "$T_TMP/get" Source)" = programs.d/a.toml ] || fail "get Source: $(cat "$T_TMP/get")"
	[ "$(field "$T_TMP/get" Metadata)" = "app=one" ] || fail "metadata: $(cat "$T_TMP/get")"
	echo "$id tp" >"$T_TMP/progs"
	progs_run
	pd_restart
	rows >"$T_TMP/r2"
	cmp -s "$T_TMP/r1" "$T_TMP/r2" || fail "other programs after the restart: $(diff "$T_TMP/r1" "$T_TMP/r2")"
	grep -q 'programs.d (start): 0 loaded, 2 kept, 0 replaced, 0 modified, 0 unloaded, 0 error' "$DAEMON_LOG" ||
		fail "log: $(grep programs.d "$DAEMON_LOG")"
	# an API load says so
	aid=$(load_id -p "$COUNTER_OBJ" -n tp_count tracepoint -t syscalls/sys_enter_getppid)
	get "$aid"
	[ "$(field "$T_TMP/get" Source)" = api ] || fail "api Source: $(cat "$T_TMP/get")"
	pd_restart
	[ "$(id_of tp_count api)" = "$aid" ] || fail "the API program after a restart: $(rows)"
	ctl unload "$aid" || fail "unload"
}

test_change_and_remove_file() {
	host_only
	pd_start
	build_trig
	tp_entry 2 one >"$PD/a.toml"
	up_entry >"$PD/b.toml"
	pd_restart
	old=$(id_of tp_count programs.d/a.toml)
	up=$(id_of up_count programs.d/b.toml)
	[ -n "$old" ] && [ -n "$up" ] || fail "not loaded: $(rows)"
	# a comment and key order do not make a change
	{ echo "# comment"; up_entry; } >"$PD/b.toml"
	tp_entry 5 two >"$PD/a.toml"
	pd_restart
	new=$(id_of tp_count programs.d/a.toml)
	[ -n "$new" ] && [ "$new" != "$old" ] || fail "changed entry not replaced: $old -> $new"
	prog_gone "$old" || fail "old program $old still in the kernel"
	[ "$(id_of up_count programs.d/b.toml)" = "$up" ] || fail "unchanged entry replaced: $(rows)"
	get "$new"
	[ "$(field "$T_TMP/get" Metadata)" = "app=two" ] || fail "new metadata: $(cat "$T_TMP/get")"
	field "$T_TMP/get" "Global" | grep -q "step=0500000000000000" ||
		fail "new global: $(cat "$T_TMP/get")"
	rm "$PD/b.toml"
	pd_restart
	[ -z "$(id_of up_count programs.d/b.toml)" ] || fail "removed file's program kept: $(rows)"
	prog_gone "$up" || fail "program $up of the removed file still in the kernel"
	[ "$(id_of tp_count programs.d/a.toml)" = "$new" ] || fail "a.toml's program changed"
	rm "$PD/a.toml"
	pd_restart
	[ -z "$(rows)" ] || fail "programs left: $(rows)"
}

test_broken_file_among_good() {
	host_only
	pd_start
	build_trig
	tp_entry 2 one >"$PD/a.toml"
	cat >"$PD/m.toml" <<EOF
[[programs]]
name = "tp_count"
file_path = "$COUNTER_OBJ"
xdp_attach = { iface = "lo", priority = "high" }
EOF
	printf '[[programs]]\nname = "x"\nfile_path = "%s"\nfoo = 1\n' "$COUNTER_OBJ" >"$PD/n.toml"
	up_entry >"$PD/z.toml"
	echo 'not toml' >"$PD/ignored.txt"
	pd_restart
	rows >"$T_TMP/r"
	[ "$(wc -l <"$T_TMP/r")" = 2 ] || fail "want the 2 good programs: $(cat "$T_TMP/r")"
	grep -q "error: programs.d: $PD/m.toml:4:41: 'priority' in xdp_attach must be an integer, not a string; the file is skipped" \
		"$DAEMON_LOG" || fail "m.toml error: $(grep programs.d "$DAEMON_LOG")"
	grep -q "error: programs.d: $PD/n.toml:4:1: unknown key 'foo' in \[\[programs\]\]" \
		"$DAEMON_LOG" || fail "n.toml error: $(grep programs.d "$DAEMON_LOG")"
	# an entry the manager refuses: named with its file and line, the others load
	cat >"$PD/m.toml" <<EOF
[[programs]]
name = "up_count"
file_path = "$COUNTER_OBJ"
uprobe_attach = { target = "$TRIG", fn_name = "bpfd_test_func" }

[[programs]]
name = "no_such_fn"
file_path = "$COUNTER_OBJ"
tracepoint_attach = { tracepoint = "syscalls/sys_enter_getppid" }
EOF
	rm "$PD/n.toml"
	ctl reload >"$T_TMP/reload" 2>&1 && fail "reload with an error exited 0"
	grep -q '^loaded  *programs.d/m.toml up_count: [0-9]' "$T_TMP/reload" ||
		fail "reload: $(cat "$T_TMP/reload")"
	grep -q "^error  *programs.d/m.toml:6: \[\[programs\]\] 'no_such_fn': " "$T_TMP/reload" ||
		fail "reload error: $(cat "$T_TMP/reload")"
	[ "$(rows | wc -l)" = 3 ] || fail "want 3 programs: $(rows)"
}

test_sighup_and_reload() {
	host_only
	pd_start
	build_trig
	[ -z "$(rows)" ] || fail "programs at start: $(rows)"
	tp_entry 2 one >"$PD/a.toml"
	kill -HUP "$BPFD_PID"
	i=0
	until grep -q 'programs.d (SIGHUP): 1 loaded' "$DAEMON_LOG"; do
		i=$((i + 1))
		[ $i -gt 100 ] && fail "no SIGHUP pass: $(tail -5 "$DAEMON_LOG")"
		sleep 0.05
	done
	kill -0 "$BPFD_PID" || fail "SIGHUP stopped the daemon"
	id=$(id_of tp_count programs.d/a.toml)
	[ -n "$id" ] || fail "not loaded on SIGHUP: $(rows)"
	up_entry >"$PD/b.toml"
	ctl reload >"$T_TMP/reload" || fail "reload: $(cat "$T_TMP/reload")"
	grep -q "^kept  *programs.d/a.toml tp_count: $id\$" "$T_TMP/reload" ||
		fail "kept: $(cat "$T_TMP/reload")"
	grep -q '^loaded  *programs.d/b.toml up_count: [0-9]' "$T_TMP/reload" ||
		fail "loaded: $(cat "$T_TMP/reload")"
	tp_entry 3 one >"$PD/a.toml"
	rm "$PD/b.toml"
	ctl reload -o json >"$T_TMP/reload.json" || fail "reload json"
	jq -e --argjson old "$id" '.changes | map(select(.action == "replaced" and .old_id == $old)) | length == 1' \
		"$T_TMP/reload.json" >/dev/null || fail "replaced: $(cat "$T_TMP/reload.json")"
	jq -e '.changes | map(select(.action == "unloaded" and .source == "programs.d/b.toml")) | length == 1' \
		"$T_TMP/reload.json" >/dev/null || fail "unloaded: $(cat "$T_TMP/reload.json")"
	[ "$(rows | wc -l)" = 1 ] || fail "want 1 program: $(rows)"
	ctl reload >"$T_TMP/reload" || fail "reload"
	[ "$(grep -c '^kept' "$T_TMP/reload")" = 1 ] || fail "second reload: $(cat "$T_TMP/reload")"
}

IMAGE_PUT=${BPFD_BUILD:-$(dirname "$BPFD")}/tests/tools/image_put

img_entry() {	# name url policy
	printf '[[programs]]\nname = "%s"\nprogram_type = "Tracepoint"\n' "$1"
	printf 'bytecode_image = { image_url = "%s", image_pull_policy = "%s" }\n' "$2" "$3"
	printf 'tracepoint_attach = { tracepoint = "syscalls/sys_enter_getppid" }\n'
}

# bytecode_image entries load from the image store as an API load would (the image
# put there by image_put: IfNotPresent and Never need no registry), are kept over a
# restart, replaced when their policy changes; Never without the image is an error
# naming the file, line and reason, the other entries load.
test_image_entry() {
	host_only
	[ -x "$IMAGE_PUT" ] || skip "tests/tools/image_put is not built (make check-integration)"
	prog_checks
	need_feature tracepoint
	pd_start
	stop_daemon
	printf 'image_dir = "%s"\n' "$T_TMP/images" >>"$T_TMP/bpfd.toml"
	mkdir -p "$T_TMP/src"
	cp "$COUNTER_OBJ" "$T_TMP/src/counter.o"
	tar -czf "$T_TMP/counter.tgz" -C "$T_TMP/src" counter.o || fail "tar"
	ref=progd.example/bpf/counter:v1
	"$IMAGE_PUT" "$T_TMP/images" "$ref" "$T_TMP/counter.tgz" \
		application/vnd.oci.image.layer.v1.tar+gzip \
		'"io.ebpf.program_type":"tracepoint","io.ebpf.filename":"counter.o","io.ebpf.program_name":"tp","io.ebpf.bpf_function_name":"tp_count"' \
		>"$T_TMP/put.out" 2>&1 || fail "image_put: $(cat "$T_TMP/put.out")"
	d=$(cat "$T_TMP/put.out")
	{ img_entry tp_count "$ref" IfNotPresent; echo
	  img_entry tp_count progd.example/bpf/absent:v1 Never; } >"$PD/a.toml"
	rm -f "$BPFD_SOCK"
	start_daemon -c "$T_TMP/bpfd.toml"
	id=$(id_of tp_count programs.d/a.toml)
	[ -n "$id" ] || fail "the image entry was not loaded: $(rows); $(tail -5 "$DAEMON_LOG")"
	[ "$(rows | wc -l)" = 1 ] || fail "want 1 program: $(rows)"
	grep -q "programs.d/a.toml:7: \[\[programs\]\] 'tp_count': .*not in the local store and the pull policy is Never" \
		"$DAEMON_LOG" || fail "the Never entry: $(grep -i error "$DAEMON_LOG")"
	get "$id"
	grep -q "Image URL:[[:space:]]*$ref" "$T_TMP/get" || fail "get: $(cat "$T_TMP/get")"
	grep -q "Image Digest:[[:space:]]*$d" "$T_TMP/get" || fail "digest: $(cat "$T_TMP/get")"
	grep -q "Source:[[:space:]]*programs.d/a.toml" "$T_TMP/get" || fail "source: $(cat "$T_TMP/get")"
	c=$BPFD_RUNDIR/fs/maps/$id/counter
	v0=$(counter "$c")
	trig getppid 20
	v1=$(counter "$c")
	[ "$v1" -gt "$v0" ] || fail "program $id did not run: $v0 -> $v1"
	pd_restart
	[ "$(id_of tp_count programs.d/a.toml)" = "$id" ] || fail "not kept over a restart: $(rows)"
	img_entry tp_count "$ref" Never >"$PD/a.toml"
	ctl reload >"$T_TMP/reload" 2>&1 || fail "reload: $(cat "$T_TMP/reload")"
	grep -q "^replaced" "$T_TMP/reload" || fail "a changed policy: $(cat "$T_TMP/reload")"
	new=$(id_of tp_count programs.d/a.toml)
	[ -n "$new" ] && [ "$new" != "$id" ] || fail "replaced: $(rows)"
	[ "$(rows | wc -l)" = 1 ] || fail "want 1 program: $(rows)"
	no_extraction_left || fail "extracted objects left: $(ls "$BPFD_RUNDIR/images")"
	rm "$PD/a.toml"
	ctl reload >/dev/null 2>&1 || fail "reload after removal"
	[ -z "$(rows)" ] || fail "unloaded: $(rows)"
}

# What a program is, as get shows it, without what changes with each load (and
# without who asked for it: the saved programs come back from programs.d, not from
# the API caller's Load).
spec_of() {
	get "$1"
	grep -v '^ *\(Run Count\|Run Time (ns)\|ID\|Loaded At\|Source\|Owner\|Map Pin Path\|Maps Used By\|Tag\|Map IDs\|BTF ID\|Verified Insns\|Position\):' \
		"$T_TMP/get" | sed -n '1,/Kernel State/p' | grep -v '^ *Kernel State' | tr '\n' '|'
	echo
}

test_save_round_trip() {
	pd_start
	build_trig
	IF=$(echo "ps$T_ID" | cut -c1-12)
	frames_veth "$IF"
	: >"$T_TMP/progs"
	echo "$(load_id -p "$COUNTER_OBJ" -n tp_count -g "step=$(step_hex 7)" -m a=1 -m "b=two words" \
		tracepoint -t syscalls/sys_enter_getppid) tracepoint" >>"$T_TMP/progs"
	echo "$(load_id -p "$COUNTER_OBJ" -n up_count -m k=v uprobe -t "$TRIG" -f bpfd_test_func) uprobe" >>"$T_TMP/progs"
	echo "$(load_id -p "$COUNTER_OBJ" -n urp_count uprobe -t "$TRIG" -f bpfd_test_func -r) uretprobe" >>"$T_TMP/progs"
	# proceed-on only in a dispatcher chain (freplace); else one directly attached
	po=
	have_feature freplace && po="--proceed-on pass,drop"
	if have_feature xdp; then
		echo "$(load_id -p "$COUNTER_OBJ" -n xdp_count -g "step=$(step_hex 3)" \
			xdp -i "$IF" -p 35 $po) xdp" >>"$T_TMP/progs"
	fi
	if have_feature freplace; then
		echo "$(load_id -p "$COUNTER_OBJ" -n tc_count tc -i "$IF" -d ingress -p 40 \
			--proceed-on ok,pipe) tc" >>"$T_TMP/progs"
	fi
	if have_feature tcx; then
		echo "$(load_id -p "$COUNTER_OBJ" -n tcx_count tcx -i "$IF" -d egress -p 20) tcx" >>"$T_TMP/progs"
		echo "$(load_id -p "$COUNTER_OBJ" -n tcx_count tcx -i "$IF" -d egress -p 10) tcx" >>"$T_TMP/progs"
	fi
	if have_feature kprobe; then
		echo "$(load_id -p "$COUNTER_OBJ" -n kp_count kprobe -f "$KFN") kprobe" >>"$T_TMP/progs"
	fi
	if have_feature fentry; then
		echo "$(load_id -p "$COUNTER_OBJ" -n fe_count fentry -f "$KFN") fentry" >>"$T_TMP/progs"
	fi
	while read -r id k; do spec_of "$id"; done <"$T_TMP/progs" | sort >"$T_TMP/before"
	ctl save "$PD/saved.toml" 2>"$T_TMP/save.err" || fail "save: $(cat "$T_TMP/save.err")"
	n=$(wc -l <"$T_TMP/progs")
	[ "$(grep -c '^\[\[programs\]\]' "$PD/saved.toml")" = "$n" ] || fail "saved: $(cat "$PD/saved.toml")"
	# save to stdout gives the same entries
	ctl save >"$T_TMP/stdout.toml" || fail "save to stdout"
	diff -q "$PD/saved.toml" "$T_TMP/stdout.toml" >/dev/null || fail "stdout differs"
	while read -r id k; do ctl unload "$id" || fail "unload $id"; done <"$T_TMP/progs"
	[ -z "$(rows)" ] || fail "left: $(rows)"
	pd_restart
	rows >"$T_TMP/r"
	[ "$(wc -l <"$T_TMP/r")" = "$n" ] || fail "restored $(wc -l <"$T_TMP/r") of $n: $(cat "$T_TMP/r") $(grep programs.d "$DAEMON_LOG")"
	: >"$T_TMP/after.ids"
	while read -r id name src; do
		[ "$src" = programs.d/saved.toml ] || fail "source $src"
		spec_of "$id"
	done <"$T_TMP/r" | sort >"$T_TMP/after"
	cmp -s "$T_TMP/before" "$T_TMP/after" ||
		fail "programs differ after the round trip: $(diff "$T_TMP/before" "$T_TMP/after")"
	echo "  round trip: $(cut -d' ' -f2 "$T_TMP/progs" | sort | uniq -c | tr -s ' \n' ' ')"
	# TCX order came back from the priorities
	if have_feature tcx; then
		ctl list -p tcx >/dev/null || fail "list tcx"
	fi
	rm "$PD/saved.toml"
	pd_restart
	[ -z "$(rows)" ] || fail "left: $(rows)"
}

# A changed XDP entry: replaced beside the old program in a chain, in place where
# the program is attached directly (one per hook, the host); a change that cannot
# load leaves the previous entry's program in place.
test_xdp_entry_replaced() {
	pd_start
	have_feature xdp || skip "the kernel lacks XDP"
	IF=$(echo "px$T_ID" | cut -c1-12)
	frames_veth "$IF"
	xdp() {
		printf '[[programs]]\nname = "%s"\nfile_path = "%s"\n' "$1" "$COUNTER_OBJ"
		printf 'xdp_attach = { iface = "%s", priority = %s }\n' "$IF" "$2"
	}
	xdp xdp_count 10 >"$PD/x.toml"
	ctl reload >"$T_TMP/reload" || fail "reload: $(cat "$T_TMP/reload")"
	old=$(id_of xdp_count programs.d/x.toml)
	[ -n "$old" ] || fail "not loaded: $(cat "$T_TMP/reload")"
	# more than the priority (a priority alone moves a chain member in place:
	# test_priority_modified)
	{ xdp xdp_count 20; echo 'metadata = { v = "2" }'; } >"$PD/x.toml"
	ctl reload >"$T_TMP/reload" || fail "reload: $(cat "$T_TMP/reload")"
	new=$(id_of xdp_count programs.d/x.toml)
	grep -q "^replaced  *programs.d/x.toml xdp_count: $new (was $old)\$" "$T_TMP/reload" ||
		fail "replaced: $(cat "$T_TMP/reload")"
	get "$new"
	[ "$(field "$T_TMP/get" Priority)" = 20 ] || fail "priority: $(cat "$T_TMP/get")"
	echo "  attach mode: $(field "$T_TMP/get" "Attach Mode")"
	# a global the object lacks: the old program stays on the hook
	{ xdp xdp_count 30; echo 'global_data = { no_such_global = "01" }'; } >"$PD/x.toml"
	ctl reload >"$T_TMP/reload" 2>&1 && fail "reload of a bad entry exited 0"
	grep -q "previous entry" "$T_TMP/reload" || fail "reload: $(cat "$T_TMP/reload")"
	[ "$(id_of xdp_count programs.d/x.toml)" = "$new" ] || fail "the old program went: $(rows)"
	rm "$PD/x.toml"
	ctl reload >/dev/null || fail "reload"
	[ -z "$(rows)" ] || fail "left: $(rows)"
}

# XDP and TC chains from programs.d: the priorities give the order (the VM).
test_chain_priorities() {
	prog_checks
	have_feature freplace || skip "the kernel refuses freplace: chains run in the VM (t_xdp_chain.sh)"
	pd_start
	IF=$(echo "pc$T_ID" | cut -c1-12)
	frames_veth "$IF"
	for p in 100 50 200; do
		cat <<EOF
[[programs]]
name = "xdp_count"
file_path = "$COUNTER_OBJ"
program_type = "Xdp"
xdp_attach = { iface = "$IF", priority = $p, proceed_on = ["pass", "dispatcher_return"] }
metadata = { prio = "$p" }

[[programs]]
name = "tc_count"
file_path = "$COUNTER_OBJ"
program_type = "Tc"
tc_attach = { iface = "$IF", priority = $p, direction = "Ingress", proceed_on = ["ok", "pipe", "dispatcher_return"] }
metadata = { prio = "$p" }

EOF
	done >"$PD/chain.toml"
	pd_restart
	[ "$(rows | wc -l)" = 6 ] || fail "want 6: $(rows) $(grep programs.d "$DAEMON_LOG")"
	rows >"$T_TMP/r1"
	while read -r id name src; do
		get "$id"
		echo "$name $(field "$T_TMP/get" Metadata) $(field "$T_TMP/get" Position)"
	done <"$T_TMP/r1" | sort >"$T_TMP/pos"
	printf '%s\n' "tc_count prio=100 1" "tc_count prio=200 2" "tc_count prio=50 0" \
		"xdp_count prio=100 1" "xdp_count prio=200 2" "xdp_count prio=50 0" | cmp -s - "$T_TMP/pos" ||
		fail "positions: $(cat "$T_TMP/pos")"
	pd_restart
	rows >"$T_TMP/r2"
	cmp -s "$T_TMP/r1" "$T_TMP/r2" || fail "ids changed: $(diff "$T_TMP/r1" "$T_TMP/r2")"
	ctl save "$T_TMP/s.toml" 2>/dev/null || fail "save"
	grep -q 'xdp_attach = { iface = "'"$IF"'", priority = 50 }' \
		"$T_TMP/s.toml" || fail "saved xdp: $(cat "$T_TMP/s.toml")"
	rm "$PD/chain.toml"
	ctl reload >/dev/null || fail "reload"
	[ -z "$(rows)" ] || fail "left: $(rows)"
}

# hook_entry KIND PRIORITY [METADATA]: one chain member on $IF (XDP in the VM, TCX on
# the host)
hook_entry() {
	printf '[[programs]]\nname = "%s_count"\nfile_path = "%s"\n' "$1" "$COUNTER_OBJ"
	case $1 in
	xdp) printf 'xdp_attach = { iface = "%s", priority = %s }\n' "$IF" "$2" ;;
	tcx) printf 'tcx_attach = { iface = "%s", direction = "ingress", priority = %s }\n' "$IF" "$2" ;;
	esac
	[ -z "${3:-}" ] || printf 'metadata = { note = "%s" }\n' "$3"
}

# A change of the priority alone moves the program in place (Modify: same id, new
# position), and the next pass keeps it; a change of more than the priority
# replaces it.
test_priority_modified() {
	prog_checks
	if have_feature freplace; then
		k=xdp
	elif have_feature tcx; then
		k=tcx
	else
		skip "the kernel has neither freplace nor TCX: no chain of several programs"
	fi
	pd_start
	IF=$(echo "pm$T_ID" | cut -c1-12)
	frames_veth "$IF"
	hook_entry $k 10 >"$PD/a.toml"
	hook_entry $k 20 >"$PD/b.toml"
	ctl reload >"$T_TMP/reload" || fail "reload: $(cat "$T_TMP/reload")"
	a=$(id_of ${k}_count programs.d/a.toml)
	b=$(id_of ${k}_count programs.d/b.toml)
	[ -n "$a" ] && [ -n "$b" ] || fail "not loaded: $(cat "$T_TMP/reload")"
	get "$a"
	[ "$(field "$T_TMP/get" Position)" = 0 ] || fail "a at $(field "$T_TMP/get" Position), want 0"
	hook_entry $k 30 >"$PD/a.toml"
	ctl reload >"$T_TMP/reload" || fail "reload: $(cat "$T_TMP/reload")"
	grep -q "^modified  *programs.d/a.toml ${k}_count: $a\$" "$T_TMP/reload" ||
		fail "a priority-only change: $(cat "$T_TMP/reload")"
	[ "$(id_of ${k}_count programs.d/a.toml)" = "$a" ] || fail "a has a new id: $(rows)"
	get "$a"
	[ "$(field "$T_TMP/get" Position)" = 1 ] || fail "a at $(field "$T_TMP/get" Position), want 1"
	[ "$(field "$T_TMP/get" Priority)" = 30 ] || fail "a priority $(field "$T_TMP/get" Priority)"
	get "$b"
	[ "$(field "$T_TMP/get" Position)" = 0 ] || fail "b at $(field "$T_TMP/get" Position), want 0"
	# the new fingerprint is recorded: the next pass and a restart keep both
	ctl reload >"$T_TMP/reload" || fail "reload"
	[ "$(grep -c '^kept' "$T_TMP/reload")" = 2 ] || fail "second pass: $(cat "$T_TMP/reload")"
	pd_restart
	[ "$(id_of ${k}_count programs.d/a.toml)" = "$a" ] || fail "restart: a has a new id: $(rows)"
	# priority and metadata: a new program
	hook_entry $k 5 x >"$PD/a.toml"
	ctl reload >"$T_TMP/reload" || fail "reload: $(cat "$T_TMP/reload")"
	grep -q "^replaced  *programs.d/a.toml ${k}_count: [0-9]* (was $a)\$" "$T_TMP/reload" ||
		fail "priority and metadata: $(cat "$T_TMP/reload")"
	rm "$PD/a.toml" "$PD/b.toml"
	ctl reload >/dev/null || fail "reload"
	[ -z "$(rows)" ] || fail "left: $(rows)"
}

run_tests progd test_start_restart_same_ids test_change_and_remove_file \
	test_broken_file_among_good test_sighup_and_reload test_image_entry \
	test_save_round_trip test_xdp_entry_replaced test_chain_priorities test_priority_modified
