#!/usr/bin/python3
# limits.py - peers that try to run the daemon out of memory or connections, for
# t_limits.sh.  Usage: limits.py SCENARIO ARGS...; each prints result lines (the last
# one "OK ..." or "BAD ...") and exits 0 when the daemon behaved as it should.
import json
import os
import select
import socket
import ssl
import subprocess
import sys
import time

import h2.connection
import h2.exceptions
import h2.events

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rawh2 import collect, connect, frame, h2conn, headers, send_call  # noqa: E402

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"      # empty SETTINGS frame


def tcp_addr(spec):
    host, port = spec.rsplit(":", 1)
    return host, int(port)


def closed_within(s, secs):
    """Seconds until the server closed s, or None if it is still open after secs."""
    t0 = time.time()
    s.settimeout(secs)
    try:
        while True:
            if not s.recv(65536):
                return time.time() - t0
    except (ConnectionResetError, BrokenPipeError):
        return time.time() - t0
    except socket.timeout:
        return None


def status_of(ev):
    return dict(ev.headers).get("grpc-status")


def sc_slowmsg(path, nconn, nstreams, hold):
    """nconn connections, each with nstreams streams that announce a message of
    4 MiB - 64 bytes and send all of it but its last byte, honouring flow control.
    Prints READY when every stream is either sent or answered, holds the
    connections for hold seconds reading answers, then closes them."""
    nconn, nstreams, hold = int(nconn), int(nstreams), float(hold)
    need = (4 << 20) - 64
    conns = []
    status = {}
    for _ in range(nconn):
        s = connect(path)
        c = h2conn(s)
        left = {}
        for k in range(nstreams):
            sid = 1 + 2 * k
            c.send_headers(sid, headers())
            c.send_data(sid, frame(need))
            left[sid] = need - 1
        s.setblocking(False)
        conns.append({"s": s, "c": c, "left": left, "out": b"", "dead": False})

    def pump(cn):
        s, c = cn["s"], cn["c"]
        try:
            while True:
                d = s.recv(1 << 16)
                if not d:
                    cn["dead"] = True
                    break
                for ev in c.receive_data(d):
                    if isinstance(ev, (h2.events.ResponseReceived, h2.events.TrailersReceived)):
                        st = status_of(ev)
                        if st is not None:
                            status[st] = status.get(st, 0) + 1
                            cn["left"].pop(ev.stream_id, None)
                    elif isinstance(ev, h2.events.StreamReset):
                        if cn["left"].pop(ev.stream_id, None) is not None:
                            status["rst"] = status.get("rst", 0) + 1
                    elif isinstance(ev, h2.events.ConnectionTerminated):
                        cn["dead"] = True
        except (BlockingIOError, ssl.SSLWantReadError):
            pass
        except (ConnectionResetError, h2.exceptions.ProtocolError):
            cn["dead"] = True

    def feed(cn):
        c = cn["c"]
        for sid, n in list(cn["left"].items()):
            if n <= 0 or cn["dead"] or len(cn["out"]) > (1 << 20):
                continue
            try:
                w = min(n, c.local_flow_control_window(sid), c.max_outbound_frame_size)
            except h2.exceptions.StreamClosedError:
                cn["left"].pop(sid)
                continue
            if w > 0:
                c.send_data(sid, bytes(w))
                cn["left"][sid] = n - w
        cn["out"] += c.data_to_send()
        if cn["out"]:
            try:
                k = cn["s"].send(cn["out"])
                cn["out"] = cn["out"][k:]
            except BlockingIOError:
                pass
            except (BrokenPipeError, ConnectionResetError):
                cn["dead"] = True

    t0 = time.time()
    while time.time() - t0 < 120:
        busy = [cn for cn in conns if not cn["dead"] and
                (any(v > 0 for v in cn["left"].values()) or cn["out"])]
        if not busy:
            break
        select.select([cn["s"] for cn in busy], [cn["s"] for cn in busy if cn["out"]], [], 0.05)
        for cn in busy:
            pump(cn)
            feed(cn)
    held = sum(len(cn["left"]) for cn in conns if not cn["dead"])
    print("READY sent in %.1fs: %d streams hold all but their last byte, answers %s" % (
        time.time() - t0, held, json.dumps(status, sort_keys=True)), flush=True)
    held_max = held
    t1 = time.time()
    while time.time() - t1 < hold:
        live = [cn for cn in conns if not cn["dead"]]
        select.select([cn["s"] for cn in live], [], [], 0.1)
        for cn in live:
            pump(cn)
            cn["out"] += cn["c"].data_to_send()
            try:
                if cn["out"]:
                    cn["out"] = cn["out"][cn["s"].send(cn["out"]):]
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                pass
    held = sum(len(cn["left"]) for cn in conns if not cn["dead"])
    for cn in conns:
        cn["s"].close()
    print("RESULT %s" % json.dumps({"held_after_send": held_max, "held_at_end": held,
                                     "answers": status}, sort_keys=True), flush=True)
    return True, "slow-message attack done"


def sc_streams(path, n):
    """n streams opened at once, before the server's SETTINGS were read: those
    beyond max_streams_per_connection are refused (RST_STREAM REFUSED_STREAM)."""
    n = int(n)
    s = connect(path)
    c = h2conn(s)
    for k in range(n):
        c.send_headers(1 + 2 * k, headers())       # no body: the streams stay open
    s.sendall(c.data_to_send())
    refused, other = 0, {}
    end = time.time() + 3
    s.settimeout(0.5)
    while time.time() < end:
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        if not d:
            break
        for ev in c.receive_data(d):
            if isinstance(ev, h2.events.StreamReset):
                if ev.error_code == 7:
                    refused += 1
                else:
                    other[ev.error_code] = other.get(ev.error_code, 0) + 1
        s.sendall(c.data_to_send())
    print("RESULT %d refused %s" % (refused, json.dumps(other)), flush=True)
    return True, "%d of %d streams refused" % (refused, n)


def sc_trickle(where, secs):
    """Connect, send one byte, report when the server closes the connection."""
    if where.startswith("tcp:"):
        s = socket.create_connection(tcp_addr(where[4:]))
        s.sendall(b"\x16")                   # the first byte of a TLS record
    else:
        s = connect(where)
        s.sendall(PREFACE[:1])
    dt = closed_within(s, float(secs))
    print("RESULT %s" % ("open" if dt is None else "%.2f" % dt), flush=True)
    return dt is not None, "one byte, then silence: closed after %s s" % dt


def sc_idle(path, secs):
    """One List call, then nothing: report when the server sends GOAWAY and closes."""
    s = connect(path)
    c = h2conn(s)
    send_call(c, 1)
    s.sendall(c.data_to_send())
    h, _, _ = collect(s, c, 1)
    if h.get("grpc-status") != "0":
        return False, "List failed: %s" % h
    t0 = time.time()
    goaway = None
    s.settimeout(float(secs))
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            for ev in c.receive_data(d):
                if isinstance(ev, h2.events.ConnectionTerminated):
                    goaway = time.time() - t0
    except socket.timeout:
        return False, "connection still open %s s after its call" % secs
    dt = time.time() - t0
    print("RESULT goaway %s closed %.2f" % (goaway and "%.2f" % goaway, dt), flush=True)
    return goaway is not None, "idle after a call: GOAWAY after %s s, closed after %.2f s" % (
        goaway, dt)


def hold_conns(make, n):
    """Open n connections with make(); returns (held sockets, how many the server
    closed at once)."""
    socks, closed = [], 0
    for _ in range(n):
        s = make()
        socks.append(s)
    time.sleep(0.5)
    for s in socks:
        s.setblocking(False)
        try:
            while s.recv(65536):        # a refusal may say why (GOAWAY) first
                pass
            closed += 1
        except BlockingIOError:
            pass
        except ConnectionResetError:
            closed += 1
    return socks, closed


def list_call(s, c):
    send_call(c, 1)
    s.sendall(c.data_to_send())
    h, _, _ = collect(s, c, 1)
    return h.get("grpc-status")


def sc_peruid(path, n, other_uid):
    """n unix connections as this uid (each past its preface), then one from
    other_uid with a List call: the per-uid limit refuses only this uid's."""
    def make():
        s = connect(path)
        try:
            s.sendall(PREFACE + SETTINGS)
        except (BrokenPipeError, ConnectionResetError):
            pass        # refused and closed before our preface: hold_conns counts it
        return s
    socks, closed = hold_conns(make, int(n))
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        st = "none"
        try:
            os.setgroups([])
            os.setgid(int(other_uid))
            os.setuid(int(other_uid))
            s = connect(path)
            st = list_call(s, h2conn(s))
        except Exception as e:       # noqa: BLE001 - reported to the parent
            st = "error %s" % e
        os.write(w, str(st).encode())
        os._exit(0)
    os.close(w)
    os.waitpid(pid, 0)
    other = os.read(r, 4096).decode()
    mine = "refused"
    s2 = connect(path)
    if closed_within(s2, 0.5) is None:
        mine = "open"
    print("RESULT closed %d of %d; uid %s List status %s; one more of ours: %s" % (
        closed, len(socks), other_uid, other, mine), flush=True)
    if os.environ.get("BPFD"):
        # what bpfctl of the uid over its limit says
        r = subprocess.run([os.environ["BPFD"], "bpfctl", "list", "--endpoint", "unix://" + path],
                           capture_output=True, text=True, timeout=10)
        print("BPFCTL exit %d: %s" % (r.returncode, r.stderr.strip()), flush=True)
    return True, "per-uid limit"


def tls_ctx(ca, cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.load_verify_locations(ca)
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["h2"])
    return ctx


def sc_peraddr(where, n, src2, ca, cert, key):
    """n TCP connections from 127.0.0.1 that do not start TLS, then a List over
    mutual TLS from src2: the per-address limit refuses only 127.0.0.1's."""
    addr = tcp_addr(where)

    def make():
        return socket.create_connection(addr, source_address=("127.0.0.1", 0))
    socks, closed = hold_conns(make, int(n))
    status = "none"
    try:
        raw = socket.create_connection(addr, timeout=10, source_address=(src2, 0))
        s = tls_ctx(ca, cert, key).wrap_socket(raw)
        status = list_call(s, h2conn(s))
    except (OSError, ssl.SSLError) as e:
        status = "error %s" % e
    print("RESULT closed %d of %d; List from %s status %s" % (closed, len(socks), src2, status),
          flush=True)
    return True, "per-address limit"


def sc_tcpflood(where, nidle, nslow, secs):
    """nidle TCP peers that send nothing and nslow that send a TLS record one
    byte at a time, all reopened as the server drops them, for secs seconds.
    Prints READY once all are connected; the test meanwhile calls List locally."""
    addr = tcp_addr(where)
    nidle, nslow, secs = int(nidle), int(nslow), float(secs)
    hello = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(500)
    peers = {}          # fd -> [socket, slow, bytes sent]
    stats = {"opened": 0, "dropped": 0, "connect_failed": 0}

    def open_one(slow):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect_ex(addr)
        except OSError:
            stats["connect_failed"] += 1
            s.close()
            return
        peers[s.fileno()] = [s, slow, 0]
        stats["opened"] += 1

    for i in range(nidle + nslow):
        open_one(i >= nidle)
    print("READY %d peers" % len(peers), flush=True)
    t0 = time.time()
    last_drip = 0.0
    while time.time() - t0 < secs:
        # poll(): the fds go past select()'s 1024
        pl = select.poll()
        for fd in peers:
            pl.register(fd, select.POLLIN)
        for fd, _ in pl.poll(200):
            if fd not in peers:
                continue
            s, slow, _ = peers[fd]
            try:
                d = s.recv(4096)
            except (BlockingIOError, ssl.SSLError):
                continue
            except OSError:
                d = b""
            if not d:               # dropped by the server: reopen
                s.close()
                del peers[fd]
                stats["dropped"] += 1
                open_one(slow)
        if time.time() - last_drip >= 0.5:
            last_drip = time.time()
            for p in list(peers.values()):
                if p[1] and p[2] < len(hello):
                    try:
                        p[0].send(hello[p[2]:p[2] + 1])
                        p[2] += 1
                    except (BlockingIOError, OSError):
                        pass
    stats["open_at_end"] = len(peers)
    for p in peers.values():
        p[0].close()
    print("RESULT %s" % json.dumps(stats, sort_keys=True), flush=True)
    return True, "TCP flood done"


if __name__ == "__main__":
    ok, msg = globals()["sc_" + sys.argv[1]](*sys.argv[2:])
    print(("OK " if ok else "BAD ") + msg, flush=True)
    sys.exit(0 if ok else 1)
