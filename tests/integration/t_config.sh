#!/bin/sh
# t_config.sh - bpfd.toml as the daemon sees it (bad files refused with FILE:LINE:COL, the
# socket and runtime dir moved by the file), and the files under dist/ (example config,
# systemd unit, SysV and OpenRC scripts, make install, Containerfile, Kubernetes manifests)
# vm: no (configuration files and dist/ do not depend on the kernel)
. "$(dirname "$0")/lib.sh"

DIST=$(cd "$(dirname "$0")/../../dist" && pwd)
PY=/usr/bin/python3

# Run bpfd with a configuration file that must be refused: exit status 1 and exactly one
# line on stderr that names FILE:LINE:COL and contains $3.
expect_refused() {
	f=$1 where=$2 what=$3
	shift 3
	"$BPFD" --config "$f" --rundir "$T_TMP/never" --socket "$T_TMP/never.sock" "$@" \
		>"$T_TMP/out" 2>"$T_TMP/err" </dev/null
	rc=$?
	[ $rc = 1 ] || fail "$f: exit status $rc, want 1; stderr: $(cat "$T_TMP/err")"
	[ "$(wc -l <"$T_TMP/err")" = 1 ] || fail "$f: stderr is not one line: $(cat "$T_TMP/err")"
	grep -qF "$f:$where: " "$T_TMP/err" || fail "$f: no '$f:$where:' in: $(cat "$T_TMP/err")"
	grep -qF "$what" "$T_TMP/err" || fail "$f: no '$what' in: $(cat "$T_TMP/err")"
	[ ! -e "$T_TMP/never.sock" ] || fail "$f: a socket was created"
}

test_bad_config_refused() {
	f="$T_TMP/syntax.toml"
	printf '# ok\n[signing]\nallow_unsigned = yes\n' >"$f"
	expect_refused "$f" 3:18 "invalid value 'yes'; a string needs quotes"
	f="$T_TMP/unknown.toml"
	printf '[interface.eth0]\nxdp_mode = "skb"\n' >"$f"
	expect_refused "$f" 1:2 "unknown table 'interface' at the top level (known: interfaces,"
	f="$T_TMP/value.toml"
	printf '[[grpc.endpoints]]\ntype = "tcp"\nport = 70000\n' >"$f"
	expect_refused "$f" 3:8 "port 70000 is out of range (1-65535)"
	f="$T_TMP/dup.toml"
	printf '[signing]\nallow_unsigned = true\n[tls]\n[signing]\n' >"$f"
	expect_refused "$f" 4:1 "[signing] is already defined as a table on line 1"
	# the error wins over --rundir/--socket given on the command line, too
	f="$T_TMP/mode.toml"
	printf '[interfaces.lo]\nxdp_mode = "native"\n' >"$f"
	expect_refused "$f" 2:12 "xdp_mode 'native' for interface lo is not one of skb, drv, hw" -v
}

test_missing_config_refused() {
	"$BPFD" --config "$T_TMP/nope.toml" --rundir "$T_TMP/never" >/dev/null 2>"$T_TMP/err"
	rc=$?
	[ $rc = 1 ] || fail "exit status $rc, want 1"
	grep -qF "cannot open the configuration file '$T_TMP/nope.toml': No such file or directory" \
		"$T_TMP/err" || fail "message: $(cat "$T_TMP/err")"
	"$BPFD" --config "$T_TMP" --rundir "$T_TMP/never" >/dev/null 2>"$T_TMP/err"
	rc=$?
	[ $rc = 1 ] || fail "directory: exit status $rc, want 1"
	grep -qF "is not a regular file" "$T_TMP/err" || fail "message: $(cat "$T_TMP/err")"
}

# Start bpfd with "$@" in the background and wait for the unix socket $1 (the other
# arguments go to bpfd).  Skips the test when this build's daemon does not serve yet.
serve() {
	sock=$1
	shift
	"$BPFD" "$@" >>"$T_TMP/daemon.log" 2>&1 </dev/null &
	pid=$!
	on_exit "kill -TERM $pid; sleep 0.3; kill -9 $pid"
	i=0
	while [ ! -S "$sock" ]; do
		if ! alive "$pid"; then
			grep -q 'not implemented' "$T_TMP/daemon.log" &&
				skip "the daemon does not serve in this build yet: $(tail -n 1 "$T_TMP/daemon.log")"
			cat "$T_TMP/daemon.log" >&2
			fail "bpfd exited before its socket $sock appeared"
		fi
		i=$((i + 1))
		[ $i -le 200 ] || fail "no socket $sock after 10 s; log: $(cat "$T_TMP/daemon.log")"
		sleep 0.05
	done
	SERVE_PID=$pid
}

connects() {
	$PY -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])' "$1" 2>/dev/null
}

# Is process $1 alive (and not a zombie nobody reaps: pid 1 of a container may not)?
alive() {
	kill -0 "$1" 2>/dev/null || return 1
	[ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" != Z ]
}

stop_serving() {
	kill -TERM "$SERVE_PID"
	i=0
	while alive "$SERVE_PID"; do
		i=$((i + 1))
		[ $i -le 100 ] || fail "bpfd did not stop within 5 s of SIGTERM"
		sleep 0.05
	done
}

# [[grpc.endpoints]] type = "unix" path = ... moves the socket, even with --rundir.
test_unix_endpoint_moves_socket() {
	run="$T_TMP/run-ep"
	sock="$T_TMP/moved-$T_ID.sock"
	on_exit "umount -l $run/fs"
	cat >"$T_TMP/ep.toml" <<EOF
[[grpc.endpoints]]
type = "unix"
path = "$sock"
enabled = true
EOF
	serve "$sock" --config "$T_TMP/ep.toml" --rundir "$run"
	connects "$sock" || fail "cannot connect to $sock"
	[ ! -e "$run/bpfd.sock" ] || fail "the default socket $run/bpfd.sock exists too"
	stop_serving
}

# [runtime] dir moves the whole runtime directory (socket and bpffs).
test_runtime_dir_from_config() {
	run="$T_TMP/rt-$T_ID"
	on_exit "umount -l $run/fs"
	printf '[runtime]\ndir = "%s"\n' "$run" >"$T_TMP/rt.toml"
	serve "$run/bpfd.sock" --config "$T_TMP/rt.toml"
	connects "$run/bpfd.sock" || fail "cannot connect to $run/bpfd.sock"
	stop_serving
}

# [tls] ca_cert, cert, key: the tcp endpoint presents the configured certificate and
# nothing is generated in certs_dir.
test_tls_files_from_config() {
	command -v openssl >/dev/null || skip "openssl is not installed"
	d="$T_TMP/pki"
	mkdir -p "$d"
	(
		cd "$d" || exit 1
		openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 \
			-subj "/CN=t-config-ca-$T_ID" &&
		openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr \
			-subj "/CN=t-config-server-$T_ID" &&
		printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >srv.ext &&
		openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
			-out srv.pem -days 2 -extfile srv.ext &&
		openssl req -newkey rsa:2048 -nodes -keyout cli.key -out cli.csr \
			-subj "/CN=t-config-client" &&
		openssl x509 -req -in cli.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
			-out cli.pem -days 2
	) >"$T_TMP/openssl.log" 2>&1 || fail "openssl: $(cat "$T_TMP/openssl.log")"
	port=$($PY -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	run="$T_TMP/run-tls"
	on_exit "umount -l $run/fs"
	cat >"$T_TMP/tls.toml" <<EOF
[[grpc.endpoints]]
type = "unix"
[[grpc.endpoints]]
type = "tcp"
address = "127.0.0.1"
port = $port
[tls]
certs_dir = "$T_TMP/certs-unused"
ca_cert = "$d/ca.pem"
cert = "$d/srv.pem"
key = "$d/srv.key"
EOF
	serve "$run/bpfd.sock" --config "$T_TMP/tls.toml" --rundir "$run"
	openssl s_client -connect "127.0.0.1:$port" -CAfile "$d/ca.pem" -cert "$d/cli.pem" \
		-key "$d/cli.key" -alpn h2 -verify_return_error </dev/null >"$T_TMP/s_client" 2>&1
	grep -q "subject=CN = t-config-server-$T_ID" "$T_TMP/s_client" ||
		fail "the tcp endpoint does not present [tls] cert: $(head -n 20 "$T_TMP/s_client")"
	grep -q 'Verify return code: 0 (ok)' "$T_TMP/s_client" ||
		fail "verification: $(grep -i verify "$T_TMP/s_client")"
	[ ! -e "$T_TMP/certs-unused" ] || fail "certificates were generated although [tls] names files"
	stop_serving
}

# dist/bpfd.toml as shipped and with every example line uncommented, and the bpfd.toml of
# the Kubernetes ConfigMap: bpfd accepts them (it gets past the configuration).
accepts_config() {
	f=$1
	run="$T_TMP/acc-$2"
	on_exit "umount -l $run/fs"
	serve "$run/s.sock" --config "$f" --rundir "$run" --socket "$run/s.sock"
	stop_serving
}

test_dist_configs_accepted() {
	[ -f "$DIST/bpfd.toml" ] || fail "no $DIST/bpfd.toml"
	sed 's/^#\([^# ]\)/\1/' "$DIST/bpfd.toml" >"$T_TMP/uncommented.toml"
	grep -q '^\[\[grpc.endpoints\]\]' "$T_TMP/uncommented.toml" || fail "uncommenting failed"
	$PY -c 'import yaml' 2>/dev/null || skip "python3-yaml is not installed (make deps)"
	$PY - "$DIST/k8s/config.yaml" >"$T_TMP/k8s.toml" <<'EOF' || fail "no bpfd.toml in config.yaml"
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d.get("kind") == "ConfigMap":
        sys.stdout.write(d["data"]["bpfd.toml"])
EOF
	accepts_config "$DIST/bpfd.toml" shipped
	accepts_config "$T_TMP/uncommented.toml" examples
	accepts_config "$T_TMP/k8s.toml" k8s
}

# `make install DESTDIR=... [PREFIX=...] [INIT=...]` with the binary under test; the
# tree lands in $T_TMP/$1.
make_install() {
	d="$T_TMP/$1"
	shift
	make -C "$DIST/.." -o "$BPFD" BIN="$BPFD" DESTDIR="$d" "$@" install >"$T_TMP/make.out" 2>&1 ||
		fail "make install $*: $(cat "$T_TMP/make.out")"
}

test_make_install() {
	make_install root
	r="$T_TMP/root"
	for f in usr/local/sbin/bpfd usr/local/lib/systemd/system/bpfd.service etc/init.d/bpfd \
		usr/local/share/doc/bpfd/bpfd.toml usr/local/share/doc/bpfd/bpfd.init \
		usr/local/share/doc/bpfd/bpfd.openrc; do
		[ -f "$r/$f" ] || fail "make install did not install /$f: $(cd "$r" && find . | sort)"
	done
	for l in bpfctl bpfd-agent; do
		[ "$(readlink "$r/usr/local/sbin/$l")" = bpfd ] || fail "/usr/local/sbin/$l is not a link to bpfd"
	done
	cmp -s "$BPFD" "$r/usr/local/sbin/bpfd" || fail "the installed bpfd is not $BPFD"
	cmp -s "$DIST/bpfd.init" "$r/etc/init.d/bpfd" || fail "/etc/init.d/bpfd is not dist/bpfd.init"
	cmp -s "$DIST/bpfd.toml" "$r/usr/local/share/doc/bpfd/bpfd.toml" || fail "bpfd.toml example differs"
	[ -x "$r/etc/init.d/bpfd" ] || fail "/etc/init.d/bpfd is not executable"
	[ "$(stat -c %a "$r/usr/local/lib/systemd/system/bpfd.service")" = 644 ] || fail "unit mode"
	# PREFIX moves everything, and the files name the binary where it is; INIT=openrc
	make_install usr PREFIX=/usr INIT=openrc
	r="$T_TMP/usr"
	[ -x "$r/usr/sbin/bpfd" ] || fail "PREFIX=/usr: no /usr/sbin/bpfd"
	grep -qx 'ExecStart=/usr/sbin/bpfd' "$r/usr/lib/systemd/system/bpfd.service" ||
		fail "PREFIX=/usr: ExecStart is $(grep ExecStart "$r/usr/lib/systemd/system/bpfd.service")"
	[ "$(head -n 1 "$r/etc/init.d/bpfd")" = '#!/sbin/openrc-run' ] || fail "INIT=openrc: not the OpenRC script"
	grep -qF 'command="${BPFD:-/usr/sbin/bpfd}"' "$r/etc/init.d/bpfd" || fail "INIT=openrc: command"
	grep -qxF 'BPFD=${BPFD:-/usr/sbin/bpfd}' "$r/usr/share/doc/bpfd/bpfd.init" || fail "PREFIX=/usr: bpfd.init"
	# outside comments, no installed text file names /usr/local any more
	! grep -rIq '^[^#]*/usr/local' "$r" ||
		fail "PREFIX=/usr: /usr/local named in: $(grep -rIn '^[^#]*/usr/local' "$r")"
	make_install none INIT=none
	[ ! -e "$T_TMP/none/etc/init.d" ] || fail "INIT=none installed an init script"
	make -C "$DIST/.." -o "$BPFD" BIN="$BPFD" DESTDIR="$T_TMP/bad" INIT=upstart install \
		>"$T_TMP/make.out" 2>&1 && fail "INIT=upstart was accepted"
	grep -q 'INIT=upstart: use sysv, openrc or none' "$T_TMP/make.out" ||
		fail "INIT=upstart: $(cat "$T_TMP/make.out")"
}

test_dist_systemd_unit() {
	u="$DIST/bpfd.service"
	for kv in Type=notify ExecStart=/usr/local/sbin/bpfd RuntimeDirectory=bpfd \
		RuntimeDirectoryPreserve=yes LimitMEMLOCK=infinity Restart=on-failure \
		KillSignal=SIGTERM; do
		grep -qx "$kv" "$u" || fail "$u lacks $kv"
	done
	! grep -q '^Environment=BPFD_LOG' "$u" || fail "$u sets BPFD_LOG, which wins over [log] level"
	caps="CAP_BPF CAP_DAC_READ_SEARCH CAP_NET_ADMIN CAP_SETPCAP CAP_SYS_ADMIN CAP_SYS_RESOURCE CAP_SYSLOG CAP_SETUID CAP_SETGID CAP_CHOWN"
	grep -qx "AmbientCapabilities=$caps" "$u" || fail "AmbientCapabilities is not: $caps"
	grep -qx "CapabilityBoundingSet=$caps" "$u" || fail "CapabilityBoundingSet is not: $caps"
	command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed"
	# The installed unit: its ExecStart must be the installed binary.  systemd 252's
	# verify checks ExecStart on the host even with --root, so the unit is verified
	# from a temporary unit directory with ExecStart prefixed by DESTDIR.
	make_install root
	r="$T_TMP/root"
	iu="$r/usr/local/lib/systemd/system/bpfd.service"
	exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$iu")
	[ -x "$r$exe" ] || fail "ExecStart=$exe is not installed in DESTDIR"
	mkdir -p "$T_TMP/unit"
	sed "s|^ExecStart=$exe|ExecStart=$r$exe|" "$iu" >"$T_TMP/unit/bpfd.service"
	(cd "$T_TMP/unit" && systemd-analyze verify ./bpfd.service) >"$T_TMP/verify" 2>&1 ||
		fail "systemd-analyze verify: $(cat "$T_TMP/verify")"
	# it exits 0 on unknown keys and bad values, but says so
	[ ! -s "$T_TMP/verify" ] || fail "systemd-analyze verify: $(cat "$T_TMP/verify")"
	# and it does fail when ExecStart points nowhere
	sed "s|^ExecStart=$exe|ExecStart=$r/nowhere/bpfd|" "$iu" >"$T_TMP/unit/bpfd.service"
	(cd "$T_TMP/unit" && systemd-analyze verify ./bpfd.service) >"$T_TMP/verify" 2>&1 &&
		fail "systemd-analyze verify accepted a missing ExecStart"
	return 0
}

# An init script parses in every shell it may meet, and shellcheck has nothing to say.
lint_script() {
	for sh in dash "busybox sh" bash; do
		command -v "${sh% *}" >/dev/null || continue
		$sh -n "$1" || fail "$sh -n $1"
	done
	if command -v shellcheck >/dev/null; then
		shellcheck -s sh "$1" >"$T_TMP/sc" 2>&1 || fail "shellcheck $1: $(cat "$T_TMP/sc")"
	fi
}

# The OpenRC script under the real openrc-run.  openrc-run refuses to work on a system
# OpenRC did not boot unless /run/openrc/softlevel exists: the script runs in a private
# mount namespace whose /run/openrc is a fresh tmpfs, so the host's init is not touched.
# The service has a unique name; its conf.d file sits beside its init.d directory.
# openrc SCRIPT RUNDIR VERB...: each verb's output and "rc VERB STATUS"; the verb
# "list" waits up to 5 s for bpfctl list to answer on RUNDIR's socket, "pid" prints
# the pid of the bpfd serving RUNDIR.  Exit 99: no private /run/openrc.
openrc() {
	_s=$1 _run=$2
	shift 2
	unshare -m --propagation private sh -c '
		mount -t tmpfs bpfd-t-openrc /run/openrc || exit 99
		for d in daemons exclusive failed hotplugged inactive options scheduled \
			started starting stopping tmp wasinactive; do mkdir /run/openrc/$d; done
		touch /run/openrc/softlevel
		s=$1 run=$2 bpfd=$3
		shift 3
		for verb; do
			case $verb in
			list)
				i=0
				until BPFD_ENDPOINT="unix://$run/bpfd.sock" "$bpfd" bpfctl list >/dev/null 2>&1; do
					i=$((i + 1)); [ $i -le 100 ] || break
					sleep 0.05
				done
				echo "rc list $((i > 100))" ;;
			pid) echo "pid $(pgrep -f -x -- "$bpfd --rundir $run" | head -n 1)" ;;
			*) openrc-run "$s" "$verb"; echo "rc $verb $?" ;;
			esac
		done' sh "$_s" "$_run" "$BPFD" "$@"
}

test_dist_openrc_script() {
	s="$DIST/bpfd.openrc"
	[ -x "$s" ] || fail "$s is not executable"
	[ "$(head -n 1 "$s")" = '#!/sbin/openrc-run' ] || fail "$s does not start with #!/sbin/openrc-run"
	lint_script "$s"
	command -v openrc-run >/dev/null || skip "openrc-run is missing (Debian package openrc)"
	command -v unshare >/dev/null || skip "unshare is missing"
	[ -d /run/openrc ] || skip "no /run/openrc to mount a private tmpfs over"
	name="bpfd-t$T_ID"
	mkdir -p "$T_TMP/orc/init.d" "$T_TMP/orc/conf.d"
	cp "$s" "$T_TMP/orc/init.d/$name"
	run="$T_TMP/orc-run"
	printf 'BPFD=%s\nBPFD_ARGS="--rundir %s"\nPIDFILE=%s\nBPFD_LOGFILE=%s\n' \
		"$BPFD" "$run" "$T_TMP/orc.pid" "$T_TMP/orc.log" >"$T_TMP/orc/conf.d/$name"
	on_exit "umount -l $run/fs"
	openrc "$T_TMP/orc/init.d/$name" "$run" start status list reload pid stop status \
		>"$T_TMP/orc.out" 2>&1
	[ $? != 99 ] || skip "cannot mount a private /run/openrc: $(cat "$T_TMP/orc.out")"
	for want in "rc start 0" "rc status 0" "rc list 0" "rc reload 0" "rc stop 0" "rc status 3"; do
		grep -qx "$want" "$T_TMP/orc.out" ||
			fail "openrc-run: no '$want' in: $(cat "$T_TMP/orc.out"); log: $(cat "$T_TMP/orc.log" 2>/dev/null)"
	done
	grep -q 'status: started' "$T_TMP/orc.out" || fail "status did not say started: $(cat "$T_TMP/orc.out")"
	pid=$(sed -n 's/^pid //p' "$T_TMP/orc.out")
	[ -n "$pid" ] || fail "no bpfd process seen while started: $(cat "$T_TMP/orc.out")"
	! alive "$pid" || fail "bpfd (pid $pid) still runs after stop"
	grep -q 'bpfd: Ready' "$T_TMP/orc.log" || fail "no Ready in the service's log: $(cat "$T_TMP/orc.log")"
	grep -q 'Received SIGHUP: re-reading' "$T_TMP/orc.log" || fail "reload sent no SIGHUP: $(cat "$T_TMP/orc.log")"
	# a bad bpfd.toml: start fails with the daemon's one-line error
	printf '[signing]\nallow_unsigned = 1\n' >"$T_TMP/bad.toml"
	printf 'BPFD=%s\nBPFD_ARGS="--rundir %s --config %s"\nPIDFILE=%s\nBPFD_LOGFILE=%s\n' \
		"$BPFD" "$run" "$T_TMP/bad.toml" "$T_TMP/orc.pid" "$T_TMP/orc.log" \
		>"$T_TMP/orc/conf.d/$name"
	openrc "$T_TMP/orc/init.d/$name" "$run" start >"$T_TMP/orc.out" 2>&1
	grep -qx "rc start 1" "$T_TMP/orc.out" || fail "start with a bad config: $(cat "$T_TMP/orc.out")"
	grep -qF "$T_TMP/bad.toml:2:18: 'allow_unsigned' in [signing] must be a boolean" \
		"$T_TMP/orc.out" || fail "start with a bad config printed: $(cat "$T_TMP/orc.out")"
}

# Run the init script with private paths; $1 is the PATH it sees (with or without a
# start-stop-daemon), then the verb.
init() {
	p=$1
	shift
	env PATH="$p" BPFD_DEFAULTS=/dev/null BPFD="$BPFD" PIDFILE="$T_TMP/bpfd.pid" \
		BPFD_LOGFILE="$T_TMP/init.log" BPFD_ARGS="$INIT_ARGS" STOP_TIMEOUT=5 \
		sh "$DIST/bpfd.init" "$@"
}

test_dist_init_script() {
	s="$DIST/bpfd.init"
	[ -x "$s" ] || fail "$s is not executable"
	lint_script "$s"
	mkdir -p "$T_TMP/bb"
	ln -s "$(command -v busybox)" "$T_TMP/bb/start-stop-daemon"
	# Three ways to start: Debian's start-stop-daemon, busybox's, none.
	variants="$PATH $T_TMP/bb:/usr/bin:/bin /usr/bin:/bin"
	INIT_ARGS=
	[ -x /bin/sh ] || fail "no /bin/sh"
	init /usr/bin:/bin status >/dev/null; rc=$?
	[ $rc = 3 ] || fail "status before start: exit $rc, want 3"
	init /usr/bin:/bin bogus >/dev/null 2>&1; rc=$?
	[ $rc = 2 ] || fail "unknown verb: exit $rc, want 2"
	# A bad configuration: start fails, the daemon's one-line error is shown.
	printf '[signing]\nallow_unsigned = 1\n' >"$T_TMP/bad.toml"
	INIT_ARGS="--config $T_TMP/bad.toml --rundir $T_TMP/init-run --socket $T_TMP/init.sock"
	for p in $variants; do
		init "$p" start >"$T_TMP/o" 2>&1; rc=$?
		[ $rc = 1 ] || fail "start with a bad config (PATH=$p): exit $rc; $(cat "$T_TMP/o")"
		grep -qF "$T_TMP/bad.toml:2:18: 'allow_unsigned' in [signing] must be a boolean" \
			"$T_TMP/o" || fail "start with a bad config (PATH=$p) printed: $(cat "$T_TMP/o")"
		[ ! -e "$T_TMP/bpfd.pid" ] || fail "pidfile left behind (PATH=$p)"
	done
	# A good one: start, status, restart, stop (once the daemon serves).
	printf '' >"$T_TMP/good.toml"
	INIT_ARGS="--config $T_TMP/good.toml --rundir $T_TMP/init-run --socket $T_TMP/init.sock"
	on_exit "umount -l $T_TMP/init-run/fs"
	on_exit "[ -r $T_TMP/bpfd.pid ] && kill -9 \$(cat $T_TMP/bpfd.pid)"
	for p in $variants; do
		init "$p" start >"$T_TMP/o" 2>&1; rc=$?
		if [ $rc != 0 ] && grep -q 'not implemented' "$T_TMP/o"; then
			skip "start/stop: the daemon does not serve in this build yet ($(grep 'not implemented' "$T_TMP/o" | head -n 1))"
		fi
		[ $rc = 0 ] || fail "start (PATH=$p): exit $rc; $(cat "$T_TMP/o")"
		pid=$(cat "$T_TMP/bpfd.pid")
		[ "$(cat "/proc/$pid/comm")" = bpfd ] || fail "pidfile $pid is not bpfd (PATH=$p)"
		init "$p" start >/dev/null || fail "second start (PATH=$p)"
		[ "$(cat "$T_TMP/bpfd.pid")" = "$pid" ] || fail "second start started another daemon"
		init "$p" status >/dev/null || fail "status while running (PATH=$p)"
		# (SIGHUP is the daemon's once it serves: the socket is there)
		i=0
		until [ -S "$T_TMP/init.sock" ]; do
			i=$((i + 1))
			[ $i -gt 200 ] && fail "no socket (PATH=$p): $(tail -3 "$T_TMP/init.log")"
			sleep 0.05
		done
		n=$(grep -c 'Received SIGHUP: re-reading' "$T_TMP/init.log")
		init "$p" reload >"$T_TMP/o" 2>&1 || fail "reload (PATH=$p): $(cat "$T_TMP/o")"
		i=0
		until [ "$(grep -c 'Received SIGHUP: re-reading' "$T_TMP/init.log")" -gt "$n" ]; do
			i=$((i + 1))
			[ $i -gt 100 ] && fail "reload sent no SIGHUP (PATH=$p): $(tail -3 "$T_TMP/init.log")"
			sleep 0.05
		done
		[ "$(cat "$T_TMP/bpfd.pid")" = "$pid" ] && alive "$pid" || fail "reload stopped bpfd"
		init "$p" restart >"$T_TMP/o" 2>&1 || fail "restart (PATH=$p): $(cat "$T_TMP/o")"
		[ "$(cat "$T_TMP/bpfd.pid")" != "$pid" ] || fail "restart kept pid $pid"
		pid=$(cat "$T_TMP/bpfd.pid")
		init "$p" stop >/dev/null || fail "stop (PATH=$p)"
		! alive "$pid" || fail "pid $pid still runs after stop (PATH=$p)"
		[ ! -e "$T_TMP/bpfd.pid" ] || fail "pidfile left after stop (PATH=$p)"
		init "$p" status >/dev/null; rc=$?
		[ $rc = 3 ] || fail "status after stop: exit $rc, want 3 (PATH=$p)"
	done
}

# The image: build dist/Containerfile with buildah (a private vfs store in $T_TMP, chroot
# isolation), then run its ENTRYPOINT and the applet links inside it (no shell, no libc:
# FROM scratch).  The Containerfile COPYs build/bpfd; when the binary under test is
# elsewhere (O=), the context is dist/ plus $BPFD copied to build/bpfd.
test_dist_containerfile() {
	command -v buildah >/dev/null || skip "buildah missing (make deps)"
	[ "${BPFD_SANITIZE:-0}" != 1 ] ||
		skip "the image has no C library for a sanitizer build (make check SANITIZE=1: dynamic)"
	c="$DIST/Containerfile"
	top=$(cd "$DIST/.." && pwd)
	ctx=$top
	if [ "$(readlink -f "$BPFD")" != "$(readlink -f "$top/build/bpfd")" ]; then
		ctx="$T_TMP/context"
		mkdir -p "$ctx/build" && cp -a "$DIST" "$ctx/dist" && cp "$BPFD" "$ctx/build/bpfd" ||
			fail "cannot assemble the build context in $ctx"
	fi
	store="$T_TMP/containers"
	export BUILDAH_ISOLATION=chroot STORAGE_DRIVER=vfs
	B="buildah --root $store/root --runroot $store/run --storage-driver vfs"
	on_exit "$B rm -a; $B rmi -a -f;" \
		"grep -F ' $store/' /proc/mounts | cut -d' ' -f2 | xargs -r umount -l"
	img=localhost/bpfd:t-config
	$B bud -q -f "$c" -t $img "$ctx" >"$T_TMP/bud" 2>&1 ||
		fail "buildah bud -f $c $ctx: $(cat "$T_TMP/bud")"
	ep=$($B inspect --type image --format '{{printf "%q" .OCIv1.Config.Entrypoint}}' $img)
	[ "$ep" = '["/usr/sbin/bpfd"]' ] || fail "ENTRYPOINT is $ep, want [\"/usr/sbin/bpfd\"]"
	ctr=$($B from -q $img) || fail "buildah from $img"
	root=$($B mount "$ctr") || fail "buildah mount $ctr"
	files=$(cd "$root" && find . ! -type d | sort | tr '\n' ' ')
	[ "$files" = "./usr/sbin/bpfctl ./usr/sbin/bpfd ./usr/sbin/bpfd-agent " ] ||
		fail "unexpected files in the image: $files"
	[ "$(readlink "$root/usr/sbin/bpfctl")" = bpfd ] || fail "bpfctl is not a link to bpfd"
	[ "$(readlink "$root/usr/sbin/bpfd-agent")" = bpfd ] || fail "bpfd-agent: not a link"
	$B umount "$ctr" >/dev/null
	want=$("$BPFD" --version)
	got=$($B run "$ctr" -- /usr/sbin/bpfd --version 2>&1) ||
		fail "the entrypoint does not run in the image (not static?): $got"
	[ "$got" = "$want" ] || fail "bpfd --version in the image: '$got', want '$want'"
	for a in bpfctl bpfd-agent; do
		$B run "$ctr" -- /usr/sbin/$a --help >"$T_TMP/help" 2>&1 ||
			fail "/usr/sbin/$a --help in the image: $(cat "$T_TMP/help")"
		grep -q "^Usage: $a" "$T_TMP/help" || fail "/usr/sbin/$a --help: $(cat "$T_TMP/help")"
	done
	$B rm -a >/dev/null && $B rmi -a -f >/dev/null || fail "cannot empty the store $store"
	! grep -F " $store/" /proc/mounts || fail "mounts left under $store"
}

test_dist_k8s_manifests() {
	$PY -c 'import yaml' 2>/dev/null || skip "python3-yaml is not installed (make deps)"
	$PY - "$DIST/k8s" <<'EOF' || fail "manifest check failed"
import glob, os, sys, yaml

docs = {}
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.yaml"))):
    head = open(f).read().splitlines()[0]
    assert head.startswith("# "), f"{f}: no header comment"
    for d in yaml.safe_load_all(open(f)):
        assert d, f"{f}: empty document"
        for k in ("apiVersion", "kind", "metadata"):
            assert k in d, f"{f}: a document without {k}"
        docs[(d["kind"], d["metadata"]["name"])] = d

def get(kind, name):
    assert (kind, name) in docs, f"no {kind} {name}; have {sorted(docs)}"
    return docs[(kind, name)]

ns = get("Namespace", "bpfd")
for (kind, name), d in docs.items():
    if kind not in ("Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"):  # cluster-scoped
        assert d["metadata"].get("namespace") == "bpfd", f"{kind} {name} not in namespace bpfd"

ds = get("DaemonSet", "bpfd-daemon")
assert ds["apiVersion"] == "apps/v1"
spec = ds["spec"]
tmpl = spec["template"]
sel = spec["selector"]["matchLabels"]
assert all(tmpl["metadata"]["labels"].get(k) == v for k, v in sel.items()), "selector/labels"
pod = tmpl["spec"]
assert pod["hostNetwork"] is True, "hostNetwork"
sa = get("ServiceAccount", pod["serviceAccountName"])
cont = {c["name"]: c for c in pod["containers"]}
assert set(cont) == {"bpfd", "bpfd-agent"}, f"containers: {set(cont)}"
assert cont["bpfd"]["command"] == ["/usr/sbin/bpfd"], "daemon command"
assert cont["bpfd"]["securityContext"]["privileged"] is True, "daemon privileged"
assert cont["bpfd-agent"]["command"] == ["/usr/sbin/bpfd-agent"], "agent command"
assert not cont["bpfd-agent"].get("securityContext", {}).get("privileged"), "agent unprivileged"
assert any(e["name"] == "NODENAME" and e["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
           for e in cont["bpfd-agent"]["env"]), "agent NODENAME"
vols = {v["name"]: v for v in pod["volumes"]}
host = {v["hostPath"]["path"]: n for n, v in vols.items() if "hostPath" in v}
for p in ("/sys/fs/bpf", "/run/bpfd", "/sys/kernel/debug"):
    assert p in host, f"no hostPath {p}"
    assert any(m["name"] == host[p] and m["mountPath"] == p
               for m in cont["bpfd"]["volumeMounts"]), f"{p} not mounted in the daemon"
assert any(m["name"] == host["/run/bpfd"] for m in cont["bpfd-agent"]["volumeMounts"]), \
    "agent does not see /run/bpfd (the socket)"
for c in cont.values():
    for m in c["volumeMounts"]:
        assert m["name"] in vols, f"mount of unknown volume {m['name']}"
        if m.get("mountPropagation") == "Bidirectional":
            assert c.get("securityContext", {}).get("privileged"), "Bidirectional needs privileged"
for v in vols.values():
    if "configMap" in v:
        get("ConfigMap", v["configMap"]["name"])

role = get("ClusterRole", "bpfd-agent")
def allowed(group, res, verb):
    return any(group in r["apiGroups"] and res in r["resources"] and verb in r["verbs"]
               for r in role["rules"])
for res in ("xdpprograms", "tcprograms", "tracepointprograms", "kprobeprograms", "uprobeprograms"):
    for verb in ("get", "list", "watch"):
        assert allowed("bpfd.dev", res, verb), f"agent cannot {verb} {res}"
    assert not allowed("bpfd.dev", res, "delete"), f"agent may delete {res}"
for verb in ("get", "list", "watch"):
    assert allowed("", "nodes", verb), f"agent cannot {verb} nodes"
for verb in ("update", "patch", "delete", "create"):
    assert not allowed("", "nodes", verb), f"agent may {verb} nodes"
assert not any("*" in r["verbs"] or "*" in r["resources"] for r in role["rules"]), "wildcards"
b = get("ClusterRoleBinding", "bpfd-agent")
assert b["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": "bpfd-agent"}, "roleRef"
assert {"kind": "ServiceAccount", "name": sa["metadata"]["name"], "namespace": "bpfd"} \
    in b["subjects"], "binding subject"
print(f"  {len(docs)} objects checked")
EOF
	grep -q 'NOT IMPLEMENTED' "$DIST/k8s/daemonset.yaml" ||
		fail "daemonset.yaml does not say what is not implemented"
}

run_tests config test_bad_config_refused test_missing_config_refused \
	test_unix_endpoint_moves_socket test_runtime_dir_from_config test_tls_files_from_config \
	test_dist_configs_accepted \
	test_make_install test_dist_systemd_unit test_dist_init_script test_dist_openrc_script \
	test_dist_containerfile test_dist_k8s_manifests
