#!/bin/sh
# t_prog_errors.sh - bad inputs to load-from-file and unload: each is refused with a
# clear error, and nothing changes: bpfd's pins and records, the programs it holds, and
# no program named like the test programs appears in the kernel that nothing else holds
# (prog_lib.sh's snapshot: other tests load and unload such programs meanwhile).
# vm: no (bpfd's error handling is the same on every kernel; the kinds the host refuses are loaded in the VM by t_prog_kinds)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prog_lib.sh"

# refuse EXIT-CODE MESSAGE-REGEX bpfctl ARGS...: fails as said, changes nothing
# (compared with the snapshot setup took).
refuse() {
	want_rc=$1 want=$2
	shift 2
	ctl "$@" >"$T_TMP/out" 2>&1
	rc=$?
	[ $rc = "$want_rc" ] || fail "bpfctl $*: exit $rc, want $want_rc: $(cat "$T_TMP/out")"
	grep -zqE -- "$want" "$T_TMP/out" ||
		fail "bpfctl $*: message lacks '$want': $(cat "$T_TMP/out")"
	read -r line <"$T_TMP/out"
	echo "  $line"
	same_as before
}

# refuse_load EXIT-CODE MESSAGE-REGEX OBJECT FUNCTION ARGS...: refuse for
# bpfctl load-from-file -p OBJECT -n FUNCTION ARGS...
refuse_load() {
	rl_rc=$1 rl_want=$2 rl_obj=$3 rl_fn=$4
	shift 4
	refuse "$rl_rc" "$rl_want" load-from-file -p "$rl_obj" -n "$rl_fn" "$@"
}

setup() {
	prog_setup
	need_feature tracepoint
	# one program loaded (once for the script's shared daemon): "nothing changed"
	# covers it too
	if [ -s "$PROG_TOP/keep" ]; then
		read -r KEEP <"$PROG_TOP/keep"
	else
		KEEP=$(load_id -p "$COUNTER_OBJ" -n tp_count tracepoint -t syscalls/sys_enter_getppid)
		echo "$KEEP" >"$PROG_TOP/keep"
	fi
	snapshot before
}

TP="tracepoint -t syscalls/sys_enter_getppid"

test_wrong_kind_for_section() {
	setup
	refuse_load 1 "kretprobe.*requested as kprobe.*add -r" \
		"$COUNTER_OBJ" krp_count kprobe -f "$KFN"
	refuse_load 1 "of kind uprobe.*requested as tracepoint" "$COUNTER_OBJ" up_count $TP
	refuse_load 1 "of kind tracepoint.*requested as uprobe" \
		"$COUNTER_OBJ" tp_count uprobe -t libc -f getppid
}

test_unknown_global() {
	setup
	refuse_load 1 "no global variable 'nope'.*step \(8 bytes\)" \
		"$COUNTER_OBJ" tp_count -g nope=01 $TP
	# -g with several values (bpfd v0.3.1's form): the second reaches the daemon
	refuse_load 1 "no global variable 'nope'" \
		"$COUNTER_OBJ" tp_count -g step=0100000000000000 nope=01 $TP
}

test_wrong_global_size() {
	setup
	refuse_load 1 "'step' is 8 bytes long but 4 bytes were given" \
		"$COUNTER_OBJ" tp_count -g step=01000000 $TP
	refuse_load 2 "not an even number of hex digits" \
		"$COUNTER_OBJ" tp_count -g step=123 $TP
	refuse_load 2 "is not hex" "$COUNTER_OBJ" tp_count -g step=zz $TP
}

test_missing_file() {
	setup
	refuse_load 1 "cannot open object file '$T_TMP/none.o': No such file" \
		"$T_TMP/none.o" tp_count $TP
}

test_non_elf_file() {
	setup
	echo "not an object" >"$T_TMP/text.o"
	refuse_load 1 "is not an ELF file" "$T_TMP/text.o" tp_count $TP
	refuse_load 1 "not a BPF object" "$BPFD" tp_count $TP
}

test_oversized_path() {
	setup
	long=$(printf '/%0300d' 0)
	refuse_load 1 "File name too long" "$long/x.o" tp_count $TP
	longer=$(printf '/%0200d' 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0)
	refuse_load 2 "path is [0-9]+ bytes long; the limit is 4095" "$longer" tp_count $TP
}

# libbpf 1.1 (Debian 12) dereferences NULL on this object (found by fuzz_elf): a
# program section with relocations, renamed .debug_* and given an absurd size.  bpfd
# parses objects in a sandbox child first: a clear error, and the daemon lives on.
test_malformed_elf_crashing_libbpf() {
	setup
	/usr/bin/python3 - "$COUNTER_OBJ" "$T_TMP/crash.o" <<'PY' || fail "cannot make the object"
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
shoff, = struct.unpack_from('<Q', d, 0x28)
shentsize, shnum, shstrndx = struct.unpack_from('<HHH', d, 0x3a)
stroff, = struct.unpack_from('<Q', d, shoff + shstrndx * shentsize + 0x18)
name = lambda o: bytes(d[stroff + o:d.index(b'\0', stroff + o)])
dbg = next(n for n in (struct.unpack_from('<I', d, shoff + i * shentsize)[0]
                       for i in range(shnum)) if name(n).startswith(b'.debug_'))
for i in range(shnum):
    o = shoff + i * shentsize
    typ, = struct.unpack_from('<I', d, o + 4)
    info, = struct.unpack_from('<I', d, o + 0x2c)
    t = shoff + info * shentsize
    if typ == 9 and struct.unpack_from('<Q', d, t + 8)[0] & 4:
        struct.pack_into('<I', d, t, dbg)
        d[t + 0x20 + 7] = 0xff
        break
open(sys.argv[2], 'wb').write(d)
PY
	# in a sanitizer build ASan's SEGV handler makes system calls the parsing
	# sandbox forbids: the sandbox's SIGSYS ends the parse instead
	why="libbpf crashed parsing it"
	[ "${BPFD_SANITIZE:-0}" = 1 ] && why=
	refuse_load 1 "malformed BPF object: $why" "$T_TMP/crash.o" tp_count $TP
	# setup's object (these bytes but for the damage) parsed in a child before and
	# the daemon remembers it; a parse that crashed is never remembered: again
	refuse_load 1 "malformed BPF object: $why" "$T_TMP/crash.o" tp_count $TP
	kill -0 "$BPFD_PID" || fail "the daemon died"
}

test_missing_function() {
	setup
	refuse_load 1 "no BPF program function 'nope'.*tp_count.*up_count" \
		"$COUNTER_OBJ" nope $TP
}

test_missing_attach_points() {
	setup
	refuse_load 1 "tracepoint syscalls/nope does not exist: looked for .*/events/syscalls/nope" \
		"$COUNTER_OBJ" tp_count tracepoint -t syscalls/nope
	refuse_load 1 "library 'libnope' not found: looked in /etc/ld.so.cache and in /lib" \
		"$COUNTER_OBJ" up_count uprobe -t libnope -f f
	refuse_load 1 "function 'nope_fn' not found in .*libc.so" \
		"$COUNTER_OBJ" up_count uprobe -t libc -f nope_fn
	if have_feature fentry; then
		refuse_load 1 "kernel function 'nope_fn' not found in the kernel's BTF" \
			"$COUNTER_OBJ" fe_count fentry -f nope_fn
	fi
	if have_feature kprobe; then
		refuse_load 1 "kernel function 'nope_fn' not found: looked in /proc/kallsyms" \
			"$COUNTER_OBJ" kp_count kprobe -f nope_fn
	fi
}

# An offset past the function's end would probe other code (kprobes: t_prog_kinds).
test_uprobe_offset_past_the_end() {
	setup
	refuse_load 1 "offset 1000000 is past the end of function 'getppid' in .*libc.so.*, which is [0-9]+ bytes long" \
		"$COUNTER_OBJ" up_count uprobe -t libc -f getppid -o 1000000
}

test_verifier_rejection() {
	setup
	refuse_load 1 "verifier rejected program 'bad_count'.*invalid mem access" \
		"$BAD_OBJ" bad_count $TP
}

test_nonexistent_map_owner() {
	setup
	refuse_load 1 "map owner 3999999999 is not a program bpfd manages" \
		"$COUNTER_OBJ" tp_count --map-owner-id 3999999999 $TP
}

test_usage_errors() {
	setup
	refuse_load 2 "offset.*not allowed with -r" \
		"$COUNTER_OBJ" krp_count kprobe -f "$KFN" -o 4 -r
	refuse_load 2 "missing KIND" "$COUNTER_OBJ" tp_count
	refuse_load 2 "unknown kind 'socket'" "$COUNTER_OBJ" tp_count socket
	refuse_load 2 "missing -t/--tracepoint" "$COUNTER_OBJ" tp_count tracepoint
	refuse 2 "missing -n/--name" load-from-file -p "$COUNTER_OBJ" $TP
	refuse_load 2 "proceed-on 'sideways' is not a xdp action" \
		"$COUNTER_OBJ" xdp_count xdp -i lo -p 1 --proceed-on pass,sideways
	refuse_load 2 "proceed-on 'sideways' is not a xdp action" \
		"$COUNTER_OBJ" xdp_count xdp -i lo -p 1 --proceed-on pass sideways
	refuse_load 2 "--namespace is not supported" \
		"$COUNTER_OBJ" kp_count kprobe -f "$KFN" -n ns1
}

# bpfctl checks syntax only; what a value means is the daemon's to say (exit 1).
test_meaning_checked_by_daemon() {
	setup
	refuse_load 1 "priority -3 is negative: give a priority of 0 or more" \
		"$COUNTER_OBJ" xdp_count xdp -i lo --priority=-3
	refuse_load 1 "direction 'sideways' is neither ingress nor egress" \
		"$COUNTER_OBJ" tc_count tc -i lo -d sideways -p 1
	refuse_load 1 "pid 0 is not a process id" \
		"$COUNTER_OBJ" up_count uprobe -t libc -f getppid --pid 0
	refuse_load 2 "priority 'x1' is not a number" "$COUNTER_OBJ" xdp_count xdp -i lo -p x1
}

test_unload_not_owned() {
	setup
	refuse 1 "there is no program 4000000000" unload 4000000000
	# a program loaded by someone else (bpftool, pinned in a bpffs of this test)
	mkdir -p "$T_TMP/bpf"
	mount -t bpf bpf "$T_TMP/bpf" || fail "mount bpffs"
	on_exit "umount -l $T_TMP/bpf"
	bpftool prog load "$BPFD_TESTBPF/prog_foreign.bpf.o" "$T_TMP/bpf/foreign" ||
		fail "bpftool prog load"
	bpftool prog show pinned "$T_TMP/bpf/foreign" >"$T_TMP/foreign" || fail "bpftool prog show"
	read -r fid rest <"$T_TMP/foreign"
	fid=${fid%:}
	snapshot before
	refuse 1 "program $fid \(foreign_count\) is not managed by bpfd" unload "$fid"
	bpftool prog show id "$fid" >/dev/null || fail "the foreign program was touched"
	refuse 2 "not a program ID" unload abc
}

# The same mistake gets the same words from every command and option.
test_one_wording() {
	setup
	refuse_load 2 "--metadata 'novalue' is not KEY=VALUE" "$COUNTER_OBJ" tp_count -m novalue $TP
	refuse 2 "--metadata-selector 'novalue' is not KEY=VALUE" list -m novalue
	refuse_load 2 "--global 'novalue' is not NAME=HEX" "$COUNTER_OBJ" tp_count -g novalue $TP
	refuse 2 "'abc' is not a program ID \(a number from 1 to 4294967295\)" unload abc
	refuse 2 "'abc' is not a program ID \(a number up to 4294967295\)" get abc
	refuse_load 2 "--map-owner-id 'abc' is not a program ID \(a number from 1 to 4294967295\)" \
		"$COUNTER_OBJ" tp_count --map-owner-id abc $TP
	refuse_load 2 "too many --metadata pairs \(limit 32\)" "$COUNTER_OBJ" tp_count \
		-m "$(seq -s, -f k%g=v 33)" $TP
	refuse 2 "too many --metadata-selector pairs \(limit 32\)" list -m "$(seq -s, -f k%g=v 33)"
	# a bad option value: "OPT 'VALUE' is not WHAT", long values cut
	# (meaning, as a negative priority or pid 0, is the daemon's to check)
	refuse_load 2 "--priority 'x' is not a number" "$COUNTER_OBJ" xdp_count xdp -i lo -p x
	refuse_load 2 "--offset 'x' is not a number from 0 to 18446744073709551615" \
		"$COUNTER_OBJ" up_count uprobe -t libc -o x
	refuse_load 2 "--pid 'x' is not a number" "$COUNTER_OBJ" up_count uprobe -t libc -p x
	refuse 2 "--output 'yaml' is not text or json" list -o yaml
	refuse 2 "--metadata-selector '0{64}\.\.\.' is not KEY=VALUE" list -m "$(printf '%0600d' 0)"
}

# An over-long metadata value is refused with the limit and not echoed back, by bpfctl
# and (t_grpc) by the daemon.
test_long_metadata_value() {
	setup
	v=$(printf '%0600d' 0 | tr 0 Q)
	refuse_load 2 "--metadata value of 'owner' is 600 bytes long; the limit is 511" \
		"$COUNTER_OBJ" tp_count -m "owner=$v" $TP
	grep -q QQQQQQQQ "$T_TMP/out" && fail "the value was echoed: $(cat "$T_TMP/out")"
	refuse 2 "--metadata-selector value of 'owner' is 600 bytes long; the limit is 511" \
		list -m "owner=$v"
	grep -q QQQQQQQQ "$T_TMP/out" && fail "the selector was echoed: $(cat "$T_TMP/out")"
	k=$(printf '%0200d' 0 | tr 0 K)
	refuse_load 2 "--metadata key is 200 bytes long; the limit is 127" \
		"$COUNTER_OBJ" tp_count -m "$k=v" $TP
	grep -q KKKKKKKK "$T_TMP/out" && fail "the key was echoed: $(cat "$T_TMP/out")"
	return 0
}

# -o json / -j: stdout carries only the JSON result; an error goes to stderr, as JSON.
test_json_errors_on_stderr() {
	setup
	ctl load-from-file -p "$COUNTER_OBJ" -n nope $TP -j >"$T_TMP/out" 2>"$T_TMP/err"
	rc=$?
	[ $rc = 1 ] || fail "exit $rc: $(cat "$T_TMP/out" "$T_TMP/err")"
	[ ! -s "$T_TMP/out" ] || fail "stdout is not empty: $(cat "$T_TMP/out")"
	jq -e '.error | test("no BPF program function .nope.")' "$T_TMP/err" >/dev/null ||
		fail "stderr: $(cat "$T_TMP/err")"
	same_as before
}

run_tests prog_errors test_wrong_kind_for_section test_unknown_global test_wrong_global_size \
	test_missing_file test_non_elf_file test_oversized_path test_malformed_elf_crashing_libbpf \
	test_missing_function test_one_wording test_long_metadata_value test_json_errors_on_stderr \
	test_missing_attach_points test_uprobe_offset_past_the_end test_verifier_rejection \
	test_nonexistent_map_owner \
	test_usage_errors test_meaning_checked_by_daemon test_unload_not_owned
