#!/usr/bin/python3
# rawh2.py - hand-made HTTP/2 traffic against bpfd's unix socket (python3-h2), for the
# misbehaving-peer tests.  Usage: rawh2.py SOCKET SCENARIO; prints one result line
# and exits 0 when the daemon behaved as it should.
import socket
import struct
import sys
import time

import h2.config
import h2.connection
import h2.events

LIST = "/bpfd.v1.Bpfd/List"


def frame(n, flag=0):
    return struct.pack(">BI", flag, n)


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    return s


def h2conn(s):
    c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True,
                                                             header_encoding="utf-8"))
    c.initiate_connection()
    s.sendall(c.data_to_send())
    return c


def session(path):
    """A connected socket and an HTTP/2 client connection on it."""
    s = connect(path)
    return s, h2conn(s)


def headers(path=LIST, extra=()):
    return [(":method", "POST"), (":scheme", "http"), (":authority", "localhost"),
            (":path", path), ("content-type", "application/grpc"), ("te", "trailers")] + \
        list(extra)


def send_call(c, sid, hdrs=None, body=None):
    """Queue a whole call on stream sid: headers (a List call's by default), then
    body (an empty message by default) ending the stream."""
    c.send_headers(sid, headers() if hdrs is None else hdrs)
    c.send_data(sid, frame(0) if body is None else body, end_stream=True)


def flush(s, c):
    """Send what h2 queued; the server may already have closed (after GOAWAY)."""
    try:
        s.sendall(c.data_to_send())
    except (BrokenPipeError, ConnectionResetError):
        pass


def collect(s, c, sid, until=10.0):
    """Read until stream sid ends; returns (headers dict, body bytes, reset code)."""
    hdrs, body, reset = {}, b"", None
    end = time.time() + until
    while time.time() < end:
        try:
            data = s.recv(65536)
        except socket.timeout:
            break
        if not data:
            break
        for ev in c.receive_data(data):
            if isinstance(ev, (h2.events.ResponseReceived, h2.events.TrailersReceived)) \
                    and ev.stream_id == sid:
                hdrs.update(dict(ev.headers))
            elif isinstance(ev, h2.events.DataReceived) and ev.stream_id == sid:
                body += ev.data
                c.acknowledge_received_data(ev.flow_controlled_length, sid)
            elif isinstance(ev, h2.events.StreamReset) and ev.stream_id == sid:
                reset = ev.error_code
                return hdrs, body, reset
            elif isinstance(ev, h2.events.StreamEnded) and ev.stream_id == sid:
                flush(s, c)
                return hdrs, body, reset
        flush(s, c)
    return hdrs, body, reset


def closed_by_server(s, wait=5.0):
    s.settimeout(wait)
    try:
        while True:
            d = s.recv(65536)
            if not d:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def call(s, c, sid=1, hdrs=None, body=None):
    """Send a whole call on stream sid; returns what collect() gathers of its reply."""
    send_call(c, sid, hdrs, body)
    s.sendall(c.data_to_send())
    return collect(s, c, sid)


def sc_garbage(path):
    s = connect(path)
    s.sendall(bytes(range(256)) * 4)
    return closed_by_server(s), "connection closed after garbage"


def sc_http1(path):
    s = connect(path)
    s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    return closed_by_server(s), "connection closed after an HTTP/1.1 request"


def sc_truncated(path):
    s = connect(path)
    s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
    # a HEADERS frame header announcing 100 bytes, then 10 of them, then EOF
    s.sendall(b"\x00\x00\x64\x01\x04\x00\x00\x00\x01" + b"\x00" * 10)
    s.shutdown(socket.SHUT_WR)
    return closed_by_server(s), "truncated frame then EOF: connection closed"


def sc_reset(path):
    s, c = session(path)
    c.send_headers(1, headers())
    c.send_data(1, frame(100) + b"\x00" * 50)
    c.reset_stream(1)
    s.sendall(c.data_to_send())
    time.sleep(0.2)
    # the connection stays usable for a new call
    h, _, _ = call(s, c, 3)
    return h.get("grpc-status") == "0", "reset mid-message, next call on the connection: %s" % h


def sc_bigmsg(path):
    s, c = session(path)
    t0 = time.time()
    c.send_headers(1, headers())
    c.send_data(1, frame(100 << 20) + b"\x00" * 1000)   # claims 100 MiB, sends 1000 bytes
    s.sendall(c.data_to_send())
    h, _, rst = collect(s, c, 1, until=5)
    dt = time.time() - t0
    ok = h.get("grpc-status") == "8" and dt < 3
    return ok, "100 MiB prefix: grpc-status %s in %.2fs (%s), reset %s" % (
        h.get("grpc-status"), dt, h.get("grpc-message"), rst)


def sc_deadline(path):
    s, c = session(path)
    t0 = time.time()
    c.send_headers(1, headers(extra=[("grpc-timeout", "300m")]))
    s.sendall(c.data_to_send())
    h, _, _ = collect(s, c, 1, until=5)
    dt = time.time() - t0
    ok = h.get("grpc-status") == "4" and 0.25 < dt < 3
    return ok, "grpc-timeout 300m, no body: grpc-status %s after %.2fs" % (h.get("grpc-status"), dt)


def sc_ping(path):
    s, c = session(path)
    c.ping(b"12345678")
    s.sendall(c.data_to_send())
    end = time.time() + 5
    while time.time() < end:
        for ev in c.receive_data(s.recv(65536)):
            if isinstance(ev, h2.events.PingAckReceived):
                return ev.ping_data == b"12345678", "PING answered"
        s.sendall(c.data_to_send())
    return False, "no PING ACK"


def sc_streams(path):
    """50 concurrent List streams on one connection, then read all replies."""
    s, c = session(path)
    ids = list(range(1, 101, 2))
    for sid in ids:
        send_call(c, sid)
    s.sendall(c.data_to_send())
    done = {}
    end = time.time() + 10
    while len(done) < len(ids) and time.time() < end:
        for ev in c.receive_data(s.recv(65536)):
            if isinstance(ev, h2.events.TrailersReceived):
                done[ev.stream_id] = dict(ev.headers).get("grpc-status")
            elif isinstance(ev, h2.events.DataReceived):
                c.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
        s.sendall(c.data_to_send())
    ok = len(done) == len(ids) and set(done.values()) == {"0"}
    return ok, "%d of %d concurrent streams answered OK" % (
        list(done.values()).count("0"), len(ids))


def sc_noread(path):
    """Send many List calls and never read; prints PID-independent result; the
    test checks the daemon from outside while this holds the connection."""
    s = connect(path)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c = h2conn(s)
    c.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 2 ** 31 - 1})
    c.increment_flow_control_window(2 ** 31 - 1 - 65535)
    s.sendall(c.data_to_send())
    s.setblocking(False)
    sent = 0
    sid = 1
    t_end = time.time() + float(sys.argv[3] if len(sys.argv) > 3 else 3)
    while time.time() < t_end:
        if sid < 2 ** 20 and c.open_outbound_streams < 90:
            send_call(c, sid)
            sid += 2
        data = c.data_to_send()
        try:
            if data:
                s.send(data)
                sent += 1
        except BlockingIOError:
            time.sleep(0.01)
        except (BrokenPipeError, ConnectionResetError):
            return True, "daemon dropped the peer that does not read (after %d writes)" % sent
        time.sleep(0.001)
    return True, "sent %d batches without reading" % sent


def raw_frames(s, until=10.0):
    """Frames as they arrive, parsed by hand: python-h2 refuses every frame after a
    GOAWAY, although streams up to its last-stream-id legitimately go on."""
    buf = b""
    s.settimeout(until)
    while True:
        while len(buf) >= 9:
            ln = int.from_bytes(buf[0:3], "big")
            if len(buf) < 9 + ln:
                break
            yield buf[3], buf[4], int.from_bytes(buf[5:9], "big") & 0x7fffffff, buf[9:9 + ln]
            buf = buf[9 + ln:]
        try:
            d = s.recv(65536)
        except (socket.timeout, ConnectionResetError):
            return
        if not d:
            return
        buf += d


def sc_inflight(path):
    """Start a call with half its body; wait for a line on stdin; finish it."""
    import hpack
    s, c = session(path)
    body = frame(2) + b"\x10\x01"        # ListRequest{bpfd_programs_only: true}
    c.send_headers(1, headers())
    c.send_data(1, body[:4])
    s.sendall(c.data_to_send())
    time.sleep(0.2)
    print("READY", flush=True)
    sys.stdin.readline()
    c.send_data(1, body[4:], end_stream=True)
    s.sendall(c.data_to_send())
    dec = hpack.Decoder()
    hdrs, goaway, order = {}, False, []
    for typ, fl, sid, pl in raw_frames(s):
        if typ == 7:                        # GOAWAY
            goaway = True
            order.append("GOAWAY")
        elif typ == 1:                      # HEADERS
            if fl & 0x8:
                pl = pl[1:len(pl) - pl[0]]
            if fl & 0x20:
                pl = pl[5:]
            for k, v in dec.decode(pl):
                hdrs[k if isinstance(k, str) else k.decode()] = v if isinstance(v, str) else v.decode()
            if sid == 1:
                order.append("HEADERS")
        elif typ == 3 and sid == 1:         # RST_STREAM
            order.append("RST")
    ok = goaway and hdrs.get("grpc-status") == "0" and order.index("GOAWAY") < order.index("HEADERS")
    return ok, "in-flight call finished after SIGTERM: frames %s, status %s" % (
        order, hdrs.get("grpc-status"))


def sc_idle(path):
    """An idle HTTP/2 connection: print READY, then report when the server closes it."""
    s, c = session(path)
    c.ping(b"idle0000")
    s.sendall(c.data_to_send())
    s.settimeout(20)
    s.recv(65536)
    print("READY", flush=True)
    t0 = time.time()
    goaway = False
    for typ, _, _, _ in raw_frames(s, until=20):
        if typ == 7:
            goaway = True
    dt = time.time() - t0
    return goaway, "idle connection: GOAWAY %s, closed %.2fs after READY" % (goaway, dt)


def sc_halfclose(path):
    """A whole request, then shutdown(SHUT_WR): the reply still arrives."""
    s, c = session(path)
    send_call(c, 1)
    s.sendall(c.data_to_send())
    s.shutdown(socket.SHUT_WR)
    dec_ok = False
    for typ, fl, sid, pl in raw_frames(s):
        if typ == 1 and sid == 1 and fl & 0x1:      # trailers (END_STREAM)
            dec_ok = True
    return dec_ok, "request then half-close: reply %s, then closed" % (
        "received" if dec_ok else "missing")


def sc_unknown(path):
    s, c = session(path)
    h, _, _ = call(s, c, hdrs=headers(path="/bpfd.v1.Bpfd/Nope"))
    return h.get("grpc-status") == "12", "unknown method: %s" % h


def sc_badctype(path):
    s, c = session(path)
    hd = [x for x in headers() if x[0] != "content-type"] + [("content-type", "text/plain")]
    h, _, _ = call(s, c, hdrs=hd, body=b"hello")
    return h.get(":status") == "415", "content-type text/plain: %s" % h


def sc_bigheaders(path):
    s, c = session(path)
    junk = [("x-junk-%d" % i, "v" * 1000) for i in range(40)]
    h, _, rst = call(s, c, hdrs=headers(extra=junk))
    return h.get("grpc-status") is None and rst is not None, \
        "40 KB of headers: stream reset (%s), no call" % rst


if __name__ == "__main__":
    ok, msg = globals()["sc_" + sys.argv[2]](sys.argv[1])
    print(("OK " if ok else "BAD ") + msg, flush=True)
    sys.exit(0 if ok else 1)
