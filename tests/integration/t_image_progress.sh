#!/bin/sh
# t_image_progress.sh - the progress of an image pull: a three-layer image in Debian's
# docker-registry on 127.0.0.1 (plain HTTP, insecure in the daemon's [registry]).  On a
# terminal (a pseudo-terminal here) bpfctl pull-bytecode and load-from-image draw one
# line per layer, bytes of its size, redrawn in place until each reaches its total;
# piped, only the final line; over TCP with mTLS too.  Behind a 2 MiB/s link (a python
# proxy) a layer shows part way, and the daemon's pull_progress events are throttled (at
# most ten a second per layer, plus a layer's first and its complete one), end with one
# pull_end, name the caller and never carry credentials.  Without the Events stream
# (turned off, or every reader slot taken) the pull works and shows no progress.
# vm: no (registry protocol and a terminal; nothing of the kernel's)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prog_lib.sh"

. "$(dirname "$0")/image_lib.sh"

image_need
# the layers of every image: 3 MiB of random bytes in a plain tar and 600 KiB gzipped
# before image_layout's counter.o
LAYERS="3072:tar 600:gzip"

# on_tty OUT CMD...: run CMD on a pseudo-terminal; its raw output (escape sequences and
# all) into OUT; CMD's exit status
on_tty() {
	_out=$1
	shift
	$PY - "$_out" "$@" <<'P'
import os, pty, sys
out, argv = sys.argv[1], sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
raw = b""
while True:
    try:
        d = os.read(fd, 65536)
    except OSError:
        break
    if not d:
        break
    raw += d
open(out, "wb").write(raw)
_, st = os.waitpid(pid, 0)
sys.exit(os.WEXITSTATUS(st) if os.WIFEXITED(st) else 128)
P
}

# screen RAW: the lines a terminal shows after RAW (\r, \n, ESC[K, ESC[nA; colours
# ignored), printed; and
# checks that RAW uses nothing else
screen() {
	$PY - "$1" <<'P'
import re, sys
s = open(sys.argv[1], "rb").read().decode()
lines, row, col, i = [""], 0, 0, 0
while i < len(s):
    c = s[i]
    if c == "\x1b":
        m = re.match(r"\x1b\[([\d;]*)([AKm])", s[i:])
        if not m:
            sys.exit("unexpected escape sequence %r" % s[i:i + 8])
        if m.group(2) == "A":
            row = max(0, row - int(m.group(1) or 1))
        elif m.group(2) == "K":
            lines[row] = lines[row][:col]
        # m: colours
        i += m.end()
        continue
    if c == "\r":
        col = 0
    elif c == "\n":
        row += 1
        col = 0
        if row == len(lines):
            lines.append("")
    else:
        l = lines[row].ljust(col)
        lines[row] = l[:col] + c + l[col + 1:]
        col += 1
    i += 1
print("\n".join(l for l in lines if l))
P
}

# size N: as bpfctl prints a size
size() {
	$PY -c '
import sys
b = int(sys.argv[1])
if b < 1024:
    print("%d B" % b); sys.exit()
x, u = b / 1024, 0
while x >= 1024 - 0.05 and u < 3:
    x, u = x / 1024, u + 1
print("%.1f %s" % (x, ["KiB", "MiB", "GiB", "TiB"][u]))' "$1"
}

# layers_done SCREEN INFO: the screen has a line per layer of INFO, in order, each at
# its total and done, right above the last line
layers_done() {
	set -- "$1" $2
	_scr=$1
	shift 2
	_n=$(grep -c '^sha256:' "$_scr")
	[ "$_n" = $# ] || fail "$_n layer lines, not $#: $(cat "$_scr")"
	_i=1
	for _l in "$@"; do
		_sz=$(size "${_l##*:}")
		_want="$(echo "${_l%:*}" | cut -c1-19)  $_sz / $_sz  done"
		_got=$(grep '^sha256:' "$_scr" | sed -n "${_i}p")
		[ "$_got" = "$_want" ] || fail "layer $_i: '$_got', not '$_want'"
		_i=$((_i + 1))
	done
}

test_terminal_and_pipe() {
	port=$(free_port)
	image_daemon "$port"
	registry reg "$port"
	info=$(image_push "$port" bpf/layers:v1 $LAYERS)
	d=${info%% *}
	ref=127.0.0.1:$port/bpf/layers:v1
	on_tty "$T_TMP/tty.raw" env BPFD_ENDPOINT="unix://$BPFD_SOCK" "$BPFD" bpfctl \
		pull-bytecode -i "$ref" -p Always || fail "pull on a terminal: $(cat "$T_TMP/tty.raw")"
	screen "$T_TMP/tty.raw" >"$T_TMP/tty.screen" || fail "screen"
	sed 's/^/    /' "$T_TMP/tty.screen"
	layers_done "$T_TMP/tty.screen" "$info"
	[ "$(tail -n 1 "$T_TMP/tty.screen")" = "Successfully downloaded bytecode $ref ($d)" ] ||
		fail "last line: $(tail -n 1 "$T_TMP/tty.screen" | cat -A), not for $d"
	[ "$(wc -l <"$T_TMP/tty.screen")" = 4 ] || fail "not 3 layers + 1 line: $(cat "$T_TMP/tty.screen")"
	# each layer was drawn before it was complete (its first event: 0 bytes), then
	# redrawn in place (the cursor went up over the lines)
	for l in ${info#* }; do
		sz=$(size "${l##*:}")
		grep -q "$(echo "${l%:*}" | cut -c1-19)  0 B / $sz" "$T_TMP/tty.raw" ||
			fail "layer ${l%:*} never drawn at 0 B: $(cat -v "$T_TMP/tty.raw")"
	done
	grep -q "$(printf '\033')\[[0-9]*A" "$T_TMP/tty.raw" || fail "no line was redrawn"
	echo "  $(grep -c "$(printf '\033')\[[0-9]*A" "$T_TMP/tty.raw") redraws"

	# piped: exactly the final line, nothing on stderr
	ctl pull-bytecode -i "$ref" -p Always 2>"$T_TMP/pipe.err" | cat >"$T_TMP/pipe.out" ||
		fail "piped pull"
	[ "$(cat "$T_TMP/pipe.out")" = "Successfully downloaded bytecode $ref ($d)" ] ||
		fail "piped: $(cat -v "$T_TMP/pipe.out")"
	[ ! -s "$T_TMP/pipe.err" ] || fail "piped, stderr: $(cat -v "$T_TMP/pipe.err")"

	# another tag with the same layers: each is in the store already, complete at once
	info2=$(image_push "$port" bpf/layers:v2 $LAYERS)
	on_tty "$T_TMP/tty2.raw" env BPFD_ENDPOINT="unix://$BPFD_SOCK" "$BPFD" bpfctl \
		pull-bytecode -i "127.0.0.1:$port/bpf/layers:v2" || fail "pull v2: $(cat "$T_TMP/tty2.raw")"
	screen "$T_TMP/tty2.raw" >"$T_TMP/tty2.screen" || fail "screen"
	layers_done "$T_TMP/tty2.screen" "$info2"
	! grep -q " 0 B / " "$T_TMP/tty2.raw" || fail "a stored layer was downloaded: $(cat -v "$T_TMP/tty2.raw")"

	# a pull of a stored image (IfNotPresent) asks no registry: only the line
	on_tty "$T_TMP/tty3.raw" env BPFD_ENDPOINT="unix://$BPFD_SOCK" "$BPFD" bpfctl \
		pull-bytecode -i "$ref" || fail "pull from the store"
	screen "$T_TMP/tty3.raw" >"$T_TMP/tty3.screen"
	[ "$(cat "$T_TMP/tty3.screen")" = "Successfully downloaded bytecode $ref ($d)" ] ||
		fail "from the store: $(cat "$T_TMP/tty3.screen")"
}

test_load_from_image_terminal() {
	port=$(free_port)
	image_daemon "$port"
	need_feature tracepoint
	registry reg "$port"
	info=$(image_push "$port" bpf/layers:load $LAYERS)
	ref=127.0.0.1:$port/bpf/layers:load
	on_tty "$T_TMP/tty.raw" env BPFD_ENDPOINT="unix://$BPFD_SOCK" "$BPFD" bpfctl \
		load-from-image -i "$ref" tracepoint -t syscalls/sys_enter_getppid ||
		fail "load on a terminal: $(cat "$T_TMP/tty.raw")"
	screen "$T_TMP/tty.raw" >"$T_TMP/tty.screen" || fail "screen"
	layers_done "$T_TMP/tty.screen" "$info"
	id=$(tr -d '\r' <"$T_TMP/tty.screen" | awk -F': *' '$1 ~ /^ *ID$/ { print $2; exit }')
	[ -n "$id" ] || fail "no program shown: $(cat "$T_TMP/tty.screen")"
	ctl unload "$id" || fail "unload $id"
}

# Over TCP with mutual TLS: the stream is a second TLS connection, ended under its
# thread when the answer is in.
test_tcp_terminal() {
	port=$(free_port)
	tport=$(free_port)
	certs=$T_TMP/certs-$port
	image_daemon "$port" "" --tcp "127.0.0.1:$tport" --certs "$certs"
	i=0
	until grep -q 'with mutual TLS' "$DAEMON_LOG" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 600 ] && fail "TCP endpoint did not come up: $(cat "$DAEMON_LOG")"
		sleep 0.05
	done
	registry reg "$port"
	info=$(image_push "$port" bpf/layers:tcp $LAYERS)
	d=${info%% *}
	ref=127.0.0.1:$port/bpf/layers:tcp
	on_tty "$T_TMP/tty.raw" env -u BPFD_ENDPOINT "$BPFD" bpfctl pull-bytecode -i "$ref" \
		--endpoint "tcp://127.0.0.1:$tport" --ca "$certs/ca/ca.pem" \
		--cert "$certs/bpfd-client/bpfd-client.pem" --key "$certs/bpfd-client/bpfd-client.key" ||
		fail "pull over TCP: $(cat "$T_TMP/tty.raw")"
	screen "$T_TMP/tty.raw" >"$T_TMP/tty.screen" || fail "screen"
	layers_done "$T_TMP/tty.screen" "$info"
	[ "$(tail -n 1 "$T_TMP/tty.screen")" = "Successfully downloaded bytecode $ref ($d)" ] ||
		fail "last line: $(tail -n 1 "$T_TMP/tty.screen")"
}

# slow_proxy PORT TO RATE: 127.0.0.1:PORT forwards to 127.0.0.1:TO, the answers at RATE
# bytes a second (a registry far away)
slow_proxy() {
	$PY - "$@" <<'P' &
import socket, sys, threading, time
lport, rport, rate = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", lport))
s.listen(16)
def pipe(a, b, limit):
    try:
        while True:
            d = a.recv(16384)
            if not d:
                break
            b.sendall(d)
            if limit:
                time.sleep(len(d) / limit)
    except OSError:
        pass
    for x in (a, b):
        try:
            x.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
while True:
    c, _ = s.accept()
    r = socket.create_connection(("127.0.0.1", rport))
    threading.Thread(target=pipe, args=(c, r, 0), daemon=True).start()
    threading.Thread(target=pipe, args=(r, c, rate), daemon=True).start()
P
	on_exit "kill $!"
	wait_port "$1"
}

# A registry behind a link of 2 MiB/s: the terminal shows a layer part way; the events
# are per layer its first (0 bytes), at most ten a second (100 ms apart), its complete
# one; one pull_end; the caller; no credentials (-r given: the registry ignores them).
test_slow_registry() {
	port=$(free_port)
	slow=$(free_port)
	image_daemon "$slow"
	registry reg "$port"
	info=$(image_push "$port" bpf/layers:ev $LAYERS)
	slow_proxy "$slow" "$port" $((2 << 20))
	ref=127.0.0.1:$slow/bpf/layers:ev
	ctl events -o json >"$T_TMP/events" 2>&1 &
	ev=$!
	on_exit "kill $ev"
	sleep 0.3
	auth=$(printf 'progressuser:s3cr3t-pw' | base64)
	t0=$(date +%s%N)
	on_tty "$T_TMP/tty.raw" env BPFD_ENDPOINT="unix://$BPFD_SOCK" "$BPFD" bpfctl \
		pull-bytecode -i "$ref" -p Always -r "$auth" || fail "pull: $(cat "$T_TMP/tty.raw")"
	ms=$((($(date +%s%N) - t0) / 1000000))
	screen "$T_TMP/tty.raw" >"$T_TMP/tty.screen" || fail "screen"
	layers_done "$T_TMP/tty.screen" "$info"
	l1=${info#* }
	l1=${l1%% *}
	part=$(tr '\r' '\n' <"$T_TMP/tty.raw" | grep -a "$(echo "${l1%:*}" | cut -c1-19)  " |
		grep -av -e "  0 B / " -e "done" | head -n 1)
	[ -n "$part" ] || fail "the 3 MiB layer was never shown part way: $(cat -v "$T_TMP/tty.raw")"
	echo "  part way: $(echo "$part" | sed 's/.*\(sha256\)/\1/')"
	sleep 0.5
	kill $ev
	! grep -q -e progressuser -e s3cr3t -e "$auth" "$T_TMP/events" ||
		fail "credentials in an event: $(cat "$T_TMP/events")"
	$PY - "$T_TMP/events" "$ref" "$ms" $info <<'P' || fail "events: $(cat "$T_TMP/events")"
import datetime, json, sys
path, ref, ms, digest = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
layers = [(l.rsplit(":", 1)[0], int(l.rsplit(":", 1)[1])) for l in sys.argv[5:]]
ev = [json.loads(l) for l in open(path) if l.startswith("{")]
prog = [e for e in ev if e["kind"] == "pull_progress"]
end = [e for e in ev if e["kind"] == "pull_end"]
assert len(end) == 1, "pull_end events: %d" % len(end)
pull = end[0]["pull"]
assert pull >= 1 and all(e["pull"] == pull for e in prog), "pull numbers"
assert all(e["image"] == ref for e in prog + end), "image"
assert all(e["caller"].startswith("uid=0") for e in prog + end), "caller"
assert end[0]["bytes_total"] == sum(s for _, s in layers), "pull_end total"
assert end[0]["bytes_done"] == sum(s for _, s in layers), "pull_end downloaded"
assert digest in end[0]["detail"], "pull_end detail: " + end[0]["detail"]
assert ev.index(prog[-1]) < ev.index(end[0]), "pull_end is the last"
def t(e):
    return datetime.datetime.strptime(e["time"], "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
for d, s in layers:
    mine = [e for e in prog if e["layer"] == d]
    assert mine, "no event for layer " + d
    assert mine[0]["bytes_done"] == 0 and mine[-1]["bytes_done"] == s, "first/last of " + d
    assert all(e["bytes_total"] == s for e in mine), "total of " + d
    done = [e["bytes_done"] for e in mine]
    assert done == sorted(set(done)), "bytes go up, no repeats: %s" % done
    # the first and the complete one come at once; those between 100 ms apart
    mid = mine[:-1]
    gaps = [int((t(b) - t(a)) * 1000) for a, b in zip(mid, mid[1:])]
    assert all(g >= 95 for g in gaps), "%s: events %s ms apart" % (d, gaps)
    assert len(mine) <= 2 + 10 * (ms // 1000 + 1), "%d events for %s in %d ms" % (len(mine), d, ms)
    print("  layer %s: %d events (%d bytes, pull took %d ms)" % (d[:19], len(mine), s, ms))
big = [e for e in prog if e["layer"] == layers[0][0]]
assert len(big) >= 4, "the 3 MiB layer at 2 MiB/s: %d events" % len(big)
P
}

# Without the stream the pull works and shows no progress.
test_without_events() {
	port=$(free_port)
	image_daemon "$port" "[monitor]
event_readers = 0"
	registry reg "$port"
	info=$(image_push "$port" bpf/layers:off $LAYERS)
	d=${info%% *}
	ref=127.0.0.1:$port/bpf/layers:off
	t0=$(date +%s%N)
	on_tty "$T_TMP/tty.raw" env BPFD_ENDPOINT="unix://$BPFD_SOCK" "$BPFD" bpfctl \
		pull-bytecode -i "$ref" -p Always || fail "pull, stream off: $(cat "$T_TMP/tty.raw")"
	ms=$((($(date +%s%N) - t0) / 1000000))
	screen "$T_TMP/tty.raw" >"$T_TMP/tty.screen" || fail "screen"
	[ "$(cat "$T_TMP/tty.screen")" = "Successfully downloaded bytecode $ref ($d)" ] ||
		fail "stream off: $(cat "$T_TMP/tty.screen")"
	echo "  stream off: only the final line ($ms ms)"
	# one reader slot, taken
	sed -i 's/event_readers = 0/event_readers = 1/' "$CONF"
	restart_daemon --config "$CONF"
	ctl events >"$T_TMP/events" 2>&1 &
	on_exit "kill $!"
	sleep 0.3
	on_tty "$T_TMP/tty.raw" env BPFD_ENDPOINT="unix://$BPFD_SOCK" "$BPFD" bpfctl \
		pull-bytecode -i "$ref" -p Always || fail "pull, no reader slot: $(cat "$T_TMP/tty.raw")"
	screen "$T_TMP/tty.raw" >"$T_TMP/tty.screen" || fail "screen"
	[ "$(cat "$T_TMP/tty.screen")" = "Successfully downloaded bytecode $ref ($d)" ] ||
		fail "no reader slot: $(cat "$T_TMP/tty.screen")"
	grep -q pull_progress "$T_TMP/events" || fail "the attached reader saw no progress"
	echo "  no reader slot: only the final line"
}

run_tests image_progress test_terminal_and_pipe test_load_from_image_terminal \
	test_tcp_terminal test_slow_registry test_without_events
