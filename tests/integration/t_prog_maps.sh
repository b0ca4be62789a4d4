#!/bin/sh
# t_prog_maps.sh - map pinning and sharing through bpfd + bpfctl: an owner and two
# programs loaded with --map-owner-id use the same kernel map; Maps Used By, Map
# Owner ID and the pin directory are right after every unload, in every order.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prog_lib.sh"

load_tp() {
	load_id -p "$COUNTER_OBJ" -n tp_count "$@" tracepoint -t syscalls/sys_enter_getppid
}

# The kernel id of the map pinned at $1 (bpftool: "ID: array  name counter ...").
pinned_map_id() {
	bpftool map show pinned "$1" >"$T_TMP/map" 2>&1 || fail "bpftool map show $1"
	read -r _m _rest <"$T_TMP/map"
	echo "${_m%:}"
}

# The map ids of program $1 (bpftool: "map_ids 1,2").
prog_map_ids() {
	bpftool prog show id "$1" >"$T_TMP/prog" 2>&1 || fail "bpftool prog show $1"
	_ids=
	while read -r _l; do
		set -- $_l
		while [ $# -gt 1 ]; do
			[ "$1" = map_ids ] && _ids=$2
			shift
		done
	done <"$T_TMP/prog"
	_ifs=$IFS
	IFS=,
	set -- $_ids
	IFS=$_ifs
	echo "$*"
}

check_used_by() {
	for p in $2; do
		got=$(used_by "$p")
		[ "$got" = "$2" ] || fail "$1: Maps Used By of $p is '$got', want '$2'"
	done
}

# get ID OWNER DIR: Map Owner ID and Map Pin Path as bpfctl get shows them
check_owner() {
	get "$1"
	[ "$(field "$T_TMP/get" "Map Owner ID")" = "$2" ] ||
		fail "get $1: Map Owner ID '$(field "$T_TMP/get" "Map Owner ID")', want $2"
	[ "$(field "$T_TMP/get" "Map Pin Path")" = "$3" ] ||
		fail "get $1: Map Pin Path '$(field "$T_TMP/get" "Map Pin Path")', want $3"
}

one_order() {
	order=$1
	o=$(load_tp)
	dir=$BPFD_RUNDIR/fs/maps/$o
	u1=$(load_tp --map-owner-id "$o")
	u2=$(load_tp --map-owner-id "$o")
	mid=$(pinned_map_id "$dir/counter")
	for p in $o $u1 $u2; do
		case " $(prog_map_ids "$p") " in
		*" $mid "*) ;;
		*) fail "program $p does not use map $mid: $(cat "$T_TMP/prog")" ;;
		esac
	done
	[ ! -e "$BPFD_RUNDIR/fs/maps/$u1" ] && [ ! -e "$BPFD_RUNDIR/fs/maps/$u2" ] ||
		fail "users got map directories of their own"
	set -- "$dir"/*
	[ "$*" = "$dir/counter" ] || fail "pins in $dir: $* (want only counter)"
	check_used_by "loaded" "$o $u1 $u2"
	check_owner "$o" None "$dir"
	check_owner "$u1" "$o" "$dir"
	check_owner "$u2" "$o" "$dir"
	v0=$(counter "$dir/counter")
	trig getppid 10
	[ $(($(counter "$dir/counter") - v0)) -ge 30 ] || fail "the three programs do not all count"
	left="$o $u1 $u2"
	for i in $order; do
		eval "victim=\$$i"
		ctl unload "$victim" || fail "unload $victim"
		rest=
		for p in $left; do
			[ "$p" = "$victim" ] || rest="${rest:+$rest }$p"
		done
		left=$rest
		if [ -n "$left" ]; then
			check_used_by "after unloading $victim" "$left"
			set -- "$dir"/*
			[ "$*" = "$dir/counter" ] || fail "$dir changed after unloading $victim: $*"
			[ "$(pinned_map_id "$dir/counter")" = "$mid" ] || fail "map replaced"
		else
			[ ! -e "$dir" ] || fail "$dir left after the last user was unloaded"
		fi
	done
	echo "  unload order $order: ok"
}

test_share_every_unload_order() {
	prog_setup
	need_feature tracepoint
	build_trig
	for order in "o u1 u2" "o u2 u1" "u1 o u2" "u1 u2 o" "u2 o u1" "u2 u1 o"; do
		one_order "$order"
	done
	set -- "$BPFD_RUNDIR/fs/maps"/*
	[ "$*" = "$BPFD_RUNDIR/fs/maps/*" ] || fail "maps left: $*"
}

# A user of another kind (uprobe) shares the owner's map and counts into it.
test_share_across_kinds() {
	prog_setup
	need_feature uprobe
	build_trig
	o=$(load_tp)
	u=$(load_id -p "$COUNTER_OBJ" -n up_count -g step=6400000000000000 --map-owner-id "$o" \
		uprobe -t "$TRIG" -f bpfd_test_func)
	dir=$(map_dir "$u")
	[ "$dir" = "$BPFD_RUNDIR/fs/maps/$o" ] || fail "user's map pin path $dir"
	v0=$(counter "$dir/counter")
	trig func 5
	[ $(($(counter "$dir/counter") - v0)) = 500 ] || fail "uprobe did not count into the shared map"
	ctl unload "$o" || fail "unload owner"
	[ -e "$dir/counter" ] || fail "map dir removed while the uprobe still uses it"
	check_used_by "owner gone" "$u"
	ctl unload "$u" || fail "unload user"
	[ ! -e "$dir" ] || fail "map dir left"
}

test_owner_errors() {
	prog_setup
	need_feature tracepoint
	o=$(load_tp)
	u=$(load_tp --map-owner-id "$o")
	snapshot before
	ctl load-from-file -p "$COUNTER_OBJ" -n tp_count --map-owner-id 4000000000 \
		tracepoint -t syscalls/sys_enter_getppid >"$T_TMP/out" 2>&1 && fail "unknown owner accepted"
	read -r msg <"$T_TMP/out"
	case $msg in *"map owner 4000000000 is not a program bpfd manages"*) ;;
	*) fail "unclear: $msg" ;; esac
	ctl load-from-file -p "$COUNTER_OBJ" -n tp_count --map-owner-id "$u" \
		tracepoint -t syscalls/sys_enter_getppid >"$T_TMP/out" 2>&1 && fail "user as owner accepted"
	read -r msg <"$T_TMP/out"
	case $msg in *"pass --map-owner-id $o"*) ;; *) fail "unclear: $msg" ;; esac
	same_as before
	ctl unload "$o" && ctl unload "$u" || fail "unload"
}

# Maps survive a daemon restart with their sharing intact.
test_share_survives_restart() {
	prog_setup_private
	need_feature tracepoint
	o=$(load_tp)
	u=$(load_tp --map-owner-id "$o")
	restart_daemon
	check_used_by "after restart" "$o $u"
	check_owner "$u" "$o" "$BPFD_RUNDIR/fs/maps/$o"
	ctl unload "$o" || fail "unload owner"
	restart_daemon
	check_used_by "owner gone, restarted" "$u"
	[ -e "$BPFD_RUNDIR/fs/maps/$o/counter" ] || fail "map dir removed at restart while in use"
	ctl unload "$u" || fail "unload user"
	[ ! -e "$BPFD_RUNDIR/fs/maps/$o" ] || fail "map dir left"
}

run_tests prog_maps test_share_every_unload_order test_share_across_kinds test_owner_errors \
	test_share_survives_restart
