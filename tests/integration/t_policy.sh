#!/bin/sh
# t_policy.sh - who may load what: [[policy]] rules with real identities (users the test
# creates, bpfctl run as them through setpriv; an mTLS client with another CN), the
# owner of a program, unloading another's program, files the caller may not read, and
# the unix endpoint's mode and group.
# vm: no (the decisions do not depend on the kernel, and useradd in the VM would change the host's /etc/passwd through its 9p root)
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || { echo "policy@host: 0 passed, 0 failed, 1 skipped"; exit 0; }

# Users and a group of this run (names unique per run), removed at exit.
UA="bpa$T_ID" UB="bpb$T_ID" UC="bpc$T_ID" GS="bps$T_ID"
for u in "$UA" "$UB" "$UC"; do
	useradd -M -U -s /usr/sbin/nologin "$u" || { echo "policy@host: 0 passed, 1 failed, 0 skipped"; exit 1; }
	on_exit "userdel $u; groupdel $u"
done
groupadd "$GS" && on_exit "groupdel $GS"
usermod -a -G "$GS" "$UC"
UA_ID=$(id -u "$UA") UB_ID=$(id -u "$UB") UC_ID=$(id -u "$UC")

# Everything a non-root user touches must be reachable: the test's directories,
# and the objects copied where anyone may read them.
chmod 0755 "$T_TMP"
OBJS="$T_TMP/objs"
mkdir -p "$OBJS"
cp "$BPFD_TESTBPF/prog_counter.bpf.o" "$OBJS/counter.o"
chmod 0644 "$OBJS/counter.o"
OBJ="$OBJS/counter.o"
cp "$BPFD_TESTBPF/chain_tc.bpf.o" "$OBJS/chain_tc.o"
chmod 0644 "$OBJS/chain_tc.o"

# asu USER bpfctl ARGS: bpfctl with the user's uid, gid and groups.
asu() {
	_u=$1
	shift
	setpriv --reuid="$_u" --regid="$(id -g "$_u")" --init-groups \
		env BPFD_ENDPOINT="unix://$BPFD_SOCK" "$BPFD" bpfctl "$@"
}

# Start a daemon with the configuration on stdin (a unix socket everyone may reach).
start_with() {
	cat >"$T_TMP/bpfd.toml"
	chmod 0755 "$T_TMP"
	start_daemon --config "$T_TMP/bpfd.toml"
}

restart_with() {
	stop_daemon
	umount -l "$BPFD_RUNDIR/fs" 2>/dev/null
	start_with
}

OPEN_SOCKET='[[grpc.endpoints]]
type = "unix"
mode = 0o666'

# expect_denied OUTPUT_FILE PATTERN: bpfctl failed saying PATTERN.
expect_denied() {
	grep -qF -- "$2" "$1" || fail "the refusal does not say '$2': $(cat "$1")"
}

# grpc_status USER METHOD: the grpc-status of an empty request of USER (curl).
grpc_status() {
	printf '\000\000\000\000\000' >"$T_TMP/empty.bin"
	setpriv --reuid="$1" --regid="$(id -g "$1")" --init-groups \
		curl -s -i -m 20 --http2-prior-knowledge --unix-socket "$BPFD_SOCK" \
		-H 'content-type: application/grpc' -H 'te: trailers' \
		--data-binary @"$T_TMP/empty.bin" --output - "http://localhost/bpfd.v1.Bpfd/$2" 2>&1 |
		tr -d '\r' | sed -n 's/^grpc-status: //p'
}

load_tp() {
	_u=$1
	shift
	asu "$_u" load-from-file -p "$OBJ" -n tp_count "$@" tracepoint -t syscalls/sys_enter_getppid
}

id_of() { sed -n 's/^ *ID: *\([0-9]*\)$/\1/p' "$1" | head -n 1; }

test_refused_then_rule() {
	begin refused_then_rule
	start_with <<EOF
$OPEN_SOCKET
EOF
	asu "$UA" list >"$T_TMP/o" 2>&1 && fail "a user without any rule may list: $(cat "$T_TMP/o")"
	expect_denied "$T_TMP/o" "uid=$UA_ID($UA) may not call List: it is neither root nor in group"
	chmod 0644 "$T_TMP/empty.bin" 2>/dev/null
	[ "$(grpc_status "$UA" List)" = 7 ] || fail "not PERMISSION_DENIED (7): $(grpc_status "$UA" List)"
	load_tp "$UA" >"$T_TMP/o" 2>&1 && fail "a user without any rule loaded a program"
	expect_denied "$T_TMP/o" "uid=$UA_ID($UA) may not call Load"
	grep -q "Refused Load of uid=$UA_ID($UA)" "$T_TMP/daemon.log" || fail "refusal not logged"
	# root still may
	bpfctl list >/dev/null || fail "root may not list"

	restart_with <<EOF
$OPEN_SOCKET
[[policy]]
user = "$UA"
kinds = ["tracepoint", "tcx"]
interfaces = ["polv$T_ID"]
priority_min = 500
priority_max = 1000
EOF
	load_tp "$UA" >"$T_TMP/o" 2>&1 || fail "tracepoint after the rule: $(cat "$T_TMP/o")"
	id=$(id_of "$T_TMP/o")
	[ -n "$id" ] || fail "no id: $(cat "$T_TMP/o")"
	grep -q "^ *Owner: *uid=$UA_ID($UA)\$" "$T_TMP/o" || fail "no owner in the load's answer: $(cat "$T_TMP/o")"
	bpfctl get "$id" >"$T_TMP/g" || fail "get $id"
	grep -q "^ *Owner: *uid=$UA_ID($UA)\$" "$T_TMP/g" || fail "root's get shows no owner: $(cat "$T_TMP/g")"
	grep -q "loaded tracepoint program $id (tp_count from $OBJ) for uid=$UA_ID($UA)" \
		"$T_TMP/daemon.log" || fail "the load is not logged with the caller"
	# XDP: not in its kinds; refused before anything reaches the kernel
	asu "$UA" load-from-file -p "$OBJ" -n xdp_count xdp -i lo -p 600 >"$T_TMP/o" 2>&1 &&
		fail "XDP was allowed"
	expect_denied "$T_TMP/o" "uid=$UA_ID($UA) may not load an xdp program on lo at priority 600: kind xdp is not in the kinds [[policy]] #1 (line 4) allows (tcx, tracepoint)"
	# TCX outside its priority range and on another interface
	make_veth_ns "polv$T_ID" "polp$T_ID" "poln$T_ID"
	asu "$UA" load-from-file -p "$OBJ" -n tcx_count tcx -i "polv$T_ID" -d ingress -p 100 \
		>"$T_TMP/o" 2>&1 && fail "priority 100 was allowed"
	expect_denied "$T_TMP/o" "priority 100 is outside what [[policy]] #1 (line 4) allows (500 to 1000)"
	asu "$UA" load-from-file -p "$OBJ" -n tcx_count tcx -i lo -d ingress -p 600 \
		>"$T_TMP/o" 2>&1 && fail "interface lo was allowed"
	expect_denied "$T_TMP/o" "interface 'lo' is not in the interfaces"
	if have_feature tcx; then
		asu "$UA" load-from-file -p "$OBJ" -n tcx_count tcx -i "polv$T_ID" -d ingress \
			-p 600 >"$T_TMP/o" 2>&1 || fail "tcx at 600 inside the grant: $(cat "$T_TMP/o")"
	fi
	# its own program it may unload; the unload is logged with the caller
	asu "$UA" unload "$id" >"$T_TMP/o" 2>&1 || fail "unload of its own program: $(cat "$T_TMP/o")"
	grep -q "uid=$UA_ID($UA) unloaded program $id" "$T_TMP/daemon.log" || fail "unload not logged"
}

test_read_only() {
	begin read_only
	start_with <<EOF
$OPEN_SOCKET
[[policy]]
user = "$UB"
read_only = true
EOF
	id=$(bpfctl load-from-file -p "$OBJ" -n tp_count tracepoint -t syscalls/sys_enter_getppid |
		sed -n 's/^ *ID: *\([0-9]*\)$/\1/p')
	[ -n "$id" ] || fail "root's load"
	asu "$UB" list >"$T_TMP/o" 2>&1 || fail "read-only user may not list: $(cat "$T_TMP/o")"
	grep -q "^ *$id " "$T_TMP/o" || grep -q "$id" "$T_TMP/o" || fail "list lacks $id: $(cat "$T_TMP/o")"
	asu "$UB" get "$id" >"$T_TMP/o" 2>&1 || fail "read-only user may not get: $(cat "$T_TMP/o")"
	grep -q "^ *Owner: *uid=0(root)\$" "$T_TMP/o" || fail "root's program shows no owner: $(cat "$T_TMP/o")"
	load_tp "$UB" >"$T_TMP/o" 2>&1 && fail "a read-only user loaded"
	expect_denied "$T_TMP/o" "uid=$UB_ID($UB) may not call Load: [[policy]] #1 (line 4) is read_only (List and Get)"
	asu "$UB" unload "$id" >"$T_TMP/o" 2>&1 && fail "a read-only user unloaded"
	expect_denied "$T_TMP/o" "is read_only"
	# another user matches no rule
	asu "$UA" list >"$T_TMP/o" 2>&1 && fail "a user without a rule may list"
	expect_denied "$T_TMP/o" "none of the 1 [[policy]] rules matches it"
}

test_unload_root_program() {
	begin unload_root_program
	start_with <<EOF
$OPEN_SOCKET
[[policy]]
user = "$UA"
kinds = ["tracepoint"]
EOF
	have_feature uprobe || skip "the kernel lacks uprobes"
	bpfctl load-from-file -p "$OBJ" -n up_count uprobe -t libc -f getpid >"$T_TMP/o" 2>&1 ||
		fail "root's uprobe: $(cat "$T_TMP/o")"
	rid=$(id_of "$T_TMP/o")
	asu "$UA" unload "$rid" >"$T_TMP/o" 2>&1 && fail "the user unloaded root's uprobe program"
	expect_denied "$T_TMP/o" "uid=$UA_ID($UA) may not unload program $rid (a uprobe program): kind uprobe is not in the kinds [[policy]] #1 (line 4) allows (tracepoint)"
	bpfctl get "$rid" >/dev/null || fail "root's program is gone after a refused unload"
	grep -q "Refused Unload of uid=$UA_ID($UA)" "$T_TMP/daemon.log" || fail "refused unload not logged"
	bpfctl unload "$rid" || fail "root's unload"
}

test_unreadable_file() {
	begin unreadable_file
	start_with <<EOF
$OPEN_SOCKET
[[policy]]
user = "$UA"
kinds = ["tracepoint", "uprobe"]
EOF
	mkdir -p "$T_TMP/secret"
	chmod 0755 "$T_TMP/secret"
	cp "$OBJ" "$T_TMP/secret/root.o"
	chmod 0600 "$T_TMP/secret/root.o"
	load_tp "$UA" >/dev/null 2>&1
	asu "$UA" load-from-file -p "$T_TMP/secret/root.o" -n tp_count tracepoint \
		-t syscalls/sys_enter_getppid >"$T_TMP/o" 2>&1 && fail "the user loaded a 0600 root file"
	grep -qF "uid=$UA_ID($UA) may not read '$T_TMP/secret/root.o'" "$T_TMP/o" ||
		fail "refusal: $(cat "$T_TMP/o")"
	# a file that does not exist behind a directory it cannot search: the same answer
	chmod 0700 "$T_TMP/secret"
	asu "$UA" load-from-file -p "$T_TMP/secret/nothing.o" -n tp_count tracepoint \
		-t syscalls/sys_enter_getppid >"$T_TMP/o2" 2>&1 && fail "loaded a missing file"
	grep -qF "may not read '$T_TMP/secret/nothing.o'" "$T_TMP/o2" || fail "missing file: $(cat "$T_TMP/o2")"
	# /etc/shadow: no ELF check ran for the user
	asu "$UA" load-from-file -p /etc/shadow -n tp_count tracepoint \
		-t syscalls/sys_enter_getppid >"$T_TMP/o3" 2>&1 && fail "loaded /etc/shadow"
	grep -qF "may not read '/etc/shadow'" "$T_TMP/o3" || fail "/etc/shadow: $(cat "$T_TMP/o3")"
	grep -q "ELF" "$T_TMP/o3" && fail "the daemon read /etc/shadow for the user: $(cat "$T_TMP/o3")"
	# a uprobe on a program it may not read
	cp /bin/true "$T_TMP/secret/prog"
	chmod 0700 "$T_TMP/secret/prog"
	chmod 0755 "$T_TMP/secret"
	asu "$UA" load-from-file -p "$OBJ" -n up_count uprobe -t "$T_TMP/secret/prog" -f main \
		>"$T_TMP/o4" 2>&1 && fail "uprobe on a file the user may not read"
	grep -qF "uid=$UA_ID($UA) may not read '$T_TMP/secret/prog'" "$T_TMP/o4" ||
		fail "uprobe target: $(cat "$T_TMP/o4")"
	# root reads it as before
	bpfctl load-from-file -p "$T_TMP/secret/root.o" -n tp_count tracepoint \
		-t syscalls/sys_enter_getppid >"$T_TMP/o" 2>&1 || fail "root: $(cat "$T_TMP/o")"
}

test_max_programs() {
	begin max_programs
	start_with <<EOF
$OPEN_SOCKET
[[policy]]
user = "$UA"
kinds = ["tracepoint"]
max_programs = 1
EOF
	load_tp "$UA" >"$T_TMP/o" 2>&1 || fail "first load: $(cat "$T_TMP/o")"
	bpfctl load-from-file -p "$OBJ" -n tp_count tracepoint -t syscalls/sys_enter_getppid \
		>/dev/null || fail "root's load"
	load_tp "$UA" >"$T_TMP/o" 2>&1 && fail "second load over max_programs"
	expect_denied "$T_TMP/o" "uid=$UA_ID($UA) may not load another program: it holds 1, and [[policy]] #1 (line 4) allows at most 1 (max_programs)"
}

test_socket_group() {
	begin socket_group
	start_with <<EOF
[[grpc.endpoints]]
type = "unix"
mode = 0o660
group = "$GS"
EOF
	[ "$(stat -c '%a %G' "$BPFD_SOCK")" = "660 $GS" ] ||
		fail "socket: $(stat -c '%a %G' "$BPFD_SOCK"), want 660 $GS"
	# a member of the socket's group may do everything while there are no rules
	asu "$UC" list >"$T_TMP/o" 2>&1 || fail "member of $GS: $(cat "$T_TMP/o")"
	load_tp "$UC" >"$T_TMP/o" 2>&1 || fail "member of $GS may not load: $(cat "$T_TMP/o")"
	# another user cannot even connect
	asu "$UA" list >"$T_TMP/o" 2>&1 && fail "a non-member reached the socket"
	grep -qi "permission denied" "$T_TMP/o" || fail "non-member: $(cat "$T_TMP/o")"
	# a group that does not exist, named in the file: the daemon says so and stops
	stop_daemon
	umount -l "$BPFD_RUNDIR/fs" 2>/dev/null
	printf '[[grpc.endpoints]]\ntype = "unix"\ngroup = "nosuch%s"\n' "$T_ID" >"$T_TMP/bad.toml"
	"$BPFD" --rundir "$T_TMP/run2" --config "$T_TMP/bad.toml" >"$T_TMP/bad.log" 2>&1 &&
		fail "started with a socket group that does not exist"
	umount -l "$T_TMP/run2/fs" 2>/dev/null
	grep -q "The socket group 'nosuch$T_ID' is not in /etc/group" "$T_TMP/bad.log" ||
		fail "no message: $(cat "$T_TMP/bad.log")"
}

test_mtls_other_cn() {
	begin mtls_other_cn
	cat >"$T_TMP/bpfd.toml" <<EOF
[[policy]]
client_cn = "ops$T_ID"
kinds = ["tracepoint"]
EOF
	start_tcp_daemon --config "$T_TMP/bpfd.toml"
	ep="tcp://127.0.0.1:$PORT"
	# the generated client certificate (CN bpfd-client) matches no rule
	"$BPFD" bpfctl list --endpoint "$ep" --ca "$CA" --cert "$CCERT" --key "$CKEY" \
		>"$T_TMP/o" 2>&1 && fail "CN bpfd-client may list"
	expect_denied "$T_TMP/o" "cn=bpfd-client may not call List: none of the 1 [[policy]] rules matches it"
	# certificates of the same CA: CN ops..., and another CN with ops... as a DNS SAN
	for c in cn san; do
		if [ $c = cn ]; then
			subj="/CN=ops$T_ID" ext=""
		else
			subj="/CN=other$T_ID"
			printf 'subjectAltName=DNS:ops%s\n' "$T_ID" >"$T_TMP/san.ext"
			ext="-extfile $T_TMP/san.ext"
		fi
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout "$T_TMP/$c.key" -out "$T_TMP/$c.csr" -subj "$subj" >/dev/null 2>&1 ||
			fail "openssl req"
		# shellcheck disable=SC2086
		openssl x509 -req -in "$T_TMP/$c.csr" -CA "$CA" -CAkey "$T_TMP/certs/ca/ca.key" \
			-CAcreateserial -out "$T_TMP/$c.pem" -days 2 $ext >/dev/null 2>&1 ||
			fail "openssl x509"
	done
	tctl() { _c=$1; shift; "$BPFD" bpfctl "$@" --endpoint "$ep" --ca "$CA" \
		--cert "$T_TMP/$_c.pem" --key "$T_TMP/$_c.key"; }
	tctl cn list >"$T_TMP/o" 2>&1 || fail "CN ops may not list: $(cat "$T_TMP/o")"
	tctl cn load-from-file -p "$OBJ" -n tp_count tracepoint -t syscalls/sys_enter_getppid \
		>"$T_TMP/o" 2>&1 || fail "CN ops may not load a tracepoint: $(cat "$T_TMP/o")"
	grep -q "^ *Owner: *cn=ops$T_ID\$" "$T_TMP/o" || fail "owner: $(cat "$T_TMP/o")"
	tctl cn load-from-file -p "$OBJ" -n xdp_count xdp -i lo -p 5 >"$T_TMP/o" 2>&1 &&
		fail "CN ops loaded XDP"
	expect_denied "$T_TMP/o" "cn=ops$T_ID may not load an xdp program"
	tctl san list >"$T_TMP/o" 2>&1 || fail "SAN ops may not list: $(cat "$T_TMP/o")"
	grep -q "Refused List of cn=bpfd-client" "$T_TMP/daemon.log" || fail "TLS refusal not logged"
}

# Reload makes the daemon load the administrator's programs.d: not for a caller a
# rule restricts, even one that may load.
test_reload_restricted() {
	begin reload_restricted
	mkdir -p "$T_TMP/pd"
	start_with <<EOF
$OPEN_SOCKET
[runtime]
programs_dir = "$T_TMP/pd"
[[policy]]
user = "$UA"
kinds = ["tracepoint"]
EOF
	asu "$UA" reload >"$T_TMP/o" 2>&1 && fail "a restricted user reloaded programs.d"
	expect_denied "$T_TMP/o" "uid=$UA_ID($UA) may not call Reload: it re-reads programs.d"
	grep -q "Refused Reload of uid=$UA_ID($UA)" "$T_TMP/daemon.log" || fail "refusal not logged"
	bpfctl reload >"$T_TMP/o" 2>&1 || fail "root may not reload: $(cat "$T_TMP/o")"
}

# Modify: as unload (could the caller have loaded it?), and a new priority must be one
# the caller may load at.
test_modify_within_grant() {
	begin modify_within_grant
	have_feature tcx || skip "the kernel lacks tcx"
	ip link add "pd$T_ID" type veth peer name "pe$T_ID" || fail "veth pair"
	on_exit "ip link del pd$T_ID"
	ip link set "pd$T_ID" up
	start_with <<EOF
$OPEN_SOCKET
[[policy]]
user = "$UA"
kinds = ["tcx"]
interfaces = ["pd$T_ID"]
priority_min = 100
priority_max = 200
EOF
	asu "$UA" load-from-file -p "$OBJS/chain_tc.o" -n chain_tc tcx -i "pd$T_ID" -d ingress \
		-p 150 >"$T_TMP/o" 2>&1 || fail "the user's load: $(cat "$T_TMP/o")"
	id=$(id_of "$T_TMP/o")
	asu "$UA" modify "$id" -p 50 >"$T_TMP/o" 2>&1 && fail "moved outside the grant"
	expect_denied "$T_TMP/o" "uid=$UA_ID($UA) may not move program $id to priority 50"
	asu "$UA" modify "$id" -p 180 -m team=a >"$T_TMP/o" 2>&1 ||
		fail "modify within the grant: $(cat "$T_TMP/o")"
	grep -q "Priority: *180" "$T_TMP/o" || fail "reply: $(cat "$T_TMP/o")"
	bpfctl load-from-file -p "$OBJS/chain_tc.o" -n chain_tc tcx -i "pd$T_ID" -d ingress \
		-p 10 >"$T_TMP/o" 2>&1 || fail "root's load: $(cat "$T_TMP/o")"
	rid=$(id_of "$T_TMP/o")
	asu "$UA" modify "$rid" -m x=1 >"$T_TMP/o" 2>&1 && fail "the user modified root's program"
	expect_denied "$T_TMP/o" "uid=$UA_ID($UA) may not modify program $rid"
	grep -q "Refused Modify of uid=$UA_ID($UA)" "$T_TMP/daemon.log" || fail "refusal not logged"
	bpfctl get -o json "$rid" | jq -e '.info.metadata == {}' >/dev/null ||
		fail "root's program changed: $(bpfctl get "$rid")"
}

run_tests policy test_refused_then_rule test_read_only test_unload_root_program \
	test_unreadable_file test_max_programs test_socket_group test_mtls_other_cn \
	test_reload_restricted test_modify_within_grant
